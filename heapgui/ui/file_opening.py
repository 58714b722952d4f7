"""Opening traces: the file dialogs, the load in the background with progress, recent files.

The load jobs are the core's (heapgui.workspace.loading); a `FileOpener` runs one
at a time in a `Task` and hands what it read to the workspace, which every view
follows. Dialogs are module-level functions so tests replace them with monkeypatch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QProgressBar, QPushButton, QWidget

from heapgui.layout.config import HeapConfig
from heapgui.sizes import format_bytes
from heapgui.trace.traceset import TraceSet
from heapgui.ui.loader import Task, release_free_memory, running_threads
from heapgui.ui.open_refusal import ask_format, plausible_formats
from heapgui.ui.settings import recent_files, remember
from heapgui.workspace import Workspace, guess_notice
from heapgui.workspace.loading import (
    HEAPTRACE_PORT,
    LoadedSet,
    LoadedTrace,
    load_trace,
    load_trace_set,
)

# File → Open As: each format with the Drone versions that write it.
FORMAT_VERSIONS = {"framed": "0.12-0.14", "legacy": "0.9-0.11", "tagged": "master"}
TRACE_FILTER = "Heap traces (heaptrace *.framed *.legacy *.tagged *.bin *.swo);;All files (*)"


def ask_open_path(parent: QWidget, directory: str) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Open heap trace", directory, TRACE_FILTER)
    return Path(name) if name else None


def ask_open_paths(parent: QWidget, directory: str) -> list[Path]:
    names, _ = QFileDialog.getOpenFileNames(
        parent, "Open several captures as a trace set", directory, TRACE_FILTER
    )
    return [Path(name) for name in names]


class FileOpener(QObject):
    """Loads one trace or set at a time; the workspace keeps the old one until it is complete."""

    opened = Signal()
    """What was loaded is in the workspace."""
    failed = Signal(str)

    def __init__(
        self,
        window: QMainWindow,
        workspace: Workspace,
        report: Callable[[str], None],
        dialogs: bool,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._workspace = workspace
        self._report = report
        self._dialogs = dialogs
        self._task: Task | None = None
        self.format_chosen = False  # the trace shown was opened with File → Open As
        self.progress = QProgressBar(window)
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setAccessibleName("Loading progress")
        self.progress.setToolTip("Reading the trace file")
        self.cancel_button = QPushButton("Cancel", window)
        self.cancel_button.setToolTip("Stop loading and keep the current trace (Esc)")
        self.cancel_button.setAccessibleName("Cancel loading")
        self.cancel_button.clicked.connect(self.cancel)
        for widget in (self.progress, self.cancel_button):
            window.statusBar().addPermanentWidget(widget)
            widget.hide()
        self.cancel_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
        self.cancel_shortcut.activated.connect(self.cancel)
        self.cancel_shortcut.setEnabled(False)

    # -- asking --------------------------------------------------------------------

    def _start_directory(self) -> str:
        paths = self._workspace.paths
        return str(paths[0].parent) if paths else ""

    @Slot()
    def choose_file(self) -> None:
        path = ask_open_path(self._window, self._start_directory())
        if path is not None:
            self.open_file(path)

    def choose_file_as(self, fmt: str) -> None:
        """Open a file in the format the user names, for a damaged trace detection refuses."""
        path = ask_open_path(self._window, self._start_directory())
        if path is not None:
            self.open_file(path, fmt)

    @Slot()
    def choose_trace_set(self) -> None:
        paths = ask_open_paths(self._window, self._start_directory())
        if paths:
            self.open_files(paths)

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        recent = recent_files()
        for name in recent:
            action = menu.addAction(Path(name).name)
            action.setToolTip(name)
            action.triggered.connect(partial(self.open_file, name))
        if not recent:
            menu.addAction("No recent files").setEnabled(False)

    # -- loading ---------------------------------------------------------------------

    def open_file(self, path: str | Path, fmt: str = "auto") -> None:
        """`fmt` is "auto" to detect the format, or the one the user chose."""
        path = Path(path)
        job = partial(load_trace, path, fmt=fmt)
        refused = partial(self._refused, path) if fmt == "auto" else None
        self._start(job, self._trace_loaded, f"Loading {path}…", refused)

    def open_files(self, paths: list[str | Path]) -> None:
        """One file opens as a trace, several as a trace set."""
        if len(paths) == 1:
            self.open_file(paths[0])
        elif paths:
            job = partial(load_trace_set, [Path(p) for p in paths])
            self._start(job, self._set_loaded, f"Loading {len(paths)} traces…")

    def show(
        self,
        traces: TraceSet,
        paths: list[Path],
        config: HeapConfig | None,
        message: str,
        chosen_format: bool = False,
    ) -> None:
        """Put what was read (or captured) in the workspace, and say so with the heap's news."""
        before = self._workspace.heap
        self.format_chosen = chosen_format
        self._workspace.open(traces, paths, config)
        remember(paths[0])
        notice = guess_notice(before, self._workspace.heap)
        status = self._window.statusBar()
        status.showMessage(
            f"{message} · {notice}" if notice else message, 15000 if notice else 5000
        )
        release_free_memory()  # the decoder's buffers and the previous trace are garbage now
        self.opened.emit()

    def loading(self) -> bool:
        return self._task is not None and self._task.active

    @Slot()
    def cancel(self) -> None:
        if self._task is not None and self._task.active:
            self._task.cancel()

    @staticmethod
    def wait_for_threads() -> None:
        """Cancelled jobs still run to their next check; let them end before the app does."""
        for thread in running_threads():
            thread.wait()

    def _start(self, job, done, message: str, failed=None) -> None:
        self.cancel()
        task = Task(job)  # unparented: freed when replaced
        task.progressed.connect(self._progressed)
        task.succeeded.connect(done)
        task.failed.connect(failed or self._failed)
        task.cancelled.connect(self._cancelled)
        self._task = task
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_shortcut.setEnabled(True)
        self._window.statusBar().showMessage(message)
        task.start()

    @Slot(float)
    def _progressed(self, fraction: float) -> None:
        self.progress.setValue(round(fraction * self.progress.maximum()))

    def _ended(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.cancel_shortcut.setEnabled(False)

    @Slot(object)
    def _trace_loaded(self, loaded: LoadedTrace) -> None:
        self._ended()
        traces = TraceSet.of([loaded.trace])
        message = f"Loaded {loaded.path}"
        if loaded.demuxed is not None:
            message += (
                f" · demultiplexed from SWO: {format_bytes(loaded.demuxed)} of heap trace on ITM "
                f"port {HEAPTRACE_PORT}"
            )
        self.show(traces, [loaded.path], loaded.config, message, loaded.chosen_format)

    @Slot(object)
    def _set_loaded(self, loaded: LoadedSet) -> None:
        self._ended()
        names = loaded.traces.names
        message = f"Loaded {len(names)} traces: {', '.join(names)}"
        self.show(loaded.traces, loaded.paths, loaded.config, message)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._ended()
        self._report(message)
        self.failed.emit(message)

    def _refused(self, path: Path, message: str) -> None:
        """A failed open of `path`: when detection was unsure, offer its plausible formats."""
        choices = plausible_formats(path) if self._dialogs else []
        if not choices:
            self._failed(message)
            return
        self._ended()
        fmt = ask_format(self._window, path, message, choices, FORMAT_VERSIONS)
        if fmt is not None:
            self.open_file(path, fmt)
            return
        self._window.statusBar().showMessage(message, 10000)
        self.failed.emit(message)

    @Slot()
    def _cancelled(self) -> None:
        self._ended()
        self._window.statusBar().showMessage("Loading cancelled", 5000)
