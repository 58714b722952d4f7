"""`heapgui-cli generate`: the minimum-fragmentation `[heap]` section (drone heap generate)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from heapgui.commands.common import (
    add_trace_options,
    comparison,
    config_of,
    heap_size_of,
    load_set,
    percent,
    trace_paths,
    warn,
)
from heapgui.errors import HeapguiError
from heapgui.layout.config import DEFAULT_HEAP, load_config
from heapgui.layout.config_write import apply_write, plan_write, render_heap_section
from heapgui.layout.generate import Layout, generate
from heapgui.layout.plan import (
    METHODS,
    SPREADS,
    MinimumHeaps,
    minimum_heaps,
    plan_layout,
    range_peaks,
)
from heapgui.layout.pools import demand
from heapgui.layout.timeline import headroom_factor

BANNER = f"{' SUGGESTED LAYOUT ':=^80}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("generate", help="optimal pool layout (drone heap generate)")
    add_trace_options(parser, several=True)
    parser.add_argument("-p", "--pools", type=int, required=True, help="maximum number of pools")
    parser.add_argument("--write", metavar="CONFIG", help="update this config file in place")
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="drone",
        help="drone: least fragmentation, capacity Σ max load (default); "
        "timeline: fewest reserved bytes, capacity the pool's simultaneous peak",
    )
    parser.add_argument(
        "--headroom",
        type=float,
        default=0.0,
        metavar="PCT",
        help="extra capacity per pool in percent, rounded up (default: 0)",
    )
    parser.add_argument(
        "--spread",
        choices=SPREADS,
        default="drone",
        help="give the rest of the heap out as drone does (default) or by each pool's peak bytes",
    )
    parser.set_defaults(run=run)


def _layout(args: argparse.Namespace, heap_size: int) -> tuple[Layout, MinimumHeaps | None]:
    paths = trace_paths(args)
    if args.file is None and not paths[0].exists():
        warn(f"file `{paths[0]}` not exists; printing the starter layout.")
        return generate([], heap_size, args.pools), None
    traces = load_set(args, heap_size)
    if not demand(traces.max_loads()):
        names = ", ".join(f"`{p}`" for p in paths)
        warn(
            f"file {names} is empty; printing the starter layout."
            if len(paths) == 1
            else f"files {names} are empty; printing the starter layout."
        )
        return generate([], heap_size, args.pools), None
    peaks = range_peaks(traces) if args.method == "timeline" else None
    layout = plan_layout(
        traces, heap_size, args.pools, args.method, args.headroom, args.spread, peaks
    )
    heaps = None
    if peaks is not None:
        heaps = minimum_heaps(traces, args.pools, args.headroom, peaks)
    return layout, heaps


def run(args: argparse.Namespace) -> int:
    if args.pools < 1:
        raise HeapguiError(f"invalid pool count {args.pools}: expected at least 1")
    headroom_factor(args.headroom)  # a one-line error before any trace is read
    heap_size = heap_size_of(args)
    layout, heaps = _layout(args, heap_size)
    what = "this trace" if len(trace_paths(args)) == 1 else "this set of traces"
    if args.json:
        report = {
            "heap_size": heap_size,
            "pools": [{"block": p.block, "capacity": p.capacity} for p in layout.written_pools],
            "fragmentation": layout.fragmentation,
            "demand": [list(d) for d in layout.demand],
        }
        if heaps is not None:
            report["method"] = args.method
            report["min_heap_size"] = {
                "timeline": heaps.timeline,
                "drone": heaps.drone,
                "pools": heaps.pools,
            }
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
    else:
        config = config_of(args) if args.config else None
        kind = config.kind if config else "drone"
        name = args.heap or DEFAULT_HEAP
        section = render_heap_section(name, layout.total_bytes, layout.written_pools, kind)
        sys.stderr.write(f"\n{BANNER}\n")
        sys.stderr.flush()
        sys.stdout.write(section)
        sys.stdout.write(f"# Fragmentation: {percent(layout.fragmentation, heap_size)}\n")
        if heaps is not None:
            sys.stdout.write(f"# Minimum heap: {comparison(heaps, what)}\n")
    if args.write:
        _write(Path(args.write), args.heap, layout)
    return 0


def _write(path: Path, heap: str | None, layout: Layout) -> None:
    load_config(path)  # validates the file before planning a change to it
    plan = plan_write(path, heap, layout.total_bytes, layout.written_pools)
    if plan.old_text == plan.new_text:
        sys.stderr.write(f"heapgui-cli: {path}: already up to date\n")
        return
    apply_write(plan)
    sys.stderr.write(f"heapgui-cli: {path}: {plan.summary} (backup in {path.name}.bak)\n")
