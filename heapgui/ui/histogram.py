"""Allocations per size as horizontal bars, one row per size of the table.

It shows what the statistics table shows: the same rows (the whole trace's,
or the record range's) through the same size filter, and the sizes selected
there in their curves' colours. Clicking a bar toggles its size in the
table's selection (`size_clicked`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPalette

from heapgui.sizes import format_count
from heapgui.trace.stats import SizeRow
from heapgui.ui.axes import CountAxis
from heapgui.ui.theme import series_colour

MAX_TICK_LABELS = 24
MIN_BAR_SHARE = 0.015
"""A size with any allocation gets at least this share of the longest bar: one allocation
among thousands would otherwise draw nothing, as if the size had none."""
LIVE_HEADROOM = 1.25
"""During a capture the count range grows this much at a time, not at every update."""


class SizeHistogram(QObject):
    size_clicked = Signal(int)
    """A bar was clicked: its block size."""

    def __init__(self, graphics: pg.GraphicsLayoutWidget, parent: QObject | None = None):
        super().__init__(parent)
        # Horizontal bars: one row per size reads well however many sizes there are.
        plot = graphics.addPlot(row=0, col=1, rowspan=2, axisItems={"bottom": CountAxis("bottom")})
        plot.setTitle("Allocations per size")
        plot.setLabel("left", "request size (B)")
        plot.setLabel("bottom", "allocations")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.invertY(True)  # smallest size on top, as in the table
        self.plot = plot
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.8)
        plot.addItem(self.bars)
        plot.scene().sigMouseClicked.connect(self._clicked)
        self._rows: list[SizeRow] = []
        self._accepts: Callable[[int], bool] = lambda size: True
        self._sizes = np.empty(0, np.int64)  # the bars shown, top to bottom
        self._key: tuple | None = None  # sizes and log mode the axes show

    def set_rows(self, rows: Sequence[SizeRow]) -> None:
        self._rows = list(rows)

    def set_filter(self, accepts: Callable[[int], bool]) -> None:
        self._accepts = accepts

    def sizes(self) -> list[int]:
        """The sizes with a bar, top to bottom."""
        return self._sizes.tolist()

    def draw(self, palette: QPalette, selected: list[int], log: bool, live: bool) -> None:
        rows = [row for row in self._rows if self._accepts(row.size)]
        self._sizes = np.array([row.size for row in rows], np.int64)
        totals = np.array([row.total for row in rows], np.int64)
        count = len(rows)
        # Bars start at 1 allocation (10^0) in log mode. A size only live at a range's start
        # has no allocation in it: its bar is empty rather than log(0).
        lengths = np.log10(np.maximum(totals, 1)) if log else totals.astype(float)
        if count:
            stub = MIN_BAR_SHARE * max(float(lengths.max()), 1.0)
            lengths = np.where(totals > 0, np.maximum(lengths, stub), 0.0)
        # Grey unless selected: the colours are the selected sizes' curves, the legend.
        normal = pg.mkBrush(palette.color(QPalette.ColorRole.Mid))
        brushes = [
            pg.mkBrush(series_colour(selected.index(size), palette)) if size in selected else normal
            for size in self._sizes.tolist()
        ]
        self.bars.setOpts(
            x0=0,
            y=np.arange(count),
            width=lengths,
            height=0.8,
            brushes=brushes,
            pen=pg.mkPen(palette.color(QPalette.ColorRole.Text), width=0.5),
        )
        # Axes redraw their labels on every change: during a capture only sizes or a
        # longest bar past the range (grown with headroom) change them.
        key = (tuple(self._sizes.tolist()), log)
        if key != self._key:
            self._key = key
            self.plot.getAxis("bottom").setLogMode(log)
            step = max(1, -(-count // MAX_TICK_LABELS))
            labelled = [(i, format_count(int(s))) for i, s in enumerate(key[0]) if i % step == 0]
            self.plot.getAxis("left").setTicks([labelled, [(i, "") for i in range(count)]])
            self.plot.setYRange(-0.6, max(count, 1) - 0.4, padding=0)
        longest = max(float(lengths.max()) if count else 1.0, 1.0)
        x_max = self.plot.vb.viewRange()[0][1]
        if not live:
            self.plot.setXRange(0, longest * 1.05, padding=0)
        elif not longest <= x_max <= longest * LIVE_HEADROOM:
            self.plot.setXRange(0, longest * LIVE_HEADROOM, padding=0)

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not len(self._sizes):
            return
        if not self.plot.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        row = round(self.plot.vb.mapSceneToView(event.scenePos()).y())
        if 0 <= row < len(self._sizes):
            self.size_clicked.emit(int(self._sizes[row]))
