"""`heapgui-cli generate`: the minimum-fragmentation `[heap]` section (drone heap generate)."""

from __future__ import annotations

import argparse
import json
import sys

import tomlkit
from tomlkit.items import Table

from heapgui.commands.common import (
    add_trace_options,
    config_of,
    heap_size_of,
    problem_warnings,
    source_name,
    trace_paths,
    warn,
)
from heapgui.commands.window_option import add_range_option, load_traces
from heapgui.errors import HeapguiError
from heapgui.layout.config import DEFAULT_HEAP, is_single_heap
from heapgui.layout.config_write import (
    WritePlan,
    apply_write,
    heap_key,
    plan_write,
    render_heap_section,
)
from heapgui.layout.generate import Layout, generate
from heapgui.layout.kept import Kept, check_kept, parse_kept
from heapgui.layout.plan import METHODS, SPREADS, MinimumHeaps
from heapgui.layout.timeline import headroom_factor
from heapgui.report import comparison, percent
from heapgui.workspace.planning import TIMELINE, Planning, PlanRequest

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
    parser.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="BLOCK[:MIN_CAPACITY]",
        help="require a pool of this block, with at least MIN_CAPACITY blocks (default 1); "
        "repeat for several",
    )
    add_range_option(parser)
    parser.set_defaults(run=run)


def kept_of(args: argparse.Namespace) -> tuple[Kept, ...]:
    """The --keep blocks, checked before any trace is read."""
    kept = check_kept(parse_kept(spec) for spec in args.keep)
    if len(kept) > args.pools:
        raise HeapguiError(
            f"{len(kept)} kept blocks need at least {len(kept)} pools, but -p {args.pools} "
            "asks for fewer"
        )
    return kept


def _starter(args: argparse.Namespace, heap_size: int, why: str) -> tuple[Layout, None]:
    """drone's starter layout, with the reason warned; refused when blocks must be kept."""
    if args.kept:
        raise HeapguiError(f"--keep needs a trace with allocations, but {why}")
    warn(f"{why}; printing the starter layout.")
    return generate([], heap_size, args.pools), None


def _layout(args: argparse.Namespace, heap_size: int) -> tuple[Layout, MinimumHeaps | None]:
    paths = trace_paths(args)
    if args.file is None and not paths[0].exists():
        return _starter(args, heap_size, f"file `{paths[0]}` not exists")
    planning = Planning(load_traces(args, heap_size, spool=args.method == "timeline"))
    traces = planning.traces
    assert traces is not None  # a trace list is never empty
    if not any(trace.record_count for trace in traces.traces):
        names = ", ".join(source_name(t.source) for t in traces.traces)
        verb = "is" if len(traces) == 1 else "are"
        return _starter(args, heap_size, f"{names} {verb} empty")
    if planning.partitioner is None:
        # Records, but none that takes a block (size-0 allocations, stray deallocations).
        problem_warnings(traces)
        return _starter(args, heap_size, "no allocation in the trace takes a block")
    request = PlanRequest(heap_size, args.pools, args.method, args.headroom, args.kept, args.spread)
    planned = planning.plan(request, want_layout=True, want_heaps=args.method == TIMELINE)
    if planned.no_fit is not None:
        raise planned.no_fit
    assert planned.layout is not None
    problem_warnings(traces)
    return planned.layout, planned.heaps


def run(args: argparse.Namespace) -> int:
    if args.pools < 1:
        raise HeapguiError(f"invalid pool count {args.pools}: expected at least 1")
    headroom_factor(args.headroom)  # a one-line error before any trace is read
    args.kept = kept_of(args)
    heap_size = heap_size_of(args)
    layout, heaps = _layout(args, heap_size)
    what = "this trace" if len(trace_paths(args)) == 1 else "this set of traces"
    # The config whose heap the layout is for: named, or the one the heap size came from.
    config = config_of(args) if args.config or args.write or args.size is None else None
    plan = None
    if config is not None and (args.write or not args.json):
        plan = plan_write(config.path, args.heap, layout.total_bytes, layout.written_pools)
    if args.json:
        report = {
            "heap_size": heap_size,
            "pools": [{"block": p.block, "capacity": p.capacity} for p in layout.written_pools],
            "fragmentation": layout.fragmentation,
            "demand": [list(d) for d in layout.demand],
            "kept": [{"block": k.block, "min_capacity": k.min_capacity} for k in args.kept],
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
        sys.stderr.write(f"\n{BANNER}\n")
        sys.stderr.flush()
        sys.stdout.write(_preview(plan, args.heap, layout))
        sys.stdout.write(f"# Fragmentation: {percent(layout.fragmentation, heap_size)}\n")
        if args.kept:
            sys.stdout.write(f"# Kept blocks: {', '.join(k.spec() for k in args.kept)}\n")
        if heaps is not None:
            sys.stdout.write(f"# Minimum heap: {comparison(heaps, what)}\n")
    if args.write:
        assert plan is not None  # --write names the config
        _write(plan)
    return 0


def _preview(plan: WritePlan | None, heap: str | None, layout: Layout) -> str:
    """The heap section as the config will hold it, header to pools; drone's style without one."""
    if plan is not None:
        section = heap_section_text(plan.new_text, plan.heap_name)
        if section is not None:
            return section
    kind = plan.kind if plan is not None else "drone"
    name = plan.heap_name if plan is not None else heap or DEFAULT_HEAP
    return render_heap_section(name, layout.total_bytes, layout.written_pools, kind)


def heap_section_text(text: str, name: str) -> str | None:
    """The `[heap]` or `[heap.<name>]` table of a config's text, as written there.

    None when the heap is not a table of its own (an inline table).
    """
    doc = tomlkit.parse(text)
    heap = doc.get("heap")
    if isinstance(heap, Table) and is_single_heap(heap):
        header, table = "[heap]", heap
    else:
        header = f"[heap.{heap_key(name)}]"
        table = heap.get(name) if isinstance(heap, Table) else None
    if not isinstance(table, Table):
        return None
    body = table.as_string().replace("\r\n", "\n").rstrip("\n")
    return f"{header}\n{body}\n"


def _write(plan: WritePlan) -> None:
    path = plan.path
    if not plan.changed:
        sys.stderr.write(f"heapgui-cli: {path}: already up to date\n")
        return
    apply_write(plan)
    sys.stderr.write(f"heapgui-cli: {path}: {plan.summary} (backup in {path.name}.bak)\n")
