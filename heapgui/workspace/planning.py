"""Planning a layout for the open traces: the one entry point of the GUI and `heapgui-cli generate`.

A `Planning` belongs to one trace set and keeps what is costly to find again:
the set counted with every allocation in (`whole_demand`), drone's
`Partitioner` (every pool count a lookup), the range peaks the timeline
method starts from, and the minimum heaps per pool count and headroom.

`Planning.plan` is the job: it touches no cache, so the GUI may run it off
its thread and hand the answer back to `Planning.keep`. The range peaks are
the exception: a job refines them in place, so one job runs at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from heapgui.layout.generate import MAX_POOLS, Layout, LayoutDoesNotFit, generate
from heapgui.layout.kept import Kept
from heapgui.layout.plan import (
    MinimumHeaps,
    drone_partition,
    minimum_heaps,
    plan_layout,
    range_peaks,
    whole_demand,
)
from heapgui.layout.pools import Partitioner, demand, first_fit
from heapgui.layout.timeline import RangePeaks
from heapgui.trace.traceset import TraceSet

DRONE = "drone"
TIMELINE = "timeline"

BIG_SET = 500_000
"""Records in all from which the range peaks (about 10 bytes per event) are kept only while
the timeline method uses them."""


@dataclass(frozen=True)
class PlanRequest:
    heap_size: int
    pools: int
    method: str = DRONE
    headroom: float = 0.0
    kept: tuple[Kept, ...] = ()  # the locked pools
    spread: str = "drone"

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


@dataclass(frozen=True)
class LayoutOutcome:
    """The layout on offer, as the layout panel publishes it (`Workspace.layout`).

    Either a `layout` (the optimum, or the user's edit of it; `source` is how
    verdicts name it) or, when the request does not fit the heap, `no_fit`.
    `heaps` are the minimum heaps for the request when they were known.
    """

    request: PlanRequest
    layout: Layout | None
    source: str = ""
    """How verdicts name it: "the proposed timeline layout", "the hand-edited layout"."""
    no_fit: LayoutDoesNotFit | None = None
    heaps: MinimumHeaps | None = None


class Planning:
    """The layouts and minimum heaps of one trace set (None: drone's starter layout)."""

    def __init__(self, traces: TraceSet | None) -> None:
        self.traces = whole_demand(traces) if traces is not None and len(traces) else None
        """The set as planned: with allocations larger than the heap it was read for counted in."""
        rows = self.traces.max_loads() if self.traces is not None else []
        self.traced_sizes = [size for size, max_load in rows if size and max_load]
        needed = demand(rows)
        # One partitioner per set: every spinner step afterwards is a lookup.
        self.partitioner = Partitioner(needed, MAX_POOLS) if needed else None
        self.peaks: RangePeaks | None = None
        self._heaps: dict[tuple[int, float], MinimumHeaps] = {}
        self._bytes_by_pools: dict[float, list[int]] = {}  # by headroom

    @property
    def records(self) -> int:
        return sum(t.record_count for t in self.traces.traces) if self.traces is not None else 0

    def fragmentation_by_pools(self) -> list[int]:
        """drone's fragmentation for 1, 2, … pools (empty without a traced allocation)."""
        part = self.partitioner
        return [] if part is None else [part.fragmentation(p) for p in range(1, part.max_pools + 1)]

    def pool_needs(self, layout: Layout, method: str) -> list[int | None]:
        """Blocks each pool of `layout` must hold for the traced demand it serves, by the
        method's own rule and before headroom: drone's sum of max loads, or the timeline
        method's simultaneous peak of its sizes. None where that is not known here: no
        traced size, or a timeline peak not yet made exact (it is, for an optimized layout).
        """
        part = self.partitioner
        if part is None:
            return [None] * len(layout.pools)
        # Each pool's indices into the demand (ascending, word-aligned sizes).
        groups = first_fit(layout.pools, [size for size, _count in part.demand])
        needs: list[int | None] = [0] * len(layout.pools)
        for k, indices in enumerate(groups):
            if not indices:
                continue
            if method != TIMELINE:
                needs[k] = sum(part.demand[i][1] for i in indices)
                continue
            peaks = self.peaks
            if peaks is None:
                needs[k] = None
                continue
            first, last = np.searchsorted(
                peaks.classes, [part.demand[i][0] for i in (indices[0], indices[-1])]
            )
            exact = peaks.is_exact(int(first), int(last))
            needs[k] = int(peaks.lower[first, last]) if exact else None
        return needs

    def bytes_by_pools(self, headroom: float = 0.0) -> list[int]:
        """The least heap drone's partition takes for 1, 2, … pools (the same counts as
        `fragmentation_by_pools`) with `headroom`: which pool counts fit a heap."""
        part = self.partitioner
        if part is None:
            return []
        counts = range(1, part.max_pools + 1)
        if not headroom:
            return [part.partition(p).bytes for p in counts]
        if headroom not in self._bytes_by_pools:
            rows = self.traces.max_loads()
            self._bytes_by_pools[headroom] = [
                drone_partition(rows, p, headroom).bytes for p in counts
            ]
        return self._bytes_by_pools[headroom]

    def heaps(self, request: PlanRequest) -> MinimumHeaps | None:
        """The minimum heaps for the request's pool count and headroom, if already known."""
        return self._heaps.get(request.heaps_key)

    def is_quick(self, request: PlanRequest) -> bool:
        """Whether `layout` answers at once: drone's method (a lookup, or a headroom pass)."""
        return request.method != TIMELINE or self.partitioner is None

    def layout(self, request: PlanRequest) -> Layout:
        """The request's layout here and now; raises LayoutDoesNotFit (a HeapguiError)."""
        if self.traces is None:
            return generate([], request.heap_size, request.pools, kept=request.kept)
        return plan_layout(
            self.traces,
            request.heap_size,
            request.pools,
            request.method,
            request.headroom,
            request.spread,
            self.peaks,
            request.kept,
            self.partitioner,
        )

    def plan(self, request: PlanRequest, want_layout: bool, want_heaps: bool) -> Planned:
        """The job: range peaks once per set, then the layout and the minimum heaps asked for."""
        traces = self.traces
        assert traces is not None, "nothing to plan without traces"
        peaks = self.peaks
        timeline = request.method == TIMELINE
        if peaks is None and (want_heaps or (want_layout and timeline)):
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
                    request.spread,
                    peaks,
                    request.kept,
                )
            except LayoutDoesNotFit as exc:
                no_fit = exc
        if want_heaps:
            heaps = minimum_heaps(traces, request.pools, request.headroom, peaks)
        return Planned(traces, request, peaks, heaps, layout, no_fit)

    def keep(self, result: Planned) -> Planned:
        """Cache what a job found for this set; the result with the heaps known so far."""
        if result.traces is not self.traces:
            return result  # planned for a set that has been replaced since
        keep_peaks = result.request.method == TIMELINE or self.records < BIG_SET
        self.peaks = result.peaks if keep_peaks else None
        key = result.request.heaps_key
        if result.heaps is not None:
            self._heaps[key] = result.heaps
        elif key in self._heaps:
            result = replace(result, heaps=self._heaps[key])
        return result
