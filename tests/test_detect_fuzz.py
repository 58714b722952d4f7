"""Format detection, and fuzzing every decoder: only the project's DecodeError may escape."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heapgui.errors import DecodeError
from heapgui.trace.formats import DETECT_PREFIX, FORMATS, detect, make_decoder
from heapgui.trace.framed import encode_framed
from heapgui.trace.legacy import encode_legacy
from heapgui.trace.load import read_trace
from heapgui.trace.tagged import encode_tagged
from heapgui.trace.workload import workload

ENCODERS = {"framed": encode_framed, "legacy": encode_legacy, "tagged": encode_tagged}


@pytest.mark.parametrize("fmt", FORMATS)
def test_samples_are_detected(samples, fmt):
    assert detect((samples / f"seed-example.{fmt}").read_bytes()) == fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_damaged_capture_is_still_detected(fmt):
    data = bytearray(ENCODERS[fmt](workload(3000, seed=3)))
    rng = random.Random(4)
    for _ in range(10):  # ten bursts of line noise, about 2% of the bytes
        at = rng.randrange(len(data))
        data[at : at + 30] = bytes(rng.randrange(256) for _ in range(30))
    assert detect(bytes(data)) == fmt


def test_empty_file_is_valid_and_empty(tmp_path):
    path = tmp_path / "heaptrace"
    path.write_bytes(b"")
    trace = read_trace(path, heap_size=1024)
    assert len(trace.records) == 0 and list(trace.problems) == []


def test_undetectable_data_names_candidate_and_offset(tmp_path):
    path = tmp_path / "noise"
    path.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(4096)))
    with pytest.raises(DecodeError) as err:
        read_trace(path, heap_size=1024)
    text = str(err.value)
    assert str(path) in text and "offset" in text
    assert any(name in text for name in FORMATS)


MUTATION = st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=12))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FORMATS),
    st.lists(MUTATION, max_size=6),
    st.binary(max_size=64),
    st.integers(0, 300),
)
def test_fuzz_mutated_traces(fmt, mutations, tail, cut):
    data = bytearray(ENCODERS[fmt](workload(60, seed=len(mutations))))
    for at, junk in mutations:
        at %= len(data) + 1
        data[at : at + len(junk)] = junk
    data = bytes(data[cut:]) + tail
    _exercise(data)


@settings(max_examples=120, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data):
    _exercise(data)


def _exercise(data: bytes) -> None:
    try:
        detect(data)
    except DecodeError:
        pass
    for name in FORMATS:
        tolerant = make_decoder(name)
        tolerant.feed(data[: len(data) // 2])
        tolerant.feed(data[len(data) // 2 :])
        tolerant.finish()
        strict = make_decoder(name, strict=True)
        try:
            strict.feed(data)
            strict.finish()
        except DecodeError:
            pass


@pytest.mark.parametrize("fmt", FORMATS)
def test_refused_mostly_valid_trace_says_how_to_force_the_format(tmp_path, fmt):
    """A trace that is 80-90% valid is refused, with the option that reads it anyway."""
    data = bytearray(ENCODERS[fmt](workload(3000, seed=5)))
    rng = random.Random(6)
    for at in range(0, DETECT_PREFIX, 512):  # 64 bytes of noise in every 512
        data[at : at + 64] = bytes(rng.randrange(4, 256) for _ in range(64))
    path = tmp_path / "damaged"
    path.write_bytes(bytes(data))
    with pytest.raises(DecodeError) as err:
        read_trace(path, heap_size=1024)
    text = str(err.value)
    assert f"% {fmt}" in text and f"--format {fmt}" in text
    assert "\n" not in text
    trace = read_trace(path, fmt, heap_size=1024)
    assert len(trace.records) > 2000 and trace.skipped_bytes > 0
