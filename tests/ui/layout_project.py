"""The layout tests' project: the workload sample beside a hand-commented Drone.toml."""

from __future__ import annotations

WORKLOAD = "workload-40k.framed"


HEAP_64K = 65536


DRONE_TOML = """\
# Drone project configuration.
# Edited by hand: these comments must survive.

[memory.flash]
size = "128K"
origin = 0x08000000

[heap]
# tuned by hand
size = "64K"   # whole heap
pools = [
    { block = "1K", capacity = 64 },
]

# Probe settings below the heap.
[probe]
gdb-client-command = "gdb-multiarch"

[log.swo]
reset-freq = 72000000
baud-rate = 115200
"""
