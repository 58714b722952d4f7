"""heapgui-cli validate (exit codes, failures, JSON keys) and generate's methods and trace sets."""

import json

import pytest
from cli_run import run

from heapgui.layout.pool_replay import replay
from heapgui.layout.pools import Pool
from heapgui.trace.framed import encode_framed
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records

DRONE_TOML = """\
[memory.ram]
size = "20K"
origin = 0x20000000

[heap]
size = "64"
pools = [{ block = "4", capacity = 2 }, { block = "8", capacity = 1 }, POOL3]
"""

LAYOUT_TOML = """\
[ram]
main = { origin = 0x20000000, size = "20K" }

[data]
ram = "main"

[heap.core0]
ram = "main"
size = "1K"
pools = [{ block = "4", count = "0.78125%" }, { block = "8", count = "99.21875%" }]
"""

# Served by 4x2 and 8x1: the third 4 overflows into the 8-pool, so the first
# 8 (record 3) finds no block; freeing a 4 frees that newest block (LIFO), the
# second 8 takes it, and 12 (record 6) is larger than every block.
OPS = [
    ("alloc", 4),
    ("alloc", 4),
    ("alloc", 4),
    ("alloc", 8),
    ("dealloc", 4),
    ("alloc", 8),
    ("alloc", 12),
]


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.framed"
    path.write_bytes(encode_framed(Records.from_tuples(OPS)))
    return path


def test_failures_exit_1_and_are_listed(capsys, small):
    code, out, err = run(capsys, "validate", "-f", small, "--pools", "4:2,8:1", "-s", "1K")
    assert code == 1, err
    assert "FAILS: 2 failed allocations" in out
    assert "record 3: no free block for 8 B" in out
    assert "record 6: no free block for 12 B" in out
    assert "Overflows into a larger pool: 1" in out


def test_json_report(capsys, small):
    code, out, _ = run(capsys, "validate", "-f", small, "--pools", "4:2,8:1", "-s", "1K", "--json")
    assert code == 1
    got = json.loads(out)
    assert {"failures", "pool_peaks", "overflows", "min_heap_size"} <= set(got)
    assert [(f["record"], f["size"]) for f in got["failures"]] == [(3, 8), (6, 12)]
    assert [(p["block"], p["capacity"], p["peak"], p["record"]) for p in got["pool_peaks"]] == [
        (4, 2, 2, 1),
        (8, 1, 1, 2),
    ]
    assert got["overflows"] == 1 and got["holds"] is False
    # Peak demand: three 4s at once and one 8 in one class each: 4 × 3 + 8 × 1 (+ 12 × 1).
    assert got["min_heap_size"]["pools"] == 2
    assert got["min_heap_size"]["timeline"] <= got["min_heap_size"]["drone"]
    assert got["traces"][0]["name"] == "small.framed"


def test_drone_toml_that_holds_exits_0(capsys, small, tmp_path, monkeypatch):
    (tmp_path / "Drone.toml").write_text(
        DRONE_TOML.replace("POOL3", '{ block = "12", capacity = 2 }')
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "validate", "-f", small)
    assert code == 0, err
    assert "small.framed: holds" in out and "Drone.toml" in out
    code, out, _ = run(capsys, "validate", "-f", small, "--json")
    assert json.loads(out)["failures"] == [] and json.loads(out)["holds"] is True


def test_layout_toml_and_heap_name(capsys, small, tmp_path):
    config = tmp_path / "layout.toml"
    config.write_text(LAYOUT_TOML)
    code, out, _ = run(capsys, "validate", "-f", small, "-c", config, "--heap", "core0", "--json")
    assert code == 1
    got = json.loads(out)
    # drone-config shares the 1K heap out: 8 bytes to the 4s, 1016 to the 8s.
    assert [(p["block"], p["capacity"]) for p in got["pools"]] == [(4, 2), (8, 127)]
    assert [(f["record"], f["size"]) for f in got["failures"]] == [(6, 12)]


