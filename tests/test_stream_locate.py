"""Where Drone Stream's mask and buffers are: layout.toml placement and the ELF locators.

The reference is the worked-results table of docs/drone-stream.md section 4
(which drone's own unit tests of the arithmetic agree with), copied here as
literals, plus cases worked out by hand from the placement rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heapgui.capture.simulator.elf import write_stream_elf
from heapgui.capture.stream_locate import (
    expected_size_mismatch,
    stream_map_from_elf,
    stream_map_from_layout,
)
from heapgui.capture.stream_map import StreamBuffer, StreamMap
from heapgui.errors import HeapguiError

FIXTURES = Path(__file__).parent / "fixtures" / "drone-master"
STM32 = FIXTURES / "stm32.layout.toml"
PICO = FIXTURES / "raspberrypi-pico.layout.toml"

# docs/drone-stream.md, section 4: (mask, [(stream, RT, BUF, size)]).
WORKED_RESULTS = {
    STM32: (0x20001000, [("core0", 0x20001004, 0x20001010, 260)]),
    PICO: (
        0x2003FFFC,
        [("core0", 0x2003FEEC, 0x2003FEF8, 260), ("core1", 0x2003FDDC, 0x2003FDE8, 260)],
    ),
}


def rows(stream_map: StreamMap) -> list[tuple[str, int, int, int]]:
    return [(b.name, b.runtime, b.buffer, b.size) for b in stream_map.buffers]


@pytest.mark.parametrize("template", [STM32, PICO], ids=["stm32", "pico"])
def test_layout_reproduces_the_worked_results(template):
    stream_map = stream_map_from_layout(template)
    mask, buffers = WORKED_RESULTS[template]
    assert stream_map.mask == mask
    assert rows(stream_map) == buffers
    assert stream_map.source == str(template)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "layout.toml"
    path.write_text(text)
    return path


def test_fixed_stack_after_a_share_goes_down_from_the_end(tmp_path):
    # The first stack is a share, so the region grows down: the 1K fixed stack takes
    # 0x2000FC00..0x20010000, the mask the 4 bytes below it, the 260-byte stream
    # its 272 bytes below that, and the ram2 stream sits in its own region.
    path = write(
        tmp_path,
        """\
[ram]
ram2 = { origin = 0x10000000, size = "0x1000" }
main = { origin = 0x20000000, size = "64K" }
[data]
ram = "main"
[stack.core0]
ram = "main"
size = "50%"
[stack.core1]
ram = "main"
size = "1K"
[stream]
ram = "main"
[stream.log]
ram = "ram2"
size = "0x200"
[stream.core0]
ram = "main"
size = "260"
""",
    )
    stream_map = stream_map_from_layout(path)
    assert stream_map.mask == 0x2000FBFC
    # ram2 has no stack: down from 0x10001000 by 0x200 + 12.
    assert rows(stream_map) == [
        ("log", 0x10000DF4, 0x10000E00, 0x200),
        ("core0", 0x2000FAEC, 0x2000FAF8, 260),
    ]


def test_up_from_the_origin_after_every_fixed_stack(tmp_path):
    # Two fixed stacks (octal 01000 = 512 and 2K) first, then the mask, then two streams.
    path = write(
        tmp_path,
        """\
