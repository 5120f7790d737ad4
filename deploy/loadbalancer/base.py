"""The load balancer seam the rollout speaks: take a host out of rotation, put it back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deploy.errors import ShipyardError

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import HostConfig


class BalancerError(ShipyardError):
    """The balancer refused a command or a server did not reach the wanted state in time."""

    def __init__(self, host: str, action: str, detail: str):
        self.host, self.action, self.detail = host, action, detail
        super().__init__(f"{host}: load balancer {action}: {detail}")


@dataclass(frozen=True)
class ServerState:
    """What the balancer reports for one host's server."""

    server: str
    status: str  # UP, DOWN, DRAIN, MAINT, "UP 1/2", "no check", ...
    sessions: int

    @property
    def up(self) -> bool:
        """Plainly UP: "UP 1/2" is a server whose checks started failing (going down)."""
        return self.status in ("UP", "no check")

    @property
    def drained(self) -> bool:
        return self.status in ("DRAIN", "MAINT") or self.status.startswith(("DRAIN", "MAINT"))


class LoadBalancer(ABC):
    @abstractmethod
    def where(self, host: "HostConfig") -> dict[str, str]:
        """{"backend": ..., "server": ...}: where `host` sits in the balancer (for events)."""

    @abstractmethod
    def drain(self, host: "HostConfig", timeout: float | None = None) -> bool:
        """Stop new traffic to `host`; wait until its sessions reach 0 (True) or `timeout` passes (False).
        Idempotent: a host already drained and idle returns at once."""

    @abstractmethod
    def ready(self, host: "HostConfig", timeout: float | None = None, wait: bool = True) -> None:
        """Put `host` back in rotation and (with `wait`) wait until it is UP; BalancerError if it is not in time."""

    @abstractmethod
    def state(self, host: "HostConfig") -> ServerState:
        """The server's current status and session count."""
