"""Config files the config tests read and write: Drone.toml 0.12-0.14, master's layout.toml."""

from __future__ import annotations

from pathlib import Path

from heapgui.layout.pools import Pool

DRONE_012 = """\
# Drone project configuration.
# Edited by hand; keep these comments.

[memory.flash]
size = "128K"
origin = 0x08000000

[memory.ram]
size = "20K"
origin = 0x20000000

[heap]
# tuned by hand
size = "10K"   # whole heap
pools = [
    { block = "4", capacity = 896 },
    { block = "32", capacity = 80 },
    { block = "256", capacity = 16 },
]

[probe]
gdb-client-command = "gdb-multiarch"

[probe.openocd]
command = "openocd"
port = 3333
arguments = ["-f", "interface/stlink.cfg", "-f", "target/stm32f1x.cfg"]

[log.swo]
reset-freq = 72000000   # core clock
baud-rate = 115200
serial-endpoint = "/dev/ttyUSB0"
"""


DRONE_012_POOLS = """\
pools = [
    { block = "4", capacity = 896 },
    { block = "32", capacity = 80 },
    { block = "256", capacity = 16 },
]
"""


DRONE_014 = """\
[memory]
flash = { size = "1M", origin = 0x08000000 }
ram = { size = "128K", origin = 0x20000000 }
ccm = { size = "64K", origin = 0x10000000 }

[heap.main]
size = "10K"
pools = [
    { block = "4", capacity = 256 },
    { block = "12", capacity = 768 },
]

# DMA-capable heap in CCM
[heap.dma]
origin = 0x10000000
size = "2K"
pools = [{ block = "64", capacity = 32 }]

[linker]
platform = "arm"
"""


LAYOUT = """\
# Memory layout (Drone master)
[ram]
main = { origin = 0x20000000, size = "20K" }

[data]
ram = "main"

[stack]
core0 = { ram = "main", size = "4K" }

[stream]
core0 = { ram = "main", size = "260" }

[heap.core0]
ram = "main"
size = "75%"  # of what is left
pools = [
    { block = "4", count = "25%" },
    { block = "32", count = "75%" },
]
"""


# drone-config's own tests (config/src/layout.rs) and the numbers they assert.
DRONE_FLEXIBLE_STACK = """\
[ram]
main = { origin = 0x20000000, size = "20K" }
[data]
ram = "main"
[stack]
core0 = { ram = "main", size = "25%" }
[stream]
core0 = { ram = "main", size = "260" }
[heap]
core0 = { ram = "main", size = "75%", pools = [{ block = "4", count = "100%" }] }
"""


DRONE_POOLS_ROUNDING = """\
[ram]
main = { origin = 0, size = "68" }
[data]
ram = "main"
[heap.main]
ram = "main"
size = "100%"
pools = [
    { block = "4", count = "12.5%" },
    { block = "12", count = "87.5%" },
]
"""


LAYOUT_FIXED = (
    LAYOUT.replace('size = "75%"', 'size = "1K"')
    .replace('count = "25%"', 'count = "64"')
    .replace('count = "75%"', 'count = "24"')
)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_bytes(text.encode())
    return path


NEW_POOLS = [Pool(4, 256), Pool(12, 512), Pool(32, 64), Pool(128, 24)]  # 12288 bytes


COMMENTED_POOLS = """\
pools = [  # block, capacity
    # small objects
    { block = "4", capacity = 896 },   # list nodes
    { block = "32", capacity = 80 },  # buffers
    # rare
    { block = "256", capacity = 16 },  # DMA
    # end of pools
]
"""


COMMAS_ANYWHERE_POOLS = """\
pools = [
    { block = "4", capacity = 896 }  ,  # spaced comma
    { block = "32", capacity = 80 }
    , { block = "256", capacity = 16 }  # comma first
]
"""
