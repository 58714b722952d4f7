"""The firmware's own output during a capture: ITM port 0 (stdout) and port 1 (stderr).

Control characters and the like are shown escaped (`heapgui.logs.visible`):
the firmware's text never changes the console's formatting. Text is shown by
whole lines, so the two ports never break into each other's
lines; a port's unfinished line waits for its end (or for `flush`). A
firmware that floods its log cannot stall the window: the console keeps
`MAX_LINES` lines and takes at most `MAX_CHARS` characters a port per call.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent
from PySide6.QtGui import QFontDatabase, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from heapgui.logs import visible

logger = logging.getLogger(__name__)

MAX_LINES = 5000
MAX_CHARS = 20_000
PORTS = (0, 1)


class LogConsole(QPlainTextEdit):
    """Read-only, monospace; port 1 in the palette's visited-link colour to set it apart."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setMaximumBlockCount(MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("The firmware's log (ITM ports 0 and 1) appears here.")
        self.setAccessibleName("Target log")
        self.setToolTip(
            f"Text the firmware writes to ITM port 0 (stdout) and, in another colour, port 1 "
            f"(stderr); the last {MAX_LINES:,} lines are kept"
        )
        self._partial = {port: "" for port in PORTS}
        self._started = False  # the first line goes into the document's empty first block
        self._formats: dict[int, QTextCharFormat] = {}
        self._apply_palette()

    def append_text(self, text: dict[int, str]) -> None:
        """New text per port; complete lines are shown, the rest waits for its line end."""
        for port in PORTS:
            part = text.get(port)
            if not part:
                continue
            if len(part) > MAX_CHARS:
                skipped = len(part) - MAX_CHARS
                self._partial[port] = ""
                part = f"… {skipped:,} characters skipped …\n{part[-MAX_CHARS:]}"
            part = visible(part)  # after the cut, so a flood is cut before it grows
            lines, newline, rest = (self._partial[port] + part).rpartition("\n")
            self._partial[port] = rest
            if newline:
                self._write(port, lines)

    def flush(self) -> None:
        """Show the unfinished lines too (the capture has ended)."""
        for port in PORTS:
            if self._partial[port]:
                self._write(port, self._partial[port])
                self._partial[port] = ""

    def clear_log(self) -> None:
        self.clear()
        self._partial = {port: "" for port in PORTS}
        self._started = False

    def port_text(self, port: int) -> str:
        """Everything shown from `port`, for tests and copy actions."""
        lines = []
        block = self.document().begin()
        while block.isValid():
            if block.userState() == port:
                lines.append(block.text())
            block = block.next()
        return "\n".join(lines)

    def _write(self, port: int, lines: str) -> None:
        bar = self.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 2
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        for line in lines.split("\n"):
            if self._started:
                cursor.insertBlock()
            self._started = True
            cursor.insertText(line, self._formats[port])
            cursor.block().setUserState(port)  # the port a line came from, for port_text
        if following:
            bar.setValue(bar.maximum())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        roles = (QPalette.ColorRole.Text, QPalette.ColorRole.LinkVisited)
        for port, role in zip(PORTS, roles, strict=True):
            text_format = QTextCharFormat()
            text_format.setForeground(palette.color(role))
            self._formats[port] = text_format
