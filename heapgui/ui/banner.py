"""A dismissible strip above the charts that explains a trace's problems in plain words."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QStyle,
    QToolButton,
    QWidget,
)

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
