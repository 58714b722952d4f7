"""The host's side of one Drone Stream ring buffer: poll, unwrap, split into frames.

This is `drone-stream.md` section 5 to the letter. Each poll reads the
firmware's `write_cursor` once, reads the bytes between the host's read
cursor and it (two reads when the data wraps), and only then writes the
read cursor back, so the firmware never reuses space the host has not read.
The bytes are split into frames (stream number, length, payload); a 0xFF
where a stream number should be is the wrap marker and the data continues
where the second read started. A frame is never split, and at most one wrap
happens between two polls, so anything else is corrupt data: the rest of
that poll's bytes are skipped (counted) and the next poll starts clean at
the write cursor, which is always a frame boundary.

Nothing here knows pyOCD: target memory is anything with the four
`TargetMemory` methods, so the same code runs against a probe, the
simulated board and the tests' model.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from typing import Protocol

from heapgui.capture.stream_map import StreamBuffer
from heapgui.errors import HeapguiError

logger = logging.getLogger(__name__)

WRAP_MARKER = 0xFF
HEADER = 2  # stream number and payload length
MAX_STREAM = 31
BOOTSTRAP = bytes.fromhex("298BEAF438D5EEA2E2AF3EC7E5B1A84A")
"""What the firmware looks for at the start of its buffer after a reset (section 5)."""


class TargetMemory(Protocol):
    """Word and block access to target RAM while the core runs."""

    def read32(self, addr: int) -> int: ...

    def read_block(self, addr: int, length: int) -> bytes: ...

    def write32(self, addr: int, value: int) -> None: ...

    def write_block(self, addr: int, data: bytes) -> None: ...


class StreamCorrupt(HeapguiError):
    """A buffer's header holds values no firmware writes: the map is stale or memory is not RAM."""


@dataclass(frozen=True)
class Frame:
    """One frame as the firmware wrote it, with the buffer (core) it came from."""

    core: int  # index of the buffer in the map
    stream: int
    payload: bytes


@dataclass
class RingPoll:
    """What one poll of one buffer brought."""

    frames: list[Frame]
    read: int  # bytes read from the ring (frames, marker and what was skipped)
    pending: int  # bytes the firmware had written and the host not yet read, before this poll
    skipped: int = 0  # bytes of corrupt data skipped
    skipped_at: int = 0  # position in this buffer's byte stream where the skip began


def split_frames(core: int, data: bytes, wrap_at: int | None) -> tuple[list[Frame], int]:
    """The frames in `data`, and the offset where corrupt data began (len(data) if none).

    `wrap_at` is where the bytes from the start of the buffer begin in
    `data` (None when this poll did not wrap). A marker jumps there; a frame
    may also end exactly at it (a frame that ends at `size` wraps with no
    marker). A frame across it, a second marker or a stream number above 31
    is corrupt.
    """
    frames: list[Frame] = []
    end = len(data)
    wrapped = wrap_at is None  # no (further) wrap may come
    limit = end if wrap_at is None else wrap_at  # no frame may cross it
    at = 0
    while at < end:
        if at == limit and not wrapped:  # a frame ended exactly at the end of the buffer
            wrapped, limit = True, end
            continue
        stream = data[at]
        if stream == WRAP_MARKER:
            if wrapped:
                return frames, at
            assert wrap_at is not None
            at, wrapped, limit = wrap_at, True, end
            continue
        if stream > MAX_STREAM or at + HEADER > limit:
            return frames, at
        stop = at + HEADER + data[at + 1]
        if stop > limit:
            return frames, at
        frames.append(Frame(core, stream, data[at + HEADER : stop]))
        at = stop
    return frames, at


class RingReader:
    """One buffer: the host's read cursor and the polls that advance it."""

    def __init__(self, core: int, buffer: StreamBuffer, memory: TargetMemory) -> None:
        self.core = core
        self.buffer = buffer
        self.memory = memory
        self.cursor = 0  # the host's read cursor; what it wrote to `read_cursor` last
        self.position = 0  # bytes read from this buffer since the capture began

    @property
    def name(self) -> str:
        return self.buffer.name

    def check_size(self, source: str) -> None:
        """`buffer_size` at RT+0 must be the map's size before any address is trusted."""
        b = self.buffer
        found = self.memory.read32(b.size_address)
        if found != b.size:
            raise StreamCorrupt(
                f"stream {b.name}: buffer_size at 0x{b.size_address:08X} is {found}, but {source} "
                f"says {b.size}: the ELF or layout.toml does not match the flashed firmware"
            )

    def attach(self, drain_backlog: bool) -> int:
        """Start reading a running firmware's buffer; returns the backlog skipped (bytes).

        drone skips what is pending (read cursor := write cursor); draining
        instead starts from the firmware's own read cursor.
        """
        b = self.buffer
        write = self._cursor(b.write_cursor_address, "write_cursor")
        target = self._cursor(b.read_cursor_address, "read_cursor")
        self.cursor = target if drain_backlog else write
        self.memory.write32(b.read_cursor_address, self.cursor)
        return 0 if drain_backlog else (write - target) % b.size

    def bootstrap(self, mask: int) -> None:
        """Section 5's bootstrap block, written while the core is halted at reset."""
        b = self.buffer
        block = BOOTSTRAP + struct.pack("<IIII", b.size, 0, 0, mask)
        self.memory.write_block(b.buffer, block)
        self.memory.write32(b.read_cursor_address, 0)
        self.memory.write32(b.write_cursor_address, 0)
        self.cursor = 0

    def poll(self) -> RingPoll:
        """Read what the firmware wrote since the last poll and release its space."""
        b = self.buffer
        rc = self.cursor
        wc = self._cursor(b.write_cursor_address, "write_cursor")  # read once
        if wc == rc:
            return RingPoll([], 0, 0)
        if wc > rc:
            data, wrap_at = self.memory.read_block(b.buffer + rc, wc - rc), None
        else:
            data = self.memory.read_block(b.buffer + rc, b.size - rc)
            wrap_at = len(data)
            if wc > 0:
                data += self.memory.read_block(b.buffer, wc)
        # Released only now: the firmware may overwrite what was read, never more.
        self.cursor = wc
        self.memory.write32(b.read_cursor_address, wc)
        frames, good = split_frames(self.core, data, wrap_at)
        poll = RingPoll(frames, len(data), len(data))
        if good < len(data):
            poll.skipped, poll.skipped_at = len(data) - good, self.position + good
            logger.info(
                "stream %s: %d bytes of corrupt data at 0x%08X skipped",
                b.name,
                poll.skipped,
                b.buffer + (rc + good) % b.size,
            )
        self.position += len(data)
        return poll

    def _cursor(self, addr: int, what: str) -> int:
        value = self.memory.read32(addr)
        if value >= self.buffer.size:
            raise StreamCorrupt(
                f"stream {self.buffer.name}: {what} at 0x{addr:08X} is {value}, outside the "
                f"{self.buffer.size}-byte buffer; was the target reset or reflashed?"
            )
        return value
