"""A trace's block-taking events on disk, for the timeline layout of traces too long to hold.

The timeline optimizer (heapgui.layout.timeline) asks a trace for a few
things, each one pass over its events in order: every class's peak, the
busiest moments, the live counts at given moments and the exact peaks of a
few class ranges. Held in memory as `_ClassEvents` does, that is about ten
bytes an event; here each event is one 32-bit code (its size's number and
whether it takes or frees a block) in an anonymous temporary file, written as
the trace streams by and read back in chunks for every pass. Memory is a
chunk and a few arrays per size, whatever the length.

The events kept are exactly `_ClassEvents`' own: size-0 events and
deallocations that match no live block of their size are dropped as they
come. The heap size is applied when the spool is read (`events`): with one,
every event of a size larger than the heap is dropped, since its allocations
are left out and its deallocations then match nothing.
"""

from __future__ import annotations

import tempfile
import weakref
from collections.abc import Iterator, Sequence

import numpy as np

from heapgui.errors import HeapguiError
from heapgui.layout.pools import WORD_SIZE
from heapgui.trace.events import (
    Events,
    distinct_sizes,
    drop_unmatched,
    largest_first,
    size_ids,
)
from heapgui.trace.records import Records

READ_EVENTS = 1 << 19  # events per chunk read back: 2 MB of codes


