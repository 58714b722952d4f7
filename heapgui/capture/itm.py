"""Streaming ITM/SWO demultiplexer: SWO bytes in, each stimulus port's payload bytes out.

`ItmDemux.feed` takes SWO bytes in any pieces and returns a `DemuxChunk`: the
new payload bytes of every stimulus port and the dates the timestamp packets
give them (the time model is in `heapgui.capture.itm_results`). Packets are
found by `heapgui.capture.itm_chain` over lengths from
`heapgui.capture.itm_packets`, and turned into payloads here with array
operations; what this module keeps between feeds is small: the unfinished
tail, the stimulus page, the running timestamp and per-port counters.
"""

from __future__ import annotations

import logging

import numpy as np

from heapgui.capture.itm_chain import find_packets
from heapgui.capture.itm_packets import (
    EXTENSION,
    IS_LOCAL_TS,
    KIND,
    OVERFLOW_HEADER,
    PAD_BYTES,
    PORTS,
    PORTS_PER_PAGE,
    SETS_PAGE,
    STIMULUS_BYTES,
    packet_lengths,
    words,
)
from heapgui.capture.itm_results import DemuxChunk, DemuxStats, PortClock, PortTimes
from heapgui.trace.problems import SKIPPED_BYTES, ProblemLog

__all__ = ["DemuxChunk", "DemuxStats", "ItmDemux", "PortClock", "PortTimes"]

logger = logging.getLogger(__name__)

FEW_PORTS = 8  # more ports in one buffer (garbage read as packets): deliver them grouped
_SPARSE = 16  # a port with fewer than 1 in this many packets is dated packet by packet
SLICE = 1 << 20  # bytes processed at once: bounds the working arrays (~20 bytes per byte)
# A zero run in the carried tail is kept this long and the rest only counted,
# so a line held low (a stream of 0x00) does not make every feed rescan it.
_ZEROS_KEPT = 16
_ZEROS_COLLAPSE = 64


