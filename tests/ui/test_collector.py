"""Cyclic garbage is collected in the GUI thread only, once a worker thread has run.

A collection in a worker thread can destroy Qt objects there, which deadlocked
the window during a simulated Drone Stream capture (the GUI thread waiting for
Qt's mutex, the worker for the GIL).
"""

from __future__ import annotations

import gc
import threading

from heapgui.ui.loader import Task, running_threads


class _Cycle:
    """An object in a reference cycle that notes the thread that finally frees it."""

    freed_in: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.freed_in.append(threading.current_thread().name)


def _make_garbage(progress, cancelled) -> int:
    # Far past the first generation's threshold: Python would collect in this thread.
    for _ in range(20 * gc.get_threshold()[0]):
        _Cycle()
    return threading.get_ident()


def test_garbage_made_in_a_worker_is_freed_in_the_gui_thread(qtbot):
    _Cycle.freed_in.clear()
    task = Task(_make_garbage)
    with qtbot.waitSignal(task.succeeded, timeout=30_000) as done:
        task.start()
    assert done.args[0] != threading.get_ident()  # the job really ran in another thread
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)
    assert not gc.isenabled()  # automatic collection is off from the first worker on
    qtbot.waitUntil(lambda: len(_Cycle.freed_in) >= 20 * gc.get_threshold()[0], timeout=10_000)
    assert set(_Cycle.freed_in) == {threading.main_thread().name}
