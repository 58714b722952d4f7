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
        counted = self._flag_problems(records, ev)
        self._add_sizes(_distinct(ev.size))
        ids = _ids(ev.size, self.sizes)
        change = self._count(ids, ev.up, counted, records, ev)
        # Bytes in use after each record: the per-event change summed per record.
        weights = change * ev.size.astype(np.int64)
        per_record = np.bincount(ev.record, weights=weights, minlength=len(records))
        timeline = np.cumsum(per_record.astype(np.int64)) + self.in_use
        if len(timeline):
            top = int(np.argmax(timeline))
            if timeline[top] > self.peak_usage:
                self.peak_usage = int(timeline[top])
                self.peak_record = self.records + top
            self.in_use = int(timeline[-1])
        self.records += len(records)
        self._timeline.append(timeline)
        return timeline

    def _flag_problems(self, records: Records, ev: _Events) -> np.ndarray:
        """Count size-0 and oversize allocations; returns which events count."""
        counted = np.ones(len(ev.size), bool)
        zero = ev.up & (ev.size == 0)
        self._report(ZERO_SIZE_ALLOC, ev, zero, records)
        if self.heap_size is not None:
            oversize = ev.up & (ev.size > self.heap_size)
            self._report(OVERSIZE_ALLOC, ev, oversize, records)
            counted &= ~oversize
        return counted

    def _report(self, kind: str, ev: _Events, mask: np.ndarray, records: Records) -> None:
        if not mask.any():
            return
        where = np.flatnonzero(mask)
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

    def _count(self, ids: np.ndarray, up: np.ndarray, counted: np.ndarray,
               records: Records, ev: _Events) -> np.ndarray:
        """Update live/max/total per size; returns each event's effective ±1/0 change."""
        nsizes = len(self.sizes)
        key = ids.astype(np.uint16 if nsizes <= 1 << 16 else np.int32)
        order = np.argsort(key, kind="stable")  # a radix sort for 16-bit keys
        delta = np.where(up, 1, -1).astype(np.int64)
        delta[~counted] = 0
        d = delta[order]
        group = ids[order]
        counts = np.bincount(ids, minlength=nsizes)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        # Per-group prefix sums S_t, and the running minimum of S within each group.
        s = np.cumsum(d)
        before = np.concatenate([[0], s])[starts]  # sum of earlier groups
        s -= np.repeat(before, counts)
        spread = 2 * len(d) + 2
        offset = (nsizes - group).astype(np.int64) * spread
        running_min = np.minimum.accumulate(s + offset) - offset
        np.minimum(running_min, 0, out=running_min)
        # The live count floored at zero: x_t = S_t + max(x0, -min(0, min S_k<=t)).
        x0 = np.repeat(self.live, counts)
        live = s + np.maximum(x0, -running_min)
        previous = np.empty_like(live)
        previous[1:] = live[:-1]
        previous[starts[counts > 0]] = self.live[counts > 0]
        change_sorted = live - previous
        unmatched = (d < 0) & (change_sorted == 0)
        if unmatched.any():
            mask = np.zeros(len(ids), bool)
            mask[order[unmatched]] = True
            self._report(UNMATCHED_DEALLOC, ev, mask, records)
        nonempty = counts > 0
        if nonempty.any():
            peaks = np.maximum.reduceat(live, starts[nonempty])
            self.max_load[nonempty] = np.maximum(self.max_load[nonempty], peaks)
            last = starts[nonempty] + counts[nonempty] - 1
            self.live[nonempty] = live[last]
        self.total += np.bincount(ids, weights=(delta > 0), minlength=nsizes).astype(np.int64)
        change = np.empty_like(change_sorted)
        change[order] = change_sorted
        return change
