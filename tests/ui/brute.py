"""Plain loops over decoded records, independent of heapgui's vectorised code."""

from __future__ import annotations

from heapgui.trace.records import KIND_NAMES, Records


def replay(records: Records):
    """Yield (position, bytes in use, {size: live}) after each record, drone's rules, floored."""
    live: dict[int, int] = {}
    in_use = 0
    kinds, sizes, new_sizes = (
        records.kind.tolist(),
        records.size.tolist(),
        records.new_size.tolist(),
    )
    for i, (kind, size, new_size) in enumerate(zip(kinds, sizes, new_sizes, strict=True)):
        name = KIND_NAMES[kind]
        if name != "alloc":  # dealloc, and the first half of grow/shrink
            if live.get(size, 0) > 0:
                live[size] -= 1
                in_use -= size
        if name != "dealloc":
            added = size if name == "alloc" else new_size
            live[added] = live.get(added, 0) + 1
            in_use += added
        yield i, in_use, live


def peak(records: Records) -> int:
    return max((in_use for _, in_use, _ in replay(records)), default=0)


def live_at(records: Records, position: int) -> dict[int, int]:
    for i, _, live in replay(records):
        if i == position:
            return {size: count for size, count in live.items() if count}
    raise IndexError(position)


def live_series(records: Records, size: int) -> list[int]:
    return [live.get(size, 0) for _, _, live in replay(records)]
