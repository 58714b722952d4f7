"""Simultaneous peaks by brute force: a plain walk over the events."""

from __future__ import annotations

import numpy as np


def brute_peaks(ops: list[tuple], heap_size: int | None = None) -> tuple[list[int], np.ndarray]:
    """Word-aligned classes and, per range of them, the most blocks live at once (plain loop)."""
    live: dict[int, int] = {}
    snapshots = []

    def alloc(size: int) -> None:
        if size and (heap_size is None or size <= heap_size):
            live[size] = live.get(size, 0) + 1

    def free(size: int) -> None:
        if live.get(size, 0):
            live[size] -= 1

    for op in ops:
        if op[0] == "alloc":
            alloc(op[1])
        elif op[0] == "dealloc":
            free(op[1])
        else:
            free(op[1])
            alloc(op[2])
        snapshots.append(dict(live))
    classes = sorted({-(-s // 4) * 4 for snap in snapshots for s in snap})
    n = len(classes)
    per_class = np.zeros((len(snapshots), n), np.int64)
    for t, snap in enumerate(snapshots):
        for s, c in snap.items():
            per_class[t, classes.index(-(-s // 4) * 4)] += c
    peaks = np.zeros((n, n), np.int64)
    for i in range(n):
        for j in range(i, n):
            peaks[i, j] = per_class[:, i : j + 1].sum(axis=1).max()
    return classes, peaks
