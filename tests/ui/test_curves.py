"""Per-size live curves and the record inspector's numbers against plain loops."""

from __future__ import annotations

import numpy as np
from brute import live_at, live_series
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.trace.curves import (
    live_count_curve,
    live_rows,
    record_at,
    statistics_until,
    timeline_x,
)
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.workspace import guessed_heap_size

SIZES = st.sampled_from([4, 12, 24])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("alloc"), SIZES),
        st.tuples(st.just("dealloc"), SIZES),  # may match nothing: floored at zero
        st.tuples(st.sampled_from(["grow", "shrink"]), SIZES, SIZES),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(OPS, SIZES)
def test_live_count_curve_matches_a_loop(ops, size):
    records = Records.from_tuples(ops, first_index=7)
    x, y = live_count_curve(records, size)
    series = live_series(records, size)
    # x are the records that touch `size`; between them the count holds.
    expected_x = [i for i, op in enumerate(ops) if size in op[1:]]
    assert (x - 7).tolist() == expected_x
    assert y.tolist() == [series[i] for i in expected_x]


@settings(max_examples=80, deadline=None)
@given(OPS, st.data())
def test_statistics_until_is_what_was_live(ops, data):
    records = Records.from_tuples(ops)
    if not ops:
        return
    position = data.draw(st.integers(0, len(ops) - 1))
    got = {r.size: r.live for r in live_rows(statistics_until(records, position))}
    assert got == live_at(records, position)


def test_statistics_until_spans_chunks(monkeypatch):
    import heapgui.trace.curves as curves

    monkeypatch.setattr(curves, "STATS_CHUNK", 3)
    ops = [
        ("alloc", 4),
        ("alloc", 4),
        ("alloc", 12),
        ("dealloc", 4),
        ("grow", 12, 24),
        ("alloc", 4),
        ("dealloc", 24),
    ]
    records = Records.from_tuples(ops)
    for position in range(len(ops)):
        got = {r.size: r.live for r in live_rows(statistics_until(records, position))}
        assert got == live_at(records, position)


def test_guessed_heap_size_is_a_power_of_two_holding_the_bound():
    stats = Statistics.of(Records.from_tuples([("alloc", 3000)] * 7))
    assert guessed_heap_size(stats) == 32768  # 21000 bytes -> 32K
    assert guessed_heap_size(Statistics()) == 1024


def test_x_values_and_back():
    records = Records.from_tuples([("alloc", 4)] * 5)
    x = timeline_x(records)
    assert x.dtype == np.int32 and x.tolist() == [0, 1, 2, 3, 4]
    assert [record_at(records, v) for v in (-3.0, 0.4, 2.6, 99.0)] == [0, 0, 3, 4]
    records.timestamp = np.array([10, 20, 20, 35, 50], np.uint64)
    assert timeline_x(records) is records.timestamp
    assert [record_at(records, v) for v in (5.0, 20.0, 34.0, 60.0)] == [0, 2, 2, 4]
    assert record_at(Records.empty(), 1.0) == -1
