"""Start the frozen heapgui bundle offscreen and check that it really works.

    python packaging/smoke_test.py packaging/dist/heapgui [--samples ../shared/samples]

Runs with a Python that has PySide6 and numpy (build.py uses its build
environment): the screenshots are read with Qt's QImage. Every run of the
bundle gets a scratch HOME, so settings, logs and pack caches of the user stay
untouched. Checks, in order: the doctor finds the bundled resources, Qt,
pyocd's probe drivers (entry points), libusb and a glibc at or above the
bundle's floor; a 3-second capture from the simulated board; `stats` on that
capture and on the sample traces against their expected results (a missing
sample folder is a failure); a screenshot of the capture loaded and one of
`--demo` capturing live, each of which must show data where the empty window
shows none; the cold start time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT = 180  # seconds for one run of the bundle
SCREENSHOT_SIZE = (1400, 900)
ESSENTIAL_CHECKS = ("heapgui", "qt", "pyocd", "libusb", "glibc")
# A screenshot shows data when, against the empty window, this share of its pixels changed
# and the changed ones hold this many colours (curves, bars, numbers; not one flat fill).
CHANGED_SHARE = 0.02
CHANGED_COLOURS = 32
STARTS = 5  # runs of the cold-start measurement; the first is the coldest


class SmokeFailure(Exception):
    pass


class Bundle:
    def __init__(self, folder: Path, scratch: Path) -> None:
        suffix = ".exe" if sys.platform == "win32" else ""
        self.gui = folder / f"heapgui{suffix}"
        self.cli = folder / f"heapgui-cli{suffix}"
        for exe in (self.gui, self.cli):
            if not exe.is_file():
                raise SmokeFailure(f"{exe} is missing")
        home = scratch / "home"
        home.mkdir()
        self.env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            HOME=str(home),
            USERPROFILE=str(home),
            APPDATA=str(home / "AppData" / "Roaming"),
            LOCALAPPDATA=str(home / "AppData" / "Local"),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
        )
        self.cwd = scratch

    def run(self, exe: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        print(f"  $ {exe.name} {' '.join(args)}", flush=True)
        done = subprocess.run(
            [str(exe), *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=self.env,
            cwd=self.cwd,
        )
        if done.returncode not in ok or "Traceback" in done.stderr:
            raise SmokeFailure(
                f"{exe.name} {' '.join(args)} exited with {done.returncode}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
        return done.stdout


def pixels(path: Path):
    """The PNG as a height × width array of 0xAARRGGBB values, read by Qt."""
    import numpy as np
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    if image.isNull():
        raise SmokeFailure(f"{path} is not a PNG Qt can read")
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), dtype=np.uint32).reshape(
        image.height(), image.bytesPerLine() // 4
    )
    return rows[:, : image.width()].copy()


def shows_data(shot, empty) -> str | None:
    """Why `shot` does not show more than the `empty` window did; None when it does."""
    height, width = min(shot.shape[0], empty.shape[0]), min(shot.shape[1], empty.shape[1])
    shot, empty = shot[:height, :width], empty[:height, :width]
    changed = shot[shot != empty]
    share, colours = changed.size / shot.size, len(set(changed.tolist()))
    print(f"    {share:.1%} of the pixels differ from the empty window, in {colours} colours")
    if share < CHANGED_SHARE or colours < CHANGED_COLOURS:
        return (
            f"only {share:.1%} of the pixels differ from the empty window, in {colours} "
            f"colours (want {CHANGED_SHARE:.0%} and {CHANGED_COLOURS})"
        )
    return None


def check_doctor(bundle: Bundle) -> None:
    # Exit code 1 only means some check failed; the essential ones must not.
    output = bundle.run(bundle.cli, "doctor", "--json", ok=(0, 1))
    try:
        report = json.loads(output)
    except json.JSONDecodeError:
        raise SmokeFailure(f"doctor --json printed no JSON:\n{output}") from None
    checks = {check["name"]: check for check in report["checks"]}
    for name in ESSENTIAL_CHECKS:
        check = checks[name]
        print(f"    {check['status']:<4} {name}: {check['summary']}")
        if check["status"] == "FAIL":
            raise SmokeFailure(f"doctor: {name}: {check['summary']}")
    if "stlink" not in checks["pyocd"]["summary"]:
        raise SmokeFailure(f"pyocd's probe drivers are missing: {checks['pyocd']['summary']}")


def check_capture_and_stats(bundle: Bundle) -> Path:
    trace = bundle.cwd / "heaptrace"
    raw = bundle.cwd / "capture.swo"
    bundle.run(
        bundle.cli, "capture", "--source", "sim", "--duration", "3",
        "-o", str(trace), "--raw", str(raw),
    )  # fmt: skip
    if trace.stat().st_size == 0 or raw.stat().st_size == 0:
        raise SmokeFailure("the simulated capture wrote nothing")
    stats = json.loads(bundle.run(bundle.cli, "stats", "-f", str(trace), "-s", "64K", "--json"))
    if stats["records"] == 0 or not stats["sizes"]:
        raise SmokeFailure(f"stats found no records in the capture: {stats}")
    print(f"    captured {stats['records']} records in {len(stats['sizes'])} sizes")
    return trace


def check_samples(bundle: Bundle, samples: Path) -> None:
    """`stats` on every sample with an expected result must agree with it."""
    if not samples.is_dir():
        raise SmokeFailure(f"no sample traces at {samples}: give their folder with --samples")
    checked = 0
    for expected_file in sorted(samples.glob("*.expected.json")):
        name = expected_file.name.removesuffix(".expected.json")
        trace = next(iter(sorted(samples.glob(f"{name}.framed"))), None)
        if trace is None:
            continue
        expected = json.loads(expected_file.read_text())
        got = json.loads(
            bundle.run(
                bundle.cli, "stats", "-f", str(trace), "-s", str(expected["heap_size"]), "--json"
            )
        )
        for key in ("records", "sizes", "max_usage"):
            if got[key] != expected[key]:
                raise SmokeFailure(f"stats of {trace.name}: {key} {got[key]} != {expected[key]}")
        print(f"    {trace.name}: as expected")
        checked += 1
    if not checked:
        raise SmokeFailure(f"no *.framed sample with a *.expected.json in {samples}")


def screenshot(bundle: Bundle, name: str, *args: str):
    shot = bundle.cwd / name
    shot.unlink(missing_ok=True)
    bundle.run(bundle.gui, "--screenshot", str(shot), *args)
    image = pixels(shot)
    height, width = image.shape
    # The window may grow past the requested size when its docks need more room.
    if width < SCREENSHOT_SIZE[0] or height < SCREENSHOT_SIZE[1]:
        raise SmokeFailure(f"screenshot is {width}x{height}, expected {SCREENSHOT_SIZE}")
    return image


def check_screenshot(bundle: Bundle, empty, *args: str) -> None:
    """The window with data must show it: compared with the empty window's pixels."""
    image = screenshot(bundle, "shot.png", *args)
    problem = shows_data(image, empty)
    if problem:
        raise SmokeFailure(f"the screenshot of heapgui {' '.join(args)} shows no data: {problem}")


