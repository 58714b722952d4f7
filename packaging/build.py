"""Build the standalone heapgui bundle with PyInstaller, then smoke-test it.

    python packaging/build.py [--venv DIR] [--no-smoke]

Runs on Linux, Windows and macOS with the Python the bundle should contain.
PyInstaller and heapgui (a regular, non-editable install of this checkout
with its `packaging` extra) go into a separate virtual environment, by
default `heapgui-pyi-venv` in the temporary directory, never into the
development one. The bundle lands in packaging/dist/heapgui/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = HERE / "dist"
WORK = HERE / "build"
SPEC = HERE / "heapgui.spec"


def venv_python(venv: Path) -> Path:
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def run(*command: str | Path) -> None:
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run([str(part) for part in command], check=True)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv",
        type=Path,
        default=Path(tempfile.gettempdir()) / "heapgui-pyi-venv",
        help="virtual environment for PyInstaller (created when missing)",
    )
    parser.add_argument("--no-smoke", action="store_true", help="skip the smoke test")
    args = parser.parse_args(argv)

    python = venv_python(args.venv)
    if not python.exists():
        run(sys.executable, "-m", "venv", args.venv)
        run(python, "-m", "pip", "install", "--upgrade", "pip")
    run(python, "-m", "pip", "install", f"{ROOT}[packaging]")
    # pip keeps an installed heapgui of the same version: put this checkout's code in.
    run(python, "-m", "pip", "install", "--force-reinstall", "--no-deps", ROOT)

    started = time.monotonic()
    run(
        python, "-m", "PyInstaller", "--noconfirm", "--clean",
        "--distpath", DIST, "--workpath", WORK, SPEC,
    )  # fmt: skip
    bundle = DIST / "heapgui"
    print(
        f"built {bundle} in {time.monotonic() - started:.0f} s: "
        f"{folder_size(bundle) / 2**20:.1f} MiB",
        flush=True,
    )
    if not args.no_smoke:
        run(python, HERE / "smoke_test.py", bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
