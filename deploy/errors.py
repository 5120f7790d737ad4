"""The error tree. Every failure carries the context a release manager needs
(file and key, host and step, command and exit code) and a process exit code."""

from __future__ import annotations

from typing import Protocol


class CommandOutcome(Protocol):
    """What CommandFailed reads of a result (deploy.transport.base.Result is one); the error
    tree is the ground floor, so it names the shape rather than importing the transport."""

    host: str
    rc: int
    stdout: str
    stderr: str

    @property
    def display_command(self) -> str: ...


class ShipyardError(Exception):
    """Base of every error Shipyard raises on purpose. `exit_code` is what the CLI exits with."""

    exit_code = 1


class ConfigError(ShipyardError):
    """A bad value in shipyard.toml or on the command line: nothing has touched a host yet."""

    exit_code = 2

    def __init__(self, file: str, problems: list[str]):
        self.file = file
        self.problems = problems
        super().__init__("\n".join(f"{file}: {p}" for p in problems))


class UsageError(ShipyardError):
    """A task was called with arguments that cannot work (unknown release, no artifact...)."""

    exit_code = 2


class CommandFailed(ShipyardError):
    """A command on a host exited non-zero (raised by Transport.run with check=True)."""

    def __init__(self, result: CommandOutcome):
        self.result = result
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        detail = ("\n  " + "\n  ".join(tail)) if tail else ""
        super().__init__(f"{result.host}: `{result.display_command}` exited {result.rc}{detail}")


class CommandTimeout(ShipyardError):
    """A command on a host did not finish before its deadline."""

    def __init__(self, host: str, command: str, timeout: float):
        self.host, self.command, self.timeout = host, command, timeout
        super().__init__(f"{host}: `{command}` did not finish within {timeout:g}s")


class TransportError(ShipyardError):
    """The host could not be reached, or the channel broke (auth, host key, network)."""

    def __init__(self, host: str, message: str):
        self.host = host
        super().__init__(f"{host}: {message}")


class StepFailed(ShipyardError):
    """A deploy step failed on a host. Wraps the cause with host, stage and step names."""

    def __init__(self, host: str, step: str, cause: BaseException | str):
        self.host, self.step, self.cause = host, step, cause
        super().__init__(f"{host}: step '{step}' failed: {cause}")


class LockHeld(ShipyardError):
    """Another deploy holds the target's lock."""

    def __init__(self, host: str, holder: str):
        self.host, self.holder = host, holder
        super().__init__(f"{host}: deploy lock is held by {holder}")


class ArtifactError(ShipyardError):
    """The artifact is missing, tampered with (sha256 mismatch) or unsafe to unpack."""


class MetadataError(ArtifactError):
    """An artifact's sidecar or manifest is malformed (a missing or bad key): one line naming
    the file and the key, exit 2 like a bad config value."""

    exit_code = 2

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key = file, key
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


class ContainmentError(ShipyardError):
    """A host verb refused a path that resolves outside the release (or shared/)."""

    def __init__(self, host: str, message: str):
        self.host = host
        super().__init__(f"{host}: {message}")


class VcsError(ShipyardError):
    """The revision cannot be resolved, or the working tree is dirty."""

    exit_code = 2


class HealthCheckFailed(ShipyardError):
    """A health check did not pass before its deadline."""

    def __init__(self, host: str, check: str, last: str):
        self.host, self.check, self.last = host, check, last
        super().__init__(f"{host}: health check {check} failed: {last}")
