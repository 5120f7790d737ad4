"""Parse a generated script back and check that it holds exactly the statements the renderer
meant to write, in order: a name or value that escaped its quoting (`'; DROP TABLE x; --`)
shows up as an extra or different statement and fails the render before anything runs.

Dialect-neutral: a renderer hands over what it meant (`Expected` per batch, or per statement
for dialects without batches) and the text it printed; sqlglot reads the text."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from deploy.db.errors import RenderError
from deploy.db.sqltext import significant, tokenize

_SQLGLOT = {"postgres": "postgres", "sqlite": "sqlite", "tsql": "tsql", "mysql": "mysql"}
# A statement keyword as a bare word inside one statement means a second statement (sqlglot
# reads some T-SQL only as opaque text, and an IF block greedily, so it cannot be the judge).
_STATEMENT_WORDS = {"DROP", "DELETE", "INSERT", "UPDATE", "EXEC", "EXECUTE", "TRUNCATE", "GRANT", "REVOKE", "DENY",
                    "CREATE", "ALTER", "MERGE", "SHUTDOWN", "BACKUP", "RESTORE", "KILL", "USE", "DBCC"}
_SQLCMD_LINE = re.compile(r"^[ \t]*:[A-Za-z!][^\n]*$", re.MULTILINE)


@dataclass(frozen=True)
class Expected:
    """What one batch (T-SQL) or one statement (other dialects) was built to be."""

    sql: str
    statements: int = 1
    verbatim: bool = False  # a user's module: its inner statements are the user's own

    @property
    def first_word(self) -> str:
        words = [t.upper for t in significant(tokenize(self.sql)) if t.kind == "word"]
        return _canonical(words[0]) if words else ""


def _canonical(word: str) -> str:
    return {"EXECUTE": "EXEC", "PROC": "PROCEDURE"}.get(word.upper(), word.upper())


def without_sqlcmd(text: str) -> str:
    """What sqlcmd hands the server: its own `:command` lines removed (SSMS in SQLCMD mode alike)."""
    return _SQLCMD_LINE.sub("", text)


def parse_statements(sql: str, dialect: str) -> list:
    """sqlglot's statement trees, the `;` separators dropped; a parse error raises."""
    import sqlglot
    from sqlglot import exp

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    return [t for t in sqlglot.parse(sql, read=_SQLGLOT.get(dialect, dialect)) if t is not None
            and not isinstance(t, exp.Semicolon)]


_WORD_OF = {"Create": "CREATE", "Drop": "DROP", "Alter": "ALTER", "Insert": "INSERT", "Update": "UPDATE",
            "Delete": "DELETE", "Merge": "MERGE", "IfBlock": "IF", "Execute": "EXEC", "Set": "SET",
            "Transaction": "BEGIN", "Commit": "COMMIT", "Rollback": "ROLLBACK", "Select": "SELECT"}


def _first_word(tree, dialect: str) -> str:  # noqa: ANN001 - a sqlglot tree (imported lazily)
    """What kind of statement sqlglot read, as its first keyword."""
    name = type(tree).__name__
    if name == "Command":
        return _canonical(str(tree.this).split()[0]) if str(tree.this).strip() else ""
    if name in _WORD_OF:
        return _WORD_OF[name]
    words = [t for t in significant(tokenize(tree.sql(dialect=_SQLGLOT.get(dialect, dialect)))) if t.kind == "word"]
    return _canonical(words[0].upper) if words else ""


_CONTROLS = {"IF": 1, "MERGE": 3}  # IF controls one statement; MERGE holds UPDATE/INSERT/DELETE actions
_CLAUSE_AFTER = {"COLUMN", "CONSTRAINT", "DEFAULT", "NOT", "IDENTITY", "EXPRESSION", "INDEX"}


def statement_keywords(sql: str) -> list[str]:
    """Bare statement keywords after the first word: ALTER TABLE's own DROP COLUMN / ALTER
    COLUMN and a key's ON DELETE / ON UPDATE are clauses, not statements."""
    words = [t for t in significant(tokenize(sql)) if t.kind != "comment"]
    out = []
    for i, tok in enumerate(words[1:], 1):
        if tok.kind != "word" or tok.upper not in _STATEMENT_WORDS:
            continue
        after = words[i + 1].upper if i + 1 < len(words) else ""
        if words[i - 1].upper == "ON" or after in _CLAUSE_AFTER:
            continue
        out.append(tok.upper)
    return out


