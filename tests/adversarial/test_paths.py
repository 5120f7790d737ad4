"""A project and a deploy_to whose paths hold spaces, `;`, `#`, quotes and parentheses (characters
an INI parser or a shell would cut): build, deploy, redeploy (delta) and roll back all work, the
managed supervisord serves the site, and nothing lands outside deploy_to. A `%`, which supervisord
expands in its own values whatever the quoting, is refused when the config loads."""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import adversarial_repo, finish, new_revision


@pytest.mark.slow
def test_paths_with_spaces_and_ini_metacharacters_work_everywhere(tmp_path, wheel_cache):
    root = tmp_path / "my site; #1 'it''s' (here)"
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


def test_a_percent_in_a_managed_supervisors_deploy_to_is_refused_at_load(tmp_path):
    from deploy.config import load
    from deploy.errors import ConfigError

    root = tmp_path / "100% site"
    root.mkdir()
    (root / "shipyard.toml").write_text('[env.local]\nsupervisor = { program = "web" }\n')
    with pytest.raises(ConfigError, match="env.local.deploy_to: .*'%'"):
        load(root / "shipyard.toml").environment("local")
