"""Fragmentation against pool count: where more pools stop paying off."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGroupBox, QVBoxLayout, QWidget

from heapgui.report import counted
from heapgui.sizes import format_bytes
from heapgui.ui.axes import CountAxis
from heapgui.ui.plotting import colour_axes

logger = logging.getLogger(__name__)


class _BytesAxis(pg.AxisItem):
    """Whole bytes with thousands separators, never SI prefixes (kB would mean 1000)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [f"{round(v * scale):,}" for v in values]


class FragmentationChart(pg.PlotWidget):
    """One point per pool count; a marker on the current count; a click picks a count."""

    pool_count_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            parent, axisItems={"left": _BytesAxis("left"), "bottom": CountAxis("bottom")}
        )
        self.setAccessibleName("Fragmentation by pool count")
        self.setAccessibleDescription(
            "Fragmentation bytes of the best layout for each pool count; "
            "click a pool count to choose it"
        )
        self.setToolTip(
            "Fragmentation of the best layout for each pool count, from two pools on (one "
            "pool's dwarfs the rest).\nFilled points: pool counts whose layout fits the heap.\n"
            "Click a pool count to choose it."
        )
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.setLabel("bottom", "Pools")
        item.setLabel("left", "bytes")  # the strip's title says of what
        item.showGrid(x=True, y=True, alpha=0.25)
        self._curve = item.plot([], [], symbol="o", symbolSize=6)
        self._marker = pg.ScatterPlotItem(size=13, symbol="o")
        self._marker.setZValue(10)
        item.addItem(self._marker)
        self._cursor = pg.InfiniteLine(angle=90, movable=False)
        item.addItem(self._cursor)
        self._value = pg.TextItem(anchor=(0, 1))
        item.addItem(self._value)
        self._fits = pg.ScatterPlotItem(size=7, symbol="o", pen=None)
        self._fits.setZValue(5)
        item.addItem(self._fits)
        self._fragmentation: np.ndarray = np.zeros(0, np.int64)
        self._needs: np.ndarray = np.zeros(0, np.int64)
        self._heap: int | None = None
        self._current = 1
        self.scene().sigMouseClicked.connect(self._clicked)
        self._apply_palette()

    def set_fragmentation(self, fragmentation: Sequence[int]) -> None:
        """`fragmentation[p - 1]` is the least fragmentation with p pools."""
        self._fragmentation = np.asarray(fragmentation, np.int64)
        n = len(self._fragmentation)
        self._curve.setData(np.arange(1, n + 1), self._fragmentation)
        self._frame()
        self._mark_fits()
        self._place_marker()

    def set_current(self, pools: int) -> None:
        self._current = pools
        self._frame()
        self._place_marker()

    def set_fits(self, heap_size: int, needs: Sequence[int]) -> None:
        """Fill the points of the pool counts whose pools, taking `needs[p - 1]` bytes,
        fit `heap_size`."""
        self._heap = heap_size
        self._needs = np.asarray(needs, np.int64)
        self._mark_fits()

    def fitting_counts(self) -> list[int]:
        """The pool counts marked as fitting the heap."""
        points = self._fits.data
        return [int(x) for x in points["x"]] if len(points) else []

    def _frame(self) -> None:
        """One pool's fragmentation dwarfs the rest and would flatten the useful range, so
        the view starts at two pools unless one is chosen."""
        n = len(self._fragmentation)
        first = 2 if n >= 3 and self._current >= 2 else 1
        item = self.getPlotItem()
        item.setXRange(first - 0.5, max(n, 1) + 0.5, padding=0)
        top = int(self._fragmentation[first - 1 :].max()) if n else 0
        item.setYRange(0, max(top, 1) * 1.08, padding=0)

    def _mark_fits(self) -> None:
        n = min(len(self._fragmentation), len(self._needs))
        if self._heap is None or not n:
            self._fits.setData([], [])
            return
        counts = np.flatnonzero(self._needs[:n] <= self._heap) + 1
        self._fits.setData(counts, self._fragmentation[counts - 1])

    def curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        """(pool counts, fragmentation bytes) as plotted."""
        return self._curve.getData()

    def marker_position(self) -> tuple[float, float] | None:
        points = self._marker.data
        if len(points) == 0:
            return None
        return float(points["x"][0]), float(points["y"][0])

    def scene_position(self, pools: int) -> QPointF:
        """Where the point for `pools` is drawn, in scene coordinates (for clicks in tests too)."""
        y = float(self._fragmentation[pools - 1]) if len(self._fragmentation) >= pools else 0.0
        return self.getPlotItem().getViewBox().mapViewToScene(QPointF(pools, y))

    def _place_marker(self) -> None:
        n = len(self._fragmentation)
        if not n:
            self._marker.setData([], [])
            self._cursor.hide()
            self._value.hide()
            return
        # The core caps the pool count at the number of sizes; so does the marker.
        shown = min(max(self._current, 1), n)
        value = int(self._fragmentation[shown - 1])
        self._marker.setData([shown], [value])
        self._cursor.setValue(shown)
        self._cursor.show()
        self._value.setText(f"{counted(shown, 'pool')}: {format_bytes(value)}")
        # Past the middle the label goes left of the cursor so it stays inside the plot.
        self._value.setAnchor((1, 1) if shown > (n + 1) / 2 else (0, 1))
        self._value.setPos(shown, float(self._fragmentation.max()) * 0.9)
        self._value.show()

    def _clicked(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not len(self._fragmentation):
            return
        box = self.getPlotItem().getViewBox()
        scene_pos = event.scenePos()
        if not box.sceneBoundingRect().contains(scene_pos):
            return
        x = box.mapSceneToView(scene_pos).x()
        pools = min(max(round(x), 1), len(self._fragmentation))
        event.accept()
        self.pool_count_clicked.emit(pools)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        # PlotWidget changes its palette while it is being built, before our items exist.
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_cursor"):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        """Colours come from the palette so the chart follows light and dark themes."""
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        accent = palette.color(QPalette.ColorRole.Highlight)
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        colour_axes(self.getPlotItem(), text)
        self._curve.setPen(pg.mkPen(text, width=1.5))
        self._curve.setSymbolPen(pg.mkPen(text))
        self._curve.setSymbolBrush(pg.mkBrush(palette.color(QPalette.ColorRole.Base)))
        self._fits.setBrush(pg.mkBrush(text))  # filled: the layout fits the heap
        self._marker.setPen(pg.mkPen(accent, width=2))
        self._marker.setBrush(pg.mkBrush(accent))
        self._cursor.setPen(pg.mkPen(accent, style=Qt.PenStyle.DashLine))
        self._value.setColor(text)


COMPACT_CHART_HEIGHT = 80
"""The least pixels of the fragmentation chart: its axes and a few points, no more."""
STRIP_PANEL_WIDTH = 1000
"""A layout panel narrower than this (validation beside it, a small window) drops the chart:
the pool table and the preview need the width more."""


class FragmentationStrip(QGroupBox):
    """The fragmentation chart in a narrow column beside the pool table.

    The pool table and preview matter more than the chart, so the chart takes
    the height they are given and no more than its least width.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Fragmentation by pool count", parent)
        self.chart = FragmentationChart()
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)  # the plot has margins of its own
        box.addWidget(self.chart)
        self.chart.setMinimumHeight(COMPACT_CHART_HEIGHT)
        self._traced = True
        self._room = True

    def show_for(self, traced: bool) -> None:
        """Shown for a traced layout (without one every pool count fragments nothing)."""
        self._traced = traced
        self._show_if_room()

    def follow_width_of(self, panel: QWidget) -> None:
        """Hide while `panel` is narrower than `STRIP_PANEL_WIDTH`."""
        panel.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize:
            self._room = watched.width() >= STRIP_PANEL_WIDTH
            self._show_if_room()
        return False

    def _show_if_room(self) -> None:
        self.setVisible(self._traced and self._room)

    def name_method(self, timeline: bool) -> None:
        """The chart shows drone's partitions: say so when the layout comes from elsewhere."""
        self.setTitle(
            "Fragmentation, drone's partitions" if timeline else "Fragmentation by pool count"
        )
        self.setToolTip(
            "The timeline layout is not a partition of the sizes: the chart shows the "
            "drone-compatible partitions for each pool count"
            if timeline
            else ""
        )
