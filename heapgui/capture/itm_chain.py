"""Which byte offsets start ITM packets: the packet chain, found without a loop per packet.

Given the length of the packet that would start at every offset
(`heapgui.capture.itm_packets.packet_lengths`), the true packets are the
chain 0 -> lengths[0] -> ... Following it packet by packet in Python is far
too slow, so (docs/performance-notes.md, "Variable-length records"):

1. Cut the buffer into blocks and walk a *guess* chain in every block at once,
   one numpy gather per step, starting from the block's first byte and stepping
   over invalid bytes one at a time. Off-phase chains fall into the true one
   within a few packets, because mid-packet bytes rarely chain up for long.
2. Stitch the blocks in a short Python loop: from the true entry into a block,
   follow the true chain only until it meets a position the guess walk
   visited; from there on both are the same chain, up to the block's exit.
3. Where the true chain meets an invalid header it is in garbage (a wrong baud
   rate, a corrupted capture): skip bytes until the next sync packet or the
   next run of PLAUSIBLE_RUN valid packets, counting what was skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from heapgui.capture.itm_packets import INCOMPLETE, MAX_PACKET

logger = logging.getLogger(__name__)

BLOCK = 2048
# After garbage, resume where this many packets in a row are valid (or a sync
# starts). Random bytes are valid headers ~93% of the time, so a short run
# would resume inside the garbage; a long one would skip good packets after a
# short burst and needs more lookahead before deciding.
PLAUSIBLE_RUN = 8
_CHECK_EVERY = 16  # walk steps between checks whether every block is done


@dataclass
class Chain:
    """The packets of one buffer.

    `starts` are the offsets of the packet starts before `stop`, ascending.
    `stop` is where the next buffer must resume: the start of an incomplete
    packet, or, when `resyncing`, the next candidate to test for plausibility.
    `skips` are (offset, count) ranges of skipped garbage bytes.
    """

    starts: np.ndarray
    stop: int
    resyncing: bool
    skips: list[tuple[int, int]] = field(default_factory=list)


def find_packets(
    lengths: np.ndarray, buf: np.ndarray, resyncing: bool, final: bool, block: int = BLOCK
) -> Chain:
    """Follow the packet chain from offset 0 of `buf` (a resync candidate if `resyncing`).

    With `final`, packets needing bytes past the end count as plausible when
    resynchronising (no more data will come to refute them).
    """
    n = lengths.shape[0]
    bad = lengths <= 0
    visited, exits = _guess_walk(lengths, block)
    # Bad offsets the guess chains ran into; where one lies past the point the
    # true chain joined the guess chain, the true chain hits garbage there.
    stops = np.flatnonzero(visited[:n] & bad)
    last_stop = np.full(exits.shape[0], -1, np.int64)
    if stops.size:
        last = np.flatnonzero(np.diff(stops // block, append=exits.shape[0]))
        last_stop[stops[last] // block] = stops[last]
    last_stops = last_stop.tolist()
    exit_list = exits.tolist()
    resync = _Resync(lengths, buf, final)

    skips: list[tuple[int, int]] = []
    pos = 0
    done = 0  # visited[:done] is exactly the true chain's starts
    skip_from = 0 if resyncing else -1
    while True:
        if done < pos:
            visited[done:pos] = False
            done = pos
        if skip_from >= 0:
            pos, decided = resync.next_candidate(pos)
            visited[done:pos] = False
            if pos > skip_from:
                skips.append((skip_from, pos - skip_from))
            done = pos
            if not decided:
                return Chain(np.flatnonzero(visited[:pos]), pos, True, skips)
            skip_from = -1
        if pos >= n:
            return Chain(np.flatnonzero(visited[:n]), n, False, skips)
        b = pos // block
        end = min(n, (b + 1) * block)
        if not visited[pos]:
            # The true chain, until it meets the guess chain of this block.
            first = pos
            walked = []
            while pos < end and not visited[pos] and lengths[pos] > 0:
                walked.append(pos)
                pos += int(lengths[pos])
            visited[first:pos] = False
            visited[walked] = True
            done = pos
            if pos >= end:
                continue
        if not bad[pos]:
            # Joined: the guess walk is the true chain up to its first bad offset.
            if last_stops[b] < pos:
                done = end
                pos = exit_list[b]
                continue
            pos = int(stops[np.searchsorted(stops, pos)])
            done = pos
        if lengths[pos] == INCOMPLETE:
            visited[pos:] = False
            return Chain(np.flatnonzero(visited[:pos]), pos, False, skips)
        # Garbage: the offending byte is skipped, resync looks from the next one.
        skip_from = pos
        visited[pos] = False
        pos += 1
        done = pos


def _guess_walk(lengths: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Walk one chain per block from the block's first byte, all blocks in step.

    An invalid byte steps to the next one. Returns the offsets visited (each
    walk marks only its own block) and each block's exit, the first offset
    its walk reached at or past the block's end.
    """
    n = lengths.shape[0]
    count = -(-n // block)
    # nxt[i]: where the walk goes from i. A walk about to leave block b goes
    # to sink n + b instead and stays there: no walk strays into the next
    # block, and one gather per step suffices.
    nxt = np.empty(n + count, np.int32)
    np.maximum(lengths, 1, out=nxt[:n])
    nxt[:n] += _counting(n)
    nxt[n:] = _counting(count) + n
    leaving = _leaving(lengths, nxt, block)
    beyond = nxt[leaving]
    nxt[leaving] = leaving // block + n
    rows = np.empty((block + 1, count), np.int32)
    np.multiply(_counting(count), block, out=rows[0])
    t = 0
    while True:
        nxt.take(rows[t], out=rows[t + 1])
        t += 1
        if (t % _CHECK_EVERY == 0 or t == block) and (rows[t] >= n).all():
            break
    visited = np.zeros(n + count, bool)
    visited[rows[: t + 1].ravel()] = True
    # Each walk visits exactly one of its block's leaving offsets, the last.
    used = visited[leaving]
    exits = np.empty(count, np.int64)
    exits[leaving[used] // block] = beyond[used]
    return visited[: n + 1], exits


def _leaving(lengths: np.ndarray, nxt: np.ndarray, block: int) -> np.ndarray:
    """Offsets whose next packet starts in a later block, ascending."""
    n = lengths.shape[0]
    # Only the last MAX_PACKET offsets of a block can reach past it, and syncs.
    end = np.minimum(_counting(-(-n // block)) * block + block, n)
    tail = (end[:, None] + np.arange(-MAX_PACKET, 0, dtype=np.int32)).ravel()
    tail = tail[tail >= 0]
    syncs = np.flatnonzero(lengths > MAX_PACKET).astype(np.int32)
    candidates = np.union1d(tail, syncs) if syncs.size else tail
    end = np.minimum((candidates // block + 1) * block, n)
    return candidates[nxt[candidates] >= end]


_COUNTING = np.arange(0, dtype=np.int32)


def _counting(n: int) -> np.ndarray:
    """0, 1, ..., n - 1 as int32, from a cache: building it anew costs a pass over memory."""
    global _COUNTING
    if _COUNTING.shape[0] < n:
        _COUNTING = np.arange(max(n, 2 * _COUNTING.shape[0]), dtype=np.int32)
    return _COUNTING[:n]


class _Resync:
    """Finds where valid packets resume after garbage."""

    def __init__(self, lengths: np.ndarray, buf: np.ndarray, final: bool) -> None:
        self.n = lengths.shape[0]
        self.final = final
        self._lengths = lengths
        self._buf = buf
        self.lengths = self.is_sync = None  # built on first use: garbage is rare

    def _prepare(self) -> None:
        # One extra slot: a run reaching the end exactly needs more data.
        self.lengths = np.append(self._lengths, np.int32(INCOMPLETE))
        self.is_sync = np.append(self._buf[: self.n] == 0, False) & (self.lengths > 0)

    def next_candidate(self, pos: int) -> tuple[int, bool]:
        """First plausible offset at or after `pos`, and whether that is decided.

        Undecided means the offset's run reaches the end of the data first: it
        must be tested again when more bytes arrive. Returns (n, False) when
        no offset before the end can start a run.
        """
        if self.lengths is None:
            self._prepare()
        width = 64
        while pos < self.n:
            cand = np.arange(pos, min(self.n, pos + width))
            verdict = self._verdicts(cand)
            hit = np.flatnonzero(verdict)
            if hit.size:
                return int(cand[hit[0]]), bool(verdict[hit[0]] == _PLAUSIBLE)
            pos = int(cand[-1]) + 1
            width = min(width * 2, 1 << 16)
        return self.n, self.final

    def _verdicts(self, cand: np.ndarray) -> np.ndarray:
        verdict = np.zeros(cand.shape[0], np.int8)  # 0: implausible
        live = np.arange(cand.shape[0])
        cur = cand.copy()
        for _ in range(PLAUSIBLE_RUN):
            length = self.lengths[cur]
            sync = self.is_sync[cur]
            verdict[live[sync]] = _PLAUSIBLE
            open_end = length == INCOMPLETE
            verdict[live[open_end]] = _PLAUSIBLE if self.final else _UNDECIDED
            go = (length > 0) & ~sync
            live, cur = live[go], cur[go] + length[go]
            if live.size == 0:
                return verdict
        verdict[live] = _PLAUSIBLE
        return verdict


_PLAUSIBLE = 1
_UNDECIDED = 2
