"""pg_depend rows name columns by number (objsubid); the reader names them from each
relation's column names, by attnum once a column was dropped. (The same on a real server:
tests/integration/db/test_pg_dump_oracle.py orders every case by these edges.)"""

from __future__ import annotations

from deploy.db.postgres.read_relations import read_relations
from deploy.db.postgres.reader import PG_ATTRDEF, PG_CLASS, PG_CONSTRAINT, Reader

T, V, SEQ = ("table", "public", "t"), ("view", "public", "v"), ("sequence", "public", "t_f_seq")


def _reader() -> Reader:
    r = Reader(set())
    read_relations(r, [
        [10, "public", "t", "r", 11, 12, "{}", ["b", "c", "f"], [2, 3, 5]],  # columns 1 and 4 were dropped
        [20, "public", "v", "v", 21, 22, "{}", ["c", "f"], None],
    ])
    r.map(PG_CLASS, 30, SEQ)
    r.map(PG_CONSTRAINT, 40, ("constraint", "public", "t", "t_pkey"))
    return r


def test_columns_are_named_by_attnum_after_a_drop() -> None:
    r = _reader()
    r.dependencies([
        [PG_CLASS, 20, 0, PG_CLASS, 10, 3, "n"],  # the view uses t's third live column, attnum 3: "c"
        [PG_CLASS, 20, 0, PG_CLASS, 10, 5, "n"],  # attnum 5: "f"
        [PG_CONSTRAINT, 40, 0, PG_CLASS, 10, 2, "a"],  # attnum 2: "b"
        [PG_ATTRDEF, 10, 5, PG_CLASS, 30, 0, "n"],  # f's default uses the sequence
    ])
    assert r.cat.deps[V] == {("column", T, "c"), ("column", T, "f")}
    assert r.cat.deps[("constraint", "public", "t", "t_pkey")] == {("column", T, "b")}
    assert r.cat.deps[("default", T, "f")] == {SEQ}


def test_unknown_objects_are_dropped_and_unknown_columns_fall_back_to_their_relation() -> None:
    r = _reader()
    r.dependencies([
        [PG_CLASS, 20, 0, PG_CLASS, 99, 1, "n"],  # a relation that was not read (a toast table)
        [PG_ATTRDEF, 99, 1, PG_CLASS, 30, 0, "n"],  # a default of a relation not read
        [PG_CLASS, 20, 0, PG_CLASS, 20, 1, "n"],  # the view on its own column
    ])
    assert r.cat.deps == {}
    r.dependencies([[PG_CLASS, 30, 0, PG_CLASS, 10, 4, "n"]])  # a number with no live column: the table
    assert r.cat.deps == {SEQ: {T}}


def test_contiguous_columns_are_named_by_position() -> None:
    r = _reader()
    r.dependencies([[PG_CLASS, 30, 0, PG_CLASS, 20, 1, "n"], [PG_CLASS, 30, 0, PG_CLASS, 20, 2, "n"]])
    assert r.cat.deps[SEQ] == {("column", V, "c"), ("column", V, "f")}
