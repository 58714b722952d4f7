import os
from pathlib import Path

import pytest

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
