"""For a site's own test suite: bounce the test database once per session and hand back
its URL (see docs/database.md for the pytest fixture and the Django settings)."""

from __future__ import annotations

from typing import Callable

from deploy import config as cfg
from deploy.db.bounce import bounce
from deploy.db.connect import DbUrl
from deploy.db.session import test_target


def bounced_test_database(env: str = "local", config: str | None = None,
                          log: Callable[[str], None] = print) -> DbUrl:
    loaded = cfg.load(config)
    tgt = test_target(loaded, loaded.environment(env))
    bounce(tgt.url, tgt.sql_dir, password=tgt.password, timeout=tgt.settings.timeout, log=log)
    return tgt.url
