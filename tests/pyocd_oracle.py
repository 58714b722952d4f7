"""pyOCD's own SWO parser as the oracle of what a capture should hold, port by port."""

from __future__ import annotations

from pyocd.trace.events import TraceITMEvent
from pyocd.trace.sink import TraceEventSink
from pyocd.trace.swo import SWOParser


class _Collect(TraceEventSink):
    def __init__(self):
        self.ports: dict[int, bytearray] = {}

    def receive(self, event):
        if isinstance(event, TraceITMEvent):
            data = event.data.to_bytes(4, "little")[: event.width]
            self.ports.setdefault(event.port, bytearray()).extend(data)


def pyocd_payloads(swo: bytes) -> dict[int, bytes]:
    """Payload per stimulus port as pyocd's own SWO parser sees it."""
    sink = _Collect()
    # pyocd hands events on at the timestamp after them; an overflow packet flushes the rest.
    SWOParser(None, sink).parse(swo + b"\x70")
    return {port: bytes(data) for port, data in sink.ports.items()}
