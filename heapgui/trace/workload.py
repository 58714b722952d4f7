"""Synthetic Drone-like allocation workloads, for benchmarks, demos and the simulator.

Objects are born at random times, live for a random while, sometimes grow or
shrink halfway through, and die. Sorting every event by time gives a valid
trace (each deallocation matches a live block) built without a Python loop.
"""

from __future__ import annotations

import numpy as np

from heapgui.trace.records import ALLOC, DEALLOC, GROW, SHRINK, Records

# Typical embedded sizes: small control blocks, buffers, a few large frames.
DEFAULT_SIZES = np.array(
    [4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 64, 96, 128, 200, 256, 384, 512, 1024, 2048], np.uint32
)


def workload(
    records: int,
    seed: int = 0,
    sizes: np.ndarray = DEFAULT_SIZES,
    resize_share: float = 0.1,
    mean_life: float = 200.0,
) -> Records:
    """About `records` records of a well-formed trace (exact count may differ by a few)."""
    rng = np.random.default_rng(seed)
    # Each object gives 2 records, or 3 when resized.
    objects = max(1, int(records / (2 + resize_share)))
    weights = 1.0 / np.arange(1, len(sizes) + 1)  # small sizes are the common ones
    size = rng.choice(sizes, objects, p=weights / weights.sum())
    birth = np.sort(rng.random(objects)) * objects
    life = rng.exponential(mean_life, objects) + 0.5
    death = birth + life
    resized = rng.random(objects) < resize_share
    new_size = np.where(resized, rng.choice(sizes, objects), 0).astype(np.uint32)
    grow = resized & (new_size >= size)
    mid = birth + life / 2
    times = np.concatenate([birth, death, mid[resized]])
    kind = np.concatenate(
        [
            np.full(objects, ALLOC, np.uint8),
            np.full(objects, DEALLOC, np.uint8),
            np.where(grow[resized], GROW, SHRINK).astype(np.uint8),
        ]
    )
    # A resized object dies with its new size.
    dead_size = np.where(resized, new_size, size)
    first = np.concatenate([size, dead_size, size[resized]])
    second = np.concatenate([np.zeros(2 * objects, np.uint32), new_size[resized]])
    order = np.argsort(times, kind="stable")
    return Records.build(kind[order], first[order], second[order], np.zeros(len(order), np.int64))
