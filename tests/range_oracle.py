"""A window's statistics by a plain loop over the records, one event at a time.

Deliberately naive and written from the issue's words, not from heapgui's
code: the blocks live at the window's start are its starting load, *Max Load*
is the most blocks of a size live at once within the window, *Total
Allocations* counts the allocations made in it, and a grow or shrink frees its
old size and allocates its new one. Damaged records are treated as heapgui
documents: a deallocation with nothing live of its size is ignored, and an
allocation larger than the heap is left out (its own deallocation then ends it
quietly).
"""

from __future__ import annotations


def brute_window(ops: list[tuple], heap_size: int | None, start: int, stop: int) -> dict:
    live: dict[int, int] = {}
    refused: dict[int, int] = {}
    in_use = 0
    window = None  # the window's figures, once it has started

    def allocate(size: int) -> None:
        nonlocal in_use
        if heap_size is not None and size > heap_size:
            refused[size] = refused.get(size, 0) + 1
            return
        live[size] = live.get(size, 0) + 1
        in_use += size
        if window is not None:
            window["total"][size] = window["total"].get(size, 0) + 1
            window["most"][size] = max(window["most"].get(size, 0), live[size])

    def free(size: int) -> None:
        nonlocal in_use
        if refused.get(size, 0) > 0:
            refused[size] -= 1
        elif live.get(size, 0) > 0:
            live[size] -= 1
            in_use -= size
        elif window is not None:
            window["unmatched"] += 1

    def begin(at: int) -> dict:
        most = {size: count for size, count in live.items() if count > 0}
        return {"most": most, "total": {}, "peak": in_use, "peak_record": at - 1, "unmatched": 0}

    for i in range(stop):
        if i == start:
            window = begin(i)
        kind = ops[i][0]
        if kind == "alloc":
            allocate(ops[i][1])
        elif kind == "dealloc":
            free(ops[i][1])
        else:  # grow, shrink
            free(ops[i][1])
            allocate(ops[i][2])
        if window is not None and in_use > window["peak"]:
            window["peak"], window["peak_record"] = in_use, i
    if window is None:  # an empty window
        window = begin(start)
    sizes = sorted(set(window["most"]) | set(window["total"]))
    rows = [(s, window["most"].get(s, 0), window["total"].get(s, 0), live.get(s, 0)) for s in sizes]
    return {
        "rows": rows,
        "max_usage": sum(s * most for s, most, _, _ in rows),
        "peak": window["peak"],
        "peak_record": window["peak_record"],
        "unmatched": window["unmatched"],
    }
