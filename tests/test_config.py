"""Drone.toml / layout.toml I/O on real files: reading, drone's section text, safe rewrites.

References: the seed document's suggested layout, drone-config's own test vectors
for layout.toml percentages (config/src/layout.rs), Python's tomllib as an
independent TOML reader, and expected texts built here by plain string edits.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
from config_texts import (
    COMMAS_ANYWHERE_POOLS,
    COMMENTED_POOLS,
    DRONE_012,
    DRONE_012_POOLS,
    DRONE_014,
    DRONE_FLEXIBLE_STACK,
    DRONE_POOLS_ROUNDING,
    LAYOUT,
    LAYOUT_FIXED,
    NEW_POOLS,
    write,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from heapgui.errors import HeapguiError
from heapgui.layout.config import find_config, load_config
from heapgui.layout.config_flexible import parse_amount, percent_counts, pool_counts
from heapgui.layout.config_write import apply_write, plan_write, render_heap_section
from heapgui.layout.pools import Pool

if sys.version_info >= (3, 11):
    import tomllib
else:  # tomllib's origin, the same parser, for Python 3.10
    import tomli as tomllib

SEED_DOC = Path(__file__).resolve().parents[2] / "shared" / "seed" / "heap-tracing.md"


@pytest.fixture(scope="module")
def seed_section() -> str:
    """The `[heap]` text the seed document shows under SUGGESTED LAYOUT."""
    lines = SEED_DOC.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "SUGGESTED LAYOUT" in line) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("# Fragmentation"))
    return "".join(lines[start:end])


def tomllib_pools(text: str, *keys: str, count_key: str = "capacity") -> list[Pool]:
    table = tomllib.loads(text)
    for key in keys:
        table = table[key]
    return [Pool(int(p["block"]), int(p[count_key])) for p in table["pools"]]


DRONE_FIXED_STACK = DRONE_FLEXIBLE_STACK.replace('"25%"', '"4K"').replace('"75%"', '"100%"')


# --- reading -------------------------------------------------------------------------------


def test_reads_the_seed_layout(tmp_path, seed_section):
    memory = '[memory.ram]\nsize = "20K"\norigin = 0x20000000\n\n'
    path = write(tmp_path, "Drone.toml", memory + seed_section)
    config = load_config(path)
    assert config.kind == "drone"
    assert list(config.heaps) == ["main"]
    heap = config.heap()
    assert heap.size == 10 * 1024
    assert heap.pools == tomllib_pools(seed_section, "heap")
    assert not heap.estimated


def test_reads_drone_012_and_swo(tmp_path):
    config = load_config(write(tmp_path, "Drone.toml", DRONE_012))
    assert config.heap("main").pools == tomllib_pools(DRONE_012, "heap")
    assert config.heap().size == 10240
    assert (config.swo.reset_freq, config.swo.baud_rate) == (72_000_000, 115_200)


def test_reads_drone_014_heaps_by_name(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_014)
    config = load_config(path)
    assert list(config.heaps) == ["main", "dma"]
    assert config.heap() is config.heaps["main"]
    assert config.heap("main").pools == tomllib_pools(DRONE_014, "heap", "main")
    assert config.heap("dma").size == 2048
    assert config.heap("dma").pools == [Pool(64, 32)]
    assert config.swo is None
    with pytest.raises(HeapguiError) as error:
        config.heap("x")
    assert str(error.value) == f"{path}: no heap named 'x' (available: main, dma)"


def test_sizes_as_strings_or_integers(tmp_path):
    text = """\
