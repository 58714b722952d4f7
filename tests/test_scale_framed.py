"""The framed decoder's run of adjacent records (issue 14) decodes as drone's rules say.

A clean piece is decoded from its openers alone; the words it cannot vouch for
(a record cut by the piece's ends, nesting, bad padding) go to the stack
machine. Both must give what the word-by-word reference gives, in any chunks.
"""

import pytest
from framed_oracle import bounded_reference, decode, words
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.trace import framed
from heapgui.trace.framed import MAX_OPEN_FRAMES, encode_framed
from heapgui.trace.records import Records

SIZE = st.integers(0, 2**32 - 1)
RECORD = st.one_of(
    st.tuples(st.sampled_from(["alloc", "dealloc"]), SIZE),
    st.tuples(st.sampled_from(["grow", "shrink"]), SIZE, SIZE),
)
# A word out of place: an opener, a continuation, or a closing word with or
# without its zero padding.
STRAY = st.tuples(
    st.sampled_from([0xA1, 0xA2, 0xD1, 0xD2, 0xB1, 0xB2, 0xB3, 0xC1, 0xC2, 0xC3]),
    st.sampled_from([0, 0x12, 0x3400, 0x560000, 0xFFFFFF]),
)
UNITS = st.lists(st.one_of(RECORD, STRAY), max_size=60)
CUTS = st.lists(st.integers(0, 700), max_size=6)


def stream(units) -> bytes:
    return b"".join(
        words(u) if isinstance(u[0], int) else encode_framed(Records.from_tuples([u]))
        for u in units
    )


def figures(data: bytes, chunks) -> tuple:
    records, d = decode(data, chunks)
    problems = [p.to_json() for p in d.problems]
    return records.to_tuples(), records.offset.tolist(), problems, d.record_bytes


@settings(max_examples=300, deadline=None)
@given(UNITS, CUTS)
def test_adjacent_runs_decode_as_the_word_by_word_reference(units, cuts):
    data = stream(units)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    expected, _ = bounded_reference(data, MAX_OPEN_FRAMES)
    fast = figures(data, list(zip(bounds, bounds[1:], strict=False)))
    assert fast[0] == expected
    # The general path alone (the run check always refusing) gives the same offsets,
    # problems and detection score.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(framed, "_adjacent_run", lambda words, header: None)
        general = figures(data, list(zip(bounds, bounds[1:], strict=False)))
    assert fast == general


@pytest.mark.parametrize("cut", [0, 4, 8, 12, 20])
def test_a_record_cut_by_a_piece_completes_in_the_next(cut):
    """A grow cut after any of its words: the piece's run stops before it."""
    ops = [("alloc", 12), ("grow", 300, 70000), ("dealloc", 12), ("alloc", 5)]
    data = encode_framed(Records.from_tuples(ops))
    at = 8 + cut
    records, d = decode(data, [(0, at), (at, len(data))])
    assert records.to_tuples() == ops
    assert records.offset.tolist() == [0, 8, 20, 28]
    assert list(d.problems) == []
