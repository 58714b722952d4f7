"""The layout replay fed chunk after chunk, for traces too long to hold in memory.

A replay is one pass over the events with a small state: the live blocks of
each size (and, for a size whose blocks overflowed, which pools they sit in),
the blocks in use per pool, and the peaks so far. Each chunk is replayed by
heapgui.layout.pool_replay's own replayer, started from the state the previous
chunk left, so the result is the whole trace's replay whatever the cuts; only
the first failures are kept, as many as the caller will show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from heapgui.layout.pool_replay import Failure, _Replayer
from heapgui.layout.pools import Pool
from heapgui.trace.records import Records


@dataclass
class ReplaySummary:
    """What `heapgui.layout.pool_replay.Replay` says of a layout, without the per-event arrays."""

    pools: tuple[Pool, ...]
    failure_count: int
    pool_peak: np.ndarray
    pool_peak_record: np.ndarray
    pool_overflow: np.ndarray
    peak_bytes: int
    peak_requested: int
    peak_record: int
    unmatched: int
    skipped: int
    kept_failures: list[Failure] = field(repr=False)

    @property
    def holds(self) -> bool:
        return not self.failure_count

    @property
    def overflows(self) -> int:
        return int(self.pool_overflow.sum())

    @property
    def wasted_at_peak(self) -> int:
        return self.peak_bytes - self.peak_requested

    def failures(self, limit: int | None = None) -> list[Failure]:
        return self.kept_failures[:limit]


class ReplayStream:
    """`replay(records, pools)` with the records given chunk after chunk.

    `keep` is how many failures to remember (None: all of them).
    """

    def __init__(self, pools: Sequence[Pool], keep: int | None = None) -> None:
        self.layout = tuple(pools)
        self.keep = keep
        self._live: dict[int, int] = {}  # per size with blocks live
        self._runs: dict[int, list[list[int]]] = {}  # per size with overflowed blocks
        self._last: _Replayer | None = None
        n = len(self.layout)
        self._pool_peak = np.zeros(n, np.int64)
        self._pool_peak_record = np.full(n, -1, np.int64)
        self._pool_overflow = np.zeros(n, np.int64)
        self._peak = (0, 0, -1)  # bytes, requested, record
        self._failures: list[Failure] = []
        self._failure_count = 0
        self._unmatched = 0
        self._skipped = 0

    def feed(self, records: Records) -> None:
        if not len(records):
            return
        replayer = _Replayer(records, self.layout)
        self._resume(replayer)
        chunk = replayer.run()
        self._keep_state(replayer)
        reached = chunk.pool_peak_record >= 0  # a new peak in this chunk
        self._pool_peak_record[reached] = chunk.pool_peak_record[reached]
        self._pool_peak = chunk.pool_peak
        self._pool_overflow = chunk.pool_overflow
        if chunk.peak_record >= 0:
            self._peak = (chunk.peak_bytes, chunk.peak_requested, chunk.peak_record)
        count = len(chunk.failed_event)
        room = None if self.keep is None else max(self.keep - len(self._failures), 0)
        if count and room != 0:
            self._failures += chunk.failures(room)
        self._failure_count += count
        self._unmatched += chunk.unmatched
        self._skipped += chunk.skipped

    def _resume(self, replayer: _Replayer) -> None:
        """Start a chunk's replayer from where the last one stopped."""
        last = self._last
        if last is None:
            return
        replayer.occ = last.occ
        replayer.peak = last.peak
        replayer.overflow = last.overflow
        replayer.reserved, replayer.requested = last.reserved, last.requested
        # The peak so far is the bar to beat; peak_at stays -1 until the chunk beats it.
        replayer.peak_bytes, replayer.peak_requested = last.peak_bytes, last.peak_requested
        for sid, size in enumerate(replayer.sizes.tolist()):
            replayer.live[sid] = self._live.get(size, 0)
            if size in self._runs:
                replayer.runs[sid] = self._runs[size]

    def _keep_state(self, replayer: _Replayer) -> None:
        for sid, size in enumerate(replayer.sizes.tolist()):
            self._runs.pop(size, None)
            if sid in replayer.runs:
                self._runs[size] = replayer.runs[sid]
            live = int(replayer.live[sid])
            if live:
                self._live[size] = live
            else:
                self._live.pop(size, None)
        replayer.records = Records.empty()  # the chunk's columns are not needed any more
        self._last = replayer

    def result(self) -> ReplaySummary:
        return ReplaySummary(
            pools=self.layout,
            failure_count=self._failure_count,
            pool_peak=self._pool_peak,
            pool_peak_record=self._pool_peak_record,
            pool_overflow=self._pool_overflow,
            peak_bytes=self._peak[0],
            peak_requested=self._peak[1],
            peak_record=self._peak[2],
            unmatched=self._unmatched,
            skipped=self._skipped,
            kept_failures=self._failures,
        )
