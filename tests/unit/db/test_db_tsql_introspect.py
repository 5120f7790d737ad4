"""SQL Server introspection without a SQL Server: the catalog queries must be T-SQL a real
parser reads fully, and rows shaped like sys.* must assemble into the model that the same
schema written as a file gives (so a live compare would be empty)."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.introspect import tsql
from deploy.db.model import QName

DESIRED = """
CREATE TABLE dbo.author (id int IDENTITY(1,1) NOT NULL PRIMARY KEY, name nvarchar(100) NOT NULL,
  email varchar(max) NULL, created datetime2 NOT NULL DEFAULT (sysutcdatetime()), CONSTRAINT uq_author_name UNIQUE (name))
GO
CREATE TABLE dbo.post (id int NOT NULL, author_id int NOT NULL, price decimal(10,2) NULL, total AS (price * 2),
  CONSTRAINT pk_post PRIMARY KEY (id), CONSTRAINT ck_price CHECK (price >= 0),
  CONSTRAINT fk_post_author FOREIGN KEY (author_id) REFERENCES dbo.author (id) ON DELETE CASCADE)
GO
CREATE INDEX ix_post_author ON dbo.post (author_id, price DESC) WHERE price IS NOT NULL
GO
CREATE NONCLUSTERED COLUMNSTORE INDEX cs_author ON dbo.author (name, email)
GO
CREATE VIEW dbo.cheap AS SELECT id FROM dbo.post WHERE price < 10
GO
CREATE TRIGGER dbo.post_touch ON dbo.post AFTER UPDATE AS
BEGIN
  SET NOCOUNT ON;
END
GO
"""

ROWS = {
    tsql.SCHEMAS: [],
    tsql.TABLES: [(1, "dbo", "author"), (2, "dbo", "post")],
    tsql.COLUMNS: [
        (1, "id", "int", 4, 10, 0, 0, 1, None, None, None, None),
        (1, "name", "nvarchar", 200, 0, 0, 0, 0, None, None, None, "SQL_Latin1_General_CP1_CI_AS"),
        (1, "email", "varchar", -1, 0, 0, 1, 0, None, None, None, "SQL_Latin1_General_CP1_CI_AS"),
        (1, "created", "datetime2", 8, 27, 7, 0, 0, None, "DF__author__created__3B75D760", "(sysutcdatetime())", None),
        (2, "id", "int", 4, 10, 0, 0, 0, None, None, None, None),
        (2, "author_id", "int", 4, 10, 0, 0, 0, None, None, None, None),
        (2, "price", "decimal", 9, 10, 2, 1, 0, None, None, None, None),
        (2, "total", "decimal", 9, 13, 2, 1, 0, "([price]*(2))", None, None, None),
    ],
    tsql.KEYS: [(1, "PK__author__3213E83F", "PK", "id"), (1, "uq_author_name", "UQ", "name"), (2, "pk_post", "PK", "id")],
    tsql.CHECKS: [(2, "ck_price", "([price]>=(0))")],
    tsql.FOREIGN_KEYS: [(2, "fk_post_author", "dbo", "author", "author_id", "id", "CASCADE", "NO_ACTION")],
    tsql.INDEXES: [("dbo", "post", "ix_post_author", False, "([price] IS NOT NULL)", 2, "author_id", False),
                   ("dbo", "post", "ix_post_author", False, "([price] IS NOT NULL)", 2, "price", True),
                   ("dbo", "author", "cs_author", False, None, 6, "name", False),
                   ("dbo", "author", "cs_author", False, None, 6, "email", False)],
    tsql.MODULES: [
        ("V ", "dbo", "cheap", "CREATE VIEW dbo.cheap AS SELECT id FROM dbo.post WHERE price < 10", None, None),
        ("TR", "dbo", "post_touch", "CREATE TRIGGER dbo.post_touch ON dbo.post AFTER UPDATE AS\nBEGIN\n  SET NOCOUNT ON;\nEND",
         "dbo", "post"),
    ],
    tsql.SEQUENCES: [],
    tsql.VERSION: [("13.0.5026.0", 130)],
}


class CatalogRows:
    """Stands in for a pyodbc connection: answers each catalog query with its rows."""

    def cursor(self):
        return self

    def __init__(self, version=("13.0.5026.0", 130)):
        self.version, self.asked = version, []

    def execute(self, query):
        self.asked.append(query)
        self._rows = [self.version] if query == tsql.VERSION else ROWS[query]
        return self

    def fetchall(self):
        return self._rows


@pytest.mark.parametrize("query", tsql.QUERIES)
def test_catalog_queries_are_tsql(query: str) -> None:
    trees = sqlglot.parse(query, read="tsql")
    assert len(trees) == 1 and isinstance(trees[0], exp.Select)


def test_catalog_rows_assemble_to_the_file_model() -> None:
    live = tsql.introspect_tsql(CatalogRows())
    assert [c.describe() for c in diff(live, from_text(DESIRED, "tsql")).changes] == []
    author = live.table(QName("dbo", "author"))
    assert author.column("created").default_name == "DF__author__created__3B75D760"
    assert author.column("name").type == "nvarchar(100)" and author.column("email").type == "varchar(max)"
    assert live.table(QName("dbo", "post")).foreign_keys[0].on_delete == "CASCADE"


def test_a_changed_catalog_is_a_difference() -> None:
    desired = from_text(DESIRED.replace("price decimal(10,2)", "price decimal(12,2)"), "tsql")
    kinds = [c.describe() for c in diff(tsql.introspect_tsql(CatalogRows()), desired).changes]
    assert "alter_column dbo.post.price" in kinds


@pytest.mark.parametrize(("version", "label", "sequences"), [
    (("10.50.6000.34", 100), "2008R2", False), (("11.0.7001.0", 110), "2012", True),
    (("13.0.1601.5", 130), "2014", True),  # 2016 RTM: no CREATE OR ALTER yet
    (("13.0.5026.0", 130), "2016", True), (("15.0.2000.5", 100), "2008R2", False),  # 2019 server, level-100 database
    (("16.0.1000.6", 160), "2022", True)])
def test_the_oldest_reported_version_is_the_target(version, label, sequences) -> None:
    rows = CatalogRows(version)
    live = tsql.introspect_tsql(rows)
    assert live.server_version == label
    assert (tsql.SEQUENCES in rows.asked) is sequences  # sys.sequences is 2012+: never asked before


def test_collation_is_read_and_kept() -> None:
    live = tsql.introspect_tsql(CatalogRows())
    assert live.table(QName("dbo", "author")).column("name").collation == "SQL_Latin1_General_CP1_CI_AS"
