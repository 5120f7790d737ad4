"""Which SQL Server a T-SQL script is written for: the declared `server_version`, or the
oldest of what the server itself reports (product version and database compatibility
level), or 2016 when rendering offline. Every version-dependent construct asks here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploy.db.sqltext import significant, tokenize

VERSIONS = ("2008R2", "2012", "2014", "2016", "2017", "2019", "2022")
OFFLINE_DEFAULT = "2016"
_MAJOR = {"2008R2": 10.5, "2012": 11, "2014": 12, "2016": 13, "2017": 14, "2019": 15, "2022": 16}
_COMPAT = {"2008R2": 100, "2012": 110, "2014": 120, "2016": 130, "2017": 140, "2019": 150, "2022": 160}

# Built-in functions by the version that introduced them: never emitted for, and refused in
# bodies sent to, an older server (a view using STRING_AGG fails to create on 2016).
NEWER_FUNCTIONS = {
    "2012": ("IIF", "CONCAT", "FORMAT", "TRY_CONVERT", "TRY_CAST", "TRY_PARSE", "PARSE", "EOMONTH", "CHOOSE",
             "DATEFROMPARTS", "DATETIMEFROMPARTS", "DATETIME2FROMPARTS", "DATETIMEOFFSETFROMPARTS",
             "SMALLDATETIMEFROMPARTS", "TIMEFROMPARTS", "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE",
             "CUME_DIST", "PERCENT_RANK", "PERCENTILE_CONT", "PERCENTILE_DISC", "THROW"),
    "2016": ("STRING_SPLIT", "OPENJSON", "JSON_VALUE", "JSON_QUERY", "JSON_MODIFY", "ISJSON", "COMPRESS",
             "DECOMPRESS", "SESSION_CONTEXT", "DATEDIFF_BIG"),
    "2017": ("STRING_AGG", "TRIM", "CONCAT_WS", "TRANSLATE"),
    "2019": ("APPROX_COUNT_DISTINCT",),
    "2022": ("GREATEST", "LEAST", "DATE_BUCKET", "GENERATE_SERIES", "DATETRUNC", "JSON_OBJECT", "JSON_ARRAY",
             "APPROX_PERCENTILE_CONT", "APPROX_PERCENTILE_DISC", "LEFT_SHIFT", "RIGHT_SHIFT", "BIT_COUNT"),
}
_INTRODUCED = {name: version for version, names in NEWER_FUNCTIONS.items() for name in names}


@dataclass(frozen=True)
class SqlServerTarget:
    """One target version; `label` is one of VERSIONS."""

    label: str = OFFLINE_DEFAULT

    def __post_init__(self) -> None:
        if self.label not in VERSIONS:
            raise ValueError(f"unknown SQL Server version {self.label!r} (one of {', '.join(VERSIONS)})")

    def at_least(self, label: str) -> bool:
        return _MAJOR[self.label] >= _MAJOR[label]

    @property
    def compatibility_level(self) -> int:
        return _COMPAT[self.label]

    @property
    def create_or_alter(self) -> bool:
        """CREATE OR ALTER came with 2016 SP1; `2016` here means SP1 or later (RTM is out of support)."""
        return self.at_least("2016")

    @property
    def drop_if_exists(self) -> bool:
        return self.at_least("2016")

    @property
    def sequences(self) -> bool:
        return self.at_least("2012")

    @property
    def inline_index(self) -> bool:
        return self.at_least("2014")

    def missing_functions(self, sql: str) -> list[tuple[str, str]]:
        """(function, version it needs) for each built-in call in `sql` newer than this target."""
        toks = significant(tokenize(sql))
        out = []
        for tok, nxt in zip(toks, toks[1:]):
            need = _INTRODUCED.get(tok.upper) if tok.kind == "word" and nxt.text == "(" else None
            if need and not self.at_least(need) and (tok.upper, need) not in out:
                out.append((tok.upper, need))
        return out


def from_product_version(product: str, compatibility_level: int | None = None) -> SqlServerTarget:
    """The oldest of SERVERPROPERTY('ProductVersion') (e.g. `13.0.5026.0`) and the database's
    compatibility level: a 2019 server holding a level-100 database is written for as 2008 R2.
    2016 before SP1 (build < 4001) has no CREATE OR ALTER, so it is treated as 2014."""
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)", product or "")
    if not m:
        return SqlServerTarget()
    major, minor, build = (int(x) for x in m.groups())
    if major == 13 and build < 4001:
        major = 12
    by_major = {10: "2008R2", 11: "2012", 12: "2014", 13: "2016", 14: "2017", 15: "2019", 16: "2022"}
    label = by_major.get(major, "2008R2" if major < 10 else "2022")
    if major == 10 and minor < 50:
        label = "2008R2"  # 2008 (10.0) is written for like 2008 R2: the same T-SQL surface Shipyard uses
    if compatibility_level:
        by_level = {v: k for k, v in _COMPAT.items()}
        level_label = by_level.get(min(max(compatibility_level, 100), 160) // 10 * 10, "2008R2")
        if _MAJOR[level_label] < _MAJOR[label]:
            label = level_label
    return SqlServerTarget(label)


def resolve(declared: str | None, reported: str | None) -> SqlServerTarget:
    """Declared wins; then what introspection recorded; then the offline default."""
    return SqlServerTarget(declared or reported or OFFLINE_DEFAULT)
