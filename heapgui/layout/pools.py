"""Pool layouts: the demand a trace puts on the heap, and its exact best partition.

drone searches partitions heuristically and can miss the minimum; here a
dynamic programme over the sorted sizes finds the true minimum fragmentation
for every pool count at once, in O(P·n²) with numpy rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from heapgui.errors import HeapguiError

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
    pools do not add up to its `size` (docs/heaptrace-formats.md, 4.3).
    """
    used = sum(p.bytes for p in pools)
    if used > heap_size:
        raise HeapguiError(
            f"pools add up to {used} bytes, more than the heap's {heap_size}: "
            "expected pools that fit the heap"
        )
    if used < heap_size:
        return (
            f"pools add up to {used} bytes but the heap size is {heap_size}; "
            "drone requires them to match"
        )
    return None


def align(size: int) -> int:
    """Round up to the allocator's word size, as drone does before sizing pools."""
    return -(-size // WORD_SIZE) * WORD_SIZE


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
    """Best partitions of one demand for every pool count up to `max_pools`."""

    def __init__(self, demand_rows: list[tuple[int, int]], max_pools: int = 32) -> None:
        self.demand = demand_rows
        n = len(demand_rows)
        self.max_pools = min(max_pools, n)
        sizes = np.array([s for s, _ in demand_rows], np.int64)
        counts = np.array([c for _, c in demand_rows], np.int64)
        c = np.concatenate([[0], np.cumsum(counts)])
        w = np.concatenate([[0], np.cumsum(sizes * counts)])
        # cost[i, j]: fragmentation of one pool serving sizes i..j (block = sizes[j]).
        i = np.arange(n)[:, None]
        j = np.arange(n)[None, :]
        cost = sizes[None, :] * (c[j + 1] - c[i]) - (w[j + 1] - w[i])
        self._table = SplitTable(np.where(i <= j, cost, INFINITE), self.max_pools)

    def fragmentation(self, pools: int) -> int:
        return self._table.cost(pools)

    def partition(self, pools: int) -> Partition:
        """The exact best split into min(pools, number of sizes) pools."""
        if not self.demand:
            return Partition((), 0, ())
        groups = self._table.groups(pools)
        result = []
        for first, last in groups:
            block = self.demand[last][0]
            capacity = sum(count for _, count in self.demand[first : last + 1])
            result.append(Pool(block, capacity))
        return Partition(tuple(result), self.fragmentation(pools), tuple(groups))
