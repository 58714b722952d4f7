"""Counting what went wrong in a trace without stopping at the first fault."""

from __future__ import annotations

from dataclasses import dataclass

# Problem kinds, and how each reads in plain words.
SKIPPED_BYTES = "skipped_bytes"
INVALID_FRAME = "invalid_frame"
INVALID_SEQUENCE = "invalid_sequence"
INVALID_VALUE = "invalid_value"
DROPPED_FRAMES = "dropped_frames"
UNMATCHED_DEALLOC = "unmatched_dealloc"
OVERSIZE_ALLOC = "oversize_alloc"
ZERO_SIZE_ALLOC = "zero_size_alloc"

# (one, several): "{size}" stands for the problem's size where the wording needs it.
DESCRIPTIONS = {
    SKIPPED_BYTES: (
        "byte skipped while resynchronising after corrupt data",
        "bytes skipped while resynchronising after corrupt data",
    ),
    INVALID_FRAME: (
        "word with an invalid frame header or non-zero padding",
        "words with an invalid frame header or non-zero padding",
    ),
    INVALID_SEQUENCE: (
        "continuation word with no open frame of its kind",
        "continuation words with no open frame of their kind",
    ),
    INVALID_VALUE: (
        "record holding a forbidden value (a stored zero)",
        "records holding a forbidden value (a stored zero)",
    ),
    DROPPED_FRAMES: (
        "unclosed frame dropped, the oldest first, to keep a few thousand open",
        "unclosed frames dropped, the oldest first, to keep a few thousand open",
    ),
    UNMATCHED_DEALLOC: (
        "deallocation of {size} bytes that matches no live allocation",
        "deallocations of {size} bytes that match no live allocation",
    ),
    OVERSIZE_ALLOC: (
        "allocation of {size} bytes, larger than the whole heap",
        "allocations of {size} bytes, larger than the whole heap",
    ),
    ZERO_SIZE_ALLOC: ("allocation of size 0", "allocations of size 0"),
}

QUIRK_HINT = (
    "This looks like the drone-core 0.12-0.14 firmware quirk: the first trace word "
    "carries size >> 24 instead of size >> 8, so sizes of 256 bytes and more lose "
    "bits 8-23 (1024 reads as 0, 300 as 44). Statistics for those sizes are wrong; "
    "update drone-core or treat large pools with care."
)


@dataclass
class Problem:
    kind: str
    size: int | None
    count: int
    first_offset: int

    def describe(self) -> str:
        """E.g. "1 allocation of size 0, first at byte offset 16"."""
        words = DESCRIPTIONS.get(self.kind)
        if words is None:
            size = f" (size {self.size})" if self.size is not None else ""
            what = f"{self.kind}{size}"
        else:
            what = words[self.count != 1].format(size=self.size)
        return f"{self.count} {what}, first at byte offset {self.first_offset}"

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "size": self.size,
            "count": self.count,
            "first_offset": self.first_offset,
        }


class ProblemLog:
    """Problems keyed by (kind, size): a count and the first byte offset."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, int | None], Problem] = {}

    def add(self, kind: str, offset: int, count: int = 1, size: int | None = None) -> None:
        key = (kind, size)
        item = self._items.get(key)
        if item is None:
            self._items[key] = Problem(kind, size, count, offset)
        else:
            item.count += count
            item.first_offset = min(item.first_offset, offset)

    def merge(self, other: ProblemLog) -> None:
        for p in other:
            self.add(p.kind, p.first_offset, p.count, p.size)

    def __iter__(self):
        return iter(sorted(self._items.values(), key=lambda p: (p.first_offset, p.kind)))

    def __len__(self) -> int:
        return len(self._items)

    def total(self, kind: str) -> int:
        return sum(p.count for p in self._items.values() if p.kind == kind)

    def shows_firmware_quirk(self) -> bool:
        """Size-0 allocations or unmatched deallocations are the quirk's symptoms."""
        return bool(self.total(ZERO_SIZE_ALLOC) or self.total(UNMATCHED_DEALLOC))


EMPTY_TRACE_HINT = (
    "The file is empty: the capture recorded nothing. Check that the firmware was built "
    "with heap tracing on and that the capture enabled the heap trace's port or stream."
)


def usage_hints(
    bytes_read: int, peak_usage: int, peak_record: int, heap_size: int | None
) -> list[str]:
    """What the numbers say beyond decoding: nothing captured, or more in use than the heap.

    Every pool block is at least the size it serves, so bytes in use above the heap
    size mean that no layout of that heap can hold the trace.
    """
    if bytes_read == 0:
        return [EMPTY_TRACE_HINT]
    if heap_size and peak_usage > heap_size:
        share = peak_usage / heap_size * 100
        return [
            f"Peak exceeds heap: {peak_usage:,} B in use at record {peak_record:,}, "
            f"{share:.1f}% of the {heap_size:,} B heap; no pool layout of this heap can hold it"
        ]
    return []
