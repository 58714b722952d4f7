"""The empty window: a start page with the ways to begin, reachable from the keyboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QListWidget

from heapgui.capture.session import STREAM, SWO
from heapgui.ui import file_opening
from heapgui.ui.main_window import MainWindow

WORKLOAD = "workload-40k.framed"


def shown(window: MainWindow) -> None:
    window.show()
    QApplication.processEvents()


def test_the_empty_window_shows_the_start_page_not_an_empty_plot(window):
    shown(window)
    assert window.start_page.isVisible()
    assert not window.charts.isVisible()


def test_a_trace_replaces_the_start_page_with_the_charts(window, samples):
    shown(window)
    window.open_file(samples / WORKLOAD)
    assert window.charts.isVisible()
    assert not window.start_page.isVisible()


def test_open_from_the_start_page_by_keyboard(qtbot, window, samples, monkeypatch):
    monkeypatch.setattr(file_opening, "ask_open_path", lambda *_: samples / WORKLOAD)
    shown(window)
    window.start_page.setFocus()
    assert window.start_page.open_button.hasFocus()
    qtbot.keyClick(window.start_page.open_button, Qt.Key.Key_Space)
    assert window.trace_path == samples / WORKLOAD


def test_recent_files_open_from_the_start_page(qtbot, samples, errors, inline_tasks):
    first = MainWindow()
    qtbot.addWidget(first)
    first.open_file(samples / "seed-example.framed")
    first.open_file(samples / WORKLOAD)
    first.close()
    fresh = MainWindow()
    qtbot.addWidget(fresh)
    shown(fresh)
    recent = fresh.start_page.recent_list
    names = [recent.item(i).data(Qt.ItemDataRole.UserRole) for i in range(recent.count())]
    assert names == [str((samples / n).resolve()) for n in (WORKLOAD, "seed-example.framed")]
    recent.setFocus()
    qtbot.keyClick(recent, Qt.Key.Key_Down)
    qtbot.keyClick(recent, Qt.Key.Key_Return)
    assert fresh.trace_path == Path(names[1])
    assert errors == []


def test_the_demo_buttons_start_the_demo_capture_with_their_transport(window, monkeypatch):
    started: list[tuple[str, Path]] = []
    form = window.capture_panel.form
    monkeypatch.setattr(
        window, "start_demo", lambda directory: started.append((form.transport(), directory))
    )
    shown(window)
    window.start_page.demo_buttons[SWO].click()
    window.start_page.demo_buttons[STREAM].click()
    assert [transport for transport, _ in started] == [SWO, STREAM]
    assert all(directory.name == "demo" for _, directory in started)


def test_every_control_has_an_accessible_name_and_takes_focus(window):
    page = window.start_page
    controls = page.findChildren(QAbstractButton) + page.findChildren(QListWidget)
    assert len(controls) >= 5
    for control in controls:
        assert control.accessibleName(), control
        assert control.focusPolicy() & Qt.FocusPolicy.TabFocus, control.accessibleName()
