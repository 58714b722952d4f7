"""`Workspace`: the one owner of a session's state.

Views never keep their own copy of what is here: they read it when an event
says it changed. Setters compare before they announce, so a view that sets a
value in reaction to an event does not start a loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heapgui.errors import HeapguiError
from heapgui.layout.config import HeapConfig
from heapgui.trace.load import Trace
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet
from heapgui.workspace.events import Event
from heapgui.workspace.heap import HeapSize, HeapSource, guessed_heap_size
from heapgui.workspace.planning import Planning
from heapgui.workspace.window import RecordRange, WindowIndexes


class Workspace:
    """What the user has open and decided.

    Events (arguments in brackets):
    - `traces_changed` (): a trace set was opened, replaced or closed;
    - `shown_changed` (index): another member of the set is shown;
    - `config_changed` (): the config or the heap name changed;
    - `heap_size_changed` (HeapSize | None);
    - `layout_changed` (layout outcome | None);
    - `validated` (validation result | None);
    - `capture_changed` (live capture | None);
    - `range_changed` ((first, last) | None): the record window the views share, record
      numbers with both ends included (heapgui.workspace.window converts);
    - `cursor_changed` (record | None).
    """

    def __init__(self) -> None:
        self.traces: TraceSet | None = None
        self.paths: list[Path] = []
        self.shown = 0
        self.config: HeapConfig | None = None
        self.heap_name: str | None = None
        self.heap: HeapSize | None = None
        self.layout: Any = None
        self.validation: Any = None
        self.live: Any = None
        self.range: RecordRange | None = None
        self.cursor: int | None = None
        self.planning = Planning(None)
        """The layouts of the set being planned, with their caches (drone's partitioner, the
        range peaks, the minimum heaps): see `plan_for`."""
        self._planned_for: TraceSet | None = None
        self.windows = WindowIndexes()  # the open set's window indexes, built once each

        self.traces_changed = Event("traces_changed")
        self.shown_changed = Event("shown_changed")
        self.config_changed = Event("config_changed")
        self.heap_size_changed = Event("heap_size_changed")
        self.layout_changed = Event("layout_changed")
        self.validated = Event("validated")
        self.capture_changed = Event("capture_changed")
        self.range_changed = Event("range_changed")
        self.cursor_changed = Event("cursor_changed")

    # The traces

    @property
    def trace(self) -> Trace | None:
        """The trace shown, or None when nothing is open."""
        return None if self.traces is None else self.traces.traces[self.shown]

    def open(
        self, traces: TraceSet | None, paths: list[Path], config: HeapConfig | None = None
    ) -> None:
        """Replace what is open, with the config found beside it (None: there is none).

        The layout, validation and range belonged to the old set, and so did its
        config: a config from another directory describes another firmware's heap.
        A size the user typed stays; without a config or one, the heap is guessed.
        Everything is settled before the first event, so no view renders the new
        traces against the old heap.
        """
        self.traces, self.paths, self.shown = traces, list(paths), 0
        self.range = self.cursor = None
        self.windows.clear()
        config_changed = config is not self.config or self.heap_name is not None
        self.config, self.heap_name = config, None
        heap = self._settled_heap(self._all_stats())
        heap_changed, self.heap = heap != self.heap, heap
        self.set_layout(None)
        self.set_validation(None)
        self.traces_changed.emit()
        self.range_changed.emit(None)
        if config_changed:
            self.config_changed.emit()
        if heap_changed:
            self.heap_size_changed.emit(heap)

    def show(self, index: int) -> None:
        if self.traces is None or not 0 <= index < len(self.traces):
            raise IndexError(f"no trace {index} in the set")
        if index != self.shown:
            self.shown = index
            self.shown_changed.emit(index)

    # The config and the heap size

    def use_config(self, config: HeapConfig | None, heap_name: str | None = None) -> None:
        """Take the heap size from the config's heap; without a config, keep a typed size or
        guess it again."""
        if config is not self.config or heap_name != self.heap_name:
            self.config, self.heap_name = config, heap_name
            self.config_changed.emit()
        self.set_heap_size(self._settled_heap(self._all_stats()))

    def follow_capture(self, stats: Statistics) -> None:
        """A guessed heap grows with a live capture's statistics; a config or typed one stays."""
        self.set_heap_size(self._settled_heap([stats]))

    def type_heap_size(self, size: int) -> None:
        self.set_heap_size(HeapSize(size, HeapSource.TYPED))

    def set_heap_size(self, heap: HeapSize | None) -> None:
        if heap != self.heap:
            self.heap = heap
            self.heap_size_changed.emit(heap)

    @property
    def heap_size(self) -> int | None:
        return None if self.heap is None else self.heap.size

    def _all_stats(self) -> list[Statistics]:
        return [] if self.traces is None else [trace.stats for trace in self.traces.traces]

    def _settled_heap(self, stats: list[Statistics]) -> HeapSize | None:
        """The one rule: the config's heap, else the size the user typed, else a guess.

        A set's guess is the largest of its traces', so every trace refers to one heap.
        """
        configured = self._config_heap()
        if configured is not None:
            return configured
        if self.heap is not None and self.heap.source is HeapSource.TYPED:
            return self.heap
        if not stats:
            return None
        size = max(guessed_heap_size(one) for one in stats)
        return HeapSize(size, HeapSource.GUESSED)

    def _config_heap(self) -> HeapSize | None:
        if self.config is None:
            return None
        try:
            spec = self.config.heap(self.heap_name)
        except HeapguiError:
            return None  # no such heap: the layout panel says so where the heap is chosen
        return HeapSize(spec.size, HeapSource.CONFIG, self.config.path.name)

    # Planning

    def plan_for(self, traces: TraceSet | None) -> Planning:
        """The planning of `traces` (the set, or the records of a chosen range); planning
        the same set again keeps what its caches learnt."""
        if traces is not self._planned_for or traces is None:
            self._planned_for = traces
            self.planning = Planning(traces)
        return self.planning

    # Results that views render

    def set_layout(self, layout: Any) -> None:
        if layout is not self.layout:
            self.layout = layout
            self.layout_changed.emit(layout)

    def set_validation(self, result: Any) -> None:
        if result is not self.validation:
            self.validation = result
            self.validated.emit(result)

    def set_live(self, capture: Any) -> None:
        if capture is not self.live:
            self.live = capture
            self.capture_changed.emit(capture)

    # The shared time view

    def select_range(self, window: tuple[int, int] | None) -> None:
        if window is not None:
            first, last = window
            if first > last:
                first, last = last, first
            window = (first, last)
        if window != self.range:
            self.range = window
            self.range_changed.emit(window)

    def move_cursor(self, record: int | None) -> None:
        if record != self.cursor:
            self.cursor = record
            self.cursor_changed.emit(record)

    def demand_traces(self) -> TraceSet | None:
        """What a layout plans for: the set, or, with a range chosen, each trace's range
        (its statistics with every allocation in, its records the starting load and the
        range's records). The first call for a trace builds its window index: call it
        inside the planning job, not in the GUI thread, on a long trace."""
        if self.traces is None or self.range is None:
            return self.traces
        return self.windows.demand(self.traces, self.range)
