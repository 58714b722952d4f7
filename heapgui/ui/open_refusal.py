"""File ▸ Open when detection is unsure: offer the plausible formats instead of only refusing.

Detection refuses a file when no format reads at least 90% of its first bytes
(heapgui.trace.formats). A damaged trace still scores far higher in its own
format than in the others, so the formats above the CLI's hint threshold are
offered as buttons, the best guess first; Cancel keeps the refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from heapgui.trace.formats import (
    DETECT_PREFIX,
    DETECT_THRESHOLD,
    FORCE_HINT_THRESHOLD,
    format_scores,
)


def plausible_formats(path: Path) -> list[tuple[str, float]]:
    """(format, share of the prefix it reads) worth offering for `path`, best first.

    Empty when detection would accept the file (the failure was something else),
    when nothing reads enough of it to be a damaged trace, or when it cannot be read.
    """
    try:
        with path.open("rb") as file:
            prefix = file.read(DETECT_PREFIX)
    except OSError:
        return []
    if not prefix:
        return []
    scores = format_scores(prefix)
    if scores[0][0] >= DETECT_THRESHOLD:
        return []
    return [(name, score) for score, name, _ in scores if score >= FORCE_HINT_THRESHOLD]


def format_choice_box(
    parent: QWidget | None,
    path: Path,
    message: str,
    choices: list[tuple[str, float]],
    versions: Mapping[str, str],
) -> tuple[QMessageBox, dict[object, str]]:
    """The question, and which button opens which format; the first choice is the default."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("heapgui")
    box.setText(f"heapgui cannot tell for sure which format {path.name} is in.")
    box.setInformativeText(
        f"{message}\n\nOpen it in one of these formats? Records the format cannot read "
        "are skipped and listed as problems."
    )
    buttons: dict[object, str] = {}
    for name, score in choices:
        label = f"Open as {name} (Drone {versions[name]}): {score:.0%} readable"
        button = box.addButton(label, QMessageBox.ButtonRole.AcceptRole)
        buttons[button] = name
    box.setDefaultButton(next(iter(buttons)))
    box.addButton(QMessageBox.StandardButton.Cancel)
    return box, buttons


def ask_format(
    parent: QWidget,
    path: Path,
    message: str,
    choices: list[tuple[str, float]],
    versions: Mapping[str, str],
) -> str | None:
    """The format the user picks for `path`, or None for Cancel."""
    box, buttons = format_choice_box(parent, path, message, choices, versions)
    box.exec()
    return buttons.get(box.clickedButton())
