"""Pool layouts: the demand a trace puts on the heap, and its exact best partition.

drone searches partitions heuristically and can miss the minimum; here a
dynamic programme over the sorted sizes finds the true minimum fragmentation
for every pool count at once, in O(P·n²) with numpy rows.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from heapgui.errors import HeapguiError
from heapgui.sizes import format_bytes

if TYPE_CHECKING:
    from heapgui.layout.kept import Kept

WORD_SIZE = 4


@dataclass(frozen=True)
class Pool:
    block: int
    capacity: int

    @property
    def bytes(self) -> int:
        return self.block * self.capacity


def pools_against_heap(pools: Iterable[Pool], heap_size: int) -> str | None:
    """Refuse pools that add up to more than the heap; say when they add up to less.

    More would promise memory the heap does not have, so a replay that holds
    proves nothing. Less leaves heap unused, and drone refuses a config whose
    pools do not add up to its `size`.
    """
    used = sum(p.bytes for p in pools)
    if used > heap_size:
        raise HeapguiError(
            f"pools add up to {format_bytes(used)}, more than the heap's "
            f"{format_bytes(heap_size)}: "
            "expected pools that fit the heap"
        )
    if used < heap_size:
        return (
            f"pools add up to {format_bytes(used)} but the heap size is {format_bytes(heap_size)}; "
            "drone requires them to match"
        )
    return None


def checked_layout(source: str, pools: list[Pool], heap_size: int) -> str | None:
    """pools_against_heap with the layout's source named: the refusal, or the warning."""
    try:
        note = pools_against_heap(pools, heap_size)
    except HeapguiError as exc:
        raise HeapguiError(f"{source}: {exc}") from None
    return f"{source}: {note}" if note else None


