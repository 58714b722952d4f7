"""Loading several captures as one trace set, off the GUI thread like a single trace."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from heapgui.errors import HeapguiError
from heapgui.trace.load import read_trace
from heapgui.trace.traceset import TraceSet
from heapgui.ui.curves import default_heap_size
from heapgui.ui.loader import IsCancelled, Progress, config_heap_size

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedSet:
    traces: TraceSet
    paths: list[Path]


def load_trace_set(paths: list[Path], progress: Progress, cancelled: IsCancelled) -> LoadedSet:
    """The load job for a set: every trace is read with the same heap size.

    The heap size comes from the config beside the first trace; without one,
    each trace's default is computed and the largest is shared, so the
    percentages and the layout refer to one heap.
    """
    if not paths:
        raise HeapguiError("no trace files given")
    heap_size = config_heap_size(paths[0].parent)
    traces = []
    for done, path in enumerate(paths):

        def part(fraction: float, done: int = done) -> None:
            progress((done + fraction) / len(paths))

        traces.append(read_trace(path, heap_size=heap_size, progress=part, cancelled=cancelled))
    if heap_size is None:
        shared = max(default_heap_size(t.stats) for t in traces)
        for trace in traces:
            trace.stats.heap_size = shared
    for trace in traces:
        # Join the per-chunk load timelines here, off the GUI thread that charts them.
        trace.stats.timeline  # noqa: B018 - the property caches the joined array
    logger.info("loaded a set of %d traces", len(traces))
    return LoadedSet(TraceSet.of(traces), list(paths))
