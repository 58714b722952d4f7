"""The bundle's licences, found from what is in it: every shipped file mapped to its component.

    python packaging/licenses.py BUNDLE SHIPPED.json     (build.py runs it in the build venv)

SHIPPED.json, written by heapgui.spec, lists every file PyInstaller put into the
bundle (its place in the bundle, the file it came from). Each one belongs to
the first of: third-party code a wheel carries inside it (Qt and ICU in
PySide6, libusb in libusb-package); the Python distribution that installed it;
CPython itself; the Debian package that installed it (a system library that
PyInstaller copied). BUNDLE/licenses/ gets one folder per component with its
licence texts (a Debian package's copyright file), and README.txt: each
component, its licence, where its sources are, and the files it covers. A
shipped file that nothing claims, or a component without a licence, fails the
build: the bundle may not be redistributed without it.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

COMMON_LICENSES = Path("/usr/share/common-licenses")  # Debian's base-files
# Licence files a distribution keeps in its .dist-info (PEP 639 puts them under licenses/).
LICENCE_FILE = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)
# The LGPL-3.0 is the GPL-3.0 plus permissions: both texts go with it.
PYSIDE_DISTRIBUTIONS = ("pyside6-essentials", "shiboken6")
TEXTS_FOR = {
    "LGPL-3.0-only": ("LGPL-3", "GPL-3"),
    "LGPL-2.1-or-later": ("LGPL-2.1",),
}


@dataclass(frozen=True)
class Component:
    name: str  # its folder under licenses/
    title: str
    licence: str  # an SPDX expression where there is one, else the package's own words
    texts: tuple[Path, ...]
    sources: str = ""  # where the corresponding sources are, for the (L)GPL ones


@dataclass
class Facts:
    """What the build machine knows about where files come from."""

    distribution_of: Mapping[Path, Component]  # every installed Python file → its distribution
    python_prefix: Path  # CPython's own files (libpython, stdlib, lib-dynload) live below it
    python: Component
    debian_package_of: Callable[[Path], Component | None]
    vendored: Mapping[str, Component] = field(default_factory=dict)  # bundle glob → component


@dataclass
class Licences:
    files: dict[Component, list[str]]  # component → the shipped files it covers
    unclaimed: list[str]  # shipped files no component claims
    without_licence: list[Component]


def component_of(dest: str, source: Path, facts: Facts) -> Component | None:
    """The component a shipped file (`dest` in the bundle, copied from `source`) belongs to."""
    for pattern, component in facts.vendored.items():
        if fnmatch.fnmatchcase(dest, pattern):
            return component
    if source in facts.distribution_of:
        return facts.distribution_of[source]
    if source.is_relative_to(facts.python_prefix):
        return facts.python
    return facts.debian_package_of(source)


def licences(shipped: Iterable[tuple[str, Path]], facts: Facts) -> Licences:
    result = Licences({}, [], [])
    for dest, source in shipped:
        component = component_of(dest, source, facts)
        if component is None:
            result.unclaimed.append(f"{dest} (from {source})")
        else:
            result.files.setdefault(component, []).append(dest)
    result.without_licence = [c for c in result.files if not c.licence or not c.texts]
    return result


def problems(found: Licences) -> list[str]:
    """One line for each thing that stops the bundle from being redistributed."""
    lines = [f"no known licence for {item}" for item in found.unclaimed]
    for component in found.without_licence:
        what = "no licence" if not component.licence else "no licence text"
        lines.append(f"{component.title}: {what} (covers {', '.join(found.files[component])})")
    return lines


def write_licenses(folder: Path, found: Licences) -> None:
    """folder/README.txt and one folder of licence texts per component."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    index = [
        "Licences of the software in this bundle",
        "",
        "heapgui is distributed under the MIT or the Apache-2.0 licence (see heapgui/).",
        "It is bundled with the components below, each under its own licence, whose texts",
        "are in the folder of the same name. The LGPL-licensed libraries (Qt, libusb and",
        "others) are separate shared libraries in _internal/: you may replace them with",
        "your own builds of the same version.",
        "",
    ]
    for component in sorted(found.files, key=lambda c: c.name):
        texts = folder / component.name
        texts.mkdir()
        for text in component.texts:
            shutil.copyfile(text, texts / _unique_name(texts, text.name))
        shown = sorted(found.files[component])
        index += [f"{component.title}", f"    licence: {component.licence}"]
        if component.sources:
            index.append(f"    sources: {component.sources}")
        index.append(f"    texts:   {component.name}/")
        more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
        index += [f"    files:   {', '.join(shown[:3])}{more}", ""]
    (folder / "README.txt").write_text("\n".join(index))


