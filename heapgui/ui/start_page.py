"""What the window shows before anything is open: the ways to start, not an empty plot.

Open a trace or a set, drop one, pick a recent file, or try the demo capture
from the simulated board. Every choice is a signal: the window runs it the same
way as its menu, so the start page adds no second code path.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from heapgui.capture.session import STREAM, SWO
from heapgui.ui.settings import recent_files
from heapgui.workspace import Workspace

if TYPE_CHECKING:
    from heapgui.ui.main_window import MainWindow

PAGE_WIDTH = 560
"""The column the page's text and buttons sit in, centred in the window."""
DEMOS = {
    SWO: (
        "Demo: &SWO",
        "Capture from a simulated board over SWO (ITM port 31), as drone 0.12-0.14 does",
    ),
    STREAM: (
        "Demo: Drone S&tream",
        "Capture from a simulated board over Drone Stream, as drone master",
    ),
}


def _button(text: str, tip: str, parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setToolTip(tip)
    button.setAccessibleName(text.replace("&", "").rstrip("…"))
    button.setAccessibleDescription(tip)
    return button


class StartPage(QWidget):
    open_requested = Signal()
    open_set_requested = Signal()
    recent_chosen = Signal(str)
    demo_requested = Signal(str)
    """The transport of the demo capture to start: swo or stream."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Start page")
        self.setObjectName("startPage")

        title = QLabel("heapgui", self)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            "Heap traces of Drone OS firmware: the statistics drone heap prints, the heap "
            "in use over time, and a pool layout that holds.",
            self,
        )
        intro.setWordWrap(True)

        self.open_button = _button(
            "&Open a trace…", "Open a heaptrace file or a raw SWO capture (.swo)", self
        )
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_requested)
        self.open_set_button = _button(
            "Open a trace &set…",
            "Open several captures of one firmware: compared, laid out and validated together",
            self,
        )
        self.open_set_button.clicked.connect(self.open_set_requested)
        opening = QHBoxLayout()
        opening.addWidget(self.open_button)
        opening.addWidget(self.open_set_button)
        opening.addStretch(1)
        drop = QLabel("…or drop trace files anywhere on this window.", self)

        recent_box = QGroupBox("Recent files", self)
        self.recent_list = QListWidget(recent_box)
        self.recent_list.setAccessibleName("Recent files")
        self.recent_list.setToolTip("Enter or double-click opens the file")
        self.recent_list.itemActivated.connect(
            lambda item: self.recent_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.no_recent = QLabel("None yet: the files you open are listed here.", recent_box)
        recent_column = QVBoxLayout(recent_box)
        recent_column.addWidget(self.recent_list)
        recent_column.addWidget(self.no_recent)

        demo_box = QGroupBox("No trace at hand? Try a demo capture (no hardware needed)", self)
        demos = QHBoxLayout(demo_box)
        self.demo_buttons: dict[str, QPushButton] = {}
        for transport, (text, tip) in DEMOS.items():
            button = _button(text, tip, demo_box)
            button.clicked.connect(lambda _=False, t=transport: self.demo_requested.emit(t))
            demos.addWidget(button)
            self.demo_buttons[transport] = button
        demos.addStretch(1)

        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(intro)
        column.addSpacing(12)
        column.addLayout(opening)
        column.addWidget(drop)
        column.addSpacing(12)
        column.addWidget(recent_box, 1)
        column.addWidget(demo_box)
        holder = QWidget(self)
        holder.setLayout(column)
        holder.setMaximumWidth(PAGE_WIDTH)
        outer = QHBoxLayout(self)
        outer.addWidget(holder, 0, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setFocusProxy(self.open_button)
        self.refresh_recent()

    def refresh_recent(self) -> None:
        """List the recent files again (the window calls it whenever the page shows)."""
        self.recent_list.clear()
        names = recent_files()
        for name in names:
            item = QListWidgetItem(f"{Path(name).name}  —  {Path(name).parent}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(name)
            self.recent_list.addItem(item)
        if names:
            self.recent_list.setCurrentRow(0)
        self.recent_list.setVisible(bool(names))
        self.no_recent.setVisible(not names)


class WindowPages(QStackedWidget):
    """The charts once there is something to chart (a trace, a capture); else the start page."""

    def __init__(
        self, start: StartPage, charts: QWidget, workspace: Workspace, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._start, self._charts, self._workspace = start, charts, workspace
        self.addWidget(start)
        self.addWidget(charts)
        workspace.traces_changed.connect(self._follow)
        workspace.capture_changed.connect(lambda live: self._follow())

    def _follow(self) -> None:
        ws = self._workspace
        charting = ws.traces is not None or ws.live is not None
        self.setCurrentWidget(self._charts if charting else self._start)
        if not charting:
            self._start.refresh_recent()


def follow_start_page(window: MainWindow) -> None:
    """The start page's choices run as the menus' do."""
    page = window.start_page
    page.open_requested.connect(window.opener.choose_file)
    page.open_set_requested.connect(window.opener.choose_trace_set)
    page.recent_chosen.connect(window.open_file)
    page.demo_requested.connect(partial(try_demo, window))


def try_demo(window: MainWindow, transport: str) -> None:
    """As `heapgui --demo TRANSPORT`: the simulated board, into the demo folder."""
    from heapgui.ui.app import demo_directory  # app imports the window, which imports this

    window.capture_panel.form.select_transport(transport)
    window.start_demo(demo_directory())
