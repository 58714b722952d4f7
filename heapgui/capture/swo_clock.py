"""Whether the TPIU can send SWO at a baud rate divided from the core clock.

Light on purpose (no pyOCD): the capture form asks it before Start, and the
probe asks it again before it sets the TPIU up.
"""

from __future__ import annotations

ACPR_LIMIT = 0xFFFF
"""The largest prescaler pyOCD writes to the TPIU (it masks ACPR to 16 bits)."""


def swo_clock_problem(core_clock: int, swo_baud: int) -> str | None:
    """Why the TPIU cannot send SWO at `swo_baud` from `core_clock`, or None.

    The same test as pyOCD's `TPIU.set_swo_clock`, in the same integer arithmetic, so
    the capture form can refuse before Start what the probe would refuse after it.
    """
    if core_clock <= 0 or swo_baud <= 0:
        return (
            f"core clock and SWO baud rate must be positive, got {core_clock:,} Hz and "
            f"{swo_baud:,} baud"
        )
    if swo_baud > core_clock:
        return (
            f"SWO baud rate {swo_baud:,} exceeds the core clock {core_clock:,} Hz it is "
            "divided from"
        )
    divider = core_clock // swo_baud
    if divider - 1 > ACPR_LIMIT:
        return (
            f"SWO baud rate {swo_baud:,} is too slow for the {core_clock:,} Hz core clock: "
            f"the TPIU divides by at most {ACPR_LIMIT + 1:,}"
        )
    actual = core_clock // divider
    if abs(swo_baud - actual) / swo_baud > 0.03:
        return (
            f"SWO baud rate {swo_baud:,} cannot be divided from the {core_clock:,} Hz core clock "
            f"within 3% (the nearest is {actual:,} baud)"
        )
    return None
