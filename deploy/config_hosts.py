"""Host entries of shipyard.toml and their per-transport options (SSH, WinRM, SMB, PsExec)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from deploy.config_base import Strict


class SshOptions(Strict):
    """How to reach a host over SSH. Host keys are verified against `known_hosts` unless
    `trust_on_first_use` is set (then unknown keys are added, with a warning; changed keys never are)."""

    known_hosts: str = "~/.ssh/known_hosts"
    key_filename: str | None = None
    agent: bool = True
    trust_on_first_use: bool = False
    sudo: bool = False
    become: str | None = None
    connect_timeout: float = Field(default=10.0, gt=0)
    keepalive: int = Field(default=15, ge=0)


class WinRMOptions(Strict):
    """How to reach a host's WinRM listener. HTTPS with certificate validation by default;
    the password comes from a named secret (env.<name>.secrets), never from this file."""

    scheme: Literal["https", "http"] = "https"
    port: int | None = Field(default=None, ge=1, le=65535)
    path: str = "/wsman"
    auth: Literal["ntlm", "kerberos", "credssp", "basic"] = "ntlm"
    cert_validation: Literal["validate", "ignore"] = "validate"
    ca_trust_path: str | None = None
    operation_timeout: int = Field(default=20, ge=1)
    read_timeout: int = Field(default=30, ge=2)
    max_timeout: int = Field(default=60, ge=1)  # the host's MaxTimeoutms / 1000 (60 s unless raised there)
    message_encryption: Literal["auto", "always", "never"] = "auto"
    password_secret: str | None = None
    proxy: str | None = None
    codepage: int = 65001

    @model_validator(mode="after")
    def _timeouts(self) -> "WinRMOptions":
        if self.read_timeout <= self.operation_timeout:
            raise ValueError(
                f"read_timeout ({self.read_timeout}) must exceed operation_timeout ({self.operation_timeout}):"
                " the server may hold a Receive for the whole operation timeout"
            )
        if self.operation_timeout > self.max_timeout:
            raise ValueError(
                f"operation_timeout ({self.operation_timeout}) exceeds the host's MaxTimeoutms ({self.max_timeout} s): "
                "Windows refuses every request with a longer OperationTimeout; lower operation_timeout, or raise "
                f"MaxTimeoutms on the host (winrm set winrm/config @{{MaxTimeoutms=\"{self.operation_timeout * 1000}\"}}) "
                "and set max_timeout to match"
            )
        if self.auth == "basic" and self.message_encryption == "always":
            raise ValueError("message_encryption = \"always\" needs ntlm, kerberos or credssp, not basic")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or (5986 if self.scheme == "https" else 5985)


class SmbOptions(Strict):
    r"""SMB bulk transfer. Without `share`, a path on drive X: goes to the admin share X$;
    with `share`, paths under `share_root` go to \\host\share."""

    enabled: bool = True
    share: str | None = None
    share_root: str | None = None
    port: int = Field(default=445, ge=1, le=65535)
    encrypt: bool = True
    chunk_size: int = Field(default=1 << 20, ge=4096, le=8 << 20)
    password_secret: str | None = None
    connection_timeout: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _share_pair(self) -> "SmbOptions":
        if (self.share is None) != (self.share_root is None):
            raise ValueError("share and share_root go together (share_root is the Windows path the share maps to)")
        return self


class PsExecOptions(Strict):
    """pypsexec (PAExec over SMB) for hosts where only port 445 is open."""

    port: int = Field(default=445, ge=1, le=65535)
    encrypt: bool = True
    password_secret: str | None = None
    connection_timeout: int = Field(default=60, ge=1)


class HostConfig(Strict):
    name: str = Field(min_length=1)
    address: str | None = None
    transport: Literal["ssh", "winrm", "psexec", "local"] = "ssh"
    roles: list[str] = ["web"]
    user: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    deploy_to: str | None = None
    python: str | None = None
    system_site_packages: bool = False  # Windows: the env sees the base interpreter's packages (pywin32)
    # Windows: the X.Y of the host's Python, for which `invoke build` makes its win_amd64 dependency
    # bundle (default: the controller's own); the deploy checks it against the host's real Python first
    python_version: str | None = Field(default=None, pattern=r"^3\.\d{1,2}$")
    app_port: int | None = Field(default=None, ge=1, le=65535)
    winrm: WinRMOptions | None = None
    smb: SmbOptions | None = None
    psexec: PsExecOptions | None = None
    ssh: SshOptions | None = None
    haproxy_server: str | None = None

    @model_validator(mode="after")
    def _python_version_is_for_windows(self) -> "HostConfig":
        if self.python_version is not None and not self.is_windows:
            raise ValueError("python_version is for Windows hosts: a POSIX host's dependency bundle is built "
                             "with the controller's Python and checked against the host's before the deploy")
        return self

    @property
    def target(self) -> str:
        return self.address or self.name

    @property
    def is_windows(self) -> bool:
        return self.transport in ("winrm", "psexec")
