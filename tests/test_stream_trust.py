"""Drone Stream keeps the SWO capture's pyOCD guarantees: no planted file runs, nothing listens."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from pathlib import Path

from heapgui.capture.sim_source import simulated_stream_source
from heapgui.cli import main


def test_a_stream_capture_runs_no_planted_file(planted):
    source = simulated_stream_source()
    with source.target as link:  # the pyOCD connection alone
        project = Path(link.session.project_dir)
        info = project.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
        assert project.parent == Path(tempfile.gettempdir())
        assert project not in (planted.shared, planted.cwd)
        assert link.session.options.get("no_config")
    assert not project.exists()
    assert Path.cwd() == planted.cwd
    code = main(
        ["capture", "--source", "sim", "--transport", "stream", "--duration", "0.2", "--json"]
    )
    assert code == 0
    assert (planted.cwd / "heaptrace").stat().st_size > 0
    assert planted.ran() == []


def test_nothing_listens_during_a_stream_capture(monkeypatch):
    calls = []

    def refuse(name):
        def call(sock, *args):
            calls.append((name, args))
            raise OSError(f"{name} is not allowed in a capture")

        return call

    monkeypatch.setattr(socket.socket, "bind", refuse("bind"))
    monkeypatch.setattr(socket.socket, "listen", refuse("listen"))
    source = simulated_stream_source()
    source.open()
    try:
        frames = [frame for _ in range(50) for frame in source.read().frames]
    finally:
        source.finish()
        source.close()
    assert frames
    assert calls == []
