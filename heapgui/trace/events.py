"""Records as per-size events, and the segmented walks that count live blocks.

Statistics, the layout replay and the timeline optimizer all see a trace the
same way: each record is one or two (size, ±1) events, events are grouped by
size (or by pool) with a radix sort, and a group's live count is a walk that a
deallocation with nothing live cannot push below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from heapgui.trace.records import ALLOC, GROW, Records

_LUT_LIMIT = 1 << 16  # sizes below this map to ids through a lookup table


@dataclass
class Events:
    """Each record as one or two (size, ±1) events; grow/shrink give two."""

    size: np.ndarray  # uint32
    up: np.ndarray  # bool: allocation (+1) or deallocation (-1)
    first: np.ndarray  # int64: index of each record's first event

    @classmethod
    def of(cls, records: Records) -> Events:
        kind = records.kind
        n = len(kind)
        double = kind >= GROW
        # First event of record i sits at i + (number of double records before i).
        first = np.arange(n, dtype=np.int64)
        first[1:] += np.cumsum(double[:-1], dtype=np.int64)
        m = n + int(np.count_nonzero(double))
        size = np.empty(m, np.uint32)
        up = np.empty(m, bool)
        size[first] = records.size
        up[first] = kind == ALLOC
        second = first[double] + 1
        size[second] = records.new_size[double]
        up[second] = True
        return cls(size, up, first)

    @cached_property
    def record(self) -> np.ndarray:
        """The record (position in its batch) of every event, built when first asked for."""
        per_record = np.diff(np.append(self.first, len(self.size)))
        return np.repeat(np.arange(len(self.first), dtype=np.int64), per_record)

    def records_of(self, events: np.ndarray) -> np.ndarray:
        """The records of a few events, without building the whole mapping."""
        return np.searchsorted(self.first, events, side="right") - 1


def distinct_sizes(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values without sorting all of them (sizes are few)."""
    if len(values) == 0:
        return np.empty(0, np.uint32)
    if int(values.max()) < _LUT_LIMIT:
        return np.flatnonzero(np.bincount(values)).astype(np.uint32)
    small = values < _LUT_LIMIT
    present = np.flatnonzero(np.bincount(values[small], minlength=1)).astype(np.uint32)
    return np.union1d(present, np.unique(values[~small])).astype(np.uint32)


def size_ids(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index of each value in the sorted `table` (every value must be present)."""
    if len(table) and int(table[-1]) < _LUT_LIMIT:
        lut = np.zeros(int(table[-1]) + 1, np.int32)
        lut[table] = np.arange(len(table), dtype=np.int32)
        return lut[values]
    return np.searchsorted(table, values).astype(np.int32)


def group_heads(counts: np.ndarray) -> np.ndarray:
    """Index of each group's first item when items are sorted by group."""
    return np.cumsum(counts) - counts


def segmented_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at every group, as int64."""
    total = np.cumsum(values, dtype=np.int64)
    before = np.concatenate([[0], total])[group_heads(counts)]
    return total - np.repeat(before, counts)


def segmented_running_min(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running minimum restarting at every group.

    Each group is lowered below all earlier ones by more than the value range,
    so one global running minimum never carries across a group boundary.
    """
    if not len(values):
        return values.astype(np.int64)
    span = int(values.max()) - int(values.min()) + 1
    lift = np.repeat(np.arange(len(counts), dtype=np.int64) * span, counts)
    return np.minimum.accumulate(values - lift) + lift


def clamped_walk(
    counts: np.ndarray, steps: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Live counts of items sorted by group: (after each step, before each step).

    Group g starts at start[g]; a -1 step at a count of 0 changes nothing (an
    unmatched deallocation), so the walk is floored at zero:
    x_t = W_t - min(0, min_{k<=t} W_k) with W the plain walk.
    """
    walk = segmented_cumsum(steps, counts) + np.repeat(start.astype(np.int64), counts)
    after = walk - np.minimum(segmented_running_min(walk, counts), 0)
    before = np.empty_like(after)
    before[1:] = after[:-1]
    heads = group_heads(counts)[counts > 0]
    before[heads] = start[counts > 0]
    return after, before


def drop_unmatched(number: np.ndarray, step: np.ndarray, live: np.ndarray) -> None:
    """Zero, in place, the -1 steps that find no live block of their size.

    `number` is each event's size number, `step` its ±1 (0: ignored) and `live`
    the live blocks of every size before these events, carried forward in
    place: a trace can come chunk after chunk. Two passes when, as usual, every
    deallocation matches; the clamped walk only when one does not.
    """
    if not len(number):
        return
    key = number.astype(np.uint16) if len(live) <= 1 << 16 else number  # a radix sort
    order = np.argsort(key, kind="stable")
    counts = np.bincount(number, minlength=len(live))
    steps = step[order]
    walk = np.cumsum(steps, dtype=np.int64)
    present = counts > 0
    heads = (np.cumsum(counts) - counts)[present]
    ends = heads + counts[present] - 1
    base = live[present] - np.append(0, walk)[heads]
    if (np.minimum.reduceat(walk, heads) + base).min(initial=0) < 0:
        after, before = clamped_walk(counts, steps, live)
        step[order[(steps < 0) & (before == 0)]] = 0
        live[present] = after[ends]
    else:
        live[present] = walk[ends] + base


def stable_order(groups: np.ndarray, counts: np.ndarray, chunk: int) -> np.ndarray:
    """`np.argsort(groups, kind="stable")` as int32, `chunk` items at a time: a counting sort
    that never holds the 64-bit positions of the whole array (groups are few)."""
    order = np.empty(len(groups), np.int32)
    filled = group_heads(counts)
    for lo in range(0, len(groups), chunk):
        part = groups[lo : lo + chunk]
        sub = np.argsort(part, kind="stable")
        in_part = np.bincount(part, minlength=len(counts))
        ranked = part[sub]
        order[filled[ranked] + np.arange(len(sub)) - group_heads(in_part)[ranked]] = sub + lo
        filled += in_part
    return order


def largest_first(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` largest values, ties going to the earliest, ascending.

    A total order (value, then position), so the choice over a whole array equals
    the choice over the winners of its chunks: streamed and whole passes sample
    the same moments. O(n): no sort of all the values.
    """
    if len(values) <= count:
        return np.arange(len(values), dtype=np.int64)
    if count <= 0:
        return np.empty(0, np.int64)
    bar = np.partition(values, len(values) - count)[len(values) - count]
    above = np.flatnonzero(values > bar)
    level = np.flatnonzero(values == bar)[: count - len(above)]
    return np.sort(np.concatenate([above, level]))
