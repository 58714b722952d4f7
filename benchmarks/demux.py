"""ITM/SWO demultiplexing throughput: heapgui's ItmDemux against pyocd's SWOParser.

The stream is what heaptrace firmware sends: the `framed` words of a synthetic
workload as 32-bit stimulus writes on port 31, each dated by a local
timestamp, with a line of text on port 0 now and then. Both demultiplexers
run on the same bytes in the same process; pyocd, a byte-at-a-time Python
generator, gets a prefix only. A row times heapgui on uniform noise (a wrong
baud rate), its slowest path: every offset may start a resync.

The whole-process rows run `heapgui-cli demux` on the stream and on the
noise written to files in a private temporary folder (start-up, imports,
reading and writing included), with the child's CPU time and peak RSS; the
ratio compares that with pyocd's in-process rate, which leaves out pyocd's
own start-up. Figures are medians of several runs, all interleaved so that
each sees the same load on a shared machine.

    python benchmarks/demux.py [--mb 48] [--pyocd-mb 4] [--noise-mb 8] [--runs 5]
                               [--piece-kb 64] [--cli-noise-mb 100]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pyocd.trace.swo import SWOParser

from heapgui.capture.itm import DemuxChunk, ItmDemux
from heapgui.capture.itm_encode import ItmEncoder
from heapgui.trace.framed import encode_framed
from heapgui.trace.workload import workload

MB = 1 << 20
WORDS_PER_LINE = 2048  # heap trace words between two log lines on port 0
LOG_LINE = b"[heap] capture running, all good\n"


def make_stream(size: int, seed: int = 0) -> tuple[bytes, bytes, bytes]:
    """About `size` SWO bytes; returns (swo, port 31 bytes, port 0 bytes)."""
    trace = encode_framed(workload(200_000, seed))
    rng = np.random.default_rng(seed)
    enc = ItmEncoder()
    swo, heap, log = [], [], []
    total = 0
    at = 0
    while total < size:
        words = trace[at : at + 4 * WORDS_PER_LINE]
        at = (at + len(words)) % len(trace)
        # Operations a few hundred cycles apart: one or two 7-bit timestamp groups.
        deltas = rng.geometric(1 / 300, len(words) // 4).astype(np.int64)
        part = enc.stimulus(31, words, 4, deltas) + enc.stimulus(0, LOG_LINE, 1)
        swo.append(part)
        heap.append(words)
        log.append(LOG_LINE)
        total += len(part)
    return b"".join(swo), b"".join(heap), b"".join(log)


class Clock:
    """Wall and CPU time of a stretch of code. CPU time counts only this
    process, so it is steadier on a machine busy with other work."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def run_heapgui(swo: bytes, piece: int | None) -> tuple[Clock, DemuxChunk]:
    demux = ItmDemux()
    with Clock() as clock:
        if piece is None:
            chunk = demux.demux_all(swo)
        else:
            parts = [demux.feed(swo[i : i + piece]) for i in range(0, len(swo), piece)]
            chunk = DemuxChunk.concat([*parts, demux.finish()])
    return clock, chunk


class _CountingSink:
    def __init__(self) -> None:
        self.events = 0

    def receive(self, event) -> None:
        self.events += 1


def run_pyocd(swo: bytes) -> Clock:
    parser = SWOParser(None, _CountingSink())
    with Clock() as clock:
        parser.parse(swo)
    return clock


