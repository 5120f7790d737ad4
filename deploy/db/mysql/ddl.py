"""MySQL's CREATE TABLE, read into the generic model. The same reader serves SHOW CREATE TABLE
(the server's canonical text, what both sides of a compare are read from) and `sql/` files
read offline. Each column, index and table option also keeps its text as written (`source`,
`options`, `partition`): on the server's canonical text, equal text is an equal object, and
that text is what an ALTER re-states."""

from __future__ import annotations

from dataclasses import replace

from deploy.db.cursor import Cursor
from deploy.db.ddl_table import TableParts, if_not_exists, referential_actions, skip_words
from deploy.db.model import Check, Column, ForeignKey, Index, IndexPart, Key, QName, Table

# words that end a column's type and start its attributes
ATTRIBUTES = {
    "CHARACTER", "CHARSET", "COLLATE", "NOT", "NULL", "DEFAULT", "AUTO_INCREMENT", "ON", "COMMENT", "INVISIBLE",
    "VISIBLE", "PRIMARY", "UNIQUE", "KEY", "CHECK", "REFERENCES", "GENERATED", "AS", "COLUMN_FORMAT", "STORAGE",
    "SRID", "CONSTRAINT", "WITH", "WITHOUT", "COMPRESSED", "PERSISTENT", "STORED", "VIRTUAL", "SERIAL",
}
INDEX_WORDS = {"KEY", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "VECTOR", "PRIMARY", "FOREIGN", "CHECK", "CONSTRAINT"}
_OPTION_NAMES = {"CHARACTER SET": "DEFAULT CHARSET", "CHARSET": "DEFAULT CHARSET", "DEFAULT CHARACTER SET": "DEFAULT CHARSET",
                 "DEFAULT COLLATE": "COLLATE"}
COUNTERS = {"AUTO_INCREMENT"}  # table options that are state, not schema
SYSTEM_VERSIONING = "WITH SYSTEM VERSIONING"  # MariaDB: a table option without a value


class MysqlTable:
    """What one CREATE TABLE declares: the table and the indexes that live in it."""

    def __init__(self, table: Table, indexes: list[Index]):
        self.table, self.indexes = table, indexes


def create_table(cur: Cursor) -> MysqlTable:
    if_not_exists(cur)
    name = cur.name()
    cur.expect("(")
    parts, columns, indexes = TableParts(), [], []
    while True:
        table_item(cur, name, parts, columns, indexes)
        if not cur.accept(","):
            break
    cur.expect(")")
    options, partition = table_options(cur)
    parts.options = options
    table = parts.table(name, columns, "mysql")
    return MysqlTable(replace(table, partition=partition), indexes)


def text_of(cur: Cursor, start: int, end: int) -> str:
    """The original text of tokens[start:end], what lies between two tokens (whitespace,
    comments) folded to one space; the tokens themselves are kept exactly, so a quoted name
    or string with a run of spaces in it (`a  a`, 'x  y') stays the name or value it was."""
    parts: list[str] = []
    previous_end = None
    for tok in cur.tokens[start:end]:
        if previous_end is not None and tok.start > previous_end:
            parts.append(" ")
        parts.append(tok.text)
        previous_end = tok.start + len(tok.text)
    return "".join(parts)


def table_item(cur: Cursor, table: QName, parts: TableParts, columns: list[Column], indexes: list[Index]) -> None:
    """One item of a table body (or of ALTER TABLE ... ADD). An index or constraint starts
    with a reserved word (so never a bare column name); VECTOR is not reserved: `vector
    VECTOR(3)` is a column, `VECTOR INDEX v (c)` an index. An index keeps its text."""
    tok, second = cur.peek(), cur.peek(1)
    word = tok.upper if tok is not None and tok.kind == "word" else ""
    if word in INDEX_WORDS and (word != "VECTOR" or (second is not None and second.upper in ("KEY", "INDEX"))):
        start, before = cur.pos, len(indexes)
        _constraint_or_index(cur, table, parts, indexes)
        if len(indexes) > before:
            indexes[-1] = replace(indexes[-1], source=text_of(cur, start, cur.pos))
    else:
        columns.append(column(cur, parts, table, indexes))


