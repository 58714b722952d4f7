"""`heapgui-cli demux`: one ITM port's payload bytes out of a raw SWO capture.

`demux capture.swo -o heaptrace` writes what `drone log :31` would have
written for the same bytes, so a kept `.swo` file can be re-analysed later.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import sys
from pathlib import Path

from heapgui.capture.itm import ItmDemux
from heapgui.capture.itm_packets import PORTS
from heapgui.errors import DecodeError, HeapguiError

logger = logging.getLogger(__name__)

HEAPTRACE_PORT = 31
SHOWN_PORTS = 8  # the summary names this many ports and sums up the rest
READ_SIZE = 4 << 20  # a large capture streams through in pieces of this size
# glibc's mallopt parameters (malloc.h) and the block size up to which freed
# memory is kept for reuse: above every working array of a demultiplexed slice.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_REUSED_BLOCKS = 32 << 20


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demux", help="extract one ITM port from a raw SWO capture")
    parser.add_argument("swo", metavar="FILE.swo", help="raw SWO capture (ITM packets)")
    # Not -p: that is --pools in `generate`.
    parser.add_argument(
        "-P",
        "--port",
        type=_port,
        default=HEAPTRACE_PORT,
        help=f"stimulus port to extract, 0-{PORTS - 1} (default: {HEAPTRACE_PORT}, the heap trace)",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="file for the port's bytes"
    )
    parser.set_defaults(run=run)


def _port(text: str) -> int:
    try:
        port = int(text, 0)
    except ValueError:
        port = -1
    if not 0 <= port < PORTS:
        raise argparse.ArgumentTypeError(
            f"invalid port {text!r}: expected a stimulus port from 0 to {PORTS - 1}"
        )
    return port


def run(args: argparse.Namespace) -> int:
    source, target = Path(args.swo), Path(args.output)
    if target.exists() and target.resolve() == source.resolve():
        raise HeapguiError(f"{target}: the output would overwrite the SWO capture")
    _reuse_freed_memory()
    demux = ItmDemux()
    with source.open("rb") as swo, target.open("wb") as out:
        while data := swo.read(READ_SIZE):
            out.write(demux.feed(data).payload(args.port))
        out.write(demux.finish().payload(args.port))
    if demux.stats.bytes_in and demux.skipped_bytes == demux.stats.bytes_in:
        target.unlink()
        raise DecodeError(0, "ITM packets", "none (wrong baud rate?)", str(source))
    sys.stderr.write(_summary(source, demux, args.port) + "\n")
    return 0


def _reuse_freed_memory() -> None:
    """Let glibc keep the working arrays each slice frees for the next slice.

    By default every array above a few hundred kilobytes is a mapping of its
    own, returned to the kernel when freed and faulted in again page by page
    for the next slice: a tenth of the run. The working set is bounded (tens
    of MB), so keeping it adds nothing to the peak.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return  # not glibc: its own allocator decides
    mallopt(_M_MMAP_THRESHOLD, _REUSED_BLOCKS)
    mallopt(_M_TRIM_THRESHOLD, _REUSED_BLOCKS)


def _summary(source: Path, demux: ItmDemux, port: int) -> str:
    """One line: bytes in, bytes per port, overflows, skipped and cut-off bytes.

    Garbage read as packets can touch every port: then the line names `port`
    and the biggest others, and sums up the rest.
    """
    counts = demux.stats.port_bytes
    asked = [port] if port in counts else []
    biggest = sorted((p for p in counts if p != port), key=lambda p: (-counts[p], p))
    shown = sorted(asked + biggest[: SHOWN_PORTS - len(asked)])
    ports = ", ".join(f"port {p}: {counts[p]} bytes" for p in shown) or "no stimulus data"
    if len(shown) < len(counts):
        rest = sum(counts.values()) - sum(counts[p] for p in shown)
        ports += f", {len(counts) - len(shown)} more ports: {rest} bytes"
    skipped = demux.skipped_bytes
    where = f" (first at offset {demux.first_skip})" if skipped else ""
    truncated = demux.stats.truncated_bytes
    cut = f", {truncated} bytes of an unfinished packet at the end" if truncated else ""
    return (
        f"{source}: {demux.stats.bytes_in} bytes; {ports}; "
        f"{demux.stats.overflows} overflows; {skipped} skipped bytes{where}{cut}"
    )
