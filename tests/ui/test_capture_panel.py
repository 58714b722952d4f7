"""The capture panel on its own: what it publishes to the workspace, where it counts, what it says.

The probe permission cases simulate what pyOCD and pyusb do on a Linux
machine without the udev rule: the device node is refused (errno 13), so
opening the probe raises `usb.core.USBError` "Access denied (insufficient
permissions)", and the USB bus still lists the probe.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import usb.core

from heapgui.capture import diagnostics
from heapgui.capture.diagnostics import UsbProbe
from heapgui.capture.probe import DebugProbeAggregator, ProbeInfo
from heapgui.capture.sources import PROBE, SIM
from heapgui.trace.stats import Statistics
from heapgui.ui.capture_panel import CapturePanel
from heapgui.ui.loader import running_threads
from heapgui.workspace.model import Workspace

REFUSED = UsbProbe("Raspberry Pi Debug Probe", 0x2E8A, 0x000C, Path("/dev/bus/usb/001/007"), False)


@pytest.fixture
def panel(qtbot) -> CapturePanel:
    widget = CapturePanel(Workspace())
    qtbot.addWidget(widget)
    widget.confirm_overwrite = lambda parent, paths: True
    return widget


def capture_a_second(qtbot, panel: CapturePanel, output: Path) -> None:
    form = panel.form
    form.select_source(SIM)
    form.simulator_options = {"record_emitted": False, "seed": 4}
    form.set_output(output)
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        assert panel.start()
    qtbot.waitUntil(lambda: panel.live.records > 2000, timeout=30_000)
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.stop()
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)


def test_the_capture_is_published_to_the_workspace(qtbot, panel, tmp_path):
    published = []
    panel.workspace.capture_changed.connect(published.append)
    capture_a_second(qtbot, panel, tmp_path / "heaptrace")
    assert published == [panel.live] and panel.workspace.live is panel.live
    # The guessed heap follows the capture in the window (tests/ui/test_heap_source.py).


def test_the_statistics_are_never_counted_on_the_gui_thread(qtbot, panel, tmp_path, monkeypatch):
    threads = []
    update = Statistics.update

    def counted(stats, records):
        threads.append(threading.current_thread())
        return update(stats, records)

    monkeypatch.setattr(Statistics, "update", counted)
    capture_a_second(qtbot, panel, tmp_path / "heaptrace")
    assert threads  # the worker did count them
    assert threading.main_thread() not in threads
    assert panel.live.to_trace().stats.records == panel.live.records


def refused_probe(monkeypatch) -> None:
    """A probe on the bus whose device node this user may not open."""
    monkeypatch.setattr(diagnostics, "usb_probes", lambda platform="linux": [REFUSED])


def test_a_probe_refused_for_its_permissions_shows_the_udev_help(
    qtbot, panel, monkeypatch, tmp_path
):
    refused_probe(monkeypatch)
    monkeypatch.setattr("heapgui.capture.probe.list_probes", lambda: [ProbeInfo("E6614", "Pico")])

    def open_refused(unique_id):
        raise usb.core.USBError("Access denied (insufficient permissions)", errno=13)

    monkeypatch.setattr(DebugProbeAggregator, "get_probe_with_id", open_refused)
    form = panel.form
    form.select_source(PROBE)  # the first source: choosing it lists nothing yet
    with qtbot.waitSignal(form.probes_listed, timeout=30_000):
        form.refresh_probes()
    form.set_output(tmp_path / "heaptrace")
    form.clock_spin.setValue(72_000_000)
    form.baud_spin.setValue(2_000_000)
    assert panel.start()
    qtbot.waitUntil(lambda: not panel.running(), timeout=30_000)
    text = panel.state_label.text()
    assert "Access denied" in text
    assert "udevadm" in text and "60-heapgui-probes.rules" in text
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)


def test_the_probe_list_says_when_a_probe_is_hidden_by_its_permissions(qtbot, panel, monkeypatch):
    refused_probe(monkeypatch)
    monkeypatch.setattr("heapgui.capture.probe.list_probes", lambda: [])  # pyOCD cannot see it
    form = panel.form
    form.select_source(PROBE)  # the first source: choosing it lists nothing yet
    with qtbot.waitSignal(form.probes_listed, timeout=30_000):
        form.refresh_probes()
    help_text = form.probes.access_help
    assert "Raspberry Pi Debug Probe" in help_text and "udevadm" in help_text
    assert not form.probes.access_label.isHidden()
    form.select_source(SIM)  # the help belongs to the probe rows
    assert form.probes.access_label.isHidden()
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)


def test_a_probe_that_may_be_opened_gets_no_help(qtbot, panel, monkeypatch):
    monkeypatch.setattr(diagnostics, "usb_probes", lambda platform="linux": [])
    monkeypatch.setattr("heapgui.capture.probe.list_probes", lambda: [ProbeInfo("E6614", "Pico")])
    form = panel.form
    form.select_source(PROBE)  # the first source: choosing it lists nothing yet
    with qtbot.waitSignal(form.probes_listed, timeout=30_000):
        form.refresh_probes()
    assert form.probes.access_help == "" and form.probes.access_label.isHidden()
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)


def test_clocks_the_tpiu_cannot_divide_are_refused_before_start(qtbot, panel, tmp_path):
    form = panel.form
    form.select_source(SIM)
    form.set_output(tmp_path / "heaptrace")
    form.clock_spin.setValue(72_000_000)
    form.baud_spin.setValue(5_300_000)  # 72 MHz / 13 is 4.5% off: pyOCD would refuse it
    assert not panel.start()
    assert "within 3%" in panel.state_label.text() and not running_threads()
    assert not (tmp_path / "heaptrace").exists()  # nothing started, nothing written
    form.baud_spin.setValue(2_000_000)
    form.clock_spin.setValue(0)  # unset: the simulated board picks its own clocks
    assert form.request().settings.core_clock is None
