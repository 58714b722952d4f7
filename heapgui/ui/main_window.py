"""The main window: the docks around the charts, wired to one `Workspace`.

The workspace (heapgui.workspace) owns what is open and decided; the panels are
views that render it and send it requests. The window only creates them, places
them, and renders the workspace's events in the views it owns itself: the
statistics table, the charts, the banner, the status bar and the trace-set view.
Opening files is in `file_opening`, exports in `exports`, menus in `menus`.

Error boxes go through the module-level function `show_error`, so tests replace
it with monkeypatch and never block on a modal dialog.
"""

from __future__ import annotations

import logging
import sys
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import PySide6
from PySide6.QtCore import QByteArray, Signal, Slot, qVersion
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLayout,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from heapgui import __version__
from heapgui.trace.load import Trace
from heapgui.ui import docks, menus
from heapgui.ui.banner import HeapGuessNotice, ProblemBanner
from heapgui.ui.capture_panel import CapturePanel
from heapgui.ui.charts import ChartsPanel
from heapgui.ui.docks import STATE_VERSION, Arrangement, ChartColumn, scrolled
from heapgui.ui.exports import Exporter
from heapgui.ui.file_opening import FileOpener
from heapgui.ui.help import about_box
from heapgui.ui.layout_panel import LayoutPanel
from heapgui.ui.linking import link_time_views
from heapgui.ui.live_view import DEFAULT_SELECTED_SIZES, LiveView
from heapgui.ui.settings import open_settings
from heapgui.ui.start_page import StartPage, WindowPages, follow_start_page
from heapgui.ui.stats_panel import StatsPanel
from heapgui.ui.theme import apply_theme
from heapgui.ui.trace_status import TraceStatus
from heapgui.ui.traceset_view import TraceSetView
from heapgui.ui.validate_panel import ValidatePanel
from heapgui.workspace import HeapSize, Workspace, guess_notice

logger = logging.getLogger(__name__)

DEFAULT_SIZE = (1400, 900)


def show_error(parent: QWidget, message: str) -> None:
    QMessageBox.critical(parent, "heapgui", message)


def versions() -> dict[str, str]:
    def installed(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "heapgui": __version__,
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "pyqtgraph": pg.__version__,
        "numpy": np.__version__,
        "pyocd": installed("pyocd"),
        "Python": sys.version.split()[0],
    }


