"""The desired schema: every `.sql` file under `sql/schema`, in a stable (sorted path) order."""

from __future__ import annotations

from pathlib import Path

from deploy.db.ddl import read_statement
from deploy.db.errors import SqlFileError
from deploy.db.model import Schema
from deploy.db.sqltext import SqlSyntaxError, split_statements


def schema_files(directory: Path) -> list[Path]:
    return sorted((p for p in directory.rglob("*.sql") if p.is_file()), key=lambda p: p.relative_to(directory).as_posix())


def from_text(text: str, dialect: str, file: str = "<text>", into: Schema | None = None) -> Schema:
    schema = into if into is not None else Schema(dialect)
    try:
        statements = split_statements(text, dialect)
    except SqlSyntaxError as e:
        raise SqlFileError(file, e.line, "", str(e)) from None
    for stmt in statements:
        try:
            read_statement(schema, stmt.text, stmt.line)
        except SqlSyntaxError as e:
            raise SqlFileError(file, e.line, stmt.text, str(e)) from None
    return schema


def from_directory(directory: Path, dialect: str) -> Schema:
    """The `sql/schema` tree as a model; a bad statement names its file and line."""
    if not directory.is_dir():
        raise SqlFileError(str(directory), 0, "", "schema directory not found")
    schema = Schema(dialect)
    for path in schema_files(directory):
        from_text(path.read_text(encoding="utf-8-sig"), dialect, str(path), into=schema)
    return schema
