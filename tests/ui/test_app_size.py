"""`heapgui FILE --screenshot OUT.png --size WxH`: the picture at that size."""

from __future__ import annotations

import pytest
from app_run import run_app
from PySide6.QtGui import QImage


@pytest.mark.parametrize("size", [(1280, 800), (1600, 1000)])
def test_screenshot_at_a_given_size(samples, tmp_path, size):
    out = tmp_path / "shot.png"
    trace = str(samples / "workload-40k.framed")
    done = run_app("--screenshot", str(out), trace, "--size", f"{size[0]}x{size[1]}", home=tmp_path)
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == size


@pytest.mark.parametrize("text", ["1280", "1280x", "x800", "0x800", "1280x-8", "big"])
def test_a_bad_size_is_refused_in_one_line(tmp_path, text):
    out = tmp_path / "shot.png"
    done = run_app("--screenshot", str(out), "--size", text, home=tmp_path)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert errors == [
        f"heapgui: error: argument --size: invalid size {text!r}: expected "
        "WIDTHxHEIGHT, e.g. 1280x800"
    ]
    assert "Traceback" not in done.stderr and not out.exists()
