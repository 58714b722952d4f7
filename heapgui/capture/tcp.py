"""SWO bytes from a debugger that is already running and serves its raw SWO stream over TCP.

pyOCD's gdbserver, OpenOCD, the J-Link GDB server and orbuculum can all hand
the raw SWO byte stream to TCP clients; heapgui then needs no access to the
probe itself. The debugger owns the target, so it also sets up the ITM and
the SWO baud rate. When it closes the connection mid-capture, that is an
error the user must see, raised only after every byte received was returned.
"""

from __future__ import annotations

import logging
import select
import socket
from dataclasses import dataclass

from heapgui.capture.byte_source import SourceLost
from heapgui.errors import HeapguiError

logger = logging.getLogger(__name__)

DEFAULT_HOST = "localhost"
CONNECT_TIMEOUT = 3.0  # seconds
IDLE_WAIT = 0.02  # seconds read() waits for data before answering b""
RECV_SIZE = 1 << 16
READ_LIMIT = 1 << 20  # bytes one read() returns at most, so a poll stays short


@dataclass(frozen=True)
class TcpPreset:
    """A debugger that serves raw SWO over TCP: its usual port and how to turn it on."""

    name: str
    label: str
    port: int
    how: str


TCP_PRESETS = (
    TcpPreset(
        "pyocd",
        "pyOCD gdbserver",
        3443,
        "pyocd gdbserver -Oenable_swv=1 -Oswv_system_clock=<core clock> -Oswv_clock=<baud>",
    ),
    # OpenOCD has no default port for its trace server; 3344 is heapgui's choice.
    TcpPreset(
        "openocd",
        "OpenOCD",
        3344,
        "<chip>.tpiu configure -protocol uart -formatter 0 -traceclk <core clock> "
        "-pin-freq <baud> -output :3344; <chip>.tpiu enable",
    ),
    TcpPreset(
        "jlink",
        "J-Link GDB Server",
        2332,
        "JLinkGDBServer serves SWO on its SWO port (-SWOPort, 2332 by default) "
        "once SWO is started with 'monitor SWO EnableTarget'",
    ),
    TcpPreset("orbuculum", "orbuculum", 3443, "orbuculum serves the SWO stream on port 3443"),
)
PRESETS_BY_NAME = {preset.name: preset for preset in TCP_PRESETS}


class TcpSource:
    """Raw SWO from `host:port`. Create, open, read and close it in the same thread."""

    def __init__(
        self,
        host: str,
        port: int,
        connect_timeout: float = CONNECT_TIMEOUT,
        idle_wait: float = IDLE_WAIT,
    ) -> None:
        self.host = host
        self.port = port
        self._connect_timeout = connect_timeout
        self._idle_wait = idle_wait
        self._socket: socket.socket | None = None
        self._lost: str | None = None  # why the stream ended, reported on the next read

    @property
    def name(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"SWO stream {host}:{self.port}"

    def open(self) -> None:
        if self._socket is not None:
            raise HeapguiError(f"{self.name} is already open")
        self._lost = None
        try:
            sock = socket.create_connection((self.host, self.port), self._connect_timeout)
        except OSError as err:
            raise HeapguiError(
                f"cannot connect to {self.name}: {_reason(err)}{self._hint()}"
            ) from None
        sock.setblocking(False)
        self._socket = sock
        logger.info("connected to %s", self.name)

    def read(self) -> bytes:
        sock = self._socket
        if sock is None:
            raise HeapguiError(f"{self.name} is not open")
        if self._lost is not None:
            raise SourceLost(f"{self.name}: {self._lost}")
        ready, _, _ = select.select([sock], [], [], self._idle_wait)
        if not ready:
            return b""
        data = bytearray()
        while len(data) < READ_LIMIT:
            try:
                chunk = sock.recv(RECV_SIZE)
            except BlockingIOError:
                break
            except OSError as err:
                self._lost = f"the connection failed ({_reason(err)})"
                break
            if not chunk:
                self._lost = "the debugger closed the connection"
                break
            data += chunk
        if not data and self._lost is not None:
            raise SourceLost(f"{self.name}: {self._lost}")
        return bytes(data)

    def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is None:
            return
        try:
            sock.close()
        except OSError as err:
            logger.debug("%s: closing failed: %s", self.name, err)

    def _hint(self) -> str:
        known = [p for p in TCP_PRESETS if p.port == self.port]
        if not known:
            return ""
        return " (is " + " or ".join(p.label for p in known) + " running with SWO enabled?)"


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__
