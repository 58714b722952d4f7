"""The `tagged` trace format (Drone master, Drone Stream).

A record is one tag byte (0 alloc, 1 dealloc, 2 grow, 3 shrink) followed by
the size as a 32-bit little-endian value, or by the old and the new size.

The format has no sync marker, and the zero high bytes of small sizes are
valid alloc tags, so after an inserted or lost byte the chain of records
rarely dies: read out of phase it goes on inventing allocations, whose sizes
are the true records' bytes shifted (huge values, or a true tag and size moved
up by a byte). The tolerant decoder therefore doubts such records, and
resynchronises by evidence, where the longest run of undoubted records starts:

- a size of 16 MiB or more (no Drone heap is that large) is doubted;
- so are three allocations in a row whose sizes are 256 or more with a low
  byte of 0-3, the shape of a tag moved up into a size;
- a doubted record is still kept unless its chain then passes MAX_DOUBTS
  doubted records in a row and does not lead to the resync point, which needs
  EVIDENCE_RECORDS undoubted records of its own (twice as many when the
  chain only had shifted-looking allocations: a burst of 1 KB allocations
  read one byte later is a run of allocations of 1);
- such a burst is byte for byte an inserted zero byte before a run of small
  allocations. What tells them apart is what follows: a chain read a byte
  early stays shifted-looking, while a real burst's doubted run ends. So a
  chain doubted only for its shifted shape is kept when, within BURST_REACH
  bytes, its doubted records are all identical and then EVIDENCE_RECORDS
  undoubted ones follow (or the stream ends exactly at a record boundary).

So a clean trace decodes exactly unless it holds several sizes of 16 MiB or
more in a row and another reading of those bytes is plausible, or a burst of
identical 256-byte-multiple allocations (three or more) that is longer than
BURST_REACH bytes (about 800 records), or that runs straight into other
shifted-looking records (another such burst of a different size) instead of
ordinary ones: those may still read as small allocations one byte later.
Strict mode doubts nothing: it decodes what drone decodes.

Speed: doubting takes a pass over every byte, which a clean trace should not
pay for. The decoder follows drone's chain first and judges only the records
on it that could be doubted (a few per MB, found from their sizes). Up to the
first corrupt header or doubted record that the evidence might not keep, that
chain is the tolerant decoder's own; from there EVIDENCE_SPAN bytes take the
evidence-based path as a chunk of their own, and drone's chain goes on where
that chunk settled (tests/test_tagged_clean_path.py holds the two to the same
result).
"""

from __future__ import annotations

import logging

import numpy as np

from heapgui.trace.chain import DEAD, Chain, follow_chain
from heapgui.trace.records import ALLOC, GROW, Records
from heapgui.trace.varlen import (
    ChainDecoder,
    ResyncTable,
    pack_records,
    value_view,
)

logger = logging.getLogger(__name__)

LENGTHS = (5, 5, 9, 9)  # bytes of each record kind: the tag, then one or two sizes
# Record length by tag byte; any other byte cannot start a record.
_STEP = np.full(256, DEAD, np.int64)
_STEP[: len(LENGTHS)] = LENGTHS
_TAGS = np.arange(4, dtype=np.uint8)[:, None]
NOT_A_TAG = 0xFF  # the code of a doubted record

EVIDENCE_RECORDS = 16  # undoubted records followed from each resync candidate
WINDOW = 32  # candidates compared, from the first plausible one
MAX_DOUBTS = 3  # doubted records in a row that a kept chain may pass through
LONG_EVIDENCE = 2 * EVIDENCE_RECORDS  # when only shifted-looking records are doubted
SHIFTED, HARD = 1, 2  # how a doubted chain derails (see `TaggedDecoder._derails`)
WALK_REACH = max(LENGTHS) + WINDOW  # where that walk ends, from the doubted record's start
# How far a chain that derails only SHIFTED is followed to see its doubted run end
# (a burst of identical 256-byte-multiple allocations does; a chain read a byte early
# does not). 4 KiB holds a burst of 800 allocations and keeps a waiting stream small.
BURST_REACH = 1 << 12
# Bytes judged as a chunk of their own after trouble; the tables over them stay in
# the caches (dense corruption decodes fastest at 256 KiB).
EVIDENCE_SPAN = 1 << 18
# Bytes followed alone before a piece's whole chain: dense corruption shows there cheaply.
TRIAL_BYTES = 256
# A record's code depends on its bytes, or on the next two's first four.
HORIZON = 14
# Bytes a resync decision may look at beyond its window: the evidence runs and their codes.
EVIDENCE_REACH = LONG_EVIDENCE * max(LENGTHS) + 2 * HORIZON


