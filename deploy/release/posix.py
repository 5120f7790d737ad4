"""HostOps in POSIX sh, for the local and SSH transports.

Every verb is one shell round trip. Paths are quoted with shlex; JSON records
travel on stdin, so nothing a user typed ends up unquoted in a command line.
"""

from __future__ import annotations

import io
import json
import shlex
import tarfile
from pathlib import Path
from typing import Any

from deploy.errors import ContainmentError, LockHeld
from deploy.release.contain import GUARD, REFUSED, all_inside, inside
from deploy.release.hostops import PENDING, HostOps, ReleaseInfo
from deploy.secrets import Secret, stdin_exports
from deploy.transport.base import Result

q = shlex.quote


def _json_line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True) + "\n").encode()


class PosixHostOps(HostOps):
    def sh(self, script: str, stdin: bytes | None = None, check: bool = True) -> Result:
        """Run a verb's script with `set -e` and the containment guard (deploy.release.contain)."""
        result = self.transport.run(f"set -e\n{GUARD}{script}", timeout=self.timeout, stdin=stdin, check=False)
        if result.rc == REFUSED:
            raise ContainmentError(self.host, (result.stderr.strip().splitlines() or ["path refused"])[-1])
        return self.transport._checked(result, check)

    def prepare(self, linked_dirs: list[str], linked_files: list[str]) -> None:
        L = self.layout
        shared = [L.shared_path(d) for d in linked_dirs] + [str(Path(L.shared_path(f)).parent) for f in linked_files]
        dirs = [L.releases, L.shared, f"{L.meta}/artifacts"] + shared
        checks = "".join(
            f"test -e {q(L.shared_path(f))} || {{ echo 'missing linked file: shared/{f}' >&2; exit 3; }}\n"
            for f in linked_files
        )
        self.sh(f"{all_inside(shared, L.shared)}mkdir -p {' '.join(q(d) for d in dirs)}\n{checks}")

    def acquire_lock(self, owner: dict[str, Any]) -> None:
        lock, mine = self.layout.lock, f"{self.layout.lock}.{owner['token']}"
        out = self.sh(
            f"cat > {q(mine)}\n"
            f"if ln {q(mine)} {q(lock)} 2>/dev/null; then rm -f {q(mine)}; echo ACQUIRED;"
            f" else rm -f {q(mine)}; echo HELD; cat {q(lock)} 2>/dev/null || true; fi",
            stdin=_json_line(owner),
        ).stdout
        if not out.startswith("ACQUIRED"):
            raise LockHeld(self.host, _describe_holder(out.partition("\n")[2]))

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
            stdin=_json_line({**info, "id": release_id, "status": PENDING}),
        )

    def link_shared(self, release_id: str, linked_dirs: list[str], linked_files: list[str]) -> None:
        """app/<path> -> shared/<path>; the app's path and its parent must resolve inside the release
        (or already be the shared link), so a link in the artifact cannot aim the rm -rf elsewhere."""
        rel, app, shared = self.layout.release(release_id), self.layout.release_app(release_id), self.layout.shared
        lines = [
            f"{inside(f'{app}/{p}', rel, shared)}rm -rf {q(f'{app}/{p}')}; mkdir -p {q(str(Path(f'{app}/{p}').parent))}\n"
            f"{inside(f'{app}/{p}', rel)}ln -s {q(self.layout.shared_path(p))} {q(f'{app}/{p}')}"
            for p in [*linked_dirs, *linked_files]
        ]
        if lines:
            self.sh("\n".join(lines))

    def install(self, release_id: str, python: str, env_key: str, requirements: str = "requirements.txt") -> None:
        envdir, rel = self.layout.dependency_env(env_key), self.layout.release(release_id)
        tmp = f"{envdir}.tmp"
        reqs = f"{rel}/app/{requirements}"
        self.sh(
            f"{all_inside([envdir, tmp], self.layout.shared)}{inside(f'{rel}/.deps', rel, self.layout.shared)}"
            f"if [ ! -f {q(envdir)}/.complete ]; then\n"
            f"  rm -rf {q(tmp)}; mkdir -p {q(tmp)}\n"
            f"  if [ -f {q(reqs)} ]; then {q(python)} -m pip install -q --disable-pip-version-check"
            f" --no-index --find-links {q(rel)}/wheelhouse --target {q(tmp)} -r {q(reqs)}; fi\n"
            f"  touch {q(tmp)}/.complete; rm -rf {q(envdir)}; mv -T {q(tmp)} {q(envdir)}\n"
            f"fi\n"
            f"ln -sfn {q(envdir)} {q(rel)}/.deps"
        )

    def write_files(self, release_id: str, files: dict[str, str], dirs: list[str]) -> None:
        if not files and not dirs:
            return
        rel = self.layout.release(release_id)
        mkdirs = f"mkdir -p {' '.join(q(d) for d in dirs)}\n" if dirs else ""
        checks = all_inside([f"{rel}/{p}" for p in sorted(files)], rel)
        self.sh(f"{mkdirs}{checks}umask 022; tar -x -C {q(rel)}", stdin=tar_of(files))

    def set_status(self, release_id: str, status: str, extra: dict[str, Any] | None = None) -> None:
        path, rel = self.layout.release_info(release_id), self.layout.release(release_id)
        data = json.loads(self.sh(f"cat {q(path)}").stdout or "{}")
        data.update(extra or {}, status=status)
        self.sh(f"{inside(path, rel)}{inside(f'{path}.tmp', rel)}umask 077\n"
                f"cat > {q(path)}.tmp && mv -f {q(path)}.tmp {q(path)}", stdin=_json_line(data))

    def releases(self) -> list[ReleaseInfo]:
        out = self.sh(
            f"cd {q(self.layout.releases)} 2>/dev/null || exit 0\n"
            f"cur=$(readlink {q(self.layout.current)} 2>/dev/null || true); echo \"CURRENT ${{cur##*/}}\"\n"
            "for d in */; do d=${d%/}; [ -d \"$d\" ] || continue; printf 'REL %s ' \"$d\";"
            " tr -d '\\n' < \"$d/release.json\" 2>/dev/null || printf '{}'; echo; done"
        ).stdout
        return parse_release_listing(out)

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

    def remove_releases(self, release_ids: list[str]) -> list[str]:
        if not release_ids:
            return []
        L = self.layout
        script = f"cur=$(realpath -m -- {q(L.current)})\n" + "".join(
            f"if [ \"$(realpath -m -- {q(L.release(r))})\" = \"$cur\" ]; then echo {q(r)}; else "
            f"{inside(L.release(r), L.releases).strip()}; rm -rf {q(L.release(r))} 2>/dev/null || echo {q(r)}; fi\n"
            for r in release_ids
        )
        try:
            result = self.sh(script, check=False)
        except ContainmentError:
            return list(release_ids)
        return result.stdout.split() if result.rc == 0 else list(release_ids)

    def append_journal(self, entry: dict[str, Any]) -> None:
        """Journal lines may quote command output: the file is 0600."""
        j = q(self.layout.journal)
        self.sh(f"umask 077; mkdir -p {q(self.layout.meta)}; cat >> {j}; chmod 600 {j}", stdin=_json_line(entry))

    def read_journal(self) -> list[dict[str, Any]]:
        out = self.sh(f"cat {q(self.layout.journal)} 2>/dev/null || true").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def read_manifest(self, release_id: str) -> dict[str, Any]:
        return json.loads(self.sh(f"cat {q(self.layout.release(release_id))}/manifest.json").stdout)

    def run_hook(self, release_id: str | None, command: str, env: dict[str, str], secrets: dict[str, Secret]) -> Result:
        prologue, data = stdin_exports(secrets)
        exports = "".join(f"export {k}={q(v)}\n" for k, v in env.items())
        where = self.layout.release_app(release_id) if release_id else self.layout.deploy_to
        script = f"{prologue}{exports}cd {q(where)}\n{command}"
        return self.transport.run(script, timeout=self.timeout, stdin=data)


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
