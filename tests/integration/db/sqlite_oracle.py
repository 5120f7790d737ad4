"""A structural description of a SQLite database from the engine itself, for acceptance
tests: it shares no code with Shipyard. Python's own sqlite3 module reads PRAGMA table_list
(STRICT, WITHOUT ROWID), table_xinfo (columns, types, defaults, keys, generated kind),
index_list / index_xinfo (keys, order, collation, partial), foreign_key_list, and the
sqlite_schema text, of which only what no PRAGMA reports (CHECK constraints, generated
expressions, column collations, AUTOINCREMENT, view and trigger bodies) is compared, after
a tokenizer of its own has normalised spacing, keyword case and identifier quoting."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

_TOKEN = re.compile(r"""\s+|--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|\d+(?:\.\d+)?|\w+|\S""", re.S)


def tokens(sql: str) -> list[str]:
    """Significant tokens; quoted identifiers unquoted and lower-cased like bare words
    (SQLite's names are case-insensitive), string literals kept exactly."""
    out = []
    for tok in _TOKEN.findall(sql):
        if tok.isspace() or tok.startswith(("--", "/*")):
            continue
        if tok[0] in '"`[':
            inner = tok[1:-1]
            tok = inner.replace(tok[0] * 2, tok[0]) if tok[0] != "[" else inner
            out.append(tok.lower())
        elif tok[0] == "'":
            out.append(tok)
        else:
            out.append(tok.lower())
    return out


def _group(toks: list[str], i: int) -> tuple[list[str], int]:
    """The balanced parenthesised group starting at toks[i] == '(' (outer parens dropped)."""
    depth, j = 0, i
    while j < len(toks):
        depth += {"(": 1, ")": -1}.get(toks[j], 0)
        if depth == 0:
            return toks[i + 1:j], j + 1
        j += 1
    return toks[i + 1:], j


def _elements(body: list[str]) -> list[list[str]]:
    """Top-level comma-separated elements of a CREATE TABLE body."""
    out, cur, depth = [], [], 0
    for tok in body:
        if tok == "," and depth == 0:
            out.append(cur)
            cur = []
            continue
        depth += {"(": 1, ")": -1}.get(tok, 0)
        cur.append(tok)
    return out + ([cur] if cur else [])


def _strip_parens(toks: list[str]) -> str:
    while len(toks) > 2 and toks[0] == "(" and _group(toks, 0)[1] == len(toks):
        toks = toks[1:-1]
    return " ".join(toks)


def table_text_facts(sql: str) -> dict:
    """From CREATE TABLE text: checks (a set), each column's generated expression and kind,
    its COLLATE, and AUTOINCREMENT."""
    toks = tokens(sql)
    start = toks.index("(")
    body, _ = _group(toks, start)
    checks, columns = [], {}
    for element in _elements(body):
        is_constraint = element[0] in ("constraint", "primary", "unique", "check", "foreign")
        facts = {}
        i = 0
        while i < len(element):
            tok = element[i]
            if tok == "check" and i + 1 < len(element) and element[i + 1] == "(":
                group, i = _group(element, i + 1)
                name = element[element.index("constraint") + 1] if "constraint" in element[:i] else None
                checks.append((name if is_constraint else None, _strip_parens(group)))
                continue
            if tok == "as" and i + 1 < len(element) and element[i + 1] == "(" and not is_constraint:
                group, i = _group(element, i + 1)
                kind = element[i] if i < len(element) and element[i] in ("stored", "virtual") else "virtual"
                facts["generated"] = (_strip_parens(group), kind)
                continue
            if tok == "collate" and i + 1 < len(element):
                facts["collate"] = element[i + 1]
            i += 1
        if not is_constraint:
            name = element[0]
            columns[name[1:-1].replace("''", "'").lower() if name.startswith("'") else name] = facts
    return {"checks": sorted(checks, key=str), "columns": columns, "autoincrement": "autoincrement" in toks}


def _default(value: str | None) -> str | None:
    return None if value is None else _strip_parens(tokens(value))


def _type(value: str) -> str:
    return " ".join(tokens(value)).replace("( ", "(").replace(" )", ")").replace(" ,", ",")


def describe(path: Path | str) -> dict:
    conn = sqlite3.connect(str(path))
    try:
        return _describe(conn)
    finally:
        conn.close()


def _describe(conn: sqlite3.Connection) -> dict:
    q = lambda name: '"' + name.replace('"', '""') + '"'  # noqa: E731
    out: dict = {"tables": {}, "views": {}, "triggers": {}}
    listed = conn.execute("SELECT name, type, ncol, wr, strict FROM pragma_table_list WHERE schema = 'main' "
                          "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND type = 'table'").fetchall()
    sql_of = dict(conn.execute("SELECT lower(name), sql FROM sqlite_schema").fetchall())
    for name, _kind, ncol, without_rowid, strict in listed:
        columns = [(r[1].lower(), _type(r[2]), r[3], _default(r[4]), r[5], r[6])
                   for r in conn.execute(f"PRAGMA table_xinfo({q(name)})")]
        indexes = []
        for _seq, iname, unique, origin, partial in conn.execute(f"PRAGMA index_list({q(name)})"):
            keys = [(k[2].lower() if k[2] else k[1], k[3], (k[4] or "").lower())
                    for k in conn.execute(f"PRAGMA index_xinfo({q(iname)})") if k[5]]
            where = None
            if partial:
                text = tokens(sql_of[iname.lower()])
                where = " ".join(text[text.index("where") + 1:])
            indexes.append((iname.lower(), unique, origin, where, tuple(keys)))
        fks: dict = {}
        for row in conn.execute(f"PRAGMA foreign_key_list({q(name)})"):
            fk = fks.setdefault(row[0], {"table": row[2].lower(), "from": [], "to": [], "actions": row[5:8]})
            fk["from"].append(row[3].lower())
            fk["to"].append((row[4] or "").lower())
        out["tables"][name.lower()] = {
            "ncol": ncol, "without_rowid": without_rowid, "strict": strict, "columns": columns,
            "indexes": sorted(indexes, key=str), "foreign_keys": sorted((str(v) for v in fks.values())),
            "text": table_text_facts(sql_of[name.lower()]),
        }
    for kind, name, sql in conn.execute("SELECT type, lower(name), sql FROM sqlite_schema WHERE type IN ('view', 'trigger')"):
        out[f"{kind}s"][name] = " ".join(tokens(sql))
    return out


def load(path: Path | str, sql: str) -> None:
    """Build a database straight from DDL text with the engine's own script runner."""
    conn = sqlite3.connect(str(path))
    try:
        conn.executescript(sql)
    finally:
        conn.close()


def differences(a: dict, b: dict) -> list[str]:
    """What differs between two descriptions, one short line per object."""
    out = []
    for part in ("tables", "views", "triggers"):
        for name in sorted(set(a[part]) | set(b[part])):
            if a[part].get(name) != b[part].get(name):
                out.append(f"{part[:-1]} {name}: {_short(a[part].get(name), b[part].get(name))}")
    return out


def _short(x: object, y: object) -> str:
    if not isinstance(x, dict) or not isinstance(y, dict):
        return f"{str(x)[:120]} != {str(y)[:120]}"
    keys = [k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
    return "; ".join(f"{k}: {str(x.get(k))[:160]} != {str(y.get(k))[:160]}" for k in keys)
