"""A realistic bad-night deploy driven through a real EventBus: three hosts in
two batches, HAProxy drain/ready, a database script, a retry, a failed health
check on win1 and its rollback. A planted secret rides in a command, an
output, an error and a hook, so every writer can be grepped for it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from deploy.report.events import EventBus
from deploy.secrets import Secret

SECRET_VALUE = "s3cr3t-Pl4nted-Token-9f8e7d"
RELEASE = "20261125-021500-ab12cd3"
PREVIOUS = "20261120-101010-9f9f9f9"
HOSTS = ["web1", "web2", "win1"]
BATCHES = [["web1"], ["web2", "win1"]]
STAGES = ["starting", "updating", "publishing", "finishing"]
DB_SCRIPT = "ALTER TABLE orders ADD COLUMN shipped_at timestamp NULL;\nCREATE INDEX orders_shipped_at ON orders (shipped_at);\n"


class FakeClock:
    """Advances by `step` seconds per event so the timeline has real widths."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 2, 15, 0, tzinfo=timezone.utc)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def __call__(self) -> datetime:
        return self.now


def host_stages(bus: EventBus, clock: FakeClock, host: str, batch: int, *, fail_health: bool) -> None:
    secret = Secret("DEPLOY_TOKEN", SECRET_VALUE)
    emit = bus.emit
    emit("stage.start", host=host, stage="starting", batch=batch)
    clock.advance(0.4)
    emit("step", host=host, stage="starting", step="check-host", result="ok", duration=0.4, command="uname -a", output="Linux")
    emit("stage.end", host=host, stage="starting", batch=batch, result="ok", duration=0.4)
    emit("stage.start", host=host, stage="updating", batch=batch)
    for sent in (0, 4_000_000, 8_000_000, 12_582_912):
        clock.advance(0.8)
        emit("upload.progress", host=host, bytes=sent, total=12_582_912)
    emit("step", host=host, stage="updating", step="upload", result="ok", duration=3.2)
    clock.advance(1.1)
    emit("retry", host=host, step="pip-install", attempt=1, error="Connection reset by peer")
    clock.advance(2.0)
    emit("step", host=host, stage="updating", step="pip-install", result="ok", duration=3.1,
         command=f"PIP_INDEX_URL=https://ci:{SECRET_VALUE}@pypi.corp/simple pip install -r requirements.txt",
         output=f"Looking in indexes: https://ci:{secret.reveal()}@pypi.corp/simple\nSuccessfully installed 12 packages")
    emit("stage.end", host=host, stage="updating", batch=batch, result="ok", duration=7.4)
    emit("lb.drain", host=host, backend="site", server=host)
    emit("stage.start", host=host, stage="publishing", batch=batch)
    emit("hook", host=host, stage="publishing", when="before", command="python manage.py migrate --noinput", result="ok")
    clock.advance(1.5)
    emit("step", host=host, stage="publishing", step="switch", result="ok", duration=0.1, command=f"ln -s releases/{RELEASE} current.tmp")
    emit("stage.end", host=host, stage="publishing", batch=batch, result="ok", duration=1.5)
    emit("stage.start", host=host, stage="finishing", batch=batch)
    clock.advance(2.5)
    emit("step", host=host, stage="finishing", step="restart", result="ok", duration=1.0, command="supervisorctl restart web")
    if not fail_health:
        emit("health", host=host, check="http://127.0.0.1:8000/health/", result="ok", attempts=2, detail=f'{{"release": "{RELEASE}"}}')
        emit("stage.end", host=host, stage="finishing", batch=batch, result="ok", duration=2.5)
        emit("lb.ready", host=host, backend="site", server=host)
        return
    clock.advance(4.0)
    emit("health", host=host, check="http://127.0.0.1:8000/health/", result="failed", attempts=20,
         detail=f"HTTP 500 Internal Server Error (token={SECRET_VALUE})")
    emit("step", host=host, stage="finishing", step="health", result="failed", duration=4.0,
         command="GET http://127.0.0.1:8000/health/", output=f"Traceback (most recent call last):\n  KeyError: 'DATABASE_URL'\nauth={SECRET_VALUE}")
    emit("stage.end", host=host, stage="finishing", batch=batch, result="failed", duration=6.5,
         error=f"health check failed: HTTP 500 (token {SECRET_VALUE})")
    emit("stage.start", host=host, stage="failed", batch=batch)
    clock.advance(1.2)
    emit("rollback", host=host, reason="health check failed", **{"from": RELEASE, "to": PREVIOUS})
    emit("stage.end", host=host, stage="failed", batch=batch, result="ok", duration=1.2)


def emit_sample_run(bus: EventBus, clock: FakeClock) -> None:
    bus.emit("run.start", command="deploy", env="production", revision="ab12cd3" + "0" * 33, release=RELEASE,
             user="alice", hosts=HOSTS, batches=BATCHES)
    bus.emit("insecure", host="win1", setting='winrm.cert_validation = "ignore"',
             risk="the WinRM listener's certificate is not checked: anyone on the path can pose as the host")
    bus.emit("lock", action="acquired", holder="alice@ci-runner-7")
    bus.emit("db.script", dialect="postgres", script=DB_SCRIPT, applied=True)
    bus.emit("batch", action="start", batch=1, of=2, hosts=["web1"])
    host_stages(bus, clock, "web1", 1, fail_health=False)
    bus.emit("batch", action="end", batch=1, of=2, hosts=["web1"], result="ok", duration=4.0)
    clock.advance(0.5)
    batch_start = clock.now
    bus.emit("batch", action="start", batch=2, of=2, hosts=["web2", "win1"])
    host_stages(bus, clock, "web2", 2, fail_health=False)
    clock.now = batch_start + timedelta(seconds=0.3)  # batch 2 hosts run side by side
    host_stages(bus, clock, "win1", 2, fail_health=True)
    bus.emit("batch", action="end", batch=2, of=2, hosts=["web2", "win1"], result="failed", duration=7.1)
    bus.emit("lock", action="released", holder="alice@ci-runner-7")
    bus.emit("run.end", result="rolled_back", exit_code=1, duration=(clock.now - datetime(2026, 11, 25, 2, 15, tzinfo=timezone.utc)).total_seconds(),
             error=f"win1: step 'health' failed (DEPLOY_TOKEN={SECRET_VALUE})")


def sample_events() -> list[dict[str, Any]]:
    clock = FakeClock()
    bus = EventBus(run_id="20261125T021500Z-sample", clock=clock)
    seen: list[dict[str, Any]] = []
    bus.subscribe(seen.append)
    emit_sample_run(bus, clock)
    bus.close()
    return seen