def _unique_name(folder: Path, name: str) -> str:
    candidate, number = name, 1
    while (folder / candidate).exists():
        number += 1
        candidate = f"{number}-{name}"
    return candidate


# -- the facts of this build machine ---------------------------------------------------------


def common_texts(licence: str) -> tuple[Path, ...]:
    names = TEXTS_FOR.get(licence, ())
    return tuple(COMMON_LICENSES / name for name in names if (COMMON_LICENSES / name).is_file())


def distribution_component(dist: importlib.metadata.Distribution) -> Component:
    meta = dist.metadata
    licence = meta.get("License-Expression") or meta.get("License") or ""
    if not licence or len(licence) > 200:  # some put the whole text in License
        classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        licence = "; ".join(c.split(" :: ")[-1] for c in classifiers) or licence[:200]
    texts = tuple(
        Path(dist.locate_file(f))
        for f in dist.files or []
        if ".dist-info" in f.parts[0] and LICENCE_FILE.match(f.name)
    )
    name = meta["Name"]
    folder = re.sub(r"[-_.]+", "-", name).lower()  # PEP 503's normalized name
    return Component(folder, f"{name} {dist.version}", licence.strip(), texts)


def installed_distributions() -> dict[Path, Component]:
    owners = {}
    for dist in importlib.metadata.distributions():
        component = distribution_component(dist)
        for f in dist.files or []:
            owners[Path(dist.locate_file(f)).resolve()] = component
    return owners


def copyright_licences(text: str) -> str:
    """The licences a Debian copyright file names (machine-readable format), else a pointer."""
    names = dict.fromkeys(
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.startswith("License:") and line.split(":", 1)[1].strip()
    )
    return ", ".join(names) or "see the copyright file"


def dpkg_query(package: str, fields: str) -> str:
    done = subprocess.run(
        ["dpkg-query", "-W", f"-f={fields}", package], capture_output=True, text=True
    )
    return done.stdout.strip()


def debian_package_of(source: Path) -> Component | None:
    """The Debian package that installed `source`, with its copyright file."""
    if shutil.which("dpkg") is None:
        return None
    resolved = source.resolve()
    candidates = {str(source), str(resolved)}
    for path in list(candidates):  # merged /usr: dpkg may know /lib/x or /usr/lib/x
        candidates.add(path.removeprefix("/usr") if path.startswith("/usr/") else "/usr" + path)
    for path in sorted(candidates):
        done = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if done.returncode == 0:
            package = done.stdout.split(":", 1)[0].strip()
            copyright_file = Path("/usr/share/doc") / package / "copyright"
            version = dpkg_query(package, "${Version}")
            origin = dpkg_query(package, "${source:Package}=${source:Version}")
            if not copyright_file.is_file():
                return Component(f"debian-{package}", f"{package} {version}", "", ())
            return Component(
                f"debian-{package}",
                f"{package} {version} (Debian)",
                copyright_licences(copyright_file.read_text(errors="replace")),
                (copyright_file,),
                f"apt-get source {origin}",
            )
    return None


