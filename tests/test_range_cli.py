"""`heapgui-cli stats --range` and `generate --range` against a plain loop over the records."""

import json

import pytest
from cli_run import run
from range_oracle import brute_window

from heapgui.trace.framed import FramedDecoder, encode_framed
from heapgui.trace.records import Records


def sample(samples, name: str) -> tuple[list[tuple], int]:
    expected = json.loads((samples / f"{name}.expected.json").read_text())
    records = FramedDecoder().feed((samples / f"{name}.framed").read_bytes())
    return records.to_tuples(), expected["heap_size"]


def windows(n: int) -> list[tuple[str, int, int]]:
    """(--range text, start, stop) with open ends, edges and an empty window."""
    return [
        (f"{n // 3}:{2 * n // 3}", n // 3, 2 * n // 3),
        (f"{n // 2}:", n // 2, n),
        (f":{n // 4}", 0, n // 4),
        (":", 0, n),
        (f"{n - 1}:{n}", n - 1, n),
        (f"{n}:", n, n),
        (f"{n // 2}:{n // 2}", n // 2, n // 2),
    ]


@pytest.mark.parametrize("name", ["seed-example", "workload-40k"])
def test_stats_range_json_matches_the_loop(capsys, samples, name):
    ops, heap = sample(samples, name)
    for text, start, stop in windows(len(ops)):
        path = samples / f"{name}.framed"
        code, out, err = run(capsys, "stats", "-f", path, "-s", heap, "--range", text, "--json")
        assert (code, err) == (0, ""), text
        got = json.loads(out)
        want = brute_window(ops, heap, start, stop)
        assert got["range"] == {"start": start, "stop": stop}
        assert got["records"] == len(ops)
        rows = [(s["size"], s["max_load"], s["total"]) for s in got["sizes"]]
        assert rows == [r[:3] for r in want["rows"]], text
        assert (got["max_usage"], got["peak_usage"], got["peak_record"]) == (
            want["max_usage"],
            want["peak"],
            want["peak_record"],
        ), text


def test_stats_range_text_is_the_plain_table_of_the_window(capsys, samples):
    ops, heap = sample(samples, "seed-example")
    path = samples / "seed-example.framed"
    code, out, _ = run(capsys, "stats", "-f", path, "-s", heap, "--range", "3:9")
    assert code == 0
    want = brute_window(ops, heap, 3, 9)
    lines = out.splitlines()
    assert lines[0] == f"Window: records 3 to 8 (6 of {len(ops)} records)"
    table = [line.split("|") for line in lines[4 : 4 + len(want["rows"])]]
    assert [tuple(int(c) for c in row) for row in table] == [r[:3] for r in want["rows"]]
    assert f"Maximum memory usage: {want['max_usage']} / " in out
    assert f"Simultaneous peak: {want['peak']} / " in out
    assert out.endswith(f"at record {want['peak_record']}\nFormat: framed, {len(ops)} records\n")


def test_the_whole_range_prints_plain_stats(capsys, samples):
    path = samples / "workload-40k.framed"
    _, heap = sample(samples, "workload-40k")
    _, plain, _ = run(capsys, "stats", "-f", path, "-s", heap)
    _, whole, _ = run(capsys, "stats", "-f", path, "-s", heap, "--range", "0:")
    assert whole == f"Window: records 0 to 39999 (40000 of 40000 records)\n\n{plain}"
    _, plain_json, _ = run(capsys, "stats", "-f", path, "-s", heap, "--json")
    _, whole_json, _ = run(capsys, "stats", "-f", path, "-s", heap, "--json", "--range", ":")
    assert json.loads(whole_json) == {
        **json.loads(plain_json),
        "range": {"start": 0, "stop": 40000},
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("5:2", "argument --range: invalid window '5:2': it ends before it starts"),
        ("0:21", "seed-example.framed: --range 0:21 goes beyond the trace's 20 records"),
        ("21:", "seed-example.framed: --range 21: goes beyond the trace's 20 records"),
        ("a:5", "argument --range: invalid window 'a:5': expected A:B"),
        ("1.5:", "argument --range: invalid window '1.5:': expected A:B"),
        ("7", "argument --range: invalid window '7': expected A:B"),
        ("-1:4", "argument --range: invalid window '-1:4': record indices start at 0"),
    ],
)
@pytest.mark.parametrize("command", [("stats",), ("generate", "-p", "2")])
def test_bad_ranges_are_one_line_errors(capsys, samples, command, text, words):
    path = samples / "seed-example.framed"
    try:
        code, out, err = run(capsys, *command, "-f", path, "-s", "4K", f"--range={text}")
    except SystemExit as usage:  # argparse's own errors leave through SystemExit
        code, (out, err) = usage.code, capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("heapgui-cli: error: ") and err.count("\n") == 1
    assert words in err


def window_as_trace(ops: list[tuple], start: int, stop: int) -> list[tuple]:
    """The window as a trace of its own: the blocks live at `start` allocated, then its records."""
    live: dict[int, int] = {}
    for op in ops[:start]:
        if op[0] != "alloc" and live.get(op[1], 0):
            live[op[1]] -= 1
        if op[0] != "dealloc":
            live[op[-1]] = live.get(op[-1], 0) + 1
    return [("alloc", s) for s in sorted(live) for _ in range(live[s])] + ops[start:stop]


@pytest.mark.parametrize("method", ["drone", "timeline"])
def test_generate_range_plans_for_the_window_alone(capsys, samples, tmp_path, method):
    ops, _ = sample(samples, "workload-40k")
    path = samples / "workload-40k.framed"
    alone = tmp_path / "window.framed"
    alone.write_bytes(encode_framed(Records.from_tuples(window_as_trace(ops, 12000, 31000))))
    common = ("-s", "64K", "-p", "4", "--method", method, "--json")
    code, windowed, err = run(capsys, "generate", "-f", path, *common, "--range", "12000:31000")
    assert code == 0, err
    _, whole, _ = run(capsys, "generate", "-f", alone, *common)
    assert json.loads(windowed) == json.loads(whole)
    words: dict[int, int] = {}  # drone's demand: max loads by size rounded up to words
    for size, most, _, _ in brute_window(ops, None, 12000, 31000)["rows"]:
        if size:
            words[-(-size // 4) * 4] = words.get(-(-size // 4) * 4, 0) + most
    assert json.loads(windowed)["demand"] == [[s, m] for s, m in sorted(words.items())]
    _, everything, _ = run(capsys, "generate", "-f", path, *common)
    assert json.loads(everything) != json.loads(windowed)  # the window is a phase of its own
