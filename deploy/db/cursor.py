"""A cursor over the significant tokens of one statement: the small toolkit the DDL reader
is written with (accept/expect keywords, names, parenthesised groups, expressions as text)."""

from __future__ import annotations

from deploy.db.model import QName, qualify
from deploy.db.sqltext import SqlSyntaxError, Token, significant, tokenize, unquote


class Cursor:
    """A position in the significant tokens of one statement."""

    def __init__(self, text: str, line: int, dialect: str):
        self.text = text
        self.tokens = significant(tokenize(text, line, dialect))
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

    def dotted(self) -> list[str]:
        """`a.b.c` as its parts; a quoted part keeps any dot inside it."""
        parts = [self.ident()]
        while self.peek() and self.peek().text == ".":
            self.pos += 1
            parts.append(self.ident())
        return parts

    def qualified(self) -> tuple[str | None, str]:
        parts = self.dotted()
        if len(parts) > 2:
            parts = parts[-2:]  # database.schema.name: the database is the connection's
        return (parts[0] if len(parts) == 2 else None), parts[-1]

    def name(self) -> QName:
        schema, name = self.qualified()
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
