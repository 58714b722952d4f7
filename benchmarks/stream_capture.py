"""Drone Stream capture from the simulated master board through pyOCD: records/s and waiting.

Each run captures for `--seconds` from a fresh simulated board (from reset,
one core) whose firmware wants to write `--demand` frames per second; when
its buffer is full it waits, and the board adds up that time. The reader is
heapgui's adaptive poll, or with `--drone` a host that polls every 50 ms as
drone does. Waiting is averaged over the cores. The figures are medians over
`--runs` runs, for each buffer size.

The simulated firmware runs inside the reader's thread (between debug
accesses), so its own cost slows the reader down; on hardware the core runs
in parallel and the probe's USB round trips cost instead (about 0.1-1 ms per
access on CMSIS-DAP v2, three to four accesses per buffer per poll).

    python benchmarks/stream_capture.py [--seconds 3] [--runs 3] [--demand 1e6]
        [--sizes 260 4096] [--cores 1] [--drone]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import machine

from heapgui.capture.session import CaptureSession, CaptureUpdate
from heapgui.capture.sim_source import simulated_stream_source
from heapgui.capture.stream_source import FROM_RESET

DRONE_POLL = 0.05  # seconds between drone stream's polls


@dataclass
class Run:
    records_per_s: float
    bytes_per_s: float
    polls_per_s: float
    waiting: float  # share of the capture each core spent waiting for room, on average
    identical: bool


def capture(
    size: int, cores: int, demand: float, seconds: float, drone: bool, directory: Path
) -> Run:
    source = simulated_stream_source(
        start=FROM_RESET, stream_size=size, stream_cores=cores, frame_rate=demand
    )
    board = source.target.device
    if drone:
        source.read = _every(source.read, DRONE_POLL)  # type: ignore[method-assign]
    path = directory / f"heaptrace-{size}"
    session = CaptureSession(source, path, fmt="tagged")
    session.start()
    waited0 = board.waited
    start = time.perf_counter()
    polls = 0
    updates = []
    while time.perf_counter() - start < seconds:
        updates.append(session.poll())
        polls += 1
        if updates[-1].finished:
            raise SystemExit(f"the capture stopped: {updates[-1].error}")
    elapsed = time.perf_counter() - start
    waited = board.waited - waited0
    updates.append(session.stop())
    summary = updates[-1].summary
    assert summary is not None
    c = summary.counters
    return Run(
        c.records / elapsed,
        c.heap_saved / elapsed,
        polls / elapsed,
        waited / elapsed / cores,
        _per_core(path.read_bytes(), CaptureUpdate.merge(updates), cores)
        == [board.core_heaptrace(k) for k in range(cores)],
    )


def _per_core(data: bytes, update: CaptureUpdate, cores: int) -> list[bytes]:
    """The heap trace file split back into what each core wrote, by the records' cores."""
    starts = update.records.offset
    ends = np.append(starts[1:], len(data))
    assert update.cores is not None
    return [
        b"".join(data[s:e] for s, e in zip(starts[mine], ends[mine], strict=True))
        for mine in (update.cores == k for k in range(cores))
    ]


def _every(read, interval: float):
    """`read`, called at most once per `interval`, as a fixed-rate host polls."""
    due = [time.perf_counter()]

    def paced():
        pause = due[0] - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        due[0] = max(due[0] + interval, time.perf_counter())
        return read()

    return paced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--demand", type=float, default=1e6, help="frames/s the firmware would write"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[260, 4096])
    parser.add_argument("--cores", type=int, choices=(1, 2), default=1, help="buffers (cores)")
    parser.add_argument("--drone", action="store_true", help="poll every 50 ms as drone does")
    args = parser.parse_args()
    # The "buffer stayed full" warning is the expected outcome of a demand above the reader.
    logging.getLogger("heapgui").setLevel(logging.ERROR)
    print(machine())
    host = "drone-like host, 50 ms polls" if args.drone else "heapgui adaptive polls"
    print(
        f"{host}; {args.cores} core(s), each wanting {args.demand:.0f} frames/s; "
        f"{args.runs} x {args.seconds} s"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            runs = [
                capture(size, args.cores, args.demand, args.seconds, args.drone, Path(folder))
                for _ in range(args.runs)
            ]

            def median(name: str, runs: list[Run] = runs) -> float:
                return statistics.median(getattr(r, name) for r in runs)

            print(
                f"{size:5d}-byte buffer: {median('records_per_s'):8.0f} records/s, "
                f"{median('bytes_per_s') / 1e3:7.1f} kB/s, {median('polls_per_s'):6.0f} polls/s, "
                f"firmware waiting {median('waiting'):.0%} of the time, "
                f"files {'identical' if all(r.identical for r in runs) else 'DIFFERENT'}"
            )


if __name__ == "__main__":
    main()
