"""Helpers the benchmark scripts share, imported as `common`: a script's folder is on sys.path."""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    """The median wall time of `runs` calls, and the last call's result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def machine() -> str:
    """The line that says where the figures were measured."""
    return (
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, numpy {np.__version__}"
    )


def add_capture_options(parser: argparse.ArgumentParser) -> None:
    """The simulated capture's length, trace rate, core clock and baud rate."""
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=4e6, help="SWO bytes/s the firmware makes")
    parser.add_argument("--clock", type=float, default=48e6, help="core clock, Hz")
    parser.add_argument("--baud", type=float, default=48e6, help="SWO baud rate")


def capture_target(args: argparse.Namespace) -> str:
    """The line that says what `add_capture_options` asked for."""
    return (
        f"target: {args.rate / 1e6:.1f} MB/s for {args.seconds:.0f} s, "
        f"{args.clock / 1e6:.0f} MHz core clock, {args.baud / 1e6:.0f} Mbaud"
    )
