"""A heap below the trace's peak, and an empty capture, are problems the window says aloud."""

from __future__ import annotations

from brute import peak


def test_a_heap_below_the_peak_is_a_problem_in_the_banner_and_status_bar(window, samples):
    window.open_file(samples / "workload-40k.framed")
    assert window.banner.isHidden()
    assert window.problems_label.text() == "No problems"

    needed = peak(window.trace.records)  # brute force, not the statistics under test
    window.layout_panel.size_edit.setText(str(needed - 4))
    assert "1 problem" in window.problems_label.text()
    assert not window.banner.isHidden()
    assert "Peak exceeds heap" in window.banner.label.text()
    assert f"{needed:,} B in use" in window.problems_label.toolTip()

    window.banner.dismiss()
    window.layout_panel.size_edit.setText(f"{needed - 4} ")  # the same heap: stays dismissed
    assert window.banner.isHidden()
    window.layout_panel.size_edit.setText(str(needed - 8))  # new numbers are shown again
    assert f"{needed - 8:,} B heap" in window.banner.label.text()

    window.layout_panel.size_edit.setText(str(needed))  # exactly the peak fits
    assert window.problems_label.text() == "No problems"


def test_an_empty_file_is_not_a_clean_trace(window, tmp_path):
    empty = tmp_path / "heaptrace"
    empty.write_bytes(b"")
    window.open_file(empty)
    assert "1 problem" in window.problems_label.text()
    assert "recorded nothing" in window.problems_label.toolTip()