def test_a_set_fails_when_one_trace_fails(capsys, samples, tmp_path):
    seed = samples / "seed-example.framed"
    big = tmp_path / "big.framed"
    big.write_bytes(encode_framed(Records.from_tuples([("alloc", 4), ("alloc", 1000)])))
    # drone's capacities for the seed hold it; nothing holds 1000 bytes.
    spec = "4:1,12:3,28:1,32:1,128:1"
    code, out, _ = run(
        capsys, "validate", "-f", seed, "-f", big, "--pools", spec, "-s", "10K", "--json"
    )
    got = json.loads(out)
    assert code == 1
    assert [(t["name"], t["holds"]) for t in got["traces"]] == [
        ("seed-example.framed", True),
        ("big.framed", False),
    ]
    assert got["failures"] == [{"trace": "big.framed", "record": 1, "size": 1000}]
    code, _, _ = run(capsys, "validate", "-f", seed, "--pools", spec, "-s", "10K")
    assert code == 0


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--pools", "4:x"], "invalid pool '4:x'"),
        (["--pools", "0:3"], "the block must be above 0"),
        (["--pools", "4"], "expected BLOCK:CAPACITY"),
        ([], "no layout"),
        (["-c", "empty.toml"], "has no pools"),
        (["--pools", "4:2", "--max-failures", "-1"], "--max-failures"),
    ],
)
def test_errors_are_one_line(capsys, small, tmp_path, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.toml").write_text('[heap]\nsize = "1K"\npools = []\n')
    code, _, err = run(capsys, "validate", "-f", small, *argv)
    assert code == 2
    assert err.startswith("heapgui-cli: error: ") and err.count("\n") == 1, err
    assert needle in err


def test_generate_timeline_on_the_sample(capsys, samples, tmp_path):
    sample = samples / "workload-40k.framed"
    code, out, err = run(
        capsys, "generate", "-f", sample, "-s", "64K", "-p", "8", "--method", "timeline", "--json"
    )
    assert code == 0, err
    got = json.loads(out)
    heaps = got["min_heap_size"]
    assert heaps["timeline"] < heaps["drone"] and got["method"] == "timeline"
    pools = [Pool(p["block"], p["capacity"]) for p in got["pools"]]
    assert sum(p.bytes for p in pools) <= 65536
    trace = read_trace(sample, heap_size=65536)
    assert replay(trace.records, pools).holds
    code, out, _ = run(
        capsys, "generate", "-f", sample, "-s", "64K", "-p", "8", "--method", "timeline"
    )
    assert code == 0 and out.startswith("[heap]\n")
    assert f"this trace needs {heaps['timeline']:,} B" in out
    assert f"reserves {heaps['drone']:,} B" in out
    # The text layout is the JSON one and it validates.
    config = tmp_path / "Drone.toml"
    config.write_text(out.split("# Fragmentation")[0])
    code, out, _ = run(capsys, "validate", "-f", sample, "-c", config)
    assert code == 0 and "holds" in out


def test_generate_for_a_set_holds_every_trace(capsys, samples, small):
    traces = [samples / "workload-40k.framed", samples / "seed-example.framed", small]
    for method in ("drone", "timeline"):
        argv = [
            "generate",
            "-s",
            "64K",
            "-p",
            "6",
            "--method",
            method,
            "--headroom",
            "5",
            "--spread",
            "peak",
            "--json",
        ]
        for path in traces:
            argv += ["-f", path]
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        spec = ",".join(f"{p['block']}:{p['capacity']}" for p in json.loads(out)["pools"])
        code, out, _ = run(
            capsys,
            "validate",
            "-s",
            "64K",
            "--pools",
            spec,
            *[a for path in traces for a in ("-f", path)],
        )
        assert code == 0, out


def test_generate_rejects_negative_headroom(capsys, samples):
    code, _, err = run(
        capsys,
        "generate",
        "-f",
        samples / "seed-example.framed",
        "-s",
        "10K",
        "-p",
        "3",
        "--headroom",
        "-5",
    )
    assert code == 2 and "invalid headroom" in err and err.count("\n") == 1
