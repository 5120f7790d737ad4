"""Read one DDL statement into the model: CREATE TABLE / INDEX / SCHEMA / SEQUENCE,
ALTER TABLE ... ADD, and programmable objects (kept whole, as text).

The same reader serves the `sql/` tree and introspection (SQLite's own CREATE text,
PostgreSQL's pg_get_indexdef / pg_get_constraintdef), so both sides normalise alike."""

from __future__ import annotations

from deploy.db import normal
from deploy.db.model import Check, Column, ForeignKey, Index, Key, Routine, Schema, Sequence, Table, qualify
from deploy.db.sqltext import PROGRAMMABLE, SqlSyntaxError, Token, significant, tokenize, unquote

COLUMN_CONSTRAINT_WORDS = {
    "CONSTRAINT", "NOT", "NULL", "PRIMARY", "UNIQUE", "DEFAULT", "CHECK", "REFERENCES", "IDENTITY",
    "GENERATED", "AS", "COLLATE", "AUTOINCREMENT", "ROWGUIDCOL", "SPARSE", "CLUSTERED", "NONCLUSTERED", "FOREIGN",
}
TABLE_CONSTRAINT_STARTS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


class Cursor:
    """A position in the significant tokens of one statement."""

    def __init__(self, text: str, line: int, dialect: str):
        self.tokens = significant(tokenize(text, line))
        self.pos = 0
        self.dialect = dialect

    def peek(self, ahead: int = 0) -> Token | None:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def at(self, *words: str) -> bool:
        for i, w in enumerate(words):
            tok = self.peek(i)
            if tok is None or tok.upper != w:
                return False
        return True

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            self.fail(f"expected {' '.join(words)}")

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            self.fail("unexpected end of statement")
        self.pos += 1
        return tok

    def fail(self, message: str) -> None:
        tok = self.peek()
        line = tok.line if tok else (self.tokens[-1].line if self.tokens else 1)
        near = f" near {tok.text!r}" if tok else ""
        raise SqlSyntaxError(f"{message}{near}", line)

    def ident(self) -> str:
        tok = self.next()
        if tok.kind == "qident":
            return unquote(tok.text)
        if tok.kind == "str" and self.dialect == "sqlite":
            return unquote(tok.text)
        if tok.kind != "word":
            self.pos -= 1
            self.fail("expected a name")
        return tok.text.lower() if self.dialect == "postgres" else tok.text

    def qualified(self) -> tuple[str | None, str]:
        parts = [self.ident()]
        while self.peek() and self.peek().text == ".":
            self.pos += 1
            parts.append(self.ident())
        if len(parts) > 2:
            parts = parts[-2:]  # database.schema.name: the database is the connection's
        return (parts[0] if len(parts) == 2 else None), parts[-1]

    def name(self) -> str:
        schema, name = self.qualified()
        if self.dialect == "sqlite":
            return name
        return qualify(name, schema, self.dialect)

    def ident_list(self) -> tuple[str, ...]:
        self.expect("(")
        names = [self.ident()]
        while self.accept(","):
            names.append(self.ident())
        self.expect(")")
        return tuple(names)

    def group(self) -> str:
        """A parenthesised expression, returned without its outer parentheses."""
        self.expect("(")
        text = self.until_depth_zero(stop=set(), commas=True)
        self.expect(")")
        return text

    def until_depth_zero(self, stop: set[str], commas: bool = False) -> str:
        """Tokens up to a `,` or unmatched `)` at depth 0, or a stop word: an expression's text."""
        taken: list[Token] = []
        depth = 0
        while (tok := self.peek()) is not None:
            if depth == 0 and ((tok.text == "," and not commas) or tok.text == ")" or (tok.kind == "word" and tok.upper in stop)):
                break
            depth += {"(": 1, ")": -1}.get(tok.text, 0)
            taken.append(self.next())
        return join_tokens(taken)


def join_tokens(tokens: list[Token]) -> str:
    out = ""
    for i, tok in enumerate(tokens):
        glue = i > 0 and tok.text not in (")", ",", ".", "::") and tokens[i - 1].text not in ("(", ".", "::")
        glue = glue and not (tok.text == "(" and tokens[i - 1].kind == "word" and tokens[i - 1].upper not in _SPACE_BEFORE_PAREN)
        out += (" " if glue else "") + tok.text
    return out


_SPACE_BEFORE_PAREN = {"IN", "AND", "OR", "NOT", "AS", "EXISTS", "ON", "CHECK", "DEFAULT", "KEY", "VALUES", "THEN", "ELSE", "WHEN", "WHERE"}


