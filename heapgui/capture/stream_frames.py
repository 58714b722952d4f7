"""Drone Stream frames to per-stream bytes: the demultiplexer of a Drone Stream capture.

`FrameDemux` does for a `StreamSource` what `ItmDemux` does for SWO bytes,
with the same interface, so the capture session treats both alike: each
stream's payloads are joined in arrival order (stream 31 is then exactly
what `drone stream :31` writes, a `tagged` trace; streams 0 and 1 are log
text, decoded only after joining since a frame may split a UTF-8
character). Drone Stream carries no timestamps: every byte is dated 0 as it
arrives, so records are never held back waiting for a date.

It also remembers which buffer (core) wrote each stretch of the heap trace,
so each record can be given its core (`cores_at`).
"""

from __future__ import annotations

import numpy as np

from heapgui.capture.itm_results import DemuxChunk, DemuxStats, PortTimes
from heapgui.capture.stream_source import HEAP_STREAM, StreamRead
from heapgui.trace.problems import SKIPPED_BYTES, ProblemLog


class FrameDemux:
    """Feed `StreamRead`s; get each stream's new payload bytes and each heap byte's core."""

    def __init__(self) -> None:
        self.stats = DemuxStats()
        self.problems = ProblemLog()
        self.frames = 0
        # The heap trace's byte position where each run of one core's frames starts.
        self._run_starts: list[int] = []
        self._run_cores: list[int] = []

    @property
    def skipped_bytes(self) -> int:
        return self.problems.total(SKIPPED_BYTES)

    def feed(self, read: StreamRead) -> DemuxChunk:
        self.stats.bytes_in += read.bytes_read
        for poll in read.polls:
            if poll.skipped:
                self.problems.add(SKIPPED_BYTES, poll.skipped_at, poll.skipped)
        parts: dict[int, list[bytes]] = {}
        totals = self.stats.port_bytes
        chunk = DemuxChunk()
        for frame in read.frames:
            stream = frame.stream
            if stream not in parts:
                parts[stream] = []
                chunk.positions[stream] = totals.get(stream, 0)
            if stream == HEAP_STREAM and frame.payload:
                if not self._run_cores or self._run_cores[-1] != frame.core:
                    self._run_starts.append(totals.get(stream, 0))
                    self._run_cores.append(frame.core)
            parts[stream].append(frame.payload)
            totals[stream] = totals.get(stream, 0) + len(frame.payload)
        self.frames += len(read.frames)
        chunk.payloads = {s: b"".join(p) for s, p in sorted(parts.items())}
        chunk.times = {
            s: PortTimes(np.array([totals[s]], np.int64), np.zeros(1, np.int64))
            for s in chunk.payloads
            if totals[s]
        }
        return chunk

    def finish(self) -> DemuxChunk:
        """Frames are never split: nothing is left over at the end."""
        return DemuxChunk()

    def cores_at(self, offsets: np.ndarray) -> np.ndarray:
        """The buffer index that wrote the heap-trace byte at each of `offsets`.

        Records are asked for in trace order, so runs before the last offset
        asked for are forgotten: two cores switch at every poll, and a long
        capture must not keep them all.
        """
        if not self._run_starts or not len(offsets):
            return np.zeros(len(offsets), np.int8)
        at = np.searchsorted(np.asarray(self._run_starts), offsets, side="right") - 1
        cores = np.asarray(self._run_cores, np.int8)[np.maximum(at, 0)]
        keep = max(int(at[-1]), 0)
        del self._run_starts[:keep], self._run_cores[:keep]
        return cores
