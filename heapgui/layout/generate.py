"""From a trace's demand to a complete pool layout for a heap of a given size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from heapgui.errors import HeapguiError
from heapgui.layout.distribute import distribute, starter_layout
from heapgui.layout.kept import Kept, check_kept, check_room
from heapgui.layout.pools import Partition, Partitioner, Pool
from heapgui.sizes import format_bytes

MAX_POOLS = 32  # the GUI's spinner range; the CLI accepts more, like drone


class LayoutDoesNotFit(HeapguiError):
    """The trace's demand, in the pools asked for, is larger than the heap."""

    def __init__(
        self,
        needed: int,
        heap_size: int,
        pools: int,
        fits_with: int | None,
        kept: Sequence[Kept] = (),
    ) -> None:
        self.needed = needed
        self.heap_size = heap_size
        self.pools = pools
        self.fits_with = fits_with
        more = f"; {fits_with} pools would fit" if fits_with else ""
        noun = "pool" if pools == 1 else "pools"
        # The kept blocks' minimum capacities are part of what does not fit: say so.
        mins = [k.spec() for k in kept if k.min_capacity]
        keeping = f" with kept blocks {', '.join(mins)}" if mins else ""
        super().__init__(
            f"the trace does not fit a heap of {format_bytes(heap_size)} in {pools} {noun}"
            f"{keeping}: it needs a heap of at least {format_bytes(needed)}{more}"
        )


@dataclass(frozen=True)
class Layout:
    heap_size: int
    pools: tuple[Pool, ...]  # ascending blocks; capacity-0 pools are dropped when written
    fragmentation: int
    demand: tuple[tuple[int, int], ...]
    partition: Partition | None  # None for the starter layout and a layout edited by hand

    @property
    def total_bytes(self) -> int:
        return sum(p.bytes for p in self.pools)

    @property
    def written_pools(self) -> list[Pool]:
        return [p for p in self.pools if p.capacity]

    def fragmentation_percent(self) -> float:
        return self.fragmentation / self.heap_size * 100.0 if self.heap_size else 0.0


def check_pool_count(pools: int) -> None:
    if pools < 1:
        raise HeapguiError(f"invalid pool count {pools}: expected at least 1")


def fewest_pools(
    bytes_for: Callable[[int], int], heap_size: int, low: int, high: int, monotone: bool = False
) -> int | None:
    """The fewest pools in low..high whose layout needs at most `heap_size` bytes, if any.

    The one search behind "N pools would fit" for both methods. `monotone` says
    the bytes never grow with the pool count (an optimum over "at most p pools"),
    so a bisection finds the same count with a few evaluations.
    """
    if low > high:
        return None
    if not monotone:
        return next((p for p in range(low, high + 1) if bytes_for(p) <= heap_size), None)
    if bytes_for(high) > heap_size:
        return None
    while low < high:
        mid = (low + high) // 2
        if bytes_for(mid) <= heap_size:
            high = mid
        else:
            low = mid + 1
    return low


def kept_partitioner(
    demand: list[tuple[int, int]],
    pools: int,
    kept: Sequence[Kept] = (),
    partitioner: Partitioner | None = None,
) -> Partitioner:
    """`partitioner` when it answers for `pools` and `kept`, else a new one; checks the request.

    Refuses kept blocks without a traced size (the starter layout has no
    place for them) and a pool count that cannot hold the kept blocks.
    """
    check_pool_count(pools)
    kept = check_kept(kept)
    if kept and not demand:
        raise HeapguiError(
            "kept blocks need a trace with allocations: without one, the layout is drone's "
            "starter layout"
        )
    check_room([s for s, _ in demand], kept, pools)
    if (
        partitioner is None
        or partitioner.kept != kept
        or partitioner.max_pools < min(pools, len(demand) + len(kept))
    ):
        partitioner = Partitioner(demand, max(pools, MAX_POOLS), kept)
    return partitioner


def generate(
    demand: list[tuple[int, int]],
    heap_size: int,
    pools: int,
    partitioner: Partitioner | None = None,
    kept: Sequence[Kept] = (),
) -> Layout:
    """The minimum-fragmentation layout holding the `kept` blocks, spread as drone spreads it.

    An empty demand gives drone's starter layout. Pass a `partitioner` built
    once for the demand to answer many pool counts (the GUI's spinner).
    """
    partitioner = kept_partitioner(demand, pools, kept, partitioner)
    if not demand:
        return Layout(heap_size, tuple(starter_layout(heap_size, pools)), 0, (), None)
    part = partitioner.partition(pools)
    if part.bytes > heap_size:
        fits = fewest_pools(
            lambda p: partitioner.partition(p).bytes,
            heap_size,
            max(partitioner.needed, 1),
            partitioner.max_pools,
        )
        raise LayoutDoesNotFit(part.bytes, heap_size, len(part.pools), fits, partitioner.kept)
    spread = distribute(part.pools, heap_size)
    return Layout(heap_size, tuple(spread), part.fragmentation, tuple(demand), part)