class MainWindow(QMainWindow):
    trace_loaded = Signal()
    load_failed = Signal(str)

    def __init__(self, error_dialogs: bool = True) -> None:
        super().__init__()
        self._error_dialogs = error_dialogs
        self._shown_heap: HeapSize | None = None  # what the views last showed, for notices
        self.workspace = Workspace()
        self.setWindowTitle("heapgui")
        self.setAcceptDrops(True)
        self.setAccessibleName("heapgui main window")

        self.banner = ProblemBanner(self)
        self.heap_notice = HeapGuessNotice(self)
        self.charts = ChartsPanel(self)
        self.chart_page = ChartColumn([self.heap_notice, self.banner], self.charts, self)
        self.start_page = StartPage(self)
        self.pages = WindowPages(self.start_page, self.chart_page, self.workspace, self)
        self.setCentralWidget(self.pages)
        self._build_docks()
        # The charts' least height grows with the window (heapgui.ui.docks): were it the
        # window's least height too, a window could never be made smaller again.
        self.layout().setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)

        self.status = TraceStatus(self, self.banner, self.workspace)
        self.format_label = self.status.format_label
        self.records_label = self.status.records_label
        self.problems_label = self.status.problems_label
        self.opener = FileOpener(self, self.workspace, self.report, error_dialogs)
        self.opener.opened.connect(self.trace_loaded)
        self.opener.failed.connect(self.load_failed)
        self.progress, self.cancel_button = self.opener.progress, self.opener.cancel_button
        self.exporter = Exporter(self, self.workspace, self.stats_panel, self.charts, self.report)
        menus.build_actions(self)
        menus.build_menus(self)
        self.toolbar = menus.build_toolbar(self)
        menus.add_dock_toggles(self)

        self._follow_workspace()
        self._follow_capture()
        self.linked = link_time_views(self)  # cursor, record range, zoom across the time plots
        follow_start_page(self)
        self._restore_settings()
        self.status.refresh()

    # -- construction --------------------------------------------------------

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}_dock")
        dock.setWidget(widget)
        dock.setAccessibleName(f"{title} panel")
        return dock

    def _build_docks(self) -> None:
        """The docks; where they go and which show is the arrangement's (heapgui.ui.docks)."""
        self.stats_panel = StatsPanel(self)
        self.stats_panel.sizes_selected.connect(self.charts.show_sizes)
        self.stats_dock = self._dock("Statistics", "statistics", self.stats_panel)
        # The tall panels scroll in a short dock instead of taking the charts' height.
        self.layout_panel = LayoutPanel(self.workspace, self)
        self.layout_dock = self._dock("Pool layout", "layout", scrolled(self.layout_panel))
        self.capture_panel = CapturePanel(self.workspace, self)
        # The capture panel scrolls its settings itself, under Start and Stop.
        self.capture_dock = self._dock("Capture", "capture", self.capture_panel)
        self.validate_panel = ValidatePanel(self.workspace, self)
        self.validate_dock = self._dock("Validation", "validation", self.validate_panel)
        self.traceset_view = TraceSetView(self.workspace, self)
        self.traceset_dock = self._dock("Trace set", "traceset", self.traceset_view)
        docks.place_docks(self)

    def _follow_workspace(self) -> None:
        """The views this window owns render the workspace; choices go back to it."""
        ws = self.workspace
        ws.traces_changed.connect(self._traces_changed)
        ws.shown_changed.connect(self._shown_changed)
        ws.heap_size_changed.connect(self._heap_size_changed)
        ws.validated.connect(self._mark_failures)
        self.heap_notice.set_requested.connect(partial(docks.show_heap_size_field, self))
        ws.layout_changed.connect(self._mark_edit_failures)
        self.layout_panel.verdict_changed.connect(self._mark_edit_failures)
        self.validate_panel.trace_chosen.connect(ws.show)

    def _follow_capture(self) -> None:
        self.live_view = LiveView(self)
        panel = self.capture_panel
        self.trace_loaded.connect(lambda: panel.form.use_project_dir(self.trace_path.parent))

    # -- what is shown -----------------------------------------------------------

    @property
    def trace(self) -> Trace | None:
        """The trace shown (the workspace's), or None."""
        return self.workspace.trace

    @property
    def trace_path(self) -> Path | None:
        ws = self.workspace
        return ws.paths[ws.shown] if ws.traces is not None and ws.paths else None

    def _traces_changed(self) -> None:
        traces = self.workspace.traces
        self.heap_notice.forget()
        self._show(self.workspace.trace)
        docks.fit_side_column(self, grow_only=True)  # wider numbers than the last trace's
        if traces is None:
            self.setWindowTitle("heapgui")
        elif len(traces) == 1:
            self.setWindowTitle(f"{traces.names[0]} — heapgui")
        else:
            self.setWindowTitle(f"{traces.names[0]} + {len(traces) - 1} more — heapgui")
            self.traceset_dock.show()
            self.traceset_dock.raise_()

    @Slot(int)
    def _shown_changed(self, index: int) -> None:
        """Another member of the set: the statistics table and the charts show it."""
        self._show(self.workspace.trace)

    def _show(self, trace: Trace | None) -> None:
        if trace is None:
            return  # nothing open (a capture replaces it): the capture's views follow
        self.stats_panel.set_stats(trace.stats)
        self.charts.set_trace(trace)
        self.status.forget_dismissal()
        self._heap_size_changed(self.workspace.heap)
        self._mark_failures()
        self.stats_panel.select_top_sizes(DEFAULT_SELECTED_SIZES)

    def _heap_size_changed(self, heap: HeapSize | None) -> None:
        """One authority: every view that divides by the heap takes it from here."""
        notice = guess_notice(self._shown_heap, heap)
        self._shown_heap = heap
        self.stats_panel.set_heap_size(heap)
        self.charts.set_heap_size(heap)
        if self.trace is None:
            self.status.show_heap(heap)
        else:
            self.status.refresh(self.opener.format_chosen)
        if notice:
            self.statusBar().showMessage(notice, 15000)
        self.heap_notice.offer(heap)

    def _mark_failures(self, *_: object) -> None:
        self.charts.set_failures(self.validate_panel.failed_records(self.trace))

    def _mark_edit_failures(self, *_: object) -> None:
        """The layout panel's verdict on the layout shown (edited by hand or not) changed."""
        self.charts.set_failures(self.layout_panel.failed_records(self.trace))

    @Slot()
    def show_validation(self) -> None:
        self.validate_dock.show()
        self.validate_dock.raise_()

    def start_demo(self, directory: Path) -> bool:
        """Capture from the simulated board into `directory` right away (heapgui --demo)."""
        self.live_view.show_dock()
        return self.capture_panel.start_demo(directory)

    # -- opening, for callers and tests ------------------------------------------------

    def open_file(self, path: str | Path, fmt: str = "auto") -> None:
        """Load in the background; the current trace stays until the new one is complete."""
        self.opener.open_file(path, fmt)

    def open_files(self, paths: list[str | Path]) -> None:
        self.opener.open_files(paths)

    def loading(self) -> bool:
        return self.opener.loading()

    @Slot()
    def cancel_load(self) -> None:
        self.opener.cancel()

    def export_statistics(self, path: Path) -> None:
        self.exporter.statistics(path)

    def export_chart(self, path: Path) -> None:
        self.exporter.chart(path)

    def report(self, message: str) -> None:
        """A failure the user must see: in the status bar, and in a box unless dialogs are off."""
        self.statusBar().showMessage(message, 10000)
        if self._error_dialogs:
            show_error(self, message)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_files(files)

    # -- settings, theme, about ----------------------------------------------------------

    def _restore_settings(self) -> None:
        """The window and its docks as the user left them, else the Analysis arrangement."""
        settings = open_settings()
        geometry = settings.value("geometry")
        if not isinstance(geometry, QByteArray) or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        state = settings.value("window_state")
        # Without a saved state the docks are fitted once the window has its final size.
        self._arrange_when_shown = not isinstance(state, QByteArray) or not self.restoreState(
            state, STATE_VERSION
        )
        theme = str(settings.value("theme", "system"))
        for action in self.theme_group.actions():
            action.setChecked(action.data() == theme)

    def showEvent(self, event: QShowEvent) -> None:
        if self._arrange_when_shown:
            self._arrange_when_shown = False
            docks.arrange(self, Arrangement.ANALYSIS)
        super().showEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        docks.keep_chart_room(self)
        super().resizeEvent(event)

    @Slot(QAction)
    def theme_chosen(self, action: QAction) -> None:
        name = str(action.data())
        open_settings().setValue("theme", name)
        apply_theme(QApplication.instance(), name)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.capture_panel.stop()  # the capture saves its tail; wait_for_threads waits for it
        self.cancel_load()
        self.opener.wait_for_threads()
        settings = open_settings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("window_state", self.saveState(STATE_VERSION))
        super().closeEvent(event)

    @Slot()
    def show_about(self) -> None:
        about_box(self, versions()).exec()
