"""CMSIS pack installation through cmsis-pack-manager, against a local pack server."""

from __future__ import annotations

import pytest
from packserver import PACKS, VENDOR, VERSION, closed_vendor_list, pack_server
from pyocd.target.pack.pack_target import ManagedPacks

from heapgui.capture.packs import (
    PackCache,
    PackError,
    install_target_pack,
    installed_packs,
    matching_parts,
)
from heapgui.trace.load import Cancelled


@pytest.fixture
def server(tmp_path):
    with pack_server(tmp_path) as running:
        yield running


def cache_for(tmp_path, vendor_list) -> PackCache:
    return PackCache(tmp_path / "cache", vendor_list)


def never() -> bool:
    return False


def test_installs_the_pack_of_a_part_and_pyocd_sees_its_targets(server, tmp_path):
    cache = cache_for(tmp_path, server.vendor_list)
    progress: list[float] = []
    result = install_target_pack("hg1234", progress.append, never, cache)
    assert result.packs == (f"{VENDOR}.Test_DFP.{VERSION}",)
    assert result.parts == ("HG1234",)
    assert result.target_types == ("hg1234",)
    assert (tmp_path / "cache" / VENDOR / "Test_DFP" / f"{VERSION}.pack").is_file()
    assert progress[-1] == 1.0 and progress == sorted(progress)
    assert installed_packs(cache) == [f"{VENDOR}.Test_DFP.{VERSION}"]
    # pyocd itself reads the pack: both of its parts become target types.
    parts = {device.part_number for device in ManagedPacks.get_installed_targets(cache)}
    assert parts == set(PACKS["Test_DFP"])


def test_a_part_matching_several_packs_is_refused(server, tmp_path):
    with pytest.raises(PackError, match="matches 3 parts in 2 packs"):
        install_target_pack(
            "HG12", lambda fraction: None, never, cache_for(tmp_path, server.vendor_list)
        )


def test_an_unknown_part_names_itself(server, tmp_path):
    with pytest.raises(PackError, match="no pack in the index supports a part named 'XY999'"):
        install_target_pack(
            "XY999", lambda fraction: None, never, cache_for(tmp_path, server.vendor_list)
        )


def test_without_a_network_the_error_says_so(tmp_path):
    vendor_list = closed_vendor_list(tmp_path)
    with pytest.raises(PackError) as failure:
        install_target_pack(
            "HG1234", lambda fraction: None, never, cache_for(tmp_path, vendor_list)
        )
    message = str(failure.value)
    assert message.startswith("cannot download the CMSIS pack index from")
    assert str(vendor_list) in message and "network" in message
    assert "\n" not in message


def test_a_pack_that_fails_to_download_is_reported(server, tmp_path):
    server.pack_file("Test_DFP").unlink()  # the index and descriptions load, the pack is gone
    with pytest.raises(PackError, match=f"downloading {VENDOR}.Test_DFP.{VERSION} failed"):
        install_target_pack(
            "HG1234", lambda fraction: None, never, cache_for(tmp_path, server.vendor_list)
        )


def test_cancelling_stops_before_the_pack_download(server, tmp_path):
    with pytest.raises(Cancelled):
        install_target_pack(
            "HG1234", lambda fraction: None, lambda: True, cache_for(tmp_path, server.vendor_list)
        )
    assert not (tmp_path / "cache" / VENDOR / "Test_DFP").exists()


def test_an_empty_part_number_is_refused_before_any_download(tmp_path):
    with pytest.raises(PackError, match="type a part number"):
        install_target_pack(
            "  ", lambda fraction: None, never, cache_for(tmp_path, closed_vendor_list(tmp_path))
        )


def test_matching_prefers_the_exact_part_then_globs():
    index = {"STM32F407VGTx": {}, "STM32F407VETx": {}, "STM32F401CCUx": {}}
    assert matching_parts(index, "stm32f407vgtx") == ["STM32F407VGTx"]
    assert matching_parts(index, "STM32F407") == ["STM32F407VETx", "STM32F407VGTx"]
    assert matching_parts(index, "stm32f4*u") == ["STM32F401CCUx"]
    assert matching_parts(index, "nrf52") == []
