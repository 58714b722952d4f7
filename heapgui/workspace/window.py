"""The record range the time views share, and the statistics over it.

`Workspace.range` is `(first, last)`: record numbers as the charts and the chip
show them, **both included**, the records the user dragged across ("records
first–last"). heapgui.trace.window counts half-open windows `[start, stop)` of
positions in a trace's records, as `heapgui-cli stats --range start:stop` does.
`positions` is the one place that converts between the two.

A `WindowIndex` answers any window of a trace in time independent of the
window's length after one pass over the trace; `WindowIndexes` keeps one per
trace of the open set, so dragging another range costs only the two blocks
its ends fall in. Building one is the slow part: the window builds them off
the GUI thread with `build_index` and hands them over with `add`.
"""

from __future__ import annotations

from dataclasses import replace

from heapgui.trace.load import Trace
from heapgui.trace.records import Records
from heapgui.trace.traceset import TraceSet
from heapgui.trace.window import WindowIndex, WindowStatistics, starting_load

RecordRange = tuple[int, int]
"""(first, last) record numbers, both included."""


def positions(chosen: RecordRange, records: Records) -> tuple[int, int]:
    """The half-open window [start, stop) of positions in `records` that `chosen` covers,
    clipped to the trace (a range chosen on another trace of the set may reach past it)."""
    first, last = chosen
    count = len(records)
    start = min(max(first - records.first_index, 0), count)
    stop = min(max(last + 1 - records.first_index, start), count)
    return start, stop


def command_line_range(chosen: RecordRange, records: Records) -> str:
    """The `--range A:B` that makes `heapgui-cli stats` print the same table."""
    start, stop = positions(chosen, records)
    return f"{start}:{stop}"


def build_index(trace: Trace, whole: bool = False) -> WindowIndex:
    """A trace's window index: counted against the heap its statistics were (the table's
    figures), or, `whole`, with every allocation in (what a layout must serve)."""
    if trace.records is None:
        raise ValueError(f"{trace.source}: a streamed trace keeps no records to window")
    return WindowIndex(trace.records, None if whole else trace.stats.heap_limit)


class WindowIndexes:
    """One `WindowIndex` per trace (and per kind of count), kept while the set is open."""

    def __init__(self) -> None:
        self._built: dict[tuple[int, bool], tuple[Trace, WindowIndex]] = {}

    def get(self, trace: Trace, whole: bool = False) -> WindowIndex | None:
        found = self._built.get((id(trace), whole))
        # The trace is kept with its index, so its id cannot be reused while it is here.
        return found[1] if found is not None and found[0] is trace else None

    def add(self, trace: Trace, index: WindowIndex, whole: bool = False) -> None:
        self._built[(id(trace), whole)] = (trace, index)

    def clear(self) -> None:
        self._built.clear()

    def index(self, trace: Trace, whole: bool = False) -> WindowIndex:
        """The trace's index, built here (in the caller's thread) the first time."""
        index = self.get(trace, whole)
        if index is None:
            index = build_index(trace, whole)
            self.add(trace, index, whole)
        return index

    def statistics(
        self, trace: Trace, chosen: RecordRange, whole: bool = False
    ) -> WindowStatistics:
        """The statistics of the records `chosen` covers in `trace`."""
        return self.index(trace, whole).window(*positions(chosen, trace.records))

    def demand(self, traces: TraceSet, chosen: RecordRange) -> TraceSet:
        """The set as a layout for the range sees it: each trace's statistics those of the
        range with every allocation counted in, and its records the range's starting load
        (as allocations) followed by the range's records, as `generate --range` plans.
        The range's records keep their numbers; the starting load takes those before."""
        windowed = []
        for trace in traces.traces:
            index = self.index(trace, whole=True)
            start, stop = positions(chosen, trace.records)
            stats = index.window(start, stop)
            load = starting_load(index.window(start, start))  # what was live when it began
            # Numbered so that the range's own records keep their numbers in the trace (a
            # verdict names them): each block live at A took a record before A.
            load = replace(load, first_index=trace.records.first_index + start - len(load))
            records = Records.concat([load, trace.records.slice(start, stop)])
            windowed.append(replace(trace, records=records, stats=stats, oversize=None))
        return TraceSet(list(traces.names), windowed)
