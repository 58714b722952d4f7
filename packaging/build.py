"""Build the standalone heapgui bundle and its release archive, then smoke-test them.

    python packaging/build.py [--venv DIR] [--no-smoke]

Runs on Linux, Windows and macOS with the Python the bundle should contain.
PyInstaller and heapgui (a regular, non-editable install of the files git
tracks in this checkout, with the `packaging` extra) go into a separate
virtual environment, by default `heapgui-pyi-venv` in the temporary
directory, never into the development one. PyInstaller runs outside the
checkout, so the bundle holds the installed package, not the source tree.
The bundle lands in packaging/dist/heapgui/. On Linux the build then reads
the bundle's ELF files (elf.py: glibc floor, system libraries, nothing
unused), writes its licences (licenses.py) and packs
packaging/dist/heapgui-<version>-linux-<arch>.tar.gz with install.sh and
uninstall.sh; the smoke test runs on the archive as install.sh installs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from release import make_archive, release_name

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = HERE / "dist"
WORK = HERE / "build"
SPEC = HERE / "heapgui.spec"


def venv_python(venv: Path) -> Path:
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def run(*command: str | Path, cwd: Path | None = None, env: dict | None = None) -> None:
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=cwd, env=env)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def tracked_source(target: Path) -> Path:
    """The files git tracks in this checkout, as they are now, copied to `target`.

    pip would put every file under heapgui/ into the wheel, untracked ones too.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", "pyproject.toml", "README.md", "LICENSE-*", "heapgui"],
            cwd=ROOT, check=True, capture_output=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(
            f"build.py: error: cannot list the files git tracks in {ROOT}: {exc}"
        ) from None
    for name in listed.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def install_and_measure(archive: Path, scratch: Path) -> Path:
    """Unpack the archive and run its install.sh into a scratch HOME: the bundle a user gets."""
    unpacked = scratch / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    home = scratch / "home"
    home.mkdir()
    (folder,) = unpacked.iterdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    run("sh", folder / "install.sh", env=dict(env, HOME=str(home)))
    print(
        f"archive {archive.name}: {archive.stat().st_size / 2**20:.1f} MiB, "
        f"unpacked {folder_size(unpacked) / 2**20:.1f} MiB",
        flush=True,
    )
    return home / ".local" / "lib" / "heapgui"


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
    with tempfile.TemporaryDirectory(prefix="heapgui-build-") as scratch:
        source = tracked_source(Path(scratch) / "source")
        run(python, "-m", "pip", "install", f"{source}[packaging]")
        # pip keeps an installed heapgui of the same version: put this checkout's code in.
        run(python, "-m", "pip", "install", "--force-reinstall", "--no-deps", source)
        started = time.monotonic()
        # Outside the checkout, so that `import heapgui` finds the installed package only.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        run(
            python, "-m", "PyInstaller", "--noconfirm", "--clean",
            "--distpath", DIST, "--workpath", WORK, SPEC, cwd=Path(scratch), env=env,
        )  # fmt: skip
    bundle = DIST / "heapgui"
    print(
        f"built {bundle} in {time.monotonic() - started:.0f} s: "
        f"{folder_size(bundle) / 2**20:.1f} MiB",
        flush=True,
    )
    if not sys.platform.startswith("linux"):
        if not args.no_smoke:
            run(python, HERE / "smoke_test.py", bundle)
        return 0
    run(python, HERE / "elf.py", bundle)
    run(python, HERE / "licenses.py", bundle, WORK / "heapgui" / "shipped.json")
    version = subprocess.run(
        [python, "-c", "import heapgui; print(heapgui.__version__)"],
        check=True, capture_output=True, text=True, cwd=tempfile.gettempdir(),
    ).stdout.strip()  # fmt: skip
    archive = make_archive(bundle, DIST, release_name(version))
    if not args.no_smoke:
        with tempfile.TemporaryDirectory(prefix="heapgui-installed-") as scratch:
            installed = install_and_measure(archive, Path(scratch))
            run(python, HERE / "smoke_test.py", installed)
    print(f"release archive: {archive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
