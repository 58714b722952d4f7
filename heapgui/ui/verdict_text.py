"""A layout's verdict in words, for the layout panel's summary line and the compare view."""

from __future__ import annotations

from heapgui.layout.verdict import Verdict

CHECKING = "checking…"


def fragmentation_words(verdict: Verdict) -> str:
    if verdict.fragmentation is None:
        return "— (a traced size has no block)"
    share = verdict.fragmentation / verdict.heap_size * 100 if verdict.heap_size else 0.0
    return f"{verdict.fragmentation:,} / {share:.2f}%"


def reserved_words(verdict: Verdict) -> str:
    share = verdict.reserved / verdict.heap_size * 100 if verdict.heap_size else 0.0
    over = f", {verdict.over_heap:,} bytes over the heap" if verdict.over_heap else ""
    return f"{verdict.reserved:,} bytes ({share:.2f}% of {verdict.heap_size:,}){over}"


def first_failure_words(verdict: Verdict, several: bool) -> str:
    """E.g. "record 1,234 (48 bytes) of boot.framed"; "" when nothing failed."""
    first = verdict.first_failure
    if first is None:
        return ""
    where = f" of {first.name}" if several else ""
    return f"record {first.failure.record:,} ({first.failure.size:,} bytes){where}"


def holds_words(verdict: Verdict, several: bool) -> str:
    """✔ Holds / ✘ Fails, with the first failure or why."""
    if verdict.holds:
        return "✔ Holds"
    reasons = []
    if verdict.failures:
        noun = "allocation finds" if verdict.failures == 1 else "allocations find"
        first = first_failure_words(verdict, several)
        reasons.append(f"{verdict.failures:,} {noun} no free block, the first at {first}")
    if verdict.over_heap:
        reasons.append(f"the pools take {verdict.over_heap:,} bytes more than the heap")
    return "✘ Fails: " + "; ".join(reasons)


def summary(verdict: Verdict, several: bool) -> str:
    """The panel's one line: verdict, overflows, and how it was found."""
    how = "by replay" if verdict.replayed else "no pool can fill"
    traces = "every trace" if several else "the trace"
    return (
        f"{holds_words(verdict, several)} ({traces}, {how}); "
        f"overflows into larger pools: {verdict.overflows:,}"
    )


def write_question(verdict: Verdict | None, several: bool) -> str | None:
    """What to ask before writing an edited layout; None when it holds (nothing to ask)."""
    if verdict is None:
        return "The edited layout has not been checked against the traces yet. Write it anyway?"
    if verdict.holds:
        return None
    reason = holds_words(verdict, several).removeprefix("✘ Fails: ")
    return f"The edited layout does not hold: {reason}.\n\nWrite it anyway?"
