"""The chunked event passes the timeline layout is built from, against plain numpy and loops."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.trace.events import drop_unmatched, stable_order

GROUPS = st.lists(st.integers(0, 5), max_size=60)


@settings(max_examples=200, deadline=None)
@given(GROUPS, st.integers(1, 70))
def test_stable_order_is_a_stable_argsort(groups, chunk):
    values = np.array(groups, np.uint8)
    counts = np.bincount(values, minlength=6)
    order = stable_order(values, counts, chunk)
    assert order.dtype == np.int32
    assert order.tolist() == np.argsort(values, kind="stable").tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.sampled_from([-1, 0, 1])), max_size=60),
    st.integers(1, 70),
)
def test_drop_unmatched_in_chunks_keeps_what_a_loop_keeps(events, chunk):
    """A deallocation with no live block of its size is dropped; the rest count, chunk after
    chunk, with the live counts carried."""
    number = np.array([n for n, _ in events], np.uint16)
    step = np.array([s for _, s in events], np.int8)
    live = np.zeros(4, np.int64)
    for lo in range(0, len(step), chunk):
        drop_unmatched(number[lo : lo + chunk], step[lo : lo + chunk], live)
    expected, count = [], [0, 0, 0, 0]
    for n, s in events:
        if s < 0 and count[n] == 0:
            s = 0
        count[n] += s
        expected.append(s)
    assert step.tolist() == expected
    assert live.tolist() == count
