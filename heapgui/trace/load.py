"""Reading a trace file: detection, chunked decoding, statistics, progress.

`read_trace` keeps the records (the window draws them); `stream_trace` lets them
go by, chunk after chunk, for commands whose memory must not grow with the trace.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from heapgui.errors import DecodeError, HeapguiError
from heapgui.trace.formats import DETECT_PREFIX, detect, make_decoder
from heapgui.trace.problems import (
    OVERSIZE_ALLOC,
    QUIRK_HINT,
    SKIPPED_BYTES,
    UNMATCHED_DEALLOC,
    ProblemLog,
)
from heapgui.trace.records import GROW, RecordBuffer, Records
from heapgui.trace.stats import Statistics

logger = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024
STDIN = "-"
STDIN_NAME = "standard input"


class Cancelled(HeapguiError):
    """The user stopped a load; nothing was changed."""


Consumer = Callable[[Records], None]


@dataclass
class Trace:
    """A decoded trace with its statistics and everything that went wrong in it.

    `records` is None for a trace streamed through (`stream_trace`): its records
    went by chunk after chunk and only what was counted from them is left.
    """

    source: str
    format: str
    records: Records | None
    stats: Statistics
    problems: ProblemLog = field(default_factory=ProblemLog)
    bytes_read: int = 0
    record_count: int = -1  # taken from `records` when they are kept
    # A streamed trace's sizes larger than the heap, counted with every allocation in.
    oversize: Statistics | None = None
    # A streamed trace's events as the timeline layout reads them (heapgui.layout.class_stream).
    class_events: Any = None

    def __post_init__(self) -> None:
        if self.records is not None:
            self.record_count = len(self.records)

    def counted_whole(self) -> Statistics:
        """The per-size figures with every allocation counted, none left out as larger
        than the heap (a layout must serve them). A streamed trace has them only if
        it was streamed with `oversize=True`."""
        if self.records is not None:
            return Statistics.of(self.records)
        if self.stats.heap_limit is None:  # nothing was left out
            return self.stats
        if self.oversize is None:
            raise ValueError(f"{self.source}: streamed without counting oversize allocations")
        return self.stats.with_sizes_above(self.stats.heap_limit, self.oversize)

    @property
    def skipped_bytes(self) -> int:
        return self.problems.total(SKIPPED_BYTES)

    @property
    def firmware_quirk(self) -> bool:
        """The drone-core 0.12-0.14 quirk only exists in the framed format."""
        return self.format == "framed" and self.problems.shows_firmware_quirk()

    @property
    def unreadable(self) -> bool:
        """Bytes were read but not one record came out of them: not a trace in this format."""
        return self.bytes_read > 0 and not self.record_count

    def hints(self) -> list[str]:
        """Plain-language explanations for the banner and the CLI."""
        hints = [p.describe() for p in self.problems]
        if self.firmware_quirk:
            hints.append(QUIRK_HINT)
        return hints


def read_trace(
    path: str | Path,
    fmt: str = "auto",
    strict: bool = False,
    heap_size: int | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Trace:
    """Decode a trace file chunk by chunk; `progress` gets the fraction read.

    Allocations larger than `heap_size` are refused and counted as a problem
    (`Statistics.heap_limit`); the heap size shown is the workspace's, not this one.

    `-` is standard input. Pipes and FIFOs work too: they are read in pieces like a
    file, only without a size to plan the columns or report progress against.
    """
    reading = _Reading(fmt, strict, Statistics(heap_size), True, (), progress, cancelled)
    return _open(path, reading)


def stream_trace(
    path: str | Path,
    fmt: str = "auto",
    strict: bool = False,
    heap_size: int | None = None,
    consumers: Sequence[Consumer] = (),
    oversize: bool = False,
) -> Trace:
    """Read a trace once, chunk by chunk, keeping only its statistics.

    Each chunk of records also goes to every consumer, in trace order, then is
    dropped: memory stays the same whatever the trace's length. The Trace that
    comes back has no records and no timeline. With `oversize` (and a heap size)
    the sizes larger than the heap are counted a second time with every
    allocation in, for `Trace.counted_whole`.
    """
    stats = Statistics(heap_size, keep_timeline=False)
    side = None
    if oversize and heap_size is not None:
        side = Statistics(keep_timeline=False)
        consumers = (*consumers, _oversize_counter(side, heap_size))
    trace = _open(path, _Reading(fmt, strict, stats, False, tuple(consumers), None, None))
    trace.oversize = side
    return trace


def _oversize_counter(side: Statistics, heap_size: int) -> Consumer:
    """Counts the records with an event of a size larger than the heap.

    Each size's figures depend only on that size's events, so these are the whole
    trace's figures for those sizes (the other sizes' are left unread)."""
    limit = np.uint32(min(heap_size, (1 << 32) - 1))

    def count(records: Records) -> None:
        if not len(records) or max(records.size.max(), records.new_size.max()) <= limit:
            return  # the common case, in two passes
        touch = (records.size > limit) | ((records.kind >= GROW) & (records.new_size > limit))
        if touch.any():
            side.update(
                Records(
                    records.kind[touch],
                    records.size[touch],
                    records.new_size[touch],
                    records.offset[touch],
                )
            )

    return count


@dataclass(frozen=True)
class _Reading:
    """How to read one trace: what to keep, whom to tell."""

    fmt: str
    strict: bool
    stats: Statistics
    keep: bool  # the records, in columns
    consumers: tuple[Consumer, ...]
    progress: Callable[[float], None] | None
    cancelled: Callable[[], bool] | None


def _open(path: str | Path, reading: _Reading) -> Trace:
    if str(path) == STDIN:
        return _read(sys.stdin.buffer, STDIN_NAME, reading)
    path = Path(path)
    if path.is_dir():
        raise HeapguiError(f"{path}: is a directory, expected a heap trace file")
    try:
        with path.open("rb") as f:
            return _read(f, str(path), reading)
    except OSError as exc:
        raise HeapguiError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _read(f: BinaryIO, source: str, reading: _Reading) -> Trace:
    fmt, strict, stats = reading.fmt, reading.strict, reading.stats
    progress, cancelled = reading.progress, reading.cancelled
    info = os.fstat(f.fileno())
    total = info.st_size if stat.S_ISREG(info.st_mode) else None
    # Detection looks at the first bytes, which are then decoded like any chunk:
    # no seeking back, so a pipe reads the same as a file.
    chunk = f.read(DETECT_PREFIX)
    try:
        name = detect(chunk) if fmt == "auto" else fmt
    except DecodeError as exc:
        raise exc.with_source(source) from None
    decoder = make_decoder(name, strict)
    parts = None
    if reading.keep:
        # Columns sized once from the file size; a pipe's start at one chunk's worth and grow.
        parts = RecordBuffer(
            (CHUNK if total is None else total) // min(decoder.lengths) + 1, stream_bytes=total
        )
    done = 0
    count = 0

    def fold(records: Records) -> None:
        stats.update(records)
        for consumer in reading.consumers:
            consumer(records)

    # Counting runs on a second thread, one chunk behind decoding: numpy
    # releases the GIL, so the two halves of the work overlap on two cores.
    with ThreadPoolExecutor(1, thread_name_prefix="heapgui-stats") as counter:
        counting: Future | None = None

        def take(records: Records) -> None:
            nonlocal counting, count
            count += len(records)
            if parts is not None:
                parts.append(records)  # on this thread: counting is the longer half
            if counting is not None:
                counting.result()
            counting = counter.submit(fold, records)

        try:
            # A decoder that works in pieces gets them straight from the file, uncopied.
            size = decoder.piece or CHUNK
            while chunk:
                if cancelled is not None and cancelled():
                    raise Cancelled(f"{source}: loading cancelled")
                take(decoder.feed(chunk))
                done += len(chunk)
                if progress is not None:
                    progress(done / total if total else 1.0)
                chunk = f.read(size)
            take(decoder.finish())
            if counting is not None:
                counting.result()
        except DecodeError as exc:
            raise exc.with_source(source) from None
    records = parts.records() if parts is not None else None
    trace = Trace(source, name, records, stats, bytes_read=done, record_count=count)
    trace.problems.merge(decoder.problems)
    trace.problems.merge(stats.problems)
    if strict:
        _fail_like_drone(trace)
    logger.info("%s: %d %s records", source, count, name)
    return trace


def _fail_like_drone(trace: Trace) -> None:
    """drone stops on an unmatched deallocation or an allocation larger than the heap."""
    for problem in trace.problems:
        if problem.kind in (UNMATCHED_DEALLOC, OVERSIZE_ALLOC):
            expected = (
                "a deallocation of a live block"
                if problem.kind == UNMATCHED_DEALLOC
                else "an allocation no larger than the heap"
            )
            raise DecodeError(
                problem.first_offset,
                expected,
                f"size {problem.size} (trace file is corrupted)",
                trace.source,
            )