def cold_start(bundle: Bundle) -> list[float]:
    """Seconds from starting `heapgui` to its first painted window, STARTS times."""
    times = []
    ready = bundle.cwd / "ready.json"
    for _ in range(STARTS):
        ready.unlink(missing_ok=True)
        started = time.time()
        bundle.run(bundle.gui, "--ready-file", str(ready))
        times.append(json.loads(ready.read_text())["time"] - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the bundle folder (packaging/dist/heapgui)")
    parser.add_argument(
        "--samples",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared" / "samples",
        help="sample traces with *.expected.json results (default: ../shared/samples)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="heapgui-smoke-") as scratch:
        bundle = Bundle(args.bundle.resolve(), Path(scratch))
        try:
            print("doctor", flush=True)
            check_doctor(bundle)
            print("capture from the simulated board, then stats", flush=True)
            trace = check_capture_and_stats(bundle)
            print(f"stats of the samples in {args.samples}", flush=True)
            check_samples(bundle, args.samples)
            print("screenshots: the empty window, then the capture", flush=True)
            empty = screenshot(bundle, "empty.png")
            check_screenshot(bundle, empty, str(trace))
            print("demo: live capture from the simulated board, then a screenshot", flush=True)
            check_screenshot(bundle, empty, "--demo")
            print("cold start", flush=True)
            times = cold_start(bundle)
        except (SmokeFailure, subprocess.TimeoutExpired) as exc:
            sys.stderr.write(f"smoke test FAILED: {exc}\n")
            return 1
    print(
        f"smoke test passed; start to first paint: first {times[0]:.2f} s, "
        f"median {statistics.median(times):.2f} s of {len(times)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
