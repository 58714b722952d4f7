"""The framed tests' helpers: the format read word by word from its description (the oracle),
and short ways to build words and decode them."""

from __future__ import annotations

from heapgui.trace.framed import KEY, FramedDecoder
from heapgui.trace.records import Records


def decode(data: bytes, chunks=None, strict=False):
    d = FramedDecoder(strict=strict)
    parts = [d.feed(data[a:b]) for a, b in chunks] if chunks else [d.feed(data)]
    parts.append(d.finish())
    return Records.concat(parts), d


def words(*pairs) -> bytes:
    """Raw words from (header, 24-bit payload), keyed like the firmware does."""
    return b"".join((((h << 24) | p) ^ KEY).to_bytes(4, "little") for h, p in pairs)


def bounded_reference(data: bytes, limit: int) -> tuple[list[tuple], list[int]]:
    """Drone's stack machine word by word, keeping at most `limit` open frames per kind.

    A record whose words lie next to each other completes at once and never
    counts against the limit. Returns the records and the offsets of the frames
    dropped. Written from the format description; only valid-header words are
    given to it.
    """
    kinds = {0xA: "alloc", 0xD: "dealloc", 0xB: "grow", 0xC: "shrink"}
    stacks: dict[str, list[tuple[int, bytes]]] = {k: [] for k in kinds.values()}
    records, dropped = [], []
    split = [
        (int.from_bytes(data[at : at + 4], "little") ^ KEY).to_bytes(4, "big")
        for at in range(0, len(data) - 3, 4)
    ]
    skip = 0
    for i, word in enumerate(split):
        at = 4 * i
        if skip:
            skip -= 1
            continue
        header, payload = word[0], word[1:]
        kind, part = kinds[header >> 4], header & 0xF
        stack = stacks[kind]
        words = 2 if kind in ("alloc", "dealloc") else 3
        rest = split[i + 1 : i + words]
        if part == 1 and [w[0] for w in rest] == [header + k for k in range(1, words)]:
            # A record whose words lie next to each other is complete at once.
            if words == 2 and rest[0][1:3] == b"\0\0":
                records.append((kind, int.from_bytes(payload + rest[0][3:], "big")))
                skip = 1
                continue
            if words == 3 and rest[1][1] == 0:
                value = payload + rest[0][1:] + rest[1][2:]
                records.append(
                    (kind, int.from_bytes(value[:4], "big"), int.from_bytes(value[4:], "big"))
                )
                skip = 2
                continue
        if part == 1:
            if len(stack) == limit:
                dropped.append(stack.pop(0)[0])
            stack.append((at, payload))
        elif stack and part < words and len(stack[-1][1]) == 3:
            opened, frame = stack.pop()
            stack.append((opened, frame + payload))
        elif stack and part == words:
            opened, frame = stack.pop()
            zeros = 2 if words == 2 else 1
            if any(payload[:zeros]) or len(frame) != 4 * (words - 1) - 3 + zeros:
                continue
            value = frame + payload[zeros:]
            size = int.from_bytes(value[:4], "big")
            records.append(
                (kind, size, int.from_bytes(value[4:], "big")) if words == 3 else (kind, size)
            )
    return records, dropped
