"""Statistics over a window of records A..B, as heaptrack's "filter in on selection".

A window does not start from an empty heap: the blocks live at A are its
starting load. So a window's statistics are the trace's own statistics carried
up to A, with the window's counters then restarted: *Max Load* starts at the
live count at A and takes the most blocks of a size live at once up to B;
*Total Allocations* counts only the allocations made in the window (a grow or
shrink is an allocation of its new size); the simultaneous peak starts at the
bytes in use at A. Over the whole trace this is plain `Statistics`.

Two ways to get them, both driving `Statistics` itself so that every rule about
damaged records (unmatched deallocations, allocations larger than the heap) is
the same one:

- `WindowCounter`, a consumer for a trace streamed through (the command line):
  memory independent of the trace's length;
- `WindowIndex`, for records held in memory (the window): one pass up front,
  then any window in time independent of its length. Each block of records
  keeps its starting state and what it adds to a window covering it whole
  (per-size highest live count, allocations, peak), so a query only counts
  the records of the two blocks its ends fall in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from heapgui.errors import HeapguiError
from heapgui.trace.problems import ProblemLog
from heapgui.trace.records import Records
from heapgui.trace.stats import SizeRow, Statistics

BLOCK = 1 << 16  # records per block of a WindowIndex: a query counts at most two blocks


class WindowStatistics(Statistics):
    """Statistics of records [start, stop) of a trace, starting from the load at `start`."""

    start = 0
    stop = 0

    def rows(self) -> list[SizeRow]:
        """Every size allocated in the window or live at its start, ascending.

        A size with blocks live at A and none allocated after is still part of
        the window's load (a layout for the window must hold those blocks).
        """
        keep = np.flatnonzero((self.total > 0) | (self.max_load > 0))
        return [
            SizeRow(
                int(self.sizes[i]), int(self.max_load[i]), int(self.total[i]), int(self.live[i])
            )
            for i in keep
        ]


def open_window(stats: Statistics) -> WindowStatistics:
    """A window starting where `stats` has counted to: the state carried, the counters restarted.

    `stats` must be counted without its timeline: a window is about per-size
    figures and peaks, and copying a long trace's timeline would cost more than them.
    """
    if stats.keep_timeline:
        raise ValueError("a window opens on statistics counted without a timeline")
    window = copy.deepcopy(stats)
    window.__class__ = WindowStatistics  # the same state, its rows read as a window's
    window.max_load = window.live.copy()
    window.total = np.zeros_like(window.live)
    window.peak_usage = window.in_use
    window.peak_record = window.records - 1  # the load left by the record before the window
    window.problems = ProblemLog()
    window.start = window.stop = window.records
    return window


def check_window(
    start: int | None, stop: int | None, count: int, source: str, name: str = "the window"
) -> tuple[int, int]:
    """[start, stop) with open ends filled in, or a one-line error naming the trace."""
    first = 0 if start is None else start
    last = count if stop is None else stop
    said = f"{name} {_written(start)}:{_written(stop)}"
    if first < 0 or last < 0:
        raise HeapguiError(f"{source}: {said}: record indices start at 0")
    if max(first, last) > count:
        raise HeapguiError(f"{source}: {said} goes beyond the trace's {count} records")
    if first > last:
        raise HeapguiError(f"{source}: {said} ends before it starts")
    return first, last


def _written(end: int | None) -> str:
    return "" if end is None else str(end)


class WindowCounter:
    """Counts one window of a trace streamed past it in chunks (a `stream_trace` consumer).

    Counting stops at `stop`: records after it go by unread. `window` is the
    result once the stream has passed `stop` (or ended; `check_window` then
    says whether the window was inside the trace). Each of `feeds` (consumers
    of records, like the timeline layout's event spool) gets the window as a
    trace of its own: the starting load as allocations, then the window's records.
    """

    def __init__(
        self,
        start: int,
        stop: int | None,
        heap_size: int | None,
        feeds: Sequence[Callable[[Records], None]] = (),
    ) -> None:
        self.start, self.stop, self.feeds = start, stop, feeds
        self._before = Statistics(heap_size, keep_timeline=False)
        self._window: WindowStatistics | None = None
        self.seen = 0  # records streamed past, counted or not
        if start == 0:
            self._open()

    def _open(self) -> None:
        self._window = open_window(self._before)
        self._feed(starting_load(self._before))

    def _feed(self, records: Records) -> None:
        for feed in self.feeds:
            feed(records)

    def __call__(self, records: Records) -> None:
        at, self.seen = self.seen, self.seen + len(records)
        if self._window is None:
            self._before.update(records.slice(0, max(self.start - at, 0)))
            if self.seen < self.start:
                return
            self._open()
        assert self._window is not None
        end = len(records) if self.stop is None else min(self.stop - at, len(records))
        begin = max(self.start - at, 0)
        if end > begin:
            inside = records.slice(begin, end)
            self._window.update(inside)
            self._window.stop = self._window.records
            self._feed(inside)

    @property
    def window(self) -> WindowStatistics:
        """The window's statistics; one starting at the trace's end when it starts beyond it."""
        if self._window is None:
            return open_window(self._before)
        return self._window


class WindowIndex:
    """Any window of records held in memory, in time independent of the window's length."""

    def __init__(self, records: Records, heap_size: int | None, block: int = BLOCK) -> None:
        self.records, self.block = records, block
        stats = Statistics(heap_size, keep_timeline=False)
        # Per block: its starting state, then what it adds to a window covering it whole.
        self._starts: list[Statistics] = []
        self._problems: list[ProblemLog] = []
        size_parts, max_parts, total_parts = [], [], []
        peaks, peak_records = [], []
        for at in range(0, len(records), block):
            self._starts.append(_compact(stats))
            window = open_window(stats)
            window.update(records.slice(at, at + block))
            touched = window.total > 0  # only an allocation raises a size above its start
            size_parts.append(window.sizes[touched])
            max_parts.append(window.max_load[touched])
            total_parts.append(window.total[touched])
            peaks.append(window.peak_usage)
            peak_records.append(window.peak_record)
            self._problems.append(window.problems)
            stats = window
        self.end = stats  # the state after the last record
        self.sizes = stats.sizes.copy()  # every size in the trace
        self._heads = np.cumsum([0] + [len(p) for p in size_parts])
        self._ids = _ids_in(self.sizes, _joined(size_parts, np.uint32))
        self._max = _joined(max_parts, np.int64)
        self._total = _joined(total_parts, np.int64)
        self._peak = np.array(peaks, np.int64)
        self._peak_record = np.array(peak_records, np.int64)

    def __len__(self) -> int:
        return len(self.records)

    def window(self, start: int | None, stop: int | None) -> WindowStatistics:
        """Statistics of records [start, stop); None leaves that end open."""
        start, stop = check_window(start, stop, len(self.records), "trace")
        first = start // self.block
        window = open_window(self._state_at(first, start))
        edge = min(stop, (first + 1) * self.block)
        window.update(self.records.slice(start, edge))
        if stop > edge:
            window = self._across(window, first + 1, stop // self.block, stop)
        window.start, window.stop = start, stop
        return window

    def _state_at(self, block: int, record: int) -> Statistics:
        """The trace's state after the records before `record`, counted from its block's start."""
        if block == len(self._starts):  # the end of a trace of whole blocks
            return self.end
        state = copy.deepcopy(self._starts[block])
        state.update(self.records.slice(block * self.block, record))
        return state

    def _across(
        self, window: WindowStatistics, first: int, last: int, stop: int
    ) -> WindowStatistics:
        """`window`, which ends at block `first`'s start, carried over whole blocks
        [first, last) from their summaries, then counted on to `stop`."""
        highest = np.zeros(len(self.sizes), np.int64)
        total = np.zeros(len(self.sizes), np.int64)
        ids = _ids_in(self.sizes, window.sizes)
        highest[ids], total[ids] = window.max_load, window.total
        problems = window.problems
        lo, hi = self._heads[first], self._heads[last]
        np.maximum.at(highest, self._ids[lo:hi], self._max[lo:hi])
        np.add.at(total, self._ids[lo:hi], self._total[lo:hi])
        peak, peak_record = window.peak_usage, window.peak_record
        if last > first:
            top = first + int(np.argmax(self._peak[first:last]))  # the earliest of equal peaks
            if self._peak[top] > peak:
                peak, peak_record = int(self._peak[top]), int(self._peak_record[top])
        for log in self._problems[first:last]:
            problems.merge(log)
        # The rest is counted from the last block's start, carrying the figures so far.
        tail = open_window(self._state_at(last, last * self.block))
        tail = _on_table(tail, self.sizes)
        tail.max_load = np.maximum(highest, tail.live)
        tail.total = total
        tail.peak_usage, tail.peak_record = peak, peak_record
        tail.problems = problems
        tail.update(self.records.slice(last * self.block, stop))
        return tail


def starting_load(stats: Statistics) -> Records:
    """The blocks live in `stats` as allocations: fed before a window's records, they give
    any consumer of records (the timeline layout's events) the window's starting load."""
    counts = stats.live[stats.live > 0]
    sizes = np.repeat(stats.sizes[stats.live > 0], counts)
    return Records.build(
        np.zeros(len(sizes)), sizes, np.zeros(len(sizes)), np.zeros(len(sizes)), stats.records
    )


def _compact(stats: Statistics) -> Statistics:
    """A copy of `stats`' state holding only the sizes with live blocks (snapshots stay small)."""
    return _on_table(copy.deepcopy(stats), stats.sizes[stats.live > 0])


def _on_table(stats: Statistics, table: np.ndarray) -> Statistics:
    """`stats` with its per-size columns moved onto the sorted size `table`.

    Sizes left out must have nothing in any column that matters: no live block
    (a compact snapshot) or not being in the old table at all (a wider one).
    """
    mine = np.isin(stats.sizes, table)
    ids = _ids_in(table, stats.sizes[mine])
    for name in ("live", "max_load", "total"):
        column = np.zeros(len(table), np.int64)
        column[ids] = getattr(stats, name)[mine]
        setattr(stats, name, column)
    stats.sizes = table.astype(np.uint32)
    return stats


def _ids_in(table: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    return np.searchsorted(table, sizes).astype(np.int64)


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)
