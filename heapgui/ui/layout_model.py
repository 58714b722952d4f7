"""The pools of a layout as a Qt table: block, capacity, bytes, the traced sizes served, the lock.

Block and capacity are edited and the lock toggled in place; the model does
not change itself but hands each edit to its `editor` (heapgui.ui.pool_editor),
whose new layout comes back through `set_layout`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication, QPalette

from heapgui.layout.generate import Layout
from heapgui.layout.pools import Pool, align, first_fit
from heapgui.sizes import format_bytes, format_count
from heapgui.ui.headers import header_text
from heapgui.ui.theme import RED_TINT

if TYPE_CHECKING:
    from heapgui.ui.pool_editor import PoolEditor

logger = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

BLOCK, CAPACITY, NEEDED, SPARE, BYTES, SIZES, LOCKED = range(7)
HEADERS = ("Block", "Capacity", "Needed", "Spare", "Bytes", "Traced sizes", "Lock")
HEADER_TIPS = (
    "Bytes in each block of the pool (double-click to edit)",
    "Number of blocks in the pool (double-click to edit)",
    "Blocks the traced sizes this pool serves need, by the method's rule and before "
    "headroom: drone's sum of max loads, or the timeline method's simultaneous peak",
    "Capacity − needed: the headroom and the rest of the heap spread over the pools "
    "(negative: the pool is short; — when the need is not known)",
    "Block × capacity: the heap bytes the pool takes",
    "Allocation sizes from the trace that this pool serves (sizes are word-aligned first)",
    "A locked pool keeps its block, and at least its capacity, when the layout is optimized again",
)
VALUE_ROLE = Qt.ItemDataRole.UserRole
"""The raw value of a cell: an int, or the list of traced sizes."""


def traced_sizes_per_pool(layout: Layout, traced_sizes: Sequence[int]) -> list[list[int]]:
    """The trace's own sizes grouped by the pool first fit sends them to.

    The optimizer works on word-aligned sizes, but the user knows the sizes
    from the statistics table (a 2-byte allocation is served as 4 bytes).
    A pool of capacity 0 serves nothing; a size above every block, no pool.
    """
    sizes = sorted(traced_sizes)
    groups = first_fit(layout.pools, [align(size) for size in sizes])
    return [[sizes[i] for i in group] for group in groups]


class PoolTableModel(QAbstractTableModel):
    """A thin adapter over one `Layout`; replacing it resizes by row inserts and removals."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._layout: Layout | None = None
        self._rows: list[tuple[Pool, list[int], int | None]] = []
        """Each pool with the traced sizes it serves and the blocks they need (None: unknown)."""
        self._locked: frozenset[int] = frozenset()  # blocks of the locked pools
        self.editor: PoolEditor | None = None
        """Takes the edits; without one the table is read-only."""

    @property
    def layout(self) -> Layout | None:
        return self._layout

    def set_layout(
        self,
        layout: Layout | None,
        traced_sizes: Sequence[int] = (),
        locked: frozenset[int] = frozenset(),
        needs: Sequence[int | None] = (),
    ) -> None:
        """Show `layout` (None: no rows); `traced_sizes` are the sizes seen in the trace.

        `locked` are the blocks of the pools shown as locked; `needs` the blocks each pool
        needs (Planning.pool_needs), none known when it is empty.
        """
        self._locked = locked
        rows = []
        if layout is not None:
            served = traced_sizes_per_pool(layout, traced_sizes)
            known = list(needs) or [None] * len(layout.pools)
            rows = list(zip(layout.pools, served, known, strict=True))
        old, new = len(self._rows), len(rows)
        # Rows come and go at the end, and the rows that stay change in place
        # afterwards, so views keep their selection across spinner steps.
        if new < old:
            self.beginRemoveRows(QModelIndex(), new, old - 1)
            del self._rows[new:]
            self.endRemoveRows()
        elif new > old:
            self.beginInsertRows(QModelIndex(), old, new - 1)
            self._rows.extend(rows[old:])
            self.endInsertRows()
        self._layout = layout
        common = min(old, new)
        self._rows[:common] = rows[:common]
        if common:
            self.dataChanged.emit(self.index(0, 0), self.index(common - 1, len(HEADERS) - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row, column = index.row(), index.column()
        if not (index.isValid() and 0 <= row < len(self._rows) and 0 <= column < len(HEADERS)):
            return None
        pool, served, need = self._rows[row]
        if column == LOCKED:
            locked = pool.block in self._locked
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if locked else Qt.CheckState.Unchecked
            if role == VALUE_ROLE:
                return locked
            if role == Qt.ItemDataRole.ToolTipRole:
                return HEADER_TIPS[LOCKED]
            return None
        spare = None if need is None else pool.capacity - need
        value = (pool.block, pool.capacity, need, spare, pool.bytes, served)[column]
        if role == Qt.ItemDataRole.EditRole and column in (BLOCK, CAPACITY):
            return value
        if role == VALUE_ROLE:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(value, list):
                return ", ".join(map(format_count, value)) if value else "—"
            if value is None:
                return "—"
            return f"{value:+,}" if column == SPARE and value else format_count(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align_flag = Qt.AlignmentFlag
            horizontal = align_flag.AlignLeft if column == SIZES else align_flag.AlignRight
            return int(horizontal | align_flag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(pool, served, column)
        if role == Qt.ItemDataRole.BackgroundRole and column == SPARE and spare is not None:
            return RED_TINT if spare < 0 else None  # short of what the trace needs
        if role == Qt.ItemDataRole.ForegroundRole and pool.capacity == 0:
            # Disabled text comes from the palette, so dark themes keep working.
            return QGuiApplication.palette().brush(
                QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
            )
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if self.editor is None or not index.isValid():
            return flags
        if index.column() in (BLOCK, CAPACITY):
            return flags | Qt.ItemFlag.ItemIsEditable
        if index.column() == LOCKED:
            return flags | Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802 - Qt override
        """Hand the edit to the editor; the table changes when its layout comes back."""
        editor = self.editor
        if editor is None or not index.isValid():
            return False
        row, column = index.row(), index.column()
        if column == LOCKED and role == Qt.ItemDataRole.CheckStateRole:
            checked = Qt.CheckState(value) == Qt.CheckState.Checked
            return editor.set_locked(row, checked)
        if role != Qt.ItemDataRole.EditRole or not isinstance(value, int):
            return False
        if column == BLOCK:
            return editor.set_block(row, value)
        if column == CAPACITY:
            return editor.set_capacity(row, value)
        return False

    @staticmethod
    def _tooltip(pool: Pool, served: list[int], column: int) -> str:
        if pool.capacity == 0:
            return "Capacity 0: this pool is left out when the layout is written"
        if column == SIZES:
            if not served:
                return "No traced size: this pool comes from drone's starter layout"
            return f"Serves requests of {', '.join(map(format_bytes, served))}"
        return (
            f"{format_count(pool.capacity)} blocks of {format_bytes(pool.block)} = "
            f"{format_bytes(pool.bytes)}"
        )

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(HEADERS):
                return None
            return header_text(role, HEADERS[section], HEADER_TIPS[section])
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < self.rowCount():
            return str(section + 1)
        return None
