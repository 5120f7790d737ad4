"""Whatever a task raises, the CLI says it on one line with the right exit code, never a
traceback unless SHIPYARD_DEBUG asks — and then redacted."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from invoke import Exit

from deploy.errors import CommandFailed, ConfigError, StepFailed
from deploy.secrets import Secret
from deploy.tasks._task import shipyard_task


def raising(error: BaseException):
    @shipyard_task
    def task(c):
        raise error

    return task.body


def outcome(error: BaseException) -> Exit:
    with pytest.raises(Exit) as info:
        raising(error)(None)
    return info.value


def failed_command() -> CommandFailed:
    result = SimpleNamespace(host="web1", rc=3, stdout="", stderr="first\nsecond\n", display_command="migrate")
    return CommandFailed(result)


@pytest.mark.parametrize("error, code, text", [
    (KeyError("address"), 1, "shipyard: unexpected KeyError: 'address' (set SHIPYARD_DEBUG=1 for the traceback)"),
    (StepFailed("web1", "publishing/hook", failed_command()), 1,
     "shipyard: web1: step 'publishing/hook' failed: web1: `migrate` exited 3 | first | second"),
    (KeyboardInterrupt(), 130, "shipyard: interrupted"),
])
def test_every_failure_is_one_line_with_its_exit_code(monkeypatch, error, code, text):
    monkeypatch.delenv("SHIPYARD_DEBUG", raising=False)
    exit_ = outcome(error)
    assert (exit_.code, exit_.message) == (code, text)


def test_a_config_error_keeps_one_line_per_key():
    exit_ = outcome(ConfigError("shipyard.toml", ["env.a.keep_releases: bad", "env.a.app_port: bad"]))
    assert exit_.code == 2 and exit_.message.splitlines() == ["shipyard: shipyard.toml: env.a.keep_releases: bad",
                                                              "shipyard.toml: env.a.app_port: bad"]


def test_the_debug_traceback_is_redacted(monkeypatch, capsys):
    Secret("TOKEN", "tr4ceback-secret-value")
    monkeypatch.setenv("SHIPYARD_DEBUG", "1")
    exit_ = outcome(RuntimeError("boom tr4ceback-secret-value"))
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError" in err and "tr4ceback-secret-value" not in err + exit_.message
