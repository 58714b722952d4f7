"""The validation panel: replay the traces against the Drone.toml layout or the proposed one.

The traces and the layout come from the layout panel: its config file and
heap (the layout the firmware runs today) or its current layout (the one it
proposes). The replay runs in a background `Task`; the summary, the pool table and the
occupancy chart show one trace of the set at a time, and `validated` tells
the window to mark that trace's failures on the load chart.
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np
from PySide6.QtCore import QEvent, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from heapgui.errors import HeapguiError
from heapgui.layout.config import load_config
from heapgui.layout.pools import Pool, checked_layout
from heapgui.trace.load import Trace
from heapgui.trace.traceset import TraceSet
from heapgui.ui.charts import failure_colour
from heapgui.ui.loader import Task
from heapgui.ui.occupancy_chart import OccupancyChart
from heapgui.ui.pool_use_model import PoolUseModel
from heapgui.workspace import Workspace
from heapgui.workspace.validation import (
    TraceCheck,
    Validation,
    details_html,
    failed_records,
    validate_traces,
    verdict,
)

logger = logging.getLogger(__name__)

CONFIG = "config"
PROPOSED = "proposed"
VALIDATE_SHORTCUT = "Ctrl+R"
MAX_MARKERS = 100_000
"""Failures marked on the load chart; past this many a scatter plot stops being responsive."""
IDLE_TEXT = "Press Validate (Ctrl+R) to replay the traces against the chosen layout."


class ValidatePanel(QWidget):
    """Replays the workspace's traces against its config or its proposed layout; emits
    `validated` (and publishes the result to the workspace) when the results change."""

    validated = Signal()
    trace_chosen = Signal(int)
    """The user picked another trace of the set to look at."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._traces: TraceSet | None = None
        self._validation: Validation | None = None
        self._task: Task | None = None
        self._verdict_failed = False
        self._build()
        workspace.layout_changed.connect(self._layout_changed)
        workspace.traces_changed.connect(self._follow_traces)
        workspace.shown_changed.connect(self.show_trace)
        self.validated.connect(lambda: workspace.set_validation(self._validation))
        self.set_traces(workspace.traces)

    def _follow_traces(self) -> None:
        self.set_traces(self.workspace.traces)
        if self.workspace.config is None:
            # Nothing to read a layout from: the proposed one is the one to judge.
            self.set_source(PROPOSED)

    # ---- public API -----------------------------------------------------------------------

    @Slot(object)
    def set_traces(self, traces: TraceSet | None) -> None:
        """Validate these traces from now on; results for the previous ones are dropped."""
        self._cancel()
        self._traces = traces if traces is not None and len(traces) else None
        with QSignalBlocker(self.trace_combo):
            self.trace_combo.clear()
            if self._traces is not None:
                self.trace_combo.addItems(self._traces.names)
        several = self._traces is not None and len(self._traces) > 1
        self.trace_combo.setVisible(several)
        self.trace_label.setVisible(several)
        self._show(None)

    def validation(self) -> Validation | None:
        return self._validation

    def shown_check(self) -> TraceCheck | None:
        """The trace whose figures the panel shows."""
        if self._validation is None:
            return None
        return self._validation.checks[max(self.trace_combo.currentIndex(), 0)]

    def show_trace(self, index: int) -> None:
        """Show trace `index` of the set (the one the charts show) without emitting trace_chosen."""
        with QSignalBlocker(self.trace_combo):
            self.trace_combo.setCurrentIndex(index)
        self._show_check()

    def failed_records(self, trace: Trace | None) -> np.ndarray:
        """The failures to mark on the load chart for `trace` (empty when not validated)."""
        check = self._validation.check_of(trace) if self._validation is not None else None
        return failed_records(check, MAX_MARKERS)

    def source(self) -> str:
        """CONFIG (the Drone.toml layout) or PROPOSED (the layout panel's)."""
        return str(self.source_combo.currentData())

    def set_source(self, source: str) -> None:
        self.source_combo.setCurrentIndex(self.source_combo.findData(source))

    def running(self) -> bool:
        return self._task is not None and self._task.active

    @Slot()
    def validate(self) -> None:
        """Replay every trace against the chosen layout, in the background."""
        if self._traces is None:
            self._message("Open a trace first: there is nothing to replay.")
            return
        try:
            source, heap_size, pools = self._chosen_layout()
            warning = checked_layout(source, pools, heap_size) or ""
        except HeapguiError as exc:
            self._message(f"⚠ {exc}")
            return
        self._cancel()
        job = partial(validate_traces, self._traces, source, heap_size, pools, warning=warning)
        task = Task(job)  # unparented: dropped with the next validation
        task.progressed.connect(self._progressed)
        task.succeeded.connect(self._finished)
        task.failed.connect(self._failed)
        self._task = task
        self.progress.setValue(0)
        self.progress.show()
        self.verdict_label.setText(f"Replaying against {source}…")
        logger.info("validating %s", source)
        task.start()

    # ---- building -------------------------------------------------------------------------

    def _build(self) -> None:
        self.source_combo = QComboBox()
        self.source_combo.addItem("Drone.toml layout", CONFIG)
        self.source_combo.addItem("Proposed layout", PROPOSED)
        self.source_combo.setAccessibleName("Layout to validate")
        self.source_combo.setToolTip(
            "Drone.toml layout: the heap as the config file (chosen in the layout panel) has it.\n"
            "Proposed layout: the layout the layout panel shows now, with your edits."
        )
        self.validate_action = QAction("&Validate layout", self)
        self.validate_action.setShortcut(QKeySequence(VALIDATE_SHORTCUT))
        self.validate_action.setToolTip(
            f"Replay every trace against the chosen layout ({VALIDATE_SHORTCUT})"
        )
        self.validate_action.setStatusTip(self.validate_action.toolTip())
        self.validate_action.triggered.connect(self.validate)
        self.addAction(self.validate_action)
        self.validate_button = QPushButton("Vali&date")
        self.validate_button.setToolTip(self.validate_action.toolTip())
        self.validate_button.clicked.connect(self.validate_action.trigger)
        self.trace_label = QLabel("&Trace:")
        self.trace_combo = QComboBox()
        self.trace_combo.setAccessibleName("Trace shown")
        self.trace_combo.setToolTip("The trace of the set whose replay is shown here")
        self.trace_label.setBuddy(self.trace_combo)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(160)
        self.progress.setAccessibleName("Validation progress")
        self.progress.hide()

        source_label = QLabel("La&yout:")
        source_label.setBuddy(self.source_combo)
        top = QHBoxLayout()
        top.addWidget(source_label)
        top.addWidget(self.source_combo)
        top.addWidget(self.validate_button)
        top.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        top.addWidget(self.trace_label)
        top.addWidget(self.trace_combo)
        top.addWidget(self.progress)
        top.addStretch(1)

        self.verdict_label = QLabel()
        self.verdict_label.setAccessibleName("Validation verdict")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.verdict_label.font()
        font.setBold(True)
        self.verdict_label.setFont(font)
        self.details_label = QLabel()
        self.details_label.setAccessibleName("Validation details")
        self.details_label.setToolTip(
            "The first failed allocations with their record and size, overflows into larger "
            "pools, and the bytes in blocks at the peak"
        )
        self.details_label.setWordWrap(True)
        self.details_label.setTextFormat(Qt.TextFormat.RichText)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.model = PoolUseModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Pool peaks")
        self.table.setToolTip("Each pool's peak against its capacity during the replay")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.chart = OccupancyChart()
        self.relative_check = QCheckBox("% of capac&ity")
        self.relative_check.setAccessibleName("Occupancy as a share of capacity")
        self.relative_check.setToolTip(
            "Show each pool's use as a percentage of its capacity, so small pools are visible"
        )
        self.relative_check.toggled.connect(self.chart.set_relative)

        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.details_label)
        left_box.addWidget(self.table, 1)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.chart, 1)
        right_box.addWidget(self.relative_check, 0, Qt.AlignmentFlag.AlignRight)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        # Proportions, not size hints: the wrapped details would ask for a narrow column.
        split.setSizes([2, 3])

        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addWidget(self.verdict_label)
        box.addWidget(split, 1)

        self.source_combo.currentIndexChanged.connect(self._source_changed)
        self.trace_combo.currentIndexChanged.connect(self._trace_picked)

    # ---- validation -----------------------------------------------------------------------

    def _chosen_layout(self) -> tuple[str, int, list[Pool]]:
        """Where the layout comes from (for the summary), its heap size and its pools."""
        ws = self.workspace
        if self.source() == CONFIG:
            if ws.config is None:
                raise HeapguiError(
                    "no usable Drone.toml or layout.toml beside the trace: choose one with "
                    "Config… in the layout panel, or validate the proposed layout"
                )
            # Read again: the file may have been written since it was chosen.
            path = ws.config.path
            heap = load_config(path).heap(ws.heap_name)
            if not any(p.capacity for p in heap.pools):
                raise HeapguiError(f"{path}: heap {heap.name!r} has no pools")
            estimate = " (counts estimated)" if heap.estimated else ""
            return f"{path.name} [heap {heap.name}]{estimate}", heap.size, list(heap.pools)
        outcome = ws.layout
        if outcome is not None and outcome.no_fit is not None:
            raise HeapguiError(f"no proposed layout: {outcome.no_fit}")
        if outcome is None or outcome.layout is None:
            raise HeapguiError("no proposed layout: the layout panel says why")
        layout = outcome.layout
        return outcome.source, layout.heap_size, list(layout.pools)

    @Slot(float)
    def _progressed(self, fraction: float) -> None:
        self.progress.setValue(round(fraction * self.progress.maximum()))

    @Slot(object)
    def _finished(self, validation: Validation) -> None:
        self.progress.hide()
        self._show(validation)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.progress.hide()
        self._message(f"⚠ {message}")

    def _cancel(self) -> None:
        if self._task is not None and self._task.active:
            self._task.cancel()
        self._task = None
        self.progress.hide()

    # ---- showing --------------------------------------------------------------------------

    def _show(self, validation: Validation | None) -> None:
        self._validation = validation
        if validation is None:
            self._set_verdict(IDLE_TEXT, failed=False)
        else:
            self._set_verdict(verdict(validation), failed=not validation.holds)
        self._show_check()
        self.validated.emit()

    def _show_check(self) -> None:
        check = self.shown_check()
        self.model.set_result(check.result if check is not None else None)
        if check is None:
            self.details_label.clear()
            self.chart.clear_occupancy()
            return
        marked = min(check.failure_count, MAX_MARKERS)
        self.details_label.setText(details_html(check, marked))
        timed = check.trace.records.timestamp is not None
        self.chart.set_occupancy(
            check.result.pools, check.occupancy, "timestamp" if timed else "record"
        )

    def _message(self, text: str) -> None:
        """A note in place of the verdict; the last results stay."""
        self._set_verdict(text, failed=text.startswith("⚠"))

    def _set_verdict(self, text: str, failed: bool) -> None:
        self.verdict_label.setText(text)
        self._verdict_failed = failed
        self._colour_verdict()

    def _colour_verdict(self) -> None:
        palette = self.verdict_label.palette()
        role = QPalette.ColorRole.WindowText
        colour = (
            failure_colour(self.palette()) if self._verdict_failed else self.palette().color(role)
        )
        palette.setColor(role, colour)
        self.verdict_label.setPalette(palette)

    @Slot(int)
    def _trace_picked(self, index: int) -> None:
        self._show_check()
        if index >= 0:
            self.trace_chosen.emit(index)

    @Slot(int)
    def _source_changed(self, _index: int) -> None:
        if self._validation is not None:
            self._message(
                f"{verdict(self._validation)} Another layout is chosen: press Validate "
                f"({VALIDATE_SHORTCUT}) to replay against it."
            )

    @Slot(object)
    def _layout_changed(self, _layout: object) -> None:
        if self._validation is not None and self.source() == PROPOSED:
            self._set_verdict(
                f"{verdict(self._validation)} The proposed layout has changed since: press "
                f"Validate ({VALIDATE_SHORTCUT}) again.",
                failed=self._verdict_failed,
            )

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "verdict_label"):
            self._colour_verdict()
        super().changeEvent(event)
