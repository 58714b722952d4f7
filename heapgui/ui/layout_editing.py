"""The layout panel's editing bar: edit actions, undo and redo, the verdict line, the comparison.

The panel owns the pool table and the optimizer; this bar owns what editing
adds: the actions on the selected pool (add, remove, merge with the next,
lock), undo and redo of the `PoolEditor`'s stack (Ctrl+Z, Ctrl+Shift+Z),
Revert to optimum, Re-optimize (which the panel carries out), and the verdict
on the edited layout as the user types, from a `VerdictRunner`. The compare
window shows the optimum, the edited layout and the config's layout side by
side, each checked by the same runner.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import QTableView, QToolBar, QVBoxLayout, QWidget

from heapgui.layout.pools import Pool
from heapgui.layout.verdict import Verdict
from heapgui.trace.traceset import TraceSet
from heapgui.ui.charts import failure_colour
from heapgui.ui.compare_view import CONFIG, EDITED, OPTIMUM, CompareDialog
from heapgui.ui.elided_label import ElidedLabel
from heapgui.ui.pool_editor import PoolEditor
from heapgui.ui.verdict_runner import VerdictRunner
from heapgui.ui.verdict_text import CHECKING, summary

logger = logging.getLogger(__name__)

Source = tuple[str, int, tuple[Pool, ...]]
"""A layout to compare: its column title, heap size and pools."""


class EditBar(QWidget):
    """Edit actions and the verdict on the edited layout."""

    reoptimize_requested = Signal()
    verdict_changed = Signal()
    """The failures of the edited layout changed (they are marked on the load chart)."""

    def __init__(
        self,
        editor: PoolEditor,
        table: QTableView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.editor = editor
        self.table = table
        self.runner = VerdictRunner(self)
        self.runner.ready.connect(self._ready)
        self.runner.checking.connect(self._checking)
        self.runner.failed.connect(self._check_failed)
        self._traces: TraceSet | None = None
        self._verdict: Verdict | None = None
        self._failed = False
        self._sources: dict[str, Source | None] = {OPTIMUM: None, EDITED: None, CONFIG: None}
        self._compare: CompareDialog | None = None
        self._build()
        # Straight to the actions (C++ slots): a Python slot could be called while the
        # stack clears itself on being destroyed, after its wrapper is gone.
        editor.stack.canUndoChanged.connect(self.undo_action.setEnabled)
        editor.stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self._sync_actions()

    # ---- public API -------------------------------------------------------------------------

    def set_traces(self, traces: TraceSet | None) -> None:
        """Check against these traces (counting every allocation); None: no verdicts."""
        self._traces = traces
        self.runner.set_traces(traces)
        self._show_verdict(None, "")

    def shortcut_actions(self) -> list[QAction]:
        """Actions whose keys work anywhere in the panel: the panel adds them to itself."""
        return [self.undo_action, self.redo_action]

    def verdict(self) -> Verdict | None:
        """The edited layout's verdict, None while it is being checked or without traces."""
        return self._verdict

    def failed_records(self, trace_index: int) -> np.ndarray:
        verdict = self._verdict
        if verdict is None or not 0 <= trace_index < len(verdict.failed_records):
            return np.empty(0, np.int64)
        return verdict.failed_records[trace_index]

    def show_layouts(
        self,
        heap_size: int,
        edited: tuple[Pool, ...] | None,
        optimum: Source | None,
        config: Source | None,
    ) -> None:
        """Check the edited layout now; the optimum and the config's when the comparison is open."""
        self._sources = {
            EDITED: ("Edited", heap_size, edited) if edited is not None else None,
            OPTIMUM: optimum,
            CONFIG: config,
        }
        self._sync_actions()
        self._check(EDITED)
        if self._compare is not None and self._compare.isVisible():
            for key in (OPTIMUM, CONFIG):
                self._check(key)

    # ---- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        def action(
            text: str, tip: str, slot, keys: str | None = None, short: str | None = None
        ) -> QAction:
            act = QAction(text, self)
            act.setToolTip(tip)
            if short is not None:
                act.setIconText(short)  # the tool bar's text: it must fit a 1280-pixel window
            act.triggered.connect(slot)
            if keys is not None:
                act.setShortcut(QKeySequence(keys))
                # Scoped to the panel that adds it (`shortcut_actions`): Ctrl+Z in a
                # text field elsewhere keeps its own meaning.
                act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            return act

        stack = self.editor.stack
        self.undo_action = action("&Undo", "Undo the last edit (Ctrl+Z)", stack.undo, "Ctrl+Z")
        self.redo_action = action(
            "&Redo", "Redo the edit undone last (Ctrl+Shift+Z)", stack.redo, "Ctrl+Shift+Z"
        )
        self.add_action = action(
            "Add pool",
            "Add a pool of twice the largest block, capacity 0 until you give it one",
            self.editor.add_pool,
            short="Add",
        )
        self.remove_action = action("Remove", "Remove the selected pool", self._remove)
        self.merge_action = action(
            "Merge with next",
            "Merge the selected pool into the next larger one: fewer pools, faster allocation",
            self._merge,
            short="Merge",
        )
        self.lock_action = action(
            "Lock",
            "Keep the selected pool's block when re-optimizing, and at least the capacity you "
            "typed into it",
            self._toggle_lock,
        )
        self.lock_action.setCheckable(True)
        self.revert_action = action(
            "Revert to optimum",
            "Revert to optimum: drop the edits, back to the optimizer's layout",
            self.editor.revert,
            short="Revert",
        )
        self.reoptimize_action = action(
            "Re-optimize",
            "Find the best layout again, keeping the locked pools",
            self.reoptimize_requested.emit,
        )
        self.compare_action = action(
            "Compare…",
            "The optimum, the edited layout and the config's layout side by side",
            self.show_comparison,
        )
        # A tool bar, not a row of buttons: it folds what does not fit into its » menu,
        # so the panel stays as narrow as the window's docks need.
        self.tool_bar = QToolBar("Edit pools")
        self.tool_bar.setAccessibleName("Edit pools")
        self.tool_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for group in (
            (self.add_action, self.remove_action, self.merge_action, self.lock_action),
            (self.undo_action, self.redo_action, self.revert_action, self.reoptimize_action),
            (self.compare_action,),
        ):
            if self.tool_bar.actions():
                self.tool_bar.addSeparator()
            self.tool_bar.addActions(group)
        # One line under the tool bar: the verdict leads ("✔ Holds"), the details may be cut.
        self.verdict_label = ElidedLabel(
            "Whether the layout shown serves every allocation of the traces, by replay with "
            "drone's allocator rule (or, when no pool can ever fill, from the traces' peaks)"
        )
        self.verdict_label.setAccessibleName("Edited layout verdict")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.tool_bar)
        box.addWidget(self.verdict_label)
        self.table.selectionModel().currentRowChanged.connect(self._sync_actions)

    # ---- actions ----------------------------------------------------------------------------

    def _row(self) -> int:
        index = self.table.currentIndex()
        return index.row() if index.isValid() else -1

    @Slot()
    def _remove(self) -> None:
        if self._row() >= 0:
            self.editor.remove_pool(self._row())

    @Slot()
    def _merge(self) -> None:
        if self._row() >= 0:
            self.editor.merge_pools(self._row())

    @Slot()
    def _toggle_lock(self) -> None:
        row = self._row()
        if row >= 0:
            self.editor.set_locked(row, not self.editor.edited.pools[row].locked)

    @Slot()
    def _sync_actions(self, *_args: object) -> None:
        row = self._row()
        pools = self.editor.edited.pools
        chosen = 0 <= row < len(pools)
        has = self._sources[EDITED] is not None
        self.undo_action.setEnabled(self.editor.stack.canUndo())
        self.redo_action.setEnabled(self.editor.stack.canRedo())  # also set by the stack
        self.add_action.setEnabled(has)
        self.remove_action.setEnabled(has and chosen and len(pools) > 1)
        self.merge_action.setEnabled(has and chosen and row + 1 < len(pools))
        self.lock_action.setEnabled(has and chosen)
        self.lock_action.setChecked(chosen and pools[row].locked)
        self.revert_action.setEnabled(self.editor.is_edited())
        self.reoptimize_action.setEnabled(has and self._traces is not None)

    # ---- verdicts ---------------------------------------------------------------------------

    def _several(self) -> bool:
        return self._traces is not None and len(self._traces) > 1

    def _check(self, key: str) -> None:
        source = self._sources[key]
        if source is None or self._traces is None:
            if key == EDITED:
                self._show_verdict(None, "")
            self._compare_absent(key, source)
            return
        title, heap_size, pools = source
        verdict = self.runner.request(key, heap_size, pools)
        if verdict is not None:
            self._ready(key, verdict)

    @Slot(str, object)
    def _ready(self, key: str, verdict: Verdict) -> None:
        if key == EDITED:
            self._show_verdict(verdict, summary(verdict, self._several()))
        if self._compare is not None:
            source = self._sources[key]
            if source is not None:
                self._compare.view.set_title(key, source[0])
            self._compare.view.set_verdict(key, verdict, self._several())

    @Slot(str)
    def _checking(self, key: str) -> None:
        if key == EDITED:
            self._show_verdict(None, f"Verdict: {CHECKING}")
        source = self._sources[key]
        if self._compare is not None and source is not None:
            self._compare.view.set_checking(key, source[2])

    @Slot(str, str)
    def _check_failed(self, key: str, message: str) -> None:
        if key == EDITED:
            self._show_verdict(None, f"⚠ The check failed: {message}")

    def _show_verdict(self, verdict: Verdict | None, text: str) -> None:
        was_failing = self._failed
        self._verdict = verdict
        self._failed = verdict is not None and not verdict.holds
        self.verdict_label.setText(text)
        self._colour()
        # Only a failing verdict marks records: one that holds after another that held
        # leaves the load chart (and a validation's marks there) alone.
        if was_failing or self._failed:
            self.verdict_changed.emit()

    def _colour(self) -> None:
        palette = self.verdict_label.palette()
        role = QPalette.ColorRole.WindowText
        colour = failure_colour(self.palette()) if self._failed else self.palette().color(role)
        palette.setColor(role, colour)
        self.verdict_label.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "verdict_label"):
            self._colour()
        super().changeEvent(event)

    # ---- comparison -------------------------------------------------------------------------

    @Slot()
    def show_comparison(self) -> None:
        if self._compare is None:
            self._compare = CompareDialog(self)
        self._compare.show()
        self._compare.raise_()
        for key in (OPTIMUM, EDITED, CONFIG):
            self._check(key)

    def comparison(self) -> CompareDialog | None:
        return self._compare

    def _compare_absent(self, key: str, source: Source | None) -> None:
        if self._compare is None:
            return
        if source is not None:
            self._compare.view.set_title(key, source[0])
        why = {
            OPTIMUM: "No optimum (see the layout panel)",
            EDITED: "No layout",
            CONFIG: "No config file, or its heap has no pools",
        }[key]
        if self._traces is None:
            why = "No trace to check against"
        self._compare.view.set_absent(key, why)
