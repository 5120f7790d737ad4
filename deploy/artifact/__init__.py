"""The artifact builder: one reproducible .tar.gz per revision, verified before unpacking."""

from deploy.artifact.builder import BuildResult, artifact_name, build_artifact, sidecar_path
from deploy.artifact.verify import latest_artifact, read_sidecar, verify_artifact

__all__ = ["BuildResult", "artifact_name", "build_artifact", "sidecar_path", "latest_artifact", "read_sidecar", "verify_artifact"]
