"""The layout panel's results: the pool table (or why there is none), its figures, the TOML.

Left: the fragmentation and reserved bytes, the pool table with its edit bar,
or in its place the "no layout" page. Right: the heap section as it would be
written, with the Copy and Write buttons.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from heapgui.layout.config import DRONE_TOML, HeapConfig
from heapgui.layout.config_write import render_heap_section
from heapgui.layout.generate import Layout, LayoutDoesNotFit
from heapgui.report import bytes_of_heap
from heapgui.sizes import format_bytes
from heapgui.ui.layout_editing import EditBar
from heapgui.ui.layout_model import SIZES, PoolTableModel
from heapgui.ui.no_fit_page import NoFitPage
from heapgui.ui.pool_delegate import PoolDelegate
from heapgui.ui.pool_editor import PoolEditor

RESERVED_TIP = (
    "Bytes the pools need before the rest of the heap is spread over them, and their share "
    "of the heap"
)


def fragmentation_line(layout: Layout) -> str:
    """The panel's fragmentation with its share of the heap, e.g. "Fragmentation: 736 B (1.12%)"."""
    share = layout.fragmentation_percent()
    return f"Fragmentation: {format_bytes(layout.fragmentation)} ({share:.2f}%)"


def drone_fragmentation_line(layout: Layout) -> str:
    """drone's own line, e.g. "Fragmentation: 736 / 1.12%": the comment written into the
    config, where it reads as what `drone heap generate` writes."""
    return f"Fragmentation: {layout.fragmentation} / {layout.fragmentation_percent():.2f}%"


def heap_section(layout: Layout, heap_name: str, config: HeapConfig | None, traced: bool) -> str:
    """The layout as the `[heap]` section to write, with drone's fragmentation comment."""
    kind = config.kind if config is not None else "drone"
    # A Drone.toml with several heaps is the 0.14 shape, where main is [heap.main] too.
    named = config is not None and len(config.heaps) > 1
    text = render_heap_section(
        heap_name, layout.total_bytes, layout.pools, kind, "named" if named else "auto"
    )
    if traced and layout.fragmentation >= 0:
        text += f"# {drone_fragmentation_line(layout)}\n"
    return text


