"""The `framed` format of Drone 0.12-0.14: XOR-keyed 32-bit words, records split in frames.

Each little-endian word, XORed with the key, carries a header in its top byte
and three payload bytes. A record is opened by its `*1` word and closed by its
last word; an interrupt may emit whole records between the words of another, so
open frames are kept on one LIFO stack per record kind.

The fast path recognises records whose words lie next to each other with
shifted comparisons over the whole word array. Everything else (nested
records, orphans, garbage, frames split across chunks) goes through a careful
stack machine that only ever sees those few leftover words. Garbage is
skipped to the next run of valid words at any alignment; when there is
garbage every few records, the runs are found and decoded as one array.
"""

from __future__ import annotations

import sys
from collections import deque

import numpy as np

from heapgui.errors import DecodeError
from heapgui.trace.chain import follow_chain
from heapgui.trace.decoder import Decoder
from heapgui.trace.problems import DROPPED_FRAMES, INVALID_FRAME, INVALID_SEQUENCE
from heapgui.trace.records import ALLOC, DEALLOC, GROW, SHRINK, Records

KEY = 0xC5ACCE55

# header -> (kind, position of the word inside its record, words in the record)
HEADERS = {
    0xA1: (ALLOC, 0, 2),
    0xA2: (ALLOC, 1, 2),
    0xD1: (DEALLOC, 0, 2),
    0xD2: (DEALLOC, 1, 2),
    0xB1: (GROW, 0, 3),
    0xB2: (GROW, 1, 3),
    0xB3: (GROW, 2, 3),
    0xC1: (SHRINK, 0, 3),
    0xC2: (SHRINK, 1, 3),
    0xC3: (SHRINK, 2, 3),
}
OPENERS = {ALLOC: 0xA1, DEALLOC: 0xD1, GROW: 0xB1, SHRINK: 0xC1}
EXPECTED_HEADER = "a frame header (A1 A2 D1 D2 B1 B2 B3 C1 C2 C3)"

_VALID = np.zeros(256, dtype=bool)
_VALID[list(HEADERS)] = True
_INVALID = ~_VALID
_TOP_BYTE = 3 if sys.byteorder == "little" else 0
_LENGTH = np.zeros(256, np.uint8)  # words in the record a header opens, 0 if it opens none
_KIND = np.zeros(256, np.uint8)
for _header, (_kind, _part, _words) in HEADERS.items():
    _KIND[_header] = _kind
    if _part == 0:
        _LENGTH[_header] = _words

# Open frames kept per record kind. Real nesting is a handful of interrupts
# deep; beyond this the oldest frame is dropped (and counted), so that a flood
# of opening words cannot grow memory without bound. A record whose words lie
# next to each other is complete at once and never counts against the bound.
MAX_OPEN_FRAMES = 4096

# Resync points an invalid word's resync usually moves on (for `follow_chain`'s probe).
CHAIN_STEP = 16

# A resync point must start this many valid words in a row: one valid header
# byte in random data is a 4% chance, three in a row is 1 in 16000.
RESYNC_RUN = 3


def encode_framed(records: Records, quirk: bool = False) -> bytes:
    """Encode records word after word, as the firmware writes them.

    With `quirk=True` the opening word carries `size >> 24` like drone-core
    0.12-0.14 firmware, so sizes of 256 and more lose bits 8-23 on decoding.
    """
    n = len(records)
    kind = records.kind
    size = records.size.astype(np.uint32)
    new = records.new_size.astype(np.uint32)
    two = (kind == ALLOC) | (kind == DEALLOC)
    nwords = np.where(two, 2, 3)
    ends = np.cumsum(nwords)
    starts = ends - nwords
    out = np.zeros(int(ends[-1]) if n else 0, dtype=np.uint32)
    first_hdr = np.array([0xA1, 0xD1, 0xB1, 0xC1], np.uint32)[kind]
    out[starts] = (first_hdr << 24) | (size >> (24 if quirk else 8))
    s2, k2, z2 = starts[two], kind[two], size[two]
    out[s2 + 1] = (np.where(k2 == ALLOC, 0xA2, 0xD2).astype(np.uint32) << 24) | (z2 & 0xFF)
    three = ~two
    s3, k3, z3, n3 = starts[three], kind[three], size[three], new[three]
    hdr2 = np.where(k3 == GROW, 0xB2, 0xC2).astype(np.uint32)
    hdr3 = np.where(k3 == GROW, 0xB3, 0xC3).astype(np.uint32)
    out[s3 + 1] = (hdr2 << 24) | ((z3 & 0xFF) << 16) | (n3 >> 16)
    out[s3 + 2] = (hdr3 << 24) | (n3 & 0xFFFF)
    return (out ^ np.uint32(KEY)).astype("<u4").tobytes()


