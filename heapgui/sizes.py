"""Drone's size strings: "10K", "1M", "0x400", "0400" (octal), "300"."""

import string

from heapgui.errors import HeapguiError

KIB = 1024
MIB = 1024 * 1024
MAX_SIZE = 2**32 - 1
"""Sizes are 32-bit on the target: drone stores heap, block and RAM sizes in a u32."""
BELOW_2_32 = "expected a size below 2^32 (32-bit on the target)"


def format_size(size: int) -> str:
    """Render a byte count the way drone-config does (0 stays "0", not "0M")."""
    if size > 0 and size % MIB == 0:
        return f"{size // MIB}M"
    if size > 0 and size % KIB == 0:
        return f"{size // KIB}K"
    return str(size)


def format_bytes(size: int) -> str:
    """Every byte figure the window shows, written one way: grouped digits and "B".

    Exact, because the figures are compared with drone's to the byte; "1,024 B",
    never "1K", "1024" or "1K B". Drone's own spelling ("64K") is kept for what a
    config file holds: the heap-size field and the `[heap]` preview.
    """
    return f"{size:,} B"


def format_count(number: int) -> str:
    """Every count the window shows (records, blocks, allocations): grouped digits."""
    return f"{number:,}"


def parse_size(text: str) -> int:
    """Parse a size string; raises HeapguiError naming the text when it is not one."""
    s = text.strip()
    multiplier = 1
    if s[-1:] in ("K", "k"):
        multiplier, s = KIB, s[:-1]
    elif s[-1:] in ("M", "m"):
        multiplier, s = MIB, s[:-1]
    if s[:2] in ("0x", "0X"):
        digits, allowed, base = s[2:], string.hexdigits, 16
    elif s.startswith("0") and len(s) > 1:
        digits, allowed, base = s[1:], string.octdigits, 8
    else:
        digits, allowed, base = s, string.digits, 10
    try:
        # Digits only: int() alone would also take signs, "_" and a second prefix ("0x0x10").
        if not digits or not set(digits) <= set(allowed):
            raise ValueError
        value = int(digits, base)
    except ValueError:
        raise HeapguiError(
            f"invalid size {text!r}: expected a number with an optional K or M suffix"
        ) from None
    size = value * multiplier
    if size > MAX_SIZE:
        raise HeapguiError(f"invalid size {text!r}: {BELOW_2_32}")
    return size
