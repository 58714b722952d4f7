"""Time from a hand edit of a layout to its verdict (heapgui.layout.verdict), medians of --runs.

On a synthetic Drone-like workload of 10^6 and 10^7 records, starting from
drone's layout for 8 pools, four kinds of edit:

- capacity still above the pool's peak: decided by the per-size max loads, O(n);
- capacity cut below Σ max loads but above the simultaneous peak: one exact
  range peak, O(m) once, then cached (the second figure is a repeat of the edit);
- capacity cut below the peak: a full replay (pools run full, overflows);
- a block moved: two new ranges.

Also the one-off preparation (the set's range peaks), which the GUI does in the
background the first time an edit needs it, and the full replay as a reference.
"again" repeats the edit on the same checker: range peaks are cached there, a
replay is not (the GUI's VerdictRunner remembers verdicts, so undo and redo
are answered at once).

    python benchmarks/edit_verdict.py [--records 1e6,1e7] [--runs K]
"""

from __future__ import annotations

import argparse
import time

from common import machine, timed

from heapgui.layout.generate import generate
from heapgui.layout.pools import Pool, demand
from heapgui.layout.timeline import RangePeaks
from heapgui.layout.verdict import EditChecker
from heapgui.trace.load import Trace
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet
from heapgui.trace.workload import workload

HEAP = 1 << 20
POOLS = 8


def with_capacity(pools: tuple[Pool, ...], k: int, capacity: int) -> list[Pool]:
    return [Pool(p.block, capacity) if i == k else p for i, p in enumerate(pools)]


def one_size(records: int, runs: int) -> None:
    trace_records = workload(records, seed=1)
    traces = TraceSet.of([Trace("bench", "framed", trace_records, Statistics.of(trace_records))])
    rows = traces.max_loads()
    optimum = generate(demand(rows), HEAP, POOLS)
    part = optimum.partition
    assert part is not None
    print(f"\n{len(trace_records):,} records, {len(rows)} sizes, drone layout for {POOLS} pools")

    start = time.perf_counter()
    checker = EditChecker(traces)
    checker.prepare()
    print(f"  prepare (range peaks, once per set): {time.perf_counter() - start:.2f} s")

    # The busiest pool: its demand capacity (Σ max loads) against its simultaneous peak.
    k = max(range(len(part.pools)), key=lambda i: part.pools[i].capacity)
    summed = part.pools[k].capacity
    peak = RangePeaks([trace_records]).peak(*part.groups[k])
    cases = [
        ("capacity above Σ max loads", with_capacity(optimum.pools, k, summed + 5)),
        ("capacity at the simultaneous peak", with_capacity(optimum.pools, k, peak)),
        ("capacity below the peak (replay)", with_capacity(optimum.pools, k, peak * 3 // 4)),
    ]
    moved = list(optimum.pools)
    if k + 1 < len(moved) and moved[k].block + 4 < moved[k + 1].block:
        # The same bytes in larger blocks, so the layout still fits the heap.
        block = moved[k].block + 4
        moved[k] = Pool(block, moved[k].bytes // block)
        cases.append(("block moved up one word", moved))
    for what, pools in cases:
        checker = EditChecker(traces)  # a new cache: the first verdict pays for new ranges
        checker.prepare()
        start = time.perf_counter()
        verdict = checker.verdict(HEAP, pools)
        first = time.perf_counter() - start
        again, _ = timed(lambda pools=pools, c=checker: c.verdict(HEAP, pools), runs)
        how = "by replay" if verdict.replayed else "no replay"
        state = "holds" if verdict.holds else f"fails, {verdict.failures:,} failures"
        if verdict.over_heap:
            state += f", {verdict.over_heap:,} bytes over the heap"
        print(
            f"  {what:34s} first {first * 1000:8.1f} ms, again {again * 1000:8.1f} ms "
            f"({how}; {state}, {verdict.overflows:,} overflows)"
        )
    full, _ = timed(lambda: checker.full(HEAP, list(optimum.pools)), runs)
    print(f"  full replay of the optimum (reference): {full * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1e6,1e7")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    for count in args.records.split(","):
        one_size(int(float(count)), args.runs)


if __name__ == "__main__":
    main()
