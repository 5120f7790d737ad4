"""The shape of an artifact's two metadata files, checked before any value is used.

The sidecar (`<artifact>.json`) carries the artifact's sha256; the manifest
(`manifest.json` inside it) carries the revision, the short id the release id is
made of, the dependency key, the hooks and every file. A missing or mistyped key
is a MetadataError (exit 2) naming the file and the key, never a KeyError later.
Unknown keys are allowed: a newer Shipyard may add some.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from deploy.config import HooksConfig, describe, key_path
from deploy.errors import MetadataError

HEX64 = r"^[0-9a-f]{64}$"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Sidecar(_Open):
    sha256: str = Field(pattern=HEX64)
    built_at: str = ""


class FileEntry(_Open):
    sha256: str = Field(pattern=HEX64)
    size: int = Field(ge=0)
    mode: str = Field(default="0644", pattern=r"^0?[0-7]{3}$")


class Manifest(_Open):
    schema_: Literal[1] = Field(alias="schema")
    revision: str = Field(min_length=1, pattern=r"^[0-9A-Za-z._-]+$")
    short: str = Field(pattern=r"^[0-9a-f]{7,40}$")  # the release id ends with it
    dirty: bool = False
    env_key: str = Field(default="default", pattern=r"^([0-9a-f]{64}|default)$")  # names shared/envs/<key>
    requirements: str = Field(default="requirements.txt", min_length=1)
    hooks: HooksConfig = HooksConfig()
    files: dict[str, FileEntry]

    @field_validator("requirements")
    @classmethod
    def _inside_app(cls, v: str) -> str:
        if v.startswith("/") or ".." in v.split("/") or "\\" in v:
            raise ValueError(f"must be a relative path inside app/, got {v!r}")
        return v


def _validated(model: type[BaseModel], data: Any, file: str) -> BaseModel:
    if not isinstance(data, dict):
        raise MetadataError(file, "", f"must be a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        raise MetadataError(file, key_path(first["loc"]) or "(top level)", describe(first)) from None


def parse_json(text: str | bytes, file: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise MetadataError(file, "", f"not valid JSON: {e}") from None


def checked_sidecar(data: Any, file: str) -> dict[str, Any]:
    _validated(Sidecar, data, file)
    return data


def checked_manifest(data: Any, file: str) -> dict[str, Any]:
    """The manifest as a dict (what the engine reads), once every key it reads is proven sound."""
    _validated(Manifest, data, file)
    return data


def manifest_hooks(manifest: dict[str, Any]) -> HooksConfig:
    return HooksConfig.model_validate(manifest.get("hooks") or {})
