"""Site model files in a deploy: variables substituted into the release, a missing
variable stops the deploy before any host is touched."""

import json

import pytest

SITE = """
[env.local.site]
servers = []
variables = { DbHost = "db1.corp" }
substitute = ["appsettings.json"]
"""


def configure(repo, settings_text):
    (repo.root / "site" / "appsettings.json").write_text(settings_text)
    cfg = repo.root / "shipyard.toml"
    cfg.write_text(cfg.read_text() + SITE)
    repo.commit("settings with variables")


@pytest.mark.slow
def test_variables_substituted_into_release(git_site):
    configure(git_site, '{"db": "#{DbHost}", "key": "#{DJANGO_SECRET_KEY}"}\n')
    git_site.env["SITE_KEY_FOR_TEST"] = 'k"ey'
    cfg = git_site.root / "shipyard.toml"
    cfg.write_text(cfg.read_text().replace("keep_releases = 3", 'keep_releases = 3\nsecrets = { DJANGO_SECRET_KEY = "SITE_KEY_FOR_TEST" }'))
    git_site.commit("secret")
    git_site.invoke("build", "deploy")
    written = git_site.deploy_to / "current" / "app" / "appsettings.json"
    assert json.loads(written.read_text()) == {"db": "db1.corp", "key": 'k"ey'}
    artifact_copy = git_site.root / "site" / "appsettings.json"
    assert "#{DbHost}" in artifact_copy.read_text()


def test_missing_variable_stops_before_any_host(git_site):
    configure(git_site, '{"db": "#{NoSuchVar}"}\n')
    proc = git_site.invoke("build", "deploy", check=False)
    assert proc.returncode == 2
    assert "appsettings.json: variable 'NoSuchVar' is used but has no value" in proc.stderr
    assert not (git_site.deploy_to / "releases").exists() or not any((git_site.deploy_to / "releases").iterdir())
