"""The core must stay usable without Qt: no PySide6 or pyqtgraph below trace/, layout/, capture/."""

import ast
import subprocess
import sys
from pathlib import Path

import heapgui

CORE = ("trace", "layout", "capture")
QT = ("PySide6", "pyqtgraph", "shiboken6")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_sources_never_import_qt():
    root = Path(heapgui.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for package in CORE
        for path in (root / package).rglob("*.py")
        if _imports(path) & set(QT)
    ]
    assert offenders == []


def test_importing_the_core_loads_no_qt():
    code = (
        "import sys, pkgutil, importlib, heapgui\n"
        "for pkg in ('trace', 'layout', 'capture'):\n"
        "    mod = importlib.import_module('heapgui.' + pkg)\n"
        "    for info in pkgutil.walk_packages(mod.__path__, mod.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "import heapgui.cli\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
