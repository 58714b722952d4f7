"""A layout for a set of traces by either method, with headroom and a choice of spread.

- `drone`: drone's partition (least fragmentation, capacity Σ max load per
  pool), the per-size max load taken over every trace of the set. With no
  headroom and drone's spread this is exactly heapgui.layout.generate.
- `timeline`: the partition reserving the fewest bytes, capacity the
  simultaneous peak of each pool's sizes, the largest over the traces
  (heapgui.layout.timeline).

The heap beyond what the pools need is spread the drone way
(heapgui.layout.distribute) or in proportion to each pool's peak bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from heapgui.errors import HeapguiError
from heapgui.layout.distribute import distribute, fill_from_largest
from heapgui.layout.generate import (
    MAX_POOLS,
    Layout,
    LayoutDoesNotFit,
    check_pool_count,
    fewest_pools,
    generate,
    kept_partitioner,
)
from heapgui.layout.kept import Kept, check_kept, check_room
from heapgui.layout.pools import Partition, Partitioner, Pool, demand, pools_needed
from heapgui.layout.timeline import (
    RangePeaks,
    headroom_factor,
    timeline_partition,
    with_headroom,
)
from heapgui.trace.problems import OVERSIZE_ALLOC
from heapgui.trace.traceset import TraceSet

logger = logging.getLogger(__name__)

METHODS = ("drone", "timeline")
SPREADS = ("drone", "peak")


def whole_demand(traces: TraceSet) -> TraceSet:
    """The set counted again with every allocation in, when its statistics left some out.

    Statistics leave out allocations larger than the heap they were counted for,
    so that one garbage record does not spoil the figures. A layout must serve
    them all the same: planned without them it has no pool for them and passes
    for one that holds. The recount (one more statistics pass) happens only for
    a set with such allocations; any other set is returned as it is.
    """
    if not any(t.stats.problems.total(OVERSIZE_ALLOC) for t in traces.traces):
        return traces
    recounted = [replace(t, stats=t.counted_whole()) for t in traces.traces]
    return TraceSet(list(traces.names), recounted)


def range_peaks(traces: TraceSet) -> RangePeaks:
    """Range peaks over every trace, leaving out what their statistics left out."""
    heap_size = traces.traces[0].stats.heap_limit if len(traces) else None
    # A streamed trace (no records kept) brings its events spooled to disk.
    events = [
        t.class_events.events(heap_size) if t.records is None else t.records for t in traces.traces
    ]
    return RangePeaks(events, heap_size)


def drone_partition(
    rows: list[tuple[int, int]],
    pools: int,
    headroom: float = 0.0,
    kept: Sequence[Kept] = (),
) -> Partition:
    """drone's partition of the demand holding the `kept` blocks, capacities raised by `headroom`.

    The headroom raises the traced counts; a kept pool's minimum capacity is
    a floor on the result, not raised itself.
    """
    needed = demand(rows)
    partitioner = kept_partitioner(needed, pools, kept)
    if not needed:
        return Partition((), 0, ())
    part = partitioner.partition(pools)
    factor = headroom_factor(headroom)
    if factor == 1:
        return part
    counts = [sum(c for _, c in needed[a : b + 1]) for a, b in part.groups]
    capacity = with_headroom(np.array(counts, np.int64), factor)
    least = {k.block: k.least for k in partitioner.kept}
    raised = tuple(
        Pool(p.block, max(int(c), least.get(p.block, 0)))
        for p, c in zip(part.pools, capacity, strict=True)
    )
    return Partition(raised, part.fragmentation, part.groups)


def spread_by_peak(pools: tuple[Pool, ...] | list[Pool], heap_size: int) -> list[Pool]:
    """Give each pool a share of the free heap in proportion to its bytes, then fill as drone.

    A pool's bytes before spreading are its peak bytes (its group's peak
    times its block, plus any headroom), so busy pools get the most room.
    """
    work = [[p.block, p.capacity] for p in pools]
    total = sum(b * c for b, c in work)
    free = heap_size - total
    used = total
    for pool in work:
        # free × (block × capacity / total) bytes, in whole blocks.
        add = free * pool[1] // total if total else 0
        used += add * pool[0]
        pool[1] += add
    fill_from_largest(work, used, heap_size)
    return [Pool(b, c) for b, c in work]


@dataclass(frozen=True)
class MinimumHeaps:
    """The least heap each method needs for the same pool count (before spreading)."""

    timeline: int
    drone: int
    pools: int

    @property
    def ratio(self) -> float:
        return self.timeline / self.drone if self.drone else 1.0


def minimum_heaps(
    traces: TraceSet, pools: int, headroom: float = 0.0, peaks: RangePeaks | None = None
) -> MinimumHeaps:
    peaks = peaks if peaks is not None else range_peaks(traces)
    drone = drone_partition(traces.max_loads(), pools, headroom).bytes
    timeline = timeline_partition(peaks, pools, headroom).bytes
    return MinimumHeaps(timeline, drone, pools)


def plan_layout(
    traces: TraceSet,
    heap_size: int,
    pools: int,
    method: str = "drone",
    headroom: float = 0.0,
    spread: str = "drone",
    peaks: RangePeaks | None = None,
    kept: Sequence[Kept] = (),
    partitioner: Partitioner | None = None,
) -> Layout:
    """One layout of `heap_size` bytes that replays every trace of the set without a failure.

    Raises LayoutDoesNotFit when the pools the method needs exceed the heap.
    An empty demand gives drone's starter layout, as `generate` does.
    `kept` blocks (heapgui.layout.kept) are honoured exactly by both methods.
    A `partitioner` built once for the set's demand makes drone's plain layout
    a lookup for every pool count (the GUI's spinner).
    """
    check_pool_count(pools)
    if method not in METHODS:
        raise HeapguiError(f"invalid method {method!r}: expected one of {', '.join(METHODS)}")
    if spread not in SPREADS:
        raise HeapguiError(f"invalid spread {spread!r}: expected one of {', '.join(SPREADS)}")
    rows = traces.max_loads()
    needed = demand(rows)
    plain = method == "drone" and spread == "drone" and headroom_factor(headroom) == 1
    if plain or not needed:
        return generate(needed, heap_size, pools, partitioner, kept)
    if method == "drone":
        part = drone_partition(rows, pools, headroom, kept)
    else:
        peaks = peaks if peaks is not None else range_peaks(traces)
        if [int(c) for c in peaks.classes] != [s for s, _ in needed]:
            raise ValueError("range peaks and statistics disagree on the sizes")
        counts = [c for _, c in needed]
        kept = check_kept(kept)
        check_room([s for s, _ in needed], kept, pools)
        part = timeline_partition(peaks, pools, headroom, counts, kept)
    if part.bytes > heap_size:
        raise LayoutDoesNotFit(
            part.bytes,
            heap_size,
            len(part.pools),
            _fits_with(traces, heap_size, pools, method, headroom, peaks, kept),
            kept,
        )
    if spread == "drone":
        spread_pools = distribute(part.pools, heap_size)
    else:
        spread_pools = spread_by_peak(part.pools, heap_size)
    return Layout(heap_size, tuple(spread_pools), part.fragmentation, tuple(needed), part)


def _fits_with(
    traces: TraceSet,
    heap_size: int,
    pools: int,
    method: str,
    headroom: float,
    peaks: RangePeaks | None,
    kept: Sequence[Kept] = (),
) -> int | None:
    """The fewest pools with which the method's layout fits the heap, if any."""
    sizes = [s for s, _ in demand(traces.max_loads())]
    most = min(max(pools, MAX_POOLS), len(set(sizes) | {k.block for k in kept}))
    least = pools_needed(sizes, [k.block for k in kept])
    if method == "drone":
        rows = traces.max_loads()
        return fewest_pools(
            lambda p: drone_partition(rows, p, headroom, kept).bytes, heap_size, least, most
        )
    assert peaks is not None
    # The timeline optimum over "at most p pools" never grows with p.
    return fewest_pools(
        lambda p: timeline_partition(peaks, p, headroom, kept=kept).bytes,
        heap_size,
        least,
        most,
        monotone=True,
    )
