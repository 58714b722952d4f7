"""The three charts: heap load over time, live blocks per selected size, allocation sizes.

Every curve is created once and fed with `setData`; pyqtgraph downsamples
(peak method, so spikes survive) and clips to the visible x range, which
needs increasing x values and x auto-range off. The x range is therefore set
explicitly to the whole trace on load, and the mouse zooms x only while y
follows the visible data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from heapgui.sizes import format_bytes
from heapgui.trace.curves import live_count_curve, timeline_x
from heapgui.trace.load import Trace
from heapgui.trace.records import Records
from heapgui.trace.stats import SizeRow
from heapgui.ui.axes import ByteAxis
from heapgui.ui.histogram import SizeHistogram
from heapgui.ui.plotting import colour_axes, fast_curve, set_up_time_plot
from heapgui.ui.record_inspector import RecordInspector
from heapgui.ui.theme import series_colour
from heapgui.workspace import HeapSize
from heapgui.workspace.live import LiveTrace

logger = logging.getLogger(__name__)

FILL_ALPHA = 60
LIVE_HEADROOM = 1.25
"""During a capture the time range grows this much at a time, not at every tick."""
READOUT_HINT = "Point: read a record · Click: what was live · Shift-drag: a range's statistics"
LIVE_HINT = "Live capture: the charts follow the data; after zooming, the A button follows again."


def failure_colour(palette: QPalette) -> QColor:
    """Red for failed allocations, as light as the curves so it reads on either base."""
    dark_base = palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5
    return QColor.fromHslF(0.0, 0.8, 0.62 if dark_base else 0.45)


class ChartsPanel(QWidget):
    """Charts for one trace; `show_sizes` picks the per-size curves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._trace: Trace | None = None
        self._live: LiveTrace | None = None
        self._time_scale: tuple[float | None, bool] | None = None
        self._following = False  # a live capture's x range moves with the data
        self._x_steps = 0
        self._x: np.ndarray | None = None
        self._size_curves: dict[int, pg.PlotDataItem] = {}
        self._selected: list[int] = []
        self._sizes: set[int] = set()  # every size of the trace: the ones with a curve

        self.graphics = pg.GraphicsLayoutWidget(self)
        self.graphics.setAccessibleName("Charts")
        self.graphics.setToolTip(
            "Wheel or drag to zoom and pan the time axis; Shift-drag to select records; click "
            "the load chart to inspect a record; Ctrl+Shift+Y fits Y to the visible data; the "
            "A button fits all data."
        )
        self._build_load_plot()
        self._build_live_plot()
        self.histogram = SizeHistogram(self.graphics, self)
        self.hist_plot = self.histogram.plot
        grid = self.graphics.ci.layout
        grid.setRowStretchFactor(0, 3)
        grid.setRowStretchFactor(1, 2)
        grid.setColumnStretchFactor(0, 3)
        grid.setColumnStretchFactor(1, 1)

        self.inspector = RecordInspector(self.load_plot, self)
        self.inspect_label, self.inspect_line = self.inspector.label, self.inspector.line
        self.inspected = self.inspector.inspected
        self.inspect_record = self.inspector.inspect_record
        self.log_check = QCheckBox("Log scale", self)
        self.log_check.setChecked(False)  # linear: the bars compare as the counts do
        self.log_check.setToolTip("Allocation-size histogram with a logarithmic count axis")
        self.log_check.setAccessibleName("Histogram log scale")
        self.log_check.toggled.connect(self.draw_histogram)

        # Above the plots, never over them: the record under the cursor, the range chip and
        # the histogram's scale, on one line (the hints share it too: height is the charts').
        self.resting_hint = READOUT_HINT
        self.readout_label = QLabel(READOUT_HINT, self)
        self.readout_label.setAccessibleName("Record under the cursor")
        self.readout_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout_label.setToolTip(
            "Point at a time plot to read the record under the cursor; click the load chart to "
            "see what was live after a record; Shift-drag to select records and see their "
            "statistics"
        )
        # A long readout is cut, not allowed to widen the window.
        self.readout_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.header = QHBoxLayout()
        self.header.addWidget(self.readout_label, 1)
        self.header.addWidget(self.log_check, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.header)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.inspect_label)  # shown with the first clicked record
        # An axis replays its labels and grid lines at every paint; cached as a pixmap, one
        # that did not change (most of them while a capture redraws the curves) is copied.
        self._axes = [
            plot.getAxis(name)
            for plot in (self.load_plot, self.live_plot, self.hist_plot)
            for name in ("left", "bottom")
        ]
        self._cache_axes(True)
        self._apply_palette()

    # -- construction --------------------------------------------------------

    def _build_load_plot(self) -> None:
        plot = self.graphics.addPlot(row=0, col=0)
        set_up_time_plot(plot, "Heap in use", "bytes in use", ByteAxis("left"))
        self.load_plot = plot
        # The bytes in use after a record hold until the next one: a step, not a slope
        # (pyqtgraph's "right" steps: y[i] from x[i] to x[i + 1]).
        self.load_curve = fast_curve(plot, name="in use", stepMode="right")
        self.load_curve.setFillLevel(0)
        self.heap_line = pg.InfiniteLine(
            angle=0,
            movable=False,
            label="heap",
            labelOpts={"position": 0.02, "anchors": [(0, 0), (0, 0)]},
        )
        plot.addItem(self.heap_line)  # counts for the y range: the heap stays in sight
        self.peak_marker = pg.ScatterPlotItem(size=9, symbol="o")
        plot.addItem(self.peak_marker)
        self.failure_marker = pg.ScatterPlotItem(size=7, symbol="x", name="failed allocations")
        plot.addItem(self.failure_marker)
        self.peak_label = pg.TextItem(anchor=(-0.05, 0.0))
        plot.addItem(self.peak_label, ignoreBounds=True)
        plot.vb.sigRangeChangedManually.connect(self._stop_following)

    def _build_live_plot(self) -> None:
        plot = self.graphics.addPlot(row=1, col=0)
        set_up_time_plot(plot, "Live blocks of the selected sizes", "live blocks")
        # Linked views align by pixel position, so both plots share column 0.
        plot.setXLink(self.load_plot)
        # No legend over the data: the statistics table shows each curve's colour.
        self.live_plot = plot
        self.live_hint = pg.TextItem("Select sizes in the table", anchor=(0.5, 0.5))
        plot.addItem(self.live_hint, ignoreBounds=True)

    # -- data ----------------------------------------------------------------

    def set_trace(self, trace: Trace | None) -> None:
        self.inspector.set_trace(trace)
        self._rest(READOUT_HINT)
        self._trace = trace
        self._live = None
        for size in list(self._size_curves):
            self._drop_curve(size)
        self._selected = []
        self._sizes = set()
        self.failure_marker.setData([], [])
        records = trace.records if trace is not None else Records.empty()
        if trace is None or not len(records):
            self._x = None
            self.load_curve.setData([], [])
            self.peak_marker.setData([], [])
            self.peak_label.setText("")
            self.histogram.set_rows([])
        else:
            stats = trace.stats
            self._x = timeline_x(records)
            self.load_curve.setData(self._x, stats.timeline)
            self.set_time_scale(None, timed=records.timestamp is not None)
            first, last = float(self._x[0]), float(self._x[-1])
            span = max(last - first, 1.0)
            for plot in (self.load_plot, self.live_plot):
                plot.setLimits(xMin=first - span * 0.01, xMax=last + span * 0.01)
            self.load_plot.vb.disableAutoRange(axis=pg.ViewBox.XAxis)
            self.load_plot.setXRange(first, last, padding=0.01)
            if stats.peak_record >= 0:
                peak_x = float(self._x[stats.peak_record - records.first_index])
                self.peak_marker.setData([peak_x], [stats.peak_usage])
                self.peak_label.setText(f"peak {format_bytes(stats.peak_usage)}")
                self.peak_label.setPos(peak_x, stats.peak_usage)
            self.show_counts(stats.rows())
        self.live_hint.setVisible(trace is not None)
        self._place_live_hint()
        self.draw_histogram()

    def _rest(self, hint: str) -> None:
        """The line above the charts says `hint` whenever no record is pointed at."""
        self.resting_hint = hint
        self.readout_label.setText(hint)

    def set_failures(self, records: np.ndarray) -> None:
        """Mark failed allocations (record numbers as in the trace) at the load there."""
        trace = self._trace
        if trace is None or self._x is None or not len(records):
            self.failure_marker.setData([], [])
            return
        at = np.asarray(records, np.int64) - trace.records.first_index
        self.failure_marker.setData(self._x[at], trace.stats.timeline[at])

    def set_heap_size(self, heap: HeapSize | None) -> None:
        """The workspace's heap size (the one authority), drawn with its source."""
        self.inspector.heap_size = 0 if heap is None else heap.size
        self.heap_line.setValue(self.inspector.heap_size)
        self.heap_line.label.setFormat("heap" if heap is None else f"heap {heap.describe()}")

    def set_time_scale(self, core_clock: float | None, timed: bool = True) -> None:
        """Label the x axes: seconds when the core clock is known, else ticks or records.

        The data stays in target clock ticks; only the axis labels are scaled.
        """
        if (core_clock, timed) == self._time_scale:
            return
        self._time_scale = (core_clock, timed)
        for plot in (self.load_plot, self.live_plot):
            axis = plot.getAxis("bottom")
            if timed and core_clock:
                axis.show_seconds(1.0 / core_clock)
                plot.setLabel("bottom", "time")
            else:
                axis.show_seconds(None)
                plot.setLabel("bottom", "timestamp (ticks)" if timed else "record")

    def show_sizes(self, sizes: list[int]) -> None:
        """One live-count curve per size, computed from the records when first shown."""
        if self._trace is None and self._live is None:
            return
        self._selected = [s for s in sizes if s in self._sizes]
        for size in list(self._size_curves):
            if size not in self._selected:
                self._drop_curve(size)
        if self._live is not None:
            self._live.track_sizes(self._selected)
        for size in self._selected:
            if size in self._size_curves:
                continue
            curve = fast_curve(self.live_plot, name=format_bytes(size), stepMode="right")
            curve.setData(*self._size_series(size))
            self._size_curves[size] = curve
        self.live_hint.setVisible(not self._selected)
        self._apply_series_colours()
        self.draw_histogram()

    def size_curve(self, size: int) -> pg.PlotDataItem | None:
        return self._size_curves.get(size)

    def _size_series(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        if self._live is not None:
            return self._live.tracks[size].envelope.points()
        records = self._trace.records
        index, count = live_count_curve(records, size)
        x = index if records.timestamp is None else records.timestamp[index]
        if len(x) and x[-1] < self._x[-1]:
            # A step holds until the next point: the last count holds to the trace's end.
            x, count = np.append(x, self._x[-1]), np.append(count, count[-1])
        return x, count

    def time_plots(self) -> list[pg.PlotItem]:
        return [self.load_plot, self.live_plot]

    def seconds_per_tick(self) -> float | None:
        """The time axis' scale when it shows seconds (the core clock is known), else None."""
        axis = self.load_plot.getAxis("bottom")
        return axis.scale if axis.seconds else None

    def centre_on(self, x: float) -> None:
        """Scroll the time plots so that `x` is in the middle, keeping the zoom."""
        low, high = self.load_plot.vb.viewRange()[0]
        half = (high - low) / 2
        self.load_plot.setXRange(x - half, x + half, padding=0)

    # -- live capture ------------------------------------------------------------

    def begin_live(self, live: LiveTrace) -> None:
        """Follow a running capture: `update_live` redraws bounded series, x follows the data."""
        self.set_trace(None)
        self._live = live
        self._x_steps = 0
        for plot in (self.load_plot, self.live_plot):
            plot.setLimits(xMin=None, xMax=None)
        self.load_plot.enableAutoRange(axis=pg.ViewBox.XAxis)  # read as "follow" below
        self.set_time_scale(live.core_clock)
        self.inspector.set_trace(None)
        self._rest(LIVE_HINT)
        self.live_hint.setVisible(True)

    def update_live(self) -> None:
        """Redraw from the live trace: load, peak, selected sizes, histogram, heap line."""
        live = self._live
        if live is None:
            return
        if live.timed is not None:
            self.set_time_scale(live.core_clock, live.timed)
        x, y = live.load.points()
        self.load_curve.setData(x, y)
        if len(x):
            self._follow(int(x[0]), int(x[-1]))
        stats = live.stats
        peak = f"peak {format_bytes(stats.peak_usage)}"
        if live.peak_x is not None and peak != self.peak_label.toPlainText():
            self.peak_marker.setData([live.peak_x], [stats.peak_usage])
            self.peak_label.setText(peak)  # lays the text out again: only when it changes
            self.peak_label.setPos(live.peak_x, stats.peak_usage)
        for size, curve in self._size_curves.items():
            curve.setData(*self._size_series(size))
        self.show_counts(stats.rows())
        if self.live_hint.isVisible():
            self._place_live_hint()
        self.draw_histogram()
        # Ranges and view transforms now: done while painting (pyqtgraph's default), the
        # curves' clipping reacts to them and the whole chart is painted a second time.
        for plot in (self.load_plot, self.live_plot):
            plot.vb.prepareForPaint()

    def _follow(self, first: int, last: int) -> None:
        """Keep the capture in view, moving the x range in steps rather than at every update.

        A new range redraws both time axes; in steps, the cached axes are mostly reused.
        The A button (auto range) asks to follow again after the user zoomed or panned.
        """
        vb = self.load_plot.vb
        if vb.state["autoRange"][0] is not False:
            vb.disableAutoRange(axis=pg.ViewBox.XAxis)
            self._following = True
        if not self._following:
            return
        low, high = vb.viewRange()[0]
        if not low <= first or last > high or self._x_steps == 0:
            span = max(last - first, 1)
            self.load_plot.setXRange(first, first + span * LIVE_HEADROOM, padding=0)
            self._x_steps += 1

    @Slot()
    def _stop_following(self) -> None:
        self._following = False

    def _drop_curve(self, size: int) -> None:
        curve = self._size_curves.pop(size)
        self.live_plot.removeItem(curve)

    def _place_live_hint(self) -> None:
        x0, x1 = self.load_plot.vb.viewRange()[0]
        self.live_hint.setPos((x0 + x1) / 2, 0.5)

    def show_counts(self, rows: list[SizeRow]) -> None:
        """The histogram's rows: the trace's, or (`show_window_counts`) a record range's."""
        self._sizes |= {row.size for row in rows}
        self.histogram.set_rows(rows)

    def show_window_counts(self, rows: list[SizeRow] | None) -> None:
        """A record range's rows in the histogram; None: the whole trace's again."""
        trace = self._trace
        if rows is None and trace is not None:
            rows = trace.stats.rows()
        self.histogram.set_rows(rows or [])
        self.draw_histogram()

    def set_size_filter(self, accepts: Callable[[int], bool]) -> None:
        """The statistics table's size filter: the histogram shows the sizes the table shows."""
        self.histogram.set_filter(accepts)
        self.draw_histogram()

    @Slot()
    def draw_histogram(self) -> None:
        self.histogram.draw(
            self.palette(), self._selected, self.log_check.isChecked(), self._live is not None
        )

    # -- looks and export --------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        self.graphics.setBackground(palette.color(QPalette.ColorRole.Base))
        for plot in (self.load_plot, self.live_plot, self.hist_plot):
            colour_axes(plot, text)
            plot.titleLabel.setText(plot.titleLabel.text, color=text)
        fill = QColor(highlight)
        fill.setAlpha(FILL_ALPHA)
        self.load_curve.setPen(pg.mkPen(highlight, width=1))
        self.load_curve.setBrush(pg.mkBrush(fill))
        self.heap_line.setPen(pg.mkPen(text, width=1, style=Qt.PenStyle.DashLine))
        self.heap_line.label.setColor(text)
        self.peak_marker.setPen(pg.mkPen(text))
        self.peak_marker.setBrush(pg.mkBrush(palette.color(QPalette.ColorRole.Base)))
        self.failure_marker.setPen(pg.mkPen(failure_colour(palette), width=2))
        self.peak_label.setColor(text)
        label_fill = palette.color(QPalette.ColorRole.Base)
        label_fill.setAlpha(200)
        self.peak_label.fill = pg.mkBrush(label_fill)  # TextItem paints this behind its text
        self.live_hint.setColor(palette.color(QPalette.ColorRole.PlaceholderText))
        self.inspect_line.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Link), width=1))
        self._apply_series_colours()
        self.draw_histogram()

    def _apply_series_colours(self) -> None:
        for i, size in enumerate(self._selected):
            curve = self._size_curves.get(size)
            if curve is not None:
                curve.setPen(pg.mkPen(series_colour(i, self.palette()), width=1))

    def export(self, path: Path) -> bool:
        """All three charts as one picture; the suffix (.png or .svg) picks the format.

        Qt renders the view itself: pyqtgraph's SVG exporter fails on filled curves.
        """
        if path.suffix.lower() != ".svg":
            return self.graphics.grab().save(str(path), "PNG")
        view = self.graphics
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(view.viewport().size())
        generator.setViewBox(view.viewport().rect())
        generator.setTitle("heapgui charts")
        painter = QPainter()
        if not painter.begin(generator):
            return False
        self._cache_axes(False)  # cached axes would go into the drawing as pictures
        try:
            view.render(painter)
        finally:
            self._cache_axes(True)
        return painter.end()

    def _cache_axes(self, cached: bool) -> None:
        mode = QGraphicsItem.CacheMode
        for axis in self._axes:
            axis.setCacheMode(mode.DeviceCoordinateCache if cached else mode.NoCache)
