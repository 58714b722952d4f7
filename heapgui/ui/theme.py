"""Light and dark palettes; widgets and charts take their colours from palette roles only.

The dark palette is defined here once. Everything else asks the palette for
a role (Base, Text, Highlight, ...) so a theme switch repaints consistently.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

logger = logging.getLogger(__name__)

THEMES = ("system", "light", "dark")

_R = QPalette.ColorRole
_DARK = {
    _R.Window: "#2b2d31",
    _R.WindowText: "#e6e6e6",
    _R.Base: "#1e1f22",
    _R.AlternateBase: "#26282c",
    _R.ToolTipBase: "#4a3f1c",
    _R.ToolTipText: "#f5e6b8",
    _R.PlaceholderText: "#8a8d93",
    _R.Text: "#e6e6e6",
    _R.Button: "#33363b",
    _R.ButtonText: "#e6e6e6",
    _R.BrightText: "#ff6b6b",
    _R.Light: "#45484e",
    _R.Midlight: "#3a3d42",
    _R.Mid: "#2f3135",
    _R.Dark: "#141517",
    _R.Shadow: "#000000",
    _R.Highlight: "#3d8fd1",
    _R.HighlightedText: "#ffffff",
    _R.Link: "#6cb6ff",
    _R.LinkVisited: "#c39bff",
}

_system_palette: QPalette | None = None


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    disabled = QColor(_DARK[_R.PlaceholderText])
    for role in (_R.Text, _R.WindowText, _R.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_theme(app: QApplication, name: str) -> None:
    """Switch the whole application; "system" restores the palette it started with."""
    global _system_palette
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
    if name not in THEMES:
        logger.warning("unknown theme %r, using the system palette", name)
        name = "system"
    if name != "system":
        # Fusion draws every control from the palette, so a dark palette looks dark everywhere.
        app.setStyle(QStyleFactory.create("Fusion"))
    if name == "dark":
        app.setPalette(dark_palette())
    elif name == "light":
        app.setPalette(app.style().standardPalette())
    else:
        app.setPalette(_system_palette)


RED_TINT = QColor(248, 81, 73, 70)
"""A translucent background that reads on the light and the dark theme: removed, more."""
GREEN_TINT = QColor(46, 160, 67, 70)
"""Its pair: added, fewer."""


def series_colour(index: int, palette: QPalette) -> QColor:
    """Distinct colours for per-size curves, spaced around the hue circle.

    Lightness follows the palette so curves stay readable on light and dark bases.
    """
    golden = 0.381966  # hue steps by the golden angle never repeat and stay apart
    hue = (index * golden) % 1.0
    dark_base = palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5
    return QColor.fromHslF(hue, 0.7, 0.65 if dark_base else 0.42)
