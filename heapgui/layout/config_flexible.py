"""layout.toml percentages turned into bytes and block counts, as drone-config does.

drone-config (config/src/layout.rs in drone-os/drone) computes in f32, so every
step here is rounded to f32 to land on the same integers, including its
carried rounding `correction` between consecutive flexible entries.

For fixed pool counts next to percentages drone subtracts the *counts* (not
count × block bytes) from the heap before sharing out the percentages, so the
pools outgrow their heap on the device. heapgui computes the same counts,
because they are what the firmware runs with, and says so (`overrun`): a
layout judged with friendlier counts would be a verdict about another device.
"""

from __future__ import annotations

import logging
import math
import struct
from typing import NamedTuple

from heapgui.errors import HeapguiError
from heapgui.sizes import format_bytes, parse_size

logger = logging.getLogger(__name__)

ALIGN = 4
HEAP_POOL_SIZE = 16
"""Bytes of pool metadata drone places before a heap, per pool."""
STREAM_RUNTIME_SIZE = 12
"""size_of::<drone_stream::Runtime>(): three u32 cursors before each stream buffer."""
STREAM_MASK_SIZE = 4
"""size_of::<drone_stream::GlobalRuntime>(): the u32 enable mask in `[stream] ram`."""


class Share(NamedTuple):
    """A percentage, stored as drone does: the fraction in f32 ("75%" -> 0.75)."""

    fraction: float


Amount = int | Share


def f32(value: float) -> float:
    """Round to the nearest f32; one f64 op then this equals the f32 op exactly."""
    return struct.unpack("f", struct.pack("f", value))[0]


def parse_amount(text: str) -> Amount:
    """A percentage as a Share ("75%" is 0.75), anything else as a size ("4K", "896")."""
    if not text.endswith("%"):
        return parse_size(text)
    try:
        value = f32(float(text[:-1]))
    except (ValueError, OverflowError):
        raise HeapguiError(f"invalid percentage {text!r}: expected a number before %") from None
    # drone accepts only positive normal f32 values.
    if not (math.isfinite(value) and value >= 2**-126):
        raise HeapguiError(f"invalid percentage {text!r}: expected a positive number")
    return Share(f32(value / 100.0))


def f32_sum(values: list[float]) -> float:
    """Rust's `iter().sum::<f32>()`: left to right, rounding after each addition."""
    total = 0.0
    for value in values:
        total = f32(total + value)
    return total


class Flexibles:
    """drone's walk over the flexible entries sharing `free` bytes: each gets
    `free / total × its share`, snapped to `align` with the snapping error carried
    into the next entry; the last entry takes no correction."""

    def __init__(self, free: int, total: float, count: int) -> None:
        self.term = f32(f32(float(free)) / total) if total else 0.0
        self.left = count
        self.correction = 0.0

    def take(self, share: float, align: int) -> float:
        """The amount for the next flexible entry, before flooring."""
        amount = f32(f32(share + self.correction) * self.term)
        self.left -= 1
        if self.left > 0:
            correction = math.fmod(amount, align)
            if correction > align / 2:
                correction = f32(correction - align)
            amount = f32(amount - correction)
            self.correction = f32(correction / self.term)
        return amount


