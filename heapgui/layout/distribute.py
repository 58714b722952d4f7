"""Spreading the rest of the heap over the pools, exactly as drone does.

drone gives middle pools the largest share of the free bytes (weights rise
from 1/4 at the ends to 1 in the middle), then fills what is left from the
largest block down. The integer steps and rounding follow drone's code so the
capacities match it to the block.
"""

from __future__ import annotations

import math

from heapgui.layout.pools import WORD_SIZE, Pool, align


def _round_half_away(x: float) -> int:
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def weights(n: int) -> list[float]:
    """w_i = 1/4 + 3/4·(1 − (1 − 2i/(n−1))²), normalised; one pool gets everything."""
    if n == 1:
        return [1.0]
    raw = [0.25 + 0.75 * (1.0 - (1.0 - 2.0 * (i / (n - 1))) ** 2) for i in range(n)]
    total = sum(raw)
    return [w / total for w in raw]


def _share(block: int, unused: int, weight: float, total: float) -> int:
    """Blocks for one pool: its weighted share of `total`, cut to the bytes still unused."""
    add = _round_half_away(total / block * weight)
    if add * block > unused:
        add -= math.ceil((add * block - unused) / block)
    return add


def fill_from_largest(pools: list[list[int]], used: int, heap_size: int) -> None:
    for pool in reversed(pools):
        add = (heap_size - used) // pool[0]
        used += add * pool[0]
        pool[1] += add


def distribute(pools: tuple[Pool, ...] | list[Pool], heap_size: int) -> list[Pool]:
    """Grow each pool's capacity so the layout fills `heap_size` (which must hold it)."""
    work = [[p.block, p.capacity] for p in pools]
    used = sum(b * c for b, c in work)
    free = float(heap_size - used)
    for pool, weight in zip(work, weights(len(work)), strict=False):
        add = _share(pool[0], heap_size - used, weight, free)
        used += add * pool[0]
        pool[1] += add
    fill_from_largest(work, used, heap_size)
    return [Pool(b, c) for b, c in work]


def starter_layout(heap_size: int, pools: int) -> list[Pool]:
    """drone's layout for a heap with no trace: blocks growing as i^2.75 up to H/20."""
    largest = max(heap_size // 20 - WORD_SIZE, 0)
    work: list[list[int]] = []
    used = 0
    previous = 0
    for i, weight in enumerate(weights(pools)):
        ratio = i / (pools - 1) if pools > 1 else 0.0
        block = align(WORD_SIZE + _round_half_away(ratio**2.75 * largest))
        if block <= previous:
            block = previous + WORD_SIZE
        capacity = _share(block, heap_size - used, weight, float(heap_size))
        used += block * capacity
        previous = block
        work.append([block, capacity])
    fill_from_largest(work, used, heap_size)
    return [Pool(b, c) for b, c in work]
