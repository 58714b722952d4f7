"""Decoded heap operations as columns of numpy arrays.

A trace of ten million records must fit comfortably in memory and be processed
without a Python loop per record, so records are a struct of compact arrays
rather than a list of objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Kind codes equal the tag bytes of the `tagged` format.
ALLOC = 0
DEALLOC = 1
GROW = 2
SHRINK = 3
KIND_NAMES = ("alloc", "dealloc", "grow", "shrink")


@dataclass
class Records:
    """A run of records in trace order.

    `size` is the allocation size (the *old* size for grow/shrink); `new_size`
    is the new size for grow/shrink and 0 otherwise. `offset` is the byte
    offset of the record's first byte in the decoded stream. `first_index` is
    the record index of the first row, so chunks from a streaming decoder keep
    their place in the whole trace. `timestamp` is filled in by capture.
    """

    kind: np.ndarray
    size: np.ndarray
    new_size: np.ndarray
    offset: np.ndarray
    first_index: int = 0
    timestamp: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    @property
    def index(self) -> np.ndarray:
        """Record indices, computed rather than stored to save 8 bytes a record."""
        return np.arange(self.first_index, self.first_index + len(self), dtype=np.int64)

    @classmethod
    def empty(cls, first_index: int = 0) -> Records:
        return cls(
            kind=np.empty(0, np.uint8),
            size=np.empty(0, np.uint32),
            new_size=np.empty(0, np.uint32),
            offset=np.empty(0, np.int64),
            first_index=first_index,
        )

    @classmethod
    def build(
        cls,
        kind: np.ndarray,
        size: np.ndarray,
        new_size: np.ndarray,
        offset: np.ndarray,
        first_index: int = 0,
    ) -> Records:
        """Make records from any integer arrays, converting to the compact dtypes."""
        return cls(
            kind=np.asarray(kind, np.uint8),
            size=np.asarray(size, np.uint32),
            new_size=np.asarray(new_size, np.uint32),
            offset=np.asarray(offset, np.int64),
            first_index=first_index,
        )

    @classmethod
    def from_tuples(cls, ops: list[tuple], first_index: int = 0) -> Records:
        """Build from `("alloc", 12)` / `("grow", 12, 40)` tuples; for tests and examples."""
        kinds = [KIND_NAMES.index(op[0]) for op in ops]
        sizes = [op[1] for op in ops]
        new_sizes = [op[2] if len(op) > 2 else 0 for op in ops]
        return cls.build(kinds, sizes, new_sizes, np.zeros(len(ops)), first_index)

    def to_tuples(self) -> list[tuple]:
        """The inverse of `from_tuples`; grow/shrink keep both sizes."""
        out: list[tuple] = []
        for k, s, n in zip(
            self.kind.tolist(), self.size.tolist(), self.new_size.tolist(), strict=False
        ):
            out.append((KIND_NAMES[k], s, n) if k >= GROW else (KIND_NAMES[k], s))
        return out

    @classmethod
    def concat(cls, parts: list[Records]) -> Records:
        """Join consecutive chunks; the result starts at the first chunk's index."""
        parts = [p for p in parts if len(p)] or parts[:1]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        stamps = [p.timestamp for p in parts]
        timestamp = None
        if all(t is not None for t in stamps):
            timestamp = np.concatenate(stamps)  # type: ignore[arg-type]
        return cls(
            kind=np.concatenate([p.kind for p in parts]),
            size=np.concatenate([p.size for p in parts]),
            new_size=np.concatenate([p.new_size for p in parts]),
            offset=np.concatenate([p.offset for p in parts]),
            first_index=parts[0].first_index,
            timestamp=timestamp,
        )

    def ends(self, lengths: np.ndarray) -> np.ndarray:
        """The stream offset just after each record, given each kind's length in bytes.

        Never before an earlier record's end: a record interrupted by another is
        complete only once both are, which is what dates it.
        """
        ends = self.offset + np.asarray(lengths, np.int64)[self.kind]
        np.maximum.accumulate(ends, out=ends)
        return ends

    def slice(self, start: int, stop: int) -> Records:
        ts = None if self.timestamp is None else self.timestamp[start:stop]
        return Records(
            self.kind[start:stop],
            self.size[start:stop],
            self.new_size[start:stop],
            self.offset[start:stop],
            self.first_index + start,
            ts,
        )


class RecordBuffer:
    """Records appended chunk by chunk into columns allocated once.

    Joining the chunks of a ten-million-record file at the end would copy
    every column a second time; a capacity known up front (a file's size over
    the shortest record) avoids that. Pages past the end are never touched, so
    they cost address space, not memory. Without a known size (a live
    capture) the columns double when full, so appending stays linear.

    `records()` is a view: later appends write past its end or into new
    columns, never into it, so a view handed to another reader stays valid.
    With `timed`, the records' timestamps are kept too. With `stream_bytes`
    (a file's size) under 4 GiB, byte offsets are kept in 32 bits: 4 bytes a
    record less; they widen like any integer in arithmetic with 64-bit values.
    """

    COLUMNS = ("kind", "size", "new_size", "offset")

    def __init__(self, capacity: int, timed: bool = False, stream_bytes: int | None = None) -> None:
        narrow = stream_bytes is not None and stream_bytes <= 1 << 32
        self._columns = Records(
            np.empty(capacity, np.uint8),
            np.empty(capacity, np.uint32),
            np.empty(capacity, np.uint32),
            np.empty(capacity, np.uint32 if narrow else np.int64),
        )
        if timed:
            self._columns.timestamp = np.empty(capacity, np.int64)
        self._names = self.COLUMNS + (("timestamp",) if timed else ())
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, records: Records) -> None:
        offset = self._columns.offset
        if offset.dtype == np.uint32 and len(records) and int(records.offset.max()) >> 32:
            self._columns.offset = offset.astype(np.int64)  # the file grew past 4 GiB as read
        start, stop = self._length, self._length + len(records)
        if stop > len(self._columns):
            grown = Records.empty()
            for name in self._names:
                column = getattr(self._columns, name)
                wider = np.empty(max(stop, 2 * len(column)), column.dtype)
                wider[:start] = column[:start]
                setattr(grown, name, wider)
            self._columns = grown
        for name in self._names:
            getattr(self._columns, name)[start:stop] = getattr(records, name)
        self._length = stop

    def records(self) -> Records:
        return self._columns.slice(0, self._length)
