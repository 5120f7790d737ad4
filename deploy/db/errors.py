"""Database errors: each names what a DBA needs to act (file and line, server and driver,
the failing statement and its batch with the server's message)."""

from __future__ import annotations

from deploy.errors import ShipyardError


class SchemaDifferences(ShipyardError):
    """`db.diff` found differences: exit 2 so CI can gate on it."""

    exit_code = 2

    def __init__(self, count: int):
        self.count = count
        super().__init__(f"{count} schema change(s) found")


class DataDifferences(ShipyardError):
    """`db.data-diff` found rows to change: exit 2, like a schema difference."""

    exit_code = 2

    def __init__(self, count: int):
        self.count = count
        super().__init__(f"{count} reference-data row change(s) found")


class DestructiveRefused(ShipyardError):
    """The change drops or narrows something and --allow-destructive was not given."""

    exit_code = 3

    def __init__(self, changes: list[str]):
        self.changes = changes
        listed = "\n  ".join(changes)
        super().__init__(f"refusing {len(changes)} destructive change(s) without --allow-destructive:\n  {listed}")


class SqlFileError(ShipyardError):
    """A statement in the `sql/` tree cannot be read."""

    exit_code = 2

    def __init__(self, file: str, line: int, statement: str, message: str):
        self.file, self.line, self.statement = file, line, statement
        first = statement.strip().splitlines()[0] if statement.strip() else ""
        super().__init__(f"{file}:{line}: {message}\n  in: {first[:200]}")


class DbConnectError(ShipyardError):
    """The database server could not be reached or refused the login."""

    def __init__(self, server: str, driver: str, message: str):
        self.server, self.driver = server, driver
        super().__init__(f"cannot connect to {server} with ODBC driver {driver!r}: {message}")


class StatementFailed(ShipyardError):
    """A statement of a script failed on the server; nothing after it ran."""

    def __init__(self, statement: str, batch: int, message: str, source: str = "script", hint: str = ""):
        self.statement, self.batch, self.server_message, self.source = statement, batch, message, source
        self.hint = hint  # what the server's error means for this script, and what to do
        super().__init__(f"{source}: batch {batch} failed: {message}\n  statement: {statement.strip()[:500]}"
                         + (f"\n  {hint}" if hint else ""))

    def take_place_of(self, failed: StatementFailed) -> None:
        """For a subclass that says more about a failure: the same statement, batch and message."""
        self.statement, self.batch, self.server_message, self.source = (failed.statement, failed.batch,
                                                                        failed.server_message, failed.source)
        self.hint = failed.hint


class PartlyApplied(StatementFailed):
    """A statement of a non-transactional script failed after earlier ones were committed."""

    def __init__(self, failed: StatementFailed, applied: int, total: int, checkpoint: object, snapshot: object):
        self.applied, self.total, self.checkpoint, self.snapshot = applied, total, checkpoint, snapshot
        done = f"statements 1-{applied} of {total} were applied and committed" if applied else "no statement was applied"
        ShipyardError.__init__(self, (
            f"{failed.source}: statement {failed.batch} of {total} failed: {failed.server_message}\n"
            f"  statement: {failed.statement.strip()[:500]}\n"
            f"  {done} (MySQL runs DDL outside any transaction); progress is in {checkpoint}.\n"
            f"  To resume, fix the cause and run the sync again: it starts from the live schema.\n"
            f"  To go back, sync to the schema as it was: invoke db.sync --apply --to {snapshot}"))
        self.take_place_of(failed)


class TailFailed(StatementFailed):
    """A statement of the non-transactional tail (CREATE INDEX CONCURRENTLY...) failed after
    the transaction committed: what it committed stays, and what the step left is named."""

    def __init__(self, failed: StatementFailed, committed: int, left_behind: list[str]):
        self.committed, self.left_behind = committed, left_behind
        invalid = "".join(f"\n  index {name} was left INVALID (no query uses it): run the sync again once the "
                          f"cause is fixed (it rebuilds invalid indexes), or drop it with DROP INDEX CONCURRENTLY"
                          for name in left_behind)
        ShipyardError.__init__(self, (
            f"{failed.source}: batch {failed.batch} (outside the transaction) failed: {failed.server_message}\n"
            f"  statement: {failed.statement.strip()[:500]}\n"
            f"  the transaction before it committed ({committed} statement(s)); the online index changes before "
            f"this one are done, the ones after it did not run{invalid}" + (f"\n  {failed.hint}" if failed.hint else "")))
        self.take_place_of(failed)


class MigrationPartlyApplied(StatementFailed):
    """A MySQL migration failed after a statement that commits implicitly (DDL): what ran
    before it stays, and the script is not journaled."""

    def __init__(self, failed: StatementFailed, file: str, committed: int, total: int):
        self.file, self.committed, self.total = file, committed, total
        ShipyardError.__init__(self, (
            f"{failed}\n  MySQL commits DDL implicitly: statements 1-{committed} of {total} of {file} stayed applied "
            f"and committed; the rest were rolled back and the migration is not journaled.\n"
            f"  Undo those statements by hand, or make the script safe to run again (CREATE TABLE IF NOT EXISTS, "
            f"ADD COLUMN IF NOT EXISTS ...), then run db.migrate again."))
        self.take_place_of(failed)


class MigrationChanged(ShipyardError):
    """An already-applied migration file was edited: its checksum no longer matches the journal."""

    exit_code = 2

    def __init__(self, file: str, recorded: str, actual: str):
        self.file = file
        super().__init__(f"{file}: changed after it was applied (journal checksum {recorded[:12]}, file now {actual[:12]})")


class RenderError(ShipyardError):
    """A change cannot be expressed in the target dialect; nothing is applied."""

    exit_code = 2


class IntrospectionFailed(ShipyardError):
    """A catalog could not be read (typically a missing privilege): names which one."""

    exit_code = 2

    def __init__(self, catalog: str, message: str):
        self.catalog = catalog
        super().__init__(f"cannot read {catalog}: {message}")
