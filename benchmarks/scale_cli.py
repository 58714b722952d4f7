"""Peak memory and time of the command line against trace length (issue 14).

Builds `framed` traces of 10⁶, 10⁷ and 10⁸ records by repeating the 40k
workload sample, an SWO capture of each (the trace as port-31 stimulus
writes, heapgui's ITM encoder), and the compiled reference reader
(benchmarks/reference/count_sizes.c, built with `cc`), all in a private
temporary directory that is removed at the end. Then runs every command as
its own process and reports, per command and length, the median wall time and
the largest peak RSS of that process alone (os.wait4's rusage), with the
compiled reader's time for the same file in the same run.

    python benchmarks/scale_cli.py [--records 1e6,1e7,1e8] [--runs 3]
                                   [--commands stats,generate-drone,...]
                                   [--heapgui DIR] [--before DIR]

--heapgui runs another checkout's code with this interpreter. --before also
runs every command with another checkout's code (say, the commit before a
change), interleaved with the others, and prints its rows marked "before" with
their ratio to the compiled reader: before/after figures in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import machine

from heapgui.capture.itm_encode import ItmEncoder
from heapgui.trace.load import read_trace

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared/samples/workload-40k.framed"
SAMPLE_RECORDS = 40_000
REFERENCE = Path(__file__).resolve().parent / "reference/count_sizes.c"
HEAP = "256M"  # holds the repeated workload's growing live set at 10⁸ records
POOLS = "8"
COMMANDS = ("stats", "generate-drone", "generate-timeline", "validate", "demux")


def build_inputs(folder: Path, records: int) -> tuple[Path, Path]:
    """The framed trace of `records` records and its SWO capture."""
    sample = SAMPLE.read_bytes()
    repeats = records // SAMPLE_RECORDS
    trace, swo = folder / f"{records}.framed", folder / f"{records}.swo"
    # Port 31 stays on stimulus page 0, so one encoded sample repeats as a valid stream.
    packets = ItmEncoder().stimulus(31, sample, 4)
    with trace.open("wb") as t, swo.open("wb") as s:
        for _ in range(repeats):
            t.write(sample)
            s.write(packets)
    return trace, swo


def build_reference(folder: Path) -> Path:
    """The compiled reader, checked against heapgui on the sample before it is timed."""
    binary = folder / "count_sizes"
    subprocess.run(["cc", "-O2", "-std=c11", "-o", str(binary), str(REFERENCE)], check=True)
    out = subprocess.run([str(binary), str(SAMPLE)], capture_output=True, check=True, text=True)
    records = read_trace(SAMPLE).records
    sizes, counts = np.unique(records.size, return_counts=True)
    expected = [f"{s} {c}" for s, c in zip(sizes.tolist(), counts.tolist(), strict=True)]
    expected.append(f"records {len(records)} skipped 0")
    if out.stdout.splitlines() != expected:
        raise SystemExit(f"{REFERENCE.name} disagrees with heapgui on {SAMPLE.name}")
    return binary


def run(argv: list[str], env: dict[str, str], folder: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS in bytes of one process; its output is discarded.

    It runs in the private `folder`: `python -m` looks in the current directory
    first, which must not shadow the checkout --heapgui names."""
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=folder
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode not in (0, 1):  # validate says 1 when the layout fails
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}): {errors.strip()}")
    return wall, usage.ru_maxrss * 1024  # Linux reports kilobytes


CLI = [sys.executable, "-m", "heapgui.cli"]


def generated_pools(trace: Path, env: dict[str, str], folder: Path) -> str:
    """The drone layout `generate` makes for the trace, as --pools: what validate checks."""
    argv = [*CLI, "generate", "-s", HEAP, "-p", POOLS, "--json", "-f", str(trace)]
    report = json.loads(
        subprocess.run(argv, capture_output=True, check=True, env=env, cwd=folder).stdout
    )
    return ",".join(f"{p['block']}:{p['capacity']}" for p in report["pools"])


def command_line(name: str, trace: Path, swo: Path, out: Path, pools: str) -> list[str]:
    cli = CLI
    if name == "stats":
        return [*cli, "stats", "-s", HEAP, "-f", str(trace)]
    if name.startswith("generate-"):
        method = name.split("-", 1)[1]
        return [*cli, "generate", "-s", HEAP, "-p", POOLS, "--method", method, "-f", str(trace)]
    if name == "validate":
        return [*cli, "validate", "-s", HEAP, "--pools", pools, "-f", str(trace)]
    return [*cli, "demux", str(swo), "-o", str(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1e6,1e7,1e8")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--heapgui", type=Path, help="checkout whose heapgui package to run")
    parser.add_argument("--before", type=Path, help="checkout to run as well, for comparison")
    args = parser.parse_args()
    lengths = [int(float(x)) for x in args.records.split(",")]
    commands = args.commands.split(",")
    env = dict(os.environ)
    if args.heapgui is not None:
        env["PYTHONPATH"] = str(args.heapgui.resolve())
    envs = {"": env}
    if args.before is not None:
        envs["before "] = {**env, "PYTHONPATH": str(args.before.resolve())}
    print(machine())
    print(f"heap {HEAP}, {POOLS} pools; medians of {args.runs} runs, peak RSS the largest")
    print(
        f"{'records':>11} {'command':25} {'wall s':>8} {'peak RSS MB':>12} {'C ref s':>8}"
        f" {'x C':>6}"
    )
    folder = Path(tempfile.mkdtemp(prefix="heapgui-scale-"))
    try:
        reference = build_reference(folder)
        for records in lengths:
            trace, swo = build_inputs(folder, records)
            out = folder / "demuxed"
            pools = generated_pools(trace, env, folder) if "validate" in commands else ""
            rows = [(label, name) for label in envs for name in commands]
            times: dict[tuple[str, str], list[float]] = {row: [] for row in [("", "C"), *rows]}
            peaks: dict[tuple[str, str], int] = dict.fromkeys(rows, 0)
            for _ in range(args.runs):  # interleaved: every command sees the same load
                times["", "C"].append(run([str(reference), str(trace)], env, folder)[0])
                for label, name in rows:
                    argv = command_line(name, trace, swo, out, pools)
                    wall, rss = run(argv, envs[label], folder)
                    times[label, name].append(wall)
                    peaks[label, name] = max(peaks[label, name], rss)
            ref = statistics.median(times["", "C"])
            for label, name in rows:
                wall = statistics.median(times[label, name])
                shown = f"{ref:8.2f} {wall / ref:6.2f}" if name == "stats" else ""
                peak = peaks[label, name] / 1e6
                print(f"{records:>11} {label + name:25} {wall:8.2f} {peak:12.0f} {shown}")
            for path in (trace, swo, out):
                path.unlink(missing_ok=True)
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
