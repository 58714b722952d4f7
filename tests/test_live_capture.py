"""The live capture's data path without Qt: batches with statistics, the record buffer.

The statistics are counted once, in the capture worker; every batch carries
what they are after it. They are checked against a plain loop (`brute_stats`)
over the records that arrived so far, never against heapgui's own counting.
"""

from __future__ import annotations

import numpy as np
from oracles import brute_stats

from heapgui.capture.byte_source import SourceEnded
from heapgui.capture.itm_encode import ItmEncoder
from heapgui.capture.session import CaptureSession, capture_batches
from heapgui.trace.framed import encode_framed
from heapgui.trace.records import RecordBuffer, Records
from heapgui.trace.stats import Statistics
from heapgui.trace.workload import workload
from heapgui.workspace.live import LiveTrace


class Chunks:
    """SWO bytes in memory, `piece` bytes a read, then the source ends."""

    name = "chunks"

    def __init__(self, data: bytes, piece: int) -> None:
        self.data, self.piece, self.at = data, piece, 0

    def open(self) -> None:
        pass

    def read(self) -> bytes:
        if self.at >= len(self.data):
            raise SourceEnded(self.name)
        chunk = self.data[self.at : self.at + self.piece]
        self.at += len(chunk)
        return chunk

    def close(self) -> None:
        pass


def rows(stats: Statistics) -> list[tuple]:
    return [(r.size, r.max_load, r.total, r.live) for r in stats.rows()]


def captured(tmp_path, records: Records, piece: int = 700, heap_size: int | None = None):
    swo = ItmEncoder().stimulus(31, encode_framed(records), 4)
    session = CaptureSession(Chunks(swo, piece), tmp_path / "heaptrace", None, heap_size)
    session.start()
    return session, list(capture_batches(session, lambda: False, interval=0, keep=True))


def test_every_batch_carries_the_statistics_after_it(tmp_path):
    records = workload(3000, seed=5)
    ops = records.to_tuples()
    session, batches = captured(tmp_path, records, heap_size=4096)
    assert len(batches) > 5 and batches[-1].finished
    assert not any(batch.finished for batch in batches[:-1])
    seen = 0
    for batch in batches:  # checked after the whole capture: no snapshot changed later
        seen += len(batch.records)
        expected = brute_stats(ops[:seen], heap_size=4096)
        assert rows(batch.stats) == expected["rows"]
        assert batch.stats.records == seen
        assert batch.stats.peak_usage == expected["peak"]
        assert batch.stats.peak_record == expected["peak_record"]
    assert seen == len(records)
    # The last batch hands over the closed session's own statistics, timeline and all.
    final = batches[-1].stats
    assert final is session.stats
    assert final.timeline.tolist() == brute_stats(ops, heap_size=4096)["timeline"]


def test_batches_merge_polls_until_the_interval_has_passed(tmp_path):
    records = workload(2000, seed=6)
    swo = ItmEncoder().stimulus(31, encode_framed(records), 4)
    session = CaptureSession(Chunks(swo, 500), tmp_path / "heaptrace")
    session.start()
    now = [0.0]

    def clock() -> float:
        now[0] += 0.01  # each poll takes 10 ms
        return now[0]

    batches = list(capture_batches(session, lambda: False, interval=0.045, clock=clock))
    polls = -(-len(swo) // 500) + 1  # the last poll finds the end
    assert len(batches) < polls / 3
    assert Records.concat([b.records for b in batches]).to_tuples() == records.to_tuples()


def test_stopping_ends_with_a_summary(tmp_path):
    records = workload(2000, seed=7)
    swo = ItmEncoder().stimulus(31, encode_framed(records), 4)
    session = CaptureSession(Chunks(swo, 300), tmp_path / "heaptrace")
    session.start()
    polls = iter(range(3))
    batches = list(capture_batches(session, lambda: next(polls, None) is None, interval=0))
    assert batches[-1].summary is not None and batches[-1].summary.ended == "stopped"
    assert batches[-1].stats is session.stats


def test_a_snapshot_keeps_what_it_was():
    records = workload(4000, seed=8)
    ops = records.to_tuples()
    stats = Statistics.of(records.slice(0, 1500))
    snapshot = stats.snapshot()
    stats.update(records.slice(1500, 4000))
    expected = brute_stats(ops[:1500])
    assert rows(snapshot) == expected["rows"]
    assert snapshot.peak_usage == expected["peak"] and snapshot.records == 1500
    assert rows(stats) == brute_stats(ops)["rows"]  # the original went on


def test_the_record_buffer_doubles_and_leaves_earlier_views_alone():
    records = workload(5000, seed=9)
    records.timestamp = np.arange(len(records), dtype=np.int64) * 3
    buffer = RecordBuffer(16, timed=True)
    views = []
    for start in range(0, len(records), 700):
        buffer.append(records.slice(start, start + 700))
        views.append((len(buffer), buffer.records()))
    for length, view in views:
        assert view.to_tuples() == records.slice(0, length).to_tuples()
        assert view.timestamp.tolist() == records.timestamp[:length].tolist()
    assert len(buffer) == len(records)


def test_a_file_under_4_gib_keeps_offsets_in_32_bits_and_widens_past_them():
    """Offsets below the file's size fit 32 bits; a file that grew past 4 GiB while it was
    read widens the column instead of wrapping an offset."""
    records = workload(300, seed=12)
    buffer = RecordBuffer(1000, stream_bytes=len(records) * 12)
    buffer.append(records)
    assert buffer.records().offset.dtype == np.uint32
    assert buffer.records().offset.tolist() == records.offset.tolist()
    far = records.slice(0, 10)
    far.offset = far.offset + (1 << 32) + 5
    buffer.append(far)
    got = buffer.records().offset
    assert got.dtype == np.int64
    assert got.tolist() == records.offset.tolist() + far.offset.tolist()
    assert RecordBuffer(10, stream_bytes=(1 << 32) + 1).records().offset.dtype == np.int64


def test_the_live_trace_keeps_what_the_worker_counted(tmp_path):
    records = workload(1500, seed=10)  # under the envelope's buckets: every point kept
    session, batches = captured(tmp_path, records)
    live = LiveTrace(tmp_path / "heaptrace")
    for batch in batches:
        live.take(batch)
        assert live.stats is batch.stats  # taken, not counted again
        assert live.records == batch.stats.records
        layout = live.layout_trace()
        assert layout.records.to_tuples() == records.slice(0, live.records).to_tuples()
    trace = live.to_trace()
    assert trace.stats is session.stats
    assert trace.records.to_tuples() == records.to_tuples()
    assert trace.records.timestamp is None  # the stream had no timestamp packets
    x, y = live.load.points()
    assert y.tolist() == brute_stats(records.to_tuples())["timeline"]
    assert x.tolist() == list(range(len(records)))
