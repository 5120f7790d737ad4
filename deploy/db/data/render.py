"""Row changes as SQL, per dialect: INSERT (many rows per statement), UPDATE of the changed
columns only, DELETE by key; on SQL Server SET IDENTITY_INSERT around explicit identity
values, or one MERGE per batch of inserts and updates where asked. Every value is a literal
built here with its quotes doubled (T-SQL text never spans lines: see tsql_script.literal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from deploy.db.model import QName

from deploy.db.data.live import quoter
from deploy.db.render.tsql_script import literal as tsql_literal
from deploy.errors import UsageError

ROWS_PER_STATEMENT = 100  # SQL Server allows at most 1000 rows in one VALUES list


class DataRenderer:
    def __init__(self, dialect: str):
        self.dialect = dialect
        self.q = quoter(dialect)

    def literal(self, value: Any, kind: str) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return ("TRUE" if value else "FALSE") if self.dialect == "postgres" else ("1" if value else "0")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, bytes):
            return {"postgres": f"'\\x{value.hex()}'::bytea", "sqlite": f"X'{value.hex()}'"}.get(self.dialect, f"0x{value.hex()}")
        if isinstance(value, (dt.date, dt.time)):
            return self._temporal(value, kind)
        return self.text(str(value))

    def text(self, value: str) -> str:
        if self.dialect == "tsql":
            return tsql_literal(value)
        if "\x00" in value:
            raise UsageError(f"{self.dialect}: a text value holds a NUL character, which the server cannot store")
        return "'" + value.replace("'", "''") + "'"

    def _temporal(self, value: Any, kind: str) -> str:
        zone = "+00:00" if kind == "timestamptz" else ""  # instants travel as UTC
        if self.dialect == "tsql":
            if isinstance(value, dt.datetime) and zone:
                return f"CAST(N'{value.isoformat(timespec='microseconds')}{zone}' AS datetimeoffset)"
            if isinstance(value, dt.datetime):
                return f"CAST(N'{value.isoformat(timespec='microseconds')}' AS datetime2)"
            if isinstance(value, dt.date):
                return f"CAST(N'{value.strftime('%Y%m%d')}' AS date)"  # YYYYMMDD reads the same in every language
            return f"CAST(N'{value.isoformat()}' AS time)"
        if self.dialect == "postgres":
            cast = {"timestamptz": "timestamptz", "timestamp": "timestamp", "date": "date", "time": "time"}.get(kind, "text")
            return f"'{value.isoformat()}{zone}'::{cast}"
        return "'" + (value.isoformat(sep=" ") + zone if isinstance(value, dt.datetime) else value.isoformat()) + "'"

    def where_key(self, key: dict[str, Any], kinds: dict[str, str]) -> str:
        return " AND ".join(f"{self.q.q(k)} = {self.literal(v, kinds[k])}" for k, v in key.items())

    def insert(self, table: QName, rows: list[dict[str, Any]], kinds: dict[str, str]) -> str:
        columns = list(rows[0])
        values = ",\n  ".join("(" + ", ".join(self.literal(r.get(c), kinds[c]) for c in columns) + ")" for r in rows)
        return f"INSERT INTO {self.q.qn(table)} ({', '.join(self.q.q(c) for c in columns)}) VALUES\n  {values}"

    def update(self, table: QName, key: dict[str, Any], values: dict[str, Any], kinds: dict[str, str]) -> str:
        sets = ", ".join(f"{self.q.q(c)} = {self.literal(v, kinds[c])}" for c, v in values.items())
        return f"UPDATE {self.q.qn(table)} SET {sets} WHERE {self.where_key(key, kinds)}"

    def delete(self, table: QName, keys: list[dict[str, Any]], kinds: dict[str, str]) -> str:
        if len(keys[0]) == 1:
            (name,) = keys[0]
            listed = ", ".join(self.literal(k[name], kinds[name]) for k in keys)
            return f"DELETE FROM {self.q.qn(table)} WHERE {self.q.q(name)} IN ({listed})"
        return f"DELETE FROM {self.q.qn(table)} WHERE " + " OR ".join(f"({self.where_key(k, kinds)})" for k in keys)

    def merge(self, table: QName, key: tuple[str, ...], rows: list[dict[str, Any]], kinds: dict[str, str]) -> str:
        """T-SQL (2008+): inserts and updates of one batch in one statement; deletes stay DELETEs."""
        columns = list(rows[0])
        values = ",\n  ".join("(" + ", ".join(self.literal(r.get(c), kinds[c]) for c in columns) + ")" for r in rows)
        names = ", ".join(self.q.q(c) for c in columns)
        on = " AND ".join(f"t.{self.q.q(k)} = s.{self.q.q(k)}" for k in key)
        sets = ", ".join(f"t.{self.q.q(c)} = s.{self.q.q(c)}" for c in columns if c not in key)
        matched = f"WHEN MATCHED THEN UPDATE SET {sets} " if sets else ""
        return (f"MERGE INTO {self.q.qn(table)} AS t USING (VALUES\n  {values}) AS s ({names}) ON {on} {matched}"
                f"WHEN NOT MATCHED BY TARGET THEN INSERT ({names}) VALUES ({', '.join(f's.{self.q.q(c)}' for c in columns)})")

    def identity_insert(self, table: QName, on: bool) -> str:
        return f"SET IDENTITY_INSERT {self.q.qn(table)} {'ON' if on else 'OFF'}"
