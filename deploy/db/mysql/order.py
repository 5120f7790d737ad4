"""The order of a MySQL script's table statements, from its foreign keys: a table a new key
points at is created (or altered to have the key) first; a key is dropped before the table
it points at is altered or dropped. When those constraints form a cycle, the foreign keys
are split out instead: all dropped first, all added last."""

from __future__ import annotations

from typing import Any

Node = tuple[str, tuple]


def order_nodes(nodes: list[Node], created: dict, dropped: dict, alters: dict) -> tuple[list[Node], bool]:
    """(nodes in a safe order, whether foreign keys must be split out of them)."""
    before = _edges(created, dropped, alters)
    placed: list[Node] = []
    pending = list(nodes)
    while pending:
        ready = next((n for n in pending if all(p in placed or p not in pending for p in before.get(n, ()))), None)
        if ready is None:
            return list(nodes), True
        placed.append(ready)
        pending.remove(ready)
    return placed, False


def _edges(created: dict, dropped: dict, alters: dict) -> dict[Node, set[Node]]:
    """For each node, the nodes that must run before it."""
    before: dict[Node, set[Node]] = {}

    def must(first: Node, then: Node) -> None:
        if first != then:
            before.setdefault(then, set()).add(first)

    for key, table in created.items():
        for target in {fk.ref_table.key for fk in table.foreign_keys}:
            _after_target(must, ("create", key), target, created, alters)
    for key, alter in alters.items():
        for target in alter.fk_targets_added:
            _after_target(must, ("alter", key), target, created, alters)
        for target in alter.fk_targets_dropped:
            _before_target(must, ("alter", key), target, dropped, alters)
    for key, table in dropped.items():
        for target in {fk.ref_table.key for fk in table.foreign_keys}:
            _before_target(must, ("drop", key), target, dropped, alters)
    return before


def _after_target(must: Any, node: Node, target: tuple, created: dict, alters: dict) -> None:
    if target in created:
        must(("create", target), node)
    if target in alters:
        must(("alter", target), node)


def _before_target(must: Any, node: Node, target: tuple, dropped: dict, alters: dict) -> None:
    if target in alters:
        must(node, ("alter", target))
    if target in dropped:
        must(node, ("drop", target))