[heap]
size = 10240
pools = [
    { block = "0x20", capacity = 64 },
    { block = "0400", capacity = 24 },
    { block = 1024, capacity = 2 },
]
"""
    heap = load_config(write(tmp_path, "Drone.toml", text)).heap()
    assert heap.size == 10240
    assert heap.pools == [Pool(32, 64), Pool(256, 24), Pool(1024, 2)]


@pytest.mark.parametrize(
    ("text", "data_size", "size", "pools"),
    [
        (DRONE_FLEXIBLE_STACK, 400, 14844, [Pool(4, 3711)]),
        # heap size asserted by drone; one 4-byte pool takes all of it.
        (DRONE_FIXED_STACK, 400, 15696, [Pool(4, 15696 // 4)]),
        (DRONE_POOLS_ROUNDING, 0, 36, [Pool(4, 3), Pool(12, 2)]),
    ],
)
def test_layout_percentages_match_drone_config(tmp_path, text, data_size, size, pools):
    config = load_config(write(tmp_path, "layout.toml", text), data_size=data_size)
    assert config.kind == "layout"
    heap = config.heap()  # the only heap is the default even when not called main
    assert (heap.size, heap.pools, heap.estimated) == (size, pools, False)


def test_layout_without_data_size_is_an_upper_bound(tmp_path):
    heap = load_config(write(tmp_path, "layout.toml", DRONE_FLEXIBLE_STACK)).heap()
    # 20K - (260 + 12 stream runtime) - 16 pool header = 20192 free; 75% of it.
    assert (heap.size, heap.estimated) == (20192 * 3 // 4, True)
    assert heap.pools == [Pool(4, heap.size // 4)]


def test_layout_heap_outside_the_data_ram_is_exact(tmp_path):
    text = DRONE_POOLS_ROUNDING.replace(
        '[data]\nram = "main"', '[data]\nram = "main"\n[ram.ccm]\norigin = 0x10000000\nsize = "64K"'
    )
    text = text.replace('[heap.main]\nram = "main"', '[heap.main]\nram = "ccm"')
    heap = load_config(write(tmp_path, "layout.toml", text)).heap()
    assert (heap.size, heap.estimated) == (65536 - 2 * 16, False)
    assert sum(p.block * p.capacity for p in heap.pools) == heap.size


def test_layout_fixed_counts_and_named_file(tmp_path):
    # Any other file name is recognised by content: [ram] and no [memory].
    heap = load_config(write(tmp_path, "my-layout.toml", LAYOUT_FIXED)).heap("core0")
    assert heap.size == 1024
    # As drone-config resolves them: the counts (88, not 1024 bytes) leave 936 "free",
    # shared out from the largest block down: 29 more 32s (928), then 2 more 4s.
    assert heap.pools == [Pool(4, 66), Pool(32, 53)]


LAYOUT_MIXED = LAYOUT.replace('size = "75%"', 'size = "1K"').replace('count = "75%"', 'count = "8"')


def test_fixed_counts_beside_percentages_resolve_as_on_the_device(tmp_path, caplog):
    # drone-config subtracts the fixed count (8), not its bytes (256), from the 1K heap:
    # the 4-byte pool gets (1024 - 8) / 4 = 254 blocks and the pools take 1272 bytes.
    heap = load_config(write(tmp_path, "layout.toml", LAYOUT_MIXED)).heap("core0")
    assert heap.pools == [Pool(4, 254), Pool(32, 8)]
    assert "take 248 bytes more than the 1,024-byte heap" in caplog.text


def test_a_device_layout_that_outgrows_its_heap_is_never_called_holding(tmp_path, capsys):
    from tests.cli_run import run

    config = write(tmp_path, "layout.toml", LAYOUT_MIXED)
    trace = tmp_path / "heaptrace"
    trace.write_bytes(b"")
    code, out, err = run(capsys, "validate", "-f", trace, "--config", config, "--heap", "core0")
    assert code == 2
    assert "1,272 B, more than the heap's 1,024 B" in err
    assert "holds" not in out


def test_find_config(tmp_path):
    assert find_config(tmp_path) is None
    write(tmp_path, "layout.toml", LAYOUT)
    assert find_config(tmp_path) == tmp_path / "layout.toml"
    write(tmp_path, "Drone.toml", DRONE_012)
    assert find_config(str(tmp_path)) == tmp_path / "Drone.toml"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "Drone.toml",
            '[heap]\nsize = "10K"\npools = [\n  { block = "4" capacity = 1 },\n]\n',
            "line 4",
        ),
        ("Drone.toml", DRONE_012.replace('"10K"', '"10Q"'), "heap.main.size: invalid size '10Q'"),
        (
            "Drone.toml",
            DRONE_012.replace("capacity = 80", "cap = 80"),
            "heap.main.pools[1]: missing 'capacity'",
        ),
        (
            "Drone.toml",
            DRONE_012.replace("capacity = 80", "capacity = -80"),
            "heap.main.pools[1].capacity: expected a non-negative size",
        ),
        ("Drone.toml", DRONE_012 + '[heap.dma]\nsize = "1K"\npools = []\n', "found both"),
        (
            "Drone.toml",
            DRONE_012.replace("baud-rate = 115200", 'baud-rate = "fast"'),
            "log.swo.baud-rate: expected a positive integer",
        ),
        (
            "layout.toml",
            LAYOUT.replace('[heap.core0]\nram = "main"', '[heap.core0]\nram = "x"'),
            "heap.core0.ram: expected a RAM region from [ram] (available: main), found 'x'",
        ),
        ("layout.toml", LAYOUT.replace('"25%"', '"-5%"'), "invalid percentage '-5%'"),
        ("layout.toml", LAYOUT.replace('"75%"  #', '"30K"  #'), "not enough to store all"),
    ],
)
def test_bad_files_give_one_line_naming_the_file(tmp_path, name, text, expected):
    path = write(tmp_path, name, text)
    with pytest.raises(HeapguiError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_missing_heap_section_unreadable_and_binary_files(tmp_path):
    path = write(tmp_path, "Drone.toml", '[memory.ram]\nsize = "20K"\norigin = 0x20000000\n')
    config = load_config(path)
    with pytest.raises(HeapguiError, match="no \\[heap\\] section") as error:
        config.heap()
    assert str(error.value) == f"{path}: no [heap] section"
    with pytest.raises(HeapguiError, match="cannot read"):
        load_config(tmp_path / "absent" / "Drone.toml")
    binary = tmp_path / "layout.toml"
    binary.write_bytes(b'[heap]\nsize = "\xff"\n')
    with pytest.raises(HeapguiError, match=r"byte 15: expected UTF-8 text"):
        load_config(binary)


# --- rendering -----------------------------------------------------------------------------


def test_render_is_exactly_the_seed_section(seed_section):
    pools = tomllib_pools(seed_section, "heap")
    assert render_heap_section("main", 10 * 1024, pools) == seed_section


def test_render_named_layout_and_empty_pools():
    pools = [Pool(4, 64), Pool(8, 0), Pool(1024, 1)]
    assert render_heap_section("dma", 1280, pools) == (
        '[heap.dma]\nsize = "1280"\npools = [\n'
        '    { block = "4", capacity = 64 },\n'
        '    { block = "1K", capacity = 1 },\n]\n'
    )
    text = render_heap_section("main", 1280, pools, "layout", ram="main")
    assert text.startswith('[heap.main]\nram = "main"\nsize = "1280"\n')
    # 256 and 1024 of the 1280 bytes; fixed counts would be misread by drone master.
    assert tomllib.loads(text)["heap"]["main"]["pools"] == [
        {"block": "4", "count": "20%"},
        {"block": "1K", "count": "80%"},
    ]
    assert render_heap_section("main", 1280, pools, header_style="named").startswith(
        "[heap.main]\n"
    )
    assert render_heap_section("my heap", 1280, pools).startswith('[heap."my heap"]\n')


@pytest.mark.parametrize(
    ("size", "pools", "expected"),
    [
        (1000, [Pool(4, 64), Pool(8, 8)], "pools add up to 320 B but size is 1,000 B"),
        (320, [Pool(8, 8), Pool(4, 64)], "ascending block order"),
        (256, [Pool(0, 1), Pool(4, 64)], "positive block size"),
    ],
)
def test_render_refuses_layouts_drone_would_reject(size, pools, expected):
    with pytest.raises(HeapguiError, match=expected):
        render_heap_section("main", size, pools)


# --- writing -------------------------------------------------------------------------------

NEW_POOLS_TEXT = """\
pools = [
    { block = "4", capacity = 256 },
    { block = "12", capacity = 512 },
    { block = "32", capacity = 64 },
    { block = "128", capacity = 24 },
]
"""


def test_write_changes_only_size_and_pools(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    os.chmod(path, 0o640)
    plan = plan_write(path, "main", 12 * 1024, NEW_POOLS)
    expected = DRONE_012.replace(DRONE_012_POOLS, NEW_POOLS_TEXT).replace(
        'size = "10K"   # whole heap', 'size = "12K"   # whole heap'
    )
    assert plan.new_text == expected
    assert plan.old_text == DRONE_012
    assert plan.summary == "heap main: size 10K -> 12K; pools 3 -> 4"
    changed = [
        line
        for line in plan.diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ['-size = "10K"   # whole heap', '+size = "12K"   # whole heap'] + [
        "-" + line for line in DRONE_012_POOLS.splitlines()[1:-1]
    ] + ["+" + line for line in NEW_POOLS_TEXT.splitlines()[1:-1]]
    assert path.read_text() == DRONE_012  # planning writes nothing

    assert apply_write(plan) == path
    assert path.read_bytes() == expected.encode()
    assert (tmp_path / "Drone.toml.bak").read_bytes() == DRONE_012.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Drone.toml", "Drone.toml.bak"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    old, new = tomllib.loads(DRONE_012), tomllib.loads(path.read_text())
    assert {k: v for k, v in new.items() if k != "heap"} == {
        k: v for k, v in old.items() if k != "heap"
    }
    assert new["heap"] == {
        "size": "12K",
        "pools": [{"block": str(p.block), "capacity": p.capacity} for p in NEW_POOLS],
    }
    reread = load_config(path)
    assert (reread.heap().size, reread.heap().pools) == (12288, NEW_POOLS)
    assert reread.swo == load_config(tmp_path / "Drone.toml.bak").swo


def test_refuses_when_the_file_changed_after_planning(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    # Same length and mtime, different content: only the content hash can tell.
    edited = DRONE_012.replace("115200", "230400")
    before = path.stat()
    path.write_text(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(HeapguiError) as error:
        apply_write(plan)
    assert str(error.value) == f"{path} changed on disk since it was read; reload and try again"
    assert path.read_text() == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Drone.toml"]
    path.unlink()
    with pytest.raises(HeapguiError, match="changed on disk"):
        apply_write(plan)


def test_failed_replace_leaves_the_original(tmp_path, monkeypatch):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name == "Drone.toml":
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(HeapguiError, match="cannot write: No space left on device"):
        apply_write(plan)
    assert path.read_text() == DRONE_012
    # Nothing left behind: no temporary file, and the .bak of a write that did not happen.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Drone.toml"]


def test_write_drone_014_main_keeps_the_other_heap(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_014)
    start = DRONE_014.index("pools = [\n")
    old_pools = DRONE_014[start : DRONE_014.index("]\n", start) + 2]
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    assert plan.new_text == DRONE_014.replace('size = "10K"', 'size = "12K"').replace(
        old_pools, NEW_POOLS_TEXT
    )
    apply_write(plan)
    config = load_config(path)
    assert config.heap("dma") == load_config(tmp_path / "Drone.toml.bak").heap("dma")
    assert tomllib.loads(path.read_text())["heap"]["dma"]["origin"] == 0x10000000


def test_write_new_heap_in_drone_014_is_appended(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_014)
    pools = [Pool(16, 64)]
    plan = plan_write(path, "extra", 1024, pools)
    assert plan.new_text == DRONE_014 + "\n" + render_heap_section("extra", 1024, pools)
    assert plan.summary.startswith("heap extra: new heap, size 1K, 1 pool; ")
    assert "origin" in plan.summary
    assert load_config(path).heaps.keys() == {"main", "dma"}  # not written yet


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ('[memory.ram]\nsize = "20K"\norigin = 0x20000000\n', "[heap]"),
        (
            '[memory.ram]\nsize = "20K"\norigin = 0x20000000\n[linker]\nplatform = "arm"',
            "[heap.main]",
        ),
    ],
)
def test_write_missing_heap_section_is_added(tmp_path, text, header):
    path = write(tmp_path, "Drone.toml", text)
    apply_write(plan_write(path, None, 1024, [Pool(4, 256)]))
    written = path.read_text()
    assert written.startswith(text)
    assert written.split("\n\n")[-1].startswith(header + "\n")
    assert load_config(path).heap().pools == [Pool(4, 256)]


def test_single_heap_has_no_other_names(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    with pytest.raises(HeapguiError, match="holds only the main heap"):
        plan_write(path, "dma", 1024, [Pool(4, 256)])


def test_write_layout_toml_writes_shares_that_drone_resolves_to_the_pools(tmp_path):
    path = write(tmp_path, "layout.toml", LAYOUT)
    plan = plan_write(path, "core0", 12 * 1024, NEW_POOLS)
    assert plan.summary.startswith("heap core0: size ~")  # 75% of an unknown .data share
    apply_write(plan)
    table = tomllib.loads(path.read_text())["heap"]["core0"]
    assert table["ram"] == "main"
    # 1024, 6144, 2048 and 3072 of the 12288 bytes.
    counts = [pool["count"] for pool in table["pools"]]
    assert counts == ["8.333%", "50%", "16.67%", "25%"]
    assert load_config(path).heap().pools == NEW_POOLS


def test_write_layout_inline_heap_stays_on_one_line(tmp_path):
    path = write(tmp_path, "layout.toml", DRONE_FLEXIBLE_STACK)
    plan = plan_write(path, None, 1024, [Pool(4, 64), Pool(32, 24)])
    assert plan.new_text == DRONE_FLEXIBLE_STACK.replace(
        'size = "75%", pools = [{ block = "4", count = "100%" }]',
        'size = "1K", pools = [{ block = "4", count = "25%" }, { block = "32", count = "75%" }]',
    )


def test_write_layout_new_heap_goes_to_the_data_ram(tmp_path):
    path = write(tmp_path, "layout.toml", LAYOUT)
    plan = plan_write(path, "dma", 256, [Pool(4, 64)])
    assert plan.new_text == LAYOUT + "\n" + render_heap_section(
        "dma", 256, [Pool(4, 64)], "layout", ram="main"
    )
    apply_write(plan)
    assert load_config(path, data_size=0).heap("dma").pools == [Pool(4, 64)]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Drone.toml", DRONE_012),
        ("Drone.toml", DRONE_014),
        ("Drone.toml", DRONE_012.replace('size = "10K"', "size = 10240")),
        ("layout.toml", LAYOUT.replace('size = "75%"', 'size = "1K"')),
        ("layout.toml", DRONE_POOLS_ROUNDING.replace("100%", "36")),  # counts stay percentages
    ],
)
def test_writing_the_loaded_layout_changes_nothing(tmp_path, name, text):
    path = write(tmp_path, name, text)
    heap = load_config(path).heap()
    plan = plan_write(path, None, heap.size, heap.pools)
    assert plan.new_text == text
    assert (plan.changed, plan.diff, plan.summary) == (False, "", f"heap {heap.name}: no change")
    apply_write(plan)
    assert path.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_round_trip_back_to_the_seed_layout(tmp_path, seed_section):
    original = "# my board\n\n" + seed_section + "\n# end of heap\n[probe]\nport = 3333\n"
    path = write(tmp_path, "Drone.toml", original)
    seed = load_config(path).heap()
    apply_write(plan_write(path, None, 12 * 1024, NEW_POOLS))
    assert load_config(path).heap().pools == NEW_POOLS
    apply_write(plan_write(path, None, seed.size, seed.pools))
    assert path.read_text() == original
    assert (tmp_path / "Drone.toml.bak").read_text() != original  # the 12K layout


def test_crlf_files_stay_crlf(tmp_path):
    text = DRONE_012.replace("\n", "\r\n")
    path = write(tmp_path, "Drone.toml", text)
    apply_write(plan_write(path, None, 12 * 1024, NEW_POOLS))
    written = path.read_bytes()
    assert written.count(b"\n") == written.count(b"\r\n")
    expected = DRONE_012.replace(DRONE_012_POOLS, NEW_POOLS_TEXT).replace('"10K"', '"12K"')
    assert written == expected.replace("\n", "\r\n").encode()


@st.composite
def layouts(draw) -> list[Pool]:
    blocks = sorted(draw(st.sets(st.integers(1, 256).map(lambda b: 4 * b), min_size=1, max_size=8)))
    return [Pool(block, draw(st.integers(0, 300))) for block in blocks]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pools=layouts(), kind=st.sampled_from(["Drone.toml", "layout.toml"]))
def test_any_layout_reads_back_and_leaves_the_rest(tmp_path, pools, kind):
    # A large RAM region so that any drawn heap fits beside the stack.
    text = DRONE_012 if kind == "Drone.toml" else LAYOUT.replace('"20K"', '"16M"')
    path = write(tmp_path, kind, text)
    size = sum(p.block * p.capacity for p in pools)
    plan = plan_write(path, None, size, pools)
    heap_at = text.index("[heap")
    after = text.index("[probe]") if kind == "Drone.toml" else len(text)
    assert plan.new_text.startswith(text[:heap_at])
    assert plan.new_text.endswith(text[after:])
    # Read back as drone resolves it: layout.toml counts are shares of the heap.
    written = load_config(write(tmp_path, kind, plan.new_text)).heap().pools
    assert written == [p for p in pools if p.capacity]


def drone_pool_counts(heap_size: int, blocks: list[int], percents: list[str]) -> list[int]:
    """drone-config's calculate_pools for percentage counts, line by line in numpy float32."""
    f = np.float32
    shares = [f(f(p.removesuffix("%")) / f(100.0)) for p in percents]
    total = f(0.0)
    for share in shares:
        total = f(total + share)
    term = f(f(heap_size) / total)
    left, correction, free, counts = len(shares), f(0.0), heap_size, []
    for block, share in zip(blocks, shares, strict=True):
        decimal = f(f(share + correction) * term)
        left -= 1
        if left > 0:
            correction = f(np.fmod(decimal, f(block)))
            if correction > f(block) / f(2.0):
                correction = f(correction - f(block))
            decimal = f(decimal - correction)
            correction = f(correction / term)
        count = int(np.floor(f(decimal / f(block))))
        free -= count * block
        counts.append(count)
    for i in reversed(range(len(blocks))):
        add = free // blocks[i]
        counts[i] += add
        free -= add * blocks[i]
    return counts


