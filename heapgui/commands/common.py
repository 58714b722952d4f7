"""Options and steps shared by the subcommands that read a trace."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from heapgui.errors import HeapguiError, UnreadableTrace
from heapgui.layout.class_stream import ClassEventSpool
from heapgui.layout.config import HeapConfig, find_config, load_config
from heapgui.report import DEFAULT_TRACE
from heapgui.trace.formats import FORMATS
from heapgui.trace.load import STDIN_NAME, Consumer, Trace, stream_trace
from heapgui.trace.traceset import TraceSet
from heapgui.workspace.heap import parse_heap_size


def add_trace_options(parser: argparse.ArgumentParser, several: bool = False) -> None:
    """The options of every trace command; `several` lets -f repeat for a set of captures."""
    if several:
        parser.add_argument(
            "-f",
            "--file",
            action="append",
            help=f"heap trace file, - for standard input; repeat for several captures "
            f"(default: {DEFAULT_TRACE})",
        )
    else:
        parser.add_argument(
            "-f", "--file", help=f"heap trace file, - for standard input (default: {DEFAULT_TRACE})"
        )
    parser.add_argument("-s", "--size", help="heap size, e.g. 10K (default: from the config)")
    parser.add_argument("-c", "--config", help="Drone.toml or layout.toml (default: ./Drone.toml)")
    parser.add_argument("--heap", help="heap name in the config (default: main)")
    parser.add_argument("--format", choices=("auto", *FORMATS), default="auto", help="trace format")
    parser.add_argument(
        "--strict", action="store_true", help="stop on the first corruption, as drone does"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def warn(message: str) -> None:
    sys.stderr.write(f"heapgui-cli: warning: {message}\n")


def config_of(args: argparse.Namespace) -> HeapConfig | None:
    """The config: the file --write updates, else -c, else the one here, else None.

    A file being written is the config whatever else is around: its own heap
    size applies, not the one of a Drone.toml in the current directory.
    """
    written = getattr(args, "write", None)
    if written:
        if args.config and not _same_file(args.config, written):
            raise HeapguiError(
                f"-c {args.config} and --write {written} name different files: "
                "the file written is the config, pass only --write"
            )
        return load_config(written)
    if args.config:
        return load_config(args.config)
    found = find_config(Path.cwd())
    return load_config(found) if found else None


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).samefile(b)
    except OSError:
        return Path(a).absolute() == Path(b).absolute()


def heap_size_of(args: argparse.Namespace) -> int:
    """-s wins; otherwise the chosen heap's size from the config."""
    if args.size is not None:
        return parse_heap_size(args.size)
    config = config_of(args)
    if config is None:
        raise HeapguiError(
            "no heap size: pass -s SIZE, or -c CONFIG, or run where Drone.toml or layout.toml is"
        )
    return config.heap(args.heap).size


def trace_path(args: argparse.Namespace) -> Path:
    return Path(args.file or DEFAULT_TRACE)


def trace_paths(args: argparse.Namespace) -> list[Path]:
    """The -f files of a command that takes several, or the default trace."""
    return [Path(f) for f in args.file] if args.file else [Path(DEFAULT_TRACE)]


def load(args: argparse.Namespace, heap_size: int) -> Trace:
    """The trace streamed through: its statistics, in memory independent of its length."""
    return readable(stream_trace(trace_path(args), args.format, args.strict, heap_size))


def load_set(
    args: argparse.Namespace,
    heap_size: int,
    spool: bool = False,
    per_trace: Callable[[], Sequence[Consumer]] = tuple,
) -> TraceSet:
    """The -f traces, each streamed through once: statistics, the sizes larger than the
    heap counted whole (for the demand), `per_trace()`'s consumers fed; with `spool`,
    each trace's events kept on disk for the timeline layout."""
    traces = []
    for path in trace_paths(args):
        consumers = list(per_trace())
        events = ClassEventSpool() if spool else None
        if events is not None:
            consumers.append(events)
        trace = stream_trace(path, args.format, args.strict, heap_size, consumers, oversize=True)
        trace.class_events = events
        traces.append(readable(trace))
    return TraceSet.of(traces)


def readable(trace: Trace) -> Trace:
    """The trace, unless not one record came out of its bytes: then the data is not a
    trace in that format, and the problems say where decoding failed."""
    if trace.unreadable:
        found = "; ".join(p.describe() for p in trace.problems) or "only a partial record"
        raise UnreadableTrace(
            f"{trace.source}: no {trace.format} record in {trace.bytes_read} bytes: {found}"
        )
    return trace


def source_name(source: str) -> str:
    """How a trace's source reads in a sentence: `file `x`` or standard input."""
    return source if source == STDIN_NAME else f"file `{source}`"


def problem_warnings(traces: TraceSet) -> None:
    """What could not be read or made sense of in each trace, as warnings on stderr."""
    for name, trace in traces:
        for hint in trace.hints():
            warn(f"{name}: {hint}")
