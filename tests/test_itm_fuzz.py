"""Fuzzing the ITM demultiplexer and `heapgui-cli demux`: a fixed seed, a bounded time.

Streams mix good packets with what breaks decoders: uniform noise (a wrong
baud rate), long runs of bytes with bit 7 set after continuation headers,
lines held low or high, page extensions with continuation bytes. Every case
must decode without a traceback, the same whole or in pieces, the same as the
byte-at-a-time reference, on ports below 256, with a short summary line.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from itm_oracle import reference_demux

from heapgui.capture.itm import DemuxChunk, ItmDemux
from heapgui.capture.itm_encode import ItmEncoder
from heapgui.cli import main
from heapgui.commands.demux import _summary

SEED = 9
CASES = 300
BUDGET = 8.0  # seconds: on a slow machine fewer cases run, never a longer test
PORTS = 256
SUMMARY_ROOM = 400  # characters of a summary line besides the file name
CONTINUED = [0xC0, 0xD0, 0xE0, 0xF0, 0x94, 0xB4, 0x88, 0x8C, 0xF8, 0xFC]


def _piece(rng: np.random.Generator, enc: ItmEncoder) -> bytes:
    """One stretch of a fuzz stream."""
    kind = rng.integers(0, 8)
    if kind == 0:  # noise
        return rng.integers(0, 256, int(rng.integers(1, 400)), dtype=np.uint8).tobytes()
    if kind == 1:  # a continuation header, a run of "more" bytes, maybe an end
        run = rng.integers(0x80, 0x100, int(rng.integers(0, 12)), dtype=np.uint8).tobytes()
        end = bytes([int(rng.integers(0, 0x80))]) if rng.integers(0, 4) else b""
        return bytes([int(rng.choice(CONTINUED))]) + run + end
    if kind == 2:  # a line held low or high
        return bytes([int(rng.choice([0x00, 0xFF]))]) * int(rng.integers(1, 300))
    if kind == 3:
        return enc.sync(int(rng.integers(5, 12)))
    if kind == 4:  # a page extension with continuation bytes: a page beyond 7 for pyocd
        more = rng.integers(0x80, 0x100, int(rng.integers(0, 5)), dtype=np.uint8).tobytes()
        return bytes([0x88 | int(rng.integers(0, 8)) << 4]) + more + b"\x7f"
    # Good writes on any port, timestamped or not.
    data = rng.integers(0, 256, int(rng.integers(1, 40)), dtype=np.uint8).tobytes()
    port, size = int(rng.integers(0, PORTS)), int(rng.choice([1, 2, 4]))
    deltas = None
    if rng.integers(0, 2):
        deltas = rng.integers(0, 1 << 28, ItmEncoder.write_count(len(data), size))
    return enc.stimulus(port, data, size, deltas)


def _stream(rng: np.random.Generator) -> bytes:
    enc = ItmEncoder()
    return b"".join(_piece(rng, enc) for _ in range(int(rng.integers(1, 30))))


def _in_pieces(data: bytes, cuts: np.ndarray) -> tuple[DemuxChunk, ItmDemux]:
    demux = ItmDemux()
    bounds = [0, *sorted(cuts.tolist()), len(data)]
    parts = [demux.feed(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return DemuxChunk.concat([*parts, demux.finish()]), demux


def _marks(chunk: DemuxChunk) -> dict[int, list[tuple[int, int]]]:
    return {
        port: list(zip(t.ends.tolist(), t.ticks.tolist(), strict=True))
        for port, t in chunk.times.items()
    }


def test_fuzzed_streams_decode_the_same_whole_in_pieces_and_by_the_reference():
    rng = np.random.default_rng(SEED)
    deadline = time.monotonic() + BUDGET
    for case in range(CASES):
        if time.monotonic() > deadline:
            break
        data = _stream(rng)
        one = ItmDemux()
        whole = one.demux_all(data)
        cuts = rng.integers(0, len(data) + 1, int(rng.integers(1, 12)))
        pieces, many = _in_pieces(data, cuts)
        where = f"case {case}: {data.hex()}"
        assert pieces.payloads == whole.payloads, where
        assert _marks(pieces) == _marks(whole), where
        assert many.stats == one.stats, where
        assert (many.skipped_bytes, many.first_skip) == (one.skipped_bytes, one.first_skip), where
        assert max(one.stats.port_bytes, default=0) < PORTS, where
        expected = reference_demux(data)
        assert whole.payloads == {p: bytes(v) for p, v in sorted(expected.payloads.items())}, where
        assert _marks(whole) == expected.marks, where
        assert (one.skipped_bytes, one.first_skip) == (expected.skipped, expected.first_skip), where
        line = _summary(Path("capture.swo"), one, 31)
        assert "\n" not in line and len(line) < SUMMARY_ROOM, where
    assert case > 20  # the budget allowed a real search


def test_fuzzed_files_through_the_cli_end_in_one_line(tmp_path, capsys):
    rng = np.random.default_rng(SEED + 1)
    swo, out = tmp_path / "fuzz.swo", tmp_path / "port"
    for case in range(30):
        swo.write_bytes(_stream(rng))
        port = int(rng.integers(0, PORTS))
        code = main(["demux", str(swo), "-P", str(port), "-o", str(out)])
        err = capsys.readouterr().err
        assert err.count("\n") == 1, f"case {case}"
        if code == 0:
            assert len(err) < SUMMARY_ROOM + len(str(swo))
            expected = reference_demux(swo.read_bytes()).payloads.get(port, b"")
            assert out.read_bytes() == bytes(expected)
        else:
            assert code == 2 and err.startswith(f"heapgui-cli: error: {swo}: ")
            assert not out.exists()
