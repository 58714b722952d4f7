"""`heapgui-cli stats`: drone's heap table, then what drone does not show."""

from __future__ import annotations

import argparse
import json
import sys

from heapgui.commands.common import (
    add_trace_options,
    heap_size_of,
    load,
    source_name,
    warn,
)
from heapgui.commands.window_option import (
    add_range_option,
    load_window,
    window_header,
)
from heapgui.report import as_json, percent, window_json
from heapgui.sizes import format_size
from heapgui.trace.load import Trace
from heapgui.trace.stats import Statistics

TITLES = ("Block Size", "Max Load", "Total Allocations")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("stats", help="block statistics of a heap trace (drone heap)")
    add_trace_options(parser)
    add_range_option(parser)
    parser.set_defaults(run=run)


def drone_table(stats: Statistics, heap_size: int) -> str:
    """The table and the usage line exactly as `drone heap` prints them."""
    cells = [(format_size(r.size), str(r.max_load), str(r.total)) for r in stats.rows()]
    widths = [max([len(t)] + [len(c[k]) for c in cells]) for k, t in enumerate(TITLES)]

    def line(values: tuple[str, ...]) -> str:
        return "|".join(f" {v.rjust(w)} " for v, w in zip(values, widths, strict=False)).rstrip()

    rows = [line(TITLES), "+".join("-" * (w + 2) for w in widths)]
    rows += [line(c) for c in cells]
    rows += ["", f"Maximum memory usage: {percent(stats.max_usage, heap_size)}"]
    return "\n".join(rows) + "\n"


def extra_lines(trace: Trace, heap_size: int) -> str:
    stats = trace.stats
    lines = [
        f"Simultaneous peak: {percent(stats.peak_usage, heap_size)} at record {stats.peak_record}",
        f"Format: {trace.format}, {trace.record_count} records",
    ]
    lines += [f"Problem: {hint}" for hint in trace.hints()]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    heap_size = heap_size_of(args)
    trace = load(args, heap_size) if args.range is None else load_window(args, heap_size)
    if args.json:
        document = {**as_json(trace, heap_size), **window_json(trace)}
        sys.stdout.write(json.dumps(document, indent=1) + "\n")
        return 0
    if not trace.record_count:
        warn(f"{source_name(trace.source)} is empty.")
        return 0
    table = drone_table(trace.stats, heap_size)
    sys.stdout.write(window_header(trace) + table + "\n" + extra_lines(trace, heap_size))
    return 0
