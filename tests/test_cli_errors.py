"""Bad input and broken streams (issue 9, "Errors"): one line, exit 2, never a traceback;
a reader that goes away ends the command quietly; traces read from pipes."""

import os
import subprocess
import sys
import threading

import pytest
from cli_run import run

CLI = [sys.executable, "-m", "heapgui.cli"]


def assert_one_line_error(code, err, needle):
    assert code == 2, err
    assert err.startswith("heapgui-cli: error: ") and err.count("\n") == 1, err
    assert needle in err


@pytest.mark.parametrize(
    "headroom,method",
    [
        ("nan", "drone"),
        ("inf", "drone"),
        ("-inf", "drone"),
        ("1e308", "drone"),
        ("1e308", "timeline"),
        ("1e30", "timeline"),
    ],
)
def test_headroom_out_of_range(capsys, seed, headroom, method):
    code, out, err = run(
        capsys,
        "generate",
        "-f",
        seed,
        "-s",
        "10K",
        "-p",
        "3",
        "--method",
        method,
        f"--headroom={headroom}",
    )
    assert_one_line_error(code, err, "invalid headroom")
    assert out == ""


BIG = str(2**63)


@pytest.mark.parametrize(
    "spec,needle",
    [
        (f"{BIG}:1", "invalid size"),
        (f"4:{BIG}", "invalid pool"),
        (f"4:{2**64}", "invalid pool"),
        (f"{2**32}:1", "invalid size"),
        ("0x100000000:1", "invalid size"),
        ("4194304K:1", "invalid size"),
        (f"4:{2**32}", "invalid pool"),
        ("4:2,8:1,4:3", "block 4 appears twice"),
        ("4:2,0x4:3", "block 4 appears twice"),
        ("", "invalid --pools ''"),
        (",", "invalid pool ''"),
    ],
)
def test_bad_pool_specs(capsys, seed, spec, needle):
    code, out, err = run(capsys, "validate", "-f", seed, f"--pools={spec}")
    assert_one_line_error(code, err, needle)
    assert out == ""


@pytest.mark.parametrize("size", [str(2**32), str(2**63), "4096M"])
def test_heap_sizes_are_32_bit(capsys, seed, size):
    code, _, err = run(capsys, "stats", "-f", seed, "-s", size)
    assert_one_line_error(code, err, "invalid size")


def test_unwritable_output_names_the_stream(tmp_path, seed):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*CLI, "stats", "-f", str(seed), "-s", "10K"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr == "heapgui-cli: error: standard output: No space left on device\n"


def test_broken_pipe_exits_quietly(samples):
    """A reader that stops early (`| head -1`) ends the command without a word."""
    # Every failure listed: far more than a pipe buffer holds.
    argv = ["validate", "--pools", "4:1", "--json", "--max-failures", "0"]
    proc = subprocess.Popen(
        [*CLI, *argv, "-f", str(samples / "workload-40k.framed")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.read(10)
    proc.stdout.close()  # the reader goes away with most of the report unread
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(60)
    assert err == ""
    assert proc.returncode != 0  # not everything was delivered


def test_closed_stdout_exits_quietly(seed):
    proc = subprocess.run(
        [*CLI, "stats", "-f", str(seed), "-s", "10K"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        # Close descriptor 1 in the child: `heapgui-cli stats >&-`.
        preexec_fn=lambda: os.close(1),
    )
    assert proc.stderr == ""
    assert proc.returncode != 0


def test_trace_from_standard_input(seed):
    data = seed.read_bytes()
    proc = subprocess.run(
        [*CLI, "stats", "-f", "-", "-s", "10K"],
        input=data,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"Format: framed, 20 records" in proc.stdout
    direct = subprocess.run(
        [*CLI, "stats", "-f", str(seed), "-s", "10K"], capture_output=True, timeout=60
    )
    assert proc.stdout == direct.stdout


def test_trace_from_a_fifo_larger_than_a_pipe_buffer(capsys, tmp_path, samples):
    sample = samples / "workload-40k.framed"
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    data = sample.read_bytes()
    assert len(data) > 1 << 16

    def feed() -> None:
        with open(fifo, "wb") as pipe:
            for at in range(0, len(data), 4093):  # odd pieces: records cross them
                pipe.write(data[at : at + 4093])

    writer = threading.Thread(target=feed)
    writer.start()
    code, out, err = run(capsys, "stats", "-f", fifo, "-s", "64K", "--json")
    writer.join(30)
    assert code == 0, err
    code, direct, _ = run(capsys, "stats", "-f", sample, "-s", "64K", "--json")
    assert out.replace(str(fifo), "X") == direct.replace(str(sample), "X")


def test_standard_input_is_named_as_such():
    proc = subprocess.run(
        [*CLI, "stats", "-f", "-", "-s", "10K"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # /dev/null is an empty trace: named as standard input, not as "-".
    assert proc.returncode == 0
    assert "standard input" in proc.stderr and "empty" in proc.stderr
