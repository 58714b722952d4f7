"""Capture sessions driven piece by piece, and timestamped SWO streams: the capture tests."""

from __future__ import annotations

import time

import numpy as np

from heapgui.capture.byte_source import SourceEnded
from heapgui.capture.itm_encode import ItmEncoder
from heapgui.capture.session import CaptureSession, CaptureUpdate
from heapgui.trace.records import Records


class Pieces:
    """A byte source over bytes in memory, `piece` bytes a read, then `end` is raised."""

    def __init__(self, data: bytes, piece: int, end: BaseException | None = None) -> None:
        self.data = data
        self.piece = piece
        self.end = end or SourceEnded("pieces")
        self.at = 0
        self.opened = self.closed = 0

    @property
    def name(self) -> str:
        return "pieces"

    def open(self) -> None:
        self.opened += 1

    def read(self) -> bytes:
        if self.at >= len(self.data):
            raise self.end
        chunk = self.data[self.at : self.at + self.piece]
        self.at += len(chunk)
        return chunk

    def close(self) -> None:
        self.closed += 1


class Run:
    """Everything a session's updates carried, joined."""

    def __init__(self) -> None:
        self.updates: list[CaptureUpdate] = []

    def add(self, update: CaptureUpdate) -> CaptureUpdate:
        self.updates.append(update)
        return update

    @property
    def records(self) -> Records:
        return Records.concat([u.records for u in self.updates])

    @property
    def timestamps(self) -> np.ndarray:
        return np.concatenate([u.records.timestamp for u in self.updates if len(u.records)])

    @property
    def timeline(self) -> np.ndarray:
        return np.concatenate([u.timeline for u in self.updates])

    def text(self, port: int) -> str:
        return "".join(u.text.get(port, "") for u in self.updates)

    @property
    def last(self) -> CaptureUpdate:
        return self.updates[-1]


def poll_until_finished(session: CaptureSession, run: Run, limit: float = 20.0) -> CaptureUpdate:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if run.add(session.poll()).finished:
            return run.last
    raise AssertionError("the capture never finished")


def dated_stream(data: bytes, seed: int) -> tuple[bytes, np.ndarray]:
    """`data` as port-31 writes, each followed by a timestamp; and the tick of every byte."""
    count = ItmEncoder.write_count(len(data))
    deltas = np.random.default_rng(seed).integers(1, 5000, count)
    swo = ItmEncoder().stimulus(31, data, 4, deltas=deltas)
    rest = len(data) % 4
    sizes = [4] * (len(data) // 4) + ([2] if rest >= 2 else []) + ([1] if rest % 2 else [])
    return swo, np.repeat(np.cumsum(deltas), sizes)
