"""The statistics table: a thin Qt adapter over the core `Statistics` rows.

The model never recomputes a number: every cell is a field of a core
`SizeRow`, or its share of the heap size the workspace holds. Live capture calls `update_from` with
the grown statistics; new sizes are inserted in place and only the rows that
changed are reported, so views keep their selection and scroll position.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from heapgui.errors import HeapguiError
from heapgui.sizes import format_bytes, format_count, parse_size
from heapgui.trace.stats import SizeRow, Statistics, percent_of_heap
from heapgui.trace.window import WindowStatistics
from heapgui.ui.headers import header_text

logger = logging.getLogger(__name__)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""The cell's number, for numeric sorting and filtering."""
SIZE_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's block size, in any column: selections map back to sizes with it."""

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    title: str
    tooltip: str
    value: Callable[[SizeRow, int | None], float]
    """The cell's number from the row and the workspace's heap size."""
    text: Callable[[float], str]
    range_tooltip: str = ""
    """The tooltip when the table shows a record range, if it says something else there."""


def _count(value: float) -> str:
    return format_count(int(value))


COLUMNS = (
    Column(
        "Request Size",
        "Bytes the firmware asked for per allocation (drone's Block Size; a pool's block "
        "may be larger)",
        lambda r, heap: r.size,
        _count,
    ),
    Column(
        "Max Load",
        "Most blocks of this size alive at the same time (drone's Max Load)",
        lambda r, heap: r.max_load,
        _count,
        "Most blocks of this size alive at the same time within the record range, counting "
        "those live at its start",
    ),
    Column(
        "Total Allocations",
        "Allocations of this size over the whole trace",
        lambda r, heap: r.total,
        _count,
        "Allocations of this size made within the record range (a grow or shrink counts "
        "as one of its new size)",
    ),
    Column(
        "Live at End",
        "Blocks of this size still allocated at the end of the trace",
        lambda r, heap: r.live,
        _count,
        "Blocks of this size still allocated at the end of the record range",
    ),
    Column(
        "Bytes at Max Load",
        "Request size × max load: this size's share of drone's maximum usage (not a peak "
        "of the heap: the sizes reach their max loads at different times)",
        lambda r, heap: r.peak_bytes,
        _count,
    ),
    Column(
        "% of Heap",
        "Bytes at max load as a percentage of the heap size",
        lambda r, heap: percent_of_heap(r.peak_bytes, heap),
        lambda v: f"{v:.2f}",
    ),
)
PERCENT_COLUMN = len(COLUMNS) - 1


