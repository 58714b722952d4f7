"""A layout's verdict in words, for the layout panel's summary line and the compare view."""

from __future__ import annotations

from heapgui.layout.verdict import Verdict
from heapgui.report import bytes_of_heap, counted
from heapgui.sizes import format_bytes, format_count

CHECKING = "checking…"


def fragmentation_words(verdict: Verdict) -> str:
    if verdict.fragmentation is None:
        return "— (a traced size has no block)"
    if not verdict.heap_size:
        return format_bytes(verdict.fragmentation)
    return bytes_of_heap(verdict.fragmentation, verdict.heap_size)


def reserved_words(verdict: Verdict) -> str:
    share = verdict.reserved / verdict.heap_size * 100 if verdict.heap_size else 0.0
    over = f", {format_bytes(verdict.over_heap)} over the heap" if verdict.over_heap else ""
    return (
        f"{format_bytes(verdict.reserved)} ({share:.2f}% of {format_bytes(verdict.heap_size)})"
        f"{over}"
    )


def first_failure_words(verdict: Verdict, several: bool) -> str:
    """E.g. "record 1,234 (48 B) of boot.framed"; "" when nothing failed."""
    first = verdict.first_failure
    if first is None:
        return ""
    where = f" of {first.name}" if several else ""
    return (
        f"record {format_count(first.failure.record)} ({format_bytes(first.failure.size)}){where}"
    )


def holds_words(verdict: Verdict, several: bool) -> str:
    """✔ Holds / ✘ Fails, with the first failure or why."""
    if verdict.holds:
        return "✔ Holds"
    reasons = []
    if verdict.failures:
        verb = "finds" if verdict.failures == 1 else "find"
        first = first_failure_words(verdict, several)
        failed = counted(verdict.failures, "allocation", format_count)
        reasons.append(f"{failed} {verb} no free block, the first at {first}")
    if verdict.over_heap:
        reasons.append(f"the pools take {format_bytes(verdict.over_heap)} more than the heap")
    return "✘ Fails: " + "; ".join(reasons)


def summary(verdict: Verdict, several: bool) -> str:
    """The panel's one line: verdict, overflows, and how it was found."""
    how = "by replay" if verdict.replayed else "no pool can fill"
    traces = "every trace" if several else "the trace"
    return (
        f"{holds_words(verdict, several)} ({traces}, {how}); "
        f"overflows into larger pools: {format_count(verdict.overflows)}"
    )


def write_question(verdict: Verdict | None, several: bool) -> str | None:
    """What to ask before writing an edited layout; None when it holds (nothing to ask)."""
    if verdict is None:
        return "The edited layout has not been checked against the traces yet. Write it anyway?"
    if verdict.holds:
        return None
    reason = holds_words(verdict, several).removeprefix("✘ Fails: ")
    return f"The edited layout does not hold: {reason}.\n\nWrite it anyway?"
