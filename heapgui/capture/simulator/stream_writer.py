"""The firmware's side of one Drone Stream buffer: drone-core's writer rule on target RAM.

`RingWriter.try_write` is one attempt of `drone-stream.md` section 2 with
interrupts masked: it writes the frame and publishes `write_cursor` after
the payload, or writes the wrap marker and tries again at offset 0, or
finds the buffer full and returns False. The caller (the simulated core)
then waits until the host has read and moved `read_cursor`. Nothing is
ever dropped or overwritten.
"""

from __future__ import annotations

import struct

from heapgui.capture.stream_map import StreamBuffer
from heapgui.capture.stream_ring import BOOTSTRAP, HEADER, WRAP_MARKER

_U32 = struct.Struct("<I")
_RUNTIME = struct.Struct("<III")


class RingWriter:
    """One buffer in `ram`, a bytearray holding target RAM from address `base`."""

    def __init__(self, buffer: StreamBuffer, ram: bytearray, base: int) -> None:
        self.buffer = buffer
        self.size = buffer.size
        self._ram = ram
        self._rt = buffer.runtime - base
        self._buf = buffer.buffer - base

    def try_write(self, stream: int, payload: bytes) -> bool:
        """One attempt to write a frame; False while the buffer has no room for it."""
        size, ram, buf = self.size, self._ram, self._buf
        need = len(payload) + HEADER
        while True:
            rc, wc = _RUNTIME.unpack_from(ram, self._rt)[1:]
            linear = wc >= rc
            avail = (size if linear else rc) - wc
            if avail >= need:
                nwc = wc + need
                if nwc == size:
                    nwc = 0
                if nwc == rc:
                    return False  # the buffer would look empty: it is full
                at = buf + wc
                ram[at] = stream
                ram[at + 1] = len(payload)
                ram[at + HEADER : at + need] = payload
                _U32.pack_into(ram, self._rt + 8, nwc)  # published after the payload
                return True
            if not (linear and rc != 0):
                return False
            ram[buf + wc] = WRAP_MARKER  # no room before the end: continue at 0
            _U32.pack_into(ram, self._rt + 8, 0)

    def pending(self) -> int:
        """Bytes written and not yet released by the host."""
        rc, wc = _RUNTIME.unpack_from(self._ram, self._rt)[1:]
        return (wc - rc) % self.size

    def boot(self, primary: bool, mask_offset: int) -> bool:
        """drone-core's start-up check; True when a host's bootstrap block was found.

        With the block: copy its runtime (and, on the primary stream, its
        mask), then clear its first byte so the next reset does not find it
        again. Without: runtime {size, 0, 0}, and the primary zeroes the mask.
        """
        ram, buf = self._ram, self._buf
        found = bytes(ram[buf : buf + len(BOOTSTRAP)]) == BOOTSTRAP
        if found:
            at = buf + len(BOOTSTRAP)
            ram[self._rt : self._rt + _RUNTIME.size] = ram[at : at + _RUNTIME.size]
            if primary:
                mask = ram[at + _RUNTIME.size : at + _RUNTIME.size + 4]
                ram[mask_offset : mask_offset + 4] = mask
            ram[buf] = 0
        else:
            _RUNTIME.pack_into(ram, self._rt, self.size, 0, 0)
            if primary:
                _U32.pack_into(ram, mask_offset, 0)
        return found
