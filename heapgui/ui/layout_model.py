"""The pools of a layout as a Qt table: block, capacity, bytes and the traced sizes served."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication, QPalette

from heapgui.layout.generate import Layout
from heapgui.layout.pools import Pool, align
from heapgui.ui.headers import header_text

logger = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

BLOCK, CAPACITY, BYTES, SIZES = range(4)
HEADERS = ("Block", "Capacity", "Bytes", "Traced sizes")
HEADER_TIPS = (
    "Bytes in each block of the pool",
    "Number of blocks in the pool",
    "Block × capacity: the heap bytes the pool takes",
    "Allocation sizes from the trace that this pool serves (sizes are word-aligned first)",
)
VALUE_ROLE = Qt.ItemDataRole.UserRole
"""The raw value of a cell: an int, or the list of traced sizes."""


def traced_sizes_per_pool(layout: Layout, traced_sizes: Sequence[int]) -> list[list[int]]:
    """The trace's own sizes grouped by the pool serving them.

    The optimizer works on word-aligned sizes, but the user knows the sizes
    from the statistics table (a 2-byte allocation is served as 4 bytes).
    """
    pool_of = {size: i for i, sizes in enumerate(layout.sizes_served()) for size in sizes}
    served: list[list[int]] = [[] for _ in layout.pools]
    for size in sorted(traced_sizes):
        pool = pool_of.get(align(size))
        if pool is not None:
            served[pool].append(size)
    return served


class PoolTableModel(QAbstractTableModel):
    """A thin adapter over one `Layout`; replacing it resizes by row inserts and removals."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._layout: Layout | None = None
        self._rows: list[tuple[Pool, list[int]]] = []  # each pool with the traced sizes it serves

    @property
    def layout(self) -> Layout | None:
        return self._layout

    def set_layout(self, layout: Layout | None, traced_sizes: Sequence[int] = ()) -> None:
        """Show `layout` (None: no rows); `traced_sizes` are the sizes seen in the trace."""
        rows = (
            list(zip(layout.pools, traced_sizes_per_pool(layout, traced_sizes), strict=True))
            if layout is not None
            else []
        )
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
        pool, served = self._rows[row]
        value: int | list[int] = (pool.block, pool.capacity, pool.bytes, served)[column]
        if role == VALUE_ROLE:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(value, list):
                return ", ".join(map(str, value)) if value else "—"
            return f"{value:,}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align_flag = Qt.AlignmentFlag
            horizontal = align_flag.AlignLeft if column == SIZES else align_flag.AlignRight
            return int(horizontal | align_flag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(pool, served, column)
        if role == Qt.ItemDataRole.ForegroundRole and pool.capacity == 0:
            # Disabled text comes from the palette, so dark themes keep working.
            return QGuiApplication.palette().brush(
                QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
            )
        return None

    @staticmethod
    def _tooltip(pool: Pool, served: list[int], column: int) -> str:
        if pool.capacity == 0:
            return "Capacity 0: this pool is left out when the layout is written"
        if column == SIZES:
            if not served:
                return "No traced size: this pool comes from drone's starter layout"
            return f"Serves allocations of {', '.join(map(str, served))} bytes"
        return f"{pool.capacity:,} blocks of {pool.block:,} bytes = {pool.bytes:,} bytes"

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
