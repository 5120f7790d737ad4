"""What the contract model's verbs share: its error types and the release-id pattern."""

from __future__ import annotations

import re

RELEASE_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$")


class ModelError(Exception):
    """The script would have thrown this message: the model answers ok=false with it.
    It must be a message the script (or the library) can throw."""


class DotNetError(ModelError):
    """A .NET or cmdlet exception surfacing unchanged (its text is not the script's own)."""


class ContractBreach(AssertionError):
    """The model tried to answer what the script cannot: a bug in the model, never a result."""


def retry_failure(what: str, attempts: int, message: str) -> ModelError:
    """Invoke-WithRetry's final error (lib/Shipyard.ps1)."""
    return ModelError(f"{what} failed after {attempts} attempt(s): {message}")


IN_USE = "The process cannot access the file because it is being used by another process."
