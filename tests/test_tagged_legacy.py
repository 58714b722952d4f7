"""The `tagged` and `legacy` decoders and encoders.

The oracle is `reference`, a byte-by-byte decoder written from the format
description, not from the vectorised code.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.errors import DecodeError
from heapgui.trace import chain, varlen
from heapgui.trace.legacy import KEY, LegacyDecoder, encode_legacy
from heapgui.trace.problems import INVALID_VALUE, SKIPPED_BYTES
from heapgui.trace.records import Records
from heapgui.trace.tagged import TaggedDecoder, encode_tagged

LEGACY_HEADERS = {
    b"\xab\xcd": (0, 1),
    b"\xdc\xba": (1, 1),
    b"\xbc\xde": (2, 2),
    b"\xed\xcb": (3, 2),
}
HEADER_LENGTH = {"tagged": 1, "legacy": 2}
FORMATS = ["tagged", "legacy"]


class ReferenceError_(Exception):
    def __init__(self, offset: int) -> None:
        self.offset = offset


def reference(fmt: str, data: bytes, strict: bool = False, big_endian: bool = False):
    """Records as (kind, size, new_size, offset), skips as (offset, count), invalid offsets."""
    n, h = len(data), HEADER_LENGTH[fmt]

    def header(p: int):
        if fmt == "tagged":
            return (data[p], 1 if data[p] < 2 else 2) if data[p] < 4 else None
        return LEGACY_HEADERS.get(data[p : p + 2])

    def plausible(q: int) -> bool:
        p = q
        for _ in range(3):
            if p > n - h:
                return True
            found = header(p)
            if found is None:
                return False
            p += h + 4 * found[1]
        return True

    records, skipped, invalid = [], [], []
    pos = 0
    while pos <= n - h:
        found = header(pos)
        if found is None:
            if strict:
                raise ReferenceError_(pos)
            resume = pos + 1
            while not plausible(resume):
                resume += 1
            skipped.append((pos, resume - pos))
            pos = resume
            continue
        kind, count = found
        length = h + 4 * count
        if pos + length > n:
            break
        order = "big" if big_endian else "little"
        values = [
            int.from_bytes(data[pos + h + 4 * i : pos + h + 4 * i + 4], order) for i in range(count)
        ]
        if fmt == "legacy":
            if 0 in values:
                if strict:
                    raise ReferenceError_(pos)
                invalid.append(pos)
                pos += length
                continue
            values = [v ^ KEY for v in values]
        records.append((kind, values[0], values[1] if count == 2 else 0, pos))
        pos += length
    return records, skipped, invalid


def make_decoder(fmt: str, strict: bool = False, big_endian: bool = False):
    if fmt == "tagged":
        return TaggedDecoder(strict=strict)
    return LegacyDecoder(strict=strict, big_endian=big_endian)


def encode(fmt: str, records: Records, big_endian: bool = False) -> bytes:
    return encode_tagged(records) if fmt == "tagged" else encode_legacy(records, big_endian)


def decode(fmt: str, data: bytes, cuts=(), strict=False, big_endian=False):
    """Feed `data` split at `cuts`; return (records as tuples, problems, record bytes)."""
    decoder = make_decoder(fmt, strict, big_endian)
    bounds = [0, *sorted(cuts), len(data)]
    parts = [decoder.feed(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    parts.append(decoder.finish())
    index = 0
    for part in parts:
        assert part.first_index == index
        index += len(part)
    records = Records.concat(parts)
    rows = list(
        zip(
            records.kind.tolist(),
            records.size.tolist(),
            records.new_size.tolist(),
            records.offset.tolist(),
            strict=True,
        )
    )
    problems = [(p.kind, p.count, p.first_offset) for p in decoder.problems]
    assert decoder.consumed == len(data)
    return rows, problems, decoder.record_bytes


def expected_problems(skipped, invalid) -> list:
    found = []
    if skipped:
        found.append((SKIPPED_BYTES, sum(c for _, c in skipped), skipped[0][0]))
    if invalid:
        found.append((INVALID_VALUE, len(invalid), invalid[0]))
    return sorted(found, key=lambda p: (p[2], p[0]))


def record_length(fmt: str, kind: int) -> int:
    return HEADER_LENGTH[fmt] + (8 if kind >= 2 else 4)


def check_against_reference(fmt: str, data: bytes, cuts=(), big_endian=False) -> None:
    """Tolerant and strict decoding against the reference.

    Tolerant `tagged` decoding doubts records read out of phase and resyncs by
    evidence (tests/test_tagged_resync.py measures it against the truth); here
    it must still account for every byte and decode the same in any chunks.
    """
    records, skipped, invalid = reference(fmt, data, big_endian=big_endian)
    rows, problems, record_bytes = decode(fmt, data, cuts, big_endian=big_endian)
    if fmt == "tagged":
        assert (rows, problems, record_bytes) == decode(fmt, data, big_endian=big_endian)
        assert record_bytes == sum(record_length(fmt, r[0]) for r in rows)
        ends = [r[3] + record_length(fmt, r[0]) for r in rows]
        assert all(end <= r[3] for end, r in zip(ends, rows[1:], strict=False))
        skipped_bytes = sum(count for kind, count, _ in problems if kind == SKIPPED_BYTES)
        tail = len(data) - record_bytes - skipped_bytes  # a record the data ends inside
        assert 0 <= tail < 9 and (not tail or data[len(data) - tail] < 4)
    else:
        assert rows == records
        assert problems == expected_problems(skipped, invalid)
        assert record_bytes == sum(record_length(fmt, r[0]) for r in records)
    try:
        reference(fmt, data, strict=True, big_endian=big_endian)
        failure = None
    except ReferenceError_ as err:
        failure = err.offset
    if failure is None:
        assert decode(fmt, data, cuts, strict=True, big_endian=big_endian)[0] == records
    else:
        with pytest.raises(DecodeError) as raised:
            decode(fmt, data, cuts, strict=True, big_endian=big_endian)
        assert raised.value.offset == failure


# --- the seed samples ---------------------------------------------------------------------


def size_statistics(records: list[tuple]) -> dict[int, tuple[int, int]]:
    """Per size: (max load, total allocations), grow/shrink as dealloc(old) + alloc(new)."""
    current: dict[int, int] = defaultdict(int)
    peak: dict[int, int] = defaultdict(int)
    total: dict[int, int] = defaultdict(int)
    for kind, size, new_size, _ in records:
        frees, allocs = {0: ([], [size]), 1: ([size], [])}.get(kind, ([size], [new_size]))
        for s in frees:
            current[s] -= 1
        for s in allocs:
            current[s] += 1
            total[s] += 1
            peak[s] = max(peak[s], current[s])
    return {s: (peak[s], total[s]) for s in total}


def test_seed_samples_decode_to_the_seed_operations(samples) -> None:
    expected = json.loads((samples / "seed-example.expected.json").read_text())
    decoded = {}
    for fmt in FORMATS:
        data = (samples / f"seed-example.{fmt}").read_bytes()
        rows, problems, record_bytes = decode(fmt, data)
        assert problems == []
        assert record_bytes == len(data)
        assert rows == reference(fmt, data)[0]
        decoded[fmt] = [row[:3] for row in rows]
    assert decoded["tagged"] == decoded["legacy"]
    assert len(decoded["tagged"]) == expected["records"]
    stats = size_statistics([(*row, 0) for row in decoded["tagged"]])
    assert stats == {s["size"]: (s["max_load"], s["total"]) for s in expected["sizes"]}


def test_seed_samples_in_small_chunks(samples) -> None:
    for fmt in FORMATS:
        data = (samples / f"seed-example.{fmt}").read_bytes()
        assert decode(fmt, data, cuts=range(1, len(data), 3)) == decode(fmt, data)


# --- round trips --------------------------------------------------------------------------

sizes = st.one_of(st.integers(0, 300), st.integers(0, 2**32 - 1))
record_tuples = st.lists(st.tuples(st.integers(0, 3), sizes, sizes), max_size=60)


def to_records(items: list[tuple[int, int, int]]) -> Records:
    kind = [k for k, _, _ in items]
    new_size = [n if k >= 2 else 0 for k, _, n in items]
    return Records.build(kind, [s for _, s, _ in items], new_size, np.zeros(len(items)))


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=80, deadline=None)
@given(items=record_tuples, cuts=st.lists(st.integers(0, 600), max_size=8), big=st.booleans())
def test_encode_then_decode_gives_the_records_back(fmt, items, cuts, big) -> None:
    if fmt == "legacy":
        items = [(k, s, n) for k, s, n in items if KEY not in (s, n)]
    big = big and fmt == "legacy"
    records = to_records(items)
    data = encode(fmt, records, big)
    lengths = [record_length(fmt, k) for k, _, _ in items]
    offsets = np.cumsum([0, *lengths])[:-1].tolist()
    expected = [(k, s, n if k >= 2 else 0, o) for (k, s, n), o in zip(items, offsets, strict=True)]
    assert decode(fmt, data, strict=True, big_endian=big)[0] == expected  # drone's reading
    if fmt == "tagged" and any(max(s, n) >= DOUBTED_SIZE for _, s, n in items):
        # The tolerant reading doubts sizes of 16 MiB and more by design (no Drone heap is
        # that large): three in a row read as corruption. Checked on its own below.
        return
    rows, problems, record_bytes = decode(fmt, data, big_endian=big)
    assert rows == expected
    assert problems == []
    assert record_bytes == len(data) == sum(lengths)
    in_chunks = [c for c in cuts if c < len(data)]
    assert decode(fmt, data, in_chunks, big_endian=big) == (rows, problems, record_bytes)


DOUBTED_SIZE = 1 << 24
"""The tagged tolerant decoder doubts a size whose high byte is set (see heapgui.trace.tagged)."""


def test_three_impossible_sizes_in_a_row_read_as_corruption_unless_strict() -> None:
    """Found by the round trip above: 16 MiB allocations, three in a row, then zeros,
    read shifted by 3 bytes as allocations of 1. It is the documented doubt, said as a
    problem (never silently), and strict mode reads what drone reads."""
    items = [(0, 0, 0)] + [(0, DOUBTED_SIZE, 0)] * 3 + [(0, 0, 0)] * 20
    data = encode("tagged", to_records(items))
    strict_rows = decode("tagged", data, strict=True)[0]
    assert [size for _, size, _, _ in strict_rows] == [s for _, s, _ in items]
    rows, problems, _ = decode("tagged", data)
    assert problems  # the tolerant reading says that it skipped bytes
    assert DOUBTED_SIZE not in [size for _, size, _, _ in rows]


def test_big_endian_legacy_differs_from_little_endian() -> None:
    records = to_records([(0, 12, 0), (2, 12, 40), (1, 40, 0)])
    data = encode_legacy(records, big_endian=True)
    assert data[:6] == bytes.fromhex("abcd") + (12 ^ KEY).to_bytes(4, "big")
    assert decode("legacy", data, big_endian=True)[0] == [
        (0, 12, 0, 0),
        (2, 12, 40, 6),
        (1, 40, 0, 16),
    ]
    assert decode("legacy", data)[0][0][1] != 12


def test_encoders_refuse_what_the_format_cannot_hold() -> None:
    with pytest.raises(ValueError):
        encode_tagged(Records.build([4], [1], [0], [0]))
    with pytest.raises(ValueError):
        encode_legacy(Records.build([0], [KEY], [0], [0]))
    with pytest.raises(ValueError):
        encode_legacy(Records.build([2], [1], [KEY], [0]))
    assert encode_tagged(Records.empty()) == b"" == encode_legacy(Records.empty())


# --- corruption ---------------------------------------------------------------------------


def workload(count: int, seed: int) -> Records:
    rng = np.random.default_rng(seed)
    kind = rng.choice(4, count, p=[0.4, 0.4, 0.1, 0.1])
    size = rng.choice([1, 12, 28, 32, 128, 1024, 70000], count)
    return Records.build(kind, size, np.where(kind >= 2, size * 2, 0), np.zeros(count))


# Bytes that cannot start a record in either format.
GARBAGE = bytes(range(0x40, 0x80))


@pytest.mark.parametrize("fmt", FORMATS)
def test_garbage_in_the_middle_is_skipped_and_counted(fmt) -> None:
    records = workload(3000, seed=1)
    clean = encode(fmt, records)
    lengths = [record_length(fmt, k) for k in records.kind.tolist()]
    where = sum(lengths[:1500])  # a record boundary
    data = clean[:where] + GARBAGE + clean[where:]
    rows, problems, _ = decode(fmt, data)
    assert problems == [(SKIPPED_BYTES, len(GARBAGE), where)]
    assert [r[:3] for r in rows] == [r[:3] for r in decode(fmt, clean)[0]]
    assert rows[1500][3] == where + len(GARBAGE)
    with pytest.raises(DecodeError, match=f"offset {where}: expected") as raised:
        decode(fmt, data, strict=True)
    assert raised.value.offset == where
    check_against_reference(fmt, data, cuts=[where + 5, where + 30])


@pytest.mark.parametrize("fmt", FORMATS)
def test_garbage_that_looks_like_one_record_does_not_end_the_skip(fmt) -> None:
    records = workload(50, seed=2)
    clean = encode(fmt, records)
    where = sum(record_length(fmt, k) for k in records.kind.tolist()[:3])
    lone = encode(fmt, to_records([(0, 5, 0)]))  # one valid record inside garbage
    junk = GARBAGE[:7] + lone + GARBAGE
    rows, problems, _ = decode(fmt, clean[:where] + junk + clean[where:])
    assert problems == [(SKIPPED_BYTES, len(junk), where)]
    assert len(rows) == 50
    check_against_reference(fmt, clean[:where] + junk + clean[where:])


@pytest.mark.parametrize("fmt", FORMATS)
def test_long_garbage_fed_in_small_chunks_equals_one_shot(fmt) -> None:
    clean = encode(fmt, workload(400, seed=3))
    rng = random.Random(4)
    data = clean[:300] + bytes(rng.choice(GARBAGE) for _ in range(5000)) + clean[300:]
    cuts = range(7, len(data), 7)
    assert decode(fmt, data, cuts) == decode(fmt, data)
    check_against_reference(fmt, data, cuts=range(0, len(data), 1013))


@pytest.mark.parametrize("fmt", FORMATS)
def test_trailing_partial_record_is_not_an_error(fmt) -> None:
    records = workload(100, seed=5)
    data = encode(fmt, records)
    for cut in range(1, record_length(fmt, int(records.kind[-1]))):
        rows, problems, _ = decode(fmt, data[:-cut])
        assert problems == []
        assert len(rows) == 99
        assert decode(fmt, data[:-cut], strict=True)[0] == rows


def test_legacy_zero_value_is_dropped_and_counted() -> None:
    records = to_records([(0, 12, 0), (0, 7, 0), (2, 12, 40), (1, 12, 0), (3, 40, 8), (1, 8, 0)])
    data = bytearray(encode_legacy(records))
    data[8:12] = bytes(4)  # alloc(7) stores 0
    data[34:38] = bytes(4)  # the new size of shrink(40, 8) stores 0
    rows, problems, record_bytes = decode("legacy", bytes(data))
    assert rows == [(0, 12, 0, 0), (2, 12, 40, 12), (1, 12, 0, 22), (1, 8, 0, 38)]
    assert problems == [(INVALID_VALUE, 2, 6)]
    assert record_bytes == 6 + 10 + 6 + 6
    with pytest.raises(DecodeError, match="offset 6: expected a non-zero stored value"):
        decode("legacy", bytes(data), strict=True)
    check_against_reference("legacy", bytes(data), cuts=[3, 9, 30])


def test_strict_error_names_the_header_found() -> None:
    one = to_records([(0, 1, 0)])
    with pytest.raises(DecodeError, match=r"offset 5: expected a record tag 0-3, found 0x07"):
        decode("tagged", encode_tagged(one) + bytes([7, 0, 0, 0, 0]), strict=True)
    with pytest.raises(DecodeError, match=r"offset 6: expected one of the legacy .* 0xABCE"):
        decode("legacy", encode_legacy(one) + bytes([0xAB, 0xCE, 0, 0, 0, 0]), strict=True)


# --- fuzzing ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=5))
def test_random_bytes_decode_like_the_reference(fmt, data, cuts) -> None:
    check_against_reference(fmt, data, [c for c in cuts if c <= len(data)])


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=150, deadline=None)
@given(
    items=record_tuples,
    edits=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.integers(0, 2)), max_size=6
    ),
    cuts=st.lists(st.integers(0, 600), max_size=5),
)
def test_mutated_traces_decode_like_the_reference(fmt, items, edits, cuts) -> None:
    """Overwrite, insert or delete bytes in a valid trace."""
    if fmt == "legacy":
        items = [(k, s, n) for k, s, n in items if KEY not in (s, n)]
    data = bytearray(encode(fmt, to_records(items)))
    for where, value, action in edits:
        at = where % (len(data) + 1)
        if action == 0 and at < len(data):
            data[at] = value
        elif action == 1:
            data[at:at] = bytes([value]) * (1 + value % 13)
        else:
            del data[at : at + 1 + value % 7]
    data = bytes(data)
    cuts = [c for c in cuts if c <= len(data)]
    check_against_reference(fmt, data, cuts)
    with pytest.MonkeyPatch.context() as patch:  # the vectorised path, on small inputs
        patch.setattr(chain, "WALK_BYTES", 16)
        patch.setattr(chain, "PIECE_BYTES", 211)
        patch.setattr(chain, "PROBE_STEPS", 2)
        check_against_reference(fmt, data, cuts)


def test_large_mutated_trace_takes_the_vectorised_path() -> None:
    """Big enough for blocks and pieces; corruption scattered through it."""
    rng = random.Random(8)
    for fmt in FORMATS:
        data = bytearray(encode(fmt, workload(40_000, seed=9)))
        for _ in range(40):
            at = rng.randrange(len(data))
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(6)))
            data[at : at + rng.randrange(3)] = junk
        data = bytes(data)
        check_against_reference(fmt, data, cuts=[len(data) // 3, len(data) // 3 + 1])


def densely_corrupt(fmt: str, count: int, seed: int) -> bytes:
    """A bad 4-byte word (starting FF FF, which opens no record) after every third record."""
    records = workload(count, seed)
    rng = random.Random(seed)
    data, at = bytearray(), 0
    clean = encode(fmt, records)
    for i, kind in enumerate(records.kind.tolist()):
        length = record_length(fmt, kind)
        data += clean[at : at + length]
        at += length
        if i % 3 == 2:
            data += b"\xff\xff" + rng.randbytes(2)
    return bytes(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_dense_corruption_decodes_as_one_resync_at_a_time(fmt) -> None:
    """Past DENSE_JUMPS jumps, resync points come from a table: the same ones."""
    data = densely_corrupt(fmt, 3000, seed=11)
    table_driven = decode(fmt, data)
    assert len(table_driven[0]) >= 2900
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(varlen, "DENSE_JUMPS", 10**9)
        assert decode(fmt, data) == table_driven
    assert decode(fmt, data, cuts=range(997, len(data), 997)) == table_driven
    check_against_reference(fmt, data, cuts=[len(data) // 2])
