"""Numbers a time chart needs beyond the core statistics, computed on demand with numpy.

Nothing here keeps a per-record array alive: per-size curves are sparse (one
point per record that touches the size) and are built only for the sizes the
user selects.
"""

from __future__ import annotations

import numpy as np

from heapgui.trace.records import ALLOC, DEALLOC, GROW, Records
from heapgui.trace.stats import SizeRow, Statistics

STATS_CHUNK = 1 << 20
"""Records per update when replaying a prefix: sorting 1M records at a time stays in cache."""


def live_count_curve(records: Records, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Live blocks of `size` after each record that changes them: (record index, count).

    Grow and shrink count as a deallocation of the old size followed by an
    allocation of the new one; a deallocation with no live block is ignored
    (the count is floored at zero), as the core statistics do.
    """
    kind, old, new = records.kind, records.size, records.new_size
    resize = kind >= GROW
    minus = np.flatnonzero(((kind == DEALLOC) | resize) & (old == size))
    plus = np.flatnonzero(((kind == ALLOC) & (old == size)) | (resize & (new == size)))
    # Within one grow/shrink record the deallocation comes first: key 2r before 2r + 1.
    key = np.concatenate([minus * 2, plus * 2 + 1])
    delta = np.concatenate([np.full(len(minus), -1, np.int64), np.ones(len(plus), np.int64)])
    order = np.argsort(key, kind="stable")
    key, delta = key[order], delta[order]
    running = np.cumsum(delta)
    # A floored running sum: x_t = S_t - min(0, min_{k<=t} S_k).
    live = running - np.minimum(np.minimum.accumulate(running), 0) if len(running) else running
    record = key // 2
    last = np.ones(len(record), bool)
    last[:-1] = record[1:] != record[:-1]  # one point per record: its final count
    return record[last] + records.first_index, live[last]


def statistics_until(records: Records, record: int) -> Statistics:
    """The statistics after `record` (inclusive): what was live at that point of the trace."""
    stats = Statistics()
    stop = min(record + 1, len(records))
    for start in range(0, stop, STATS_CHUNK):
        stats.update(records.slice(start, min(start + STATS_CHUNK, stop)))
    return stats


def live_rows(stats: Statistics) -> list[SizeRow]:
    return [row for row in stats.rows() if row.live > 0]


def timeline_x(records: Records) -> np.ndarray:
    """The load chart's x values: timestamps when captured, else record indices.

    Indices are int32 while they fit: 4 bytes a record instead of 8 matters at
    ten million records.
    """
    if records.timestamp is not None:
        return records.timestamp
    return record_numbers(records)


def record_numbers(records: Records) -> np.ndarray:
    """Each record's number in its trace, as int32 while the numbers fit."""
    end = records.first_index + len(records)
    dtype = np.int32 if end < 2**31 else np.int64
    return np.arange(records.first_index, end, dtype=dtype)


def record_at(records: Records, x: float) -> int:
    """The record (0-based position in `records`) shown at chart coordinate `x`."""
    n = len(records)
    if n == 0:
        return -1
    if records.timestamp is not None:
        at = int(np.searchsorted(records.timestamp, x, side="right")) - 1
    else:
        at = round(x) - records.first_index
    return min(max(at, 0), n - 1)
