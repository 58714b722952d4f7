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

With --gui, also the time the layout panel's GUI thread spends on a typed
capacity (table edit to preview, figures and verdict line updated, or the
background check started and "checking…" shown), offscreen.

    python benchmarks/edit_verdict.py [--records 1e6,1e7] [--runs K] [--gui]
"""

from __future__ import annotations

import argparse
import time

from common import machine, timed

from heapgui.layout.generate import generate
from heapgui.layout.pool_replay import replay
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
    full, _ = timed(lambda: replay(trace_records, list(optimum.pools)), runs)
    print(f"  full replay of the optimum (reference): {full * 1000:8.1f} ms")


def gui_edits(records: int, runs: int) -> None:
    """GUI-thread time per typed capacity in the layout panel (offscreen)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from heapgui.ui.layout_model import CAPACITY
    from heapgui.ui.layout_panel import LayoutPanel
    from heapgui.workspace import Workspace

    app = QApplication.instance() or QApplication([])
    trace_records = workload(records, seed=1)
    trace = Trace("bench", "framed", trace_records, Statistics.of(trace_records))
    panel = LayoutPanel(Workspace())
    panel.set_trace(trace, None)
    panel.size_edit.setText("1M")
    panel.pools_spin.setValue(POOLS)
    model = panel.model
    row = max(range(model.rowCount()), key=lambda r: model.index(r, CAPACITY).data(Qt.UserRole))
    capacity = model.index(row, CAPACITY).data(Qt.UserRole)
    for what, values in (
        ("above Σ max loads", range(capacity - 1, capacity - 1 - runs, -1)),
        ("below the peak", range(1, 1 + runs)),
    ):
        times = []
        for value in values:  # a new value each time: a verdict seen before is remembered
            start = time.perf_counter()
            model.setData(model.index(row, CAPACITY), value, Qt.EditRole)
            times.append(time.perf_counter() - start)
        median = sorted(times)[len(times) // 2] * 1000
        shown = panel.edit_bar.verdict_label.text()[:40]
        print(f"  GUI thread, typed capacity {what:18s} {median:7.1f} ms: {shown}")
    # Let the background checks finish before the next size.
    while panel.edit_bar.runner.busy():
        app.processEvents()
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1e6,1e7")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gui", action="store_true")
    args = parser.parse_args()
    print(machine())
    for count in args.records.split(","):
        if args.gui:
            print(f"\n{int(float(count)):,} records, layout panel")
            gui_edits(int(float(count)), args.runs)
        else:
            one_size(int(float(count)), args.runs)


if __name__ == "__main__":
    main()
