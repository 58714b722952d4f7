"""The load jobs: reading a trace or a trace set with the config found beside it.

A job is a plain call `job(progress, cancelled)`: the GUI runs it off its thread
(`heapgui.ui.loader.Task`) and hands the result to `Workspace.open`; the command
line could run the same call in its own thread. No job decides the heap size
shown: the workspace does, from the config a job found or from the traces.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heapgui.capture.itm import ItmDemux
from heapgui.capture.itm_results import DemuxChunk, PortClock
from heapgui.errors import DecodeError, HeapguiError
from heapgui.layout.config import HeapConfig, find_config, load_config
from heapgui.trace.formats import (
    DETECT_PREFIX,
    FORCE_HINT_THRESHOLD,
    detect,
    format_scores,
    make_decoder,
)
from heapgui.trace.load import Cancelled, Trace, read_trace
from heapgui.trace.traceset import TraceSet

logger = logging.getLogger(__name__)

HEAPTRACE_PORT = 31
"""The ITM stimulus port drone's heap tracing writes to (`drone log :31`)."""
SWO_SUFFIX = ".swo"
DEMUX_READ = 4 << 20  # a raw capture streams through the demultiplexer in pieces this size
DEMUX_SHARE = 0.5  # of the progress bar: demultiplexing, then reading the trace it gave
NOT_A_TRACE = (
    "not a heap trace (framed, legacy or tagged) nor a raw SWO capture with a heap trace on "
    "ITM port 31. Open the heaptrace file `drone log` wrote, or capture one with "
    "Capture → Start; if this is a damaged trace, choose its format with File → Open As"
)

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
    demuxed: int | None = None
    """For a raw SWO capture: the heap trace's bytes taken out of its ITM port."""


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
    trace, demuxed = _read_file(path, config, progress, cancelled, fmt)
    return LoadedTrace(trace, path, config, chosen_format=fmt != "auto", demuxed=demuxed)


def _read_file(
    path: Path, config: HeapConfig | None, progress: Progress, cancelled: IsCancelled, fmt: str
) -> tuple[Trace, int | None]:
    """A trace file, or the heap trace in a raw SWO capture with the bytes it had."""
    if fmt == "auto" and is_swo(path):
        return _read_swo(path, config, progress, cancelled)
    try:
        return _read(path, config, progress, cancelled, fmt), None
    except DecodeError as exc:
        raise _what_to_do(path, exc, fmt) from None


def is_swo(path: Path) -> bool:
    """A raw SWO capture: named .swo, or ITM packets whose port 31 carries a heap trace.

    Detection goes first for other names, so a trace is never taken for ITM.
    """
    if path.suffix.lower() == SWO_SUFFIX:
        return True
    try:
        with path.open("rb") as f:
            prefix = f.read(DETECT_PREFIX)
    except OSError:
        return False  # reading it as a trace reports why it cannot be read
    try:
        detect(prefix)
        return False
    except DecodeError:
        pass  # not a trace: reading it reports that, unless it is SWO
    demux = ItmDemux()
    payload = demux.feed(prefix).payload(HEAPTRACE_PORT)
    if not payload or demux.skipped_bytes * 2 > len(prefix):
        return False
    try:
        detect(payload)
    except DecodeError:
        return False
    return True


def _what_to_do(path: Path, exc: DecodeError, fmt: str) -> HeapguiError:
    """Detection found no format: unless one came close (the error then names File → Open
    As already), say what to open instead. Only detection fails without strict decoding."""
    if fmt == "auto":
        with path.open("rb") as f:
            prefix = f.read(DETECT_PREFIX)
        if format_scores(prefix)[0][0] < FORCE_HINT_THRESHOLD:
            return HeapguiError(f"{path}: {NOT_A_TRACE}")
    return exc if exc.source else exc.with_source(str(path))


def _read_swo(
    path: Path, config: HeapConfig | None, progress: Progress, cancelled: IsCancelled
) -> tuple[Trace, int]:
    """Demultiplex port 31 into a private scratch file, then read it as a trace named `path`."""
    source = f"{path} (ITM port {HEAPTRACE_PORT})"
    size = max(path.stat().st_size, 1)
    demux = ItmDemux()
    clock = PortClock()  # the capture's local timestamps: the charts' time axis

    def keep(chunk: DemuxChunk) -> bytes:
        clock.add(chunk.times.get(HEAPTRACE_PORT))
        return chunk.payload(HEAPTRACE_PORT)

    with tempfile.TemporaryDirectory(prefix="heapgui-swo-") as scratch:
        heaptrace = Path(scratch) / "heaptrace"
        with path.open("rb") as swo, heaptrace.open("wb") as out:
            while data := swo.read(DEMUX_READ):
                if cancelled():
                    raise Cancelled(f"{path}: loading cancelled")
                out.write(keep(demux.feed(data)))
                progress(DEMUX_SHARE * swo.tell() / size)
            out.write(keep(demux.finish()))
            demuxed = out.tell()
        if demux.stats.bytes_in and demux.skipped_bytes == demux.stats.bytes_in:
            raise DecodeError(0, "ITM packets", "none (wrong baud rate?)", str(path))
        others = sorted(demux.stats.port_bytes)
        if not demuxed and others:
            raise HeapguiError(
                f"{path}: no heap trace on ITM port {HEAPTRACE_PORT}, only data on port "
                f"{', '.join(map(str, others[:8]))}{'…' if len(others) > 8 else ''}: "
                "extract another port with heapgui-cli demux --port"
            )

        def part(fraction: float) -> None:
            progress(DEMUX_SHARE + (1 - DEMUX_SHARE) * fraction)

        try:
            trace = _read(heaptrace, config, part, cancelled)
        except DecodeError as exc:
            raise exc.with_source(source) from None
        except HeapguiError as exc:
            raise HeapguiError(str(exc).replace(str(heaptrace), source)) from None
    logger.info("%s: demultiplexed %d bytes of heap trace from ITM port 31", path, demuxed)
    trace.source = str(path)  # the scratch file is gone: the trace is the capture's
    if demux.stats.timestamps:
        _date(trace, clock, demux.stats.ticks)
    return trace, demuxed


def _date(trace: Trace, clock: PortClock, last_ticks: int) -> None:
    """Date each record as a live capture does: by the timestamp packet that completed its
    last byte; bytes after the last such packet take the stream's final time."""
    records = trace.records
    ticks = clock.ticks_at(records.ends(make_decoder(trace.format).lengths) - 1)
    ticks[ticks < 0] = last_ticks
    records.timestamp = ticks


def load_trace_set(paths: list[Path], progress: Progress, cancelled: IsCancelled) -> LoadedSet:
    """Read every trace of a set against the same config: the one beside the first trace.
    A raw SWO capture among them is demultiplexed as `load_trace` does."""
    if not paths:
        raise HeapguiError("no trace files given")
    config = config_beside(paths[0].parent)
    traces = []
    for done, path in enumerate(paths):

        def part(fraction: float, done: int = done) -> None:
            progress((done + fraction) / len(paths))

        traces.append(_read_file(path, config, part, cancelled, "auto")[0])
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
