"""File → Open As: a damaged trace that detection refuses opens in the format the user names."""

from __future__ import annotations

from heapgui.trace.load import read_trace
from heapgui.ui import file_opening


def rows(stats) -> list[tuple[int, int, int]]:
    return [(r.size, r.max_load, r.total) for r in stats.rows()]


def test_refusal_names_the_menu_that_reads_it_anyway(window, errors, damaged):
    window.open_file(damaged)
    assert window.trace is None
    (message,) = errors
    assert str(damaged) in message and "\n" not in message
    assert "File → Open As → framed" in message


def test_open_as_reads_the_damaged_trace_in_the_chosen_format(window, damaged, monkeypatch):
    monkeypatch.setattr(file_opening, "ask_open_path", lambda parent, start: damaged)
    titles = [a.text() for a in window.open_as_menu.actions()]
    assert titles == [
        "framed (Drone 0.12-0.14)…",
        "legacy (Drone 0.9-0.11)…",
        "tagged (Drone master)…",
    ]
    window.open_as_menu.actions()[0].trigger()
    reference = read_trace(damaged, "framed")  # no config beside it: no heap size to apply
    assert window.trace is not None and window.trace.format == "framed"
    assert rows(window.trace.stats) == rows(reference.stats) and len(reference.records) > 2000
    assert window.stats_panel.model.rowCount() == len(reference.stats.rows())
    assert window.format_label.text() == "Format: framed (chosen)"


def test_a_detected_format_is_not_called_chosen(window, samples):
    window.open_file(samples / "seed-example.framed")
    assert window.format_label.text() == "Format: framed"
