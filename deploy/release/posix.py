"""HostOps in POSIX sh, for the local and SSH transports.

Every verb is one shell round trip. Paths are quoted with shlex; JSON records
travel on stdin, so nothing a user typed ends up unquoted in a command line.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import json
import shlex
import tarfile
from pathlib import Path
from typing import Any

from deploy.errors import ArtifactError, CommandFailed, ContainmentError, LockHeld, ShipyardError
from deploy.release.contain import GUARD, REFUSED, all_inside, inside
from deploy.release.delta import NeedFull
from deploy.release.host_program import one_program
from deploy.release.hostops import Finished, HostOps, ReleaseInfo, pending_record
from deploy.release.upload import ReleaseUpload
from deploy.secrets import Secret, scrub, stdin_exports
from deploy.transport.base import Result, Stdin

q = shlex.quote


def _json_line(data: dict[str, Any]) -> bytes:
    """Every record a POSIX host stores (journal, release.json, lock) passes here: scrubbed of secrets."""
    return (json.dumps(scrub(data), sort_keys=True) + "\n").encode()


class PosixHostOps(HostOps):
    def sh(self, script: str, stdin: Stdin = None, check: bool = True) -> Result:
        """Run a verb's script with `set -e` and the containment guard (deploy.release.contain)."""
        result = self.transport.run(f"set -e\n{GUARD}{script}", timeout=self.timeout, stdin=stdin, check=False)
        if result.rc == REFUSED:
            raise ContainmentError(self.host, (result.stderr.strip().splitlines() or ["path refused"])[-1])
        return self.transport._checked(result, check)

    def prepare(self, linked_dirs: list[str], linked_files: list[str]) -> None:
        self.sh(self._prepare_script(linked_dirs, linked_files))

    def _prepare_script(self, linked_dirs: list[str], linked_files: list[str]) -> str:
        L = self.layout
        shared = [L.shared_path(d) for d in linked_dirs] + [str(Path(L.shared_path(f)).parent) for f in linked_files]
        dirs = [L.releases, L.shared, f"{L.meta}/artifacts"] + shared
        checks = "".join(
            f"test -e {q(L.shared_path(f))} || {{ echo 'missing linked file: shared/{f}' >&2; exit 3; }}\n"
            for f in linked_files
        )
        return f"{all_inside(shared, L.shared)}mkdir -p {' '.join(q(d) for d in dirs)}\n{checks}"

    def acquire_lock(self, owner: dict[str, Any]) -> None:
        self._take_lock(owner)

    def begin(self, owner: dict[str, Any], linked_dirs: list[str], linked_files: list[str]) -> list[ReleaseInfo]:
        """The whole `starting` of a host in one command: prepare; take the lock; once it is ours,
        remove a crashed run's leftovers and list the releases. Refused before the lock, nothing is
        locked; a failure after it gives the lock back before raising."""
        try:
            out = self._take_lock(owner, before=self._prepare_script(linked_dirs, linked_files),
                                  then=f"{self._clean_script()}\n{self._listing_script()}")
        except CommandFailed as e:
            if e.result.stdout.startswith("ACQUIRED"):
                with contextlib.suppress(ShipyardError):
                    self.release_lock(str(owner["token"]))
            raise
        return parse_release_listing(out)

    def _take_lock(self, owner: dict[str, Any], before: str = "", then: str = "") -> str:
        """Link our record to the lock name (atomic: one of two racing runs wins); what `then`
        printed once the lock is ours, or LockHeld naming the holder."""
        lock, mine = self.layout.lock, f"{self.layout.lock}.{owner['token']}"
        out = self.sh(
            f"{before}cat > {q(mine)}\n"
            f"if ln {q(mine)} {q(lock)} 2>/dev/null; then rm -f {q(mine)}; echo ACQUIRED\n{then}\n"
            f"else rm -f {q(mine)}; echo HELD; cat {q(lock)} 2>/dev/null || true; fi",
            stdin=_json_line(owner),
        ).stdout
        if not out.startswith("ACQUIRED"):
            raise LockHeld(self.host, _describe_holder(out.partition("\n")[2]))
        return out.partition("\n")[2]

    def release_lock(self, token: str) -> None:
        needle = q(f'"token": {json.dumps(token)}')
        self.sh(f"if grep -qF {needle} {q(self.layout.lock)} 2>/dev/null; then rm -f {q(self.layout.lock)}; fi")

    def read_lock(self) -> dict[str, Any] | None:
        out = self.sh(f"cat {q(self.layout.lock)} 2>/dev/null || true").stdout.strip()
        return json.loads(out) if out else None

    def upload(self, artifact: Path, sha256: str) -> str:
        remote = self.layout.artifact(sha256)
        have = self.sh(f"sha256sum {q(remote)} 2>/dev/null || true").stdout.split()
        if not have or have[0] != sha256:
            self.transport.put(artifact, remote, sha256=sha256)
        return remote

    def unpack(self, remote_artifact: str, release_id: str, info: dict[str, Any]) -> None:
        final = self.layout.release(release_id)
        tmp = self.layout.release(f".{release_id}.tmp")
        self.sh(
            f"rm -rf {q(tmp)}; mkdir -p {q(tmp)}\n"
            f"tar -xzf {q(remote_artifact)} -C {q(tmp)} --no-same-owner --no-same-permissions\n"
            f"{inside(f'{tmp}/release.json', tmp)}(umask 077; cat > {q(tmp)}/release.json)\n"
            f"mv -T {q(tmp)} {q(final)}",
            stdin=_json_line(pending_record(info, release_id)),
        )

    def link_shared(self, release_id: str, linked_dirs: list[str], linked_files: list[str]) -> None:
        script = self._link_shared_script(self.layout.release(release_id), linked_dirs, linked_files)
        if script:
            self.sh(script)

    def _link_shared_script(self, rel: str, linked_dirs: list[str], linked_files: list[str]) -> str:
        """app/<path> -> shared/<path>; the app's path and its parent must resolve inside the release
        (or already be the shared link), so a link in the artifact cannot aim the rm -rf elsewhere."""
        app, shared = f"{rel}/app", self.layout.shared
        return "".join(
            f"{inside(f'{app}/{p}', rel, shared)}rm -rf {q(f'{app}/{p}')}; mkdir -p {q(str(Path(f'{app}/{p}').parent))}\n"
            f"{inside(f'{app}/{p}', rel)}ln -s {q(self.layout.shared_path(p))} {q(f'{app}/{p}')}\n"
            for p in [*linked_dirs, *linked_files]
        )

    def receive(self, upload: ReleaseUpload) -> dict[str, Any]:
        """The whole update of one host in one command: the release part (and the dependency
        bundle when the host lacks it) streamed into deploy/release/receiver.py, which unpacks,
        links and verifies into a staging dir; then shared links, the rename into place and, for
        an artifact without wheels (`upload.install`), its empty env linked as .deps.
        Raises NeedFull when the host cannot use the delta (send the whole artifact instead)."""
        L, rid = self.layout, upload.release_id
        stage, final = L.release(f".{rid}.tmp"), L.release(rid)
        parts = [upload.shipment.part, *([upload.deps.bundle] if upload.deps and upload.deps.bundle else [])]
        header = {
            "stage": stage, "previous": L.release(upload.previous) if upload.previous else None,
            "manifest": upload.shipment.manifest, "ship": upload.shipment.ship, "omit": list(upload.shipment.omit),
            "parts": [p.describe() for p in parts], "release_json": _json_line(pending_record(upload.info, rid)).decode(),
            "deps": {"dir": L.dependency_env(upload.deps.key), "manifest_sha256": upload.deps.manifest_sha256} if upload.deps else None,
        }
        script = (f"umask 022\n{q(upload.python)} -S -c {q(receiver_source())}\n"  # -S: the stdlib is all it needs
                  f"{self._link_shared_script(stage, upload.linked_dirs, upload.linked_files)}"
                  f"mv -T {q(stage)} {q(final)}\n"
                  f"{self._install_script(final, upload.python, *upload.install) if upload.install else ''}")
        stdin = itertools.chain([json.dumps(header).encode() + b"\n"], *(p.chunks() for p in parts))
        result = self.sh(script, stdin=stdin, check=False)
        answer = _answer(result.stdout)
        if result.rc == 4 and answer.get("need_full"):
            raise NeedFull(self.host)
        if result.rc == 3 and "error" in answer:
            raise ArtifactError(f"{self.host}: release {rid} refused: {answer['error']}")
        self.transport._checked(result, True)
        return {**answer, "sent": sum(p.size for p in parts)}

    def install(self, release_id: str, python: str, env_key: str, requirements: str = "requirements.txt") -> None:
        self.sh(self._install_script(self.layout.release(release_id), python, env_key, requirements))

    def _install_script(self, rel: str, python: str, env_key: str, requirements: str) -> str:
        """shared/envs/<env_key> from the release's wheelhouse unless it is complete, linked as .deps."""
        envdir = self.layout.dependency_env(env_key)
        tmp = f"{envdir}.tmp"
        reqs = f"{rel}/app/{requirements}"
        return (
            f"{all_inside([envdir, tmp], self.layout.shared)}{inside(f'{rel}/.deps', rel, self.layout.shared)}"
            f"if [ ! -f {q(envdir)}/.complete ]; then\n"
            f"  rm -rf {q(tmp)}; mkdir -p {q(tmp)}\n"
            f"  if [ -f {q(reqs)} ]; then {q(python)} -m pip install -q --disable-pip-version-check"
            f" --no-index --find-links {q(rel)}/wheelhouse --target {q(tmp)} -r {q(reqs)}; fi\n"
            f"  touch {q(tmp)}/.complete; rm -rf {q(envdir)}; mv -T {q(tmp)} {q(envdir)}\n"
            f"fi\n"
            f"ln -sfn {q(envdir)} {q(rel)}/.deps\n"
        )

    def write_files(self, release_id: str, files: dict[str, str], dirs: list[str]) -> None:
        if not files and not dirs:
            return
        rel = self.layout.release(release_id)
        mkdirs = f"mkdir -p {' '.join(q(d) for d in dirs)}\n" if dirs else ""
        checks = all_inside([f"{rel}/{p}" for p in sorted(files)], rel)
        self.sh(f"{mkdirs}{checks}umask 022; tar -x -C {q(rel)}", stdin=tar_of(files))

    def set_status(self, release_id: str, status: str, extra: dict[str, Any] | None = None) -> None:
        path = self.layout.release_info(release_id)
        data = json.loads(self.sh(f"cat {q(path)}").stdout or "{}")
        data.update(extra or {}, status=status)
        self.sh(f"IFS= read -r rec\n{self._record_script(release_id)}", stdin=_json_line(data))

    def _record_script(self, release_id: str) -> str:
        """Write `$rec` as the release's release.json (0600, atomically), never through a link."""
        path, rel = self.layout.release_info(release_id), self.layout.release(release_id)
        return (f"{inside(path, rel)}{inside(f'{path}.tmp', rel)}"
                f"(umask 077; printf '%s\\n' \"$rec\" > {q(path)}.tmp) && mv -f {q(path)}.tmp {q(path)}\n")

    def releases(self) -> list[ReleaseInfo]:
        return parse_release_listing(self.sh(self._listing_script()).stdout)

    def _listing_script(self) -> str:
        """CURRENT <id> and one REL <id> <release.json> line per release; must end its script (cd, exit)."""
        return (
            f"cd {q(self.layout.releases)} 2>/dev/null || exit 0\n"
            f"cur=$(readlink {q(self.layout.current)} 2>/dev/null || true); echo \"CURRENT ${{cur##*/}}\"\n"
            "for d in */; do d=${d%/}; [ -d \"$d\" ] || continue; printf 'REL %s ' \"$d\";"
            " tr -d '\\n' < \"$d/release.json\" 2>/dev/null || printf '{}'; echo; done"
        )

    def switch(self, release_id: str | None) -> None:
        L = self.layout
        if release_id is None:
            self.sh(f"rm -f {q(L.current)}")
            return
        tmp = f"{L.deploy_to}/.current.tmp"
        self.sh(
            f"test -d {q(L.release(release_id))}\n"
            f"rm -f {q(tmp)}; ln -s {q('releases/' + release_id)} {q(tmp)}; mv -T {q(tmp)} {q(L.current)}"
        )

    def finish(self, release_id: str, marks: dict[str, dict[str, Any]], entry: dict[str, Any],
               doomed: list[str]) -> Finished | None:
        """The whole `finishing` of a host in one command (HostOps.finish): release.json records
        written as the guarded set_status writes them, the journal line appended as append_journal
        does, retention as remove_releases + prune_unused do; only the marks can fail it."""
        L = self.layout
        script = (f"cur=$(readlink {q(L.current)} 2>/dev/null || true)\n"
                  f"if [ \"${{cur##*/}}\" != {q(release_id)} ]; then echo STALE; exit 0; fi\n"
                  + "".join(f"IFS= read -r rec\n{self._record_script(rid)}" for rid in marks)
                  + f"IFS= read -r entry\nset +e\n"  # from here on a problem is reported, never fatal
                  f"out=$( {{ {self._journal_script()}; }} 2>&1) || echo \"JOURNAL $(printf %s \"$out\" | tr '\\n' ' ')\"\n")
        if doomed:
            script += (f"if out=$( set -e; {self._remove_script(doomed)}); then printf '%s\\n' \"$out\"\n"
                       f"else echo PRUNE_FAILED; fi\n")
        script += f"out=$( set -e; {self._prune_script()}) && printf '%s\\n' \"$out\"\necho FINISHED"
        stdin = b"".join(_json_line(record) for record in marks.values()) + _json_line(entry)
        lines = self.sh(script, stdin=stdin).stdout.splitlines()
        if "STALE" in lines or "FINISHED" not in lines:
            return None
        kept = list(doomed) if "PRUNE_FAILED" in lines else [x[5:] for x in lines if x.startswith("KEPT ")]
        return Finished(removed=[r for r in doomed if r not in kept] + [x[5:] for x in lines if x.startswith("GONE ")],
                        kept=kept, journal_error=next((x[8:] or "not written" for x in lines if x.startswith("JOURNAL ")), ""))

    def remove_releases(self, release_ids: list[str]) -> list[str]:
        if not release_ids:
            return []
        try:
            result = self.sh(self._remove_script(release_ids), check=False)
        except ContainmentError:
            return list(release_ids)
        return [line[5:] for line in result.stdout.splitlines() if line.startswith("KEPT ")] if result.rc == 0 else list(release_ids)

    def _remove_script(self, release_ids: list[str]) -> str:
        """rm -rf each release but the current one; `KEPT <id>` for each that stays."""
        L = self.layout
        return f"cur=$(realpath -m -- {q(L.current)})\n" + "".join(
            f"if [ \"$(realpath -m -- {q(L.release(r))})\" = \"$cur\" ]; then echo KEPT {q(r)}; else "
            f"{inside(L.release(r), L.releases).strip()}; rm -rf {q(L.release(r))} 2>/dev/null || echo KEPT {q(r)}; fi\n"
            for r in release_ids
        )

    def facts(self, python: str, env_keys: list[str]) -> dict[str, Any]:
        """Read-only: the platform tag and bytecode magic of the host's Python, and which dependency
        envs it has."""
        return _facts_of(self.transport.run(self._facts_script(python, env_keys), timeout=self.timeout).stdout)

    def _facts_script(self, python: str, env_keys: list[str]) -> str:
        have = "".join(f"[ -f {q(self.layout.dependency_env(k))}/deps-manifest.json ] && echo ENV {k}\n" for k in env_keys)
        return f"{q(python)} -c {q(PLATFORM_TAG)} || true\n{have}true"

    def prune_unused(self) -> list[str]:
        """Artifacts no release was unpacked from and envs no release links as .deps (retention
        removes them with the last release that used them)."""
        out = self.sh(self._prune_script(), check=False)
        return [line[5:] for line in out.stdout.splitlines() if line.startswith("GONE ")] if out.rc == 0 else []

    def _prune_script(self) -> str:
        """`GONE <path>` for each removed; cds into deploy_to."""
        return (
            f"cd {q(self.layout.deploy_to)}\n"
            "keep=$(cat releases/*/release.json 2>/dev/null | grep -o '\"artifact_sha256\": *\"[0-9a-f]*' | grep -o '[0-9a-f]*$' || true)\n"
            "envs=$(for d in releases/*/.deps; do readlink \"$d\"; done 2>/dev/null || true)\n"
            "for f in .shipyard/artifacts/*.tar.gz; do [ -f \"$f\" ] || continue; s=${f##*/}; s=${s%.tar.gz}\n"
            "  case \" $(echo $keep) \" in *\" $s \"*) ;; *) rm -f -- \"$f\" && echo \"GONE $f\";; esac; done\n"
            "for e in shared/envs/*; do [ -d \"$e\" ] || continue\n"
            "  case \" $(echo $envs) \" in *\"/$e \"*) ;; *) rm -rf -- \"$e\" && echo \"GONE $e\";; esac; done"
        )

    def append_journal(self, entry: dict[str, Any]) -> None:
        """Journal lines may quote command output: the file is 0600, and never a link out of .shipyard/."""
        self.sh(f"IFS= read -r entry\n{self._journal_script()}", stdin=_json_line(entry))

    def _journal_script(self) -> str:
        j = q(self.layout.journal)
        return (f"(umask 077; mkdir -p {q(self.layout.meta)}) && {inside(self.layout.journal, self.layout.meta).strip()} && "
                f"(umask 077; printf '%s\\n' \"$entry\" >> {j}) && chmod 600 {j}")

    def read_journal(self) -> list[dict[str, Any]]:
        out = self.sh(f"cat {q(self.layout.journal)} 2>/dev/null || true").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def clean_leftovers(self) -> None:
        self.sh(self._clean_script())

    def _clean_script(self) -> str:
        L = self.layout
        return (f"rm -rf -- {q(L.releases)}/.*.tmp {q(L.shared_path('envs'))}/*.tmp\n"
                f"rm -f -- {q(L.meta)}/artifacts/*.part {q(L.meta)}/artifacts/delta-*.tar.gz {q(L.deploy_to)}/.current.tmp")

    def disk_space(self, env_key: str) -> tuple[int, bool]:
        free, installed, _ = self.probe(env_key)
        return free, installed

    def probe(self, env_key: str, python: str = "", bundle_keys: list[str] | None = None) -> tuple[int, bool, dict[str, Any] | None]:
        """disk_space and, with `bundle_keys`, facts: read-only, in one command."""
        complete = q(f"{self.layout.dependency_env(env_key)}/.complete")
        facts = self._facts_script(python, bundle_keys) if bundle_keys is not None else ""
        lines = self.sh(f"d={q(self.layout.deploy_to)}; while [ ! -d \"$d\" ]; do d=$(dirname \"$d\"); done\n"
                        f"df -Pk \"$d\" | awk 'NR==2 {{print $4}}'; test -f {complete} && echo env || echo none\n"
                        f"{facts}").stdout.splitlines()
        space = " ".join(lines[:2]).split()
        if len(space) != 2 or not space[0].isdigit():
            raise ShipyardError(f"{self.host}: cannot measure free disk under {self.layout.deploy_to}: {space!r}")
        return int(space[0]) * 1024, space[1] == "env", _facts_of("\n".join(lines[2:])) if bundle_keys is not None else None

    def read_manifest(self, release_id: str) -> dict[str, Any]:
        return json.loads(self.sh(f"cat {q(self.layout.release(release_id))}/manifest.json").stdout)

    def run_hook(self, release_id: str | None, command: str, env: dict[str, str], secrets: dict[str, Secret]) -> Result:
        prologue, data = stdin_exports(secrets)
        exports = "".join(f"export {k}={q(v)}\n" for k, v in env.items())
        where = self.layout.release_app(release_id) if release_id else self.layout.deploy_to
        script = f"{prologue}{exports}cd {q(where)}\nset -u\n{command}"  # an unset variable is an error
        return self.transport.run(script, timeout=self.timeout, stdin=data)


