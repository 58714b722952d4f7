"""SWO bytes from a recorded `.swo` file, as fast as possible or at the recorded pace.

A replay at the recorded pace lets the live views be exercised without a
board. The pace comes from the stream's own local timestamps (target clock
ticks, so the core clock converts them to seconds), or from a fixed byte rate
such as the SWO line's baud rate / 10. Timestamps date the packets before
them, so the file is cut into small pieces and each piece is delivered once
the wall clock reaches the tick total after it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from heapgui.capture.byte_source import SourceEnded
from heapgui.capture.itm import ItmDemux
from heapgui.errors import HeapguiError

logger = logging.getLogger(__name__)

FAST_READ = 1 << 20  # bytes per read() when not pacing
PIECE = 4096  # pacing granularity in bytes
IDLE_WAIT = 0.01  # seconds read() waits for a piece to fall due before answering b""
READ_LIMIT = 1 << 20  # bytes one paced read() returns at most, when the reader lags


class ReplaySource:
    """A `.swo` file as a byte source.

    With neither `core_clock` nor `byte_rate` it is delivered as fast as the
    reader takes it. With `byte_rate` it is paced at that many bytes per
    second. With `core_clock` it follows the stream's timestamps; a stream
    without timestamps then goes as fast as possible. The ITM timestamp
    prescaler is taken to be 1, as heapgui's probe setup leaves it.
    """

    def __init__(
        self,
        path: str | Path,
        core_clock: float | None = None,
        byte_rate: float | None = None,
        idle_wait: float = IDLE_WAIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for what, value in (("core clock", core_clock), ("byte rate", byte_rate)):
            if value is not None and not 0 < value < math.inf:  # also refuses NaN
                raise HeapguiError(
                    f"replay of {path}: the {what} must be a positive number, got {value}"
                )
        self.path = Path(path)
        self._core_clock = core_clock
        self._byte_rate = byte_rate
        self._idle_wait = idle_wait
        self._clock = clock
        self._file: BinaryIO | None = None
        self._timer: ItmDemux | None = None  # reads the timestamps for the pace
        self._start = 0.0
        self._offset = 0  # file bytes read so far
        self._piece = b""  # the next piece, read ahead to learn when it is due
        self._due = 0.0  # seconds after the start when `_piece` is due

    @property
    def name(self) -> str:
        return f"replay of {self.path}"

    @property
    def paced(self) -> bool:
        return self._core_clock is not None or self._byte_rate is not None

    def open(self) -> None:
        if self._file is not None:
            raise HeapguiError(f"{self.name} is already open")
        try:
            self._file = self.path.open("rb")
        except OSError as err:
            raise HeapguiError(f"{self.path}: {err.strerror or err}") from None
        self._timer = ItmDemux() if self._core_clock is not None else None
        self._offset = 0
        self._piece = b""
        self._start = self._clock()

    def read(self) -> bytes:
        if self._file is None:
            raise HeapguiError(f"{self.name} is not open")
        if not self.paced:
            data = self._read(FAST_READ)
            if not data:
                raise SourceEnded(self.name)
            return data
        out = bytearray(self._due_pieces())
        if not out:
            if not self._piece:
                raise SourceEnded(self.name)
            wait = self._due - (self._clock() - self._start)
            time.sleep(min(max(wait, 0.0), self._idle_wait))
            out += self._due_pieces()
        return bytes(out)

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()

    def _due_pieces(self) -> bytes:
        """The pieces whose time has come, up to READ_LIMIT bytes."""
        out = bytearray()
        now = self._clock() - self._start
        while len(out) < READ_LIMIT:
            if not self._piece:
                self._next_piece()
                if not self._piece:
                    break
            if self._due > now:
                break
            out += self._piece
            self._piece = b""
        return bytes(out)

    def _next_piece(self) -> None:
        self._piece = self._read(PIECE)
        if not self._piece:
            return
        if self._timer is not None:
            self._timer.feed(self._piece)
            assert self._core_clock is not None
            self._due = self._timer.stats.ticks / self._core_clock
        else:
            assert self._byte_rate is not None
            self._due = self._offset / self._byte_rate

    def _read(self, size: int) -> bytes:
        assert self._file is not None
        try:
            data = self._file.read(size)
        except OSError as err:
            raise HeapguiError(
                f"{self.path}: offset {self._offset}: {err.strerror or err}"
            ) from None
        self._offset += len(data)
        return data
