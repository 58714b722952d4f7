"""The hand-edited layout on top of the optimum, with undo and redo (`QUndoStack`).

Each edit is one `EditCommand` holding the edited layout before and after
(layouts are small values, heapgui.layout.edit), so undo cannot drift from
what was shown. A new optimum (another heap size, pool count, method or
headroom) starts the editing afresh: the undo history covers the edits of one
optimum, and the locks are carried over to the pools of the same block.
Re-optimizing with the locked pools and reverting to the optimum are
commands too, so both can be undone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from heapgui.errors import HeapguiError
from heapgui.layout.edit import EditedLayout
from heapgui.layout.generate import Layout

logger = logging.getLogger(__name__)


MERGING = 1
"""The id of commands that may merge: the keystrokes typed into one capacity cell."""


class EditCommand(QUndoCommand):
    """One edit: the editor's state (optimum and edited layout) before and after.

    Commands with the same `merge_key` in a row become one step, so typing
    "120" into a capacity is undone at once, not digit by digit.
    """

    def __init__(
        self,
        editor: PoolEditor,
        text: str,
        before: tuple[Layout | None, EditedLayout],
        after: tuple[Layout | None, EditedLayout],
        merge_key: object = None,
    ) -> None:
        super().__init__(text)
        self._editor = editor
        self._before = before
        self._after = after
        self._merge_key = merge_key

    def id(self) -> int:
        return MERGING if self._merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, EditCommand) or other._merge_key != self._merge_key:
            return False
        self._after = other._after
        return True

    def redo(self) -> None:
        self._editor._restore(*self._after)  # noqa: SLF001 - the command is the editor's own

    def undo(self) -> None:
        self._editor._restore(*self._before)  # noqa: SLF001


class PoolEditor(QObject):
    """The optimum and its edited copy; `changed` after every change of either."""

    changed = Signal()
    refused = Signal(str)
    """An edit was refused; the one-line reason."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = QUndoStack(self)
        self._optimum: Layout | None = None
        self._edited = EditedLayout(())
        self._typing = 0  # counts cell editors closed, so their keystrokes merge apart

    @property
    def optimum(self) -> Layout | None:
        return self._optimum

    @property
    def edited(self) -> EditedLayout:
        return self._edited

    def is_edited(self) -> bool:
        """Whether the pools differ from the optimum's (locks alone are not an edit)."""
        if self._optimum is None:
            return False
        return self._edited.plain() != tuple(sorted(self._optimum.pools, key=lambda p: p.block))

    def set_optimum(self, layout: Layout | None) -> None:
        """Start editing a new optimum; locks stay on the pools of the same block."""
        self.stack.clear()
        self._restore(layout, self._from_optimum(layout))

    def reoptimized(self, layout: Layout | None) -> None:
        """The optimum found again with the locked pools kept: one undoable step."""
        after = (layout, self._from_optimum(layout))
        self.stack.push(EditCommand(self, "Re-optimize", self._state(), after))

    # ---- edits ------------------------------------------------------------------------------

    def set_block(self, row: int, block: int) -> bool:
        return self._edit(f"Block of pool {row + 1}", lambda e: e.with_block(row, block))

    def set_capacity(self, row: int, capacity: int) -> bool:
        return self._edit(
            f"Capacity of pool {row + 1}",
            lambda e: e.with_capacity(row, capacity),
            merge_key=("capacity", row, self._typing),
        )

    def end_typing(self) -> None:
        """The cell editor closed: the next capacity typed is an undo step of its own."""
        self._typing += 1

    def set_locked(self, row: int, locked: bool) -> bool:
        what = "Lock" if locked else "Unlock"
        return self._edit(f"{what} pool {row + 1}", lambda e: e.with_lock(row, locked))

    def add_pool(self) -> bool:
        return self._edit("Add a pool", lambda e: e.with_pool(e.new_block()))

    def remove_pool(self, row: int) -> bool:
        return self._edit(f"Remove pool {row + 1}", lambda e: e.without(row))

    def merge_pools(self, row: int) -> bool:
        return self._edit(f"Merge pools {row + 1} and {row + 2}", lambda e: e.merged(row))

    def revert(self) -> None:
        """Back to the optimum, keeping the locks."""
        if self.is_edited():
            after = (self._optimum, self._from_optimum(self._optimum))
            self.stack.push(EditCommand(self, "Revert to optimum", self._state(), after))

    # ---- state ------------------------------------------------------------------------------

    def _edit(
        self,
        text: str,
        change: Callable[[EditedLayout], EditedLayout],
        merge_key: object = None,
    ) -> bool:
        try:
            edited = change(self._edited)
        except HeapguiError as exc:
            self.refused.emit(str(exc))
            return False
        if edited != self._edited:
            after = (self._optimum, edited)
            self.stack.push(EditCommand(self, text, self._state(), after, merge_key))
        return True

    def _state(self) -> tuple[Layout | None, EditedLayout]:
        return self._optimum, self._edited

    def _from_optimum(self, layout: Layout | None) -> EditedLayout:
        if layout is None:
            return EditedLayout(())
        return EditedLayout.of(layout.pools, self._edited.locks())

    def _restore(self, optimum: Layout | None, edited: EditedLayout) -> None:
        self._optimum = optimum
        self._edited = edited
        self.changed.emit()
