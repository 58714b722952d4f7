"""Building the timeline layout's simultaneous peaks (`RangePeaks`) for one long trace.

    python benchmarks/timeline_peaks.py [--records N] [--runs R]

Prints the median wall time and the peak memory numpy allocated while building
(tracemalloc, above the records themselves), and what the built peaks keep.
The GUI builds them once a trace is open, beside everything else it holds, so
their peak adds to the window's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc

from common import machine

from heapgui.layout.timeline import RangePeaks
from heapgui.trace.workload import workload


def build(records, heap: int) -> tuple[float, int, int]:
    """Seconds, peak bytes allocated while building, and bytes the built peaks keep."""
    tracemalloc.start()
    start = time.perf_counter()
    peaks = RangePeaks([records], heap)
    seconds = time.perf_counter() - start
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del peaks
    return seconds, peak, kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=float, default=1e7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    records = workload(int(args.records), seed=1)
    heap = 256 * 1024 * 1024
    runs = [build(records, heap) for _ in range(args.runs)]
    print(machine())
    print(f"records: {len(records):,}")
    print(f"RangePeaks build: median {statistics.median(r[0] for r in runs):.2f} s")
    peak = statistics.median(r[1] for r in runs) / 1e6
    kept = statistics.median(r[2] for r in runs) / 1e6
    print(f"allocated while building: peak {peak:.0f} MB (median), kept {kept:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
