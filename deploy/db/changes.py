"""The changes inside one table that exists on both sides: columns, keys, checks, FKs."""

from __future__ import annotations

import re
from typing import Any

from deploy.db.model import Check, Column, ForeignKey, Index, IndexPart, Key, QName, Table
from deploy.db.mysql.types import mysql_widening
from deploy.db.normal import expr_key
from deploy.db.plan import Change
from deploy.db.widening import widening  # noqa: F401 (re-exported)


def table_changes(cur: Table, des: Table, dialect: str) -> list[Change]:
    out = _column_changes(cur, des, dialect)
    if cur.options != des.options:
        out.append(Change("alter_table", str(des.name), old=cur.options, new=des.options, table=des.name))
    if cur.partition != des.partition:
        out.append(Change("alter_partition", str(des.name), old=cur.partition, new=des.partition, table=des.name))
    if dialect in POSITIONAL and _order(cur, des) != _order(des, cur):
        out.append(Change("reorder_columns", str(des.name), old=_order(cur, des), new=_order(des, cur), table=des.name))
    out += _key_changes(cur, des, dialect)
    out += _check_changes(cur, des, dialect)
    out += _fk_changes(cur, des)
    return out


POSITIONAL = {"sqlite", "mysql"}  # dialects whose column order is part of the table (SELECT *, the catalog)


def _order(table: Table, other: Table) -> tuple[str, ...]:
    """The columns both tables have, in `table`'s order."""
    return tuple(c.name.lower() for c in table.columns if other.column(c.name) is not None)


def _column_changes(cur: Table, des: Table, dialect: str) -> list[Change]:
    out = []
    for col in des.columns:
        old = cur.column(col.name)
        if old is None:
            tightening = not col.nullable and col.default is None and not col.identity and col.computed is None
            out.append(Change("add_column", f"{des.name}.{col.name}", new=col, table=des.name, contract=tightening))
        elif not columns_equal(old, col, dialect):
            narrowing = _narrowing(old, col, dialect)
            contract = narrowing or (old.nullable and not col.nullable)
            out.append(Change("alter_column", f"{des.name}.{col.name}", old=old, new=col, table=des.name,
                               destructive=narrowing, contract=contract))
    for col in cur.columns:
        if des.column(col.name) is None:
            out.append(Change("drop_column", f"{cur.name}.{col.name}", old=col, table=cur.name, destructive=True, contract=True))
    return out


def _narrowing(old: Column, new: Column, dialect: str) -> bool:
    if dialect == "mysql":
        return not mysql_widening(old, new)
    return not widening(old.type, new.type) and old.type != new.type


def columns_equal(a: Column, b: Column, dialect: str) -> bool:
    if dialect == "mysql":  # the server's text of both sides: equal text is an equal column
        return (a.name, a.type, a.source, a.charset, a.collation) == (b.name, b.type, b.source, b.charset, b.collation)
    return (
        a.type == b.type and a.nullable == b.nullable and a.identity == b.identity
        and expr_key(a.default, dialect) == expr_key(b.default, dialect)
        and expr_key(a.computed, dialect) == expr_key(b.computed, dialect) and a.stored == b.stored
        and (b.collation is None or (a.collation or "").lower() == b.collation.lower())
    )


def _same_key(a: Key, b: Key) -> bool:
    if a.source is not None and b.source is not None:
        return a.source == b.source  # MySQL: the server's text of both
    named = b.name is None or a.name is None or a.name.lower() == b.name.lower()
    return named and [c.lower() for c in a.columns] == [c.lower() for c in b.columns]


def _key_changes(cur: Table, des: Table, dialect: str) -> list[Change]:
    out = []
    if cur.primary_key and not (des.primary_key and _same_key(cur.primary_key, des.primary_key)):
        out.append(Change("drop_constraint", f"{cur.name}.primary key", old=cur.primary_key, table=cur.name, contract=True))
    if des.primary_key and not (cur.primary_key and _same_key(cur.primary_key, des.primary_key)):
        out.append(Change("add_constraint", f"{des.name}.primary key", new=des.primary_key, table=des.name))
    out += _set_changes(cur.uniques, des.uniques, _same_key, cur.name, "unique")
    return out


def _check_changes(cur: Table, des: Table, dialect: str) -> list[Change]:
    def same(a: Check, b: Check) -> bool:
        if dialect == "mysql":  # the server's names and text on both sides: exact
            return (a.name, expr_key(a.expression, dialect)) == (b.name, expr_key(b.expression, dialect))
        named = b.name is None or a.name is None or a.name.lower() == b.name.lower()
        return named and expr_key(a.expression, dialect) == expr_key(b.expression, dialect)

    return _set_changes(cur.checks, des.checks, same, cur.name, "check")


def same_fk(a: ForeignKey, b: ForeignKey) -> bool:
    named = b.name is None or a.name is None or a.name.lower() == b.name.lower()
    lower = lambda xs: [x.lower() for x in xs]  # noqa: E731
    return (named and lower(a.columns) == lower(b.columns) and a.ref_table.key == b.ref_table.key
            and lower(a.ref_columns) == lower(b.ref_columns) and a.on_delete == b.on_delete and a.on_update == b.on_update)


def _fk_changes(cur: Table, des: Table) -> list[Change]:
    out = []
    for fk in cur.foreign_keys:
        if not any(same_fk(fk, d) for d in des.foreign_keys):
            out.append(Change("drop_foreign_key", f"{cur.name}.{fk.name or '+'.join(fk.columns)}", old=fk, table=cur.name))
    for fk in des.foreign_keys:
        if not any(same_fk(c, fk) for c in cur.foreign_keys):
            out.append(Change("add_foreign_key", f"{des.name}.{fk.name or '+'.join(fk.columns)}", new=fk, table=des.name))
    return out


def _set_changes(cur: tuple, des: tuple, same: Any, table: QName, what: str) -> list[Change]:
    out = []
    for c in cur:
        if not any(same(c, d) for d in des):
            out.append(Change("drop_constraint", f"{table}.{what} {c.name or ''}".strip(), old=c, table=table))
    for d in des:
        if not any(same(c, d) for c in cur):
            out.append(Change("add_constraint", f"{table}.{what} {d.name or ''}".strip(), new=d, table=table))
    return out


def index_equal(a: Index, b: Index, dialect: str) -> bool:
    if dialect == "mysql" and a.source is not None and b.source is not None:
        return a.source == b.source
    return (a.unique == b.unique and a.method == b.method and len(a.columns) == len(b.columns)
            and all(part_equal(x, y, dialect) for x, y in zip(a.columns, b.columns))
            and expr_key(a.where, dialect) == expr_key(b.where, dialect))


def part_equal(a: IndexPart, b: IndexPart, dialect: str) -> bool:
    return (a.descending == b.descending and (a.column or "").lower() == (b.column or "").lower()
            and expr_key(a.expression, dialect) == expr_key(b.expression, dialect))
