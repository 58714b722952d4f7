"""The Help menu's own items: the application icon, the User Guide window, the log folder.

Opening a folder or URL goes through `open_url`, so tests replace it and no
file manager starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QTextBrowser, QWidget

from heapgui.capture.targets import DEFAULT_TARGET
from heapgui.logs import current_log_file, log_directory
from heapgui.resources import GUIDE, ICON

logger = logging.getLogger(__name__)

GUIDE_SIZE = (900, 800)
ABOUT_ICON_SIZE = 96


def app_icon() -> QIcon:
    """heapgui's icon, drawn from its SVG at every size the platform asks for."""
    return QIcon(str(ICON))


def about_box(parent: QWidget, versions: dict[str, str]) -> QMessageBox:
    """The About box: the icon, what heapgui is, and the versions of everything it runs on."""
    rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in versions.items())
    box = QMessageBox(parent)
    box.setWindowTitle("About heapgui")
    box.setIconPixmap(app_icon().pixmap(ABOUT_ICON_SIZE))
    box.setText(
        "<p><b>heapgui</b>: heap traces of Drone OS firmware, their statistics and the "
        f"best pool layout.</p><table>{rows}</table>"
    )
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box


def open_url(url: QUrl) -> bool:
    """Hand a URL or a local folder to the desktop (browser, file manager)."""
    return QDesktopServices.openUrl(url)


def current_log_directory() -> Path:
    """The folder of the log file this process writes, else where it would be."""
    path = current_log_file()
    return path.parent if path is not None else log_directory()


def open_log_folder(directory: Path | None = None) -> bool:
    directory = current_log_directory() if directory is None else directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        logger.warning("cannot create the log folder %s: %s", directory, exc.strerror)
    return open_url(QUrl.fromLocalFile(str(directory)))


class GuideWindow(QMainWindow):
    """The bundled HTML guide in a browser pane; links to the web open in the real browser."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("heapgui User Guide")
        self.setObjectName("user_guide")
        self.browser = QTextBrowser(self)
        self.browser.setAccessibleName("User Guide")
        self.browser.setOpenExternalLinks(True)
        self.browser.setSource(QUrl.fromLocalFile(str(GUIDE)))
        self.setCentralWidget(self.browser)
        self.resize(*GUIDE_SIZE)


def show_user_guide(window: QMainWindow) -> GuideWindow:
    """One guide window per main window, raised when it exists already."""
    guide = window.findChild(GuideWindow, "user_guide")
    if guide is None:
        guide = GuideWindow(window)
    guide.show()
    guide.raise_()
    guide.activateWindow()
    return guide


def _pack_part(target: str) -> str:
    return "" if target.strip().lower() in ("", DEFAULT_TARGET) else target.strip()


def add_help_actions(
    window: QMainWindow, menu: QMenu, chosen_target: Callable[[], str] = lambda: ""
) -> list[QAction]:
    """User Guide (F1), Open Log Folder and Install Target Pack…, in that order.

    `chosen_target` gives the target type picked for capturing, which the pack
    dialog starts with (the generic cortex_m has no pack and starts it empty).
    """
    from heapgui.ui.packs import show_pack_dialog

    guide = QAction("&User Guide", window)
    guide.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
    guide.setStatusTip("Read the guide: from heaptrace firmware to Drone.toml")
    guide.triggered.connect(lambda: show_user_guide(window))
    logs = QAction("Open &Log Folder", window)
    logs.setStatusTip("Show the folder with heapgui's log files")
    logs.triggered.connect(lambda: open_log_folder())
    packs = QAction("Install Target &Pack…", window)
    packs.setStatusTip("Download the CMSIS pack of a target part for pyOCD")
    packs.triggered.connect(lambda: show_pack_dialog(window, _pack_part(chosen_target())))
    actions = [guide, logs, packs]
    for action in actions:
        action.setToolTip(action.statusTip())
        menu.addAction(action)
    menu.addSeparator()
    return actions
