"""The receiver travels as ONE `python3 -S -c` program that needs nothing of Shipyard on the host:
run here the way a host runs it (-S -I, an empty directory, no PYTHONPATH), where `deploy` cannot
be imported, and read back with tarfile and plain file reads, not the receiver's own checks."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import deploy.release
from deploy.release.host_program import one_program, sibling_imports
from deploy.release.posix import receiver_source

TREE = {"app/site.py": (b"print('site')\n", 0o644), "app/run.sh": (b"#!/bin/sh\nexec true\n", 0o755)}


def as_host(args: list[str], cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """The interpreter as a host runs it: no site-packages (-S), no cwd, user site or PYTHON* (-I)."""
    return subprocess.run([sys.executable, "-S", "-I", *args], cwd=cwd, input=stdin, capture_output=True,
                          env={"PATH": os.environ["PATH"]}, timeout=60)


def release_stream(tmp: Path, extra: dict[str, bytes] | None = None) -> tuple[bytes, str]:
    """A header and a gzipped release tarball (written with tarfile) whose manifest lists TREE."""
    files = {p: {"size": len(b), "mode": f"{m:04o}", "sha256": hashlib.sha256(b).hexdigest()} for p, (b, m) in TREE.items()}
    manifest = (json.dumps({"files": files, "links": {}}, indent=2, sort_keys=True) + "\n").encode()
    members = {**{p: b for p, (b, _) in TREE.items()}, "manifest.json": manifest, **(extra or {})}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, body in members.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(body), TREE.get(path, (b"", 0o644))[1]
            tar.addfile(info, io.BytesIO(body))
    part = buf.getvalue()
    stage = str(tmp / "site" / "releases" / ".r1.tmp")
    header = {"stage": stage, "previous": None, "manifest": {"sha256": hashlib.sha256(manifest).hexdigest()},
              "ship": None, "omit": [], "release_json": '{"id": "r1"}\n', "deps": None,
              "parts": [{"kind": "release", "size": len(part), "sha256": hashlib.sha256(part).hexdigest()}]}
    return json.dumps(header).encode() + b"\n" + part, stage


def test_the_host_interpreter_used_here_cannot_import_shipyard(tmp_path):
    """The control for the tests below: were `deploy` importable this way, they would prove nothing."""
    said = as_host(["-c", "import deploy"], tmp_path)
    assert said.returncode == 1 and b"ModuleNotFoundError: No module named 'deploy'" in said.stderr


def test_the_sent_program_unpacks_and_verifies_a_release_without_shipyard_on_the_host(tmp_path):
    (tmp_path / "empty").mkdir()
    stream, stage = release_stream(tmp_path)
    said = as_host(["-c", receiver_source()], tmp_path / "empty", stream)
    assert said.returncode == 0, said.stderr.decode()
    answer = json.loads(said.stdout.decode().splitlines()[0])
    assert (answer["linked"], answer["hashed_to_link"], answer["written"]) == (0, 0, len(TREE))
    for path, (body, mode) in TREE.items():
        assert (Path(stage) / path).read_bytes() == body and (Path(stage) / path).stat().st_mode & 0o777 == mode
    assert (Path(stage) / "release.json").read_text() == '{"id": "r1"}\n'
    assert sorted(json.loads((Path(stage) / "verified.json").read_text())["files"]) == sorted(TREE)
    assert os.listdir(tmp_path / "empty") == []


def test_a_refusal_from_the_embedded_tree_checks_reaches_the_receivers_answer(tmp_path):
    """verify_tree (tree_check.py, loaded from the embedded source) raises; the receiver's handler
    catches it only if both name the same Refused class: exit 3, the reason, no staging dir."""
    stream, stage = release_stream(tmp_path, extra={"app/stray.py": b"x = 1\n"})
    said = as_host(["-c", receiver_source()], tmp_path, stream)
    assert said.returncode == 3, said.stderr.decode()
    assert json.loads(said.stdout) == {"error": "app/stray.py: not in the manifest"}
    assert not os.path.exists(stage)


def test_every_shipyard_import_of_the_program_is_answered_by_a_module_it_loads_before():
    """Read from the compiled program: each `deploy` module it imports is `_load`ed, from the very
    source of that file, ahead of the receiver's own unchanged source."""
    program, release = receiver_source(), Path(deploy.release.__file__).parent
    body = ast.parse(program).body
    loads = [(n.value.args[0].value, n.value.args[1].value, i) for i, n in enumerate(body)
             if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and getattr(n.value.func, "id", "") == "_load"]
    imports = {n.module: i for i, n in enumerate(body) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("deploy")}
    assert [name for name, _, _ in loads] == list(imports) == ["deploy.release.tree_check"]
    for name, source, at in loads:
        assert source == (release / f"{name.rpartition('.')[2]}.py").read_text(encoding="utf-8") and at < imports[name]
    assert program.endswith((release / "receiver.py").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def probe_package(tmp_path_factory):
    """A package of three modules (main -> outer -> inner) importable on the controller."""
    root = tmp_path_factory.mktemp("probe")
    (root / "probe_pkg").mkdir()
    (root / "probe_pkg" / "__init__.py").write_text("")
    (root / "probe_pkg" / "outer.py").write_text("from probe_pkg.inner import TEXT\nOUTER = TEXT\n")
    (root / "probe_pkg" / "main.py").write_text("import sys\nfrom probe_pkg.outer import OUTER\nsys.stdout.write(ascii(OUTER))\n")
    sys.path.insert(0, str(root))
    yield root / "probe_pkg"
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n.split(".")[0] == "probe_pkg"]:
        del sys.modules[name]


@settings(max_examples=40, deadline=None)
@given(text=st.text())
def test_any_sibling_source_arrives_verbatim_and_dependencies_load_first(probe_package, text):
    (probe_package / "inner.py").write_text(f"TEXT = {text!r}\n", encoding="utf-8")
    said = as_host(["-c", one_program("probe_pkg.main")], Path("/"))
    assert said.returncode == 0, said.stderr.decode()
    assert said.stdout.decode() == ascii(text)


@pytest.mark.parametrize("line, refused", [("from .inner import TEXT", "relative import"),
                                           ("import probe_pkg.inner", "from-import it")])
def test_an_import_the_host_cannot_answer_is_refused_on_the_controller(line, refused):
    with pytest.raises(ImportError, match=refused):
        sibling_imports(f"{line}\n", "probe_pkg")
