"""The main window: menus, docks, loading with progress, the problems banner and exports.

Dialogs go through the module-level functions `show_error` and `ask_save_path`,
so tests replace them with monkeypatch and never block on a modal dialog.
"""

from __future__ import annotations

import json
import logging
import sys
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import PySide6
from PySide6.QtCore import QByteArray, QSettings, Qt, Signal, Slot, qVersion
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from heapgui import __version__
from heapgui.report import as_json
from heapgui.sizes import format_size
from heapgui.trace.load import Trace
from heapgui.trace.problems import usage_hints
from heapgui.trace.traceset import TraceSet
from heapgui.ui.banner import ProblemBanner
from heapgui.ui.charts import ChartsPanel
from heapgui.ui.help import about_box, add_help_actions
from heapgui.ui.layout_panel import LayoutPanel
from heapgui.ui.live_trace import LiveTrace
from heapgui.ui.loader import (
    LoadedTrace,
    Task,
    load_trace,
    release_free_memory,
    running_threads,
)
from heapgui.ui.open_refusal import ask_format, plausible_formats
from heapgui.ui.probe_panel import ProbePanel
from heapgui.ui.set_loader import LoadedSet, load_trace_set
from heapgui.ui.stats_panel import StatsPanel
from heapgui.ui.theme import THEMES, apply_theme
from heapgui.ui.traceset_view import TraceSetView
from heapgui.ui.validate_panel import ValidatePanel

logger = logging.getLogger(__name__)

ORGANIZATION = "heapgui"
APPLICATION = "heapgui"
MAX_RECENT = 10
DEFAULT_SIZE = (1400, 900)
STATS_WIDTH = 590
LAYOUT_HEIGHT = 450
CAPTURE_HEIGHT = 340
DEFAULT_SELECTED_SIZES = 3
# File → Open As: each format with the Drone versions that write it.
FORMAT_VERSIONS = {"framed": "0.12-0.14", "legacy": "0.9-0.11", "tagged": "master"}
"""After loading, chart the sizes with the most peak bytes so the live chart is not empty."""
TRACE_FILTER = "Heap traces (heaptrace *.framed *.legacy *.tagged *.bin *.swo);;All files (*)"


