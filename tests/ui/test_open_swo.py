"""File → Open on a raw SWO capture, a file that is no trace, and an empty trace."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from heapgui.trace.load import read_trace
from heapgui.trace.problems import usage_hints


def test_open_swo_shows_its_heap_trace_and_says_it_was_demultiplexed(window, errors, samples):
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.open_file(samples / "capture.swo")
    reference = read_trace(samples / "capture.port31")
    assert errors == []
    assert window.trace is not None
    assert len(window.trace.records) == len(reference.records)
    assert window.trace.stats.peak_usage == reference.stats.peak_usage
    demuxed = (samples / "capture.port31").stat().st_size
    said = [m for m in messages if "demultiplexed" in m]
    assert said and f"{demuxed:,} B" in said[0] and "port 31" in said[0]


def test_a_file_that_is_no_trace_says_what_to_do_next(window, errors, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Meeting notes, nothing to do with the heap.\n" * 50)
    window.open_file(path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}: ") and "\n" not in errors[0]
    assert "at best" not in errors[0] and "Open As" in errors[0]
    assert window.trace is None


def test_an_empty_trace_is_a_problem_not_loaded_cleanly(window, errors, tmp_path):
    path = tmp_path / "heaptrace"
    path.write_bytes(b"")
    window.open_file(path)
    QApplication.processEvents()
    assert errors == []
    expected = usage_hints(0, 0, 0, None)[0]
    assert window.status.problems_label.text() == "⚠ 1 problem"
    assert window.banner.isVisibleTo(window) and expected in window.banner.toolTip()
