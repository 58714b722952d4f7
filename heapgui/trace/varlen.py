"""What the `tagged` and `legacy` formats share: a header, then 32-bit values.

The header fixes the record's kind and so its length; the values follow. Both
decoders find record starts with `heapgui.trace.chain.follow_chain` and read
the values with vectorised gathers, so no Python code runs per record.

Resynchronisation after a corrupt header (tolerant mode): skip to the next
*plausible* record start, the first position from which RUN_LENGTH valid
headers follow each other (or valid headers reach the end of the data), so a
stray byte that looks like a header does not end the skip. Strict mode stops
at the first corrupt header instead, as drone does.

Streaming: a feed settles only what more data cannot change. A record cut by
the end of the buffer, or a resync candidate whose run reaches the end, waits
for the next feed; a trailing partial record at the end of the stream is
dropped without complaint (the capture stopped mid-record).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import ClassVar

import numpy as np

from heapgui.errors import DecodeError
from heapgui.trace.chain import DEAD, follow_chain
from heapgui.trace.decoder import Decoder
from heapgui.trace.records import GROW, Records

logger = logging.getLogger(__name__)

RUN_LENGTH = 3  # valid records in a row that make a resync point plausible
FIRST_WINDOW = 64  # candidates examined in the first resync window; windows then double
MAX_WINDOW = 1 << 16

# Outcome of checking a resync candidate.
_PENDING, _PLAUSIBLE, _CORRUPT, _UNDECIDED = 0, 1, 2, 3


class ChainDecoder(Decoder):
    """A decoder for headers of known length followed by values.

    Subclasses say where each record ends (`_advance`) and how to read the
    records found (`_assemble`).
    """

    max_length: ClassVar[int]  # longest record, in bytes
    header_length: ClassVar[int]  # bytes that decide a record's kind
    expected: ClassVar[str]  # what a record header looks like, for error messages

    def __init__(self, strict: bool = False) -> None:
        super().__init__(strict)
        # The carried bytes begin inside a corrupt region: look for a plausible
        # record start before trusting any header.
        self._resyncing = False

    @abstractmethod
    def _advance(self, data: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Where the record starting at each position ends (>= DEAD: corrupt header).

        Only results for positions with a whole header inside `data` are used,
        but any int64 may be passed (see `follow_chain`): read with mode="clip".
        """

    @abstractmethod
    def _assemble(self, buf: bytes, data: np.ndarray, starts: np.ndarray, base: int) -> Records:
        """Read the complete records at `starts`; count `record_bytes`."""

    @abstractmethod
    def _found(self, data: np.ndarray, pos: int) -> str:
        """The corrupt header at `pos`, as shown in error messages."""

    def _decode(self, buf: bytes, base: int, final: bool) -> tuple[Records, int]:
        data = np.frombuffer(buf, np.uint8)
        size = data.size
        start = 0
        if self._resyncing:  # the previous feed ended inside a corrupt region
            resumed, known = self._plausible_from(data, 0, final)
            if resumed is None:
                self._skip_corrupt(data, base, 0, known)
                return Records.empty(), known
            self._skip_corrupt(data, base, 0, resumed)
            self._resyncing = False
            start = resumed

        undecided = [size]  # where the resync that gave up ran out of data

        def resync(dead: int) -> int | None:
            if self.strict:
                return None
            resumed, known = self._plausible_from(data, dead + 1, final)
            if resumed is None:
                undecided[0] = known
            return resumed

        # A record can only start where its whole header fits; fewer bytes at
        # the end are the beginning of a record the capture cut short.
        stop = max(start, size - self.header_length + 1)
        chain = follow_chain(
            lambda pos: self._advance(data, pos), start, stop, self.max_length, resync
        )
        for dead, resumed in chain.jumps:
            self._skip_corrupt(data, base, dead, resumed)

        starts = chain.starts
        if chain.end < stop:  # a corrupt header that strict mode or missing data stopped at
            records = self._assemble(buf, data, starts, base)
            if self.strict:
                raise DecodeError(base + chain.end, self.expected, self._found(data, chain.end))
            self._skip_corrupt(data, base, chain.end, undecided[0])
            self._resyncing = True
            return records, undecided[0]
        cut = chain.end  # where a record the data ends inside begins
        if chain.end > size:
            cut = int(starts[-1])
            starts = starts[:-1]
        return self._assemble(buf, data, starts, base), size if final else cut

    def _skip_corrupt(self, data: np.ndarray, base: int, begin: int, end: int) -> None:
        if end > begin:
            self._skip(base + begin, end - begin, self.expected, self._found(data, begin))

    def _plausible_from(self, data: np.ndarray, lo: int, final: bool) -> tuple[int | None, int]:
        """The first plausible record start at or after `lo`.

        Returns (start, start), or (None, x) when whether the candidate at x
        is plausible depends on data not received yet (never when `final`).
        At the end of final data, the end itself is the resync point.
        """
        size = data.size
        width = FIRST_WINDOW
        while lo < size:
            hi = min(size, lo + width)
            candidates = np.arange(lo, hi, dtype=np.int64)
            status = self._run_status(data, candidates, final)
            decided = np.flatnonzero(status != _CORRUPT)
            if decided.size:
                first = int(decided[0])
                where = lo + first
                return (where, where) if status[first] == _PLAUSIBLE else (None, where)
            lo, width = hi, min(2 * width, MAX_WINDOW)
        return (size, size) if final else (None, size)

    def _run_status(self, data: np.ndarray, candidates: np.ndarray, final: bool) -> np.ndarray:
        """Whether RUN_LENGTH valid headers follow each other from each candidate."""
        size = data.size
        status = np.full(candidates.size, _PENDING, np.int8)
        pos = candidates.copy()
        for _ in range(RUN_LENGTH):
            pending = status == _PENDING
            at_end = pending & (pos > size - self.header_length)
            status[at_end] = _PLAUSIBLE if final else _UNDECIDED
            live = np.flatnonzero(pending & ~at_end)
            if not live.size:
                break
            nxt = self._advance(data, pos[live])
            status[live[nxt >= DEAD]] = _CORRUPT
            pos[live] = nxt
        status[status == _PENDING] = _PLAUSIBLE
        return status


