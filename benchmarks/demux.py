"""ITM/SWO demultiplexing throughput: heapgui's ItmDemux against pyocd's SWOParser.

The stream is what heaptrace firmware sends: the `framed` words of a synthetic
workload as 32-bit stimulus writes on port 31, each dated by a local
timestamp, with a line of text on port 0 now and then. Both demultiplexers
run on the same bytes in the same process; pyocd, a byte-at-a-time Python
generator, gets a prefix only. Figures are medians of several runs.

    python benchmarks/demux.py [--mb 64] [--pyocd-mb 4] [--runs 5] [--piece-kb 64]
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


def time_heapgui(swo: bytes, piece: int | None) -> tuple[float, DemuxChunk]:
    demux = ItmDemux()
    start = time.perf_counter()
    if piece is None:
        chunk = demux.demux_all(swo)
    else:
        parts = [demux.feed(swo[i : i + piece]) for i in range(0, len(swo), piece)]
        chunk = DemuxChunk.concat([*parts, demux.finish()])
    return time.perf_counter() - start, chunk


class _CountingSink:
    def __init__(self) -> None:
        self.events = 0

    def receive(self, event) -> None:
        self.events += 1


def time_pyocd(swo: bytes) -> float:
    parser = SWOParser(None, _CountingSink())
    start = time.perf_counter()
    parser.parse(swo)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=64, help="SWO stream size in MB")
    parser.add_argument("--pyocd-mb", type=float, default=4, help="prefix given to pyocd")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--piece-kb", type=int, default=64, help="feed size of the streaming run")
    args = parser.parse_args()

    swo, heap, log = make_stream(int(args.mb * MB))
    size_mb = len(swo) / MB
    print(f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}")
    print(
        f"stream: {size_mb:.1f} MB SWO, {len(heap) / MB:.1f} MB on port 31, {len(log)} B on port 0"
    )

    whole, pieces = [], []
    for _ in range(args.runs):
        seconds, chunk = time_heapgui(swo, None)
        whole.append(seconds)
        assert chunk.payload(31) == heap and chunk.payload(0) == log, "demultiplexed bytes differ"
        pieces.append(time_heapgui(swo, args.piece_kb << 10)[0])
    prefix = swo[: int(args.pyocd_mb * MB)]
    pyocd = [time_pyocd(prefix) for _ in range(max(1, args.runs // 2))]

    ours = size_mb / statistics.median(whole)
    streamed = size_mb / statistics.median(pieces)
    theirs = len(prefix) / MB / statistics.median(pyocd)
    print(f"heapgui ItmDemux, one feed:       {ours:7.1f} MB/s (median of {len(whole)})")
    print(f"heapgui ItmDemux, {args.piece_kb} KB feeds:   {streamed:7.1f} MB/s")
    print(f"pyocd SWOParser ({len(prefix) / MB:.0f} MB prefix):  {theirs:7.1f} MB/s")
    piece = f"{args.piece_kb} KB feeds"
    print(f"ratio: {ours / theirs:.1f}x one feed, {streamed / theirs:.1f}x in {piece}")


if __name__ == "__main__":
    main()
