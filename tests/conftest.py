"""Fixtures every test area shares."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory) -> Path:
    """One pip wheel cache per test session: the example site's wheels download once."""
    return Path(os.environ.get("SHIPYARD_TEST_WHEEL_CACHE") or tmp_path_factory.mktemp("wheels"))
