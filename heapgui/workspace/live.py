"""A running capture as the session holds it: records, statistics and chart series.

The capture worker computes the statistics, once, and sends a snapshot of
them with every batch (`CaptureUpdate.stats`) together with the batch's load
timeline and a view of all records so far (`captured`: the worker appends to
a `RecordBuffer` that doubles when full, so the copies of its growth happen
off the GUI thread); `LiveTrace.take` only keeps them. A view of the capture
so far costs nothing and stays valid while the capture goes on.

Charts get bounded series (`Envelope`): a redraw after an hour of capture
costs what it costs after a second. When the capture ends, `to_trace` makes
the whole thing an ordinary `Trace`, as if the heaptrace file had been opened
(with the capture's timestamps on top).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from heapgui.capture.session import CaptureCounters, CaptureSummary, CaptureUpdate
from heapgui.trace.curves import live_count_curve
from heapgui.trace.load import Trace
from heapgui.trace.problems import ProblemLog
from heapgui.trace.records import ALLOC, Records
from heapgui.trace.stats import Statistics

logger = logging.getLogger(__name__)

ENVELOPE_BUCKETS = 2048
"""Min/max pairs per live series: about 4096 points, a few per pixel of a wide chart."""


class Envelope:
    """A growing (x, y) series summarised as the minimum and maximum of buckets of samples.

    Buckets hold one sample until there are more than `buckets` of them, then
    neighbours merge pairwise, so the series never exceeds about twice
    `buckets` points and every spike stays visible. Adding is proportional to
    the new samples only.
    """

    def __init__(self, buckets: int = ENVELOPE_BUCKETS) -> None:
        self._buckets = buckets
        self._span = 1  # samples per bucket (the odd last bucket of a merge may hold fewer)
        self._x = np.empty(0, np.int64)  # x of each bucket's first sample
        self._lo = np.empty(0, np.int64)
        self._hi = np.empty(0, np.int64)
        self._tail_x = np.empty(0, np.int64)  # samples of the bucket being filled
        self._tail_y = np.empty(0, np.int64)

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.concatenate([self._tail_x, np.asarray(x, np.int64)])
        y = np.concatenate([self._tail_y, np.asarray(y, np.int64)])
        full = len(x) // self._span * self._span
        if full:
            block = y[:full].reshape(-1, self._span)
            self._x = np.concatenate([self._x, x[: full : self._span]])
            self._lo = np.concatenate([self._lo, block.min(axis=1)])
            self._hi = np.concatenate([self._hi, block.max(axis=1)])
        self._tail_x, self._tail_y = x[full:], y[full:]
        while len(self._x) > self._buckets:
            self._merge()

    def _merge(self) -> None:
        even = len(self._x) // 2 * 2
        odd = slice(even, None)  # an unpaired last bucket stays as it is
        self._x = np.concatenate([self._x[:even:2], self._x[odd]])
        self._lo = np.concatenate(
            [np.minimum(self._lo[:even:2], self._lo[1:even:2]), self._lo[odd]]
        )
        self._hi = np.concatenate(
            [np.maximum(self._hi[:even:2], self._hi[1:even:2]), self._hi[odd]]
        )
        self._span *= 2

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y to draw: each bucket as its minimum then its maximum, then the raw tail."""
        if self._span == 1:
            x, y = self._x, self._lo
        else:
            x = np.repeat(self._x, 2)
            y = np.column_stack([self._lo, self._hi]).ravel()
        return np.concatenate([x, self._tail_x]), np.concatenate([y, self._tail_y])


def live_counts_from(records: Records, size: int, start: int) -> tuple[np.ndarray, np.ndarray]:
    """`live_count_curve` for records that continue a trace with `start` live blocks of `size`.

    The curve floors at zero from an empty heap; `start` allocations put in
    front of the records start it at the count so far instead. Their points
    come before the records' first index and are dropped.
    """
    if start == 0:
        return live_count_curve(records, size)
    prefix = Records.build(
        np.full(start, ALLOC),
        np.full(start, size),
        np.zeros(start),
        np.zeros(start),
        first_index=records.first_index - start,
    )
    index, count = live_count_curve(Records.concat([prefix, records]), size)
    keep = index >= records.first_index
    return index[keep], count[keep]


