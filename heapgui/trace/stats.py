"""Heap statistics as drone counts them, plus what drone cannot show.

Per exact size: the live count, its maximum (the *max load*) and the total of
allocations; grow and shrink count as a deallocation of the old size followed
by an allocation of the new one. On top of drone: the true simultaneous peak
and the bytes in use after every record (the load timeline).

Where drone stops on a corrupted trace, these statistics keep going: a
deallocation that finds no live block of its size is counted and ignored, and
an allocation larger than the heap is counted and left out of the figures so
one garbage record cannot make every layout impossible.

All of it is vectorised: events are grouped by size with a radix sort, and each
size's live count is a clamped cumulative sum computed with running minima.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heapgui.trace.problems import (
    OVERSIZE_ALLOC,
    UNMATCHED_DEALLOC,
    ZERO_SIZE_ALLOC,
    ProblemLog,
)
from heapgui.trace.records import ALLOC, DEALLOC, GROW, Records

_LUT_LIMIT = 1 << 16  # sizes below this map to ids through a lookup table


@dataclass(frozen=True)
class SizeRow:
    size: int
    max_load: int
    total: int
    live: int

    @property
    def peak_bytes(self) -> int:
        return self.size * self.max_load


@dataclass
class _Events:
    """Each record as one or two (size, ±1) events; grow/shrink give two."""

    size: np.ndarray  # uint32
    up: np.ndarray  # bool: allocation (+1) or deallocation (-1)
    record: np.ndarray  # int64 position of the record in its batch

    @classmethod
    def of(cls, records: Records) -> _Events:
        kind = records.kind
        n = len(kind)
        double = kind >= GROW
        # First event of record i sits at i + (number of double records before i).
        first = np.arange(n, dtype=np.int64)
        first[1:] += np.cumsum(double[:-1], dtype=np.int64)
        m = n + int(np.count_nonzero(double))
        size = np.empty(m, np.uint32)
        up = np.empty(m, bool)
        record = np.empty(m, np.int64)
        size[first] = records.size
        up[first] = kind == ALLOC
        record[first] = np.arange(n)
        second = first[double] + 1
        size[second] = records.new_size[double]
        up[second] = True
        record[second] = np.flatnonzero(double)
        return cls(size, up, record)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values without sorting all of them (sizes are few)."""
    if len(values) == 0:
        return np.empty(0, np.uint32)
    small = values < _LUT_LIMIT
    present = np.flatnonzero(np.bincount(values[small], minlength=1)).astype(np.uint32)
    if small.all():
        return present
    return np.union1d(present, np.unique(values[~small])).astype(np.uint32)


