"""The CREATE TABLE grammar: columns with their options, and table constraints. Also used
by introspection, which hands over structured columns and constraint fragments."""

from __future__ import annotations

from deploy.db import normal
from deploy.db.cursor import Cursor
from deploy.db.model import Check, Column, ForeignKey, Index, IndexPart, Key, QName, Table
from deploy.db.sqltext import Token

COLUMN_CONSTRAINT_WORDS = {
    "CONSTRAINT", "NOT", "NULL", "PRIMARY", "UNIQUE", "DEFAULT", "CHECK", "REFERENCES", "IDENTITY",
    "GENERATED", "AS", "COLLATE", "AUTOINCREMENT", "ROWGUIDCOL", "SPARSE", "CLUSTERED", "NONCLUSTERED", "FOREIGN",
}
TABLE_CONSTRAINT_STARTS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


def table_from_parts(name: QName, columns: list[Column], constraints: list[str], dialect: str) -> Table:
    """A table from catalog rows: columns already structured, constraints as DDL fragments
    (`CONSTRAINT n PRIMARY KEY (a)`), read with the same grammar as a CREATE TABLE."""
    parts = TableParts()
    for text in constraints:
        table_constraint(Cursor(text, 1, dialect), parts)
    return parts.table(name, columns, dialect)


def create_table(cur: Cursor, indexes: list[Index] | None = None) -> Table:
    """The table; T-SQL's inline `INDEX name (...)` clauses (2014+) go to `indexes`."""
    if_not_exists(cur)
    name = cur.name()
    body_start = cur.peek().start if cur.peek() is not None else 0
    cur.expect("(")
    columns: list[Column] = []
    parts = TableParts()
    while True:
        tok = cur.peek()
        if tok is not None and tok.kind == "word" and tok.upper in TABLE_CONSTRAINT_STARTS:
            table_constraint(cur, parts)
        elif tok is not None and tok.kind == "word" and tok.upper == "INDEX" and cur.dialect == "tsql" and indexes is not None:
            indexes.append(_inline_index(cur, name))
        else:
            columns.append(column(cur, parts))
        if not cur.accept(","):
            break
    cur.expect(")")
    parts.options = _table_options(cur)
    table = parts.table(name, columns, cur.dialect)
    return normal.replace(table, source=cur.text[body_start:].strip()) if cur.dialect == "sqlite" else table


def _table_options(cur: Cursor) -> list[str]:
    """SQLite's `STRICT` and `WITHOUT ROWID`, in a fixed order (the order written is no
    difference). Other dialects' table options are not modelled here."""
    if cur.dialect != "sqlite":
        return []
    found = set()
    while cur.peek() is not None:
        if cur.accept("STRICT"):
            found.add("STRICT")
        elif cur.accept("WITHOUT", "ROWID"):
            found.add("WITHOUT ROWID")
        elif not cur.accept(","):
            cur.fail("expected STRICT or WITHOUT ROWID after the column list")
    return [o for o in ("STRICT", "WITHOUT ROWID") if o in found]


class TableParts:
    def __init__(self) -> None:
        self.primary_key: Key | None = None
        self.uniques: list[Key] = []
        self.checks: list[Check] = []
        self.foreign_keys: list[ForeignKey] = []
        self.options: list[str] = []

    def table(self, name: QName, columns: list[Column], dialect: str) -> Table:
        pk = set(c.lower() for c in self.primary_key.columns) if self.primary_key else set()
        fixed = tuple(normal.settle_column(c, c.name.lower() in pk, dialect) for c in columns)
        return Table(name, fixed, self.primary_key, tuple(self.uniques), tuple(self.checks), tuple(self.foreign_keys),
                     tuple(self.options))


def column(cur: Cursor, parts: TableParts) -> Column:
    name = cur.ident()
    raw_type = _type_text(cur)
    col = Column(name=name, type=raw_type)
    while (tok := cur.peek()) is not None and tok.text not in (",", ")"):
        col = _column_constraint(cur, col, parts)
    return col


