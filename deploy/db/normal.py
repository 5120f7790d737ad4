"""Normal forms, so that equal things compare equal: type names per dialect, the
implications of keys and identities, and expression keys (parentheses and literal
casts that PostgreSQL and SQL Server add on their own are not differences)."""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from deploy.db.model import Column
from deploy.db.sqltext import normalise

__all__ = ["replace", "type_name", "settle_column", "fk_action", "wrapped", "expr_key"]

_PG_TYPES = {
    "int": "integer", "int4": "integer", "integer": "integer", "serial": "integer", "serial4": "integer",
    "int8": "bigint", "bigserial": "bigint", "serial8": "bigint", "int2": "smallint", "smallserial": "smallint",
    "bool": "boolean", "float8": "double precision", "float": "double precision", "float4": "real",
    "character varying": "varchar", "character": "char", "decimal": "numeric",
    "timestamp without time zone": "timestamp", "timestamptz": "timestamp with time zone",
    "time without time zone": "time", "timetz": "time with time zone",
}
_PG_SERIAL = {"serial", "serial4", "serial8", "bigserial", "smallserial"}
_TSQL_DEFAULT_ARGS = {("datetime2", "(7)"), ("time", "(7)"), ("datetimeoffset", "(7)"), ("float", "(53)")}
_TSQL_TYPES = {"integer": "int", "dec": "decimal", "character varying": "varchar", "national character varying": "nvarchar",
               "rowversion": "timestamp", "double precision": "float"}


def type_name(raw: str, dialect: str) -> tuple[str, bool]:
    """(normal type, whether the type itself implies an identity column)."""
    if dialect == "mysql":
        return raw.strip(), False  # the MySQL reader has normalised it (string literals keep their case)
    text = re.sub(r"\s+", " ", raw.strip().lower())
    text = re.sub(r"\s*\(\s*", "(", re.sub(r"\s*,\s*", ",", re.sub(r"\s*\)", ")", text)))
    if dialect == "sqlite":
        return text, False
    base, args = (text.split("(", 1) + [""])[:2]
    base, args = base.strip(), f"({args}" if args else ""
    suffix = ""
    if ")" in args and not args.endswith(")"):
        args, suffix = args[: args.index(")") + 1], args[args.index(")") + 1:]
    if dialect == "postgres":
        mapped = _PG_TYPES.get(base, base)
        mapped = _PG_TYPES.get(f"{mapped}{suffix}".strip(), f"{mapped}{suffix}".strip()) if suffix else mapped
        if mapped in ("timestamp with time zone", "time with time zone") and args:
            return f"{mapped.split(' ')[0]}{args} with time zone", False
        return f"{mapped}{args}" if not suffix else f"{mapped}{args}", base in _PG_SERIAL
    if (base, args) in _TSQL_DEFAULT_ARGS:
        args = ""  # datetime2(7) is datetime2, float(53) is float: the server reports the default
    return f"{_TSQL_TYPES.get(base, base)}{args}{suffix}", False


def settle_column(col: Column, in_primary_key: bool, dialect: str) -> Column:
    """Apply what a declaration implies: serial is an identity, keys and identities are NOT NULL."""
    typ, serial = type_name(col.type, dialect)
    identity = col.identity or serial
    nullable = col.nullable and not (dialect != "sqlite" and (in_primary_key or identity))
    default = col.default
    if dialect == "postgres" and default and default.lower().startswith("nextval("):
        identity, default = True, None  # a serial's sequence default is its identity
    return replace(col, type=typ, identity=identity, nullable=nullable, default=default)


def fk_action(action: str | None) -> str | None:
    return None if action in (None, "NO ACTION") else action


def wrapped(text: str) -> bool:
    """Whether the outer parentheses of `text` enclose all of it."""
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return text.startswith("(") and depth == 0


_PLAIN_LITERAL = re.compile(r"-?\d+(\.\d+)?|'[^']*'")
_SQLGLOT_DIALECT = {"postgres": "postgres", "sqlite": "sqlite", "tsql": "tsql"}


@functools.lru_cache(maxsize=4096)
def expr_key(text: str | None, dialect: str) -> str | None:
    """The comparison form of a default, check, index predicate or computed column."""
    if text is None:
        return None
    if _PLAIN_LITERAL.fullmatch(text.strip()):
        return text.strip()  # nothing a server could add or a parser could normalise
    if dialect == "mysql":
        return normalise(text, "mysql")  # both sides are the server's own rendering
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read=_SQLGLOT_DIALECT[dialect])
    except Exception:  # noqa: BLE001 - an expression sqlglot cannot read compares as text
        return normalise(text)

    def simplify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Identifier) and node.quoted:
            return exp.Identifier(this=node.this, quoted=False)  # [price] and price are one column
        if isinstance(node, exp.Paren):
            return node.this
        if isinstance(node, exp.Cast) and isinstance(node.this, (exp.Literal, exp.Paren, exp.Null, exp.Boolean)):
            return node.this
        return _in_list(node, exp)

    for _ in range(5):
        tree = tree.transform(simplify)
    return tree.sql(dialect=_SQLGLOT_DIALECT[dialect], normalize=True, identify=False)


def _in_list(node, exp):  # noqa: ANN001, ANN202 - sqlglot types imported lazily
    """PostgreSQL stores `x IN (1, 2)` as `x = ANY (ARRAY[1, 2])` and NOT IN as `<> ALL (...)`."""
    if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any):
        inner = node.expression.this
        inner = inner.this if isinstance(inner, exp.Paren) else inner
        if isinstance(inner, exp.Array):
            return exp.In(this=node.this, expressions=inner.expressions)
    if isinstance(node, exp.NEQ) and isinstance(node.expression, exp.Anonymous) and str(node.expression.this).upper() == "ALL":
        args = node.expression.expressions
        if len(args) == 1 and isinstance(args[0], exp.Array):
            return exp.Not(this=exp.In(this=node.this, expressions=args[0].expressions))
    return node
