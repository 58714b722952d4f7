"""A Drone-like firmware for the simulated target: heap tracing on port 31, log text on port 0.

The heap workload is `heapgui.trace.workload` in consecutive self-contained
blocks, each with a burst of same-size buffers, after a few long-lived boot
allocations, written word by word in the `framed` format of drone-core
0.12-0.14. Like an interrupt handler that
allocates, a record sometimes lands between the words of the record being
written. The log prints "boot" once and "tick N" every `tick_interval`
seconds of firmware time. The ITM decides what reaches the wire.
"""

from __future__ import annotations

import logging

import numpy as np

from heapgui.capture.simulator.itm import StimulusWrites
from heapgui.trace.framed import encode_framed
from heapgui.trace.records import ALLOC, DEALLOC, Records
from heapgui.trace.workload import workload

logger = logging.getLogger(__name__)

HEAP_PORT = 31
LOG_PORT = 0
# Wire bytes a record takes on average: 2.1 words of 5 bytes plus a timestamp.
WIRE_BYTES_PER_RECORD = 13
BOOT_SIZES = (64, 128, 256, 512, 1024, 32, 32, 16)
BLOCK_RECORDS = 4096  # the workload is generated in blocks of about this many records
BURST_SIZES = (32, 64, 128, 256)


def text_writes(text: str, port: int = LOG_PORT) -> StimulusWrites:
    """Byte-wide stimulus writes of `text`, one burst, as Drone's logger issues them."""
    data = np.frombuffer(text.encode(), np.uint8)
    burst_end = np.zeros(len(data), bool)
    burst_end[-1:] = True
    return StimulusWrites(
        np.full(len(data), port, np.uint8),
        np.ones(len(data), np.uint8),
        data.astype(np.uint32),
        burst_end,
    )


class Firmware:
    """Produces the firmware's stimulus writes batch by batch.

    The heap trace depends on `seed` only, not on how the caller slices it
    into batches: records come from blocks of BLOCK_RECORDS generated in turn.
    """

    def __init__(
        self,
        seed: int = 0,
        core_clock: float = 72e6,
        tick_interval: float = 0.5,
        interrupt_share: float = 0.02,
        quirk: bool = False,
    ) -> None:
        self._rng = np.random.default_rng(seed)
        self._tick_cycles = tick_interval * core_clock
        self._interrupt_share = interrupt_share
        self._quirk = quirk
        self._booted = False
        self._ticks = 0
        self._heap = _slice(
            self._heap_writes(boot_records()),
            0,
            None,
        )

    def next_writes(self, records: int, cycle: float, cycles_per_byte: float) -> StimulusWrites:
        """The next `records` heap records, with log lines where they fall.

        `cycle` is the firmware's clock at the start of the batch and
        `cycles_per_byte` the wire time of a byte, used to place "tick" lines.
        """
        parts: list[StimulusWrites] = []
        if not self._booted:
            self._booted = True
            parts.append(text_writes("boot\n"))
        heap = self._take(records)
        # Firmware cycle at each heap write (five wire bytes each), to place the tick lines.
        at = cycle + np.arange(len(heap)) * (5 * cycles_per_byte)
        starts = np.flatnonzero(np.concatenate([[True], heap.burst_end[:-1]]))
        tick = (at[starts] // self._tick_cycles).astype(np.int64)
        crossing = starts[tick > np.concatenate([[self._ticks], tick[:-1]])]
        start = 0
        for k in crossing.tolist():
            parts.append(_slice(heap, start, k))
            self._ticks = int(at[k] // self._tick_cycles)
            parts.append(text_writes(f"tick {self._ticks}\n"))
            start = k
        parts.append(_slice(heap, start, None))
        return StimulusWrites.concat(parts)

    def _take(self, records: int) -> StimulusWrites:
        """The writes of the next `records` records of the heap workload."""
        while int(np.count_nonzero(self._heap.burst_end)) < records:
            block = self._block()
            self._heap = StimulusWrites.concat([self._heap, self._heap_writes(block)])
        cut = int(np.flatnonzero(self._heap.burst_end)[records - 1]) + 1
        taken, self._heap = _slice(self._heap, 0, cut), _slice(self._heap, cut, None)
        return taken

    def _block(self) -> Records:
        return heap_block(self._rng)

    def _heap_writes(self, records: Records) -> StimulusWrites:
        """The records' framed words as port-31 writes, some interrupted by the next record."""
        words = np.frombuffer(encode_framed(records, quirk=self._quirk), "<u4")
        length = np.where((records.kind == ALLOC) | (records.kind == DEALLOC), 2, 3)
        end = np.cumsum(length)
        start = end - length
        order = np.arange(len(words))
        # Record i is interrupted after its first word by the whole record i + 1.
        hit = self._rng.random(len(records)) < self._interrupt_share
        hit[-1:] = False
        hit[1:] &= ~hit[:-1]  # the interrupting record is not itself interrupted
        for i in np.flatnonzero(hit).tolist():
            s, n, m = int(start[i]), int(length[i]), int(length[i + 1])
            order[s + 1 : s + 1 + m] = np.arange(s + n, s + n + m)
            order[s + 1 + m : s + n + m] = np.arange(s + 1, s + n)
        burst_end = np.zeros(len(words), bool)
        burst_end[end - 1] = True
        return StimulusWrites(
            np.full(len(words), HEAP_PORT, np.uint8),
            np.full(len(words), 4, np.uint8),
            words[order].astype(np.uint32),
            burst_end,
        )


def boot_records() -> Records:
    """The long-lived allocations the firmware makes at start-up, before its workload."""
    return Records.from_tuples([("alloc", size) for size in BOOT_SIZES])


def heap_block(rng: np.random.Generator) -> Records:
    """A workload block with one burst inside it.

    The burst is a pool of same-size buffers allocated one after another
    and freed in reverse order, as a driver filling a queue does.
    """
    block = workload(BLOCK_RECORDS, seed=int(rng.integers(1 << 62)))
    depth = int(rng.integers(8, 33))
    size = int(rng.choice(BURST_SIZES))
    burst = Records.build(
        np.repeat([ALLOC, DEALLOC], depth),
        np.full(2 * depth, size),
        np.zeros(2 * depth),
        np.zeros(2 * depth),
    )
    at = int(rng.integers(0, len(block) + 1))
    return Records.concat([block.slice(0, at), burst, block.slice(at, len(block))])


def _slice(writes: StimulusWrites, start: int, stop: int | None) -> StimulusWrites:
    return StimulusWrites(
        writes.port[start:stop],
        writes.size[start:stop],
        writes.value[start:stop],
        writes.burst_end[start:stop],
    )