def open_settings() -> QSettings:
    """INI settings in the user scope; tests move them with QSettings.setPath."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def show_error(parent: QWidget, message: str) -> None:
    QMessageBox.critical(parent, "heapgui", message)


def ask_open_path(parent: QWidget, directory: str) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Open heap trace", directory, TRACE_FILTER)
    return Path(name) if name else None


def ask_open_paths(parent: QWidget, directory: str) -> list[Path]:
    names, _ = QFileDialog.getOpenFileNames(
        parent, "Open several captures as a trace set", directory, TRACE_FILTER
    )
    return [Path(name) for name in names]


def ask_save_path(parent: QWidget, caption: str, suggested: str, filters: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, caption, suggested, filters)
    return Path(name) if name else None


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

    def __init__(self, sync_load: bool = False, error_dialogs: bool = True) -> None:
        super().__init__()
        self._sync = sync_load
        self._error_dialogs = error_dialogs
        self._task: Task | None = None
        self.trace: Trace | None = None
        self.trace_path: Path | None = None
        self._format_chosen = False  # the trace shown was opened with File → Open As
        self.setWindowTitle("heapgui")
        self.setAcceptDrops(True)
        self.setAccessibleName("heapgui main window")

        self.banner = ProblemBanner(self)
        self._banner_hints: list[str] | None = None
        self.charts = ChartsPanel(self, sync=sync_load)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.banner)
        column.addWidget(self.charts, 1)
        self.setCentralWidget(central)

        self.stats_panel = StatsPanel(self)
        self.stats_panel.sizes_selected.connect(self.charts.show_sizes)
        self.stats_dock = self._dock(
            "Statistics", "statistics", self.stats_panel, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.layout_panel = LayoutPanel(self, sync=sync_load)
        self.layout_panel.heap_size_changed.connect(self._apply_heap_size)
        self.layout_dock = self._dock(
            "Pool layout", "layout", self.layout_panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        # The statistics column runs the full height; the layout sits under the charts.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)

        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_capture_dock()
        self._build_validation()
        self.cancel_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.cancel_shortcut.activated.connect(self.cancel_load)
        self.cancel_shortcut.setEnabled(False)
        self._restore_settings()
        self._show_trace_info()

    # -- construction --------------------------------------------------------

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}_dock")
        dock.setWidget(widget)
        dock.setAccessibleName(f"{title} panel")
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.format_label = QLabel(self)
        self.format_label.setToolTip("Trace format, detected from the file's first bytes")
        self.records_label = QLabel(self)
        self.records_label.setToolTip("Decoded records: allocations, deallocations, resizes")
        self.problems_label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setAccessibleName("Loading progress")
        self.progress.setToolTip("Reading the trace file")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop loading and keep the current trace (Esc)")
        self.cancel_button.setAccessibleName("Cancel loading")
        self.cancel_button.clicked.connect(self.cancel_load)
        for widget in (self.progress, self.cancel_button):
            bar.addPermanentWidget(widget)
            widget.hide()
        for label in (self.format_label, self.records_label, self.problems_label):
            label.setAccessibleName(label.toolTip() or "Problems")
            bar.addPermanentWidget(label)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", icon=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.setToolTip(tip or text.replace("&", "").rstrip("…"))
        action.setStatusTip(action.toolTip())
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        pix = QStyle.StandardPixmap
        self.open_action = self._action(
            "&Open…",
            self.choose_file,
            QKeySequence.StandardKey.Open,
            "Open a heap trace file (framed, legacy or tagged)",
            pix.SP_DialogOpenButton,
        )
        self.export_csv_action = self._action(
            "Export statistics as &CSV…",
            partial(self._export_statistics_as, "csv"),
            tip="Save the statistics table as comma-separated values",
        )
        self.export_json_action = self._action(
            "Export statistics as &JSON…",
            partial(self._export_statistics_as, "json"),
            tip="Save the statistics as JSON (the same shape as heapgui-cli stats --json)",
        )
        self.export_png_action = self._action(
            "Export chart as &PNG…",
            partial(self._export_chart_as, "png"),
            tip="Save the three charts as a PNG image",
            icon=pix.SP_DialogSaveButton,
        )
        self.export_svg_action = self._action(
            "Export chart as &SVG…",
            partial(self._export_chart_as, "svg"),
            tip="Save the three charts as an SVG drawing",
        )
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q", "Quit heapgui")
        self.copy_layout_action = self._action(
            "&Copy layout",
            self.layout_panel.copy_layout,
            "Ctrl+Shift+C",
            "Copy the suggested [heap] section to the clipboard",
            pix.SP_FileDialogDetailedView,
        )
        self.about_action = self._action("&About heapgui", self.show_about)
        self.show_banner_action = self._action(
            "Show &problems", self._show_banner, tip="Show the problems banner again"
        )

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        open_as = file_menu.addMenu("Open &As")
        open_as.setToolTipsVisible(True)
        for fmt, drone in FORMAT_VERSIONS.items():
            action = open_as.addAction(f"{fmt} (Drone {drone})…")
            action.setToolTip(f"Open a file as a {fmt} trace, whatever detection says")
            action.triggered.connect(partial(self.choose_file_as, fmt))
        self.open_as_menu = open_as
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        for action in (
            self.export_csv_action,
            self.export_json_action,
            self.export_png_action,
            self.export_svg_action,
        ):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        menu.addMenu("&Edit").addAction(self.copy_layout_action)

        view_menu = menu.addMenu("&View")
        view_menu.addAction(self.stats_dock.toggleViewAction())
        view_menu.addAction(self.layout_dock.toggleViewAction())
        view_menu.addAction(self.show_banner_action)
        self.theme_menu = view_menu.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        for name in THEMES:
            action = self.theme_menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.setData(name)
            action.setToolTip(f"Use the {name} colour palette")
            self.theme_group.addAction(action)
        self.theme_group.triggered.connect(self._theme_chosen)
        self.view_menu = view_menu

        help_menu = menu.addMenu("&Help")
        add_help_actions(
            self, help_menu, lambda: self.capture_panel.form.target_combo.currentText()
        )
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main toolbar", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.setAccessibleName("Main toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.open_action, self.export_png_action, self.copy_layout_action):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.view_menu.insertAction(self.show_banner_action, toolbar.toggleViewAction())
        self.toolbar = toolbar

    # -- live capture ----------------------------------------------------------

    def _build_capture_dock(self) -> None:
        """The capture panel under the statistics; Start/Stop in a Capture menu and the toolbar.

        Hidden until a capture is started (or the View menu shows it): looking at trace
        files keeps the statistics column whole, and the charts keep their width anyway.
        """
        panel = ProbePanel(self)
        self.capture_panel = panel
        self.capture_dock = self._dock(
            "Capture", "capture", panel, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.splitDockWidget(self.stats_dock, self.capture_dock, Qt.Orientation.Vertical)
        self.capture_dock.hide()
        panel.start_action.triggered.connect(self._show_capture_dock)
        panel.capture_started.connect(self._capture_started)
        panel.live_updated.connect(self._capture_updated)
        panel.capture_finished.connect(self._capture_finished)
        panel.layout_snapshot.connect(self._capture_snapshot)
        panel.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.trace_loaded.connect(lambda: panel.form.use_project_dir(self.trace_path.parent))
        menu = QMenu("&Capture", self)
        menu.addActions([panel.start_action, panel.stop_action])
        bar = self.menuBar()
        help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, menu)
        else:
            bar.addMenu(menu)
        self.toolbar.addSeparator()
        self.toolbar.addActions([panel.start_action, panel.stop_action])
        self.view_menu.insertAction(self.show_banner_action, self.capture_dock.toggleViewAction())

    def _show_capture_dock(self) -> None:
        if self.capture_dock.isVisible():
            return
        self.capture_dock.show()
        # Showing it would squeeze the statistics column; keep it as wide as before.
        self.resizeDocks([self.stats_dock], [STATS_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.capture_dock], [CAPTURE_HEIGHT], Qt.Orientation.Vertical)

    def start_demo(self, directory: Path) -> bool:
        """Capture from the simulated board into `directory` right away (heapgui --demo)."""
        self._show_capture_dock()
        return self.capture_panel.start_demo(directory)

    @Slot(object)
    def _capture_started(self, live: LiveTrace) -> None:
        """The views follow the capture from now on; the previous trace is let go."""
        self._show_capture_dock()
        self.cancel_load()
        self.trace = self.trace_path = None
        self.stats_panel.set_stats(live.stats, live=True)
        self.charts.begin_live(live)
        self.layout_panel.set_trace(None, live.path)
        self.banner.set_hints([])
        self._show_trace_info()
        self.format_label.setText(f"Live capture ({live.format})")
        self.setWindowTitle(f"Capturing {live.path.name} — heapgui")

    @Slot(object, bool)
    def _capture_updated(self, live: LiveTrace, slow: bool) -> None:
        if self.trace is not None:
            return  # a file was opened meanwhile: the capture goes on, on disk only
        self.stats_panel.update_stats(live.stats, fit_columns=slow)
        self.charts.update_live()
        self.records_label.setText(f"{live.records:,} records · capturing")
        if slow and not self.stats_panel.selected_sizes():
            self.stats_panel.select_top_sizes(DEFAULT_SELECTED_SIZES)

    @Slot(object)
    def _capture_snapshot(self, trace: Trace) -> None:
        """The pool layout follows the capture (the panel sends a copy now and then)."""
        if self.trace is None:
            self.layout_panel.set_trace(trace, None)

    @Slot(object)
    def _capture_finished(self, live: LiveTrace) -> None:
        """The captured trace becomes the window's trace, as if its heaptrace had been opened."""
        if self.trace is not None:
            return
        selected = self.stats_panel.selected_sizes()
        self._loaded(LoadedTrace(live.to_trace(), live.path))
        self.charts.set_time_scale(live.core_clock, bool(live.timed))
        if selected:
            self.stats_panel.select_sizes(selected)

    # -- trace sets and validation -------------------------------------------------

    def _build_validation(self) -> None:
        """The validation and trace-set docks, Open Trace Set… and Validate (Ctrl+R)."""
        self.validate_panel = ValidatePanel(self.layout_panel, self, sync=self._sync)
        self.validate_panel.validated.connect(self._mark_failures)
        self.layout_panel.verdict_changed.connect(self._mark_edit_failures)
        self.validate_panel.trace_chosen.connect(self._show_member)
        self.validate_dock = self._dock(
            "Validation", "validation", self.validate_panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.traceset_view = TraceSetView(self)
        self.traceset_view.trace_chosen.connect(self._show_member)
        self.layout_panel.traces_changed.connect(self.traceset_view.set_traces)
        self.traceset_dock = self._dock(
            "Trace set", "traceset", self.traceset_view, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        # Shown on demand (Validate, a set opened, the View menu): until then they cost no room.
        # Hidden before they are tabbed, or an empty tab bar stays behind.
        for dock, beside in (
            (self.validate_dock, self.layout_dock),
            (self.traceset_dock, self.stats_dock),
        ):
            dock.hide()
            self.tabifyDockWidget(beside, dock)

        pix = QStyle.StandardPixmap
        self.open_set_action = self._action(
            "Open Trace &Set…",
            self.choose_trace_set,
            "Ctrl+Shift+O",
            "Open several captures of one firmware as a set: compared side by side, laid out "
            "and validated together",
            pix.SP_DirOpenIcon,
        )
        # The File menu is the one "Open Recent" was added to.
        self.recent_menu.parentWidget().insertAction(
            self.recent_menu.menuAction(), self.open_set_action
        )
        self.validate_action = self.validate_panel.validate_action
        self.validate_action.setIcon(self.style().standardIcon(pix.SP_DialogApplyButton))
        self.validate_action.triggered.connect(self._show_validation)
        layout_menu = QMenu("&Layout", self)
        layout_menu.addAction(self.validate_action)
        self.menuBar().insertMenu(self.view_menu.menuAction(), layout_menu)
        for dock in (self.traceset_dock, self.validate_dock):
            self.view_menu.insertAction(self.show_banner_action, dock.toggleViewAction())
        actions = self.toolbar.actions()
        after = actions.index(self.copy_layout_action) + 1
        self.toolbar.insertAction(
            actions[after] if after < len(actions) else None, self.validate_action
        )

    @Slot()
    def choose_trace_set(self) -> None:
        start = str(self.trace_path.parent) if self.trace_path is not None else ""
        paths = ask_open_paths(self, start)
        if paths:
            self.open_files(paths)

    @Slot(object)
    def _set_loaded(self, loaded: LoadedSet) -> None:
        self._loaded(LoadedTrace(loaded.traces.traces[0], loaded.paths[0]), loaded.traces)
        names = loaded.traces.names
        self.setWindowTitle(f"{names[0]} + {len(names) - 1} more — heapgui")
        self.statusBar().showMessage(f"Loaded {len(names)} traces: {', '.join(names)}", 5000)
        self.traceset_dock.show()
        self.traceset_dock.raise_()

    @Slot()
    def _show_validation(self) -> None:
        self.validate_dock.show()
        self.validate_dock.raise_()

    @Slot()
    def _mark_failures(self) -> None:
        self.charts.set_failures(self.validate_panel.failed_records(self.trace))

    @Slot()
    def _mark_edit_failures(self) -> None:
        """The layout panel's verdict on the layout shown (edited by hand or not) changed."""
        self.charts.set_failures(self.layout_panel.failed_records(self.trace))

    @Slot(int)
    def _show_member(self, index: int) -> None:
        """Show trace `index` of the set in the statistics table and the charts."""
        traces = self.layout_panel.traces()
        if self.trace is None or traces is None or not 0 <= index < len(traces):
            return
        self.traceset_view.show_trace(index)
        self.validate_panel.show_trace(index)
        trace = traces.traces[index]
        if trace is self.trace:
            return
        self.trace, self.trace_path = trace, Path(trace.source)
        self.stats_panel.set_stats(trace.stats)
        self.charts.set_trace(trace)
        self._banner_hints = None  # a newly shown trace shows its problems again
        self._apply_heap_size(self.layout_panel.heap_size())
        self._mark_failures()
        self._select_default_sizes(trace)

    def _select_default_sizes(self, trace: Trace) -> None:
        """The busiest sizes of `trace`, which the statistics panel shows already."""
        self.stats_panel.select_top_sizes(DEFAULT_SELECTED_SIZES)

    # -- opening ---------------------------------------------------------------

    @Slot()
    def choose_file(self) -> None:
        start = str(self.trace_path.parent) if self.trace_path is not None else ""
        path = ask_open_path(self, start)
        if path is not None:
            self.open_file(path)

    def choose_file_as(self, fmt: str) -> None:
        """Open a file in the format the user names, for a damaged trace detection refuses."""
        start = str(self.trace_path.parent) if self.trace_path is not None else ""
        path = ask_open_path(self, start)
        if path is not None:
            self.open_file(path, fmt)

    def open_file(self, path: str | Path, fmt: str = "auto") -> None:
        """Load in the background; the current trace stays until the new one is complete.
        `fmt` is "auto" to detect the format, or the one the user chose."""
        path = Path(path)
        job = partial(load_trace, path, fmt=fmt)
        refused = partial(self._open_refused, path) if fmt == "auto" else None
        self._start_load(job, self._loaded, f"Loading {path}…", refused)

    def open_files(self, paths: list[str | Path]) -> None:
        """One file opens as a trace, several as a trace set."""
        if len(paths) == 1:
            self.open_file(paths[0])
        elif paths:
            job = partial(load_trace_set, [Path(p) for p in paths])
            self._start_load(job, self._set_loaded, f"Loading {len(paths)} traces…")

    def _start_load(self, job, done, message: str, failed=None) -> None:
        self.cancel_load()
        task = Task(job, self._sync)  # unparented: freed when replaced
        task.progressed.connect(self._load_progressed)
        task.succeeded.connect(done)
        task.failed.connect(failed or self._load_failed)
        task.cancelled.connect(self._load_cancelled)
        self._task = task
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_shortcut.setEnabled(True)
        self.statusBar().showMessage(message)
        task.start()

    @Slot()
    def cancel_load(self) -> None:
        if self._task is not None and self._task.active:
            self._task.cancel()

    def loading(self) -> bool:
        return self._task is not None and self._task.active

    def wait_for_threads(self) -> None:
        """Cancelled jobs still run to their next check; let them end before the app does."""
        for thread in running_threads():
            thread.wait()

    @Slot(float)
    def _load_progressed(self, fraction: float) -> None:
        self.progress.setValue(round(fraction * self.progress.maximum()))

    def _load_ended(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.cancel_shortcut.setEnabled(False)

    @Slot(object)
    def _loaded(self, loaded: LoadedTrace, traces: TraceSet | None = None) -> None:
        """Show a loaded trace; with `traces`, it is the first of a set that is laid out as one."""
        self._load_ended()
        self.trace, self.trace_path = loaded.trace, loaded.path
        self._format_chosen = loaded.chosen_format
        trace = loaded.trace
        self.stats_panel.set_stats(trace.stats)
        self.charts.set_trace(trace)
        self.layout_panel.set_traces(
            traces if traces is not None else TraceSet.of([trace]), loaded.path
        )
        self._banner_hints = None  # a newly shown trace shows its problems again
        self._apply_heap_size(self.layout_panel.heap_size())
        self._remember(loaded.path)
        self.setWindowTitle(f"{loaded.path.name} — heapgui")
        self.statusBar().showMessage(f"Loaded {loaded.path}", 5000)
        self._select_default_sizes(trace)
        release_free_memory()  # the decoder's buffers and the previous trace are garbage now
        self.trace_loaded.emit()

    @Slot(str)
    def _load_failed(self, message: str) -> None:
        self._load_ended()
        self.statusBar().showMessage(message, 10000)
        self.load_failed.emit(message)
        if self._error_dialogs:
            show_error(self, message)

    def _open_refused(self, path: Path, message: str) -> None:
        """A failed open of `path`: when detection was unsure, offer its plausible formats."""
        choices = plausible_formats(path) if self._error_dialogs else []
        if not choices:
            self._load_failed(message)
            return
        self._load_ended()
        fmt = ask_format(self, path, message, choices, FORMAT_VERSIONS)
        if fmt is not None:
            self.open_file(path, fmt)
            return
        self.statusBar().showMessage(message, 10000)
        self.load_failed.emit(message)

    @Slot()
    def _load_cancelled(self) -> None:
        self._load_ended()
        self.statusBar().showMessage("Loading cancelled", 5000)

    @Slot("qint64")
    def _apply_heap_size(self, heap_size: int) -> None:
        """The layout panel owns the heap size; the statistics carry it for the percentages."""
        if self.trace is None:
            return
        self.trace.stats.heap_size = heap_size
        self.stats_panel.heap_size_changed()
        self.charts.set_heap_size(heap_size)
        self._show_trace_info()

    def _show_trace_info(self) -> None:
        trace = self.trace
        if trace is None:
            self.format_label.setText("No trace")
            self.records_label.setText("")
            self.problems_label.setText("")
            self.show_banner_action.setEnabled(False)
            return
        heap = trace.stats.heap_size
        chosen = " (chosen)" if self._format_chosen else ""
        self.format_label.setText(f"Format: {trace.format}{chosen}")
        self.records_label.setText(
            f"{len(trace.records):,} records · heap {format_size(heap) if heap else '?'}"
        )
        hints = self._hints(trace)
        if hints != self._banner_hints:  # unchanged problems stay dismissed
            self._banner_hints = hints
            self.banner.set_hints(hints)
        self.problems_label.setText(
            f"⚠ {len(hints)} problem{'s' if len(hints) != 1 else ''}" if hints else "No problems"
        )
        self.problems_label.setToolTip("\n".join(hints) or "The trace decoded cleanly")
        self.show_banner_action.setEnabled(bool(hints))

    @Slot()
    def _show_banner(self) -> None:
        if self.trace is not None:
            self.banner.set_hints(self._hints(self.trace))

    @staticmethod
    def _hints(trace: Trace) -> list[str]:
        """The decoder's problems, plus an empty capture or a peak above the heap."""
        stats = trace.stats
        return trace.hints() + usage_hints(
            trace.bytes_read, stats.peak_usage, stats.peak_record, stats.heap_size
        )

    # -- drag and drop -----------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_files(files)

    # -- recent files and settings -------------------------------------------------

    def recent_files(self) -> list[str]:
        value = open_settings().value("recent_files", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, path: Path) -> None:
        name = str(path.resolve())
        recent = [name] + [p for p in self.recent_files() if p != name]
        open_settings().setValue("recent_files", recent[:MAX_RECENT])

    @Slot()
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for name in recent:
            action = self.recent_menu.addAction(Path(name).name)
            action.setToolTip(name)
            action.triggered.connect(partial(self.open_file, name))
        if not recent:
            self.recent_menu.addAction("No recent files").setEnabled(False)

    def _restore_settings(self) -> None:
        settings = open_settings()
        geometry = settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
            self.resizeDocks([self.stats_dock], [STATS_WIDTH], Qt.Orientation.Horizontal)
            self.resizeDocks([self.layout_dock], [LAYOUT_HEIGHT], Qt.Orientation.Vertical)
        state = settings.value("window_state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        theme = str(settings.value("theme", "system"))
        for action in self.theme_group.actions():
            action.setChecked(action.data() == theme)

    @Slot(QAction)
    def _theme_chosen(self, action: QAction) -> None:
        name = str(action.data())
        open_settings().setValue("theme", name)
        apply_theme(QApplication.instance(), name)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.capture_panel.stop()  # the capture saves its tail; wait_for_threads waits for it
        self.cancel_load()
        self.wait_for_threads()
        settings = open_settings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("window_state", self.saveState())
        super().closeEvent(event)

    # -- exports and about ------------------------------------------------------------

    def _suggested(self, suffix: str) -> str:
        if self.trace_path is None:
            return f"heapgui.{suffix}"
        return str(self.trace_path.with_suffix(f".{suffix}"))

    def _export_statistics_as(self, kind: str) -> None:
        filters = "CSV files (*.csv)" if kind == "csv" else "JSON files (*.json)"
        path = ask_save_path(self, "Export statistics", self._suggested(kind), filters)
        if path is not None:
            self.export_statistics(path)

    def _export_chart_as(self, kind: str) -> None:
        filters = "PNG images (*.png)" if kind == "png" else "SVG drawings (*.svg)"
        path = ask_save_path(self, "Export chart", self._suggested(kind), filters)
        if path is not None:
            self.export_chart(path)

    def export_statistics(self, path: Path) -> None:
        """CSV for a .csv path, else JSON; failures are reported, never raised."""
        if path.suffix.lower() == ".csv":
            text = self.stats_panel.model.to_csv()
        elif self.trace is not None:
            text = json.dumps(as_json(self.trace, self.trace.stats.heap_size), indent=1) + "\n"
        else:
            self._report(f"{path}: no trace loaded, nothing to export")
            return
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self._report(f"{path}: cannot write: {exc.strerror}")
            return
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def export_chart(self, path: Path) -> None:
        if not self.charts.export(path):
            self._report(f"{path}: cannot write the chart there")
            return
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def _report(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        if self._error_dialogs:
            show_error(self, message)

    @Slot()
    def show_about(self) -> None:
        about_box(self, versions()).exec()
