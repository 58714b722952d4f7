"""Long work off the GUI thread: a parentless worker moved to a QThread, results by signal.

A `Task` runs one job `job(progress, cancelled)` defined in the core (the load
jobs are in heapgui.workspace.loading). Cancelling is decided on the GUI side:
once `cancel()` returns, whatever the worker still sends is dropped, so the
window's state cannot change behind the user's back even if the worker was
already past its last check. Tests set `Task.inline` to run jobs in their thread.
"""

from __future__ import annotations

import ctypes
import logging
import threading

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from heapgui.errors import HeapguiError
from heapgui.trace.load import Cancelled
from heapgui.ui.collector import collect_in_gui_thread
from heapgui.workspace.loading import IsCancelled, Job, Progress

logger = logging.getLogger(__name__)

# The job types are the core's; panels that run jobs take them from here with `Task`.
__all__ = ["IsCancelled", "Job", "Progress", "Task", "describe_failure", "running_threads"]

_started: dict[QThread, QObject] = {}
"""Every thread started here with its worker, kept alive until the thread has finished:
a worker collected while its thread runs would be deleted from the wrong thread."""


def running_threads() -> list[QThread]:
    """Threads still running; finished ones are forgotten (and freed) here, in the GUI thread."""
    for thread in [t for t in _started if t.isFinished()]:
        del _started[thread]
    return list(_started)


def describe_failure(exc: BaseException) -> str:
    """One line for the user; tracebacks only go to the log."""
    if isinstance(exc, HeapguiError):
        return str(exc)
    if isinstance(exc, OSError):
        name = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{name}{exc.strerror or exc}"
    logger.error("unexpected failure in background task", exc_info=exc)
    return f"internal error: {type(exc).__name__}: {exc}"


class _Worker(QObject):
    """Lives in the task's thread; holds no widget and only talks through signals."""

    progressed = Signal(float)
    succeeded = Signal(object)
    failed = Signal(str)
    stopped = Signal()

    def __init__(self, job: Job, stop: threading.Event) -> None:
        super().__init__()
        self._job = job
        self._stop = stop

    @Slot()
    def run(self) -> None:
        try:
            result = self._job(self.progressed.emit, self._stop.is_set)
        except Cancelled:
            self.stopped.emit()
        except Exception as exc:  # noqa: BLE001 - every failure must reach the GUI as one line
            self.failed.emit(describe_failure(exc))
        else:
            self.succeeded.emit(result)


class Task(QObject):
    """One background job; emits exactly one of succeeded/failed/cancelled."""

    progressed = Signal(float)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    inline = False
    """The one switch for tests (the `inline_tasks` fixture): every job runs in the caller's
    thread, so a test can drive the window without waiting for threads."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job
        self._stop = threading.Event()
        self._over = False

    @property
    def active(self) -> bool:
        return not self._over

    def start(self) -> None:
        if Task.inline:
            worker = _Worker(self._job, self._stop)
            self._connect(worker)
            worker.run()
            return
        collect_in_gui_thread()  # a collection in the worker could destroy Qt objects there
        thread = QThread()
        worker = _Worker(self._job, self._stop)
        worker.moveToThread(thread)
        self._connect(worker)
        thread.started.connect(worker.run)
        for done in (worker.succeeded, worker.failed, worker.stopped):
            # Direct: a queued quit would wait for the GUI thread, which may itself
            # be waiting for this thread to end (closing the window).
            done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        running_threads()  # forgets (and frees) the threads that have finished
        _started[thread] = worker
        thread.start()

    def cancel(self) -> None:
        """Stop the job; from now on nothing it produces reaches the GUI."""
        if self._over:
            return
        self._stop.set()
        self._over = True
        self.cancelled.emit()

    def _connect(self, worker: _Worker) -> None:
        worker.progressed.connect(self._progressed)
        worker.succeeded.connect(self._succeeded)
        worker.failed.connect(self._failed)
        worker.stopped.connect(self._stopped)

    @Slot(float)
    def _progressed(self, fraction: float) -> None:
        if not self._over:
            self.progressed.emit(fraction)

    @Slot(object)
    def _succeeded(self, result: object) -> None:
        if not self._over:
            self._over = True
            self.succeeded.emit(result)

    @Slot(str)
    def _failed(self, message: str) -> None:
        if not self._over:
            self._over = True
            self.failed.emit(message)

    @Slot()
    def _stopped(self) -> None:
        if not self._over:
            self._over = True
            self.cancelled.emit()


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc only; elsewhere nothing to do).

    Decoding frees hundreds of megabytes of chunk buffers, partly in the worker
    thread's own malloc arena; glibc keeps them resident until asked.
    """
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)
