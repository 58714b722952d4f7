"""The statistics of the workspace's range for the trace shown, computed off the GUI thread.

The first range on a trace needs its window index (one pass over the records):
a short trace builds it at once, a long one in a `Task`, after which every
range is answered in the time of two index blocks. Until it is ready the
views keep what they show.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from heapgui.trace.load import Trace
from heapgui.trace.window import WindowIndex
from heapgui.ui.loader import Task
from heapgui.workspace import Workspace
from heapgui.workspace.window import build_index

logger = logging.getLogger(__name__)

INLINE_RECORDS = 1_000_000
"""Up to this many records the index is built in the GUI thread (about 30 ms for a million
workload records, measured); longer traces build it in a Task."""


class RangeStatistics(QObject):
    """Emits `changed` with the range's statistics for the trace shown, or None for the
    whole trace (no range, or nothing to window)."""

    changed = Signal(object)
    failed = Signal(str)

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._task: Task | None = None
        self._building: Trace | None = None
        workspace.range_changed.connect(lambda _range: self.refresh())
        workspace.shown_changed.connect(lambda _index: self.refresh())
        workspace.traces_changed.connect(self._cancel)

    def refresh(self) -> None:
        ws = self._workspace
        trace = ws.trace
        if ws.range is None or trace is None or trace.records is None:
            self.changed.emit(None)
            return
        if ws.windows.get(trace) is not None or len(trace.records) <= INLINE_RECORDS:
            self.changed.emit(ws.windows.statistics(trace, ws.range))
            return
        if self._building is trace:
            return  # the index on its way answers the range chosen by the time it is done
        self._cancel()
        task = Task(lambda progress, cancelled: build_index(trace))
        task.succeeded.connect(lambda index: self._indexed(trace, index))
        task.failed.connect(self.failed)
        self._task, self._building = task, trace
        task.start()

    def _indexed(self, trace: Trace, index: WindowIndex) -> None:
        self._task = self._building = None
        self._workspace.windows.add(trace, index)
        if self._workspace.trace is trace:
            self.refresh()

    def _cancel(self) -> None:
        """Another trace is shown: its index is not needed now (the job's result is dropped)."""
        if self._task is not None:
            self._task.cancel()
        self._task = self._building = None