class StatsModel(QAbstractTableModel):
    """One row per block size, in the core's ascending order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._stats = Statistics()
        self._rows: list[SizeRow] = []
        self._heap_size: int | None = None
        self._swatches: dict[int, QColor] = {}

    def set_swatches(self, colours: dict[int, QColor]) -> None:
        """The selected sizes' curve colours, drawn beside their sizes: the charts' legend."""
        if colours == self._swatches:
            return  # no change to say: a sorting proxy answers dataChanged with a new selection
        self._swatches = dict(colours)
        if self._rows:
            last = self.index(len(self._rows) - 1, 0)
            self.dataChanged.emit(self.index(0, 0), last, [Qt.ItemDataRole.DecorationRole])

    # -- Qt model interface ------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.checkIndex(index, QAbstractTableModel.CheckIndexOption.IndexIsValid):
            return None
        row = self._rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(column.value(row, self._heap_size))
        if role == SORT_ROLE:
            return column.value(row, self._heap_size)
        if role == SIZE_ROLE:
            return row.size
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return self._swatches.get(row.size)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Requests of {format_bytes(row.size)}: {self._tooltip(column).lower()}"
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        column = COLUMNS[section]
        return header_text(role, _two_lines(column.title), self._tooltip(column))

    def _tooltip(self, column: Column) -> str:
        in_range = isinstance(self._stats, WindowStatistics) and column.range_tooltip
        return column.range_tooltip if in_range else column.tooltip

    # -- updates -------------------------------------------------------------

    @property
    def stats(self) -> Statistics:
        return self._stats

    def set_stats(self, stats: Statistics) -> None:
        """Show another trace's statistics, or a record range's (`WindowStatistics`, whose
        header tooltips say so); a reset: nothing carries over."""
        self.beginResetModel()
        self._stats = stats
        self._rows = stats.rows()
        self.endResetModel()

    def update_from(self, stats: Statistics) -> None:
        """Take grown statistics of the same trace: insert new sizes, report changed rows."""
        self._stats = stats
        fresh = stats.rows()
        known = {row.size for row in self._rows}
        for position, row in enumerate(fresh):
            if row.size not in known:
                # Sizes never disappear, so fresh[:position] is already in self._rows.
                self.beginInsertRows(QModelIndex(), position, position)
                self._rows.insert(position, row)
                self.endInsertRows()
        changed = [
            i for i, (old, new) in enumerate(zip(self._rows, fresh, strict=True)) if old != new
        ]
        self._rows = fresh
        if changed:
            self.dataChanged.emit(
                self.index(changed[0], 0), self.index(changed[-1], len(COLUMNS) - 1)
            )

    def set_heap_size(self, heap_size: int | None) -> None:
        """The workspace's heap size changed: only the percentage column depends on it."""
        self._heap_size = heap_size
        if self._rows:
            self.dataChanged.emit(
                self.index(0, PERCENT_COLUMN), self.index(len(self._rows) - 1, PERCENT_COLUMN)
            )

    # -- export ----------------------------------------------------------------

    def to_csv(self) -> str:
        """Every row with the numbers as they are (not as displayed), with the table's titles."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([column.title for column in COLUMNS])
        for row in self._rows:
            writer.writerow([_plain(column.value(row, self._heap_size)) for column in COLUMNS])
        return out.getvalue()


def _two_lines(title: str) -> str:
    """The title broken at its middle space: the words stay whole and the columns narrow,
    so the table leaves the charts their room."""
    words = title.split(" ")
    if len(words) < 2:
        return title
    cut = min(range(1, len(words)), key=lambda k: abs(len(" ".join(words[:k])) - len(title) / 2))
    return " ".join(words[:cut]) + "\n" + " ".join(words[cut:])


def _plain(value: float) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


_RANGE = re.compile(r"^(\w+)\s*-\s*(\w+)$")
_COMPARE = re.compile(r"^(<=|>=|<|>)\s*(\w+)$")
_TESTS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def parse_size_filter(text: str) -> Callable[[int], bool]:
    """A predicate on block sizes from text like "24, 1K, 16-64, >=256" (any term may match).

    Raises HeapguiError naming the term that is not a size, a range or a comparison.
    """
    terms = [t.strip() for t in re.split(r"[,;]", text) if t.strip()]
    tests: list[Callable[[int], bool]] = []
    for term in terms:
        try:
            if match := _COMPARE.match(term):
                op, bound = match[1], parse_size(match[2])
                tests.append(lambda size, op=op, bound=bound: _TESTS[op](size, bound))
            elif match := _RANGE.match(term):
                low, high = parse_size(match[1]), parse_size(match[2])
                tests.append(lambda size, low=low, high=high: low <= size <= high)
            else:
                exact = parse_size(term)
                tests.append(lambda size, exact=exact: size == exact)
        except HeapguiError:
            raise HeapguiError(
                f"filter {term!r}: expected a size (24, 1K), a range (16-64) "
                "or a comparison (>=256)"
            ) from None
    return lambda size: not tests or any(test(size) for test in tests)


class StatsFilterProxy(QSortFilterProxyModel):
    """Numeric sorting through SORT_ROLE and filtering by block size."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._accepts: Callable[[int], bool] = lambda size: True

    @property
    def accepts(self) -> Callable[[int], bool]:
        """The filter in force, as a predicate on block sizes."""
        return self._accepts

    def set_size_filter(self, text: str) -> None:
        """Raises HeapguiError (and keeps the previous filter) when the text does not parse."""
        accepts = parse_size_filter(text)
        self.beginFilterChange()
        self._accepts = accepts
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        source = self.sourceModel()
        size = source.data(source.index(source_row, 0, source_parent), SIZE_ROLE)
        return size is not None and self._accepts(int(size))
