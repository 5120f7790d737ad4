"""A Django test runner that uses the bounced test database as it is: Django neither
creates nor destroys it (`invoke db.bounce-test` built it from sql/, with triggers,
procedures and seed data Django's migrations know nothing about).

    TEST_RUNNER = "deploy.db.django.ExistingDatabaseRunner"
"""

from __future__ import annotations

from typing import Any

from django.test.runner import DiscoverRunner


class ExistingDatabaseRunner(DiscoverRunner):
    def setup_databases(self, **kwargs: Any) -> list:
        return []

    def teardown_databases(self, old_config: Any, **kwargs: Any) -> None:
        return None
