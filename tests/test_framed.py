"""The framed decoder against drone's rules: samples, round trips, nesting, chunks, damage."""

import json
import tracemalloc

import numpy as np
import pytest
from framed_oracle import bounded_reference, decode, words
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.cli import main
from heapgui.errors import DecodeError
from heapgui.trace import framed
from heapgui.trace.framed import MAX_OPEN_FRAMES, encode_framed
from heapgui.trace.problems import DROPPED_FRAMES, INVALID_FRAME, INVALID_SEQUENCE, SKIPPED_BYTES
from heapgui.trace.records import Records

SIZE = st.integers(0, 2**32 - 1)
OP = st.one_of(
    st.tuples(st.sampled_from(["alloc", "dealloc"]), SIZE),
    st.tuples(st.sampled_from(["grow", "shrink"]), SIZE, SIZE),
)


def test_seed_sample(samples):
    records, d = decode((samples / "seed-example.framed").read_bytes())
    expected = json.loads((samples / "seed-example.expected.json").read_text())
    assert len(records) == expected["records"]
    assert records.to_tuples()[:4] == [("alloc", 1), ("alloc", 12), ("alloc", 12), ("alloc", 12)]
    assert list(d.problems) == []


def test_firmware_quirk_sample_decodes_as_drone_does(samples):
    records, _ = decode((samples / "firmware-quirk.framed").read_bytes())
    expected = json.loads((samples / "firmware-quirk.decoded.json").read_text())
    assert [list(op) for op in records.to_tuples()] == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(OP, max_size=60))
def test_encode_then_decode(ops):
    data = encode_framed(Records.from_tuples(ops))
    records, d = decode(data)
    assert records.to_tuples() == [tuple(op) for op in ops]
    lengths = [8 if op[0] in ("alloc", "dealloc") else 12 for op in ops]
    assert records.offset.tolist() == list(np.cumsum([0] + lengths[:-1])) if ops else True
    assert list(d.problems) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(OP, min_size=1, max_size=40), st.data())
def test_nested_records_complete_in_lifo_order(ops, data):
    """An interrupt may emit a whole record between two words of another."""
    nest = data.draw(st.lists(st.booleans(), min_size=len(ops), max_size=len(ops)))
    per_record = [encode_framed(Records.from_tuples([op])) for op in ops]
    stream, order, i = b"", [], 0
    while i < len(ops):
        outer = per_record[i]
        if nest[i] and i + 1 < len(ops):
            stream += outer[:4] + per_record[i + 1] + outer[4:]
            order += [ops[i + 1], ops[i]]
            i += 2
        else:
            stream += outer
            order.append(ops[i])
            i += 1
    records, d = decode(stream)
    assert records.to_tuples() == [tuple(op) for op in order]
    assert list(d.problems) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(OP, max_size=40), st.lists(st.integers(0, 600), max_size=8))
def test_chunked_equals_one_shot(ops, cuts):
    data = encode_framed(Records.from_tuples(ops))
    data = data[:50] + b"\x13\x37\x00" + data[50:]  # some garbage to resync across chunks
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    whole, d1 = decode(data)
    chunked, d2 = decode(data, list(zip(bounds, bounds[1:], strict=False)))
    assert chunked.to_tuples() == whole.to_tuples()
    assert chunked.offset.tolist() == whole.offset.tolist()
    assert [p.to_json() for p in d1.problems] == [p.to_json() for p in d2.problems]


def test_garbage_with_odd_length_is_skipped_and_counted():
    ops = [("alloc", 12), ("alloc", 300), ("dealloc", 12), ("grow", 300, 4096)] * 5
    good = encode_framed(Records.from_tuples(ops))
    # 7 bytes that shift the alignment; no 4 of them read as a valid header word.
    garbage = bytes([0x42, 0x17, 0x99, 0x01, 0x02, 0x03, 0x00])
    records, d = decode(good[:40] + garbage + good[40:])
    assert records.to_tuples() == [tuple(op) for op in ops]
    assert d.skipped_bytes == 7
    (skip,) = [p for p in d.problems if p.kind == SKIPPED_BYTES]
    assert skip.first_offset == 40


def test_strict_mode_names_the_offset():
    good = encode_framed(Records.from_tuples([("alloc", 8), ("alloc", 16)]))
    with pytest.raises(DecodeError) as err:
        decode(good[:8] + b"\xff\xff\xff\xff" + good[8:], strict=True)
    assert err.value.offset == 8
    assert "frame header" in str(err.value)


