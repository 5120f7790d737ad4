"""Run sqldef's public test cases (tests/fixtures/sqldef) through Shipyard and classify
each outcome, so the acceptance tests and docs/database.md report the same numbers."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from deploy.db.diff import diff

CASES = Path(__file__).parents[2] / "fixtures" / "sqldef"
FLOORS = Path(__file__).with_name("acceptance_floors.json")


@dataclass(frozen=True)
class Outcome:
    file: str
    case: str
    direction: str
    passed: bool
    reason: str = ""


def load(dialect_dir: str) -> dict[str, dict[str, dict]]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted((CASES / dialect_dir).glob("*.yml"))}


def withheld_drops(case: dict, plan) -> bool:
    """sqldef's enable_drop: false withholds drops; Shipyard refuses data-losing ones."""
    return case.get("enable_drop") is False and bool(plan.destructive)


def run_all(dialect_dir: str, one: Callable[[str, str, dict], str]) -> list[Outcome]:
    """`one(current_sql, desired_sql, case)` returns "" on success or a reason."""
    out = []
    for file, cases in load(dialect_dir).items():
        for name, case in cases.items():
            if case.get("error"):
                continue
            directions = [("up", case.get("current") or "", case.get("desired") or "")]
            if case.get("enable_drop") is not False:
                directions.append(("down", case.get("desired") or "", case.get("current") or ""))
            for direction, a, b in directions:
                try:
                    reason = one(a, b, {**case, "_file": file})
                except Exception as e:  # noqa: BLE001 - every failure is a reported outcome
                    reason = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
                out.append(Outcome(file, name, direction, not reason, reason))
    return out


def counts(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    total, passed = Counter(o.file for o in outcomes), Counter(o.file for o in outcomes if o.passed)
    return {f: (passed[f], total[f]) for f in sorted(total)}


def report(outcomes: list[Outcome]) -> str:
    lines = [f"{f}: {p}/{t}" for f, (p, t) in counts(outcomes).items()]
    lines += [f"  FAIL {o.file} {o.case} ({o.direction}): {o.reason}" for o in outcomes if not o.passed]
    return "\n".join(lines)


def check_floors(corpus: str, outcomes: list[Outcome]) -> None:
    """The CI gate: passes per file never below the recorded floor, and a floor is raised
    as soon as more pass (the figure only goes up; acceptance_floors.json is the record)."""
    floors = json.loads(FLOORS.read_text())[corpus]
    measured = {f: p for f, (p, _) in counts(outcomes).items()}
    below = {f: (measured.get(f, 0), n) for f, n in floors.items() if measured.get(f, 0) < n}
    above = {f: (p, floors.get(f, 0)) for f, p in measured.items() if p > floors.get(f, 0)}
    assert not below, f"{corpus}: fewer cases pass than the floor (measured, floor): {below}\n{report(outcomes)}"
    assert not above, f"{corpus}: more cases pass, raise the floors in {FLOORS.name} (measured, floor): {above}"


__all__ = ["check_floors", "Outcome", "run_all", "counts", "report", "withheld_drops", "diff"]
