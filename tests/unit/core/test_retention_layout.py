from datetime import datetime, timezone

import pytest

from deploy.release.hostops import FAILED, GOOD, ROLLED_BACK, ReleaseInfo
from deploy.release.layout import Layout, is_release_id, new_release_id
from deploy.release.retention import releases_to_prune
from deploy.engine.batches import batch_size, make_batches, tolerated_failures


def rel(n, status=GOOD, current=False):
    return ReleaseInfo(id=f"20261125-1200{n:02d}-abcdef0", status=status, current=current)


def test_release_id_shape():
    rid = new_release_id("ab12cd3", datetime(2026, 11, 25, 14, 12, 5, tzinfo=timezone.utc))
    assert rid == "20261125-141205-ab12cd3" and is_release_id(rid)
    assert not is_release_id("../../etc")


def test_layout_paths_posix_and_windows():
    assert Layout("/srv/site").release("r1") == "/srv/site/releases/r1"
    assert Layout("/srv/site").journal == "/srv/site/.shipyard/journal.jsonl"
    assert Layout(r"D:\sites\app", windows=True).current == r"D:\sites\app\current"


def test_prune_counts_only_good_and_keeps_current_and_rollback_target():
    releases = [rel(1), rel(2), rel(3, FAILED), rel(4), rel(5), rel(6, current=True)]
    assert releases_to_prune(releases, keep=2) == ["20261125-120001-abcdef0", "20261125-120002-abcdef0",
                                                   "20261125-120003-abcdef0", "20261125-120004-abcdef0"]


def test_prune_keeps_failed_releases_newer_than_oldest_kept():
    releases = [rel(1), rel(2), rel(3, FAILED), rel(4, current=True)]
    assert releases_to_prune(releases, keep=3) == []
    assert releases_to_prune(releases, keep=1) == ["20261125-120001-abcdef0"]


def test_prune_never_removes_current_even_if_not_good():
    releases = [rel(1), rel(2), rel(3, ROLLED_BACK, current=True)]
    assert releases_to_prune(releases, keep=1) == ["20261125-120001-abcdef0"]  # 2 is the rollback target


@pytest.mark.parametrize("batch,total,size", [(1, 5, 1), (3, 2, 2), ("25%", 8, 2), ("25%", 3, 1), ("100%", 4, 4)])
def test_batch_size(batch, total, size):
    assert batch_size(batch, total) == size


def test_batches_cover_every_host_once():
    assert make_batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]


def test_max_fail():
    assert tolerated_failures("0%", 10) == 0 and tolerated_failures("25%", 10) == 2
