"""Format detection, and fuzzing every decoder: only the project's DecodeError may escape."""

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heapgui.errors import DecodeError
from heapgui.trace.formats import DETECT_PREFIX, FORMATS, detect, make_decoder
from heapgui.trace.framed import encode_framed
from heapgui.trace.legacy import encode_legacy
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records
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


# --- the CI fuzz run: a fixed seed and a fixed number of cases, so every run is the same ------

FUZZ_SEED = 20260904
FUZZ_CASES = 400  # per format; a few seconds in all
RECORD_BYTES = {"framed": (8, 8, 12, 12), "legacy": (6, 6, 10, 10), "tagged": (5, 5, 9, 9)}


def _mutate(rng: random.Random, data: bytearray) -> bytearray:
    """Flip, overwrite, insert, delete or duplicate bytes at a few random places."""
    for _ in range(rng.randrange(1, 8)):
        at = rng.randrange(len(data) + 1)
        action = rng.randrange(5)
        if action == 0 and at < len(data):
            data[at] ^= 1 << rng.randrange(8)
        elif action == 1:
            data[at : at + 4] = rng.randbytes(rng.randrange(1, 5))
        elif action == 2:
            data[at:at] = rng.randbytes(rng.randrange(1, 40))
        elif action == 3:
            del data[at : at + rng.randrange(1, 12)]
        else:
            data[at:at] = data[max(0, at - 64) : at]
    return data


def rows_as_ops(rows: list[tuple[int, int, int]]) -> list[tuple]:
    names = ("alloc", "dealloc", "grow", "shrink")
    return [(names[k], s, n) if k >= 2 else (names[k], s) for k, s, n in rows]


def _decode_in_pieces(fmt: str, data: bytes, cuts: list[int]):
    decoder = make_decoder(fmt)
    bounds = [0, *cuts, len(data)]
    parts = [decoder.feed(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    parts.append(decoder.finish())
    records = Records.concat(parts)
    rows = list(
        zip(records.kind.tolist(), records.size.tolist(), records.new_size.tolist(), strict=True)
    )
    return rows, records.offset.tolist(), [p.to_json() for p in decoder.problems], decoder


@pytest.mark.parametrize("fmt", FORMATS)
def test_fixed_seed_fuzz_of_every_decoder(fmt):
    rng = random.Random(f"{FUZZ_SEED}-{fmt}")
    lengths = RECORD_BYTES[fmt]
    started = time.perf_counter()
    for case in range(FUZZ_CASES):
        # Now and then a trace long enough for the block-wise (vectorised) paths.
        count = rng.randrange(5000, 9000) if case % 8 == 0 else rng.randrange(1, 400)
        clean = ENCODERS[fmt](workload(count, seed=case))
        data = bytes(_mutate(rng, bytearray(clean)))
        cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, rng.randrange(6))))
        whole = _decode_in_pieces(fmt, data, [])
        pieces = _decode_in_pieces(fmt, data, cuts)
        assert pieces[:3] == whole[:3], f"case {case}: chunked decoding differs"
        rows, offsets, _, decoder = whole
        assert decoder.consumed == len(data)
        record_bytes = sum(lengths[kind] for kind, _, _ in rows)
        assert decoder.record_bytes == record_bytes
        assert record_bytes + decoder.skipped_bytes <= len(data)
        if fmt != "framed":  # one record after the other, none overlapping
            ends = [o + lengths[k] for o, (k, _, _) in zip(offsets, rows, strict=True)]
            assert all(e <= o for e, o in zip(ends, offsets[1:], strict=False))
        strict = make_decoder(fmt, strict=True)
        try:
            strict_records = Records.concat([strict.feed(data), strict.finish()])
        except DecodeError as err:
            assert 0 <= err.offset <= len(data)
        else:  # nothing corrupt in strict eyes: tolerant decoding found the same,
            # except that tolerant `tagged` also doubts records read out of phase.
            assert (
                fmt == "tagged"
                or strict_records.to_tuples() == Records.from_tuples(rows_as_ops(rows)).to_tuples()
            )
    assert time.perf_counter() - started < 60, "the fuzz run must stay short"


def test_data_no_format_reads_gets_advice_not_a_score():
    """Noise is no damaged trace: the error says which file to open, not "at best 0% tagged"."""
    noise = random.Random(11).randbytes(3000)
    with pytest.raises(DecodeError) as err:
        detect(noise)
    message = str(err.value)
    assert "at best" not in message and "no trace format reads" in message
    assert "heaptrace file the capture wrote" in message and ".swo" in message
