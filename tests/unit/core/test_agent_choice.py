"""The managed supervisord agent's choice between HUP (new workers of the running master) and
USR2 (a new master): generated runtimes of the running master and of the release to serve."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from deploy.services.supervisor_agent import runtime, upgrade_reason

PATHS = st.sampled_from(["/srv/a", "/srv/b", "/srv/envs/k1", "/srv/envs/k 2"])
RUNTIME = st.fixed_dictionaries({"deps": PATHS, "python": PATHS, "stat": st.sampled_from(["1:2:3:4", "1:2:3:5"]),
                                 "release": st.none() | PATHS})


def text(r: dict) -> str:
    lines = [r["deps"], r["python"], r["stat"]] + ([] if r["release"] is None else [f"preloaded {r['release']}"])
    return "".join(line + "\n" for line in lines)


@given(RUNTIME, RUNTIME)
def test_a_new_master_exactly_when_what_the_running_one_imported_differs(running, wanted):
    reason = upgrade_reason(text(wanted), text(running))
    if running == wanted:
        assert reason is None  # HUP: the running master's workers serve it
    elif {k: v for k, v in running.items() if k != "release"} == {k: v for k, v in wanted.items() if k != "release"}:
        assert reason is not None and "preloaded" in reason
    else:
        assert reason == "the interpreter or the dependency env changed"


@given(st.booleans())
def test_the_runtime_names_the_release_only_when_preloaded(tmp_path_factory, preload):
    root = tmp_path_factory.mktemp("rt")
    (root / "releases" / "r1" / "app").mkdir(parents=True)
    (root / "current").symlink_to("releases/r1")
    os.symlink(root / "env", root / "releases" / "r1" / ".deps")
    said = runtime({"current": str(root / "current"), "python": "python3", "preload": preload})
    assert (f"preloaded {root / 'releases' / 'r1'}\n" in said) is preload
    assert said.startswith(f"{root / 'env'}\n")
