"""A project and a deploy_to whose paths hold spaces, `;`, `#` and `%` (characters an INI
parser, a shell or a %-format would cut or expand): build, deploy, redeploy (delta) and roll
back all work, the managed supervisord serves the site, and nothing lands outside deploy_to."""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import adversarial_repo, finish, new_revision


@pytest.mark.slow
def test_paths_with_spaces_and_ini_metacharacters_work_everywhere(tmp_path, wheel_cache):
    root = tmp_path / "my site; #1 %(here)s 100%"
    site = adversarial_repo(root, wheel_cache)
    try:
        before = sorted(p.name for p in tmp_path.iterdir())
        site.invoke("build", "deploy", timeout=600)
        first = site.current()
        assert site.health()["release"] == first
        new_revision(site, "second")
        site.invoke("deploy", timeout=600)
        assert site.health()["release"] == site.current() != first
        site.invoke("rollback", timeout=600)
        assert site.current() == first and site.health()["release"] == first
        assert sorted(p.name for p in tmp_path.iterdir()) == before
    finally:
        finish(site)
