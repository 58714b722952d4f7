"""What a replay did with each pool, as a Qt table: capacity against peak, overflow."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication

from heapgui.layout.pool_replay import Replay
from heapgui.sizes import format_bytes, format_count
from heapgui.ui.charts import failure_colour
from heapgui.ui.headers import header_text
from heapgui.ui.theme import series_colour

logger = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

BLOCK, CAPACITY, PEAK, USE, AT_RECORD, OVERFLOW = range(6)
HEADERS = ("Block", "Capacity", "Peak", "Use", "At record", "Overflow in")
HEADER_TIPS = (
    "Bytes in each block of the pool",
    "Blocks in the pool",
    "Most blocks of the pool in use at once during the replay",
    "Peak as a share of the capacity: 100% means the pool ran full",
    "First record at which the pool reached its peak",
    "Allocations the pool took because the pool that fits them best was full",
)
VALUE_ROLE = Qt.ItemDataRole.UserRole
"""The cell's number (the use as a fraction), for sorting and tests."""


@dataclass(frozen=True)
class PoolUse:
    block: int
    capacity: int
    peak: int
    record: int  # -1 when the pool was never used
    overflow: int

    @property
    def use(self) -> float:
        return self.peak / self.capacity if self.capacity else 0.0

    @property
    def full(self) -> bool:
        return self.capacity > 0 and self.peak >= self.capacity


def pool_uses(result: Replay) -> list[PoolUse]:
    return [
        PoolUse(
            pool.block,
            pool.capacity,
            int(result.pool_peak[k]),
            int(result.pool_peak_record[k]),
            int(result.pool_overflow[k]),
        )
        for k, pool in enumerate(result.pools)
    ]


class PoolUseModel(QAbstractTableModel):
    """One row per pool of the validated layout, in its order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PoolUse] = []

    def set_result(self, result: Replay | None) -> None:
        """Show another replay's pools (None: none); a new layout shares nothing with the old."""
        self.beginResetModel()
        self._rows = pool_uses(result) if result is not None else []
        self.endResetModel()

    def rows(self) -> list[PoolUse]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.checkIndex(index, QAbstractTableModel.CheckIndexOption.IndexIsValid):
            return None
        row = self._rows[index.row()]
        column = index.column()
        value = (row.block, row.capacity, row.peak, row.use, row.record, row.overflow)[column]
        if role == VALUE_ROLE:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            if column == BLOCK:
                return format_count(row.block)
            if column == USE:
                return f"{row.use * 100:.0f}%" if row.capacity else "—"
            if column == AT_RECORD:
                return format_count(row.record) if row.record >= 0 else "—"
            return format_count(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and column == BLOCK and row.capacity:
            # The occupancy chart draws the pools with capacity in order: the same colour
            # here makes the table its legend.
            drawn = sum(1 for r in self._rows[: index.row()] if r.capacity)
            return series_colour(drawn, QGuiApplication.palette())
        if role == Qt.ItemDataRole.ForegroundRole and row.full and column in (PEAK, USE):
            return failure_colour(QGuiApplication.palette())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        return None

    @staticmethod
    def _tooltip(row: PoolUse) -> str:
        if row.capacity == 0:
            return "Capacity 0: this pool serves nothing"
        full = " It ran full." if row.full else ""
        return (
            f"{format_count(row.peak)} of {format_count(row.capacity)} blocks of "
            f"{format_bytes(row.block)} in use at the peak.{full}"
        )

    def headerData(  # noqa: N802 - Qt's signature
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        return header_text(role, HEADERS[section], HEADER_TIPS[section])
