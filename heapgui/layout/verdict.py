"""The verdict on any layout, hand-edited or not: fragmentation, reserved bytes, holds or fails.

"Holds" means what `heapgui-cli validate` means: a replay of every trace of the
set with drone's allocator rule (heapgui.layout.pool_replay) finds a free block for
every allocation; and the pools fit the heap.

A full replay of ten million records takes seconds, too slow to answer each
keystroke. Most edits need none: when every pool can hold the simultaneous
peak of the sizes first fit sends to it, no pool is ever full, so every
request is served by its first-fit pool: the replay holds with no overflow.
That takes each pool's range peak (heapgui.layout.timeline.RangePeaks), which
is O(1) from the per-size max loads when their sum fits the capacity (drone's
layouts always do) and O(m) otherwise, and each is computed once per set: an
edit of one capacity or one block checks at most two new ranges. Only a layout
where some pool can run full is replayed, and the result is the replay's.

Resuming a replay from an earlier one's state after a capacity edit (both
take the same decisions until the edited pool first holds the smaller of its
two capacities) was tried and measured: rebuilding the state costs about as
much per event as replaying, so it lost on 10^7 records even where the edited
pool fills late; it is not used.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from heapgui.layout.pool_replay import Failure, replay
from heapgui.layout.pools import WORD_SIZE, Pool, demand
from heapgui.layout.timeline import RangePeaks
from heapgui.trace.load import Cancelled
from heapgui.trace.traceset import TraceSet

MARKED_FAILURES = 100_000
"""Failed records kept per trace for the load chart, as the validation panel marks them."""


@dataclass(frozen=True)
class FirstFailure:
    trace: int  # index in the set
    name: str
    failure: Failure


@dataclass(frozen=True)
class Verdict:
    """What a layout does with a trace set; `replayed` says how it was found, not what."""

    heap_size: int
    pools: tuple[Pool, ...]
    fragmentation: int | None  # None when some traced size has no block large enough
    reserved: int  # Σ block × capacity: what the pools take of the heap
    replay_holds: bool
    failures: int
    first_failure: FirstFailure | None
    overflows: int  # allocations a larger pool took because the first fit was full
    replayed: bool = field(compare=False)
    failed_records: tuple[np.ndarray, ...] = field(compare=False, repr=False)
    """Per trace, the first MARKED_FAILURES failed records."""

    @property
    def over_heap(self) -> int:
        """Bytes the pools take beyond the heap (0 when they fit)."""
        return max(self.reserved - self.heap_size, 0)

    @property
    def holds(self) -> bool:
        return self.replay_holds and not self.over_heap


def served_pools(pools: Sequence[Pool]) -> list[Pool]:
    """The pools first fit can use, ascending: capacity-0 pools never serve."""
    return sorted((p for p in pools if p.capacity > 0), key=lambda p: p.block)


def layout_fragmentation(rows: Sequence[tuple[int, int]], pools: Sequence[Pool]) -> int | None:
    """drone's measure for any layout: Σ (first-fit block − size) × count; None if a size has none.

    `rows` are (size, max load); sizes are word-aligned first, as the demand is.
    """
    blocks = np.array([p.block for p in served_pools(pools)], np.int64)
    needed = demand(rows)
    if not needed:
        return 0
    sizes = np.array([s for s, _ in needed], np.int64)
    counts = np.array([c for _, c in needed], np.int64)
    first = np.searchsorted(blocks, sizes, "left")
    if (first == len(blocks)).any():
        return None
    return int(np.dot(blocks[first] - sizes, counts))


class EditChecker:
    """Verdicts on layouts for one trace set; `prepare` (slow, once) enables the fast path.

    `traces` must count every allocation (heapgui.layout.plan.whole_demand).
    Not thread-safe: one verdict at a time.
    """

    def __init__(self, traces: TraceSet) -> None:
        self.traces = traces
        self.rows = traces.max_loads()
        self._peaks: RangePeaks | None = None
        self._unusable = False

    @property
    def prepared(self) -> bool:
        return self._peaks is not None or self._unusable

    def prepare(self) -> None:
        """Range peaks over every event the replay sees (no heap size leaves any out)."""
        if not self.prepared:
            peaks = RangePeaks([t.records for t in self.traces.traces])
            # Its classes must be the demand's sizes, which index both. They are when the
            # statistics count every allocation; otherwise the replay decides everything.
            if peaks.classes.tolist() == [s for s, _ in demand(self.rows)]:
                self._peaks = peaks
            else:
                self._unusable = True

    def verdict(
        self,
        heap_size: int,
        pools: Sequence[Pool],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Verdict:
        """The exact verdict: by range peaks when they decide it, else by full replay."""
        quick = self.quick(heap_size, pools, compute=False)
        if quick is None:
            self.prepare()
            quick = self.quick(heap_size, pools)
        return quick if quick is not None else self.full(heap_size, pools, cancelled)

    def quick(self, heap_size: int, pools: Sequence[Pool], compute: bool = True) -> Verdict | None:
        """The verdict when no pool can ever be full, else None (a replay must decide).

        Pools holding the sum of their sizes' max loads are decided from the
        demand alone; the others need the range peaks (`prepare`). Without
        `compute`, only range peaks already known are used (no O(m) pass), as
        the GUI thread does.
        """
        served = served_pools(pools)
        if any(p.block % WORD_SIZE for p in served):
            # Peaks are of word-aligned sizes; first fit looks at the exact size.
            return None
        needed = demand(self.rows)
        if needed and (not served or needed[-1][0] > served[-1].block):
            return None  # some size has no pool: its allocations fail
        sizes = [s for s, _ in needed]
        summed = np.concatenate([[0], np.cumsum([c for _, c in needed])])
        below = 0
        for pool in served:
            first = bisect_right(sizes, below)
            last = bisect_right(sizes, pool.block) - 1
            below = pool.block
            # Σ max load bounds the range's simultaneous peak from above.
            if first > last or pool.capacity >= summed[last + 1] - summed[first]:
                continue
            peaks = self._peaks
            if peaks is None:
                return None
            if not peaks.is_exact(first, last):
                if not compute:
                    return None
                # Only here is the cache written: the GUI thread reads while a job computes.
                peaks.resolve([(first, last)], sample=False)
            if pool.capacity < peaks.lower[first, last]:
                return None
        empty = tuple(np.empty(0, np.int64) for _ in self.traces.traces)
        return self._verdict(heap_size, pools, True, 0, None, 0, False, empty)

    def full(
        self,
        heap_size: int,
        pools: Sequence[Pool],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Verdict:
        """The verdict by replaying every trace of the set."""
        failures = overflows = 0
        first = None
        marked = []
        for index, (name, trace) in enumerate(self.traces):
            if cancelled():
                raise Cancelled("verdict cancelled")
            result = replay(trace.records, list(pools))
            failures += len(result.failed_event)
            overflows += result.overflows
            if first is None and not result.holds:
                first = FirstFailure(index, name, result.failures(1)[0])
            marked.append(result.failed_record[:MARKED_FAILURES])
        return self._verdict(
            heap_size, pools, not failures, failures, first, overflows, True, tuple(marked)
        )

    def _verdict(
        self,
        heap_size: int,
        pools: Sequence[Pool],
        holds: bool,
        failures: int,
        first: FirstFailure | None,
        overflows: int,
        replayed: bool,
        marked: tuple[np.ndarray, ...],
    ) -> Verdict:
        return Verdict(
            heap_size,
            tuple(pools),
            layout_fragmentation(self.rows, pools),
            sum(p.bytes for p in pools),
            holds,
            failures,
            first,
            overflows,
            replayed,
            marked,
        )