def column(cur: Cursor, parts: TableParts, table: QName, indexes: list[Index]) -> Column:
    name = cur.ident()
    type_start = cur.pos
    while (tok := cur.peek()) is not None and tok.text not in (",", ")") and not (tok.kind == "word" and tok.upper in ATTRIBUTES):
        if tok.text == "(":
            cur.group()
        else:
            cur.next()
    col = Column(name, _type(cur, type_start))
    kept: list[str] = []  # the attributes' text, without CHARACTER SET / COLLATE (compared apart)
    while (tok := cur.peek()) is not None and tok.text not in (",", ")"):
        before = cur.pos
        col = _attribute(cur, col, parts, table, indexes)
        if cur.tokens[before].upper not in ("CHARACTER", "CHARSET", "COLLATE"):
            kept.append(text_of(cur, before, cur.pos))
    return replace(col, source=" ".join(kept))


def _type(cur: Cursor, start: int) -> str:
    """The type as written, bare words lower-cased (`INT(11) UNSIGNED` is `int(11) unsigned`)."""
    out = ""
    for i in range(start, cur.pos):
        tok = cur.tokens[i]
        text = tok.text.lower() if tok.kind == "word" else tok.text
        glue = out and not (text in ("(", ")", ",") or out.endswith(("(", ",")))
        out += (" " if glue else "") + text
    return out


def _attribute(cur: Cursor, col: Column, parts: TableParts, table: QName, indexes: list[Index]) -> Column:
    if cur.accept("CHARACTER", "SET") or cur.accept("CHARSET"):
        return replace(col, charset=cur.next().text.strip("`'\"").lower())
    if cur.accept("COLLATE"):
        return replace(col, collation=cur.next().text.strip("`'\"").lower())
    if cur.accept("NOT", "NULL"):
        return replace(col, nullable=False)
    if cur.accept("NULL"):
        return replace(col, nullable=True)
    if cur.accept("DEFAULT"):
        return replace(col, default=_default(cur))
    if cur.accept("AUTO_INCREMENT"):
        return replace(col, identity=True)
    if cur.accept("ON", "UPDATE"):
        _default(cur)
        return col
    if cur.accept("GENERATED", "ALWAYS", "AS") or cur.accept("AS"):
        computed = cur.group()
        stored = cur.accept("STORED") or cur.accept("PERSISTENT")
        cur.accept("VIRTUAL")
        return replace(col, computed=computed, stored=stored)
    if cur.accept("PRIMARY", "KEY") or cur.accept("KEY"):
        parts.primary_key = Key(None, (col.name,))
        return col
    if cur.accept("UNIQUE"):
        cur.accept("KEY")
        indexes.append(Index(col.name, table, (IndexPart(column=col.name),), unique=True,
                             source=f"UNIQUE KEY `{col.name.replace('`', '``')}` (`{col.name.replace('`', '``')}`)"))
        return col
    if cur.accept("REFERENCES"):
        _references(cur, None, (col.name,))  # MySQL parses and ignores a column-level REFERENCES
        return col
    if cur.accept("CHECK"):
        cur.group()  # MariaDB keeps a column CHECK with the column: it is part of the column's text
        return col
    if cur.accept("CONSTRAINT"):
        if cur.peek() is not None and cur.peek().upper != "CHECK":
            cur.ident()
        return col
    cur.next()  # COMMENT 'x', INVISIBLE, COLUMN_FORMAT x, SRID n...: kept in the column's text only
    return col


def _default(cur: Cursor) -> str:
    if cur.at("("):
        start = cur.pos
        cur.group()
        return text_of(cur, start, cur.pos)
    start = cur.pos
    cur.accept("-") or cur.accept("+")
    tok = cur.next()
    if tok.kind == "word" and cur.at("("):
        cur.group()  # current_timestamp(), now(6)
    elif tok.kind == "word" and cur.peek() is not None and cur.peek().kind == "str":
        cur.next()  # _utf8mb4'x', b'0101', x'ff' 
    return text_of(cur, start, cur.pos)


