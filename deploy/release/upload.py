"""One POSIX host's update as one streamed command: which release part it gets (delta or
whole artifact, see delta.py), which dependency bundle, and the retry when it cannot use
the delta."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from deploy.release.delta import NeedFull, Part, Shipment, Shipments


@dataclass(frozen=True)
class DepsUpload:
    """shared/envs/<key> for the host's platform; `bundle` travels only when the host lacks the env."""

    key: str
    manifest_sha256: str
    bundle: Part | None


@dataclass(frozen=True)
class ReleaseUpload:
    release_id: str
    info: dict[str, Any]  # release.json (status pending is added)
    python: str
    previous: str | None  # the release whose files a delta links; None for a whole artifact
    shipment: Shipment
    linked_dirs: list[str]
    linked_files: list[str]
    deps: DepsUpload | None = None
    install: tuple[str, str] | None = None  # (env_key, requirements): `install` in the same command


class Receiving(Protocol):
    """A host that takes a release as one stream (deploy.release.posix.PosixHostOps)."""

    def receive(self, upload: ReleaseUpload) -> dict[str, Any]: ...

    def read_manifest(self, release_id: str) -> dict[str, Any]: ...


def send_release(ops: Receiving, shipments: Shipments, upload: ReleaseUpload,
                 previous_artifact: str) -> dict[str, Any]:
    """Send the delta against the previous release when there is one, else the whole artifact;
    a host that cannot use the delta gets the whole artifact. Returns the receiver's answer."""
    bundled = upload.deps is not None
    if upload.previous and previous_artifact:
        delta = shipments.for_previous(previous_artifact, lambda: ops.read_manifest(upload.previous), bundled)
        try:
            return ops.receive(replace(upload, shipment=delta))
        except NeedFull:
            pass
    return ops.receive(replace(upload, previous=None, shipment=shipments.whole(bundled)))
