"""Python's cyclic garbage collector runs in the GUI thread only, once worker threads run.

A collection runs in whichever thread allocates when a threshold is crossed. In
a worker thread it can destroy a Qt object that sat in a reference cycle, and
a QObject destroyed there while the GUI thread deletes widgets deadlocks: the
worker holds Qt's object mutex and waits for the GIL, the GUI thread holds the
GIL and waits for the mutex. That hung the window during simulated Drone
Stream captures, whose worker allocates fast. pyqtgraph's `GarbageCollector`
answers the same problem the same way: automatic collection off, the same
generational thresholds checked by a timer in the GUI thread.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer

logger = logging.getLogger(__name__)

INTERVAL_MS = 500

_collector: _Collector | None = None


class _Collector(QObject):
    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)  # lives as long as the application, in its thread
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(INTERVAL_MS)
        gc.disable()
        logger.debug("cyclic garbage collection moved to the GUI thread")

    def collect(self) -> None:
        """Collect the oldest generation whose count passed its threshold, as Python would."""
        counts = gc.get_count()
        generation = -1
        for g, threshold in enumerate(self._thresholds):
            if counts[g] <= threshold:
                break
            generation = g
        if generation >= 0:
            gc.collect(generation)


def collect_in_gui_thread() -> None:
    """From now on collect cyclic garbage in the GUI thread only (call it from that thread)."""
    global _collector
    app = QCoreApplication.instance()
    if _collector is None and app is not None:
        _collector = _Collector(app)