class LayoutResults(QSplitter):
    """The pool table and the TOML preview, side by side; both grow with the panel."""

    def __init__(self, editor: PoolEditor, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.fragmentation_label = QLabel()
        self.fragmentation_label.setAccessibleName("Fragmentation")
        self.fragmentation_label.setToolTip(
            "Bytes lost to blocks larger than the sizes they serve, at the traced peak loads, "
            "and their share of the heap"
        )
        font = self.fragmentation_label.font()
        font.setBold(True)
        self.fragmentation_label.setFont(font)
        self.reserved_label = QLabel()
        self.reserved_label.setAccessibleName("Reserved bytes")
        self.reserved_label.setToolTip(RESERVED_TIP)
        self._build_table(editor)
        self.edit_bar = EditBar(editor, self.table, self)
        self.no_fit = NoFitPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.no_fit)
        self._build_preview()

        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        figures = QHBoxLayout()
        figures.addWidget(self.fragmentation_label)
        figures.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        figures.addWidget(self.reserved_label, 1)
        figures.addWidget(self.edit_bar)  # on the figures' line: a row more for the pools
        left_box.addLayout(figures)
        left_box.addWidget(self.stack, 1)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.preview, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.write_button)
        right_box.addLayout(buttons)
        self.addWidget(left)
        self.addWidget(right)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)

    def name_config(self, path_name: str | None) -> None:
        """Say which file Write writes: the config read, else a new Drone.toml."""
        name = path_name or DRONE_TOML
        self.write_action.setText(f"&Write to {name}…")
        self.write_action.setToolTip(
            f"Show the change to {name} as a diff, then write it (Ctrl+Shift+W)"
        )

    def show_message(self, message: str) -> None:
        """Why there is no layout, in place of the table."""
        self.no_fit.show_message(message)
        self.stack.setCurrentWidget(self.no_fit)

    def show_no_fit(self, exc: LayoutDoesNotFit) -> None:
        """Why the layout does not fit, with the ways to make it fit, in place of the table."""
        self.no_fit.show_no_fit(exc)
        self.stack.setCurrentWidget(self.no_fit)

    def show_table(self) -> None:
        self.stack.setCurrentWidget(self.table)

    def show_layout(
        self,
        layout: Layout | None,
        text: str,
        optimum: Layout | None,
        traced: bool,
        pools_asked: int,
    ) -> None:
        """The figures and the TOML of `layout` (None: there is none); the table is set apart."""
        self.preview.setPlainText(text)
        self.copy_action.setEnabled(bool(text))
        self.write_action.setEnabled(layout is not None and bool(text))
        self.fragmentation_label.setText(_fragmentation_text(layout, optimum, traced, pools_asked))
        reserved = _reserved_text(layout, traced)
        self.reserved_label.setText(reserved)
        self.reserved_label.setVisible(bool(reserved))

    def _build_table(self, editor: PoolEditor) -> None:
        self.model = PoolTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Pools")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        triggers = QAbstractItemView.EditTrigger
        self.table.setEditTriggers(
            triggers.DoubleClicked | triggers.EditKeyPressed | triggers.AnyKeyPressed
        )
        self.model.editor = editor
        delegate = PoolDelegate(self.table)
        delegate.closeEditor.connect(editor.end_typing)
        self.table.setItemDelegate(delegate)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SIZES, QHeaderView.ResizeMode.Stretch)

    def _build_preview(self) -> None:
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setAccessibleName("TOML preview")
        self.preview.setToolTip("The heap section to put into Drone.toml")
        self.preview.setPlaceholderText("No layout: see the message on the left.")
        self.copy_action = QAction("&Copy section", self)
        # No shortcut here: the main window's Edit ▸ Copy layout (Ctrl+Shift+C) calls
        # copy_layout, and a second binding of the same keys would make both ambiguous.
        self.copy_action.setToolTip("Copy the heap section to the clipboard")
        self.write_action = QAction("&Write to Drone.toml…", self)
        self.write_action.setShortcut(QKeySequence("Ctrl+Shift+W"))
        # Scoped to the panel: writing a config file is only offered where the layout is shown.
        self.write_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        # Push buttons, not tool buttons: a tool button drops the "…" that says a dialog follows.
        self.copy_button = _button_for(self.copy_action)
        self.write_button = _button_for(self.write_action)


def _fragmentation_text(
    layout: Layout | None, optimum: Layout | None, traced: bool, pools_asked: int
) -> str:
    if layout is None:
        return "Fragmentation: —"
    if not traced:
        return "Fragmentation: — (no trace)"
    if layout.partition is None:
        assert optimum is not None
        if layout.fragmentation < 0:
            line = "Fragmentation: — (a traced size has no block)"
        else:
            line = fragmentation_line(layout)
        return f"{line}  (edited; the optimum: {format_bytes(optimum.fragmentation)})"
    used = len(layout.partition.pools)
    more = ""
    if used < pools_asked:
        # The timeline method may merge sizes whose peaks never coincide.
        more = (
            f"  (the trace has {used} sizes: {used} pools used)"
            if used == len(layout.demand)
            else f"  ({used} pools reserve the least)"
        )
    return fragmentation_line(layout) + more


def _reserved_text(layout: Layout | None, traced: bool) -> str:
    """The bytes an edited layout's pools take; "" otherwise: what an optimized layout
    needs is the form's headline, said once."""
    if layout is None or layout.partition is not None or not traced:
        return ""
    taken = layout.total_bytes
    over = taken - layout.heap_size
    beyond = f", {format_bytes(over)} more than the heap" if over > 0 else ""
    return f"Pools take {bytes_of_heap(taken, layout.heap_size)}{beyond}"


def _button_for(action: QAction) -> QPushButton:
    """A push button that triggers `action` and follows its text, tooltip and enabled state."""
    button = QPushButton()

    def follow() -> None:
        button.setText(action.text())
        button.setToolTip(action.toolTip())
        button.setEnabled(action.isEnabled())

    action.changed.connect(follow)
    button.clicked.connect(action.trigger)
    follow()
    return button
