"""A live capture: a SWO byte source or Drone Stream to files, records and statistics.

Each `poll()` does one `read()` of the source (at most ~50 ms) and carries the
bytes all the way: the raw `.swo` file gets every byte, the `heaptrace` file
gets the port-31 payload (what `drone log :31` writes), the trace decoder
turns it into records, the statistics take them in, and ports 0 and 1 become
log text. Files are written unbuffered, so a crash or an unplugged probe
loses nothing that was received, and the summary counts the bytes that
reached each file: a full disk is reported as bytes lost. A Qt worker
thread drives it with a loop of `poll()` calls and a stop flag, sending the
updates on in batches.

Drone Stream (`StreamSource`) goes the same way with `FrameDemux` in place
of the ITM demultiplexer: the format is `tagged`, there is no raw SWO file
and no timestamp (every record is dated 0), each record keeps the buffer
(core) that wrote it in `CaptureUpdate.cores`, and the end clears the
target's enable mask and drains the buffers once before the files close.

Record dates. A record is dated by the target clock tick of the packet that
completed it, read from port 31's `PortClock`. Records arrive in the order
their last word did, and `offset` is their first byte, so the completing
position is taken as e_i = max(offset_i + length_i, e_(i-1)) with the nominal
length of the record's kind. That is exact for a record whose bytes lie
together; a record interrupted by others (framed only) gets the end of the
last one that interrupted it, a few words early. Dates never decrease, as
charts need. A record whose completing byte has no date yet (its timestamp
packet has not arrived) is held back for at most `date_wait` seconds, then
released with the latest tick known; a stream without timestamps dates
everything 0.
"""

from __future__ import annotations

import codecs
import logging
import os
import stat
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heapgui.capture.byte_source import ByteSource, SourceEnded
from heapgui.capture.itm import DemuxChunk, ItmDemux, PortClock
from heapgui.capture.stream_frames import FrameChunk, FrameDemux, FrameRecords
from heapgui.capture.stream_source import StreamSource
from heapgui.errors import DecodeError, HeapguiError
from heapgui.trace.formats import FORMATS, detect, make_decoder
from heapgui.trace.problems import Problem, ProblemLog
from heapgui.trace.records import RecordBuffer, Records
from heapgui.trace.stats import Statistics

logger = logging.getLogger(__name__)

HEAP_PORT = 31
TEXT_PORTS = (0, 1)  # the firmware's stdout and stderr
DATE_WAIT = 0.25  # seconds a record may wait for its timestamp packet
RATE_WINDOW = 1.0  # seconds the byte and record rates average over
# How a capture ended.
STOPPED = "stopped"
SOURCE_ENDED = "source ended"
FAILED = "failed"
SWO, STREAM = "swo", "stream"  # transports
STREAM_FORMAT = "tagged"  # the only format Drone Stream carries
DETECT = "auto"  # SWO: tell framed from legacy by the first DETECT_BYTES of the heap trace
DETECT_BYTES = 4096
FIRST_CAPACITY = 1 << 16  # records a kept capture holds before its buffer first doubles


@dataclass(frozen=True)
class CaptureCounters:
    """Running totals and rates; rates are per second over the last RATE_WINDOW."""

    elapsed: float = 0.0
    bytes_received: int = 0
    heap_bytes: int = 0
    heap_saved: int = 0  # heap trace bytes that reached the file; fewer when a write failed
    raw_saved: int = 0  # SWO bytes that reached the raw file
    records: int = 0
    overflows: int = 0
    skipped_bytes: int = 0  # SWO bytes the demultiplexer could not read as ITM packets
    trace_skipped_bytes: int = 0  # heap trace bytes the decoder skipped
    ticks: int = 0  # target clock ticks up to the latest timestamp packet
    byte_rate: float = 0.0
    record_rate: float = 0.0
    transport: str = SWO
    format: str = ""
    """The trace format being decoded; empty while a SWO capture is still telling it."""
    fills: tuple[tuple[str, float], ...] = ()
    """Drone Stream: each buffer's name and the share of it pending at the last poll."""

    def status(self) -> str:
        """One line for a status bar."""
        rates = (
            f"{self.bytes_received} bytes ({self.byte_rate / 1000:.1f} kB/s), "
            f"{self.records} records ({self.record_rate:.0f}/s), "
        )
        if self.transport == STREAM:
            fills = ", ".join(f"{name} {fill:.0%} full" for name, fill in self.fills)
            return rates + f"{fills}, {self.skipped_bytes} skipped bytes"
        return rates + f"{self.overflows} overflows, {self.skipped_bytes} skipped bytes"