def _type_text(cur: Cursor) -> str:
    words: list[Token] = []
    while (tok := cur.peek()) is not None and tok.text not in (",", ")"):
        if tok.kind == "word" and tok.upper in COLUMN_CONSTRAINT_WORDS:
            break
        if tok.text == "(":
            cur.next()
            args = cur.until_depth_zero(stop=set(), commas=True)
            cur.expect(")")
            words.append(Token("op", f"({args})", tok.line))
            continue
        words.append(cur.next())
    return " ".join(t.text for t in words).replace(" (", "(").replace(" [", "[")


def _column_constraint(cur: Cursor, col: Column, parts: TableParts) -> Column:
    cname = cur.ident() if cur.accept("CONSTRAINT") else None
    if cur.accept("NOT", "NULL"):
        return normal.replace(col, nullable=False)
    if cur.accept("NULL"):
        return normal.replace(col, nullable=True)
    if cur.accept("PRIMARY", "KEY"):
        skip_words(cur, "CLUSTERED", "NONCLUSTERED", "ASC", "DESC")
        parts.primary_key = Key(cname, (col.name,))
        _on_conflict(cur)
        return normal.replace(col, identity=True) if cur.accept("AUTOINCREMENT") else col
    if cur.accept("UNIQUE"):
        skip_words(cur, "CLUSTERED", "NONCLUSTERED")
        parts.uniques.append(Key(cname, (col.name,)))
        return col
    if cur.accept("DEFAULT"):
        return normal.replace(col, default=_default_expr(cur), default_name=cname)
    if cur.accept("CHECK"):
        parts.checks.append(Check(cname, cur.group()))
        return col
    if cur.accept("REFERENCES") or cur.accept("FOREIGN", "KEY", "REFERENCES"):
        parts.foreign_keys.append(_references(cur, cname, (col.name,)))
        return col
    if cur.accept("IDENTITY"):
        if cur.at("("):
            cur.group()
        return normal.replace(col, identity=True)
    if cur.accept("GENERATED"):
        return _generated(cur, col)
    if cur.accept("AS"):
        return _computed(cur, col)
    if cur.accept("COLLATE"):
        return normal.replace(col, collation=cur.next().text)
    if cur.accept("AUTOINCREMENT") or cur.accept("ROWGUIDCOL") or cur.accept("SPARSE"):
        return col
    cur.fail(f"unknown column option in {col.name}")
    return col


def _inline_index(cur: Cursor, table: QName) -> Index:
    """`INDEX name [UNIQUE] [CLUSTERED | NONCLUSTERED] [COLUMNSTORE] (cols) [INCLUDE (...)] [WHERE ...]`."""
    cur.expect("INDEX")
    name = cur.ident()
    unique = cur.accept("UNIQUE")
    clustered = cur.accept("CLUSTERED")
    cur.accept("NONCLUSTERED")
    columnstore = cur.accept("COLUMNSTORE")
    method = ("clustered columnstore" if clustered else "columnstore") if columnstore else ("clustered" if clustered else None)
    columns: list[IndexPart] = []
    if cur.accept("("):
        columns.append(index_part(cur))
        while cur.accept(","):
            columns.append(index_part(cur))
        cur.expect(")")
    if cur.accept("INCLUDE"):
        cur.ident_list()
    where = cur.until_depth_zero(stop={"WITH", "ON"}) if cur.accept("WHERE") else None
    while (tok := cur.peek()) is not None and tok.text not in (",", ")"):
        cur.next() if tok.text != "(" else cur.group()  # WITH (...) options, ON filegroup
    if where and where.startswith("(") and normal.wrapped(where):
        where = where[1:-1]
    return Index(name, table, tuple(columns), unique, where, method)


def skip_words(cur: Cursor, *words: str) -> None:
    while any(cur.accept(w) for w in words):
        pass


def _on_conflict(cur: Cursor) -> None:
    if cur.accept("ON", "CONFLICT"):
        cur.next()


def _default_expr(cur: Cursor) -> str:
    if cur.at("("):
        return cur.group()
    stop = COLUMN_CONSTRAINT_WORDS - {"NULL", "NOT"}
    return cur.until_depth_zero(stop=stop | {"NOT"})


def _generated(cur: Cursor, col: Column) -> Column:
    cur.accept("ALWAYS") or cur.accept("BY", "DEFAULT")
    cur.expect("AS")
    if cur.accept("IDENTITY"):
        if cur.at("("):
            cur.group()
        return normal.replace(col, identity=True)
    return _computed(cur, col)


