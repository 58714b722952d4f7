"""Files planted where another local user could put them, to check that pyOCD runs none of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Planted:
    shared: Path  # the folder every capture used to share: <tmp>/heapgui-pyocd
    cwd: Path
    markers: Path

    def ran(self) -> list[str]:
        """Which planted files pyOCD ran or applied, by their folder."""
        return sorted(p.name for p in self.markers.iterdir())


def plant(folder: Path, markers: Path) -> None:
    folder.mkdir(parents=True)
    script_marker = markers / f"{folder.name}: pyocd_user.py ran"
    config_marker = markers / f"{folder.name}: pyocd.yaml applied"
    (folder / "pyocd_user.py").write_text(f"open({str(script_marker)!r}, 'w').close()\n")
    # The logging section calls any importable function: here one that makes the marker.
    (folder / "pyocd.yaml").write_text(
        "logging:\n"
        "  handlers:\n"
        "    planted:\n"
        "      (): os.mkdir\n"
        f"      path: {str(config_marker)!r}\n"
    )