[ram.main]
origin = 0x20000000
size = "20K"
[stack.core0]
ram = "main"
size = "01000"
[stack.core1]
ram = "main"
size = "2K"
[stream]
ram = "main"
[stream.a]
ram = "main"
size = "1K"
[stream.b]
ram = "main"
size = "264"
""",
    )
    stream_map = stream_map_from_layout(path)
    assert stream_map.mask == 0x20000000 + 512 + 2048
    assert rows(stream_map) == [
        ("a", 0x20000A04, 0x20000A10, 1024),
        ("b", 0x20000A04 + 1036, 0x20000A04 + 1048, 264),
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('[stream]\n# The enable mask (GLOBAL_RT) lives in this region.\nram = "main"\n', ""),
            "stream: missing 'ram', the RAM region of the enable mask (Drone master of"
            ' November 2022 or later writes [stream] ram = "main")',
        ),
        (
            ('[stream.core0]\nram = "main"\nsize = "260"\ninit-primary = true\n', ""),
            "expected a [stream.<name>] table: no Drone Stream buffer",
        ),
        (
            ('size = "260"', 'size = "0x100"'),
            "stream.core0.size: expected a multiple of 4 of at least 260 bytes, found '0x100'",
        ),
        (
            ('size = "260"', 'size = "262"'),
            "stream.core0.size: expected a multiple of 4 of at least 260 bytes, found '262'",
        ),
        (
            ('size = "260"', 'size = "16K"'),
            "ram.main: the fixed stacks and Drone Stream need 20496 bytes, more than the"
            " region's 20480",
        ),
        (
            ('size = "260"', 'size = "17K"'),
            "ram.main: the fixed stacks and Drone Stream need 21520 bytes, more than the"
            " region's 20480",
        ),
        (
            ("origin = 0x20000000, ", ""),
            "ram.main: missing 'origin'",
        ),
        (
            ("origin = 0x20000000", "origin = 0xFFFFF000"),
            "ram.main: expected the region to end by 2^32, found origin 0xfffff000 + size 20480",
        ),
    ],
)
def test_layout_errors_are_one_line(tmp_path, edit, message):
    text = STM32.read_text()
    assert edit[0] in text
    path = write(tmp_path, text.replace(edit[0], edit[1], 1))
    with pytest.raises(HeapguiError) as error:
        stream_map_from_layout(path)
    assert str(error.value) == f"{path}: {message}"


def test_a_block_filling_the_region_exactly_is_placed(tmp_path):
    # 4K stack + mask + (size + 12) == 20K exactly: 16K - 16 = 16368 bytes of ring.
    text = STM32.read_text().replace('size = "260"', 'size = "16368"')
    stream_map = stream_map_from_layout(write(tmp_path, text))
    assert rows(stream_map) == [("core0", 0x20001004, 0x20001010, 16368)]


@pytest.mark.parametrize("template", [STM32, PICO], ids=["stm32", "pico"])
@pytest.mark.parametrize(
    ("sections", "symbols", "how"),
    [(True, True, "section headers"), (True, False, "section headers"), (False, True, "symbols")],
)
def test_elf_gives_what_layout_gives(tmp_path, template, sections, symbols, how):
    expected = stream_map_from_layout(template)
    elf = tmp_path / "firmware.elf"
    write_stream_elf(elf, expected, sections=sections, symbols=symbols)
    found = stream_map_from_elf(elf)
    assert (found.mask, found.buffers) == (expected.mask, expected.buffers)
    assert found.source == f"{elf} ({how})"


def test_size_mismatch_wording():
    buffer = StreamBuffer("core0", 0x20001004, 260)
    assert expected_size_mismatch(buffer, 1024, "layout.toml") == (
        "layout.toml: stream core0 at 0x20001004: buffer_size reads 1024, expected 260:"
        " the layout.toml or ELF does not match the flashed firmware"
    )


# --- properties of the placement, for layouts nobody worked out by hand ---------------------


@st.composite
def layouts(draw):
    """A one-region layout.toml: stacks (fixed or a share), the mask and some streams."""
    origin = draw(st.integers(0, 0x3FFF_0000)) * 4
    size = draw(st.integers(16, 64 * 1024)) * 4
    stacks = draw(st.lists(st.one_of(st.integers(1, 256).map(lambda w: w * 4), st.just("25%"))))
    streams = draw(st.lists(st.integers(65, 512).map(lambda w: w * 4), min_size=1, max_size=4))
    lines = [f'[ram.main]\norigin = {origin:#x}\nsize = "{size}"']
    lines += [f'[stack.s{i}]\nram = "main"\nsize = "{s}"' for i, s in enumerate(stacks)]
    lines.append('[stream]\nram = "main"')
    lines += [f'[stream.b{i}]\nram = "main"\nsize = "{s}"' for i, s in enumerate(streams)]
    return origin, size, stacks, streams, "\n".join(lines) + "\n"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(layout=layouts())
def test_placement_packs_from_the_anchored_end_in_file_order(tmp_path, layout):
    origin, size, stacks, streams, text = layout
    fixed = sum(s for s in stacks if isinstance(s, int))
    need = fixed + 4 + sum(s + 12 for s in streams)
    path = write(tmp_path, text)
    if need > size:
        with pytest.raises(HeapguiError, match="more than the region's"):
            stream_map_from_layout(path)
        return
    stream_map = stream_map_from_layout(path)
    up = bool(stacks) and isinstance(stacks[0], int)
    # Blocks in the order they are taken: the fixed stacks' span, the mask, each stream.
    blocks = [(stream_map.mask, 4)] + [(b.runtime, 12 + b.size) for b in stream_map.buffers]
    assert [b.size for b in stream_map.buffers] == streams
    expected_next = origin + fixed if up else origin + size - fixed
    for start, length in blocks:
        if up:
            assert start == expected_next  # right after the previous block
            expected_next = start + length
        else:
            assert start + length == expected_next  # right below the previous block
            expected_next = start
        assert origin <= start and start + length <= origin + size
