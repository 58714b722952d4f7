"""`--range A:B`: the commands that read a trace, over records A..B only.

A window starts with the blocks live at A (see heapgui.trace.window). `stats`
prints the window's table; `generate` plans a layout for one phase of the
firmware, its demand the window's max loads (and, for the timeline method, the
window's simultaneous peaks).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from heapgui.commands.common import load_set, readable, trace_path
from heapgui.layout.class_stream import ClassEventSpool
from heapgui.trace.load import Trace, stream_trace
from heapgui.trace.traceset import TraceSet
from heapgui.trace.window import WindowCounter, WindowStatistics, check_window

Window = tuple[int | None, int | None]

EXAMPLE = "expected A:B, two record indices (A: or :B leaves that end open), e.g. 1000:5000"


def add_range_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--range",
        metavar="A:B",
        type=parse_range,
        help="only records A to B-1, starting with the blocks live at A "
        "(A: to the end, :B from the start)",
    )


def parse_range(text: str) -> Window:
    """`A:B` as (A, B), an empty end as None; argparse turns the error into one line."""
    start, colon, stop = text.partition(":")
    try:
        if not colon:
            raise ValueError
        window = tuple(int(end) if end.strip() else None for end in (start, stop))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid window {text!r}: {EXAMPLE}") from None
    first, last = window
    if any(end is not None and end < 0 for end in window):
        raise argparse.ArgumentTypeError(f"invalid window {text!r}: record indices start at 0")
    if first is not None and last is not None and first > last:
        raise argparse.ArgumentTypeError(f"invalid window {text!r}: it ends before it starts")
    return first, last


def windowed(trace: Trace, counter: WindowCounter, window: Window) -> Trace:
    """The trace with its statistics those of the window, once it is checked to lie inside."""
    check_window(*window, trace.record_count, trace.source, "--range")
    return replace(trace, stats=counter.window)


def load_window(args: argparse.Namespace, heap_size: int) -> Trace:
    """`stats --range`: the trace streamed through, counted over the window."""
    counter = WindowCounter(args.range[0] or 0, args.range[1], heap_size)
    trace = stream_trace(trace_path(args), args.format, args.strict, heap_size, [counter])
    return windowed(readable(trace), counter, args.range)


def load_traces(args: argparse.Namespace, heap_size: int, spool: bool) -> TraceSet:
    """`generate`'s traces, each counted over the window when there is one.

    A window's demand counts every allocation, none left out as larger than the
    heap (what heapgui.layout.plan.whole_demand does for a whole trace), and the
    timeline layout's events are the window's: its starting load, then its records.
    """
    if args.range is None:
        return load_set(args, heap_size, spool=spool)
    counters: list[tuple[WindowCounter, ClassEventSpool | None]] = []

    def per_trace() -> list[WindowCounter]:
        events = ClassEventSpool() if spool else None
        counter = WindowCounter(args.range[0] or 0, args.range[1], None, [events] if events else [])
        counters.append((counter, events))
        return [counter]

    traces = load_set(args, heap_size, per_trace=per_trace)
    return TraceSet(
        traces.names,
        [
            replace(windowed(trace, counter, args.range), class_events=events, oversize=None)
            for trace, (counter, events) in zip(traces.traces, counters, strict=True)
        ],
    )


def window_header(trace: Trace) -> str:
    """The line that says a table covers a window, not the whole trace."""
    stats = trace.stats
    if not isinstance(stats, WindowStatistics):
        return ""
    of = f"of {trace.record_count} records"
    if stats.stop == stats.start:
        return f"Window: empty, at record {stats.start} {of}\n\n"
    count = stats.stop - stats.start
    return f"Window: records {stats.start} to {stats.stop - 1} ({count} {of})\n\n"
