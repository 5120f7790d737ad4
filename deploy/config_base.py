"""The base of every config model: unknown keys are errors, values are immutable, and types
are strict (`keep_releases = "5"` is an error, not 5; a whole number is still a float)."""

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
