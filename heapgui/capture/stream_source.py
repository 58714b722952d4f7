"""A Drone Stream capture's source: every buffer of a firmware polled through one target link.

`StreamSource` is the Drone Stream counterpart of a SWO byte source: the
capture session opens it, calls `read()` in a loop (each returns within
about 50 ms) and ends with `finish()` then `close()`. What it reads is
frames, not bytes (see `heapgui.capture.stream_frames`).

Start (`drone-stream.md` section 5):
- attach (the default): the running firmware is not halted; each buffer's
  backlog is skipped as drone does, or drained when asked; the enable mask
  is written last;
- from reset: the core is halted at reset, every buffer gets the bootstrap
  block and zeroed cursors, and the core resumes, so the capture starts at
  the firmware's first allocation.

The firmware waits whenever its buffer is full, so a host that set the mask
and stopped reading would stall it for good. The mask is cleared, and the
buffers drained once, on every way out: `finish()` on a normal stop or a
failure, `close()` when anything else went wrong; if it cannot be cleared
(the probe is gone) the summary and the log say so.

Polling adapts: no pause while data flows (as fast as the probe allows),
doubling pauses up to IDLE_PAUSE when idle. Each buffer's fill level is
tracked; one that stays near full means the firmware is waiting on the host
and the trace's timing changes, which is worth a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from heapgui.capture.byte_source import SourceLost
from heapgui.capture.stream_map import StreamMap
from heapgui.capture.stream_ring import Frame, RingPoll, RingReader, TargetMemory
from heapgui.errors import HeapguiError

logger = logging.getLogger(__name__)

ATTACH, FROM_RESET = "attach", "reset"
START_MODES = (ATTACH, FROM_RESET)
HEAP_STREAM = 31
TEXT_STREAMS = (0, 1)  # stdout and stderr
DEFAULT_MASK = 1 << HEAP_STREAM | sum(1 << stream for stream in TEXT_STREAMS)
IDLE_PAUSE = 0.05  # longest pause between polls of idle buffers, seconds
FIRST_PAUSE = 0.001  # the first pause once the buffers are idle, doubling up to IDLE_PAUSE
HEALTH_INTERVAL = 0.5  # seconds between checks that the mask is still set
NEAR_FULL = 0.75  # share of a buffer pending at a poll that counts as near full
FULL_WARNING = 1.0  # seconds a buffer must stay near full before the warning


class StreamTarget(Protocol):
    """A connection to the target: a pyOCD probe, or the simulated board through pyOCD."""

    @property
    def name(self) -> str: ...

    @property
    def memory(self) -> TargetMemory: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def reset_and_halt(self) -> None: ...

    def resume(self) -> None: ...

    def check_health(self) -> None: ...


@dataclass
class StreamRead:
    """One poll of every buffer, in buffer order: frames in the order they arrived."""

    frames: list[Frame] = field(default_factory=list)
    polls: list[RingPoll] = field(default_factory=list)

    @property
    def bytes_read(self) -> int:
        return sum(poll.read for poll in self.polls)


@dataclass
class _FillWatch:
    """When a buffer went near full and stayed so; warns once per stretch."""

    since: float | None = None
    warned: bool = False

    def update(self, fill: float, now: float) -> bool:
        """True when the buffer has now stayed near full for FULL_WARNING seconds."""
        if fill < NEAR_FULL:
            self.since, self.warned = None, False
            return False
        if self.since is None:
            self.since = now
        if not self.warned and now - self.since >= FULL_WARNING:
            self.warned = True
            return True
        return False


class StreamSource:
    """Frames from every buffer of a `StreamMap`; open, read, finish and close in one thread.

    `stream_map` may be a function, called at `open()`, for a map that the
    target's connection provides (the simulated board knows its own).
    """

    def __init__(
        self,
        target: StreamTarget,
        stream_map: StreamMap | Callable[[], StreamMap],
        start: str = ATTACH,
        drain_backlog: bool = False,
        mask: int = DEFAULT_MASK,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if start not in START_MODES:
            raise HeapguiError(f"unknown start mode {start!r}: expected {' or '.join(START_MODES)}")
        if start == FROM_RESET and drain_backlog:
            raise HeapguiError("a capture from reset has no backlog to drain")
        self.target = target
        self._map = stream_map
        self.start_mode = start
        self.drain_backlog = drain_backlog
        self.mask = mask
        self._clock = clock
        self._sleep = sleep
        self.readers: list[RingReader] = []
        self.fills: list[float] = []
        self.warnings: list[str] = []
        self._watches: list[_FillWatch] = []
        self._mask_set = False
        self._open = False
        self._pause = 0.0
        self._next_check = 0.0

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def map(self) -> StreamMap:
        if callable(self._map):
            self._map = self._map()
        return self._map

    @property
    def buffer_names(self) -> list[str]:
        return [reader.name for reader in self.readers]

    def open(self) -> None:
        """Connect, check every buffer's size, start as asked, then set the mask."""
        self.target.open()
        self._open = True
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        self._next_check = self._clock() + HEALTH_INTERVAL

    def _start(self) -> None:
        stream_map, memory = self.map, self.target.memory
        self.readers = [RingReader(k, b, memory) for k, b in enumerate(stream_map.buffers)]
        self.fills = [0.0] * len(self.readers)
        self._watches = [_FillWatch() for _ in self.readers]
        # Before any address is trusted: a stale map must not make heapgui write into RAM.
        for reader in self.readers:
            reader.check_size(stream_map.source)
        if self.start_mode == FROM_RESET:
            self.target.reset_and_halt()
            self._mask_set = True  # the bootstrap block carries it into the firmware
            for reader in self.readers:
                reader.bootstrap(self.mask)
            memory.write32(stream_map.mask, self.mask)
            self.target.resume()
        else:
            skipped = sum(r.attach(self.drain_backlog) for r in self.readers)
            self._mask_set = True
            memory.write32(stream_map.mask, self.mask)  # last, as drone does
            if skipped:
                logger.info("%s: %d bytes of backlog skipped", self.name, skipped)
        logger.info(
            "%s: Drone Stream %s, buffers %s (%s), mask 0x%08X",
            self.name,
            "from reset" if self.start_mode == FROM_RESET else "attached",
            ", ".join(f"{r.name} at 0x{r.buffer.runtime:08X}" for r in self.readers),
            stream_map.source,
            self.mask,
        )

    def read(self) -> StreamRead:
        """One poll of every buffer, after a pause only when the previous poll found nothing."""
        if not self._open:
            raise HeapguiError(f"{self.name} is not open")
        if self._pause:
            self._sleep(self._pause)
        now = self._clock()
        if now >= self._next_check:
            self._check_health()
            self._next_check = now + HEALTH_INTERVAL
        read = self._poll(now)
        if read.bytes_read:
            self._pause = 0.0
        else:
            self._pause = min(max(2 * self._pause, FIRST_PAUSE), IDLE_PAUSE)
        return read

    def finish(self) -> StreamRead:
        """Clear the mask, then drain once: what the firmware wrote before it saw the mask."""
        if not self._open:
            return StreamRead()
        if not self._clear_mask():
            return StreamRead()
        try:
            return self._poll(self._clock())
        except HeapguiError as err:
            self.warnings.append(f"the last drain after clearing the mask failed: {err}")
            logger.warning("%s: %s", self.name, self.warnings[-1])
            return StreamRead()

    def close(self) -> None:
        """Clear the mask if still set, then disconnect; never raises."""
        if not self._open:
            return
        self._clear_mask()
        self._open = False
        self.target.close()

    def _poll(self, now: float) -> StreamRead:
        read = StreamRead()
        for k, reader in enumerate(self.readers):
            poll = reader.poll()
            read.polls.append(poll)
            read.frames.extend(poll.frames)
            self.fills[k] = poll.pending / (reader.buffer.size - 1)
            if self._watches[k].update(self.fills[k], now):
                message = (
                    f"stream {reader.name}: the buffer stayed over {NEAR_FULL:.0%} full for "
                    f"{FULL_WARNING:g} s, so the firmware waits for the host and the trace's "
                    f"timing changes; a larger [stream.{reader.name}] size in layout.toml helps"
                )
                if message not in self.warnings:
                    self.warnings.append(message)
                logger.warning("%s", message)
        return read

    def _check_health(self) -> None:
        self.target.check_health()
        mask = self.target.memory.read32(self.map.mask)
        if mask != self.mask:
            raise SourceLost(
                f"{self.name}: the enable mask at 0x{self.map.mask:08X} reads 0x{mask:08X}, "
                f"not 0x{self.mask:08X}: the target was reset or another host changed it"
            )

    def _clear_mask(self) -> bool:
        """Write 0 to the mask; False, with a warning noted, when that failed."""
        if not self._mask_set:
            return True
        address = self.map.mask
        try:
            self.target.memory.write32(address, 0)
        except Exception as err:  # noqa: BLE001 - any failure: the user must hear it
            self._mask_set = False  # tried once; the probe is most likely gone
            message = (
                f"could not clear the enable mask at 0x{address:08X} ({err}): the firmware "
                f"will wait forever once its buffer fills; reset the target"
            )
            self.warnings.append(message)
            logger.warning("%s: %s", self.name, message)
            return False
        self._mask_set = False
        logger.info("%s: enable mask at 0x%08X cleared", self.name, address)
        return True
