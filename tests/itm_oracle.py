"""A byte-at-a-time ITM demultiplexer written straight from the spec: the tests' oracle.

It shares no code with heapgui.capture: it is the slow, obvious reading of
section 1 of the formats reference (shared/docs/heaptrace-formats.md) plus
heapgui's documented choices
(resync on a sync or a run of 8 valid packets, a packet refused for a
continuation run longer than the architecture allows is skipped with its
whole run, also while looking for a resync point, where it does not refute
a run of packets, the stimulus page is the 3
bits of a one-byte page extension and a sync resets it, timestamps date the
packets before them, the tail is dated at the end).
"""

from __future__ import annotations

from dataclasses import dataclass, field

RUN = 8


@dataclass
class Reference:
    payloads: dict[int, bytearray] = field(default_factory=dict)
    marks: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    overflows: int = 0
    skipped: int = 0
    first_skip: int | None = None
    truncated: int = 0
    packets: int = 0


def packet_at(data: bytes, i: int) -> tuple[str, int]:
    """('kind', length), ('invalid', 0), ('overlong', bytes to skip) or ('incomplete', 0)."""
    n = len(data)
    if i >= n:
        return "incomplete", 0
    h = data[i]
    if h == 0:
        j = i
        while j < n and data[j] == 0:
            j += 1
        if j == n:
            return "incomplete", 0
        if j - i >= 5 and data[j] == 0x80:
            return "sync", j + 1 - i
        return "invalid", 0
    if h == 0x70:
        return "overflow", 1
    if h & 3:
        size = {1: 1, 2: 2, 3: 4}[h & 3]
        if i + 1 + size > n:
            return "incomplete", 0
        return ("hardware" if h & 4 else "stimulus"), 1 + size
    if h in (0xC0, 0xD0, 0xE0, 0xF0):
        return _continued(data, i, 4, "ts1")
    if h in (0x10, 0x20, 0x30, 0x40, 0x50, 0x60):
        return "ts2", 1
    if h == 0x94:
        return _continued(data, i, 4, "gts")
    if h == 0xB4:
        return _continued(data, i, 6, "gts")
    if h & 0x0B == 0x08:
        return _continued(data, i, 4, "ext") if h & 0x80 else ("ext", 1)
    return "invalid", 0


def _continued(data: bytes, i: int, cap: int, kind: str) -> tuple[str, int]:
    k = 0
    while True:
        j = i + 1 + k
        if j >= len(data):
            return "incomplete", 0
        k += 1
        if not data[j] & 0x80:
            return kind, 1 + k
        if k == cap:
            # Too long: the packet goes on to its first byte without "more".
            while j < len(data) and data[j] & 0x80:
                j += 1
            return "overlong", min(j + 1, len(data)) - i


def plausible(data: bytes, i: int) -> bool:
    for _ in range(RUN):
        kind, length = packet_at(data, i)
        if kind in ("sync", "incomplete"):
            return True  # the whole stream is known: an open end cannot be refuted
        if kind == "invalid":
            return False
        i += length  # also past a too-long packet: its extent is known
    return True


def septets(data: bytes) -> int:
    return sum((b & 0x7F) << (7 * k) for k, b in enumerate(data))


def reference_demux(data: bytes) -> Reference:
    out = Reference()
    page = 0
    ticks = 0
    dated: dict[int, int] = {}
    i = 0
    n = len(data)
    while i < n:
        kind, length = packet_at(data, i)
        if kind == "incomplete":
            out.truncated = n - i
            break
        if kind in ("invalid", "overlong"):
            start = i
            i += max(length, 1)
            while i < n and not plausible(data, i):
                kind, length = packet_at(data, i)
                i += length if kind == "overlong" else 1  # never resume inside its run
            out.skipped += i - start
            out.first_skip = start if out.first_skip is None else out.first_skip
            continue
        out.packets += 1
        h = data[i]
        body = data[i + 1 : i + length]
        if kind == "sync":
            page = 0
        elif kind == "overflow":
            out.overflows += 1
        elif kind == "stimulus":
            out.payloads.setdefault(page * 32 + (h >> 3), bytearray()).extend(body)
        elif kind == "ext" and not h & 0x84:
            page = (h >> 4) & 7
        elif kind in ("ts1", "ts2"):
            ticks += septets(body) if kind == "ts1" else h >> 4
            for port, payload in out.payloads.items():
                if len(payload) > dated.get(port, 0):
                    out.marks.setdefault(port, []).append((len(payload), ticks))
                    dated[port] = len(payload)
        i += length
    for port, payload in out.payloads.items():
        if len(payload) > dated.get(port, 0):
            out.marks.setdefault(port, []).append((len(payload), ticks))
    return out
