"""A switch interrupted at any point — before the host switched, or after it switched but before
its answer came back (Ctrl-C, a dropped link) — still leaves the host on its old release once the
failure path reverts: the run counts the host as switched from the moment it asks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from deploy.engine.rollout import activate, revert
from deploy.report.events import EventBus


class Host:
    """A host's `current` link; `switch` can be cut off just before or just after it moves."""

    def __init__(self, current: str, cut: str | None) -> None:
        self.current_release, self.cut = current, cut

    def switch(self, release_id: str) -> None:
        if self.cut == "before":
            self.cut = None
            raise KeyboardInterrupt
        self.current_release = release_id
        if self.cut == "after":
            self.cut = None
            raise KeyboardInterrupt

    def current(self) -> str:
        return self.current_release


def run_context() -> SimpleNamespace:
    env = SimpleNamespace(rollout=SimpleNamespace(drain="none"), supervisor=None, site=None, services=[],
                          health=SimpleNamespace(url=None, command=None))
    return SimpleNamespace(env=env, bus=EventBus(run_id="t"))


@given(cut=st.sampled_from(["before", "after", None]), new=st.sampled_from(["r2", "r3"]))
def test_an_interrupted_switch_is_reverted_to_the_old_release(cut, new):
    ctx, host = run_context(), Host("r1", cut)
    target = SimpleNamespace(name="web1", host=SimpleNamespace(name="web1", is_windows=False), ops=host,
                             transport=None, previous="r1", switched=False, reverted=False, error=None)
    if cut is None:
        activate(ctx, target, new, None)
    else:
        with pytest.raises(KeyboardInterrupt):
            activate(ctx, target, new, None)
    assert target.switched  # whatever the host did, the failure path must look at it
    assert revert(ctx, [target], "interrupted") == []
    assert host.current() == "r1" and not target.switched and target.reverted
