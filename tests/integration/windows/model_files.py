"""The contract model's file and release verbs (prepare ... journal), as the scripts promise them:
containment (Assert-Inside), retried renames, deletes that never follow links or hide errors."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import tarfile
import zipfile
from pathlib import Path, PureWindowsPath

from tests.integration.windows.model_base import IN_USE, RELEASE_ID, ModelError, retry_failure
from tests.integration.windows.model_deps import assert_deps_manifest, new_bundled_env
from tests.integration.windows.model_prune import assert_artifacts_inside, prune_uploads
from tests.integration.windows.model_tree import assert_tree_matches, expected_files, read_json_file

ATTEMPTS = 7  # Invoke-WithRetry's attempts before it gives up


class FileVerbs:
    """Mixed into WindowsHostModel, which provides local/real/assert_inside/junction/link_target."""

    def __init__(self) -> None:
        self.in_use: set[str] = set()  # release ids whose files are open (their rename into trash fails)
        self.busy: dict[str, int] = {}  # destination name (or prefix ending in "-") -> renames into it that fail first
        self.undeletable: set[Path] = set()  # local paths whose delete keeps failing
        self.retries = 0

    # ------------------------------------------------------------ library functions, modelled
    def move(self, source: str, destination: str) -> None:
        """Move-PathWithRetry: a busy destination fails a few times, or for good after 7 attempts."""
        src, dst = self.local(source), self.local(destination)
        key = next((k for k in self.busy if dst.name == k or (k.endswith("-") and dst.name.startswith(k))), None)
        if key is not None:
            failures, self.busy[key] = self.busy[key], 0
            if failures >= ATTEMPTS:
                raise retry_failure(f"move {source} to {destination}", ATTEMPTS, IN_USE)
            self.retries += failures
        if dst.exists() or dst.is_symlink():
            raise retry_failure(f"move {source} to {destination}", 1, "Cannot create a file when that file already exists.")
        os.rename(src, dst)

    def remove_tree(self, local: Path) -> None:
        """Remove-Tree: links unlinked (never followed), read-only cleared, the first failure raised."""
        if local in self.undeletable:
            raise retry_failure(f"delete {self.windows(local)}", ATTEMPTS, IN_USE)
        if local.is_symlink() or not local.is_dir():
            local.unlink()
            return
        for entry in sorted(local.iterdir()):
            self.remove_tree(entry)
        local.rmdir()

    def exists(self, local: Path) -> bool:
        return local.exists() or local.is_symlink()

    # ------------------------------------------------------------ verbs
    def do_prepare(self, DeployTo: str, rest: bytes, LinkedDirs: list[str] = (), LinkedFiles: list[str] = ()) -> dict:
        shared = str(PureWindowsPath(DeployTo, "shared"))
        dirs = [str(PureWindowsPath(DeployTo, d)) for d in ("releases", "shared", ".shipyard", ".shipyard\\artifacts")]
        dirs += [str(PureWindowsPath(shared, d)) for d in LinkedDirs]
        dirs += [str(PureWindowsPath(shared, f).parent) for f in LinkedFiles]
        created = []
        for path in dirs:
            if self.local(path).is_dir():
                continue
            self.assert_inside(path, [DeployTo], "create")
            self.local(path).mkdir(parents=True, exist_ok=True)
            created.append(path)
        for relative in LinkedFiles:
            path = str(PureWindowsPath(shared, relative))
            if not self.exists(self.local(path)):
                self.assert_inside(path, [shared], "create")
                self.local(path).write_bytes(b"")
                created.append(path)
        return {"created": created, "tar": bool(self.host_facts.facts["tar"])}

    def do_lock(self, Path: str, Action: str, rest: bytes, Owner: str = "{}", Token: str = "") -> dict:
        lock = self.local(Path)
        holder = json.loads(lock.read_text()) if lock.exists() else None
        if Action == "read":
            return {"holder": holder}
        if Action == "release":
            released = holder is not None and str(holder.get("token")) == Token
            if released:
                lock.unlink()
            return {"released": released}
        lock.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(lock, "x", encoding="utf-8") as f:
                f.write(Owner)
        except FileExistsError:
            return {"acquired": False, "holder": holder}
        return {"acquired": True, "holder": json.loads(Owner)}

    def do_file_hash(self, Path: str, rest: bytes) -> dict:
        path = self.local(Path)
        if not path.is_file():
            return {"path": Path, "exists": False, "sha256": "", "bytes": 0}
        return {"path": Path, "exists": True, "sha256": _sha256(path.read_bytes()), "bytes": path.stat().st_size}

    def do_put_file(self, Path: str, Sha256: str, rest: bytes, Roots: list[str] = ()) -> dict:
        parent = str(PureWindowsPath(Path).parent)
        if Roots:
            self.assert_inside(parent, list(Roots), "write into", follow=True)
        self.local(parent).mkdir(parents=True, exist_ok=True)
        if Roots:
            self.assert_inside(Path, list(Roots), "write", follow=True)
        data = b"".join(base64.b64decode(line) for line in rest.split(b"\r\n") if line)
        actual = _sha256(data)
        if actual != Sha256:
            raise ModelError(f"sha256 mismatch for {Path}: got {actual}, expected {Sha256}")
        self.local(Path).write_bytes(data)
        return {"path": Path, "sha256": actual, "bytes": len(data)}

    def do_verify_file(self, Path: str, Destination: str, Sha256: str, rest: bytes, Roots: list[str] = ()) -> dict:
        if Roots:
            self.assert_inside(Destination, list(Roots), "write", follow=True)
        source = self.local(Path)
        actual = _sha256(source.read_bytes())
        if actual != Sha256:
            source.unlink()
            raise ModelError(f"sha256 mismatch for {Path}: got {actual}, expected {Sha256}")
        size = source.stat().st_size
        os.replace(source, self.local(Destination))
        return {"path": Destination, "sha256": actual, "bytes": size}

    def do_get_file(self, Path: str, rest: bytes, MaxBytes: int = 16777216) -> dict:
        path = self.local(Path)
        if not path.is_file():
            raise retry_failure(f"open {Path}", 1, f"Could not find file '{Path}'.")
        data = path.read_bytes()  # FileShare ReadWrite|Delete: a file being written is readable
        if len(data) > MaxBytes:
            raise ModelError(f"{Path} is {len(data)} bytes; fetch files over {MaxBytes} bytes over SMB")
        return {"content": base64.b64encode(data).decode(), "sha256": _sha256(data), "bytes": len(data)}

    def do_unpack(self, Archive: str, Sha256: str, ReleaseDir: str, rest: bytes, Info: str = "{}",
                  Omit: list[str] = (), ManifestSha256: str = "") -> dict:
        actual = _sha256(self.local(Archive).read_bytes())
        if actual != Sha256:
            raise ModelError(f"artifact sha256 mismatch: got {actual}, expected {Sha256}")
        if self.exists(self.local(ReleaseDir)):
            raise ModelError(f"release dir already exists: {ReleaseDir}")
        temp = f"{ReleaseDir}.tmp-model"
        self.assert_inside(temp, [str(PureWindowsPath(ReleaseDir).parent)], "unpack into")
        self.local(temp).mkdir(parents=True)
        try:
            self._extract(Archive, self.local(temp))
            for required in ("app", "manifest.json"):
                if not (self.local(temp) / required).exists():
                    raise ModelError(f"artifact has no {required} at its root")
            manifest_hash = _sha256((self.local(temp) / "manifest.json").read_bytes())
            if ManifestSha256 and manifest_hash != ManifestSha256:
                raise ModelError(f"manifest.json is not the verified artifact's: sha256 {manifest_hash}, expected {ManifestSha256}")
            manifest = read_json_file(self.local(temp) / "manifest.json")
            verified = assert_tree_matches(self.local(temp), expected_files(manifest, list(Omit)), ["manifest.json"], "unpack")
            record = {"artifact_sha256": actual, **json.loads(Info), "id": PureWindowsPath(ReleaseDir).name, "status": "pending",
                      "unpacked_from": PureWindowsPath(Archive).name}
            (self.local(temp) / "release.json").write_text(json.dumps(record))
            self.move(temp, ReleaseDir)
        except BaseException:
            self.remove_tree(self.local(temp))
            raise
        files = sum(1 for p in self.local(ReleaseDir).rglob("*") if p.is_file())
        return {"release_dir": ReleaseDir, "files": files, "verified": verified}

    def _extract(self, archive: str, target: Path) -> None:
        if archive.lower().endswith(".zip"):
            with zipfile.ZipFile(self.local(archive)) as z:
                for name in z.namelist():
                    _assert_safe_name(name)
                z.extractall(target)
            return
        if not self.host_facts.facts["tar"]:
            raise ModelError("tar.exe not found at C:\\Windows\\System32\\tar.exe (Server 2016 or older): deploy a zip artifact")
        with tarfile.open(self.local(archive), "r:gz") as tar:
            for member in tar.getmembers():
                _assert_safe_name(member.name)
                if not (member.isfile() or member.isdir()):
                    raise ModelError(f"refusing link or special entry: {_tar_line(member)}")
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4+; members were checked above either way
                tar.extraction_filter = tarfile.data_filter
            tar.extractall(target)

    def do_link_shared(self, ReleaseDir: str, SharedDir: str, rest: bytes, LinkedDirs: list[str] = (),
                       LinkedFiles: list[str] = ()) -> dict:
        links = []
        for relative, kind in [(d, "junction") for d in LinkedDirs] + [(f, "hardlink") for f in LinkedFiles]:
            if ".." in re.split(r"[\\/]", relative) or PureWindowsPath(relative).is_absolute():
                raise ModelError(f"not a relative path inside the app: {relative}")
            link, target = str(PureWindowsPath(ReleaseDir, "app", relative)), str(PureWindowsPath(SharedDir, relative))
            self.assert_inside(link, [ReleaseDir], "link")
            self.assert_inside(target, [SharedDir], "link to")
            self.local(link).parent.mkdir(parents=True, exist_ok=True)
            if self.exists(self.local(link)):
                self.remove_tree(self.local(link))
            if kind == "junction":
                self.junction(self.local(link), self.local(target))
            else:
                os.link(self.local(target), self.local(link))
            links.append({"path": link, "kind": kind})
        return {"links": links}

    def do_install(self, ReleaseDir: str, SharedDir: str, Python: str, EnvDir: str, rest: bytes,
                   SystemSitePackages: bool = False, TimeoutSec: int = 1800, ManifestSha256: str = "",
                   Bundle: str = "", BundleSha256: str = "") -> dict:
        self.assert_inside(EnvDir, [str(PureWindowsPath(SharedDir, "envs"))], "build an environment at")
        env = self.local(EnvDir)
        complete = (env / ".shipyard-complete").is_file()
        verified = 0
        if ManifestSha256 and complete:
            assert_deps_manifest(env, EnvDir, ManifestSha256)
        elif ManifestSha256:
            verified = new_bundled_env(self, EnvDir, Python, SystemSitePackages, Bundle, BundleSha256, ManifestSha256)
        elif not complete:
            if self.exists(env) and not (env / "Scripts" / "python.exe").is_file():
                self.remove_tree(env)
            if not (env / "Scripts" / "python.exe").is_file():  # `python -m venv EnvDir`: built where it lives
                (env / "Scripts").mkdir(parents=True)
                (env / "Scripts" / "python.exe").write_text(f"venv of {Python}")
                (env / "pyvenv.cfg").write_text(f"include-system-site-packages = {str(SystemSitePackages).lower()}\n")
            wheelhouse = self.local(ReleaseDir) / "wheelhouse"
            if (wheelhouse / "requirements.txt").is_file() or any(wheelhouse.glob("*.whl")):  # pip refuses nothing
                _pip_install(wheelhouse, env / "Lib" / "site-packages")
            (env / ".shipyard-complete").write_text("done")
        deps = str(PureWindowsPath(ReleaseDir, ".deps"))
        self.assert_inside(deps, [ReleaseDir], "link")
        if self.exists(self.local(deps)):
            self.remove_tree(self.local(deps))
        self.junction(self.local(deps), env)
        return {"env_dir": EnvDir, "created": not complete, "verified": verified}

    def do_set_status(self, InfoPath: str, Status: str, rest: bytes, Extra: str = "{}") -> dict:
        self.assert_inside(InfoPath, [str(PureWindowsPath(InfoPath).parent)], "write", follow=True)
        path = self.local(InfoPath)
        path.write_text(json.dumps({**json.loads(path.read_text()), **json.loads(Extra), "status": Status}))
        return {"status": Status}

    def current_id(self, deploy_to: str) -> str | None:
        target = self.link_target(str(PureWindowsPath(deploy_to, "current")))
        return PureWindowsPath(target).name if target else None

    def do_releases(self, DeployTo: str, rest: bytes) -> dict:
        releases = []
        root = self.local(DeployTo) / "releases"
        for d in sorted(root.iterdir() if root.exists() else []):
            if d.is_dir() and RELEASE_ID.match(d.name):
                info = d / "release.json"
                releases.append({"id": d.name, "status": "incomplete", **(json.loads(info.read_text()) if info.is_file() else {})})
        return {"current": self.current_id(DeployTo), "releases": releases}

    def do_switch(self, DeployTo: str, rest: bytes, ReleaseId: str = "") -> dict:
        current = str(PureWindowsPath(DeployTo, "current"))
        previous, old_target = None, ""
        if self.exists(self.local(current)):
            old_target = self.link_target(current)
            if not old_target:
                raise ModelError(f"{current} is a real directory, not a junction; move it away first")
            previous = PureWindowsPath(old_target).name
        temp = None
        if ReleaseId:
            if not RELEASE_ID.match(ReleaseId):
                raise ModelError(f"not a release id: {ReleaseId}")
            target = str(PureWindowsPath(DeployTo, "releases", ReleaseId))
            if not (self.local(target) / "release.json").exists():
                raise ModelError(f"no such release: {target}")
            self.assert_inside(target, [str(PureWindowsPath(DeployTo, "releases"))], "switch to", follow=True)
            temp = f"{current}.tmp-model"
            self.junction(self.local(temp), self.local(target))
        aside = f"{current}.old-model" if previous else None
        if aside:
            try:
                self.move(current, aside)
            except ModelError:
                if temp:
                    self.local(temp).unlink()
                raise
        if temp:
            try:
                self.move(temp, current)
            except ModelError as e:
                problem = f"switching to {ReleaseId} failed: {e}"
                outcome = self._restore_current(aside, old_target, problem) if aside else "there was no current before"
                self.local(temp).unlink()
                raise ModelError(f"{problem} ({outcome})") from None
        if aside:
            self.local(aside).unlink()
        return {"current": ReleaseId or None, "previous": previous}

    def _restore_current(self, aside: str, old_target: str, problem: str) -> str:
        current = str(PureWindowsPath(aside).parent / "current")
        try:
            self.move(aside, current)
            return "the old current is back in place"
        except ModelError as e:
            self.junction(self.local(current), self.local(old_target))
            return f"putting the old current back failed ({e}); current was made again at {old_target}"

    def do_remove_releases(self, DeployTo: str, rest: bytes, ReleaseIds: list[str] = (), PruneArtifacts: bool = False) -> dict:
        current_path = str(PureWindowsPath(DeployTo, "current"))
        if self.exists(self.local(current_path)) and not self.link_target(current_path):
            raise ModelError(f"{current_path} is not a junction: retention cannot tell which release is live, nothing removed")
        assert_artifacts_inside(self, DeployTo, PruneArtifacts)
        current = self.current_id(DeployTo)
        trash = self.local(DeployTo) / ".shipyard" / "trash"
        self.assert_inside(self.windows(trash), [DeployTo], "empty the trash", follow=True)
        trash.mkdir(parents=True, exist_ok=True)
        removed, kept = [], []
        for rid in ReleaseIds:
            d = self.local(DeployTo) / "releases" / rid
            if not RELEASE_ID.match(rid):
                kept.append({"id": rid, "reason": "not a release id"})
            elif rid == current:
                kept.append({"id": rid, "reason": "is current"})
            elif d.is_symlink():
                d.unlink()  # a release dir that is a link: unlinked, never followed
                removed.append(rid)
            elif rid in self.in_use:
                kept.append({"id": rid, "reason": f"in use: move {self.windows(d)} to {self.windows(trash)}\\{rid}-model "
                                                  f"failed after {ATTEMPTS} attempt(s): {IN_USE}"})
            else:
                if d.exists():
                    d.rename(trash / f"{rid}-model")
                removed.append(rid)
        left = []
        for leftover in sorted(trash.iterdir()):
            try:
                self.remove_tree(leftover)
            except ModelError as e:
                left.append({"path": self.windows(leftover), "error": str(e)})
        pruned, not_pruned = prune_uploads(self, DeployTo) if PruneArtifacts else ([], [])
        return {"removed": removed, "kept": kept, "left_in_trash": left, "pruned": pruned, "not_pruned": not_pruned}

    def do_journal(self, Path: str, Action: str, rest: bytes, Entry: str = "{}") -> dict:
        path = self.local(Path)
        if Action == "append":
            path.parent.mkdir(parents=True, exist_ok=True)
            self.assert_inside(Path, [str(PureWindowsPath(Path).parent)], "append to", follow=True)
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(json.loads(Entry), separators=(",", ":")) + "\n")
            return {"appended": 1}
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return {"entries": [json.loads(line) for line in lines if line.strip()]}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _assert_safe_name(name: str) -> None:
    parts = re.split(r"[\\/]", name)
    if name.startswith(("/", "\\")) or ":" in name or ".." in parts or re.search(r"[\x00-\x1f]", name):
        raise ModelError(f"refusing archive entry that escapes the release dir: {name}")


def _tar_line(member: tarfile.TarInfo) -> str:
    kind = "l" if member.issym() else "h" if member.islnk() else "?"
    return f"{kind}rw-r--r--  0 0 0 0 Jan  1  2026 {member.name} -> {member.linkname}"


def _pip_install(wheelhouse: Path, site_packages: Path) -> None:
    """What `pip install --no-index` leaves: each wheel's top-level modules and packages."""
    site_packages.mkdir(parents=True, exist_ok=True)
    for wheel in sorted(wheelhouse.glob("*.whl")) if wheelhouse.is_dir() else []:
        with zipfile.ZipFile(io.BytesIO(wheel.read_bytes())) as z:
            tops = {name.split("/", 1)[0] for name in z.namelist() if not name.split("/", 1)[0].endswith((".dist-info", ".data"))}
        for top in tops:
            (site_packages / top).mkdir(exist_ok=True) if "." not in top else (site_packages / top).write_text("")
