"""`invoke lock.status` / `invoke lock.break`: who holds an environment's deploy lock, and
breaking a stuck one (asks first unless --yes; recorded in each host's journal)."""

from __future__ import annotations

from invoke import Collection

from deploy.tasks._task import shipyard_task

HELP = {"env": "environment name (default: local)", "config": "path to shipyard.toml"}


def _with_targets(env: str, config: str | None, action):
    from deploy.config import load
    from deploy.engine.context import close_targets, open_targets

    envcfg = load(config).environment(env)
    targets = open_targets(envcfg)
    try:
        return action([t.ops for t in targets])
    finally:
        close_targets(targets)


@shipyard_task(help=HELP)
def status(c, env="local", config=None):
    """Each host's lock holder, with revision, reason, age and expiry (exit 1 when locked)."""
    from invoke import Exit

    from deploy.engine.lock import describe, expired, status as lock_status

    records = _with_targets(env, config, lock_status)
    for host, record in records.items():
        if record is None:
            print(f"{host}: free")
        else:
            print(f"{host}: {'EXPIRED lease of ' if expired(record) else 'held by '}{describe(record)}")
    if any(records.values()):
        raise Exit(code=1)


@shipyard_task(name="break", help={**HELP, "yes": "do not ask for confirmation", "reason": "why (goes to the journal)"})
def break_(c, env="local", config=None, yes=False, reason="lock.break"):
    """Remove the deploy lock on every host of an environment, whoever holds it."""
    from deploy.engine.context import new_owner
    from deploy.errors import UsageError
    from deploy.engine.lock import break_lock, describe, status as lock_status

    def act(ops_list):
        held = {h: r for h, r in lock_status(ops_list).items() if r}
        if not held:
            print("no host is locked")
            return
        for host, record in held.items():
            print(f"{host}: held by {describe(record)}")
        if not yes and _ask("break these locks? [y/N] ") not in ("y", "yes"):
            raise UsageError("lock.break: not confirmed (use --yes to skip the question)")
        broken = break_lock(ops_list, by=new_owner("lock.break")["user"], reason=reason)
        print("broke the lock on " + ", ".join(broken))

    _with_targets(env, config, act)


def _ask(question: str) -> str:
    """The answer, lower-cased; no terminal (a CI job) answers no."""
    try:
        return input(question).strip().lower()
    except EOFError:
        return ""


ns = Collection("lock")
ns.add_task(status)
ns.add_task(break_)
