"""A SWO capture told `auto` decodes the heap trace in the format its first kilobytes fit."""

from __future__ import annotations

import numpy as np
import pytest
from capture_runs import Pieces, Run, dated_stream, poll_until_finished

from heapgui.capture.session import DETECT, CaptureSession
from heapgui.trace.framed import encode_framed
from heapgui.trace.legacy import encode_legacy
from heapgui.trace.workload import workload

STEPS = {"framed": (8, 8, 12, 12), "legacy": (6, 6, 10, 10)}  # record bytes by kind


@pytest.mark.parametrize(
    ("fmt", "encode", "count"),
    [
        ("legacy", encode_legacy, 3000),
        ("framed", encode_framed, 3000),
        ("legacy", encode_legacy, 40),
    ],
)
def test_auto_decodes_every_record_in_the_format_found(tmp_path, fmt, encode, count):
    records = workload(count, seed=8)
    data = encode(records)
    swo, byte_tick = dated_stream(data, seed=2)
    session = CaptureSession(Pieces(swo, 97), tmp_path / "heaptrace", fmt=DETECT, date_wait=60)
    run = Run()
    session.start()
    first = run.add(session.poll())
    assert first.counters.format == "" and not len(first.records)  # still telling
    final = poll_until_finished(session, run)
    assert final.counters.format == fmt
    assert run.records.to_tuples() == records.to_tuples()
    assert (tmp_path / "heaptrace").read_bytes() == data
    # Held back only from the decoder: dates are still those of the records' last bytes.
    ends = np.cumsum(np.take(STEPS[fmt], records.kind))
    assert run.timestamps.tolist() == byte_tick[ends - 1].tolist()
