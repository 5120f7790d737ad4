"""install.ps1's bundle path, modelled (New-BundledEnv, Assert-DepsManifest): a bare venv whose
site-packages is the controller's bundle, checked against its deps manifest; an env already
there reused only when its deps-manifest.json is the one the artifact names."""

from __future__ import annotations

import hashlib
from pathlib import Path, PureWindowsPath

from tests.integration.windows.model_base import ModelError
from tests.integration.windows.model_tree import assert_tree_matches, expected_files, read_json_file


def bare_venv(env: Path, python: str, system_site_packages: bool) -> None:
    """`python -m venv --without-pip EnvDir`: Scripts\\python.exe, pyvenv.cfg, an empty site-packages."""
    (env / "Scripts").mkdir(parents=True)
    (env / "Scripts" / "python.exe").write_text(f"venv of {python}")
    (env / "pyvenv.cfg").write_text(f"include-system-site-packages = {str(system_site_packages).lower()}\n")
    (env / "Lib" / "site-packages").mkdir(parents=True)


def assert_deps_manifest(env: Path, env_dir: str, manifest_sha256: str) -> dict:
    path = env / "Lib" / "site-packages" / "deps-manifest.json"
    if not path.is_file():
        raise ModelError(f"{env_dir} has no deps-manifest.json: it does not match its key; remove it and deploy again")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != manifest_sha256:
        raise ModelError(f"{env_dir} does not match its key (deps-manifest.json sha256 {digest}, the artifact names "
                         f"{manifest_sha256}): remove it and deploy again")
    manifest = read_json_file(path)
    if manifest.get("key") != PureWindowsPath(env_dir).name:
        raise ModelError(f"{env_dir} does not match its key (deps-manifest.json is for {manifest.get('key', '')}): "
                         f"remove it and deploy again")
    return manifest


def new_bundled_env(model, env_dir: str, python: str, system_site_packages: bool, bundle: str, bundle_sha256: str,
                    manifest_sha256: str) -> int:
    """The venv and the bundle unpacked into it, or nothing left when any check fails."""
    if not bundle:
        raise ModelError(f"no dependency bundle was sent for {env_dir}, and it is not there")
    actual = hashlib.sha256(model.local(bundle).read_bytes()).hexdigest()
    if actual != bundle_sha256:
        raise ModelError(f"dependency bundle sha256 mismatch: got {actual}, expected {bundle_sha256}")
    env = model.local(env_dir)
    if model.exists(env):
        model.remove_tree(env)
    try:
        bare_venv(env, python, system_site_packages)
        site = str(PureWindowsPath(env_dir, "Lib", "site-packages"))
        model.assert_inside(site, [env_dir], "unpack dependencies into", follow=True)
        model._extract(bundle, model.local(site))
        manifest = assert_deps_manifest(env, env_dir, manifest_sha256)
        count = assert_tree_matches(model.local(site), expected_files(manifest, []), ["deps-manifest.json"], "install")
        (env / ".shipyard-bundle").write_text(PureWindowsPath(bundle).name)
        (env / ".shipyard-complete").write_text("done")
        return count
    except BaseException:
        if model.exists(env):
            model.remove_tree(env)
        raise
