import os
import tempfile
from pathlib import Path

import pytest
from pyocd_plants import Planted, plant

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


@pytest.fixture(scope="session")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"samples not found at {SAMPLES}: shared/ must sit beside the checkout")
    return SAMPLES


@pytest.fixture
def seed(samples) -> Path:
    """The seed example of the user's description, in the framed format."""
    return samples / "seed-example.framed"


@pytest.fixture
def planted(tmp_path, monkeypatch) -> Planted:
    """pyOCD config and scripts planted in a shared temporary folder and the working folder."""
    from pyocd.core.session import Session

    shared_tmp = tmp_path / "tmp"
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    markers = tmp_path / "markers"
    markers.mkdir()
    result = Planted(shared_tmp / "heapgui-pyocd", tmp_path / "cwd", markers)
    plant(result.shared, markers)
    plant(result.cwd, markers)
    monkeypatch.chdir(result.cwd)
    # pyOCD caches its default session per process: start as a fresh process would.
    monkeypatch.setattr(Session, "_options_session", None)
    monkeypatch.setattr(Session, "_current_session", None)
    return result
