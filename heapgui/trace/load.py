"""Reading a whole trace file: detection, chunked decoding, statistics, progress."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from heapgui.errors import DecodeError, HeapguiError
from heapgui.trace.formats import DETECT_PREFIX, detect, make_decoder
from heapgui.trace.problems import (
    OVERSIZE_ALLOC,
    QUIRK_HINT,
    UNMATCHED_DEALLOC,
    ProblemLog,
)
from heapgui.trace.records import RecordBuffer, Records
from heapgui.trace.stats import Statistics

logger = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024


class Cancelled(HeapguiError):
    """The user stopped a load; nothing was changed."""


@dataclass
class Trace:
    """A decoded trace with its statistics and everything that went wrong in it."""

    source: str
    format: str
    records: Records
    stats: Statistics
    problems: ProblemLog = field(default_factory=ProblemLog)

    @property
    def skipped_bytes(self) -> int:
        return self.problems.total("skipped_bytes")

    def hints(self) -> list[str]:
        """Plain-language explanations for the banner and the CLI."""
        hints = [p.describe() for p in self.problems]
        if self.problems.shows_firmware_quirk() and self.format == "framed":
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
    """Decode a trace file chunk by chunk; `progress` gets the fraction read."""
    path = Path(path)
    if path.is_dir():
        raise HeapguiError(f"{path}: is a directory, expected a heap trace file")
    total = path.stat().st_size
    with path.open("rb") as f:
        try:
            name = detect(f.read(DETECT_PREFIX)) if fmt == "auto" else fmt
        except DecodeError as exc:
            raise exc.with_source(str(path)) from None
        f.seek(0)
        decoder = make_decoder(name, strict)
        stats = Statistics(heap_size)
        parts = RecordBuffer(total // min(decoder.lengths) + 1)
        # Counting runs on a second thread, one chunk behind decoding: numpy
        # releases the GIL, so the two halves of the work overlap on two cores.
        with ThreadPoolExecutor(1, thread_name_prefix="heapgui-stats") as counter:
            counting: Future | None = None

            def take(records: Records) -> None:
                nonlocal counting
                parts.append(records)  # on this thread: counting is the longer half
                if counting is not None:
                    counting.result()
                counting = counter.submit(stats.update, records)

            try:
                done = 0
                # A decoder that works in pieces gets them straight from the file, uncopied.
                size = decoder.piece or CHUNK
                while chunk := f.read(size):
                    if cancelled is not None and cancelled():
                        raise Cancelled(f"{path}: loading cancelled")
                    take(decoder.feed(chunk))
                    done += len(chunk)
                    if progress is not None:
                        progress(done / total if total else 1.0)
                take(decoder.finish())
                if counting is not None:
                    counting.result()
            except DecodeError as exc:
                raise exc.with_source(str(path)) from None
    trace = Trace(str(path), name, parts.records(), stats)
    trace.problems.merge(decoder.problems)
    trace.problems.merge(stats.problems)
    if strict:
        _fail_like_drone(trace)
    logger.info("%s: %d %s records", path, len(trace.records), name)
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
