"""The linked time views: one cursor, one record range and one zoom across the window.

Every time plot (the load and live-block charts, the validation panel's pool
occupancy, the trace-set view's curves) draws the workspace's cursor and range
and sets them with the mouse; the occupancy plot also follows the charts'
zoom. The statistics table and the histogram show the range's figures; record
numbers in text centre the charts on that record. The layout plans for the
range through `Workspace.demand_traces()`.

Nothing here works during a live capture: the workspace has no trace until
the capture stops.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import QMenu

from heapgui.trace.window import WindowStatistics
from heapgui.ui.cursor import TimeCursor, readout, x_of_record
from heapgui.ui.plotting import fit_y, share_x_range
from heapgui.ui.range_chip import RangeChip
from heapgui.ui.range_select import RangeSelector
from heapgui.ui.range_stats import RangeStatistics

if TYPE_CHECKING:
    from heapgui.ui.main_window import MainWindow

logger = logging.getLogger(__name__)

FIT_Y_SHORTCUT = "Ctrl+Shift+Y"


class LinkedViews(QObject):
    """Made once by the main window (`link_time_views`); owns the cursor and the range."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        ws = self._workspace = window.workspace
        charts, stats_panel = window.charts, window.stats_panel
        self.cursor = TimeCursor(ws, self)
        self.selector = RangeSelector(ws, self)
        self.statistics = RangeStatistics(ws, self)
        self.chip = RangeChip(ws, window, charts)
        charts.header.addWidget(self.chip)

        occupancy = window.validate_panel.chart.getPlotItem()
        share_x_range(charts.load_plot, occupancy)  # the occupancy plot follows the zoom
        self.plots = [*charts.time_plots(), occupancy]
        self.fit_action = QAction("Fit Y to the visible data", window)
        self.fit_action.setShortcut(QKeySequence(FIT_Y_SHORTCUT))
        self.fit_action.setToolTip("Fit the y axes to the data between the visible records")
        self.fit_action.triggered.connect(self.fit_y)
        window.addAction(self.fit_action)
        self.clear_action = QAction("Clear the record range", window)
        self.clear_action.triggered.connect(self.chip.clear)
        traceset = window.traceset_view.chart.plot_item
        self.plots.append(traceset)
        for plot in self.plots:
            by_record = plot is traceset  # its traces are aligned by record, not by time
            self.cursor.attach(plot, by_record)
            self.selector.attach(plot, by_record)
            self._put_first_in_menu(plot, window)
        self._apply_palette()
        charts.installEventFilter(self)  # a theme change recolours the lines and bands

        ws.cursor_changed.connect(self._show_readout)
        ws.traces_changed.connect(lambda: self._show_readout(ws.cursor))  # open() clears it
        ws.heap_size_changed.connect(lambda _heap: self._show_readout(ws.cursor))
        ws.range_changed.connect(lambda chosen: self.clear_action.setEnabled(chosen is not None))
        self.statistics.changed.connect(self._show_statistics)
        self.statistics.failed.connect(window.report)
        stats_panel.record_linked.connect(self.go_to_record)
        stats_panel.filter_changed.connect(charts.set_size_filter)
        charts.histogram.size_clicked.connect(stats_panel.toggle_size)
        self.clear_action.setEnabled(False)
        # Esc clears the range and also cancels a load: while both are possible, the load
        # wins (Qt calls two enabled shortcuts for one key ambiguous and runs neither).
        window.opener.cancel_shortcut.activatedAmbiguously.connect(window.cancel_load)

    def fit_y(self) -> None:
        for plot in self.plots:
            fit_y(plot)

    def go_to_record(self, record: int) -> None:
        """Centre the time plots on `record` and put the cursor on it."""
        trace = self._workspace.trace
        if trace is None or trace.records is None or not len(trace.records):
            return
        self._window.charts.centre_on(x_of_record(trace.records, record))
        self._workspace.move_cursor(record)

    def _show_readout(self, record: int | None) -> None:
        charts, ws = self._window.charts, self._workspace
        trace = ws.trace
        if record is None or trace is None or trace.records is None:
            charts.readout_label.setText(charts.resting_hint)
            return
        text = readout(trace, record, ws.heap, charts.seconds_per_tick())
        charts.readout_label.setText(text or charts.resting_hint)

    def _show_statistics(self, stats: WindowStatistics | None) -> None:
        """The table and the histogram cover the range, or the whole trace again."""
        trace = self._workspace.trace
        whole = stats is None
        if whole and trace is None:
            return  # nothing open, or a capture: its own views fill the table
        self._window.stats_panel.show_window(trace.stats if whole else stats)
        self._window.charts.show_window_counts(None if whole else stats.rows())

    def _put_first_in_menu(self, plot: pg.PlotItem, window: MainWindow) -> None:
        """heapgui's own chart actions above pyqtgraph's in the plot's context menu."""
        menu: QMenu = plot.vb.menu
        first = menu.actions()[0] if menu.actions() else None
        ours = [self.fit_action, self.clear_action]
        if plot in self._window.charts.time_plots():
            ours += [window.export_png_action, window.export_svg_action]
        for action in ours:
            menu.insertAction(first, action)
        menu.insertSeparator(first)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        return False

    def _apply_palette(self) -> None:
        palette = self._window.charts.palette()
        # The text colour: apart from the range's band and the curves, which use the highlight.
        self.cursor.set_colour(palette.color(QPalette.ColorRole.Text))
        self.selector.set_colour(palette.color(QPalette.ColorRole.Highlight))


def link_time_views(window: MainWindow) -> LinkedViews:
    return LinkedViews(window)
