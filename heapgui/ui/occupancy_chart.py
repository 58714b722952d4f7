"""Each pool's blocks in use over a trace, against its capacity: where a layout runs full.

One step curve per pool and one dashed line at each pool's capacity. Curves
and lines are created once and reused (`setData`, `setValue`) when the next
validation brings a layout with as many pools or fewer; like the load chart,
they downsample by peaks and clip to the visible x range.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from heapgui.layout.pools import Pool
from heapgui.ui.plotting import colour_axes, fast_curve, set_up_time_plot
from heapgui.ui.theme import series_colour
from heapgui.workspace.validation import Series

logger = logging.getLogger(__name__)

FULL = 100.0  # percent of capacity


class OccupancyChart(pg.PlotWidget):
    """Blocks in use per pool; `set_relative` shows them as a share of each capacity."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Pool occupancy")
        self.setAccessibleDescription(
            "Blocks in use in each pool over the trace, with each pool's capacity as a dashed line"
        )
        self.setToolTip(
            "Blocks in use in each pool over the trace; the dashed lines are the capacities.\n"
            "Wheel or drag to zoom the time axis; the A button fits all data."
        )
        self.setMinimumHeight(100)
        item = self.getPlotItem()
        set_up_time_plot(item, "Pool occupancy", "blocks in use")
        self._curves: list[pg.PlotDataItem] = []
        self._lines: list[pg.InfiniteLine] = []
        self._pools: tuple[Pool, ...] = ()
        self._series: list[Series] = []
        self._relative = False
        self._apply_palette()

    # -- data ------------------------------------------------------------------

    def set_occupancy(
        self, pools: Sequence[Pool], series: Sequence[Series], x_label: str = "record"
    ) -> None:
        """One (x, blocks in use) step series per pool of `pools`; capacity-0 pools are left out."""
        shown = [(p, s) for p, s in zip(pools, series, strict=True) if p.capacity > 0]
        self._pools = tuple(p for p, _ in shown)
        self._series = [s for _, s in shown]
        self._ensure(len(shown))
        self.getPlotItem().setLabel("bottom", x_label)
        self._draw()
        starts = [float(x[0]) for x, _ in self._series if len(x)]
        ends = [float(x[-1]) for x, _ in self._series if len(x)]
        if starts:
            first, last = min(starts), max(ends)
            span = max(last - first, 1.0)
            item = self.getPlotItem()
            item.setLimits(xMin=first - span * 0.01, xMax=last + span * 0.01)
            # Clipping to the view needs x auto-range off, as on the load chart.
            item.vb.disableAutoRange(axis=pg.ViewBox.XAxis)
            item.setXRange(first, last, padding=0.01)

    def clear_occupancy(self) -> None:
        self.set_occupancy((), ())

    def set_relative(self, relative: bool) -> None:
        """Blocks in use (False) or percent of each pool's capacity (True)."""
        self._relative = relative
        self.getPlotItem().setLabel("left", "% of capacity" if relative else "blocks in use")
        self._apply_series_colours()
        self._draw()

    def pools(self) -> tuple[Pool, ...]:
        return self._pools

    def curves(self) -> list[pg.PlotDataItem]:
        """The curves in use, one per shown pool."""
        return self._curves[: len(self._pools)]

    def capacity_lines(self) -> list[pg.InfiniteLine]:
        """The visible capacity lines: one per pool, or one at 100% when relative."""
        return [line for line in self._lines[: len(self._pools)] if line.isVisible()]

    # -- drawing ---------------------------------------------------------------

    def _ensure(self, count: int) -> None:
        item = self.getPlotItem()
        while len(self._curves) < count:
            self._curves.append(fast_curve(item, stepMode="right"))
            line = pg.InfiniteLine(angle=0, movable=False)
            item.addItem(line)
            self._lines.append(line)
        # No legend over the data: the pool table beside shows each curve's colour.
        for k, curve in enumerate(self._curves):
            if k >= count:
                curve.setData([], [])
                self._lines[k].hide()
        self._apply_series_colours()

    def _draw(self) -> None:
        for k, (pool, (x, blocks)) in enumerate(zip(self._pools, self._series, strict=True)):
            if self._relative:
                self._curves[k].setData(x, blocks * (FULL / pool.capacity))
                self._lines[k].setValue(FULL)
                self._lines[k].setVisible(k == 0)
            else:
                self._curves[k].setData(x, blocks)
                self._lines[k].setValue(pool.capacity)
                self._lines[k].show()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        # PlotWidget changes its palette while it is being built, before our items exist.
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_lines"):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        item = self.getPlotItem()
        colour_axes(item, text)
        item.titleLabel.setText(item.titleLabel.text, color=text)
        self._apply_series_colours()

    def _apply_series_colours(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        for k, (curve, line) in enumerate(zip(self._curves, self._lines, strict=True)):
            colour = series_colour(k, palette)
            curve.setPen(pg.mkPen(colour, width=1.5))
            # Relative mode has one line for every pool: draw it in the text colour.
            line_colour = text if self._relative else colour
            line.setPen(pg.mkPen(line_colour, width=1, style=Qt.PenStyle.DashLine))
