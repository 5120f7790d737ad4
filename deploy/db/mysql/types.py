"""Which MySQL column changes can lose data (destructive, refused without --allow-destructive):
a type every old value fits is a widening; anything else, and a change to a character set
that is not a superset of the old one, is not."""

from __future__ import annotations

import re

from deploy.db.model import Column

_LADDERS = [
    ["tinyint", "smallint", "mediumint", "int", "bigint"],
    ["tinytext", "text", "mediumtext", "longtext"],
    ["tinyblob", "blob", "mediumblob", "longblob"],
    ["float", "double"],
]
_STRINGS = {"char": 1, "varchar": 2, "tinytext": 3, "text": 4, "mediumtext": 5, "longtext": 6}
_BINARIES = {"binary": 1, "varbinary": 2, "tinyblob": 3, "blob": 4, "mediumblob": 5, "longblob": 6}
_CHARSET_SUPERSETS = {"utf8mb4": {"utf8mb3", "utf8", "latin1", "ascii", "utf8mb4"}, "utf8mb3": {"ascii", "utf8mb3", "utf8"}}
_TYPE = re.compile(r"^(?P<base>[a-z]+)(?:\((?P<args>[^)]*)\))?(?P<flags>.*)$", re.S)


def _parts(typ: str) -> tuple[str, list[str], str]:
    m = _TYPE.match(typ.strip())
    if not m:
        return typ, [], ""
    return m.group("base"), [a.strip() for a in (m.group("args") or "").split(",") if a.strip()], m.group("flags").strip()


def mysql_widening(old: Column, new: Column) -> bool:
    if new.computed and not old.computed:
        return False  # the stored values give way to computed ones
    if old.type == new.type:
        return _charset_kept(old, new)
    ob, oa, of = _parts(old.type)
    nb, na, nf = _parts(new.type)
    if ("unsigned" in of) != ("unsigned" in nf):
        return False
    if ob in ("enum", "set") and nb == ob:
        return na[: len(oa)] == oa  # values appended at the end
    return _base_wider(ob, oa, nb, na) and _charset_kept(old, new)


def _base_wider(ob: str, oa: list[str], nb: str, na: list[str]) -> bool:
    for ladder in _LADDERS:
        if ob in ladder and nb in ladder:
            return ladder.index(nb) >= ladder.index(ob)
    for family in (_STRINGS, _BINARIES):
        if ob in family and nb in family:
            if family[nb] < family[ob]:
                return False
            return not (oa and na and int(na[0]) < int(oa[0]))
    if ob == nb and ob in ("decimal", "numeric") and len(oa) == 2 and len(na) == 2:
        return int(na[1]) >= int(oa[1]) and int(na[0]) - int(na[1]) >= int(oa[0]) - int(oa[1])
    if ob == nb and oa and na and oa[0].isdigit() and na[0].isdigit():
        return int(na[0]) >= int(oa[0])  # datetime(3) -> datetime(6), bit(4) -> bit(8)
    return False


def _charset_kept(old: Column, new: Column) -> bool:
    if not old.charset or not new.charset or old.charset == new.charset:
        return True
    return old.charset in _CHARSET_SUPERSETS.get(new.charset, set())
