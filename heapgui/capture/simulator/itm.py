"""The ITM hardware of the simulated target: stimulus writes in, SWO packet bytes out.

The ITM's registers decide what comes out, as on silicon: nothing while
ITMENA is clear, no packet for a port whose TER bit is clear, local timestamps
only with TSENA, synchronisation packets only with SYNCENA and a DWT sync tap.
The packet bytes come from `heapgui.capture.itm_encode`, a whole batch of
writes at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from heapgui.capture.itm_encode import MAX_DELTA, ItmEncoder
from heapgui.capture.simulator.coresight import Dwt, Itm, Scs

logger = logging.getLogger(__name__)


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


class ItmEmitter:
    """Turns accepted stimulus writes into SWO bytes; keeps the clock and timestamp state.

    `cycle` is the firmware's core clock cycle count. It advances by the wire
    time of each write (`cycles_per_byte` per packet byte): the firmware waits
    for the ITM FIFO as Drone's does, so it runs at the pace of the trace.
    """

    def __init__(self, scs: Scs, itm: Itm, dwt: Dwt) -> None:
        self._scs = scs
        self._itm = itm
        self._dwt = dwt
        self._packets = ItmEncoder()
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
        stamped, deltas = self._stamps(writes.burst_end, done)
        return self._packets.writes(
            writes.port, writes.size, writes.value, deltas, stamped, self._syncs(done)
        )

    def _syncs(self, done: np.ndarray) -> np.ndarray:
        """The packets a sync packet precedes: where the DWT sync tap counter wrapped."""
        period = self._dwt.sync_period_log2
        if not self._itm.sync_enabled or period is None:
            self._sync_index = None
            return np.empty(0, np.int64)
        index = done.astype(np.int64) >> period
        previous = np.concatenate(
            [[index[0] if self._sync_index is None else self._sync_index], index[:-1]]
        )
        self._sync_index = int(index[-1])
        return np.flatnonzero(index > previous)

    def _stamps(self, burst_end: np.ndarray, done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The packets a local timestamp follows (ends of bursts) and the timestamps' deltas."""
        if not self._itm.timestamps:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        counter = done.astype(np.int64) >> self._itm.prescale_shift
        at = np.flatnonzero(burst_end)
        stamps = counter[at]
        delta = np.diff(stamps, prepend=self._last_stamp)
        if len(stamps):
            self._last_stamp = int(stamps[-1])
        # An unchanged counter gives no timestamp packet.
        keep = delta > 0
        return at[keep], np.minimum(delta[keep], MAX_DELTA)