def _keyword_problem(sql: str, want: Expected) -> str | None:
    if want.verbatim:
        return None
    first = want.first_word
    extra = statement_keywords(sql)
    allowed = _CONTROLS.get(first, 0)
    return f"{len(extra)} statement keyword(s) ({', '.join(extra[:3])}) inside one {first} statement" if len(extra) > allowed else None


def tsql_segments(batch: str) -> list[str]:
    """A batch cut at its top-level `;` (not inside parentheses, BEGIN ... END or CASE ... END),
    by Shipyard's tokenizer: independent of sqlglot, which reads T-SQL IF blocks greedily."""
    out, current, depth, block = [], [], 0, 0
    toks = significant(tokenize(batch))
    for i, tok in enumerate(toks):
        nxt = toks[i + 1].upper if i + 1 < len(toks) else ""
        if tok.text == ";" and depth == 0 and block == 0:
            out.append(current)
            current = []
            continue
        current.append(tok)
        depth += {"(": 1, ")": -1}.get(tok.text, 0)
        if tok.kind == "word" and tok.upper == "BEGIN" and nxt not in ("TRAN", "TRANSACTION", "DISTRIBUTED"):
            block += 1
        elif tok.kind == "word" and tok.upper == "CASE":
            block += 1
        elif tok.kind == "word" and tok.upper == "END":
            block -= 1
    if current:
        out.append(current)
    return [" ".join(t.text for t in seg) for seg in out if seg]


def check_batch(text: str, want: Expected, dialect: str, where: str) -> None:
    """One T-SQL batch of printed text against what it was built to be."""
    if problem := _batch_problem(text, want.statements, want.verbatim, dialect):
        raise RenderError(f"{dialect}: {where} {problem}\n  {text[:300]}")


@functools.lru_cache(maxsize=4096)  # the guard after every batch is read once
def _batch_problem(text: str, statements: int, verbatim: bool, dialect: str) -> str | None:
    if verbatim:
        return _parse_problem(text, dialect)
    segments = tsql_segments(text)
    if len(segments) != statements:
        return f"should hold {statements} statement(s), it holds {len(segments)}"
    for seg in segments:
        if problem := _parse_problem(seg, dialect):
            return problem
        trees = parse_statements(seg, dialect)
        if len(trees) != 1:
            return f"holds {len(trees)} statements where one was written: {seg[:200]}"
        if problem := _keyword_problem(seg, Expected(seg)):
            return problem
        if (got := _first_word(trees[0], dialect)) != Expected(seg).first_word:
            return f"reads as a {got} statement: {seg[:200]}"
    return None


@functools.lru_cache(maxsize=4096)
def _parse_problem(text: str, dialect: str) -> str | None:
    try:
        trees = parse_statements(text, dialect)
    except Exception as e:  # noqa: BLE001 - any parse failure means the script is not what was meant
        return f"does not parse back: {str(e).splitlines()[0][:160]}"
    return None if trees else "is empty after parsing"


def check_tsql_batches(text: str, expected: list[Expected], split) -> None:  # noqa: ANN001 - split: text -> batches
    """The printed T-SQL, cut on `GO` lines as sqlcmd and SSMS cut it, batch by batch."""
    batches = [b for b in split(without_sqlcmd(text)) if significant(tokenize(b))]  # comments alone send nothing
    if len(batches) != len(expected):
        raise RenderError(f"tsql: the script has {len(batches)} batches, {len(expected)} were written")
    for number, (batch, want) in enumerate(zip(batches, expected), 1):
        check_batch(batch, want, "tsql", f"batch {number}")


def check_statements(text: str, expected: list[Expected], dialect: str) -> None:
    """Dialects without batches: the whole printed script parses to the expected statements."""
    try:
        trees = parse_statements(text, dialect)
    except Exception as e:  # noqa: BLE001
        raise RenderError(f"{dialect}: the script does not parse back: {str(e).splitlines()[0][:160]}") from None
    want = sum(e.statements for e in expected)
    if len(trees) != want:
        raise RenderError(f"{dialect}: the script should hold {want} statement(s), parses as {len(trees)}")
    pos = 0
    for e in expected:
        for tree in trees[pos:pos + e.statements]:
            if problem := _keyword_problem(tree.sql(dialect=_SQLGLOT.get(dialect, dialect)), e):
                raise RenderError(f"{dialect}: {problem}\n  {e.sql[:300]}")
        got = _first_word(trees[pos], dialect)
        if not e.verbatim and e.first_word and got != e.first_word:
            raise RenderError(f"{dialect}: expected a {e.first_word} statement, the script has {got} there\n  {e.sql[:300]}")
        pos += e.statements
