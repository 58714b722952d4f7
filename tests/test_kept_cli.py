"""`heapgui-cli generate --keep`: layouts holding the kept blocks, refusals in one line, exit 2."""

import json
import sys

import pytest
from cli_run import run
from kept_oracle import brute_kept, first_fit_fragmentation

from heapgui.layout.pool_replay import replay
from heapgui.layout.pools import Pool
from heapgui.trace.framed import encode_framed
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

# The seed example's demand from its published table (docs, section 3), rounded to words.
SEED_DEMAND = [(4, 1), (12, 3), (28, 1), (32, 1), (128, 1)]
LAYOUT_TOML = """\
# keep this comment
[ram]
main = { origin = 0x20000000, size = "64K" }

[heap.main]
ram = "main"
size = "10K"
pools = [{ block = "4", count = "100%" }]
"""


def test_kept_blocks_in_the_printed_layout(capsys, seed):
    code, out, err = run(capsys, "generate", "-f", seed, "-s", "10K", "-p", "3", "--keep", "64:100")
    assert code == 0, err
    doc = tomllib.loads(out)
    pools = [Pool(int(p["block"]), p["capacity"]) for p in doc["heap"]["pools"]]
    assert [p.block for p in pools] == [12, 64, 128]
    assert pools[1].capacity >= 100
    expected = brute_kept(SEED_DEMAND, [64], 3)
    assert first_fit_fragmentation(SEED_DEMAND, [p.block for p in pools]) == expected
    assert f"# Fragmentation: {expected} / " in out
    assert out.rstrip().endswith("# Kept blocks: 64:100")
    assert replay(read_trace(seed).records, pools).holds


def test_json_lists_the_kept_blocks(capsys, seed):
    argv = ["generate", "-f", seed, "-s", "10K", "-p", "4", "--json"]
    code, out, _ = run(capsys, *argv, "--keep", "256", "--keep", "8:3")
    assert code == 0
    got = json.loads(out)
    assert got["kept"] == [{"block": 8, "min_capacity": 3}, {"block": 256, "min_capacity": 0}]
    blocks = [p["block"] for p in got["pools"]]
    assert {8, 256} <= set(blocks) and len(blocks) <= 4
    assert got["fragmentation"] == brute_kept(SEED_DEMAND, [8, 256], 4)
    assert got["demand"] == [list(d) for d in SEED_DEMAND]  # the kept blocks add no demand rows


def test_write_keeps_the_blocks_in_the_files_style(capsys, seed, tmp_path):
    config = tmp_path / "layout.toml"
    config.write_text(LAYOUT_TOML)
    code, out, err = run(
        capsys, "generate", "-f", seed, "-p", "3", "--keep", "64", "--write", config
    )
    assert code == 0, err
    text = config.read_text()
    assert text.startswith("# keep this comment\n")
    pools = tomllib.loads(text)["heap"]["main"]["pools"]
    assert [p["block"] for p in pools] == ["12", "64", "128"]
    assert all("count" in p for p in pools)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--keep", "8", "--keep", "16", "--keep", "24"], "3 kept blocks need at least 3 pools"),
        (["--keep", "64:300"], "it needs a heap of at least"),
        (["--keep", "6"], "multiple of the word size"),
        (["--keep", "8", "--keep", "8:2"], "kept block 8 is given twice"),
        (["--keep", "8:two"], "invalid --keep '8:two'"),
    ],
)
def test_impossible_requests_exit_2_in_one_line(capsys, seed, tmp_path, extra, message):
    config = tmp_path / "Drone.toml"
    config.write_text('[heap]\nsize = "10K"\npools = [{ block = "4", capacity = 2560 }]\n')
    before = config.read_text()
    argv = ["generate", "-f", seed, "-p", "2", "--write", config, *extra]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("heapgui-cli: error: ") and err.count("\n") == 1, err
    assert message in err
    assert config.read_text() == before


def test_keep_without_a_trace_is_refused(capsys, tmp_path):
    empty = tmp_path / "empty.framed"
    empty.write_bytes(encode_framed(Records.from_tuples([])))
    argv = ["generate", "-f", empty, "-s", "10K", "-p", "3", "--keep", "64"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert "--keep needs a trace" in err and err.count("\n") == 1


def test_the_timeline_method_keeps_blocks_too(capsys, seed):
    argv = ["generate", "-f", seed, "-s", "10K", "-p", "3", "--method", "timeline", "--json"]
    code, out, err = run(capsys, *argv, "--keep", "64:10")
    assert code == 0, err
    got = json.loads(out)
    pools = {p["block"]: p["capacity"] for p in got["pools"]}
    assert 64 in pools and pools[64] >= 10 and len(pools) <= 3
    assert got["kept"] == [{"block": 64, "min_capacity": 10}]
    layout = [Pool(b, c) for b, c in pools.items()]
    assert replay(read_trace(seed).records, layout).holds