@dataclass(frozen=True)
class CaptureSummary:
    """How a finished capture went: what was saved, why it ended, what went wrong."""

    source: str
    heaptrace_path: Path
    raw_path: Path | None
    counters: CaptureCounters
    ended: str  # STOPPED, SOURCE_ENDED or FAILED
    error: HeapguiError | None
    problems: list[Problem]
    truncated_bytes: int  # an unfinished ITM packet at the end of the stream
    warnings: tuple[str, ...] = ()  # what the source noticed: a buffer kept full, a mask left set

    def describe(self) -> str:
        c = self.counters
        if c.heap_saved == c.heap_bytes:
            heap = f"saved {c.heap_saved} bytes of heap trace ({c.records} records) in "
        else:
            heap = (
                f"saved only {c.heap_saved} of {c.heap_bytes} bytes of heap trace "
                f"({c.records} records received) in "
            )
        heap += f"{self.heaptrace_path}{_lost(c.heap_bytes, c.heap_saved)}"
        raw = ""
        if self.raw_path is not None:
            only = f"only {c.raw_saved} of " if c.raw_saved < c.bytes_received else ""
            raw = f"; {only}{c.bytes_received} SWO bytes in {self.raw_path}"
            raw += _lost(c.bytes_received, c.raw_saved)
        if c.transport == STREAM:
            tail = f"{c.bytes_received} bytes read, {c.skipped_bytes} skipped"
        else:
            tail = f"{c.overflows} overflows, {c.skipped_bytes} skipped SWO bytes"
        return f"{self.source}: {self.ended} after {c.elapsed:.1f} s; {heap}{raw}; {tail}"

    def saved(self) -> str:
        """How much of the heap trace is in its file, for the message of a failed capture."""
        c = self.counters
        return (
            f"{c.heap_saved} bytes of heap trace were saved in {self.heaptrace_path}"
            f"{_lost(c.heap_bytes, c.heap_saved)}"
        )


@dataclass
class CaptureUpdate:
    """What one poll brought: new records (dated), their load timeline, log text, counters.

    `records.timestamp` holds target clock ticks. `timeline` is the bytes in
    use after each new record. `summary` is set on the last update of the
    capture, and then the session is closed; `error` is why it failed, if it
    did. `stats` is set on the batches `capture_batches` yields: the
    statistics after the batch, so no reader counts them again.
    """

    records: Records
    timeline: np.ndarray
    text: dict[int, str]
    counters: CaptureCounters
    summary: CaptureSummary | None = None
    cores: np.ndarray | None = None
    """Drone Stream: the buffer (index in `counters.fills`) that wrote each record."""
    stats: Statistics | None = None
    captured: Records | None = None
    """With `capture_batches(keep=True)`: every record so far, a view that stays valid."""

    @property
    def finished(self) -> bool:
        return self.summary is not None

    @property
    def error(self) -> HeapguiError | None:
        return self.summary.error if self.summary is not None else None

    @classmethod
    def merge(cls, updates: list[CaptureUpdate]) -> CaptureUpdate:
        """Consecutive updates as one batch, for a worker that signals a few times a second."""
        text: dict[int, list[str]] = {}
        for update in updates:
            for port, part in update.text.items():
                text.setdefault(port, []).append(part)
        last = updates[-1]
        cores = [u.cores for u in updates if u.cores is not None]
        return cls(
            Records.concat([u.records for u in updates]),
            np.concatenate([u.timeline for u in updates]),
            {port: "".join(parts) for port, parts in text.items()},
            last.counters,
            last.summary,
            np.concatenate(cores) if cores else None,
            next((u.stats for u in reversed(updates) if u.stats is not None), None),
            next((u.captured for u in reversed(updates) if u.captured is not None), None),
        )


