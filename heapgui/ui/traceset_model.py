"""The statistics of several captures side by side: each size's max load in every trace.

A thin adapter over `TraceSet`: the per-trace columns are the core statistics'
max loads and the last column is `size_difference` between two chosen
captures, so the model computes nothing of its own.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from heapgui.sizes import format_bytes, format_count
from heapgui.trace.traceset import TraceSet, size_difference
from heapgui.ui.headers import header_text
from heapgui.ui.stats_model import SIZE_ROLE, SORT_ROLE
from heapgui.ui.theme import GREEN_TINT, RED_TINT

logger = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

SIZE_COLUMN = 0
DELTA_COLUMN = 1
"""Next to the sizes, so the comparison stays in sight however many traces follow."""
FIRST_TRACE_COLUMN = 2


class TraceSetModel(QAbstractTableModel):
    """Rows: every block size of any trace. Columns: size, Δ (B − A), one max load per trace."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._traces = TraceSet([], [])
        self._sizes: list[int] = []
        self._loads: list[dict[int, int]] = []
        self._compared = (0, 0)
        self._delta: dict[int, int] = {}

    # -- updates ----------------------------------------------------------------

    def set_traces(self, traces: TraceSet | None) -> None:
        """Show another set (a reset); the first two traces are compared."""
        self.beginResetModel()
        self._traces = traces if traces is not None else TraceSet([], [])
        self._loads = [{r.size: r.max_load for r in t.stats.rows()} for t in self._traces.traces]
        self._sizes = sorted(set().union(*self._loads)) if self._loads else []
        self._compared = (0, min(1, len(self._traces) - 1)) if len(self._traces) else (0, 0)
        self._delta = self._differences()
        self.endResetModel()

    def set_compared(self, a: int, b: int) -> None:
        """Compare trace b against trace a in the last column (b − a)."""
        if not (0 <= a < len(self._traces) and 0 <= b < len(self._traces)):
            raise IndexError(f"no traces {a} and {b} in a set of {len(self._traces)}")
        if (a, b) == self._compared:
            return
        self._compared = (a, b)
        self._delta = self._differences()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, DELTA_COLUMN, DELTA_COLUMN)
        if self._sizes:
            self.dataChanged.emit(
                self.index(0, DELTA_COLUMN), self.index(len(self._sizes) - 1, DELTA_COLUMN)
            )

    def compared(self) -> tuple[int, int]:
        return self._compared

    def traces(self) -> TraceSet:
        return self._traces

    def _differences(self) -> dict[int, int]:
        if not len(self._traces):
            return {}
        a, b = (self._traces.traces[k].stats for k in self._compared)
        return {d.size: d.delta for d in size_difference(a, b)}

    # -- Qt model interface --------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._sizes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        if parent.isValid() or not len(self._traces):
            return 0
        return FIRST_TRACE_COLUMN + len(self._traces)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.checkIndex(index, QAbstractTableModel.CheckIndexOption.IndexIsValid):
            return None
        size = self._sizes[index.row()]
        column = index.column()
        if role == SIZE_ROLE:
            return size
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if column == SIZE_COLUMN:
            return self._size_data(size, role)
        if column == DELTA_COLUMN:
            return self._delta_data(size, role)
        return self._load_data(size, column - FIRST_TRACE_COLUMN, role)

    def _size_data(self, size: int, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return format_count(size)
        if role == SORT_ROLE:
            return size
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Allocations of {format_bytes(size)}"
        return None

    def _load_data(self, size: int, trace: int, role: int) -> object:
        load = self._loads[trace].get(size)
        if role == Qt.ItemDataRole.DisplayRole:
            return format_count(load) if load is not None else "—"
        if role == SORT_ROLE:
            return load or 0
        if role == Qt.ItemDataRole.ToolTipRole:
            name = self._traces.names[trace]
            if load is None:
                return f"{name} allocates no block of {format_bytes(size)}"
            return (
                f"{name}: at most {format_count(load)} blocks of {format_bytes(size)} alive at once"
            )
        return None

    def _delta_data(self, size: int, role: int) -> object:
        delta = self._delta.get(size, 0)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{delta:+,}" if delta else "0"
        if role == SORT_ROLE:
            return delta
        if role == Qt.ItemDataRole.ToolTipRole:
            a, b = (self._traces.names[k] for k in self._compared)
            return f"Max load of {format_bytes(size)} blocks in {b} minus that in {a}"
        if role == Qt.ItemDataRole.BackgroundRole and delta:
            return RED_TINT if delta > 0 else GREEN_TINT  # B needs more blocks, or fewer
        return None

    def headerData(  # noqa: N802 - Qt's signature
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.columnCount():
            return None
        names = self._traces.names
        if section == SIZE_COLUMN:
            title, tip = "Request Size", "Bytes requested per allocation (drone's Block Size)"
        elif section == DELTA_COLUMN:
            a, b = (names[k] for k in self._compared)
            title = "B − A"
            tip = f"Max load in {b} (B) minus max load in {a} (A), per size"
        else:
            trace = section - FIRST_TRACE_COLUMN
            title = _short(names[trace])
            tip = f"Max load in {self._traces.traces[trace].source}: most blocks alive at once"
        return header_text(role, title, tip)


SHORT_NAME = 16
"""Characters of a trace's name in a column header; the tooltip has it whole."""


def _short(name: str) -> str:
    return name if len(name) <= SHORT_NAME else name[: SHORT_NAME - 1] + "…"
