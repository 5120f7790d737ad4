"""Desired rows of one table, from `sql/data/<table>.csv` (header row of column names; `\\N`
is NULL), `.json` (a list of objects) or `.sql` (INSERT statements, read by sqlglot), staged
into a temporary SQLite file keyed by the compare key so that a table of any size is looked
up in batches and never held in memory whole. A duplicate key is an error naming the file."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path
from decimal import Decimal
from itertools import islice
from typing import Any, Iterator

from deploy.db.data.values import BadValue, from_file, key_text
from deploy.db.errors import SqlFileError
from deploy.db.model import QName

SUFFIXES = (".csv", ".json", ".sql")


def data_file(data_dir: Path, table: QName, explicit: str | None = None) -> Path | None:
    """`file` from the config, else sql/data/<schema>.<table> or <table>, .csv | .json | .sql."""
    if explicit:
        return data_dir / explicit
    for name in ([f"{table.schema}.{table.name}"] if table.schema else []) + [table.name]:
        for suffix in SUFFIXES:
            if (data_dir / f"{name}{suffix}").is_file():
                return data_dir / f"{name}{suffix}"
    return None


def read_rows(path: Path, dialect: str) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """(line or statement number, {column: value}, values-are-CSV-text) in file order."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    raise SqlFileError(str(path), reader.line_num, "", "a row has a different number of fields than the header")
                yield reader.line_num, row, True
    elif path.suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise SqlFileError(str(path), 1, "", "expected a JSON list of objects (one per row)")
        for number, row in enumerate(rows, 1):
            yield number, row, False
    elif path.suffix == ".sql":
        yield from _insert_rows(path, dialect)
    else:
        raise SqlFileError(str(path), 0, "", f"data files are {', '.join(SUFFIXES)}")


def _insert_rows(path: Path, dialect: str) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """INSERT INTO t (cols) VALUES (...), (...): literals only (a data file, not a program)."""
    import sqlglot
    from sqlglot import exp

    from deploy.db.sqltext import split_statements

    for stmt in split_statements(path.read_text(encoding="utf-8-sig"), dialect):
        try:
            tree = sqlglot.parse_one(stmt.text, read=dialect if dialect != "postgres" else "postgres")
        except sqlglot.errors.ParseError as e:
            raise SqlFileError(str(path), stmt.line, stmt.text, f"not an INSERT statement sqlglot can read: {e}") from None
        if not isinstance(tree, exp.Insert) or not isinstance(tree.this, exp.Schema) or not isinstance(tree.expression, exp.Values):
            raise SqlFileError(str(path), stmt.line, stmt.text, "expected INSERT INTO table (columns) VALUES (...)")
        columns = [c.name for c in tree.this.expressions]
        for values in tree.expression.expressions:
            yield stmt.line, dict(zip(columns, (_literal(v, path, stmt) for v in values.expressions))), False


def _literal(node: Any, path: Path, stmt: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return "-" + node.this.this
    if isinstance(node, (exp.Literal, exp.National)):
        return node.this
    if isinstance(node, (exp.HexString, exp.ByteString)):
        return "0x" + node.this
    raise SqlFileError(str(path), stmt.line, stmt.text, f"only literal values belong in a data file, not {node.sql()}")


class Staged:
    """The desired rows in a temporary SQLite file: key -> row (JSON), plus a `seen` mark."""

    def __init__(self, columns: dict[str, str], key: tuple[str, ...]):
        self.db = sqlite3.connect("")  # a private temporary database: spilled to disk, removed on close
        self.db.execute("CREATE TABLE desired (k TEXT PRIMARY KEY, row TEXT NOT NULL, seen INTEGER NOT NULL DEFAULT 0)")
        self.columns, self.key = columns, key  # column name (lower) -> kind

    def load(self, path: Path, rows: Iterator[tuple[int, dict[str, Any], bool]], names: dict[str, str]) -> int:
        count = 0
        while chunk := list(islice(rows, 1000)):
            staged = []
            for number, row, csv_text in chunk:
                typed = self._typed(path, number, row, csv_text, names)
                staged.append((key_text(tuple(typed[k] for k in self.key)), _dump(typed), number))
            try:
                self.db.executemany("INSERT INTO desired (k, row) VALUES (?, ?)", [(k, r) for k, r, _ in staged])
            except sqlite3.IntegrityError:
                self.db.rollback()
                raise SqlFileError(str(path), _duplicate(self.db, staged), "", "duplicate key") from None
            count += len(chunk)
        self.db.commit()
        return count

    def _typed(self, path: Path, number: int, row: dict[str, Any], csv_text: bool, names: dict[str, str]) -> dict[str, Any]:
        out = {}
        for column, value in row.items():
            name = names.get(column.lower())
            if name is None:
                raise SqlFileError(str(path), number, "", f"column {column!r} is not in the table")
            try:
                out[name] = from_file(value, self.columns[name.lower()], csv_text)
            except BadValue as e:
                raise SqlFileError(str(path), number, "", f"column {column}: {e}") from None
        missing = [k for k in self.key if k not in out or out[k] is None]
        if missing:
            raise SqlFileError(str(path), number, "", f"the key column {missing[0]} has no value")
        return out

    def lookup(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        marks = ",".join("?" * len(keys))
        found = self.db.execute(f"SELECT k, row FROM desired WHERE k IN ({marks})", keys).fetchall()
        self.db.execute(f"UPDATE desired SET seen = 1 WHERE k IN ({marks})", keys)
        return {k: _load(row) for k, row in found}

    def unseen(self, batch: int) -> Iterator[dict[str, Any]]:
        """Desired rows no live row matched: the inserts, in key order, a batch at a time."""
        last = ""
        while True:
            page = self.db.execute("SELECT k, row FROM desired WHERE seen = 0 AND k > ? ORDER BY k LIMIT ?", (last, batch)).fetchall()
            if not page:
                return
            for k, row in page:
                yield _load(row)
            last = page[-1][0]

    def close(self) -> None:
        self.db.close()


def _duplicate(db: sqlite3.Connection, staged: list[tuple[str, str, int]]) -> int:
    """The line of the first row whose key was already given (for the error message)."""
    seen: set[str] = set()
    for k, _, number in staged:
        if k in seen or db.execute("SELECT 1 FROM desired WHERE k = ?", (k,)).fetchone():
            return number
        seen.add(k)
    return staged[0][2]


def _dump(row: dict[str, Any]) -> str:
    return json.dumps({k: _tag(v) for k, v in row.items()})


def _tag(value: Any) -> Any:
    """JSON keeps str/int/float/bool/None; other kinds travel tagged and come back typed."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, bytes):
        return {"$": "bytes", "v": value.hex()}
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    if isinstance(value, dt.datetime):
        return {"$": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$": "time", "v": value.isoformat()}
    return value


_BACK = {"bytes": bytes.fromhex, "decimal": Decimal, "datetime": dt.datetime.fromisoformat,
         "date": dt.date.fromisoformat, "time": dt.time.fromisoformat}


def _load(text: str) -> dict[str, Any]:
    return {k: _BACK[v["$"]](v["v"]) if isinstance(v, dict) else v for k, v in json.loads(text).items()}
