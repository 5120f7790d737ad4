#!/usr/bin/env python3
"""List the schema-diff test cases in tests/fixtures/ as JSON lines, one case per line.
(Vendored from the project's shared scorer, unchanged but for where the corpora live and the
held-out-style corpus `pgheld`: tests/fixtures/pgheld/<source>/cases/<name>_original.sql and
<name>_new.sql, cases taken from other public schema-diff suites, in apgdiff's layout.)

Usage: python3 iter_cases.py apgdiff|pgheld|sqlite3def|mssqldef|all [--summary]

Each line is a JSON object whose first four keys are the ones a scorer needs
(name, current, desired, enable_drop); the rest carry what the source test
suite knew about the case (expected up/down text, expected error, options, and
what the database must provide: roles, server version, login user).
A count summary goes to stderr so stdout stays pure JSON lines.
apgdiff needs only the standard library; the sqldef corpora need PyYAML.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

TESTDATA = Path(__file__).resolve().parent.parent / "fixtures"  # vendored: the corpora live in tests/fixtures
SQLDEF_TOOLS = ("sqlite3def", "mssqldef")
CORPORA = ("apgdiff", "pgheld", *SQLDEF_TOOLS)

# Owners and grantees that the apgdiff files name (OWNER TO / GRANT / REVOKE / POLICY ... TO).
# They are cluster-wide, so a scorer creates them once, before loading any case.
APGDIFF_ROLES = ["admin", "anonymous", "asi", "customer", "dv", "fordfrog", "intranet",
                 "krioweb2", "manager", "webuser"]
# apgdiff CLI flag for each PgDiffTest option (testdata/apgdiff/cases.json).
APGDIFF_FLAGS = {"addDefaults": "--add-defaults", "addTransaction": "--add-transaction",
                 "ignoreFunctionWhitespace": "--ignore-function-whitespace",
                 "ignoreStartWith": "--ignore-start-with"}


def sqldef_cases(tool: str) -> Iterator[dict[str, Any]]:
    """sqldef YAML: a mapping of case name -> case; enable_drop defaults to true."""
    import yaml  # only the sqldef corpora need PyYAML

    for path in sorted((TESTDATA / "sqldef" / tool).glob("tests*.yml")):
        for name, case in (yaml.safe_load(path.read_text()) or {}).items():
            case = case or {}
            requires = {key: case[key] for key in ("min_version", "max_version", "user") if key in case}
            yield {
                "name": name,
                "current": case.get("current") or "",
                "desired": case.get("desired") or "",
                "enable_drop": case.get("enable_drop", True),
                "corpus": f"sqldef/{tool}",
                "file": str(path.relative_to(TESTDATA)),
                "up": case.get("up"),
                "down": case.get("down"),
                "error": case.get("error"),
                "legacy_ignore_quotes": case.get("legacy_ignore_quotes", True),
                "requires": requires,
            }


def apgdiff_cases() -> Iterator[dict[str, Any]]:
    """apgdiff: <name>_original.sql (current) -> <name>_new.sql (desired); _diff.sql is apgdiff's output."""
    root = TESTDATA / "apgdiff"
    options: dict[str, dict[str, Any]] = json.loads((root / "cases.json").read_text())
    for original in sorted((root / "cases").glob("*_original.sql")):
        name = original.name[: -len("_original.sql")]
        opts = options.get(name, {})
        yield {
            "name": name,
            "current": original.read_text(),
            "desired": (root / "cases" / f"{name}_new.sql").read_text(),
            "enable_drop": True,
            "corpus": "apgdiff",
            "file": f"apgdiff/cases/{name}_*.sql",
            "up": (root / "cases" / f"{name}_diff.sql").read_text(),
            "down": None,
            "error": None,
            "apgdiff_options": {k: v for k, v in opts.items() if k in APGDIFF_FLAGS},
            "apgdiff_flags": [flag for key, flag in APGDIFF_FLAGS.items() if opts.get(key)],
            "pgdifftest_entries": opts.get("entries", 0),
            "requires": {"roles": APGDIFF_ROLES},
        }


def pgheld_cases() -> Iterator[dict[str, Any]]:
    """pgheld/<source>/: either apgdiff's layout (cases/<name>_original.sql, _new.sql) or
    sqldef's YAML (tests_*.yml); source.json names the roles the cases use."""
    for source_dir in sorted(p for p in (TESTDATA / "pgheld").iterdir() if (p / "source.json").is_file()):
        meta = json.loads((source_dir / "source.json").read_text())
        roles = meta.get("roles", [])
        for case in _pgheld_source(source_dir):
            case.update(name=f"{source_dir.name}/{case['name']}", corpus=f"pgheld/{source_dir.name}",
                        up=None, down=None, error=None, requires={"roles": roles})
            yield case


def _pgheld_source(source_dir: Path) -> Iterator[dict[str, Any]]:
    import yaml  # only the YAML sources need PyYAML

    for original in sorted((source_dir / "cases").glob("*_original.sql")):
        name = original.name[: -len("_original.sql")]
        yield {"name": name, "current": original.read_text(),
               "desired": (source_dir / "cases" / f"{name}_new.sql").read_text(), "enable_drop": True,
               "file": str(original.parent.relative_to(TESTDATA) / f"{name}_*.sql")}
    for path in sorted(source_dir.glob("tests*.yml")):
        for name, case in (yaml.safe_load(path.read_text()) or {}).items():
            yield {"name": f"{path.stem}/{name}", "current": case.get("current") or "",
                   "desired": case.get("desired") or "", "enable_drop": case.get("enable_drop", True),
                   "file": str(path.relative_to(TESTDATA))}


def cases_for(corpus: str) -> Iterator[dict[str, Any]]:
    if corpus in SQLDEF_TOOLS:
        return sqldef_cases(corpus)
    if corpus == "pgheld":
        return pgheld_cases()
    if corpus == "apgdiff":
        return apgdiff_cases()
    raise SystemExit(f"unknown corpus {corpus!r}; choose one of: {', '.join(CORPORA)}, all")


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    summary_only = "--summary" in argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    corpora = list(CORPORA) if args[0] == "all" else [args[0]]
    for corpus in corpora:
        total = with_up_down = no_drop = errors = 0
        for case in cases_for(corpus):
            total += 1
            with_up_down += case["up"] is not None and case["down"] is not None
            no_drop += not case["enable_drop"]
            errors += case["error"] is not None
            if not summary_only:
                print(json.dumps(case, ensure_ascii=False))
        print(f"{corpus}: {total} cases, {with_up_down} with up+down, "
              f"{no_drop} with enable_drop=false, {errors} expecting an error",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
