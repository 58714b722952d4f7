"""Where Drone Stream's structures sit in target RAM (drone master, November 2022 on).

The enable mask is one u32; each buffer is a 12-byte runtime header
(`buffer_size`, `read_cursor`, `write_cursor`) followed by the ring itself.
The addresses come from an ELF or from layout.toml; `source` says which, so
that a mismatch with the flashed firmware can name what was stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from heapgui.layout.config_flexible import STREAM_RUNTIME_SIZE


@dataclass(frozen=True)
class StreamBuffer:
    """One ring buffer, normally one per core: `[stream.<name>]` in layout.toml."""

    name: str
    runtime: int
    """Address of the runtime header (RT)."""
    size: int
    """Ring size in bytes, as `buffer_size` at RT+0 must read."""

    @property
    def buffer(self) -> int:
        """Address of the ring's first byte (BUF), right after the header."""
        return self.runtime + STREAM_RUNTIME_SIZE

    @property
    def size_address(self) -> int:
        """Where `buffer_size` is: the firmware's own copy of `size`."""
        return self.runtime

    @property
    def read_cursor_address(self) -> int:
        """Where `read_cursor` is; only the host writes it."""
        return self.runtime + 4

    @property
    def write_cursor_address(self) -> int:
        """Where `write_cursor` is; only the firmware writes it."""
        return self.runtime + 8


@dataclass(frozen=True)
class StreamMap:
    """The enable mask and every buffer of one firmware image."""

    mask: int
    """Address of the u32 enable mask (`GLOBAL_RT`)."""
    buffers: tuple[StreamBuffer, ...]
    source: str
    """Where the addresses came from, for messages: a path and how it was read."""
