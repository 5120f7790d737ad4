"""Every key of shipyard.toml, found by walking the pydantic schema (not a hand-made list), given
values of the wrong type and values just past its bounds: the file must be refused with a
ConfigError naming that key (`shipyard.toml: env.x.hosts[0].port: ...`), never any other
exception. Then hypothesis throws random junk at random keys, several at once; and the real CLI
answers a bad file with exit 2, one line per problem, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any, Iterator, Literal, get_args, get_origin

import annotated_types
import pytest
from hypothesis import given, settings, strategies as st
from pydantic import BaseModel

from deploy.config import ShipyardConfig, parse
from deploy.errors import ConfigError

BASE = {"env": {"x": {"deploy_to": "/srv/x", "hosts": [{"name": "h", "transport": "ssh"}]}}}
CONTAINERS = {"env": "x", "hosts": 0}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if not isinstance(value, float) or value == value else "nan"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml(doc: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in doc.items())


def unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an Optional/Union annotation."""
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def key_paths(model: type[BaseModel], prefix: tuple = ()) -> Iterator[tuple[tuple, Any, list]]:
    """(path, annotation, metadata) for every key under `model`, descending into sub-tables,
    the first entry of lists of tables and one key of dicts of tables."""
    for name, info in model.model_fields.items():
        key = info.alias or name
        path = (*prefix, key)
        yield path, info.annotation, info.metadata
        for alt in unwrap(info.annotation):
            origin, args = get_origin(alt), get_args(alt)
            if isinstance(alt, type) and issubclass(alt, BaseModel):
                yield from key_paths(alt, path)
            elif origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
                yield from key_paths(args[0], (*path, 0))
            elif origin is dict and len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
                yield from key_paths(args[1], (*path, CONTAINERS.get(key, "k")))


def shown(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def wrong_values(annotation: Any, metadata: list) -> list[Any]:
    """Values of other types than every alternative of `annotation` accepts, and values past its bounds."""
    kinds = set()
    for alt in unwrap(annotation):
        origin = get_origin(alt) or alt
        kinds.add("model" if isinstance(origin, type) and issubclass(origin, BaseModel) else
                  "literal" if origin is Literal else getattr(origin, "__name__", str(origin)))
    candidates = {"str": "a string", "int": 7, "float": 2.5, "bool": True, "list": ["x"], "dict": {"k": "v"}}
    accepted = {"str": {"str", "literal"}, "int": {"int", "float"}, "float": {"float"}, "bool": {"bool"},
                "list": {"list"}, "dict": {"dict", "model"}}
    wrong = [v for k, v in candidates.items() if not accepted[k] & kinds]
    if "literal" in kinds and "str" not in kinds:
        wrong.append("not-one-of-them")
    for bound in metadata:
        for attr, step in (("ge", -1), ("gt", 0), ("le", 1), ("lt", 0)):
            limit = getattr(bound, attr, None) if isinstance(bound, getattr(annotated_types, attr.capitalize())) else None
            if limit is not None:
                wrong.append(limit + step if step else limit)
    return wrong


def place(path: tuple, value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(BASE))
    node: Any = doc
    for part, following in zip(path, path[1:]):
        empty: Any = [{"name": "h"}] if following == 0 else {}
        if isinstance(node, list):
            node = node[part]
            continue
        node = node.setdefault(part, empty)
        if isinstance(node, list) and not node:
            node.append({})
    if isinstance(node, list):
        node[path[-1]] = value
    else:
        node[path[-1]] = value
    return doc


CASES = [(path, value) for path, annotation, metadata in key_paths(ShipyardConfig)
         for value in wrong_values(annotation, metadata)]


def test_the_schema_walk_reaches_every_corner():
    paths = {shown(p) for p, _ in CASES}
    assert len(paths) > 150
    for expected in ("env.x.keep_releases", "env.x.hosts[0].winrm.port", "env.x.health.url",
                     "env.x.rollout.max_fail", "env.x.site.workers", "env.x.db.timeout", "hooks.failed"):
        assert expected in paths


@pytest.mark.parametrize("path, value", CASES, ids=[f"{shown(p)}={v!r}"[:80] for p, v in CASES])
def test_every_key_refuses_wrong_types_and_bounds_by_name(path, value):
    text = toml(place(path, value))
    with pytest.raises(ConfigError) as info:
        parse(text, "shipyard.toml")
    key = shown(path)
    message = str(info.value)
    assert f"shipyard.toml: {key}: " in message or f"shipyard.toml: {shown(path[:-1])}: {path[-1]}: " in message, message


junk = st.recursive(st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([p for p, _ in CASES]), junk), min_size=1, max_size=4))
def test_random_junk_anywhere_is_a_config_error_or_accepted(changes):
    doc = json.loads(json.dumps(BASE))
    for path, value in changes:
        doc = merge(doc, place(path, value))
    try:
        parse(toml(doc), "shipyard.toml")
    except ConfigError as e:
        assert all(line.startswith("shipyard.toml: ") for line in str(e).splitlines())


def merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {**a, **{k: merge(a[k], v) if k in a else v for k, v in b.items()}}
    return b


@pytest.mark.parametrize("bad", ['keep_releases = "5"', 'hosts = [{ name = "h", port = "22" }]',
                                 'health = { url = "http://{adress}/" }', 'deploy_to = "/"',
                                 'secrets = { K = "p@ssw0rd-pasted-here" }'])
def test_the_cli_answers_a_bad_file_with_exit_2_and_no_traceback(tmp_path, bad):
    root = "" if bad.startswith("deploy_to") else 'deploy_to = "/srv/x"\n'
    (tmp_path / "shipyard.toml").write_text(f'[env.local]\nhosts = [{{ name = "localhost", transport = "local" }}]\n'
                                            f'[env.x]\n{root}{bad}\n')
    cli = "import sys; from deploy.cli import main; sys.argv = ['shipyard', *sys.argv[1:]]; main()"
    proc = subprocess.run([sys.executable, "-c", cli, "deploy", "--env", "x"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "shipyard.toml: env.x" in proc.stderr
    assert "p@ssw0rd-pasted-here" not in proc.stderr + proc.stdout


def _env() -> dict[str, str]:
    import os

    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": root, "SHIPYARD_CONFIG": ""}
