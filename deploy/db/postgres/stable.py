"""Text that PostgreSQL reads back into the rendering it came from. The server's deparser
is not idempotent for one common shape: `col IN ('a', 'b')` on a varchar column prints as
`(col)::text = ANY ((ARRAY['a'::character varying, ...])::text[])`, and reading that back
yields `ARRAY[('a'::character varying)::text, ...]` — a different rendering, so a compare
would never converge. Emitting the IN list again gives back the first rendering."""

from __future__ import annotations

import re

_TAIL = re.compile(r"(?P<lhs_cast>::[\w .\"]+?) (?P<op>= ANY|<> ALL) \(\(ARRAY\[")


def stable(text: str) -> str:
    out, pos = [], 0
    for m in _TAIL.finditer(text):
        if m.start() < pos:
            continue
        lhs_end = m.start()
        lhs_start = _open_paren(text, lhs_end - 1) if lhs_end and text[lhs_end - 1] == ")" else None
        close = _close_bracket(text, m.end())
        if lhs_start is None or close is None:
            continue
        cast = m.group("lhs_cast")
        suffix = f"]){cast}[])"
        if not text.startswith(suffix, close):
            continue
        elements = text[m.end():close]
        word = "IN" if m.group("op") == "= ANY" else "NOT IN"
        out.append(text[pos:lhs_start])
        out.append(f"{text[lhs_start:lhs_end]} {word} ({elements})")
        pos = close + len(suffix)
    out.append(text[pos:])
    return "".join(out)


def _open_paren(text: str, close: int) -> int | None:
    depth = 0
    for i in range(close, -1, -1):
        c = text[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                return i
        elif c == "'":
            return None  # a literal before the cast: leave it alone
    return None


def _close_bracket(text: str, start: int) -> int | None:
    depth, i, n = 1, start, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            j = text.find("'", i + 1)
            while j != -1 and text.startswith("''", j):
                j = text.find("'", j + 2)
            if j == -1:
                return None
            i = j + 1
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None
