"""The workspace's record range: the one conversion to half-open windows, and the layout's
demand over a range, against tests/range_oracle.py."""

from __future__ import annotations

import numpy as np
import pytest
from range_oracle import brute_window

from heapgui.trace.load import Trace
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet
from heapgui.trace.workload import workload
from heapgui.workspace import Workspace
from heapgui.workspace.window import command_line_range, positions

HEAP = 4096


def trace_of(ops: list[tuple], heap_limit: int | None = HEAP) -> Trace:
    records = Records.from_tuples(ops)
    return Trace("t.framed", "framed", records, Statistics.of(records, heap_limit))


@pytest.fixture(scope="module")
def ops() -> list[tuple]:
    ops = workload(3000, seed=11).to_tuples()
    ops[100] = ("alloc", 10_000)  # larger than the heap: the table leaves it out, a layout not
    return ops


def test_both_ends_are_included_and_clipped_to_the_trace():
    records = Records.from_tuples([("alloc", 8)] * 10)
    assert positions((2, 5), records) == (2, 6)
    assert positions((0, 0), records) == (0, 1)
    assert positions((7, 50), records) == (7, 10)
    assert positions((20, 30), records) == (10, 10)
    assert command_line_range((2, 5), records) == "2:6"
    later = Records.from_tuples([("alloc", 8)] * 10, first_index=100)
    assert positions((102, 105), later) == (2, 6)


@pytest.mark.parametrize("chosen", [(0, 2999), (500, 1499), (1200, 1200), (2990, 2999)])
def test_the_range_statistics_are_a_loop_over_the_records(ops, chosen):
    ws = Workspace()
    ws.open(TraceSet(["t"], [trace_of(ops)]), [])
    ws.select_range(chosen)
    first, last = chosen
    stats = ws.windows.statistics(ws.trace, ws.range)
    oracle = brute_window(ops, HEAP, first, last + 1)
    assert [(r.size, r.max_load, r.total, r.live) for r in stats.rows()] == oracle["rows"]
    assert (stats.peak_usage, stats.peak_record) == (oracle["peak"], oracle["peak_record"])


def test_the_layout_demand_covers_the_range_with_every_allocation(ops):
    ws = Workspace()
    set_ = TraceSet(["a", "b"], [trace_of(ops), trace_of(ops[::-1][:2000])])
    ws.open(set_, [])
    assert ws.demand_traces() is set_  # no range: the whole set
    ws.select_range((50, 1599))
    demand = ws.demand_traces()
    assert demand.names == ["a", "b"]
    for trace, source in zip(demand.traces, set_.traces, strict=True):
        source_ops = source.records.to_tuples()
        oracle = brute_window(source_ops, None, 50, 1600)
        max_loads = {size: most for size, most, _, _ in oracle["rows"]}
        assert {r.size: r.max_load for r in trace.stats.rows()} == max_loads
        assert 10_000 in max_loads or trace is demand.traces[1]
        # The records: what was live at the start as allocations, then the range's own.
        live_at_start = brute_window(source_ops, None, 50, 50)["rows"]
        starting = sorted(size for size, count, _, _ in live_at_start for _ in range(count))
        kept = trace.records.to_tuples()
        assert sorted(op[1] for op in kept[: len(starting)]) == starting
        assert kept[len(starting) :] == source_ops[50:1600]
        assert trace.records.first_index + len(starting) == 50  # the range keeps its numbers
        # Replayed as a trace of its own, they peak where the range does.
        assert int(np.max(Statistics.of(trace.records).timeline)) == oracle["peak"]


def test_opening_another_set_forgets_the_indexes(ops):
    ws = Workspace()
    ws.open(TraceSet(["t"], [trace_of(ops)]), [])
    ws.select_range((0, 10))
    ws.windows.statistics(ws.trace, ws.range)
    old = ws.trace
    assert ws.windows.get(old) is not None
    ws.open(TraceSet(["t"], [trace_of(ops[:500])]), [])
    assert ws.range is None and ws.windows.get(old) is None
