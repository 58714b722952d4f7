"""A live capture on a worker thread, sending merged updates to the GUI a few times a second.

The byte source and the `CaptureSession` are created, opened, polled and
closed inside the worker thread (pyocd requires it); the GUI thread never
waits for the probe. The worker merges what its polls bring and emits one
`batch` every `BATCH_INTERVAL` seconds, never one signal per record; each
carries the statistics after it, counted here once (`capture_batches`). Stopping
is a flag the loop checks between polls (each returns within ~50 ms); the
session then saves the tail and the last batch carries its summary.

`CaptureRun` lives in the GUI thread and is unparented: the worker thread
keeps it alive through the job until the thread has finished, so a signal
can never be emitted on a deleted object. Every run ends with exactly one of
`batch` with a finished update or `failed` (could not start, or an internal
error after which the files were closed), even if it was stopped while
still connecting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from heapgui.capture.byte_source import ByteSource
from heapgui.capture.session import CaptureSession, CaptureSummary, capture_batches
from heapgui.capture.sources import PROBE, SIM, SourceSettings, SourceSpec, make_source
from heapgui.ui.loader import IsCancelled, Job, Progress, Task, describe_failure

logger = logging.getLogger(__name__)

BATCH_INTERVAL = 0.04  # seconds between batches: 25 signals a second, whatever the data rate


def quit_when_done(job: Job) -> Job:
    """`job`, ending its thread's event loop itself when it returns.

    A `Task` thread otherwise quits through a queued signal that only the GUI
    thread delivers, so a GUI thread blocked in `wait()` (closing the window
    during a capture) would wait forever.
    """

    def run(progress: Progress, cancelled: IsCancelled) -> object:
        try:
            return job(progress, cancelled)
        finally:
            QThread.currentThread().quit()

    return run


@dataclass(frozen=True)
class CaptureRequest:
    """Everything one capture needs, checked by the form before the worker starts."""

    source: SourceSpec
    settings: SourceSettings
    heaptrace_path: Path
    raw_path: Path | None = None
    heap_size: int | None = None
    fmt: str = "framed"


class CaptureRun(QObject):
    """One capture from `start()` to its last batch; make a new run to capture again."""

    connected = Signal(str, object)
    """The source is open: its name and the core clock its timestamps count (or None)."""
    batch = Signal(object)
    """A merged `CaptureUpdate`; the one with `finished` set is the last signal of the run."""
    failed = Signal(str, str)
    """The capture could not start or broke (one line), and the udev help when a probe was
    refused for its permissions (else ""); the last signal of the run."""

    def __init__(self, request: CaptureRequest) -> None:
        super().__init__()
        self.request = request
        self._task: Task | None = None

    def start(self) -> None:
        task = Task(quit_when_done(self._capture))  # unparented: freed when replaced
        self._task = task
        task.start()

    def stop(self) -> None:
        """Ask the worker to stop; the final batch (or `failed`) still arrives."""
        if self._task is not None:
            self._task.cancel()

    def _capture(self, progress: Progress, stopping: IsCancelled) -> CaptureSummary | None:
        """The worker thread's job: touches no widget, talks only through signals."""
        request = self.request
        try:
            source = make_source(request.source, request.settings)
            session = CaptureSession(
                source, request.heaptrace_path, request.raw_path, request.heap_size, request.fmt
            )
            session.start()
        except Exception as exc:  # noqa: BLE001 - the GUI must hear why, in one line
            self.failed.emit(describe_failure(exc), _access_help(request))
            return None
        self.connected.emit(source.name, _core_clock(request, source))
        try:
            return self._loop(session, stopping)
        except Exception as exc:  # noqa: BLE001 - a bug: close the files, then report it
            message = describe_failure(exc)
            if session.summary is None:
                session.stop()
            self.failed.emit(message, "")
            return None

    def _loop(self, session: CaptureSession, stopping: IsCancelled) -> CaptureSummary:
        for batch in capture_batches(session, stopping, BATCH_INTERVAL, keep=True):
            self.batch.emit(batch)
        assert batch.summary is not None  # the last batch carries it
        return batch.summary


def _access_help(request: CaptureRequest) -> str:
    """How to let this user open the probe, when one is plugged in but its device is refused.

    pyOCD reports a refused probe as "not connected" or as a USB access error
    (errno 13), depending on the probe type: the USB bus tells which.
    """
    if request.source.kind != PROBE:
        return ""
    from heapgui.capture.diagnostics import probe_access_problem  # pyusb: loaded by the probe

    return probe_access_problem() or ""


def _core_clock(request: CaptureRequest, source: ByteSource) -> float | None:
    """The clock that turns timestamps into seconds: the form's, else the one a probe uses.

    The simulated board picks its own clock when none is given.
    """
    if request.settings.core_clock:
        return request.settings.core_clock
    if request.source.kind in (PROBE, SIM):
        from heapgui.capture.probe import ProbeSource  # already imported by the source

        if isinstance(source, ProbeSource):
            return source.settings.core_clock
    return None