def capture_batches(
    session: CaptureSession,
    stopping: Callable[[], bool],
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    keep: bool = False,
) -> Iterator[CaptureUpdate]:
    """Poll a started session until it ends, yielding its updates merged every `interval` s.

    The capture loop of both front ends: `stopping` is checked between polls
    (each returns within ~50 ms). Every batch carries the statistics after it
    (`CaptureUpdate.stats`): a snapshot while capturing, and on the last batch,
    which carries the summary, the session's own (with the timeline), since
    the closed session never changes them again.

    With `keep`, every batch also carries all records so far (`captured`): a
    view of a buffer that doubles when full. It grows here, in the capture's
    thread, so a reader in another thread (the GUI) never copies the capture.
    """
    kept = RecordBuffer(FIRST_CAPACITY, timed=True) if keep else None  # records are dated
    pending: list[CaptureUpdate] = []
    due = clock() + interval
    while True:
        update = session.stop() if stopping() else session.poll()
        pending.append(update)
        now = clock()
        if update.finished or now >= due:
            batch = CaptureUpdate.merge(pending)
            batch.stats = session.stats if batch.finished else session.stats.snapshot()
            if kept is not None:
                kept.append(batch.records)
                batch.captured = kept.records()
            yield batch
            if batch.finished:
                return
            pending = []
            due = now + interval


def _lost(received: int, saved: int) -> str:
    return f", {received - saved} bytes lost" if saved < received else ""


