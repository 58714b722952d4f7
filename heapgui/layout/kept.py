"""Kept blocks: pools the user requires whatever the trace says, with a least capacity.

A kept block is a forced group end in the exact partition (heapgui.layout.pools):
no group may run past it, so the layout always has a pool of exactly that
block. A kept block that no traced size reaches is an item of count 0 that
must end a group: its pool serves the sizes above the next smaller block, if
any, and otherwise only what the spread of the heap gives it.

A minimum capacity counts as demand (for the heap check and before the
spread) but not as fragmentation: fragmentation measures bytes lost inside
blocks by the traced sizes, and blocks nobody asked for lose nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from heapgui.errors import HeapguiError
from heapgui.layout.pools import WORD_SIZE, pools_needed
from heapgui.sizes import MAX_SIZE, parse_size

KEPT_LEAST = 1
"""Blocks a kept pool holds at the least: a pool of no blocks is left out when written."""


@dataclass(frozen=True)
class Kept:
    block: int
    min_capacity: int = 0

    @property
    def least(self) -> int:
        """The capacity the pool starts from before the spread."""
        return max(self.min_capacity, KEPT_LEAST)

    def spec(self) -> str:
        return f"{self.block}:{self.min_capacity}" if self.min_capacity else str(self.block)


def parse_kept(spec: str) -> Kept:
    """`BLOCK[:MIN_CAPACITY]`, the block in drone's size strings, e.g. 64 or 1K:16."""
    block_text, sep, count = spec.partition(":")
    count = count.strip()
    if sep and not (count.isascii() and count.isdigit()):
        raise HeapguiError(
            f"invalid --keep {spec!r}: expected BLOCK[:MIN_CAPACITY] with a whole number of "
            "blocks, e.g. 64:16"
        )
    try:
        block = parse_size(block_text)
    except HeapguiError as exc:
        raise HeapguiError(f"invalid --keep {spec!r}: {exc}") from None
    capacity = int(count) if sep else 0
    if capacity > MAX_SIZE:
        raise HeapguiError(f"invalid --keep {spec!r}: expected a capacity of at most {MAX_SIZE}")
    return Kept(block, capacity)


def check_kept(kept: Iterable[Kept]) -> tuple[Kept, ...]:
    """The kept blocks in ascending order; refuses a block of 0, off the word size, or twice."""
    seen: dict[int, Kept] = {}
    for k in kept:
        if k.block <= 0 or k.block % WORD_SIZE:
            raise HeapguiError(
                f"invalid kept block {k.block}: expected a multiple of the word size "
                f"({WORD_SIZE} bytes) above 0"
            )
        if k.block in seen:
            raise HeapguiError(f"kept block {k.block} is given twice: expected each block once")
        seen[k.block] = k
    return tuple(seen[b] for b in sorted(seen))


def check_room(sizes: Sequence[int], kept: Sequence[Kept], pools: int) -> None:
    """Refuse a pool count that cannot hold the kept blocks and a pool for the largest size."""
    if len(kept) > pools:
        raise HeapguiError(
            f"{len(kept)} kept blocks need at least {len(kept)} pools, but only {pools} "
            f"{'is' if pools == 1 else 'are'} asked for"
        )
    if pools_needed(sizes, [k.block for k in kept]) > pools:
        what = "the kept block takes" if len(kept) == 1 else f"the {len(kept)} kept blocks take"
        where = "the only pool" if pools == 1 else f"all {pools} pools"
        raise HeapguiError(
            f"{what} {where}, leaving none for the traced sizes above {kept[-1].block} bytes "
            f"(up to {max(sizes)}): ask for more pools"
        )
