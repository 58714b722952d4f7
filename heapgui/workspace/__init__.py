"""The session's state, owned in one place and free of Qt.

A `Workspace` holds what the user has open and decided: the trace set and the
trace shown, the config, the heap size with where it came from, the layout,
the validation, the live capture, and the time range the views share. It
announces every change as a plain `Event`; the GUI panels are views that
render it and send their requests to it, and the command line uses the same
model without a window.
"""

from heapgui.workspace.events import Event
from heapgui.workspace.heap import (
    HeapSize,
    HeapSource,
    guess_notice,
    guessed_heap_size,
    parse_heap_size,
)
from heapgui.workspace.model import Workspace

__all__ = [
    "Event",
    "HeapSize",
    "HeapSource",
    "Workspace",
    "guess_notice",
    "guessed_heap_size",
    "parse_heap_size",
]
