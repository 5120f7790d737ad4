"""MySQL statements from a file: the `mysql` client's `DELIMITER` lines are honoured (dumps and
hand-written routines use them), and without one a CREATE PROCEDURE / FUNCTION / TRIGGER /
EVENT body runs from BEGIN to its matching END, `;` inside it included."""

from __future__ import annotations

import re

from deploy.db.tokens import Statement, Token, tokenize

_DELIMITER = re.compile(r"^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)", re.IGNORECASE | re.MULTILINE)
_BODY_KINDS = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}
_LOOP_ENDS = {"IF", "LOOP", "WHILE", "REPEAT"}


_CHARSET_SETTINGS = re.compile(r"^SET\s+(?:NAMES|CHARACTER\s+SET|CHARSET)\b", re.IGNORECASE)


def runnable(statements: list[Statement]) -> list[Statement]:
    """All but the client charset settings of a dump (`SET NAMES utf8mb4`): the ODBC driver
    sets the connection's character set itself and refuses them."""
    return [s for s in statements if not _CHARSET_SETTINGS.match(s.text)]


def split_mysql(text: str) -> list[Statement]:
    out: list[Statement] = []
    delimiter, start = ";", 0
    for m in [*_DELIMITER.finditer(text), None]:
        end = m.start() if m else len(text)
        line = text.count("\n", 0, start) + 1
        chunk = text[start:end]
        out += _by_blocks(chunk, line) if delimiter == ";" else _by_delimiter(chunk, line, delimiter)
        if m:
            delimiter, start = m.group(1), m.end()
    return out


def _by_delimiter(text: str, first_line: int, delimiter: str) -> list[Statement]:
    """Cut at every `delimiter` outside strings, names and comments."""
    protected = [(t.start, t.start + len(t.text)) for t in tokenize(text, first_line, "mysql")
                 if t.kind in ("str", "qident", "comment")]
    out, begin, pos = [], 0, 0
    while (pos := text.find(delimiter, pos)) != -1:
        if any(a <= pos < b for a, b in protected):
            pos += 1
            continue
        _add(out, text[begin:pos], first_line + text.count("\n", 0, begin))
        begin = pos = pos + len(delimiter)
    _add(out, text[begin:], first_line + text.count("\n", 0, begin))
    return out


def _add(out: list[Statement], piece: str, line: int) -> None:
    """A statement from its first to its last significant token: comments around it, and the
    wrapper of a /*!NNNNN ... */ holding it, are not part of it; one it opens is closed."""
    tokens = tokenize(piece, line, "mysql")
    places = [i for i, t in enumerate(tokens) if t.kind not in ("ws", "comment")]
    if not places:
        return
    first, last = places[0], places[-1]
    opened = sum(1 for t in tokens[first:last] if t.text.startswith("/*"))
    opened -= sum(1 for t in tokens[first:last] if t.text == "*/")
    while opened > 0 and last + 1 < len(tokens):
        last += 1
        opened -= tokens[last].text == "*/"
    end = tokens[last].start + len(tokens[last].text)
    out.append(Statement(piece[tokens[first].start:end], tokens[first].line, 0))


def _by_blocks(text: str, first_line: int) -> list[Statement]:
    tokens = [t for t in tokenize(text, first_line, "mysql") if t.kind not in ("ws", "comment")]
    out: list[Statement] = []
    begin, depth = 0, 0
    words: list[Token] = []
    for i, tok in enumerate(tokens):
        if tok.text == ";" and depth == 0:
            _add(out, text[begin:tok.start], first_line + text.count("\n", 0, begin))
            begin, words = tok.start + 1, []
            continue
        words.append(tok)
        if tok.kind == "word" and _has_body(words):
            depth += _depth_change(tokens, i)
    _add(out, text[begin:], first_line + text.count("\n", 0, begin))
    return out


def _has_body(words: list[Token]) -> bool:
    """CREATE ... PROCEDURE|FUNCTION|TRIGGER|EVENT, or MariaDB's anonymous BEGIN NOT ATOMIC."""
    head = [w.upper for w in words[:8]]
    if head[:3] == ["BEGIN", "NOT", "ATOMIC"]:
        return True
    return bool(head) and head[0] == "CREATE" and bool(_BODY_KINDS & set(head))


def _depth_change(tokens: list[Token], i: int) -> int:
    """BEGIN and CASE open a block; END closes one, except END IF / LOOP / WHILE / REPEAT
    (those never opened one here) and the CASE of END CASE (closed by its END)."""
    word = tokens[i].upper
    before = tokens[i - 1].upper if i else ""
    after = tokens[i + 1].upper if i + 1 < len(tokens) else ""
    if word == "BEGIN" or (word == "CASE" and before != "END"):
        return 1
    if word == "END" and after not in _LOOP_ENDS:
        return -1
    return 0


_IMPLICIT_COMMIT = re.compile(
    r"^\s*(?:(?:CREATE|DROP)\s+(?!TEMPORARY\b)|ALTER\s|RENAME\s|TRUNCATE\s|GRANT\s|REVOKE\s|INSTALL\s|UNINSTALL\s"
    r"|LOCK\s|UNLOCK\s|BEGIN\b|START\s+TRANSACTION\b|COMMIT\b|ANALYZE\s|OPTIMIZE\s|REPAIR\s|FLUSH\s|RESET\s"
    r"|CACHE\s+INDEX\b|LOAD\s|CHECK\s+TABLE\b|SET\s+PASSWORD\b|CALL\s|EXECUTE\s)", re.IGNORECASE)


def commits_implicitly(text: str) -> bool:
    """Whether MySQL commits the open transaction before this statement (DDL, account and
    table-maintenance statements: MySQL manual 15.3.3 "Statements That Cause an Implicit
    Commit"). CALL and EXECUTE count too, since what they run is not known here."""
    return bool(_IMPLICIT_COMMIT.match(text))
