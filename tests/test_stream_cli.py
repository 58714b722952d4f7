"""`heapgui-cli capture --transport stream`: the simulated master board, options, signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import replace

import pytest
from capture_cli_run import STOP_SIGNALS, capture, wait_for_size

from heapgui.capture.simulator.elf import write_stream_elf
from heapgui.capture.simulator.stream_firmware import simulated_stream_map
from heapgui.trace.tagged import TaggedDecoder


def strict_tagged(data: bytes) -> int:
    decoder = TaggedDecoder(strict=True)
    return len(decoder.feed(data)) + len(decoder.finish())


@pytest.mark.parametrize("cores", ["1", "2"])
def test_a_sim_capture_from_reset_prints_a_json_summary(tmp_path, capsys, cores):
    out_file = tmp_path / "heaptrace"
    code, out, err = capture(
        capsys,
        "--source", "sim",
        "--transport", "stream",
        "--from-reset",
        "--sim-cores", cores,
        "--duration", "0.5",
        "-o", str(out_file),
        "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)  # the firmware's text went to stderr: stdout is the JSON alone
    data = out_file.read_bytes()
    assert summary["format"] == "tagged" and summary["transport"] == "stream"
    assert summary["bytes"] == len(data) > 1000
    assert summary["records"] == strict_tagged(data)
    assert summary["ended"] == "stopped" and summary["error"] is None
    assert sorted(summary["buffers"]) == [f"core{k}" for k in range(int(cores))]
    assert "core0 boot" in err


def test_without_json_the_log_text_goes_to_stdout(tmp_path, capsys):
    code, out, err = capture(
        capsys, "--source", "sim", "--transport", "stream", "--duration", "0.3",
        "-o", str(tmp_path / "heaptrace"),
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("core0 boot\n")
    assert "saved " in err and "bytes read, 0 skipped" in err


def test_swo_json_summary_has_the_same_keys(samples, tmp_path, capsys):
    code, out, err = capture(
        capsys, "--source", f"replay:{samples / 'capture.swo'}", "--replay-pace", "fast",
        "-o", str(tmp_path / "heaptrace"), "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["format"] == "framed" and summary["transport"] == "swo"
    assert summary["bytes"] == (samples / "capture.port31").stat().st_size


@pytest.mark.parametrize(
    "args, message",
    [
        (["--transport", "stream", "--source", "tcp:pyocd"], "needs a probe or sim|use --source"),
        (["--transport", "stream", "--source", "sim", "--format", "framed"], "not --format framed"),
        (["--transport", "stream", "--source", "sim", "--raw", "x.swo"], "--raw is for SWO"),
        (["--transport", "stream", "--source", "sim", "--baud", "2M"], "--baud is for SWO"),
        (["--source", "sim", "--from-reset"], "--from-reset is for Drone Stream"),
        (["--transport", "swo", "--source", "sim", "--elf", "fw.elf"], "--elf is for Drone Stream"),
        (
            ["--transport", "stream", "--source", "sim", "--from-reset", "--drain-backlog"],
            "no backlog to drain",
        ),
        (["--elf", "a.elf", "--layout", "layout.toml"], "either --elf or --layout"),
        (["--transport", "stream", "--sim-cores", "2"], "describe the simulated board"),
        (["--transport", "stream", "--source", "probe"], "no layout.toml beside heaptrace"),
        (["--layout", "missing.toml", "--source", "sim"], "missing.toml: no such layout.toml"),
        (["--transport", "stream", "--source", "sim", "--sim-buffer", "261"], "buffer size"),
    ],
)
def test_bad_combinations_are_one_line_usage_errors(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = capture(capsys, *args)
    assert code == 2
    assert err.startswith("heapgui-cli: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert not (tmp_path / "heaptrace").exists()


@pytest.mark.parametrize("name", STOP_SIGNALS)
def test_a_stop_signal_clears_the_mask_and_saves_everything(tmp_path, name):
    command = [sys.executable, "-m", "heapgui.cli", "-v", "capture", "--source", "sim"]
    command += ["--transport", "stream", "-o", "heaptrace"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout.readline() == "core0 boot\n", process.stderr.read()
        wait_for_size(tmp_path / "heaptrace", 10_000)
        process.send_signal(getattr(signal, name))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "enable mask at 0x20001000 cleared" in err
    data = (tmp_path / "heaptrace").read_bytes()
    assert strict_tagged(data) > 1000


@pytest.mark.parametrize("cores", [1, 2])
def test_the_firmware_elf_finds_the_simulated_buffers(tmp_path, capsys, cores):
    """The ELF locator end to end: an ELF describing the board captures; a stale one is refused."""
    board = simulated_stream_map(cores)
    elf = tmp_path / "firmware.elf"
    write_stream_elf(elf, board)
    out_file = tmp_path / "heaptrace"
    args = ["--source", "sim", "--elf", str(elf), "--sim-cores", str(cores), "--json"]
    code, out, err = capture(capsys, *args, "--duration", "0.3", "-o", str(out_file))
    assert code == 0, err
    summary = json.loads(out)
    assert summary["transport"] == "stream"  # implied by --elf
    assert summary["records"] == strict_tagged(out_file.read_bytes()) > 100

    stale = replace(board, buffers=tuple(replace(b, size=b.size + 4) for b in board.buffers))
    write_stream_elf(elf, stale)
    kept = out_file.read_bytes()
    code, out, err = capture(capsys, *args, "--duration", "0.3", "-o", str(out_file))
    assert code == 2
    assert "buffer_size" in err and "does not match the flashed firmware" in err
    assert len(err.strip().splitlines()) == 1
    assert out_file.read_bytes() == kept  # a refused capture leaves the old trace alone
