"""Streaming (issue 14): chunk after chunk gives what the whole array gives, for any cuts."""

import argparse
import errno
import io
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.cli import main
from heapgui.commands.common import load_set
from heapgui.layout import class_stream
from heapgui.layout.class_stream import ClassEventSpool
from heapgui.layout.plan import range_peaks, whole_demand
from heapgui.layout.pool_replay import replay
from heapgui.layout.pools import Pool
from heapgui.layout.replay_stream import ReplayStream
from heapgui.layout.timeline import RangePeaks, _ClassEvents, timeline_partition
from heapgui.trace import load as load_module
from heapgui.trace.formats import make_decoder
from heapgui.trace.framed import encode_framed
from heapgui.trace.legacy import encode_legacy
from heapgui.trace.load import read_trace, stream_trace
from heapgui.trace.records import Records
from heapgui.trace.tagged import encode_tagged
from heapgui.trace.traceset import TraceSet
from heapgui.trace.workload import workload

SIZE = st.sampled_from([0, 1, 3, 4, 5, 8, 12, 16, 17, 32])
OP = st.one_of(
    st.tuples(st.sampled_from(["alloc", "alloc", "alloc", "dealloc", "dealloc"]), SIZE),
    st.tuples(st.sampled_from(["grow", "shrink"]), SIZE, SIZE),
)
POOLS = st.lists(
    st.builds(Pool, st.sampled_from([4, 8, 12, 16, 24]), st.integers(0, 4)), max_size=5
)
CUTS = st.lists(st.integers(0, 80), max_size=6)


def pieces(records: Records, cuts: list[int]) -> list[Records]:
    bounds = sorted({0, len(records), *(c for c in cuts if c <= len(records))})
    return [records.slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


def replay_figures(r) -> dict:
    return {
        "holds": r.holds,
        "failures": [(f.record, f.size, f.time) for f in r.failures()],
        "pool_peak": r.pool_peak.tolist(),
        "pool_peak_record": r.pool_peak_record.tolist(),
        "pool_overflow": r.pool_overflow.tolist(),
        "peak": (r.peak_bytes, r.peak_requested, r.peak_record),
        "unmatched": r.unmatched,
        "skipped": r.skipped,
    }


def streamed_replay(records: Records, pools: list[Pool], cuts: list[int], keep=None):
    stream = ReplayStream(pools, keep)
    for part in pieces(records, cuts):
        stream.feed(part)
    return stream.result()


@settings(max_examples=300, deadline=None)
@given(st.lists(OP, max_size=80), POOLS, CUTS)
def test_streamed_replay_equals_the_whole_replay(ops, pools, cuts):
    records = Records.from_tuples(ops, first_index=7)
    whole = replay(records, pools)
    streamed = streamed_replay(records, pools, cuts)
    assert replay_figures(streamed) == replay_figures(whole)
    assert streamed.failure_count == len(whole.failed_event)


@pytest.mark.parametrize("seed", range(3))
def test_streamed_replay_of_a_tight_layout_in_uneven_chunks(seed):
    """Overflowed blocks still live at the cuts: their pools must carry over."""
    records = workload(
        5000, seed=seed, sizes=np.array([4, 8, 12, 16, 24, 32], np.uint32), mean_life=30.0
    )
    pools = [Pool(4, 6), Pool(8, 3), Pool(16, 5), Pool(32, 4)]
    rng = np.random.default_rng(seed)
    cuts = rng.integers(0, len(records), 40).tolist()
    whole = replay(records, pools)
    streamed = streamed_replay(records, pools, cuts, keep=5)
    expected = replay_figures(whole)
    expected["failures"] = expected["failures"][:5]
    assert replay_figures(streamed) == expected
    assert whole.overflows > 0 and streamed.failure_count == len(whole.failed_event) > 5


def _summary(trace):
    stats = trace.stats
    return {
        "format": trace.format,
        "count": trace.record_count,
        "rows": [(r.size, r.max_load, r.total, r.live) for r in stats.rows()],
        "peak": (stats.peak_usage, stats.peak_record, stats.in_use),
        "problems": [p.to_json() for p in trace.problems],
        "bytes": trace.bytes_read,
    }


ENCODERS = {"framed": encode_framed, "legacy": encode_legacy, "tagged": encode_tagged}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(ENCODERS)), st.integers(1, 4096), st.integers(0, 3))
def test_streaming_a_damaged_file_in_any_reads_equals_reading_it_whole(
    tmp_path_factory, fmt, read_size, damage
):
    """Streamed with reads of any size (records straddle them), the statistics, the
    problems and their offsets equal those of the file read whole."""
    data = bytearray(ENCODERS[fmt](workload(2000, seed=damage)))
    rng = np.random.default_rng(damage)
    for at in rng.integers(0, len(data), damage * 3).tolist():
        data[at] ^= 0x5A
    path = tmp_path_factory.mktemp("stream") / "trace"
    path.write_bytes(bytes(data))
    whole = read_trace(path, fmt, heap_size=4096)
    decoder = type(make_decoder(fmt))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(decoder, "piece", read_size)  # a decoder with pieces is read piece by piece
        seen: list[Records] = []
        streamed = stream_trace(path, fmt, heap_size=4096, consumers=[seen.append])
    assert streamed.records is None
    assert _summary(streamed) == _summary(whole)
    joined = Records.concat(seen)
    assert joined.to_tuples() == whole.records.to_tuples()
    assert joined.offset.tolist() == whole.records.offset.tolist()


