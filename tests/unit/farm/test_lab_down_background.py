"""lab.down hands the hosts' trees to a detached `rm -rf`: the lab dir's name is free at once
(a new `lab.up` may follow), and the tree is really gone soon after."""

from __future__ import annotations

import time

from deploy.lab.farm import remove_in_background


def test_the_name_is_free_at_once_and_the_tree_goes_away(tmp_path):
    root = tmp_path / "lab"
    for i in range(50):
        (root / "hosts" / f"lab{i % 3}" / "releases" / str(i)).mkdir(parents=True)
        (root / "hosts" / f"lab{i % 3}" / "releases" / str(i) / "f.txt").write_text("x" * 1000)
    remove_in_background(root)
    assert not root.exists()
    deadline = time.monotonic() + 30
    while any(tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.iterdir()) == []
