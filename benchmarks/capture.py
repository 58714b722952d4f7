"""Live capture from the simulated board through pyocd: throughput, lost bytes, CPU, poll latency.

The simulated firmware produces `--rate` SWO bytes per second (4 MB/s by
default; the line at 48 Mbaud carries 4.8 MB/s) and stalls, like Drone's ITM
writes, when the trace path is full, so a capture that cannot keep up shows
as a received rate below the target rather than as lost bytes. At the end the
firmware is halted, the trace path drained, and the heaptrace file compared
byte for byte with what the firmware emitted on port 31.

CPU is process time over wall time (100% = one core); the simulator runs
inside `read()` in the same thread, so its share is reported separately.

    python benchmarks/capture.py [--seconds 60] [--rate 4e6] [--clock 48e6] [--baud 48e6]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from common import add_capture_options, capture_target, machine

from heapgui.capture.session import CaptureSession, CaptureUpdate
from heapgui.capture.sim_source import SimulatorSource, simulator_source


class TimedSource:
    """Delegates to a source and keeps the wall and CPU time its reads take."""

    def __init__(self, inner: SimulatorSource) -> None:
        self.inner = inner
        self.read_wall = 0.0
        self.read_cpu = 0.0

    @property
    def name(self) -> str:
        return self.inner.name

    def open(self) -> None:
        self.inner.open()

    def read(self) -> bytes:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return self.inner.read()
        finally:
            self.read_wall += time.perf_counter() - wall
            self.read_cpu += time.thread_time() - cpu

    def close(self) -> None:
        self.inner.close()


@dataclass
class CaptureFigures:
    seconds: float
    bytes_received: int
    heap_bytes: int
    emitted_heap_bytes: int
    identical: bool
    records: int
    overflows: int
    skipped_bytes: int
    cpu: float  # process CPU time over wall time during the capture
    read_cpu: float  # the part spent in read(): simulator and pyocd
    poll_ms: np.ndarray = field(repr=False)  # wall time of every poll, milliseconds

    def report(self) -> str:
        p50, p90, p99, top = np.percentile(self.poll_ms, [50, 90, 99, 100])
        lost = self.emitted_heap_bytes - self.heap_bytes
        return "\n".join(
            [
                f"captured {self.seconds:.1f} s: {self.bytes_received} SWO bytes "
                f"({self.bytes_received / self.seconds / 1e6:.2f} MB/s), "
                f"{self.records} records ({self.records / self.seconds:.0f}/s)",
                f"heap trace: {self.heap_bytes} bytes saved, {self.emitted_heap_bytes} emitted, "
                f"{lost} lost, file {'identical' if self.identical else 'DIFFERENT'}; "
                f"{self.overflows} overflows, {self.skipped_bytes} skipped bytes",
                f"CPU: {self.cpu:.0%} of a core in all, {self.read_cpu:.0%} in read() "
                f"(simulator + pyocd), {self.cpu - self.read_cpu:.0%} in the session",
                f"poll latency over {len(self.poll_ms)} polls: median {p50:.1f} ms, "
                f"p90 {p90:.1f} ms, p99 {p99:.1f} ms, max {top:.1f} ms",
            ]
        )


def capture_simulated(
    seconds: float,
    rate: float,
    clock: int,
    baud: int,
    directory: Path,
    on_update: Callable[[CaptureUpdate], None] | None = None,
) -> CaptureFigures:
    """Capture from a simulated board for `seconds`; `on_update` sees every update.

    The GUI benchmark passes an `on_update` that hands batches to its event
    loop, to measure the same capture with the display attached.
    """
    source = TimedSource(simulator_source(clock, baud, byte_rate=rate, seed=1))
    device = source.inner.device
    session = CaptureSession(source, directory / "heaptrace")
    polls: list[float] = []
    session.start()
    wall, cpu = time.perf_counter(), time.process_time()
    read_cpu = source.read_cpu
    end = wall + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        update = session.poll()
        polls.append(time.perf_counter() - start)
        if on_update is not None:
            on_update(update)
        if update.finished:
            raise SystemExit(f"the capture stopped: {update.error}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    read_cpu = source.read_cpu - read_cpu
    # Halt the firmware and take in what is still on its way, then compare.
    source.inner.session.target.halt()
    quiet = 0
    while quiet < 3:
        before = session.demux.stats.bytes_in
        update = session.poll()
        if on_update is not None:
            on_update(update)
        quiet = quiet + 1 if session.demux.stats.bytes_in == before else 0
    final = session.stop()
    if on_update is not None:
        on_update(final)
    emitted = device.heaptrace
    saved = (directory / "heaptrace").read_bytes()
    counters = final.counters
    return CaptureFigures(
        seconds=wall,
        bytes_received=counters.bytes_received,
        heap_bytes=counters.heap_bytes,
        emitted_heap_bytes=len(emitted),
        identical=saved == emitted,
        records=counters.records,
        overflows=counters.overflows,
        skipped_bytes=counters.skipped_bytes,
        cpu=cpu / wall,
        read_cpu=read_cpu / wall,
        poll_ms=np.array(polls) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_capture_options(parser)
    args = parser.parse_args()
    print(machine())
    print(capture_target(args))
    with tempfile.TemporaryDirectory() as directory:
        figures = capture_simulated(
            args.seconds, args.rate, int(args.clock), int(args.baud), Path(directory)
        )
    print(figures.report())


if __name__ == "__main__":
    main()
