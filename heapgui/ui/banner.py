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

from heapgui.sizes import format_size
from heapgui.workspace import HeapSize, HeapSource

ICON_SIZE = 20


class ProblemBanner(QFrame):
    """Hidden while there is nothing to say; the tooltip colours set it apart in any palette."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.setAccessibleName("Trace problems")

        icon = QLabel(self)
        icon.setPixmap(
            self.style()
            .standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            .pixmap(ICON_SIZE, ICON_SIZE)
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.label.setAccessibleName("Trace problem explanation")
        close = QToolButton(self)
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DialogCloseButton))
        close.setAutoRaise(True)
        close.setToolTip("Hide this message (the status bar still counts the problems)")
        close.setAccessibleName("Dismiss problems banner")
        close.clicked.connect(self.dismiss)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 4, 6)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

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


class HeapGuessNotice(QFrame):
    """Says once, without a dialog, that the heap size is a guess, and offers to set it.

    Every percentage and verdict divides by the heap size, so a guess must not
    pass unnoticed; asking in a modal dialog at every open would be worse.
    """

    set_requested = Signal()
    """The user wants to type the real size (the window focuses the field for it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("heapGuessNotice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.setAccessibleName("Heap size notice")
        self._asked = False  # said for what is open: once is enough
        icon = QLabel(self)
        icon.setPixmap(
            self.style()
            .standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
            .pixmap(ICON_SIZE, ICON_SIZE)
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.label.setAccessibleName("Heap size guessed")
        self.set_button = QPushButton("&Set heap size…", self)
        self.set_button.setToolTip("Type the real heap size in the layout panel")
        self.set_button.setAccessibleName("Set heap size")
        self.set_button.clicked.connect(self.set_requested)
        close = QToolButton(self)
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DialogCloseButton))
        close.setAutoRaise(True)
        close.setToolTip("Keep the guess (the status bar still says it is one)")
        close.setAccessibleName("Dismiss heap size notice")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.set_button)
        layout.addWidget(close)
        self.hide()

    def forget(self) -> None:
        """Something else is open: its heap, if guessed, is said again."""
        self._asked = False

    def offer(self, heap: HeapSize | None) -> None:
        """A guessed heap is said once per opened trace or capture; any other size ends it."""
        if heap is None or heap.source is not HeapSource.GUESSED:
            self.hide()
        elif not self._asked:
            self._asked = True
            self._show_guess(heap)

    def _show_guess(self, heap: HeapSize) -> None:
        self.label.setText(
            f"Heap size guessed: {format_size(heap.size)}. No config names it, so "
            "percentages and verdicts use the next power of two above drone's bound."
        )
        self.show()
