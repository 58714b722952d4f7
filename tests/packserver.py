"""A local CMSIS pack server: pack index, descriptions and packs over HTTP on 127.0.0.1.

cmsis-pack-manager downloads through its own Rust HTTP client, so tests give
it a real server with small, valid packs instead of the internet.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

VENDOR = "Heapgui"
# pack name -> the part numbers it describes
PACKS = {"Test_DFP": ("HG1234", "HG1235"), "Other_DFP": ("HG1299",)}
VERSION = "1.0.0"


def pdsc(base: str, pack: str, parts: tuple[str, ...]) -> str:
    devices = "\n".join(
        f"""      <device Dname="{part}">
        <memory name="IROM1" access="rx" start="0x08000000" size="0x00100000"
                startup="1" default="1"/>
        <memory name="IRAM1" access="rw" start="0x20000000" size="0x00020000" default="1"/>
      </device>"""
        for part in parts
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<package schemaVersion="1.7.7">
  <vendor>{VENDOR}</vendor>
  <name>{pack}</name>
  <description>heapgui test pack</description>
  <url>{base}</url>
  <releases>
    <release version="{VERSION}" date="2026-11-01">First release</release>
  </releases>
  <devices>
    <family Dfamily="HG" Dvendor="ARM:82">
      <processor Dcore="Cortex-M4" DcoreVersion="r0p1" Dfpu="SP_FPU" Dmpu="MPU"
                 Dendian="Little-endian"/>
{devices}
    </family>
  </devices>
</package>
"""


@dataclass
class PackServer:
    root: Path
    base: str
    vendor_list: Path

    def pack_file(self, pack: str) -> Path:
        return self.root / f"{VENDOR}.{pack}.{VERSION}.pack"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_vendor_list(directory: Path) -> Path:
    """A vendor list naming a local port nobody listens on: an offline machine, fast."""
    path = directory / "offline-vendors.list"
    path.write_text(f"http://127.0.0.1:{free_port()}/index.pidx\n")
    return path


@contextmanager
def pack_server(directory: Path) -> Iterator[PackServer]:
    root = directory / "server"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    entries = []
    for pack, parts in PACKS.items():
        text = pdsc(base, pack, parts)
        (root / f"{VENDOR}.{pack}.pdsc").write_text(text)
        with zipfile.ZipFile(root / f"{VENDOR}.{pack}.{VERSION}.pack", "w") as archive:
            archive.writestr(f"{VENDOR}.{pack}.pdsc", text)
        entries.append(f'<pdsc url="{base}" vendor="{VENDOR}" name="{pack}" version="{VERSION}"/>')
    (root / "index.pidx").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<index schemaVersion="1.0.0">\n'
        f"<vendor>{VENDOR}</vendor>\n<url>{base}</url>\n"
        f"<timestamp>2026-11-01T00:00:00</timestamp>\n<pindex>\n{chr(10).join(entries)}\n"
        "</pindex>\n</index>\n"
    )
    vendor_list = directory / "vendors.list"
    vendor_list.write_text(f"{base}index.pidx\n")
    thread = threading.Thread(target=server.serve_forever, name="pack-server", daemon=True)
    thread.start()
    try:
        yield PackServer(root, base, vendor_list)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass
