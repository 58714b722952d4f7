"""The main window's actions, menu bar and toolbar, in the order a user reads them."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle, QToolBar

from heapgui.ui.docks import Arrangement, arrange
from heapgui.ui.file_opening import FORMAT_VERSIONS
from heapgui.ui.help import add_help_actions
from heapgui.ui.theme import THEMES

if TYPE_CHECKING:
    from heapgui.ui.main_window import MainWindow

PIX = QStyle.StandardPixmap


def action(window: MainWindow, text: str, slot, shortcut=None, tip: str = "", icon=None) -> QAction:
    made = QAction(text, window)
    if shortcut is not None:
        made.setShortcut(QKeySequence(shortcut))
    if icon is not None:
        made.setIcon(window.style().standardIcon(icon))
    made.setToolTip(tip or text.replace("&", "").rstrip("…"))
    made.setStatusTip(made.toolTip())
    made.triggered.connect(slot)
    return made


def build_actions(window: MainWindow) -> None:
    opener, exporter = window.opener, window.exporter
    window.open_action = action(
        window,
        "&Open…",
        opener.choose_file,
        QKeySequence.StandardKey.Open,
        "Open a heap trace file (framed, legacy or tagged)",
        PIX.SP_DialogOpenButton,
    )
    window.open_set_action = action(
        window,
        "Open Trace &Set…",
        opener.choose_trace_set,
        "Ctrl+Shift+O",
        "Open several captures of one firmware as a set: compared side by side, laid out "
        "and validated together",
        PIX.SP_DirOpenIcon,
    )
    window.export_csv_action = action(
        window,
        "Export statistics as &CSV…",
        partial(exporter.statistics_as, "csv"),
        tip="Save the statistics table as comma-separated values",
    )
    window.export_json_action = action(
        window,
        "Export statistics as &JSON…",
        partial(exporter.statistics_as, "json"),
        tip="Save the statistics as JSON (the same shape as heapgui-cli stats --json)",
    )
    window.export_png_action = action(
        window,
        "Export chart as &PNG…",
        partial(exporter.chart_as, "png"),
        tip="Save the three charts as a PNG image",
        icon=PIX.SP_DialogSaveButton,
    )
    window.export_svg_action = action(
        window,
        "Export chart as &SVG…",
        partial(exporter.chart_as, "svg"),
        tip="Save the three charts as an SVG drawing",
    )
    window.quit_action = action(window, "&Quit", window.close, "Ctrl+Q", "Quit heapgui")
    window.copy_layout_action = action(
        window,
        "&Copy layout",
        window.layout_panel.copy_layout,
        "Ctrl+Shift+C",
        "Copy the suggested [heap] section to the clipboard",
        PIX.SP_FileDialogDetailedView,
    )
    window.about_action = action(window, "&About heapgui", window.show_about)
    window.validate_action = window.validate_panel.validate_action
    window.validate_action.setIcon(window.style().standardIcon(PIX.SP_DialogApplyButton))
    window.validate_action.triggered.connect(window.show_validation)
    window.show_banner_action = window.status.show_banner_action


def build_menus(window: MainWindow) -> None:
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    bar.addMenu("&Edit").addAction(window.copy_layout_action)
    bar.addMenu("&Layout").addAction(window.validate_action)
    _view_menu(window, bar.addMenu("&View"))
    capture = window.capture_panel
    bar.addMenu("&Capture").addActions([capture.start_action, capture.stop_action])
    help_menu = bar.addMenu("&Help")
    add_help_actions(window, help_menu, lambda: capture.form.target_combo.currentText())
    help_menu.addAction(window.about_action)


def build_toolbar(window: MainWindow) -> QToolBar:
    toolbar = QToolBar("Main toolbar", window)
    toolbar.setObjectName("main_toolbar")
    toolbar.setAccessibleName("Main toolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.addActions(
        [
            window.open_action,
            window.export_png_action,
            window.copy_layout_action,
            window.validate_action,
        ]
    )
    toolbar.addSeparator()
    toolbar.addActions([window.capture_panel.start_action, window.capture_panel.stop_action])
    window.addToolBar(toolbar)
    return toolbar


def _file_menu(window: MainWindow, menu) -> None:
    menu.addAction(window.open_action)
    open_as = menu.addMenu("Open &As")
    open_as.setToolTipsVisible(True)
    for fmt, drone in FORMAT_VERSIONS.items():
        item = open_as.addAction(f"{fmt} (Drone {drone})…")
        item.setToolTip(f"Open a file as a {fmt} trace, whatever detection says")
        item.triggered.connect(partial(window.opener.choose_file_as, fmt))
    window.open_as_menu = open_as
    menu.addAction(window.open_set_action)
    recent = menu.addMenu("Open &Recent")
    recent.setToolTipsVisible(True)
    recent.aboutToShow.connect(lambda: window.opener.fill_recent_menu(recent))
    window.recent_menu = recent
    menu.addSeparator()
    menu.addActions(
        [
            window.export_csv_action,
            window.export_json_action,
            window.export_png_action,
            window.export_svg_action,
        ]
    )
    menu.addSeparator()
    menu.addAction(window.quit_action)


def _view_menu(window: MainWindow, menu) -> None:
    for dock in (window.stats_dock, window.layout_dock):
        menu.addAction(dock.toggleViewAction())
    window.view_menu = menu
    _arrangement_menu(window, menu)
    window.theme_menu = menu.addMenu("&Theme")  # the toolbar's toggle goes before it
    menu.insertAction(window.theme_menu.menuAction(), window.show_banner_action)
    window.theme_group = QActionGroup(window)
    for name in THEMES:
        item = window.theme_menu.addAction(name.capitalize())
        item.setCheckable(True)
        item.setData(name)
        item.setToolTip(f"Use the {name} colour palette")
        window.theme_group.addAction(item)
    window.theme_group.triggered.connect(window.theme_chosen)


def _arrangement_menu(window: MainWindow, menu) -> None:
    """Arrangements, as Qt Creator's modes: which docks show, and where."""
    menu.addSeparator()
    arrangements = menu.addMenu("&Arrangement")
    arrangements.setToolTipsVisible(True)
    window.analysis_arrangement_action = action(
        window,
        "&Analysis",
        partial(arrange, window, Arrangement.ANALYSIS),
        "Ctrl+Alt+1",
        "The statistics beside the charts and the pool layout under them",
    )
    window.capture_arrangement_action = action(
        window,
        "&Capture",
        partial(arrange, window, Arrangement.CAPTURE),
        "Ctrl+Alt+2",
        "The capture form and the statistics beside the charts",
    )
    arrangements.addActions([window.analysis_arrangement_action, window.capture_arrangement_action])
    window.reset_layout_action = action(
        window,
        "&Reset layout",
        partial(arrange, window, Arrangement.ANALYSIS),
        tip="Put every panel back where it starts (the Analysis arrangement), sized to its content",
    )
    menu.addAction(window.reset_layout_action)
    menu.addSeparator()


def add_dock_toggles(window: MainWindow) -> None:
    """The toolbar's and the on-demand docks' toggles, before "Show problems"."""
    for toggle in (
        window.toolbar.toggleViewAction(),
        window.capture_dock.toggleViewAction(),
        window.traceset_dock.toggleViewAction(),
        window.validate_dock.toggleViewAction(),
    ):
        window.view_menu.insertAction(window.show_banner_action, toggle)