HEAPS = st.sampled_from([None, 4, 11, 16, 1 << 20])
WIDE = st.sampled_from([0, 1, 3, 4, 5, 8, 12, 16, 17, 32, 70000])
WIDE_OP = st.one_of(
    st.tuples(st.sampled_from(["alloc", "alloc", "alloc", "dealloc", "dealloc"]), WIDE),
    st.tuples(st.sampled_from(["grow", "shrink"]), WIDE, WIDE),
)


def spooled(spool: ClassEventSpool, records: Records, cuts: list[int], heap_size):
    for part in pieces(records, cuts):
        spool(part)
    return spool.events(heap_size)


@settings(max_examples=300, deadline=None)
@given(st.lists(WIDE_OP, max_size=80), CUTS, HEAPS, st.integers(1, 9), st.integers(0, 5))
def test_spooled_class_events_answer_as_the_in_memory_ones(ops, cuts, heap, read, count):
    records = Records.from_tuples(ops)
    whole = _ClassEvents(records, heap)
    with pytest.MonkeyPatch.context() as mp, ClassEventSpool() as spool:
        mp.setattr(class_stream, "READ_EVENTS", read)  # events straddle the reads
        streamed = spooled(spool, records, cuts, heap)
        assert streamed.aligned.tolist() == np.unique(whole.aligned).tolist()
        classes = np.unique(whole.aligned)
        n = len(classes)
        whole.bind(classes)
        streamed.bind(classes)
        assert streamed.class_peak.tolist() == whole.class_peak.tolist()
        assert streamed.class_peak_at.tolist() == whole.class_peak_at.tolist()
        assert sorted(set(streamed.busiest(classes, count).tolist())) == sorted(
            set(whole.busiest(classes, count).tolist())
        )
        moments = np.arange(len(whole.step), dtype=np.int64)[::-1]
        assert (streamed.live_at(moments, n) == whole.live_at(moments, n)).all()
        ranges = [(i, j) for i in range(n) for j in range(i, n)]
        assert streamed.range_peaks(ranges) == whole.range_peaks(ranges)


