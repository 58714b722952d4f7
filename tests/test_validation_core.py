"""The validation core (heapgui.workspace.validation) without a widget.

The reference is a plain first-fit allocator loop (tests/allocator.py), one
record at a time, independent of the vectorised replay.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from allocator import first_fit

from heapgui.layout.pools import Pool
from heapgui.trace.framed import encode_framed
from heapgui.trace.load import Cancelled, read_trace
from heapgui.trace.records import Records
from heapgui.trace.traceset import TraceSet
from heapgui.workspace.validation import (
    SHOWN_FAILURES,
    details_html,
    failed_records,
    validate_traces,
    verdict,
)

HEAP_64K = 65536
SMALL_LAYOUT = [Pool(64, 100), Pool(2048, 4)]
"""Too small for the workload: 64-byte blocks run out, larger sizes overflow."""


@pytest.fixture(scope="module")
def workload(samples):
    return read_trace(samples / "workload-40k.framed", heap_size=HEAP_64K)


def check(traces: TraceSet, pools: list[Pool], heap: int = HEAP_64K):
    return validate_traces(traces, "Drone.toml [heap main]", heap, pools, lambda _: None, bool)


def per_record(x: np.ndarray, y: np.ndarray, count: int) -> list[int]:
    """A left step curve (value from each x on) as one value per record 0..count-1."""
    at = np.searchsorted(x, np.arange(count), side="right") - 1
    return y[at].astype(np.int64).tolist()


def test_failures_verdict_and_occupancy_follow_the_loop(workload):
    loop = first_fit(workload.records, SMALL_LAYOUT, HEAP_64K)
    assert len(loop.failed) > SHOWN_FAILURES
    validation = check(TraceSet.of([workload]), SMALL_LAYOUT)
    (result,) = validation.checks
    assert not validation.holds and validation.failure_count == len(loop.failed)
    assert failed_records(result, 10**9).tolist() == [record for record, _ in loop.failed]
    assert failed_records(result, 3).tolist() == [record for record, _ in loop.failed[:3]]
    count = len(workload.records)
    for k, (x, y) in enumerate(result.occupancy):
        assert per_record(x, y, count) == loop.occupancy[k]
    line = verdict(validation)
    assert line.startswith(f"✘ Fails: {len(loop.failed):,} allocations find no free block")
    assert "Drone.toml [heap main], heap 65,536 B" in line
    details = details_html(result)
    for record, size in loop.failed[:SHOWN_FAILURES]:
        assert f"record {record:,}: no free block for {size:,} B" in details
    assert f"{len(loop.failed) - SHOWN_FAILURES:,} more" in details


def test_a_layout_that_serves_every_allocation_holds(workload):
    roomy = [Pool(2048, 400)]
    assert first_fit(workload.records, roomy, HEAP_64K).failed == []
    validation = check(TraceSet.of([workload, workload]), roomy, 2048 * 400)
    assert validation.holds and validation.failure_count == 0
    assert verdict(validation).startswith("✔ Holds: every allocation of all 2 traces")
    assert failed_records(validation.checks[0], 10).tolist() == []
    assert failed_records(None, 10).tolist() == []


def test_hand_computed_overflow_and_failure(tmp_path):
    """Two 8-byte blocks and one 16: the third 8 overflows, so a 16 fails until it is freed."""
    ops = [("alloc", 8), ("alloc", 8), ("alloc", 8), ("alloc", 16), ("dealloc", 8), ("alloc", 16)]
    path = tmp_path / "hand.framed"
    path.write_bytes(encode_framed(Records.from_tuples(ops)))
    trace = read_trace(path, heap_size=1024)
    (result,) = check(TraceSet.of([trace]), [Pool(8, 2), Pool(16, 1)], 1024).checks
    assert failed_records(result, 10).tolist() == [3]
    details = details_html(result)
    assert "record 3: no free block for 16 B" in details
    assert "Overflows into a larger pool: 1." in details


def test_a_cancelled_validation_stops(workload):
    with pytest.raises(Cancelled):
        validate_traces(TraceSet.of([workload]), "x", HEAP_64K, SMALL_LAYOUT, print, lambda: True)


def test_the_validation_core_loads_no_qt():
    """It said it was Qt-free, but importing it from heapgui.ui loaded PySide6 and pyqtgraph."""
    code = (
        "import sys, heapgui.workspace.validation, heapgui.workspace.planning; "
        "print(sorted(m for m in ('PySide6', 'pyqtgraph') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_progress_moves_within_one_trace_and_a_cancel_stops_its_replay(workload):
    traces = TraceSet.of([workload])
    seen: list[float] = []
    validate_traces(traces, "x", HEAP_64K, SMALL_LAYOUT, seen.append, lambda: False)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert len([f for f in seen if 0 < f < 1]) >= 3  # it moves while the one trace replays
    asked: list[bool] = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 2  # cancelled while the replay is under way

    with pytest.raises(Cancelled):
        validate_traces(traces, "x", HEAP_64K, SMALL_LAYOUT, lambda f: None, cancelled)
