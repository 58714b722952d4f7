"""The layout panel's slow work: range peaks, timeline layouts and minimum-heap figures.

The timeline optimizer and the range peaks it starts from take about a second
each on ten-million-record traces, so they run in a background `Task`; small
sets are planned inline, where a thread would cost more than the job. One job
runs at a time: jobs share the set's `RangePeaks`, which every job refines in
place, so two at once could overwrite each other's exact peaks. A request made
while a job runs waits, and only the newest waiting request is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from heapgui.layout.generate import Layout, LayoutDoesNotFit
from heapgui.layout.kept import Kept
from heapgui.layout.plan import MinimumHeaps, minimum_heaps, plan_layout, range_peaks
from heapgui.layout.timeline import RangePeaks
from heapgui.trace.traceset import TraceSet
from heapgui.ui.loader import IsCancelled, Progress, Task

logger = logging.getLogger(__name__)

INLINE_RECORDS = 500_000
"""Sets with fewer records in all are planned in the GUI thread (milliseconds)."""

DRONE = "drone"
TIMELINE = "timeline"


@dataclass(frozen=True)
class PlanRequest:
    heap_size: int
    pools: int
    method: str
    headroom: float
    kept: tuple[Kept, ...] = ()  # the locked pools

    @property
    def heaps_key(self) -> tuple[int, float]:
        return self.pools, self.headroom


@dataclass(frozen=True)
class Planned:
    """What a job found for `request`; `layout` and `no_fit` only when a layout was asked for."""

    traces: TraceSet
    request: PlanRequest
    peaks: RangePeaks | None
    heaps: MinimumHeaps | None
    layout: Layout | None = None
    no_fit: LayoutDoesNotFit | None = None


def plan(
    traces: TraceSet,
    peaks: RangePeaks | None,
    request: PlanRequest,
    want_layout: bool,
    want_heaps: bool,
) -> Planned:
    """The job: range peaks once per set, then the layout and the minimum heaps asked for."""
    if peaks is None:
        peaks = range_peaks(traces)
    layout = no_fit = heaps = None
    if want_layout:
        try:
            layout = plan_layout(
                traces,
                request.heap_size,
                request.pools,
                request.method,
                request.headroom,
                peaks=peaks,
                kept=request.kept,
            )
        except LayoutDoesNotFit as exc:
            no_fit = exc
    if want_heaps:
        heaps = minimum_heaps(traces, request.pools, request.headroom, peaks)
    return Planned(traces, request, peaks, heaps, layout, no_fit)


class LayoutPlanner(QObject):
    """Plans for one trace set at a time; answers arrive through `planned`."""

    planned = Signal(object)
    """A `Planned`; its `traces` may be a set that was replaced meanwhile."""
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._traces: TraceSet | None = None
        self._peaks: RangePeaks | None = None
        self._heaps: dict[tuple[int, float], MinimumHeaps] = {}
        self._task: Task | None = None
        self._waiting: tuple[PlanRequest, bool] | None = None

    def set_traces(self, traces: TraceSet | None) -> None:
        """Forget what was planned; a job still running for the old set is ignored when it ends."""
        self._traces = traces
        self._peaks = None
        self._heaps = {}
        self._waiting = None

    def busy(self) -> bool:
        return self._task is not None

    def heaps(self, request: PlanRequest) -> MinimumHeaps | None:
        """The minimum heaps for the request's pool count and headroom, if already known."""
        return self._heaps.get(request.heaps_key)

    def request(self, request: PlanRequest, want_layout: bool) -> bool:
        """Plan `request`; True when `planned` was already emitted (inline or nothing to do)."""
        if self._traces is None:
            return True
        if self._task is not None:
            self._waiting = (request, want_layout)
            return False
        want_heaps = request.heaps_key not in self._heaps
        if not want_layout and not want_heaps:
            self.planned.emit(
                Planned(self._traces, request, self._peaks, self._heaps[request.heaps_key])
            )
            return True
        traces, peaks = self._traces, self._peaks
        records = sum(len(t.records) for t in traces.traces)
        if Task.inline or records < INLINE_RECORDS:
            self._take(plan(traces, peaks, request, want_layout, want_heaps))
            return True

        def job(progress: Progress, cancelled: IsCancelled) -> Planned:
            return plan(traces, peaks, request, want_layout, want_heaps)

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
        if result.traces is self._traces:
            # Range peaks cost about 10 bytes per event; on a big set keep them only
            # while the timeline method uses them (the heap figures stay cached).
            big = sum(len(t.records) for t in result.traces.traces) >= INLINE_RECORDS
            keep = result.request.method == TIMELINE or not big
            self._peaks = result.peaks if keep else None
            if result.heaps is not None:
                self._heaps[result.request.heaps_key] = result.heaps
            elif result.request.heaps_key in self._heaps:
                result = Planned(
                    result.traces,
                    result.request,
                    result.peaks,
                    self._heaps[result.request.heaps_key],
                    result.layout,
                    result.no_fit,
                )
        self.planned.emit(result)

    def _next(self) -> None:
        if self._waiting is not None:
            request, want_layout = self._waiting
            self._waiting = None
            self.request(request, want_layout)