# Runs the command line in a child, then prints the child's own peak RSS
# (VmHWM): a forked child's rusage would count the parent's memory too.
_CLI_CHILD = """
import runpy, sys
sys.argv = ["heapgui-cli", *sys.argv[1:]]
try:
    runpy.run_module("heapgui.cli", run_name="__main__", alter_sys=True)
except SystemExit as done:
    if done.code:
        raise
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def run_cli(swo: Path, out: Path) -> tuple[Clock, int]:
    """`heapgui-cli demux` as its own process: wall and CPU time, peak RSS in bytes."""
    clock = Clock()
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", _CLI_CHILD, "demux", str(swo), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=swo.parent,  # `python -c` looks here first: the private folder
    )
    peak = child.stdout.read() if child.stdout else b""
    _, status, usage = os.wait4(child.pid, 0)
    clock.wall = time.perf_counter() - start
    clock.cpu = usage.ru_utime + usage.ru_stime
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"heapgui-cli demux {swo} failed")
    return clock, int(peak) * 1024  # kB


def rates(size: int, clocks: list[Clock]) -> tuple[float, float]:
    """MB/s from the median wall and the median CPU time."""
    mb = size / MB
    return (
        mb / statistics.median(c.wall for c in clocks),
        mb / statistics.median(c.cpu for c in clocks),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=48, help="SWO stream size in MB")
    parser.add_argument("--pyocd-mb", type=float, default=4, help="prefix given to pyocd")
    parser.add_argument("--noise-mb", type=float, default=8, help="noise stream size in MB")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--piece-kb", type=int, default=64, help="feed size of the streaming run")
    parser.add_argument(
        "--cli-noise-mb", type=float, default=100, help="noise file for the whole-process row"
    )
    args = parser.parse_args()

    swo, heap, log = make_stream(int(args.mb * MB))
    size_mb = len(swo) / MB
    print(f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}")
    print(
        f"stream: {size_mb:.1f} MB SWO, {len(heap) / MB:.1f} MB on port 31, {len(log)} B on port 0"
    )

    prefix = swo[: int(args.pyocd_mb * MB)]
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, int(args.noise_mb * MB), dtype=np.uint8).tobytes()
    cli_noise_size = int(args.cli_noise_mb * MB)
    whole, pieces, pyocd, noisy, cli, cli_noisy = [], [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="heapgui-demux-") as tmp:
        folder = Path(tmp)
        stream_file, noise_file, out = folder / "stream.swo", folder / "noise.swo", folder / "out"
        stream_file.write_bytes(swo)
        noise_file.write_bytes(rng.integers(0, 256, cli_noise_size, dtype=np.uint8).tobytes())
        # Interleaved, so that all see the same load on a shared machine.
        for _ in range(args.runs):
            clock, chunk = run_heapgui(swo, None)
            assert chunk.payload(31) == heap and chunk.payload(0) == log, "demultiplexed differ"
            whole.append(clock)
            pieces.append(run_heapgui(swo, args.piece_kb << 10)[0])
            pyocd.append(run_pyocd(prefix))
            noisy.append(run_heapgui(noise, None)[0])
            cli.append(run_cli(stream_file, out))
            assert out.read_bytes() == heap, "heapgui-cli demux wrote other bytes"
            cli_noisy.append(run_cli(noise_file, out))

    piece = f"{args.piece_kb} KB feeds"
    rows = [
        ("heapgui ItmDemux, one feed", rates(len(swo), whole)),
        (f"heapgui ItmDemux, {piece}", rates(len(swo), pieces)),
        (f"pyocd SWOParser, {len(prefix) / MB:.0f} MB prefix", rates(len(prefix), pyocd)),
    ]
    cli_row = rates(len(swo), [c for c, _ in cli])
    extra = [
        (f"heapgui ItmDemux, {len(noise) / MB:.0f} MB noise", rates(len(noise), noisy)),
        (f"heapgui-cli demux, {size_mb:.0f} MB stream", cli_row),
        (
            f"heapgui-cli demux, {cli_noise_size / MB:.0f} MB noise",
            rates(cli_noise_size, [c for c, _ in cli_noisy]),
        ),
    ]
    print(f"medians of {args.runs} runs        wall MB/s   CPU MB/s")
    for name, (wall, cpu) in [*rows, *extra]:
        print(f"{name:32s} {wall:8.1f}   {cpu:8.1f}")
    (ow, oc), (pw, pc), (yw, yc) = (r for _, r in rows)
    print(f"ratio, one feed:   {ow / yw:5.1f}x wall, {oc / yc:5.1f}x CPU")
    print(f"ratio, {piece}: {pw / yw:5.1f}x wall, {pc / yc:5.1f}x CPU")
    print(
        f"ratio, whole process: {cli_row[0] / yw:5.1f}x wall, {cli_row[1] / yc:5.1f}x CPU "
        f"({statistics.median(c.wall for c, _ in cli):.2f} s)"
    )
    for name, runs in (("stream", cli), ("noise", cli_noisy)):
        print(f"peak RSS, heapgui-cli demux {name}: {max(r for _, r in runs) / MB:.0f} MB")


if __name__ == "__main__":
    main()
