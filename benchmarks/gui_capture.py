"""Live capture through the real main window (offscreen): lost bytes and event-loop latency.

    python benchmarks/gui_capture.py [--seconds 60] [--rate 4e6] [--clock 48e6] [--baud 48e6]

The window's capture panel captures from the simulated board exactly as the
Start button does (a worker thread that also counts the statistics, merged
batches, a 10 Hz display of table, charts, log and, now and then, the pool
layout). The defaults are those of benchmarks/capture.py: 4 MB/s of SWO from
a 48 MHz board at 48 Mbaud.

A 10 ms precise QTimer measures how late the GUI thread serves it: the
lateness of each tick is the time since the previous one minus 10 ms
(target: p99 < 50 ms, with the display refreshed at 10 Hz). At the end the
firmware is halted, the trace path drained, the capture stopped, and the
heaptrace file compared byte for byte with what the firmware emitted on
port 31.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt is imported

from common import add_capture_options, capture_target  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from heapgui.capture.simulator import SimulatedProbe  # noqa: E402
from heapgui.capture.sources import SIM  # noqa: E402
from heapgui.ui.app import resident_kib  # noqa: E402
from heapgui.ui.loader import running_threads  # noqa: E402
from heapgui.ui.main_window import MainWindow  # noqa: E402

TICK_MS = 10
DHCSR = 0xE000EDF0
HALT = 0xA05F0003  # DBGKEY | C_HALT | C_DEBUGEN: what a debugger writes to halt the core


class Lateness:
    """A 10 ms timer that notes how late each of its ticks comes."""

    def __init__(self) -> None:
        self.late_ms: list[float] = []
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late_ms.append(max((now - self._last) * 1000 - TICK_MS, 0.0))
        self._last = now


def run_events(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def run_until(done, limit: float = 60.0, step: float = 0.05) -> None:
    end = time.monotonic() + limit
    while not done():
        if time.monotonic() > end:
            raise SystemExit("gave up waiting")
        run_events(step)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_capture_options(parser)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(f"{capture_target(args)}, window 1400x900")
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - kept alive
    with tempfile.TemporaryDirectory(prefix="heapgui-bench-") as scratch:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, scratch)
        window = MainWindow()
        window.resize(1400, 900)
        window.show()
        panel = window.capture_panel
        form = panel.form
        form.select_source(SIM)
        form.clock_spin.setValue(int(args.clock))
        form.baud_spin.setValue(int(args.baud))
        form.rate_spin.setValue(round(args.rate / 1000))
        form.simulator_options = {"record_emitted": True, "seed": 1}
        output = Path(scratch) / "heaptrace"
        form.set_output(output)
        updates: list[float] = []
        panel.live_updated.connect(lambda live, slow: updates.append(time.perf_counter()))
        finished: list[object] = []
        panel.capture_finished.connect(finished.append)
        lateness = Lateness()
        rss_before = resident_kib()

        if not panel.start():
            raise SystemExit(panel.state_label.text())
        run_until(lambda: panel.live is not None)
        device = next(iter(SimulatedProbe.devices.values()))
        wall, cpu = time.perf_counter(), time.process_time()
        lateness.start()
        run_events(args.seconds)
        lateness.stop()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        live = panel.live
        rss_during = resident_kib()
        shown_records = live.records

        # Halt the firmware, take in what is still on its way, then stop.
        with device.lock:
            device.bus.write(DHCSR, HALT)
        received = [-1]

        def drained() -> bool:
            now = live.counters.bytes_received
            quiet, received[0] = now == received[0], now
            return quiet

        run_until(drained, step=0.3)
        stop = time.perf_counter()
        panel.stop()
        run_until(lambda: bool(finished) and window.trace is not None)
        held = time.perf_counter() - stop
        run_until(lambda: not running_threads())
        counters = live.summary.counters
        saved = output.read_bytes()
        emitted = device.heaptrace
        window.close()

    late = np.array(lateness.late_ms)
    p50, p99, top = np.percentile(late, [50, 99, 100])
    span = updates[-1] - updates[0] if len(updates) > 1 else 0.0
    print(
        f"captured {counters.elapsed:.1f} s: {counters.bytes_received} SWO bytes "
        f"({counters.bytes_received / counters.elapsed / 1e6:.2f} MB/s), "
        f"{counters.records} records ({counters.records / counters.elapsed:.0f}/s); "
        f"{shown_records} shown when the timed part ended"
    )
    same = "identical" if saved == emitted else "DIFFERENT"
    print(
        f"heap trace: {len(saved)} bytes saved, {len(emitted)} emitted, "
        f"{len(emitted) - len(saved)} lost, file {same}; "
        f"{counters.overflows} overflows, {counters.skipped_bytes} skipped bytes"
    )
    print(
        f"GUI event loop lateness over {len(late)} ticks of {TICK_MS} ms: median {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, max {top:.1f} ms (target p99 < 50 ms)"
    )
    print(
        f"display updates: {len(updates)} ({(len(updates) - 1) / span:.1f}/s); "
        f"CPU {cpu / wall:.0%} of a core in all; resident memory {rss_before / 1024:.0f} MiB "
        f"before, {rss_during / 1024:.0f} MiB at the end"
    )
    print(f"Stop to the whole trace held by the window: {held:.2f} s")
    return 0 if saved == emitted else 1


if __name__ == "__main__":
    sys.exit(main())
