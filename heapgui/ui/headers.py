"""Column headers of the table models: a title to show and a tooltip that explains it."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt

logger = logging.getLogger(__name__)


def header_text(role: int, title: str, tip: str) -> str | None:
    """What `headerData` answers for `role`: the title, the tooltip, or nothing."""
    if role == Qt.ItemDataRole.DisplayRole:
        return title
    if role == Qt.ItemDataRole.ToolTipRole:
        return tip
    return None
