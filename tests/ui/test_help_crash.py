"""Help menu (guide, log folder, packs, About icon) and the unexpected-exception handler."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from packserver import VENDOR, VERSION, closed_vendor_list, pack_server
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QApplication

from heapgui.capture.packs import PackCache
from heapgui.logs import LOG_FILE, setup_logging, shutdown_logging
from heapgui.ui import help as help_module
from heapgui.ui.crash import CrashHandler
from heapgui.ui.help import GuideWindow, about_box, app_icon
from heapgui.ui.loader import running_threads
from heapgui.ui.main_window import MainWindow, versions
from heapgui.ui.packs import PackDialog


@pytest.fixture
def opened(monkeypatch) -> list[QUrl]:
    """What the desktop was asked to open (no file manager starts in tests)."""
    urls: list[QUrl] = []
    monkeypatch.setattr(help_module, "open_url", lambda url: urls.append(url) or True)
    return urls


@pytest.fixture
def log_file(tmp_path):
    path = setup_logging(directory=tmp_path / "log")
    yield path
    shutdown_logging()


@pytest.fixture
def handler(qtbot, log_file):
    crash = CrashHandler(log_file)
    crash.install()
    yield crash
    crash.uninstall()
    if crash.dialog is not None:
        crash.dialog.close()
        crash.dialog.deleteLater()


def help_actions(win: MainWindow) -> list[str]:
    bar = win.menuBar()
    menu = next(a.menu() for a in bar.actions() if a.text() == "&Help")
    return [a.text() for a in menu.actions()]


def trigger(win: MainWindow, text: str) -> None:
    bar = win.menuBar()
    menu = next(a.menu() for a in bar.actions() if a.text() == "&Help")
    next(a for a in menu.actions() if a.text() == text).trigger()


# -- Help menu ---------------------------------------------------------------------------


def test_help_menu_items(window):
    assert help_actions(window) == [
        "&User Guide",
        "Open &Log Folder",
        "Install Target &Pack…",
        "",
        "&About heapgui",
    ]


def test_user_guide_opens_once_with_the_bundled_guide(window):
    trigger(window, "&User Guide")
    trigger(window, "&User Guide")
    guides = window.findChildren(GuideWindow)
    assert len(guides) == 1 and guides[0].isVisible()
    text = guides[0].browser.toPlainText()
    for heading in ("From firmware to Drone.toml", "The firmware quirk", "Capturing live"):
        assert heading in text
    guides[0].close()


def test_open_log_folder_opens_the_folder_of_the_log_file(window, opened, log_file):
    trigger(window, "Open &Log Folder")
    assert opened == [QUrl.fromLocalFile(str(log_file.parent))]


def test_open_log_folder_without_a_log_file_creates_the_platform_folder(
    window, opened, monkeypatch, tmp_path
):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    if sys.platform.startswith("linux"):
        trigger(window, "Open &Log Folder")
        folder = tmp_path / "state" / "heapgui" / "log"
        assert opened == [QUrl.fromLocalFile(str(folder))] and folder.is_dir()


def test_install_target_pack_opens_the_dialog_for_the_chosen_target(window):
    trigger(window, "Install Target &Pack…")
    (dialog,) = window.findChildren(PackDialog)
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.part_edit.text() == ""  # the generic cortex_m has no pack
    dialog.close()
    window.capture_panel.form.target_combo.setEditText("stm32f407vg")
    trigger(window, "Install Target &Pack…")
    dialogs = [d for d in window.findChildren(PackDialog) if d.isVisible()]
    assert [d.part_edit.text() for d in dialogs] == ["stm32f407vg"]
    dialogs[0].close()


def test_icon_renders_and_the_about_box_shows_it(window):
    icon = app_icon()
    image = icon.pixmap(64).toImage()
    assert not icon.isNull() and image.width() == 64
    assert image.pixelColor(32, 32).alpha() == 255  # the icon's opaque middle
    assert image.pixelColor(0, 0).alpha() == 0  # and its transparent rounded corner
    box = about_box(window, versions())
    assert not box.iconPixmap().isNull()
    for name, version in versions().items():
        assert f"<td>{name}</td><td>{version}</td>" in box.text()


# -- pack dialog ---------------------------------------------------------------------------


def test_pack_dialog_offline_fails_clearly_without_blocking(qtbot, tmp_path):
    vendor_list = closed_vendor_list(tmp_path)
    dialog = PackDialog(part="HG1234", cache_factory=lambda: PackCache(tmp_path / "c", vendor_list))
    qtbot.addWidget(dialog)
    dialog.install_button.click()
    assert dialog.busy() and not dialog.install_button.isEnabled()  # running in a thread
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)
    assert dialog.status.text().startswith(
        "Not installed: cannot download the CMSIS pack index from"
    )
    assert dialog.install_button.isEnabled() and dialog.part_edit.isEnabled()
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)


def test_pack_dialog_installs_with_progress(qtbot, tmp_path):
    with pack_server(tmp_path) as server:
        dialog = PackDialog(
            part="HG1234",
            cache_factory=lambda: PackCache(tmp_path / "c", server.vendor_list),
        )
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.installed, timeout=30_000) as done:
            dialog.install()
        qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)
    assert done.args[0].packs == (f"{VENDOR}.Test_DFP.{VERSION}",)
    assert dialog.progress.value() == dialog.progress.maximum()
    assert dialog.status.text().startswith(f"Installed {VENDOR}.Test_DFP.{VERSION}")
    assert "hg1234" in dialog.status.text()


# -- crash handler -------------------------------------------------------------------------


def raised(exc: BaseException):
    try:
        raise exc
    except BaseException:
        return sys.exc_info()


def test_an_exception_shows_the_report_and_is_logged(qtbot, handler, log_file):
    sys.excepthook(*raised(ValueError("boom in a slot")))
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())
    report = handler.dialog.report()
    assert "Unexpected error" in report and "thread MainThread" in report
    assert "Traceback (most recent call last)" in report and "ValueError: boom in a slot" in report
    assert str(log_file) in report and str(log_file) in handler.dialog.message.text()
    logged = log_file.read_text()
    assert "CRITICAL heapgui.ui.crash" in logged and "ValueError: boom in a slot" in logged
    handler.dialog.copy_button.click()
    assert QApplication.clipboard().text() == report


def test_a_worker_thread_exception_reaches_the_same_dialog(qtbot, handler):
    sys.excepthook(*raised(KeyError("first")))
    qtbot.waitUntil(lambda: handler.dialog is not None)
    first = handler.dialog

    def work() -> None:
        raise RuntimeError("from the worker")

    worker = threading.Thread(target=work, name="pyocd-worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "RuntimeError: from the worker" in first.report())
    assert handler.dialog is first and "KeyError: 'first'" in first.report()
    assert "thread pyocd-worker" in first.report()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_qt_slot_leaves_the_app_running(qtbot, handler):
    ticks: list[int] = []

    def broken_slot() -> None:
        raise ZeroDivisionError("slot failed")

    QTimer.singleShot(0, broken_slot)
    QTimer.singleShot(50, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: handler.dialog is not None and bool(ticks), timeout=10_000)
    assert "ZeroDivisionError: slot failed" in handler.dialog.report()
    assert not QApplication.closingDown()


@pytest.mark.qt_no_exception_capture
def test_a_capture_keeps_running_through_an_unexpected_exception(qtbot, handler, tmp_path):
    window = MainWindow()  # threaded: a capture never runs inline
    qtbot.addWidget(window)
    panel = window.capture_panel
    with qtbot.waitSignal(panel.capture_started, timeout=30_000):
        assert window.start_demo(tmp_path / "demo")
    qtbot.waitUntil(lambda: panel.live.records > 500, timeout=30_000)

    def broken_slot() -> None:
        raise RuntimeError("while capturing")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: handler.dialog is not None, timeout=10_000)
    before = panel.live.records
    qtbot.waitUntil(lambda: panel.live.records > before + 500, timeout=30_000)
    assert panel.running()
    with qtbot.waitSignal(panel.capture_finished, timeout=30_000):
        panel.stop()
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)
    assert Path(tmp_path / "demo" / "heaptrace").stat().st_size > 0


def test_keyboard_interrupt_is_left_to_python(qtbot, handler, capsys):
    handler._previous_hook = lambda *exc: sys.stderr.write("default hook\n")
    sys.excepthook(*raised(KeyboardInterrupt()))
    qtbot.wait(50)
    assert handler.dialog is None and "default hook" in capsys.readouterr().err


def test_uninstall_restores_the_previous_hooks(qtbot, log_file):
    before = (sys.excepthook, threading.excepthook)
    crash = CrashHandler(log_file)
    crash.install()
    assert sys.excepthook == crash.excepthook
    crash.uninstall()
    assert (sys.excepthook, threading.excepthook) == before
    assert log_file.name == LOG_FILE
