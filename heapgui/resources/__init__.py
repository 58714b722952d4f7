"""Files heapgui ships beside its code: icon, desktop entry, MIME types, udev rules, user guide.

They live inside the package so that `pip install .`, an editable install,
a source checkout and the PyInstaller bundle all find them the same way:
next to this module.
"""

from __future__ import annotations

from pathlib import Path

APP_ID = "io.github.heapgui"
"""The reverse-DNS application ID: desktop entry, AppStream component and icon name."""

RESOURCES = Path(__file__).resolve().parent
ICON = RESOURCES / f"{APP_ID}.svg"
DESKTOP_ENTRY = RESOURCES / f"{APP_ID}.desktop"
METAINFO = RESOURCES / f"{APP_ID}.metainfo.xml"
MIME_TYPES = RESOURCES / "heapgui-mime.xml"
UDEV_RULES = RESOURCES / "60-heapgui-probes.rules"
GUIDE = RESOURCES / "guide" / "index.html"
GUIDE_SOURCE = RESOURCES / "guide" / "guide.md"
