"""Verdicts on layouts as the user edits them: at once when cheap, else in the background.

The checker (heapgui.layout.verdict.EditChecker) decides most edits from the
max loads or range peaks it already knows, in well under a millisecond; those
verdicts are given at once. Small sets are checked whole in the GUI thread.
Anything else (the set's range peaks, made the first time an edit needs them,
one new range, a full replay) is a background `Task`, and `checking` says so
until `ready` brings the verdict.

Several layouts are checked side by side (the edited one, the optimum, the
config's), each under a key; only the newest request per key is kept while a
job runs. One job at a time: the checker caches range peaks in place, so two
jobs at once could overwrite each other's.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from heapgui.layout.pools import Pool
from heapgui.layout.verdict import EditChecker, Verdict
from heapgui.trace.traceset import TraceSet
from heapgui.ui.loader import IsCancelled, Progress, Task

logger = logging.getLogger(__name__)

INLINE_RECORDS = 100_000
"""Sets with fewer records in all are checked whole in the GUI thread: a full replay of
10^5 records takes 30-50 ms, inside the 100 ms a keystroke may wait for its verdict."""
REMEMBERED = 64
"""Verdicts kept per set, so undo and redo show theirs at once."""


@dataclass(frozen=True)
class VerdictRequest:
    key: str
    heap_size: int
    pools: tuple[Pool, ...]

    @property
    def layout(self) -> tuple[int, tuple[Pool, ...]]:
        return self.heap_size, self.pools


class VerdictRunner(QObject):
    """Verdicts for one trace set at a time."""

    ready = Signal(str, object)
    """A key and its `Verdict`, for the newest request under that key."""
    checking = Signal(str)
    """The key's verdict is being worked out in the background."""
    failed = Signal(str, str)
    """A key and the one-line reason its verdict could not be found."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._checker: EditChecker | None = None
        self._records = 0
        self._known: OrderedDict[tuple[int, tuple[Pool, ...]], Verdict] = OrderedDict()
        self._latest: dict[str, VerdictRequest] = {}
        self._waiting: dict[str, VerdictRequest] = {}
        self._pending: set[str] = set()  # keys told `checking` and not yet `ready`
        self._task: Task | None = None

    def set_traces(self, traces: TraceSet | None) -> None:
        """Check layouts against `traces` (counting every allocation) from now on."""
        self._checker = EditChecker(traces) if traces is not None and len(traces) else None
        self._records = sum(len(t.records) for t in traces.traces) if traces is not None else 0
        self._known.clear()
        self._latest.clear()
        self._waiting.clear()
        self._pending.clear()

    def busy(self) -> bool:
        return self._task is not None

    def request(self, key: str, heap_size: int, pools: tuple[Pool, ...]) -> Verdict | None:
        """The verdict if it can be given at once; else None, and `ready` brings it later."""
        checker = self._checker
        if checker is None:
            return None
        request = VerdictRequest(key, heap_size, tuple(pools))
        self._latest[key] = request
        known = self._known.get(request.layout)
        if known is None:
            known = checker.quick(heap_size, pools, compute=self._inline())
        if known is None and self._inline():
            known = checker.verdict(heap_size, pools)
        if known is not None:
            self._remember(request, known)
            self._waiting.pop(key, None)
            self._pending.discard(key)
            return known
        self._waiting[key] = request
        self._pending.add(key)
        self.checking.emit(key)
        if self._task is None:
            self._next()
        return None

    def _inline(self) -> bool:
        return Task.inline or self._records < INLINE_RECORDS

    def _remember(self, request: VerdictRequest, verdict: Verdict) -> None:
        self._known[request.layout] = verdict
        self._known.move_to_end(request.layout)
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)

    def _next(self) -> None:
        if self._waiting:
            key = next(iter(self._waiting))
            self._start(self._waiting.pop(key))

    def _start(self, request: VerdictRequest) -> None:
        checker = self._checker
        assert checker is not None

        def job(progress: Progress, cancelled: IsCancelled) -> tuple:
            # The range peaks are made here the first time an edit needs them.
            return checker, request, checker.verdict(request.heap_size, request.pools, cancelled)

        task = Task(job)  # unparented: dropped once it has reported
        task.succeeded.connect(self._succeeded)
        task.failed.connect(self._failed)
        self._task = task
        logger.info("checking the %s layout in the background", request.key)
        task.start()

    @Slot(object)
    def _succeeded(self, result: tuple) -> None:
        self._task = None
        checker, request, verdict = result
        if checker is self._checker:
            self._remember(request, verdict)
            # A request the job was not for may now be answered from the peaks it found.
            for key in sorted(self._pending):
                latest = self._latest[key]
                known = self._known.get(latest.layout)
                if known is None:
                    known = checker.quick(latest.heap_size, latest.pools, compute=False)
                if known is not None:
                    self._waiting.pop(key, None)
                    self._pending.discard(key)
                    self._remember(latest, known)
                    self.ready.emit(key, known)
        self._next()

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._task = None
        for key in sorted(self._pending):
            self.failed.emit(key, message)
        self._waiting.clear()
        self._pending.clear()
        self._next()
