"""[env.X].notify in shipyard.toml: validated like every other key."""

from __future__ import annotations

import pytest

from deploy.config import NotifyConfig, parse
from deploy.errors import ConfigError


def env_with(notify: str, secrets: str = '{ HOOK_TOKEN = "SHIPYARD_HOOK_TOKEN" }'):
    return parse(f'[env.prod]\nhosts = [{{ name = "web1" }}]\nsecrets = {secrets}\nnotify = {notify}\n', "shipyard.toml")


def test_defaults_and_a_full_entry():
    env = env_with('{ url = "https://chat.corp/hooks/abc", token_secret = "HOOK_TOKEN", on = ["failure"], timeout = 3 }').env["prod"]
    assert env.notify == NotifyConfig(url="https://chat.corp/hooks/abc", token_secret="HOOK_TOKEN", on=["failure"], timeout=3.0)
    assert env.notify.retries == 3
    assert parse('[env.prod]\nhosts = [{ name = "web1" }]\n', "f").env["prod"].notify is None


@pytest.mark.parametrize(
    "notify, message",
    [
        ('{ url = "ftp://chat.corp/x" }', "shipyard.toml: env.prod.notify.url: 'ftp://chat.corp/x' does not match"),
        ('{ url = "https://x", on = ["always"] }', "shipyard.toml: env.prod.notify.on[0]: 'always' is not one of start, failure, end"),
        ('{ url = "https://x", retries = 50 }', "shipyard.toml: env.prod.notify.retries: must be <= 10, got 50"),
        ('{ url = "https://x", timeout = 0 }', "shipyard.toml: env.prod.notify.timeout: must be > 0, got 0"),
        ('{ url = "https://x", verify = false }', "shipyard.toml: env.prod.notify.verify: unknown key"),
        ('{ url = "https://x", token_secret = "NOPE" }',
         "shipyard.toml: env.prod: notify.token_secret: 'NOPE' is not a name in secrets (defined: HOOK_TOKEN)"),
    ],
)
def test_bad_notify_values_name_the_key(notify, message):
    with pytest.raises(ConfigError) as raised:
        env_with(notify)
    assert message in str(raised.value)
    assert raised.value.exit_code == 2
