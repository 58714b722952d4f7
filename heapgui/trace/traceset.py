"""Several captures of one firmware (boot, radio burst, idle) treated as one workload.

A layout for the set must hold every capture, so per-size figures combine by
taking the maximum over the captures; the side-by-side difference of two
captures is for the GUI's comparison table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from heapgui.errors import HeapguiError
from heapgui.trace.load import Trace, read_trace
from heapgui.trace.stats import Statistics

logger = logging.getLogger(__name__)


@dataclass
class TraceSet:
    """Named traces; names are the file names, made unique with their paths."""

    names: list[str]
    traces: list[Trace]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.traces):
            raise ValueError("one name per trace")

    @classmethod
    def of(cls, traces: Sequence[Trace]) -> TraceSet:
        names = [Path(t.source).name for t in traces]
        if len(set(names)) != len(names):
            names = [t.source for t in traces]
        return cls(names, list(traces))

    @classmethod
    def read(
        cls,
        paths: Sequence[str | Path],
        fmt: str = "auto",
        strict: bool = False,
        heap_size: int | None = None,
    ) -> TraceSet:
        if not paths:
            raise HeapguiError("no trace files given")
        return cls.of([read_trace(p, fmt, strict, heap_size) for p in paths])

    def __len__(self) -> int:
        return len(self.traces)

    def __iter__(self) -> Iterator[tuple[str, Trace]]:
        return iter(zip(self.names, self.traces, strict=True))

    def max_loads(self) -> list[tuple[int, int]]:
        """(size, largest max load in any capture), ascending: the set's drone demand rows."""
        best: dict[int, int] = {}
        for trace in self.traces:
            for row in trace.stats.rows():
                best[row.size] = max(best.get(row.size, 0), row.max_load)
        return sorted(best.items())


@dataclass(frozen=True)
class SizeDifference:
    size: int
    max_a: int
    max_b: int

    @property
    def delta(self) -> int:
        return self.max_b - self.max_a


def size_difference(a: Statistics, b: Statistics) -> list[SizeDifference]:
    """Per size, the max load in capture a and in capture b (0 where a size is absent)."""
    loads_a = {r.size: r.max_load for r in a.rows()}
    loads_b = {r.size: r.max_load for r in b.rows()}
    return [
        SizeDifference(size, loads_a.get(size, 0), loads_b.get(size, 0))
        for size in sorted(loads_a.keys() | loads_b.keys())
    ]
