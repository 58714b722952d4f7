"""The layout panel: heap size and pool count in, the best pool layout and its TOML out.

The optimizer's partitions for every pool count are computed once per trace
(`Partitioner`), so the spinner and the chart only look results up. Writing
goes through the core writer: the change is shown as a diff first, and the
writer refuses when the file changed on disk.

Two methods: drone-compatible (the default, drone's own result) and timeline
(fewest reserved bytes, heapgui.layout.timeline), with a headroom percentage;
the timeline layout and the minimum-heap comparison come from `LayoutPlanner`,
off the GUI thread for large traces. A set of traces gets one layout that
serves every trace of the set.

The pools can be edited by hand (heapgui.ui.pool_editor, heapgui.ui.layout_editing):
the table, the preview, the write and `current_layout` then show the edited
layout, with its verdict under the table; locked pools are kept blocks the next
time the optimizer runs.

Dialogs are methods (`confirm_write`, `confirm_failing`, `choose_config_path`,
`show_error`) so tests can replace them on the instance and never block.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from heapgui.errors import HeapguiError
from heapgui.layout.config import DEFAULT_HEAP, DRONE_TOML, HeapConfig, find_config, load_config
from heapgui.layout.config_write import WritePlan, apply_write, plan_write, render_heap_section
from heapgui.layout.generate import MAX_POOLS, Layout, LayoutDoesNotFit, generate
from heapgui.layout.plan import MinimumHeaps, plan_layout, whole_demand
from heapgui.layout.pools import Partitioner, demand
from heapgui.layout.timeline import MAX_HEADROOM, headroom_factor
from heapgui.report import comparison
from heapgui.sizes import MAX_SIZE, format_size, parse_size
from heapgui.trace.load import Trace
from heapgui.trace.traceset import TraceSet
from heapgui.ui.diff_dialog import DiffDialog
from heapgui.ui.frag_chart import FragmentationChart
from heapgui.ui.layout_editing import EditBar
from heapgui.ui.layout_model import SIZES, PoolTableModel
from heapgui.ui.layout_planner import DRONE, TIMELINE, LayoutPlanner, Planned, PlanRequest
from heapgui.ui.pool_delegate import PoolDelegate
from heapgui.ui.pool_editor import PoolEditor
from heapgui.ui.verdict_text import write_question
from heapgui.workspace import HeapSize, Workspace
from heapgui.workspace.proposal import ProposedLayout

logger = logging.getLogger(__name__)

DEFAULT_HEAP_SIZE = 10 * 1024
"""Used when neither a config file nor the trace names a heap size (the seed's example heap)."""
DEFAULT_POOLS = 8
SIZE_TIP = "Heap size in bytes: decimal, 0x hex or 0-prefixed octal, with an optional K or M suffix"
METHOD_NAMES = {DRONE: "Drone-compatible", TIMELINE: "Timeline"}
METHOD_TIP = (
    "Drone-compatible: drone's own layout, least fragmentation, each pool holding the sum of "
    "its sizes' max loads.\n"
    "Timeline: fewest reserved bytes, each pool holding the most blocks its sizes were ever "
    "using at once; it still serves every allocation of the traces."
)
HEADROOM_TIP = "Extra capacity for every pool, in percent of what the traces need (rounded up)"
RESERVED_TIP = (
    "Bytes the pools need before the rest of the heap is spread over them, and their share "
    "of the heap"
)
COMPARISON_TIP = (
    "The least heap each method needs for this pool count and headroom, before the rest of "
    "the heap is spread:\n"
)


def fragmentation_line(layout: Layout) -> str:
    """drone's own summary line, e.g. "Fragmentation: 0 / 0.00%"."""
    return f"Fragmentation: {layout.fragmentation} / {layout.fragmentation_percent():.2f}%"


COMPACT_CHART_HEIGHT = 160
"""Pixels of the fragmentation strip: its axes whole, no more (the pool table grows instead)."""


class LayoutPanel(QWidget):
    """Pool layout for the loaded trace (or drone's starter layout without one)."""

    heap_size_changed = Signal("qint64")
    """The heap size in bytes; 64-bit because heaps up to 4 GiB overflow a Qt int."""
    layout_changed = Signal(object)
    """The current `Layout`, or None while there is none (invalid size, does not fit)."""
    traces_changed = Signal(object)
    """The `TraceSet` the layout is optimized for, or None (the starter layout)."""
    verdict_changed = Signal()
    """The verdict on the layout shown changed: `failed_records` may mark other records."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._traces: TraceSet | None = None
        # The set as planned: with allocations larger than the heap it was read for counted in.
        self._planned_set: TraceSet | None = None
        self._trace_path: Path | None = None
        self._config: HeapConfig | None = None
        self._config_path: Path | None = None
        self._partitioner: Partitioner | None = None
        self._traced_sizes: list[int] = []
        self._heap_size = DEFAULT_HEAP_SIZE
        self._layout: Layout | None = None
        self._text = ""
        self._request: PlanRequest | None = None
        self._reoptimizing = False  # the next optimum is an undoable step, not a fresh start
        self.editor = PoolEditor(self)
        self.editor.changed.connect(self._show_edited)
        self.editor.refused.connect(self._refused)
        self.planner = LayoutPlanner(self)
        self.planner.planned.connect(self._planned)
        self.planner.failed.connect(self._plan_failed)
        self._build()
        self._use_config(None, prefill=False)
        self.set_trace(None, None)
        workspace.traces_changed.connect(self._follow_traces)
        workspace.range_changed.connect(self._follow_range)
        workspace.heap_size_changed.connect(self._follow_heap)

    # ---- following the workspace ------------------------------------------------------------

    def _follow_traces(self) -> None:
        ws = self.workspace
        self.set_traces(ws.demand_traces(), ws.paths[0] if ws.paths else None)

    def _follow_range(self, _window: tuple[int, int] | None) -> None:
        """A record range selected on the charts: plan for that phase of the firmware."""
        if self.workspace.traces is not None:
            self._follow_traces()

    def _follow_heap(self, heap: HeapSize | None) -> None:
        """Show the workspace's heap size (a guess that grew, a config chosen elsewhere)."""
        if heap is not None and heap.size != self._heap_size:
            with QSignalBlocker(self.size_edit):
                self.size_edit.setText(format_size(heap.size))
            if self._parse_size():
                self._recompute()
        self._show_heap_source()

    def _show_heap_source(self) -> None:
        heap = self.workspace.heap
        self.size_source.setText(f"({heap.source.value})" if heap is not None else "")
        self.size_source.setToolTip(heap.describe() if heap is not None else "")

    def _publish_config(self) -> None:
        """The config and heap the user chose here decide the heap size for every view."""
        if self._config is not None and self.heap_name() in self._config.heaps:
            self.workspace.use_config(self._config, self.heap_name())

    # ---- public API -------------------------------------------------------------------------

    def set_trace(self, trace: Trace | None, path: Path | None) -> None:
        """Optimize for `trace`; None offers drone's starter layout instead."""
        self.set_traces(TraceSet.of([trace]) if trace is not None else None, path)

    def set_traces(self, traces: TraceSet | None, path: Path | None) -> None:
        """Optimize for every trace of `traces` at once; None offers drone's starter layout.

        The config file next to `path` (Drone.toml, else layout.toml) prefills the
        heap size; without a `path` the config chosen so far stays.
        """
        self._traces = traces if traces is not None and len(traces) else None
        self._trace_path = Path(path) if path is not None else None
        self._planned_set = whole_demand(self._traces) if self._traces is not None else None
        self.planner.set_traces(self._planned_set)
        self.edit_bar.set_traces(self._planned_set)
        rows = self._planned_set.max_loads() if self._planned_set is not None else []
        trace_demand = demand(rows)
        self._traced_sizes = [size for size, max_load in rows if size and max_load]
        # One partitioner per trace: every spinner step afterwards is a lookup.
        self._partitioner = Partitioner(trace_demand, MAX_POOLS) if trace_demand else None
        if self._partitioner is not None:
            self.chart.set_fragmentation(
                [
                    self._partitioner.fragmentation(p)
                    for p in range(1, self._partitioner.max_pools + 1)
                ]
            )
        self.chart_box.setVisible(self._partitioner is not None)
        # Without a trace no pool serves a traced size: the column would only hold dashes.
        self.table.setColumnHidden(SIZES, self._partitioner is None)
        self._show_source()
        if self._trace_path is not None:
            self._use_config(find_config(self._trace_path.parent))
        else:
            self._prefill()
        self._recompute()
        self.traces_changed.emit(self._traces)

    def layout_text(self) -> str:
        """The current TOML section (with drone's fragmentation comment), or "" without a layout."""
        return self._text

    def current_layout(self) -> Layout | None:
        """The layout shown: the optimum, or the user's edit of it."""
        return self._layout

    def failed_records(self, trace: Trace | None) -> np.ndarray:
        """The first failed records of `trace` under the layout shown (empty when it holds)."""
        if trace is None or self._traces is None:
            return np.empty(0, np.int64)
        index = next((k for k, t in enumerate(self._traces.traces) if t is trace), -1)
        return self.edit_bar.failed_records(index)

    @Slot()
    def reoptimize(self) -> None:
        """Run the optimizer again keeping the locked pools, as one undoable step."""
        self._reoptimizing = True
        try:
            self._recompute()
        finally:
            self._reoptimizing = False

    def traces(self) -> TraceSet | None:
        return self._traces

    def method(self) -> str:
        """The chosen method: drone (drone-compatible) or timeline."""
        return str(self.method_combo.currentData())

    def set_method(self, method: str) -> None:
        self.method_combo.setCurrentIndex(self.method_combo.findData(method))

    def headroom(self) -> float:
        """Extra capacity per pool, in percent."""
        return self.headroom_spin.value()

    def heap_size(self) -> int:
        """The heap size in bytes (the last valid value typed)."""
        return self._heap_size

    def heap_name(self) -> str:
        return self.heap_combo.currentText() or DEFAULT_HEAP

    def config_path(self) -> Path | None:
        return self._config_path

    @Slot()
    def copy_layout(self) -> None:
        if not self._text:
            return
        QGuiApplication.clipboard().setText(self._text)
        self._status(f"Copied the [heap] section for heap {self.heap_name()} to the clipboard.")

    @Slot()
    def write_layout(self) -> None:
        """Show the change as a diff, then write it through the core writer."""
        layout = self._layout
        if layout is None or not self._edit_may_be_written():
            return
        path = self._config_path or self.choose_config_path()
        if path is None:
            return
        try:
            plan = plan_write(path, self.heap_name(), layout.total_bytes, layout.written_pools)
        except HeapguiError as exc:
            self._fail(str(exc))
            return
        if not self.confirm_write(plan):
            self._status("Nothing written.")
            return
        try:
            apply_write(plan)
        except HeapguiError as exc:
            self._fail(str(exc))
            return
        heap = self.heap_name()
        # Re-read for the new fingerprint, keeping what the user set up.
        self._use_config(path, prefill=False, heap=heap)
        self._recompute()
        if plan.changed:
            self._status(f"Wrote {plan.summary} to {path} (previous file kept as {path.name}.bak).")
        else:
            self._status(f"{path} already holds this layout; nothing written.")

    @Slot()
    def choose_config(self) -> None:
        path = self.choose_config_path()
        if path is not None:
            self._use_config(path)
            self._publish_config()
            self._recompute()

    # ---- dialogs (replaced in tests) --------------------------------------------------------

    def confirm_write(self, plan: WritePlan) -> bool:
        dialog = DiffDialog(
            f"Write heap {plan.heap_name} to {plan.path.name}", plan.summary, plan.diff, self
        )
        return dialog.exec() == QDialog.DialogCode.Accepted

    def confirm_failing(self, message: str) -> bool:
        answer = QMessageBox.warning(
            self,
            "Write a layout that fails?",
            message,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def choose_config_path(self) -> Path | None:
        start = self._config_path or self._trace_path
        directory = str(start.parent) if start is not None else ""
        name, _ = QFileDialog.getOpenFileName(
            self,
            "Choose the Drone.toml or layout.toml",
            directory,
            "Drone configuration (Drone.toml layout.toml);;TOML files (*.toml);;All files (*)",
        )
        return Path(name) if name else None

    def show_error(self, message: str) -> None:
        QMessageBox.warning(self, "Layout not written", message)

    # ---- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.size_edit = QLineEdit()
        self.size_edit.setPlaceholderText("e.g. 10K, 0x2800, 10240")
        self.size_edit.setAccessibleName("Heap size")
        self.size_edit.setToolTip(SIZE_TIP)
        self.size_edit.setMaximumWidth(160)
        # Where the size came from (config, typed, guessed): a guess must look like one.
        self.size_source = QLabel()
        self.size_source.setAccessibleName("Heap size source")
        self.size_error = QLabel()
        self.size_error.setAccessibleName("Heap size error")
        self.size_error.setWordWrap(True)
        self.size_error.hide()
        self.heap_combo = QComboBox()
        self.heap_combo.setAccessibleName("Heap")
        self.heap_combo.setToolTip("The heap to lay out: main, or a named heap from the config")
        self.heap_combo.setMinimumContentsLength(8)
        self.pools_spin = QSpinBox()
        self.pools_spin.setRange(1, MAX_POOLS)
        self.pools_spin.setValue(DEFAULT_POOLS)
        self.pools_spin.setAccessibleName("Pool count")
        self.pools_spin.setToolTip(
            "Largest number of pools: fewer pools allocate faster but fragment more"
        )
        self.method_combo = QComboBox()
        for method, name in METHOD_NAMES.items():
            self.method_combo.addItem(name, method)
        self.method_combo.setAccessibleName("Layout method")
        self.method_combo.setToolTip(METHOD_TIP)
        self.headroom_spin = QDoubleSpinBox()
        self.headroom_spin.setRange(0.0, float(MAX_HEADROOM))
        self.headroom_spin.setDecimals(1)
        self.headroom_spin.setSingleStep(5.0)
        self.headroom_spin.setSuffix(" %")
        self.headroom_spin.setAccessibleName("Headroom")
        self.headroom_spin.setToolTip(HEADROOM_TIP)
        self.config_button = QPushButton("C&onfig…")
        self.config_button.setToolTip("Choose the Drone.toml or layout.toml to read and write")
        self.config_label = QLabel()
        self.config_label.setAccessibleName("Config file")
        self.config_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long path or error must not widen the panel; the tooltip has it whole.
        self.config_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.source_label = QLabel()
        self.source_label.setAccessibleName("Layout source")
        self.source_label.setWordWrap(True)

        self.comparison_label = _WrappingLabel()
        self.comparison_label.setAccessibleName("Minimum heap comparison")
        self.comparison_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        size_field = QWidget()
        size_row = QHBoxLayout(size_field)
        size_row.setContentsMargins(0, 0, 0, 0)
        size_row.addWidget(self.size_edit)
        size_row.addWidget(self.size_source)
        inputs = QGridLayout()
        for column, (text, field, buddy) in enumerate(
            (
                ("Heap &size:", size_field, self.size_edit),
                ("He&ap:", self.heap_combo, self.heap_combo),
                ("&Pools:", self.pools_spin, self.pools_spin),
            )
        ):
            label = QLabel(text)
            label.setBuddy(buddy)
            inputs.addWidget(label, 0, 2 * column)
            inputs.addWidget(field, 0, 2 * column + 1)
        inputs.addWidget(self.config_button, 0, 6)
        inputs.addWidget(self.config_label, 0, 7)
        inputs.setColumnStretch(7, 1)
        # How the heap is laid out, in a row of its own: its widths do not align with the above.
        method_row = QHBoxLayout()
        for text, field in (("&Method:", self.method_combo), ("Head&room:", self.headroom_spin)):
            label = QLabel(text)
            label.setBuddy(field)
            method_row.addWidget(label)
            method_row.addWidget(field)
        method_row.addWidget(self.comparison_label, 1)
        inputs.addLayout(method_row, 1, 0, 1, 8)
        inputs.addWidget(self.size_error, 2, 0, 1, 8)

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

        self.model = PoolTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Pools")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        triggers = QAbstractItemView.EditTrigger
        self.table.setEditTriggers(
            triggers.DoubleClicked | triggers.EditKeyPressed | triggers.AnyKeyPressed
        )
        self.model.editor = self.editor
        delegate = PoolDelegate(self.table)
        delegate.closeEditor.connect(self.editor.end_typing)
        self.table.setItemDelegate(delegate)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SIZES, QHeaderView.ResizeMode.Stretch)
        self.edit_bar = EditBar(self.editor, self.table, self)
        self.edit_bar.reoptimize_requested.connect(self.reoptimize)
        self.edit_bar.verdict_changed.connect(self.verdict_changed)
        self.addActions(self.edit_bar.shortcut_actions())

        self.no_fit = self._build_no_fit()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.no_fit)

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
        self.copy_action.triggered.connect(self.copy_layout)
        self.write_action = QAction("&Write to Drone.toml…", self)
        self.write_action.setShortcut(QKeySequence("Ctrl+Shift+W"))
        self.write_action.triggered.connect(self.write_layout)
        # Scoped to the panel: writing a config file is only offered where the layout is shown.
        self.write_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.write_action)
        # Push buttons, not tool buttons: a tool button drops the "…" that says a dialog follows.
        self.copy_button = _button_for(self.copy_action)
        self.write_button = _button_for(self.write_action)

        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        figures = QHBoxLayout()
        figures.addWidget(self.fragmentation_label)
        figures.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        figures.addWidget(self.reserved_label, 1)
        left_box.addLayout(figures)
        left_box.addWidget(self.stack, 1)
        left_box.addWidget(self.edit_bar)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.preview, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.write_button)
        right_box.addLayout(buttons)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(right)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)

        self.chart = FragmentationChart()
        self.chart_box = QGroupBox("Fragmentation by pool count")
        chart_layout = QVBoxLayout(self.chart_box)
        chart_layout.setContentsMargins(4, 4, 4, 4)  # the plot has margins of its own
        chart_layout.addWidget(self.chart)
        # The pool table and preview matter more than the chart: it is a compact strip
        # of fixed height, whole with its axes, and the table takes what is left.
        self.chart.setFixedHeight(COMPACT_CHART_HEIGHT)
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(self.chart_box)
        main.setStretchFactor(0, 1)
        main.setStretchFactor(1, 0)
        main.setCollapsible(0, False)

        self.status_label = QLabel()
        self.status_label.setAccessibleName("Layout status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.hide()  # shown with the first message: no empty line under the chart

        box = QVBoxLayout(self)
        box.addLayout(inputs)
        box.addWidget(self.source_label)
        box.addWidget(main, 1)
        box.addWidget(self.status_label)

        self.size_edit.textChanged.connect(self._size_edited)
        self.pools_spin.valueChanged.connect(self._pools_changed)
        self.method_combo.currentIndexChanged.connect(self._method_changed)
        self.headroom_spin.valueChanged.connect(self._headroom_changed)
        self.heap_combo.currentTextChanged.connect(self._heap_chosen)
        self.config_button.clicked.connect(self.choose_config)
        self.chart.pool_count_clicked.connect(self.pools_spin.setValue)

    def _build_no_fit(self) -> QWidget:
        page = QWidget()
        page.setAccessibleName("No layout")
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size)
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.no_fit_label = QLabel()
        self.no_fit_label.setWordWrap(True)
        self.no_fit_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.no_fit_label.setAccessibleName("Why there is no layout")
        self.use_needed_button = QPushButton()
        self.use_needed_button.setToolTip("Set the heap size to the least that holds the trace")
        self.use_needed_button.clicked.connect(self._use_needed_size)
        self.use_fitting_button = QPushButton()
        self.use_fitting_button.setToolTip("Set the pool count to the fewest pools that fit")
        self.use_fitting_button.clicked.connect(self._use_fitting_pools)
        text = QVBoxLayout()
        text.addWidget(self.no_fit_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_needed_button)
        buttons.addWidget(self.use_fitting_button)
        buttons.addStretch(1)
        text.addLayout(buttons)
        text.addStretch(1)
        row = QHBoxLayout(page)
        row.addWidget(icon)
        row.addLayout(text, 1)
        self._needed = 0
        self._fits_with: int | None = None
        return page

    # ---- state ------------------------------------------------------------------------------

    def _use_config(
        self, path: Path | None, prefill: bool = True, heap: str = DEFAULT_HEAP
    ) -> None:
        """Read `path` (None: no config) and select `heap` if it has one.

        Errors are shown next to the Config button, not raised.
        """
        self._config_path = path
        self._config = None
        if path is None:
            where = self._trace_path.parent if self._trace_path is not None else None
            self.config_label.setText("No Drone.toml or layout.toml" if where else "No config file")
            self.config_label.setToolTip(f"None found in {where}" if where else "")
        else:
            try:
                self._config = load_config(path)
            except HeapguiError as exc:
                logger.info("%s", exc)
                self.config_label.setText(f"⚠ {exc}")
                self.config_label.setToolTip(str(exc))
            else:
                self.config_label.setText(path.name)
                self.config_label.setToolTip(str(path))
        name = self._config_path.name if self._config_path is not None else DRONE_TOML
        self.write_action.setText(f"&Write to {name}…")
        self.write_action.setToolTip(
            f"Show the change to {name} as a diff, then write it (Ctrl+Shift+W)"
        )
        heaps = list(self._config.heaps) if self._config is not None else []
        with QSignalBlocker(self.heap_combo):
            self.heap_combo.clear()
            self.heap_combo.addItems(heaps or [DEFAULT_HEAP])
            chosen = heap if heap in heaps else DEFAULT_HEAP
            if chosen in heaps:
                self.heap_combo.setCurrentText(chosen)
        if prefill:
            self._prefill()

    def _prefill(self) -> None:
        """Heap size (and pool count) from the chosen heap, else the trace, else a default."""
        spec = None
        if self._config is not None and self.heap_name() in self._config.heaps:
            spec = self._config.heaps[self.heap_name()]
        if spec is not None:
            size = spec.size
        elif self.workspace.heap is not None:
            size = self.workspace.heap.size
        else:
            size = self._heap_size
        with QSignalBlocker(self.size_edit), QSignalBlocker(self.pools_spin):
            self.size_edit.setText(format_size(size))
            if spec is not None and spec.pools:
                self.pools_spin.setValue(min(len(spec.pools), MAX_POOLS))
        tip = SIZE_TIP
        if spec is not None and self._config_path is not None:
            tip += f"\nPrefilled from heap {spec.name} in {self._config_path}"
            if spec.estimated:
                tip += " (an estimate: the size of .data is unknown)"
        self.size_edit.setToolTip(tip)
        self._parse_size()

    def _show_source(self) -> None:
        traces = self._traces
        if traces is None:
            self.source_label.setText(
                "No trace loaded: showing drone's starter layout (blocks growing up to 1/20 of "
                "the heap). Load a trace to optimize the pools for it."
            )
            return
        if len(traces) == 1:
            what = Path(traces.traces[0].source).name
        else:
            what = f"{len(traces)} traces ({', '.join(traces.names)})"
        if self._partitioner is None:
            verb = "has" if len(traces) == 1 else "have"
            self.source_label.setText(
                f"{what} {verb} no allocations: showing drone's starter layout."
            )
            return
        sizes = len(self._partitioner.demand)
        if self.method() == TIMELINE:
            how = "fewest reserved bytes, each pool holding its sizes' simultaneous peak"
        else:
            how = "exact minimum fragmentation for each pool count"
        every = "" if len(traces) == 1 else "; one layout that serves every trace of the set"
        self.source_label.setText(
            f"Optimized for {what}: {sizes} distinct word-aligned sizes; {how}{every}."
        )

    def _parse_size(self) -> bool:
        """Validate the size field; a bad value shows a message and keeps the last good size."""
        text = self.size_edit.text()
        try:
            size = parse_size(text)
            if size == 0:
                raise HeapguiError(f"invalid size {text!r}: expected 1 to {MAX_SIZE} bytes")
        except HeapguiError as exc:
            self.size_error.setText(f"⚠ Heap size: {exc}")
            self.size_error.show()
            self.size_edit.setAccessibleDescription(str(exc))
            return False
        self.size_error.hide()
        self.size_edit.setAccessibleDescription("")
        if size != self._heap_size:
            self._heap_size = size
            self.heap_size_changed.emit(size)
        return True

    @Slot(str)
    def _size_edited(self, _text: str) -> None:
        if self._parse_size():
            self.workspace.type_heap_size(self._heap_size)
            self._recompute()
        else:
            self._show_message("No layout until the heap size is valid (see the message above).")
            self._set_layout(None, "")

    @Slot(int)
    def _pools_changed(self, pools: int) -> None:
        if self.size_error.isHidden():
            self._recompute()
        else:
            self.chart.set_current(pools)

    @Slot(str)
    def _heap_chosen(self, _name: str) -> None:
        self._prefill()
        self._publish_config()
        self._recompute()

    @Slot(int)
    def _method_changed(self, _index: int) -> None:
        timeline = self.method() == TIMELINE
        # The chart always shows drone's partitions: say so when the layout comes from elsewhere.
        self.chart_box.setTitle(
            "Fragmentation by pool count (drone-compatible partitions)"
            if timeline
            else "Fragmentation by pool count"
        )
        self._show_source()
        self._recompute()

    @Slot(float)
    def _headroom_changed(self, _percent: float) -> None:
        self._recompute()

    def _recompute(self) -> None:
        if not self.size_error.isHidden():
            return
        pools = self.pools_spin.value()
        self.chart.set_current(pools)
        kept = self.editor.edited.kept() if self._partitioner is not None else ()
        request = PlanRequest(self._heap_size, pools, self.method(), self.headroom(), kept)
        self._request = request
        timeline = request.method == TIMELINE and self._partitioner is not None
        if not timeline:
            try:
                self._show_layout(self._drone_layout(request))
            except LayoutDoesNotFit as exc:
                self._show_no_fit(exc)
                self._set_layout(None, "")
            except HeapguiError as exc:  # locked pools the pool count cannot hold
                message = str(exc)
                self._show_message(f"{message[:1].upper()}{message[1:]}.")
                self._set_layout(None, "")
        if self._partitioner is None:
            self.comparison_label.hide()
            return
        self._show_heaps(self.planner.heaps(request))
        answered = self.planner.request(request, want_layout=timeline)
        if timeline and not answered:
            self._show_message("Computing the timeline layout…")
            self._set_layout(None, "")

    def _drone_layout(self, request: PlanRequest) -> Layout:
        """drone's layout: a lookup in the partitioner, or the core planner for headroom."""
        if self._planned_set is None or headroom_factor(request.headroom) == 1:
            trace_demand = self._partitioner.demand if self._partitioner is not None else []
            return generate(
                trace_demand, request.heap_size, request.pools, self._partitioner, request.kept
            )
        return plan_layout(
            self._planned_set,
            request.heap_size,
            request.pools,
            DRONE,
            request.headroom,
            kept=request.kept,
        )

    @Slot(object)
    def _planned(self, result: Planned) -> None:
        if result.traces is not self._planned_set or self._request is None:
            return  # planned for a set that has been replaced since
        if result.heaps is not None and result.request.heaps_key == self._request.heaps_key:
            self._show_heaps(result.heaps)
        if result.request != self._request or self.method() != TIMELINE:
            return
        if result.no_fit is not None:
            self._show_no_fit(result.no_fit)
            self._set_layout(None, "")
        elif result.layout is not None:
            self._show_layout(result.layout)

    @Slot(str)
    def _plan_failed(self, message: str) -> None:
        self._status(f"⚠ {message}")

    def _show_heaps(self, heaps: MinimumHeaps | None) -> None:
        if heaps is None:
            text = "Minimum heap: computing…"
        else:
            several = self._traces is not None and len(self._traces) > 1
            what = "this set of traces" if several else "this trace"
            noun = "pool" if heaps.pools == 1 else "pools"
            text = (
                f"Minimum heap for {heaps.pools} {noun}: {_kib(heaps.timeline)} with the timeline "
                f"layout, {_kib(heaps.drone)} drone-style ({heaps.ratio * 100:.1f}%)"
            )
            sentence = comparison(heaps, what)
            self.comparison_label.setToolTip(
                f"{COMPARISON_TIP}{sentence[:1].upper()}{sentence[1:]}."
            )
        self.comparison_label.setText(text)
        self.comparison_label.show()

    def _show_layout(self, layout: Layout) -> None:
        """A new optimum: editing starts from it (or, re-optimizing, goes on from it)."""
        try:
            self._render(layout)
        except HeapguiError as exc:
            # The starter layout of a tiny heap can leave no pool with any capacity.
            self._show_message(str(exc))
            self._set_layout(None, "")
            return
        self.stack.setCurrentWidget(self.table)
        if self._reoptimizing:
            self.editor.reoptimized(layout)
        else:
            self.editor.set_optimum(layout)

    @Slot()
    def _show_edited(self) -> None:
        """Show the editor's layout: the optimum itself until the pools are edited."""
        optimum = self.editor.optimum
        if optimum is None:
            self._set_layout(None, "")
            return
        edited = self.editor.is_edited()
        layout = self.editor.edited.layout_for(optimum) if edited else optimum
        try:
            text = self._render(layout)
        except HeapguiError as exc:  # every capacity edited down to 0
            self._status(f"⚠ {exc}")
            text = ""
        self.stack.setCurrentWidget(self.table)
        self._set_layout(layout, text)

    @Slot(str)
    def _refused(self, message: str) -> None:
        self._status(f"⚠ Edit refused: {message}")

    def _edit_may_be_written(self) -> bool:
        """An edited layout that fails, or is not checked yet, is written only when confirmed."""
        if not self.editor.is_edited() or self._traces is None:
            return True
        message = write_question(self.edit_bar.verdict(), len(self._traces) > 1)
        if message is None or self.confirm_failing(message):
            return True
        self._status("Nothing written.")
        return False

    def _render(self, layout: Layout) -> str:
        kind = self._config.kind if self._config is not None else "drone"
        # A Drone.toml with several heaps is the 0.14 shape, where main is [heap.main] too.
        named = self._config is not None and len(self._config.heaps) > 1
        text = render_heap_section(
            self.heap_name(),
            layout.total_bytes,
            layout.pools,
            kind,
            "named" if named else "auto",
        )
        if self._partitioner is not None and layout.fragmentation >= 0:
            text += f"# {fragmentation_line(layout)}\n"
        return text

    def _set_layout(self, layout: Layout | None, text: str) -> None:
        self._layout = layout
        self._text = text
        locked = self.editor.edited.locked_blocks() if layout is not None else frozenset()
        self.model.set_layout(layout, self._traced_sizes, locked)
        self.preview.setPlainText(text)
        self.copy_action.setEnabled(bool(text))
        self.write_action.setEnabled(layout is not None and bool(text))
        optimum = self.editor.optimum
        if layout is None:
            self.fragmentation_label.setText("Fragmentation: —")
        elif self._partitioner is None:
            self.fragmentation_label.setText("Fragmentation: — (no trace)")
        elif layout.partition is None:
            assert optimum is not None
            if layout.fragmentation < 0:
                line = "Fragmentation: — (a traced size has no block)"
            else:
                line = fragmentation_line(layout)
            self.fragmentation_label.setText(
                f"{line}  (edited; the optimum: {optimum.fragmentation:,})"
            )
        else:
            used = len(layout.partition.pools)
            more = ""
            if used < self.pools_spin.value():
                # The timeline method may merge sizes whose peaks never coincide.
                more = (
                    f"  (the trace has {used} sizes: {used} pools used)"
                    if used == len(layout.demand)
                    else f"  ({used} pools reserve the least)"
                )
            self.fragmentation_label.setText(fragmentation_line(layout) + more)
        self._show_reserved(layout)
        self._check(layout)
        self.workspace.set_layout(self._proposal(layout))
        self.layout_changed.emit(layout)

    def _proposal(self, layout: Layout | None) -> ProposedLayout | None:
        if layout is None:
            return None
        if self.editor.is_edited():
            return ProposedLayout(layout, "the hand-edited layout")
        return ProposedLayout(layout, f"the proposed {METHOD_NAMES[self.method()].lower()} layout")

    def _check(self, layout: Layout | None) -> None:
        """The verdict on the layout shown; the optimum and the config's for the comparison."""
        optimum = self.editor.optimum if layout is not None else None
        config = None
        spec = self._config.heaps.get(self.heap_name()) if self._config is not None else None
        if (
            spec is not None
            and self._config_path is not None
            and any(p.capacity for p in spec.pools)
        ):
            title = f"{self._config_path.name} [heap {spec.name}]"
            config = (title, spec.size, tuple(spec.pools))
        self.edit_bar.show_layouts(
            self._heap_size,
            layout.pools if layout is not None else None,
            ("Optimum", optimum.heap_size, optimum.pools) if optimum is not None else None,
            config,
        )

    def _show_reserved(self, layout: Layout | None) -> None:
        if layout is not None and layout.partition is None and self._partitioner is not None:
            taken = layout.total_bytes
            over = taken - layout.heap_size
            beyond = f", {over:,} bytes more than the heap" if over > 0 else ""
            self.reserved_label.setText(
                f"Pools take {taken:,} bytes ({taken / layout.heap_size * 100:.2f}%){beyond}"
            )
            self.reserved_label.show()
            return
        if layout is None or layout.partition is None:
            self.reserved_label.hide()
            return
        needed = layout.partition.bytes
        self.reserved_label.setText(
            f"Pools need {needed:,} bytes ({needed / layout.heap_size * 100:.2f}%)"
        )
        self.reserved_label.show()

    def _show_no_fit(self, exc: LayoutDoesNotFit) -> None:
        self._needed = exc.needed
        self._fits_with = exc.fits_with
        message = str(exc)
        self._show_message(message[:1].upper() + message[1:] + ".")
        self.use_needed_button.setText(f"Use a heap of {exc.needed:,} bytes")
        self.use_needed_button.show()
        if exc.fits_with is not None:
            self.use_fitting_button.setText(f"Use {exc.fits_with} pools")
            self.use_fitting_button.show()

    def _show_message(self, message: str) -> None:
        """Why there is no layout, in place of the table."""
        self.no_fit_label.setText(message)
        self.use_needed_button.hide()
        self.use_fitting_button.hide()
        self.stack.setCurrentWidget(self.no_fit)

    @Slot()
    def _use_needed_size(self) -> None:
        self.size_edit.setText(format_size(self._needed))

    @Slot()
    def _use_fitting_pools(self) -> None:
        if self._fits_with is not None:
            self.pools_spin.setValue(self._fits_with)

    def _status(self, message: str) -> None:
        logger.info("%s", message)
        self.status_label.setText(message)
        self.status_label.show()

    def _fail(self, message: str) -> None:
        self._status(f"⚠ {message}")
        self.show_error(message)


class _WrappingLabel(QLabel):
    """A word-wrapped label that asks for the height of its text at its current width.

    QLabel's own hint picks a narrow, tall shape for wrapped text, which would
    take the height the fragmentation chart below needs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().sizeHint()
        # Before the first layout the width is unknown: assume a line of 80 characters.
        width = self.width() if self.isVisible() else self.fontMetrics().averageCharWidth() * 80
        return QSize(hint.width(), self.heightForWidth(max(width, hint.width())))


def _kib(size: int) -> str:
    return f"{size / 1024:.1f}K" if size >= 1024 else f"{size} bytes"


def _button_for(action: QAction) -> QPushButton:
    """A push button that triggers `action` and follows its text, tooltip and enabled state."""
    button = QPushButton()

    def sync() -> None:
        button.setText(action.text())
        button.setToolTip(action.toolTip())
        button.setEnabled(action.isEnabled())

    action.changed.connect(sync)
    button.clicked.connect(action.trigger)
    sync()
    return button
