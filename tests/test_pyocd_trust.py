"""pyOCD runs no file heapgui's user did not name, and nothing in a capture listens on a socket.

pyOCD executes `pyocd_user.py` and applies `pyocd.yaml` (whose logging
section can call any importable function) from its project directory, and
its probe backends read a default session built from the working directory.
The files are planted where another local user could put them; each one
leaves a marker file when pyOCD runs or applies it.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from pathlib import Path

from pyocd.core.session import Session
from pyocd.probe.aggregator import DebugProbeAggregator

from heapgui.capture.probe import ProbeSettings, ProbeSource, list_probes
from heapgui.capture.simulator import simulated_probe
from heapgui.cli import main

CLOCK = 72_000_000
BAUD = 2_000_000


def settings(unique_id: str, **changes) -> ProbeSettings:
    return ProbeSettings(unique_id, CLOCK, BAUD, **changes)


def test_the_planted_files_run_in_plain_pyocd_sessions(planted):
    """The markers work: pyOCD's own defaults run both files from both folders."""
    with simulated_probe() as device:
        probe = DebugProbeAggregator.get_probe_with_id(device.unique_id)
        Session(probe, project_dir=str(planted.shared))
        probe = DebugProbeAggregator.get_probe_with_id(device.unique_id)
        os.chdir(planted.cwd)
        Session(probe)
    assert planted.ran() == [
        "cwd: pyocd.yaml applied",
        "cwd: pyocd_user.py ran",
        "heapgui-pyocd: pyocd.yaml applied",
        "heapgui-pyocd: pyocd_user.py ran",
    ]


def test_a_probe_capture_runs_no_planted_file(planted):
    with simulated_probe(byte_rate=100_000) as device:
        source = ProbeSource(settings(device.unique_id))
        with source:
            project = Path(source.session.project_dir)
            assert source.read() is not None
            info = project.stat()
            assert stat.S_IMODE(info.st_mode) == 0o700
            assert info.st_uid == os.getuid()
            assert project.parent == Path(tempfile.gettempdir())
            assert project not in (planted.shared, planted.cwd)
            assert source.session.options.get("no_config")
        assert not project.exists()
        assert Path.cwd() == planted.cwd
    assert planted.ran() == []


def test_listing_probes_applies_no_planted_config(planted):
    list_probes()
    assert planted.ran() == []


def test_a_cli_simulator_capture_runs_no_planted_file(planted, capsys):
    code = main(["capture", "--source", "sim", "--duration", "0.2", "-o", "heaptrace"])
    assert code == 0, capsys.readouterr().err
    assert (planted.cwd / "heaptrace").stat().st_size > 0
    assert planted.ran() == []


def test_files_the_user_names_are_used(planted):
    script, config = planted.cwd / "pyocd_user.py", planted.cwd / "pyocd.yaml"
    with simulated_probe() as device:
        with ProbeSource(settings(device.unique_id, pyocd_script=script, pyocd_config=config)):
            pass
    assert planted.ran() == ["cwd: pyocd.yaml applied", "cwd: pyocd_user.py ran"]


def test_nothing_listens_during_a_capture(monkeypatch):
    calls = []

    def refuse(name):
        def call(sock, *args):
            calls.append((name, args))
            raise OSError(f"{name} is not allowed in a capture")

        return call

    monkeypatch.setattr(socket.socket, "bind", refuse("bind"))
    monkeypatch.setattr(socket.socket, "listen", refuse("listen"))
    with simulated_probe(byte_rate=100_000) as device:
        with ProbeSource(settings(device.unique_id)) as source:
            data = b"".join(source.read() for _ in range(20))
    assert data
    assert calls == []
