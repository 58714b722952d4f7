"""follow_chain against a plain record-by-record loop over the same lengths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heapgui.trace import chain
from heapgui.trace.chain import DEAD, follow_chain

MAX_LENGTH = 9


def step_for(lengths: np.ndarray):
    """A step over a table of record lengths (0: no record starts there)."""
    table = np.where(lengths > 0, lengths, DEAD).astype(np.int64)
    return lambda pos: pos + table.take(pos, mode="clip")


def resync_for(lengths: np.ndarray, give_up_after: int | None = None):
    """Resume at the next position holding a record, or give up after some position."""

    def resync(dead: int) -> int | None:
        if give_up_after is not None and dead >= give_up_after:
            return None
        later = np.flatnonzero(lengths[dead + 1 :])
        return dead + 1 + int(later[0]) if later.size else len(lengths)

    return resync


def naive(lengths: np.ndarray, start: int, stop: int, resync) -> tuple[list[int], int, list]:
    """The definition: one record at a time."""
    starts, jumps, pos = [], [], start
    while pos < stop:
        if lengths[pos] == 0:
            resumed = resync(pos)
            if resumed is None:
                return starts, pos, jumps
            jumps.append((pos, resumed))
            pos = resumed
            continue
        starts.append(pos)
        pos += int(lengths[pos])
    return starts, pos, jumps


def check(lengths: np.ndarray, start: int = 0, stop: int | None = None, give_up=None) -> None:
    stop = len(lengths) if stop is None else stop
    expected = naive(lengths, start, stop, resync_for(lengths, give_up))
    got = follow_chain(step_for(lengths), start, stop, MAX_LENGTH, resync_for(lengths, give_up))
    assert got.starts.tolist() == expected[0]
    assert got.end == expected[1]
    assert got.jumps == expected[2]


@pytest.fixture
def small_blocks(monkeypatch):
    """Shrink the thresholds so that small inputs take the lockstep path, in several pieces."""
    monkeypatch.setattr(chain, "WALK_BYTES", 64)
    monkeypatch.setattr(chain, "PIECE_BYTES", 3001)
    monkeypatch.setattr(chain, "PROBE_STEPS", 4)


def random_lengths(rng: np.random.Generator, size: int, corrupt: float) -> np.ndarray:
    lengths = rng.choice([5, 9], size)
    lengths[rng.random(size) < corrupt] = 0
    return lengths


@pytest.mark.parametrize("corrupt", [0.0, 0.01, 0.3])
def test_random_lengths_match_the_definition(small_blocks, corrupt: float) -> None:
    rng = np.random.default_rng(7)
    for size in (0, 1, 10, 100, 2000, 9000):
        check(random_lengths(rng, size, corrupt))


def test_periodic_data_where_phases_never_merge(small_blocks) -> None:
    # Every fifth byte starts a 5-byte record and so do the bytes two to four
    # after it: chains out of phase stay out of phase for ever.
    lengths = np.tile([5, 0, 5, 5, 5], 3000)
    check(lengths)
    check(lengths, start=2)
    check(lengths, start=1)


def test_default_parameters_on_a_large_input() -> None:
    rng = np.random.default_rng(3)
    lengths = random_lengths(rng, 300_000, 0.0001)
    lengths[150_000:150_400] = 0  # a corrupt stretch
    check(lengths)


def test_give_up_stops_the_chain_at_the_dead_end(small_blocks) -> None:
    rng = np.random.default_rng(5)
    lengths = random_lengths(rng, 6000, 0.002)
    first_dead = naive(lengths, 0, 6000, resync_for(lengths))[2][0][0]
    check(lengths, give_up=0)
    check(lengths, give_up=first_dead + 1)
    assert follow_chain(step_for(lengths), 0, 6000, 9, lambda d: None).end == first_dead


def test_partial_last_record_ends_beyond_stop(small_blocks) -> None:
    lengths = np.full(1000, 9)
    got = follow_chain(step_for(lengths), 0, 1000, MAX_LENGTH, resync_for(lengths))
    assert got.starts.tolist() == list(range(0, 1000, 9))
    assert got.end == 1008


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pattern=st.lists(st.sampled_from([0, 1, 2, 3, 5, 9]), min_size=1, max_size=40),
    repeats=st.integers(1, 300),
    noise=st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 9)), max_size=20),
    start=st.integers(0, 20),
)
def test_hypothesis_patterns_match_the_definition(small_blocks, pattern, repeats, noise, start):
    lengths = np.tile(np.array(pattern), repeats)
    for where, value in noise:
        if where < lengths.size:
            lengths[where] = value
    check(lengths, start=min(start, lengths.size))
