"""Config files as files: what kinds of file heapgui reads and replaces, read-only and
hard-linked files, byte order marks, 32-bit limits, and edits racing a rewrite.
"""

from __future__ import annotations

import pytest
from test_config import DRONE_012, LAYOUT_FIXED, NEW_POOLS, write

from heapgui.errors import HeapguiError
from heapgui.layout.config import load_config
from heapgui.layout.config_write import apply_write, plan_write
from heapgui.layout.pools import Pool


def one_line_error(call, *args) -> str:
    with pytest.raises(HeapguiError) as error:
        call(*args)
    message = str(error.value)
    assert "\n" not in message
    return message


# --- 32-bit sizes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('size = "10K"', "size = 9223372036854775808", "heap.main.size"),
        ('size = "10K"', "size = 18446744073709551616", "heap.main.size"),
        ('size = "10K"', "size = 4294967296", "heap.main.size"),
        ('size = "10K"', 'size = "4194304K"', "heap.main.size"),
        ('size = "10K"', 'size = "0x100000000"', "heap.main.size"),
        ("capacity = 896", "capacity = 9223372036854775808", "heap.main.pools[0].capacity"),
        ('block = "32"', 'block = "4096M"', "heap.main.pools[1].block"),
        ("baud-rate = 115200", "baud-rate = 4294967296", "log.swo.baud-rate"),
    ],
)
def test_sizes_at_or_above_2_to_the_32_are_refused(tmp_path, old, new, key):
    path = write(tmp_path, "Drone.toml", DRONE_012.replace(old, new))
    message = one_line_error(load_config, path)
    assert message.startswith(f"{path}: {key}: expected ")
    assert "2^32" in message


def test_largest_32_bit_size_is_read(tmp_path):
    text = DRONE_012.replace('size = "10K"', 'size = "0xFFFFFFFF"')
    assert load_config(write(tmp_path, "Drone.toml", text)).heap().size == 2**32 - 1


def test_layout_counts_above_32_bit_are_refused(tmp_path):
    path = write(tmp_path, "layout.toml", LAYOUT_FIXED.replace('"64"', '"4294967296"'))
    assert one_line_error(load_config, path).startswith(
        f"{path}: heap.core0.pools[0].count: expected a size below 2^32"
    )


def test_writing_a_size_past_32_bit_is_refused(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    message = one_line_error(plan_write, path, None, 2**32, [Pool(2**30, 4)])
    assert "2^32" in message
    assert path.read_text() == DRONE_012


# --- text ----------------------------------------------------------------------------------


def test_utf8_byte_order_mark_is_read_and_kept(tmp_path):
    path = tmp_path / "Drone.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DRONE_012.encode())
    assert load_config(path).heap().size == 10240
    apply_write(plan_write(path, None, 12 * 1024, NEW_POOLS))
    written = path.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf#")
    assert written.count(b"\xef\xbb\xbf") == 1
    assert load_config(path).heap().pools == NEW_POOLS


def test_utf16_file_is_named(tmp_path):
    path = tmp_path / "Drone.toml"
    path.write_bytes(DRONE_012.encode("utf-16"))
    assert one_line_error(load_config, path) == (
        f"{path}: byte 0: expected UTF-8 text, found a UTF-16 byte order mark"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # TOML 1.0, and so drone, has no line breaks inside an inline table; tomlkit takes them.
        ('[heap]\nsize = "8"\npools = [{ block = "4",\n capacity = 2 }]\n', "line 3, column 24"),
        ('[heap]\nsize = "8"\npools = [{ block = "4", block = "8", capacity = 2 }]\n', "line 3"),
    ],
)
def test_text_toml_1_0_refuses_is_refused(tmp_path, text, expected):
    path = write(tmp_path, "Drone.toml", text)
    message = one_line_error(load_config, path)
    assert message.startswith(f"{path}: {expected}")
    assert "expected valid TOML" in message
