"""Fixtures of the farm tests: one real lab per test module (built and torn down here)."""

from __future__ import annotations

from typing import Iterator

import pytest
from tests.integration.farm.farmlab import lab_env, running_lab

from deploy.config import EnvConfig
from deploy.lab.state import Lab


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab(3) as built:
        yield built


@pytest.fixture(scope="module")
def env(lab: Lab) -> EnvConfig:
    return lab_env(lab)
