"""What the `tagged` and `legacy` formats share: a header, then 32-bit values.

The header fixes the record's kind and so its length; the values follow. Both
decoders find record starts with `heapgui.trace.chain.follow_chain` and read
the values with vectorised gathers, so no Python code runs per record.

Resynchronisation after a corrupt header (tolerant mode): skip to the next
*plausible* record start, the first position from which RUN_LENGTH valid
headers follow each other (or valid headers reach the end of the data), so a
stray byte that looks like a header does not end the skip. A subclass may
choose among the candidates after that one by more evidence, and may doubt
records whose headers are valid (`tagged` does both). Strict mode stops at
the first corrupt header instead, as drone does.

Dense corruption (a bad word every few records) would cost a Python trip per
resync; past DENSE_JUMPS corrupt headers in a piece, the resync point of every
position is computed at once and the chain follows records and jumps alike.

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
from heapgui.trace.chain import DEAD, Chain, ResyncFn, follow_chain
from heapgui.trace.decoder import Decoder
from heapgui.trace.records import GROW, Records

logger = logging.getLogger(__name__)

RUN_LENGTH = 3  # valid records in a row that make a resync point plausible
DENSE_JUMPS = 4  # jumps in one buffer after which it is treated as densely corrupt

# Outcome of checking a resync candidate.
_PLAUSIBLE, _CORRUPT, _UNDECIDED = 1, 2, 3


class ChainDecoder(Decoder):
    """A decoder for headers of known length followed by values.

    Subclasses say where each record ends (`_advance`) and how to read the
    records found (`_assemble`).
    """

    max_length: ClassVar[int]  # longest record, in bytes
    header_length: ClassVar[int]  # bytes that decide a record's kind
    expected: ClassVar[str]  # what a record header looks like, for error messages
    evidence_steps: ClassVar[int] = RUN_LENGTH  # the longest runs a resync looks at

    def __init__(self, strict: bool = False) -> None:
        super().__init__(strict)
        # The carried bytes begin inside a corrupt region: look for a plausible
        # record start before trusting any header.
        self._resyncing = False
        # See `_next_record`: the codes, every position's successor, runs by length.
        self._successors: tuple[np.ndarray, np.ndarray, dict] | None = None

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

    def _codes(self, data: np.ndarray, final: bool) -> np.ndarray:
        """The bytes the chain is followed on; a subclass may mark records it doubts as corrupt.

        Such a doubted record is a *soft* dead end: `_resume` decides whether
        the chain keeps it (then it adds it to `_kept` and resumes at its end).
        """
        return data

    def _horizon(self, final: bool) -> int:
        """Bytes from a record start that its code depends on: closer to the end, wait for data."""
        return self.header_length

    def _decode(self, buf: bytes, base: int, final: bool) -> tuple[Records, int]:
        try:
            return self._decode_buffer(buf, base, final)
        finally:
            self._successors = None  # a table as large as the buffer: drop it

    def _decode_buffer(self, buf: bytes, base: int, final: bool) -> tuple[Records, int]:
        data = np.frombuffer(buf, np.uint8)
        codes = self._codes(data, final)
        size = data.size
        table = ResyncTable(self, codes, final)
        self._kept: set[int] = set()  # doubted records `_resume` kept in this buffer
        self._dense_skips: tuple[int, int] | None = None  # (first, bytes) `_follow` skipped
        start = 0
        if self._resyncing:  # the previous feed ended inside a corrupt region
            resumed, known = self._plausible_from(table, 0)
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
            resumed, known = self._resume(buf, table, dead)
            if resumed is None:
                undecided[0] = known
            return resumed

        # A record can only start where its code is known; the bytes after that
        # wait for more data, or at the end are a record the capture cut short.
        stop = max(start, size - self._horizon(final) + 1)
        chain = self._follow(data, codes, table, start, stop, resync)
        starts = self._keep_accepted(data, base, chain.starts, chain.jumps)
        if chain.end < stop:  # a corrupt header that strict mode or missing data stopped at
            records = self._assemble(buf, data, starts, base)
            if self.strict:
                raise DecodeError(base + chain.end, self.expected, self._found(data, chain.end))
            if undecided[0] > chain.end:  # else a doubted record waits for more data
                self._skip_corrupt(data, base, chain.end, undecided[0])
                self._resyncing = True
            return records, undecided[0]
        cut = chain.end  # where a record the data ends inside begins
        if chain.end > size:
            cut = int(starts[-1])
            starts = starts[:-1]
        return self._assemble(buf, data, starts, base), size if final else cut

    def _follow(
        self,
        data: np.ndarray,
        codes: np.ndarray,
        table: ResyncTable,
        start: int,
        stop: int,
        resync: ResyncFn,
    ) -> Chain:
        """`follow_chain` over the codes; after DENSE_JUMPS jumps, over dense corruption.

        There a jump every few records would cost a Python trip each, so every
        corrupt header's resync point is looked up in a table built for the rest
        of the buffer, and the chain follows records and jumps alike, vectorised.
        Doubted records and undecided resyncs still go through `resync`.
        """
        jumps = [0]
        handover: list[int] = []

        def counting(dead: int) -> int | None:
            jumps[0] += codes[dead] == data[dead]  # doubted records are no corruption yet
            if jumps[0] > DENSE_JUMPS and not self.strict:
                handover.append(dead)
                return None
            return resync(dead)

        step = lambda pos: self._next_record(codes, pos)  # noqa: E731
        chain = follow_chain(step, start, stop, self.max_length, counting)
        if not handover:
            return chain
        lo = handover[0]
        targets = table.resume_targets(lo)
        # One successor table for records and jumps: one gather per step. Doubted
        # records stay dead ends: `resync` decides.
        assert self._successors is not None  # made by `resume_targets`
        jumped = self._successors[1].copy()
        ahead = jumped[lo:]
        corrupt_ahead = (ahead >= DEAD) & (codes[lo:] == data[lo:])
        np.copyto(ahead, targets, where=corrupt_ahead)
        dense = lambda pos: jumped.take(pos, mode="clip")  # noqa: E731
        rest = follow_chain(dense, lo, stop, self.max_length, resync)
        corrupt = step(rest.starts) >= DEAD
        origins = rest.starts[corrupt]
        if origins.size:
            skipped = int((targets[origins - lo] - origins).sum())
            self._dense_skips = (int(origins[0]), skipped)
        starts = np.concatenate([chain.starts, rest.starts[~corrupt]])
        return Chain(starts, rest.end, chain.jumps + rest.jumps)

    def _resume(self, buf: bytes, table: ResyncTable, dead: int) -> tuple[int | None, int]:
        """Where the chain resumes after the corrupt header at `dead` (see `_plausible_from`)."""
        return self._plausible_from(table, dead + 1)

    def _keep_accepted(
        self, data: np.ndarray, base: int, starts: np.ndarray, jumps: list[tuple[int, int]]
    ) -> np.ndarray:
        """Count the bytes the jumps skipped; add the doubted records kept to the starts.

        The skips are counted as one problem: dense corruption makes many.
        """
        kept = [dead for dead, _ in jumps if dead in self._kept]
        skips = [(dead, resumed) for dead, resumed in jumps if dead not in self._kept]
        skipped = sum(resumed - dead for dead, resumed in skips)
        firsts = [dead for dead, _ in skips]
        if self._dense_skips is not None:  # the jumps `_follow` made by table
            firsts.append(self._dense_skips[0])
            skipped += self._dense_skips[1]
            self._dense_skips = None
        if firsts:
            first = min(firsts)
            self._skip(base + first, skipped, self.expected, self._found(data, first))
        if not kept:
            return starts
        extra = np.array(kept, np.int64)
        return np.insert(starts, np.searchsorted(starts, extra), extra)

    def _skip_corrupt(self, data: np.ndarray, base: int, begin: int, end: int) -> None:
        if end > begin:
            self._skip(base + begin, end - begin, self.expected, self._found(data, begin))

    def _plausible_from(self, table: ResyncTable, lo: int) -> tuple[int | None, int]:
        """The record start to resume at, from the first plausible one at or after `lo`.

        Returns (start, first candidate), or (None, x) when the choice depends
        on data not received yet (never when final): bytes before x are garbage
        either way. At the end of final data, the end itself is the resync point.
        """
        where = table.first_decided(lo)
        if where >= table.size:
            return (table.size, table.size) if table.final else (None, table.size)
        choice = table.choice(where)
        return (None, where) if choice < 0 else (choice, where)

    def _runs(
        self, data: np.ndarray, candidates: np.ndarray, final: bool, steps: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Records that follow each other from each candidate (at most `steps`).

        Returns the counts and whether each run reached the end of the data
        (where more data, or the end of the stream, decides how it goes on).
        """
        known = self._successors
        if known is not None and known[0] is data:
            count, ended = self._every_runs(final, steps)
            return count[candidates], ended[candidates]
        size = data.size
        count = np.zeros(candidates.size, np.int64)
        ended = np.zeros(candidates.size, bool)
        live = np.arange(candidates.size)
        pos = candidates.copy()
        last = size - self._horizon(final)
        for _ in range(steps):
            at_end = pos > last
            ended[live[at_end]] = True
            nxt = self._next_record(data, pos)
            alive = ~at_end & (nxt < DEAD)
            live, pos = live[alive], nxt[alive]
            count[live] += 1
            if not live.size:
                break
        return count, ended

    def _every_runs(self, final: bool, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """`_runs` from every position of the buffer whose successors are known."""
        known = self._successors
        assert known is not None
        # The longest runs asked for in this piece give the shorter ones too.
        longest = max(steps, self.evidence_steps)
        if longest not in known[2]:
            known[2][longest] = self._every_run(known[1], final, longest)
        count, ended = known[2][longest]
        if steps == longest:
            return count, ended
        return np.minimum(count, steps), ended & (count < steps)

    def _every_run(
        self, successors: np.ndarray, final: bool, steps: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """`_runs` from every position at once, by doubling: 2^k steps are two of 2^(k-1).

        A walk that stops (a corrupt header, or the end of the data) stays
        where it is; position `size` stands for everything past the end.
        """
        size = successors.size
        last = size - self._horizon(final)
        # 8-bit counts cut the memory traffic; positions stay 64-bit, the index type
        # `take` wants (it would convert 32-bit ones on every call).
        here = np.arange(size + 1, dtype=np.int64)
        valid = np.zeros(size + 1, bool)
        valid[:size] = successors < DEAD
        valid[max(last + 1, 0) :] = False
        jump = here.copy()
        np.copyto(jump[:size], successors, where=valid[:size])
        # Only the last records can run past the end, which `size` stands for.
        tail = jump[max(size - self.max_length, 0) :]
        np.minimum(tail, size, out=tail)
        count = valid.astype(np.uint8)  # at most 2 * steps
        for _ in range(max(steps - 1, 0).bit_length()):
            count += count.take(jump)
            jump = jump.take(jump)
        ended = (count < steps) & (jump > last)
        return np.minimum(count[:size], steps), ended[:size]

    def _next_record(self, data: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """`_advance`, looked up when a table of every position's successor was made for `data`."""
        known = self._successors
        if known is not None and known[0] is data:
            return known[1].take(pos, mode="clip")
        return self._advance(data, pos)

    def _status(self, data: np.ndarray, candidates: np.ndarray, final: bool) -> np.ndarray:
        """Resync status of each candidate: plausible when RUN_LENGTH valid headers follow."""
        count, ended = self._runs(data, candidates, final, RUN_LENGTH)
        return run_status(count, ended, RUN_LENGTH, final)

    def _choose(self, data: np.ndarray, firsts: np.ndarray, final: bool) -> np.ndarray:
        """Where to resume when each of `firsts` is the first plausible candidate (-1: undecided).

        The chain resumes at the first plausible candidate itself.
        """
        return firsts

    def _every_choice(self, data: np.ndarray, final: bool) -> np.ndarray:
        """`_choose` for every position of the buffer whose successors are known."""
        return np.arange(data.size, dtype=np.int64)


class ResyncTable:
    """Resync statuses of a buffer's positions, computed a block at a time when first asked.

    Dense corruption asks for a resync point every few records; one vectorised
    pass per block answers all of them, where a pass per question would cost
    tens of microseconds each.
    """

    BLOCK = 1 << 12

    def __init__(self, decoder: ChainDecoder, data: np.ndarray, final: bool) -> None:
        self.decoder = decoder
        self.data = data
        self.size = data.size
        self.final = final
        self._blocks: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _block(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(status, first decided candidate at or after each position) of a block."""
        if index not in self._blocks:
            lo = index * self.BLOCK
            candidates = np.arange(lo, min(self.size, lo + self.BLOCK), dtype=np.int64)
            status = self.decoder._status(self.data, candidates, self.final)
            self._blocks[index] = (status, first_decided(status, candidates, self.size))
        return self._blocks[index]

    def resume_targets(self, lo: int) -> np.ndarray:
        """For every position from `lo` on: where the chain resumes after a corrupt
        header there (as `_plausible_from` says), or DEAD where that is undecided."""
        every = np.arange(self.size, dtype=np.int64)
        # Status and evidence follow records from every position: look each step up once.
        self.decoder._successors = (self.data, self.decoder._advance(self.data, every), {})
        count, ended = self.decoder._every_runs(self.final, RUN_LENGTH)
        status = run_status(count, ended, RUN_LENGTH, self.final)
        # Where to resume when each position is the first plausible candidate (-1: undecided),
        # and past the last one: at the end of the stream, or undecided.
        choice = np.where(
            status == _PLAUSIBLE, self.decoder._every_choice(self.data, self.final), -1
        )
        choice = np.append(choice, self.size if self.final else -1)
        # After a corrupt header at p, the search starts at p + 1.
        candidates = every[lo + 1 :]
        after = np.append(first_decided(status[lo + 1 :], candidates, self.size), self.size)
        targets = choice.take(after).astype(np.int64)  # the choices may be 32-bit
        targets[targets < 0] = DEAD
        return targets

    def first_decided(self, lo: int) -> int:
        """The first position at or after `lo` that is not corrupt (plausible or undecided)."""
        while lo < self.size:
            index = lo // self.BLOCK
            found = int(self._block(index)[1][lo - index * self.BLOCK])
            if found < self.size:
                return found
            lo = (index + 1) * self.BLOCK
        return self.size

    def choice(self, pos: int) -> int:
        """Where to resume when `pos` is the first plausible candidate; -1: undecided."""
        index = pos // self.BLOCK
        if self._block(index)[0][pos - index * self.BLOCK] != _PLAUSIBLE:
            return -1
        return int(self.decoder._choose(self.data, np.array([pos], np.int64), self.final)[0])


def first_decided(status: np.ndarray, candidates: np.ndarray, none: int) -> np.ndarray:
    """For each candidate, the first one at or after it that is not corrupt (`none`: no such)."""
    marks = np.where(status != _CORRUPT, candidates, none)
    return np.minimum.accumulate(marks[::-1])[::-1]


def run_status(count: np.ndarray, ended: np.ndarray, needed: int, final: bool) -> np.ndarray:
    """Plausible where `needed` records follow each other, or valid ones reach the end of
    the stream; undecided where they reach the end of the data received so far."""
    status = np.where(count >= needed, _PLAUSIBLE, _CORRUPT).astype(np.int8)
    status[ended & (count < needed)] = _PLAUSIBLE if final else _UNDECIDED
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
