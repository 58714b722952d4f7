"""The build's checks of the bundle, run on small fake bundles (the real build takes minutes).

packaging/licenses.py maps every shipped file to a licence; packaging/elf.py
reads the glibc floor, the system libraries and unused libraries with readelf;
packaging/smoke_test.py decides whether a screenshot shows data.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name: str):
    """A module of packaging/ (a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"packaging_{name}", ROOT / "packaging" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


licenses = load("licenses")
elf = load("elf")


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not found: install the Debian package binutils")
    return found


# -- licences ------------------------------------------------------------------------------


@pytest.fixture
def texts(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "texts"
    folder.mkdir()
    made = {}
    for name in ("LGPL-3", "GPL-3", "numpy-LICENSE.txt", "python-LICENSE.txt", "copyright"):
        made[name] = folder / name
        made[name].write_text(f"the text of {name}\n")
    return made


def fake_facts(tmp_path: Path, texts: dict[str, Path]):
    Component = licenses.Component
    site = tmp_path / "venv" / "site-packages"
    prefix = tmp_path / "python"
    qt = Component(
        "qt", "Qt 6", "LGPL-3.0-only", (texts["LGPL-3"], texts["GPL-3"]), "https://qt.example/"
    )
    numpy = Component("numpy", "numpy 2", "BSD-3-Clause", (texts["numpy-LICENSE.txt"],))
    heapgui = Component(
        "heapgui",
        "heapgui 0.1",
        "MIT OR Apache-2.0",
        (ROOT / "LICENSE-MIT", ROOT / "LICENSE-APACHE"),
    )
    pyside_wheel = Component("pyside6-essentials", "PySide6 6", "LGPL-3.0-only", ())
    expat = Component(
        "debian-libexpat1", "libexpat1 2.5 (Debian)", "MIT", (texts["copyright"],), "apt-get source"
    )
    system_expat = Path("/usr/lib/x86_64-linux-gnu/libexpat.so.1")
    facts = licenses.Facts(
        distribution_of={
            site / "numpy" / "__init__.py": numpy,
            site / "numpy.libs" / "libscipy_openblas.so": numpy,
            site / "heapgui" / "cli.py": heapgui,
            site / "PySide6" / "Qt" / "lib" / "libQt6Core.so.6": pyside_wheel,
        },
        python_prefix=prefix,
        python=Component("cpython", "CPython 3", "PSF-2.0", (texts["python-LICENSE.txt"],)),
        debian_package_of=lambda path: expat if path == system_expat else None,
        vendored={"PySide6/Qt/*": qt, "libQt6*": qt},
    )
    shipped = {
        "PySide6/Qt/lib/libQt6Core.so.6": site / "PySide6" / "Qt" / "lib" / "libQt6Core.so.6",
        "numpy": site / "numpy" / "__init__.py",
        "numpy.libs/libscipy_openblas.so": site / "numpy.libs" / "libscipy_openblas.so",
        "heapgui.cli": site / "heapgui" / "cli.py",
        "libpython3.11.so.1.0": prefix / "lib" / "libpython3.11.so.1.0",
        "json": prefix / "lib" / "python3.11" / "json" / "__init__.py",
        "libexpat.so.1": system_expat,
    }
    return facts, shipped, {"qt": qt, "numpy": numpy, "heapgui": heapgui, "expat": expat}


def test_every_shipped_file_is_mapped_to_its_component(tmp_path, texts):
    facts, shipped, parts = fake_facts(tmp_path, texts)
    found = licenses.licences(shipped.items(), facts)
    assert found.unclaimed == [] and found.without_licence == []
    assert licenses.problems(found) == []
    by_file = {dest: c.name for c, dests in found.files.items() for dest in dests}
    assert by_file == {
        "PySide6/Qt/lib/libQt6Core.so.6": "qt",  # Qt inside the wheel: the vendored rule wins
        "numpy": "numpy",
        "numpy.libs/libscipy_openblas.so": "numpy",
        "heapgui.cli": "heapgui",
        "libpython3.11.so.1.0": "cpython",
        "json": "cpython",
        "libexpat.so.1": "debian-libexpat1",
    }


def test_an_unknown_library_or_a_licence_without_text_fails(tmp_path, texts):
    facts, shipped, _ = fake_facts(tmp_path, texts)
    shipped["libmystery.so.1"] = Path("/opt/vendor/libmystery.so.1")
    site = tmp_path / "venv" / "site-packages"
    no_text = licenses.Component("lazy-importer", "lazy-importer 0.1", "MIT", ())
    facts.distribution_of[site / "lazy_importer.py"] = no_text
    shipped["lazy_importer"] = site / "lazy_importer.py"
    problems = licenses.problems(licenses.licences(shipped.items(), facts))
    assert problems == [
        "no known licence for libmystery.so.1 (from /opt/vendor/libmystery.so.1)",
        "lazy-importer 0.1: no licence text (covers lazy_importer)",
    ]
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "licenses.py"), "--help"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0  # the script runs as a script too


def test_the_licenses_folder_names_licence_sources_and_texts(tmp_path, texts):
    facts, shipped, parts = fake_facts(tmp_path, texts)
    out = tmp_path / "bundle" / "licenses"
    out.parent.mkdir()
    licenses.write_licenses(out, licenses.licences(shipped.items(), facts))
    readme = (out / "README.txt").read_text()
    for component in parts.values():
        block = readme.split(f"{component.title}\n", 1)[1].split("\n\n", 1)[0]
        assert f"licence: {component.licence}" in block
        if component.sources:
            assert f"sources: {component.sources}" in block
        for text in component.texts:
            assert (out / component.name / text.name).read_bytes() == text.read_bytes()
    assert sorted(p.name for p in (out / "qt").iterdir()) == ["GPL-3", "LGPL-3"]


def test_debian_copyright_files_name_their_licences():
    text = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: 2001 Someone\nLicense: MIT\n Permission is hereby granted\n\n"
        "Files: lib/xmlparse.c\nLicense: MIT\n\nFiles: debian/*\nLicense: GPL-2+\n"
    )
    assert licenses.copyright_licences(text) == "MIT, GPL-2+"
    assert licenses.copyright_licences("Copyright (C) 1999 Someone\n") == "see the copyright file"


