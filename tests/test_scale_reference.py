"""The compiled reference of benchmarks/scale_cli.py counts what heapgui decodes (issue 14)."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from heapgui.trace.framed import encode_framed
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records

SOURCE = Path(__file__).resolve().parents[1] / "benchmarks/reference/count_sizes.c"


@pytest.fixture(scope="module")
def count_sizes(tmp_path_factory):
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    binary = tmp_path_factory.mktemp("reference") / "count_sizes"
    subprocess.run(["cc", "-O2", "-std=c11", "-o", str(binary), str(SOURCE)], check=True)
    return binary


def counts_of(binary: Path, path: Path) -> list[str]:
    out = subprocess.run([binary, path], capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def heapgui_counts(path: Path) -> list[str]:
    records = read_trace(path, "framed").records
    sizes, counts = np.unique(records.size, return_counts=True)
    rows = [f"{s} {c}" for s, c in zip(sizes.tolist(), counts.tolist(), strict=True)]
    return [*rows, f"records {len(records)} skipped 0"]


def test_reference_counts_the_workload_sample_as_heapgui_does(count_sizes, samples):
    path = samples / "workload-40k.framed"
    assert counts_of(count_sizes, path) == heapgui_counts(path)


def test_reference_decodes_nested_records_and_records_across_reads(count_sizes, tmp_path):
    """An interrupt's record between the words of another, and a file longer than the
    reference's 1 MB reads, so that records straddle them."""
    ops = [("alloc", 12), ("grow", 12, 300), ("dealloc", 70000), ("shrink", 300, 4)] * 40000
    words = np.frombuffer(encode_framed(Records.from_tuples(ops)), "<u4").copy()
    words[:5] = words[[0, 2, 3, 4, 1]]  # A1 B1 B2 B3 A2: the grow inside the alloc
    path = tmp_path / "nested.framed"
    path.write_bytes(words.tobytes())
    assert path.stat().st_size > 1 << 20
    assert counts_of(count_sizes, path) == heapgui_counts(path)