class SizeTrack:
    """The live block count of one size after each record that changes it, as an envelope."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.count = 0
        self.envelope = Envelope()

    def add(self, records: Records, x: np.ndarray) -> None:
        index, count = live_counts_from(records, self.size, self.count)
        if len(index):
            self.envelope.add(x[index - records.first_index], count)
            self.count = int(count[-1])


class LiveTrace:
    """What a capture has brought so far; `Workspace.live` while one is shown.

    x values are target clock ticks when the stream has timestamps (decided
    on the first records: heapgui's probe setup turns them on, another
    debugger may not), else record indices. `stats` is the worker's latest
    snapshot: counted with the heap size the capture was started with (the
    config's, if one names it), which only decides which allocations are too
    large for the heap. The heap size shown is the workspace's.
    """

    def __init__(self, path: Path, fmt: str = "framed", core_clock: float | None = None) -> None:
        self.path = Path(path)
        self.format = fmt
        self.core_clock = core_clock
        self.stats = Statistics(keep_timeline=False)
        self.load = Envelope()
        self.tracks: dict[int, SizeTrack] = {}
        self.timed: bool | None = None  # undecided until the first records arrive
        self.peak_x: int | None = None
        self.counters: CaptureCounters | None = None
        self.summary: CaptureSummary | None = None
        self.core_records: list[int] = []
        """Drone Stream: records per buffer (core), in the order of `counters.fills`."""
        self._captured = Records.empty()
        self._captured.timestamp = np.empty(0, np.int64)  # the session dates every record

    @property
    def records(self) -> int:
        return len(self._captured)

    @property
    def finished(self) -> bool:
        return self.summary is not None

    def take(self, update: CaptureUpdate) -> None:
        """Keep an update (usually several merged) from the capture worker."""
        self.counters = update.counters
        if update.counters.format:
            self.format = update.counters.format  # a capture told "auto" has found it
        if update.summary is not None:
            self.summary = update.summary
        if update.stats is not None:
            self.stats = update.stats
        if update.captured is not None:
            self._captured = update.captured
        if update.cores is not None and len(update.cores):
            counts = np.bincount(update.cores, minlength=len(self.core_records))
            counts[: len(self.core_records)] += np.asarray(self.core_records, np.int64)
            self.core_records = counts.tolist()
        records = update.records
        if not len(records):
            return
        if self.timed is None:
            self.timed = update.counters.ticks > 0
        x = self._x(records)
        self.load.add(x, update.timeline)
        peak = self.stats.peak_record - records.first_index
        if 0 <= peak < len(records):
            self.peak_x = int(x[peak])
        for track in self.tracks.values():
            track.add(records, x)

    def track_sizes(self, sizes: list[int]) -> None:
        """Keep live-count series for `sizes` only; a new one covers all records so far."""
        self.tracks = {size: track for size, track in self.tracks.items() if size in sizes}
        missing = [size for size in sizes if size not in self.tracks]
        if not missing:
            return
        records = self._captured
        x = self._x(records)
        for size in missing:
            track = SizeTrack(size)
            if len(records):
                track.add(records, x)
            self.tracks[size] = track

    def layout_trace(self) -> Trace:
        """The capture so far for the pool layout: a view and a snapshot, nothing recounted.

        Its statistics have no timeline: the layout reads the records and the
        per-size figures only.
        """
        return Trace(str(self.path), self.format, self.captured_records(), self.stats)

    def to_trace(self) -> Trace:
        """The capture as an opened heaptrace file would be, with the capture's timestamps.

        The statistics are the worker's own, handed over with the last update
        (the session is closed then), timeline included. A worker that broke
        sent none: then, and only then, they are counted here.
        """
        records = self.captured_records()
        stats = self.stats if self.finished else Statistics.of(records, self.stats.heap_limit)
        problems = ProblemLog()
        if self.summary is not None:
            for problem in self.summary.problems:
                problems.add(problem.kind, problem.first_offset, problem.count, problem.size)
        else:
            problems.merge(stats.problems)
        return Trace(str(self.path), self.format, records, stats, problems)

    def captured_records(self) -> Records:
        """Everything received so far: a view that later records leave alone."""
        records = self._captured.slice(0, len(self._captured))  # a view of its own
        if not self.timed:
            records.timestamp = None
        return records

    def _x(self, records: Records) -> np.ndarray:
        if self.timed and records.timestamp is not None:
            return records.timestamp
        return records.index
