"""How a rollout splits its hosts: pure arithmetic on `rollout.batch` and `rollout.max_fail`."""

from __future__ import annotations

import math
from typing import Sequence, TypeVar

T = TypeVar("T")


def batch_size(batch: int | str, total: int) -> int:
    if isinstance(batch, int):
        return max(1, min(batch, total))
    return max(1, math.ceil(total * int(batch.rstrip("%")) / 100))


def make_batches(targets: Sequence[T], batch: int | str) -> list[list[T]]:
    size = batch_size(batch, len(targets))
    return [list(targets[i : i + size]) for i in range(0, len(targets), size)]


def tolerated_failures(max_fail: str, total: int) -> int:
    return math.floor(total * int(max_fail.rstrip("%")) / 100)
