"""Heap statistics as drone counts them, plus what drone cannot show.

Per exact size: the live count, its maximum (the *max load*) and the total of
allocations; grow and shrink count as a deallocation of the old size followed
by an allocation of the new one. On top of drone: the true simultaneous peak
and the bytes in use after every record (the load timeline).

Where drone stops on a corrupted trace, these statistics keep going: a
deallocation that finds no live block of its size is counted and ignored, and
an allocation larger than the heap is counted and left out of the figures so
one garbage record does not swamp the table. A verdict cannot leave it out:
layouts count it back in (heapgui.layout.plan.whole_demand) and a replay
fails it, since no block of a heap that size can serve it.

All of it is vectorised: events are grouped by size with a radix sort, and each
size's live count is a clamped cumulative sum computed with running minima.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heapgui.trace.events import (
    Events,
    clamped_walk,
    distinct_sizes,
    group_heads,
    size_ids,
)
from heapgui.trace.problems import (
    OVERSIZE_ALLOC,
    UNMATCHED_DEALLOC,
    ZERO_SIZE_ALLOC,
    ProblemLog,
)
from heapgui.trace.records import Records


@dataclass(frozen=True)
class SizeRow:
    size: int
    max_load: int
    total: int
    live: int

    @property
    def peak_bytes(self) -> int:
        return self.size * self.max_load


BATCH = 1 << 17  # records counted at a time


class Statistics:
    """Running statistics; `update` takes records batch after batch (live capture).

    With `keep_timeline=False` each batch's timeline is returned but not kept, so a
    command streaming a file through holds a few kilobytes, whatever its length.

    `heap_limit` is the heap the allocations are checked against: larger ones are
    refused (OVERSIZE_ALLOC) and left out. It is fixed for the whole count, because
    figures counted against two limits would not add up. It is not the heap size the
    user sees: that one belongs to the workspace and is passed where a share of the
    heap is shown (`percent_of_heap`).
    """

    def __init__(self, heap_limit: int | None = None, keep_timeline: bool = True) -> None:
        self._heap_limit = heap_limit
        self.keep_timeline = keep_timeline
        self.problems = ProblemLog()
        self.sizes = np.empty(0, np.uint32)
        self.live = np.empty(0, np.int64)
        self.max_load = np.empty(0, np.int64)
        self.total = np.empty(0, np.int64)
        self.records = 0
        self.in_use = 0
        self.peak_usage = 0
        self.peak_record = -1
        self._timeline: list[np.ndarray] = []
        # Allocations refused as larger than the heap and not yet freed, per size: their
        # deallocations end them quietly instead of counting as unmatched.
        self._refused_sizes = np.empty(0, np.uint32)
        self._refused_live = np.empty(0, np.int64)

    @classmethod
    def of(cls, records: Records, heap_limit: int | None = None) -> Statistics:
        stats = cls(heap_limit)
        stats.update(records)
        return stats

    # -- results -----------------------------------------------------------

    @property
    def heap_limit(self) -> int | None:
        """The heap larger allocations were refused against, or None: nothing was refused."""
        return self._heap_limit

    @property
    def max_usage(self) -> int:
        """drone's "Maximum memory usage": Σ size × max load, an upper bound."""
        return int(np.dot(self.sizes.astype(np.int64), self.max_load))

    @property
    def timeline(self) -> np.ndarray:
        """Bytes in use after each record, as int64."""
        if not self.keep_timeline:
            raise ValueError("these statistics were counted without keeping the timeline")
        if len(self._timeline) != 1:
            joined = np.concatenate(self._timeline) if self._timeline else np.empty(0, np.int64)
            self._timeline = [joined]
        return self._timeline[0]

    def rows(self) -> list[SizeRow]:
        """One row per size that was ever allocated, ascending, as drone lists them."""
        keep = np.flatnonzero(self.total > 0)
        return [
            SizeRow(
                int(self.sizes[i]), int(self.max_load[i]), int(self.total[i]), int(self.live[i])
            )
            for i in keep
        ]

    def with_sizes_above(self, limit: int, other: Statistics) -> Statistics:
        """Per-size figures: these up to `limit` bytes, `other`'s above it.

        Only the per-size columns (rows, max loads) are filled in: what a
        layout's demand reads. Peaks and problems stay those of no record.
        """
        mine, theirs = self.sizes <= limit, other.sizes > limit
        merged = Statistics()
        order = np.argsort(np.concatenate([self.sizes[mine], other.sizes[theirs]]))
        merged.sizes = np.concatenate([self.sizes[mine], other.sizes[theirs]])[order]
        for name in ("live", "max_load", "total"):
            column = np.concatenate([getattr(self, name)[mine], getattr(other, name)[theirs]])
            setattr(merged, name, column[order])
        return merged

    # -- accumulation ------------------------------------------------------

    def update(self, records: Records) -> np.ndarray:
        """Fold a batch of records in; returns the timeline of this batch."""
        # Cache-sized batches are about 1.5x faster than one pass over everything.
        every = range(0, max(len(records), 1), BATCH)  # an empty batch still gives its timeline
        parts = [self._update(records.slice(at, at + BATCH)) for at in every]
        timeline = np.concatenate(parts) if len(parts) != 1 else parts[0]
        if self.keep_timeline:
            self._timeline.append(timeline)
        return timeline

    def _update(self, records: Records) -> np.ndarray:
        ev = Events.of(records)
        step = ev.up.view(np.int8) * np.int8(2) - np.int8(1)  # +1 up, -1 down
        ignored = self._flag_problems(records, ev, step)
        self._add_sizes(distinct_sizes(ev.size))
        dropped = self._count(size_ids(ev.size, self.sizes), step)
        if len(dropped):
            self._report(UNMATCHED_DEALLOC, ev, dropped, records)
        # Bytes in use after each record; the few events that changed nothing are undone.
        change = _byte_change(records)
        ignored = np.concatenate([ignored, dropped]) if len(dropped) else ignored
        if len(ignored):
            nominal = np.where(ev.up[ignored], 1, -1) * ev.size[ignored].astype(np.int64)
            np.subtract.at(change, ev.records_of(ignored), nominal)
        timeline = np.cumsum(change) + self.in_use
        if len(timeline):
            top = int(np.argmax(timeline))
            if timeline[top] > self.peak_usage:
                self.peak_usage = int(timeline[top])
                self.peak_record = self.records + top
            self.in_use = int(timeline[-1])
        self.records += len(records)
        return timeline

    def _flag_problems(self, records: Records, ev: Events, step: np.ndarray) -> np.ndarray:
        """Count size-0 and oversize allocations. The oversize ones, and the deallocations
        that free them, are neutralised in `step` and returned."""
        # One pass finds both: size - 1 wraps round to the largest value for size 0.
        top = (1 << 32) - 1
        limit = np.uint32(min(self._heap_limit or top, top))
        odd = np.flatnonzero((ev.size - np.uint32(1)) >= limit)
        up = ev.up[odd]
        self._report(ZERO_SIZE_ALLOC, ev, odd[up & (ev.size[odd] == 0)], records)
        if self._heap_limit is None:
            return np.empty(0, np.int64)
        big = odd[ev.size[odd] > self._heap_limit]
        if not len(big):
            return big
        up = ev.up[big]
        self._report(OVERSIZE_ALLOC, ev, big[up], records)
        refused = big[up | self._frees_refused(ev.size[big], up)]
        step[refused] = 0
        return refused

    def _frees_refused(self, sizes: np.ndarray, up: np.ndarray) -> np.ndarray:
        """Which of these oversize events are deallocations of a refused allocation.

        A deallocation larger than the heap with no refused block of its size left is
        still an unmatched deallocation: only the refused allocation's own end is not a
        symptom of lost records (or of the firmware quirk).
        """
        table = np.union1d(self._refused_sizes, sizes).astype(np.uint32)
        start = np.zeros(len(table), np.int64)
        start[np.searchsorted(table, self._refused_sizes)] = self._refused_live
        ids = np.searchsorted(table, sizes)
        order = np.argsort(ids, kind="stable")
        counts = np.bincount(ids, minlength=len(table))
        steps = np.where(up, 1, -1)[order]
        after, before = clamped_walk(counts, steps, start)
        frees = np.empty(len(sizes), bool)
        frees[order] = (steps < 0) & (after < before)
        present = counts > 0
        start[present] = after[group_heads(counts)[present] + counts[present] - 1]
        self._refused_sizes, self._refused_live = table[start > 0], start[start > 0]
        return frees

    def _report(self, kind: str, ev: Events, where: np.ndarray, records: Records) -> None:
        if not len(where):
            return
        sizes = ev.size[where]
        offsets = records.offset[ev.records_of(where)]
        for size in np.unique(sizes).tolist():
            hit = sizes == size
            self.problems.add(kind, int(offsets[hit].min()), int(hit.sum()), int(size))

    def _add_sizes(self, found: np.ndarray) -> None:
        merged = np.union1d(self.sizes, found).astype(np.uint32)
        if len(merged) == len(self.sizes):
            return
        place = np.searchsorted(merged, self.sizes)
        for name in ("live", "max_load", "total"):
            grown = np.zeros(len(merged), np.int64)
            grown[place] = getattr(self, name)
            setattr(self, name, grown)
        self.sizes = merged

    def _count(self, ids: np.ndarray, step: np.ndarray) -> np.ndarray:
        """Update live/max/total per size; returns the unmatched deallocation events.

        Events are grouped by size with a radix sort. Within a size the live
        count is the walk W from the carried-in count, floored at zero:
        x_t = W_t - min(0, min W_k<=t); each unmatched deallocation lowers
        that floor by one.
        """
        nsizes = len(self.sizes)
        order = np.argsort(ids.astype(_key_dtype(nsizes)), kind="stable")
        counts = np.bincount(ids, minlength=nsizes)
        steps = step[order]
        if nsizes > _LOOP_SIZES:
            return self._count_vectorised(order, counts, steps)
        unmatched = []
        heads = group_heads(counts)
        for g in np.flatnonzero(counts).tolist():
            mine = steps[heads[g] : heads[g] + counts[g]]
            # A batch's walk fits in int32, which numpy sums about 3x faster than int64.
            walk = np.cumsum(mine, dtype=np.int32)
            live = int(self.live[g])
            self.total[g] += np.count_nonzero(mine > 0)
            if live + int(walk.min()) >= 0:  # never below zero: nothing to clamp
                self.max_load[g] = max(int(self.max_load[g]), live + int(walk.max()))
                self.live[g] = live + int(walk[-1])
                continue
            walk = walk.astype(np.int64) + live
            floor = np.minimum.accumulate(walk)
            np.minimum(floor, 0, out=floor)
            walk -= floor
            self.max_load[g] = max(int(self.max_load[g]), int(walk.max()))
            self.live[g] = walk[-1]
            if floor[-1] < 0:
                drops = np.flatnonzero(np.diff(floor, prepend=0) < 0)
                unmatched.append(order[heads[g] + drops])
        return np.sort(np.concatenate(unmatched)) if unmatched else np.empty(0, np.int64)

    def _count_vectorised(
        self, order: np.ndarray, counts: np.ndarray, steps: np.ndarray
    ) -> np.ndarray:
        """The same count for very many sizes (a corrupted trace), without a loop per size."""
        after, before = clamped_walk(counts, steps, self.live)
        nonempty = counts > 0
        heads = group_heads(counts)[nonempty]
        peaks = np.maximum.reduceat(after, heads)
        self.max_load[nonempty] = np.maximum(self.max_load[nonempty], peaks)
        self.total += np.bincount(
            np.repeat(np.arange(len(counts)), counts)[steps > 0], minlength=len(counts)
        )
        self.live[nonempty] = after[heads + counts[nonempty] - 1]
        return np.sort(order[(steps < 0) & (after == before)])


def percent_of_heap(used: int, heap_size: int | None) -> float:
    """`used` bytes as a share of a heap of `heap_size` bytes; 0 without a heap size."""
    return used / heap_size * 100.0 if heap_size else 0.0


# Up to this many distinct sizes a loop over sizes is fastest: each size's
# events are one contiguous slice after the sort. Past it (only a corrupted
# trace has that many sizes) the per-size overhead would dominate.
_LOOP_SIZES = 1024


def _key_dtype(groups: int) -> type:
    """The narrowest sort key: numpy's stable sort is a radix sort for 8 and 16 bits."""
    if groups <= 1 << 8:
        return np.uint8
    return np.uint16 if groups <= 1 << 16 else np.int32


# Per kind, the sign with which the first size leaves the heap: alloc adds it.
_FIRST_SIGN = np.array([-1, 1, 1, 1], np.int64)


def _byte_change(records: Records) -> np.ndarray:
    """Bytes each record adds to the heap if every event counts: new_size − sign·size."""
    change = records.new_size.astype(np.int64)
    change -= records.size * _FIRST_SIGN[records.kind]
    return change