def _ids(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index of each value in the sorted `table` (every value must be present)."""
    if len(table) and int(table[-1]) < _LUT_LIMIT:
        lut = np.zeros(int(table[-1]) + 1, np.int32)
        lut[table] = np.arange(len(table), dtype=np.int32)
        return lut[values]
    return np.searchsorted(table, values).astype(np.int32)


class Statistics:
    """Running statistics; `update` takes records batch after batch (live capture)."""

    def __init__(self, heap_size: int | None = None) -> None:
        self.heap_size = heap_size
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

    @classmethod
    def of(cls, records: Records, heap_size: int | None = None) -> Statistics:
        stats = cls(heap_size)
        stats.update(records)
        return stats

    # -- results -----------------------------------------------------------

    @property
    def max_usage(self) -> int:
        """drone's "Maximum memory usage": Σ size × max load, an upper bound."""
        return int(np.dot(self.sizes.astype(np.int64), self.max_load))

    @property
    def timeline(self) -> np.ndarray:
        """Bytes in use after each record, as int64."""
        if len(self._timeline) != 1:
            joined = np.concatenate(self._timeline) if self._timeline else np.empty(0, np.int64)
            self._timeline = [joined]
        return self._timeline[0]

    def rows(self) -> list[SizeRow]:
        """One row per size that was ever allocated, ascending, as drone lists them."""
        keep = np.flatnonzero(self.total > 0)
        return [
            SizeRow(int(self.sizes[i]), int(self.max_load[i]), int(self.total[i]),
                    int(self.live[i]))
            for i in keep
        ]

    def percent_of_heap(self, used: int) -> float:
        return used / self.heap_size * 100.0 if self.heap_size else 0.0

    # -- accumulation ------------------------------------------------------

    def update(self, records: Records) -> np.ndarray:
        """Fold a batch of records in; returns the timeline of this batch."""
        ev = _Events.of(records)
        step = np.where(ev.up, 1, -1).astype(np.int8)
        self._flag_problems(records, ev, step)
        self._add_sizes(_distinct(ev.size))
        dropped = self._count(_ids(ev.size, self.sizes), step)
        if len(dropped):
            self._report(UNMATCHED_DEALLOC, ev, dropped, records)
        # Bytes in use after each record; the few events that changed nothing are undone.
        change = _byte_change(records)
        ignored = np.flatnonzero(step == 0)
        ignored = np.concatenate([ignored, dropped]) if len(dropped) else ignored
        if len(ignored):
            nominal = np.where(ev.up[ignored], 1, -1) * ev.size[ignored].astype(np.int64)
            np.subtract.at(change, ev.record[ignored], nominal)
        timeline = np.cumsum(change) + self.in_use
        if len(timeline):
            top = int(np.argmax(timeline))
            if timeline[top] > self.peak_usage:
                self.peak_usage = int(timeline[top])
                self.peak_record = self.records + top
            self.in_use = int(timeline[-1])
        self.records += len(records)
        self._timeline.append(timeline)
        return timeline

    def _flag_problems(self, records: Records, ev: _Events, step: np.ndarray) -> None:
        """Count size-0 and oversize allocations; oversize ones are neutralised in `step`."""
        self._report(ZERO_SIZE_ALLOC, ev, np.flatnonzero(ev.up & (ev.size == 0)), records)
        if self.heap_size is not None:
            oversize = np.flatnonzero(ev.up & (ev.size > self.heap_size))
            self._report(OVERSIZE_ALLOC, ev, oversize, records)
            step[oversize] = 0

    def _report(self, kind: str, ev: _Events, where: np.ndarray, records: Records) -> None:
        if not len(where):
            return
        sizes = ev.size[where]
        offsets = records.offset[ev.record[where]]
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

        Within one size the live count is a walk from the carried-in count x0
        that is floored at zero: x_t = W_t - min(0, min W_k<=t), W the plain
        cumulative sum from x0. Lifting each size's W by a per-size step keeps
        one running minimum over all sizes from leaking between them.
        """
        nsizes = len(self.sizes)
        order = np.argsort(ids.astype(np.uint16 if nsizes <= 1 << 16 else np.int32),
                           kind="stable")  # a radix sort for 16-bit keys
        d = step[order]
        counts = np.bincount(ids, minlength=nsizes)
        ends = np.cumsum(counts)
        starts = ends - counts
        s = np.cumsum(d, dtype=np.int64)
        before = np.concatenate([[0], s])[starts]  # the sum over earlier sizes
        big = 2 * (len(d) + int(self.live.max(initial=0))) + 2
        lift = np.arange(nsizes, dtype=np.int64) * big
        lowered = s - np.repeat(before - self.live + lift, counts)  # W minus the lift
        walk = lowered + np.repeat(lift, counts)
        live = np.maximum(walk, lowered - np.minimum.accumulate(lowered))
        nonempty = counts > 0
        if not nonempty.any():
            return np.empty(0, np.int64)
        last = ends[nonempty] - 1
        peaks = np.maximum.reduceat(live, starts[nonempty])
        self.max_load[nonempty] = np.maximum(self.max_load[nonempty], peaks)
        self.total += np.bincount(ids[step > 0], minlength=nsizes)
        clamped = live[last] - walk[last]  # unmatched deallocations per size
        self.live[nonempty] = live[last]
        if not clamped.any():
            return np.empty(0, np.int64)
        floor = live - walk  # grows by one at each unmatched deallocation
        grew = np.empty(len(floor), bool)
        grew[1:] = floor[1:] > floor[:-1]
        grew[starts[nonempty]] = floor[starts[nonempty]] > 0
        return np.sort(order[grew])


# Per kind, the sign with which the first size leaves the heap: alloc adds it.
_FIRST_SIGN = np.array([-1, 1, 1, 1], np.int64)


def _byte_change(records: Records) -> np.ndarray:
    """Bytes each record adds to the heap if every event counts: new_size − sign·size."""
    change = records.new_size.astype(np.int64)
    change -= records.size * _FIRST_SIGN[records.kind]
    return change