def resolve(heap: int, blocks: list[int], percents: list[str]) -> list[int]:
    pools = [(block, parse_amount(p)) for block, p in zip(blocks, percents, strict=True)]
    resolved = pool_counts(heap, pools)
    assert [block for block, _ in resolved] == blocks
    return [count for _, count in resolved]


@settings(max_examples=60, deadline=None)
@given(
    # Heaps past 2**24 bytes are where f32 rounding changes counts.
    heap=st.one_of(st.integers(1, 1 << 18), st.integers(1 << 24, 1 << 26)).map(lambda h: 4 * h),
    pools=st.lists(
        st.tuples(st.integers(1, 150).map(lambda b: 4 * b), st.integers(1, 99_999)),
        min_size=1,
        max_size=6,
        unique_by=lambda pool: pool[0],
    ),
)
def test_percentage_counts_match_drone_in_f32(heap, pools):
    pools = sorted(pools)
    blocks = [block for block, _ in pools]
    percents = [f"{thousandths / 1000}%" for _, thousandths in pools]
    expected = drone_pool_counts(heap, blocks, percents)
    assert resolve(heap, blocks, percents) == expected


@settings(max_examples=200, deadline=None)
@given(
    pools=st.lists(
        st.tuples(st.integers(1, 1024).map(lambda b: 4 * b), st.integers(1, 100_000)),
        min_size=1,
        max_size=8,
        unique_by=lambda pool: pool[0],
    ).map(sorted)
)
def test_written_shares_resolve_in_drone_to_exactly_the_counts(pools):
    heap = sum(block * count for block, count in pools)
    assume(heap < 1 << 24)  # embedded heaps; beyond, f32 may leave no exact spelling
    shares = percent_counts(heap, pools)
    blocks = [block for block, _ in pools]
    assert drone_pool_counts(heap, blocks, shares) == [count for _, count in pools]


