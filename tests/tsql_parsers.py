"""The second, independent T-SQL parser of the test suite: Microsoft's own
`Microsoft.SqlServer.SqlParser` (the T-SQL language service of SSMS/SQL Tools Service), from
PyPI's `mssqltoolsservice-linux-64` wheel, loaded with pythonnet into the .NET Core 3.1
runtime from PyPI's `dotnetcore2`. Test-time only; its licence (read in docs/database.md)
allows use to develop and test programs, not redistribution, so it is never vendored.

`gate(text, target)` parses the script the user reviews (sqlcmd's own `:` lines removed,
as sqlcmd does) at the target's compatibility level and checks each batch holds the number
of statements Shipyard wrote; `STATS` counts what both parsers read, for the summary."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

STATS: Counter = Counter()
# The parser (2017) knows levels up to 140: 2019 and 2022 are read at its newest level.
_LEVELS = {100: ("Version100", "Version105"), 110: ("Version110", "Version110"), 120: ("Version120", "Version120"),
           130: ("Version130", "Version130"), 140: ("Version140", "Version140"), 150: ("Version140", "Version140"),
           160: ("Version140", "Version140")}


class ParserUnavailable(RuntimeError):
    pass


@lru_cache(maxsize=1)
def _load():
    """CoreCLR once per process (about 2 s); the parser assembly by path."""
    os.environ.setdefault("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")  # no ICU lookup by the 3.1 runtime
    try:
        import dotnetcore2
        import mssqltoolsservice
        from clr_loader import get_coreclr
        from pythonnet import set_runtime
    except ImportError as e:
        raise ParserUnavailable(f"{e.name} is not installed: run ci/test (it installs .[test])") from None
    dotnet_root = Path(dotnetcore2.__file__).parent / "bin"
    config = Path(tempfile.gettempdir()) / "shipyard-sqlparser.runtimeconfig.json"
    config.write_text(json.dumps({"runtimeOptions": {"tfm": "netcoreapp3.1", "framework": {
        "name": "Microsoft.NETCore.App", "version": _runtime_version(dotnet_root)}}}))
    set_runtime(get_coreclr(runtime_config=str(config), dotnet_root=str(dotnet_root)))
    import clr

    clr.AddReference(str(Path(mssqltoolsservice.__file__).parent / "bin" / "Microsoft.SqlServer.SqlParser.dll"))
    from Microsoft.SqlServer.Management.SqlParser.Common import DatabaseCompatibilityLevel, TransactSqlVersion
    from Microsoft.SqlServer.Management.SqlParser.Parser import ParseOptions, Parser

    return Parser, ParseOptions, DatabaseCompatibilityLevel, TransactSqlVersion


def _runtime_version(dotnet_root: Path) -> str:
    return sorted((dotnet_root / "shared" / "Microsoft.NETCore.App").iterdir())[-1].name


def parse(text: str, compatibility_level: int = 130) -> tuple[list[str], list[int]]:
    """(errors as `line N: message`, statements per batch) for T-SQL `text` cut on GO."""
    parser, options_type, levels, versions = _load()
    level, version = _LEVELS[compatibility_level]
    options = options_type()
    options.BatchSeparator = "GO"
    options.CompatibilityLevel = getattr(levels, level)
    options.TransactSqlVersion = getattr(versions, version)  # the grammar level: what gates syntax
    options.IsErrorRecoveryEnabled = False  # 7x faster; errors are still reported
    result = parser.Parse(text, options)
    errors = [f"line {e.Start.LineNumber}: {e.Message}" for e in result.Errors]
    counts = [batch.Statements.Count for batch in result.Script.Batches]
    return errors, counts


def gate(text: str, compatibility_level: int, expected_counts: list[int | None] | None = None) -> None:
    """Fail unless Microsoft's parser reads `text` without error (and, when given, with the
    number of statements per batch that Shipyard wrote; None: a user's module, any count)."""
    from deploy.db.render.verify import without_sqlcmd

    errors, counts = parse(without_sqlcmd(text), compatibility_level)
    STATS["scripts"] += 1
    if errors:
        STATS["rejected"] += 1
        raise AssertionError(f"Microsoft's T-SQL parser (level {compatibility_level}) rejects the script: "
                             f"{errors[:3]}\n{text[:2000]}")
    nonempty = [c for c in counts if c]  # the header's comment batch sends nothing
    if expected_counts is not None and (len(nonempty) != len(expected_counts) or any(
            want is not None and want != got for want, got in zip(expected_counts, nonempty))):
        STATS["rejected"] += 1
        raise AssertionError(f"Microsoft's T-SQL parser counts {nonempty} statements per batch, "
                             f"Shipyard wrote {expected_counts}\n{text[:2000]}")
    STATS["passed"] += 1
