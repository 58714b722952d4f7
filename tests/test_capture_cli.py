"""`heapgui-cli capture`: replay, simulator, Drone.toml defaults, Ctrl-C, faults and errors."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from test_sources import SwoServer, free_port

from heapgui.capture.itm_encode import ItmEncoder
from heapgui.cli import main
from heapgui.trace.framed import FramedDecoder

SAVED = re.compile(r"saved (\d+) bytes of heap trace \((\d+) records\)")


def capture(capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `heapgui-cli capture ARGS`, run in this process."""
    try:
        code = main(["capture", *args])
    except SystemExit as exit:  # argparse rejects bad arguments this way
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def strict_records(data: bytes) -> int:
    """Records in a complete framed trace; raises on any damage."""
    decoder = FramedDecoder(strict=True)
    return len(decoder.feed(data)) + len(decoder.finish())


def test_fast_replay_writes_the_demultiplexed_sample(samples, tmp_path, capsys):
    out_file, raw = tmp_path / "heaptrace", tmp_path / "copy.swo"
    code, out, err = capture(
        capsys,
        "--source", f"replay:{samples / 'capture.swo'}",
        "--replay-pace", "fast",
        "-o", str(out_file),
        "--raw", str(raw),
    )  # fmt: skip
    assert code == 0, err
    assert out_file.read_bytes() == (samples / "capture.port31").read_bytes()
    assert raw.read_bytes() == (samples / "capture.swo").read_bytes()
    assert out == (samples / "capture.port0").read_text()
    saved = SAVED.search(err)
    assert saved and int(saved[1]) == 40000
    assert int(saved[2]) == strict_records(out_file.read_bytes())
    assert "source ended" in err


def test_duration_stops_a_paced_replay_early(samples, tmp_path, capsys):
    # At 1 MB/s the 54 kB sample takes 54 ms; stop after 20 ms.
    out_file = tmp_path / "heaptrace"
    code, out, err = capture(
        capsys,
        "--source", f"replay:{samples / 'capture.swo'}",
        "--replay-pace", "1e6",
        "--duration", "0.02",
        "-o", str(out_file),
    )  # fmt: skip
    assert code == 0, err
    saved = out_file.read_bytes()
    port31 = (samples / "capture.port31").read_bytes()
    assert 0 < len(saved) < len(port31)
    assert port31.startswith(saved)
    assert (samples / "capture.port0").read_text().startswith(out)
    assert "stopped after" in err
    assert int(SAVED.search(err)[1]) == len(saved)


def test_replay_never_overwrites_its_input(samples, tmp_path, capsys):
    copy = tmp_path / "capture.swo"
    copy.write_bytes((samples / "capture.swo").read_bytes())
    code, _, err = capture(capsys, "--source", f"replay:{copy}", "--raw", str(copy))
    assert code == 2
    assert "would overwrite the file it replays" in err
    assert copy.read_bytes() == (samples / "capture.swo").read_bytes()


def test_target_text_reaches_the_terminal_with_control_characters_escaped(tmp_path, capsys):
    # A title change, a screen clear, a colour, a carriage return over the line, a bell.
    out_text = "\x1b]0;owned\x07\x1b[2Jboot\x1b[31m ok\r\x08\tdone\n"
    err_text = "\x9b1mwarn\x0c\n"
    swo = tmp_path / "hostile.swo"
    encoder = ItmEncoder()
    swo.write_bytes(
        encoder.stimulus(0, out_text.encode(), 1) + encoder.stimulus(1, err_text.encode())
    )
    code, out, err = capture(
        capsys, "--source", f"replay:{swo}", "--replay-pace", "fast", "-o", str(tmp_path / "h")
    )
    assert code == 0, err
    assert out == "\\x1b]0;owned\\x07\\x1b[2Jboot\\x1b[31m ok\\x0d\\x08\tdone\n"
    assert err.startswith("\\x9b1mwarn\\x0c\n")


