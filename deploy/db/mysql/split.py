"""MySQL statements from a file: the `mysql` client's `DELIMITER` lines are honoured (dumps and
hand-written routines use them), and without one a CREATE PROCEDURE / FUNCTION / TRIGGER /
EVENT body runs from BEGIN to its matching END, `;` inside it included."""

from __future__ import annotations

import re

from deploy.db.tokens import Statement, Token, significant, tokenize

_DELIMITER = re.compile(r"^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)", re.IGNORECASE | re.MULTILINE)
_BODY_KINDS = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}
_LOOP_ENDS = {"IF", "LOOP", "WHILE", "REPEAT"}


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
    """A statement from its first significant token (leading comments are not part of it)."""
    found = significant(tokenize(piece, line, "mysql"))
    if found:
        out.append(Statement(piece[found[0].start:].strip(), found[0].line, 0))


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
