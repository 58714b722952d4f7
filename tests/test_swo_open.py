"""Opening a raw SWO capture as a trace: the core load job demultiplexes ITM port 31.

The reference is the sample's own port-31 file, written by the sample generator
independently of heapgui's demultiplexer.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from heapgui.errors import HeapguiError
from heapgui.trace.load import Cancelled, read_trace
from heapgui.workspace.loading import load_trace, load_trace_set


def never() -> bool:
    return False


def load(path, fractions=None):
    return load_trace(path, ([] if fractions is None else fractions).append, never)


def same_records(a, b) -> bool:
    columns = ("kind", "size", "new_size", "offset")
    return all(np.array_equal(getattr(a.records, c), getattr(b.records, c)) for c in columns)


@pytest.mark.parametrize("name", ["capture.swo", "capture-without-suffix"])
def test_a_swo_capture_opens_as_its_port_31_trace(samples, tmp_path, name):
    path = tmp_path / name
    shutil.copyfile(samples / "capture.swo", path)
    fractions: list[float] = []
    loaded = load(path, fractions)
    reference = read_trace(samples / "capture.port31")
    assert loaded.demuxed == (samples / "capture.port31").stat().st_size
    assert loaded.trace.source == str(path)
    assert loaded.trace.format == reference.format
    assert same_records(loaded.trace, reference)
    assert loaded.trace.stats.peak_usage == reference.stats.peak_usage
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1


def test_a_set_with_a_swo_capture_reads_its_port_31_trace(samples):
    loaded = load_trace_set(
        [samples / "capture.swo", samples / "workload-40k.framed"], lambda f: None, never
    )
    reference = read_trace(samples / "capture.port31")
    assert same_records(loaded.traces.traces[0], reference)
    assert loaded.traces.names == ["capture.swo", "workload-40k.framed"]


def test_a_plain_trace_is_not_demultiplexed(samples):
    assert load(samples / "workload-40k.framed").demuxed is None


def test_a_swo_capture_without_port_31_says_which_ports_it_has(tmp_path):
    path = tmp_path / "console.swo"
    # ITM stimulus packets of one byte on port 0 (header 0b00000_001), as printf writes them.
    path.write_bytes(bytes([0x01, ord("a")]) * 500)
    with pytest.raises(HeapguiError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "port 31" in message and "port 0" in message
    assert "heapgui-swo-" not in message  # never the scratch file's name


def test_an_idle_swo_line_is_an_empty_capture_with_its_problem(tmp_path):
    path = tmp_path / "idle.swo"
    path.write_bytes(bytes(8000))  # a line held low: synchronisation only
    loaded = load(path)
    assert loaded.demuxed == 0
    assert len(loaded.trace.records) == 0
    assert loaded.trace.bytes_read == 0


def test_neither_a_trace_nor_swo_says_what_to_do(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("These are my notes about the heap, not a trace.\n" * 40)
    with pytest.raises(HeapguiError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "at best" not in message
    assert "Open As" in message and "SWO" in message


def test_demultiplexing_stops_when_cancelled(samples):
    with pytest.raises(Cancelled):
        load_trace(samples / "capture.swo", lambda fraction: None, lambda: True)
