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

Records come from the frames, not from the joined bytes (`FrameRecords`):
each allocator call is exactly one stream-31 frame, so the frame boundaries
are the record boundaries and no resynchronisation guesswork is needed (the
byte-stream decoder's can doubt a clean burst of 256-byte allocations). A
frame that is no record is counted and skipped; its bytes still go to the
file, which stays what `drone stream :31` writes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from heapgui.capture.itm_results import DemuxChunk, DemuxStats, PortTimes
from heapgui.capture.stream_source import HEAP_STREAM, StreamRead
from heapgui.trace.problems import SKIPPED_BYTES, ProblemLog
from heapgui.trace.records import GROW, Records
from heapgui.trace.tagged import LENGTHS

_ONE = struct.Struct("<BI")
_TWO = struct.Struct("<BII")


@dataclass
class FrameChunk(DemuxChunk):
    """A `DemuxChunk` that also keeps the stream-31 frames apart: one record each."""

    heap_frames: list[bytes] = field(default_factory=list)


class FrameRecords:
    """The `tagged` records of stream-31 frames, one per frame; the session's decoder for streams.

    `lengths` and `problems` are what the session asks of a decoder.
    """

    lengths = LENGTHS

    def __init__(self) -> None:
        self.problems = ProblemLog()
        self.records = 0
        self._position = 0  # heap trace bytes so far

    @property
    def skipped_bytes(self) -> int:
        return self.problems.total(SKIPPED_BYTES)

    def take(self, payloads: list[bytes]) -> Records:
        kinds, sizes, news, offsets = [], [], [], []
        at = self._position
        for payload in payloads:
            tag = payload[0] if payload else None
            if tag is not None and tag < len(LENGTHS) and len(payload) == LENGTHS[tag]:
                if tag >= GROW:
                    _, size, new = _TWO.unpack(payload)
                else:
                    (_, size), new = _ONE.unpack(payload), 0
                kinds.append(tag)
                sizes.append(size)
                news.append(new)
                offsets.append(at)
            elif payload:
                self.problems.add(SKIPPED_BYTES, at, len(payload))
            at += len(payload)
        self._position = at
        records = Records.build(kinds, sizes, news, offsets, first_index=self.records)
        self.records += len(records)
        return records

    def finish(self) -> Records:
        """Frames are whole: nothing is ever left to decode."""
        return Records.empty(self.records)


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

    def feed(self, read: StreamRead) -> FrameChunk:
        self.stats.bytes_in += read.bytes_read
        for poll in read.polls:
            if poll.skipped:
                self.problems.add(SKIPPED_BYTES, poll.skipped_at, poll.skipped)
        parts: dict[int, list[bytes]] = {}
        totals = self.stats.port_bytes
        chunk = FrameChunk()
        for frame in read.frames:
            stream = frame.stream
            if stream not in parts:
                parts[stream] = []
                chunk.positions[stream] = totals.get(stream, 0)
            if stream == HEAP_STREAM and frame.payload:
                chunk.heap_frames.append(frame.payload)
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

    def finish(self) -> FrameChunk:
        """Frames are never split: nothing is left over at the end."""
        return FrameChunk()

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