class ClassEventSpool:
    """Collects one trace's events chunk after chunk (a `stream_trace` consumer)."""

    def __init__(self) -> None:
        try:
            self._file = tempfile.TemporaryFile(prefix="heapgui-events-")
        except OSError as exc:
            raise _unwritable(exc) from None
        # Closed when the spool is dropped, if not before: the file has no name to leave behind.
        self._close = weakref.finalize(self, self._file.close)
        self.sizes = np.empty(0, np.uint32)  # each size's number is its place here
        self._live = np.empty(0, np.int64)  # live blocks per size, for matching deallocations
        self.kept = np.empty(0, np.int64)  # events written per size
        self.count = 0

    def __call__(self, records: Records) -> None:
        ev = Events.of(records)
        self._number(distinct_sizes(ev.size))
        number = size_ids(ev.size, np.sort(self.sizes))
        number = np.argsort(self.sizes, kind="stable")[number]
        step = np.where(ev.up, 1, -1).astype(np.int8)
        step[ev.size == 0] = 0
        drop_unmatched(number, step, self._live)
        keep = step != 0
        codes = number[keep].astype(np.uint32) * np.uint32(2) + (step[keep] > 0)
        self.kept += np.bincount(number[keep], minlength=len(self.sizes))
        self._write(codes)
        self.count += len(codes)

    def _write(self, codes: np.ndarray) -> None:
        try:
            self._file.write(codes.tobytes())
        except OSError as exc:
            raise _unwritable(exc) from None

    def _number(self, found: np.ndarray) -> None:
        """Give sizes seen for the first time the next numbers."""
        new = np.setdiff1d(found, self.sizes, assume_unique=True)
        if len(new):
            self.sizes = np.concatenate([self.sizes, new]).astype(np.uint32)
            self._live = np.concatenate([self._live, np.zeros(len(new), np.int64)])
            self.kept = np.concatenate([self.kept, np.zeros(len(new), np.int64)])

    def __enter__(self) -> ClassEventSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Give the disk space back now."""
        self._close()

    def events(self, heap_size: int | None) -> StreamedClassEvents:
        self._file.flush()
        return StreamedClassEvents(self, heap_size)

    def read(self) -> Iterator[np.ndarray]:
        """The codes, chunk after chunk, from the start."""
        self._file.seek(0)
        while True:
            codes = np.fromfile(self._file, np.uint32, READ_EVENTS)
            if not len(codes):
                return
            yield codes


class StreamedClassEvents:
    """`heapgui.layout.timeline._ClassEvents` over a spool: the same answers, pass by pass."""

    def __init__(self, spool: ClassEventSpool, heap_size: int | None) -> None:
        self._spool = spool
        counted = spool.kept > 0
        if heap_size is not None:
            counted &= spool.sizes <= heap_size
        self._counted = counted
        aligned = -(-spool.sizes.astype(np.int64) // WORD_SIZE) * WORD_SIZE
        self._aligned_of = aligned
        self.aligned = np.unique(aligned[counted])
        # Per code (size number × 2 + taking a block): its class, -1 if not counted.
        self._class_of_code = np.empty(0, np.int32)
        self._step_of_code = np.tile(np.array([-1, 1], np.int8), len(spool.sizes))
        self.class_peak = np.zeros(0, np.int64)

    def _chunks(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(position of the first event, class, ±1) of the counted events, chunk after chunk.

        Classes come as uint16 when they fit: a stable sort on them is a radix sort."""
        every = bool(self._counted.all())
        lut = self._class_of_code
        narrow = len(self.class_peak) <= 1 << 16
        at = 0
        for codes in self._spool.read():
            if not every:
                codes = codes[lut[codes] >= 0]
            cls = lut[codes]
            cls = cls.astype(np.uint16) if narrow else cls
            step = self._step_of_code[codes]
            if len(cls):
                yield at, cls, step
            at += len(cls)

    def bind(self, classes: np.ndarray) -> None:
        """Number the events by class, and find each class's peak and its first moment."""
        n = len(classes)
        class_of = np.full(len(self._spool.sizes), -1, np.int32)
        class_of[self._counted] = size_ids(self._aligned_of[self._counted], classes)
        self._class_of_code = np.repeat(class_of, 2)
        self.class_peak = np.zeros(n, np.int64)
        self.class_peak_at = np.zeros(n, np.int64)
        live = np.zeros(n, np.int64)
        for at, cls, step in self._chunks():
            order = np.argsort(cls, kind="stable")
            counts = np.bincount(cls, minlength=n)
            walk = np.cumsum(step[order], dtype=np.int64)
            heads = np.cumsum(counts) - counts
            for k in np.flatnonzero(counts).tolist():
                seg = walk[heads[k] : heads[k] + counts[k]]
                seg = seg - (walk[heads[k] - 1] if heads[k] else 0) + live[k]
                best = int(np.argmax(seg))
                if seg[best] > self.class_peak[k]:
                    self.class_peak[k] = seg[best]
                    self.class_peak_at[k] = at + int(order[heads[k] + best])
                live[k] = seg[-1]

    def busiest(self, classes: np.ndarray, count: int) -> np.ndarray:
        """The moments `_ClassEvents.busiest` picks: the largest totals, by blocks and by
        bytes, at the ends of runs of allocations (ties to the earliest)."""
        tops = (_Top(count), _Top(count))
        totals = [0, 0]  # blocks and bytes before the held event
        held: tuple[np.ndarray, np.ndarray] | None = None  # a chunk's last event: is it an end?
        last = 0
        for at, cls, step in self._chunks():
            if held is not None:
                at, cls, step = at - 1, np.append(held[0], cls), np.append(held[1], step)
            walks = (
                np.cumsum(step, dtype=np.int64),
                np.cumsum(step * classes[cls], dtype=np.int64),
            )
            ends = np.flatnonzero((step[:-1] > 0) & (step[1:] < 0))
            for top, walk, total in zip(tops, walks, totals, strict=True):
                top.offer(at + ends, walk[ends] + total)
            if len(step) > 1:
                totals = [total + int(walk[-2]) for walk, total in zip(walks, totals, strict=True)]
            held, last = (cls[-1:], step[-1:]), at + len(step) - 1
        if held is not None and held[1][0] > 0:  # the trace ends in the middle of a run
            grown = (totals[0] + 1, totals[1] + int(classes[held[0][0]]))
            for top, total in zip(tops, grown, strict=True):
                top.offer(np.array([last], np.int64), np.array([total], np.int64))
        if tops[0].offered <= count:  # no more ends than asked for: every end, once
            return tops[0].moments
        return np.concatenate([top.moments for top in tops])

    def live_at(self, moments: np.ndarray, n: int) -> np.ndarray:
        out = np.zeros((len(moments), n), np.int64)
        order = np.argsort(moments, kind="stable")
        live = np.zeros(n, np.int64)
        next_one = 0
        for at, cls, step in self._chunks():
            done = 0
            while next_one < len(order) and moments[order[next_one]] < at + len(cls):
                upto = int(moments[order[next_one]]) - at + 1
                live += np.bincount(cls[done:upto], step[done:upto], minlength=n).astype(np.int64)
                done = upto
                out[order[next_one]] = live
                next_one += 1
            live += np.bincount(cls[done:], step[done:], minlength=n).astype(np.int64)
        out[order[next_one:]] = live  # moments past the last event see the end
        return out

    def range_peaks(self, ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Each range's exact simultaneous peak and its first moment, in one pass."""
        sums = [0] * len(ranges)
        best = [(-1, 0)] * len(ranges)
        for at, cls, step in self._chunks():
            for r, (first, last) in enumerate(ranges):
                inside = (cls >= first) & (cls <= last)
                walk = np.cumsum(np.where(inside, step, 0), dtype=np.int64) + sums[r]
                top = int(np.argmax(walk))
                if walk[top] > best[r][0]:
                    best[r] = (int(walk[top]), at + top)
                sums[r] = int(walk[-1])
        return [(max(value, 0), at) for value, at in best]


def _unwritable(exc: OSError) -> HeapguiError:
    """Not the trace's fault: say which folder, and how to choose another."""
    return HeapguiError(
        f"{tempfile.gettempdir()}: cannot write the timeline layout's temporary event file "
        f"(4 bytes an event): {exc.strerror or exc}; set TMPDIR to a folder with room"
    )


class _Top:
    """The `count` largest values offered so far, ties to the earliest (largest_first)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.offered = 0
        self.moments = np.empty(0, np.int64)
        self.values = np.empty(0, np.int64)

    def offer(self, moments: np.ndarray, values: np.ndarray) -> None:
        self.offered += len(moments)
        moments = np.concatenate([self.moments, moments])
        values = np.concatenate([self.values, values])
        keep = largest_first(values, self.count)
        self.moments, self.values = moments[keep], values[keep]
