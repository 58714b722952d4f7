"""The trace-set view: several captures' statistics side by side, two of them compared.

A view of the workspace's trace set. Which trace the statistics table and the
charts show is chosen here too (`Workspace.show`); the layout and validation
panels always work on the whole set.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSignalBlocker, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from heapgui.report import counted
from heapgui.sizes import format_bytes, format_count
from heapgui.trace.traceset import TraceSet
from heapgui.ui.stats_model import StatsFilterProxy
from heapgui.ui.traceset_chart import TraceSetChart, swatch, timed
from heapgui.ui.traceset_model import TraceSetModel
from heapgui.workspace import Workspace

logger = logging.getLogger(__name__)

SINGLE_HINT = (
    "One trace is open. Open several captures of the firmware (boot, bursts, idle) with "
    "File ▸ Open Trace Set… to compare them and lay out one heap for all of them."
)


class TraceSetView(QWidget):
    """Renders the workspace's set; choosing a trace to show is a request to the workspace."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._traces: TraceSet | None = None
        self.model = TraceSetModel(self)
        self.proxy = StatsFilterProxy(self)  # numeric sorting by SORT_ROLE
        self.proxy.setSourceModel(self.model)

        self.summary = QLabel()
        self.summary.setAccessibleName("Traces in the set")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shown_combo = QComboBox()
        self.shown_combo.setAccessibleName("Trace shown in the statistics and charts")
        self.shown_combo.setToolTip("The trace the statistics table and the charts show")
        self.a_combo = QComboBox()
        self.a_combo.setAccessibleName("Compared trace A")
        self.a_combo.setToolTip("The capture to compare against (A)")
        self.b_combo = QComboBox()
        self.b_combo.setAccessibleName("Compared trace B")
        self.b_combo.setToolTip("The capture compared with A: the last column is B − A")
        self.align_combo = QComboBox()
        self.align_combo.addItems(["By record", "By time"])
        self.align_combo.setAccessibleName("Align the curves")
        controls = QFormLayout()
        # Labels go above their combo boxes when the dock is narrow.
        controls.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for text, combo in (
            ("S&how:", self.shown_combo),
            ("Compare &A:", self.a_combo),
            ("with &B:", self.b_combo),
            ("A&lign:", self.align_combo),
        ):
            # Long file names must not widen the dock: the list shows them in full.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
            controls.addRow(text, combo)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setAccessibleName("Max load per trace")
        self.table.setToolTip(
            "Each size's max load in every trace of the set, and the difference between the "
            "two compared traces; click headers to sort"
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addLayout(controls)
        layout.addWidget(self.table, 1)
        self.chart = TraceSetChart(self)
        layout.addWidget(self.chart, 1)

        self.shown_combo.currentIndexChanged.connect(self._shown_changed)
        self.a_combo.currentIndexChanged.connect(self._compared_changed)
        self.b_combo.currentIndexChanged.connect(self._compared_changed)
        self.align_combo.currentIndexChanged.connect(self._draw_curves)
        self.set_traces(None)
        workspace.traces_changed.connect(lambda: self.set_traces(workspace.traces))
        workspace.shown_changed.connect(self.show_trace)

    def set_traces(self, traces: TraceSet | None) -> None:
        self._traces = traces
        self.model.set_traces(traces)
        names = traces.names if traces is not None else []
        a, b = self.model.compared()
        for combo, current in ((self.shown_combo, 0), (self.a_combo, a), (self.b_combo, b)):
            with QSignalBlocker(combo):
                combo.clear()
                combo.addItems(names)
                combo.setCurrentIndex(current if names else -1)
            combo.setEnabled(len(names) > 1)
        self.summary.setText(self._summary(traces))
        # Time is offered only when every trace has it: a heaptrace file keeps no timestamps.
        can_time = traces is not None and len(traces) > 1 and timed(traces)
        self.align_combo.setEnabled(can_time)
        self.align_combo.setToolTip(
            "Line the curves up at each trace's start: by record number, or by the time "
            "since its first record"
            if can_time
            else "By time needs every trace's timestamps: open the raw .swo captures, not "
            "their heaptrace files"
        )
        with QSignalBlocker(self.align_combo):
            if not can_time:
                self.align_combo.setCurrentIndex(0)
        self._draw_curves()

    @Slot()
    def _draw_curves(self) -> None:
        # One trace has its load chart already: a second copy of its curve only costs memory.
        traces = self._traces if self._traces is not None and len(self._traces) > 1 else None
        self.chart.set_traces(traces, self.align_combo.currentIndex() == 1)

    def show_trace(self, index: int) -> None:
        """Follow the trace shown (chosen here or elsewhere) without asking for it again."""
        with QSignalBlocker(self.shown_combo):
            self.shown_combo.setCurrentIndex(index)

    def set_compared(self, a: int, b: int) -> None:
        self.a_combo.setCurrentIndex(a)
        self.b_combo.setCurrentIndex(b)

    def _summary(self, traces: TraceSet | None) -> str:
        if traces is None or not len(traces):
            return "No trace loaded."
        # The swatches are the chart's legend: it stays off the curves.
        lines = [
            f"{swatch(k, self.palette())} <b>{name}</b>: "
            f"{counted(len(t.records), 'record', format_count)}, "
            f"peak {format_bytes(t.stats.peak_usage)} in use"
            for k, (name, t) in enumerate(traces)
        ]
        if len(traces) == 1:
            lines.append(SINGLE_HINT)
        return "<br>".join(lines)

    @Slot(int)
    def _shown_changed(self, index: int) -> None:
        if index >= 0:
            self._workspace.show(index)

    @Slot(int)
    def _compared_changed(self, _index: int) -> None:
        a, b = self.a_combo.currentIndex(), self.b_combo.currentIndex()
        if a >= 0 and b >= 0:
            self.model.set_compared(a, b)
