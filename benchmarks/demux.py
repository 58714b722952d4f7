"""ITM/SWO demultiplexing throughput: heapgui's ItmDemux against pyocd's SWOParser.

The stream is what heaptrace firmware sends: the `framed` words of a synthetic
workload as 32-bit stimulus writes on port 31, each dated by a local
timestamp, with a line of text on port 0 now and then. Both demultiplexers
run on the same bytes in the same process; pyocd, a byte-at-a-time Python
generator, gets a prefix only. A last row times heapgui on uniform noise
(a wrong baud rate), its slowest path: every offset may start a resync.
Figures are medians of several runs.

    python benchmarks/demux.py [--mb 64] [--pyocd-mb 4] [--noise-mb 8] [--runs 5]
                               [--piece-kb 64]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

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


def rates(size: int, clocks: list[Clock]) -> tuple[float, float]:
    """MB/s from the median wall and the median CPU time."""
    mb = size / MB
    return (
        mb / statistics.median(c.wall for c in clocks),
        mb / statistics.median(c.cpu for c in clocks),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=64, help="SWO stream size in MB")
    parser.add_argument("--pyocd-mb", type=float, default=4, help="prefix given to pyocd")
    parser.add_argument("--noise-mb", type=float, default=8, help="noise stream size in MB")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--piece-kb", type=int, default=64, help="feed size of the streaming run")
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
    whole, pieces, pyocd, noisy = [], [], [], []
    # Interleaved, so that both see the same load on a shared machine.
    for _ in range(args.runs):
        clock, chunk = run_heapgui(swo, None)
        assert chunk.payload(31) == heap and chunk.payload(0) == log, "demultiplexed bytes differ"
        whole.append(clock)
        pieces.append(run_heapgui(swo, args.piece_kb << 10)[0])
        pyocd.append(run_pyocd(prefix))
        noisy.append(run_heapgui(noise, None)[0])

    piece = f"{args.piece_kb} KB feeds"
    rows = [
        ("heapgui ItmDemux, one feed", rates(len(swo), whole)),
        (f"heapgui ItmDemux, {piece}", rates(len(swo), pieces)),
        (f"pyocd SWOParser, {len(prefix) / MB:.0f} MB prefix", rates(len(prefix), pyocd)),
    ]
    noise_row = (f"heapgui ItmDemux, {len(noise) / MB:.0f} MB noise", rates(len(noise), noisy))
    print(f"medians of {args.runs} runs        wall MB/s   CPU MB/s")
    for name, (wall, cpu) in [*rows, noise_row]:
        print(f"{name:32s} {wall:8.1f}   {cpu:8.1f}")
    (ow, oc), (pw, pc), (yw, yc) = (r for _, r in rows)
    print(f"ratio, one feed:   {ow / yw:5.1f}x wall, {oc / yc:5.1f}x CPU")
    print(f"ratio, {piece}: {pw / yw:5.1f}x wall, {pc / yc:5.1f}x CPU")


if __name__ == "__main__":
    main()
