"""The webhook notifier against a real HTTP server on 127.0.0.1: payloads,
auth header, retries with backoff, timeouts, and giving up without failing."""

from __future__ import annotations

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from report_sample import SECRET_VALUE, FakeClock, emit_sample_run

from deploy.config import parse
from deploy.report.events import EventBus
from deploy.report.outputs import make_bus
from deploy.report.webhook import WebhookNotifier
from deploy.secrets import Secret


class Endpoint:
    """What the server does next: a list of (status, delay) consumed per request, then 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, float]] = []
        self.lock = threading.Lock()


@pytest.fixture(scope="module")
def endpoint():
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                status, delay = state.script.pop(0) if state.script else (200, 0.0)
                state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body, "status": status})
            time.sleep(delay)
            try:
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up, as the timeout test wants

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/deploy"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def fresh(endpoint):
    endpoint.requests.clear()
    endpoint.script.clear()
    return endpoint


def test_start_failure_and_end_are_posted_with_auth_and_no_secret(fresh):
    token = Secret("HOOK_TOKEN", "hook-token-77aa")
    notifier = WebhookNotifier(fresh.url, token=token, backoff=0.01)
    clock = FakeClock()
    bus = EventBus(clock=clock)
    bus.subscribe(notifier)
    emit_sample_run(bus, clock)
    bus.close()
    bodies = [json.loads(r["body"]) for r in fresh.requests]
    assert [b["event"] for b in bodies] == ["deploy.start", "deploy.failure", "deploy.end"]
    start, failure, end = bodies
    assert (start["env"], start["user"], start["hosts"]) == ("production", "alice", ["web1", "web2", "win1"])
    assert start["text"].startswith("Deploy started: deploy 20261125-021500-ab12cd3 to production by alice")
    assert (failure["host"], failure["stage"]) == ("win1", "finishing")
    assert (end["result"], end["exit_code"], end["duration"]) == ("rolled_back", 1, 27.4)
    assert end["text"].startswith("Deploy to production ROLLED BACK: rolled_back (exit 1)")
    for request in fresh.requests:
        assert request["headers"]["Authorization"] == "Bearer hook-token-77aa"
        assert request["headers"]["Content-Type"] == "application/json"
        assert request["path"] == "/hooks/deploy"
        assert SECRET_VALUE.encode() not in request["body"] and b"hook-token-77aa" not in request["body"]


def test_server_errors_are_retried_with_backoff(fresh):
    fresh.script[:] = [(503, 0.0), (502, 0.0)]
    notifier = WebhookNotifier(fresh.url, on=["start"], retries=3, backoff=0.2)
    started = time.monotonic()
    notifier({"kind": "run.start", "run": "r", "ts": "2026-11-25T00:00:00.000Z", "command": "deploy", "env": "lab",
              "revision": None, "release": None, "user": "u", "hosts": [], "batches": []})
    notifier.close()
    assert [r["status"] for r in fresh.requests] == [503, 502, 200]
    assert len(notifier.delivered) == 1 and not notifier.undelivered
    assert time.monotonic() - started >= 0.2 + 0.4  # backoff doubled between attempts


def test_gives_up_after_bounded_attempts_without_failing_the_deploy(fresh):
    fresh.script[:] = [(500, 0.0)] * 10
    err = io.StringIO()
    notifier = WebhookNotifier(fresh.url + "?key=abc", on=["end"], retries=2, backoff=0.01, stream=err)
    notifier({"kind": "run.end", "run": "r", "ts": "2026-11-25T00:00:00.000Z", "result": "ok", "exit_code": 0, "duration": 1.0})
    notifier.close()
    assert len(fresh.requests) == 3
    assert notifier.undelivered and not notifier.delivered
    assert err.getvalue() == f"shipyard: webhook deploy.end not delivered to {fresh.url.split('/')[2]}: HTTP 500 Internal Server Error\n"


def test_client_errors_are_not_retried(fresh):
    fresh.script[:] = [(400, 0.0)]
    notifier = WebhookNotifier(fresh.url, on=["end"], retries=3, backoff=0.01, stream=io.StringIO())
    notifier({"kind": "run.end", "run": "r", "ts": "2026-11-25T00:00:00.000Z", "result": "ok", "exit_code": 0, "duration": 1.0})
    notifier.close()
    assert len(fresh.requests) == 1 and notifier.undelivered


def test_a_hanging_endpoint_times_out_and_does_not_block_the_deploy(fresh):
    fresh.script[:] = [(200, 1.5), (200, 1.5)]
    err = io.StringIO()
    notifier = WebhookNotifier(fresh.url, on=["end"], timeout=0.3, retries=1, backoff=0.01, stream=err)
    started = time.monotonic()
    notifier({"kind": "run.end", "run": "r", "ts": "2026-11-25T00:00:00.000Z", "result": "ok", "exit_code": 0, "duration": 1.0})
    assert time.monotonic() - started < 0.1  # the deploy goes on while the worker waits
    notifier.close()
    assert time.monotonic() - started < 1.5
    assert len(fresh.requests) == 2 and "timed out" in err.getvalue()


def test_make_bus_wires_the_environment_webhook_from_config(fresh, monkeypatch):
    monkeypatch.setenv("SHIPYARD_HOOK_TOKEN", "cfg-token-31")
    monkeypatch.delenv("SHIPYARD_EVENTS", raising=False)
    config = parse(f"""
[env.prod]
hosts = [{{ name = "web1" }}]
secrets = {{ HOOK_TOKEN = "SHIPYARD_HOOK_TOKEN" }}
notify = {{ url = "{fresh.url}", token_secret = "HOOK_TOKEN", on = ["end"], timeout = 5, retries = 1 }}
""", "shipyard.toml")
    env = config.env["prod"]
    bus = make_bus(None, None, None, interactive=False, stream=io.StringIO(), notify=env.notify, secrets=env.load_secrets())
    bus.emit("run.start", command="deploy", env="prod", revision=None, release=None, user="u", hosts=["web1"], batches=[["web1"]])
    bus.emit("run.end", result="ok", exit_code=0, duration=0.5)
    bus.close()
    assert [json.loads(r["body"])["event"] for r in fresh.requests] == ["deploy.end"]
    assert fresh.requests[0]["headers"]["Authorization"] == "Bearer cfg-token-31"
