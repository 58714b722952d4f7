"""`heapgui-cli demux` as a whole process: what it loads and how its memory grows."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np

from heapgui.capture.itm_encode import ItmEncoder
from heapgui.cli import main
from heapgui.commands import demux as demux_command

# What a demux run has no use for; each costs tens of milliseconds to import.
UNNEEDED = ("PySide6", "tomlkit", "pyocd", "pyqtgraph", "heapgui.layout", "heapgui.trace.load")


def test_demux_imports_only_what_it_needs(samples, tmp_path):
    script = (
        "import sys\n"
        "from heapgui.cli import main\n"
        f"code = main(['demux', {str(samples / 'capture.swo')!r}, '-o', {str(tmp_path / 'o')!r}])\n"
        "print(code, *sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'tomlkit', 'pyocd', 'pyqtgraph', 'heapgui')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    code, *modules = done.stdout.split()
    assert code == "0"
    loaded = [m for m in modules if m.startswith(UNNEEDED)]
    assert loaded == [], loaded
    assert (tmp_path / "o").read_bytes() == (samples / "capture.port31").read_bytes()


def _heap_trace_swo(path, writes: int) -> bytes:
    """`writes` timestamped 4-byte writes on port 31, and what they carry."""
    rng = np.random.default_rng(writes)
    payload = rng.integers(0, 256, 4 * writes, dtype=np.uint8).tobytes()
    deltas = rng.integers(0, 5000, writes)
    path.write_bytes(ItmEncoder().stimulus(31, payload, 4, deltas))
    return payload


def _peak_bytes(argv: list[str]) -> int:
    tracemalloc.start()
    try:
        assert main(argv) == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_demux_memory_does_not_grow_with_the_capture(tmp_path, capsys, monkeypatch):
    # Small reads, so that a short capture already spans many of them.
    monkeypatch.setattr(demux_command, "READ_SIZE", 64 << 10)
    peaks = []
    for writes in (10_000, 250_000, 1_000_000):  # the first warms up caches and tables
        swo, out = tmp_path / f"{writes}.swo", tmp_path / f"{writes}.out"
        payload = _heap_trace_swo(swo, writes)
        peaks.append(_peak_bytes(["demux", str(swo), "-o", str(out)]))
        assert out.read_bytes() == payload
    capsys.readouterr()
    # Four times the capture (2 MB against 8 MB of SWO), the same working set,
    # a small part of the capture.
    assert peaks[2] < peaks[1] * 1.25 + (256 << 10), peaks
    assert peaks[2] < swo.stat().st_size // 4, peaks


def test_demux_memory_on_noise_does_not_grow_with_its_length(tmp_path, capsys, monkeypatch):
    # A wrong baud rate: every read is garbage read as packets on every port.
    monkeypatch.setattr(demux_command, "READ_SIZE", 64 << 10)
    rng = np.random.default_rng(5)
    peaks = []
    for size in (64 << 10, 512 << 10, 2 << 20):  # the first warms up caches and tables
        swo = tmp_path / f"{size}.swo"
        swo.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        peaks.append(_peak_bytes(["demux", str(swo), "-o", str(tmp_path / "out")]))
    capsys.readouterr()
    # Four times the noise, the same working set.
    assert peaks[2] < peaks[1] * 1.25 + (256 << 10), peaks
