"""The lexer every SQL reader here shares: tokens with their line and offset (whitespace
and comments included, so text can be rebuilt exactly), per dialect."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<dollar>\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$)
  | (?P<str>[NnEe]?'(?:[^']|'')*')
  | (?P<qident>"(?:[^"]|"")*"|\[(?:[^\]]|\]\])*\]|`(?:[^`]|``)*`)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<word>[A-Za-z_@#][A-Za-z0-9_@#$]*)
  | (?P<op>::|<>|!=|<=|>=|\|\||[-+*/%=<>(),.;~&|^!?:])
    """,
    re.VERBOSE | re.DOTALL,
)
# MySQL: '...' and "..." are strings with backslash escapes, `...` names, # and -- comments;
# /*!NNNNN ... */ is text the server runs, so its wrapper is only whitespace.
_MYSQL_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|/\*M?!\d*|\*/)
  | (?P<comment>--(?:[ \t][^\n]*)?(?=\n|$)|\#[^\n]*|/\*.*?\*/)
  | (?P<str>[Nn]?'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<qident>`(?:[^`]|``)*`)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<word>[A-Za-z_@$\x80-\uffff][A-Za-z0-9_@$\x80-\uffff]*)
  | (?P<op>:=|<=>|->>|->|<>|!=|<=|>=|<<|>>|&&|\|\||[-+*/%=<>(),.;~&|^!?:{}\\])
    """,
    re.VERBOSE | re.DOTALL,
)
class SqlSyntaxError(ValueError):
    def __init__(self, message: str, line: int):
        self.line = line
        super().__init__(message)


class Token:
    """One lexical token; `upper` is the comparison form of a keyword, `start` its offset."""

    __slots__ = ("kind", "text", "line", "upper", "start")

    def __init__(self, kind: str, text: str, line: int, start: int = -1):
        self.kind, self.text, self.line, self.start = kind, text, line, start
        self.upper = text.upper() if kind == "word" else text

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.text!r}, {self.line})"


@dataclass(frozen=True)
class Statement:
    text: str
    line: int
    batch: int


def tokenize(text: str, first_line: int = 1, dialect: str | None = None) -> list[Token]:
    """Every token including whitespace and comments, so text can be rebuilt exactly."""
    out, pos, line = [], 0, first_line
    end = len(text)
    match = (_MYSQL_TOKEN if dialect == "mysql" else _TOKEN).match
    while pos < end:
        m = match(text, pos)
        if not m:
            raise SqlSyntaxError(f"unexpected character {text[pos]!r}", line)
        value = m.group(0)
        kind = "dollar" if m.lastgroup == "tag" else m.lastgroup
        out.append(Token(kind, value, line, pos))
        if "\n" in value:
            line += value.count("\n")
        pos = m.end()
    return out


def significant(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.kind not in ("ws", "comment")]
