"""`heapgui-cli capture`: a live heap trace capture without the GUI (like `just heaptrace`).

Over SWO (`--transport swo`, drone 0.12-0.14) it writes the `heaptrace` file
as `drone log :31` does, optionally the raw SWO stream; over Drone Stream
(`--transport stream`, drone master) as `drone stream :31` does. It
prints the firmware's port-0 text to stdout (port 1 to stderr), its
control characters but newline and tab escaped so that it cannot steer the
terminal, and a status line to stderr. Ctrl-C, SIGTERM and SIGHUP (a closed terminal) stop
cleanly with everything saved (exit 0); a capture stopped by a fault says how
much was saved and exits 1. `--json` prints a summary as JSON on stdout at
the end (the firmware's text then goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TextIO

from heapgui.capture.session import (
    DETECT,
    STREAM,
    STREAM_FORMAT,
    SWO,
    CaptureSession,
    CaptureSummary,
    CaptureUpdate,
    capture_batches,
)
from heapgui.capture.sources import (
    FAST,
    FORMS,
    PROBE,
    RECORDED,
    REPLAY,
    SIM,
    SourceSettings,
    SourceSpec,
    make_source,
    parse_source,
    positive_number,
)
from heapgui.capture.stream_source import ATTACH, FROM_RESET
from heapgui.commands.common import config_of
from heapgui.errors import HeapguiError
from heapgui.logs import visible
from heapgui.report import DEFAULT_TRACE
from heapgui.trace.formats import FORMATS

logger = logging.getLogger(__name__)

EXIT_FAULT = 1
STATUS_INTERVAL = 1.0  # seconds between status lines
_HERTZ_SUFFIX = {"k": 1_000, "M": 1_000_000, "G": 1_000_000_000}
MAX_HERTZ = 10_000_000_000  # above any core, SWO or SWD clock: a larger value is a typo


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("capture", help="capture a heap trace live (just heaptrace)")
    parser.add_argument(
        "--source", default="probe", help=f"where the trace comes from: {FORMS} (default: probe)"
    )
    parser.add_argument(
        "--transport",
        choices=(SWO, STREAM),
        help="swo (drone 0.12-0.14, ITM port 31) or stream (drone master's Drone Stream, "
        "read from target RAM by a probe or sim; default: stream when --elf or --layout "
        "is given, else swo)",
    )
    parser.add_argument(
        "--elf",
        metavar="FILE",
        type=Path,
        help="Drone Stream: the flashed firmware, to find the buffers (the most robust way)",
    )
    parser.add_argument(
        "--layout",
        metavar="FILE",
        type=Path,
        help="Drone Stream: the firmware's layout.toml, to find the buffers (default without "
        "--elf: layout.toml beside the output file, else in the current directory)",
    )
    parser.add_argument(
        "--from-reset",
        action="store_true",
        help="Drone Stream: reset the target and capture from its first allocation "
        "(like drone stream --reset); default: attach to the running firmware",
    )
    parser.add_argument(
        "--drain-backlog",
        action="store_true",
        help="Drone Stream attach: also keep what the buffers held before the capture "
        "(default: skip it, as drone does)",
    )
    parser.add_argument(
        "--sim-cores",
        type=int,
        choices=(1, 2),
        help="simulated Drone Stream board: 1 buffer (stm32 template) or 2 (RP2040; default: 1)",
    )
    parser.add_argument(
        "--sim-buffer",
        metavar="BYTES",
        type=_buffer_size,
        help="simulated Drone Stream board: bytes per buffer, a multiple of 4 from 260 "
        "(default: 260)",
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
        "--format",
        choices=(*FORMATS, DETECT),
        help=f"trace format; {DETECT}: tell framed from legacy by the first kilobytes "
        f"(default: framed over SWO, {STREAM_FORMAT} over Drone Stream)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a summary as JSON on stdout at the end (firmware text goes to stderr)",
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


def _buffer_size(text: str) -> int:
    try:
        size = int(text, 0)
    except ValueError:
        size = 0
    if size < 260 or size % 4 or size > 64 * 1024:
        raise argparse.ArgumentTypeError(
            f"invalid buffer size {text!r}: expected a multiple of 4 from 260 to 65536"
        )
    return size


def _seconds(text: str) -> float:
    value = positive_number(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: expected seconds above 0")
    return value


def run(args: argparse.Namespace) -> int:
    spec = parse_source(args.source)
    transport = _transport(args, spec)
    outputs = [Path(args.output)] + ([Path(args.raw)] if args.raw else [])
    if spec.kind == REPLAY:
        assert spec.path is not None
        _refuse_overwrite(spec.path, outputs)
    if transport == STREAM:
        clock = baud = None
        fmt = args.format or STREAM_FORMAT
        stream = _stream_settings(args, spec)
    else:
        clock, baud = _swo_settings(args)
        fmt = args.format or "framed"
        stream = {}
    settings = SourceSettings(
        clock,
        baud,
        args.target,
        args.frequency,
        args.replay_pace,
        pyocd_config=args.pyocd_config,
        pyocd_script=args.pyocd_script,
        transport=transport,
        **stream,
    )
    session = CaptureSession(make_source(spec, settings), args.output, args.raw, fmt=fmt)
    console = _Console(text_to_stderr=args.json)
    with _StopRequest() as stop:
        session.start()
        try:
            summary = _capture(session, console, stop, args.duration)
        finally:
            # Only reached with a summary missing when something unexpected broke the loop.
            if session.summary is None:
                session.stop()
    code = _report(console, summary)
    if args.json:
        sys.stdout.write(json.dumps(_summary_json(summary, fmt), indent=2) + "\n")
    return code


def _transport(args: argparse.Namespace, spec: SourceSpec) -> str:
    """--transport, or what the other options imply; a contradiction is a usage error."""
    stream_only = [
        option
        for option, given in (
            ("--elf", args.elf),
            ("--layout", args.layout),
            ("--from-reset", args.from_reset),
            ("--drain-backlog", args.drain_backlog),
            ("--sim-cores", args.sim_cores),
            ("--sim-buffer", args.sim_buffer),
        )
        if given
    ]
    transport = args.transport or (STREAM if args.elf or args.layout else SWO)
    if transport == SWO:
        if stream_only:
            raise HeapguiError(
                f"{stream_only[0]} is for Drone Stream: add --transport stream, "
                f"or leave it out for SWO"
            )
        return SWO
    swo_only = [
        option
        for option, given in (
            ("--raw", args.raw),
            ("--clock", args.clock),
            ("--baud", args.baud),
            ("--replay-pace", args.replay_pace != RECORDED),
        )
        if given
    ]
    if swo_only:
        raise HeapguiError(f"{swo_only[0]} is for SWO captures; Drone Stream has no SWO")
    if args.format not in (None, STREAM_FORMAT):
        raise HeapguiError(
            f"Drone Stream carries the {STREAM_FORMAT} format, not --format {args.format}"
        )
    if spec.kind not in (PROBE, SIM):
        raise HeapguiError(
            f"Drone Stream is read from target RAM: use --source probe[:UID] or sim, "
            f"not {args.source}"
        )
    if args.elf and args.layout:
        raise HeapguiError("give either --elf or --layout, not both")
    if args.from_reset and args.drain_backlog:
        raise HeapguiError("--from-reset starts with empty buffers: there is no backlog to drain")
    if spec.kind != SIM and (args.sim_cores or args.sim_buffer):
        raise HeapguiError(
            "--sim-cores and --sim-buffer describe the simulated board: --source sim"
        )
    return STREAM


def _stream_settings(args: argparse.Namespace, spec: SourceSpec) -> dict:
    """Where the buffers are (ELF, layout.toml, or the default layout.toml) and how to start."""
    layout = args.layout
    if spec.kind == PROBE and args.elf is None and layout is None:
        layout = _default_layout(Path(args.output))
    for path, what in ((args.elf, "ELF file"), (layout, "layout.toml")):
        if path is not None and not path.is_file():
            raise HeapguiError(f"{path}: no such {what}")
    simulator = {}
    if args.sim_cores:
        simulator["stream_cores"] = args.sim_cores
    if args.sim_buffer:
        simulator["stream_size"] = args.sim_buffer
    return {
        "elf": args.elf,
        "layout": layout,
        "stream_start": FROM_RESET if args.from_reset else ATTACH,
        "drain_backlog": args.drain_backlog,
        "simulator": simulator,
    }


def _default_layout(output: Path) -> Path:
    """layout.toml beside the heap trace file (the project folder), else in the current one."""
    for folder in (output.parent, Path.cwd()):
        candidate = folder / "layout.toml"
        if candidate.is_file():
            return candidate
    raise HeapguiError(
        f"no layout.toml beside {output} or in the current directory: name the firmware "
        f"with --elf FILE or its layout with --layout FILE"
    )


def _summary_json(summary: CaptureSummary, fmt: str) -> dict:
    c = summary.counters
    return {
        "source": summary.source,
        "transport": c.transport,
        "format": c.format or fmt,
        "ended": summary.ended,
        "error": str(summary.error) if summary.error is not None else None,
        "records": c.records,
        "bytes": c.heap_saved,
        "bytes_received": c.bytes_received,
        "heaptrace": str(summary.heaptrace_path),
        "elapsed": round(c.elapsed, 3),
        "skipped_bytes": c.skipped_bytes,
        "overflows": c.overflows,
        "buffers": {name: round(fill, 3) for name, fill in c.fills},
        "warnings": list(summary.warnings),
    }


def _capture(
    session: CaptureSession, console: _Console, stop: _StopRequest, duration: float | None
) -> CaptureSummary:
    deadline = None if duration is None else time.monotonic() + duration

    def ending() -> bool:
        return stop.requested or (deadline is not None and time.monotonic() >= deadline)

    next_status = time.monotonic() + STATUS_INTERVAL
    # Every poll is a batch: the firmware's text is shown as soon as it arrives.
    for update in capture_batches(session, ending, interval=0):
        console.show(update)
        now = time.monotonic()
        if not update.finished and now >= next_status:
            console.status(update.counters.status())
            next_status = now + STATUS_INTERVAL
    assert update.summary is not None  # the last batch carries it
    return update.summary


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
    for warning in summary.warnings:
        console.status(f"warning: {warning}", final=True)
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

    def __init__(self, text_to_stderr: bool = False) -> None:
        self._text_to_stderr = text_to_stderr  # stdout is kept for the JSON summary
        self._live = sys.stderr.isatty()
        self._shown = False  # a status line is on screen and must be cleared before text
        self._closed: set[TextIO] = set()

    def show(self, update: CaptureUpdate) -> None:
        for port, text in update.text.items():
            self._clear()
            out = sys.stdout if port == 0 and not self._text_to_stderr else sys.stderr
            self._write(out, visible(text))

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
