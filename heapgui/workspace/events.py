"""Change notices without Qt: a callback list per kind of change.

Qt signals would tie the model to a QObject and an event loop; the command
line and the core tests have neither. A view that needs Qt's thread hopping
connects a Qt slot here and the slot does the hop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Callback = Callable[..., Any]


class Event:
    """Callbacks run in connection order, in the emitting thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback] = []

    def connect(self, callback: Callback) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callback) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        # A copy: a callback may disconnect itself (a one-shot waiter) while we iterate.
        for callback in list(self._callbacks):
            callback(*args)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} callbacks)"
