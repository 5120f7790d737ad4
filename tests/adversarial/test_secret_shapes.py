"""Secrets of every shape (multi-line PEM, unicode, regex metacharacters, quotes, `%`, `$`,
backslashes, trailing newlines, exactly 4 characters): redacted from any text or JSON record,
also cut to their last lines, and delivered byte for byte — through a real /bin/sh on stdin
(hooks) and through the launcher supervisord runs (the app) — while supervisord's own parser
finds nothing but Shipyard's sections in its config, whatever the deploy path holds."""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
from types import SimpleNamespace

import pytest
from hypothesis import assume, given, settings, strategies as st
from supervisor.options import UnhosedConfigParser

import deploy.secrets as secrets_module
from deploy.config import EnvConfig, HostConfig, SupervisorConfig
from deploy.release.layout import Layout
from deploy.secrets import MASK, Secret, redact, scrub, stdin_exports
from deploy.services.managed_supervisor import CONF, ManagedSupervisor


def forgetting(test):
    """Forget the values an example registers, so they cannot mask digits and words in the rest
    of the session (a function-scoped fixture would span every example)."""
    import functools

    @functools.wraps(test)
    def run(*args, **kwargs):
        known = set(secrets_module._KNOWN)
        try:
            return test(*args, **kwargs)
        finally:
            secrets_module._KNOWN.clear()
            secrets_module._KNOWN.update(known)

    return run


PEM = ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
       "q3Xw+b/9Zk1T0s8Yd2eR7u0mNq1Gf8c2o6H5pJr4lK0aVwE=\n-----END PRIVATE KEY-----\n")
chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
shapes = st.one_of(
    st.text(chars, min_size=4, max_size=40),
    st.text(st.sampled_from("ab.*+?()[]{}|^$\\'\"%;#\n\r\t é€😀"), min_size=4, max_size=24),
    st.just(PEM), st.just(PEM.replace("\n", "\r\n")), st.just("abcd"), st.just("$(rm -rf /)\n\n"),
)


@settings(max_examples=150, deadline=None)
@given(shapes, st.text(chars, max_size=10), st.text(chars, max_size=10))
@forgetting
def test_a_secret_never_survives_redaction_whole_per_line_or_escaped(value, before, after):
    assume(value not in MASK)  # such values are refused by load_secret: they would look like the mask itself
    Secret("S", value)
    text = f"{before}{value}{after}"
    assert value not in redact(text)
    record = json.dumps(scrub({"error": text, "output": [value], value: 1}))
    assert value not in record and json.dumps(value)[1:-1] not in record
    tail = "\n".join(value.splitlines()[-2:])
    for line in tail.splitlines():
        if len(line.strip()) >= 4:
            assert line.strip() not in redact(f"...{tail}...")
    assert value not in redact(repr(text))


def sh(script: str, stdin: bytes) -> bytes:
    return subprocess.run(["/bin/sh", "-c", script], input=stdin, capture_output=True, check=True, timeout=30).stdout


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["A_KEY", "PEM", "TOKEN", "X"]), shapes, min_size=1, max_size=3))
@forgetting
def test_hooks_get_every_secret_byte_for_byte_on_stdin(values):
    secrets = {name: Secret(name, v) for name, v in values.items()}
    prologue, data = stdin_exports(secrets)
    dump = "".join(f"printf '%s' \"${name}\" | base64 -w0; echo\n" for name in values)
    out = sh(prologue + dump, data).decode().split()
    assert [base64.b64decode(o).decode() for o in out] == list(values.values())
    assert all(v.encode() not in prologue.encode() for v in values.values())  # never on a command line


def manager(deploy_to: str, program: str = "web") -> ManagedSupervisor:
    host = HostConfig(name="h", transport="local")
    env = EnvConfig(deploy_to="/srv/x", supervisor=SupervisorConfig(program=program))
    ops = SimpleNamespace(layout=Layout(deploy_to), transport=None)
    return ManagedSupervisor(ops, env, host, "/usr/bin/python3")


paths = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).map(lambda p: "/srv/" + p)


@settings(max_examples=80, deadline=None)
@given(paths, st.dictionaries(st.sampled_from(["DJANGO_SECRET_KEY", "TLS_KEY"]), shapes, min_size=1))
@forgetting
def test_supervisord_sees_only_shipyards_sections_and_the_app_gets_exact_values(deploy_to, values):
    sup = manager(deploy_to)
    conf = sup.render()
    parser = UnhosedConfigParser()
    parser.read_string(conf)
    assert set(parser.sections()) == {"unix_http_server", "supervisord", "rpcinterface:supervisor", "supervisorctl", "program:web"}
    assert parser.get("program:web", "command") == "/bin/sh web.run"
    assert not parser.has_option("program:web", "environment")
    # a value Shipyard's own template or socket name happens to hold ("true", a hex run) is no leak
    assert all(v not in conf for v in values.values() if v.strip() and v not in CONF and v not in sup.socket)
    launcher = sup.launcher({name: Secret(name, v) for name, v in values.items()})
    layout = sup.ops.layout
    environment, _, command = launcher.rpartition(f"\ncd {shlex.quote(layout.current + '/app')} || exit 1\n")
    assert environment and command.startswith("exec ")
    dump = "".join(f"printf '%s' \"${name}\" | base64 -w0; echo\n" for name in [*values, "PYTHONPATH"])
    out = [base64.b64decode(o).decode() for o in sh(f"set -e\n{environment}\n{dump}", b"").decode().split()]
    assert out == [*values.values(), f"{layout.current}/.deps"]
    argv = shlex.split(command[len("exec "):])
    assert argv[0] == "/usr/bin/python3" and argv[1].endswith("/gunicorn_keeper.py") and f"{layout.shared}/supervisor/web.pid" in argv


def test_a_program_name_cannot_inject_a_section():
    from deploy.config import parse
    from deploy.errors import ConfigError

    with pytest.raises(ConfigError, match="supervisor.program"):
        parse('[env.x]\nsupervisor = { program = "web]\\n[program:evil" }\n', "shipyard.toml")
