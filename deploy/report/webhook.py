"""Tell a chat room or an incident tool that a deploy started, failed, ended.

A JSON POST per notification, with a Slack/Teams-style `text` so an incoming
webhook works as is. Sent from a worker thread, so a slow endpoint never holds
up a deploy; retried a bounded number of times with backoff; a notification
that cannot be delivered is reported on stderr and never fails the deploy.
TLS certificates are verified (urllib's default context).
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, TYPE_CHECKING, Any

from deploy.report.progress import describe

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import NotifyConfig
    from deploy.secrets import Secret

RUN_FIELDS = ("command", "env", "revision", "release", "user", "hosts")
END_FIELDS = ("result", "exit_code", "duration", "error")
_STOP = object()


class WebhookNotifier:
    """Event subscriber: notifies on run.start, the first failed stage, run.end."""

    def __init__(self, url: str, *, token: "Secret | None" = None, on: list[str] | None = None, timeout: float = 10.0,
                 retries: int = 3, backoff: float = 0.5, stream: IO[str] | None = None):
        self.url, self.token, self.timeout, self.retries, self.backoff = url, token, timeout, retries, backoff
        self.on = set(on or ("start", "failure", "end"))
        self.stream = stream or sys.stderr
        self.delivered: list[dict[str, Any]] = []
        self.undelivered: list[dict[str, Any]] = []
        self._run: dict[str, Any] = {}
        self._failure_sent = False
        self._queue: queue.Queue[Any] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="shipyard-webhook", daemon=True)
        self._worker.start()

    @classmethod
    def from_config(cls, notify: "NotifyConfig", secrets: dict[str, "Secret"], **kwargs: Any) -> "WebhookNotifier":
        token = secrets.get(notify.token_secret) if notify.token_secret else None
        return cls(notify.url, token=token, on=list(notify.on), timeout=notify.timeout, retries=notify.retries, **kwargs)

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        if kind == "run.start":
            self._run = {k: event.get(k) for k in RUN_FIELDS}
            self._send("start", event, f"Deploy started: {describe(event)}")
        elif kind == "stage.end" and event.get("result") == "failed" and not self._failure_sent:
            self._failure_sent = True
            self._send("failure", event, f"Deploy FAILING on {event['host']}: {describe(event)}")
        elif kind == "run.end":
            verdict = {"ok": "succeeded", "failed": "FAILED", "rolled_back": "ROLLED BACK"}.get(event["result"], event["result"])
            where = f" to {self._run.get('env')}" if self._run.get("env") else ""
            self._send("end", event, f"Deploy{where} {verdict}: {describe(event)}")

    def _send(self, what: str, event: dict[str, Any], text: str) -> None:
        if what not in self.on:
            return
        payload = {"schema": 1, "event": f"deploy.{what}", "run": event["run"], "ts": event["ts"], "text": text, **self._run}
        if what == "end":
            payload |= {k: event[k] for k in END_FIELDS if k in event}
        if what == "failure":
            payload |= {"host": event.get("host"), "stage": event.get("stage"), "error": event.get("error")}
        self._queue.put(payload)  # events are already redacted by the bus

    def _work(self) -> None:
        while (payload := self._queue.get()) is not _STOP:
            self._deliver(payload)

    def _deliver(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "shipyard-webhook"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token.reveal()}"
        last = ""
        for attempt in range(1, self.retries + 2):
            try:
                request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                self.delivered.append(payload)
                return
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code} {e.reason}"
                if e.code < 500 and e.code != 429:
                    break  # the endpoint refuses this request: asking again will not help
            except (urllib.error.URLError, TimeoutError, OSError) as e:
                last = str(getattr(e, "reason", e))
            if attempt <= self.retries:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
        self.undelivered.append(payload)
        self.stream.write(f"shipyard: webhook {payload['event']} not delivered to {_host_of(self.url)}: {last}\n")

    def close(self) -> None:
        """Wait for queued notifications (each bounded by timeout x attempts)."""
        if self._worker.is_alive():
            self._queue.put(_STOP)
            self._worker.join()


def _host_of(url: str) -> str:
    """Webhook URLs often carry a token in the path: name only the host in messages."""
    return urllib.parse.urlsplit(url).netloc.rsplit("@", 1)[-1]