def _computed(cur: Cursor, col: Column) -> Column:
    """`AS (expr) [STORED | VIRTUAL]`; T-SQL's PERSISTED is read but not modelled (its
    introspection does not report it)."""
    computed = cur.group()
    stored = cur.accept("STORED")
    cur.accept("PERSISTED") or cur.accept("VIRTUAL")
    return normal.replace(col, computed=computed, stored=stored)


def _references(cur: Cursor, cname: str | None, columns: tuple[str, ...]) -> ForeignKey:
    target = cur.name()
    ref_cols = cur.ident_list() if cur.at("(") else columns
    on_delete, on_update = referential_actions(cur)
    skip_words(cur, "DEFERRABLE", "NOT", "INITIALLY", "DEFERRED", "IMMEDIATE")
    return ForeignKey(cname, columns, target, ref_cols, on_delete, on_update)


def referential_actions(cur: Cursor) -> tuple[str | None, str | None]:
    """`ON DELETE x ON UPDATE y` (either, both, any order): (on delete, on update), NO ACTION as None."""
    actions: dict[str, str] = {}
    while cur.accept("ON"):
        which = cur.next().upper
        action = [cur.next().upper]
        if action[0] in ("SET", "NO"):
            action.append(cur.next().upper)
        actions[which] = " ".join(action)
    return normal.fk_action(actions.get("DELETE")), normal.fk_action(actions.get("UPDATE"))


def table_constraint(cur: Cursor, parts: TableParts) -> None:
    cname = cur.ident() if cur.accept("CONSTRAINT") else None
    if cur.accept("PRIMARY", "KEY"):
        skip_words(cur, "CLUSTERED", "NONCLUSTERED")
        parts.primary_key = Key(cname, _key_columns(cur))
    elif cur.accept("UNIQUE"):
        skip_words(cur, "CLUSTERED", "NONCLUSTERED", "KEY")
        parts.uniques.append(Key(cname, _key_columns(cur)))
    elif cur.accept("CHECK"):
        parts.checks.append(Check(cname, cur.group()))
    elif cur.accept("FOREIGN", "KEY"):
        columns = cur.ident_list()
        cur.expect("REFERENCES")
        parts.foreign_keys.append(_references(cur, cname, columns))
    else:
        cur.fail("expected PRIMARY KEY, UNIQUE, CHECK or FOREIGN KEY")
    _on_conflict(cur)


def _key_columns(cur: Cursor) -> tuple[str, ...]:
    """Key columns; ASC/DESC after a key column does not change what the key is."""
    cur.expect("(")
    names = []
    while True:
        names.append(cur.ident())
        skip_words(cur, "ASC", "DESC")
        if not cur.accept(","):
            break
    cur.expect(")")
    return tuple(names)


def index_part(cur: Cursor) -> IndexPart:
    """One key of an index: a lone name (quoted or not, maybe ASC/DESC) is a column, anything
    else (an expression, NULLS LAST, an operator class, COLLATE) is kept as text."""
    start = cur.pos
    tok = cur.peek()
    if tok is not None and tok.kind in ("word", "qident"):
        name = cur.ident()
        descending = _order(cur)
        if cur.peek() is None or cur.peek().text in (",", ")"):
            return IndexPart(column=name, descending=descending)
        cur.pos = start
    tokens_from = cur.pos
    text = cur.until_depth_zero(stop=set())
    last = cur.tokens[cur.pos - 1] if cur.pos > tokens_from else None
    descending = last is not None and last.kind == "word" and last.upper == "DESC"
    if last is not None and last.kind == "word" and last.upper in ("ASC", "DESC"):
        text = text[: text.rstrip().rfind(" ")].rstrip()
    return IndexPart(expression=text, descending=descending)


def _order(cur: Cursor) -> bool:
    if cur.accept("DESC"):
        return True
    cur.accept("ASC")
    return False


def index_part_from_text(text: str, dialect: str) -> IndexPart:
    """An index key as a catalog prints it (pg_get_indexdef's per-column form)."""
    return index_part(Cursor(text, 1, dialect))


def if_not_exists(cur: Cursor) -> None:
    cur.accept("IF", "NOT", "EXISTS")