def read_statement(schema: Schema, text: str, line: int) -> None:
    """Add what one statement declares to `schema`; anything else is a syntax error."""
    if PROGRAMMABLE.match(text):
        schema.add_routine(_routine(text, line, schema.dialect))
        return
    cur = Cursor(text, line, schema.dialect)
    if cur.accept("CREATE"):
        cur.accept("TEMP") or cur.accept("TEMPORARY")
        if cur.accept("TABLE"):
            return schema.add_table(_create_table(cur))
        if cur.at("SCHEMA"):
            cur.next()
            return schema.schemas.add(cur.ident())
        if cur.accept("SEQUENCE"):
            return _create_sequence(cur, schema)
        return schema.add_index(_create_index(cur))
    if cur.accept("ALTER", "TABLE"):
        return _alter_table(cur, schema)
    if cur.at("USE") or cur.at("SET"):
        return None  # session settings in a schema file (USE db; SET ANSI_NULLS ON) change no object
    cur.fail("not a schema statement (CREATE TABLE/INDEX/VIEW/..., ALTER TABLE ... ADD)")


def table_from_parts(name: str, columns: list[Column], constraints: list[str], dialect: str) -> Table:
    """A table from catalog rows: columns already structured, constraints as DDL fragments
    (`CONSTRAINT n PRIMARY KEY (a)`), read with the same grammar as a CREATE TABLE."""
    parts = _TableParts()
    for text in constraints:
        _table_constraint(Cursor(text, 1, dialect), parts)
    return parts.table(name, columns, dialect)


def _if_not_exists(cur: Cursor) -> None:
    cur.accept("IF", "NOT", "EXISTS")


def _create_table(cur: Cursor) -> Table:
    _if_not_exists(cur)
    name = cur.name()
    cur.expect("(")
    columns: list[Column] = []
    parts = _TableParts()
    while True:
        tok = cur.peek()
        if tok is not None and tok.kind == "word" and tok.upper in TABLE_CONSTRAINT_STARTS:
            _table_constraint(cur, parts)
        else:
            columns.append(_column(cur, parts))
        if not cur.accept(","):
            break
    cur.expect(")")
    return parts.table(name, columns, cur.dialect)


class _TableParts:
    def __init__(self) -> None:
        self.primary_key: Key | None = None
        self.uniques: list[Key] = []
        self.checks: list[Check] = []
        self.foreign_keys: list[ForeignKey] = []

    def table(self, name: str, columns: list[Column], dialect: str) -> Table:
        pk = set(c.lower() for c in self.primary_key.columns) if self.primary_key else set()
        fixed = tuple(normal.settle_column(c, c.name.lower() in pk, dialect) for c in columns)
        return Table(name, fixed, self.primary_key, tuple(self.uniques), tuple(self.checks), tuple(self.foreign_keys))


def _column(cur: Cursor, parts: _TableParts) -> Column:
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


def _column_constraint(cur: Cursor, col: Column, parts: _TableParts) -> Column:
    cname = cur.ident() if cur.accept("CONSTRAINT") else None
    if cur.accept("NOT", "NULL"):
        return normal.replace(col, nullable=False)
    if cur.accept("NULL"):
        return normal.replace(col, nullable=True)
    if cur.accept("PRIMARY", "KEY"):
        _skip_words(cur, "CLUSTERED", "NONCLUSTERED", "ASC", "DESC")
        parts.primary_key = Key(cname, (col.name,))
        _on_conflict(cur)
        return normal.replace(col, identity=True) if cur.accept("AUTOINCREMENT") else col
    if cur.accept("UNIQUE"):
        _skip_words(cur, "CLUSTERED", "NONCLUSTERED")
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
        computed = cur.group()
        cur.accept("PERSISTED") or cur.accept("STORED") or cur.accept("VIRTUAL")
        return normal.replace(col, computed=computed)
    if cur.accept("COLLATE"):
        return normal.replace(col, collation=cur.next().text)
    if cur.accept("AUTOINCREMENT") or cur.accept("ROWGUIDCOL") or cur.accept("SPARSE"):
        return col
    cur.fail(f"unknown column option in {col.name}")
    return col


def _skip_words(cur: Cursor, *words: str) -> None:
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
    computed = cur.group()
    cur.accept("STORED") or cur.accept("VIRTUAL")
    return normal.replace(col, computed=computed)


