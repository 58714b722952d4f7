"""Verdicts that must be true (issue 9): allocations larger than the heap, pools against the
heap, empty versus unreadable traces, decode problems in validate, --write's own heap size."""

import json
import random

import pytest
from cli_run import run

from heapgui.trace.framed import encode_framed
from heapgui.trace.records import Records
from heapgui.trace.tagged import encode_tagged

# The seed example's demand, from its published table (docs, section 3), rounded to words.
SEED_DEMAND = [(4, 1), (12, 3), (28, 1), (32, 1), (128, 1)]
SEED_NEEDS = sum(size * count for size, count in SEED_DEMAND)  # 5 pools: no fragmentation

LAYOUT_TOML = """\
[ram]
main = { origin = 0x20000000, size = "64K" }

[heap.core0]
ram = "main"
size = "20K"
pools = [{ block = "4", count = "100%" }]
"""

DRONE_TOML = '[heap]\nsize = "10K"\npools = [{ block = "4", capacity = 2560 }]\n'


def one_error_line(err: str) -> bool:
    return err.startswith("heapgui-cli: error: ") and err.count("\n") == 1


def write_trace(tmp_path, ops, name="trace.framed"):
    path = tmp_path / name
    path.write_bytes(encode_framed(Records.from_tuples(ops)))
    return path


# ---- generate: a heap that cannot hold the demand -------------------------------------------


@pytest.mark.parametrize("size", ["100", "200"])
def test_generate_refuses_a_heap_smaller_than_the_demand(capsys, seed, tmp_path, size):
    config = tmp_path / "Drone.toml"
    config.write_text(DRONE_TOML)
    argv = ["generate", "-f", seed, "-s", size, "-p", "5", "-c", config, "--write", config]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert one_error_line(err), err
    assert f"needs a heap of at least {SEED_NEEDS:,} B" in err
    assert config.read_text() == DRONE_TOML  # nothing written


def test_one_allocation_bigger_than_the_heap_is_not_an_empty_trace(capsys, tmp_path):
    trace = write_trace(tmp_path, [("alloc", 64), ("dealloc", 64), ("alloc", 64)])
    config = tmp_path / "Drone.toml"
    config.write_text(DRONE_TOML.replace("10K", "32").replace("2560", "8"))
    code, out, err = run(
        capsys, "generate", "-f", trace, "-p", "2", "-c", config, "--write", config
    )
    assert code == 2 and out == ""
    assert "empty" not in err
    assert "needs a heap of at least 64 B" in err and one_error_line(err)
    assert config.read_text().endswith("capacity = 8 }]\n")


