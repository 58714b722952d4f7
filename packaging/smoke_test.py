"""Start the frozen heapgui bundle offscreen and check that it really works.

    python packaging/smoke_test.py packaging/dist/heapgui [--samples ../shared/samples]

Uses only the standard library, so any Python runs it. Every run of the bundle
gets a scratch HOME, so settings, logs and pack caches of the user stay
untouched. Checks, in order: the doctor finds the bundled resources, Qt,
pyocd's probe drivers (entry points) and libusb; a 3-second capture from the
simulated board; `stats` on that capture and on the sample traces against
their expected results; a screenshot of the capture loaded; `--demo`
capturing live for a few seconds before its screenshot; the cold start time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT = 180  # seconds for one run of the bundle
SCREENSHOT_SIZE = (1400, 900)
ESSENTIAL_CHECKS = ("heapgui", "qt", "pyocd", "libusb")
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


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        raise SmokeFailure(f"{path} is not a PNG")
    return struct.unpack(">II", header[16:24])


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


def check_screenshot(bundle: Bundle, *args: str) -> None:
    shot = bundle.cwd / "shot.png"
    shot.unlink(missing_ok=True)
    bundle.run(bundle.gui, "--screenshot", str(shot), *args)
    width, height = png_size(shot)
    # The window may grow past the requested size when its docks need more room.
    if width < SCREENSHOT_SIZE[0] or height < SCREENSHOT_SIZE[1]:
        raise SmokeFailure(f"screenshot is {width}x{height}, expected {SCREENSHOT_SIZE}")


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
        help="sample traces with *.expected.json results (skipped when missing)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="heapgui-smoke-") as scratch:
        bundle = Bundle(args.bundle.resolve(), Path(scratch))
        try:
            print("doctor", flush=True)
            check_doctor(bundle)
            print("capture from the simulated board, then stats", flush=True)
            trace = check_capture_and_stats(bundle)
            if args.samples.is_dir():
                print(f"stats of the samples in {args.samples}", flush=True)
                check_samples(bundle, args.samples)
            print("screenshot of the capture", flush=True)
            check_screenshot(bundle, str(trace))
            print("demo: live capture from the simulated board, then a screenshot", flush=True)
            check_screenshot(bundle, "--demo")
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
