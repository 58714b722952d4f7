"""`heapgui-cli capture`: replay, simulator, Drone.toml defaults, Ctrl-C, faults and errors."""

from __future__ import annotations

import logging
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest
from capture_cli_run import STOP_SIGNALS, capture, wait_for_size
from swo_server import SwoServer, free_port

from heapgui.capture.itm_encode import ItmEncoder
from heapgui.cli import main
from heapgui.trace.framed import FramedDecoder

SAVED = re.compile(r"saved (\d+) bytes of heap trace \((\d+) records\)")


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


def test_heap_trace_and_raw_stream_must_be_two_files(tmp_path, capsys):
    heaptrace = tmp_path / "heaptrace"
    heaptrace.write_bytes(b"previous capture")
    code, _, err = capture(
        capsys, "--source", "sim", "--duration", "1", "-o", str(heaptrace), "--raw", str(heaptrace)
    )
    assert code == 2
    assert err.startswith(f"heapgui-cli: error: {heaptrace}: ") and err.count("\n") == 1
    assert "the raw SWO stream would be the same file as the heap trace" in err
    assert heaptrace.read_bytes() == b"previous capture"


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


# A replay of a missing file: an option wrongly accepted fails fast, with another message.
@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--source", "usb"], "invalid source 'usb'"),
        (["--source", "sim", "--clock", "fast"], "invalid frequency 'fast'"),
        (["--source", "sim", "--duration", "-1"], "invalid duration '-1'"),
        (["--source", "replay:x.swo", "--replay-pace", "slow"], "invalid replay pace 'slow'"),
        (["--source", "replay:x.swo", "--clock", "inf"], "invalid frequency 'inf'"),
        (["--source", "replay:x.swo", "--clock", "nan"], "invalid frequency 'nan'"),
        (["--source", "replay:x.swo", "--clock", "1e30"], "invalid frequency '1e30'"),
        (["--source", "replay:x.swo", "--baud", "1e400"], "invalid frequency '1e400'"),
        (["--source", "replay:x.swo", "--frequency", "inf"], "invalid frequency 'inf'"),
        (["--source", "replay:x.swo", "--frequency", "infM"], "invalid frequency 'infM'"),
        (["--source", "replay:x.swo", "--duration", "inf"], "invalid duration 'inf'"),
        (["--source", "replay:x.swo", "--duration", "nan"], "invalid duration 'nan'"),
        (["--source", "replay:x.swo", "--replay-pace", "inf"], "invalid replay pace 'inf'"),
        (["--source", "replay:x.swo", "--replay-pace", "nan"], "invalid replay pace 'nan'"),
        (["--source", "replay:x.swo", "--replay-pace", "1e400"], "invalid replay pace '1e400'"),
        (
            ["--source", "probe:x", "--clock", "72M", "--baud", "2M", "--pyocd-script", "x.py"],
            "x.py: no such pyOCD user script",
        ),
        (
            ["--source", "probe:x", "--clock", "72M", "--baud", "2M", "--pyocd-config", "x.yaml"],
            "x.yaml: no such pyOCD configuration file",
        ),
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


SIM_CAPTURE = [sys.executable, "-m", "heapgui.cli", "capture", "--source", "sim", "-o", "heaptrace"]


def assert_clean_trace(data: bytes) -> int:
    """Records in a capture stopped at a packet boundary; the file holds no damage."""
    decoder = FramedDecoder()
    records = len(decoder.feed(data)) + len(decoder.finish())
    assert not list(decoder.problems)
    return records


@pytest.mark.parametrize("name", STOP_SIGNALS)
def test_a_stop_signal_ends_cleanly_with_a_complete_file(tmp_path, name):
    """Ctrl-C, a kill and a closed terminal (SIGHUP) all stop the capture the same way."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with subprocess.Popen(
        SIM_CAPTURE,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        # Wait for the firmware's first line: the capture is running.
        assert process.stdout.readline() == "boot\n", process.stderr.read()
        wait_for_size(tmp_path / "heaptrace", 10_000)
        process.send_signal(getattr(signal, name))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    data = (tmp_path / "heaptrace").read_bytes()
    saved = SAVED.search(err)
    assert saved and int(saved[1]) == len(data) >= 10_000, err
    assert assert_clean_trace(data) == int(saved[2]), err


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_closed_terminal_stops_the_capture_with_a_complete_file(tmp_path):
    """The terminal goes away first, then SIGHUP comes: writing to it fails from then on."""
    terminal, far_end = os.openpty()
    with subprocess.Popen(
        SIM_CAPTURE, cwd=tmp_path, stdin=far_end, stdout=far_end, stderr=far_end
    ) as process:
        os.close(far_end)
        shown = b""
        end = time.monotonic() + 30
        while b"boot" not in shown and time.monotonic() < end:
            if select.select([terminal], [], [], 0.1)[0]:
                shown += os.read(terminal, 4096)
        wait_for_size(tmp_path / "heaptrace", 10_000)
        os.close(terminal)
        process.send_signal(signal.SIGHUP)
        assert process.wait(timeout=30) == 0
    assert assert_clean_trace((tmp_path / "heaptrace").read_bytes()) > 1000


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_a_full_disk_reports_what_reached_the_files(samples, tmp_path):
    """A file size limit stands in for a full disk: writes beyond it fail (EFBIG)."""
    import resource

    limit = 16_384

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    swo, port31 = (samples / "capture.swo").read_bytes(), (samples / "capture.port31").read_bytes()
    replay = f"replay:{samples / 'capture.swo'}"
    command = [sys.executable, "-m", "heapgui.cli", "capture", "--replay-pace", "fast",
               "--source", replay, "-o", "heaptrace", "--raw", "raw.swo"]  # fmt: skip
    result = subprocess.run(
        command, cwd=tmp_path, preexec_fn=small_disk, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stderr
    assert (tmp_path / "heaptrace").read_bytes() == port31[:limit]
    assert (tmp_path / "raw.swo").read_bytes() == swo[:limit]
    lines = result.stderr.strip().splitlines()
    assert (f"saved only {limit} of {len(port31)} bytes of heap trace (") in lines[-2]
    assert (
        f"only {limit} of {len(swo)} SWO bytes in raw.swo, {len(swo) - limit} bytes lost"
        in lines[-2]
    )
    assert lines[-1] == (
        f"heapgui-cli: error: heaptrace: cannot save the capture: File too large; {limit} bytes "
        f"of heap trace were saved in heaptrace, {len(port31) - limit} bytes lost"
    )


def test_help_lists_capture(capsys):
    with pytest.raises(SystemExit):
        main(["capture", "--help"])
    help_text = capsys.readouterr().out
    options = (
        "--source",
        "--target",
        "--frequency",
        "--clock",
        "--baud",
        "--raw",
        "--pyocd-config",
    )
    for option in (*options, "--pyocd-script"):
        assert option in help_text
