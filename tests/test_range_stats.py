"""Statistics over a window of records against a plain loop (tests/range_oracle.py)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from range_oracle import brute_window

from heapgui.errors import HeapguiError
from heapgui.trace.framed import FramedDecoder
from heapgui.trace.legacy import LegacyDecoder
from heapgui.trace.problems import UNMATCHED_DEALLOC
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.window import WindowCounter, WindowIndex, check_window

HEAP = 1 << 20
SIZE = st.sampled_from([0, 4, 12, 28, 32, 300, 70000, HEAP + 8])
OP = st.one_of(
    st.tuples(st.sampled_from(["alloc", "alloc", "dealloc"]), SIZE),
    st.tuples(st.sampled_from(["grow", "shrink"]), SIZE, SIZE),
)


def figures(stats) -> dict:
    return {
        "rows": [(r.size, r.max_load, r.total, r.live) for r in stats.rows()],
        "max_usage": stats.max_usage,
        "peak": stats.peak_usage,
        "peak_record": stats.peak_record,
        "unmatched": stats.problems.total(UNMATCHED_DEALLOC),
    }


def streamed(records: Records, start: int, stop: int | None, cuts: list[int], heap):
    counter = WindowCounter(start, stop, heap)
    bounds = sorted({0, len(records), *(c for c in cuts if c <= len(records))})
    for a, b in zip(bounds, bounds[1:], strict=False):
        counter(records.slice(a, b))
    return counter.window


@settings(max_examples=300, deadline=None)
@given(
    st.lists(OP, max_size=60),
    st.data(),
    st.integers(1, 9),
    st.lists(st.integers(0, 60), max_size=4),
)
def test_any_window_matches_the_loop(ops, data, block, cuts):
    start = data.draw(st.integers(0, len(ops)), label="start")
    stop = data.draw(st.integers(start, len(ops)), label="stop")
    records = Records.from_tuples(ops)
    expected = brute_window(ops, HEAP, start, stop)
    indexed = WindowIndex(records, HEAP, block=block).window(start, stop)
    assert figures(indexed) == expected
    assert (indexed.start, indexed.stop) == (start, stop)
    assert figures(streamed(records, start, stop, cuts, HEAP)) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(OP, max_size=60), st.integers(1, 9))
def test_the_whole_trace_is_plain_statistics(ops, block):
    records = Records.from_tuples(ops)
    plain = figures(Statistics.of(records, HEAP))
    assert figures(WindowIndex(records, HEAP, block=block).window(0, len(ops))) == plain
    assert figures(streamed(records, 0, None, [], HEAP)) == plain


def test_frees_of_blocks_allocated_before_the_window():
    ops = [("alloc", 8), ("alloc", 8), ("alloc", 16), ("dealloc", 8), ("dealloc", 8)]
    ops += [("grow", 16, 32)]
    window = WindowIndex(Records.from_tuples(ops), HEAP, block=2).window(3, 6)
    # Two 8-byte blocks live at 3 are its starting load, not unmatched frees;
    # the grow allocates 32 and frees the 16 live since before the window.
    assert figures(window)["rows"] == [(8, 2, 0, 0), (16, 1, 0, 0), (32, 1, 1, 1)]
    assert figures(window)["unmatched"] == 0
    assert (window.peak_usage, window.peak_record) == (32, 2)  # the load it started with


def test_empty_windows_at_either_end():
    ops = [("alloc", 8), ("alloc", 12), ("dealloc", 8)]
    index = WindowIndex(Records.from_tuples(ops), HEAP, block=2)
    at_start, at_end = index.window(0, 0), index.window(3, 3)
    assert at_start.rows() == [] and at_start.peak_usage == 0
    assert figures(at_end) == brute_window(ops, HEAP, 3, 3)
    assert [(r.size, r.max_load, r.total) for r in at_end.rows()] == [(12, 1, 0)]


def test_an_empty_trace():
    window = WindowIndex(Records.empty(), HEAP).window(0, 0)
    assert window.rows() == [] and window.max_usage == 0 and window.peak_record == -1


@pytest.mark.parametrize(
    ("start", "stop", "words"),
    [
        (5, 2, "5:2 ends before it starts"),
        (0, 11, "0:11 goes beyond the trace's 10 records"),
        (11, None, "11: goes beyond"),
        (-1, 4, "start at 0"),
    ],
)
def test_windows_outside_the_trace_are_refused(start, stop, words):
    with pytest.raises(HeapguiError, match=words):
        check_window(start, stop, 10, "t.framed")
    with pytest.raises(HeapguiError, match=words):
        WindowIndex(Records.from_tuples([("alloc", 4)] * 10), HEAP).window(start, stop)


def _sample(samples, name: str) -> tuple[Records, int]:
    expected = json.loads((samples / f"{name}.expected.json").read_text())
    return FramedDecoder().feed((samples / f"{name}.framed").read_bytes()), expected["heap_size"]


@pytest.mark.parametrize("name", ["seed-example", "workload-40k"])
def test_sample_windows_match_the_loop(samples, name):
    records, heap = _sample(samples, name)
    ops = records.to_tuples()
    n = len(ops)
    index = WindowIndex(records, heap, block=997)  # blocks that split the windows anywhere
    windows = [(0, n), (0, n // 3), (n // 3, n), (n // 4, n // 2), (n - 1, n), (n // 2, n // 2)]
    for start, stop in windows:
        expected = brute_window(ops, heap, start, stop)
        assert figures(index.window(start, stop)) == expected, (start, stop)
        assert figures(streamed(records, start, stop, [n // 5, n // 2], heap)) == expected
    plain = Statistics.of(records, heap)
    assert figures(index.window(0, n)) == figures(plain)


def test_legacy_seed_windows(samples):
    records = LegacyDecoder().feed((samples / "seed-example.legacy").read_bytes())
    ops = records.to_tuples()
    index = WindowIndex(records, HEAP, block=3)
    for start in range(len(ops) + 1):
        for stop in range(start, len(ops) + 1):
            assert figures(index.window(start, stop)) == brute_window(ops, HEAP, start, stop)


@settings(max_examples=150, deadline=None)
@given(st.lists(OP, max_size=60), st.data())
def test_the_window_fed_on_is_a_trace_with_its_starting_load(ops, data):
    start = data.draw(st.integers(0, len(ops)), label="start")
    stop = data.draw(st.integers(start, len(ops)), label="stop")
    fed: list[Records] = []
    counter = WindowCounter(start, stop, None, [fed.append])
    counter(Records.from_tuples(ops))
    alone = Statistics.of(Records.concat(fed))
    expected = brute_window(ops, None, start, stop)
    assert [(r.size, r.max_load) for r in alone.rows()] == [r[:2] for r in expected["rows"]]
    assert alone.peak_usage == expected["peak"]
