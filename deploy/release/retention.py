"""Which releases to delete: only good ones count toward keep_releases.

Never the current release, never the rollback target (the newest good release
before current). Failed, rolled-back and pending releases are kept for
inspection while they are newer than the oldest good release kept.
"""

from __future__ import annotations

from deploy.release.hostops import GOOD, ReleaseInfo


def releases_to_prune(releases: list[ReleaseInfo], keep: int) -> list[str]:
    ordered = sorted(releases, key=lambda r: r.id)
    current = next((r.id for r in ordered if r.current), None)
    good = [r.id for r in ordered if r.status == GOOD]
    protected = {current} if current else set()
    older_good = [g for g in good if current is None or g < current]
    if older_good:
        protected.add(older_good[-1])
    kept_good = set(good[-keep:]) | (protected & set(good))
    oldest_kept = min(kept_good | protected, default=None)
    doomed = []
    for r in ordered:
        if r.id in protected or r.id in kept_good:
            continue
        if r.status == GOOD or (oldest_kept is not None and r.id < oldest_kept):
            doomed.append(r.id)
    return doomed
