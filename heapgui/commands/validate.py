"""`heapgui-cli validate`: replay traces against a configured layout and say whether it holds.

Exit code 0 when the layout serves every allocation of every trace, 1 when
some allocation finds no free block, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from heapgui.commands.common import (
    add_trace_options,
    config_of,
    load_set,
    warn,
)
from heapgui.errors import HeapguiError
from heapgui.layout.plan import MinimumHeaps
from heapgui.layout.pools import Pool, checked_layout
from heapgui.layout.replay_stream import ReplayStream
from heapgui.report import (
    Result,
    comparison,
    counted,
    failure_line,
    human,
    problems_json,
    replay_notes,
    unread,
)
from heapgui.sizes import MAX_SIZE, format_size, parse_size
from heapgui.trace.load import Trace
from heapgui.workspace.heap import parse_heap_size
from heapgui.workspace.planning import Planning, PlanRequest

EXIT_HOLDS = 0
EXIT_FAILS = 1
SHOWN_FAILURES = 10  # in text mode, per trace
POOL_TITLES = ("Block", "Capacity", "Peak", "At record", "Overflow in")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="replay traces against a pool layout")
    add_trace_options(parser, several=True)
    parser.add_argument(
        "--pools",
        metavar="SPEC",
        help="BLOCK:CAPACITY,... to check instead of the config's layout, e.g. 4:201,128:7",
    )
    parser.add_argument(
        "--max-failures",
        type=int,
        default=1000,
        metavar="N",
        help="failures listed per trace in JSON (default: 1000; 0 lists all)",
    )
    parser.set_defaults(run=run)


def parse_pools(spec: str) -> list[Pool]:
    """`BLOCK:CAPACITY,...` with drone's size strings for blocks, each block once."""
    if not spec.strip():
        raise HeapguiError(f"invalid --pools {spec!r}: expected BLOCK:CAPACITY,..., e.g. 4:201")
    pools: dict[int, Pool] = {}
    for item in spec.split(","):
        block, sep, capacity = item.partition(":")
        count = capacity.strip()
        if not sep or not (count.isascii() and count.isdigit()):
            raise HeapguiError(
                f"invalid pool {item!r} in --pools: expected BLOCK:CAPACITY, e.g. 4:201"
            )
        if int(count) > MAX_SIZE:
            raise HeapguiError(
                f"invalid pool {item!r} in --pools: expected a capacity of at most {MAX_SIZE}"
            )
        try:
            size = parse_size(block)
        except HeapguiError as exc:
            raise HeapguiError(f"invalid pool {item!r} in --pools: {exc}") from None
        if size == 0:
            raise HeapguiError(f"invalid pool {item!r} in --pools: the block must be above 0")
        if size in pools:
            raise HeapguiError(
                f"invalid --pools {spec!r}: block {size} appears twice, expected one pool per block"
            )
        pools[size] = Pool(size, int(count))
    return list(pools.values())


def _layout(args: argparse.Namespace) -> tuple[int, list[Pool], str]:
    """Heap size, pools and where they came from: --pools, else the config's heap."""
    size = parse_heap_size(args.size) if args.size is not None else None
    if args.pools is not None:
        pools = parse_pools(args.pools)
        return size or sum(p.bytes for p in pools), pools, "--pools"
    config = config_of(args)
    if config is None:
        raise HeapguiError(
            "no layout: pass -c CONFIG or --pools SPEC, or run where Drone.toml or layout.toml is"
        )
    heap = config.heap(args.heap)
    if not any(p.capacity for p in heap.pools):
        raise HeapguiError(f"{config.path}: heap {heap.name!r} has no pools")
    if heap.estimated:
        warn(f"{config.path}: pool counts assume an empty .data/.bss (percentages)")
    return size or heap.size, list(heap.pools), f"{config.path} [heap {heap.name}]"


def run(args: argparse.Namespace) -> int:
    if args.max_failures < 0:
        raise HeapguiError(f"invalid --max-failures {args.max_failures}: expected 0 or more")
    heap_size, pools, source = _layout(args)
    note = checked_layout(source, pools, heap_size)
    if note:
        warn(note)
    # Each trace is replayed as it streams by, keeping only the failures that are shown.
    keep = None if args.json and not args.max_failures else max(args.max_failures, SHOWN_FAILURES)
    replays: list[ReplayStream] = []

    def replay_as_read() -> list:
        replays.append(ReplayStream(pools, keep))
        return [replays[-1].feed]

    traces = load_set(args, heap_size, spool=True, per_trace=replay_as_read)
    results = [
        (name, trace, stream.result())
        for (name, trace), stream in zip(traces, replays, strict=True)
    ]
    served = sum(1 for p in pools if p.capacity)
    # The figures `generate` and the GUI show for as many pools: the same planning core.
    wanted = PlanRequest(heap_size, served)
    heaps = Planning(traces).plan(wanted, want_layout=False, want_heaps=True).heaps
    holds = all(r.holds for _, _, r in results)
    if args.json:
        limit = args.max_failures or None
        sys.stdout.write(json.dumps(_report(heap_size, pools, results, heaps, limit), indent=1))
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_text(heap_size, source, results, heaps))
    return EXIT_HOLDS if holds else EXIT_FAILS


