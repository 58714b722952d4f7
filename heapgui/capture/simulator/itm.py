"""The ITM hardware of the simulated target: stimulus writes in, SWO packet bytes out.

A batch of firmware stimulus writes becomes packets in one pass of array
operations. The ITM's registers decide what comes out, as on silicon: nothing
while ITMENA is clear, no packet for a port whose TER bit is clear, local
timestamps only with TSENA, synchronisation packets only with SYNCENA and a
DWT sync tap. Packet layout is section 1 of docs/heaptrace-formats.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from heapgui.capture.simulator.coresight import Dwt, Itm, Scs

logger = logging.getLogger(__name__)

SYNC_PACKET = bytes([0, 0, 0, 0, 0, 0x80])
_SIZE_CODE = np.array([0, 1, 2, 0, 3], np.uint8)  # payload bytes -> header bits 1:0
TIMESTAMP_MAX = (1 << 28) - 1  # four 7-bit continuation groups


@dataclass
class StimulusWrites:
    """Firmware writes to stimulus ports, in program order.

    `size` is 1, 2 or 4 bytes. `burst_end` marks the last write of a burst the
    firmware issues back to back (one record, one log line); the ITM dates
    each burst with one local timestamp.
    """

    port: np.ndarray
    size: np.ndarray
    value: np.ndarray
    burst_end: np.ndarray

    def __len__(self) -> int:
        return int(self.port.shape[0])

    @classmethod
    def concat(cls, parts: list[StimulusWrites]) -> StimulusWrites:
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("port", "size", "value", "burst_end")
            )
        )

    def payload_bytes(self) -> np.ndarray:
        """Each write's payload bytes, little-endian, concatenated (uint8)."""
        lanes = self.value.astype("<u4").view(np.uint8).reshape(-1, 4)
        return lanes[np.arange(4) < self.size[:, None].astype(np.int64)]


class ItmEncoder:
    """Turns accepted stimulus writes into SWO bytes; keeps the clock and timestamp state.

    `cycle` is the firmware's core clock cycle count. It advances by the wire
    time of each write (`cycles_per_byte` per packet byte): the firmware waits
    for the ITM FIFO as Drone's does, so it runs at the pace of the trace.
    """

    def __init__(self, scs: Scs, itm: Itm, dwt: Dwt) -> None:
        self._scs = scs
        self._itm = itm
        self._dwt = dwt
        self.cycle = 0.0
        self._last_stamp = 0  # prescaled counter value at the last timestamp packet
        self._sync_index: int | None = None

    def emit(self, writes: StimulusWrites, cycles_per_byte: float) -> tuple[bytes, StimulusWrites]:
        """The SWO bytes for `writes` and the writes that made it into packets.

        The firmware's clock advances by the wire time of every write, emitted
        or not, so timestamps keep track of firmware time whatever TER says.
        """
        if len(writes) == 0:
            return b"", writes
        start = self.cycle
        wire = np.cumsum(1 + writes.size.astype(np.int64))
        done = start + wire * cycles_per_byte
        keep = self._accepts(writes)
        accepted = StimulusWrites(
            writes.port[keep], writes.size[keep], writes.value[keep], writes.burst_end[keep]
        )
        data = self._encode(accepted, done[keep]) if len(accepted) else b""
        # Timestamps and syncs take wire time too.
        self.cycle = start + max(len(data), int(wire[-1])) * cycles_per_byte
        return data, accepted

    def _accepts(self, writes: StimulusWrites) -> np.ndarray:
        if not (self._scs.trcena and self._itm.enabled):
            return np.zeros(len(writes), bool)
        return (self._itm.ter >> writes.port.astype(np.uint32) & 1).astype(bool)

    def _encode(self, writes: StimulusWrites, done: np.ndarray) -> bytes:
        """Packets for `writes`, each completing at cycle `done`."""
        size = writes.size.astype(np.int64)
        packet_len = 1 + size
        sync_before = self._syncs(done)
        stamp_len, stamp_delta = self._stamps(writes.burst_end, done)
        lengths = 6 * sync_before + packet_len + stamp_len
        ends = np.cumsum(lengths)
        out = np.zeros(int(ends[-1]), np.uint8)
        header_at = ends - lengths + 6 * sync_before
        out[header_at[sync_before.astype(bool)] - 1] = 0x80
        out[header_at] = (writes.port.astype(np.uint8) << 3) | _SIZE_CODE[size]
        lanes = np.arange(4)
        present = lanes < size[:, None]
        positions = header_at[:, None] + 1 + lanes
        out[positions[present]] = writes.payload_bytes()
        self._write_stamps(out, header_at + packet_len, stamp_len, stamp_delta)
        return out.tobytes()

    def _syncs(self, done: np.ndarray) -> np.ndarray:
        """1 where a sync packet goes before the packet: the DWT sync tap counter wrapped."""
        period = self._dwt.sync_period_log2
        if not self._itm.sync_enabled or period is None:
            self._sync_index = None
            return np.zeros(done.shape[0], np.int64)
        index = done.astype(np.int64) >> period
        previous = np.concatenate(
            [[index[0] if self._sync_index is None else self._sync_index], index[:-1]]
        )
        self._sync_index = int(index[-1])
        return (index > previous).astype(np.int64)

    def _stamps(self, burst_end: np.ndarray, done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Length of the timestamp packet after each packet (0 for none) and its delta."""
        n = done.shape[0]
        if not self._itm.timestamps:
            return np.zeros(n, np.int64), np.zeros(n, np.int64)
        counter = done.astype(np.int64) >> self._itm.prescale_shift
        at = np.flatnonzero(burst_end)
        stamps = counter[at]
        delta = np.diff(stamps, prepend=self._last_stamp)
        if len(stamps):
            self._last_stamp = int(stamps[-1])
        # An unchanged counter gives no timestamp packet.
        keep = delta > 0
        at, delta = at[keep], np.minimum(delta[keep], TIMESTAMP_MAX)
        groups = np.maximum(1, (_bit_length(delta) + 6) // 7)
        # Deltas 1-6 fit in a one-byte format 2 packet.
        length = np.where(delta <= 6, 1, 1 + groups)
        stamp_len = np.zeros(n, np.int64)
        stamp_delta = np.zeros(n, np.int64)
        stamp_len[at] = length
        stamp_delta[at] = delta
        return stamp_len, stamp_delta

    @staticmethod
    def _write_stamps(
        out: np.ndarray, at: np.ndarray, length: np.ndarray, delta: np.ndarray
    ) -> None:
        short = length == 1
        out[at[short]] = (delta[short] << 4).astype(np.uint8)
        long = length > 1
        at, length, delta = at[long], length[long], delta[long]
        out[at] = 0xC0  # format 1, TC = 0: the timestamp is synchronous to the data
        groups = length - 1
        for g in range(4):
            has = groups > g
            more = np.where(groups[has] > g + 1, 0x80, 0)
            out[at[has] + 1 + g] = ((delta[has] >> (7 * g)) & 0x7F) | more


def _bit_length(values: np.ndarray) -> np.ndarray:
    """Bits needed for each positive value (< 2**28)."""
    return np.floor(np.log2(np.maximum(values, 1))).astype(np.int64) + 1
