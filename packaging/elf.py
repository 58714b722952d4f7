"""What the built bundle needs from the system, read from its ELF files with readelf (Linux).

    python packaging/elf.py BUNDLE     (build.py runs it after PyInstaller)

- the glibc floor: the newest GLIBC_x.y version any bundled file needs;
- the system libraries: what bundled files link to but the bundle does not carry.
  PyInstaller leaves glibc, the OpenGL/EGL, libdrm, libxcb and Wayland client
  libraries to the system on purpose (they must match its graphics stack); any
  other library missing from the bundle was missing on the build machine, so a
  bundle built elsewhere would carry it: the build fails and names the package;
- unused libraries: bundled shared libraries that nothing loaded at run time links
  to (QtNetwork, the EGLFS libraries); the build fails on them too.

The floor and the system libraries go into BUNDLE/_internal/heapgui-bundle.json,
where `heapgui-cli doctor` reads the floor.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from heapgui.doctor import BUNDLE_FACTS, debian_package  # the doctor reads what this writes

ELF_MAGIC = b"\x7fELF"
GLIBC_VERSION = re.compile(r"Name: GLIBC_(\d+(?:\.\d+)+)\b")
NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[(.+)\]")
# glibc's own libraries: the system always has them, at the floor's version.
GLIBC_LIBRARIES = re.compile(r"(libc|libm|libdl|libpthread|librt|libutil|libresolv)\.so\.\d+|ld-")
# What PyInstaller never bundles besides glibc: the graphics stack (its exclude list).
GRAPHICS_STACK = re.compile(
    r"libE?(Open)?GLX?(ESv1_CM|ESv2)?\.so|libdrm\.so|libxcb\.so|libwayland-(client|cursor|egl)\.so"
)
# Loaded by name at run time rather than linked: Qt plugins, libpython (by the bootloader),
# and the libraries pyocd's dependencies open through ctypes and cffi (libusb twice: from
# libusb_package, and at the top, where PyInstaller's run-time hook for pyusb looks).
LOADED_BY_NAME = (
    "PySide6/Qt/plugins/",
    "_internal/libpython",
    "_internal/libusb-1.0.so",
    "libusb_package/",
    "cmsis_pack_manager/",
)


def readelf(path: Path, *options: str) -> str:
    done = subprocess.run(
        ["readelf", "--wide", *options, str(path)], capture_output=True, text=True, check=True
    )
    return done.stdout


def glibc_needs(version_info: str) -> set[tuple[int, ...]]:
    """The GLIBC_x.y versions in the "Version needs" part of `readelf -V` output."""
    needs = version_info.split("Version needs section", 1)[1:]
    return {tuple(map(int, v.split("."))) for part in needs for v in GLIBC_VERSION.findall(part)}


def needed_libraries(dynamic: str) -> list[str]:
    """The DT_NEEDED names in `readelf -d` output."""
    return NEEDED.findall(dynamic)


def elf_files(folder: Path) -> list[Path]:
    """Every regular ELF file under `folder` (links are the files they point to)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == ELF_MAGIC:
                    found.append(path)
    return found


def is_extension_module(path: Path) -> bool:
    return not path.name.startswith("lib") and ".so" in path.name


def glibc_floor(files: list[Path]) -> str:
    newest = max((v for f in files for v in glibc_needs(readelf(f, "-V"))), default=(2, 2, 5))
    return ".".join(map(str, newest))


def dependencies(files: list[Path]) -> dict[Path, list[str]]:
    return {f: needed_libraries(readelf(f, "-d")) for f in files}


def unused_libraries(folder: Path, needs: dict[Path, list[str]]) -> list[str]:
    """Bundled libraries no executable, extension module or plugin reaches through DT_NEEDED."""
    by_name = {}
    for path in folder.rglob("*"):  # links too: libQt6Core.so.6 at the top points into PySide6
        if path.is_file():
            by_name.setdefault(path.name, set()).add(path.resolve())
    relative = {f: f.relative_to(folder).as_posix() for f in needs}
    pending = [
        f
        for f, name in relative.items()
        if is_extension_module(f)
        or ".so" not in f.name  # the executables
        or any(marker in name for marker in LOADED_BY_NAME)
    ]
    reached = set()
    while pending:
        path = pending.pop().resolve()
        if path in reached:
            continue
        reached.add(path)
        for name in needs.get(path, ()):
            pending.extend(by_name.get(name, ()))
    return sorted(relative[f] for f in needs if f.resolve() not in reached)


def system_libraries(folder: Path, needs: dict[Path, list[str]]) -> list[str]:
    """What bundled files link to that is not in the bundle, glibc's own libraries aside."""
    bundled = {path.name for path in folder.rglob("*")}
    wanted = {name for names in needs.values() for name in names}
    return sorted(n for n in wanted - bundled if not GLIBC_LIBRARIES.match(n))


def missing_on_build_machine(system: list[str]) -> list[str]:
    """The system libraries that the bundle should have carried (see the module's doc)."""
    return [n for n in system if not (GLIBC_LIBRARIES.match(n) or GRAPHICS_STACK.match(n))]


def main(argv: list[str] | None = None) -> int:
    (bundle,) = (Path(a).resolve() for a in (sys.argv[1:] if argv is None else argv))
    files = elf_files(bundle)
    needs = dependencies(files)
    errors = []
    unused = unused_libraries(bundle, needs)
    if unused:
        errors.append(f"nothing in the bundle loads {', '.join(unused)}")
    system = system_libraries(bundle, needs)
    missing = missing_on_build_machine(system)
    if missing:
        packages = " ".join(debian_package(n) or n for n in missing)
        errors.append(
            f"{', '.join(missing)} not found on the build machine, so not bundled: "
            f"install them (Debian: apt install {packages}) and build again"
        )
    if errors:
        sys.stderr.write("".join(f"elf.py: error: {line}\n" for line in errors))
        return 1
    facts = {"glibc": glibc_floor(files), "system_libraries": system}
    (bundle / "_internal" / BUNDLE_FACTS).write_text(json.dumps(facts, indent=1) + "\n")
    print(f"needs glibc {facts['glibc']} and {', '.join(facts['system_libraries'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