class _Phases:
    """The buffer read as words at each of the four byte alignments, computed on demand.

    Garbage whose length is not a multiple of four shifts the word alignment, so
    resynchronisation has to look at every alignment.
    """

    def __init__(self, buf: bytes, final: bool) -> None:
        self.buf = buf
        self.final = final
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._runs: dict[int, np.ndarray] = {}

    def get(self, phase: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(words, headers, indices of invalid words) at one alignment."""
        if phase not in self._cache:
            count = max(0, (len(self.buf) - phase) // 4)
            words = np.frombuffer(self.buf, "<u4", count=count, offset=phase) ^ np.uint32(KEY)
            # The header is the top byte of each native word: a strided view, no shift.
            header = words.view(np.uint8)[_TOP_BYTE::4]
            self._cache[phase] = (words, header, np.flatnonzero(_INVALID.take(header)))
        return self._cache[phase]

    def runs(self, phase: int) -> np.ndarray:
        """Byte offsets where a run of valid words starts; only garbage needs them."""
        if phase not in self._runs:
            valid = _VALID[self.get(phase)[1]]
            count = len(valid)
            # At the end of the stream a shorter run that reaches the end also counts.
            padded = np.concatenate([valid, np.full(RESYNC_RUN - 1, self.final)])
            run = padded[:count].copy()
            for k in range(1, RESYNC_RUN):
                run &= padded[k : count + k]
            self._runs[phase] = np.flatnonzero(run) * 4 + phase
        return self._runs[phase]

    def resync(self, first: int) -> tuple[int, bool]:
        """The first byte offset >= `first` that starts a valid run.

        Returns (offset, True) when found. Otherwise returns (offset, False):
        every position before `offset` has been judged garbage, and the rest can
        only be judged with more data (or is the end of the stream).
        """
        best = len(self.buf)
        for phase in range(4):
            runs = self.runs(phase)
            k = np.searchsorted(runs, first)
            if k < len(runs):
                best = min(best, int(runs[k]))
        if best < len(self.buf):
            return best, True
        return self.unjudged(first), False

    def unjudged(self, first: int) -> int:
        """Where garbage from `first` on ends for now: more data (or the end) decides the rest."""
        if self.final:
            return len(self.buf)
        return max(first, len(self.buf) - 4 * RESYNC_RUN + 1)

    def resync_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every resync point, with where its valid words end and the resync point after that.

        Returns, per point in ascending order: its byte offset, the offset of
        the first invalid word at its alignment (or where its words end), whether
        that is an invalid word, and the index of the next point after that word
        (the number of points when there is none yet). Dense corruption resyncs
        every few records; these let it do so without a numpy call each time.
        """
        points = np.sort(np.concatenate([self.runs(phase) for phase in range(4)]))
        ends = np.empty(points.size, np.int64)
        invalid = np.empty(points.size, bool)
        for phase in range(4):
            words, _, bad = self.get(phase)
            mine = np.flatnonzero(points % 4 == phase)
            k = np.searchsorted(bad, (points[mine] - phase) // 4)
            invalid[mine] = k < len(bad)
            ends[mine] = phase + 4 * np.append(bad, len(words))[k]
        after = np.searchsorted(points, ends + 1)
        return points, ends, invalid, after


class FramedDecoder(Decoder):
    name = "framed"
    lengths = (8, 8, 12, 12)  # two or three words
    piece = 1 << 20

    def __init__(self, strict: bool = False) -> None:
        super().__init__(strict)
        # Open frames per kind, oldest first: (stream offset of the opening word, collected bytes).
        self._stacks: dict[int, deque[tuple[int, bytearray]]] = {k: deque() for k in OPENERS}
        self._resyncing = False  # the carried bytes continue a garbage region

    def _decode(self, buf: bytes, base: int, final: bool) -> tuple[Records, int]:
        phases = _Phases(buf, final)
        at = 0
        if self._resyncing:
            at = self._skip_garbage(phases, 0, base, "")
            if self._resyncing:
                return Records.empty(), len(buf) if final else at
        phase = at % 4
        words, header, bad = phases.get(phase)
        first = (at - phase) // 4
        k = int(np.searchsorted(bad, first))
        if k == len(bad):  # the common case: valid words to the end
            records = self._decode_clean(words[first:], header[first:], base + at)
            return records, len(buf) if final else phase + 4 * len(words)
        stop = int(bad[k])
        if self.strict:
            self._skip(base + phase + 4 * stop, 4, EXPECTED_HEADER, f"header 0x{header[stop]:02X}")
        *segments, at = self._segments(phases, base, (phase, first, stop))
        return self._decode_segments(phases, base, *segments), len(buf) if final else at

    def _segments(
        self, phases: _Phases, base: int, head: tuple[int, int, int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """The runs of valid words, as (alignment, first word, word count) arrays, from `head` on.

        Between runs, the garbage from each invalid word to the next resync
        point is skipped; the skips are counted as one problem. Returns the runs
        and where decoding stopped.
        """
        phase, first, stop = head
        bad_at = phase + 4 * stop
        points, ends, invalid, after = phases.resync_points()
        count = points.size
        # Point after point: where each one's invalid word resyncs to. A chain of
        # those is what `follow_chain` follows vectorised; a point whose words run
        # to the end of the data ends it.
        following = np.where(invalid, after, count)
        begin = int(np.searchsorted(points, bad_at + 1))
        visited = follow_chain(
            lambda i: following.take(i, mode="clip"), begin, count, CHAIN_STEP, lambda _: None
        ).starts
        at = points[visited]
        stops = ends[visited]
        bads = np.concatenate([[bad_at], stops[:-1]])
        skipped = int((at - bads).sum())
        if not visited.size or invalid[visited[-1]]:  # no resync point after the last one yet
            last = int(stops[-1]) if visited.size else bad_at
            end = phases.unjudged(last + 1)
            skipped += end - last
            self._resyncing = True
        else:
            end = int(stops[-1])
        if skipped:
            self._skip(base + bad_at, skipped, EXPECTED_HEADER, "garbage")
        align = at % 4
        starts = np.concatenate([[first], at // 4])
        counts = np.concatenate([[stop - first], (stops - align) // 4 - at // 4])
        return np.concatenate([[phase], align]), starts, counts, end

    def _skip_garbage(self, phases: _Phases, at: int, base: int, found: str) -> int:
        """Skip from `at` to the next valid run; returns where decoding resumes."""
        resume, judged = phases.resync(at + 1 if not self._resyncing else at)
        if resume > at:
            self._skip(base + at, resume - at, EXPECTED_HEADER, found or "garbage")
        self._resyncing = not judged
        return resume

    def _decode_segments(
        self, phases: _Phases, base: int, phase: np.ndarray, first: np.ndarray, count: np.ndarray
    ) -> Records:
        """Decode runs of valid words as one array, no record spanning two runs."""
        keep = count > 0
        phase, first, count = phase[keep], first[keep], count[keep]
        if not count.size:
            return Records.empty()
        heads = np.cumsum(count) - count
        total = int(count.sum())
        within = np.arange(total, dtype=np.int64) - np.repeat(heads, count)
        word = np.repeat(first, count) + within
        which = np.repeat(phase, count)
        words = np.empty(total, np.uint32)
        for p in range(4):
            mine = which == p
            if mine.any():
                words[mine] = phases.get(p)[0][word[mine]]
        header = (words >> np.uint32(24)).astype(np.uint8)
        breaks = np.zeros(total, bool)
        breaks[heads] = True
        return self._decode_words(words, header, base, base + which + 4 * word, breaks)

    def _decode_clean(self, words: np.ndarray, header: np.ndarray, base: int) -> Records:
        """Decode valid-header words that lie one after the other from offset `base`.

        A clean trace's piece is whole records word after word, but for a record
        cut by each end of the piece: those few words take the general path, the
        run between them is decoded with a handful of passes over its records.
        """
        run = _adjacent_run(words, header)
        middle = None if run is None else _run_records(words, *run[2:], base)
        if run is None or middle is None:
            return self._decode_words(words, header, base)
        lo, hi = run[:2]
        self.record_bytes += 4 * (hi - lo)
        if lo == 0 and hi == len(words):
            return middle
        head = self._decode_words(words[:lo], header[:lo], base)
        tail = self._decode_words(words[hi:], header[hi:], base + 4 * hi)
        return Records.concat([head, middle, tail])

    def _decode_words(
        self,
        words: np.ndarray,
        header: np.ndarray,
        base: int,
        offsets: np.ndarray | None = None,
        breaks: np.ndarray | None = None,
    ) -> Records:
        """Decode valid-header words: vectorised pairs/triples, the rest stacked.

        The words lie one after the other from stream offset `base`, unless
        `offsets` gives each word's offset; then `breaks` marks the words that
        follow skipped garbage, which no vectorised record spans.
        """
        if offsets is None:
            offsets = base + 4 * np.arange(len(words), dtype=np.int64)
        n = len(words)
        length = _LENGTH[header]
        # Continuation headers are the opener plus one (and two): A1 A2, B1 B2 B3.
        step = (header[1:] - header[:-1]) == 1
        if breaks is not None:
            step &= ~breaks[1:]
        pad2 = (words & np.uint32(0xFFFF00)) == 0  # a closing A2/D2 word's zero bytes
        pad3 = (words & np.uint32(0xFF0000)) == 0  # a closing B3/C3 word's zero byte
        start = np.zeros(n, bool)
        start[:-1] = (length[:-1] == 2) & step & pad2[1:]
        start[:-2] |= (length[:-2] == 3) & step[:-1] & step[1:] & pad3[2:]
        # Matches never overlap: a continuation can't open a record, so every word
        # belongs to at most one fast record.
        rs = np.flatnonzero(start)
        triple = length[rs] == 3
        covered = 2 * len(rs) + int(np.count_nonzero(triple))
        first = words[rs] & np.uint32(0xFFFFFF)
        second = words[rs + 1] & np.uint32(0xFFFFFF)
        size = (first << 8) | np.where(triple, second >> 16, second & 0xFF)
        new = np.zeros(len(rs), np.uint32)
        rs3 = rs[triple]
        new[triple] = ((second[triple] & 0xFFFF) << 16) | (words[rs3 + 2] & 0xFFFF)
        kind = _KIND[header[rs]]
        offset = offsets[rs]
        self.record_bytes += 4 * covered
        if covered == n:
            return Records(kind, size, new, offset)
        in_fast = start.copy()
        in_fast[1:] |= start[:-1]
        in_fast[rs3 + 2] = True
        slow = np.flatnonzero(~in_fast)
        sk, ss, sn, so, se = self._stack_machine(slow, header, words & np.uint32(0xFFFFFF), offsets)
        # Records are emitted when their last word arrives: merge by end word.
        end = rs + np.where(triple, 2, 1)
        at = np.searchsorted(end, np.asarray(se, np.int64))
        return Records.build(
            np.insert(kind, at, sk),
            np.insert(size, at, ss),
            np.insert(new, at, sn),
            np.insert(offset, at, so),
        )

    def _stack_machine(
        self, slow: np.ndarray, header: np.ndarray, payload: np.ndarray, word_at: np.ndarray
    ) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
        """Drone's parser, word by word, for the few words the fast path left over."""
        kinds: list[int] = []
        sizes: list[int] = []
        news: list[int] = []
        offsets: list[int] = []
        ends: list[int] = []
        slow, flushes = self._drop_doomed(slow, header, word_at)
        for i, at in zip(slow.tolist(), word_at[slow].tolist(), strict=True):
            h = int(header[i])
            p = int(payload[i])
            kind, part, length = HEADERS[h]
            stack = self._stacks[kind]
            pbytes = p.to_bytes(3, "big")
            if i in flushes:  # the first of a run of openers that pushes out every open frame
                self._drop_frames(stack, len(stack))
                continue
            if part == 0:
                if len(stack) == MAX_OPEN_FRAMES:
                    self._drop_frames(stack, 1)
                stack.append((at, bytearray(pbytes)))
                continue
            if not stack:
                self._word_problem(INVALID_SEQUENCE, at, h, "an opening word before it")
                continue
            if part < length - 1:  # B2/C2: append to the newest open frame
                opened, frame = stack[-1]
                if len(frame) + 3 > 8:
                    self._word_problem(INVALID_SEQUENCE, at, h, "at most one middle word")
                    continue
                frame.extend(pbytes)
                continue
            # Like drone, the frame is consumed even when the closing word is bad.
            opened, frame = stack.pop()
            zeros = 2 if length == 2 else 1
            if any(pbytes[:zeros]):
                self._word_problem(INVALID_FRAME, at, h, "zero padding in the closing word")
                continue
            frame.extend(pbytes[zeros:])
            if len(frame) != 4 * (length - 1):
                self._word_problem(INVALID_SEQUENCE, at, h, "a complete frame")
                continue
            kinds.append(kind)
            sizes.append(int.from_bytes(frame[:4], "big"))
            news.append(int.from_bytes(frame[4:8], "big") if length == 3 else 0)
            offsets.append(opened)
            ends.append(i)
            self.record_bytes += 4 * length
        return kinds, sizes, news, offsets, ends

    def _drop_doomed(
        self, slow: np.ndarray, header: np.ndarray, offsets: np.ndarray
    ) -> tuple[np.ndarray, set[int]]:
        """Take out the opening words that MAX_OPEN_FRAMES later openers of their kind push out.

        Such a word's frame is dropped before anything can close it, and so is
        every frame open below it, so the word-by-word loop never sees a flood
        of opening words. Returns the words left, and those among them where a
        run of doomed words began: there the loop drops its kind's open frames.
        """
        kind = _KIND[header[slow]]
        opens = _LENGTH[header[slow]] > 0
        doomed = np.zeros(len(slow), bool)
        first = np.zeros(len(slow), bool)
        for k in OPENERS:
            own = np.flatnonzero(kind == k)
            closers = np.flatnonzero(~opens[own])
            # Index (within `own`) of the next word of this kind that is not an opener.
            after = np.append(closers, len(own))[np.searchsorted(closers, np.arange(len(own)))]
            mine = opens[own] & (after - np.arange(len(own)) > MAX_OPEN_FRAMES)
            doomed[own] = mine
            first[own[mine & ~np.concatenate([[False], mine[:-1]])]] = True
        if not doomed.any():
            return slow, set()
        # The first doomed word of a run is counted here too; the loop drops what lies below it.
        self.problems.add(DROPPED_FRAMES, int(offsets[slow[doomed][0]]), int(doomed.sum()))
        return slow[~doomed | first], set(slow[first].tolist())

    def _drop_frames(self, stack: deque[tuple[int, bytearray]], count: int) -> None:
        """Drop the `count` oldest open frames of a kind, counted at the oldest one's offset."""
        if count:
            self.problems.add(DROPPED_FRAMES, stack[0][0], count)
            for _ in range(count):
                stack.popleft()

    def _word_problem(self, kind: str, at: int, header: int, expected: str) -> None:
        if self.strict:
            raise DecodeError(at, expected, f"header 0x{header:02X}")
        self.problems.add(kind, at)


def _adjacent_run(
    words: np.ndarray, header: np.ndarray
) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """The words [lo, hi) if they are whole records one after the other, with each
    record's first word and length; None when some record there is nested or damaged.

    Words before the first opener (closing a frame of the previous piece) and the
    last record if the piece cuts it are left out: the stack machine takes them.
    """
    opens = _LENGTH.take(header)
    starts = np.flatnonzero(opens)
    if not len(starts):
        return None
    length = opens.take(starts)
    # Each record reaches the next opener, and each word after an opener
    # continues it (A1 A2, B1 B2 B3): then every word is in exactly one record.
    if not np.array_equal(np.diff(starts), length[:-1]):
        return None
    hi = int(starts[-1]) + int(length[-1])
    if hi > len(words):  # the piece cuts the last record
        hi = int(starts[-1])
        starts, length = starts[:-1], length[:-1]
        if not len(starts):
            return None
    lo = int(starts[0])
    follows = (header[lo + 1 : hi] - header[lo : hi - 1]) == 1
    if not np.all(follows | (opens[lo + 1 : hi] > 0)):
        return None
    return lo, hi, starts, length


def _run_records(
    words: np.ndarray, starts: np.ndarray, length: np.ndarray, base: int
) -> Records | None:
    """The records of an adjacent run (`_adjacent_run`), or None if a closing word's
    padding is not zero (then the record is the stack machine's to judge)."""
    opener = words.take(starts)
    second = words.take(starts + 1)
    # Read every record as a pair (A1 A2, D1 D2), then redo the few grows and shrinks.
    size = opener & np.uint32(0xFFFFFF)
    size <<= np.uint32(8)
    size |= second & np.uint32(0xFF)
    triples = np.flatnonzero(length == 3)
    # A2/D2 carry zeros in their two upper payload bytes, B3/C3 in the upper one.
    unpadded = (second & np.uint32(0xFFFF00)) != 0
    unpadded[triples] = False
    middle = second[triples]
    closing = words.take(starts[triples] + 2)
    if unpadded.any() or np.any(closing & np.uint32(0xFF0000)):
        return None
    size[triples] = (size[triples] & np.uint32(0xFFFFFF00)) | ((middle >> np.uint32(16)) & 0xFF)
    new = np.zeros(len(starts), np.uint32)
    new[triples] = ((middle & np.uint32(0xFFFF)) << np.uint32(16)) | (closing & np.uint32(0xFFFF))
    kind = _KIND.take((opener >> np.uint32(24)).astype(np.uint8))
    offset = starts << 2
    offset += base
    return Records(kind, size, new, offset)
