"""Tolerant `tagged` decoding follows drone's chain and judges doubts only around trouble.

The reference is the evidence-based path alone, which judges every byte
(`ChainDecoder._decode_buffer`, measured against the truth in
tests/test_tagged_resync.py): the shortcut must decode exactly as it does,
whatever the damage, the sizes and the chunks, and must not judge the bytes
of a clean trace.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from heapgui.trace import tagged
from heapgui.trace.records import Records
from heapgui.trace.tagged import TaggedDecoder, encode_tagged
from heapgui.trace.varlen import ChainDecoder
from heapgui.trace.workload import workload


class EvidenceEverywhere(TaggedDecoder):
    """Every buffer judged byte by byte, as before the shortcut."""

    _decode_buffer = ChainDecoder._decode_buffer


def decode(decoder: TaggedDecoder, data: bytes, cuts=()) -> tuple:
    bounds = [0, *cuts, len(data)]
    parts = [decoder.feed(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    parts.append(decoder.finish())
    records = Records.concat(parts)
    return (
        records.to_tuples(),
        records.offset.tolist(),
        [p.to_json() for p in decoder.problems],
        decoder.record_bytes,
        decoder.consumed,
    )


def doubtful_trace(rng: random.Random, count: int, every: int = 200, burst: int = 8) -> Records:
    """A workload with runs of 256-byte-multiple allocations (up to `burst` long) and
    sizes of 16 MiB or more, inserted at count / `every` places."""
    ops = workload(count, seed=rng.randrange(1000)).to_tuples()
    for _ in range(count // every):
        at = rng.randrange(len(ops))
        if rng.random() < 0.7:
            size = rng.choice([256, 512, 768, 1024, 2048, 0x10002, 0x0300])
            ops[at:at] = [("alloc", size)] * rng.randrange(1, burst)
        else:
            big = rng.choice([1 << 24, 0x7FFFFFFF, 0xFFFFFFFF])
            ops[at:at] = [rng.choice([("alloc", big), ("grow", 16, big), ("dealloc", big)])]
    return Records.from_tuples(ops)


def damaged(rng: random.Random, data: bytes, points: int) -> bytes:
    out = bytearray(data)
    for _ in range(points):
        at = rng.randrange(len(out))
        action = rng.randrange(4)
        if action == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif action == 1:
            out[at:at] = rng.randbytes(rng.randrange(1, 4))
        elif action == 2:
            del out[at : at + rng.randrange(1, 4)]
        else:
            out[at:at] = rng.randbytes(rng.randrange(20, 300))  # garbage
    return bytes(out)


@pytest.mark.parametrize("span", [tagged.EVIDENCE_SPAN, 600, 3000])
def test_shortcut_decodes_as_judging_every_byte(span):
    rng = random.Random(span)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tagged, "EVIDENCE_SPAN", span)  # small spans: many hand-overs
        for case in range(12):
            data = encode_tagged(doubtful_trace(rng, rng.choice([300, 3000, 12000])))
            data = damaged(rng, data, rng.choice([0, 1, 3, 12]))
            cuts = sorted(rng.sample(range(1, len(data)), rng.randrange(0, 6)))
            expected = decode(EvidenceEverywhere(), data)
            assert decode(TaggedDecoder(), data) == expected, case
            assert decode(TaggedDecoder(), data, cuts) == expected, case


def test_dense_corruption_decodes_as_judging_every_byte():
    rng = random.Random(5)
    ops = workload(6000, seed=5)
    data = bytearray()
    for i, record in enumerate(encode_records(ops)):
        data += record
        if i % 3 == 2:
            data += b"\xff" + rng.randbytes(2) + b"\xff"
    data = bytes(data)
    assert decode(TaggedDecoder(), data) == decode(EvidenceEverywhere(), data)


def encode_records(records: Records) -> list[bytes]:
    return [encode_tagged(records.slice(i, i + 1)) for i in range(len(records))]


@pytest.mark.parametrize("cut", range(1, 9))
def test_stream_ending_inside_a_doubted_record(cut):
    """Bytes past the end read as zeros: a record cut there may still be doubted."""
    head = encode_tagged(workload(400, seed=3))
    for last in ([("grow", 0x12345678, 8)], [("alloc", 256)] * 3, [("grow", 8, 1 << 24)]):
        data = head + encode_tagged(Records.from_tuples(last))
        data = data[: len(data) - cut]
        assert decode(TaggedDecoder(), data) == decode(EvidenceEverywhere(), data)


def judged_bytes(data: bytes, patch: pytest.MonkeyPatch) -> int:
    """Bytes the decoder ran the per-byte doubt pass over."""
    judged = [0]
    codes = TaggedDecoder._codes

    def counting(self, data, final):
        judged[0] += data.size
        return codes(self, data, final)

    patch.setattr(TaggedDecoder, "_codes", counting)
    decode(TaggedDecoder(), data)
    return judged[0]


def test_clean_trace_pays_nothing_for_resync():
    """A clean trace, with the doubted records of short bursts of buffer allocations
    and sizes of 16 MiB or more, is not judged byte by byte; a damage point costs
    one span of judging, not the whole trace. (Bursts of five or more such
    allocations are left to the evidence.)"""
    rng = random.Random(2)
    records = doubtful_trace(rng, 400_000, every=2000, burst=5)  # about 2 MB
    half = len(records) // 2
    first, second = (
        encode_tagged(records.slice(0, half)),
        encode_tagged(records.slice(half, len(records))),
    )
    # A doubted record in the last few hundred bytes waits for the end of the stream.
    second += encode_tagged(Records.from_tuples([("dealloc", 4)] * 100))
    with pytest.MonkeyPatch.context() as patch:
        assert judged_bytes(first + second, patch) == 0
        assert 0 < judged_bytes(first + b"\x07" + second, patch) <= 2 * tagged.EVIDENCE_SPAN


def test_doubt_at_positions_is_the_byte_pass():
    """`_doubted_at` judges a record from its own bytes as the pass over all bytes does."""
    rng = np.random.default_rng(4)
    # Bytes biased to zeros and small values, so that every kind of doubt occurs.
    data = rng.choice([0, 0, 0, 1, 2, 3, 0x80, 0xFF], 5000).astype(np.uint8)
    positions = np.flatnonzero(data < 4)
    expected = tagged.doubted_as_corrupt(data)[positions] == tagged.NOT_A_TAG
    assert expected.any() and not expected.all()
    assert (tagged._doubted_at(data, positions) == expected).all()
