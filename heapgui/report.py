"""The words and numbers both front ends print: one wording for the CLI and the window.

Qt-free and above the core: it reads statistics, replays and layouts and turns
them into text and JSON, so `heapgui-cli` and the GUI say the same thing the
same way. Nothing here decides anything; it only writes down what the core found.
"""

from __future__ import annotations

from collections.abc import Callable

from heapgui.layout.plan import MinimumHeaps
from heapgui.layout.pool_replay import Failure, Replay
from heapgui.layout.replay_stream import ReplaySummary
from heapgui.sizes import KIB, MIB, format_bytes
from heapgui.trace.load import Trace
from heapgui.trace.window import WindowStatistics

DEFAULT_TRACE = "heaptrace"
"""The file name drone's recipes capture to, and what every front end reads by default."""

Number = Callable[[int], str]
Result = Replay | ReplaySummary


def bytes_of_heap(part: int, heap: int) -> str:
    """A byte figure with its share of the heap: "34,868 B (53.20%)", drone's two decimals."""
    return f"{format_bytes(part)} ({part / heap * 100.0:.2f}%)"


def counted(count: int, noun: str, number: Number = str) -> str:
    """A count and its noun, singular for one: "1 allocation", "2 allocations"."""
    return f"{number(count)} {noun}{'' if count == 1 else 's'}"


def percent(part: int, whole: int) -> str:
    """`used / percent%` with two decimals, as drone prints it."""
    return f"{part} / {part / whole * 100.0:.2f}%"


def human(size: int) -> str:
    """Bytes as everywhere (`format_bytes`), with a rounded figure for reading at a glance."""
    if size >= MIB:
        return f"{format_bytes(size)} ({size / MIB:.1f} MiB)"
    if size >= KIB:
        return f"{format_bytes(size)} ({size / KIB:.1f} KiB)"
    return format_bytes(size)


def comparison(heaps: MinimumHeaps, what: str = "this trace") -> str:
    return (
        f"in {counted(heaps.pools, 'pool')}, {what} needs {human(heaps.timeline)} with the "
        f"timeline layout; the drone-style layout reserves {human(heaps.drone)} "
        f"(timeline/drone {heaps.ratio * 100:.1f}%)"
    )


# -- a trace -------------------------------------------------------------------


def problems_json(trace: Trace) -> dict:
    """What went wrong in a trace, for every JSON report."""
    return {
        "skipped_bytes": trace.skipped_bytes,
        "problems": [p.to_json() for p in trace.problems],
        "firmware_quirk": trace.firmware_quirk,
    }


def as_json(trace: Trace, heap_size: int | None) -> dict:
    """A trace's statistics as `heapgui-cli stats --json` prints them and File ▸ Export saves."""
    stats = trace.stats
    return {
        "format": trace.format,
        "heap_size": heap_size,
        "records": trace.record_count,
        "sizes": [{"size": r.size, "max_load": r.max_load, "total": r.total} for r in stats.rows()],
        "max_usage": stats.max_usage,
        "peak_usage": stats.peak_usage,
        "peak_record": stats.peak_record,
        **problems_json(trace),
    }


def window_json(trace: Trace) -> dict:
    """The record range a trace's statistics cover, if any (half-open, as `--range A:B`)."""
    stats = trace.stats
    if not isinstance(stats, WindowStatistics):
        return {}
    return {"range": {"start": stats.start, "stop": stats.stop}}


def unread(trace: Trace, number: Number = str) -> str:
    """What a verdict could not take into account: "" for a trace read whole."""
    if not trace.skipped_bytes:
        return ""
    return f"{format_bytes(trace.skipped_bytes)} of the trace could not be read"


# -- a replay ------------------------------------------------------------------


def failure_line(failure: Failure, number: Number = str) -> str:
    """One failed allocation in words; the GUI passes a `number` with thousands separators."""
    when = f" at time {number(failure.time)}" if failure.time is not None else ""
    return f"record {number(failure.record)}: no free block for {format_bytes(failure.size)}{when}"


def replay_notes(result: Result, number: Number = str) -> list[str]:
    """Overflows, the peak's waste and what was skipped: one sentence each, no full stop."""
    notes = [f"Overflows into a larger pool: {number(result.overflows)}"]
    if result.peak_record >= 0:
        notes.append(
            f"Peak: {human(result.peak_bytes)} in blocks at record {number(result.peak_record)}, "
            f"{format_bytes(result.wasted_at_peak)} of them wasted inside blocks"
        )
    if result.unmatched or result.skipped:
        notes.append(
            f"Skipped: {counted(result.unmatched, 'deallocation', number)} matching no live "
            f"block, {counted(result.skipped, 'zero-size allocation', number)}"
        )
    return notes
