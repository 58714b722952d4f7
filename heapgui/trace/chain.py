"""Follow "next record starts at" chains through a byte stream with numpy.

In a stream of variable-length records (heap-trace `tagged` and `legacy`
records, ITM packets) the first bytes of a record say where the next one
starts. The record starts are the chain ``start -> step(start) -> ...``.
Following it one record at a time costs a Python loop per record, far too slow
for ten million records, so `follow_chain` follows it across blocks at once.

The caller supplies ``step(pos)``: for an int64 array of positions, where the
record starting at each one ends (= where the next one starts), or a value
``>= DEAD`` where no record can start (a corrupt header). A record that runs
past ``stop`` ends the chain there (a partial record).

Method:

1. **Probe.** Cut ``[start, stop)`` into blocks of a few KB. The chain enters
   a block at one of its first ``max_length`` bytes, so start a chain at each
   of them, in all blocks at once. A chain that lands on a byte another chain
   of its block has visited has merged into it and stops. A block is settled
   once one chain is left (usually after a few records); ambiguous blocks
   keep probing for up to PROBE_STEPS steps (strictly periodic data stays
   ambiguous). The survivors' positions are the block's *landmarks*. Every
   chain entering the block passes a landmark unless it dies or ends first.
2. **Segments.** Follow one chain from the start and one from every landmark,
   all in lockstep, one gather per step, until each lands on a landmark, dies
   or reaches ``stop``. Each segment is about one block long.
3. **Stitch.** A short Python loop over segments: from the start, each
   segment ends on the landmark where the next one begins. Where the chain
   dies (corrupt data) ``resync(pos)`` says where it resumes, and a scalar walk
   runs from there to the next landmark. Segments the chain never visits (out
   of phase) are discarded.

Correctness does not depend on the probe: landmarks only cut the chain into
segments, and the stitch follows the real chain through them. The probe only
decides how much work is spent on segments that are not on the chain.

To keep the lockstep loop down to the step itself, segments that have already
finished keep stepping until the round ends, so `step` is also called with
positions it never produced for a real record: beyond `stop`, ``>= DEAD``, or
wrapped negative. It must not fail on them (read with ``take(...,
mode="clip")``); their results are ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

DEAD = 1 << 62
"""`step` returns a value at least this large where no record starts."""

StepFn = Callable[[np.ndarray], np.ndarray]
ResyncFn = Callable[[int], "int | None"]

PROBE_STEPS = 64  # most records followed from every entry phase to find a block's landmarks
PROBE_CHECK = 4  # probe steps between looking for blocks down to one chain
WALL = 255  # label of probe slots a chain may not enter
PIECE_BYTES = 8 << 20  # bounds memory per lockstep pass and keeps the gathers cache-friendly
WALK_BYTES = 16 << 10  # below this a scalar walk beats the numpy set-up cost
WALK_CHUNK = 512  # positions stepped per numpy call during a scalar walk
MIN_ROUND = 16  # lockstep steps per round once most segments have finished


@dataclass
class Chain:
    """The record starts on a chain and how it ended.

    `end` is the first chain position at or beyond `stop` (beyond it when the
    last record is partial), or the dead end where `resync` gave up, which is
    below `stop`. `jumps` lists each (dead end, resumed at) pair in order.
    """

    starts: np.ndarray
    end: int
    jumps: list[tuple[int, int]] = field(default_factory=list)


def follow_chain(
    step: StepFn,
    start: int,
    stop: int,
    max_length: int,
    resync: ResyncFn,
) -> Chain:
    """Follow the chain from `start` up to `stop`.

    `step` must accept any int64 position (see the module notes). `max_length`
    bounds ``step(pos) - pos`` for real records. `resync(pos)` is called for
    each dead end on the chain, in order, and returns where the chain resumes
    (a position above `pos`) or None to end the chain there.
    """
    jumps: list[tuple[int, int]] = []
    parts: list[np.ndarray] = []
    pos = start
    while pos < stop:
        piece_stop = min(stop, pos + PIECE_BYTES)
        piece, pos, gave_up = _follow_piece(step, pos, piece_stop, max_length, resync, jumps)
        parts.append(piece)
        if gave_up:
            break
    starts = np.concatenate(parts) if parts else np.empty(0, np.int64)
    return Chain(starts.astype(np.int64, copy=False), pos, jumps)


def _follow_piece(
    step: StepFn,
    start: int,
    stop: int,
    max_length: int,
    resync: ResyncFn,
    jumps: list[tuple[int, int]],
) -> tuple[np.ndarray, int, bool]:
    """One piece of the chain: (record starts, end, whether resync gave up)."""
    if stop - start <= WALK_BYTES:
        walked: list[np.ndarray] = []
        end, gave_up = _walk(step, start, stop, {}, resync, jumps, walked)
        return _join(walked), end, gave_up

    probe_steps = _probe_steps(stop - start)
    block = _block_size(stop - start, max_length, probe_steps)
    landmarks, advance = _probe(step, start, stop, max_length, block, probe_steps)
    seg_starts = np.concatenate([np.array([start], np.int64), landmarks])
    # Size the first round so that nearly every segment finishes in it.
    rows, first_hit = _segments(step, seg_starts, stop, int(block / advance * 1.03) + MIN_ROUND)

    seg_of = {pos: seg for seg, pos in enumerate(seg_starts.tolist())}
    last = rows[np.arange(seg_starts.size), first_hit].tolist()
    hit_at = first_hit.tolist()
    used = np.zeros(seg_starts.size, np.int64)  # records taken from each segment
    walked: list[np.ndarray] = []
    seg = 0
    while True:
        end = last[seg]
        if end < DEAD:
            used[seg] = hit_at[seg]
            if end >= stop:
                return _extract(rows, used, walked), end, False
            seg = seg_of[end]
            continue
        # The segment died: its last position is a corrupt header on the chain.
        used[seg] = hit_at[seg] - 1
        dead = int(rows[seg, hit_at[seg] - 1])
        resumed = resync(dead)
        if resumed is None:
            return _extract(rows, used, walked), dead, True
        jumps.append((dead, resumed))
        end, gave_up = _walk(step, resumed, stop, seg_of, resync, jumps, walked)
        if gave_up or end >= stop:
            return _extract(rows, used, walked), end, gave_up
        seg = seg_of[end]


def _probe_steps(span: int) -> int:
    """More probe steps for big inputs, where each extra landmark costs a whole segment.

    On small inputs the per-step numpy overhead of probing dominates instead.
    """
    return min(PROBE_STEPS, max(8, span >> 15))


def _block_size(span: int, max_length: int, probe_steps: int) -> int:
    """Blocks of a few KB for big inputs, smaller ones for small inputs.

    Each lockstep step costs a fixed numpy call overhead plus a little per
    segment, and a block's segment takes about block / record-length steps;
    each block adds a segment to stitch in Python. The square root balances
    the two. A block must hold a probe window or its chains never survive it.
    """
    floor = 2 * max_length * (probe_steps + 1)
    return max(floor, min(8192, int(np.sqrt(span * 8))))


def _probe(
    step: StepFn, start: int, stop: int, max_length: int, block: int, probe_steps: int
) -> tuple[np.ndarray, float]:
    """Landmarks: where the chains from every entry phase of each block have got to.

    Each block has a small label window; a chain stepping onto a labelled byte
    has merged into the chain that labelled it and stops. The window's end and
    the block's end are pre-labelled as walls, so chains leaving them (or
    dying) stop the same way. A block whose chains are down to one has its
    landmark; blocks with several keep probing (out-of-phase chains often die
    or merge after tens of records) until `probe_steps`, and then all their
    survivors are landmarks. Returns the landmarks, sorted, and the mean
    advance per step (bytes per record), which sizes the lockstep rounds.
    """
    nblocks = -(-(stop - start) // block)
    window = max_length * (probe_steps + 1)  # a chain cannot get further in probe_steps steps
    slots = window + max_length  # plus room to land beyond it
    block_start = start + np.arange(nblocks, dtype=np.int64) * block
    room = np.minimum(np.minimum(stop - block_start, block), window)
    labels = np.where(np.arange(slots) < room[:, None], 0, WALL).astype(np.uint8).ravel()
    labels[-1] = WALL  # where steps that died or ran far are clipped to

    phase = np.arange(max_length, dtype=np.int64)
    starts = (block_start[:, None] + phase).ravel()
    label_base = np.repeat(np.arange(nblocks, dtype=np.int64) * slots - block_start, max_length)
    tag = np.tile((phase + 1).astype(np.uint8), nblocks)
    inside = labels[label_base + starts] == 0
    # Chains stay in block order, which the "alone in its block" test relies on.
    pos, label_base, tag = starts[inside], label_base[inside], tag[inside]
    labels[label_base + pos] = tag
    found: list[np.ndarray] = []
    advance: list[np.ndarray] = []
    for taken in range(1, probe_steps + 1):
        pos = step(pos)
        where = label_base + pos
        fresh = labels.take(where, mode="clip") == 0
        if not fresh.all():
            pos, label_base, tag, where = pos[fresh], label_base[fresh], tag[fresh], where[fresh]
        labels[where] = tag
        won = labels[where] == tag  # two chains of a block landing together: one carries on
        if not won.all():
            pos, label_base, tag = pos[won], label_base[won], tag[won]
        if taken % PROBE_CHECK and taken < probe_steps:
            continue
        which = (pos - start) // block
        alone = np.ones(pos.size, bool)
        alone[1:] &= which[1:] != which[:-1]
        alone[:-1] &= which[:-1] != which[1:]
        done = alone if taken < probe_steps else np.ones(pos.size, bool)
        found.append(pos[done])
        advance.append((pos[done] - start) % block / taken)
        pos, label_base, tag = pos[~done], label_base[~done], tag[~done]
        if not pos.size:
            break
    landmarks = np.sort(np.concatenate(found)) if found else np.empty(0, np.int64)
    mean_advance = float(np.concatenate(advance).mean()) if landmarks.size else max_length
    return landmarks, mean_advance


def _segments(
    step: StepFn, seg_starts: np.ndarray, stop: int, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Follow every segment in lockstep until each has landed on a landmark, died or ended.

    Returns ``table[i, t]``, the position of segment i after t steps, and the
    step at which each segment first hit. The loop itself only steps: hits are
    found afterwards in one gather per round of `steps` steps, and segments
    that finished early keep stepping harmlessly until the round ends.
    """
    landmark = np.zeros(stop + 1, bool)  # index `stop` stands for everything at or past it
    landmark[seg_starts[1:]] = True
    landmark[stop] = True
    rounds = []
    first_hit = np.zeros(seg_starts.size, np.int64)
    taken = 0
    rows = [seg_starts]
    pos = seg_starts
    while True:
        for _ in range(steps):
            pos = step(pos)
            rows.append(pos)
        # Written step after step (contiguous rows), read segment by segment: a
        # transposed view, where stacking along axis 1 would scatter every write.
        table = np.vstack(rows).T
        rounds.append(table)
        hits = landmark.take(table[:, 1:] if taken == 0 else table, mode="clip")
        running = np.flatnonzero(first_hit == 0)
        hit = hits[running]
        first_hit[running] = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1 + taken, 0)
        taken += steps
        if first_hit.all():
            break
        rows, steps = [], MIN_ROUND
    return (rounds[0] if len(rounds) == 1 else np.concatenate(rounds, axis=1)), first_hit