class _Output:
    """A capture file: opened without truncating, written unbuffered, its saved bytes counted.

    Every output is opened before any is emptied (`truncate`), so one that
    cannot be opened leaves the others' old content alone. After a failed
    write nothing more is written: the rest counts as lost.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved = 0
        self.error: HeapguiError | None = None
        self.created = not path.exists()
        try:
            self._file = open(path, "ab", buffering=0)
        except OSError as err:
            raise HeapguiError(f"{path}: {_reason(err)}") from None

    def truncate(self) -> None:
        """Empty a regular file; devices and pipes have nothing to empty."""
        try:
            if stat.S_ISREG(os.fstat(self._file.fileno()).st_mode):
                self._file.truncate(0)
        except OSError as err:
            raise HeapguiError(f"{self.path}: {_reason(err)}") from None

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self.error is None:
            try:
                written = self._file.write(view)
            except OSError as err:
                self.error = HeapguiError(f"{self.path}: cannot save the capture: {_reason(err)}")
                logger.info("%s", self.error)
                break
            self.saved += written
            view = view[written:]

    def close(self) -> HeapguiError | None:
        """Close (again: nothing happens); an error is returned, for the summary."""
        try:
            self._file.close()
        except OSError as err:
            return HeapguiError(f"{self.path}: {_reason(err)}")
        return None

    def discard(self) -> None:
        """Close, and remove the file if opening it made it (a start that failed)."""
        self.close()
        if self.created:
            self.path.unlink(missing_ok=True)


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:  # one of them does not exist yet
        return False


@dataclass
class _Held:
    """Records waiting for the timestamp packet that dates them."""

    records: Records
    ends: np.ndarray  # completing position (exclusive) of each record
    decoded: np.ndarray  # when each record was decoded, for the DATE_WAIT limit

    @classmethod
    def empty(cls, first_index: int = 0) -> _Held:
        return cls(Records.empty(first_index), np.empty(0, np.int64), np.empty(0))


@dataclass
class _Rates:
    samples: deque = field(default_factory=deque)  # (time, bytes received, records)

    def add(self, now: float, received: int, records: int) -> tuple[float, float]:
        self.samples.append((now, received, records))
        while len(self.samples) > 2 and now - self.samples[1][0] >= RATE_WINDOW:
            self.samples.popleft()
        then, received0, records0 = self.samples[0]
        span = now - then
        if span <= 0:
            return 0.0, 0.0
        return (received - received0) / span, (records - records0) / span


class CaptureSession:
    """One capture from `start()` to its last update; make a new session to capture again.

    `source` is a SWO `ByteSource` or a Drone Stream `StreamSource`; the
    latter needs `fmt` "tagged" and no `raw_path`. A SWO capture with `fmt`
    "auto" holds its first DETECT_BYTES of heap trace back from the decoder
    (not from the file) and decodes them in the format they fit best.

    Use it from one thread. `poll()` returns within about 50 ms plus the
    processing of what arrived. When the source fails (probe unplugged,
    debugger gone) or ends (replay), that poll's update is the last one: the
    tail has been decoded and saved, files and source are closed, and
    `update.error` says what failed. `stop()` ends the capture the same way.
    """

    def __init__(
        self,
        source: ByteSource | StreamSource,
        heaptrace_path: str | Path,
        raw_path: str | Path | None = None,
        heap_size: int | None = None,
        fmt: str = "framed",
        date_wait: float = DATE_WAIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fmt not in (*FORMATS, DETECT):
            raise HeapguiError(
                f"unknown trace format {fmt!r}: expected one of {', '.join(FORMATS)} or {DETECT}"
            )
        self.source = source
        self.heaptrace_path = Path(heaptrace_path)
        self.raw_path = Path(raw_path) if raw_path is not None else None
        if self.raw_path is not None and _same_file(self.heaptrace_path, self.raw_path):
            raise HeapguiError(
                f"{self.raw_path}: the raw SWO stream would be the same file as the heap trace "
                f"{self.heaptrace_path}"
            )
        self.transport = STREAM if isinstance(source, StreamSource) else SWO
        if self.transport == STREAM:
            _check_stream(source.name, fmt, self.raw_path)
        self.format = fmt
        self.demux: ItmDemux | FrameDemux = FrameDemux() if self.transport == STREAM else ItmDemux()
        self._undecided: bytearray | None = bytearray() if fmt == DETECT else None
        self.decoder = self._decoder(fmt)
        self.stats = Statistics(heap_size)
        self.summary: CaptureSummary | None = None
        self._record_bytes = np.array(self.decoder.lengths, np.int64)
        self._date_wait = date_wait
        self._clock = clock
        self._heap_clock = PortClock()
        self._text = {
            port: codecs.getincrementaldecoder("utf-8")(errors="replace") for port in TEXT_PORTS
        }
        self._held = _Held.empty()
        self._last_end = 0
        self._heap_file: _Output | None = None
        self._raw_file: _Output | None = None
        self._started = False
        self._start_time = 0.0
        self._end_time = 0.0
        self._rates = _Rates()
        self._rate = (0.0, 0.0)

    # Lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Open the source, then the files, then empty them: a failure leaves old files alone."""
        if self._started:
            raise HeapguiError(f"the capture from {self.source.name} was already started")
        self._started = True
        self.source.open()
        try:
            self._heap_file = _Output(self.heaptrace_path)
            if self.raw_path is not None:
                self._raw_file = _Output(self.raw_path)
            for output in self._outputs():
                output.truncate()
        except BaseException:
            for output in self._outputs():
                output.discard()
            self._heap_file = self._raw_file = None
            self.source.close()
            raise
        self._start_time = self._clock()
        logger.info("capturing from %s into %s", self.source.name, self.heaptrace_path)

    def poll(self) -> CaptureUpdate:
        """One read of the source, carried through to files, records and statistics."""
        if self.summary is not None:
            return self._empty_update()
        if self._heap_file is None:
            raise HeapguiError("the capture was not started")
        try:
            data = self.source.read()
        except SourceEnded:
            return self._finish(SOURCE_ENDED)
        except HeapguiError as err:
            return self._finish(FAILED, err)
        except OSError as err:
            return self._finish(FAILED, HeapguiError(f"{self.source.name}: {_reason(err)}"))
        update = self._carry(self.demux.feed(data), final=False)
        if data and self._raw_file is not None:
            self._raw_file.write(data)
        error = self._write_error()
        if error is None:
            return update
        # What this read brought was decoded and counted: the views get it with the end.
        return CaptureUpdate.merge([update, self._finish(FAILED, error)])

    def stop(self) -> CaptureUpdate:
        """End the capture: settle the tail, save, close. Later calls return an empty update."""
        if self.summary is not None:
            return self._empty_update()
        if not self._started or self._heap_file is None:
            self.source.close()
            raise HeapguiError("the capture was not started")
        return self._finish(STOPPED)

    def __enter__(self) -> CaptureSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._heap_file is not None:
            self.stop()

    # Processing -----------------------------------------------------------------

    def _carry(self, chunk: DemuxChunk, final: bool) -> CaptureUpdate:
        heap = chunk.payload(HEAP_PORT)
        if heap:
            assert self._heap_file is not None
            self._heap_file.write(heap)
        self._heap_clock.add(chunk.times.get(HEAP_PORT))
        text = {}
        for port, decoder in self._text.items():
            payload = chunk.payload(port)
            if payload or final:
                text[port] = decoder.decode(payload, final)
        if isinstance(self.decoder, FrameRecords):
            assert isinstance(chunk, FrameChunk)
            records = self.decoder.take(chunk.heap_frames)
        else:
            heap = self._decided(heap, final)
            records = self.decoder.feed(heap)
            if final:
                records = Records.concat([records, self.decoder.finish()])
        dated = self._date(records, final)
        timeline = self.stats.update(dated) if len(dated) else np.empty(0, np.int64)
        cores = None
        if isinstance(self.demux, FrameDemux):
            cores = self.demux.cores_at(dated.offset)
        return CaptureUpdate(
            dated, timeline, {p: t for p, t in text.items() if t}, self._counters(), cores=cores
        )

    def _decoder(self, fmt: str):
        if self.transport == STREAM:
            return FrameRecords()
        return make_decoder("framed" if fmt == DETECT else fmt)

    def _decided(self, heap: bytes, final: bool) -> bytes:
        """`heap` once the format is known; before, the bytes are held (b"" is returned)."""
        held = self._undecided
        if held is None:
            return heap
        held += heap
        if len(held) < DETECT_BYTES and not final:
            return b""
        self._undecided = None
        try:
            self.format = detect(bytes(held)) if held else "framed"
        except DecodeError as err:
            self.format = "framed"
            logger.warning("%s: %s; decoding it as framed", self.heaptrace_path, err)
        self.decoder = make_decoder(self.format)
        self._record_bytes = np.array(self.decoder.lengths, np.int64)
        logger.info("%s: the heap trace is %s", self.source.name, self.format)
        return bytes(held)

    def _date(self, records: Records, final: bool) -> Records:
        """Timestamp what can be dated; hold back the rest (see the module docstring)."""
        now = self._clock()
        held = self._held if len(self._held.records) else _Held.empty(records.first_index)
        if len(records):
            ends = records.ends(self._record_bytes)
            np.maximum(ends, self._last_end, out=ends)
            self._last_end = int(ends[-1])
            held = _Held(
                Records.concat([held.records, records]),
                np.concatenate([held.ends, ends]),
                np.concatenate([held.decoded, np.full(len(records), now)]),
            )
        ticks = self._heap_clock.ticks_at(held.ends - 1)
        cut = len(ticks)
        undated = np.flatnonzero(ticks < 0)  # a suffix: dates only ever grow
        if undated.size:
            if not final and now - held.decoded[undated[0]] < self._date_wait:
                cut = int(undated[0])
            else:
                ticks[undated] = self.demux.stats.ticks
        released = held.records.slice(0, cut)
        released.timestamp = ticks[:cut]
        self._held = _Held(held.records.slice(cut, len(ticks)), held.ends[cut:], held.decoded[cut:])
        # Later records complete at or after these positions: older datings are not needed.
        needed = int(self._held.ends[0]) if cut < len(ticks) else self._last_end
        self._heap_clock.forget_before(max(needed - 1, 0))
        return released

    def _counters(self) -> CaptureCounters:
        now = self._clock()
        received = self.demux.stats.bytes_in
        if self.summary is None:
            self._rate = self._rates.add(now, received, self.stats.records)
        elapsed = (now if self.summary is None else self._end_time) - self._start_time
        return CaptureCounters(
            elapsed=elapsed,
            bytes_received=received,
            heap_bytes=self.demux.stats.port_bytes.get(HEAP_PORT, 0),
            heap_saved=self._heap_file.saved if self._heap_file is not None else 0,
            raw_saved=self._raw_file.saved if self._raw_file is not None else 0,
            records=self.stats.records,
            overflows=self.demux.stats.overflows,
            skipped_bytes=self.demux.skipped_bytes,
            trace_skipped_bytes=self.decoder.skipped_bytes,
            ticks=self.demux.stats.ticks,
            byte_rate=self._rate[0],
            record_rate=self._rate[1],
            transport=self.transport,
            format="" if self._undecided is not None else self.format,
            fills=self._fills(),
        )

    def _fills(self) -> tuple[tuple[str, float], ...]:
        source = self.source
        if not isinstance(source, StreamSource):
            return ()
        return tuple(zip(source.buffer_names, source.fills, strict=True))

    # Ending ---------------------------------------------------------------------

    def _finish(self, ended: str, error: HeapguiError | None = None) -> CaptureUpdate:
        """Decode and save the tail, close files and source; never loses what was received."""
        try:
            update = self._carry(self._tail(), final=True)
        except HeapguiError as err:
            error = error or err
            update = self._empty_update()
        close_error = self._close_files()
        self.source.close()
        error = error or self._write_error() or close_error
        if error is not None:
            ended = FAILED
            logger.info("capture from %s failed: %s", self.source.name, error)
        self._end_time = self._clock()
        problems = ProblemLog()
        for log in (self.demux.problems, self.decoder.problems, self.stats.problems):
            problems.merge(log)
        self.summary = CaptureSummary(
            source=self.source.name,
            heaptrace_path=self.heaptrace_path,
            raw_path=self.raw_path,
            counters=self._counters(),
            ended=ended,
            error=error,
            problems=list(problems),
            truncated_bytes=self.demux.stats.truncated_bytes,
            warnings=tuple(getattr(self.source, "warnings", ())),
        )
        update.counters = self.summary.counters
        update.summary = self.summary
        return update

    def _tail(self) -> DemuxChunk:
        """What is left: for Drone Stream, the drain after the target's mask was cleared."""
        if isinstance(self.source, StreamSource) and isinstance(self.demux, FrameDemux):
            return self.demux.feed(self.source.finish())  # frames are whole: no other tail
        return self.demux.finish()

    def _outputs(self) -> list[_Output]:
        return [file for file in (self._heap_file, self._raw_file) if file is not None]

    def _write_error(self) -> HeapguiError | None:
        return next((f.error for f in self._outputs() if f.error is not None), None)

    def _close_files(self) -> HeapguiError | None:
        """Close the outputs; they stay, closed, to count what was saved."""
        errors = [output.close() for output in self._outputs()]
        return next((error for error in errors if error is not None), None)

    def _empty_update(self) -> CaptureUpdate:
        counters = self.summary.counters if self.summary is not None else self._counters()
        records = Records.empty(self.stats.records)
        records.timestamp = np.empty(0, np.int64)
        return CaptureUpdate(records, np.empty(0, np.int64), {}, counters, self.summary)


def _check_stream(name: str, fmt: str, raw_path: Path | None) -> None:
    if fmt != STREAM_FORMAT:
        raise HeapguiError(
            f"{name}: Drone Stream carries the {STREAM_FORMAT} format, not {fmt}; "
            f"capture it as {STREAM_FORMAT}"
        )
    if raw_path is not None:
        raise HeapguiError(
            f"{raw_path}: a raw SWO file needs a SWO capture; Drone Stream has no SWO bytes"
        )


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__