def test_an_installed_distribution_brings_its_licence_files():
    # The installed one (with a RECORD), not a heapgui.egg-info a source build left beside.
    installed = (
        d for d in importlib.metadata.distributions(name="heapgui") if d.read_text("RECORD")
    )
    component = licenses.distribution_component(next(installed))
    assert component.name == "heapgui" and component.licence == "MIT OR Apache-2.0"
    assert sorted(t.read_bytes() for t in component.texts) == sorted(
        (ROOT / name).read_bytes() for name in ("LICENSE-MIT", "LICENSE-APACHE")
    )


def test_a_system_file_maps_to_its_debian_package():
    dpkg = shutil.which("dpkg")
    if dpkg is None:
        pytest.skip("not a Debian system")
    true = Path(shutil.which("true")).resolve()
    # With merged /usr, dpkg knows the file by one of its two names.
    for name in (true, Path(str(true).removeprefix("/usr"))):
        expected = subprocess.run([dpkg, "-S", str(name)], capture_output=True, text=True)
        if expected.returncode == 0:
            break
    else:
        pytest.skip(f"dpkg does not know {true}")
    package = expected.stdout.split(":")[0]
    component = licenses.debian_package_of(true)
    assert component.name == f"debian-{package}"
    assert component.texts == (Path("/usr/share/doc") / package / "copyright",)
    assert component.sources.startswith("apt-get source ")
    assert licenses.debian_package_of(Path("/no/such/libfile.so.1")) is None


# -- ELF: glibc floor, system and unused libraries ------------------------------------------


def test_glibc_floor_agrees_with_objdump():
    objdump, _ = tool("objdump"), tool("readelf")
    binary = Path(shutil.which("true")).resolve()
    symbols = subprocess.run([objdump, "-T", str(binary)], capture_output=True, text=True).stdout
    newest = max(
        tuple(map(int, v.split("."))) for v in re.findall(r"\(GLIBC_(\d+(?:\.\d+)+)\)", symbols)
    )
    assert elf.glibc_floor([binary]) == ".".join(map(str, newest))


