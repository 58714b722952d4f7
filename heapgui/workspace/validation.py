"""Replaying every trace of a set against one layout, and saying what happened in words.

Qt-free: the GUI runs `validate_traces` in a background task and shows the
result; the words come from heapgui.report, so the GUI and `heapgui-cli validate`
report the same figures.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from heapgui.layout.pool_replay import Replay, replay
from heapgui.layout.pools import Pool
from heapgui.report import failure_line, replay_notes, unread
from heapgui.sizes import format_bytes
from heapgui.trace.curves import timeline_x
from heapgui.trace.load import Cancelled, Trace
from heapgui.trace.traceset import TraceSet
from heapgui.workspace.loading import IsCancelled, Progress

logger = logging.getLogger(__name__)

SHOWN_FAILURES = 5
"""Failures listed per trace; all of them are marked on the load chart."""

Series = tuple[np.ndarray, np.ndarray]


def occupancy_steps(occupancy: np.ndarray, x: np.ndarray) -> Series:
    """The points where a per-record count changes (and the last record), for a step curve.

    A pool changes at a fraction of the records, so the step curve keeps the
    exact shape with far fewer points than one per record.
    """
    if not len(occupancy):
        return x[:0], occupancy[:0]
    keep = np.empty(len(occupancy), bool)
    keep[0] = True
    np.not_equal(occupancy[1:], occupancy[:-1], out=keep[1:])
    keep[-1] = True
    at = np.flatnonzero(keep)
    return x[at], occupancy[at].astype(np.int32)


@dataclass(frozen=True)
class TraceCheck:
    """One trace's replay, with each pool's occupancy as step series for the chart."""

    name: str
    trace: Trace
    result: Replay
    occupancy: list[Series]

    @property
    def failure_count(self) -> int:
        return len(self.result.failed_event)


@dataclass(frozen=True)
class Validation:
    source: str
    heap_size: int
    pools: tuple[Pool, ...]
    checks: list[TraceCheck]
    warning: str = ""
    """What is wrong with the layout without making the replay meaningless (see
    heapgui.layout.pools.pools_against_heap)."""

    @property
    def holds(self) -> bool:
        return all(c.result.holds for c in self.checks)

    @property
    def failure_count(self) -> int:
        return sum(c.failure_count for c in self.checks)

    def check_of(self, trace: Trace | None) -> TraceCheck | None:
        return next((c for c in self.checks if c.trace is trace), None)


PROGRESS_STEP = 0.01
"""The least progress a validation reports at a time."""


def validate_traces(
    traces: TraceSet,
    source: str,
    heap_size: int,
    pools: Sequence[Pool],
    progress: Progress,
    cancelled: IsCancelled,
    warning: str = "",
) -> Validation:
    """The job: replay each trace as `heapgui-cli validate` does."""
    checks = []
    said = [0.0]  # the last share said: a hundred steps are enough for a progress bar
    for done, (name, trace) in enumerate(traces):

        def replayed(fraction: float, done: int = done) -> None:
            # The replay is nearly all of the work: its progress is the job's, and a
            # cancel stops it between windows instead of after a long trace.
            if cancelled():
                raise Cancelled("validation cancelled")
            share = (done + fraction) / len(traces)
            if share - said[0] >= PROGRESS_STEP:
                said[0] = share
                progress(share)

        result = replay(trace.records, pools, replayed)
        x = timeline_x(trace.records)
        occupancy = [occupancy_steps(result.occupancy(k), x) for k in range(len(result.pools))]
        checks.append(TraceCheck(name, trace, result, occupancy))
        progress((done + 1) / len(traces))
    return Validation(source, heap_size, tuple(pools), checks, warning)


def verdict(validation: Validation) -> str:
    """One line over the whole set, e.g. "Fails: 12 allocations find no free block"."""
    where = f"{validation.source}, heap {format_bytes(validation.heap_size)}"
    warning = f" ⚠ {validation.warning}." if validation.warning else ""
    count = len(validation.checks)
    if validation.holds:
        what = validation.checks[0].name if count == 1 else f"all {count} traces"
        return f"✔ Holds: every allocation of {what} finds a free block ({where}).{warning}"
    failing = sum(1 for c in validation.checks if not c.result.holds)
    among = "" if count == 1 else f" in {failing} of {count} traces"
    noun = "allocation finds" if validation.failure_count == 1 else "allocations find"
    return f"✘ Fails: {validation.failure_count:,} {noun} no free block{among} ({where}).{warning}"


def _thousands(number: int) -> str:
    return f"{number:,}"


def details_html(check: TraceCheck, marked: int | None = None) -> str:
    """The trace's failures (the first few), overflows, peak and waste, as rich text.

    `marked` is how many failures the load chart marks, when it is not all of them.
    """
    result = check.result
    name = html.escape(check.name)
    lines = []
    if result.holds:
        lines.append(f"<b>{name}</b>: holds.")
    else:
        count = check.failure_count
        lines.append(f"<b>{name}</b>: {count:,} failed allocation{'s' if count != 1 else ''}:")
        lines += [
            f"&nbsp;&nbsp;• {failure_line(f, _thousands)}" for f in result.failures(SHOWN_FAILURES)
        ]
        more = count - SHOWN_FAILURES
        chart = "all marked on the load chart"
        if marked is not None and marked < count:
            chart = f"the first {marked:,} marked on the load chart"
        lines.append(f"… and {more:,} more ({chart})." if more > 0 else f"({chart})")
    lines += [f"{note}." for note in replay_notes(result, _thousands)]
    missing = unread(check.trace, _thousands)
    if missing:
        lines.append(f"⚠ {missing}: the verdict covers only the rest (see the problems banner).")
    return "<br>".join(lines)


def failed_records(check: TraceCheck | None, limit: int) -> np.ndarray:
    """Record numbers of the first `limit` failed allocations (empty without a check)."""
    if check is None:
        return np.empty(0, np.int64)
    return check.result.failed_record[:limit]
