"""The ELF32 reader and writer: binutils' readelf as the independent reference, the older
Drone Stream generation refused, and bad files as one-line errors, never a traceback."""

from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess

import pytest

from heapgui.capture.elf import read_elf32
from heapgui.capture.simulator.elf import Section, Symbol, elf_image, write_stream_elf
from heapgui.capture.stream_locate import stream_map_from_elf
from heapgui.capture.stream_map import StreamBuffer, StreamMap
from heapgui.errors import HeapguiError

PICO = StreamMap(
    0x2003FFFC,
    (StreamBuffer("core0", 0x2003FEEC, 260), StreamBuffer("core1", 0x2003FDDC, 260)),
    "test",
)


@pytest.fixture(scope="module")
def readelf() -> str:
    found = shutil.which("readelf")
    if found is None:
        pytest.skip("binutils' readelf is not installed: no independent ELF reader to compare with")
    return found


def test_readelf_reads_the_sections_and_symbols_written(tmp_path, readelf):
    path = tmp_path / "firmware.elf"
    write_stream_elf(path, PICO)
    done = subprocess.run(
        [readelf, "-h", "-S", "-s", "-W", str(path)], capture_output=True, text=True, check=True
    )
    assert done.stderr == ""  # readelf warns about anything malformed
    out = done.stdout
    assert re.search(r"Class:\s+ELF32", out)
    assert re.search(r"Data:\s+2's complement, little endian", out)
    assert re.search(r"Machine:\s+ARM", out)
    sections = {
        m["name"]: (m["type"], int(m["addr"], 16), int(m["size"], 16))
        for m in re.finditer(
            r"\]\s+(?P<name>\.\S+)\s+(?P<type>\w+)\s+(?P<addr>[0-9a-f]{8})\s+[0-9a-f]+\s+"
            r"(?P<size>[0-9a-f]+)",
            out,
        )
    }
    assert sections[".stream_rt"] == ("NOBITS", 0x2003FFFC, 4)
    assert sections[".stream_core0_rt"] == ("NOBITS", 0x2003FEEC, 12)
    assert sections[".stream_core0_buf"] == ("NOBITS", 0x2003FEF8, 260)
    assert sections[".stream_core1_rt"] == ("NOBITS", 0x2003FDDC, 12)
    assert sections[".stream_core1_buf"] == ("NOBITS", 0x2003FDE8, 260)
    symbols = {
        m[2]: int(m[1], 16)
        for m in re.finditer(r"\d+: ([0-9a-f]{8})\s+\d+\s+\w+\s+GLOBAL\s+\w+\s+\S+\s+(\S+)", out)
    }
    assert symbols == {
        "GLOBAL_RT": 0x2003FFFC,
        "STREAM_RT_BASE": 0x2003FFFC,
        "STREAM_CORE0_RT_BASE": 0x2003FEEC,
        "STREAM_CORE0_BUF_BASE": 0x2003FEF8,
        "STREAM_CORE0_BUF_END": 0x2003FEF8 + 260,
        "STREAM_CORE1_RT_BASE": 0x2003FDDC,
        "STREAM_CORE1_BUF_BASE": 0x2003FDE8,
        "STREAM_CORE1_BUF_END": 0x2003FDE8 + 260,
    }


