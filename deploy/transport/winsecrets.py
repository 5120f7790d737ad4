"""Look up a Windows transport's password: a named entry of `env.<name>.secrets`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploy.errors import ConfigError
from deploy.secrets import Secret, load_secret

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig


def host_password(host: "HostConfig", env: "EnvConfig | None", secret_name: str | None, what: str) -> Secret | None:
    """The Secret named by `secret_name`, or None when the host needs no password
    (Kerberos with a ticket). A named but unset secret is a config error, before any I/O."""
    if secret_name is None:
        return None
    var = (env.secrets if env else {}).get(secret_name)
    if var is None:
        raise ConfigError("shipyard.toml", [f"hosts.{host.name}.{what}.password_secret: {secret_name!r} is not in the environment's [secrets]"])
    secret = load_secret(secret_name, var)
    if secret is None:
        raise ConfigError("environment", [f"secrets.{secret_name}: environment variable {var} is not set"])
    return secret
