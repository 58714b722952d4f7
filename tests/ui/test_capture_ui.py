"""Live capture through the window: the simulated board via pyocd, replays, faults, the demo.

References are independent of the live code: the heaptrace the simulated
firmware really emitted, a one-shot `read_trace` of the saved file, the
demultiplexed sample capture, and plain loops (brute.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from brute import live_series, replay
from pyocd.core import exceptions
from PySide6.QtGui import QImage, QPalette

from heapgui.capture.simulator import SimulatedProbe, simulated_probe
from heapgui.capture.sources import FAST, REPLAY, SIM, TCP
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records
from heapgui.ui.app import SCREENSHOT_SIZE
from heapgui.ui.loader import running_threads
from heapgui.ui.log_console import MAX_LINES, LogConsole
from heapgui.ui.main_window import MainWindow
from heapgui.ui.stats_model import COLUMNS, SORT_ROLE
from heapgui.workspace.live import Envelope, SizeTrack

DHCSR = 0xE000EDF0
HALT = 0xA05F0003  # DBGKEY | C_HALT | C_DEBUGEN
SIM_CLOCK = 72_000_000  # the simulated board's clock when the form leaves it unset
RATE_KB = 200


@pytest.fixture
def window(qtbot, monkeypatch) -> MainWindow:
    monkeypatch.setattr("heapgui.ui.main_window.show_error", lambda parent, message: None)
    win = MainWindow()
    qtbot.addWidget(win)
    win.capture_panel.confirm_overwrite = lambda parent, paths: True
    return win


def sim_form(win: MainWindow, output, seed: int = 3) -> None:
    form = win.capture_panel.form
    form.select_source(SIM)
    form.rate_spin.setValue(RATE_KB)
    form.simulator_options = {"record_emitted": True, "seed": seed}
    form.set_output(output)


def installed_board():
    """The simulated board of the running capture (installed only while its source is open)."""
    devices = list(SimulatedProbe.devices.values())
    assert len(devices) == 1
    return devices[0]


def halt_and_drain(qtbot, win: MainWindow, device) -> None:
    """Halt the firmware as a debugger would, then wait until no more bytes arrive."""
    with device.lock:
        device.bus.write(DHCSR, HALT)
    received = [-1]

    def settled() -> bool:
        now = win.capture_panel.live.counters.bytes_received
        done, received[0] = now == received[0], now
        return done

    qtbot.waitUntil(lambda: (qtbot.wait(300), settled())[1], timeout=20_000)


def table_rows(win: MainWindow) -> list[tuple]:
    model = win.stats_panel.model
    return [
        tuple(model.index(r, c).data(SORT_ROLE) for c in range(len(COLUMNS) - 1))
        for r in range(model.rowCount())
    ]


def touching(records: Records, size: int) -> list[int]:
    """Positions of the records that allocate, free or resize a block of `size`."""
    return [
        i
        for i, op in enumerate(records.to_tuples())
        if op[1] == size or (op[0] in ("grow", "shrink") and op[2] == size)
    ]


def wait_for_threads(qtbot) -> None:
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)


def test_simulated_capture_updates_the_views_live_and_saves_what_was_emitted(
    qtbot, window, tmp_path
):
    output = tmp_path / "heaptrace"
    sim_form(window, output)
    panel = window.capture_panel
    updates: list[float] = []
    panel.live_updated.connect(lambda live, slow: updates.append(time.monotonic()))
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        assert panel.start()
    assert window.capture_dock.isVisibleTo(window)
    qtbot.waitUntil(lambda: panel.live.records > 2000, timeout=30_000)
    first_x = window.charts.load_curve.getData()[0]

    # About a second of display ticks: the views refresh at 5 Hz or faster.
    start = len(updates)
    qtbot.wait(1000)
    assert len(updates) - start >= 5
    x, y = window.charts.load_curve.getData()
    assert len(first_x) and x[-1] > first_x[-1]  # the load curve grows with the capture
    axis = window.charts.load_plot.getAxis("bottom")
    assert axis.labelText == "time" and axis.scale == pytest.approx(1 / SIM_CLOCK)
    assert window.stats_panel.model.rowCount() > 0
    assert window.stats_panel.selected_sizes()  # the busiest sizes are charted by now
    assert "boot" in panel.console.port_text(0) and "tick 1" in panel.console.port_text(0)

    device = installed_board()
    halt_and_drain(qtbot, window, device)
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.stop()
    wait_for_threads(qtbot)

    saved = output.read_bytes()
    assert len(saved) > 10_000
    assert saved == device.heaptrace
    assert panel.console.port_text(0) == device.emitted[0].decode().rstrip("\n")
    assert device.unique_id not in SimulatedProbe.devices  # registered only while capturing

    # The window holds the capture like an opened file; its statistics are the file's.
    assert window.trace_path == output
    assert window.windowTitle().startswith("heaptrace")
    reference = read_trace(output)
    assert table_rows(window) == [
        (r.size, r.max_load, r.total, r.live, r.peak_bytes) for r in reference.stats.rows()
    ]
    records = window.trace.records
    for column in ("kind", "size", "new_size", "offset"):
        assert np.array_equal(getattr(records, column), getattr(reference.records, column))
    assert np.array_equal(window.trace.stats.timeline, reference.stats.timeline)
    assert [in_use for _, in_use, _ in replay(reference.records)] == (
        window.trace.stats.timeline.tolist()
    )
    # Timestamps come along: dated, never decreasing, on a seconds axis.
    assert records.timestamp is not None and (np.diff(records.timestamp) >= 0).all()
    assert window.charts.load_plot.getAxis("bottom").labelText == "time"
    assert "Done" in panel.state_label.text() and panel.start_action.isEnabled()


def test_live_size_curves_match_a_plain_loop(qtbot, window, tmp_path):
    sim_form(window, tmp_path / "heaptrace", seed=11)
    panel = window.capture_panel
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        panel.start()
    # The first slow tick (a second in) selects the busiest sizes.
    qtbot.waitUntil(lambda: bool(window.stats_panel.selected_sizes()), timeout=30_000)
    sizes = window.stats_panel.selected_sizes()
    qtbot.wait(500)  # more batches after the selection: history plus increments
    live = panel.live
    records = live.captured_records()
    for size in sizes:
        track = live.tracks[size]
        series = live_series(records, size)
        at = touching(records, size)
        x, y = track.envelope.points()
        assert track.count == series[-1]
        assert len(at) < 2000  # below the envelope's bucket count: every point is drawn
        assert y.tolist() == [series[i] for i in at]
        assert x.tolist() == records.timestamp[at].tolist()
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.stop()
    wait_for_threads(qtbot)


def test_the_load_chart_follows_the_capture_until_the_user_zooms(qtbot, window, tmp_path):
    sim_form(window, tmp_path / "heaptrace")
    panel = window.capture_panel
    charts = window.charts
    vb = charts.load_plot.vb
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        panel.start()

    def last_x() -> float:
        x = charts.load_curve.getData()[0]
        return float(x[-1]) if x is not None and len(x) else -1.0

    def in_view() -> bool:
        low, high = vb.viewRange()[0]
        return last_x() > 0 and low <= last_x() <= high

    qtbot.waitUntil(lambda: last_x() > 0, timeout=30_000)
    for _ in range(5):  # while following, the newest data is always in view
        qtbot.wait(300)
        assert in_view()
    # Zoom with the wheel, as pyqtgraph does it: the view stays where the user put it.
    vb.scaleBy(x=0.5, center=(last_x() / 2, 0))
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])
    kept = vb.viewRange()[0]
    qtbot.waitUntil(lambda: last_x() > kept[1], timeout=30_000)
    assert vb.viewRange()[0] == kept
    charts.load_plot.autoBtnClicked()  # the A button follows again
    qtbot.waitUntil(in_view, timeout=10_000)
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.stop()
    wait_for_threads(qtbot)


@pytest.mark.parametrize(
    ("fault", "text", "reconnect"),
    [
        ("unplug", "was disconnected", True),
        (exceptions.ProbeError("USB pipe stalled"), "USB pipe stalled", False),
    ],
)
def test_a_fault_keeps_the_data_and_a_new_capture_works(
    qtbot, window, tmp_path, fault, text, reconnect
):
    output = tmp_path / "heaptrace"
    sim_form(window, output, seed=5)
    panel = window.capture_panel
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        panel.start()
    qtbot.waitUntil(lambda: panel.live.records > 1000, timeout=30_000)
    device = installed_board()
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        if fault == "unplug":
            device.unplug()
        else:
            device.inject(fault)
    wait_for_threads(qtbot)

    message = panel.state_label.text()
    assert text in message and "saved" in message
    assert text in window.statusBar().currentMessage()
    assert ("Reconnect" in panel.start_action.text()) == reconnect
    saved = output.read_bytes()
    assert len(saved) > 1000 and device.heaptrace.startswith(saved)
    assert f"{len(saved)} bytes of heap trace were saved in {output}." in message
    reference = read_trace(output)
    assert window.trace_path == output
    assert len(window.trace.records) == len(reference.records)
    assert [r[:4] for r in table_rows(window)] == [
        (r.size, r.max_load, r.total, r.live) for r in reference.stats.rows()
    ]

    # Start again without restarting: a fresh board and a clean second capture.
    second = tmp_path / "second"
    window.capture_panel.form.set_output(second)
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        assert panel.start()
    qtbot.waitUntil(lambda: panel.live.records > 500, timeout=30_000)
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.stop()
    wait_for_threads(qtbot)
    assert panel.live.summary.error is None and "Done" in panel.state_label.text()
    assert window.trace_path == second and len(window.trace.records) > 500
    assert panel.start_action.text() == "&Start capture"


def test_replay_of_the_sample_capture_equals_its_demultiplexed_port(
    qtbot, window, samples, tmp_path
):
    form = window.capture_panel.form
    form.select_source(REPLAY)
    form.replay_edit.setText(str(samples / "capture.swo"))
    form.pace_combo.setCurrentIndex(form.pace_combo.findData(FAST))
    form.raw_check.setChecked(True)
    form.raw_edit.setText(str(tmp_path / "raw.swo"))
    output = tmp_path / "heaptrace"
    form.set_output(output)
    panel = window.capture_panel
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.start()
    wait_for_threads(qtbot)
    assert output.read_bytes() == (samples / "capture.port31").read_bytes()
    assert (tmp_path / "raw.swo").read_bytes() == (samples / "capture.swo").read_bytes()
    assert panel.console.port_text(0) == (samples / "capture.port0").read_text().rstrip("\n")
    reference = read_trace(samples / "capture.port31")
    assert [r[:4] for r in table_rows(window)] == [
        (r.size, r.max_load, r.total, r.live) for r in reference.stats.rows()
    ]
    assert "source ended" in panel.state_label.text()


def test_a_debugger_closing_its_tcp_stream_keeps_what_it_sent(qtbot, window, samples, tmp_path):
    swo = (samples / "capture.swo").read_bytes()
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(swo)  # then the debugger goes away

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    form = window.capture_panel.form
    form.select_source(TCP)
    form.host_edit.setText("127.0.0.1")
    form.port_spin.setValue(listener.getsockname()[1])
    output = tmp_path / "heaptrace"
    form.set_output(output)
    panel = window.capture_panel
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.start()
    wait_for_threads(qtbot)
    server.join(10)
    listener.close()
    assert "closed the connection" in panel.state_label.text()
    assert "closed the connection" in window.statusBar().currentMessage()
    assert output.read_bytes() == (samples / "capture.port31").read_bytes()
    assert window.trace_path == output
    assert panel.start_action.text() == "&Start capture"


def test_clocks_and_output_come_from_drone_toml_next_to_the_open_trace(
    qtbot, window, samples, tmp_path
):
    (tmp_path / "Drone.toml").write_text(
        '[heap]\nsize = "64K"\npools = []\n\n'
        "[log.swo]\nreset-freq = 48000000\nbaud-rate = 3000000\n"
    )
    trace = tmp_path / "workload.framed"
    trace.write_bytes((samples / "workload-40k.framed").read_bytes())
    form = window.capture_panel.form
    with qtbot.waitSignal(window.trace_loaded, timeout=30_000):
        window.open_file(trace)
    assert form.clock_spin.value() == 48_000_000 and form.baud_spin.value() == 3_000_000
    assert form.output_edit.text() == str(tmp_path / "heaptrace")
    assert "Drone.toml" in form.config_label.text()
    request = form.request()
    assert (request.settings.core_clock, request.settings.swo_baud) == (48_000_000, 3_000_000)
    assert request.heap_size == 64 * 1024  # the statistics leave out blocks larger than it
    wait_for_threads(qtbot)


def test_probe_list_fills_in_the_background(qtbot, window):
    form = window.capture_panel.form
    with simulated_probe(unique_id="listed-board") as device:
        with qtbot.waitSignal(form.probes_listed, timeout=30_000):
            form.refresh_button.click()
            # The call returned before the list arrived: the GUI did not wait for pyocd.
            assert form.probe_combo.count() == 0
            assert not form.refresh_button.isEnabled()
        ids = [form.probe_combo.itemData(i) for i in range(form.probe_combo.count())]
        assert device.unique_id in ids
    qtbot.waitUntil(lambda: form.target_model.rowCount() > 1, timeout=30_000)
    targets = form.target_model.stringList()
    assert targets[0] == "cortex_m" and len(set(targets)) == len(targets)
    # Typing filters by substring, case-insensitively, not just by prefix.
    completer = form.target_combo.completer()
    completer.setCompletionPrefix("F103")
    model = completer.completionModel()
    shown = [model.index(i, 0).data() for i in range(completer.completionCount())]
    assert shown == [name for name in targets if "f103" in name]
    assert shown and any(not name.startswith("f103") for name in shown)
    wait_for_threads(qtbot)


def test_form_problems_are_one_line_and_start_nothing(qtbot, window, tmp_path):
    panel = window.capture_panel
    form = panel.form
    form.select_source(REPLAY)
    form.set_output(tmp_path / "heaptrace")
    assert not panel.start()
    assert "choose the SWO file to replay" in panel.state_label.text()
    form.select_source(SIM)
    form.set_output(tmp_path / "missing" / "heaptrace")
    assert not panel.start()
    assert "does not exist" in panel.state_label.text()

    existing = tmp_path / "heaptrace"
    existing.write_bytes(b"keep me")
    form.set_output(existing)
    assert "exists" in form.overwrite_label.text()
    asked = []
    panel.confirm_overwrite = lambda parent, paths: asked.append(paths) or False
    assert not panel.start()
    assert asked == [[existing]] and existing.read_bytes() == b"keep me"
    assert not running_threads() and not panel.running()


def test_log_console_keeps_ports_apart_and_caps_its_lines(qtbot):
    console = LogConsole()
    qtbot.addWidget(console)
    console.append_text({0: "boot\ntic", 1: "warn: low"})
    console.append_text({0: "k 1\n", 1: " battery\n"})
    assert console.port_text(0) == "boot\ntick 1"
    assert console.port_text(1) == "warn: low battery"
    colours = {}
    block = console.document().begin()
    while block.isValid():
        colour = block.begin().fragment().charFormat().foreground().color().name()
        colours.setdefault(block.userState(), set()).add(colour)
        block = block.next()
    assert colours == {
        0: {console.palette().color(QPalette.ColorRole.Text).name()},
        1: {console.palette().color(QPalette.ColorRole.LinkVisited).name()},
    }
    assert colours[0] != colours[1]
    console.append_text({0: "".join(f"line {i}\n" for i in range(MAX_LINES + 100))})
    assert console.document().blockCount() <= MAX_LINES
    console.append_text({1: "unfinished"})
    assert "unfinished" not in console.port_text(1)
    console.flush()
    assert console.port_text(1).endswith("unfinished")


def test_log_console_shows_control_characters_without_obeying_them(qtbot):
    console = LogConsole()
    qtbot.addWidget(console)
    console.append_text({0: "\x1b[1mbold\x1b[0m\r\x08x\x0cy\u2029z\u2028w\u202eabc\n"})
    assert console.port_text(0) == "\\x1b[1mbold\\x1b[0m\\x0d\\x08x\\x0cy\\u2029z\\u2028w\\u202eabc"
    assert console.document().blockCount() == 1
    fragments = console.document().begin().begin()
    while not fragments.atEnd():
        assert fragments.fragment().charFormat() == console._formats[0]
        fragments += 1


@pytest.mark.parametrize("chunk", [1, 7, 500, 5000])
def test_envelope_keeps_every_bucket_minimum_and_maximum(chunk):
    rng = np.random.default_rng(chunk)
    y = np.cumsum(rng.integers(-50, 51, 20_000))
    x = np.arange(len(y)) * 3
    envelope = Envelope(buckets=64)
    for start in range(0, len(y), chunk):
        envelope.add(x[start : start + chunk], y[start : start + chunk])
    px, py = envelope.points()
    assert len(px) <= 2 * 64 + len(y) // 64  # min/max pairs plus an unfinished bucket
    assert py.max() == y.max() and py.min() == y.min()
    # Each x drawn is a sample's x; the points between two starts cover exactly those samples.
    starts = np.unique(px)
    assert np.isin(starts, x).all() and starts[0] == 0
    for lo, hi in zip(starts[:-1], starts[1:], strict=True):
        inside = y[(x >= lo) & (x < hi)]
        drawn = py[px == lo]
        assert drawn.min() == inside.min() and drawn.max() == inside.max()


def test_size_track_continues_across_batches_like_a_plain_loop():
    rng = np.random.default_rng(2)
    ops = []
    for _ in range(3000):
        size = int(rng.choice([8, 16, 24]))
        kind = rng.choice(["alloc", "dealloc", "grow"], p=[0.5, 0.4, 0.1])
        ops.append((str(kind), size, 32) if kind == "grow" else (str(kind), size))
    records = Records.from_tuples(ops)
    for size in (8, 16, 24, 32):
        track = SizeTrack(size)
        for start in range(0, len(records), 97):
            part = records.slice(start, min(start + 97, len(records)))
            track.add(part, part.index)
        x, y = track.envelope.points()
        series = live_series(records, size)
        at = touching(records, size)
        assert track.count == series[-1]
        assert x.tolist() == at
        assert y.tolist() == [series[i] for i in at]


def test_demo_screenshot_runs_a_capture_first(tmp_path):
    out = tmp_path / "demo.png"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / ".config"),
        XDG_CACHE_HOME=str(tmp_path / ".cache"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "heapgui.ui.app", "--demo", "--screenshot", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    assert not (tmp_path / ".config" / "heapgui").exists()
    assert not (tmp_path / ".cache").exists()  # the screenshot's demo wrote to a scratch dir


def test_cached_axes_still_export_as_svg_text(qtbot, window, samples, tmp_path):
    # Axes are cached as pixmaps for fast live redraws; an SVG must still get their labels.
    with qtbot.waitSignal(window.trace_loaded, timeout=30_000):
        window.open_file(samples / "workload-40k.framed")
    out = tmp_path / "chart.svg"
    assert window.charts.export(out)
    svg = out.read_text()
    assert ">10,000</text>" in svg  # a tick label of the load chart's x axis
    assert svg.count("<image") <= 1  # the peak marker's symbol is a pixmap, nothing else
    wait_for_threads(qtbot)
