"""The timeline method with kept blocks against brute force over every block set.

For every set of word-multiple blocks that holds the kept blocks, serves the
largest class and numbers at most the pool count, the oracle sends each class
to its first-fit block and reserves block × max(the group's simultaneous peak
plus headroom, the kept minimum); the optimizer must reserve the least of
those. Peaks come from a plain loop over the records (tests/test_timeline.py).
"""

from __future__ import annotations

import math
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from timeline_oracle import brute_peaks

from heapgui.errors import HeapguiError
from heapgui.layout import timeline
from heapgui.layout.kept import Kept
from heapgui.layout.plan import plan_layout
from heapgui.layout.pool_replay import replay
from heapgui.layout.timeline import RangePeaks, timeline_partition
from heapgui.trace.load import Trace
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet

WORD = 4


def brute_reserved(classes, peaks, kept: list[Kept], pools: int, headroom: float) -> int | None:
    least = {k.block: max(k.min_capacity, 1) for k in kept}
    top = max(classes + list(least))
    candidates = [b for b in range(WORD, top + 1, WORD) if b not in least]
    best = None
    for extra in range(0, pools - len(least) + 1):
        for chosen in combinations(candidates, extra):
            blocks = sorted([*least, *chosen])
            if not blocks or blocks[-1] < classes[-1]:
                continue
            total, first = 0, 0
            for block in blocks:
                last = first
                while last < len(classes) and classes[last] <= block:
                    last += 1
                peak = int(peaks[first, last - 1]) if last > first else 0
                capacity = math.ceil(peak * (100 + headroom) / 100)  # headroom 0 or 50: exact
                total += block * max(capacity, least.get(block, 0))
                first = last
            best = total if best is None else min(best, total)
    return best


SIZES = st.integers(1, 10).map(lambda k: k * WORD)
OP = st.one_of(
    st.tuples(st.just("alloc"), SIZES),
    st.tuples(st.just("alloc"), SIZES),
    st.tuples(st.just("dealloc"), SIZES),
)
KEPT = st.dictionaries(st.integers(1, 11).map(lambda k: k * WORD), st.integers(0, 3), max_size=3)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(OP, min_size=1, max_size=40),
    KEPT.map(lambda d: [Kept(b, c) for b, c in sorted(d.items())]),
    st.integers(1, 5),
    st.sampled_from([0, 50]),
    st.sampled_from([0, 64]),
)
def test_timeline_with_kept_blocks_is_the_brute_force_minimum(ops, kept, pools, headroom, moments):
    records = Records.from_tuples(ops)
    classes, peaks_by_hand = brute_peaks(ops)
    if not classes:
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(timeline, "TOP_MOMENTS", moments)  # loose bounds: the refinement works
        peaks = RangePeaks([records])
    expected = brute_reserved(classes, peaks_by_hand, kept, pools, headroom)
    if expected is None:
        return  # the caller refuses these (heapgui.layout.kept.check_room)
    part = timeline_partition(peaks, pools, headroom, kept=kept)
    assert part.bytes == expected
    blocks = [p.block for p in part.pools]
    assert {k.block for k in kept} <= set(blocks) and len(blocks) <= pools
    least = {k.block: k.min_capacity for k in kept}
    assert all(p.capacity >= least.get(p.block, 0) for p in part.pools)
    assert replay(records, part.pools).holds


def test_the_plan_refuses_what_the_pools_cannot_hold():
    records = Records.from_tuples([("alloc", 4), ("alloc", 40)])
    traces = TraceSet.of([Trace("t", "framed", records, Statistics.of(records))])
    with pytest.raises(HeapguiError, match="take all 2 pools"):
        plan_layout(traces, 4096, 2, "timeline", kept=[Kept(8), Kept(16)])
    # 8 × 1 + 64 × 3 = 200 bytes, less than with a pool of 40 as well (240): 2 pools of 3.
    layout = plan_layout(traces, 4096, 3, "timeline", kept=[Kept(8), Kept(64, 3)])
    assert [p.block for p in layout.partition.pools] == [8, 64]
    assert layout.partition.bytes == 200
