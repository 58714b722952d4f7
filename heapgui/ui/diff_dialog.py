"""The confirmation shown before a layout is written: the change as a unified diff."""

from __future__ import annotations

import logging

from PySide6.QtGui import QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)


class DiffDialog(QDialog):
    """Summary on top, the diff below in a monospace font; Write or Cancel."""

    def __init__(self, title: str, summary: str, diff: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.resize(720, 480)
        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Summary of the change")
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.diff.setPlainText(diff or "(no change)")
        self.diff.setAccessibleName("Unified diff of the configuration file")
        self.diff.setToolTip("Lines starting with - are removed, lines starting with + are added")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.write_button = buttons.addButton("&Write", QDialogButtonBox.ButtonRole.AcceptRole)
        self.write_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.write_button.setToolTip(
            "Write the new section (Ctrl+Enter); the old file is kept as a .bak"
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(self.diff, 1)
        box.addWidget(buttons)
        # Reading the diff comes first; a stray Enter must not write the file.
        self.diff.setFocus()
