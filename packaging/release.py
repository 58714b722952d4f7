"""The release archive: the bundle with install.sh and uninstall.sh, as one .tar.gz.

heapgui-<version>-linux-<arch>.tar.gz
    heapgui-<version>-linux-<arch>/install.sh
    heapgui-<version>-linux-<arch>/uninstall.sh
    heapgui-<version>-linux-<arch>/heapgui/        the bundle (heapgui, heapgui-cli, ...)
"""

from __future__ import annotations

import platform
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("install.sh", "uninstall.sh")


def release_name(version: str, machine: str | None = None) -> str:
    return f"heapgui-{version}-linux-{machine or platform.machine()}"


def _as_shipped(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by root, readable by all: the build machine's user and umask are no one's business."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = (info.mode | 0o444 | (0o111 if info.mode & 0o100 else 0)) & 0o755
    return info


def make_archive(bundle: Path, out_dir: Path, name: str) -> Path:
    """Pack `bundle` and the install scripts into out_dir/<name>.tar.gz; symlinks stay links."""
    archive = out_dir / f"{name}.tar.gz"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for script in SCRIPTS:
            tar.add(HERE / script, f"{name}/{script}", filter=_as_shipped)
        tar.add(bundle, f"{name}/heapgui", filter=_as_shipped)
    return archive