def test_simulator_capture_for_a_second(tmp_path, capsys):
    out_file = tmp_path / "heaptrace"
    code, out, err = capture(capsys, "--source", "sim", "--duration", "1.3", "-o", str(out_file))
    assert code == 0, err
    assert out.startswith("boot\ntick 1\n")
    data = out_file.read_bytes()
    assert len(data) > 20_000
    saved = SAVED.search(err)
    assert int(saved[1]) == len(data)
    # Cut at a packet boundary: the decoder may drop a trailing partial record, nothing else.
    decoder = FramedDecoder()
    records = len(decoder.feed(data)) + len(decoder.finish())
    assert records == int(saved[2]) > 2000
    assert not list(decoder.problems)
    # A status line came at least once a second.
    assert re.search(r"heapgui-cli: \d+ bytes \([\d.]+ kB/s\), \d+ records", err)


def test_clock_and_baud_default_to_drone_toml(tmp_path, capsys, monkeypatch, caplog):
    (tmp_path / "Drone.toml").write_text(
        '[heap]\nsize = "10K"\npools = []\n\n'
        "[log.swo]\nreset-freq = 48000000\nbaud-rate = 3000000\n"
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = capture(capsys, "--source", "sim", "--duration", "0.3")
    assert code == 0, err
    assert (tmp_path / "heaptrace").stat().st_size > 0
    with caplog.at_level(logging.INFO, logger="heapgui.commands.capture"):
        code, _, err = capture(capsys, "--source", "probe:nothing-here", "--clock", "72M")
    assert code == 2
    assert "72000000 Hz core clock, 3000000 baud" in caplog.text
    assert "debug probe nothing-here is not connected" in err


def test_probe_without_swo_settings_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = capture(capsys, "--source", "probe")
    assert code == 2
    assert err.startswith("heapgui-cli: error: a probe capture needs the core clock")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--source", "usb"], "invalid source 'usb'"),
        (["--source", "sim", "--clock", "fast"], "invalid frequency 'fast'"),
        (["--source", "sim", "--duration", "-1"], "invalid duration '-1'"),
        (["--source", "replay:x.swo", "--replay-pace", "slow"], "invalid replay pace 'slow'"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path, capsys, monkeypatch, args, text):
    monkeypatch.chdir(tmp_path)
    code, _, err = capture(capsys, *args)
    assert code == 2
    assert err.startswith("heapgui-cli: error:") and text in err
    assert err.count("\n") == 1


def test_tcp_refused_is_a_usage_error(capsys, tmp_path):
    port = free_port()
    code, _, err = capture(capsys, "--source", f"tcp:127.0.0.1:{port}", "-o", str(tmp_path / "h"))
    assert code == 2
    assert f"cannot connect to SWO stream 127.0.0.1:{port}" in err
    assert not (tmp_path / "h").exists()


def test_a_fault_exits_1_and_says_what_was_saved(samples, tmp_path, capsys):
    server = SwoServer((samples / "capture.swo").read_bytes())
    out_file = tmp_path / "heaptrace"
    code, out, err = capture(
        capsys, "--source", f"tcp:127.0.0.1:{server.port}", "-o", str(out_file)
    )
    server.join()
    assert code == 1
    assert out_file.read_bytes() == (samples / "capture.port31").read_bytes()
    assert out == (samples / "capture.port0").read_text()
    last = err.strip().splitlines()[-1]
    assert last == (
        f"heapgui-cli: error: SWO stream 127.0.0.1:{server.port}: the debugger closed the "
        f"connection; 40000 bytes of heap trace were saved in {out_file}"
    )


def test_ctrl_c_stops_cleanly_with_a_complete_file(tmp_path):
    out_file = tmp_path / "heaptrace"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "heapgui.cli", "capture", "--source", "sim", "-o", "heaptrace"]
    with subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        # Wait for the firmware's first line: the capture is running.
        assert process.stdout.readline() == "boot\n", process.stderr.read()
        end = time.monotonic() + 30
        while out_file.stat().st_size < 10_000 and time.monotonic() < end:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    data = out_file.read_bytes()
    saved = SAVED.search(err)
    assert saved and int(saved[1]) == len(data) >= 10_000, err
    decoder = FramedDecoder()
    assert len(decoder.feed(data)) + len(decoder.finish()) == int(saved[2]), err
    assert not list(decoder.problems), err


def test_help_lists_capture(capsys):
    with pytest.raises(SystemExit):
        main(["capture", "--help"])
    help_text = capsys.readouterr().out
    for option in ("--source", "--target", "--frequency", "--clock", "--baud", "--raw"):
        assert option in help_text
