"""layout.toml as Drone master writes it: `[stream] ram` beside `[stream.<name>]` tables.

The two fixtures follow drone's stm32 and raspberrypi-pico project templates as
docs/drone-stream.md describes them. Expected heap sizes are worked out here by
hand from drone's placement rules (section 4 of that document), and the f32
steps of drone-config with numpy's float32, not with heapgui's own helpers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_run import run

from heapgui.errors import HeapguiError
from heapgui.layout.config import load_config

FIXTURES = Path(__file__).parent / "fixtures" / "drone-master"
STM32 = FIXTURES / "stm32.layout.toml"
PICO = FIXTURES / "raspberrypi-pico.layout.toml"

MASK = 4
RUNTIME = 12
POOL_HEADER = 16


def stm32_free() -> int:
    """20K less the 4K stack, the mask, one 260-byte stream and 8 pool headers."""
    return 20 * 1024 - 4096 - MASK - (260 + RUNTIME) - 8 * POOL_HEADER


def pico_halves() -> tuple[int, int]:
    """The two "50%" heaps of pico's "main": drone's f32 walk with its carried rounding."""
    free = 256 * 1024 - MASK - 2 * (260 + RUNTIME) - 2 * 8 * POOL_HEADER
    f = np.float32
    term = f(free) / (f(0.5) + f(0.5))
    first = f(0.5) * term
    correction = first % f(4)  # 2.0: not above half the alignment, so kept
    first -= correction
    correction /= term
    second = (f(0.5) + correction) * term  # the last entry takes no correction of its own
    return int(np.floor(first)), int(np.floor(second))


def test_stream_ram_beside_stream_tables_is_read(tmp_path):
    config = load_config(STM32)
    heap = config.heap()  # the only heap, core0
    assert heap.name == "core0"
    assert (heap.size, heap.estimated) == (stm32_free(), True)
    assert [p.block for p in heap.pools] == [4, 8, 20, 56, 116, 208, 336, 512]
    assert sum(p.block * p.capacity for p in heap.pools) == heap.size


def test_pico_template_heaps_share_main_after_mask_and_two_streams():
    config = load_config(PICO)
    sizes = (config.heap("core0").size, config.heap("core1").size)
    assert sizes == pico_halves()
    for heap in config.heaps.values():
        assert heap.estimated
        # drone's f32 share of 130671 bytes is no multiple of the 4-byte blocks.
        assert 0 <= heap.size - sum(p.block * p.capacity for p in heap.pools) < 4


def test_the_mask_counts_only_in_its_own_region(tmp_path):
    text = STM32.read_text()
    text = text.replace(
        'main = { origin = 0x20000000, size = "20K" }',
        'main = { origin = 0x20000000, size = "20K" }\nccm = { origin = 0x10000000, size = "4K" }',
    )
    moved = text.replace(
        '[stream]\n# The enable mask (GLOBAL_RT) lives in this region.\nram = "main"',
        '[stream]\nram = "ccm"',
    )
    assert moved != text
    path = tmp_path / "layout.toml"
    path.write_text(moved)
    assert load_config(path).heap().size == stm32_free() + MASK


def test_old_inline_stream_tables_without_a_mask_still_read(tmp_path):
    # September-November 2022: no [stream] ram, so no mask to count.
    path = tmp_path / "layout.toml"
    path.write_text(
        '[ram]\nmain = { origin = 0x20000000, size = "20K" }\n[data]\nram = "main"\n'
        '[stack]\ncore0 = { ram = "main", size = "4K" }\n'
        '[stream]\ncore0 = { ram = "main", size = "260" }\n'
        '[heap.core0]\nram = "main"\nsize = "100%"\npools = [{ block = "4", count = "100%" }]\n'
    )
    assert load_config(path).heap().size == stm32_free() + MASK + 7 * POOL_HEADER


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('ram = "main"\n\n[stream.core0]', 'ram = "main"\nsize = "260"\n\n[stream.core0]'),
            "stream.size: expected a [stream.size] table; [stream] itself holds only ram,"
            " the RAM region of the enable mask",
        ),
        (
            ('lives in this region.\nram = "main"', 'lives in this region.\nram = "sram2"'),
            "stream.ram: expected a RAM region from [ram] (available: main), found 'sram2'",
        ),
        (
            ('lives in this region.\nram = "main"', "lives in this region.\nram = 1"),
            "stream.ram: expected a RAM region from [ram] (available: main), found 1",
        ),
        (
            ('size = "260"', 'size = "258"'),
            "stream.core0.size: expected a multiple of 4 of at least 260 bytes, found '258'",
        ),
        (
            ('size = "260"', 'size = "256"'),
            "stream.core0.size: expected a multiple of 4 of at least 260 bytes, found '256'",
        ),
        (
            ('size = "260"', 'size = "10%"'),
            "stream.core0.size: expected a fixed size, not a share",
        ),
    ],
)
def test_bad_stream_sections_are_one_line_errors(tmp_path, edit, message):
    text = STM32.read_text()
    assert edit[0] in text
    path = tmp_path / "layout.toml"
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(HeapguiError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: {message}"


# --- end to end through the CLI, with layout.toml beside a tagged trace ---------------------


@pytest.fixture(params=["stm32", "pico"])
def project(request, tmp_path, samples, monkeypatch):
    """A master project folder: layout.toml and the trace `drone stream` would write;
    returns the folder and the size heap core0 must have."""
    template, size = {"stm32": (STM32, stm32_free()), "pico": (PICO, pico_halves()[0])}[
        request.param
    ]
    shutil.copyfile(template, tmp_path / "layout.toml")
    shutil.copyfile(samples / "seed-example.tagged", tmp_path / "heaptrace")
    monkeypatch.chdir(tmp_path)
    return tmp_path, size


def test_cli_stats_uses_the_layout_heap(project, capsys):
    _, size = project
    code, out, err = run(capsys, "stats", "--heap", "core0")
    assert code == 0, err
    # The seed trace peaks at 225 bytes of Σ size × max.
    assert f"Maximum memory usage: 225 / {225 / size * 100:.2f}%" in out
    assert "Format: tagged, 20 records" in out


def test_cli_validate_holds(project, capsys):
    code, out, err = run(capsys, "validate", "--heap", "core0")
    assert code == 0, err
    assert "heaptrace: holds" in out
    assert f"[heap core0], heap {project[1]:,} B" in out


def test_cli_generate_write_keeps_stream_and_writes_counts(project, capsys):
    path = project[0] / "layout.toml"
    before = path.read_text()
    code, out, err = run(capsys, "generate", "-p", "4", "--heap", "core0", "--write", "layout.toml")
    assert code == 0, err
    after = path.read_text()
    assert after != before

    def stream_part(text: str) -> str:
        return text[text.index("[stream]") : text.index("[heap.core0]")]

    assert stream_part(after) == stream_part(before)
    assert after[: after.index("[heap.core0]")] == before[: before.index("[heap.core0]")]
    heap = after[after.index("[heap.core0]") :]
    assert '{ block = "4", count = "' in heap  # master's style, not Drone.toml's capacity
    assert "capacity" not in heap
    # The file still reads, [stream] and all, and holds what was written.
    written = load_config(path).heap("core0")
    assert sum(p.block * p.capacity for p in written.pools) == written.size


def test_cli_names_an_unknown_stream_key_in_one_line(project, capsys):
    path = project[0] / "layout.toml"
    path.write_text(path.read_text().replace("[stream]\n", '[stream]\nsize = "260"\n', 1))
    for command in (["stats"], ["validate"], ["generate", "-p", "4", "--write", "layout.toml"]):
        code, out, err = run(capsys, *command, "--heap", "core0")
        assert code == 2 and out == ""
        # stats and validate find the file in the folder; --write names it as given.
        named = path if command[0] != "generate" else "layout.toml"
        assert err == (
            f"heapgui-cli: error: {named}: stream.size: expected a [stream.size] table;"
            " [stream] itself holds only ram, the RAM region of the enable mask\n"
        )
