"""Range statistics (issue 12) on a long trace: the index's set-up and any window's time.

Builds a trace of N records (default 10⁷) by repeating the 40k workload
sample, then times, as medians of several runs:
- plain `Statistics` over the whole trace (the reference pass);
- building a `WindowIndex` (one pass, done once per trace);
- windows of several lengths and places, each from the index (the GUI's
  query, target under 1 s at 10⁸ records) and streamed through a
  `WindowCounter` (the command line's way, a pass up to the window's end);
- `heapgui-cli stats --json` on the trace written as a `framed` file, plain
  and with `--range`, as whole processes (wall time, peak RSS), in a private
  temporary directory removed at the end.

    python benchmarks/range_stats.py [--records 1e7] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from common import machine, timed
from scale_cli import CLI
from scale_cli import run as run_process

from heapgui.trace.framed import FramedDecoder, encode_framed
from heapgui.trace.records import Records
from heapgui.trace.stats import BATCH, Statistics
from heapgui.trace.window import WindowCounter, WindowIndex

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared/samples/workload-40k.framed"
HEAP = 1 << 20


def long_trace(count: int) -> Records:
    sample = FramedDecoder().feed(SAMPLE.read_bytes())
    repeats = -(-count // len(sample))
    columns = [np.tile(getattr(sample, name), repeats)[:count] for name in ("kind", "size")]
    new_size = np.tile(sample.new_size, repeats)[:count]
    return Records.build(columns[0], columns[1], new_size, np.zeros(count, np.int64))


def streamed(records: Records, start: int, stop: int) -> object:
    counter = WindowCounter(start, stop, HEAP)
    for at in range(0, stop, BATCH * 8):  # chunks as a file streams by
        counter(records.slice(at, at + BATCH * 8))
    return counter.window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=float, default=1e7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write-trace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = int(args.records)
    if args.write_trace is not None:  # the file for the command line, from a child process
        args.write_trace.write_bytes(encode_framed(long_trace(n)))
        return 0
    print(machine())
    print(f"trace: {n:,} records (workload-40k repeated), heap {HEAP:,} bytes")
    with tempfile.TemporaryDirectory(prefix="heapgui-range-bench-") as scratch:
        command_line(n, Path(scratch), args.runs)
    records = long_trace(n)
    whole, _ = timed(lambda: Statistics.of(records, HEAP), args.runs)
    print(f"plain Statistics, whole trace: {whole:.3f} s")
    build, index = timed(lambda: WindowIndex(records, HEAP), 1)
    print(f"WindowIndex set-up (once per trace): {build:.3f} s")
    windows = {
        "1k records, middle": (n // 2, n // 2 + 1000),
        "first 10%": (0, n // 10),
        "10%-90%": (n // 10, n * 9 // 10),
        "last half": (n // 2, n),
        "whole trace": (0, n),
    }
    print(f"{'window':<20} {'index':>9} {'streamed':>9}")
    slowest = 0.0
    for name, (start, stop) in windows.items():
        query, result = timed(lambda a=start, b=stop: index.window(a, b), args.runs)
        stream, _ = timed(lambda a=start, b=stop: streamed(records, a, b), 1)
        slowest = max(slowest, query)
        assert result.rows()  # every window of this workload has blocks
        print(f"{name:<20} {query * 1000:>7.1f}ms {stream:>8.2f}s")
    print(f"slowest indexed window: {slowest * 1000:.1f} ms")
    return 0


def command_line(n: int, folder: Path, runs: int) -> None:
    """The command line's figures, measured first: a child's peak RSS counts what this
    process held when it forked, so the trace is made by another process."""
    trace = folder / "trace.framed"
    write = [sys.executable, __file__, "--records", str(n), "--write-trace", str(trace)]
    subprocess.run(write, check=True)
    stats = [*CLI, "stats", "-f", str(trace), "-s", str(HEAP), "--json"]
    print(f"{'heapgui-cli stats --json':<30} {'wall':>7} {'peak RSS':>9}")
    for extra in ([], ["--range", "0:"], ["--range", f"{n // 2}:{n // 2 + 1000}"]):
        measured = [run_process(stats + extra, dict(os.environ), folder) for _ in range(runs)]
        wall = statistics.median(m[0] for m in measured)
        rss = max(m[1] for m in measured)
        print(f"{' '.join(extra) or '(whole trace)':<30} {wall:>6.2f}s {rss / 2**20:>5.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
