"""One ALTER TABLE per table (MySQL copies or rebuilds the table per statement): every change
to a table becomes a clause of one statement, columns placed with FIRST / AFTER so the
table ends in the desired column order, moving as few columns as possible."""

from __future__ import annotations

from dataclasses import dataclass, field

from deploy.db.model import Check, Column, ForeignKey, Index, Key, Table
from deploy.db.mysql.ddl import SYSTEM_VERSIONING
from deploy.db.plan import Change

# table options that have no "unset": removing one from the desired table resets it so
RESETS = {"COMMENT": "COMMENT=''", "ROW_FORMAT": "ROW_FORMAT=DEFAULT", "KEY_BLOCK_SIZE": "KEY_BLOCK_SIZE=0",
          "STATS_PERSISTENT": "STATS_PERSISTENT=DEFAULT", "STATS_AUTO_RECALC": "STATS_AUTO_RECALC=DEFAULT",
          "STATS_SAMPLE_PAGES": "STATS_SAMPLE_PAGES=DEFAULT", "PACK_KEYS": "PACK_KEYS=DEFAULT", "CHECKSUM": "CHECKSUM=0",
          "DELAY_KEY_WRITE": "DELAY_KEY_WRITE=0", "PAGE_COMPRESSED": "PAGE_COMPRESSED=0", "MAX_ROWS": "MAX_ROWS=0",
          "MIN_ROWS": "MIN_ROWS=0", "TRANSACTIONAL": "TRANSACTIONAL=DEFAULT"}


@dataclass
class TableAlter:
    """The clauses of one table's ALTER, in the order MySQL needs within the statement."""

    drop_fks: list[str] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)
    renames: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    add_fks: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    partition: str | None = None
    fk_targets_added: set = field(default_factory=set)  # tables the new foreign keys point at
    fk_targets_dropped: set = field(default_factory=set)
    fk_names_added: set = field(default_factory=set)
    fk_columns_added: list = field(default_factory=list)

    def leading(self) -> list[str]:
        """Foreign keys dropped and re-added under the same name: InnoDB refuses both in one
        statement, so the drop runs first, on its own."""
        return [d for d in self.drop_fks if d.split(" ", 3)[3].lower() in self.fk_names_added]

    def clauses(self, with_fks: bool = True) -> list[str]:
        fks_dropped, fks_added = (self.drop_fks, self.add_fks) if with_fks else ([], [])
        fks_dropped = [d for d in fks_dropped if d not in self.leading()]
        return [*fks_dropped, *self.drops, *self.renames, *self.columns, *self.adds, *fks_added, *self.options]


def moved_columns(current: list[str], desired: list[str]) -> set[str]:
    """The columns to move: all but a longest run that is already in desired order."""
    wanted = [c for c in desired if c in current]
    index = {c: i for i, c in enumerate(wanted)}
    seq = [index[c] for c in current if c in index]
    best: list[list[int]] = []
    for i, value in enumerate(seq):  # O(n^2): tables have tens of columns, not thousands
        prior = [b for b in best if b[-1] < value]
        best.append((max(prior, key=len) if prior else []) + [value])
    keep = {wanted[v] for v in (max(best, key=len) if best else [])}
    return {c for c in wanted if c not in keep}


def replaced(before: Column, after: Column) -> bool:
    """A column that becomes or stops being generated, or changes VIRTUAL/STORED, cannot be
    modified in place (MariaDB refuses it): it is dropped and added again."""
    return bool(before.computed) != bool(after.computed) or (after.computed is not None and before.stored != after.stored)


def column_clauses(old: Table, new: Table, changed: set[str], column_def) -> list[str]:  # noqa: ANN001
    """ADD and MODIFY clauses in desired order, each new or moved column placed after its
    desired predecessor (MySQL applies the clauses of one ALTER in order)."""
    swapped = {c.name.lower() for c in new.columns if old.column(c.name) is not None and replaced(old.column(c.name), c)}
    current = [c.name.lower() for c in old.columns if new.column(c.name) is not None and c.name.lower() not in swapped]
    desired = [c.name.lower() for c in new.columns]
    moved = moved_columns(current, desired)
    out, previous = [f"DROP COLUMN {_q(old.column(k).name)}" for k in desired if k in swapped], None
    for col in new.columns:
        key = col.name.lower()
        place = f" AFTER {previous}" if previous else " FIRST"
        before = old.column(col.name)
        if before is None or key in swapped:
            out.append(f"ADD COLUMN {column_def(col)}{place}")
        elif key in moved or key in changed:
            verb = "MODIFY COLUMN" if before.name == col.name else f"CHANGE COLUMN {_q(before.name)}"
            out.append(f"{verb} {column_def(col)}{place if key in moved else ''}")
        previous = _q(col.name)
    return out


