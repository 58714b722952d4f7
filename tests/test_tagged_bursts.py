"""Clean `tagged` traces with bursts of identical 256-byte-multiple allocations.

Each such record (00 00 k 00 00) looks like a tag moved up into a size, and
one byte later the burst reads as allocations of k: the decoder must still
return exactly the encoded records. The truth is the encoded input.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.trace.records import Records
from heapgui.trace.tagged import TaggedDecoder, encode_tagged

BURST_SIZES = (256, 512, 768, 1024, 65536, 1 << 20)
OTHERS = [("alloc", 24), ("dealloc", 24), ("alloc", 100), ("grow", 24, 48), ("shrink", 48, 8)]


def decode(data: bytes, cuts: list[int]) -> tuple[Records, TaggedDecoder]:
    decoder = TaggedDecoder()
    bounds = [0, *cuts, len(data)]
    parts = [decoder.feed(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    parts.append(decoder.finish())
    return Records.concat(parts), decoder


def fields(records: Records) -> list[tuple]:
    return list(
        zip(records.kind.tolist(), records.size.tolist(), records.new_size.tolist(), strict=True)
    )


def test_the_reported_burst_decodes_exactly():
    truth = Records.from_tuples([("alloc", 256)] * 40)
    records, decoder = decode(encode_tagged(truth), [])
    assert fields(records) == fields(truth)
    assert decoder.skipped_bytes == 0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    size=st.sampled_from(BURST_SIZES),
    count=st.integers(1, 600),
    before=st.integers(0, 20),
    after=st.integers(0, 20),
    frees=st.booleans(),
    seed=st.integers(0, 1 << 16),
)
def test_bursts_decode_exactly_whole_and_in_chunks(size, count, before, after, frees, seed):
    rng = random.Random(seed)
    burst = [("alloc", size)] * count + ([("dealloc", size)] * count if frees else [])
    tuples = [rng.choice(OTHERS) for _ in range(before)] + burst
    tuples += [rng.choice(OTHERS) for _ in range(after)]
    truth = Records.from_tuples(tuples)
    data = encode_tagged(truth)
    chunked = sorted(rng.sample(range(1, len(data)), min(5, len(data) - 1)))
    for cuts in ([], chunked):
        records, decoder = decode(data, cuts)
        assert fields(records) == fields(truth), cuts
        assert decoder.skipped_bytes == 0
