"""The statistics table model and its filter proxy, against the samples' expected numbers."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from heapgui.errors import HeapguiError
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.ui.stats_model import (
    COLUMNS,
    SORT_ROLE,
    StatsFilterProxy,
    StatsModel,
    parse_size_filter,
)

HEAP = 65536


@pytest.fixture(scope="module")
def workload(samples):
    expected = json.loads((samples / "workload-40k.expected.json").read_text())
    trace = read_trace(samples / "workload-40k.framed", heap_size=expected["heap_size"])
    return trace, expected


def column(model, title: str, role=SORT_ROLE) -> list:
    c = [col.title for col in COLUMNS].index(title)
    return [model.index(r, c).data(role) for r in range(model.rowCount())]


def test_model_passes_qtmodeltester(qtmodeltester, workload):
    model = StatsModel()
    model.set_stats(workload[0].stats)
    qtmodeltester.check(model)


def test_proxy_passes_qtmodeltester(qtmodeltester, workload):
    model = StatsModel()
    model.set_stats(workload[0].stats)
    proxy = StatsFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_size_filter(">=48, 20")
    proxy.sort(1, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(proxy)


def test_rows_equal_the_expected_table(workload):
    trace, expected = workload
    model = StatsModel()
    model.set_stats(trace.stats)
    model.set_heap_size(HEAP)
    want = [(s["size"], s["max_load"], s["total"]) for s in expected["sizes"]]
    got = list(
        zip(
            column(model, "Request Size"),
            column(model, "Max Load"),
            column(model, "Total Allocations"),
            strict=True,
        )
    )
    assert got == want
    peak_bytes = column(model, "Bytes at Max Load")
    assert peak_bytes == [s * m for s, m, _ in want]
    percent = column(model, "% of Heap")
    assert percent == pytest.approx([s * m / HEAP * 100 for s, m, _ in want])
    assert column(model, "Request Size", Qt.ItemDataRole.DisplayRole)[-1] == "1,024"


def test_percentages_follow_the_heap_size(workload, qtbot):
    trace, expected = workload
    stats = Statistics.of(trace.records, HEAP)
    model = StatsModel()
    model.set_stats(stats)
    model.set_heap_size(HEAP)
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.set_heap_size(HEAP * 2)
    top_left, bottom_right = blocker.args[:2]
    assert (top_left.column(), bottom_right.column()) == (len(COLUMNS) - 1, len(COLUMNS) - 1)
    first = expected["sizes"][0]
    assert column(model, "% of Heap")[0] == pytest.approx(
        first["size"] * first["max_load"] / (HEAP * 2) * 100
    )


def test_update_from_inserts_sizes_and_reports_changed_rows(qtbot):
    # Sizes appear batch by batch, some in the middle of the table.
    batches = [
        [("alloc", 16), ("alloc", 64)],
        [("alloc", 32), ("alloc", 16)],
        [("alloc", 8), ("dealloc", 64), ("alloc", 128)],
        [("alloc", 16)],
    ]
    stats = Statistics(HEAP)
    model = StatsModel()
    model.set_stats(stats)
    inserted: list[tuple[int, int]] = []
    changed: list[tuple[int, int]] = []
    resets: list[str] = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.dataChanged.connect(lambda a, b, roles=(): changed.append((a.row(), b.row())))
    model.layoutChanged.connect(lambda *a: resets.append("layout"))
    model.modelReset.connect(lambda: resets.append("reset"))
    done: list[tuple] = []
    for batch in batches:
        stats.update(Records.from_tuples(batch))
        done += batch
        model.update_from(stats)
        sizes = sorted({op[1] for op in done})
        assert column(model, "Request Size") == sizes
        totals = [sum(1 for op in done if op == ("alloc", s)) for s in sizes]
        assert column(model, "Total Allocations") == totals
    assert resets == []
    # 16, 64 | 32 in between | 8 at the top, 128 at the end | nothing new
    assert inserted == [(0, 0), (1, 1), (1, 1), (0, 0), (4, 4)]
    assert changed[-1] == (1, 1)  # only size 16 changed in the last batch


def test_proxy_sorts_numerically_and_filters(workload):
    trace, expected = workload
    model = StatsModel()
    model.set_stats(trace.stats)
    proxy = StatsFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(2, Qt.SortOrder.DescendingOrder)
    totals = column(proxy, "Total Allocations")
    assert totals == sorted((s["total"] for s in expected["sizes"]), reverse=True)
    proxy.set_size_filter("1K, 20-32")
    assert sorted(column(proxy, "Request Size")) == [20, 24, 32, 1024]
    proxy.set_size_filter(">200")
    assert sorted(column(proxy, "Request Size")) == [256, 512, 1024]
    with pytest.raises(HeapguiError, match="'zz'"):
        proxy.set_size_filter("zz")
    assert sorted(column(proxy, "Request Size")) == [256, 512, 1024]  # old filter kept
    proxy.set_size_filter("")
    assert proxy.rowCount() == len(expected["sizes"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 5000), min_size=1, max_size=8),
    st.integers(0, 5000),
    st.integers(0, 5000),
)
def test_size_filter_terms(sizes, low, high):
    text = ", ".join(str(s) for s in sizes) + f", {low}-{high}"
    accepts = parse_size_filter(text)
    for probe in set(sizes) | {low, high, low + 1, 0, 5001}:
        assert accepts(probe) == (probe in sizes or low <= probe <= high)


def test_csv_export_matches_expected(workload):
    trace, expected = workload
    model = StatsModel()
    model.set_stats(trace.stats)
    rows = list(csv.reader(io.StringIO(model.to_csv())))
    assert rows[0] == [c.title for c in COLUMNS]
    body = np.array(rows[1:], dtype=float)
    want = np.array([(s["size"], s["max_load"], s["total"]) for s in expected["sizes"]])
    assert (body[:, :3] == want).all()
    assert body[:, 4].tolist() == (want[:, 0] * want[:, 1]).tolist()