def test_orphan_continuation_and_bad_padding():
    data = words((0xA2, 5), (0xA1, 0), (0xA2, 0x010005), (0xD1, 0), (0xD2, 7))
    records, d = decode(data)
    # A2 without A1 is an invalid sequence; A1 then A2 with non-zero padding is an
    # invalid frame that consumes the open frame (as drone's parser pops first).
    assert records.to_tuples() == [("dealloc", 7)]
    kinds = {p.kind: p.first_offset for p in d.problems}
    assert kinds == {INVALID_SEQUENCE: 0, INVALID_FRAME: 8}
    with pytest.raises(DecodeError) as err:
        decode(data, strict=True)
    assert err.value.offset == 0


def test_grow_without_middle_word_is_an_invalid_sequence():
    data = words((0xB1, 0), (0xB3, 0x0010), (0xA1, 0), (0xA2, 4))
    records, d = decode(data)
    assert records.to_tuples() == [("alloc", 4)]
    assert [p.kind for p in d.problems] == [INVALID_SEQUENCE]


def test_trailing_partial_word_and_open_frame_are_not_errors():
    data = encode_framed(Records.from_tuples([("alloc", 8)]))
    records, d = decode(data + words((0xB1, 0), (0xB2, 0)) + b"\x55\xce")
    assert records.to_tuples() == [("alloc", 8)]
    assert list(d.problems) == []


def test_quirk_encoding_loses_bits_8_to_23():
    ops = [("alloc", 1024), ("alloc", 300), ("grow", 300, 600)]
    records, _ = decode(encode_framed(Records.from_tuples(ops), quirk=True))
    assert records.to_tuples() == [("alloc", 0), ("alloc", 44), ("grow", 44, 600)]


# --- unclosed frames ----------------------------------------------------------------------


def test_a_flood_of_unclosed_frames_is_bounded_and_reported():
    """100 MB of A1 words once took 4.8 GB and reported nothing."""
    flood = 200_000
    data = words(*[(0xA1, i & 0xFFFF) for i in range(flood)])
    tail = encode_framed(Records.from_tuples([("alloc", 12), ("dealloc", 12)]))
    chunks = [(at, at + (1 << 16)) for at in range(0, len(data + tail), 1 << 16)]
    tracemalloc.start()
    try:
        records, d = decode(data + tail, chunks)  # as a live capture feeds it
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert records.to_tuples() == [("alloc", 12), ("dealloc", 12)]
    (dropped,) = [p for p in d.problems if p.kind == DROPPED_FRAMES]
    assert dropped.count == flood - MAX_OPEN_FRAMES
    assert dropped.first_offset == 0
    assert "frames" in dropped.describe()
    # A chunk's word arrays take a few MB; 200 000 open frames took over 30 MB.
    assert peak < 8 << 20


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0xA1, 0xA2, 0xD1, 0xD2, 0xB1, 0xB2, 0xB3]), max_size=80),
    st.lists(st.integers(0, 400), max_size=6),
)
def test_bounded_stacks_match_the_reference_in_any_chunks(headers, cuts):
    payload = [0 if h in (0xA2, 0xD2) else 7 for h in headers]
    data = words(*zip(headers, payload, strict=True))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(framed, "MAX_OPEN_FRAMES", 3)
        expected, dropped = bounded_reference(data, 3)
        bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
        for chunks in (None, list(zip(bounds, bounds[1:], strict=False))):
            records, d = decode(data, chunks)
            assert records.to_tuples() == expected
            assert d.problems.total(DROPPED_FRAMES) == len(dropped)
            if dropped:
                (problem,) = [p for p in d.problems if p.kind == DROPPED_FRAMES]
                assert problem.first_offset == min(dropped)


def test_dropped_frames_are_printed_with_the_other_problems(tmp_path, capsys):
    """What `heapgui-cli stats` prints (and the GUI's problem banner shows)."""
    path = tmp_path / "flood.framed"
    flood = words(*[(0xA1, 0)] * (MAX_OPEN_FRAMES + 10))
    path.write_bytes(encode_framed(Records.from_tuples([("alloc", 12)])) + flood)
    assert main(["stats", "-f", str(path), "--format", "framed", "-s", "1K"]) == 0
    out = capsys.readouterr().out
    assert "Problem: 10 unclosed frames dropped" in out
    assert "first at byte offset 8" in out
