"""Independent, deliberately naive reference implementations for tests."""

from __future__ import annotations

import itertools


def brute_stats(ops: list[tuple], heap_size: int | None = None) -> dict:
    """Per-size current/max/total with a plain loop, tolerant the way heapgui documents it."""
    cur: dict[int, int] = {}
    mx: dict[int, int] = {}
    tot: dict[int, int] = {}
    in_use = 0
    peak, peak_at = 0, -1
    unmatched = 0
    timeline = []

    refused: dict[int, int] = {}  # allocations larger than the heap, not yet freed

    def alloc(size: int) -> None:
        nonlocal in_use
        if heap_size is not None and size > heap_size:
            refused[size] = refused.get(size, 0) + 1
            return
        cur[size] = cur.get(size, 0) + 1
        tot[size] = tot.get(size, 0) + 1
        mx[size] = max(mx.get(size, 0), cur[size])
        in_use += size

    def dealloc(size: int) -> None:
        nonlocal in_use, unmatched
        if refused.get(size, 0):
            refused[size] -= 1  # frees an allocation that was refused for its size
            return
        if cur.get(size, 0) == 0:
            unmatched += 1
            return
        cur[size] -= 1
        in_use -= size

    for i, op in enumerate(ops):
        if op[0] == "alloc":
            alloc(op[1])
        elif op[0] == "dealloc":
            dealloc(op[1])
        else:
            dealloc(op[1])
            alloc(op[2])
        timeline.append(in_use)
        if in_use > peak:
            peak, peak_at = in_use, i
    rows = [(s, mx[s], tot[s], cur[s]) for s in sorted(tot)]
    return {
        "rows": rows,
        "max_usage": sum(s * m for s, m, _, _ in rows),
        "peak": peak,
        "peak_record": peak_at,
        "timeline": timeline,
        "unmatched": unmatched,
    }


def brute_partition(demand: list[tuple[int, int]], pools: int) -> int:
    """Least fragmentation over every split of the sorted demand into exactly `pools` groups."""
    n = len(demand)
    k = min(pools, n)
    best = None
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        frag = 0
        for a, b in zip(bounds, bounds[1:], strict=False):
            block = demand[b - 1][0]
            frag += sum((block - s) * c for s, c in demand[a:b])
        best = frag if best is None else min(best, frag)
    return best or 0
