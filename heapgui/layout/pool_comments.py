"""Comments inside a multi-line `pools = [ ... ]`, kept with the pools they annotate.

A comment after an entry on its line, and comment lines above an entry, belong
to that entry's block size; when a rewrite keeps a pool of that block, its
comments come along, else they go with it. A comment on the `[` line and
comment lines after the last entry belong to the array. Each kept line keeps
its own text and line ending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from heapgui.sizes import parse_size

_TRAILING_COMMENT = re.compile(r"[ \t]*#.*")
"""A comment with the blanks before it; `.` stops at the line break but keeps a CR."""


@dataclass
class PoolComments:
    opening: str = ""
    """What follows `[` on its line, with the line's ending, when it holds a comment."""
    before: dict[int, list[str]] = field(default_factory=dict)
    """Whole comment lines above the entry of each block."""
    after: dict[int, str] = field(default_factory=dict)
    """What follows `{ ... },` on the entry's line, with the ending, when it holds a comment."""
    closing: list[str] = field(default_factory=list)
    """Whole comment lines after the last entry."""


def pool_comments(array: Any) -> PoolComments:
    """The comments of a tomlkit pools array; none when its text is not the usual shape."""
    gaps = _gaps(array)
    comments = PoolComments()
    if gaps is None:
        return comments
    blocks = [_block(pool) for pool in array]
    for i, gap in enumerate(gaps):
        first, *lines = gap.split("\n")
        # `lines[-1]` is the indentation of what comes next (no line ending), never a comment.
        whole = [line + "\n" for line in lines[:-1] if "#" in line]
        comment = _TRAILING_COMMENT.search(first) if lines else None
        if comment and i == 0:
            comments.opening = comment[0] + "\n"
        elif comment:
            comments.after[blocks[i - 1]] = comment[0] + "\n"
        if i < len(blocks):
            comments.before.setdefault(blocks[i], []).extend(whole)
        else:
            comments.closing = whole
    return comments


def _gaps(array: Any) -> list[str] | None:
    """The text between `[`, each entry and `]`: whitespace, commas and comments."""
    text = array.as_string()
    gaps = []
    pos = 1
    for item in array:
        end = _skip_gap(text, pos)
        entry = item.as_string()
        if not text.startswith(entry, end):
            return None
        gaps.append(text[pos:end])
        pos = end + len(entry)
    gaps.append(text[pos:-1])
    return gaps


def _skip_gap(text: str, pos: int) -> int:
    """Where the next entry starts: past blanks, commas and whole comments (a `#` in a
    comment's text must not be taken for an entry)."""
    while pos < len(text):
        if text[pos] == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
        elif text[pos] in " \t\r\n,":
            pos += 1
        else:
            break
    return pos


def _block(pool: Any) -> int:
    """The entry's block size; the file was read successfully, so it is one."""
    block = pool["block"]
    return block if isinstance(block, int) else parse_size(str(block))