def _extract(rows: np.ndarray, used: np.ndarray, walked: list[np.ndarray]) -> np.ndarray:
    """The chain's record starts: the used prefix of each segment, plus walked stretches.

    Segments are sorted by start and the chain only moves forward, so taking
    them in row order gives the chain in order.
    """
    taken = rows[np.arange(rows.shape[1]) < used[:, None]]
    if not walked:
        return taken
    extra = _join(walked)
    return np.insert(taken, np.searchsorted(taken, extra), extra)


def _walk(
    step: StepFn,
    pos: int,
    stop: int,
    seg_of: dict[int, int],
    resync: ResyncFn,
    jumps: list[tuple[int, int]],
    walked: list[np.ndarray],
) -> tuple[int, bool]:
    """Follow the chain record by record until a segment start, `stop`, or a give-up.

    Used for small inputs and after a resync. Steps a chunk of positions per
    numpy call and follows the chain through it in Python; appends the record
    starts found to `walked`. Returns (end position, whether resync gave up).
    """
    found: list[int] = []
    gave_up = False
    while pos < stop and pos not in seg_of and not gave_up:
        base = pos
        nxt = step(np.arange(base, min(stop, base + WALK_CHUNK), dtype=np.int64)).tolist()
        while base <= pos < base + len(nxt):
            following = nxt[pos - base]
            if following >= DEAD:
                resumed = resync(pos)
                if resumed is None:
                    gave_up = True
                    break
                # Dense corruption resumes close by: go on in the chunk already stepped.
                jumps.append((pos, resumed))
                pos = resumed
            else:
                found.append(pos)
                pos = following
            if pos in seg_of:
                break
    walked.append(np.array(found, np.int64))
    return pos, gave_up


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, np.int64)
