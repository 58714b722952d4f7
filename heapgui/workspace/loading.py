"""The load jobs: reading a trace or a trace set with the config found beside it.

A job is a plain call `job(progress, cancelled)`: the GUI runs it off its thread
(`heapgui.ui.loader.Task`) and hands the result to `Workspace.open`; the command
line could run the same call in its own thread. No job decides the heap size
shown: the workspace does, from the config a job found or from the traces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heapgui.errors import HeapguiError
from heapgui.layout.config import HeapConfig, find_config, load_config
from heapgui.trace.load import Trace, read_trace
from heapgui.trace.traceset import TraceSet

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]
IsCancelled = Callable[[], bool]
Job = Callable[[Progress, IsCancelled], Any]


@dataclass(frozen=True)
class LoadedTrace:
    trace: Trace
    path: Path
    config: HeapConfig | None = None
    """The usable config beside the trace, if there is one."""
    chosen_format: bool = False  # the user chose the format; it was not detected


@dataclass(frozen=True)
class LoadedSet:
    traces: TraceSet
    paths: list[Path]
    config: HeapConfig | None = None
    """The usable config beside the first trace, if there is one."""


def config_beside(directory: Path) -> HeapConfig | None:
    """Drone.toml (else layout.toml) in `directory`, if there is a readable one.

    A broken config does not stop a trace from loading: it is logged here, and
    the layout panel shows its error when the user opens it there.
    """
    path = find_config(directory)
    if path is None:
        return None
    try:
        return load_config(path)
    except HeapguiError as exc:
        logger.info("%s", exc)
        return None


def main_heap_size(config: HeapConfig | None) -> int | None:
    """The size of the config's main heap, or None without one."""
    if config is None:
        return None
    try:
        return config.heap().size
    except HeapguiError as exc:
        logger.info("%s", exc)
        return None


def config_heap_size(directory: Path) -> int | None:
    """The main heap's size from the config in `directory`, if there is a usable one."""
    return main_heap_size(config_beside(directory))


def load_trace(
    path: Path, progress: Progress, cancelled: IsCancelled, fmt: str = "auto"
) -> LoadedTrace:
    """Read `path`; allocations larger than the config's heap (if any) are refused as the
    firmware would. `fmt` is "auto" (detect) or the format the user chose."""
    config = config_beside(path.parent)
    trace = _read(path, config, progress, cancelled, fmt)
    return LoadedTrace(trace, path, config, chosen_format=fmt != "auto")


def load_trace_set(paths: list[Path], progress: Progress, cancelled: IsCancelled) -> LoadedSet:
    """Read every trace of a set against the same config: the one beside the first trace."""
    if not paths:
        raise HeapguiError("no trace files given")
    config = config_beside(paths[0].parent)
    traces = []
    for done, path in enumerate(paths):

        def part(fraction: float, done: int = done) -> None:
            progress((done + fraction) / len(paths))

        traces.append(_read(path, config, part, cancelled))
    logger.info("loaded a set of %d traces", len(traces))
    return LoadedSet(TraceSet.of(traces), list(paths), config)


def _read(
    path: Path,
    config: HeapConfig | None,
    progress: Progress,
    cancelled: IsCancelled,
    fmt: str = "auto",
) -> Trace:
    limit = main_heap_size(config)
    trace = read_trace(path, fmt, heap_size=limit, progress=progress, cancelled=cancelled)
    # Join the per-chunk load timeline here, off the GUI thread that charts it.
    trace.stats.timeline  # noqa: B018 - the property caches the joined array
    return trace
