"""SQL text without a grammar: tokens, statement splitting (T-SQL `GO` batches, PostgreSQL
dollar quotes, SQLite trigger bodies) and the normalised key bodies are compared by."""

from __future__ import annotations

import hashlib
import re

from deploy.db.mysql.split import split_mysql
from deploy.db.tokens import SqlSyntaxError, Statement, Token, significant, tokenize

__all__ = ["SqlSyntaxError", "Statement", "Token", "significant", "tokenize", "split_statements", "normalise",
           "fingerprint", "unquote", "PROGRAMMABLE", "go_batches"]

_GO = re.compile(r"^[ \t]*GO[ \t]*(?:--[^\n]*)?$", re.IGNORECASE | re.MULTILINE)
PROGRAMMABLE = re.compile(
    r"^\s*CREATE\s+(?:OR\s+(?:ALTER|REPLACE)\s+)?(?:DEFINER\s*=\s*\S+\s+)?"
    r"(?P<kind>VIEW|PROC|PROCEDURE|FUNCTION|TRIGGER|TEMP\s+TRIGGER)\b",
    re.IGNORECASE,
)


def go_batches(text: str) -> list[str]:
    """T-SQL text cut on `GO` lines the way sqlcmd and SSMS cut it (a line that is only GO,
    wherever it is: they do not look inside strings)."""
    return _GO.split(text)


def split_statements(text: str, dialect: str) -> list[Statement]:
    """Statements in source order. T-SQL is cut into `GO` batches first; a batch that creates
    a programmable object runs to the next line that creates another one (SQL Server wants
    each alone in its batch; files written for other tools put several in one)."""
    if dialect == "mysql":
        return split_mysql(text)
    if dialect != "tsql":
        return _split_batch(text, 1, 0, dialect)
    out: list[Statement] = []
    start, batch = 0, 0
    for m in [*_GO.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[start:end]
        line = text.count("\n", 0, start) + 1
        if chunk.strip():
            if PROGRAMMABLE.match(_strip_leading_comments(chunk)):
                out.extend(_module_batch(chunk, line + _leading_lines(chunk), batch))
            else:
                out.extend(_split_batch(chunk, line, batch, dialect))
            batch += 1
        start = m.end() if m else end
    return out


_NEXT_MODULE = re.compile(r"^(?=[ \t]*CREATE\s+(?:OR\s+ALTER\s+)?(?:VIEW|PROC|PROCEDURE|FUNCTION|TRIGGER)\b)",
                          re.IGNORECASE | re.MULTILINE)


def _module_batch(chunk: str, line: int, batch: int) -> list[Statement]:
    """One module per piece; a view is one SELECT, so what follows its `;` is read apart."""
    body = _strip_leading_comments(chunk)
    cuts = [m.start() for m in _NEXT_MODULE.finditer(body) if m.start() > 0]
    out: list[Statement] = []
    for start, end in zip([0, *cuts], [*cuts, len(body)]):
        piece, first = body[start:end], line + body.count("\n", 0, start)
        if re.match(r"\s*CREATE\s+(?:OR\s+ALTER\s+)?VIEW\b", piece, re.IGNORECASE):
            head, *rest = _split_batch(piece, first, batch, "tsql")
            out.append(Statement(head.text.rstrip(";").rstrip(), first, batch))
            out.extend(rest)
        else:
            out.append(Statement(piece.strip().rstrip(";").rstrip(), first, batch))
    return out


def _strip_leading_comments(text: str) -> str:
    return re.sub(r"^(\s|--[^\n]*|/\*.*?\*/)*", "", text, flags=re.DOTALL)


def _leading_lines(chunk: str) -> int:
    return chunk[: len(chunk) - len(chunk.lstrip())].count("\n")


def _split_batch(text: str, first_line: int, batch: int, dialect: str) -> list[Statement]:
    tokens = tokenize(text, first_line)
    out: list[Statement] = []
    current: list[Token] = []
    depth = block = 0
    for tok in tokens:
        if not current and tok.kind in ("ws", "comment"):
            continue
        if _starts_new_tsql_statement(tok, current, depth, dialect):
            out.append(_statement(current, batch))
            current = []
        if tok.text == ";" and depth == 0 and block == 0:
            if significant(current):
                out.append(_statement(current, batch))
            current = []
            continue
        current.append(tok)
        depth += {"(": 1, ")": -1}.get(tok.text, 0)
        if _has_body(current, dialect):
            block += {"BEGIN": 1, "CASE": 1, "END": -1}.get(tok.upper, 0) if tok.kind == "word" else 0
    if significant(current):
        out.append(_statement(current, batch))
    return out


def _starts_new_tsql_statement(tok: Token, current: list[Token], depth: int, dialect: str) -> bool:
    """T-SQL needs no `;`: a CREATE/ALTER/DROP/INSERT at the start of a line begins a statement
    (not inside a trigger, procedure or function body, which runs to its `;` or `END`)."""
    if dialect != "tsql" or depth or not significant(current) or tok.kind != "word" or _has_body(current, dialect):
        return False
    if tok.upper not in ("CREATE", "ALTER", "DROP", "INSERT"):
        return False
    prev = current[-1]
    return prev.kind == "ws" and "\n" in prev.text


def _has_body(current: list[Token], dialect: str) -> bool:
    """A statement whose body holds `;`-separated statements (BEGIN ... END counts as a block)."""
    kinds = {"TRIGGER"} if dialect == "sqlite" else {"TRIGGER", "PROC", "PROCEDURE", "FUNCTION"} if dialect == "tsql" else set()
    words = [t.upper for t in significant(current[:12])[:5]]
    return len(words) > 1 and words[0] == "CREATE" and bool(kinds & set(words))


def _statement(tokens: list[Token], batch: int) -> Statement:
    text = "".join(t.text for t in tokens).strip()
    return Statement(text, tokens[0].line, batch)


def normalise(text: str, dialect: str | None = None) -> str:
    """The comparison form of a body: no whitespace or comment differences, bare words
    lower-cased, `CREATE OR ALTER|REPLACE` read as `CREATE`, no trailing `;`."""
    words = []
    for tok in significant(tokenize(text, 1, dialect)):
        words.append(tok.text.lower() if tok.kind == "word" else _unquote_for_key(tok))
    while words and words[-1] == ";":
        words.pop()
    if len(words) > 2 and words[0] == "create" and words[1] == "or" and words[2] in ("alter", "replace"):
        words = ["create", *words[3:]]
    if len(words) > 5 and words[0] == "create" and words[2:5] == ["if", "not", "exists"]:
        words = words[:2] + words[5:]  # SQLite stores CREATE ... IF NOT EXISTS without the clause
    if len(words) > 1 and words[:2] == ["create", "proc"]:
        words[1] = "procedure"
    return " ".join(words)


def _unquote_for_key(tok: Token) -> str:
    if tok.kind == "qident":
        return tok.text[1:-1].lower()
    return tok.text


def fingerprint(text: str, dialect: str | None = None) -> str:
    return hashlib.sha256(normalise(text, dialect).encode()).hexdigest()[:32]


_CLOSE = {'"': '"', "[": "]", "`": "`", "'": "'"}


def unquote(text: str) -> str:
    """A quoted name or string as its value: only the quote that delimits it is doubled inside."""
    close = _CLOSE.get(text[:1])
    if close and len(text) >= 2 and text.endswith(close):
        return text[1:-1].replace(close * 2, close)
    return text