def value_view(buf: bytes | np.ndarray, skip: int, big_endian: bool = False) -> np.ndarray:
    """32-bit values starting at every byte offset of `buf`, shifted by `skip` bytes.

    ``value_view(buf, 1)[i]`` is the value stored at bytes i+1 to i+4. Gathers
    from (and scatters into) this overlapping, strided view read and write
    unaligned values without handling them byte by byte.
    """
    count = max(len(buf) - 3 - skip, 0)
    dtype = np.dtype(">u4" if big_endian else "<u4")
    if not count:
        return np.empty(0, dtype)
    return np.ndarray((count,), dtype=dtype, buffer=buf, offset=skip, strides=(1,))


def pack_records(
    records: Records, headers: np.ndarray, big_endian: bool = False, key: int = 0
) -> bytes:
    """Lay records out as header + value (alloc/dealloc) or header + old + new (grow/shrink).

    `headers[kind]` holds each kind's header bytes; values are XORed with `key`.
    """
    kind = records.kind
    if kind.size and kind.max() > 3:
        raise ValueError("record kinds must be 0-3 (alloc, dealloc, grow, shrink)")
    header_length = headers.shape[1]
    pair = np.flatnonzero(kind >= GROW)
    length = np.full(kind.size, header_length + 4, np.int64)
    length[pair] += 4
    starts = np.cumsum(length) - length
    out = np.zeros(int(length.sum()), np.uint8)
    for i in range(header_length):
        out[starts + i] = headers[kind, i]
    key32 = np.uint32(key)
    value_view(out, header_length, big_endian)[starts] = records.size.astype(np.uint32) ^ key32
    second = records.new_size[pair].astype(np.uint32) ^ key32
    value_view(out, header_length + 4, big_endian)[starts[pair]] = second
    return out.tobytes()
