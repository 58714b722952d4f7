"""Dismissible strips above the charts: a trace's problems in plain words, and a guessed
heap size."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QToolButton,
    QWidget,
)

from heapgui.sizes import format_bytes
from heapgui.workspace import HeapSize, HeapSource

ICON_SIZE = 20


class _Strip(QFrame):
    """A strip in the tooltip colours, which set it apart in any palette: an icon, the
    text, and a close button; hidden while there is nothing to say."""

    def __init__(self, name: str, icon: QStyle.StandardPixmap, close_tip: str, parent) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.setAccessibleName(name)
        self.icon = QLabel(self)
        self.icon.setPixmap(self.style().standardIcon(icon).pixmap(ICON_SIZE, ICON_SIZE))
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.close_button = QToolButton(self)
        self.close_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DialogCloseButton)
        )
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip(close_tip)
        self.close_button.setAccessibleName(f"Dismiss {name.lower()}")
        self.close_button.clicked.connect(self.hide)
        self.row = QHBoxLayout(self)
        self.hide()


class ProblemBanner(_Strip):
    """A trace's problems in plain words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Trace problems",
            QStyle.StandardPixmap.SP_MessageBoxWarning,
            "Hide this message (the status bar still counts the problems)",
            parent,
        )
        self.setObjectName("problemBanner")
        self.close_button.setAccessibleName("Dismiss problems banner")
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Trace problem explanation")
        self.row.setContentsMargins(8, 6, 4, 6)
        self.row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        self.row.addWidget(self.label, 1)
        self.row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)

    def set_hints(self, hints: list[str]) -> None:
        if not hints:
            self.label.clear()
            self.hide()
            return
        title = "This trace has a problem:" if len(hints) == 1 else "This trace has problems:"
        items = "".join(f"<li>{html.escape(hint)}</li>" for hint in hints)
        self.label.setText(f"<b>{title}</b><ul style='margin: 0'>{items}</ul>")
        self.setToolTip("\n".join(hints))
        self.show()

    def dismiss(self) -> None:
        self.hide()


class HeapGuessNotice(_Strip):
    """Says once, without a dialog, that the heap size is a guess, and offers to set it.

    Every percentage and verdict divides by the heap size, so a guess must not
    pass unnoticed; asking in a modal dialog at every open would be worse.
    """

    set_requested = Signal()
    """The user wants to type the real size (the window focuses the field for it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Heap size notice",
            QStyle.StandardPixmap.SP_MessageBoxInformation,
            "Keep the guess (the status bar still says it is one)",
            parent,
        )
        self.setObjectName("heapGuessNotice")
        self._asked = False  # said for what is open: once is enough
        self.label.setAccessibleName("Heap size guessed")
        self.set_button = QPushButton("&Set heap size…", self)
        self.set_button.setToolTip("Type the real heap size in the layout panel")
        self.set_button.setAccessibleName("Set heap size")
        self.set_button.clicked.connect(self.set_requested)
        self.row.setContentsMargins(8, 4, 4, 4)
        self.row.addWidget(self.icon)
        self.row.addWidget(self.label, 1)
        self.row.addWidget(self.set_button)
        self.row.addWidget(self.close_button)

    def forget(self) -> None:
        """Something else is open: its heap, if guessed, is said again."""
        self._asked = False

    def offer(self, heap: HeapSize | None) -> None:
        """A guessed heap is said once per opened trace or capture; any other size ends it."""
        if heap is None or heap.source is not HeapSource.GUESSED:
            self.hide()
        elif not self._asked:
            self._asked = True
            self._say(heap)
            self.show()
        elif not self.isHidden():
            self._say(heap)  # a guess that grew: the notice on screen must not name the old one

    def _say(self, heap: HeapSize) -> None:
        # One line where it can: the notice's height is the charts'. The tooltip says how.
        self.label.setText(
            f"Heap size guessed: {format_bytes(heap.size)}. No config names it; verdicts use "
            "the guess."
        )
        self.label.setToolTip(
            "The next power of two above drone's bound (the sum of each size's bytes at its "
            "max load). Percentages of the heap and every verdict use it until you set the "
            "real size or choose a config."
        )
