"""What the ITM demultiplexer hands out: port payloads, their dates, running totals.

Time model. Local timestamps are deltas in target clock ticks, and a timestamp
packet follows the packets it dates: every packet between two timestamp
packets gets the running total *after* adding the second one's delta. So a
port's byte stream is cut into stretches, each closed by a timestamp packet,
and `PortTimes` lists those cuts: byte `k` of port `p` was completed by a
packet dated `ticks[j]` for the first `j` with `ends[j] > k`. Payload bytes are
delivered as soon as their packet is complete; their date arrives with the
timestamp packet that follows, possibly in a later chunk. `PortClock` keeps
the cuts of one port across chunks and answers "when was byte k completed".
A stream without local timestamps dates nothing until `ItmDemux.finish()`,
which dates every remaining byte with the running total (0 then); so does the
tail of any stream, whose packets no timestamp followed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)


@dataclass
class PortTimes:
    """Datings of one port's bytes: stream positions [ends[j-1], ends[j]) took ticks[j].

    `ends` are absolute byte counts in the port's stream, strictly increasing;
    `ticks` are cumulative target clock ticks, non-decreasing.
    """

    ends: np.ndarray
    ticks: np.ndarray

    @classmethod
    def empty(cls) -> PortTimes:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64))

    @classmethod
    def concat(cls, parts: list[PortTimes]) -> PortTimes:
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.ends for p in parts]), np.concatenate([p.ticks for p in parts])
        )


@dataclass
class DemuxChunk:
    """What one `feed` or `finish` produced.

    `payloads[p]` holds port `p`'s new payload bytes in arrival order, and
    `positions[p]` the position of its first byte in that port's stream.
    `times[p]` dates port `p`'s bytes (these or earlier ones) as far as the
    timestamp packets in this chunk allow.
    """

    payloads: dict[int, bytes] = field(default_factory=dict)
    positions: dict[int, int] = field(default_factory=dict)
    times: dict[int, PortTimes] = field(default_factory=dict)
    overflows: int = 0
    skipped_bytes: int = 0

    def payload(self, port: int) -> bytes:
        return self.payloads.get(port, b"")

    @classmethod
    def concat(cls, parts: list[DemuxChunk]) -> DemuxChunk:
        out = cls()
        payloads: dict[int, list[bytes]] = {}
        times: dict[int, list[PortTimes]] = {}
        for part in parts:
            for port, data in part.payloads.items():
                payloads.setdefault(port, []).append(data)
                out.positions.setdefault(port, part.positions[port])
            for port, t in part.times.items():
                times.setdefault(port, []).append(t)
            out.overflows += part.overflows
            out.skipped_bytes += part.skipped_bytes
        out.payloads = {p: b"".join(v) for p, v in sorted(payloads.items())}
        out.times = {p: PortTimes.concat(v) for p, v in sorted(times.items())}
        return out


@dataclass
class DemuxStats:
    """Running totals since the demultiplexer started."""

    bytes_in: int = 0
    packets: int = 0
    overflows: int = 0
    first_overflow: int | None = None  # SWO byte offset of the first overflow packet
    timestamps: int = 0  # local timestamp packets
    ticks: int = 0  # running total of local timestamp deltas
    truncated_bytes: int = 0  # an unfinished packet at the end of the stream
    port_bytes: dict[int, int] = field(default_factory=dict)


class PortClock:
    """Dates one port's stream across chunks: which ticks completed byte k.

    Feed it `chunk.times.get(port)` for every chunk; ask `ticks_at` for the
    positions of interest (e.g. the last byte of each heap record).
    """

    def __init__(self) -> None:
        self._parts: list[PortTimes] = []
        self._joined = PortTimes.empty()

    def add(self, times: PortTimes | None) -> None:
        if times is not None and times.ends.size:
            self._parts.append(times)

    @property
    def dated(self) -> int:
        """Bytes of the port's stream dated so far."""
        last = self._parts[-1] if self._parts else self._joined
        return int(last.ends[-1]) if last.ends.size else 0

    def ticks_at(self, positions: np.ndarray) -> np.ndarray:
        """Ticks of the packet that completed each byte position; -1 if not dated yet."""
        if self._parts:
            self._joined = PortTimes.concat([self._joined, *self._parts])
            self._parts = []
        ends, ticks = self._joined.ends, self._joined.ticks
        positions = np.asarray(positions, np.int64)
        if ends.size == 0:
            return np.full(positions.shape, -1, np.int64)
        at = np.searchsorted(ends, positions, side="right")
        out = ticks[np.minimum(at, ends.shape[0] - 1)]
        out[at == ends.shape[0]] = -1
        return out

    def forget_before(self, position: int) -> None:
        """Drop datings only bytes before `position` need: bounds memory in long captures."""
        self.ticks_at(np.empty(0, np.int64))
        keep = np.searchsorted(self._joined.ends, position, side="right")
        self._joined = PortTimes(self._joined.ends[keep:], self._joined.ticks[keep:])
