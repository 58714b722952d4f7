"""GUI figures on a 10M-record trace: start-up to first painted data, memory, zoom frame time.

    python benchmarks/gui.py [--records N] [--runs R]

(a) seconds from launching `heapgui FILE` (offscreen) until the charts have
    painted with the data; target < 5 s.
(b) resident memory above an empty window's, per record; target < 40 B.
(c) milliseconds per frame while zooming into the load chart and panning it
    across the whole trace; target < 50 ms.

The trace is generated once into the temp directory. Each launch gets its own
settings directory so the user's recent files are left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt is imported

from PySide6.QtCore import QEvent, QObject, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from heapgui.trace.framed import encode_framed  # noqa: E402
from heapgui.trace.workload import workload  # noqa: E402
from heapgui.ui.loader import Task  # noqa: E402
from heapgui.ui.main_window import MainWindow  # noqa: E402

DEFAULT_RECORDS = 10_000_000


def trace_file(records: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"heapgui-bench-{records}.framed"
    if not path.exists():
        print(f"generating {path} ...", flush=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(encode_framed(workload(records, seed=1)))
        partial.rename(path)
    return path


def launch(*args: str) -> dict:
    """Run the app until its ready file appears; returns the report plus the elapsed time."""
    with tempfile.TemporaryDirectory(prefix="heapgui-bench-") as home:
        ready = Path(home) / "ready.json"
        env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            HOME=home,
            XDG_CONFIG_HOME=str(Path(home) / ".config"),
        )
        start = time.time()
        subprocess.run(
            [sys.executable, "-m", "heapgui.ui.app", "--ready-file", str(ready), *args],
            env=env,
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
        report = json.loads(ready.read_text())
    report["seconds"] = report["time"] - start
    return report


class PaintCounter(QObject):
    """Counts paint events, to time exactly one repaint per zoom step."""

    def __init__(self, widget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def zoom_frames(path: Path) -> tuple[list[float], list[float], int]:
    """Frame times (ms) zooming in on the middle of the trace, then panning a 1% window."""
    app = QApplication.instance() or QApplication([])
    scratch = tempfile.mkdtemp(prefix="heapgui-bench-")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, scratch)
    Task.inline = True  # the load is measured apart: here it only has to be done
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    window.open_file(path)
    app.processEvents()
    plot = window.charts.load_plot
    viewport = window.charts.graphics.viewport()
    records = len(window.trace.records)

    paints = PaintCounter(viewport)

    def frame(lo: float, hi: float) -> float:
        # setXRange schedules one repaint; processEvents performs it.
        before = paints.count
        start = time.perf_counter()
        plot.setXRange(lo, hi, padding=0)
        app.processEvents()
        if paints.count == before:
            viewport.repaint()
        return (time.perf_counter() - start) * 1000.0

    frame(0, records)  # the first paint builds caches; it is not a zoom step

    middle = records / 2
    widths = np.geomspace(records, 1000, 40)
    zoom = [frame(middle - w / 2, middle + w / 2) for w in widths]
    width = records / 100
    pan = [frame(lo, lo + width) for lo in np.linspace(0, records - width, 40)]
    window.close()
    return zoom, pan, records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = trace_file(args.records)
    print(f"trace: {path} ({path.stat().st_size / 1e6:.0f} MB)")

    empty = [launch() for _ in range(args.runs)]
    loaded = [launch(str(path)) for _ in range(args.runs)]
    seconds = statistics.median(r["seconds"] for r in loaded)
    baseline = statistics.median(r["rss_kib"] for r in empty)
    resident = statistics.median(r["rss_kib"] for r in loaded)
    at_paint = statistics.median(r["rss_at_paint_kib"] for r in loaded)
    peak = statistics.median(r["peak_kib"] for r in loaded)
    zoom, pan, records = zoom_frames(path)
    per_record = (resident - baseline) * 1024 / records

    print(f"records: {records:,}")
    print(f"(a) launch to first painted data: median {seconds:.2f} s (target < 5 s)")
    print(f"    empty window: median {statistics.median(r['seconds'] for r in empty):.2f} s")
    print(
        f"(b) resident memory: {resident / 1024:.0f} MiB loaded, {baseline / 1024:.0f} MiB "
        f"empty, {per_record:.1f} bytes/record (target < 40), once the load's background "
        f"work has finished"
    )
    print(
        f"    at the first paint, while the layout planner still runs: {at_paint / 1024:.0f} MiB,"
        f" {(at_paint - baseline) * 1024 / records:.1f} bytes/record"
    )
    print(
        f"    peak resident memory, loading included: {peak / 1024:.0f} MiB (issue 14: at most "
        f"400 MB at 10^7 records, 2 GB at 10^8)"
    )
    print(
        f"(c) frame time: zoom median {statistics.median(zoom):.1f} ms "
        f"(max {max(zoom):.1f}), pan median {statistics.median(pan):.1f} ms "
        f"(max {max(pan):.1f}) (target < 50 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
