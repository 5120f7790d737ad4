"""MySQL statements from files: DELIMITER, compound bodies, versioned comments, dumps."""

from __future__ import annotations

import pytest

from deploy.db.mysql.split import commits_implicitly, runnable
from deploy.db.sqltext import split_statements

BODIES = """CREATE TABLE a (id int); -- trailing; comment
CREATE PROCEDURE p(x int)
BEGIN
  IF x > 0 THEN SELECT 'a;b'; ELSE SELECT 2; END IF;
  CASE x WHEN 1 THEN SELECT 1; ELSE BEGIN END; END CASE;
  lbl: LOOP LEAVE lbl; END LOOP lbl;
END;
CREATE VIEW v AS SELECT CASE WHEN id > 1 THEN 1 ELSE 0 END AS c FROM a;
DELIMITER //
CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.id = 1; END//
DELIMITER ;
INSERT INTO a VALUES ('it\\'s; fine');
"""


def test_bodies_run_to_their_end_and_delimiter_lines_are_honoured() -> None:
    found = split_statements(BODIES, "mysql")
    assert [s.text.split()[1] for s in found] == ["TABLE", "PROCEDURE", "VIEW", "TRIGGER", "INTO"]
    assert found[1].line == 2 and found[1].text.endswith("END LOOP lbl;\nEND")
    assert found[3].text.endswith("SET NEW.id = 1; END") and found[4].text.endswith("'it\\'s; fine')")


def test_versioned_comments_of_a_dump() -> None:
    dump = ("/*!40101 SET NAMES utf8mb4 */;\n/*!40014 SET FOREIGN_KEY_CHECKS=0 */;\n"
            "CREATE TABLE t (id int) ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (id) PARTITIONS 2 */;\n")
    found = split_statements(dump, "mysql")
    assert [s.text for s in found[:2]] == ["SET NAMES utf8mb4", "SET FOREIGN_KEY_CHECKS=0"]
    assert found[2].text.endswith("PARTITIONS 2 */")  # a comment the statement opens is closed
    assert [s.text for s in runnable(found)][0] == "SET FOREIGN_KEY_CHECKS=0"


@pytest.mark.parametrize(("sql", "commits"), [
    ("CREATE TABLE t (id int)", True), ("  create index i on t (a)", True), ("ALTER TABLE t ADD x int", True),
    ("DROP VIEW v", True), ("RENAME TABLE a TO b", True), ("TRUNCATE TABLE t", True), ("GRANT SELECT ON *.* TO u", True),
    ("CALL p()", True), ("CREATE TEMPORARY TABLE t (id int)", False), ("DROP TEMPORARY TABLE t", False),
    ("INSERT INTO t VALUES (1)", False), ("UPDATE t SET a = 1", False), ("DELETE FROM t", False),
    ("SELECT 'CREATE TABLE x'", False), ("REPLACE INTO t VALUES (1)", False), ("SET @a = 1", False),
])
def test_implicit_commits_are_told_by_the_first_keyword(sql, commits):
    assert commits_implicitly(sql) is commits
