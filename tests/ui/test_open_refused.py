"""File ▸ Open when detection is unsure: the refusal offers the plausible formats, best first."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from heapgui.trace.formats import DETECT_PREFIX, FORCE_HINT_THRESHOLD, make_decoder
from heapgui.trace.load import read_trace
from heapgui.ui import file_opening
from heapgui.ui.file_opening import FORMAT_VERSIONS
from heapgui.ui.main_window import MainWindow
from heapgui.ui.open_refusal import format_choice_box, plausible_formats


def framed_share(path) -> float:
    """The share of the detected prefix the framed decoder alone turns into records."""
    prefix = path.read_bytes()[:DETECT_PREFIX]
    decoder = make_decoder("framed")
    decoder.feed(prefix)
    decoder.finish()
    return decoder.record_bytes / len(prefix)


@pytest.fixture
def asked(monkeypatch):
    """What the window offered, answered with `asked.answer` (None = Cancel)."""

    class Asked(list):
        answer: str | None = None

    offers = Asked()

    def ask(parent, path, message, choices, versions):
        offers.append((path, message, choices))
        return offers.answer

    monkeypatch.setattr(file_opening, "ask_format", ask)
    return offers


def test_unsure_detection_offers_the_best_guess_first_and_opens_it(window, errors, asked, damaged):
    asked.answer = "framed"
    window.open_file(damaged)
    ((path, message, choices),) = asked
    assert path == damaged and str(damaged) in message and "\n" not in message
    assert choices[0] == ("framed", pytest.approx(framed_share(damaged)))
    assert all(score >= FORCE_HINT_THRESHOLD for _, score in choices)
    assert errors == []  # no error box besides the offer
    assert window.trace is not None and window.trace.format == "framed"
    assert window.format_label.text() == "Format: framed (chosen)"
    reference = read_trace(damaged, "framed")
    assert len(window.trace.records) == len(reference.records) > 2000


def test_cancel_keeps_the_refusal_without_a_second_box(window, errors, asked, damaged, qtbot):
    with qtbot.waitSignal(window.load_failed) as failed:
        window.open_file(damaged)
    assert len(asked) == 1 and errors == []
    assert window.trace is None
    assert failed.args[0] in window.statusBar().currentMessage()


def test_a_file_no_format_reads_gets_only_the_error(window, errors, asked, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"junk: this is a text file, not a heap trace\n" * 100)
    window.open_file(junk)
    assert asked == []
    (message,) = errors
    assert str(junk) in message


def test_a_window_without_dialogs_does_not_ask(qtbot, asked, damaged, inline_tasks):
    win = MainWindow(error_dialogs=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.load_failed):
        win.open_file(damaged)
    assert asked == []


def test_nothing_is_offered_for_a_file_detection_accepts(samples):
    assert plausible_formats(samples / "seed-example.tagged") == []


def test_the_box_lists_each_choice_then_cancel(qtbot, damaged, tmp_path):
    choices = [("framed", 0.86), ("tagged", 0.55)]
    message = f"{damaged}: offset 0: expected a heap trace, found data that is at best 86% framed"
    box, buttons = format_choice_box(None, damaged, message, choices, FORMAT_VERSIONS)
    qtbot.addWidget(box)
    box.show()
    labels = [b.text() for b in box.buttons() if b in buttons]
    assert labels == [
        "Open as framed (Drone 0.12-0.14): 86% readable",
        "Open as tagged (Drone master): 55% readable",
    ]
    assert buttons[box.defaultButton()] == "framed"
    assert box.button(QMessageBox.StandardButton.Cancel) is not None
    assert message in box.informativeText()
    box.grab().save(str(tmp_path / "open-refused.png"))  # looked at by hand when changed