class TaggedDecoder(ChainDecoder):
    name = "tagged"
    lengths = LENGTHS
    max_length = max(LENGTHS)
    header_length = 1
    piece = 1 << 22  # bounds the arrays of a clean piece's records
    expected = "a record tag 0-3"
    evidence_steps = EVIDENCE_RECORDS

    def _decode_buffer(self, buf: bytes, base: int, final: bool) -> tuple[Records, int]:
        """Follow the records as drone does; judge doubts only around trouble.

        Marking doubted records takes a pass over every byte, and a clean trace
        still holds a few doubted ones (allocations of 256-byte multiples in a
        row), which the evidence keeps. Up to the first corrupt header, or the
        first doubted record that the evidence might not surely keep (see
        `_first_trouble`), the chain drone follows is the tolerant decoder's
        chain. From there the evidence-based path decodes EVIDENCE_SPAN bytes as
        a chunk of their own (chunks decode as the whole does), and drone's
        chain takes over again where that chunk settled.
        """
        if self.strict:
            return super()._decode_buffer(buf, base, final)
        data = np.frombuffer(buf, np.uint8)
        parts: list[Records] = []
        pos = 0
        while True:
            if not self._resyncing:
                records, pos, settled = self._follow_clean(buf, data, pos, base, final)
                parts.append(records)
                if settled is not None:
                    return Records.concat(parts), settled
            end = pos + EVIDENCE_SPAN
            rest = end >= data.size
            records, used = super()._decode_buffer(
                buf[pos:end], base + pos, final if rest else False
            )
            parts.append(records)
            if rest or not used:  # the whole rest, or nothing settled: the rest at once
                if not rest:
                    records, used = super()._decode_buffer(buf[pos:], base + pos, final)
                    parts.append(records)
                return Records.concat(parts), pos + used
            pos += used

    def _follow_clean(
        self, buf: bytes, data: np.ndarray, start: int, base: int, final: bool
    ) -> tuple[Records, int, int | None]:
        """The records on drone's chain from `start` up to the first trouble.

        Returns them, where the trouble is, and None; or, when there was none,
        how many bytes of `buf` are settled.
        """
        size = data.size
        stop = max(start, size - self._horizon(final) + 1)  # as the evidence-based path stops
        step = lambda pos: self._advance(data, pos)  # noqa: E731
        give_up = lambda dead: None  # noqa: E731
        # Dense corruption leaves the chain within a few records: look there first.
        chain = follow_chain(step, start, min(stop, start + TRIAL_BYTES), self.max_length, give_up)
        if chain.end < stop and chain.end >= start + TRIAL_BYTES:
            rest = follow_chain(step, chain.end, stop, self.max_length, give_up)
            chain = Chain(np.concatenate([chain.starts, rest.starts]), rest.end)
        starts = chain.starts
        partial = chain.end > size  # the last record runs past the data
        complete = starts[:-1] if partial else starts
        kind, sizes, new_sizes = self._fields(buf, data, complete)
        first = self._first_trouble(data, complete, kind, sizes, new_sizes, final)
        if first < complete.size:
            trouble = int(complete[first])
        elif partial and _doubted_at(data, starts[-1:])[0]:
            trouble = int(starts[-1])  # a doubted record the stream ends inside
        else:
            trouble = chain.end  # a corrupt header, or `stop`
        head = self._build(complete[:first], kind[:first], sizes[:first], new_sizes[:first], base)
        if trouble < stop:
            return head, trouble, None
        return head, trouble, size if final else chain.end

    def _first_trouble(
        self,
        data: np.ndarray,
        starts: np.ndarray,
        kind: np.ndarray,
        sizes: np.ndarray,
        new_sizes: np.ndarray,
        final: bool,
    ) -> int:
        """Index of the first record in `starts` that is doubted and not surely kept.

        `_derails` surely keeps a doubted record when the records it walks past
        (those starting within WALK_REACH bytes) are whole records of the chain
        with no MAX_DOUBTS doubted ones in a row. A record `_resume` would wait
        for more data to judge counts as trouble too. Only records that can be
        doubted at all (see `doubted_as_corrupt`) are judged byte by byte.
        """
        count = starts.size
        # An allocation read as a shifted record, then the next two records (or the
        # bytes past the last ones, which only the byte check can read).
        shifted = np.ones(count + 2, bool)
        shifted[:count] = (kind == ALLOC) & (sizes & 0xFC == 0) & (sizes >= 256)
        maybe = shifted[:count] & shifted[1 : count + 1] & shifted[2:]
        maybe |= np.maximum(sizes, new_sizes) >= 1 << 24
        suspects = np.flatnonzero(maybe)
        doubted = suspects[_doubted_at(data, starts[suspects])]
        if not doubted.size:
            return count
        # The last record each walk passes, and the first doubted run of MAX_DOUBTS from each.
        walked = np.searchsorted(starts, starts[doubted] + WALK_REACH, "right") - 1
        in_a_row = doubted[MAX_DOUBTS - 1 :] - doubted[: doubted.size - MAX_DOUBTS + 1]
        runs = np.append(doubted[: in_a_row.size][in_a_row == MAX_DOUBTS - 1], count)
        derailing = runs[np.searchsorted(runs, doubted)] + MAX_DOUBTS - 1
        kept = (walked + 1 < count) & (derailing > walked)
        if not final:  # `_resume` waits for the bytes its evidence may reach
            ends = starts[doubted] + _STEP[kind[doubted]]
            kept &= ends + WINDOW + EVIDENCE_REACH <= data.size
        unsure = np.flatnonzero(~kept)
        return int(doubted[unsure[0]]) if unsure.size else count

    def _advance(self, data: np.ndarray, pos: np.ndarray) -> np.ndarray:
        return pos + _STEP.take(data.take(pos, mode="clip"))

    def _codes(self, data: np.ndarray, final: bool) -> np.ndarray:
        return data if self.strict else doubted_as_corrupt(data)

    def _horizon(self, final: bool) -> int:
        return self.header_length if final or self.strict else HORIZON

    def _choose(self, data: np.ndarray, firsts: np.ndarray, final: bool) -> np.ndarray:
        """Resume at the candidate, among WINDOW from the first plausible one, with the longest run.

        Ties go to the earliest, which skips least. A window that reaches
        data not received yet is undecided (-1).
        """
        known = self._successors
        if known is not None and known[0] is data:  # dense corruption: every window at once
            return self._every_choice(data, final)[firsts]
        window = firsts[:, None] + np.arange(WINDOW, dtype=np.int64)
        runs, unsure = self._evidence(data, window.ravel(), final)
        runs, unsure = runs.reshape(window.shape), unsure.reshape(window.shape)
        choice = firsts + runs.argmax(axis=1)
        choice[unsure.any(axis=1)] = -1
        return choice

    def _every_choice(self, data: np.ndarray, final: bool) -> np.ndarray:
        """`_choose` for every position, by doubling windows of 1, 2, 4 ... WINDOW candidates.

        The best candidate of a window has the largest key: its run, then the
        earliest position. Computed once per buffer.
        """
        known = self._successors
        assert known is not None
        if "best" in known[2]:
            return known[2]["best"]
        size = data.size
        runs, ended = self._every_runs(final, EVIDENCE_RECORDS)
        unsure = ended & (not final)
        # The run takes the high bits, the position the low ones: in 32 bits when they fit.
        bits = max(size, 1).bit_length()
        dtype = np.int32 if bits + EVIDENCE_RECORDS.bit_length() < 32 else np.int64
        low = (1 << bits) - 1
        key = (runs.astype(dtype) << bits) | (low - np.arange(size, dtype=dtype))
        width = 1
        while width < WINDOW:
            # Past the end: no candidate, and not sure of it until the stream ends.
            key[:-width] = np.maximum(key[:-width], key[width:])
            unsure[:-width] |= unsure[width:]
            unsure[size - width :] |= not final
            width *= 2
        choice = low - (key & low)
        choice[unsure] = -1
        known[2]["best"] = choice
        return choice

    def _evidence(
        self, data: np.ndarray, candidates: np.ndarray, final: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Undoubted records in a row from each candidate (at most EVIDENCE_RECORDS), and
        whether more data could change that. Candidates past the end have none."""
        inside = candidates < data.size
        runs = np.full(candidates.size, -1, np.int64)
        unsure = ~inside & (not final)
        if inside.any():
            count, ended = self._runs(data, candidates[inside], final, EVIDENCE_RECORDS)
            runs[inside] = count
            unsure[inside] = ended & (not final)
        return runs, unsure

    def _evidence_at(self, table: ResyncTable, pos: int) -> int:
        return int(self._evidence(table.data, np.array([pos], np.int64), table.final)[0][0])

    def _resume(self, buf: bytes, table: ResyncTable, dead: int) -> tuple[int | None, int]:
        resumed, known = self._plausible_from(table, dead + 1)
        tag = buf[dead]
        if tag >= len(LENGTHS):  # a byte that is no tag: skip to the resync point
            return resumed, known
        # A doubted record: decide once all the evidence looked at below is in.
        end = dead + LENGTHS[tag]
        if not table.final and end + WINDOW + EVIDENCE_REACH > table.size:
            return None, dead  # wait, skipping nothing
        if resumed is None or resumed > min(end + WINDOW, table.size - 1):
            return self._keep(dead, end)
        derails = self._derails(buf, table, dead, resumed)
        if not derails:
            return self._keep(dead, end)
        if derails == SHIFTED:
            if not table.final and dead + BURST_REACH + EVIDENCE_REACH > table.size:
                return None, dead  # wait for the end of a possible burst, skipping nothing
            if self._burst_ends(buf, table, dead):
                return self._keep(dead, end)
        # Allocations of 256-byte multiples in a row look shifted too, and one
        # byte later read as allocations of 1: without harder evidence against
        # the chain, the resync point needs a longer run of its own.
        needed = EVIDENCE_RECORDS if derails == HARD else LONG_EVIDENCE
        run, _ = self._runs(table.data, np.array([resumed], np.int64), table.final, needed)
        return (resumed, known) if run[0] >= needed else self._keep(dead, end)

    def _derails(self, buf: bytes, table: ResyncTable, dead: int, resumed: int) -> int:
        """Whether the chain through the doubted record at `dead` is worse than resuming.

        It is, when within WINDOW it dies, or passes MAX_DOUBTS doubted records
        in a row (the shape of a chain read out of phase) and then does not
        reach the resync point. Clean traces with odd sizes have a doubted
        record here and there, and lead to the resync point when they have more.
        Returns 0 (keep it), SHIFTED, or HARD when it died or passed a size of
        16 MiB or more on the way.
        """
        doubts = 0
        derailed = 0
        pos = dead
        while pos <= dead + WALK_REACH and pos < table.size:
            if pos == resumed:
                return 0
            tag = buf[pos]
            if tag >= len(LENGTHS):
                return HARD
            if int(table.data[pos]) != NOT_A_TAG:
                if not derailed and self._evidence_at(table, pos) >= EVIDENCE_RECORDS:
                    return 0
                doubts = 0
            else:
                doubts += 1
                if doubts >= MAX_DOUBTS:
                    derailed = max(derailed, SHIFTED)
                high = buf[pos + 4 : pos + 5] + (buf[pos + 8 : pos + 9] if tag >= GROW else b"")
                if doubts >= MAX_DOUBTS and any(high):
                    derailed = HARD
            pos += LENGTHS[tag]
        return derailed

    def _burst_ends(self, buf: bytes, table: ResyncTable, dead: int) -> bool:
        """Whether the chain through `dead` leaves its doubted run within BURST_REACH bytes
        and then has EVIDENCE_RECORDS undoubted records, or ends the stream exactly;
        the doubted records on the way must all equal the one at `dead`.

        A burst of identical allocations of a 256-byte multiple looks shifted
        record after record, but read in phase it ends where the burst does. A
        chain read one byte early stays shifted-looking (or turns into sizes of
        16 MiB or more) for as long as it is followed.
        """
        burst = buf[dead : dead + LENGTHS[buf[dead]]]
        pos = dead
        while pos < dead + BURST_REACH:
            if pos >= table.size:
                return table.final and pos == table.size
            tag = buf[pos]
            if tag >= len(LENGTHS):
                return False
            if int(table.data[pos]) == NOT_A_TAG:
                # Read a byte early, other records (a grow's 9 bytes) bring a chain back
                # into phase: only a run of identical records is a burst.
                if buf[pos : pos + LENGTHS[tag]] != burst:
                    return False
            elif self._evidence_at(table, pos) >= EVIDENCE_RECORDS:
                return True
            pos += LENGTHS[tag]
        return False

    def _keep(self, dead: int, end: int) -> tuple[int, int]:
        self._kept.add(dead)
        return end, end

    def _assemble(self, buf: bytes, data: np.ndarray, starts: np.ndarray, base: int) -> Records:
        return self._build(starts, *self._fields(buf, data, starts), base)

    def _fields(
        self, buf: bytes, data: np.ndarray, starts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kind, size and new size (0 unless grow or shrink) of the whole records at `starts`."""
        if not starts.size:
            return data[:0], np.zeros(0, np.uint32), np.zeros(0, np.uint32)
        kind = data.take(starts)
        size = value_view(buf, 1)[starts]
        new_size = np.zeros(starts.size, np.uint32)
        pair = np.flatnonzero(kind >= GROW)
        new_size[pair] = value_view(buf, 5)[starts[pair]]
        return kind, size, new_size

    def _build(
        self,
        starts: np.ndarray,
        kind: np.ndarray,
        size: np.ndarray,
        new_size: np.ndarray,
        base: int,
    ) -> Records:
        """Records from their fields; counts `record_bytes`."""
        if not starts.size:
            return Records.empty()
        self.record_bytes += 5 * kind.size + 4 * int(np.count_nonzero(kind >= GROW))
        offset = starts + base if base else starts
        return Records.build(kind, size, new_size, offset)

    def _found(self, data: np.ndarray, pos: int) -> str:
        return f"0x{int(data[pos]):02x}"


def doubted_as_corrupt(data: np.ndarray) -> np.ndarray:
    """`data` with the tag of every doubted record replaced by NOT_A_TAG (see the module notes).

    Bytes past the end read as zeros, so a record cut short there is not
    doubted, and are no shifted records. Works along the last axis of `data`.
    Bytes 4-255 are no tags whatever their code, so only tags 0-3 are judged.
    """
    size = data.shape[-1]
    ahead = np.zeros((*data.shape[:-1], size + HORIZON), np.uint8)
    ahead[..., :size] = data
    doubt = ahead[..., 4 : size + 4] != 0  # the size's high byte
    doubt |= (data >= GROW) & (ahead[..., 8 : size + 8] != 0)  # the new size's high byte
    # A tag byte 0, a byte 0-3, then a non-zero byte: a tag moved up into a size.
    # Past the end that never holds: the zeros there give no non-zero byte.
    shifted = (ahead[..., : size + 10] | (ahead[..., 1 : size + 11] & np.uint8(0xFC))) == 0
    shifted &= (ahead[..., 2 : size + 12] | ahead[..., 3 : size + 13]) != 0
    # Shifted records are allocations, 5 bytes long: doubt three in a row.
    doubt |= shifted[..., :size] & shifted[..., 5 : size + 5] & shifted[..., 10 : size + 10]
    return np.where(doubt, np.uint8(NOT_A_TAG), data)


def _doubted_at(data: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Whether the record at each of `starts` (a tag 0-3) is doubted: `doubted_as_corrupt`
    on the HORIZON bytes from each, which are all its doubt depends on."""
    at = starts[:, None] + np.arange(HORIZON)
    window = np.where(at < data.size, data.take(at, mode="clip"), np.uint8(0))
    return doubted_as_corrupt(window)[:, 0] == NOT_A_TAG


def encode_tagged(records: Records) -> bytes:
    """The `tagged` bytes for `records` (offsets are ignored)."""
    return pack_records(records, _TAGS)
