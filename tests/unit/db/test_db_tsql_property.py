"""Property: random column changes on tables with random dependents (indexes, keys, foreign
keys, defaults, checks, computed columns, SCHEMABINDING views) give a script that both T-SQL
parsers read (tests/conftest.py gates every script) and that, applied to the model in
memory, leaves nothing to change."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.render import render
from tests.integration.db.db_tsql_apply import apply_tsql

TYPES = ["int", "bigint", "varchar(10)", "varchar(40)", "nvarchar(20)", "nvarchar(max)", "decimal(10,2)", "decimal(12,2)"]
COLLATIONS = [None, "Latin1_General_CS_AS", "SQL_Latin1_General_CP1_CI_AS"]
N = 4


@st.composite
def column(draw, i: int) -> dict:
    typ = draw(st.sampled_from(TYPES))
    text = "char" in typ
    return {"name": f"c{i}", "type": typ, "null": draw(st.booleans()), "default": draw(st.sampled_from([None, "0", "1"])),
            "collation": draw(st.sampled_from(COLLATIONS)) if text else None}


@st.composite
def dependents(draw) -> dict:
    cols = list(range(N))
    return {"pk": draw(st.sampled_from([None, 0, 1])), "index": draw(st.lists(st.sampled_from(cols), min_size=0, max_size=2, unique=True)),
            "check": draw(st.sampled_from([None, *cols])), "computed": draw(st.sampled_from([None, *cols])),
            "fk": draw(st.booleans()), "view": draw(st.lists(st.sampled_from(cols), max_size=2, unique=True))}


def _col_sql(c: dict, in_pk: bool) -> str:
    out = f"[{c['name']}] {c['type']}"
    out += f" COLLATE {c['collation']}" if c["collation"] else ""
    out += " NOT NULL" if (in_pk or not c["null"]) else " NULL"
    return out + (f" DEFAULT ({c['default']})" if c["default"] is not None and "max" not in c["type"] else "")


def schema_sql(cols: list[dict], dep: dict) -> str:
    pk = dep["pk"] if dep["pk"] is not None and "max" not in cols[dep["pk"]]["type"] else None
    parts = [_col_sql(c, i == pk) for i, c in enumerate(cols)]
    if dep["computed"] is not None:
        parts.append(f"[calc] AS ([{cols[dep['computed']]['name']}])")
    if pk is not None:
        parts.append(f"CONSTRAINT [pk_p] PRIMARY KEY ([c{pk}])")
    if dep["check"] is not None:
        parts.append(f"CONSTRAINT [ck_p] CHECK ([c{dep['check']}] IS NOT NULL OR 1 = 1)")
    out = f"CREATE TABLE dbo.p ({', '.join(parts)})\nGO\n"
    keyed = [i for i in dep["index"] if "max" not in cols[i]["type"]]
    if keyed:
        out += f"CREATE INDEX ix_p ON dbo.p ({', '.join(f'[c{i}]' for i in keyed)})\nGO\n"
    if dep["fk"] and pk is not None:
        out += (f"CREATE TABLE dbo.child (id int NOT NULL PRIMARY KEY, ref {cols[pk]['type']} NULL,"
                f" CONSTRAINT fk_child FOREIGN KEY (ref) REFERENCES dbo.p ([c{pk}]))\nGO\n")
    if dep["view"]:
        out += f"CREATE VIEW dbo.pv WITH SCHEMABINDING AS SELECT {', '.join(f'[c{i}]' for i in dep['view'])} FROM dbo.p\nGO\n"
    return out


def changed(cols: list[dict], draw_changes: list[dict]) -> list[dict]:
    return [{**c, **{k: v for k, v in ch.items() if k != "collation" or "char" in (ch.get("type") or c["type"])}}
            for c, ch in zip(cols, draw_changes)]


CHANGE = st.fixed_dictionaries({}, optional={"type": st.sampled_from(TYPES), "null": st.booleans(),
                                             "default": st.sampled_from([None, "0", "5"]), "collation": st.sampled_from(COLLATIONS)})


@settings(max_examples=int(os.environ.get("SHIPYARD_PROPERTY_EXAMPLES", "50")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cols=st.tuples(*[column(i) for i in range(N)]), dep=dependents(), changes=st.lists(CHANGE, min_size=N, max_size=N))
def test_random_column_changes_with_dependents_reach_desired(cols, dep, changes) -> None:
    before = list(cols)
    after = changed(before, changes)
    for c in after:  # a collation only on character types
        c["collation"] = c["collation"] if "char" in c["type"] else None
    current, desired = from_text(schema_sql(before, dep), "tsql"), from_text(schema_sql(after, dep), "tsql")
    script = render(diff(current, desired)).text()
    left = diff(apply_tsql(current, script), desired).changes
    assert [c.describe() for c in left] == [], script
