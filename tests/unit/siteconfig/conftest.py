from pathlib import Path

import pytest

from deploy.config import Loaded, load

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "siteconfig"


@pytest.fixture(scope="session")
def sites() -> Loaded:
    return load(FIXTURES / "sites.toml")
