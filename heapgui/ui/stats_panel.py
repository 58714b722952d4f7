"""The statistics table with its size filter and drone's usage line next to the true peak.

The table shows the whole trace's statistics, or a record range's
(`show_window`) with the range named above the figures. Record numbers in
the summary are links (`record_linked`) that centre the charts on them.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from heapgui.errors import HeapguiError
from heapgui.report import bytes_of_heap
from heapgui.sizes import format_count
from heapgui.trace.stats import Statistics
from heapgui.trace.window import WindowStatistics
from heapgui.ui.stats_model import SIZE_ROLE, StatsFilterProxy, StatsModel
from heapgui.ui.theme import series_colour
from heapgui.workspace import HeapSize

logger = logging.getLogger(__name__)

FILTER_TIP = (
    "Show only some block sizes: sizes (24, 1K), ranges (16-64) or comparisons (>=256), "
    "separated by commas"
)


class StatsPanel(QWidget):
    """Emits the selected block sizes, which the charts draw one curve each for."""

    sizes_selected = Signal(list)
    record_linked = Signal(int)
    """A record number in the summary was clicked."""
    filter_changed = Signal(object)
    """The size filter changed: the predicate on block sizes the table now applies."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = StatsModel(self)
        self.proxy = StatsFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._heap: HeapSize | None = None

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter sizes: 24, 1K, 16-64, >=256")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip(FILTER_TIP)
        self.filter_edit.setAccessibleName("Block size filter")
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.filter_error = QLabel(self)
        self.filter_error.setWordWrap(True)
        self.filter_error.setAccessibleName("Filter error")
        self.filter_error.hide()

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Block statistics")
        self.table.setToolTip(
            "One row per block size; click headers to sort, select rows to chart their live "
            "blocks over time"
        )
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.summary.linkActivated.connect(self._link_activated)
        self.summary.setAccessibleName("Memory usage summary")
        self.summary.setToolTip(
            "drone's maximum memory usage adds every size's own peak, an upper bound; the "
            "simultaneous peak is the most bytes that were really in use at one time"
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.filter_error)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self.set_stats(None)

    def set_stats(self, stats: Statistics | None, live: bool = False) -> None:
        """Show `stats`; `live` ones will grow (a capture) and come back through update_stats."""
        self.model.set_stats(stats if stats is not None else Statistics())
        # Fitting the columns measures every cell at every change: too much several times a
        # second, so during a capture update_stats fits them when asked.
        mode = (
            QHeaderView.ResizeMode.Interactive if live else QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setSectionResizeMode(mode)
        self._update_summary()

    def show_window(self, stats: Statistics) -> None:
        """Other figures of the same trace (a record range's, or the whole trace's again):
        the selected sizes stay selected, as long as the table still lists them."""
        if stats is self.model.stats:
            return
        selected = self.selected_sizes()
        self.set_stats(stats)
        self.select_sizes(selected)

    def update_stats(self, stats: Statistics, fit_columns: bool = False) -> None:
        """Grown statistics of the same trace (a live capture): rows change in place."""
        self.model.update_from(stats)
        if fit_columns:
            self.table.resizeColumnsToContents()
        self._update_summary()

    def set_heap_size(self, heap: HeapSize | None) -> None:
        """The workspace's heap size: the percentages' denominator, shown with its source."""
        self._heap = heap
        self.model.set_heap_size(None if heap is None else heap.size)
        self._update_summary()

    def _update_summary(self) -> None:
        stats, heap = self.model.stats, self._heap
        if not stats.records or heap is None:
            self.summary.setText("No trace loaded." if not stats.records else "")
            return
        scope = ""
        if isinstance(stats, WindowStatistics):
            scope = (
                f"<b>Records {_record_link(stats.start)}–{_record_link(stats.stop - 1)}</b> "
                f"only, starting with the blocks live at {format_count(stats.start)}<br>"
            )
        at = "the start" if stats.peak_record < 0 else f"record {_record_link(stats.peak_record)}"
        self.summary.setText(
            f"{scope}Most in use at once: <b>{bytes_of_heap(stats.peak_usage, heap.size)}</b> "
            f"at {at}<br>"
            f"Σ bytes at max load (drone's maximum usage): "
            f"<b>{bytes_of_heap(stats.max_usage, heap.size)}</b><br>"
            f"Heap: {heap.describe()}"
        )

    def toggle_size(self, size: int) -> None:
        """Add `size` to the selected sizes, or take it out (a histogram bar was clicked)."""
        selected = set(self.selected_sizes())
        self.select_sizes(sorted(selected ^ {size}))

    def select_sizes(self, sizes: list[int]) -> None:
        selection = QItemSelection()
        wanted = set(sizes)
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(SIZE_ROLE) in wanted:
                selection.select(index, index)
        self.table.selectionModel().select(
            selection,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )

    def select_top_sizes(self, count: int) -> None:
        """Select the `count` sizes with the most peak bytes, the ones worth a chart first."""
        rows = sorted(self.model.stats.rows(), key=lambda r: r.peak_bytes, reverse=True)
        self.select_sizes([r.size for r in rows[:count]])

    def selected_sizes(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return sorted(int(index.data(SIZE_ROLE)) for index in rows)

    @Slot()
    def _selection_changed(self) -> None:
        self._show_swatches()
        self.sizes_selected.emit(self.selected_sizes())

    def _show_swatches(self) -> None:
        """Each selected size's curve colour beside it: the table is the charts' legend, so
        no legend covers the plotted data."""
        palette = self.palette()
        sizes = self.selected_sizes()
        self.model.set_swatches({size: series_colour(k, palette) for k, size in enumerate(sizes)})

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._show_swatches()  # the curves change colour with the theme

    @Slot(str)
    def _filter_changed(self, text: str) -> None:
        try:
            self.proxy.set_size_filter(text)
        except HeapguiError as exc:
            self.filter_error.setText(f"⚠ {exc}")
            self.filter_error.show()
            self.filter_edit.setAccessibleDescription(str(exc))
            return
        self.filter_error.hide()
        self.filter_edit.setAccessibleDescription("")
        self.filter_changed.emit(self.proxy.accepts)

    @Slot(str)
    def _link_activated(self, link: str) -> None:
        kind, _, number = link.partition(":")
        if kind == RECORD_LINK:
            self.record_linked.emit(int(number))


RECORD_LINK = "record"


def _record_link(record: int) -> str:
    """A record number the user can click to see it in the charts."""
    return f'<a href="{RECORD_LINK}:{record}">{format_count(record)}</a>'
