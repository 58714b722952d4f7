"""Plain loops for pool layouts, independent of heapgui's vectorised replay and optimizer."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from heapgui.layout.pools import Pool, align
from heapgui.trace.records import KIND_NAMES, Records


@dataclass
class Allocation:
    failed: list[tuple[int, int]] = field(default_factory=list)  # (record, size)
    occupancy: list[list[int]] = field(default_factory=list)  # per pool, after each record
    peak: list[int] = field(default_factory=list)


def first_fit(records: Records, pools: list[Pool], heap_size: int | None = None) -> Allocation:
    """The allocator's rule one record at a time.

    A request takes the first pool in ascending block order whose block holds
    it and which has a free block; a free returns the most recent live block
    of its size (a stack per size); a grow or shrink frees, then takes.
    Zero-size and larger-than-heap requests take nothing, nor does a free
    with no live block of its size.
    """
    order = sorted(range(len(pools)), key=lambda k: pools[k].block)
    used = [0] * len(pools)
    stacks: dict[int, list[int]] = {}
    out = Allocation(occupancy=[[] for _ in pools], peak=[0] * len(pools))

    def take(record: int, size: int) -> None:
        if size == 0 or (heap_size is not None and size > heap_size):
            return
        for k in order:
            if pools[k].block >= size and used[k] < pools[k].capacity:
                used[k] += 1
                out.peak[k] = max(out.peak[k], used[k])
                stacks.setdefault(size, []).append(k)
                return
        out.failed.append((record, size))

    def free(size: int) -> None:
        stack = stacks.get(size)
        if stack:
            used[stack.pop()] -= 1

    kinds, sizes, new_sizes = (a.tolist() for a in (records.kind, records.size, records.new_size))
    for i, (kind, size, new_size) in enumerate(zip(kinds, sizes, new_sizes, strict=True)):
        name = KIND_NAMES[kind]
        if name != "alloc":
            free(size)
        if name == "alloc":
            take(i + records.first_index, size)
        elif name != "dealloc":
            take(i + records.first_index, new_size)
        for k in range(len(pools)):
            out.occupancy[k].append(used[k])
    return out


def class_live_counts(records: Records) -> tuple[list[int], np.ndarray]:
    """Word-aligned size classes and their live blocks after each record (records × classes)."""
    kinds, sizes, new_sizes = (a.tolist() for a in (records.kind, records.size, records.new_size))
    classes = sorted({align(s) for s in sizes + new_sizes if s})
    column = {c: k for k, c in enumerate(classes)}
    live: dict[int, int] = {}
    per_class = [0] * len(classes)
    rows = []
    for kind, size, new_size in zip(kinds, sizes, new_sizes, strict=True):
        name = KIND_NAMES[kind]
        if name != "alloc" and size and live.get(size, 0) > 0:
            live[size] -= 1
            per_class[column[align(size)]] -= 1
        added = size if name == "alloc" else 0 if name == "dealloc" else new_size
        if added:
            live[added] = live.get(added, 0) + 1
            per_class[column[align(added)]] += 1
        rows.append(list(per_class))
    return classes, np.array(rows, np.int64).reshape(len(rows), len(classes))


def timeline_minimum(matrices: list[np.ndarray], classes: list[int], pools: int) -> int:
    """Least Σ block × simultaneous peak over every split of the classes into ≤ `pools` groups.

    Each matrix is one trace's live counts per class; a group's peak is the
    largest over the traces.
    """
    n = len(classes)

    peaks = {
        (first, last): max(int(m[:, first : last + 1].sum(axis=1).max()) for m in matrices)
        for first in range(n)
        for last in range(first, n)
    }

    def peak(first: int, last: int) -> int:
        return peaks[first, last]

    best = None
    for groups in range(1, min(pools, n) + 1):
        for cuts in combinations(range(1, n), groups - 1):
            bounds = [0, *cuts, n]
            cost = sum(
                classes[b - 1] * peak(a, b - 1)
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            )
            best = cost if best is None else min(best, cost)
    return best