PLATFORM_TAG = ("import importlib.util, sys, sysconfig; print('PLATFORM', sysconfig.get_platform() + '-' + "
                "sys.implementation.cache_tag); print('BYTECODE', importlib.util.MAGIC_NUMBER.hex())")


@functools.cache
def receiver_source() -> str:
    """receiver.py with the tree checks it imports embedded: one `-c` program (host_program.py)."""
    return one_program("deploy.release.receiver")


def _facts_of(out: str) -> dict[str, Any]:
    words = [line.split(" ", 1) for line in out.splitlines() if " " in line]
    facts = {"platform": next((v for k, v in words if k == "PLATFORM"), "unknown"),
             "envs": [v for k, v in words if k == "ENV"]}
    facts.update(("bytecode", v) for k, v in words if k == "BYTECODE")
    return facts


def _answer(stdout: str) -> dict[str, Any]:
    """The receiver's one JSON line (the first line of output), or {} when it printed none."""
    try:
        data = json.loads(stdout.splitlines()[0]) if stdout.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def tar_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, text in sorted(files.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def parse_release_listing(out: str) -> list[ReleaseInfo]:
    current, found = "", []
    for line in out.splitlines():
        if line.startswith("CURRENT "):
            current = line[8:].strip()
        elif line.startswith("REL "):
            rid, _, body = line[4:].partition(" ")
            try:
                data = json.loads(body or "{}")
            except json.JSONDecodeError:
                data = {}
            found.append(ReleaseInfo.from_json({"status": "unknown", **data, "id": rid}, rid == current))
    return sorted(found, key=lambda r: r.id)


def _describe_holder(text: str) -> str:
    try:
        h = json.loads(text)
    except json.JSONDecodeError:
        return "an unknown holder (unreadable lock record)"
    return f"{h.get('user', '?')} (pid {h.get('pid', '?')} on {h.get('machine', '?')}, since {h.get('since', '?')}, revision {h.get('revision', '?')[:12]})"
