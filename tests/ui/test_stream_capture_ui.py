"""Drone Stream through the window: the master demo board, the form's transport and prefills.

The reference is what the simulated cores wrote (kept with record_emitted)
and a one-shot `read_trace` of the saved file.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QImage

from heapgui.capture.session import DETECT, STREAM, SWO
from heapgui.capture.simulator import SimulatedProbe
from heapgui.capture.sources import PROBE, REPLAY, SIM
from heapgui.capture.stream_source import FROM_RESET
from heapgui.trace.load import read_trace
from heapgui.ui.app import SCREENSHOT_SIZE, _parse
from heapgui.ui.loader import running_threads
from heapgui.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, monkeypatch) -> MainWindow:
    monkeypatch.setattr("heapgui.ui.main_window.show_error", lambda parent, message: None)
    win = MainWindow()
    qtbot.addWidget(win)
    win.capture_panel.confirm_overwrite = lambda parent, paths: True
    return win


def test_a_stream_capture_from_the_master_board_fills_the_window(qtbot, window, tmp_path):
    output = tmp_path / "heaptrace"
    form = window.capture_panel.form
    form.select_source(SIM)
    form.select_transport(STREAM)
    form.start_combo.setCurrentIndex(form.start_combo.findData(FROM_RESET))
    form.cores_spin.setValue(2)
    form.simulator_options = {"record_emitted": True, "seed": 4, "unique_id": "ui-master-board"}
    form.set_output(output)
    panel = window.capture_panel
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        assert panel.start()
    qtbot.waitUntil(lambda: panel.live.records > 3000, timeout=30_000)
    assert panel.live.format == "tagged"
    shown = panel.problems_label.text()
    assert "core0: " in shown and "core1: " in shown and "% full" in shown
    assert sum(panel.live.core_records) == panel.live.records
    assert min(panel.live.core_records) > 0
    assert list(SimulatedProbe.devices) == ["ui-master-board"]
    board = SimulatedProbe.devices["ui-master-board"]
    assert "core1 boot" in panel.console.port_text(0)
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.stop()
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)

    saved = output.read_bytes()
    assert len(saved) > 10_000
    assert len(saved) == len(board.core_heaptrace(0)) + len(board.core_heaptrace(1))
    assert board.mask == 0  # the firmware is not left waiting for a reader
    reference = read_trace(output, "tagged")
    assert np.array_equal(window.trace.records.size, reference.records.size)
    assert np.array_equal(window.trace.records.kind, reference.records.kind)
    assert window.trace.records.timestamp is None  # Drone Stream has no clock: record axis
    assert "Done" in panel.state_label.text()


def test_a_layout_toml_beside_the_trace_means_drone_stream(qtbot, window, tmp_path):
    form = window.capture_panel.form
    (tmp_path / "layout.toml").write_text('[stream]\nram = "main"\n')
    form.use_project_dir(tmp_path)
    assert form.transport() == STREAM
    assert form.buffers_edit.text() == str(tmp_path / "layout.toml")
    assert form.output_edit.text() == str(tmp_path / "heaptrace")
    request = form.request()
    assert request.fmt == "tagged" and request.settings.transport == STREAM
    assert request.settings.layout == tmp_path / "layout.toml" and request.settings.elf is None
    assert request.raw_path is None
    swo = tmp_path / "swo"
    swo.mkdir()
    (swo / "Drone.toml").write_text(
        '[heap]\nsize = "64K"\npools = []\n\n'
        "[log.swo]\nreset-freq = 48000000\nbaud-rate = 3000000\n"
    )
    form.use_project_dir(swo)
    assert form.transport() == SWO
    assert form.request().fmt == DETECT  # SWO: framed or legacy, told from the first kilobytes


def test_the_transport_applies_to_probes_and_the_simulator_only(qtbot, window, tmp_path):
    form = window.capture_panel.form
    form.set_output(tmp_path / "heaptrace")
    form.select_transport(STREAM)
    form.select_source(REPLAY)
    assert form.transport() == SWO
    form.select_source(PROBE)
    assert form.transport() == STREAM
    form.buffers_edit.setText("")
    with pytest.raises(Exception, match="choose the firmware's ELF or layout.toml"):
        form.request()
    form.buffers_edit.setText(str(tmp_path / "missing.elf"))
    with pytest.raises(Exception, match=r"missing\.elf: no such ELF or layout\.toml"):
        form.request()
    elf = tmp_path / "firmware.elf"
    elf.write_bytes(b"\x7fELF")
    form.buffers_edit.setText(str(elf))
    assert form.request().settings.elf == elf
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)


def test_an_unplugged_probe_says_the_mask_was_left_set(qtbot, window, tmp_path):
    form = window.capture_panel.form
    form.select_source(SIM)
    form.select_transport(STREAM)
    form.simulator_options = {"record_emitted": False, "unique_id": "ui-unplugged-board"}
    form.set_output(tmp_path / "heaptrace")
    panel = window.capture_panel
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        assert panel.start()
    qtbot.waitUntil(lambda: panel.live.records > 100, timeout=30_000)
    assert list(SimulatedProbe.devices) == ["ui-unplugged-board"]  # nothing left from before
    board = SimulatedProbe.devices["ui-unplugged-board"]
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        board.unplug()
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)
    shown = panel.state_label.text()
    assert "disconnected" in shown and "could not clear the enable mask at 0x20001000" in shown
    assert panel.start_action.text() == "&Reconnect"


@pytest.mark.parametrize(
    ("argv", "demo", "file"),
    [
        (["--demo"], "swo", None),
        (["--demo", "stream"], "stream", None),
        (["--demo", "trace.bin"], "swo", "trace.bin"),  # as before: the demo, then the file
        (["trace.bin", "--demo", "stream"], "stream", "trace.bin"),
        ([], None, None),
    ],
)
def test_demo_takes_a_transport_and_still_a_file(argv, demo, file):
    args = _parse(argv)
    assert (args.demo, args.file) == (demo, file)


def test_demo_stream_screenshot_runs_the_master_board(tmp_path):
    """Even in a master project whose layout.toml describes other firmware."""
    out = tmp_path / "demo.png"
    project = tmp_path / "project"
    project.mkdir()
    (project / "layout.toml").write_text(
        '[ram]\nmain = { origin = 0x20000000, size = "20K" }\n'
        '[stream]\nram = "main"\n[stream.core0]\nram = "main"\nsize = "512"\n'
    )
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / ".config"),
        XDG_CACHE_HOME=str(tmp_path / ".cache"),
    )
    command = [sys.executable, "-m", "heapgui.ui.app", "--demo", "stream", "--screenshot", str(out)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, cwd=project
    )
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
