"""The three charts: heap load over time, live blocks per selected size, allocation sizes.

Every curve is created once and fed with `setData`; pyqtgraph downsamples
(peak method, so spikes survive) and clips to the visible x range, which
needs increasing x values and x auto-range off. The x range is therefore set
explicitly to the whole trace on load, and the mouse zooms x only while y
follows the visible data.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from heapgui.sizes import format_size
from heapgui.trace.load import Trace
from heapgui.trace.records import KIND_NAMES, Records
from heapgui.ui.curves import (
    live_count_curve,
    live_rows,
    record_at,
    statistics_until,
    timeline_x,
)
from heapgui.ui.loader import Task
from heapgui.ui.plotting import colour_axes, colour_legend, fast_curve, set_up_time_plot
from heapgui.ui.theme import series_colour
from heapgui.workspace.live import LiveTrace

logger = logging.getLogger(__name__)

MAX_TICK_LABELS = 24
FILL_ALPHA = 60
LIVE_HEADROOM = 1.25
"""During a capture the time and histogram ranges grow this much at a time, not at every tick."""
INSPECT_HINT = "Click the load chart to see what was live at a record."
LIVE_HINT = "Live capture: the charts follow the data; after zooming, the A button follows again."


def failure_colour(palette: QPalette) -> QColor:
    """Red for failed allocations, as light as the curves so it reads on either base."""
    dark_base = palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5
    return QColor.fromHslF(0.0, 0.8, 0.62 if dark_base else 0.45)


class ChartsPanel(QWidget):
    """Charts for one trace; `show_sizes` picks the per-size curves."""

    inspected = Signal(int)
    """A record was inspected; the text is in `inspect_label` once computed."""

    def __init__(self, parent: QWidget | None = None, sync: bool = False) -> None:
        super().__init__(parent)
        self._sync = sync
        self._trace: Trace | None = None
        self._live: LiveTrace | None = None
        self._time_scale: tuple[float | None, bool] | None = None
        self._hist_key: tuple | None = None  # sizes and log mode the histogram axes show
        self._following = False  # a live capture's x range moves with the data
        self._x_steps = 0
        self._x: np.ndarray | None = None
        self._heap_size = 0
        self._size_curves: dict[int, pg.PlotDataItem] = {}
        self._selected: list[int] = []
        self._sizes = np.empty(0, np.int64)
        self._totals = np.empty(0, np.int64)
        self._inspect_task: Task | None = None

        self.graphics = pg.GraphicsLayoutWidget(self)
        self.graphics.setAccessibleName("Charts")
        self.graphics.setToolTip(
            "Wheel or drag to zoom and pan the time axis; click the load chart to inspect a "
            "record; the A button fits all data."
        )
        self._build_load_plot()
        self._build_live_plot()
        self._build_histogram()

        self.inspect_label = QLabel(INSPECT_HINT, self)
        self.inspect_label.setWordWrap(True)
        self.inspect_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.inspect_label.setAccessibleName("Record inspector")
        self.inspect_label.setToolTip("What was allocated right after the clicked record")
        self.log_check = QCheckBox("Log scale", self)
        self.log_check.setChecked(True)
        self.log_check.setToolTip("Allocation-size histogram with a logarithmic count axis")
        self.log_check.setAccessibleName("Histogram log scale")
        self.log_check.toggled.connect(self._draw_histogram)

        below = QHBoxLayout()
        below.addWidget(self.inspect_label, 1)
        below.addWidget(self.log_check, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(below)
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
        set_up_time_plot(plot, "Heap in use", "bytes in use")
        self.load_plot = plot
        self.load_curve = fast_curve(plot, name="in use")
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
        self.inspect_line = pg.InfiniteLine(angle=90, movable=False)
        self.inspect_line.hide()
        plot.addItem(self.inspect_line, ignoreBounds=True)
        plot.scene().sigMouseClicked.connect(self._clicked)
        plot.vb.sigRangeChangedManually.connect(self._stop_following)

    def _build_live_plot(self) -> None:
        plot = self.graphics.addPlot(row=1, col=0)
        set_up_time_plot(plot, "Live blocks of the selected sizes", "live blocks")
        # Linked views align by pixel position, so both plots share column 0.
        plot.setXLink(self.load_plot)
        self.legend = plot.addLegend(offset=(-10, 10))
        self.live_plot = plot
        self.live_hint = pg.TextItem("Select sizes in the table", anchor=(0.5, 0.5))
        plot.addItem(self.live_hint, ignoreBounds=True)

    def _build_histogram(self) -> None:
        # Horizontal bars: one row per size reads well however many sizes there are.
        plot = self.graphics.addPlot(row=0, col=1, rowspan=2)
        plot.setTitle("Allocations per size")
        plot.setLabel("left", "block size")
        plot.setLabel("bottom", "allocations")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.invertY(True)  # smallest size on top, as in the table
        self.hist_plot = plot
        self.hist_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.8)
        plot.addItem(self.hist_bars)
        grid = self.graphics.ci.layout
        grid.setRowStretchFactor(0, 3)
        grid.setRowStretchFactor(1, 2)
        grid.setColumnStretchFactor(0, 3)
        grid.setColumnStretchFactor(1, 1)

    # -- data ----------------------------------------------------------------

    def set_trace(self, trace: Trace | None) -> None:
        self._cancel_inspection()
        self._trace = trace
        self._live = None
        for size in list(self._size_curves):
            self._drop_curve(size)
        self._selected = []
        self.inspect_line.hide()
        self.failure_marker.setData([], [])
        self.inspect_label.setText(INSPECT_HINT)
        records = trace.records if trace is not None else Records.empty()
        if trace is None or not len(records):
            self._x = None
            self.load_curve.setData([], [])
            self.peak_marker.setData([], [])
            self.peak_label.setText("")
            self._sizes = self._totals = np.empty(0, np.int64)
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
                self.peak_label.setText(f"peak {stats.peak_usage:,} B")
                self.peak_label.setPos(peak_x, stats.peak_usage)
            rows = stats.rows()
            self._sizes = np.array([r.size for r in rows], np.int64)
            self._totals = np.array([r.total for r in rows], np.int64)
        self.live_hint.setVisible(trace is not None)
        self._place_live_hint()
        self._draw_histogram()

    def set_failures(self, records: np.ndarray) -> None:
        """Mark failed allocations (record numbers as in the trace) at the load there."""
        trace = self._trace
        if trace is None or self._x is None or not len(records):
            self.failure_marker.setData([], [])
            return
        at = np.asarray(records, np.int64) - trace.records.first_index
        self.failure_marker.setData(self._x[at], trace.stats.timeline[at])

    def set_heap_size(self, heap_size: int) -> None:
        self._heap_size = heap_size
        self.heap_line.setValue(heap_size)
        self.heap_line.label.setFormat(f"heap {format_size(heap_size)}")

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
                axis.setScale(1.0 / core_clock)
                plot.setLabel("bottom", "time", units="s")
            else:
                axis.setScale(1.0)
                plot.setLabel("bottom", "timestamp (ticks)" if timed else "record", units=None)

    def show_sizes(self, sizes: list[int]) -> None:
        """One live-count curve per size, computed from the records when first shown."""
        if self._trace is None and self._live is None:
            return
        self._selected = [s for s in sizes if s in set(self._sizes.tolist())]
        for size in list(self._size_curves):
            if size not in self._selected:
                self._drop_curve(size)
        if self._live is not None:
            self._live.track_sizes(self._selected)
        for size in self._selected:
            if size in self._size_curves:
                continue
            curve = fast_curve(self.live_plot, name=f"{format_size(size)} B", stepMode="left")
            curve.setData(*self._size_series(size))
            self._size_curves[size] = curve
        self.live_hint.setVisible(not self._selected)
        self._apply_series_colours()
        self._draw_histogram()

    def size_curve(self, size: int) -> pg.PlotDataItem | None:
        return self._size_curves.get(size)

    def _size_series(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        if self._live is not None:
            return self._live.tracks[size].envelope.points()
        records = self._trace.records
        index, count = live_count_curve(records, size)
        x = index if records.timestamp is None else records.timestamp[index]
        return x, count

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
        self.inspect_label.setText(LIVE_HINT)
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
        peak = f"peak {stats.peak_usage:,} B"
        if live.peak_x is not None and peak != self.peak_label.toPlainText():
            self.peak_marker.setData([live.peak_x], [stats.peak_usage])
            self.peak_label.setText(peak)  # lays the text out again: only when it changes
            self.peak_label.setPos(live.peak_x, stats.peak_usage)
        for size, curve in self._size_curves.items():
            curve.setData(*self._size_series(size))
        rows = stats.rows()
        self._sizes = np.array([r.size for r in rows], np.int64)
        self._totals = np.array([r.total for r in rows], np.int64)
        if stats.heap_size and stats.heap_size != self._heap_size:
            self.set_heap_size(stats.heap_size)
        if self.live_hint.isVisible():
            self._place_live_hint()
        self._draw_histogram()
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
        self.legend.removeItem(curve)

    def _place_live_hint(self) -> None:
        x0, x1 = self.load_plot.vb.viewRange()[0]
        self.live_hint.setPos((x0 + x1) / 2, 0.5)

    @Slot()
    def _draw_histogram(self) -> None:
        count = len(self._sizes)
        log = self.log_check.isChecked()
        # Bars start at 1 allocation (10^0) in log mode; every listed size has at least one.
        lengths = np.log10(self._totals) if log else self._totals.astype(float)
        palette = self.palette()
        normal = pg.mkBrush(palette.color(QPalette.ColorRole.Highlight))
        selected = set(self._selected)
        brushes = [
            pg.mkBrush(series_colour(self._selected.index(size), palette))
            if size in selected
            else normal
            for size in self._sizes.tolist()
        ]
        self.hist_bars.setOpts(
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
        if key != self._hist_key:
            self._hist_key = key
            self.hist_plot.getAxis("bottom").setLogMode(log)
            step = max(1, -(-count // MAX_TICK_LABELS))
            labelled = [(i, format_size(int(s))) for i, s in enumerate(key[0]) if i % step == 0]
            self.hist_plot.getAxis("left").setTicks([labelled, [(i, "") for i in range(count)]])
            self.hist_plot.setYRange(-0.6, max(count, 1) - 0.4, padding=0)
        longest = max(float(lengths.max()) if count else 1.0, 1.0)
        x_max = self.hist_plot.vb.viewRange()[0][1]
        if self._live is None:
            self.hist_plot.setXRange(0, longest * 1.05, padding=0)
        elif not longest <= x_max <= longest * LIVE_HEADROOM:
            self.hist_plot.setXRange(0, longest * LIVE_HEADROOM, padding=0)

    # -- inspecting a record ---------------------------------------------------

    def _clicked(self, event) -> None:
        if self._x is None or event.button() != Qt.MouseButton.LeftButton:
            return
        if not self.load_plot.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point: QPointF = self.load_plot.vb.mapSceneToView(event.scenePos())
        self.inspect_record(record_at(self._trace.records, point.x()))

    def inspect_record(self, position: int) -> None:
        """Show what was live right after the record at `position` (0-based in the trace)."""
        trace = self._trace
        if trace is None or not 0 <= position < len(trace.records):
            return
        self._cancel_inspection()
        records = trace.records
        self.inspect_line.setValue(float(self._x[position]))
        self.inspect_line.show()
        self.inspect_label.setText(f"Record {records.first_index + position:,}: computing…")

        def job(progress, cancelled):
            return statistics_until(records, position)

        task = Task(job, self._sync)  # unparented: dropped with the next click
        task.succeeded.connect(lambda stats: self._show_inspection(position, stats))
        task.failed.connect(self.inspect_label.setText)
        self._inspect_task = task
        task.start()

    def _show_inspection(self, position: int, stats) -> None:
        records = self._trace.records
        kind = int(records.kind[position])
        what = f"{KIND_NAMES[kind]} {int(records.size[position])} B"
        if records.new_size[position]:
            what += f" → {int(records.new_size[position])} B"
        in_use = int(self._trace.stats.timeline[position])
        live = ", ".join(f"{format_size(r.size)} B × {r.live:,}" for r in live_rows(stats))
        heap = self._trace.stats
        percent = f" ({heap.percent_of_heap(in_use):.2f}% of heap)" if heap.heap_size else ""
        self.inspect_label.setText(
            f"<b>Record {records.first_index + position:,}</b> ({what}): {in_use:,} B in use"
            f"{percent}. Live blocks: {live or 'none'}"
        )
        self.inspected.emit(position)

    def _cancel_inspection(self) -> None:
        if self._inspect_task is not None:
            self._inspect_task.cancel()
            self._inspect_task = None

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
        colour_legend(self.legend, palette)
        self._apply_series_colours()
        self._draw_histogram()

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