def test_f32_matters_for_large_heaps():
    # Found by search: computed in f64 the first two pools would get 138771 and 36800.
    blocks, percents = [132, 160, 440], ["28%", "9%", "30%"]
    expected = drone_pool_counts(43831656, blocks, percents)
    assert expected == [138770, 36801, 44604]
    assert resolve(43831656, blocks, percents) == expected


def test_write_through_a_symlink_keeps_the_link(tmp_path):
    real = write(tmp_path, "Drone.real.toml", DRONE_012)
    (tmp_path / "project").mkdir()
    link = tmp_path / "project" / "Drone.toml"
    link.symlink_to(real)
    apply_write(plan_write(link, None, 12 * 1024, NEW_POOLS))
    assert link.is_symlink()
    assert load_config(link).heap().pools == NEW_POOLS
    assert (tmp_path / "Drone.real.toml.bak").read_text() == DRONE_012


# --- formatting kept ---------------------------------------------------------------------


def test_mixed_line_endings_keep_their_own_and_new_lines_take_the_commonest(tmp_path):
    lines = DRONE_012.splitlines(keepends=True)
    # Every third line ends in CRLF, so LF is the file's commonest ending.
    mixed = "".join(
        line.replace("\n", "\r\n") if i % 3 == 0 else line for i, line in enumerate(lines)
    )
    start = mixed.index("pools = [")
    end = mixed.index("]", start) + 1  # the line break after ] ends a line that stays
    expected = (mixed[:start] + NEW_POOLS_TEXT.rstrip("\n") + mixed[end:]).replace(
        'size = "10K"   # whole heap', 'size = "12K"   # whole heap'
    )
    path = write(tmp_path, "Drone.toml", mixed)
    apply_write(plan_write(path, None, 12 * 1024, NEW_POOLS))
    assert path.read_bytes() == expected.encode()
    mostly_crlf = "".join(
        line if i % 3 == 0 else line.replace("\n", "\r\n") for i, line in enumerate(lines)
    )
    path = write(tmp_path, "Drone.toml", mostly_crlf)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    assert NEW_POOLS_TEXT.rstrip("\n").replace("\n", "\r\n") in plan.new_text


