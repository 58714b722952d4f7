"""`heapgui-cli capture`: a live heap trace capture without the GUI (like `just heaptrace`).

Writes the `heaptrace` file as `drone log :31` does, optionally the raw SWO
stream, prints the firmware's port-0 text to stdout (port 1 to stderr), its
control characters but newline and tab escaped so that it cannot steer the
terminal, and a status line to stderr. Ctrl-C, SIGTERM and SIGHUP (a closed terminal) stop
cleanly with everything saved (exit 0); a capture stopped by a fault says how
much was saved and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TextIO

from heapgui.capture.session import CaptureSession, CaptureSummary, CaptureUpdate
from heapgui.capture.sources import (
    FAST,
    FORMS,
    RECORDED,
    REPLAY,
    SourceSettings,
    make_source,
    parse_source,
    positive_number,
)
from heapgui.commands.common import DEFAULT_TRACE, config_of
from heapgui.errors import HeapguiError
from heapgui.logs import visible
from heapgui.trace.formats import FORMATS

logger = logging.getLogger(__name__)

EXIT_FAULT = 1
STATUS_INTERVAL = 1.0  # seconds between status lines
_HERTZ_SUFFIX = {"k": 1_000, "M": 1_000_000, "G": 1_000_000_000}
MAX_HERTZ = 10_000_000_000  # above any core, SWO or SWD clock: a larger value is a typo


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("capture", help="capture a heap trace live (just heaptrace)")
    parser.add_argument(
        "--source", default="probe", help=f"where SWO comes from: {FORMS} (default: probe)"
    )
    parser.add_argument("--target", help="pyocd target type (default: cortex_m)")
    parser.add_argument("--frequency", type=_hertz, help="SWD clock, e.g. 4M (default: 1M)")
    parser.add_argument(
        "--clock", type=_hertz, help="core clock SWO derives from (default: Drone.toml reset-freq)"
    )
    parser.add_argument("--baud", type=_hertz, help="SWO baud rate (default: Drone.toml baud-rate)")
    parser.add_argument("-c", "--config", help="Drone.toml with [log.swo] (default: ./Drone.toml)")
    parser.add_argument(
        "-o", "--output", default=DEFAULT_TRACE, help=f"heap trace file (default: {DEFAULT_TRACE})"
    )
    parser.add_argument("--raw", metavar="OUT.swo", help="also keep every SWO byte received")
    parser.add_argument("--duration", type=_seconds, help="stop after this many seconds")
    parser.add_argument(
        "--format", choices=FORMATS, default="framed", help="trace format (default: framed)"
    )
    parser.add_argument(
        "--replay-pace",
        default=RECORDED,
        help=f"replay speed: {RECORDED} (timestamps and --clock, else --baud / 10), "
        f"{FAST}, or bytes per second (default: {RECORDED})",
    )
    parser.add_argument(
        "--pyocd-config",
        metavar="FILE",
        type=Path,
        help="pyOCD configuration file for a probe capture (default: none is read)",
    )
    parser.add_argument(
        "--pyocd-script",
        metavar="FILE",
        type=Path,
        help="pyOCD user script for a probe capture (default: none is run)",
    )
    parser.set_defaults(run=run)


def _hertz(text: str) -> int:
    """A frequency: "72000000", "72M", "1.5M", "400k"."""
    number, scale = text, 1
    if text[-1:] in _HERTZ_SUFFIX:
        number, scale = text[:-1], _HERTZ_SUFFIX[text[-1]]
    value = positive_number(number, MAX_HERTZ / scale)
    hertz = round(value * scale) if value is not None else 0
    if hertz <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid frequency {text!r}: expected Hz from 1 to 10G, e.g. 72M or 2000000"
        )
    return hertz


def _seconds(text: str) -> float:
    value = positive_number(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: expected seconds above 0")
    return value


def run(args: argparse.Namespace) -> int:
    spec = parse_source(args.source)
    outputs = [Path(args.output)] + ([Path(args.raw)] if args.raw else [])
    if spec.kind == REPLAY:
        assert spec.path is not None
        _refuse_overwrite(spec.path, outputs)
    clock, baud = _swo_settings(args)
    settings = SourceSettings(
        clock,
        baud,
        args.target,
        args.frequency,
        args.replay_pace,
        pyocd_config=args.pyocd_config,
        pyocd_script=args.pyocd_script,
    )
    session = CaptureSession(make_source(spec, settings), args.output, args.raw, fmt=args.format)
    console = _Console()
    with _StopRequest() as stop:
        session.start()
        try:
            summary = _capture(session, console, stop, args.duration)
        finally:
            # Only reached with a summary missing when something unexpected broke the loop.
            if session.summary is None:
                session.stop()
    return _report(console, summary)


def _capture(
    session: CaptureSession, console: _Console, stop: _StopRequest, duration: float | None
) -> CaptureSummary:
    deadline = None if duration is None else time.monotonic() + duration
    next_status = time.monotonic() + STATUS_INTERVAL
    while True:
        now = time.monotonic()
        ending = stop.requested or (deadline is not None and now >= deadline)
        update = session.stop() if ending else session.poll()
        console.show(update)
        if update.summary is not None:
            return update.summary
        if now >= next_status:
            console.status(update.counters.status())
            next_status = now + STATUS_INTERVAL


def _refuse_overwrite(source: Path, outputs: list[Path]) -> None:
    for path in outputs:
        if path.exists() and source.exists() and path.resolve() == source.resolve():
            raise HeapguiError(f"{path}: the capture would overwrite the file it replays")


def _swo_settings(args: argparse.Namespace) -> tuple[int | None, int | None]:
    """--clock and --baud, completed from Drone.toml [log.swo] when one is missing."""
    clock, baud = args.clock, args.baud
    if clock is None or baud is None:
        config = config_of(args)
        swo = config.swo if config is not None else None
        if swo is not None:
            clock = clock or swo.reset_freq
            baud = baud or swo.baud_rate
            logger.info("SWO settings from %s: %d Hz core clock, %d baud", config.path, clock, baud)
    return clock, baud


def _report(console: _Console, summary: CaptureSummary) -> int:
    console.status(summary.describe(), final=True)
    for problem in summary.problems:
        console.status(f"warning: {problem.describe()}", final=True)
    if summary.truncated_bytes:
        console.status(
            f"warning: the stream ended {summary.truncated_bytes} bytes into an ITM packet",
            final=True,
        )
    if summary.error is not None:
        console.status(f"error: {summary.error}; {summary.saved()}", final=True)
        return EXIT_FAULT
    return 0


class _Console:
    """Log text to stdout/stderr and a status line on stderr, redrawn in place on a terminal.

    A stream that fails (`capture | head` left, the terminal was closed) is
    pointed at the null device: the capture goes on, and neither later lines
    nor Python's flush at exit fail on it.
    """

    def __init__(self) -> None:
        self._live = sys.stderr.isatty()
        self._shown = False  # a status line is on screen and must be cleared before text
        self._closed: set[TextIO] = set()

    def show(self, update: CaptureUpdate) -> None:
        for port, text in update.text.items():
            self._clear()
            self._write(sys.stdout if port == 0 else sys.stderr, visible(text))

    def status(self, line: str, final: bool = False) -> None:
        if self._live and not final:
            self._shown = self._write(sys.stderr, f"\r\x1b[K{line}")
        else:
            self._clear()
            self._write(sys.stderr, f"heapgui-cli: {line}\n")

    def _write(self, stream: TextIO, text: str) -> bool:
        """Write and flush; False when the stream is gone."""
        if stream in self._closed:
            return False
        try:
            stream.write(text)
            stream.flush()
        except OSError:
            self._closed.add(stream)
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
            return False
        return True

    def _clear(self) -> None:
        if self._shown:
            self._write(sys.stderr, "\r\x1b[K")
            self._shown = False


class _StopRequest:
    """Ctrl-C, SIGTERM and SIGHUP ask the capture loop to stop instead of interrupting it.

    An exception in the middle of a poll could leave received bytes unsaved;
    a flag is checked between polls (each returns within ~50 ms). A second
    Ctrl-C interrupts as usual.
    """

    # SIGHUP: the terminal was closed; Windows has no such signal.
    SIGNALS = tuple(
        getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
    )

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopRequest:
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._request)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _request(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        signal.signal(signum, self._previous[signum])  # type: ignore[arg-type]
