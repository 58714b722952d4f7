"""Kept blocks by brute force, the oracle of the kept-block tests.

It does not partition: it tries every set of word-multiple blocks up to the
largest size or kept block, keeps those that hold every kept block, serve
every size and number at most the pool count, and measures each with first fit.
"""

from __future__ import annotations

from itertools import combinations

WORD = 4


def first_fit_fragmentation(rows: list[tuple[int, int]], blocks: list[int]) -> int | None:
    """Σ (block − size) × count with each size served by the smallest block holding it."""
    total = 0
    for size, count in rows:
        fitting = [b for b in blocks if b >= size]
        if not fitting:
            return None
        total += (min(fitting) - size) * count
    return total


def brute_kept(rows: list[tuple[int, int]], kept: list[int], pools: int) -> int | None:
    """Least fragmentation over every block set holding `kept`, or None when none can."""
    top = max([s for s, _ in rows] + kept)
    candidates = [b for b in range(WORD, top + 1, WORD) if b not in kept]
    best = None
    for extra in range(0, pools - len(kept) + 1):
        for chosen in combinations(candidates, extra):
            frag = first_fit_fragmentation(rows, sorted([*kept, *chosen]))
            if frag is not None and (best is None or frag < best):
                best = frag
    return best
