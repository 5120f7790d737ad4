"""MySQL reading and rendering without a server: SHOW CREATE texts as MySQL 5.7 / 8.0 print
them (MariaDB is tested for real), column placement, key order, options, renames by server
version. What the server does with the results is tested in tests/integration/db."""

from __future__ import annotations

from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.model import Column, Index, IndexPart, QName
from deploy.db.mysql.alter import index_order, moved_columns, option_clauses
from deploy.db.mysql.types import mysql_widening
from deploy.db.renames import Rename
from deploy.db.render import render

MYSQL80 = """CREATE TABLE `orders` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `code` varchar(20) COLLATE utf8mb4_bin NOT NULL,
  `qty` int NOT NULL DEFAULT '1',
  `made` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (`id`),
  UNIQUE KEY `code` (`code`),
  KEY `lower_code` ((lower(`code`))) /*!80000 INVISIBLE */,
  CONSTRAINT `qty_positive` CHECK ((`qty` > 0)) /*!80016 NOT ENFORCED */
) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci
/*!50100 PARTITION BY HASH (`id`)
PARTITIONS 4 */"""


def test_mysql80_show_create_table_reads_into_the_model() -> None:
    schema = from_text(MYSQL80, "mysql")
    table = schema.table(QName(None, "orders"))
    assert [c.name for c in table.columns] == ["id", "code", "qty", "made"]
    assert table.column("id").type == "bigint unsigned" and table.column("id").identity
    assert table.column("code").collation == "utf8mb4_bin" and "COLLATE" not in table.column("code").source
    assert table.column("made").source == "NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
    assert "AUTO_INCREMENT=42" not in " ".join(table.options) and "COLLATE=utf8mb4_0900_ai_ci" in table.options
    assert table.partition == "PARTITION BY HASH (`id`) PARTITIONS 4"
    assert [ch.name for ch in table.checks] == ["qty_positive"]
    functional = next(ix for ix in schema.indexes.values() if ix.name == "lower_code")
    assert functional.columns[0].expression == "(lower(`code`))" and "INVISIBLE" in functional.source


def test_mysql57_display_widths_and_zerofill() -> None:
    schema = from_text("CREATE TABLE `t` (\n  `n` int(10) unsigned zerofill NOT NULL,\n  `b` tinyint(1) DEFAULT NULL,\n"
                       "  KEY `n` (`n`) USING BTREE COMMENT 'by n'\n) ENGINE=MyISAM DEFAULT CHARSET=latin1", "mysql")
    table = schema.table(QName(None, "t"))
    assert table.column("n").type == "int(10) unsigned zerofill" and not table.column("n").nullable
    assert next(iter(schema.indexes.values())).source == "KEY `n` (`n`) USING BTREE COMMENT 'by n'"
    assert table.options == ("ENGINE=MyISAM", "DEFAULT CHARSET=latin1")


def test_one_alter_per_table_with_positions_and_backticks_doubled() -> None:
    old = from_text("CREATE TABLE `we``ird` (id int, a int, b int, c int);", "mysql")
    new = from_text("CREATE TABLE `we``ird` (id int, c int, x int, a int, b bigint);", "mysql")
    text = render(diff(old, new)).text()
    statements = [s for s in text.split(";") if "ALTER TABLE" in s]
    assert len(statements) == 1 and "ALTER TABLE `we``ird`" in statements[0]
    assert "MODIFY COLUMN `c` int AFTER `id`" in text and "ADD COLUMN `x` int AFTER `c`" in text
    assert "MODIFY COLUMN `b` bigint" in text and "not transactional" in text


def test_fewest_columns_move() -> None:
    assert moved_columns(["a", "b", "c", "d"], ["b", "c", "d", "a"]) == {"a"}
    assert moved_columns(["a", "b", "c"], ["a", "b", "c"]) == set()
    assert len(moved_columns(["a", "b", "c", "d"], ["d", "c", "b", "a"])) == 3


def test_rename_column_by_server_version() -> None:
    old = from_text("CREATE TABLE t (id int, fullname varchar(10) NOT NULL);", "mysql")
    new = from_text("CREATE TABLE t (id int, full_name varchar(10) NOT NULL);", "mysql")
    hint = [Rename.parse("column:t.fullname=full_name", "mysql")]
    for server, expected in (("10.11.6-MariaDB", "RENAME COLUMN `fullname` TO `full_name`"),
                             ("10.4.32-MariaDB", "CHANGE COLUMN `fullname` `full_name` varchar(10) NOT NULL"),
                             ("8.0.36", "RENAME COLUMN"), ("5.7.44-log", "CHANGE COLUMN `fullname` `full_name`")):
        old.server_version = server
        assert expected in render(diff(old, new, hint)).text(), server


def _ix(name: str, unique: bool = False, method: str | None = None) -> Index:
    return Index(name, QName(None, "t"), (IndexPart(column=name),), unique, method=method)


def test_keys_added_in_the_order_the_server_lists_them() -> None:
    a, b, c, u = _ix("a"), _ix("b"), _ix("c"), _ix("u", unique=True)
    assert index_order([u, a, b], [a, b]) == ([], [u])  # a unique key is listed first anyway
    assert index_order([a, c, b], [a, b]) == ([b], [c, b])  # c goes between: b is made again
    assert index_order([a, b], [b, a]) == ([a, b], [a, b])


def test_options_reset_when_removed() -> None:
    assert option_clauses(("ENGINE=InnoDB", "COMMENT='x'"), ("ENGINE=InnoDB",)) == ["COMMENT=''"]
    assert option_clauses(("DEFAULT CHARSET=utf8mb4", "COLLATE=utf8mb4_general_ci"),
                          ("DEFAULT CHARSET=latin1", "COLLATE=latin1_swedish_ci")) == [
        "DEFAULT CHARSET=latin1", "COLLATE=latin1_swedish_ci"]


def test_which_mysql_changes_lose_data() -> None:
    def col(typ: str, charset: str | None = None, computed: str | None = None) -> Column:
        return Column("c", typ, charset=charset, computed=computed)

    assert mysql_widening(col("int(11)"), col("bigint(20)")) and not mysql_widening(col("bigint"), col("int"))
    assert mysql_widening(col("varchar(10)"), col("varchar(20)")) and mysql_widening(col("text"), col("longtext"))
    assert not mysql_widening(col("int"), col("int unsigned"))
    assert mysql_widening(col("enum('a','b')"), col("enum('a','b','c')")) and not mysql_widening(col("enum('a','b')"), col("enum('b','a')"))
    assert not mysql_widening(col("varchar(9)", "utf8mb4"), col("varchar(9)", "latin1"))
    assert not mysql_widening(col("int"), col("int", computed="a + 1"))


def test_runs_of_spaces_inside_names_and_strings_are_kept() -> None:
    """Whitespace between tokens folds to one space; inside a quoted name or string it is data."""
    schema = from_text("CREATE TABLE `t  1` (\n  `a  b` varchar(9) NOT NULL DEFAULT 'x  y'  COMMENT 'c   d',\n"
                       "  KEY `k  1` (`a  b`)   COMMENT 'i  j'\n) ENGINE=InnoDB", "mysql")
    table = schema.table(QName(None, "t  1"))
    assert table.column("a  b").source == "NOT NULL DEFAULT 'x  y' COMMENT 'c   d'"
    index = next(ix for ix in schema.indexes.values() if ix.name == "k  1")
    assert index.columns[0].column == "a  b" and "COMMENT 'i  j'" in index.source
