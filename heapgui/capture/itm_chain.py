"""Which byte offsets start ITM packets: the packet chain, found without a loop per packet.

Given the length of the packet that would start at every offset
(`heapgui.capture.itm_packets.packet_lengths`), the true packets are the
chain 0 -> lengths[0] -> ... Following it packet by packet in Python is far
too slow, so:

1. Cut the buffer into blocks and walk a *guess* chain in every block at once,
   one numpy gather per step, starting from the block's first byte and stepping
   over bad bytes one at a time. Off-phase chains fall into the true one
   within a few packets, because mid-packet bytes rarely chain up for long.
2. Stitch the blocks in a short Python loop: from the true entry into a block,
   follow the true chain only until it meets a position the guess walk
   visited; from there on both are the same chain, up to the block's exit.
3. Garbage (a wrong baud rate, a corrupted capture): where the true chain meets
   an invalid header, bytes are skipped up to the next *plausible* offset, one
   where a sync packet or a run of PLAUSIBLE_RUN valid packets starts. A
   header refused because its continuation run is too long is skipped with
   the whole run first: the run's bytes would read as packets (0x81 0x82, a
   write to port 16). Then the rest of the buffer is followed again, with
   every refused header leading straight to its resync point. Plausibility is
   computed for all offsets at once by pointer doubling, so even a buffer of
   pure garbage costs a fixed number of array passes, never a loop per skip.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from heapgui.capture.itm_packets import INCOMPLETE, MAX_PACKET, OVERLONG, run_ends

logger = logging.getLogger(__name__)

# Blocks: a walk takes about block / 4 numpy steps (a few us each) and the
# stitch a few us per block, so the best block grows with the square root of
# the buffer; these bound it.
MIN_BLOCK = 64
MAX_BLOCK = 4096
# After garbage, resume where this many packets in a row are valid (or a sync
# starts). Random bytes are valid headers ~93% of the time, so a short run
# would resume inside the garbage; a long one would skip good packets after a
# short burst and needs more lookahead before deciding. A power of two: the
# runs are checked by doubling.
PLAUSIBLE_RUN = 8
_CHECKS = 128  # times per block length that a walk checks whether every block is done

# Verdicts on the run of packets from an offset, for resynchronisation: the
# states past the data's end (m + verdict; m and m + 1 are offsets).
_PLAUSIBLE, _INVALID, _UNDECIDED = 2, 3, 4
_STATES = 5
_LOOK_AHEAD = 64  # packets followed one by one before the walk: garbage stops most chains
_PROBES = 8  # steps forward to the next plausible offset before searching for it


@dataclass
class PacketChain:
    """The packets of one buffer.

    `starts` are the offsets of the packets before `stop`, ascending. `stop`
    is where the next buffer must resume: the start of an incomplete packet,
    or, when `resyncing`, an offset whose plausibility needs more data.
    `in_run`: the buffer ended inside the continuation run of a packet refused
    for being too long, so the next buffer's bytes up to its first one with
    bit 7 clear belong to that packet too. Garbage bytes
    [skip_starts[i], skip_ends[i]) were skipped.
    """

    starts: np.ndarray
    stop: int
    resyncing: bool
    skip_starts: np.ndarray
    skip_ends: np.ndarray
    in_run: bool = False


def find_packets(
    lengths: np.ndarray,
    jumps: np.ndarray,
    buf: np.ndarray,
    resyncing: bool,
    in_run: bool,
    final: bool,
) -> PacketChain:
    """Follow the packet chain from offset 0 of `buf`, or resync first if `resyncing`.

    `jumps` are the offsets of packets longer than MAX_PACKET (long syncs).
    With `in_run`, the buffer starts inside a refused packet's run: skip the
    rest of it, then resync. With `final`, no more data will come: a run of
    packets reaching the end counts as plausible.
    """
    n = lengths.shape[0]
    none = np.empty(0, np.int64)
    if in_run or resyncing:
        resume = int(run_ends(buf, np.zeros(1, np.int64))[0]) + 1 if in_run else 0
        if resume > n:
            # Still the same run (a line held high): nothing to search.
            everything = np.array([n], np.int64)
            return PacketChain(none, n, True, np.zeros(1, np.int64), everything, not final)
        return _through_garbage(lengths, buf, jumps, final, none, -1, resume)
    starts, end = _follow(_steps(lengths), lengths <= 0, 0, jumps)
    if end == n or lengths[end] == INCOMPLETE:
        return PacketChain(starts, end, False, none, none)
    return _through_garbage(lengths, buf, jumps, final, starts, end)


def _through_garbage(
    lengths: np.ndarray,
    buf: np.ndarray,
    jumps: np.ndarray,
    final: bool,
    before: np.ndarray,
    at: int,
    resume: int = 0,
) -> PacketChain:
    """The chain from the refused header at `at`, or (`at` = -1) a resync from `resume`.

    Offsets past the end of the buffer are m (the end) and m + 1 (the end,
    inside the run of a packet refused for being too long).
    """
    base = max(at, 0)
    tail, data = lengths[base:], buf[base:]
    m = tail.shape[0]
    refused = np.flatnonzero(_refused(tail))
    after = _after_refused(tail, data, refused)
    # Where the search resumes after each refused header, and from `resume`.
    queries = after if at >= 0 else np.append(after, resume)
    target, undecided = _resync_targets(tail, data, final, refused, after, queries)
    # A refused header leads to the first plausible offset after it (and after
    # its run, if too long); where that is not decided yet, the chain has to
    # stop at the header.
    nxt = _steps(tail)
    resumes, open_end = target[: refused.shape[0]], undecided[: refused.shape[0]]
    nxt[refused[~open_end]] = np.minimum(resumes[~open_end], m)
    bad = tail == INCOMPLETE
    bad[refused[open_end]] = True
    far = refused[nxt[refused] - refused > MAX_PACKET]
    jumps = np.concatenate([jumps[jumps >= base] - base, far])
    skip_starts, skip_ends = [], []
    start = 0
    if at < 0:
        start = min(int(target[-1]), m)
        skip_starts.append(np.zeros(1, np.int64))
        skip_ends.append(np.array([start], np.int64))
        if undecided[-1]:
            in_run = bool(target[-1] > m)
            return PacketChain(before, start, True, skip_starts[0], skip_ends[0], in_run)
    starts, end = _follow(nxt, bad, start, jumps)
    garbage = _refused(tail[starts])
    skip_starts.append(starts[garbage])
    skip_ends.append(nxt[starts[garbage]].astype(np.int64))
    stop, resyncing, in_run = end, False, False
    if end < m and _refused(tail[end]):
        # Stopped at a refused header whose resync point needs more data.
        resync = int(resumes[np.searchsorted(refused, end)])
        stop, resyncing, in_run = min(resync, m), True, resync > m
        skip_starts.append(np.array([end], np.int64))
        skip_ends.append(np.array([stop], np.int64))
    return PacketChain(
        np.concatenate([before, starts[~garbage] + base]),
        stop + base,
        resyncing,
        np.concatenate(skip_starts) + base,
        np.concatenate(skip_ends) + base,
        in_run,
    )


def _refused(lengths: np.ndarray) -> np.ndarray:
    """Where no packet starts although the bytes to decide it are there."""
    return (lengths == 0) | (lengths == OVERLONG)


def _after_refused(lengths: np.ndarray, buf: np.ndarray, refused: np.ndarray) -> np.ndarray:
    """Where the search for a packet resumes after each refused header.

    The next byte, but past the whole continuation run of a packet refused for
    being too long: reading the run's bytes as headers would invent packets.
    m + 1 (m = len(buf)) where that run reaches the end of the buffer.
    """
    after = refused + 1
    long = lengths[refused] == OVERLONG
    after[long] = run_ends(buf, after[long]) + 1
    return after


def _steps(lengths: np.ndarray) -> np.ndarray:
    """Where each offset's packet ends, and one byte on for offsets without one (n + 1 long)."""
    n = lengths.shape[0]
    # Native indices: the walk's gathers and marks then convert nothing.
    nxt = np.empty(n + 1, np.int32)
    np.maximum(lengths, 1, out=nxt[:n])
    nxt[:n] += _counting(n)
    nxt[n] = n
    return nxt


