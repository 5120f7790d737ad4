"""Which releases to delete: only good ones count toward keep_releases.

Never the current release, never the rollback target (the release `invoke
rollback` would pick next: the newest good release before current), never what
the caller protects (the release a rollback just left). Failed, rolled-back and
pending releases are kept for inspection while they are newer than the oldest
good release kept.
"""

from __future__ import annotations

from deploy.release.hostops import GOOD, ReleaseInfo


def next_rollback_target(releases: list[ReleaseInfo]) -> str | None:
    """The release `invoke rollback` goes back to: the newest good one older than current."""
    current = next((r.id for r in releases if r.current), None)
    older_good = sorted(r.id for r in releases if r.status == GOOD and (current is None or r.id < current))
    return older_good[-1] if older_good else None


def releases_to_prune(releases: list[ReleaseInfo], keep: int, protect: frozenset[str] | set[str] = frozenset()) -> list[str]:
    ordered = sorted(releases, key=lambda r: r.id)
    current = next((r.id for r in ordered if r.current), None)
    good = [r.id for r in ordered if r.status == GOOD]
    protected = {current, next_rollback_target(ordered), *protect} - {None}
    kept_good = set(good[-keep:]) | (protected & set(good))
    oldest_kept = min(kept_good | protected, default=None)
    doomed = []
    for r in ordered:
        if r.id in protected or r.id in kept_good:
            continue
        if r.status == GOOD or (oldest_kept is not None and r.id < oldest_kept):
            doomed.append(r.id)
    return doomed
