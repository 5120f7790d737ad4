"""What a MariaDB server itself says a database holds, for acceptance tests: SHOW CREATE TABLE
and SHOW CREATE VIEW texts (AUTO_INCREMENT counters taken out), and from information_schema
the columns, indexes, constraints, partitions, triggers, routines with their parameters, and
events (their STARTS, creation and alteration times taken out). Shares no code with Shipyard:
databases are loaded and scripts applied by the `mariadb` command-line client, and the
catalog is read with plain pyodbc queries."""

from __future__ import annotations

import re
import subprocess

_AUTO_INCREMENT = re.compile(r" AUTO_INCREMENT=\d+")

QUERIES = {
    "columns": "SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, "
               "GENERATION_EXPRESSION, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS "
               "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
    "indexes": "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, COLLATION, NON_UNIQUE, INDEX_TYPE, "
               "INDEX_COMMENT, IGNORED FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
               "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    "constraints": "SELECT t.TABLE_NAME, t.CONSTRAINT_NAME, t.CONSTRAINT_TYPE, r.REFERENCED_TABLE_NAME, r.UPDATE_RULE, "
                   "r.DELETE_RULE FROM information_schema.TABLE_CONSTRAINTS t LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
                   "ON r.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = t.CONSTRAINT_NAME "
                   "AND r.TABLE_NAME = t.TABLE_NAME WHERE t.CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2, 3",
    "checks": "SELECT TABLE_NAME, CONSTRAINT_NAME, LEVEL, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
              "WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2",
    "tables": "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, ROW_FORMAT, TABLE_COLLATION, CREATE_OPTIONS, TABLE_COMMENT "
              "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
    "partitions": "SELECT TABLE_NAME, PARTITION_NAME, SUBPARTITION_NAME, PARTITION_ORDINAL_POSITION, PARTITION_METHOD, "
                  "SUBPARTITION_METHOD, PARTITION_EXPRESSION, PARTITION_DESCRIPTION, PARTITION_COMMENT "
                  "FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL ORDER BY 1, 4, 2",
    "triggers": "SELECT TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_ORDER, ACTION_TIMING, ACTION_STATEMENT, "
                "ACTION_ORIENTATION, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1",
    "routines": "SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, IS_DETERMINISTIC, SQL_DATA_ACCESS, "
                "SECURITY_TYPE, DEFINER, ROUTINE_COMMENT FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1, 2",
    "parameters": "SELECT SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER "
                  "FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE() ORDER BY 1, 2, 3",
    "events": "SELECT EVENT_NAME, DEFINER, EVENT_BODY, EVENT_DEFINITION, EVENT_TYPE, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, "
              "ENDS, STATUS, ON_COMPLETION, EVENT_COMMENT FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() ORDER BY 1",
}


class Client:
    """The `mariadb` command-line client, as root over TCP from 127.0.0.1 (the account
    Shipyard's ODBC connections use too, so definers agree)."""

    def __init__(self, port: int):
        self.argv = ["mariadb", "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", str(port), "-uroot", "--batch",
                     "--skip-column-names"]

    def run(self, database: str, sql: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.argv, database], input=sql, capture_output=True, text=True, timeout=300)

    def rows(self, database: str, sql: str) -> list[list[str]]:
        done = self.run(database, sql)
        if done.returncode:
            raise RuntimeError(done.stderr.strip())
        return [line.split("\t") for line in done.stdout.splitlines()]

    def show_create(self, database: str, kind: str, name: str) -> str:
        return self.rows(database, f"SHOW CREATE {kind} `{name.replace('`', '``')}`")[0][1]


def describe(conn, database: str) -> dict:
    """Every information_schema query, and SHOW CREATE of each table and view, through a
    plain pyodbc connection (`conn`) switched to `database`."""
    cur = conn.cursor()
    cur.execute(f"USE `{database}`")
    out: dict = {name: [tuple(r) for r in cur.execute(query).fetchall()] for name, query in QUERIES.items()}
    out["create"] = {}
    for name, kind, *_ in out["tables"]:
        row = cur.execute(f"SHOW CREATE {'VIEW' if kind == 'VIEW' else 'TABLE'} `{name.replace('`', '``')}`").fetchone()
        out["create"][name] = _AUTO_INCREMENT.sub("", row[1])
    return out


def differences(a: dict, b: dict) -> list[str]:
    found = []
    for part in sorted(set(a) | set(b)):
        x, y = a.get(part), b.get(part)
        if part == "create":
            for name in sorted(set(x) | set(y)):
                if x.get(name) != y.get(name):
                    found.append(f"SHOW CREATE {name}: {str(x.get(name))[:400]!r} != {str(y.get(name))[:400]!r}")
        elif x != y:
            only_x = [r for r in x if r not in y]
            only_y = [r for r in y if r not in x]
            found.append(f"{part}: {only_x[:3]} != {only_y[:3]}")
    return found
