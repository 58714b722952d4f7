"""The heap size: one parser, one set of limits, and where the value came from.

Percentages, the layout and the validation all divide by the heap size, so a
guessed size must be visibly a guess: `HeapSize` carries its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from heapgui.errors import HeapguiError
from heapgui.sizes import MAX_SIZE, format_bytes, parse_size
from heapgui.trace.stats import Statistics

MIN_GUESSED_HEAP = 1024
"""The smallest guessed heap: below a kilobyte a power of two says little."""


class HeapSource(Enum):
    CONFIG = "config"
    TYPED = "typed"
    GUESSED = "guessed"


@dataclass(frozen=True)
class HeapSize:
    size: int
    source: HeapSource
    origin: str = ""
    """For a config: the file it was read from, as the user named it."""

    def describe(self) -> str:
        """The size with its source, never one without it: "65,536 B (Drone.toml)"."""
        if self.source is HeapSource.CONFIG:
            return f"{format_bytes(self.size)} ({self.origin or 'config'})"
        return f"{format_bytes(self.size)} ({self.source.value})"


def parse_heap_size(text: str) -> int:
    """A heap size typed by the user or given on the command line: 1 byte to 2^32 − 1."""
    size = parse_size(text)
    if size == 0:
        raise HeapguiError(f"invalid heap size {text!r}: expected 1 to {MAX_SIZE:,} bytes")
    return size


def guessed_heap_size(stats: Statistics) -> int:
    """A heap for a trace with no config: the next power of two that holds drone's bound."""
    needed = max(stats.max_usage, stats.peak_usage, MIN_GUESSED_HEAP)
    return 1 << (needed - 1).bit_length()


def guess_notice(before: HeapSize | None, after: HeapSize | None) -> str:
    """The notice owed when the heap size became a guess or the guess moved; "" otherwise.

    A guess changes without the user asking (a capture grows, a trace without a
    config opens), and every percentage and verdict changes with it: say so.
    """
    if after is None or after.source is not HeapSource.GUESSED or before in (None, after):
        return ""
    return (
        f"Heap size is now guessed: {after.describe()}, was {before.describe()}. "
        "Type the real size in the layout panel, or choose a config."
    )
