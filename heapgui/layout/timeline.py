"""Simultaneous peaks of size ranges, and the timeline-aware partition built on them.

drone sizes a pool serving sizes i..j as the sum of their max loads; but those
peaks rarely coincide. A pool of the *timeline* layout gets the simultaneous
peak of its sizes instead: the most blocks sizes i..j ever hold at once. With
contiguous groups and blocks equal to each group's largest size, first fit
sends every request to its own group's pool, that pool never fills, and the
replay of the trace never fails (see heapgui.layout.pool_replay); so the least
reserved heap is a partition minimising Σ block × simultaneous peak.

Computing the simultaneous peak of every one of the n(n+1)/2 ranges exactly
takes O(n²·m) for m events (it is a max-plus product over time, with no
shortcut in general), which at 200 sizes and 10 million records is far too
slow. The optimizer does not need them all: it keeps lower bounds for every
range (the exact range sums at a set of sampled moments, O(T·n²) for T
samples), solves the partition on those bounds, and computes exact peaks only
for the groups of the solution, O(m) each; each exact peak also adds its moment
to the samples, which raises the bounds of many other ranges. When every group
of the solution is exact, its cost equals its bound and no partition has a
lower bound below it, so it is optimal.

Cost: building the bounds is a few O(m) passes plus O(T·n²) (T ≈ n + 128
moments); a round is the O(P·n²) partition plus O(m) per new exact range.
On 10-million-record workloads (benchmarks/replay.py) 19 sizes need 11-39
exact ranges out of 190 and 200 sizes 21-78 out of 20100, under 2 s per
pool count after about 1 s of set-up (chunked, about 20 bytes an event at the peak).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from heapgui.errors import HeapguiError
from heapgui.layout.kept import Kept
from heapgui.layout.pools import INFINITE, WORD_SIZE, Partition, Pool, SplitTable
from heapgui.trace.events import (
    Events,
    distinct_sizes,
    drop_unmatched,
    group_heads,
    largest_first,
    size_ids,
    stable_order,
)
from heapgui.trace.records import GROW, Records

logger = logging.getLogger(__name__)

MAX_HEADROOM = 1000
"""Percent. Ten times what the traces need is a guess, not a margin; capacities stay in 64 bits."""
TOP_MOMENTS = 64  # busiest moments sampled up front, by blocks and by bytes in use


def headroom_factor(percent: float | str | Fraction) -> Fraction:
    """1 + percent/100 exactly (10.1 means 10.1, not its binary neighbour)."""
    try:
        value = Fraction(str(percent)) if isinstance(percent, float) else Fraction(percent)
    except ValueError:  # nan and inf have no exact value
        value = None
    if value is None or not 0 <= value <= MAX_HEADROOM:
        raise HeapguiError(f"invalid headroom {percent}%: expected 0 to {MAX_HEADROOM}")
    return 1 + value / 100


def with_headroom(counts: np.ndarray, factor: Fraction) -> np.ndarray:
    """ceil(count × factor), elementwise in integers."""
    counts = np.asarray(counts, np.int64)
    return -(-(counts * factor.numerator) // factor.denominator)


CHUNK = 1 << 20
"""Events handled at a time while building: the temporaries are a chunk's, not the trace's."""


class _ClassEvents:
    """One trace's events that take or free a block, as (size class, ±1).

    A size class is a word-aligned size, as in the demand. Zero-size and
    (with a heap size) larger-than-heap allocations and unmatched
    deallocations are dropped exactly as the statistics drop them.

    Built chunk by chunk, it holds about ten bytes an event (the step, the
    class, and 32-bit positions and live counts in class order) and never much
    more: a whole-array pass would hold several 64-bit temporaries at once.
    """

    def __init__(self, records: Records, heap_size: int | None) -> None:
        double = records.kind >= GROW
        sizes = np.union1d(
            distinct_sizes(records.size), distinct_sizes(records.new_size[double])
        ).astype(np.uint32)
        live = np.zeros(len(sizes), np.int64)
        steps, numbers = [], []
        for lo in range(0, len(records), CHUNK):
            ev = Events.of(records.slice(lo, lo + CHUNK))
            number = size_ids(ev.size, sizes)
            number = number.astype(np.uint16) if len(sizes) <= 1 << 16 else number
            step = np.where(ev.up, 1, -1).astype(np.int8)
            neutral = ev.size == 0
            if heap_size is not None:
                neutral |= ev.up & (ev.size > heap_size)
            step[neutral] = 0
            drop_unmatched(number, step, live)
            keep = step != 0
            steps.append(step[keep])
            numbers.append(number[keep])
        self.step = np.concatenate(steps) if steps else np.empty(0, np.int8)
        self._number = np.concatenate(numbers) if numbers else np.empty(0, np.uint16)
        self._aligned_of = -(-sizes.astype(np.int64) // WORD_SIZE) * WORD_SIZE
        self._used = np.bincount(self._number, minlength=len(sizes)) > 0
        self.aligned = np.unique(self._aligned_of[self._used])  # the classes this trace has
        self.cls = np.empty(0, np.uint8)

    def bind(self, classes: np.ndarray) -> None:
        """Number the events by class; sort them by class for sampling live counts."""
        n = len(classes)
        class_of = np.zeros(len(self._aligned_of), np.uint8 if n <= 1 << 8 else np.uint16)
        class_of[self._used] = size_ids(self._aligned_of[self._used], classes)
        self.cls = class_of[self._number]
        del self._number
        self.counts = np.bincount(self.cls, minlength=n)
        # 32-bit positions and counts: these two arrays are most of the memory.
        self.order = stable_order(self.cls, self.counts, CHUNK)
        self.live = np.cumsum(self.step[self.order], dtype=np.int32)
        heads = group_heads(self.counts)
        # Each class's count starts at 0: take off the total before its first event, in place.
        before = np.zeros(n, np.int32)
        later = heads > 0
        before[later] = self.live[heads[later] - 1]
        self.class_peak = np.zeros(n, np.int64)
        self.class_peak_at = np.zeros(n, np.int64)
        for k in np.flatnonzero(self.counts):
            seg = self.live[heads[k] : heads[k] + self.counts[k]]
            seg -= before[k]
            top = int(np.argmax(seg))
            self.class_peak[k] = seg[top]
            self.class_peak_at[k] = self.order[heads[k] + top]

    def busiest(self, classes: np.ndarray, count: int) -> np.ndarray:
        """Moments (event positions) with the most blocks and the most bytes in use."""
        if not len(self.step):
            return np.empty(0, np.int64)
        # A maximum of any range sum lies at the end of a run of allocations.
        ends = np.flatnonzero((self.step > 0) & np.append(self.step[1:] < 0, True))
        if len(ends) <= count:
            return ends
        blocks = np.empty(len(ends), np.int64)
        nbytes = np.empty(len(ends), np.int64)
        totals = [0, 0]
        for lo in range(0, len(self.step), CHUNK):
            step = self.step[lo : lo + CHUNK]
            at = slice(*np.searchsorted(ends, [lo, lo + len(step)]))
            for out, k, walk in (
                (blocks, 0, np.cumsum(step, dtype=np.int64)),
                (nbytes, 1, np.cumsum(step * classes[self.cls[lo : lo + CHUNK]], dtype=np.int64)),
            ):
                out[at] = walk[ends[at] - lo] + totals[k]
                totals[k] += int(walk[-1])
        return np.concatenate([ends[largest_first(v, count)] for v in (blocks, nbytes)])

    def live_at(self, moments: np.ndarray, n: int) -> np.ndarray:
        """Live count of every class after each of `moments`: len(moments) × n."""
        out = np.zeros((len(moments), n), np.int64)
        moments = moments.astype(self.order.dtype)  # searching must not convert the positions
        heads = group_heads(self.counts)
        for k in np.flatnonzero(self.counts):
            span = slice(heads[k], heads[k] + self.counts[k])
            idx = np.searchsorted(self.order[span], moments, "right") - 1
            out[:, k] = np.where(idx >= 0, self.live[span][np.maximum(idx, 0)], 0)
        return out

    def range_peak(self, first: int, last: int) -> tuple[int, int]:
        """Exact simultaneous peak of classes first..last and the event where it occurs."""
        dtype = self.cls.dtype.type
        inside = (self.cls - dtype(first)) <= dtype(last - first)  # unsigned wrap-around
        walk = np.cumsum(np.where(inside, self.step, 0), dtype=np.int32)
        if not len(walk):
            return 0, 0
        at = int(np.argmax(walk))
        return max(int(walk[at]), 0), at

    def range_peaks(self, ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """`range_peak` of several ranges (a streamed trace does them in one pass)."""
        return [self.range_peak(i, j) for i, j in ranges]


class RangePeaks:
    """Simultaneous peaks of contiguous size-class ranges over one or more traces.

    `classes` are the word-aligned sizes (the demand's sizes). For a set of
    traces a range's peak is the largest over the traces, so capacities built
    from it hold every trace. `lower` bounds every range; `peak()` is exact.
    """

    def __init__(self, traces: Sequence[Records | Any], heap_size: int | None = None) -> None:
        # A trace too long to hold comes as its events already streamed to disk
        # (heapgui.layout.class_stream), with the same methods as _ClassEvents.
        self._traces = [_ClassEvents(r, heap_size) if isinstance(r, Records) else r for r in traces]
        found = [np.unique(t.aligned) for t in self._traces]
        self.classes = np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)
        n = len(self.classes)
        for trace in self._traces:
            trace.bind(self.classes)
        self.max_load = np.zeros(n, np.int64)
        self.lower = np.zeros((n, n), np.int64)
        upper = np.zeros((n, n), np.int64)
        for trace in self._traces:
            self.max_load = np.maximum(self.max_load, trace.class_peak)
            sums = np.concatenate([[0], np.cumsum(trace.class_peak)])
            upper = np.maximum(upper, sums[None, 1:] - sums[:-1, None])
        # drone's capacity, Σ max load, bounds a range's peak from above.
        self.upper = np.triu(upper)
        self._exact = np.zeros((n, n), bool)
        for trace in self._traces:
            self._sample(
                trace,
                np.concatenate([trace.class_peak_at, trace.busiest(self.classes, TOP_MOMENTS)]),
            )
        self.evaluated = 0

    def __len__(self) -> int:
        return len(self.classes)

    def is_exact(self, first: int, last: int) -> bool:
        return bool(self._exact[first, last] or self.lower[first, last] == self.upper[first, last])

    def peak(self, first: int, last: int) -> int:
        """The exact simultaneous peak of classes first..last (indices, inclusive)."""
        self.resolve([(first, last)])
        return int(self.lower[first, last])

    def resolve(self, ranges: Sequence[tuple[int, int]], sample: bool = True) -> None:
        """Make the given ranges exact, O(m) per range and trace.

        With `sample`, the moment of each peak also raises every other bound.
        """
        todo = [(i, j) for i, j in ranges if not self.is_exact(i, j)]
        for trace in self._traces:
            moments = []
            for (i, j), (value, at) in zip(todo, trace.range_peaks(todo), strict=True):
                moments.append(at)
                self.lower[i, j] = max(self.lower[i, j], value)
            if sample:
                self._sample(trace, np.array(moments, np.int64))
        for i, j in todo:
            self._exact[i, j] = True
        self.evaluated += len(todo)

    def matrix(self) -> np.ndarray:
        """Every range's exact peak (upper triangle); O(n²·m), for small n or a background job."""
        n = len(self)
        self.resolve([(i, j) for i in range(n) for j in range(i, n)], sample=False)
        return self.lower.copy()

    def _sample(self, trace: _ClassEvents, moments: np.ndarray) -> None:
        """Raise lower bounds with the range sums at `moments` of one trace."""
        if not len(moments):
            return
        live = trace.live_at(np.unique(moments), len(self))
        sums = np.concatenate([np.zeros((len(live), 1), np.int64), np.cumsum(live, axis=1)], axis=1)
        for i in range(len(self)):
            best = (sums[:, i + 1 :] - sums[:, i : i + 1]).max(axis=0)
            np.maximum(self.lower[i, i:], best, out=self.lower[i, i:])


def timeline_partition(
    peaks: RangePeaks,
    pools: int,
    headroom: float = 0.0,
    counts: Sequence[int] | None = None,
    kept: Sequence[Kept] = (),
) -> Partition:
    """The partition into at most `pools` groups reserving the fewest bytes.

    Each pool's capacity is its group's simultaneous peak plus `headroom`
    percent (rounded up). Fewer pools than asked can be best: two sizes
    whose peaks never coincide share one pool for the price of one peak.
    The fragmentation is drone's measure for the chosen groups with
    `counts` per class (the demand's; by default each class's own peak).

    `kept` blocks (heapgui.layout.kept) are items too, as in the drone
    method: no group runs past one, a kept block no class has serves the
    classes above the previous block (possibly none), and its minimum
    capacity floors the capacity, so it counts as reserved bytes. The
    caller checks that `pools` can hold them (heapgui.layout.kept.check_room).
    """
    if len(peaks) == 0:
        return Partition((), 0, ())
    items = _Items(peaks.classes, kept)
    factor = headroom_factor(headroom)
    rounds = 0
    while True:
        rounds += 1
        table = SplitTable(items.cost(peaks.lower, factor), pools)
        # Fewer pools can reserve fewer bytes here, so the count is chosen too.
        item_groups = table.groups(table.cheapest_count(pools))
        groups = [items.classes_of(i, j) for i, j in item_groups]
        todo = [g for g in groups if g[0] <= g[1] and not peaks.is_exact(*g)]
        if not todo:
            break
        peaks.resolve(todo)
    logger.info("timeline partition: %d rounds, %d exact range peaks", rounds, peaks.evaluated)
    blocks = [int(items.blocks[j]) for _, j in item_groups]
    least = [int(items.least[j]) for _, j in item_groups]
    pool_list = tuple(
        Pool(block, max(int(with_headroom(peaks.lower[i, j], factor)) if i <= j else 0, floor))
        for (i, j), block, floor in zip(groups, blocks, least, strict=True)
    )
    weights = peaks.max_load if counts is None else np.asarray(counts, np.int64)
    frag = fragmentation(peaks.classes, weights, groups, blocks)
    return Partition(pool_list, frag, tuple(groups))


class _Items:
    """The classes and the kept blocks, sorted: what the timeline partition splits.

    A group of items i..j holds the classes from the first at or after item
    i to the last at or before item j (none, for a kept block alone), and its
    block is item j. Without kept blocks the items are the classes.
    """

    def __init__(self, classes: np.ndarray, kept: Sequence[Kept]) -> None:
        least = {k.block: k.least for k in kept}
        self.blocks = np.array(sorted(set(classes.tolist()) | least.keys()), np.int64)
        self.least = np.array([least.get(int(b), 0) for b in self.blocks], np.int64)
        self.first = np.searchsorted(classes, self.blocks, "left")
        self.last = np.searchsorted(classes, self.blocks, "right") - 1
        m = len(self.blocks)
        i = np.arange(m)[:, None]
        j = np.arange(m)[None, :]
        kept_at = np.concatenate([[0], np.cumsum(self.least > 0)])
        # Below the diagonal, or running past a kept item: no such group.
        self.forbidden = (i > j) | (kept_at[j] - kept_at[i] > 0)
        self._classes = len(classes)

    def cost(self, lower: np.ndarray, factor: Fraction) -> np.ndarray:
        """Reserved bytes of every group of items, from the classes' lower bounds."""
        first = np.minimum(self.first, self._classes - 1)
        last = np.maximum(self.last, 0)
        peak = lower[np.ix_(first, last)]
        has_classes = self.first[:, None] <= self.last[None, :]
        capacity = np.where(has_classes, with_headroom(peak, factor), 0)
        capacity = np.maximum(capacity, self.least[None, :])
        return np.where(self.forbidden, INFINITE, self.blocks[None, :] * capacity)

    def classes_of(self, i: int, j: int) -> tuple[int, int]:
        """[first, last] class of items i..j; first = last + 1 when it holds none."""
        return int(self.first[i]), int(self.last[j])


def fragmentation(
    sizes: np.ndarray,
    counts: np.ndarray,
    groups: Sequence[tuple[int, int]],
    blocks: Sequence[int] | None = None,
) -> int:
    """drone's measure: Σ (block − size) × count, blocks by default each group's largest size."""
    total = 0
    for k, (i, j) in enumerate(groups):
        block = sizes[j] if blocks is None else blocks[k]
        total += int(np.dot(block - sizes[i : j + 1], counts[i : j + 1]))
    return total