def _references(cur: Cursor, cname: str | None, columns: tuple[str, ...]) -> ForeignKey:
    target = cur.name()
    ref_cols = cur.ident_list() if cur.at("(") else columns
    actions: dict[str, str] = {}
    while cur.accept("ON"):
        which = cur.next().upper
        action = [cur.next().upper]
        if action[0] in ("SET", "NO"):
            action.append(cur.next().upper)
        actions[which] = " ".join(action)
    _skip_words(cur, "DEFERRABLE", "NOT", "INITIALLY", "DEFERRED", "IMMEDIATE")
    return ForeignKey(cname, columns, target, ref_cols, normal.fk_action(actions.get("DELETE")),
                      normal.fk_action(actions.get("UPDATE")))


def _table_constraint(cur: Cursor, parts: _TableParts) -> None:
    cname = cur.ident() if cur.accept("CONSTRAINT") else None
    if cur.accept("PRIMARY", "KEY"):
        _skip_words(cur, "CLUSTERED", "NONCLUSTERED")
        parts.primary_key = Key(cname, _key_columns(cur))
    elif cur.accept("UNIQUE"):
        _skip_words(cur, "CLUSTERED", "NONCLUSTERED", "KEY")
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
        _skip_words(cur, "ASC", "DESC")
        if not cur.accept(","):
            break
    cur.expect(")")
    return tuple(names)


def _create_index(cur: Cursor) -> Index:
    unique = cur.accept("UNIQUE")
    _skip_words(cur, "CLUSTERED", "NONCLUSTERED")
    cur.expect("INDEX")
    _if_not_exists(cur)
    _, name = cur.qualified()
    cur.expect("ON")
    cur.accept("ONLY")
    table = cur.name()
    if cur.accept("USING"):
        cur.next()
    cur.expect("(")
    columns = [cur.until_depth_zero(stop=set())]
    while cur.accept(","):
        columns.append(cur.until_depth_zero(stop=set()))
    cur.expect(")")
    if cur.accept("INCLUDE"):
        cur.ident_list()
    where = None
    if cur.accept("WHERE"):
        where = cur.until_depth_zero(stop=set())
        where = where[1:-1] if where.startswith("(") and normal.wrapped(where) else where
    return Index(name, table, tuple(normal.index_column(c, cur.dialect) for c in columns), unique, where)


def _create_sequence(cur: Cursor, schema: Schema) -> None:
    _if_not_exists(cur)
    name = cur.name()
    start = increment = 1
    _skip_words(cur, "AS")
    while (tok := cur.peek()) is not None:
        if cur.accept("START"):
            cur.accept("WITH")
            start = int(_signed_number(cur))
        elif cur.accept("INCREMENT"):
            cur.accept("BY")
            increment = int(_signed_number(cur))
        else:
            cur.next()
    schema.sequences[name.lower()] = Sequence(name, start, increment)


def _signed_number(cur: Cursor) -> str:
    sign = "-" if cur.accept("-") else ""
    return sign + cur.next().text


def _alter_table(cur: Cursor, schema: Schema) -> None:
    name = cur.name()
    table = schema.table(name)
    if table is None:
        cur.fail(f"ALTER TABLE {name}: the table is not declared before this statement")
    cur.expect("ADD")
    parts = _TableParts()
    parts.primary_key = table.primary_key
    parts.uniques, parts.checks = list(table.uniques), list(table.checks)
    parts.foreign_keys = list(table.foreign_keys)
    if cur.peek() is not None and cur.peek().upper in TABLE_CONSTRAINT_STARTS:
        _table_constraint(cur, parts)
        columns = list(table.columns)
    else:
        cur.accept("COLUMN")
        columns = [*table.columns, _column(cur, parts)]
    schema.add_table(parts.table(table.name, columns, schema.dialect))


def _routine(text: str, line: int, dialect: str) -> Routine:
    kind = PROGRAMMABLE.match(text).group("kind").upper().split()[-1]
    kind = {"PROC": "procedure"}.get(kind, kind.lower())
    cur = Cursor(text, line, dialect)
    while cur.peek() is not None and cur.peek().upper not in ("VIEW", "PROC", "PROCEDURE", "FUNCTION", "TRIGGER"):
        cur.next()
    cur.next()
    _if_not_exists(cur)
    name = cur.name()
    table = None
    if kind == "trigger":
        while cur.peek() is not None and not cur.accept("ON"):
            cur.next()
        table = cur.name() if cur.peek() is not None else None
    return Routine(kind, name, text.strip().rstrip(";").rstrip(), table)