def test_version_needs_ignore_definitions_and_other_libraries():
    output = (
        "Version definition section '.gnu.version_d' contains 1 entry:\n"
        "  000000: Rev: 1  Flags: none  Index: 2  Cnt: 1  Name: GLIBC_2.99\n"
        "Version needs section '.gnu.version_r' contains 2 entries:\n"
        "  000000: Version: 1  File: libstdc++.so.6  Cnt: 1\n"
        "  0x0010:   Name: GLIBCXX_3.4.30  Flags: none  Version: 4\n"
        "  0x0020: Version: 1  File: libc.so.6  Cnt: 3\n"
        "  0x0030:   Name: GLIBC_2.34  Flags: none  Version: 3\n"
        "  0x0040:   Name: GLIBC_2.2.5  Flags: none  Version: 2\n"
        "  0x0050:   Name: GLIBC_PRIVATE  Flags: none  Version: 5\n"
    )
    assert elf.glibc_needs(output) == {(2, 34), (2, 2, 5)}


@pytest.fixture
def zlib_module() -> Path:
    """An extension module that links a library the system provides: zlib's, with libz."""
    module = Path(getattr(zlib, "__file__", "") or "/")
    if not module.is_file():
        pytest.skip("zlib is built into this Python")
    tool("readelf")
    if "libz.so.1" not in elf.needed_libraries(elf.readelf(module, "-d")):
        pytest.skip(f"{module} does not link libz.so.1")
    return module


def fake_elf_bundle(folder: Path, zlib_module: Path, with_module: bool) -> Path:
    internal = folder / "_internal"
    internal.mkdir(parents=True)
    shutil.copy(Path(shutil.which("true")).resolve(), folder / "heapgui-cli")
    if with_module:
        shutil.copy(zlib_module, internal / zlib_module.name)
    libz = subprocess.run(["ldd", str(zlib_module)], capture_output=True, text=True).stdout
    path = re.search(r"libz\.so\.1 => (\S+)", libz)
    if path is None:
        pytest.skip("ldd does not find libz.so.1")
    (internal / "lib").mkdir()
    shutil.copy(path.group(1), internal / "lib" / "libz.so.1")
    (internal / "libz.so.1").symlink_to("lib/libz.so.1")  # as PyInstaller links them
    return folder


def test_a_library_nothing_loads_is_reported(tmp_path, zlib_module):
    used = fake_elf_bundle(tmp_path / "used", zlib_module, with_module=True)
    files = elf.elf_files(used)
    assert elf.unused_libraries(used, elf.dependencies(files)) == []
    unused = fake_elf_bundle(tmp_path / "unused", zlib_module, with_module=False)
    files = elf.elf_files(unused)
    assert elf.unused_libraries(unused, elf.dependencies(files)) == ["_internal/lib/libz.so.1"]


def test_system_libraries_are_what_the_bundle_lacks(tmp_path, zlib_module):
    bundle = fake_elf_bundle(tmp_path / "b", zlib_module, with_module=True)
    (bundle / "_internal" / "libz.so.1").unlink()
    shutil.rmtree(bundle / "_internal" / "lib")
    needs = elf.dependencies(elf.elf_files(bundle))
    system = elf.system_libraries(bundle, needs)
    assert system == ["libz.so.1"]  # libc is glibc's own
    assert elf.missing_on_build_machine(system) == ["libz.so.1"]
    graphics = ["libGL.so.1", "libEGL.so.1", "libxcb.so.1", "libwayland-client.so.0"]
    x11 = ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert elf.missing_on_build_machine(graphics + x11) == x11


# -- smoke test: does a screenshot show data? ---------------------------------------------


def test_a_blank_or_unchanged_screenshot_shows_no_data():
    np = pytest.importorskip("numpy")
    smoke = load("smoke_test")
    rng = np.random.default_rng(1)
    empty = np.full((90, 140), 0xFFEEEEEE, dtype=np.uint32)
    assert "0.0%" in smoke.shows_data(empty.copy(), empty)
    blank = np.full_like(empty, 0xFFFFFFFF)  # everything changed, but to one colour
    assert "in 1 colours" in smoke.shows_data(blank, empty)
    data = empty.copy()
    data[20:60, 30:120] = rng.integers(0xFF000000, 0xFFFFFFFF, size=(40, 90), dtype=np.uint32)
    assert smoke.shows_data(data, empty) is None
