"""The layout on offer: what the layout panel shows, for every view that judges or writes it."""

from __future__ import annotations

from dataclasses import dataclass

from heapgui.layout.generate import Layout


@dataclass(frozen=True)
class ProposedLayout:
    layout: Layout
    source: str
    """How verdicts name it: "the proposed timeline layout", "the hand-edited layout"."""