def test_reader_agrees_with_readelf_on_section_order(tmp_path, readelf):
    path = tmp_path / "firmware.elf"
    write_stream_elf(path, PICO, symbols=False)
    out = subprocess.run(
        [readelf, "-S", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    theirs = re.findall(r"\[\s*\d+\] (\.\S+)", out)
    assert [s.name for s in read_elf32(path).sections if s.name] == theirs


# --- the September-November 2022 generation ------------------------------------------------

OLD_SECTIONS = [
    Section(".stream_core0_rt", 0x20001000, 12),
    Section(".stream_core0_buf", 0x2000100C, 260),
]


def test_older_generation_is_refused_by_its_rt_symbol(tmp_path):
    path = tmp_path / "old.elf"
    path.write_bytes(elf_image(OLD_SECTIONS, [Symbol("RT", 0x20001000, 12, ".stream_core0_rt")]))
    with pytest.raises(HeapguiError) as error:
        stream_map_from_elf(path)
    assert str(error.value) == (
        f"{path}: Drone Stream of September to November 2022 (symbol RT in .stream_core0_rt,"
        " no GLOBAL_RT): that generation keeps the enable mask inside each runtime and is not"
        " supported; rebuild with Drone master of November 2022 or later"
    )


def test_stripped_older_generation_is_refused_by_its_sections(tmp_path):
    path = tmp_path / "old.elf"
    path.write_bytes(elf_image(OLD_SECTIONS, []))
    with pytest.raises(HeapguiError, match=r"\(section \.stream_core0_rt, no GLOBAL_RT\)"):
        stream_map_from_elf(path)


# --- bad files ----------------------------------------------------------------------------


def good_image() -> bytes:
    return elf_image(
        [Section(".stream_rt", 0x20001000, 4), Section(".stream_core0_rt", 0x20001004, 12),
         Section(".stream_core0_buf", 0x20001010, 260)],
        [Symbol("GLOBAL_RT", 0x20001000, 4, ".stream_rt")],
    )  # fmt: skip


def patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    image = bytearray(data)
    struct.pack_into(fmt, image, offset, value)
    return bytes(image)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"", "byte 0: expected an ELF file (7f 45 4c 46), found an empty file"),
        (
            lambda: b"MZ\x90\x00rest",
            "byte 0: expected an ELF file (7f 45 4c 46), found 4d 5a 90 00",
        ),
        (
            lambda: good_image()[:30],
            "byte 0: expected an ELF32 header (52 bytes), found the end of the file at byte 30",
        ),
        (
            lambda: patched(good_image(), 4, "B", 2),
            "byte 4: expected a 32-bit ELF (class 1), as Cortex-M firmware is,"
            " found class 2 (ELF64)",
        ),
        (
            lambda: patched(good_image(), 5, "B", 2),
            "byte 5: expected little-endian data (1), found 2 (big-endian)",
        ),
        (
            lambda: patched(good_image(), 32, "<I", 0),
            "byte 32: expected the offset of the section headers, found 0 (no section headers)",
        ),
        (
            lambda: good_image()[:-8],
            "byte 168: expected 7 section headers (280 bytes), found the end of the file",
        ),
        (
            lambda: patched(good_image(), 50, "<H", 9),
            "byte 50: expected the index of the section name table below 7, found 9",
        ),
        (
            lambda: elf_image([Section(".data", 0x20000000, 4)], [Symbol("main", 0x8000001)]),
            "expected section .stream_rt or symbol GLOBAL_RT: no Drone Stream in this firmware"
            " (does layout.toml have [stream], and the firmware a stream! macro?)",
        ),
        (
            lambda: elf_image(
                [
                    Section(".stream_rt", 0x20001000, 4),
                    Section(".stream_core0_rt", 0x20001004, 12),
                    Section(".stream_core0_buf", 0x20001020, 260),
                ],
                [],
            ),  # fmt: skip
            "section .stream_core0_buf at 0x20001020: expected the ring right after the"
            " 12-byte runtime at 0x20001004",
        ),
        (
            lambda: elf_image(
                [Section(".stream_rt", 0x20001000, 4), Section(".stream_core0_rt", 0x20001004, 12)],
                [],
            ),
            "expected section .stream_core0_buf beside .stream_core0_rt",
        ),
        (
            lambda: elf_image([Section(".stream_rt", 0x20001000, 8)], []),
            "section .stream_rt: expected 4 bytes, found 8",
        ),
        (
            lambda: elf_image(
                [],
                [
                    Symbol("GLOBAL_RT", 0x20001000),
                    Symbol("STREAM_CORE0_RT_BASE", 0x20001004),
                    Symbol("STREAM_CORE0_BUF_BASE", 0x20001010),
                ],
            ),  # fmt: skip
            "expected symbols STREAM_CORE0_BUF_BASE and STREAM_CORE0_BUF_END (in that order)"
            " beside STREAM_CORE0_RT_BASE",
        ),
        (
            lambda: elf_image(
                [],
                [
                    Symbol("STREAM_RT_BASE", 0x20001000),
                    Symbol("STREAM_CORE0_RT_BASE", 0x20001004),
                    Symbol("STREAM_CORE0_BUF_BASE", 0x20001010),
                    Symbol("STREAM_CORE0_BUF_END", 0x20001010 + 256),
                ],
            ),  # fmt: skip
            "symbols STREAM_CORE0_BUF_BASE..END: expected a ring of a multiple of 4 of at least"
            " 260 bytes, found 256",
        ),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, make, message):
    path = tmp_path / "firmware.elf"
    path.write_bytes(make())
    with pytest.raises(HeapguiError) as error:
        stream_map_from_elf(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_a_directory_is_not_read(tmp_path):
    with pytest.raises(HeapguiError, match="expected a regular file, found a directory"):
        stream_map_from_elf(tmp_path)


def test_fuzzed_images_never_raise_anything_else(tmp_path):
    rng = random.Random(20221120)
    good = good_image()
    path = tmp_path / "fuzz.elf"
    outcomes = {"read": 0, "refused": 0}
    for _ in range(3000):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            choice = rng.random()
            if choice < 0.6:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif choice < 0.8 and len(data) >= 50:
                # Header fields are where a reader goes wrong: hit them harder.
                struct.pack_into(
                    "<H",
                    data,
                    rng.randrange(0, 50, 2),
                    rng.choice([0, 1, 0xFFFF, rng.randrange(65536)]),
                )
            else:
                del data[rng.randrange(len(data)) :]
                if not data:
                    break
        path.write_bytes(bytes(data))
        try:
            stream_map_from_elf(path)
            outcomes["read"] += 1
        except HeapguiError as error:
            assert str(error).startswith(f"{path}: ")
            assert "\n" not in str(error)
            outcomes["refused"] += 1
    assert outcomes["read"] and outcomes["refused"]  # both paths were exercised
