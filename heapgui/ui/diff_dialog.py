"""The confirmation shown before a layout is written: the change as a coloured unified diff."""

from __future__ import annotations

import logging

from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QKeySequence,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from heapgui.ui.theme import GREEN_TINT, RED_TINT

logger = logging.getLogger(__name__)

# Translucent backgrounds and a mid blue read on the light and the dark theme alike.
HUNK = QColor(56, 139, 253)


class DiffHighlighter(QSyntaxHighlighter):
    """Removed lines on red, added lines on green, hunk headers in blue, as git shows them."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.removed, self.added, self.hunk = (
            QTextCharFormat(),
            QTextCharFormat(),
            QTextCharFormat(),
        )
        self.removed.setBackground(RED_TINT)
        self.added.setBackground(GREEN_TINT)
        self.hunk.setForeground(HUNK)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        # The file-name lines (--- and +++) are headers, not changes.
        if text.startswith(("---", "+++")):
            return
        style = {"-": self.removed, "+": self.added, "@": self.hunk}.get(text[:1])
        if style is not None:
            self.setFormat(0, len(text), style)


class DiffDialog(QDialog):
    """Summary on top, the diff below in a monospace font; Write or Cancel.

    A file that already holds the layout offers only Close: there is nothing to write.
    """

    def __init__(self, title: str, summary: str, diff: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.resize(720, 480)
        self.summary = QLabel(summary if diff else f"{summary}\nThe file already holds this.")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Summary of the change")
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # Before the text: a highlighter set on a filled document colours it only later.
        self.highlighter = DiffHighlighter(self.diff.document())
        self.diff.setPlainText(diff or "(no change)")
        self.diff.setAccessibleName("Unified diff of the configuration file")
        self.diff.setToolTip("Lines starting with - are removed, lines starting with + are added")
        self.write_button: QPushButton | None = None
        if diff:
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
            self.write_button = buttons.addButton("&Write", QDialogButtonBox.ButtonRole.AcceptRole)
            self.write_button.setShortcut(QKeySequence("Ctrl+Return"))
            self.write_button.setToolTip(
                "Write the new section (Ctrl+Enter); the old file is kept as a .bak"
            )
        else:
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(self.diff, 1)
        box.addWidget(buttons)
        # Reading the diff comes first; a stray Enter must not write the file.
        self.diff.setFocus()
