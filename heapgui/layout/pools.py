"""Pool layouts: the demand a trace puts on the heap, and its exact best partition.

drone searches partitions heuristically and can miss the minimum; here a
dynamic programme over the sorted sizes finds the true minimum fragmentation
for every pool count at once, in O(P·n²) with numpy rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

WORD_SIZE = 4


@dataclass(frozen=True)
class Pool:
    block: int
    capacity: int

    @property
    def bytes(self) -> int:
        return self.block * self.capacity


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


class Partitioner:
    """Best partitions of one demand for every pool count up to `max_pools`.

    Among equal minima the split whose last pool starts at the smallest size
    wins, applied from the largest pool down, so results are deterministic.
    """

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
        inf = np.iinfo(np.int64).max // 4
        cost = np.where(i <= j, cost, inf)
        # best[p][j]: least fragmentation of sizes 0..j in exactly p+1 pools;
        # start[p][j]: where the last of those pools begins.
        self._best = np.full((max(self.max_pools, 1), n), inf, np.int64)
        self._start = np.zeros((max(self.max_pools, 1), n), np.int64)
        if n == 0:
            return
        self._best[0] = cost[0]
        for p in range(1, self.max_pools):
            # Last pool covers i..j; the first p pools cover 0..i-1.
            prev = np.concatenate([[inf], self._best[p - 1][:-1]])  # indexed by i
            total = prev[:, None] + cost
            self._start[p] = np.argmin(total, axis=0)
            self._best[p] = total[self._start[p], np.arange(n)]

    def fragmentation(self, pools: int) -> int:
        p = min(pools, self.max_pools)
        return int(self._best[p - 1][-1])

    def partition(self, pools: int) -> Partition:
        """The exact best split into min(pools, number of sizes) pools."""
        if not self.demand:
            return Partition((), 0, ())
        p = min(pools, self.max_pools)
        groups: list[tuple[int, int]] = []
        last = len(self.demand) - 1
        for level in range(p - 1, -1, -1):
            first = int(self._start[level][last]) if level else 0
            groups.append((first, last))
            last = first - 1
        groups.reverse()
        result = []
        for first, last in groups:
            block = self.demand[last][0]
            capacity = sum(count for _, count in self.demand[first : last + 1])
            result.append(Pool(block, capacity))
        return Partition(tuple(result), self.fragmentation(p), tuple(groups))
