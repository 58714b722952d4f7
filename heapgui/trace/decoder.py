"""The streaming decoder interface shared by the three trace formats.

Live capture feeds bytes in arbitrary chunks, so every decoder carries a
partial record (and, for `framed`, its open frames) from one `feed` to the
next. Loading a file is the same code fed once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from heapgui.errors import DecodeError
from heapgui.trace.problems import SKIPPED_BYTES, ProblemLog
from heapgui.trace.records import Records


class Decoder(ABC):
    """Tolerant by default: corrupt regions are skipped, counted and resynced.

    With `strict=True` the first corruption raises `DecodeError`, the way
    drone stops on a corrupted trace.
    """

    name: ClassVar[str]
    lengths: ClassVar[tuple[int, int, int, int]]  # bytes of an alloc, dealloc, grow, shrink
    # Large inputs are decoded this many bytes at a time (None: all at once), so
    # that every numpy pass over a piece stays in the CPU caches.
    piece: ClassVar[int | None] = None

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.problems = ProblemLog()
        self.record_bytes = 0  # bytes that ended up inside valid records (detection score)
        self._carry = b""
        self._carry_offset = 0  # stream offset of the carry's first byte
        self._emitted = 0

    @property
    def consumed(self) -> int:
        """Stream offset up to which bytes have been decided (records or skips)."""
        return self._carry_offset

    @property
    def skipped_bytes(self) -> int:
        return self.problems.total(SKIPPED_BYTES)

    def feed(self, data: bytes | bytearray | memoryview) -> Records:
        """Decode what is complete in `data` and the carried tail; keep the rest."""
        view = memoryview(data)
        step = self.piece or len(view) or 1
        parts = [
            self._run(self._carry + bytes(view[at : at + step]), final=False)
            for at in range(0, len(view), step)
        ]
        return Records.concat(parts) if parts else Records.empty(self._emitted)

    def finish(self) -> Records:
        """Flush at end of stream: a trailing partial record is dropped, not an error."""
        return self._run(self._carry, final=True)

    def _run(self, buf: bytes, final: bool) -> Records:
        records, used = self._decode(buf, self._carry_offset, final)
        records.first_index = self._emitted
        self._emitted += len(records)
        self._carry = b"" if final else buf[used:]
        self._carry_offset += len(buf) if final else used
        return records

    @abstractmethod
    def _decode(self, buf: bytes, base: int, final: bool) -> tuple[Records, int]:
        """Decode `buf`, whose first byte is at stream offset `base`.

        Returns the records completed in it (offsets absolute) and how many
        leading bytes of `buf` are settled; the rest is carried to the next call.
        """

    def _skip(self, offset: int, count: int, expected: str, found: str) -> None:
        """Account for `count` corrupt bytes at `offset`, or stop in strict mode."""
        if self.strict:
            raise DecodeError(offset, expected, found)
        self.problems.add(SKIPPED_BYTES, offset, count)