def align(size: int) -> int:
    """Round up to the allocator's word size, as drone does before sizing pools."""
    return -(-size // WORD_SIZE) * WORD_SIZE


def first_fit(pools: Sequence[Pool], sizes: Sequence[int]) -> list[list[int]]:
    """For each pool, the indices of the `sizes` (word-aligned) the allocator sends to it: the
    smallest block that holds each. A pool of capacity 0 serves nothing; a size above every
    block, no pool. Indices keep the order of `sizes`."""
    served: list[list[int]] = [[] for _ in pools]
    order = sorted((p.block, k) for k, p in enumerate(pools) if p.capacity)
    blocks = [block for block, _ in order]
    for i, size in enumerate(sizes):
        at = bisect_left(blocks, size)
        if at < len(order):
            served[order[at][1]].append(i)
    return served


def demand(rows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(size, max load) rows -> sorted (word-aligned size, count), merged, size 0 dropped."""
    merged: dict[int, int] = {}
    for size, count in rows:
        aligned = align(size)
        if aligned == 0 or count == 0:
            continue
        merged[aligned] = merged.get(aligned, 0) + count
    return sorted(merged.items())


@dataclass(frozen=True)
class Partition:
    """Contiguous groups of the demand, one pool each, before the heap is spread."""

    pools: tuple[Pool, ...]
    fragmentation: int
    groups: tuple[tuple[int, int], ...]  # [first, last] demand index per pool

    @property
    def bytes(self) -> int:
        """Demand plus fragmentation: the heap this partition needs at the least."""
        return sum(p.bytes for p in self.pools)


def pools_needed(sizes: Sequence[int], kept_blocks: Sequence[int]) -> int:
    """The fewest pools that hold every kept block and serve the largest traced size."""
    above = bool(sizes) and (not kept_blocks or max(sizes) > max(kept_blocks))
    return len(kept_blocks) + above


INFINITE = np.iinfo(np.int64).max // 4  # a cost no real split reaches; sums stay in range


class SplitTable:
    """Least-cost splits of items 0..n-1 into contiguous groups, for every group count.

    `cost[i, j]` is the cost of one group holding items i..j (INFINITE below
    the diagonal). Among equal minima the split whose last group starts at the
    smallest item wins, applied from the last group down, so results are
    deterministic. O(P·n²) with one numpy row operation per group count.
    """

    def __init__(self, cost: np.ndarray, max_groups: int) -> None:
        n = cost.shape[0]
        self.levels = max(min(max_groups, n), 1)
        self._best = np.full((self.levels, n), INFINITE, np.int64)
        self._start = np.zeros((self.levels, n), np.int64)
        if n == 0:
            return
        self._best[0] = cost[0]
        for p in range(1, self.levels):
            # The last group covers i..j; the first p groups cover 0..i-1.
            prev = np.concatenate([[INFINITE], self._best[p - 1][:-1]])  # indexed by i
            total = prev[:, None] + cost
            self._start[p] = np.argmin(total, axis=0)
            self._best[p] = total[self._start[p], np.arange(n)]

    def cost(self, groups: int) -> int:
        """Least cost with exactly `groups` groups (capped at the item count)."""
        return int(self._best[min(groups, self.levels) - 1][-1])

    def cheapest_count(self, most: int) -> int:
        """The group count up to `most` with the least cost (fewer groups on ties)."""
        return int(np.argmin(self._best[: min(most, self.levels), -1])) + 1

    def groups(self, groups: int) -> list[tuple[int, int]]:
        """[first, last] item of each group in the best split into `groups` groups."""
        if self._best.shape[1] == 0:
            return []
        result: list[tuple[int, int]] = []
        last = self._best.shape[1] - 1
        for level in range(min(groups, self.levels) - 1, -1, -1):
            first = int(self._start[level][last]) if level else 0
            result.append((first, last))
            last = first - 1
        return result[::-1]


class Partitioner:
    """Best partitions of one demand for every pool count up to `max_pools`.

    With `kept` blocks (heapgui.layout.kept) the items are the demand's sizes
    and the kept blocks together, a kept block that no traced size has being
    an item of count 0; a group may end at a kept block but not run past one,
    so every kept block is the block of its own pool. The groups returned are
    still ranges of the demand, empty ((k, k-1)) for a kept pool serving no
    traced size.
    """

    def __init__(
        self,
        demand_rows: list[tuple[int, int]],
        max_pools: int = 32,
        kept: Sequence[Kept] = (),
    ) -> None:
        self.demand = demand_rows
        self.kept = tuple(kept)
        least = {k.block: k.least for k in self.kept}
        counted = dict(demand_rows)
        blocks = sorted(counted.keys() | least.keys())
        n = len(blocks)
        self.max_pools = min(max_pools, n)
        self.needed = pools_needed(list(counted), list(least))
        sizes = np.array(blocks, np.int64)
        counts = np.array([counted.get(b, 0) for b in blocks], np.int64)
        self._items = blocks
        self._least = [least.get(b, 0) for b in blocks]
        # The demand index of the first traced size at or after each item.
        self._first_size = np.searchsorted([s for s, _ in demand_rows], sizes).tolist()
        c = np.concatenate([[0], np.cumsum(counts)])
        w = np.concatenate([[0], np.cumsum(sizes * counts)])
        # cost[i, j]: fragmentation of one pool serving sizes i..j (block = sizes[j]).
        i = np.arange(n)[:, None]
        j = np.arange(n)[None, :]
        cost = sizes[None, :] * (c[j + 1] - c[i]) - (w[j + 1] - w[i])
        # A group i..j runs past a kept item when one lies in i..j-1.
        kept_at = np.concatenate([[0], np.cumsum([b in least for b in blocks])])
        runs_past = kept_at[j] - kept_at[i] > 0
        self._table = SplitTable(np.where((i <= j) & ~runs_past, cost, INFINITE), self.max_pools)

    def fits(self, pools: int) -> bool:
        """Whether `pools` pools can hold every kept block and the largest traced size."""
        return pools >= self.needed

    def fragmentation(self, pools: int) -> int:
        return self._table.cost(pools)

    def partition(self, pools: int) -> Partition:
        """The exact best split into min(pools, number of items) pools."""
        if not self._items:
            return Partition((), 0, ())
        if not self.fits(pools):
            raise ValueError(f"{pools} pools cannot hold the {len(self.kept)} kept blocks")
        result = []
        groups = []
        for first, last in self._table.groups(pools):
            # Demand rows first..last of the group: those at or after item `first`, up to `last`.
            lo, hi = self._first_size[first], self._first_size[last]
            if hi < len(self.demand) and self.demand[hi][0] == self._items[last]:
                hi += 1
            capacity = sum(count for _, count in self.demand[lo:hi])
            result.append(Pool(self._items[last], max(capacity, self._least[last])))
            groups.append((lo, hi - 1))
        return Partition(tuple(result), self.fragmentation(pools), tuple(groups))
