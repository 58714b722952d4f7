"""The layout panel: heap size and pool count in, the best pool layout and its TOML out.

A view of the `Workspace`: it plans for `workspace.traces` and publishes what
it shows with `workspace.set_layout`. The parts, by what a reader looks for:
- the request (heap size and its source, heap, pools, method, headroom):
  heapgui.ui.layout_form;
- the pool table, its figures, the TOML preview, or why there is no layout:
  heapgui.ui.layout_results and heapgui.ui.no_fit_page;
- the fragmentation strip: heapgui.ui.frag_chart;
- the planning itself, with its caches (partitioner, range peaks, minimum
  heaps): heapgui.workspace.planning, run off the GUI thread for large sets
  by heapgui.ui.layout_planner.

Two methods: drone-compatible (the default, drone's own result) and timeline
(fewest reserved bytes, heapgui.layout.timeline), with a headroom percentage.
A set of traces gets one layout that serves every trace of the set.

The pools can be edited by hand (heapgui.ui.pool_editor, heapgui.ui.layout_editing):
the table, the preview, the write and `current_layout` then show the edited
layout, with its verdict under the table; locked pools are kept blocks the next
time the optimizer runs. Writing goes through the core writer: the change is
shown as a diff first, and the writer refuses when the file changed on disk.

Dialogs are methods (`confirm_write`, `confirm_failing`, `choose_config_path`,
`show_error`) so tests can replace them on the instance and never block.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from heapgui.errors import HeapguiError
from heapgui.layout.config import find_config
from heapgui.layout.config_write import WritePlan, apply_write, plan_write
from heapgui.layout.generate import Layout, LayoutDoesNotFit
from heapgui.sizes import format_size
from heapgui.trace.load import Trace
from heapgui.trace.traceset import TraceSet
from heapgui.ui.diff_dialog import DiffDialog
from heapgui.ui.frag_chart import FragmentationStrip
from heapgui.ui.layout_form import METHOD_NAMES, LayoutForm
from heapgui.ui.layout_model import NEEDED, SIZES, SPARE
from heapgui.ui.layout_planner import LayoutPlanner
from heapgui.ui.layout_results import LayoutResults, heap_section
from heapgui.ui.pool_editor import PoolEditor
from heapgui.ui.verdict_text import write_question
from heapgui.workspace import Workspace
from heapgui.workspace.planning import (
    TIMELINE,
    LayoutOutcome,
    Planned,
    PlanRequest,
)

logger = logging.getLogger(__name__)


class LayoutPanel(QWidget):
    """Pool layout for the workspace's traces (or drone's starter layout without any)."""

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
        self.planning = workspace.planning
        self._layout: Layout | None = None
        self._text = ""
        self._request: PlanRequest | None = None
        self._reoptimizing = False  # the next optimum is an undoable step, not a fresh start
        self.editor = PoolEditor(self)
        self.editor.changed.connect(self._show_edited)
        self.editor.refused.connect(lambda message: self._status(f"⚠ Edit refused: {message}"))
        self.planner = LayoutPlanner(self.planning, self)
        self.planner.planned.connect(self._planned)
        self.planner.failed.connect(lambda message: self._status(f"⚠ {message}"))
        self._build()
        self.form.use_config(None, prefill=False)
        self.set_trace(None, None)
        workspace.traces_changed.connect(self._follow_traces)
        # A record range chosen on the charts: plan for that phase of the firmware.
        workspace.range_changed.connect(
            lambda _window: self._follow_traces() if workspace.traces is not None else None
        )

    def _follow_traces(self) -> None:
        """Plan for the workspace's set, or for the records of the range chosen on the charts."""
        ws = self.workspace
        self.set_traces(ws.demand_traces(), next(iter(ws.paths), None))

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
        self.planning = self.workspace.plan_for(self._traces)
        self.planner.set_planning(self.planning)
        self.edit_bar.set_traces(self.planning.traces)
        fragmentation = self.planning.fragmentation_by_pools()
        if fragmentation:
            self.chart.set_fragmentation(fragmentation)
        traced = self.planning.partitioner is not None
        self.strip.show_for(traced)
        # Without a trace no pool serves a traced size: the columns would only hold dashes.
        for column in (NEEDED, SPARE, SIZES):
            self.table.setColumnHidden(column, not traced)
        self.form.set_planning(self.planning)
        self.form.trace_dir = Path(path).parent if path is not None else None
        if self.form.trace_dir is not None:
            self.form.use_config(find_config(self.form.trace_dir))
        else:
            self.form.prefill()
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
        return self.form.method()

    def set_method(self, method: str) -> None:
        self.method_combo.setCurrentIndex(self.method_combo.findData(method))

    def heap_size(self) -> int:
        """The heap size in bytes (the last valid value typed)."""
        return self.form.size

    def config_path(self) -> Path | None:
        return self.form.config_path

    @Slot()
    def copy_layout(self) -> None:
        if not self._text:
            return
        QGuiApplication.clipboard().setText(self._text)
        heap = self.form.heap_name()
        self._status(f"Copied the [heap] section for heap {heap} to the clipboard.")

    @Slot()
    def write_layout(self) -> None:
        """Show the change as a diff, then write it through the core writer."""
        layout = self._layout
        if layout is None or not self._edit_may_be_written():
            return
        path = self.form.config_path or self.choose_config_path()
        if path is None:
            return
        heap = self.form.heap_name()
        try:
            plan = plan_write(path, heap, layout.total_bytes, layout.written_pools)
            if not self.confirm_write(plan):
                self._status("Nothing written.")
                return
            apply_write(plan)
        except HeapguiError as exc:
            self._status(f"⚠ {exc}")
            self.show_error(str(exc))
            return
        # Re-read for the new fingerprint, keeping what the user set up.
        self.form.use_config(path, prefill=False, heap=heap)
        self._recompute()
        if plan.changed:
            self._status(f"Wrote {plan.summary} to {path} (previous file kept as {path.name}.bak).")
        else:
            self._status(f"{path} already holds this layout; nothing written.")

    @Slot()
    def choose_config(self) -> None:
        path = self.choose_config_path()
        if path is not None:
            self.form.use_config(path)
            self.form.publish_config()
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
        start = self.form.config_path
        directory = str(start.parent) if start is not None else str(self.form.trace_dir or "")
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
        self.form = LayoutForm(self.workspace)
        self.results = LayoutResults(self.editor)
        self.strip = FragmentationStrip()
        self.status_label = QLabel()
        self.status_label.setAccessibleName("Layout status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.hide()  # shown with the first message: no empty line under the chart
        # The parts' widgets under the names the window, the menus and the tests know them by.
        form, results = self.form, self.results
        self.size_edit, self.size_source, self.size_error = (
            form.size_edit,
            form.size_source,
            form.size_error,
        )
        self.heap_combo, self.pools_spin = form.heap_combo, form.pools_spin
        self.method_combo, self.headroom_spin = form.method_combo, form.headroom_spin
        self.config_button, self.config_label = form.config_button, form.config_label
        self.source_label, self.comparison_label = form.source_label, form.comparison_label
        self.model, self.table, self.stack = results.model, results.table, results.stack
        self.edit_bar, self.preview = results.edit_bar, results.preview
        self.fragmentation_label, self.reserved_label = (
            results.fragmentation_label,
            results.reserved_label,
        )
        self.no_fit, self.no_fit_label = results.no_fit, results.no_fit.label
        self.copy_action, self.write_action = results.copy_action, results.write_action
        self.copy_button, self.write_button = results.copy_button, results.write_button
        self.chart, self.chart_box = self.strip.chart, self.strip

        # The fragmentation chart beside the table and preview, not under them: the dock's
        # height, which the time charts hold down, goes to the pool table's rows.
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(results)
        main.addWidget(self.strip)
        main.setStretchFactor(0, 5)
        main.setStretchFactor(1, 2)
        main.setCollapsible(0, False)
        self.strip.follow_width_of(self)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 2, 6, 2)  # the dock's height is short: rows, not margins
        box.addWidget(form)
        box.addWidget(main, 1)
        box.addWidget(self.status_label)

        self.addActions(self.edit_bar.shortcut_actions())
        self.addAction(self.write_action)
        self.edit_bar.reoptimize_requested.connect(self.reoptimize)
        self.edit_bar.verdict_changed.connect(self.verdict_changed)
        self.copy_action.triggered.connect(self.copy_layout)
        self.write_action.triggered.connect(self.write_layout)
        form.changed.connect(self._recompute)
        form.size_changed.connect(self.heap_size_changed)
        form.size_refused.connect(self._size_refused)
        form.config_read.connect(
            lambda: results.name_config(form.config_path.name if form.config_path else None)
        )
        form.config_button.clicked.connect(self.choose_config)
        self.method_combo.currentIndexChanged.connect(
            lambda _index: self.strip.name_method(self.method() == TIMELINE)
        )
        self.pools_spin.valueChanged.connect(self.chart.set_current)
        self.chart.pool_count_clicked.connect(self.pools_spin.setValue)
        results.no_fit.size_chosen.connect(lambda size: self.size_edit.setText(format_size(size)))
        results.no_fit.pools_chosen.connect(self.pools_spin.setValue)

    # ---- planning ---------------------------------------------------------------------------

    @Slot()
    def _size_refused(self) -> None:
        self.results.show_message("No layout until the heap size is valid (see the message above).")
        self._set_layout(None, "")

    @Slot()
    def _recompute(self) -> None:
        if not self.form.size_is_valid():
            return
        planning = self.planning
        pools = self.pools_spin.value()
        self.chart.set_current(pools)
        headroom = self.headroom_spin.value()
        self.chart.set_fits(self.form.size, planning.bytes_by_pools(headroom))
        kept = self.editor.edited.kept() if planning.partitioner is not None else ()
        request = PlanRequest(
            self.form.size, pools, self.method(), self.headroom_spin.value(), kept
        )
        self._request = request
        quick = planning.is_quick(request)
        if quick:
            try:
                self._show_layout(planning.layout(request))
            except LayoutDoesNotFit as exc:
                self.results.show_no_fit(exc)
                self._set_layout(None, "", exc)
            except HeapguiError as exc:  # locked pools the pool count cannot hold
                message = str(exc)
                self.results.show_message(f"{message[:1].upper()}{message[1:]}.")
                self._set_layout(None, "")
        if planning.partitioner is None:
            self.comparison_label.hide()
            return
        self.form.show_heaps(planning.heaps(request))
        answered = self.planner.request(request, want_layout=not quick)
        if not quick and not answered:
            self.results.show_message("Computing the timeline layout…")
            self._set_layout(None, "")

    @Slot(object)
    def _planned(self, result: Planned) -> None:
        if result.traces is not self.planning.traces or self._request is None:
            return  # planned for a set that has been replaced since
        if result.heaps is not None and result.request.heaps_key == self._request.heaps_key:
            self.form.show_heaps(result.heaps)
        if result.request != self._request or self.method() != TIMELINE:
            return
        if result.no_fit is not None:
            self.results.show_no_fit(result.no_fit)
            self._set_layout(None, "", result.no_fit)
        elif result.layout is not None:
            self._show_layout(result.layout)

    # ---- showing ----------------------------------------------------------------------------

    def _show_layout(self, layout: Layout) -> None:
        """A new optimum: editing starts from it (or, re-optimizing, goes on from it)."""
        try:
            self._render(layout)
        except HeapguiError as exc:
            # The starter layout of a tiny heap can leave no pool with any capacity.
            self.results.show_message(str(exc))
            self._set_layout(None, "")
            return
        self.results.show_table()
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
        self.results.show_table()
        self._set_layout(layout, text)

    def _render(self, layout: Layout) -> str:
        traced = self.planning.partitioner is not None
        return heap_section(layout, self.form.heap_name(), self.form.config, traced)

    def _set_layout(
        self, layout: Layout | None, text: str, no_fit: LayoutDoesNotFit | None = None
    ) -> None:
        """Show `layout` (None: there is none, `no_fit` says why if it does not fit); publish it."""
        self._layout = layout
        self._text = text
        locked = self.editor.edited.locked_blocks() if layout is not None else frozenset()
        needs = self.planning.pool_needs(layout, self.method()) if layout is not None else ()
        self.model.set_layout(layout, self.planning.traced_sizes, locked, needs)
        self.results.show_layout(
            layout,
            text,
            self.editor.optimum,
            self.planning.partitioner is not None,
            self.pools_spin.value(),
        )
        self._check(layout)
        request, outcome = self._request, None
        if request is not None and (layout is not None or no_fit is not None):
            if self.editor.is_edited():
                source = "the hand-edited layout"
            else:
                source = f"the proposed {METHOD_NAMES[self.method()].lower()} layout"
            heaps = self.planning.heaps(request)
            outcome = LayoutOutcome(request, layout, source, no_fit, heaps)
        self.workspace.set_layout(outcome)
        self.layout_changed.emit(layout)

    def _check(self, layout: Layout | None) -> None:
        """The verdict on the layout shown; the optimum and the config's for the comparison."""
        optimum = self.editor.optimum if layout is not None else None
        config = None
        form = self.form
        spec = form.config.heaps.get(form.heap_name()) if form.config is not None else None
        served = spec is not None and any(p.capacity for p in spec.pools)
        if spec is not None and served and form.config_path is not None:
            title = f"{form.config_path.name} [heap {spec.name}]"
            config = (title, spec.size, tuple(spec.pools))
        self.edit_bar.show_layouts(
            form.size,
            layout.pools if layout is not None else None,
            ("Optimum", optimum.heap_size, optimum.pools) if optimum is not None else None,
            config,
        )

    def _edit_may_be_written(self) -> bool:
        """An edited layout that fails, or is not checked yet, is written only when confirmed."""
        if not self.editor.is_edited() or self._traces is None:
            return True
        message = write_question(self.edit_bar.verdict(), len(self._traces) > 1)
        if message is None or self.confirm_failing(message):
            return True
        self._status("Nothing written.")
        return False

    def _status(self, message: str) -> None:
        logger.info("%s", message)
        self.status_label.setText(message)
        self.status_label.show()
