"""What a lab is (lab.json): its hosts, mode and files, so `down` undoes exactly what `up` made."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from deploy.lab import LabError, balancer
from deploy.lab.hosts import LabHost

STATE = "lab.json"


@dataclass
class Lab:
    dir: str
    mode: str  # "netns" or "loopback"
    frontend_port: int
    hosts: list[LabHost] = field(default_factory=list)
    bridge: str | None = None
    env_file: str | None = None
    wsgi: str = "shipsite.wsgi"

    @property
    def root(self) -> Path:
        return Path(self.dir)

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def client_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def admin_socket(self) -> Path:
        return balancer.admin_socket(self.root)

    @property
    def frontend_url(self) -> str:
        return f"http://127.0.0.1:{self.frontend_port}"

    def save(self) -> None:
        data = {**self.__dict__, "hosts": [h.to_json() for h in self.hosts]}
        (self.root / STATE).write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, lab_dir: Path) -> "Lab":
        try:
            data = json.loads((lab_dir / STATE).read_text())
        except FileNotFoundError:
            raise LabError(f"lab: no lab at {lab_dir} (no {STATE}); run `invoke lab.up` first") from None
        return cls(**{**data, "hosts": [LabHost(**h) for h in data["hosts"]]})
