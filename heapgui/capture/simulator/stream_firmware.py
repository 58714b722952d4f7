"""Drone master firmware for the simulated board: the heap trace on Drone Stream, one or two cores.

Each core runs the simulator's allocation workload (`firmware.heap_block`)
and writes every allocator call as one `tagged` frame on stream 31, and now
and then a log line on stream 0. `print!` splits text into frames of at most
64 bytes, so a line can cut a UTF-8 character in two, and an interrupt that
allocates may put its heap frame between the pieces. Frames go through
drone-core's writer rule (`RingWriter`): a full buffer makes the core wait,
in simulated time, until the host reads. Gated writers write nothing while
their mask bit is clear, as on the device.

The demo firmware idles while the enable mask is 0, so a capture that
attaches still sees the workload from its first allocation. Time: each
frame costs 1 / `frame_rate` seconds of core time. `run_until`
runs a core up to a wall-clock instant; a core blocked on a full buffer stays
blocked until the next call, which is when the host may have read, and
counts the time as waited.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from heapgui.capture.simulator.firmware import boot_records, heap_block
from heapgui.capture.simulator.stream_writer import RingWriter
from heapgui.capture.stream_map import StreamBuffer, StreamMap
from heapgui.layout.config_flexible import STREAM_RUNTIME_SIZE
from heapgui.trace.records import ALLOC, DEALLOC, Records
from heapgui.trace.tagged import encode_tagged

HEAP_STREAM = 31
LOG_STREAM = 0
PRINT_FRAME = 64  # drone-core's print! writes text in frames of at most this many bytes
TICK_INTERVAL = 0.5  # seconds of core time between log lines
MASKED_BATCH = 5000  # frames a core with its streams off skips per call, at most
CATCH_UP_FRAMES = 2_000
"""Frames simulated per call at most: a stalled host must not stall the simulation with it."""

# The stm32 template: ram.main at 0x20000000 with a fixed 4K stack first, so Drone Stream
# grows up from 0x20001000 (the mask) and the buffers follow it.
STM32_MASK = 0x20001000
# The raspberrypi-pico template: `main` has no stack, so everything grows down from its end.
PICO_RAM_END = 0x20040000
SOURCE = "the simulated board's layout"


def simulated_stream_map(cores: int = 1, size: int = 260) -> StreamMap:
    """Where the simulated firmware's mask and buffers are (`drone-stream.md` section 4).

    One core is laid out as drone's stm32 template, two as raspberrypi-pico's.
    """
    block = size + STREAM_RUNTIME_SIZE
    names = [f"core{k}" for k in range(cores)]
    if cores == 1:
        runtimes = [STM32_MASK + 4]
        mask = STM32_MASK
    else:
        mask = PICO_RAM_END - 4
        runtimes = [mask - (k + 1) * block for k in range(cores)]
    buffers = tuple(StreamBuffer(n, rt, size) for n, rt in zip(names, runtimes, strict=True))
    return StreamMap(mask, buffers, SOURCE)


def _payloads(records: Records) -> list[bytes]:
    """One `tagged` record per allocator call: each is one frame's payload."""
    data = encode_tagged(records)
    length = np.where((records.kind == ALLOC) | (records.kind == DEALLOC), 5, 9)
    ends = np.cumsum(length).tolist()
    return [data[e - n : e] for e, n in zip(ends, length.tolist(), strict=True)]


@dataclass
class _Frame:
    stream: int
    payload: bytes


