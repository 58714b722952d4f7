"""Axes that write numbers as people read them: bytes in KiB/MiB, whole counts, s/ms/µs.

pyqtgraph's own axis writes `2e+06` for two million bytes and puts ticks at
1.5 blocks. These axes choose their ticks for what they count (binary steps for
bytes, whole numbers for counts and records) and write every label with its
unit, as heaptrack's size and time axes do. The unit of an axis follows the
largest value in view, falling back to a smaller one when the ticks are closer
than its decimals could tell apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

# (unit, name), largest first.
BYTE_UNITS = ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"), (1, "B"))
TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))
MAX_DECIMALS = 2  # past this, a smaller unit reads better than more digits
WIDEST_LABEL = "1,023.5 KiB"
"""The widest tick label a time plot's left axis is sized for, so all of them line up."""


def decimals_for(step: float, most: int = MAX_DECIMALS) -> int | None:
    """The decimals that write multiples of `step` exactly, or None if more than `most`."""
    for places in range(most + 1):
        if math.isclose(round(step, places), step, rel_tol=1e-6):
            return places
    return None


def unit_labels(
    values: Sequence[float], step: float, units: Sequence[tuple[float, str]]
) -> list[str]:
    """`values`, `step` apart, written in one unit of `units` (see `unit_for`)."""
    largest = max((abs(v) for v in values), default=0.0)
    unit, name, places = unit_for(largest, step, units)
    return [f"{v / unit:,.{places}f} {name}" if v else "0" for v in values]


def unit_for(
    largest: float, step: float, units: Sequence[tuple[float, str]]
) -> tuple[float, str, int]:
    """(unit, name, decimals): the largest unit no larger than `largest` whose few
    decimals tell ticks `step` apart; else the smallest unit, with the decimals it needs."""
    for unit, name in [u for u in units if u[0] <= largest] or [units[-1]]:
        places = decimals_for(step / unit)
        if places is not None:
            return unit, name, places
    unit, name = units[-1]
    return unit, name, decimals_for(step / unit, most=9) or 0


def whole_ticks(levels: list, low: float, high: float) -> list:
    """pyqtgraph's tick levels kept to whole numbers: at least 1 apart, never at 1.5."""
    whole = [
        (spacing, [v for v in values if float(v).is_integer()])
        for spacing, values in levels
        if spacing >= 1.0
    ]
    if whole:
        return whole
    return [(1.0, [float(v) for v in range(math.ceil(low), math.floor(high) + 1)])]


class CountAxis(pg.AxisItem):
    """Whole things (blocks, pools, records, clock ticks): whole ticks, digits grouped.

    On a log scale pyqtgraph's powers of ten (10¹, 10², 10³) already read well.
    """

    def __init__(self, orientation: str, **options) -> None:
        super().__init__(orientation, **options)
        self.enableAutoSIPrefix(False)  # "(x0.001)" has no place on a count

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803
        low, high = sorted((minVal, maxVal))
        levels = super().tickValues(low, high, size)
        return levels if self.logMode else whole_ticks(levels, low, high)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        if self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [f"{round(v * scale):,}" for v in values]


class ByteAxis(pg.AxisItem):
    """Bytes at binary steps (256 KiB, 512 KiB, 1 MiB), each label with its unit."""

    def __init__(self, orientation: str, **options) -> None:
        super().__init__(orientation, **options)
        self.enableAutoSIPrefix(False)  # SI prefixes mean powers of 1000

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803
        span = abs(maxVal - minVal)
        if span == 0:
            return []
        # As pyqtgraph does: more ticks on a longer axis, but slower than its length.
        intervals = max(2.25, 2.25 * math.sqrt(size / 300.0))
        major = 2.0 ** max(0, math.floor(math.log2(span / intervals)))
        levels = [(major, 0.0)]
        if major >= 2:
            levels.append((major / 2, 0.0))
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return unit_labels([v * scale for v in values], spacing * scale, BYTE_UNITS)


class TimeAxis(CountAxis):
    """The x axis of the time plots: records or clock ticks as whole numbers, or, once
    `show_seconds` is given the clock, seconds in s/ms/µs."""

    seconds = False

    def show_seconds(self, seconds_per_unit: float | None) -> None:
        """Label ticks as seconds, each value times `seconds_per_unit`; None for whole counts."""
        self.seconds = seconds_per_unit is not None
        self.setScale(seconds_per_unit or 1.0)
        self.picture = None  # pyqtgraph keeps the drawn labels until told to redraw
        self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803
        if self.seconds:
            return pg.AxisItem.tickValues(self, minVal, maxVal, size)
        return super().tickValues(minVal, maxVal, size)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        if self.seconds:
            return unit_labels([v * scale for v in values], spacing * scale, TIME_UNITS)
        return super().tickStrings(values, scale, spacing)


def fixed_width(axis: pg.AxisItem) -> int:
    """The width that fits the widest label and the axis title: the same on every time plot,
    so their view boxes start at the same pixel and one record is drawn at one x."""
    metrics = QFontMetricsF(axis.style.get("tickFont") or axis.font())
    text = metrics.horizontalAdvance(WIDEST_LABEL)
    ticks = axis.style["tickTextOffset"][0] + max(0, axis.style["tickLength"])
    title = metrics.height() * 1.3  # the rotated title and its margin
    return math.ceil(text + ticks + title)


def format_seconds(seconds: float) -> str:
    """A time as the time axis writes it: in the largest unit it reaches, to 4 digits."""
    unit, name = next(((u, n) for u, n in TIME_UNITS if abs(seconds) >= u), TIME_UNITS[-1])
    return f"{seconds / unit:,.4g} {name}" if seconds else "0 s"
