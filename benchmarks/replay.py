"""Replay throughput, and the least heap of the timeline layout against the drone-style one.

For the samples and for synthetic workloads (the plain Drone-like one and a
variant whose sizes peak at different moments), prints the minimum heap each
method needs for several pool counts (the ratio timeline/drone is the headline
figure), the cost of the timeline optimizer, and the replay throughput in
records per second on a 10-million-record trace: against a layout that holds
it, and against drone layouts cut to 90% and 60% of their capacities (pools
running full, where the replay goes one event at a time). Medians of --runs.

    python benchmarks/replay.py [--records N] [--runs K] [--check]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from common import machine, timed

from heapgui.layout.plan import drone_partition, minimum_heaps, range_peaks
from heapgui.layout.pool_replay import replay
from heapgui.layout.pools import Pool
from heapgui.layout.timeline import RangePeaks, timeline_partition
from heapgui.trace.load import Trace, read_trace
from heapgui.trace.records import ALLOC, DEALLOC, Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet
from heapgui.trace.workload import DEFAULT_SIZES, workload

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
POOL_COUNTS = (4, 8, 16, 32)


def phased_workload(
    records: int, seed: int, sizes: np.ndarray, period: float = 20000.0, mean_life: float = 200.0
) -> Records:
    """Objects of size k are born mostly while sin(2πt/period + 2πk/len(sizes)) is high.

    Each size's live count swings with its own phase, so the per-size peaks
    fall at different moments and Σ max load overstates the real need.
    """
    rng = np.random.default_rng(seed)
    objects = max(1, records // 2)
    weights = 1.0 / np.arange(1, len(sizes) + 1)
    kind = rng.choice(len(sizes), 3 * objects, p=weights / weights.sum())
    birth = rng.random(3 * objects) * objects
    phase = 2 * np.pi * kind / len(sizes)
    keep = rng.random(3 * objects) < (1 + np.sin(2 * np.pi * birth / period + phase)) / 2
    kind, birth = kind[keep][:objects], birth[keep][:objects]
    death = birth + rng.exponential(mean_life, len(birth)) + 0.5
    size = sizes[kind]
    order = np.argsort(np.concatenate([birth, death]), kind="stable")
    kinds = np.concatenate([np.full(len(birth), ALLOC), np.full(len(birth), DEALLOC)])
    both = np.concatenate([size, size])
    return Records.build(kinds[order], both[order], np.zeros(len(order)), np.zeros(len(order)))


def as_set(name: str, records: Records) -> TraceSet:
    return TraceSet.of([Trace(name, "synthetic", records, Statistics.of(records))])


def compare_methods(name: str, traces: TraceSet, check: bool) -> None:
    start = time.perf_counter()
    peaks = range_peaks(traces)
    built = time.perf_counter() - start
    records = sum(len(t.records) for t in traces.traces)
    print(f"\n{name}: {records} records, {len(peaks)} size classes, range bounds in {built:.2f} s")
    for pools in POOL_COUNTS:
        start = time.perf_counter()
        heaps = minimum_heaps(traces, pools, peaks=peaks)
        spent = time.perf_counter() - start
        print(
            f"  {pools:2d} pools: timeline {heaps.timeline:9d}  drone {heaps.drone:9d}  "
            f"ratio {heaps.ratio:.3f}   ({spent:.2f} s, {peaks.evaluated} exact ranges so far)"
        )
    if check:
        start = time.perf_counter()
        full = RangePeaks([t.records for t in traces.traces])
        full.matrix()
        spent = time.perf_counter() - start
        same = all(
            timeline_partition(full, p).bytes == timeline_partition(peaks, p).bytes
            for p in POOL_COUNTS
        )
        print(
            f"  check: all {len(full) * (len(full) + 1) // 2} range peaks exact in {spent:.1f} s;"
            f" same optimum: {same}"
        )


def replay_throughput(records: Records, runs: int) -> None:
    stats = Statistics.of(records)
    rows = [(r.size, r.max_load) for r in stats.rows()]
    traces = as_set("workload", records)
    holding = timeline_partition(range_peaks(traces), 8).pools
    drone = drone_partition(rows, 8).pools
    cases = [("timeline layout (holds)", holding)]
    for share in (0.9, 0.6):
        cut = tuple(Pool(p.block, int(p.capacity * share)) for p in drone)
        cases.append((f"drone layout at {share:.0%}", cut))
    print(f"\nreplay, {len(records)} records, 8 pools:")
    for label, pools in cases:
        spent, result = timed(lambda pools=pools: replay(records, pools), runs)
        print(
            f"  {label:26s} {spent:6.2f} s  {len(records) / spent / 1e6:5.2f} M records/s  "
            f"failures {len(result.failed_event):6d}  overflows {result.overflows:7d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--check",
        action="store_true",
        help="also compute every range peak exactly and compare the optimum",
    )
    args = parser.parse_args()
    print(machine())
    for name, heap in (("workload-40k", 65536), ("seed-example", 10240)):
        trace = read_trace(SAMPLES / f"{name}.framed", heap_size=heap)
        compare_methods(f"sample {name}", TraceSet.of([trace]), args.check)
    plain = workload(args.records, seed=1)
    compare_methods("workload (19 sizes)", as_set("plain", plain), args.check)
    phased = phased_workload(args.records, seed=2, sizes=DEFAULT_SIZES)
    compare_methods("phase-shifted workload (19 sizes)", as_set("phased", phased), args.check)
    many = np.unique(np.random.default_rng(3).choice(np.arange(1, 1000), 200, replace=False)) * 4
    wide = phased_workload(args.records, seed=4, sizes=many.astype(np.uint32))
    compare_methods("phase-shifted workload (200 sizes)", as_set("wide", wide), False)
    del phased, wide
    replay_throughput(plain, args.runs)


if __name__ == "__main__":
    main()