class ItmDemux:
    """Feed SWO bytes in any pieces; get each port's payload bytes and their dates.

    Packets split between feeds, the stimulus page and the running timestamp
    carry over. Garbage is skipped up to the next sync packet or plausible run
    of packets (a packet with a too-long continuation run together with the
    whole run), and recorded in `problems` as SKIPPED_BYTES with the SWO byte
    offset of the first skipped byte. Ports are 0-255: 8 pages of 32.
    """

    def __init__(self) -> None:
        self.stats = DemuxStats()
        self.problems = ProblemLog()
        self._carry = b""
        self._carry_offset = 0  # SWO offset of the carry's first byte
        self._hidden_zeros = 0  # zeros dropped from the carry, standing before _hidden_at
        self._hidden_at = 0
        self._resyncing = False  # the carry starts with a candidate, not a packet
        self._in_run = False  # the next bytes continue the run of a packet refused as too long
        self._page = 0
        self._dated: dict[int, int] = {}  # per port: bytes dated so far
        self._undated: set[int] = set()  # ports with bytes not dated yet

    @property
    def skipped_bytes(self) -> int:
        return self.problems.total(SKIPPED_BYTES)

    @property
    def first_skip(self) -> int | None:
        return min((p.first_offset for p in self.problems if p.kind == SKIPPED_BYTES), default=None)

    def feed(self, data: bytes | bytearray | memoryview) -> DemuxChunk:
        """Demultiplex what is complete in the carried tail and `data`."""
        view = memoryview(data).cast("B")
        self.stats.bytes_in += view.nbytes
        parts = [
            self._run(view[at : at + SLICE].tobytes(), final=False)
            for at in range(0, view.nbytes, SLICE)
        ]
        return DemuxChunk.concat(parts) if parts else DemuxChunk()

    def demux_all(self, data: bytes | bytearray | memoryview) -> DemuxChunk:
        """A whole stream at once (a file): `feed` then `finish`, joined."""
        return DemuxChunk.concat([self.feed(data), self.finish()])

    def finish(self) -> DemuxChunk:
        """End of stream: settle the tail and date every byte not dated yet."""
        chunk = self._run(b"", final=True)
        for port in sorted(self._undated):
            total = self.stats.port_bytes[port]
            chunk.times[port] = PortTimes.concat(
                [
                    chunk.times.get(port, PortTimes.empty()),
                    PortTimes(np.array([total], np.int64), np.array([self.stats.ticks])),
                ]
            )
            self._set_dated(port, total)
        return chunk

    def _run(self, data: bytes, final: bool) -> DemuxChunk:
        raw = self._carry + data
        padded = np.frombuffer(raw + PAD_BYTES, np.uint8)
        buf = padded[: len(raw)]
        lengths, jumps = packet_lengths(padded, raw)
        chain = find_packets(lengths, jumps, buf, self._resyncing, self._in_run, final)
        chunk = DemuxChunk()
        if chain.skip_starts.size:
            self._count_skips(chain.skip_starts, chain.skip_ends, chunk)
        self._deliver(padded, chain.starts, chunk)
        if final:
            # Capture stopped mid-packet: not garbage, but say how much was lost.
            end = self._offset(buf.shape[0])
            self.stats.truncated_bytes += end - self._offset(chain.stop)
            self._carry, self._carry_offset, self._hidden_zeros = b"", end, 0
            self._resyncing = self._in_run = False
            return chunk
        self._keep_tail(raw[chain.stop :], chain.stop, self._offset(chain.stop))
        self._resyncing, self._in_run = chain.resyncing, chain.in_run
        return chunk

    def _count_skips(self, begin: np.ndarray, end: np.ndarray, chunk: DemuxChunk) -> None:
        """Record skipped garbage ranges of the buffer (hidden zeros included)."""
        count = end - begin
        if self._hidden_zeros:
            count += self._hidden_zeros * ((begin < self._hidden_at) & (self._hidden_at <= end))
        skipped = int(count.sum())
        if skipped:
            first = self._offset(int(begin[np.argmax(count > 0)]))
            self.problems.add(SKIPPED_BYTES, first, skipped)
            chunk.skipped_bytes += skipped
            logger.debug("skipped %d garbage bytes from offset %d", skipped, first)

    def _offset(self, at: int) -> int:
        """SWO byte offset of buffer position `at`, counting hidden zeros."""
        hidden = self._hidden_zeros if self._hidden_zeros and at >= self._hidden_at else 0
        return self._carry_offset + at + hidden

    def _keep_tail(self, tail: bytes, stop: int, stop_offset: int) -> None:
        """Carry `tail` (the buffer from `stop`) to the next feed, shortening zero runs."""
        if self._hidden_zeros and stop < self._hidden_at:
            self._hidden_at -= stop
        else:
            self._hidden_zeros = 0
        self._carry_offset = stop_offset
        run = len(tail) - len(tail.rstrip(b"\x00")) if tail[-1:] == b"\x00" else 0
        begin = len(tail) - run
        # One hidden stretch at a time: merge only with one inside this very run.
        if self._hidden_zeros and not begin <= self._hidden_at <= len(tail):
            self._carry = tail
            return
        total = run + self._hidden_zeros
        if total > _ZEROS_COLLAPSE:
            self._hidden_zeros = total - _ZEROS_KEPT
            self._hidden_at = begin + _ZEROS_KEPT
            tail = tail[: self._hidden_at]
        self._carry = tail

    def _deliver(self, padded: np.ndarray, starts: np.ndarray, out: DemuxChunk) -> None:
        """Turn the packet starts of one buffer into port payloads, dates and counts."""
        stats = self.stats
        stats.packets += starts.shape[0]
        headers = padded[starts]
        # Classes fit a byte, so a stable sort by class is a radix sort: it
        # lists each class's packets in a row, in stream order, in one pass.
        classes = np.take(_CLASS, headers)
        counts = np.bincount(classes, minlength=_CLASSES)
        order = np.argsort(classes, kind="stable")
        firsts = (np.cumsum(counts) - counts).tolist()
        counts = counts.tolist()

        def packets(of: int) -> np.ndarray:
            return order[firsts[of] : firsts[of] + counts[of]]

        if counts[_OVERFLOW]:
            out.overflows = counts[_OVERFLOW]
            stats.overflows += out.overflows
            if stats.first_overflow is None:
                stats.first_overflow = self._offset(int(starts[order[firsts[_OVERFLOW]]]))
        stamps = packets(_LOCAL_TS)
        ticks = self._ticks(padded, starts[stamps], headers[stamps])
        page_set = counts[_SETS_PAGE] > 0
        if page_set:
            stimulus, ports = self._stimulus_ports(headers)
            present = np.flatnonzero(np.bincount(ports, minlength=PORTS)).tolist()
        else:
            # The common case: one page throughout, so the classes are the ports.
            page = self._page * PORTS_PER_PAGE
            present = [page + a for a in range(PORTS_PER_PAGE) if counts[a]]
        if len(present) > FEW_PORTS:
            if not page_set:
                stimulus, ports = self._stimulus_ports(headers)
            self._deliver_grouped(padded, starts, headers, stimulus, ports, stamps, ticks, out)
            return
        none = stamps[:0]
        # Bytes of earlier chunks still waiting for a date get the first timestamp.
        waiting = self._waiting(present) if ticks.size else []
        for port in present + waiting:
            if port in waiting:
                mine = none
            elif page_set:
                mine = stimulus[ports == port]
            else:
                mine = packets(port % PORTS_PER_PAGE)
            sizes = STIMULUS_BYTES[headers[mine]]
            before = stats.port_bytes.get(port, 0)
            if mine.size:
                out.payloads[port] = _gather(padded, starts[mine] + 1, sizes)
                out.positions[port] = before
                stats.port_bytes[port] = before + len(out.payloads[port])
                self._undated.add(port)
            if ticks.size:
                self._date(port, before, mine, sizes, headers.shape[0], stamps, ticks, out)

    def _deliver_grouped(
        self,
        padded: np.ndarray,
        starts: np.ndarray,
        headers: np.ndarray,
        stimulus: np.ndarray,
        ports: np.ndarray,
        stamps: np.ndarray,
        ticks: np.ndarray,
        out: DemuxChunk,
    ) -> None:
        """The same as `_deliver` for many ports at once (garbage read as packets)."""
        stats = self.stats
        # Ports fit a byte, so the stable sort is a radix sort, linear in the packets.
        order = np.argsort(ports, kind="stable")
        mine = stimulus[order]
        sizes = STIMULUS_BYTES[headers[mine]].astype(np.int64)
        blob = _gather(padded, starts[mine] + 1, sizes)
        packets = np.bincount(ports, minlength=PORTS)
        present_ports = np.flatnonzero(packets)
        counts = packets[present_ports]
        first = np.cumsum(counts) - counts  # each port's first packet in `mine`
        present = present_ports.tolist()
        bounds = np.append(np.cumsum(sizes)[first] - sizes[first], len(blob)).tolist()
        before = np.array([stats.port_bytes.get(p, 0) for p in present], np.int64)
        for k, port in enumerate(present):
            out.payloads[port] = blob[bounds[k] : bounds[k + 1]]
            out.positions[port] = int(before[k])
            stats.port_bytes[port] = int(before[k]) + bounds[k + 1] - bounds[k]
        self._undated.update(present)
        if not ticks.size:
            return
        # The timestamp dating each packet; a port's last packet before each
        # timestamp closes a stretch of its stream.
        group = np.repeat(np.arange(len(present)), counts)
        # Timestamps before each packet: a running count, cheaper than a search per packet.
        stamp = np.cumsum(np.take(IS_LOCAL_TS, headers), dtype=np.intp)[mine]
        ends = np.cumsum(sizes) - np.asarray(bounds[:-1])[group] + before[group]
        closes = np.append((np.diff(stamp) != 0) | (np.diff(group) != 0), True)
        closes &= stamp < stamps.shape[0]
        # Bytes of earlier chunks: the first timestamp dates them, unless the
        # port's own packets before it already close that stretch.
        dated = np.array([self._dated.get(p, 0) for p in present], np.int64)
        early = np.flatnonzero((before > dated) & (stamp[first] != 0))
        which = np.concatenate([early, group[closes]])
        order = np.argsort(which, kind="stable")
        which = which[order]
        cut_ends = np.concatenate([before[early], ends[closes]])[order]
        cut_ticks = np.concatenate([np.full(early.size, ticks[0]), ticks[stamp[closes]]])[order]
        split = np.searchsorted(which, np.arange(len(present) + 1)).tolist()
        for k, port in enumerate(present):
            if split[k] < split[k + 1]:
                out.times[port] = PortTimes(
                    cut_ends[split[k] : split[k + 1]], cut_ticks[split[k] : split[k + 1]]
                )
                self._set_dated(port, int(cut_ends[split[k + 1] - 1]))
        for port in self._waiting(present):
            total = stats.port_bytes[port]
            out.times[port] = PortTimes(np.array([total], np.int64), ticks[:1].copy())
            self._set_dated(port, total)

    def _waiting(self, present: list[int]) -> list[int]:
        """Ports with bytes from earlier chunks not dated yet and no packet here."""
        return sorted(self._undated.difference(present))

    def _set_dated(self, port: int, end: int) -> None:
        self._dated[port] = end
        if end == self.stats.port_bytes[port]:
            self._undated.discard(port)

    def _stimulus_ports(self, headers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stimulus packets (indices into `headers`) and their ports (uint8): page * 32 + addr."""
        stimulus = np.flatnonzero(np.take(STIMULUS_BYTES, headers))
        address = headers[stimulus] >> 3
        # A page extension holds the page in header bits 6:4, a sync resets it to 0.
        sets = np.take(SETS_PAGE, headers)
        setter = headers[sets]
        if setter.size == 0:
            return stimulus, address + np.uint8(self._page * PORTS_PER_PAGE)
        pages = np.where(KIND[setter] == EXTENSION, setter >> 4 & 0x07, 0).astype(np.uint8)
        # The page in force at each packet: the last one set before it, or the carried one.
        pages = np.append(np.uint8(self._page), pages)
        page = pages[np.cumsum(sets, dtype=np.intp)[stimulus]]
        self._page = int(pages[-1])
        return stimulus, address + page * np.uint8(PORTS_PER_PAGE)

    def _ticks(self, padded: np.ndarray, starts: np.ndarray, headers: np.ndarray) -> np.ndarray:
        """Running tick totals after each local timestamp packet."""
        if starts.size == 0:
            return starts.astype(np.int64)
        # Format 1 (0b11TT0000): up to four 7-bit groups, least significant
        # first, read as one word and cut after the first byte with bit 7
        # clear, which ends the packet (a valid one has it in those four).
        # Format 2 (0b0DDD0000) has no groups: the delta is DDD.
        word = words(padded, 4)[starts + 1]
        ends = ~word & _MORE_BITS
        ends &= -ends  # the first
        word &= (ends << 1) - 1  # bits 7 set in `ends` stand for whole bytes kept
        word &= -(headers >> 7).astype(np.uint32)  # format 1 only
        delta = word & 0x7F
        delta |= word >> 1 & 0x7F << 7
        delta |= word >> 2 & 0x7F << 14
        delta |= word >> 3 & 0x7F << 21
        delta += np.take(_SHORT_DELTA, headers)
        ticks = np.cumsum(delta, dtype=np.int64)
        ticks += self.stats.ticks
        self.stats.timestamps += ticks.shape[0]
        self.stats.ticks = int(ticks[-1])
        return ticks

    def _date(
        self,
        port: int,
        before: int,
        mine: np.ndarray,
        sizes: np.ndarray,
        count: int,
        stamps: np.ndarray,
        ticks: np.ndarray,
        out: DemuxChunk,
    ) -> None:
        """Cut the port's stream at each timestamp packet that closes new bytes.

        `mine` are the port's packets among `count`, `sizes` their bytes.
        """
        dated = self._dated.get(port, 0)
        if mine.size * _SPARSE < count:
            # A port with few packets: look up the timestamp after each of them.
            stamp = np.searchsorted(stamps, mine)
            closes = np.append(stamp[1:] != stamp[:-1], True) & (stamp < stamps.shape[0])
            ends = np.cumsum(sizes, dtype=np.int64)[closes] + before
            at = stamp[closes]
            if before > dated and not (stamp.size and stamp[0] == 0):
                # Bytes of earlier chunks: the first timestamp dates them.
                ends, at = np.append(before, ends), np.append(0, at)
            if ends.size:
                out.times[port] = PortTimes(ends, ticks[at])
                self._set_dated(port, int(ends[-1]))
            return
        # A busy port: its bytes before each timestamp, from a running total.
        share = np.zeros(count, np.uint8)
        share[mine] = sizes
        ends = np.cumsum(share, dtype=np.int64)[stamps]
        ends += before
        previous = np.empty_like(ends)
        previous[0] = dated
        previous[1:] = ends[:-1]
        new = ends > previous
        if new.any():
            out.times[port] = PortTimes(ends[new], ticks[new])
            self._set_dated(port, int(ends[-1]))


_MORE_BITS = np.uint32(0x80808080)  # bit 7 of each byte of a word
# Packet classes by header: a stimulus address (0-31), or one of these.
_LOCAL_TS, _OVERFLOW, _SETS_PAGE, _OTHER = PORTS_PER_PAGE + np.arange(4)
_CLASSES = _OTHER + 1
_CLASS = np.select(
    [STIMULUS_BYTES > 0, IS_LOCAL_TS, np.arange(256) == OVERFLOW_HEADER, SETS_PAGE],
    [np.arange(256) >> 3, _LOCAL_TS, _OVERFLOW, _SETS_PAGE],
    _OTHER,
).astype(np.uint8)
# Indexed by header: the delta a format-2 local timestamp carries in itself.
_SHORT_DELTA = np.where(np.arange(256) & 0x80, 0, np.arange(256) >> 4).astype(np.uint32)


def _gather(padded: np.ndarray, first: np.ndarray, sizes: np.ndarray) -> bytes:
    """Concatenate padded[first[i] : first[i] + sizes[i]] for all i."""
    if not sizes.size:
        return b""
    size = int(sizes[0])
    if size == sizes.max() == sizes.min():
        # Overlapping unaligned words, one per byte offset: one gather per packet.
        return words(padded, size)[first].tobytes()
    sizes = sizes.astype(np.int64)
    shift = np.repeat(first - (np.cumsum(sizes) - sizes), sizes)
    return padded[shift + np.arange(shift.shape[0])].tobytes()
