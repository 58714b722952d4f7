"""Range peaks and the timeline optimizer against brute force; layouts replayed against traces."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from timeline_oracle import brute_peaks

from heapgui.layout import timeline
from heapgui.layout.generate import LayoutDoesNotFit, generate
from heapgui.layout.plan import (
    drone_partition,
    minimum_heaps,
    plan_layout,
    range_peaks,
    spread_by_peak,
    whole_demand,
)
from heapgui.layout.pool_replay import replay
from heapgui.layout.pools import Pool, demand
from heapgui.layout.timeline import RangePeaks, timeline_partition
from heapgui.trace.load import Trace, read_trace
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet, size_difference
from heapgui.trace.workload import workload


def brute_best(classes: list[int], peaks: np.ndarray, pools: int, headroom: float = 0) -> int:
    """Least Σ block × capacity over every split into at most `pools` contiguous groups."""
    n = len(classes)
    best = None
    for k in range(1, min(pools, n) + 1):
        for cuts in itertools.combinations(range(1, n), k - 1):
            bounds = (0, *cuts, n)
            total = sum(
                classes[b - 1] * math.ceil(peaks[a, b - 1] * (100 + headroom) / 100)
                for a, b in itertools.pairwise(bounds)
            )
            best = total if best is None else min(best, total)
    return best or 0


def as_set(*ops_lists: list[tuple], heap_size: int = 1 << 20) -> TraceSet:
    traces = []
    for k, ops in enumerate(ops_lists):
        records = Records.from_tuples(ops)
        traces.append(Trace(f"t{k}", "framed", records, Statistics.of(records, heap_size)))
    return TraceSet.of(traces)


def phased(sizes: list[int], burst: int) -> list[tuple]:
    """Each size in turn: `burst` allocations then all freed, so no two peaks coincide."""
    ops: list[tuple] = []
    for s in sizes:
        ops += [("alloc", s)] * burst + [("dealloc", s)] * burst
    return ops


SIZE = st.sampled_from([0, 1, 3, 4, 7, 8, 12, 20, 24, 64])
OP = st.one_of(
    st.tuples(st.sampled_from(["alloc", "alloc", "dealloc"]), SIZE),
    st.tuples(st.sampled_from(["grow", "shrink"]), SIZE, SIZE),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(OP, max_size=70), st.sampled_from([None, 16]))
def test_range_peaks_match_brute_force(ops, heap_size):
    peaks = RangePeaks([Records.from_tuples(ops)], heap_size)
    classes, expected = brute_peaks(ops, heap_size)
    assert peaks.classes.tolist() == classes
    n = len(classes)
    assert (np.triu(peaks.lower) <= expected).all()  # bounds before any exact work
    assert (np.triu(peaks.upper) >= expected).all()
    assert peaks.matrix().tolist() == expected.tolist()
    assert peaks.max_load.tolist() == [int(expected[k, k]) for k in range(n)]


def peaks_in_chunks(ops: list[tuple], heap_size: int | None, chunk: int) -> RangePeaks:
    """RangePeaks built `chunk` events and records at a time (CHUNK is a module setting)."""
    whole = timeline.CHUNK
    timeline.CHUNK = chunk
    try:
        return RangePeaks([Records.from_tuples(ops)], heap_size)
    finally:
        timeline.CHUNK = whole


@settings(max_examples=150, deadline=None)
@given(st.lists(OP, max_size=70), st.sampled_from([None, 16]), st.integers(1, 9))
def test_range_peaks_built_in_chunks_equal_one_pass_and_brute_force(ops, heap_size, chunk):
    """Chunk boundaries anywhere (inside a size's run, between a grow's two events): the
    same bounds before any exact work, the same sampled moments and the brute-force peaks."""
    chunked = peaks_in_chunks(ops, heap_size, chunk)
    whole = peaks_in_chunks(ops, heap_size, 1 << 20)
    assert chunked.classes.tolist() == whole.classes.tolist()
    assert chunked.lower.tolist() == whole.lower.tolist()
    assert chunked.upper.tolist() == whole.upper.tolist()
    (a,), (b,) = chunked._traces, whole._traces
    for name in ("step", "cls", "order", "live", "class_peak", "class_peak_at"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    for count in (1, 3, 64):
        assert (
            a.busiest(chunked.classes, count).tolist() == b.busiest(whole.classes, count).tolist()
        )
    assert chunked.matrix().tolist() == brute_peaks(ops, heap_size)[1].tolist()


@settings(max_examples=80, deadline=None)
@given(st.lists(OP, max_size=50), st.lists(OP, max_size=50))
def test_range_peaks_of_a_set_are_the_largest_over_its_traces(ops_a, ops_b):
    peaks = RangePeaks([Records.from_tuples(ops_a), Records.from_tuples(ops_b)])
    (ca, pa), (cb, pb) = brute_peaks(ops_a), brute_peaks(ops_b)
    classes = sorted(set(ca) | set(cb))
    assert peaks.classes.tolist() == classes
    got = peaks.matrix()
    for i, j in itertools.combinations_with_replacement(range(len(classes)), 2):
        want = 0
        for c, p in ((ca, pa), (cb, pb)):
            inside = [k for k, size in enumerate(c) if classes[i] <= size <= classes[j]]
            if inside:
                want = max(want, int(p[inside[0], inside[-1]]))
        assert got[i, j] == want


@settings(max_examples=80, deadline=None)
@given(
    st.lists(OP, min_size=1, max_size=60),
    st.integers(1, 5),
    st.sampled_from([0, 10, 33.3]),
    st.sampled_from([0, 1, 64]),
)
def test_timeline_partition_is_the_true_minimum_and_holds(ops, pools, headroom, moments):
    records = Records.from_tuples(ops)
    with pytest.MonkeyPatch.context() as mp:
        # Few sampled moments leave loose bounds, so the exact refinement does the work.
        mp.setattr(timeline, "TOP_MOMENTS", moments)
        peaks = RangePeaks([records])
    classes, expected = brute_peaks(ops)
    part = timeline_partition(peaks, pools, headroom)
    assert part.bytes == brute_best(classes, expected, pools, headroom)
    assert len(part.pools) <= pools
    assert replay(records, part.pools).holds
    rows = [(r.size, r.max_load) for r in Statistics.of(records).rows()]
    if headroom == 0 and demand(rows):
        assert part.bytes <= drone_partition(rows, pools).bytes


def test_coinciding_never_peaks_share_one_pool():
    ops = phased([4, 8, 12, 16], 10)
    peaks = RangePeaks([Records.from_tuples(ops)])
    part = timeline_partition(peaks, 4)
    # One pool of 16-byte blocks holds them all: 10 × 16 = 160 bytes, where
    # drone's four pools need 10 × (4 + 8 + 12 + 16) = 400.
    assert [(p.block, p.capacity) for p in part.pools] == [(16, 10)]
    assert drone_partition(demand([(s, 10) for s in (4, 8, 12, 16)]), 4).bytes == 400


def test_headroom_rounds_up_each_pool():
    peaks = RangePeaks([Records.from_tuples(phased([8], 10))])
    assert timeline_partition(peaks, 1, 10).pools == (Pool(8, 11),)
    assert timeline_partition(peaks, 1, 10.1).pools == (Pool(8, 12),)
    assert timeline_partition(peaks, 1, 0).pools == (Pool(8, 10),)


def test_workload_sample_timeline_reserves_strictly_less(samples):
    trace = read_trace(samples / "workload-40k.framed", heap_size=65536)
    traces = TraceSet.of([trace])
    peaks = range_peaks(traces)
    for pools in (3, 5, 8):
        heaps = minimum_heaps(traces, pools, peaks=peaks)
        assert heaps.timeline < heaps.drone
        layout = plan_layout(traces, 65536, pools, "timeline", peaks=peaks)
        assert replay(trace.records, layout.pools).holds
        part = layout.partition
        assert part is not None and part.bytes == heaps.timeline
        assert layout.total_bytes <= 65536


def test_default_drone_plan_is_generate(samples):
    trace = read_trace(samples / "seed-example.framed", heap_size=10240)
    layout = plan_layout(TraceSet.of([trace]), 10240, 5)
    rows = [(r.size, r.max_load) for r in trace.stats.rows()]
    assert layout == generate(demand(rows), 10240, 5)


def test_every_layout_for_a_set_replays_each_trace():
    boot = workload(4000, seed=1, sizes=np.array([4, 8, 12, 16], np.uint32), mean_life=40)
    burst = workload(4000, seed=2, sizes=np.array([24, 32, 64], np.uint32), mean_life=80)
    idle = Records.from_tuples(phased([4, 12, 64, 100], 25))
    traces = TraceSet.of(
        [
            Trace(name, "framed", r, Statistics.of(r, 1 << 16))
            for name, r in (("boot", boot), ("burst", burst), ("idle", idle))
        ]
    )
    peaks = range_peaks(traces)
    for method in ("drone", "timeline"):
        for spread in ("drone", "peak"):
            for pools in (1, 3, 6):
                for headroom in (0, 15):
                    layout = plan_layout(traces, 1 << 16, pools, method, headroom, spread, peaks)
                    assert layout.total_bytes <= 1 << 16
                    for _, trace in traces:
                        assert replay(trace.records, layout.pools).holds, (
                            method,
                            spread,
                            pools,
                            headroom,
                        )
    heaps = minimum_heaps(traces, 3, peaks=peaks)
    assert heaps.timeline < heaps.drone


def test_timeline_does_not_fit_names_the_pools_that_would():
    ops = phased([4, 1000], 10) + [("alloc", 4)] * 10 + [("alloc", 1000)]
    traces = as_set(ops)
    peaks = range_peaks(traces)
    # Two pools: 4 × 10 + 1000 × 10 = 10040; one pool: 1000 × 11 = 11000.
    with pytest.raises(LayoutDoesNotFit) as err:
        plan_layout(traces, 10500, 1, "timeline", peaks=peaks)
    assert (err.value.needed, err.value.fits_with) == (11000, 2)
    with pytest.raises(LayoutDoesNotFit) as err:
        plan_layout(traces, 5000, 1, "timeline", peaks=peaks)
    assert err.value.fits_with is None


@pytest.mark.parametrize("method", ["drone", "timeline"])
def test_allocations_larger_than_the_heap_are_planned_for(method):
    """Counted for a 64-byte heap, the statistics leave the 100-byte blocks out; a plan
    for that heap must not: it cannot hold them, and a larger heap gets a pool for them."""
    ops = [("alloc", 4), ("alloc", 100), ("alloc", 100), ("dealloc", 100), ("alloc", 4)]
    traces = as_set(ops, heap_size=64)
    assert [row.size for row in traces.traces[0].stats.rows()] == [4]
    whole = whole_demand(traces)
    assert whole.max_loads() == [(4, 2), (100, 2)]
    # Two pools: 4 × 2 + 100 × 2 = 208 bytes at the least, whichever method.
    with pytest.raises(LayoutDoesNotFit) as err:
        plan_layout(whole, 64, 2, method, peaks=range_peaks(whole))
    assert (err.value.needed, err.value.fits_with) == (208, None)
    layout = plan_layout(whole, 1024, 2, method, peaks=range_peaks(whole))
    assert [p.block for p in layout.pools] == [4, 100]
    assert replay(traces.traces[0].records, layout.pools).holds
    plain = as_set(ops)  # read for a 1 MiB heap: nothing left out, nothing recounted
    assert whole_demand(plain) is plain and plain.max_loads() == whole.max_loads()


def test_spread_by_peak_is_proportional_and_fills_the_heap():
    pools = [Pool(4, 100), Pool(16, 25), Pool(64, 1)]  # 400, 400 and 64 bytes
    spread = spread_by_peak(pools, 8640)  # 864 used, 7776 free
    assert [p.block for p in spread] == [4, 16, 64]
    assert [p.capacity for p in spread][:2] == [100 + 900, 25 + 225]
    assert sum(p.bytes for p in spread) <= 8640
    assert 8640 - sum(p.bytes for p in spread) < 4


def test_size_difference_rows():
    a = Statistics.of(Records.from_tuples([("alloc", 4), ("alloc", 4), ("alloc", 8)]))
    b = Statistics.of(Records.from_tuples([("alloc", 4), ("alloc", 12)]))
    rows = [(r.size, r.max_a, r.max_b, r.delta) for r in size_difference(a, b)]
    assert rows == [(4, 2, 1, -1), (8, 1, 0, -1), (12, 0, 1, 1)]
