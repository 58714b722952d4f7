"""Light and dark palettes; widgets and charts take their colours from palette roles only.

The dark palette is defined here once. Everything else asks the palette for
a role (Base, Text, Highlight, ...) so a theme switch repaints consistently.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QIcon, QIconEngine, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyleFactory

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
_system_style = ""


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    disabled = QColor(_DARK[_R.PlaceholderText])
    for role in (_R.Text, _R.WindowText, _R.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_theme(app: QApplication, name: str) -> None:
    """Switch the whole application; "system" restores the palette and style it started with."""
    global _system_palette, _system_style
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
        _system_style = app.style().name()
    if name not in THEMES:
        logger.warning("unknown theme %r, using the system palette", name)
        name = "system"
    # Fusion draws every control from the palette, so a dark palette looks dark everywhere.
    style = QStyleFactory.create("Fusion" if name != "system" else _system_style)
    app.setStyle(_ThemedIcons(style))
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


GREY_SPREAD = 24
"""Most difference between a pixel's channels for it to count as grey (of 255)."""


class _ThemedIcons(QProxyStyle):
    """A style whose standard icons are drawn light on a dark palette when they are grey.

    Fusion's play, stop and close icons are black: on the dark palette they
    vanish, and so do Qt's own (a line edit's clear button, a tool bar's "»").
    The palette is read when an icon is painted, so a theme switch needs no
    refresh; coloured icons (folders, the green tick) stay as they are.
    """

    def standardIcon(self, which, option=None, widget=None) -> QIcon:  # noqa: N802 - Qt override
        return QIcon(_ThemedEngine(super().standardIcon(which, option, widget)))


class _ThemedEngine(QIconEngine):
    def __init__(self, source: QIcon) -> None:
        super().__init__()
        self._source = source
        self._dark: dict[tuple, QPixmap] = {}  # the dark palette's pixmaps: one test per size

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        window = QApplication.palette().color(QPalette.ColorRole.Window)
        if window.lightnessF() >= 0.5:
            return self._source.pixmap(size, mode, state)
        key = (size.width(), size.height(), mode, state)
        if key not in self._dark:
            self._dark[key] = _light_if_grey(self._source.pixmap(size, mode, state))
        return self._dark[key]

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.drawPixmap(rect, self.pixmap(rect.size(), mode, state))

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:  # noqa: N802
        return self._source.actualSize(size, mode, state)

    def availableSizes(self, mode: QIcon.Mode, state: QIcon.State) -> list[QSize]:  # noqa: N802
        return self._source.availableSizes(mode, state)

    def clone(self) -> QIconEngine:
        # PySide hands a clone to Qt without its Python half: keep that alive here (Qt clones
        # only when an icon is changed after copying, which heapgui never does).
        engine = _ThemedEngine(self._source)
        _clones.append(engine)
        return engine


_clones: list[_ThemedEngine] = []


def _light_if_grey(drawn: QPixmap) -> QPixmap:
    """`drawn` with its lightness inverted when every pixel is grey; a coloured one as is."""
    if drawn.isNull():
        return drawn
    image = drawn.toImage().convertToFormat(QImage.Format.Format_ARGB32)
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    argb = pixels[:, : width * 4].reshape(height, width, 4)  # bytes B, G, R, A
    colour, opaque = argb[..., :3].astype(np.int16), argb[..., 3] > 0
    spread = colour.max(axis=2) - colour.min(axis=2)
    if np.any(spread[opaque] > GREY_SPREAD):
        return drawn  # a coloured icon reads on either base
    argb = argb.copy()
    argb[..., :3] = 255 - argb[..., :3]
    inverted = QImage(argb.tobytes(), width, height, width * 4, QImage.Format.Format_ARGB32)
    result = QPixmap.fromImage(inverted.copy())
    result.setDevicePixelRatio(drawn.devicePixelRatio())
    return result
