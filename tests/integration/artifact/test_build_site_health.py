"""The example site's /health/ through Django's test client, in a subprocess (Django
settings are per process). Laid out like a release: <root>/app + release.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[3] / "examples" / "site"
CLIENT = """
import json, django
django.setup()
from django.core.management import call_command
from django.test import Client
if {migrate}:
    call_command("migrate", verbosity=0)
for url in {urls!r}:
    r = Client(HTTP_HOST="localhost").get(url)
    print(json.dumps({{"url": url, "code": r.status_code, "body": json.loads(r.content)}}))
"""


def get_pages(root: Path, shared: Path, migrate: bool = True, urls: tuple[str, ...] = ("/health/", "/")) -> dict[str, dict]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shipsite.settings", "SHIPYARD_SHARED": str(shared), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", CLIENT.format(migrate=migrate, urls=urls)], cwd=root / "app", env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {page["url"]: page for page in map(json.loads, proc.stdout.splitlines())}


@pytest.fixture
def release_root(tmp_path: Path) -> Path:
    shutil.copytree(SITE, tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__", "db.sqlite3"))
    (tmp_path / "shared").mkdir()
    return tmp_path


def test_health_reports_release_and_revision_from_release_json(release_root):
    (release_root / "release.json").write_text(json.dumps({"id": "20261125-120000-abc1234", "revision": "abc1234" + "0" * 33}))
    pages = get_pages(release_root, release_root / "shared")
    assert pages["/health/"]["code"] == 200
    assert pages["/health/"]["body"] == {"status": "ok", "release": "20261125-120000-abc1234", "revision": "abc1234" + "0" * 33}
    assert pages["/"]["code"] == 200 and pages["/"]["body"]["notes"] == 0
    assert (release_root / "shared" / "site.db").is_file()


def test_health_falls_back_to_the_manifest_revision(release_root):
    (release_root / "manifest.json").write_text(json.dumps({"revision": "f" * 40}))
    body = get_pages(release_root, release_root / "shared")["/health/"]["body"]
    assert body == {"status": "ok", "release": None, "revision": "f" * 40}


def test_health_is_503_when_the_database_is_unreachable(release_root):
    pages = get_pages(release_root, release_root / "no-such-dir", migrate=False, urls=("/health/",))
    assert pages["/health/"]["code"] == 503
    assert pages["/health/"]["body"]["status"] == "error"
