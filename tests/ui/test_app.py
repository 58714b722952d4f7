"""`heapgui` as a process: screenshot mode, its errors, and the benchmark's ready file."""

from __future__ import annotations

import json

from app_run import run_app
from PySide6.QtGui import QImage

from heapgui.ui.app import SCREENSHOT_SIZE


def test_screenshot_of_a_loaded_trace(samples, tmp_path):
    out = tmp_path / "shot.png"
    done = run_app("--screenshot", str(out), str(samples / "workload-40k.framed"), home=tmp_path)
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    assert not (tmp_path / ".config" / "heapgui").exists()  # the user's settings untouched


def test_screenshot_of_a_bad_file_fails_with_one_line(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("junk: not a heap trace\n" * 100)
    out = tmp_path / "shot.png"
    done = run_app("--screenshot", str(out), str(bad), home=tmp_path)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("heapgui:")]
    assert len(lines) == 1 and str(bad) in lines[0] and "Traceback" not in done.stderr
    assert not out.exists()


def test_ready_file_reports_time_and_memory(samples, tmp_path):
    ready = tmp_path / "ready.json"
    done = run_app(
        "--ready-file", str(ready), "--demo", str(samples / "seed-example.framed"), home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(ready.read_text())
    assert report["time"] > 0 and report["rss_kib"] > 0


def test_ready_file_of_an_empty_window_is_written_at_its_start_page(tmp_path):
    """The GUI benchmark's baseline: a window with nothing open paints its start page, not
    the charts; the report must still come (it waited forever once the start page came)."""
    ready = tmp_path / "ready.json"
    done = run_app("--ready-file", str(ready), home=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(ready.read_text())
    assert report["rss_kib"] > 0 and report["peak_kib"] >= report["rss_kib"]