def vendored_components() -> dict[str, Component]:
    """Third-party libraries that wheels carry, whose licence is not the wheel's own.

    Checked in order: ICU before the rest of Qt. The top-level names are the links
    PyInstaller makes to Qt's libraries (libQt6Core.so.6 → PySide6/Qt/lib/...).
    """
    qt_version = importlib.metadata.version("PySide6-Essentials")
    qt = Component(
        "qt",
        f"Qt {qt_version} (the libraries and plugins in PySide6/Qt)",
        "LGPL-3.0-only",
        common_texts("LGPL-3.0-only"),
        f"https://download.qt.io/official_releases/qt/{qt_version.rsplit('.', 1)[0]}/"
        f"{qt_version}/single/",
    )
    # The wheel carries ICU without its licence; Debian's ICU package has the same text.
    system_icu = (debian_package_of(p) for p in Path("/usr/lib").glob("*/libicuuc.so.*"))
    icu_texts = next((c.texts for c in system_icu if c is not None), ())
    icu = Component(
        "icu",
        "ICU in PySide6/Qt/lib (text: Debian's ICU copyright)",
        "Unicode-3.0 AND ICU",
        icu_texts,
    )
    libusb_version = ".".join(importlib.metadata.version("libusb-package").split(".")[:3])
    libusb = Component(
        "libusb",
        f"libusb {libusb_version} (in libusb_package)",
        "LGPL-2.1-or-later",
        common_texts("LGPL-2.1-or-later"),
        f"https://github.com/libusb/libusb/releases/tag/v{libusb_version}",
    )
    return {
        "PySide6/Qt/lib/libicu*": icu,
        "libicu*": icu,
        "PySide6/Qt/*": qt,
        "libQt6*": qt,
        "libusb_package/libusb-1.0*": libusb,
        "libusb-1.0*": libusb,  # the copy PyInstaller's pyusb hook puts at the top
    }


def pyside_component(owners: dict[Path, Component]) -> None:
    """PySide6's and Shiboken6's wheels name the LGPL but carry no text of it: add it."""
    version = importlib.metadata.version("PySide6-Essentials")
    pyside = Component(
        "pyside6",
        f"PySide6 and Shiboken6 {version}",
        "LGPL-3.0-only",
        common_texts("LGPL-3.0-only"),
        f"https://download.qt.io/official_releases/QtForPython/ (pyside6, shiboken6 {version})",
    )
    for path, component in owners.items():
        if component.name in PYSIDE_DISTRIBUTIONS:
            owners[path] = pyside


def build_facts() -> Facts:
    owners = installed_distributions()
    pyside_component(owners)
    stdlib = Path(sysconfig.get_path("stdlib"))
    python = Component(
        "cpython",
        f"CPython {sys.version.split()[0]}",
        "PSF-2.0",
        (stdlib / "LICENSE.txt",) if (stdlib / "LICENSE.txt").is_file() else (),
    )
    prefix = Path(sys.base_prefix).resolve()
    vendored = vendored_components()
    # Files the build makes: PyInstaller's archive of the stdlib modules its bootstrap needs,
    # and the two entry scripts beside heapgui.spec.
    own = next(c for c in owners.values() if c.name == "heapgui")
    vendored |= {"base_library.zip": python, "heapgui_main": own, "heapgui_cli_main": own}
    return Facts(owners, prefix, python, debian_package_of, vendored)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("shipped", type=Path, help="the JSON list heapgui.spec wrote")
    args = parser.parse_args(argv)
    shipped = [
        (dest, Path(source).resolve()) for dest, source in json.loads(args.shipped.read_text())
    ]
    found = licences(shipped, build_facts())
    trouble = problems(found)
    if trouble:
        sys.stderr.write("".join(f"licenses.py: error: {line}\n" for line in trouble))
        return 1
    write_licenses(args.bundle / "licenses", found)
    print(f"licences of {len(found.files)} components in {args.bundle / 'licenses'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