@pytest.mark.parametrize("pools", [1, 3, 8])
def test_timeline_layout_of_a_spooled_trace_equals_the_in_memory_one(samples, pools):
    trace = read_trace(samples / "workload-40k.framed", heap_size=1 << 20)
    cuts = np.random.default_rng(pools).integers(0, trace.record_count, 30).tolist()
    whole = RangePeaks([trace.records], 1 << 20)
    part_whole = timeline_partition(whole, pools)
    with ClassEventSpool() as spool:
        streamed = RangePeaks([spooled(spool, trace.records, cuts, 1 << 20)], 1 << 20)
        part_streamed = timeline_partition(streamed, pools)
    assert part_streamed == part_whole
    assert (streamed.lower == whole.lower).all() and streamed.evaluated == whole.evaluated


# ---- the commands -----------------------------------------------------------------------


def test_commands_never_hold_the_records(samples, monkeypatch, capsys):
    """stats, generate (both methods) and validate stream the trace: the columns that
    hold a whole trace are never made."""

    def refuse(*args):
        raise AssertionError("a command kept the whole trace in memory")

    monkeypatch.setattr(load_module, "RecordBuffer", refuse)
    trace = samples / "workload-40k.framed"
    for argv in (
        ["stats", "-s", "64K", "-f", trace],
        ["generate", "-s", "64K", "-p", "4", "-f", trace],
        ["generate", "-s", "64K", "-p", "4", "--method", "timeline", "-f", trace],
        ["validate", "-s", "64K", "--pools", "4:300,128:100,1K:30", "-f", trace, "-f", trace],
    ):
        assert main([str(a) for a in argv]) in (0, 1), capsys.readouterr().err
    capsys.readouterr()


def _args(paths, heap):
    return argparse.Namespace(file=[str(p) for p in paths], format="auto", strict=False, size=heap)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(WIDE_OP, max_size=60), min_size=1, max_size=3), POOLS, HEAPS)
def test_streamed_sets_give_the_in_memory_demand_peaks_and_replays(
    tmp_path_factory, traces, pools, heap
):
    """A set with allocations larger than the heap: the demand counted whole, the timeline
    range peaks and the replays agree with the set read into memory."""
    heap = heap or 1 << 20
    folder = tmp_path_factory.mktemp("set")
    paths = []
    for k, ops in enumerate(traces):
        paths.append(folder / f"{k}.tagged")
        paths[-1].write_bytes(encode_tagged(Records.from_tuples(ops)))
    replays: list[ReplayStream] = []

    def replay_as_read():
        replays.append(ReplayStream(pools))
        return [replays[-1].feed]

    streamed = load_set(_args(paths, heap), heap, spool=True, per_trace=replay_as_read)
    in_memory = TraceSet.read(paths, "tagged", heap_size=heap)
    assert [t.record_count for t in streamed.traces] == [len(t.records) for t in in_memory.traces]
    whole_s, whole_m = whole_demand(streamed), whole_demand(in_memory)
    assert whole_s.max_loads() == whole_m.max_loads()
    peaks_s, peaks_m = range_peaks(whole_s), range_peaks(whole_m)
    assert peaks_s.classes.tolist() == peaks_m.classes.tolist()
    assert (peaks_s.matrix() == peaks_m.matrix()).all()
    for stream, trace in zip(replays, in_memory.traces, strict=True):
        assert replay_figures(stream.result()) == replay_figures(replay(trace.records, pools))


def test_a_full_disk_under_the_spool_is_one_line_naming_the_temporary_folder(
    samples, monkeypatch, capsys
):
    """The timeline layout's events go to a temporary file: when it cannot be written,
    the error says so, not that the trace cannot be read."""

    class FullDisk(io.BytesIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(class_stream.tempfile, "TemporaryFile", lambda **_: FullDisk())
    trace = samples / "workload-40k.framed"
    code = main(["generate", "-s", "64K", "-p", "4", "--method", "timeline", "-f", str(trace)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("heapgui-cli: error: ") and "cannot read" not in err
    assert "No space left on device" in err and "TMPDIR" in err
