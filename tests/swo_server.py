"""A TCP server that sends SWO bytes the way a debugger's SWO port does, for the source tests."""

from __future__ import annotations

import socket
import struct
import threading
import time


class SwoServer:
    """A debugger's raw SWO server on 127.0.0.1: streams `data` in pieces, then closes.

    `reset` closes with a TCP reset instead of an orderly shutdown; `hold`
    keeps the connection open after the data until `release()`.
    """

    def __init__(self, data: bytes, piece: int = 997, reset: bool = False, hold: bool = False):
        self.data = data
        self.piece = piece
        self.reset = reset
        self._release = threading.Event()
        if not hold:
            self._release.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = 0
        self.client_left = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._release.set()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            for at in range(0, len(self.data), self.piece):
                conn.sendall(self.data[at : at + self.piece])
                self.sent = at + len(self.data[at : at + self.piece])
                time.sleep(0.0005)
            self._release.wait(10)
            if self.reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                conn.shutdown(socket.SHUT_WR)
                # A client that goes away shows as end of stream here.
                conn.settimeout(5)
                try:
                    if conn.recv(1) == b"":
                        self.client_left.set()
                except OSError:
                    self.client_left.set()
        self.listener.close()

    def join(self) -> None:
        self._thread.join(10)


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]