def _constraint_or_index(cur: Cursor, table: QName, parts: TableParts, indexes: list[Index]) -> None:
    name = None
    if cur.accept("CONSTRAINT"):
        if cur.peek() is not None and cur.peek().upper not in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK"):
            name = cur.ident()
    if cur.accept("PRIMARY", "KEY"):
        start = cur.pos - 2
        _using(cur)
        columns = tuple(p.column or "" for p in index_parts(cur))
        _index_options(cur)
        parts.primary_key = Key(name, columns, text_of(cur, start, cur.pos))
    elif cur.accept("FOREIGN", "KEY"):
        if not cur.at("("):
            name = name or cur.ident()
        columns = tuple(p.column or "" for p in index_parts(cur))
        cur.expect("REFERENCES")
        parts.foreign_keys.append(_references(cur, name, columns))
    elif cur.accept("CHECK"):
        parts.checks.append(Check(name, cur.group()))
        cur.accept("NOT", "ENFORCED") or cur.accept("ENFORCED")
    else:
        indexes.append(_index(cur, table, name))


def _index(cur: Cursor, table: QName, name: str | None) -> Index:
    method = None
    unique = cur.accept("UNIQUE")
    for kind in ("FULLTEXT", "SPATIAL", "VECTOR"):
        if cur.accept(kind):
            method = kind.lower()
    cur.accept("KEY") or cur.accept("INDEX")
    if cur.peek() is not None and cur.peek().text != "(" and cur.peek().upper != "USING":
        name = cur.ident()
    _using(cur)
    parts = index_parts(cur)
    _index_options(cur)
    return Index(name or (parts[0].column or "idx"), table, parts, unique, None, method)


def _using(cur: Cursor) -> None:
    if cur.accept("USING"):
        cur.next()


def index_parts(cur: Cursor) -> tuple[IndexPart, ...]:
    """`(a(10) DESC, (lower(b)))`: columns with prefix lengths, or expressions."""
    cur.expect("(")
    out = []
    while True:
        if cur.at("("):
            start = cur.pos
            cur.group()
            part = IndexPart(expression=text_of(cur, start, cur.pos))
        else:
            name = cur.ident()
            length = int(cur.group()) if cur.at("(") else None
            part = IndexPart(column=name, length=length)
        if cur.accept("DESC"):
            part = replace(part, descending=True)
        cur.accept("ASC")
        out.append(part)
        if not cur.accept(","):
            break
    cur.expect(")")
    return tuple(out)


def _index_options(cur: Cursor) -> None:
    while (tok := cur.peek()) is not None and tok.text not in (",", ")"):
        cur.next()


def _references(cur: Cursor, name: str | None, columns: tuple[str, ...]) -> ForeignKey:
    target = cur.name()
    ref_cols = tuple(p.column or "" for p in index_parts(cur)) if cur.at("(") else columns
    skip_words(cur, "MATCH", "FULL", "PARTIAL", "SIMPLE")
    return ForeignKey(name, columns, target, ref_cols, *referential_actions(cur))


def table_options(cur: Cursor) -> tuple[list[str], str | None]:
    """`ENGINE=InnoDB DEFAULT CHARSET=x COMMENT='y'` as `NAME=value` texts (AUTO_INCREMENT, a
    counter, left out), and the PARTITION BY clause as text."""
    options: list[str] = []
    while cur.peek() is not None:
        if cur.at("PARTITION", "BY"):
            return options, text_of(cur, cur.pos, len(cur.tokens))
        if cur.accept(","):
            continue
        if cur.accept("WITH", "SYSTEM", "VERSIONING"):
            options.append(SYSTEM_VERSIONING)
            continue
        name = _option_name(cur)
        cur.accept("=")
        start = cur.pos
        cur.group() if cur.at("(") else cur.next()
        if name not in COUNTERS:
            options.append(f"{name}={text_of(cur, start, cur.pos)}")
    return options, None


def _option_name(cur: Cursor) -> str:
    default = "DEFAULT " if cur.accept("DEFAULT") else ""
    if cur.accept("CHARACTER", "SET"):
        name = "CHARACTER SET"
    else:
        tok = cur.next()
        name = tok.text.upper() if tok.kind == "word" else tok.text
    return _OPTION_NAMES.get(default + name, default + name)
