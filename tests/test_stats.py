"""Statistics against the samples' expected figures and a plain-loop oracle."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import brute_stats

from heapgui.trace.framed import FramedDecoder
from heapgui.trace.problems import OVERSIZE_ALLOC, UNMATCHED_DEALLOC, ZERO_SIZE_ALLOC
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics, percent_of_heap

SMALL = st.sampled_from([0, 1, 4, 12, 28, 32, 128, 300, 70000, 2**31])
OP = st.one_of(
    st.tuples(st.sampled_from(["alloc", "alloc", "dealloc"]), SMALL),
    st.tuples(st.sampled_from(["grow", "shrink"]), SMALL, SMALL),
)


def _rows(stats: Statistics):
    return [(r.size, r.max_load, r.total, r.live) for r in stats.rows()]


def test_samples_match_expected(samples):
    for name in ("seed-example", "workload-40k"):
        expected = json.loads((samples / f"{name}.expected.json").read_text())
        decoder = FramedDecoder()
        records = decoder.feed((samples / f"{name}.framed").read_bytes())
        stats = Statistics.of(records, expected["heap_size"])
        got = [{"size": r.size, "max_load": r.max_load, "total": r.total} for r in stats.rows()]
        assert got == expected["sizes"]
        assert stats.max_usage == expected["max_usage"]
        oracle = brute_stats(records.to_tuples(), expected["heap_size"])
        assert (stats.peak_usage, stats.peak_record) == (oracle["peak"], oracle["peak_record"])
        assert stats.peak_usage <= stats.max_usage


@settings(max_examples=200, deadline=None)
@given(st.lists(OP, max_size=80), st.lists(st.integers(0, 80), max_size=5))
def test_matches_brute_force_in_any_batches(ops, cuts):
    heap = 1 << 20
    records = Records.from_tuples(ops)
    stats = Statistics(heap)
    bounds = sorted({0, len(ops), *(c for c in cuts if c <= len(ops))})
    for a, b in zip(bounds, bounds[1:], strict=False):
        stats.update(records.slice(a, b))
    oracle = brute_stats(ops, heap)
    assert _rows(stats) == [r for r in oracle["rows"]]
    assert stats.timeline.tolist() == oracle["timeline"]
    assert stats.max_usage == oracle["max_usage"]
    if oracle["peak"] > 0:
        assert (stats.peak_usage, stats.peak_record) == (oracle["peak"], oracle["peak_record"])
    assert stats.problems.total(UNMATCHED_DEALLOC) == oracle["unmatched"]
    oversize = sum(1 for op in ops for s in ([op[1]] if op[0] == "alloc" else op[2:]) if s > heap)
    assert stats.problems.total(OVERSIZE_ALLOC) == oversize


def test_problems_name_size_and_first_offset():
    records = Records.from_tuples([("alloc", 8), ("dealloc", 16), ("alloc", 0), ("dealloc", 16)])
    records.offset[:] = np.array([0, 8, 16, 24])
    stats = Statistics.of(records, 1024)
    problems = {(p.kind, p.size): (p.count, p.first_offset) for p in stats.problems}
    assert problems == {(UNMATCHED_DEALLOC, 16): (2, 8), (ZERO_SIZE_ALLOC, 0): (1, 16)}
    assert stats.problems.shows_firmware_quirk()


def test_freeing_an_oversize_allocation_is_no_symptom_of_the_quirk(samples):
    """The seed allocates and frees 128 bytes: in a 100-byte heap only the allocations are a
    problem; their deallocation matches no live block only because they were refused."""
    records = FramedDecoder().feed((samples / "seed-example.framed").read_bytes())
    stats = Statistics.of(records, 100)
    assert {(p.kind, p.size): p.count for p in stats.problems} == {(OVERSIZE_ALLOC, 128): 2}
    assert not stats.problems.shows_firmware_quirk()
    assert _rows(stats) == brute_stats(records.to_tuples(), 100)["rows"]


@settings(max_examples=200, deadline=None)
@given(st.lists(OP, max_size=80), st.lists(st.integers(0, 80), max_size=5))
def test_oversize_events_match_brute_force_in_any_batches(ops, cuts):
    """A heap of 100 bytes makes 128, 300 and larger oversize: refused allocations carry
    across batches until their deallocation."""
    records = Records.from_tuples(ops)
    stats = Statistics(100)
    bounds = sorted({0, len(ops), *(c for c in cuts if c <= len(ops))})
    for a, b in zip(bounds, bounds[1:], strict=False):
        stats.update(records.slice(a, b))
    oracle = brute_stats(ops, 100)
    assert _rows(stats) == oracle["rows"]
    assert stats.timeline.tolist() == oracle["timeline"]
    assert stats.problems.total(UNMATCHED_DEALLOC) == oracle["unmatched"]


def test_many_distinct_large_sizes():
    rng = np.random.default_rng(1)
    sizes = rng.choice(np.array([3, 70000, 2**20 + 7, 2**31 - 1], np.uint32), 500)
    ops = [("alloc", int(s)) for s in sizes] + [("dealloc", int(s)) for s in sizes[:250]]
    stats = Statistics.of(Records.from_tuples(ops), None)
    assert _rows(stats) == brute_stats(ops)["rows"]


def test_thousands_of_sizes_take_the_vectorised_path():
    """A corrupted trace can hold more distinct sizes than the per-size loop handles."""
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 1 << 30, 3000)
    ops = [("alloc", int(s)) for s in sizes] + [("dealloc", int(s)) for s in sizes[::-2]]
    ops += [("dealloc", int(s)) for s in sizes[:40]] + [("grow", int(sizes[1]), 5)]
    stats = Statistics.of(Records.from_tuples(ops), None)
    oracle = brute_stats(ops)
    assert _rows(stats) == oracle["rows"]
    assert stats.problems.total(UNMATCHED_DEALLOC) == oracle["unmatched"]
    assert stats.timeline.tolist() == oracle["timeline"]


def test_problems_read_in_the_singular_and_name_a_size_once():
    records = Records.from_tuples([("alloc", 0), ("dealloc", 16), ("dealloc", 16), ("alloc", 9)])
    records.offset[:] = np.array([0, 8, 16, 24])
    stats = Statistics.of(records, 8)
    assert [p.describe() for p in stats.problems] == [
        "1 allocation of size 0, first at byte offset 0",
        "2 deallocations of 16 bytes that match no live allocation, first at byte offset 8",
        "1 allocation of 9 bytes, larger than the whole heap, first at byte offset 24",
    ]


def test_the_heap_limit_is_fixed_for_the_count_and_not_the_displayed_heap():
    """No field to write a display value into: the heap shown is the workspace's."""
    records = Records.from_tuples([("alloc", 100), ("alloc", 3000), ("dealloc", 100)])
    stats = Statistics.of(records, 1024)
    with pytest.raises(AttributeError):
        stats.heap_limit = 4096  # type: ignore[misc]
    assert not hasattr(stats, "heap_size")
    stats.update(Records.from_tuples([("alloc", 2000)]))  # still refused against 1024
    assert stats.problems.total(OVERSIZE_ALLOC) == 2
    # Each percentage names its heap: 100 of 400 bytes, and nothing without a heap.
    assert percent_of_heap(100, 400) == 25.0
    assert percent_of_heap(100, None) == 0.0
