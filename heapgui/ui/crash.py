"""Unexpected exceptions: logged with their traceback, shown in a dialog, and survived.

`CrashHandler.install()` takes over `sys.excepthook` (exceptions in slots and
event handlers reach it through PySide) and `threading.excepthook` (worker
threads). Either way the report crosses to the GUI thread by a queued signal
and lands in one non-modal dialog: the app keeps running, so a capture in
progress goes on, and a burst of errors (one per paint, say) adds to the open
dialog instead of stacking new ones.
"""

from __future__ import annotations

import datetime
import logging
import platform
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from heapgui.ui.help import open_log_folder

logger = logging.getLogger(__name__)

MAX_REPORTS = 20
"""Reports kept in the dialog; a runaway error loop must not grow it without bound."""


def format_report(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    thread_name: str,
    log_path: Path | None,
) -> str:
    """The text a user pastes into a bug report: when, where, versions, traceback."""
    from heapgui.ui.main_window import versions

    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    installed = ", ".join(f"{name} {version}" for name, version in versions().items())
    lines = [
        f"Unexpected error at {stamp} in thread {thread_name}",
        f"Versions: {installed}",
        f"Platform: {platform.platform()}",
        f"Log file: {log_path if log_path is not None else 'none'}",
        "",
        *traceback.format_exception(exc_type, exc, tb),
    ]
    return "\n".join(line.rstrip("\n") for line in lines)


class CrashDialog(QDialog):
    """What happened, where the log is, and the report with a copy button."""

    def __init__(self, log_path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("heapgui: unexpected error")
        self.setObjectName("crash_dialog")
        self._reports: list[str] = []
        where = f"<br>The log file is <code>{log_path}</code>." if log_path else ""
        self.message = QLabel(
            "Something went wrong inside heapgui. It keeps running, and a capture in "
            "progress goes on; save your work if the window misbehaves."
            f"{where}<br>Please include the report below when you tell the developers.",
            self,
        )
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report_view = QPlainTextEdit(self)
        self.report_view.setReadOnly(True)
        self.report_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report_view.setAccessibleName("Error report")
        self.copy_button = QPushButton("&Copy Report", self)
        self.copy_button.clicked.connect(self.copy_report)
        self.logs_button = QPushButton("Open &Log Folder", self)
        self.logs_button.setEnabled(log_path is not None)
        self.logs_button.clicked.connect(
            lambda: open_log_folder(log_path.parent if log_path else None)
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.logs_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addWidget(self.message)
        column.addWidget(self.report_view, 1)
        column.addWidget(buttons)
        self.resize(760, 480)

    def add_report(self, report: str) -> None:
        self._reports = [*self._reports, report][-MAX_REPORTS:]
        self.report_view.setPlainText(("\n\n" + "-" * 72 + "\n\n").join(self._reports))

    def report(self) -> str:
        return self.report_view.toPlainText()

    @Slot()
    def copy_report(self) -> None:
        QApplication.clipboard().setText(self.report())

    def done(self, result: int) -> None:
        self._reports = []  # a later error starts a fresh report
        super().done(result)


class CrashHandler(QObject):
    """Owns the hooks and the dialog; create it in the GUI thread after the QApplication."""

    reported = Signal(str)

    def __init__(self, log_path: Path | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self.dialog: CrashDialog | None = None
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self._installed = False
        # Queued: a report from a worker thread is shown by the GUI thread's event loop.
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook
        self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            sys.excepthook = self._previous_hook
            threading.excepthook = self._previous_thread_hook
            self._installed = False

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous_hook(exc_type, exc, tb)
            return
        self._report(exc_type, exc, tb, threading.current_thread().name)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "unknown"
        self._report(args.exc_type, args.exc_value, args.exc_traceback, name)

    def _report(
        self,
        exc_type: type[BaseException],
        exc: BaseException | None,
        tb: TracebackType | None,
        thread_name: str,
    ) -> None:
        exc = exc if exc is not None else exc_type()
        logger.critical("unexpected error in thread %s", thread_name, exc_info=(exc_type, exc, tb))
        try:
            report = format_report(exc_type, exc, tb, thread_name, self.log_path)
        except Exception:  # noqa: BLE001 - the hook must never raise itself
            report = "".join(traceback.format_exception(exc_type, exc, tb))
        self.reported.emit(report)

    @Slot(str)
    def _show(self, report: str) -> None:
        if self.dialog is None:
            # Top-level, so it outlives any window; it must not keep the app running alone.
            self.dialog = CrashDialog(self.log_path)
            self.dialog.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        self.dialog.add_report(report)
        self.dialog.show()
        self.dialog.raise_()


def install_crash_handler(log_path: Path | None) -> CrashHandler:
    """The app's handler: parented to the QApplication so it lives as long as the app."""
    handler = CrashHandler(log_path, QApplication.instance())
    handler.install()
    return handler
