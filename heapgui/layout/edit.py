"""A layout edited by hand: pools in ascending block order, some locked, and the edits on them.

Every edit returns a new `EditedLayout` (they are values), so an undo step is
just the layout before it. Edits refuse what no Drone heap can hold with a
one-line reason: a block off the word size, two pools of one block, a
negative capacity. They do not refuse a layout that fails the traces or
takes more than the heap: that is what the verdict (heapgui.layout.verdict)
is for, and the user may be on the way to a layout that holds.

A locked pool keeps its block when the optimizer runs again, and as a
minimum the capacity the user typed into it, if any (heapgui.layout.kept).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from heapgui.errors import HeapguiError
from heapgui.layout.generate import Layout
from heapgui.layout.kept import Kept
from heapgui.layout.pools import WORD_SIZE, Pool
from heapgui.layout.verdict import layout_fragmentation
from heapgui.sizes import MAX_SIZE


@dataclass(frozen=True)
class EditedPool:
    block: int
    capacity: int
    locked: bool = False
    minimum: int = 0
    """The capacity the user typed: what a lock keeps at the least. 0 for the optimizer's own
    capacities, which hold a share of the heap's spread: kept as minimums, they would grow
    by another share each time the layout is optimized again."""

    @property
    def pool(self) -> Pool:
        return Pool(self.block, self.capacity)


@dataclass(frozen=True)
class EditedLayout:
    pools: tuple[EditedPool, ...]

    @classmethod
    def of(cls, pools: Sequence[Pool], locks: Mapping[int, int] | None = None) -> EditedLayout:
        """`pools`, those whose block is in `locks` locked with the minimum it maps to."""
        locks = locks or {}
        rows = (
            EditedPool(p.block, p.capacity, p.block in locks, locks.get(p.block, 0)) for p in pools
        )
        return cls(tuple(sorted(rows, key=lambda p: p.block)))

    def plain(self) -> tuple[Pool, ...]:
        return tuple(p.pool for p in self.pools)

    def layout_for(self, optimum: Layout) -> Layout:
        """These pools as a layout of the optimum's heap and demand, with their own fragmentation.

        It has no partition: the pools are the user's, not groups of the
        demand. Its fragmentation is -1 when some traced size has no block.
        """
        pools = self.plain()
        frag = layout_fragmentation(list(optimum.demand), pools)
        fragmentation = -1 if frag is None else frag
        return Layout(optimum.heap_size, pools, fragmentation, optimum.demand, None)

    def kept(self) -> tuple[Kept, ...]:
        """The locked pools as kept blocks for the optimizer."""
        return tuple(Kept(p.block, p.minimum) for p in self.pools if p.locked)

    def locks(self) -> dict[int, int]:
        """Block → minimum capacity of each locked pool."""
        return {p.block: p.minimum for p in self.pools if p.locked}

    def locked_blocks(self) -> frozenset[int]:
        return frozenset(self.locks())

    # ---- edits ------------------------------------------------------------------------------

    def with_block(self, row: int, block: int) -> EditedLayout:
        """Pool `row` with another block; the pools are sorted again."""
        check_block(block)
        if any(p.block == block for k, p in enumerate(self.pools) if k != row):
            raise HeapguiError(f"a pool of block {block} exists already: merge the two instead")
        return self._sorted(self._replaced(row, replace(self.pools[row], block=block)))

    def with_capacity(self, row: int, capacity: int) -> EditedLayout:
        if not 0 <= capacity <= MAX_SIZE:
            raise HeapguiError(f"invalid capacity {capacity}: expected 0 to {MAX_SIZE} blocks")
        edited = replace(self.pools[row], capacity=capacity, minimum=capacity)
        return EditedLayout(self._replaced(row, edited))

    def with_lock(self, row: int, locked: bool) -> EditedLayout:
        return EditedLayout(self._replaced(row, replace(self.pools[row], locked=locked)))

    def with_pool(self, block: int, capacity: int = 0) -> EditedLayout:
        """One pool more; capacity 0 until the user gives it one (it is not written so)."""
        check_block(block)
        if any(p.block == block for p in self.pools):
            raise HeapguiError(f"a pool of block {block} exists already")
        return self._sorted((*self.pools, EditedPool(block, capacity)))

    def new_block(self) -> int:
        """A block for an added pool: twice the largest, a size no pool serves yet."""
        return 2 * self.pools[-1].block if self.pools else WORD_SIZE

    def without(self, row: int) -> EditedLayout:
        return EditedLayout(self.pools[:row] + self.pools[row + 1 :])

    def merged(self, row: int) -> EditedLayout:
        """Pools `row` and `row + 1` as one pool of the larger block, holding the bytes of both.

        The smaller pool's bytes become whole blocks of the larger size, so the
        layout takes no more of the heap than before; the verdict says whether
        the fewer blocks still serve the traces. The merged pool is locked if
        either was.
        """
        if not 0 <= row < len(self.pools) - 1:
            raise HeapguiError("merging needs a pool and the next larger one")
        small, large = self.pools[row], self.pools[row + 1]

        def joined_up(small_count: int, large_count: int) -> int:
            return large_count + small.block * small_count // large.block

        joined = EditedPool(
            large.block,
            joined_up(small.capacity, large.capacity),
            small.locked or large.locked,
            joined_up(small.minimum, large.minimum),
        )
        return EditedLayout(self.pools[:row] + (joined,) + self.pools[row + 2 :])

    def _replaced(self, row: int, pool: EditedPool) -> tuple[EditedPool, ...]:
        return self.pools[:row] + (pool,) + self.pools[row + 1 :]

    @staticmethod
    def _sorted(pools: tuple[EditedPool, ...]) -> EditedLayout:
        return EditedLayout(tuple(sorted(pools, key=lambda p: p.block)))


def check_block(block: int) -> None:
    if not 0 < block <= MAX_SIZE or block % WORD_SIZE:
        raise HeapguiError(
            f"invalid block {block}: expected a multiple of the word size ({WORD_SIZE} bytes) "
            "above 0"
        )