def heap_sizes(
    ram_size: int,
    stacks: list[Amount],
    streams: list[int],
    heaps: list[tuple[Amount, int]],
    data_size: int | None,
    *,
    holds_mask: bool = False,
) -> list[int]:
    """Bytes of each heap in one RAM region.

    `stacks`, `streams` and `heaps` ((size, pool count)) are the sections that
    name this region, in file order; `data_size` is None when .data lives
    elsewhere; `holds_mask` when `[stream] ram` names this region. Streams and
    heaps have runtime prefixes that drone reserves.
    """
    fixed = (
        sum(s for s in stacks if isinstance(s, int))
        + STREAM_MASK_SIZE * holds_mask
        + sum(size + STREAM_RUNTIME_SIZE for size in streams)
        + sum(size for size, _ in heaps if isinstance(size, int))
        + sum(HEAP_POOL_SIZE * pools for _, pools in heaps)
        + (data_size or 0)
    )
    if fixed > ram_size:
        raise HeapguiError(f"size is not enough to store all sections ({ram_size} < {fixed})")
    stack_shares = [s.fraction for s in stacks if isinstance(s, Share)]
    heap_shares = [s.fraction for s, _ in heaps if isinstance(s, Share)]
    # drone adds the stacks' f32 sum to the heaps' f32 sum; the order matters in f32.
    total = f32(f32_sum(stack_shares) + f32_sum(heap_shares))
    walk = Flexibles(ram_size - fixed, total, len(stack_shares) + len(heap_shares))
    for share in stack_shares:
        walk.take(share, ALIGN)
    return [
        size if isinstance(size, int) else math.floor(walk.take(size.fraction, ALIGN))
        for size, _ in heaps
    ]


def pool_counts(heap_size: int, pools: list[tuple[int, Amount]]) -> list[tuple[int, int]]:
    """(block, count) sorted by block, as drone-config resolves them: shares of what the
    fixed counts leave, then what rounding leaves over goes to the largest pools that
    can take it."""
    pools = sorted(pools, key=lambda pool: pool[0])
    if pools and pools[0][0] <= 0:
        raise HeapguiError(f"block size {pools[0][0]}: expected a positive number of bytes")
    # drone's quirk, kept on purpose (see the module notes): counts, not their bytes.
    fixed = sum(count for _, count in pools if isinstance(count, int))
    if fixed > heap_size:
        raise HeapguiError(f"size is not enough to store all pools ({heap_size} < {fixed})")
    free = heap_size - fixed
    shares = [count.fraction for _, count in pools if isinstance(count, Share)]
    walk = Flexibles(free, f32_sum(shares), len(shares))
    counts = []
    for block, count in pools:
        if isinstance(count, Share):
            resolved = math.floor(f32(walk.take(count.fraction, block) / block))
            free -= resolved * block
        else:
            resolved = count
        counts.append(resolved)
    for i in reversed(range(len(pools))):
        add = free // pools[i][0]
        counts[i] += add
        free -= add * pools[i][0]
    return [(block, count) for (block, _), count in zip(pools, counts, strict=True)]


def overrun(heap_size: int, pools: list[tuple[int, int]]) -> int:
    """Bytes by which resolved pools outgrow their heap: more than 0 only when fixed counts
    sit next to percentages, where drone subtracts counts rather than bytes."""
    return max(0, sum(block * count for block, count in pools) - heap_size)


def percent_counts(heap_size: int, pools: list[tuple[int, int]]) -> list[str]:
    """layout.toml `count` strings that drone-config resolves to exactly these counts.

    Fixed counts cannot be written for drone master (it would add blocks beyond
    the heap, see the module notes), so each pool gets its share of the heap's
    bytes as a percentage. The shortest spelling that `pool_counts` resolves back
    to the same counts is used; f32 rounding makes the exact decimal unnecessary
    but not every shorter one.
    """
    total = sum(block * count for block, count in pools)
    if not pools and not heap_size:
        return []
    if total != heap_size or not pools:
        raise HeapguiError(
            f"pools add up to {format_bytes(total)} but the heap size is "
            f"{format_bytes(heap_size)}; "
            "drone requires them to match"
        )
    for digits in range(4, 13):
        texts = [_percent(100 * block * count / heap_size, digits) for block, count in pools]
        blocks = [block for block, _ in pools]
        shares = [parse_amount(text) for text in texts]
        if pool_counts(heap_size, list(zip(blocks, shares, strict=True))) == sorted(pools):
            return texts
    raise HeapguiError(
        f"no percentages make drone resolve a {heap_size}-byte heap to these pools: "
        + ", ".join(f"{count} x {block}" for block, count in pools)
    )


def _percent(value: float, digits: int) -> str:
    """A positive percentage with `digits` significant digits, never in exponent form."""
    decimals = max(0, digits - 1 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"
