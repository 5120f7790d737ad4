"""What a deploy would do, worked out before anything changes: per host its
batch, the release it is on and will be on, the files added/changed/removed
against its current release's manifest, plus services to restart, hooks that
fire and the database script. Pure data in, pure data out: the caller gathers
the inputs (read-only) from the hosts, so planning can never change a host.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from deploy.secrets import redact

PLAN_FORMAT = 1


@dataclass(frozen=True)
class FileChanges:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed)

    def summary(self) -> str:
        return f"+{len(self.added)} ~{len(self.changed)} -{len(self.removed)} files"


def diff_manifests(new_files: dict[str, dict[str, Any]], current_files: dict[str, dict[str, Any]]) -> FileChanges:
    """Compare two manifests' `files` maps ({path: {sha256, size, mode}}).
    A file whose content or mode differs is changed."""

    def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return a.get("sha256") == b.get("sha256") and a.get("mode") == b.get("mode")

    return FileChanges(
        added=sorted(set(new_files) - set(current_files)),
        changed=sorted(p for p in set(new_files) & set(current_files) if not same(new_files[p], current_files[p])),
        removed=sorted(set(current_files) - set(new_files)),
    )


@dataclass(frozen=True)
class HostPlan:
    name: str
    batch: int
    current_release: str | None
    new_release: str
    files: FileChanges
    note: str = ""  # "first deploy", "current release has no manifest", "already on this revision"


@dataclass(frozen=True)
class Plan:
    env: str | None
    revision: str | None
    new_release: str
    hosts: list[HostPlan]
    batches: list[list[str]]
    services: list[str]
    hooks: dict[str, list[str]]
    db_script: str | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for host in data["hosts"]:
            host["files"]["summary"] = FileChanges(**host["files"]).summary()
        return {"plan_format": PLAN_FORMAT, **data}

    def to_json(self) -> str:
        return redact(json.dumps(self.to_dict(), indent=2))

    def render_text(self, max_files: int = 20) -> str:
        """The plan as a release manager reads it before saying yes."""
        where = f" to {self.env}" if self.env else ""
        lines = [f"Plan: deploy {str(self.revision or '?')[:12]}{where} as {self.new_release}",
                 f"  {len(self.hosts)} host(s) in {len(self.batches)} batch(es); nothing has been changed.", ""]
        for number, batch in enumerate(self.batches, 1):
            lines.append(f"Batch {number}: {', '.join(batch)}")
            for host in (h for h in self.hosts if h.batch == number):
                lines += _host_lines(host, max_files)
        lines += ["", "Services to restart: " + (", ".join(self.services) or "none")]
        lines.append("Hooks that fire:" + ("" if self.hooks else " none"))
        lines += [f"  {stage.replace('_', ' ')}: {cmd}" for stage, cmds in self.hooks.items() for cmd in cmds]
        if self.db_script:
            lines += ["Database script that would run:", *(f"  | {line}" for line in self.db_script.rstrip().splitlines())]
        else:
            lines.append("Database script: none (no schema change)")
        return redact("\n".join(lines) + "\n")


def build_plan(
    new_manifest: dict[str, Any],
    hosts: list[dict[str, Any]],
    batches: list[list[str]],
    services: list[str],
    hooks: dict[str, list[str]],
    db_script: str | None,
    *,
    env: str | None = None,
    new_release: str | None = None,
) -> Plan:
    """hosts: [{name, current_release, current_manifest (dict or None)}], in
    config order. new_release: the release id the deploy will create, if known."""
    batch_of = {name: number for number, batch in enumerate(batches, 1) for name in batch}
    names = [h["name"] for h in hosts]
    unbatched, unknown = [n for n in names if n not in batch_of], [n for n in batch_of if n not in names]
    if unbatched or unknown:
        raise ValueError(f"plan: hosts and batches disagree (not in a batch: {unbatched}, batched but unknown: {unknown})")
    revision = new_manifest.get("revision")
    release = new_release or f"new release of {str(revision or 'the artifact')[:12]}"
    new_files = new_manifest.get("files", {})
    plans = [_host_plan(h, batch_of[h["name"]], release, revision, new_files) for h in hosts]
    return Plan(
        env=env,
        revision=revision,
        new_release=release,
        hosts=sorted(plans, key=lambda p: p.batch),
        batches=[list(b) for b in batches],
        services=list(services),
        hooks={stage: list(cmds) for stage, cmds in hooks.items() if cmds},
        db_script=db_script or None,
    )


def _host_plan(host: dict[str, Any], batch: int, release: str, revision: str | None, new_files: dict[str, Any]) -> HostPlan:
    current, manifest = host.get("current_release"), host.get("current_manifest")
    if manifest is None:
        note = "first deploy" if current is None else "current release has no manifest: every file counts as added"
        return HostPlan(host["name"], batch, current, release, FileChanges(added=sorted(new_files)), note)
    files = diff_manifests(new_files, manifest.get("files", {}))
    same_revision = revision is not None and manifest.get("revision") == revision
    note = "already on this revision" if same_revision and not files.total else ""
    return HostPlan(host["name"], batch, current, release, files, note)


def _host_lines(host: HostPlan, max_files: int) -> list[str]:
    note = f"  ({host.note})" if host.note else ""
    lines = [f"  {host.name}: {host.current_release or '(none)'} -> {host.new_release}  {host.files.summary()}{note}"]
    marked = [("+", p) for p in host.files.added] + [("~", p) for p in host.files.changed] + [("-", p) for p in host.files.removed]
    lines += [f"      {mark} {path}" for mark, path in marked[:max_files]]
    if len(marked) > max_files:
        lines.append(f"      ... and {len(marked) - max_files} more (--format json lists all)")
    return lines
