"""A Django site's tests run against the bounced database (Django told not to create or
destroy it), and the pytest helper bounces it first."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from deploy.db.testing import bounced_test_database

ROOT = Path(__file__).parents[3]

SETTINGS = """
SECRET_KEY = "test"
INSTALLED_APPS = ["checks"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}, "TEST": {{"NAME": {db!r}}}}}}}
TEST_RUNNER = "deploy.db.django.ExistingDatabaseRunner"
"""
TESTS = """
from django.db import connection
from django.test import TransactionTestCase

class SeededDatabase(TransactionTestCase):
    def test_sees_seed_data_and_view(self):
        with connection.cursor() as c:
            c.execute("SELECT title FROM published_post")
            self.assertEqual(c.fetchall(), [("Hello",)])
"""


def test_django_suite_runs_against_the_bounced_database(tmp_path) -> None:
    shutil.copytree(ROOT / "sql", tmp_path / "sql")
    (tmp_path / "shipyard.toml").write_text('[env.local]\ndatabase = "sqlite:///site.db"\n')
    lines: list[str] = []
    url = bounced_test_database("local", str(tmp_path / "shipyard.toml"), log=lines.append)
    assert url.database == str(tmp_path / "test_site.db") and any("020_posts.sql" in line for line in lines)
    (tmp_path / "settings.py").write_text(SETTINGS.format(db=url.database))
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "__init__.py").write_text("")
    (tmp_path / "checks" / "tests.py").write_text(TESTS)
    run = subprocess.run([sys.executable, "-m", "django", "test", "checks", "--settings", "settings", "-v", "2"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert "Ran 1 test" in run.stderr and "Creating test database" not in run.stderr
    assert Path(url.database).is_file()  # not destroyed afterwards
