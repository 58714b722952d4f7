"""A raw SWO capture opened as a file keeps its time axis: every record is dated by the
local timestamp after its last byte, as the live capture dated it.

The reference is the encoder's own tick for every byte it wrote (`dated_stream`) and the
framed record lengths (two words, three for grow and shrink), not the demultiplexer or the
decoder under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from capture_runs import dated_stream

from heapgui.capture.itm_encode import ItmEncoder
from heapgui.trace.framed import encode_framed
from heapgui.trace.workload import workload
from heapgui.workspace.loading import load_trace

FRAMED_WORDS = {0: 2, 1: 2, 2: 3, 3: 3}  # alloc, dealloc, grow, shrink


def never() -> bool:
    return False


def ignore(_fraction: float) -> None:
    pass


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_record_gets_the_tick_after_its_last_byte(tmp_path: Path, seed: int):
    records = workload(3000, seed=seed, mean_life=40.0)
    data = encode_framed(records)
    swo, byte_ticks = dated_stream(data, seed)
    path = tmp_path / "capture.swo"
    path.write_bytes(swo)

    trace = load_trace(path, ignore, never).trace

    ends = np.cumsum([4 * FRAMED_WORDS[int(kind)] for kind in records.kind])
    assert ends[-1] == len(data)
    assert trace.records.timestamp is not None
    assert trace.records.timestamp.tolist() == byte_ticks[ends - 1].tolist()
    assert trace.records.to_tuples() == records.to_tuples()


def test_a_stream_without_timestamps_stays_on_records(tmp_path: Path):
    records = workload(500, seed=4)
    path = tmp_path / "capture.swo"
    path.write_bytes(ItmEncoder().stimulus(31, encode_framed(records), 4))
    trace = load_trace(path, ignore, never).trace
    assert trace.records.timestamp is None
    assert len(trace.records) == len(records)


def test_the_sample_capture_reopens_with_the_time_the_capture_had(samples: Path):
    """capture.swo holds local timestamps: the reopened trace is timed, in order."""
    trace = load_trace(samples / "capture.swo", ignore, never).trace
    stamps = trace.records.timestamp
    assert stamps is not None and len(stamps) == len(trace.records)
    assert np.all(np.diff(stamps) >= 0) and stamps[-1] > stamps[0]
