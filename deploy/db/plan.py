"""What a diff produces: ordered changes, each knowing whether it loses data (destructive)
and whether the previous release's code would break on it (contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the PostgreSQL plan holds catalogs: the generic model is not loaded for it
    from deploy.db.model import Schema


@dataclass(frozen=True)
class Change:
    kind: str
    target: str
    old: Any = None
    new: Any = None
    destructive: bool = False
    contract: bool = False
    table: str | None = None

    def describe(self) -> str:
        return f"{self.kind} {self.target}"


@dataclass
class Plan:
    current: Schema  # with rename hints applied
    desired: Schema
    changes: list[Change] = field(default_factory=list)
    before: Schema | None = None  # the current schema as it is, before rename hints
    unsupported: list[str] = field(default_factory=list)  # objects either side holds that are not modelled

    @property
    def live(self) -> Schema:
        return self.before or self.current

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    @property
    def contract(self) -> list[Change]:
        return [c for c in self.changes if c.contract]

    @property
    def classification(self) -> str:
        if not self.changes:
            return "none"
        return "contract" if self.contract else "expand-only"
