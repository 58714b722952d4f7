"""Replaying a trace against a pool layout with the Drone allocator's rule.

The allocator serves a request from the first pool, in ascending block order,
whose block fits and which has a free block, so a full pool overflows into a
larger one. grow and shrink free the old block and then take a new one.

A trace records sizes, not addresses, so which pool a deallocation returns a
block to must be inferred. The rule here: each size keeps a stack of the pools
its live blocks came from, and a deallocation of size s frees the most recently
allocated live block of size s (LIFO). Overflow happens in bursts, and the
blocks of a burst are the ones freed when it ends, which LIFO models; the
long-lived blocks taken before the burst stay in their own pool. A
deallocation that finds no live block of its size is skipped and counted, as
the statistics do, and so is the later deallocation of a failed allocation
when no other block of that size is live. Allocations of size 0 take no block
(the demand drops them). An allocation larger than the heap is not left out, as
the statistics leave it out: no block of a layout that fits the heap can serve
it, so it fails, whatever the heap size.

Speed: while no pool is full, every request lands in its first-fit pool and
the replay is a per-size and a per-pool clamped cumulative sum, done with numpy
over windows of events. The window's first request that meets a full pool ends
it; from there events are replayed one at a time until no pool has been met
full for a while, then windows resume (small at first, doubling while they run
clean). Windows start from any state, including stacks that hold overflowed
blocks, so a block that never drains does not keep the replay sequential.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from heapgui.layout.pools import Pool
from heapgui.trace.events import (
    Events,
    clamped_walk,
    distinct_sizes,
    group_heads,
    segmented_cumsum,
    segmented_running_min,
    size_ids,
)
from heapgui.trace.records import Records

logger = logging.getLogger(__name__)

FIRST_WINDOW = 4096  # events in the first vectorised window after a sequential stretch
LAST_WINDOW = 1 << 21  # windows stop doubling here to bound their memory
QUIET = 512  # events without a full first-fit pool before windows resume
LONGEST_QUIET = 1 << 16  # the wait doubles while windows keep meeting full pools at once


# -- results -----------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    record: int
    size: int
    time: int | None


@dataclass
class Replay:
    """What a layout did with a trace.

    Arrays are per pool of `pools` (the layout as given, ascending blocks).
    `event_pool` holds, for each event (one per record, two for grow/shrink),
    the pool whose block it took or freed, or -1 when it did neither.
    """

    pools: tuple[Pool, ...]
    failed_event: np.ndarray  # int64, ascending
    pool_peak: np.ndarray  # most blocks in use at once
    pool_peak_record: np.ndarray  # first record at which the peak is reached, -1 if unused
    pool_overflow: np.ndarray  # allocations a pool took for a request with a smaller first fit
    peak_bytes: int  # block bytes in use at their maximum
    peak_requested: int  # bytes the live allocations asked for at that moment
    peak_record: int
    unmatched: int  # deallocations that matched no live block (skipped)
    skipped: int  # zero-size allocations
    event_pool: np.ndarray = field(repr=False)
    _records: Records = field(repr=False)
    _events: Events = field(repr=False)

    @property
    def holds(self) -> bool:
        return not len(self.failed_event)

    @property
    def overflows(self) -> int:
        return int(self.pool_overflow.sum())

    @property
    def failure_count(self) -> int:
        return len(self.failed_event)

    @property
    def wasted_at_peak(self) -> int:
        """Bytes inside blocks that their allocations did not ask for, at the peak."""
        return self.peak_bytes - self.peak_requested

    @property
    def failed_record(self) -> np.ndarray:
        return self._events.record[self.failed_event] + self._records.first_index

    @property
    def failed_size(self) -> np.ndarray:
        return self._events.size[self.failed_event]

    def failures(self, limit: int | None = None) -> list[Failure]:
        events = self.failed_event[:limit]
        rows = self._events.record[events]
        stamps = self._records.timestamp
        times = [None] * len(rows) if stamps is None else stamps[rows].tolist()
        return [
            Failure(int(r) + self._records.first_index, int(s), t)
            for r, s, t in zip(rows, self._events.size[events], times, strict=True)
        ]

    def occupancy(self, pool: int) -> np.ndarray:
        """Blocks of `pool` in use after each record."""
        mine = self.event_pool == pool
        sign = np.where(self._events.up[mine], 1.0, -1.0)
        change = np.bincount(self._events.record[mine], sign, minlength=len(self._records))
        return np.cumsum(change.astype(np.int64))


# -- the replay ----------------------------------------------------------------


def replay(
    records: Records,
    pools: list[Pool] | tuple[Pool, ...],
    progress: Callable[[float], None] | None = None,
) -> Replay:
    """Replay `records` against `pools` (any order; served in ascending block order).

    `progress(fraction)` hears how far the replay got, between windows of events; it may
    raise to stop the replay (a cancelled job).
    """
    return _Replayer(records, tuple(pools)).run(progress)


class _Replayer:
    """State of one replay; see the module docstring for the method."""

    def __init__(self, records: Records, pools: tuple[Pool, ...]) -> None:
        self.records = records
        self.layout = pools
        self._progress: Callable[[float], None] | None = None
        ev = Events.of(records)
        self.ev = ev
        m = len(ev.size)
        # Capacity-0 pools can never serve, so first fit skips them.
        served = [
            k
            for k in sorted(range(len(pools)), key=lambda k: pools[k].block)
            if pools[k].capacity > 0
        ]
        self.pool_index = np.array(served, np.int64)
        self.block = np.array([pools[k].block for k in served], np.int64)
        self.cap = np.array([pools[k].capacity for k in served], np.int64)
        self.block_or_none = np.append(self.block, 0)  # indexed by pool, -1 for none
        npools = len(served)

        self.sizes = distinct_sizes(ev.size)
        self.sid = size_ids(ev.size, self.sizes)
        self.first = np.searchsorted(self.block, self.sizes.astype(np.int64), "left")
        step = np.where(ev.up, 1, -1).astype(np.int8)
        neutral = ev.size == 0
        step[neutral] = 0
        self.skipped = int(np.count_nonzero(ev.up & neutral))
        # A request larger than every block fails whatever the state.
        never = (step > 0) & (self.first[self.sid] == npools)
        step[never] = 0
        self.step = step
        self.failed: list[np.ndarray] = [np.flatnonzero(never)]

        nsizes = len(self.sizes)
        self.live = np.zeros(nsizes, np.int64)
        self.occ = np.zeros(npools, np.int64)
        # Stacks of sizes holding a block outside their first-fit pool, as
        # [pool, count] runs from the bottom; every other size's stack is
        # live[s] blocks of its first-fit pool.
        self.runs: dict[int, list[list[int]]] = {}
        self.peak = np.zeros(npools, np.int64)
        self.peak_event = np.full(npools, -1, np.int64)
        self.overflow = np.zeros(npools, np.int64)
        self.reserved = 0
        self.requested = 0
        self.peak_bytes = 0
        self.peak_requested = 0
        self.peak_at = -1
        self.unmatched = 0
        self.event_pool = np.full(m, -1, np.int16 if npools < 1 << 15 else np.int32)

    def run(self, progress: Callable[[float], None] | None = None) -> Replay:
        m = len(self.step)
        self._progress = progress
        pos, window, quiet = 0, FIRST_WINDOW, QUIET
        sequential = 0
        while pos < m:
            self._report(pos)
            hi = min(m, pos + window)
            conflict = self._window(pos, hi)
            if conflict is None:
                pos, window, quiet = hi, min(window * 2, LAST_WINDOW), QUIET
                continue
            if conflict > pos:
                self._window(pos, conflict)
            if conflict - pos < quiet:
                # Pools are still running full: stay one-at-a-time longer before trying again.
                quiet = min(quiet * 2, LONGEST_QUIET)
            end = self._sequential(conflict, quiet)
            sequential += end - conflict
            pos, window = end, FIRST_WINDOW
        logger.debug("replay: %d of %d events replayed one at a time", sequential, m)
        return self._result()

    def _report(self, event: int) -> None:
        if self._progress is not None:
            self._progress(event / len(self.step))

    # -- vectorised windows --------------------------------------------------

    def _window(self, lo: int, hi: int) -> int | None:
        """Replay events lo..hi-1 assuming every request fits its first-fit pool.

        Returns the first event where that fails, committing nothing; or
        None after committing the whole window.
        """
        nsizes = len(self.sizes)
        sid = self.sid[lo:hi]
        key = sid.astype(np.uint16) if nsizes <= 1 << 16 else sid
        order = np.argsort(key, kind="stable")  # a radix sort for 16-bit keys
        counts = np.bincount(sid, minlength=nsizes)
        steps = self.step[lo:hi][order].astype(np.int64)
        after, before = clamped_walk(counts, steps, self.live)
        group = sid[order]
        push = steps > 0
        pop = (steps < 0) & (before > 0)
        pool = np.where(push | pop, self.first[group], -1)
        lowest = self._take_from_below(counts, after, before, pop, pool)

        delta = np.zeros(hi - lo, np.int64)
        delta[order] = push.astype(np.int64) - pop
        pool_w = np.empty(hi - lo, np.int64)
        pool_w[order] = pool
        npools = len(self.block)
        pkey = (pool_w + 1).astype(np.uint8 if npools < 255 else np.int32)
        porder = np.argsort(pkey, kind="stable")
        pcounts = np.bincount(pkey, minlength=npools + 1)
        used = porder[pcounts[0] :]  # events that take or free a block, grouped by pool
        pcounts = pcounts[1:]
        pdelta = delta[used]
        occ = segmented_cumsum(pdelta, pcounts) + np.repeat(self.occ, pcounts)
        over = (pdelta > 0) & (occ > np.repeat(self.cap, pcounts))
        if over.any():
            return lo + int(used[over].min())
        self._commit_window(lo, hi, counts, after, lowest, pool_w, delta, pcounts, used, occ)
        return None

    def _take_from_below(
        self,
        counts: np.ndarray,
        after: np.ndarray,
        before: np.ndarray,
        pop: np.ndarray,
        pool: np.ndarray,
    ) -> np.ndarray:
        """Pools of pops that reach below the window's start; returns each size's lowest level.

        A pop that takes the stack below every level seen so far in the window
        frees a block pushed before the window: the one at index after[t].
        """
        lowest = self.live.copy()
        present = counts > 0
        if not present.any():
            return lowest
        level = np.minimum(segmented_running_min(after, counts), np.repeat(self.live, counts))
        lowest[present] = level[np.cumsum(counts)[present] - 1]
        if not self.runs:
            return lowest
        heads = group_heads(counts)
        floor_before = np.empty_like(level)
        floor_before[1:] = level[:-1]
        floor_before[heads[present]] = self.live[present]
        below = pop & (before == floor_before)
        for s in self.runs:
            if not counts[s]:
                continue
            head = int(heads[s])
            span = slice(head, head + int(counts[s]))
            hit = np.flatnonzero(below[span]) + head
            if len(hit):
                runs = self.runs[s]
                ends = np.cumsum([c for _, c in runs])
                which = np.searchsorted(ends, after[hit], "right")
                pool[hit] = np.array([p for p, _ in runs], np.int64)[which]
        return lowest

    def _commit_window(
        self,
        lo: int,
        hi: int,
        counts: np.ndarray,
        after: np.ndarray,
        lowest: np.ndarray,
        pool_w: np.ndarray,
        delta: np.ndarray,
        pcounts: np.ndarray,
        used: np.ndarray,
        occ: np.ndarray,
    ) -> None:
        present = counts > 0
        self.live[present] = after[np.cumsum(counts)[present] - 1]
        for s in list(self.runs):
            if counts[s]:
                self._rebase(s, int(lowest[s]))
        pools_used = pcounts > 0
        if pools_used.any():
            ends = np.cumsum(pcounts)
            self.occ[pools_used] = occ[ends[pools_used] - 1]
            for p in np.flatnonzero(pools_used):
                seg = slice(int(ends[p] - pcounts[p]), int(ends[p]))
                top = int(np.argmax(occ[seg]))
                if occ[seg][top] > self.peak[p]:
                    self.peak[p] = occ[seg][top]
                    self.peak_event[p] = lo + int(used[seg][top])
        bytes_w = np.cumsum(self.block_or_none[pool_w] * delta) + self.reserved
        asked = np.cumsum(self.sizes[self.sid[lo:hi]].astype(np.int64) * delta) + self.requested
        if hi > lo:
            top = int(np.argmax(bytes_w))
            if bytes_w[top] > self.peak_bytes:
                self.peak_bytes = int(bytes_w[top])
                self.peak_requested = int(asked[top])
                self.peak_at = lo + top
            self.reserved = int(bytes_w[-1])
            self.requested = int(asked[-1])
        self.unmatched += int(np.count_nonzero((self.step[lo:hi] < 0) & (delta == 0)))
        self.event_pool[lo:hi] = pool_w

    def _rebase(self, s: int, level: int) -> None:
        """Cut size s's stack to `level` blocks, then push first-fit blocks up to live[s]."""
        runs = self.runs[s]
        kept: list[list[int]] = []
        left = level
        for p, c in runs:
            if left <= 0:
                break
            kept.append([p, min(c, left)])
            left -= c
        first = int(self.first[s])
        extra = int(self.live[s]) - level
        if extra:
            if kept and kept[-1][0] == first:
                kept[-1][1] += extra
            else:
                kept.append([first, extra])
        if all(p == first for p, _ in kept):
            del self.runs[s]
        else:
            self.runs[s] = kept

    # -- one event at a time -------------------------------------------------

    def _sequential(self, start: int, quiet: int) -> int:
        """Replay from `start` until `quiet` events pass without a full first-fit pool."""
        m = len(self.step)
        live = self.live.tolist()
        occ = self.occ.tolist()
        cap = self.cap.tolist()
        block = self.block.tolist()
        first = self.first.tolist()
        sizes = self.sizes.tolist()
        peak = self.peak.tolist()
        peak_event = self.peak_event.tolist()
        overflow = self.overflow.tolist()
        runs = self.runs
        npools = len(cap)
        reserved, requested = self.reserved, self.requested
        best = (self.peak_bytes, self.peak_requested, self.peak_at)
        failed: list[int] = []
        unmatched = 0
        last_conflict = start
        i = start
        while i < m and i - last_conflict < quiet:
            self._report(i)
            stop = min(m, i + FIRST_WINDOW)
            out = [-1] * (stop - i)
            e = i - 1
            for s, d in zip(self.sid[i:stop].tolist(), self.step[i:stop].tolist(), strict=True):
                e += 1
                if d > 0:
                    f = first[s]
                    p = f
                    if occ[p] >= cap[p]:
                        last_conflict = e
                        p += 1
                        while p < npools and occ[p] >= cap[p]:
                            p += 1
                        if p == npools:
                            failed.append(e)
                            continue
                        overflow[p] += 1
                    occ[p] += 1
                    live[s] += 1
                    stack = runs.get(s)
                    if stack is not None:
                        if stack[-1][0] == p:
                            stack[-1][1] += 1
                        else:
                            stack.append([p, 1])
                    elif p != f:
                        below = live[s] - 1
                        runs[s] = [[f, below], [p, 1]] if below else [[p, 1]]
                    reserved += block[p]
                    requested += sizes[s]
                    if occ[p] > peak[p]:
                        peak[p] = occ[p]
                        peak_event[p] = e
                    if reserved > best[0]:
                        best = (reserved, requested, e)
                elif d < 0:
                    if not live[s]:
                        unmatched += 1
                        continue
                    live[s] -= 1
                    stack = runs.get(s)
                    if stack is None:
                        p = first[s]
                    else:
                        top = stack[-1]
                        p = top[0]
                        top[1] -= 1
                        if not top[1]:
                            stack.pop()
                        if not stack or (len(stack) == 1 and stack[0][0] == first[s]):
                            del runs[s]
                    occ[p] -= 1
                    reserved -= block[p]
                    requested -= sizes[s]
                else:
                    continue
                out[e - i] = p
                if e - last_conflict >= quiet:
                    break
            stop = min(stop, e + 1)
            self.event_pool[i:stop] = out[: stop - i]
            i = stop
        self.live = np.array(live, np.int64)
        self.occ = np.array(occ, np.int64)
        self.peak = np.array(peak, np.int64)
        self.peak_event = np.array(peak_event, np.int64)
        self.overflow = np.array(overflow, np.int64)
        self.reserved, self.requested = reserved, requested
        self.peak_bytes, self.peak_requested, self.peak_at = best
        self.unmatched += unmatched
        self.failed.append(np.array(failed, np.int64))
        return i

    # -- result ----------------------------------------------------------------

    def _result(self) -> Replay:
        n = len(self.layout)
        record = self.ev.record
        first_index = self.records.first_index

        def per_pool(values: np.ndarray, fill: int) -> np.ndarray:
            out = np.full(n, fill, np.int64)
            out[self.pool_index] = values
            return out

        reached = self.peak_event >= 0
        peak_record = np.full(len(self.peak_event), -1, np.int64)
        peak_record[reached] = record[self.peak_event[reached]] + first_index
        event_pool = self.event_pool.astype(np.int32)
        used = event_pool >= 0
        event_pool[used] = self.pool_index[event_pool[used]]
        return Replay(
            pools=self.layout,
            failed_event=np.sort(np.concatenate(self.failed)),
            pool_peak=per_pool(self.peak, 0),
            pool_peak_record=per_pool(peak_record, -1),
            pool_overflow=per_pool(self.overflow, 0),
            peak_bytes=self.peak_bytes,
            peak_requested=self.peak_requested,
            peak_record=int(record[self.peak_at]) + first_index if self.peak_at >= 0 else -1,
            unmatched=self.unmatched,
            skipped=self.skipped,
            event_pool=event_pool,
            _records=self.records,
            _events=self.ev,
        )
