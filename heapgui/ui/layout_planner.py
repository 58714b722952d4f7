"""Running the core's planning jobs (heapgui.workspace.planning) off the GUI thread.

The timeline optimizer and the range peaks it starts from take about a second
each on ten-million-record traces, so they run in a background `Task`; small
sets are planned inline, where a thread would cost more than the job. One job
runs at a time: jobs share the set's `RangePeaks`, which every job refines in
place, so two at once could overwrite each other's exact peaks. A request made
while a job runs waits, and only the newest waiting request is kept.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from heapgui.ui.loader import IsCancelled, Progress, Task
from heapgui.workspace.planning import Planned, Planning, PlanRequest

logger = logging.getLogger(__name__)

INLINE_RECORDS = 500_000
"""Sets with fewer records in all are planned in the GUI thread (milliseconds)."""


class LayoutPlanner(QObject):
    """Plans for one `Planning` at a time; answers arrive through `planned`."""

    planned = Signal(object)
    """A `Planned`; its `traces` may be a set that was replaced meanwhile."""
    failed = Signal(str)

    def __init__(self, planning: Planning, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.planning = planning
        self._task: Task | None = None
        self._waiting: tuple[PlanRequest, bool] | None = None

    def set_planning(self, planning: Planning) -> None:
        """Plan for another set; a job still running for the old one is ignored when it ends."""
        self.planning = planning
        self._waiting = None

    def busy(self) -> bool:
        return self._task is not None

    def request(self, request: PlanRequest, want_layout: bool) -> bool:
        """Plan `request`; True when `planned` was already emitted (inline or nothing to do)."""
        planning = self.planning
        if planning.traces is None:
            return True
        if self._task is not None:
            self._waiting = (request, want_layout)
            return False
        known = planning.heaps(request)
        if not want_layout and known is not None:
            self.planned.emit(Planned(planning.traces, request, planning.peaks, known))
            return True
        want_heaps = known is None
        records = planning.records
        if Task.inline or records < INLINE_RECORDS:
            self._take(planning.plan(request, want_layout, want_heaps))
            return True

        def job(progress: Progress, cancelled: IsCancelled) -> Planned:
            return planning.plan(request, want_layout, want_heaps)

        task = Task(job)  # unparented: dropped once it has reported
        task.succeeded.connect(self._succeeded)
        task.failed.connect(self._failed)
        self._task = task
        logger.info("planning %s in the background (%d records)", request, records)
        task.start()
        return False

    @Slot(object)
    def _succeeded(self, result: Planned) -> None:
        self._task = None
        self._take(result)
        self._next()

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._task = None
        self.failed.emit(message)
        self._next()

    def _take(self, result: Planned) -> None:
        self.planned.emit(self.planning.keep(result))

    def _next(self) -> None:
        if self._waiting is not None:
            request, want_layout = self._waiting
            self._waiting = None
            self.request(request, want_layout)
