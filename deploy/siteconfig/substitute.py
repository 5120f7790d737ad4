"""Octopus-style variable substitution into the site's own settings files.

`#{Name}` in a listed file becomes the environment's value for Name. The value is
escaped for the file's format (JSON strings, Python string literals), the result
must still parse, and a name with no value is an error naming file and variable:
a half-substituted settings file must never reach a host."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Mapping

from deploy.errors import ConfigError
from deploy.secrets import Secret, redact

TOKEN = re.compile(r"#\{([A-Za-z_][A-Za-z0-9_.:-]*)\}")


def _escape(value: str, suffix: str) -> str:
    if suffix == ".json":
        return json.dumps(value)[1:-1]
    if suffix == ".py":
        return value.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"').replace("\n", "\\n")
    return value


def _reveal(value: str | Secret) -> str:
    return value.reveal() if isinstance(value, Secret) else value


def substitute_text(text: str, variables: Mapping[str, str | Secret], file: str) -> str:
    """Replace every token or raise ConfigError listing each missing variable once."""
    suffix = Path(file).suffix.lower()
    missing = sorted({m for m in TOKEN.findall(text) if m not in variables})
    if missing:
        raise ConfigError(file, [f"variable {name!r} is used but has no value in this environment" for name in missing])
    result = TOKEN.sub(lambda m: _escape(_reveal(variables[m.group(1)]), suffix), text)
    _check_parses(result, file, suffix)
    return result


def _check_parses(text: str, file: str, suffix: str) -> None:
    try:
        if suffix == ".json":
            json.loads(text)
        elif suffix == ".py":
            compile(text, file, "exec")
        elif suffix in (".ini", ".cfg", ".conf"):
            configparser.ConfigParser(interpolation=None).read_string(text, source=file)
    except (ValueError, SyntaxError, configparser.Error) as e:  # parsers may quote a line: redact
        raise ConfigError(file, [f"no longer parses after substitution: {redact(str(e))}"]) from None


def substitute_files(app_dir: Path, files: list[str], variables: Mapping[str, str | Secret]) -> list[str]:
    """Substitute in place inside an unpacked app (before it is uploaded or switched).
    Every file is checked before any is written, so a failure leaves the tree untouched."""
    done: dict[Path, str] = {}
    problems: list[str] = []
    for relative in files:
        path = app_dir / relative
        if not path.is_file():
            problems.append(f"{relative}: listed in site.substitute but not found in the app")
            continue
        try:
            done[path] = substitute_text(path.read_text(encoding="utf-8"), variables, relative)
        except ConfigError as e:
            problems += [f"{e.file}: {p}" for p in e.problems]
    if problems:
        raise ConfigError(str(app_dir), problems)
    for path, text in done.items():
        path.write_text(text, encoding="utf-8")
    return list(files)
