"""What a capture reads SWO bytes from: the interface every byte source follows.

A capture runs in one worker thread that loops on `read()`, so a source never
blocks for long: `read()` returns within about 50 ms, with b"" when nothing
arrived. A source that fails raises a `HeapguiError` whose message is one line
for the user; a source with a natural end (a replayed file) raises
`SourceEnded` once everything has been delivered.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from heapgui.errors import HeapguiError


class SourceEnded(Exception):
    """The source delivered all it ever will (end of a replayed file); not a failure."""


class SourceLost(HeapguiError):
    """The other end went away mid-capture (a debugger closed its SWO stream)."""


@runtime_checkable
class ByteSource(Protocol):
    """SWO bytes from somewhere. Open, read and close it in the same thread.

    `heapgui.capture.probe.ProbeSource` is one; so are the TCP, replay and
    simulator sources next to this module.
    """

    @property
    def name(self) -> str:
        """What the user calls this source, for status lines and error messages."""
        ...

    def open(self) -> None:
        """Connect; raises HeapguiError with a one-line reason."""
        ...

    def read(self) -> bytes:
        """The bytes received since the last read; b"" if none came within ~50 ms.

        Raises HeapguiError when the source fails and SourceEnded when it is
        exhausted, in both cases only after every byte received was returned.
        """
        ...

    def close(self) -> None:
        """Disconnect and release everything; never raises, may be called twice."""
        ...