def test_only_a_trace_without_records_is_empty(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    code, out, err = run(capsys, "generate", "-f", empty, "-p", "2", "-s", "1K")
    assert code == 0 and "is empty" in err and out.startswith("[heap]\n")
    code, _, err = run(capsys, "stats", "-f", empty, "-s", "1K")
    assert code == 0 and "is empty" in err


# ---- validate: allocations no pool serves, pools against the heap ---------------------------


def test_validate_fails_allocations_larger_than_every_block(capsys, seed):
    code, out, _ = run(capsys, "validate", "-f", seed, "--pools", "4:1,12:3,28:1,32:1")
    assert code == 1
    # The seed allocates 128 bytes at records 17 and 19 (docs, section 3: total 2).
    assert "FAILS: 2 failed allocations" in out
    assert "record 17: no free block for 128 B" in out
    assert "record 19: no free block for 128 B" in out
    # The free of the first 128 finds no live block of its size: singular, as it is one.
    assert "Skipped: 1 deallocation matching no live block, 0 zero-size allocations" in out
    code, out, _ = run(capsys, "validate", "-f", seed, "--pools", "4:1,12:3,28:1,32:1", "--json")
    got = json.loads(out)
    assert code == 1 and got["holds"] is False
    assert [(f["record"], f["size"]) for f in got["failures"]] == [(17, 128), (19, 128)]


def test_validate_fails_an_allocation_larger_than_the_heap(capsys, tmp_path):
    trace = write_trace(tmp_path, [("alloc", 4), ("alloc", 5000)])
    code, out, _ = run(capsys, "validate", "-f", trace, "-s", "4K", "--pools", "4:1024")
    assert code == 1 and "record 1: no free block for 5,000 B" in out


def test_pools_larger_than_the_heap_are_an_error(capsys, seed):
    code, out, err = run(capsys, "validate", "-f", seed, "-s", "1", "--pools", "4:1,128:1")
    assert code == 2 and out == "" and one_error_line(err)
    assert "132 B" in err and "heap" in err


def test_pools_larger_than_the_configured_heap_are_an_error(capsys, seed, tmp_path):
    config = tmp_path / "Drone.toml"
    config.write_text(DRONE_TOML.replace("2560", "2561"))
    code, _, err = run(capsys, "validate", "-f", seed, "-c", config)
    assert code == 2 and one_error_line(err) and "10,244 B" in err


def test_pools_smaller_than_the_heap_are_a_warning(capsys, seed):
    spec = "4:1,12:3,28:1,32:1,128:1"
    code, out, err = run(capsys, "validate", "-f", seed, "-s", "10K", "--pools", spec)
    assert code == 0 and "holds" in out
    assert err.startswith("heapgui-cli: warning: ") and err.count("\n") == 1
    assert f"{SEED_NEEDS:,} B" in err and "10,240 B" in err and "drone requires" in err
    code, _, err = run(capsys, "validate", "-f", seed, "-s", str(SEED_NEEDS), "--pools", spec)
    assert code == 0 and err == ""


# ---- decode problems ------------------------------------------------------------------------


@pytest.fixture
def noisy(samples, tmp_path):
    """The 40k workload with 100 KB of random bytes in the middle."""
    data = (samples / "workload-40k.framed").read_bytes()
    noise = random.Random(1).randbytes(100_000)
    path = tmp_path / "noisy.framed"
    path.write_bytes(data[: len(data) // 2] + noise + data[len(data) // 2 :])
    return path


def test_validate_says_what_it_could_not_read(capsys, noisy):
    argv = ["validate", "-f", noisy, "-s", "64K", "--pools", "4:16384"]
    _, out, _ = run(capsys, *argv)
    assert "bytes skipped" in out and "Problem:" in out
    code, out, _ = run(capsys, *argv, "--json")
    report = json.loads(out)
    trace = report["traces"][0]
    assert trace["skipped_bytes"] > 90_000 and report["skipped_bytes"] == trace["skipped_bytes"]
    assert any(p["kind"] == "skipped_bytes" for p in trace["problems"])
    code, _, err = run(capsys, *argv, "--strict")
    assert code == 1 and one_error_line(err) and "offset" in err


@pytest.mark.parametrize("command", ["stats", "generate", "validate"])
def test_random_bytes_in_a_forced_format_are_not_empty(capsys, tmp_path, command):
    noise = tmp_path / "noise"
    noise.write_bytes(random.Random(2).randbytes(4096))
    extra = {"stats": [], "generate": ["-p", "3"], "validate": ["--pools", "4:16"]}[command]
    code, out, err = run(capsys, command, "-f", noise, "-s", "64", "--format", "legacy", *extra)
    assert code == 1 and out == ""
    assert "empty" not in err and one_error_line(err)
    assert str(noise) in err and "skipped" in err and "offset 0" in err


# ---- --write takes its own heap size, and the preview is what it writes ----------------------


def test_write_uses_the_written_files_heap_size_and_style(capsys, seed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Drone.toml").write_text(DRONE_TOML)
    other = tmp_path / "board" / "layout.toml"
    other.parent.mkdir()
    other.write_text(LAYOUT_TOML)
    code, out, err = run(capsys, "generate", "-f", seed, "-p", "5", "--write", other)
    assert code == 0, err
    section, comment = out.split("# Fragmentation")
    assert section.startswith('[heap.core0]\nram = "main"\nsize = "20K"\n')
    assert 'count = "' in section and "capacity" not in section
    written = other.read_text()
    assert section in written
    assert (tmp_path / "Drone.toml").read_text() == DRONE_TOML


def test_preview_names_the_heap_of_the_config(capsys, seed, tmp_path):
    config = tmp_path / "layout.toml"
    config.write_text(LAYOUT_TOML)
    code, out, _ = run(capsys, "generate", "-f", seed, "-p", "5", "-c", config)
    assert code == 0 and out.startswith("[heap.core0]\n") and 'count = "' in out


# ---- issue 10: the firmware quirk in JSON, problem wording -----------------------------------


def test_quirk_verdict_is_in_json_and_problems_read_well(capsys, samples):
    quirk = samples / "firmware-quirk.framed"
    code, out, _ = run(capsys, "stats", "-f", quirk, "-s", "64K", "--json")
    assert code == 0 and json.loads(out)["firmware_quirk"] is True
    _, out, _ = run(capsys, "stats", "-f", quirk, "-s", "64K")
    assert "1 allocation of size 0, first at byte offset 16" in out
    assert "(size 0)" not in out
    code, out, _ = run(capsys, "stats", "-f", samples / "seed-example.framed", "-s", "1K", "--json")
    assert json.loads(out)["firmware_quirk"] is False
    _, out, _ = run(capsys, "validate", "-f", quirk, "-s", "64K", "--pools", "4:16384", "--json")
    assert json.loads(out)["traces"][0]["firmware_quirk"] is True


def test_tagged_trace_reads_from_a_set(capsys, tmp_path):
    """A sanity check that a forced format still loads a good trace of that format."""
    path = tmp_path / "t.tagged"
    path.write_bytes(encode_tagged(Records.from_tuples([("alloc", 4), ("dealloc", 4)])))
    code, out, _ = run(capsys, "stats", "-f", path, "-s", "1K", "--format", "tagged")
    assert code == 0 and "Format: tagged, 2 records" in out
