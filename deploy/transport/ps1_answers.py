"""The `data` each scripts/ps1 script answers with, validated on arrival.

A stray object leaking into a script's output, a renamed key or a wrong type
shows up here as a ProtocolError instead of a wrong decision later.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Prepared(Data):
    created: list[str]
    tar: bool  # tar.exe present (Windows 10 1803+ / Server 2019+); else the host gets a zip artifact


class LockAnswer(Data):
    acquired: bool | None = None
    released: bool | None = None
    holder: dict[str, Any] | None = None


class FileAnswer(Data):
    path: str
    sha256: str
    bytes: int


class FileHash(Data):
    path: str
    exists: bool
    sha256: str
    bytes: int


class FileContent(Data):
    content: str
    sha256: str
    bytes: int


class Unpacked(Data):
    release_dir: str
    files: int
    verified: int  # files checked against the manifest (size and sha256) before the rename


class Link(Data):
    path: str
    kind: str


class Linked(Data):
    links: list[Link]


class Installed(Data):
    env_dir: str
    created: bool
    verified: int  # files of a dependency bundle checked against its deps manifest (0: reused, or the wheelhouse)


class StatusSet(Data):
    status: str


class Releases(Data):
    current: str | None
    releases: list[dict[str, Any]]


class Switched(Data):
    current: str | None
    previous: str | None


class Kept(Data):
    id: str
    reason: str


class LeftInTrash(Data):
    path: str
    error: str


class Removed(Data):
    removed: list[str]
    kept: list[Kept]
    left_in_trash: list[LeftInTrash]
    pruned: list[str]  # uploads deleted from .shipyard\artifacts (PruneArtifacts), by file name
    not_pruned: list[LeftInTrash]  # uploads that could not be deleted, or why none was


class JournalAnswer(Data):
    appended: int | None = None
    entries: list[dict[str, Any]] | None = None


class HookRan(Data):
    rc: int
    stdout: str
    stderr: str
    timed_out: bool


class ServiceState(Data):
    name: str
    status: str
    dependents: list[str]
    killed: bool


class Recycled(Data):
    app_pool: str
    state: str
    was: str
    backend: str


class SiteSet(Data):
    site: str
    app_pool: str
    physical_path: str
    site_id: int
    bindings: list[str]
    created: bool
    backend: str


class FastCgiSet(Data):
    fastcgi: str
    handler: str
    site: str
    static_location: str
    created: bool
    backend: str


class Healthy(Data):
    url: str
    status: int
    attempts: int


class Facts(Data):
    hostname: str
    os: str
    os_version: str
    ps_version: str
    language_mode: str
    is64_os: bool
    is64_process: bool
    free_bytes: int
    long_paths: bool  # a >260-character path really worked (a probe, not the registry value)
    long_path_error: str
    long_paths_enabled: bool  # the LongPathsEnabled registry value
    tar: bool
    python_platform: str  # what the Python asked about reports ('win-amd64-cpython-311'); '' when not asked or it failed
    python_error: str
    envs: list[str]  # the asked-about dependency envs that are complete under shared\envs


class IisFacts(Data):
    web_administration: bool
    iis_administration: bool
    appcmd: bool
    handlers_override: str  # overrideModeDefault of system.webServer/handlers ('' without IIS)
    fastcgi: list[str]  # registered FastCGI applications, "fullPath|arguments"
    web_config_handlers: bool  # the site's web.config declares <handlers>


class DoctorFacts(Data):
    account: str
    account_kind: str
    is_admin: bool
    token_filter_policy: int
    max_envelope_kb: int | None
    max_timeout_ms: int | None
    max_memory_per_shell_mb: int | None
    max_shells_per_user: int | None
    junction_error: str
    iis: IisFacts


SCHEMAS: dict[str, type[Data]] = {
    "prepare": Prepared, "lock": LockAnswer, "put_file": FileAnswer, "verify_file": FileAnswer,
    "get_file": FileContent, "file_hash": FileHash, "unpack": Unpacked, "link_shared": Linked, "install": Installed,
    "set_status": StatusSet, "releases": Releases, "switch": Switched, "remove_releases": Removed,
    "journal": JournalAnswer, "run_hook": HookRan, "service": ServiceState, "iis_recycle": Recycled,
    "iis_site": SiteSet, "iis_fastcgi": FastCgiSet, "health": Healthy, "facts": Facts, "doctor": DoctorFacts,
}
