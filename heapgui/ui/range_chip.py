"""The "records A–B ✕" chip: says that the views cover a range, and clears it (or Esc)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from heapgui.sizes import format_count
from heapgui.workspace import Workspace
from heapgui.workspace.window import RecordRange, command_line_range


class RangeChip(QWidget):
    """Hidden until the workspace has a range; ✕ or Esc (anywhere in `window`) clears it."""

    def __init__(self, workspace: Workspace, window: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self._workspace = workspace
        self.label = QLabel(self)
        self.label.setAccessibleName("Record range")
        self.clear_button = QToolButton(self)
        self.clear_button.setText("✕")
        self.clear_button.setAutoRaise(True)
        self.clear_button.setToolTip("Show the whole trace again (Esc)")
        self.clear_button.setAccessibleName("Clear the record range")
        self.clear_button.clicked.connect(self.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.label)
        row.addWidget(self.clear_button)
        self.setStyleSheet(
            "RangeChip { border: 1px solid palette(highlight); border-radius: 9px; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        # Enabled only while there is a range: Esc also cancels a load (heapgui.ui.file_opening).
        self.shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
        self.shortcut.activated.connect(self.clear)
        workspace.range_changed.connect(self._show)
        workspace.shown_changed.connect(lambda _index: self._show(workspace.range))
        self._show(workspace.range)

    def clear(self) -> None:
        self._workspace.select_range(None)

    def _show(self, chosen: RecordRange | None) -> None:
        trace = self._workspace.trace
        shown = chosen is not None and trace is not None and trace.records is not None
        self.setVisible(shown)
        self.shortcut.setEnabled(shown)
        if not shown:
            return
        first, last = chosen
        self.label.setText(f"records {format_count(first)}–{format_count(last)}")
        self.setToolTip(
            f"The statistics table, the histogram and the layout's demand cover records "
            f"{first:,} to {last:,} (both included), starting with the blocks live at "
            f"{first:,}; heapgui-cli stats --range {command_line_range(chosen, trace.records)} "
            "prints the same table. ✕ or Esc shows the whole trace again."
        )