@dataclass
class CoreProgram:
    """One core's firmware: its workload, its buffer and its clock."""

    index: int
    writer: RingWriter
    seed: int
    frame_rate: float
    primary: bool
    mask_offset: int
    keep: bool = True  # keep what was written in `heap` and `text` (off for long demos)
    time: float = 0.0  # the core's own clock, in wall-clock seconds
    waited: float = 0.0  # seconds spent waiting for room in the buffer
    heap_sent: int = 0  # stream-31 payload bytes written since boot
    heap: bytearray = field(default_factory=bytearray)  # stream-31 payloads written since boot
    text: bytearray = field(default_factory=bytearray)  # stream-0 payloads written since boot
    _queue: deque = field(default_factory=deque)
    _rng: np.random.Generator | None = None
    _next_tick: float = 0.0
    _ticks: int = 0

    def boot(self, now: float) -> bool:
        """Start from reset: drone-core's bootstrap check, then the workload from its start."""
        found = self.writer.boot(self.primary, self.mask_offset)
        self._rng = np.random.default_rng(self.seed)
        self._queue = deque()
        self._queue.extend(self._text(f"core{self.index} boot\n"))
        self._queue.extend(_Frame(HEAP_STREAM, p) for p in _payloads(boot_records()))
        self.time = now
        self._next_tick = now + TICK_INTERVAL
        self._ticks = 0
        self.heap.clear()
        self.text.clear()
        self.heap_sent = 0
        return found

    def run_until(self, now: float, mask: int) -> None:
        if not mask:
            # Like firmware that waits for a debugger: the workload starts when a host reads.
            self.time = now
            return
        step = 1.0 / self.frame_rate
        skipped = written = 0
        while self.time + step <= now:
            if written >= CATCH_UP_FRAMES:
                # The host was away so long that simulating every frame since would take
                # longer than the frames themselves: the firmware's time jumps instead.
                self.time = now
                return
            written += 1
            frame = self._peek()
            if not mask >> frame.stream & 1:
                self._queue.popleft()  # a gated writer writes nothing
                self.time += step
                skipped += 1
                if skipped >= MASKED_BATCH:  # nobody reads: not worth simulating every frame
                    self.time = now
                    return
                continue
            if not self.writer.try_write(frame.stream, frame.payload):
                self.waited += now - self.time  # blocked until the host reads
                self.time = now
                return
            self._queue.popleft()
            if frame.stream == HEAP_STREAM:
                self.heap_sent += len(frame.payload)
            if self.keep:
                (self.heap if frame.stream == HEAP_STREAM else self.text).extend(frame.payload)
            self.time += step

    def _peek(self) -> _Frame:
        if self.time >= self._next_tick:
            self._ticks += 1
            self._next_tick += TICK_INTERVAL
            line = f"core{self.index} tick {self._ticks}: {self.heap_sent} heap bytes sent — ok ✓\n"
            pieces = self._text(line)
            # An interrupt that allocates lands between the pieces of the line.
            if self._queue and len(pieces) > 1:
                pieces.insert(1, self._queue.popleft())
            self._queue.extendleft(reversed(pieces))
        if not self._queue:
            assert self._rng is not None
            self._queue.extend(_Frame(HEAP_STREAM, p) for p in _payloads(heap_block(self._rng)))
        return self._queue[0]

    @staticmethod
    def _text(line: str) -> list[_Frame]:
        data = line.encode()
        return [
            _Frame(LOG_STREAM, data[at : at + PRINT_FRAME])
            for at in range(0, len(data), PRINT_FRAME)
        ]


class StreamFirmware:
    """All cores of the master firmware on one RAM image."""

    def __init__(
        self,
        stream_map: StreamMap,
        ram: bytearray,
        ram_base: int,
        seed: int = 0,
        frame_rate: float = 20_000,
        keep: bool = True,
    ) -> None:
        self.map = stream_map
        self._ram = ram
        self._mask_offset = stream_map.mask - ram_base
        self.cores = [
            CoreProgram(
                k,
                RingWriter(buffer, ram, ram_base),
                seed + k,
                frame_rate,
                primary=k == 0,
                mask_offset=self._mask_offset,
                keep=keep,
            )
            for k, buffer in enumerate(stream_map.buffers)
        ]
        self.bootstrapped = False  # the last boot found the host's bootstrap block

    @property
    def mask(self) -> int:
        return struct.unpack_from("<I", self._ram, self._mask_offset)[0]

    @property
    def waited(self) -> float:
        return sum(core.waited for core in self.cores)

    def boot(self, now: float) -> None:
        # The primary core first: it sets the mask the others then read.
        self.bootstrapped = all([core.boot(now) for core in self.cores])

    def run_until(self, now: float) -> None:
        mask = self.mask
        for core in self.cores:
            core.run_until(now, mask)

    def pause(self, now: float) -> None:
        """The cores do not run (halted or held in reset): that time is not waiting."""
        for core in self.cores:
            core.time = max(core.time, now)
