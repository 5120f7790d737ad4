"""Which dependency bundle a host gets, and the mismatches refused before any host is touched."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy.engine import dependencies
from deploy.errors import ArtifactError


def ctx_with(tmp_path: Path, targets, wheels=("django-5.2-py3-none-any.whl",), platform="linux-x86_64-cpython-311"):
    bundle = tmp_path / "deps" / "k.tar.gz"
    bundle.parent.mkdir(exist_ok=True)
    bundle.write_bytes(b"bundle bytes")
    manifest = {"files": {f"wheelhouse/{w}": {} for w in wheels},
                "deps": {platform: {"key": "k" * 64, "platform": platform, "manifest_sha256": "m" * 64,
                                    "bundle": "deps/k.tar.gz", "sha256": hashlib.sha256(b"bundle bytes").hexdigest(),
                                    "size": 12}}}
    return SimpleNamespace(manifest=manifest, targets=targets, artifact=tmp_path / "site.tar.gz")


def target(name, platform="linux-x86_64-cpython-311", windows=False, envs=()):
    return SimpleNamespace(name=name, host=SimpleNamespace(is_windows=windows),
                           facts={"platform": platform, "envs": list(envs)})


def test_a_host_whose_python_has_no_bundle_is_refused_naming_both_platforms(tmp_path):
    ctx = ctx_with(tmp_path, [target("web1"), target("web2", "linux-aarch64-cpython-312")])
    with pytest.raises(ArtifactError, match="web2: runs Python for linux-aarch64-cpython-312.*linux-x86_64-cpython-311"):
        dependencies.check_platforms(ctx)


def test_a_bundle_that_does_not_match_its_key_is_refused(tmp_path):
    ctx = ctx_with(tmp_path, [target("web1")])
    (tmp_path / "deps" / "k.tar.gz").write_bytes(b"other bytes")
    dependencies.verified_bundle.cache_clear()
    with pytest.raises(ArtifactError, match="does not match its key"):
        dependencies.check_platforms(ctx)


def test_a_windows_host_refuses_a_wheelhouse_built_for_linux(tmp_path):
    ctx = ctx_with(tmp_path, [target("win1", windows=True)], wheels=("psycopg-3.2-cp311-cp311-manylinux_2_17_x86_64.whl",
                                                                     "django-5.2-py3-none-any.whl"))
    with pytest.raises(ArtifactError, match="win1: a Windows host cannot install the wheelhouse's psycopg"):
        dependencies.check_platforms(ctx)
    ok = ctx_with(tmp_path, [target("win1", windows=True)], wheels=("pywin32-306-cp311-cp311-win_amd64.whl",))
    dependencies.check_platforms(ok)


def test_a_host_that_has_the_env_gets_no_bundle(tmp_path):
    dependencies.verified_bundle.cache_clear()
    ctx = ctx_with(tmp_path, [])
    has = dependencies.deps_upload(ctx, target("web1", envs=["k" * 64]))
    lacks = dependencies.deps_upload(ctx, target("web2"))
    assert has.bundle is None and has.key == "k" * 64
    assert lacks.bundle is not None and lacks.bundle.path == tmp_path / "deps" / "k.tar.gz" and lacks.bundle.size == 12


def test_a_windows_host_gets_its_platforms_bundle_and_a_mismatch_names_the_python_version_to_set(tmp_path):
    dependencies.verified_bundle.cache_clear()
    ctx = ctx_with(tmp_path, [], platform="win-amd64-cpython-311")
    ctx.python = lambda host: "C:\\Python311\\python.exe"
    found, local = dependencies.windows_bundle(ctx, target("win1", "win-amd64-cpython-311", windows=True))
    assert found["key"] == "k" * 64 and local == tmp_path / "deps" / "k.tar.gz"
    assert dependencies.windows_bundle(ctx, target("win1", "win-amd64-cpython-311", windows=True, envs=["k" * 64]))[1] is None
    ctx.targets = [target("win2", "win-amd64-cpython-312", windows=True)]
    with pytest.raises(ArtifactError, match=r'win2: runs Python for win-amd64-cpython-312, .* built for win-amd64-cpython-311: '
                                            r'set python_version = "3.12" on win2 and build again \(no host was changed\)'):
        dependencies.check_platforms(ctx)
    broken = target("win3", windows=True)
    broken.facts = {"platform": "unknown", "envs": [], "python_error": "The system cannot find the file specified"}
    ctx.targets = [broken]
    with pytest.raises(ArtifactError, match=r"win3: its Python \(C:\\Python311\\python.exe\) did not run: The system cannot"):
        dependencies.check_platforms(ctx)


def test_linux_bundles_never_serve_a_windows_host_and_without_windows_bundles_it_installs_the_wheelhouse(tmp_path):
    ctx = ctx_with(tmp_path, [target("win1", windows=True)])
    assert dependencies.windows_bundle(ctx, ctx.targets[0]) is None  # only a Linux bundle: the wheelhouse path
    dependencies.check_platforms(ctx)  # pure wheels only: fine


def test_a_host_whose_python_reads_other_bytecode_is_refused_before_anything_is_sent(tmp_path):
    """The Linux bundle's .pyc are for the builder's magic number; a host of the same platform tag
    whose Python reads another would recompile the shared env in place: refused by name."""
    dependencies.verified_bundle.cache_clear()
    ctx = ctx_with(tmp_path, [])
    ctx.manifest["deps"]["linux-x86_64-cpython-311"]["bytecode"] = "a70d0d0a"
    ctx.python = lambda host: "/usr/bin/python3"
    same, other, silent = target("web1"), target("web2"), target("web3")
    same.facts["bytecode"], other.facts["bytecode"] = "a70d0d0a", "a60d0d0a"
    assert dependencies.deps_upload(ctx, same).key == "k" * 64
    assert dependencies.deps_upload(ctx, silent).key == "k" * 64  # a host that reports no magic: its tag decides
    ctx.targets = [same, other]
    with pytest.raises(ArtifactError, match=r"web2: its Python \(/usr/bin/python3\) reads bytecode a60d0d0a, the dependency "
                                            r"bundle's .pyc are compiled for a70d0d0a .*\(no host was changed\)"):
        dependencies.check_platforms(ctx)
