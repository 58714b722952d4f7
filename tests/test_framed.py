"""The framed decoder against drone's rules: samples, round trips, nesting, chunks, damage."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.errors import DecodeError
from heapgui.trace.framed import KEY, FramedDecoder, encode_framed
from heapgui.trace.problems import INVALID_FRAME, INVALID_SEQUENCE, SKIPPED_BYTES
from heapgui.trace.records import Records

SIZE = st.integers(0, 2**32 - 1)
OP = st.one_of(
    st.tuples(st.sampled_from(["alloc", "dealloc"]), SIZE),
    st.tuples(st.sampled_from(["grow", "shrink"]), SIZE, SIZE),
)


def decode(data: bytes, chunks=None, strict=False):
    d = FramedDecoder(strict=strict)
    parts = [d.feed(data[a:b]) for a, b in chunks] if chunks else [d.feed(data)]
    parts.append(d.finish())
    return Records.concat(parts), d


def words(*pairs) -> bytes:
    """Raw words from (header, 24-bit payload), keyed like the firmware does."""
    return b"".join((((h << 24) | p) ^ KEY).to_bytes(4, "little") for h, p in pairs)


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