# -- JSON --------------------------------------------------------------------


def _failures(name: str, result: Result, limit: int | None) -> list[dict]:
    rows = []
    for f in result.failures(limit):
        row = {"trace": name, "record": f.record, "size": f.size}
        if f.time is not None:
            row["time"] = f.time
        rows.append(row)
    return rows


def _pool_peaks(result: Result) -> list[dict]:
    return [
        {
            "block": pool.block,
            "capacity": pool.capacity,
            "peak": int(result.pool_peak[k]),
            "record": int(result.pool_peak_record[k]),
            "overflow_in": int(result.pool_overflow[k]),
        }
        for k, pool in enumerate(result.pools)
    ]


def _trace_report(name: str, trace: Trace, result: Result, limit: int | None) -> dict:
    return {
        "name": name,
        "holds": result.holds,
        "failure_count": result.failure_count,
        "failures": _failures(name, result, limit),
        "pool_peaks": _pool_peaks(result),
        "overflows": result.overflows,
        "peak_bytes": result.peak_bytes,
        "peak_record": result.peak_record,
        "wasted_at_peak": result.wasted_at_peak,
        "unmatched_deallocations": result.unmatched,
        "skipped_allocations": result.skipped,
        **problems_json(trace),
    }


def _report(
    heap_size: int,
    pools: list[Pool],
    results: list[tuple[str, Trace, Result]],
    heaps: MinimumHeaps,
    limit: int | None,
) -> dict:
    """The set's figures on top (pool peaks the largest over the traces), then each trace's."""
    per_trace = [_trace_report(name, t, r, limit) for name, t, r in results]
    peaks = []
    for k in range(len(pools)):
        best = max(per_trace, key=lambda t: t["pool_peaks"][k]["peak"])
        row = dict(best["pool_peaks"][k])
        row["trace"] = best["name"]
        row["overflow_in"] = sum(t["pool_peaks"][k]["overflow_in"] for t in per_trace)
        peaks.append(row)
    return {
        "heap_size": heap_size,
        "pools": [{"block": p.block, "capacity": p.capacity} for p in pools],
        "holds": all(t["holds"] for t in per_trace),
        "failure_count": sum(t["failure_count"] for t in per_trace),
        "failures": [f for t in per_trace for f in t["failures"]],
        "pool_peaks": peaks,
        "overflows": sum(t["overflows"] for t in per_trace),
        "skipped_bytes": sum(t["skipped_bytes"] for t in per_trace),
        "min_heap_size": {
            "timeline": heaps.timeline,
            "drone": heaps.drone,
            "pools": heaps.pools,
        },
        "traces": per_trace,
    }


# -- text ----------------------------------------------------------------------


def _pool_table(result: Result) -> list[str]:
    cells = [
        (
            format_size(pool.block),
            str(pool.capacity),
            str(int(result.pool_peak[k])),
            str(int(result.pool_peak_record[k])) if result.pool_peak_record[k] >= 0 else "-",
            str(int(result.pool_overflow[k])),
        )
        for k, pool in enumerate(result.pools)
    ]
    widths = [max([len(t)] + [len(c[k]) for c in cells]) for k, t in enumerate(POOL_TITLES)]

    def line(values: tuple[str, ...]) -> str:
        return "  " + " | ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))

    return [line(POOL_TITLES)] + [line(c) for c in cells]


def _text(
    heap_size: int,
    source: str,
    results: list[tuple[str, Trace, Result]],
    heaps: MinimumHeaps,
) -> str:
    lines = [f"Layout: {source}, heap {human(heap_size)}"]
    for name, trace, result in results:
        count = result.failure_count
        verdict = "holds" if result.holds else f"FAILS: {counted(count, 'failed allocation')}"
        missing = unread(trace)
        if missing:
            verdict += f"; {missing}, so the verdict covers only the rest"
        lines += ["", f"{name}: {verdict}"]
        lines += [f"  Problem: {hint}" for hint in trace.hints()]
        lines += [f"  {failure_line(f)}" for f in result.failures(SHOWN_FAILURES)]
        if count > SHOWN_FAILURES:
            lines.append(f"  ... and {count - SHOWN_FAILURES} more")
        lines += _pool_table(result)
        lines += [f"  {note}" for note in replay_notes(result)]
    what = "this trace" if len(results) == 1 else "this set of traces"
    lines += ["", f"Minimum heap: {comparison(heaps, what)}"]
    return "\n".join(lines) + "\n"