def _resync_targets(
    lengths: np.ndarray,
    buf: np.ndarray,
    final: bool,
    refused: np.ndarray,
    after: np.ndarray,
    queries: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each offset q in `queries` (or m, m + 1 as in `_through_garbage`): where to resume.

    Returns (target, undecided): `undecided` says the target's run reaches
    the end of the data before it is decided, so the target is only where to
    look again when more data has come. A search that meets a header refused
    for being too long goes on past its run (`after`), as the chain does.
    """
    long = lengths[refused] == OVERLONG
    long_at, long_after = refused[long], after[long]
    state = _run_states(lengths, buf, final, refused, long_at, long_after)
    m = lengths.shape[0]
    # The offsets where a search stops: a run not refuted, or a too-long header.
    stops = state[: m + 2] != m + _INVALID
    stops[long_at] = True
    target = _first_stop(stops, queries)
    which = np.searchsorted(long_at, target)
    meets = which < long_at.shape[0]
    meets[meets] = long_at[which[meets]] == target[meets]
    if meets.any():
        target[meets] = _past_runs(long_at, _first_stop(stops, long_after))[which[meets]]
    return target, state[target] == m + _UNDECIDED


def _run_states(
    lengths: np.ndarray,
    buf: np.ndarray,
    final: bool,
    refused: np.ndarray,
    long_at: np.ndarray,
    long_after: np.ndarray,
) -> np.ndarray:
    """Whether the run of packets from each offset (and m, m + 1) is plausible.

    A run's verdict is that of its first packet that is not an ordinary
    complete packet (a sync: plausible; a refused header: not; an incomplete
    packet: undecided), or plausible after PLAUSIBLE_RUN ordinary packets. A
    too-long packet does not refute a run that meets it: its extent is known,
    and the run goes on past it (refuting it would make the search prefer an
    offset inside the packets before it, read out of step).

    Each offset steps to its packet's end, and each verdict is a state of its
    own past the data (m + _PLAUSIBLE, ...) that steps to itself. Squaring
    the step function log2(PLAUSIBLE_RUN) times follows every run at once:
    an offset then holds a verdict, or a position, for a plausible run.
    """
    m = lengths.shape[0]
    verdicts = m + np.array([_PLAUSIBLE, _INVALID, _UNDECIDED])
    end = verdicts[0] if final else verdicts[2]  # the end: more data decides
    state = np.empty(m + _STATES, np.intp)
    np.maximum(lengths, 0, out=state[:m])
    state[:m] += _counting(m)
    state[:m][lengths == INCOMPLETE] = end
    state[m : m + 2] = end
    state[m + 2 :] = verdicts
    state[refused] = verdicts[1]
    state[long_at] = long_after
    state[:m][(buf == 0) & (lengths > 0)] = verdicts[0]  # a sync packet
    for _ in range(PLAUSIBLE_RUN.bit_length() - 1):
        state = state.take(state)
    return state


def _first_stop(stops: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query offset, the first offset at or after it where `stops` holds.

    Stops are dense where this is asked (garbage), so a few steps forward find
    nearly all; a search for the rest finds them. stops[-1] must hold.
    """
    found = queries.astype(np.intp)
    open_ = np.flatnonzero(~stops[found])
    for _ in range(_PROBES):
        if open_.size == 0:
            return found
        found[open_] += 1
        open_ = open_[~stops[found[open_]]]
    if open_.size:
        stop_at = np.flatnonzero(stops)
        found[open_] = stop_at[np.searchsorted(stop_at, found[open_])]
    return found


def _past_runs(long_at: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Where a search meeting each too-long header ends up.

    `stop` is the next place past the header's run where a search stops,
    which may be another too-long header: chains of them are followed by
    doubling, so a stretch of 0xC0 bytes (each one refused) costs a few passes.
    """
    dest = stop.astype(np.intp)
    if dest.size == 0:
        return dest
    at = np.minimum(np.searchsorted(long_at, dest), long_at.shape[0] - 1)
    link = np.where(long_at[at] == dest, at, -1)
    while (link >= 0).any():
        linked = link >= 0
        dest = np.where(linked, dest[link], dest)
        link = np.where(linked, link[link], -1)
    return dest


def _follow(
    nxt: np.ndarray, bad: np.ndarray, start: int, jumps: np.ndarray
) -> tuple[np.ndarray, int]:
    """The chain start -> nxt[start] -> ..., up to the end or its first bad offset.

    `nxt` (length n + 1) says where the packet at each good offset ends, and
    must step bad offsets to the next byte (guess walks cross them). `jumps` are the offsets
    whose nxt reaches more than MAX_PACKET ahead. Returns (starts, end): the
    chain's offsets before `end`, which is n or a bad offset.
    """
    n = bad.shape[0]
    step = memoryview(nxt)
    dead = memoryview(bad.view(np.uint8))
    # Garbage ends a chain within a few packets: look before walking every block.
    pos, near = start, []
    while pos < n and not dead[pos] and len(near) < _LOOK_AHEAD:
        near.append(pos)
        pos = step[pos]
    if pos < n and dead[pos]:
        return np.array(near, np.int64), pos
    block = _block_size(n)
    visited, exits = _guess_walk(nxt, block, jumps)
    # Bad offsets the guess chains ran into; where one lies past the point the
    # true chain joined the guess chain, the true chain ends there.
    stops = np.flatnonzero(visited[:n] & bad)
    last_stop = np.full(exits.shape[0], -1, np.int64)
    if stops.size:
        last = np.flatnonzero(np.diff(stops // block, append=exits.shape[0]))
        last_stop[stops[last] // block] = stops[last]
    last_stops = last_stop.tolist()
    exit_list = exits.tolist()
    # The loop runs once per block: memoryviews index far faster than numpy.
    seen = memoryview(visited.view(np.uint8))
    visited[:start] = False
    pos = done = start  # seen[:done] is exactly the true chain's offsets
    while True:
        if done < pos:
            seen[done:pos] = bytes(pos - done)
            done = pos
        if pos >= n:
            return np.flatnonzero(visited[:n]), n
        b = pos // block
        end = min(n, (b + 1) * block)
        if not seen[pos]:
            # The true chain, until it meets the guess chain of this block.
            walked = []
            while pos < end and not seen[pos] and not dead[pos]:
                walked.append(pos)
                pos = step[pos]
            seen[done:pos] = bytes(pos - done)
            for at in walked:
                seen[at] = 1
            done = pos
            if pos >= end:
                continue
        if dead[pos]:
            visited[pos:] = False
            return np.flatnonzero(visited[:pos]), pos
        # Joined: the guess walk is the true chain up to its first bad offset.
        if last_stops[b] < pos:
            done = end
            pos = exit_list[b]
        else:
            pos = done = int(stops[np.searchsorted(stops, pos)])


def _block_size(n: int) -> int:
    """A power of two near sqrt(6 n), the balance of walk steps and stitched blocks."""
    best = int(np.sqrt(6 * n))
    return min(MAX_BLOCK, max(MIN_BLOCK, 1 << max(0, best.bit_length() - 1)))


def _guess_walk(nxt: np.ndarray, block: int, jumps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walk one chain per block from the block's first byte, all blocks in step.

    `nxt` (length n + 1, nxt[n] = n) is where each step goes; it is changed
    during the walk and restored. Returns the offsets visited (each walk marks
    only its own block) and each block's exit, the first offset its walk
    reached at or past the block's end.
    """
    n = nxt.shape[0] - 1
    count = -(-n // block)
    # A walk about to leave its block goes to n instead and stays there: no
    # walk strays into the next block, and one gather per step suffices.
    leaving = _leaving(nxt, n, block, jumps)
    beyond = nxt[leaving]
    nxt[leaving] = n
    rows = np.empty((block + 1, count), np.int32)
    np.multiply(_counting(count), block, out=rows[0])
    every = max(1, block // _CHECKS)
    t = 0
    while True:
        # Every index is in range: "clip" spares the bounds check and a buffered copy.
        nxt.take(rows[t], out=rows[t + 1], mode="clip")
        t += 1
        if (t % every == 0 or t == block) and (rows[t] == n).all():
            break
    nxt[leaving] = beyond
    visited = np.zeros(n + 1, bool)
    # Marked walk by walk, in ascending addresses: twice as fast as step by step.
    visited[np.ascontiguousarray(rows[: t + 1].T).ravel()] = True
    visited[n] = False
    # Each walk visits exactly one of its block's leaving offsets, the last.
    used = visited[leaving]
    exits = np.empty(count, np.int64)
    exits[leaving[used] // block] = beyond[used]
    return visited, exits


def _leaving(nxt: np.ndarray, n: int, block: int, jumps: np.ndarray) -> np.ndarray:
    """Offsets whose next step lands in a later block."""
    # Only the last MAX_PACKET offsets of a block can get past it with an
    # ordinary step; longer steps are the `jumps`.
    end = np.minimum(_counting(-(-n // block)) * block + block, n)
    tail = (end[:, None] + np.arange(-MAX_PACKET, 0, dtype=np.int32)).ravel()
    tail = tail[tail >= 0]
    # Unsorted, and a jump may be listed twice: neither matters to the walk.
    candidates = np.concatenate([tail, jumps.astype(np.int32)]) if jumps.size else tail
    end = np.minimum((candidates // block + 1) * block, n)
    return candidates[nxt[candidates] >= end]


_COUNTING = np.arange(0, dtype=np.int32)


def _counting(n: int) -> np.ndarray:
    """0, 1, ..., n - 1 as int32, from a cache: building it anew costs a pass over memory."""
    global _COUNTING
    if _COUNTING.shape[0] < n:
        _COUNTING = np.arange(max(n, 2 * _COUNTING.shape[0]), dtype=np.int32)
    return _COUNTING[:n]
