"""Trace sets: the side-by-side table, the difference column and one layout for every trace.

Traces are synthetic workloads written with the framed encoder; the
references are plain loops over the generated records (tests/ui/brute.py,
tests/ui/allocator.py), not the decoder or the statistics under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from allocator import class_live_counts, first_fit, timeline_minimum
from brute import replay as brute_replay
from capture_runs import dated_stream
from PySide6.QtCore import Qt

from heapgui.layout.pools import Pool
from heapgui.trace.framed import encode_framed
from heapgui.trace.records import Records
from heapgui.trace.traceset import TraceSet
from heapgui.trace.workload import workload
from heapgui.ui import file_opening, main_window
from heapgui.ui.main_window import MainWindow
from heapgui.ui.stats_model import SORT_ROLE
from heapgui.ui.theme import GREEN_TINT, RED_TINT
from heapgui.ui.traceset_model import (
    DELTA_COLUMN,
    FIRST_TRACE_COLUMN,
    SIZE_COLUMN,
    TraceSetModel,
)
from heapgui.ui.validate_panel import CONFIG, PROPOSED

HORIZONTAL = Qt.Orientation.Horizontal
HEAP = "128K"
HEAP_BYTES = 128 * 1024
CAPTURES = (
    ("boot.framed", 6000, 1, [8, 16, 24, 64, 128, 512]),
    ("burst.framed", 9000, 2, [8, 24, 32, 64, 256, 1024]),
    ("idle.framed", 4000, 3, [16, 24, 64, 96, 2048]),
)


def max_loads(records: Records) -> dict[int, int]:
    """Most live blocks per size over the records, with a plain loop."""
    best: dict[int, int] = {}
    for _, _, live in brute_replay(records):
        for size, count in live.items():
            best[size] = max(best.get(size, 0), count)
    return {size: count for size, count in best.items() if size}


@pytest.fixture(scope="module")
def captures(tmp_path_factory) -> list[tuple[Path, Records]]:
    """Three captures of different shapes, written as framed traces."""
    where = tmp_path_factory.mktemp("set")
    out = []
    for name, count, seed, sizes in CAPTURES:
        records = workload(count, seed=seed, sizes=np.array(sizes, np.uint32), mean_life=60.0)
        path = where / name
        path.write_bytes(encode_framed(records))
        out.append((path, records))
    return out


@pytest.fixture
def window(qtbot, monkeypatch, captures, inline_tasks) -> MainWindow:
    monkeypatch.setattr(main_window, "show_error", lambda parent, message: None)
    monkeypatch.setattr(
        file_opening, "ask_open_paths", lambda parent, directory: [p for p, _ in captures]
    )
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_set_action.trigger()
    win.layout_panel.size_edit.setText(HEAP)
    return win


def table(model: TraceSetModel) -> dict[int, tuple[int, list[int]]]:
    """Size -> (difference, max load in each trace), as the model has them."""
    return {
        model.index(r, SIZE_COLUMN).data(SORT_ROLE): (
            model.index(r, DELTA_COLUMN).data(SORT_ROLE),
            [
                model.index(r, c).data(SORT_ROLE)
                for c in range(FIRST_TRACE_COLUMN, model.columnCount())
            ],
        )
        for r in range(model.rowCount())
    }


# ---- the model ----------------------------------------------------------------------------------


def test_model_passes_the_qt_model_tester(qtmodeltester, window):
    model = TraceSetModel()
    model.set_traces(window.workspace.traces)
    qtmodeltester.check(model)
    # The tester stays attached while the comparison and the set change.
    model.set_compared(2, 0)
    model.set_compared(1, 1)
    model.set_traces(TraceSet(window.workspace.traces.names[:1], [window.trace]))
    model.set_traces(None)
    assert model.rowCount() == 0 and model.columnCount() == 0


def test_side_by_side_values_are_each_traces_max_loads(window, captures):
    view = window.traceset_view
    model = view.model
    names = [p.name for p, _ in captures]
    headers = [
        model.headerData(c, HORIZONTAL) for c in range(FIRST_TRACE_COLUMN, model.columnCount())
    ]
    assert headers == names
    expected = [max_loads(records) for _, records in captures]
    rows = table(model)
    assert sorted(rows) == sorted(set().union(*expected))
    for size, (_, cells) in rows.items():
        assert cells == [loads.get(size, 0) for loads in expected]
        for k, loads in enumerate(expected):
            shown = model.index(sorted(rows).index(size), FIRST_TRACE_COLUMN + k).data()
            assert shown == (f"{loads[size]:,}" if size in loads else "—")


@pytest.mark.parametrize(("a", "b"), [(0, 1), (1, 0), (2, 1), (0, 2)])
def test_difference_column_is_b_minus_a(window, captures, a, b):
    view = window.traceset_view
    view.set_compared(a, b)
    assert view.model.compared() == (a, b)
    expected = [max_loads(records) for _, records in captures]
    model = view.model
    for row in range(model.rowCount()):
        size = model.index(row, SIZE_COLUMN).data(SORT_ROLE)
        delta = model.index(row, DELTA_COLUMN).data(SORT_ROLE)
        assert delta == expected[b].get(size, 0) - expected[a].get(size, 0)
        tint = model.index(row, DELTA_COLUMN).data(Qt.ItemDataRole.BackgroundRole)
        assert tint == (None if delta == 0 else RED_TINT if delta > 0 else GREEN_TINT)
    title = view.model.headerData(DELTA_COLUMN, HORIZONTAL)
    tip = view.model.headerData(DELTA_COLUMN, HORIZONTAL, role=Qt.ItemDataRole.ToolTipRole)
    assert "B − A" in title and captures[b][0].name in tip and captures[a][0].name in tip


# ---- the window with a set -----------------------------------------------------------------------


def test_opening_a_set_shows_it_everywhere(window, captures):
    names = [p.name for p, _ in captures]
    assert window.workspace.traces.names == names
    assert f"Optimized for 3 traces ({', '.join(names)})" in window.layout_panel.source_label.text()
    assert not window.traceset_dock.isHidden()
    assert window.windowTitle().startswith(f"{names[0]} + 2 more")
    assert window.validate_panel.trace_combo.count() == 3
    assert window.trace is window.workspace.traces.traces[0]


def test_choosing_a_trace_shows_it_in_the_statistics_and_charts(window, captures):
    window.traceset_view.shown_combo.setCurrentIndex(2)
    third = window.workspace.traces.traces[2]
    assert window.trace is third
    model = window.stats_panel.model
    sizes = [model.index(r, 0).data(SORT_ROLE) for r in range(model.rowCount())]
    assert sizes == sorted(max_loads(captures[2][1]))
    assert window.charts.load_curve.yData.tolist() == [
        u for _, u, _ in brute_replay(captures[2][1])
    ]
    assert window.validate_panel.trace_combo.currentIndex() == 2
    # The other way round: the validation panel's choice moves the charts too.
    window.validate_panel.trace_combo.setCurrentIndex(1)
    assert window.trace is window.workspace.traces.traces[1]
    assert window.traceset_view.shown_combo.currentIndex() == 1


@pytest.mark.parametrize("method", ["drone", "timeline"])
def test_the_sets_layout_serves_every_trace(window, captures, method):
    panel = window.layout_panel
    panel.pools_spin.setValue(4)
    panel.set_method(method)
    layout = panel.current_layout()
    assert layout is not None and layout.heap_size == HEAP_BYTES
    for _, records in captures:
        assert first_fit(records, list(layout.pools), HEAP_BYTES).failed == []
    # Even before the rest of the heap is spread, the pools hold every trace.
    for _, records in captures:
        assert first_fit(records, list(layout.partition.pools), HEAP_BYTES).failed == []
    window.validate_panel.set_source(PROPOSED)
    window.validate_action.trigger()
    validation = window.validate_panel.validation()
    assert [c.name for c in validation.checks] == [p.name for p, _ in captures]
    assert validation.holds and "all 3 traces" in window.validate_panel.verdict_label.text()


def test_timeline_minimum_of_the_set(window, captures):
    panel = window.layout_panel
    panel.pools_spin.setValue(3)
    counted = [class_live_counts(records) for _, records in captures]
    classes = sorted(set().union(*(c for c, _ in counted)))
    matrices = []
    for own, live in counted:
        # Each trace's columns in the set's classes; a class it never uses stays at zero.
        full = np.zeros((len(live), len(classes)), np.int64)
        full[:, [classes.index(c) for c in own]] = live
        matrices.append(full)
    best = timeline_minimum(matrices, classes, 3)
    panel.set_method("timeline")
    assert panel.current_layout().partition.bytes == best
    assert f"needs {best:,} B (" in panel.comparison_label.toolTip()
    assert "this set of traces" in panel.comparison_label.toolTip()


def test_validating_a_small_config_marks_each_traces_own_failures(window, captures):
    directory = captures[0][0].parent
    (directory / "Drone.toml").write_text(
        '[heap]\nsize = "128K"\npools = [{ block = "64", capacity = 40 }, '
        '{ block = "2K", capacity = 3 }]\n'
    )
    try:
        window.layout_panel.choose_config_path = lambda: directory / "Drone.toml"
        window.layout_panel.choose_config()
        window.validate_panel.set_source(CONFIG)
        window.validate_action.trigger()
    finally:
        (directory / "Drone.toml").unlink()
    pools = [Pool(64, 40), Pool(2048, 3)]
    for index, (_, records) in enumerate(captures):
        window.traceset_view.shown_combo.setCurrentIndex(index)
        loop = first_fit(records, pools, HEAP_BYTES)
        x, _ = window.charts.failure_marker.getData()
        assert x.tolist() == [record for record, _ in loop.failed]
    failing = sum(1 for _, r in captures if first_fit(r, pools, HEAP_BYTES).failed)
    verdict = window.validate_panel.verdict_label.text()
    assert "Fails" in verdict and f"in {failing} of 3 traces" in verdict


def test_curves_align_by_time_when_every_trace_has_timestamps(
    qtbot, monkeypatch, inline_tasks, tmp_path, captures
):
    """Raw .swo captures keep their timestamps: their curves can start together in time.
    A heaptrace file in the set keeps none, so then only records are offered."""
    chosen = []
    for seed, (path, _) in enumerate(captures[:2], start=1):
        swo, _ticks = dated_stream(path.read_bytes(), seed)  # each run with its own pace
        chosen.append(tmp_path / f"{path.stem}.swo")
        chosen[-1].write_bytes(swo)
    monkeypatch.setattr(main_window, "show_error", lambda parent, message: None)
    monkeypatch.setattr(file_opening, "ask_open_paths", lambda parent, directory: chosen)
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_set_action.trigger()
    view = win.traceset_view
    traces = [t for _, t in win.workspace.traces]
    assert len(traces) == 2 and all(t.records.timestamp is not None for t in traces)
    assert view.align_combo.isEnabled()

    def curve_x() -> list[list[int]]:
        return [np.asarray(c.xData).tolist() for c in view.chart.curves()]

    # By record: the n-th record of each run at x = n.
    assert curve_x() == [list(range(len(t.records))) for t in traces]
    view.align_combo.setCurrentIndex(1)
    # By time: each curve starts at 0 and keeps its own record's distance in ticks.
    assert curve_x() == [
        [int(v - t.records.timestamp[0]) for v in t.records.timestamp] for t in traces
    ]
    assert curve_x()[0] != curve_x()[1][: len(curve_x()[0])]
    assert "time" in view.chart.plot_item.titleLabel.text

    chosen[1] = captures[2][0]  # a framed heaptrace file: no timestamps
    win.open_set_action.trigger()
    assert not view.align_combo.isEnabled() and view.align_combo.currentIndex() == 0
    assert "record" in view.chart.plot_item.titleLabel.text
    shown = [t for _, t in win.workspace.traces]
    assert curve_x() == [list(range(len(t.records))) for t in shown]