def test_comments_in_pools_stay_with_the_pools_that_survive(tmp_path):
    text = DRONE_012.replace(DRONE_012_POOLS, COMMENTED_POOLS)
    path = write(tmp_path, "Drone.toml", text)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    # Blocks 4 and 32 stay, with their comments; 256 goes, and its comments with it.
    assert plan.new_text == text.replace(
        COMMENTED_POOLS,
        """\
pools = [  # block, capacity
    # small objects
    { block = "4", capacity = 256 },   # list nodes
    { block = "12", capacity = 512 },
    { block = "32", capacity = 64 },  # buffers
    { block = "128", capacity = 24 },
    # end of pools
]
""",
    ).replace('size = "10K"', 'size = "12K"')
    apply_write(plan)
    assert load_config(path).heap().pools == NEW_POOLS
    assert tomllib.loads(path.read_text())["heap"]["pools"][0] == {"block": "4", "capacity": 256}


def test_comments_in_pools_of_a_crlf_layout_toml(tmp_path):
    layout = LAYOUT_FIXED.replace(
        '{ block = "32", count = "24" },', '{ block = "32", count = "24" },  # buffers'
    )
    path = write(tmp_path, "layout.toml", layout.replace("\n", "\r\n"))
    pools = [Pool(32, 30), Pool(64, 1)]
    plan = plan_write(path, None, 1024, pools)
    assert '    { block = "32", count = "93.75%" },  # buffers\r\n' in plan.new_text
    assert plan.new_text.count("\r\n") == plan.new_text.count("\n")
    assert plan.new_text.count("# buffers") == 1


def test_diff_of_a_file_without_a_final_line_break(tmp_path):
    text = '[memory.ram]\nsize = "20K"\n[linker]\nplatform = "arm"'
    plan = plan_write(write(tmp_path, "Drone.toml", text), None, 16, [Pool(4, 4)])
    lines = plan.diff.splitlines()
    at = lines.index('-platform = "arm"')
    assert lines[at + 1 : at + 3] == ["\\ No newline at end of file", '+platform = "arm"']
    assert plan.new_text.startswith(text + "\n\n[heap.main]\n")


def test_comments_beside_commas_placed_anywhere(tmp_path):
    pools = COMMAS_ANYWHERE_POOLS
    text = DRONE_012.replace(DRONE_012_POOLS, pools)
    plan = plan_write(write(tmp_path, "Drone.toml", text), None, 12 * 1024, NEW_POOLS)
    assert plan.new_text == text.replace(
        pools,
        NEW_POOLS_TEXT.replace("capacity = 256 },", "capacity = 256 },  # spaced comma"),
    ).replace('size = "10K"', 'size = "12K"')