def option_clauses(old: tuple[str, ...], new: tuple[str, ...]) -> list[str]:
    """Options that changed, and a reset for each one the desired table no longer has."""
    def named(options: tuple[str, ...]) -> dict[str, str]:
        return {o.split("=", 1)[0]: o for o in options}

    was, wanted = named(old), named(new)
    was.pop(SYSTEM_VERSIONING, None), wanted.pop(SYSTEM_VERSIONING, None)
    out = [("ADD" if SYSTEM_VERSIONING in new else "DROP") + " SYSTEM VERSIONING"] \
        if (SYSTEM_VERSIONING in old) != (SYSTEM_VERSIONING in new) else []
    out += [o for k, o in wanted.items() if was.get(k) != o]
    charset_changed = was.get("DEFAULT CHARSET") != wanted.get("DEFAULT CHARSET")
    if charset_changed and "COLLATE" in wanted and wanted["COLLATE"] not in out:
        out.append(wanted["COLLATE"])  # a new charset brings its default collation unless restated
    out += [RESETS[k] for k in was if k not in wanted and k in RESETS]
    return out


def fk_text(fk: ForeignKey, q, qn) -> str:  # noqa: ANN001
    out = (f"CONSTRAINT {q(fk.name)} " if fk.name else "") + \
        f"FOREIGN KEY ({', '.join(q(c) for c in fk.columns)}) REFERENCES {qn(fk.ref_table)} ({', '.join(q(c) for c in fk.ref_columns)})"
    out += f" ON DELETE {fk.on_delete}" if fk.on_delete else ""
    return out + (f" ON UPDATE {fk.on_update}" if fk.on_update else "")


def constraint_clauses(c: Change, alter: TableAlter, q, qn, index_text) -> None:  # noqa: ANN001
    """Keys, checks, indexes and foreign keys of one change, as drop or add clauses."""
    thing = c.old if c.kind.startswith("drop") else c.new
    if c.kind == "drop_foreign_key":
        alter.drop_fks.append(f"DROP FOREIGN KEY {q(thing.name)}")
        alter.fk_targets_dropped.add(thing.ref_table.key)
    elif c.kind == "add_foreign_key":
        alter.add_fks.append(f"ADD {fk_text(thing, q, qn)}")
        alter.fk_targets_added.add(thing.ref_table.key)
        alter.fk_names_added.add(q(thing.name).lower() if thing.name else "")
        alter.fk_columns_added.append(tuple(col.lower() for col in thing.columns))
    elif isinstance(thing, Index) and c.kind == "drop_index":
        alter.drops.append(f"DROP INDEX {q(thing.name)}")  # adds are placed by index_order
    elif isinstance(thing, Check):
        alter.drops.append(f"DROP CONSTRAINT {q(thing.name)}") if c.kind == "drop_constraint" else \
            alter.adds.append(f"ADD {'CONSTRAINT ' + q(thing.name) + ' ' if thing.name else ''}CHECK ({thing.expression})")
    elif isinstance(thing, Key):
        alter.drops.append("DROP PRIMARY KEY") if c.kind == "drop_constraint" else \
            alter.adds.append(f"ADD {thing.source or 'PRIMARY KEY (' + ', '.join(q(k) for k in thing.columns) + ')'}")


def _index_class(ix: Index) -> int:
    """MariaDB lists a table's keys unique first, then plain, then fulltext; within a class in
    the order they were made, and an ALTER makes the keys it adds after the ones kept."""
    return 0 if ix.unique else 2 if ix.method == "fulltext" else 1


def index_order(desired: list[Index], kept: list[Index]) -> tuple[list[Index], list[Index]]:
    """(kept indexes to drop and make again, indexes to add in this order) so the table lists
    its keys exactly as `desired` does: per class the kept ones must be the first ones."""
    kept_keys = {ix.key for ix in kept}
    again: list[Index] = []
    adds: list[Index] = []
    for cls in (0, 1, 2):
        wanted = [ix for ix in desired if _index_class(ix) == cls]
        have = [ix.key for ix in kept if _index_class(ix) == cls]
        prefix = 0
        while prefix < len(wanted) and prefix < len(have) and wanted[prefix].key == have[prefix]:
            prefix += 1
        again += [ix for ix in wanted[prefix:] if ix.key in kept_keys]
        adds += wanted[prefix:]
    return again, adds


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


__all__ = ["TableAlter", "moved_columns", "column_clauses", "option_clauses", "constraint_clauses", "fk_text", "Column"]
