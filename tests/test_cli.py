"""heapgui-cli: drone's text character for character, JSON keys, exit codes, one-line errors."""

import json
import shutil

import pytest
from cli_run import run

from heapgui.cli import COMMANDS, main
from heapgui.trace.framed import encode_framed
from heapgui.trace.records import Records

SEED_TABLE = """\
 Block Size | Max Load | Total Allocations
------------+----------+-------------------
          1 |        1 |                 1
         12 |        3 |                 7
         28 |        1 |                 2
         32 |        1 |                 1
        128 |        1 |                 2

Maximum memory usage: 225 / 2.20%
"""

SEED_LAYOUT = """\
[heap]
size = "10K"
pools = [
    { block = "4", capacity = 201 },
    { block = "12", capacity = 222 },
    { block = "28", capacity = 115 },
    { block = "32", capacity = 83 },
    { block = "128", capacity = 7 },
]
# Fragmentation: 0 / 0.00%
"""

BANNER = "=" * 31 + " SUGGESTED LAYOUT " + "=" * 31

DRONE_TOML = """\
# Drone configuration
[memory.flash]
size = "1M"
origin = 0x08000000

[heap]
# tuned by hand
size = "10K"
pools = [{ block = "4", capacity = 2560 }]

[probe]
gdb-client-command = "gdb-multiarch"

[log.swo]
reset-freq = 72000000
baud-rate = 115200
"""


@pytest.mark.parametrize("fmt", ["framed", "legacy", "tagged"])
def test_seed_stats_text_is_drones(capsys, samples, fmt):
    code, out, err = run(capsys, "stats", "-f", str(samples / f"seed-example.{fmt}"), "-s", "10K")
    assert code == 0, err
    assert out.startswith(SEED_TABLE + "\n")
    assert f"Format: {fmt}, 20 records" in out


@pytest.mark.parametrize("fmt", ["framed", "legacy", "tagged"])
def test_seed_generate_text_is_drones(capsys, samples, fmt):
    path = str(samples / f"seed-example.{fmt}")
    code, out, err = run(capsys, "generate", "-f", path, "-p", "5", "-s", "10K")
    assert code == 0, err
    assert out == SEED_LAYOUT
    assert BANNER in err.splitlines()


@pytest.mark.parametrize("name", ["seed-example", "workload-40k"])
def test_stats_json_matches_expected(capsys, samples, name):
    expected = json.loads((samples / f"{name}.expected.json").read_text())
    code, out, _ = run(
        capsys,
        "stats",
        "-f",
        str(samples / f"{name}.framed"),
        "-s",
        str(expected["heap_size"]),
        "--json",
    )
    assert code == 0
    got = json.loads(out)
    for key in ("heap_size", "records", "sizes", "max_usage"):
        assert got[key] == expected[key]
    assert got["format"] == "framed"
    assert set(got) == {
        "format",
        "heap_size",
        "records",
        "sizes",
        "max_usage",
        "peak_usage",
        "peak_record",
        "skipped_bytes",
        "problems",
        "firmware_quirk",
    }
    assert got["peak_usage"] <= got["max_usage"]


def test_generate_json(capsys, samples):
    code, out, _ = run(
        capsys,
        "generate",
        "-f",
        str(samples / "seed-example.framed"),
        "-p",
        "5",
        "-s",
        "10K",
        "--json",
    )
    assert code == 0
    got = json.loads(out)
    assert got["demand"] == [[4, 1], [12, 3], [28, 1], [32, 1], [128, 1]]
    assert [(p["block"], p["capacity"]) for p in got["pools"]] == [
        (4, 201),
        (12, 222),
        (28, 115),
        (32, 83),
        (128, 7),
    ]
    assert (got["heap_size"], got["fragmentation"]) == (10240, 0)


def test_size_and_heap_come_from_drone_toml(capsys, samples, tmp_path, monkeypatch):
    (tmp_path / "Drone.toml").write_text(DRONE_TOML)
    shutil.copy(samples / "seed-example.framed", tmp_path / "heaptrace")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "stats")
    assert code == 0 and out.startswith(SEED_TABLE)


def test_write_updates_only_the_heap(capsys, samples, tmp_path):
    config = tmp_path / "Drone.toml"
    config.write_text(DRONE_TOML)
    code, out, err = run(
        capsys,
        "generate",
        "-f",
        str(samples / "seed-example.framed"),
        "-p",
        "5",
        "-c",
        str(config),
        "--write",
        str(config),
    )
    assert code == 0, err
    text = config.read_text()
    assert "# tuned by hand" in text and "# Drone configuration" in text
    assert text.split("[probe]")[1] == DRONE_TOML.split("[probe]")[1]
    assert '{ block = "128", capacity = 7 }' in text
    assert (tmp_path / "Drone.toml.bak").read_text() == DRONE_TOML
    assert "Drone.toml" in err


def test_empty_trace_gives_starter_layout_with_warning(capsys, tmp_path):
    empty = tmp_path / "heaptrace"
    empty.write_bytes(b"")
    code, out, err = run(capsys, "generate", "-f", str(empty), "-p", "4", "-s", "10K")
    assert code == 0
    assert "warning" in err and out.startswith("[heap]\n")


def test_strict_corruption_exits_1(capsys, tmp_path):
    data = encode_framed(Records.from_tuples([("alloc", 4), ("dealloc", 8)]))
    bad = tmp_path / "bad"
    bad.write_bytes(data)
    code, _, err = run(capsys, "stats", "-f", str(bad), "-s", "1K", "--strict")
    assert code == 1
    assert err.startswith("heapgui-cli: error: ") and str(bad) in err and "offset 8" in err
    code, out, _ = run(capsys, "stats", "-f", str(bad), "-s", "1K")
    assert code == 0 and "1 deallocation of 8 bytes that matches no live allocation" in out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["stats", "-f", "/nonexistent/heaptrace", "-s", "1K"], "No such file"),
        (["stats", "-f", "/", "-s", "1K"], "is a directory"),
        (["stats", "-f", "SAMPLE", "-s", "10Q"], "invalid size '10Q'"),
        (["generate", "-f", "SAMPLE", "-s", "10K", "-p", "0"], "pool count 0"),
        (["stats", "-f", "SAMPLE", "-c", "CONFIG_NOHEAP"], "no [heap] section"),
        (["stats", "-f", "SAMPLE", "-c", "CONFIG", "--heap", "dma"], "no heap named 'dma'"),
        (["stats", "-f", "GARBAGE", "-s", "1K"], "offset"),
        (["stats", "-f", "SAMPLE"], "no heap size"),
    ],
)
def test_errors_are_one_line(capsys, samples, tmp_path, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Drone.toml.x").write_text(DRONE_TOML)
    (tmp_path / "noheap.toml").write_text("[probe]\nx = 1\n")
    (tmp_path / "garbage").write_bytes(bytes(range(256)) * 8)
    subst = {
        "SAMPLE": str(samples / "seed-example.framed"),
        "CONFIG": "Drone.toml.x",
        "CONFIG_NOHEAP": "noheap.toml",
        "GARBAGE": "garbage",
    }
    code, out, err = run(capsys, *[subst.get(a, a) for a in argv])
    assert code == 2
    assert err.startswith("heapgui-cli: error: ") and err.count("\n") == 1, err
    assert needle in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", COMMANDS)
def test_help_starts_with_one_sentence_that_says_what_it_does(capsys, command):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: heapgui-cli {command} ")
    first = " ".join(text.split("\n\n")[1].split())  # the paragraph after the usage
    assert first[0].isupper() and first.endswith(".") and first.count(". ") == 0, first
    assert len(first.split()) >= 6, first
