"""Schema versions: apply the pending :data:`~pmtui.core.store.schema.MIGRATIONS`; refuse newer files."""

from __future__ import annotations

from datetime import UTC, datetime

from pmtui.core.store.base import StoreBase, log
from pmtui.core.store.schema import MIGRATIONS, SCHEMA_VERSION
from pmtui.errors import StoreSchemaError


class SchemaMixin(StoreBase):
    """The schema's version and migrations, and the table sizes `pmtui doctor` shows."""

    def _prepare_schema(self) -> None:
        """At open: migrate a writable file to the latest schema; only check a read-only one's version."""
        if not self.read_only:
            self.migrate()
        else:
            self._check_version()

    def version(self) -> int:
        """The schema version of the open file (0 for an empty file)."""
        with self._hold():
            # duckdb_tables(), not information_schema: the view costs 1 ms warm and 4 ms on a fresh
            # connection, and every process that opens the cache asks.
            exists = next(
                iter(self._rows("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version'")),
                None,
            )
            if not exists or not exists[0]:
                return 0
            row = next(iter(self._rows("SELECT max(version) FROM schema_version")), None)
            return int(row[0]) if row and row[0] is not None else 0

    def _check_version(self) -> int:
        """The file's version; StoreSchemaError when a newer pmtui wrote it."""
        current = self.version()
        if current > SCHEMA_VERSION:
            raise StoreSchemaError(
                f"the cache was written by a newer pmtui (schema {current}, this one knows {SCHEMA_VERSION})",
                hint="upgrade pmtui, or point PMTUI_HOME elsewhere",
            )
        return current

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply the pending migrations up to ``target`` (default: latest); returns those applied."""
        applied: list[int] = []
        with self._hold():
            current = self._check_version()
            pending = [
                migration
                for migration in MIGRATIONS
                if migration[0] > current and (target is None or migration[0] <= target)
            ]
            if not pending:  # every open of a current cache: one read, no statement that writes
                return applied
            dirty = self._dirty
            self._exec(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "description VARCHAR, applied_at TIMESTAMPTZ NOT NULL)"
            )
            # A no-op on an existing cache: it must not announce a change (front ends would reload, and
            # the answer cache would go stale). A new file's migrations below mark it.
            self._dirty = dirty
            for version, description, statements in pending:
                with self.transaction() as tx:
                    for statement in statements:
                        tx._exec(statement)
                    tx._exec(
                        "INSERT INTO schema_version VALUES (?, ?, ?)",
                        [version, description, datetime.now(UTC)],
                    )
                log.info("store migrated", extra={"version": version, "description": description})
                applied.append(version)
        return applied

    def table_counts(self) -> dict[str, int]:
        """Row counts of the main tables, for `pmtui doctor`."""
        counts: dict[str, int] = {}
        with self._hold():
            for name in (
                "tasks",
                "projects",
                "external_refs",
                "journal",
                "conflicts",
                "sync_runs",
                "decisions",
            ):
                row = next(iter(self._rows(f"SELECT count(*) FROM {name}")), None)
                counts[name] = int(row[0]) if row else 0
        return counts
