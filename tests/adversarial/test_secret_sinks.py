"""Secrets of many shapes planted in a real deploy — hooks print them on stdout and stderr —
then every sink grepped: every file under deploy_to, dist/, the run records, the events, JUnit
and HTML reports, and the captured output, after a successful, a failing-hook and an interrupted
(SIGTERM) deploy. The one file meant to hold them is the app's 0600 launcher. Hooks and the app
get every value byte for byte; neither sees the variables the secrets were read from."""

from __future__ import annotations

import hashlib
import json
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.adversarial.conftest import adversarial_repo, finish

PEM = ("-----BEGIN SHIPYARD TEST KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7q3Xw\n"
       "b9Zk1T0s8Yd2eR7u0mNq1Gf8c2o6H5pJr4lK0aVwEzZ8x+/A==\n-----END SHIPYARD TEST KEY-----\n")
SECRETS = {
    "DJANGO_SECRET_KEY": PEM,
    "S_UNICODE": "pässwörd-✓-秘密-Ωmega",
    "S_REGEX": r"a.*b+c?(d)[e]{2}|^x$\1",
    "S_SHORT": "Zq9!",
    "S_QUOTES": "it's \"quoted\" %s %(here)s $HOME `id`",
    "S_TRAILING": "ends-with-newlines\n\n",
}
SOURCE = {name: f"ADV_{name}" for name in SECRETS}
PRINT = " ".join(f'"${name}"' for name in SECRETS)


def forms(value: str) -> set[str]:
    out = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    out |= {line.strip() for line in value.splitlines() if len(line.strip()) >= 4}
    return {f for f in out if len(f) >= 4}


def configure(site, hooks: str) -> None:
    """shipyard.toml with these [hooks] and every secret, committed and built."""
    cfg = site.root / "shipyard.toml"
    original = site.root / "shipyard.toml.orig"
    if not original.exists():
        original.write_text(cfg.read_text())
    head, _, rest = original.read_text().partition("[hooks]")
    secrets = ", ".join(f"{n} = {json.dumps(v)}" for n, v in SOURCE.items())
    env = rest.partition("[env.local]")[2]
    cfg.write_text(f"{head}[hooks]\n{hooks}\n[env.local]\nsecrets = {{ {secrets} }}{env}")
    site.commit("hooks that print secrets")
    site.invoke("build", timeout=600)


@pytest.fixture(scope="module")
def planted(tmp_path_factory, wheel_cache):
    site = adversarial_repo(tmp_path_factory.mktemp("sinks") / "site", wheel_cache)
    site.env.update({SOURCE[n]: v for n, v in SECRETS.items()})
    yield site
    finish(site)


def reports(site, tag: str) -> list[str]:
    return ["--events", str(site.root / f"{tag}.jsonl"), "--junit", str(site.root / f"{tag}.xml"),
            "--html", str(site.root / f"{tag}.html")]


def deploy(site, tag: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "invoke", "deploy", *reports(site, tag)], cwd=site.root,
                            env=site.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def leaks(site, captured: str) -> list[str]:
    launcher = site.deploy_to / "shared" / "supervisor" / "web.run"
    files = [p for root in (site.deploy_to, site.root / "dist", site.root / ".shipyard" / "runs")
             for p in root.rglob("*") if p.is_file() and not p.is_symlink() and p != launcher]
    files += sorted(site.root.glob("run-*")) + sorted(site.root.glob("*.jsonl"))  # the reports and event logs
    found = []
    for name, value in SECRETS.items():
        for form in forms(value):
            needle = form.encode()
            found += [f"{name} ({form[:20]!r}) in {p}" for p in files if needle in p.read_bytes()]
            if form in captured:
                found.append(f"{name} ({form[:20]!r}) in the captured output")
    return found


@pytest.mark.slow
def test_no_sink_ever_holds_a_secret(planted):
    site, captured = planted, []
    sums = "".join(f'printf "%s" "${n}" | sha256sum | cut -c1-64 > "$SHIPYARD_SHARED/sum-{n}"; ' for n in SECRETS)
    sources = "".join(f'printf "%s" "${{{v}+set}}" >> "$SHIPYARD_SHARED/sources"; ' for v in SOURCE.values())
    configure(site, f"before_publishing = [{json.dumps(f'printf %s {PRINT}; printf %s {PRINT} >&2; {sums}{sources}')},"
                    f' "$SHIPYARD_PYTHON manage.py migrate --noinput"]')
    ok = deploy(site, "run-ok")
    out, err = ok.communicate(timeout=600)
    assert ok.returncode == 0, err
    captured.append(out + err)
    shared = site.deploy_to / "shared"
    for name, value in SECRETS.items():  # hooks got every byte
        assert (shared / f"sum-{name}").read_text().strip() == hashlib.sha256(value.encode()).hexdigest(), name
    assert (shared / "sources").read_text() == ""  # and none of the variables they were read from
    app = app_environment(site)
    assert all(app[n.encode()] == v.encode() for n, v in SECRETS.items())
    assert not any(v.encode() in app for v in SOURCE.values())
    launcher = shared / "supervisor" / "web.run"
    assert stat.S_IMODE(launcher.stat().st_mode) == 0o600
    assert all(f.encode() in launcher.read_bytes() for f in forms(PEM) - {json.dumps(PEM)[1:-1]})  # the grep finds raw values

    configure(site, f"after_publishing = [{json.dumps(f'printf %s {PRINT}; printf %s {PRINT} >&2; exit 3')}]")
    failing = deploy(site, "run-fail")
    out, err = failing.communicate(timeout=600)
    assert failing.returncode == 1 and "after hook" in err
    assert "********" in err  # the hook's output reached the terminal, masked: the grep below is not vacuous
    captured.append(out + err)

    marker = site.root / "hook-started"
    configure(site, f"before_publishing = [{json.dumps(f'printf %s {PRINT}; touch {marker}; sleep 60')}]")
    interrupted = deploy(site, "run-int")
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert time.monotonic() < deadline and interrupted.poll() is None, "the hook never started"
        time.sleep(0.1)
    interrupted.send_signal(signal.SIGTERM)
    out, err = interrupted.communicate(timeout=300)
    assert interrupted.returncode == 130, err
    captured.append(out + err)

    assert leaks(site, "\n".join(captured)) == []
    for path in [site.deploy_to / ".shipyard" / "journal.jsonl", *site.deploy_to.glob("releases/*/release.json"),
                 *(site.root / ".shipyard" / "runs").glob("*.json")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def app_environment(site) -> dict[bytes, bytes]:
    """The environment the running gunicorn master was started with."""
    pid = int((site.deploy_to / "shared" / "supervisor" / "web.pid").read_text().strip())
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
