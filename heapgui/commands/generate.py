"""`heapgui-cli generate`: the minimum-fragmentation `[heap]` section (drone heap generate)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from heapgui.commands.common import (
    add_trace_options,
    config_of,
    heap_size_of,
    load,
    percent,
    trace_path,
    warn,
)
from heapgui.errors import HeapguiError
from heapgui.layout.config import DEFAULT_HEAP, load_config
from heapgui.layout.config_write import apply_write, plan_write, render_heap_section
from heapgui.layout.generate import Layout, generate
from heapgui.layout.pools import demand

BANNER = f"{' SUGGESTED LAYOUT ':=^80}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("generate", help="optimal pool layout (drone heap generate)")
    add_trace_options(parser)
    parser.add_argument("-p", "--pools", type=int, required=True, help="maximum number of pools")
    parser.add_argument("--write", metavar="CONFIG", help="update this config file in place")
    parser.set_defaults(run=run)


def _layout(args: argparse.Namespace, heap_size: int) -> Layout:
    path = trace_path(args)
    if args.file is None and not path.exists():
        warn(f"file `{path}` not exists; printing the starter layout.")
        return generate([], heap_size, args.pools)
    trace = load(args, heap_size)
    rows = [(r.size, r.max_load) for r in trace.stats.rows()]
    if not demand(rows):
        warn(f"file `{path}` is empty; printing the starter layout.")
    return generate(demand(rows), heap_size, args.pools)





def run(args: argparse.Namespace) -> int:
    if args.pools < 1:
        raise HeapguiError(f"invalid pool count {args.pools}: expected at least 1")
    heap_size = heap_size_of(args)
    layout = _layout(args, heap_size)
    if args.json:
        sys.stdout.write(json.dumps({
            "heap_size": heap_size,
            "pools": [{"block": p.block, "capacity": p.capacity} for p in layout.written_pools],
            "fragmentation": layout.fragmentation,
            "demand": [list(d) for d in layout.demand],
        }, indent=1) + "\n")
    else:
        config = config_of(args) if args.config else None
        kind = config.kind if config else "drone"
        name = args.heap or DEFAULT_HEAP
        section = render_heap_section(name, layout.total_bytes, layout.written_pools, kind)
        sys.stderr.write(f"\n{BANNER}\n")
        sys.stderr.flush()
        sys.stdout.write(section)
        sys.stdout.write(f"# Fragmentation: {percent(layout.fragmentation, heap_size)}\n")
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
