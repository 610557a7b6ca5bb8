"""The Delta Lake mirror: the cache's tables copied into Delta tables that Databricks (Spark) reads.

Design (docs/databricks.md has the reader's view):

* **Change detection is by content, not by clock.** Each Delta row carries ``row_hash``, the MD5 of the
  row's canonical JSON. A mirror run hashes the cache's rows in DuckDB, reads only the key and hash columns
  of the Delta table, and MERGEs the rows whose hash is new or different. Timestamps alone would miss
  changes: a task pulled from a service keeps that service's ``updated_at`` (possibly older than the last
  mirror), and a conflict's resolution or a ref's merge base changes no timestamp at all.
* **Watermarks** (``mirror_watermarks``) record, per table, the instant of the cache snapshot that the Delta
  table now holds: every change made to the cache before it is in the mirror. A table whose mirror failed
  keeps its old watermark, which is how status shows a stale mirror.
* **Deletes.** Tasks and projects are never removed from the cache (``deleted`` is their tombstone), so the
  flag is mirrored like any column. Rows the cache removes for real (an external ref unlinked, a comment
  dropped) are deleted from the Delta table in the same MERGE, so the mirror equals the cache row for row.
* **Types are plain** so Unity Catalog registers the tables as they are: string, bigint, double, boolean,
  date, timestamp (UTC-aware, which keeps the protocol at reader 1 / writer 2) and ``array<string>`` for
  labels; JSON columns become strings. A column the cache gains is added by the MERGE (schema evolution).
* **Appends.** When every changed row has a key the table does not hold yet (new decisions, new sync
  runs: the common case), the rows are appended instead: the same result without scanning the table.
* **Small files.** One MERGE writes at least one file; once a table has ``compact_after_files`` files it is
  compacted, then vacuumed with ``vacuum_retention_hours`` (vacuum only after a compaction: listing a
  cloud folder on every sync costs more than the files it would remove).
* **Failure never blocks sync.** :func:`mirror_after_sync` never raises: a failure is logged, recorded as a
  decision (``kind="sync"``, reason ``"mirror failed: ..."``) that the sync status reads, and the next run
  retries it; since the diff is against the Delta table itself, nothing is lost in between.

``deltalake`` is imported inside functions only: it must stay off the start path of the TUI and
``pmtui briefing``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pmtui.errors import PmtuiError
from pmtui.models import Decision, Service

if TYPE_CHECKING:
    import pyarrow as pa

    from pmtui.config import Settings
    from pmtui.core.store import Store

log = logging.getLogger("pmtui.mirror")

HASH_COLUMN = "row_hash"
"""The Delta-only column holding the MD5 of the row's canonical JSON (the change detector)."""

MIRROR_REQUEST_ID = "mirror"
"""``request_id`` of the decisions the mirror records (failures and recoveries)."""

FAILED_PREFIX = "mirror failed: "
RECOVERED_PREFIX = "mirror recovered: "


@dataclass(frozen=True)
class MirrorTable:
    """One cache table the mirror copies, with its primary key."""

    name: str
    keys: tuple[str, ...]


TABLES: tuple[MirrorTable, ...] = (
    MirrorTable("tasks", ("id",)),
    MirrorTable("projects", ("id",)),
    MirrorTable("external_refs", ("service", "entity", "external_id")),
    MirrorTable("sync_runs", ("id",)),
    MirrorTable("decisions", ("id",)),
    MirrorTable("conflicts", ("id",)),
    MirrorTable("comments", ("id",)),
)
"""The mirrored tables. The journal, cursors and milestones stay local: they are the engine's bookkeeping."""

TABLE_NAMES = tuple(t.name for t in TABLES)


class MirrorError(PmtuiError):
    """The mirror could not be written (target unreachable or unwritable, missing credential, ...)."""


@dataclass
class TableReport:
    """What one mirror run did to one table."""

    table: str
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    files: int = 0
    version: int | None = None
    created: bool = False
    compacted: bool = False
    vacuumed: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def merged(self) -> int:
        """Rows written or removed by this run."""
        return self.inserted + self.updated + self.deleted


@dataclass
class MirrorReport:
    """The outcome of one mirror run over every table."""

    target: str
    tables: list[TableReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every table was mirrored."""
        return all(t.error is None for t in self.tables)

    @property
    def failed(self) -> list[TableReport]:
        """The tables that could not be mirrored (retried next run)."""
        return [t for t in self.tables if t.error is not None]

    @property
    def merged(self) -> int:
        """Rows written or removed over every table."""
        return sum(t.merged for t in self.tables)

    def error_text(self) -> str | None:
        """One line naming the failed tables and the first error, or None when everything was mirrored."""
        failed = self.failed
        if not failed:
            return None
        names = ", ".join(t.table for t in failed)
        return f"{names}: {failed[0].error}"


# ------------------------------------------------------------------------------------ configuration


def default_target() -> str:
    """The mirror folder inside the data folder."""
    from pmtui import paths

    return str(paths.data_dir() / "mirror")


def resolve_target(settings: Settings | None, override: str | None = None) -> str:
    """The target URI or folder: ``override``, else the configured one, else the default folder."""
    target = override or (settings.mirror.target if settings is not None else None) or default_target()
    return target.rstrip("/") if "://" in target else os.path.expanduser(target)


def resolve_storage_options(options: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """The storage options with ``env:NAME`` values read from the environment.

    A missing variable is an error naming the variable, never the other values.
    """
    environ = dict(os.environ) if environ is None else environ
    resolved: dict[str, str] = {}
    for key, value in options.items():
        if value.startswith("env:"):
            name = value[4:]
            if name not in environ:
                raise MirrorError(
                    f"storage option {key} reads ${name}, which is not set",
                    hint=f"export {name}=... (or set it from a secret scope in the Databricks job)",
                )
            resolved[key] = environ[name]
        else:
            resolved[key] = value
    return resolved


def is_remote(target: str) -> bool:
    """True for object-store URIs (s3://, abfss://, gs://, ...), False for a local folder."""
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", target)) and not target.startswith("file://")


def table_uri(target: str, table: str) -> str:
    """Where one table lives under the target."""
    return f"{target.rstrip('/')}/{table}"


# ------------------------------------------------------------------------------------------ schema


def _column_sql(name: str, duck_type: str) -> str:
    """The SELECT expression that turns one cache column into its plain mirror type."""
    quoted = f'"{name}"'
    upper = duck_type.upper()
    if upper in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"):
        return f"CAST({quoted} AS BIGINT) AS {quoted}"
    if upper in ("FLOAT", "REAL", "DOUBLE") or upper.startswith("DECIMAL"):
        return f"CAST({quoted} AS DOUBLE) AS {quoted}"
    if upper.startswith("TIMESTAMP"):
        # The cache session runs in UTC, so a naive TIMESTAMP is read as UTC: never written naive, which
        # would raise the Delta protocol to reader 3 / writer 7.
        return f"CAST({quoted} AS TIMESTAMPTZ) AS {quoted}"
    if upper in ("BOOLEAN", "DATE", "VARCHAR"):
        return quoted
    if upper.endswith("[]"):
        return f"CAST({quoted} AS VARCHAR[]) AS {quoted}"
    return f"CAST({quoted} AS VARCHAR) AS {quoted}"


def _arrow_type(duck_type: str) -> pa.DataType:
    import pyarrow as pa

    upper = duck_type.upper()
    if upper in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"):
        return pa.int64()
    if upper in ("FLOAT", "REAL", "DOUBLE") or upper.startswith("DECIMAL"):
        return pa.float64()
    if upper.startswith("TIMESTAMP"):
        return pa.timestamp("us", tz="UTC")
    if upper == "BOOLEAN":
        return pa.bool_()
    if upper == "DATE":
        return pa.date32()
    if upper.endswith("[]"):
        return pa.list_(pa.string())
    return pa.string()


def cache_columns(store: Store, table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a cache table's columns, in order."""
    rows = store._rows(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
        [table],
    )
    return [(str(name), str(kind)) for name, kind in rows]


def snapshot_table(store: Store, table: str) -> pa.Table:
    """Every row of a cache table in mirror types, plus :data:`HASH_COLUMN`."""
    import pyarrow as pa

    columns = cache_columns(store, table)
    if not columns:
        raise MirrorError(f"the cache has no table {table!r}")
    select = ", ".join(_column_sql(name, kind) for name, kind in columns)
    sql = f"SELECT s.*, md5(to_json(s)) AS {HASH_COLUMN} FROM (SELECT {select} FROM {table}) s"
    raw = store._arrow(sql)
    schema = pa.schema(
        [pa.field(name, _arrow_type(kind), nullable=True) for name, kind in columns]
        + [pa.field(HASH_COLUMN, pa.string(), nullable=True)]
    )
    return raw.cast(schema)


# -------------------------------------------------------------------------------------------- mirror


class Mirror:
    """Mirrors a store's tables into Delta tables under one target."""

    def __init__(
        self,
        store: Store,
        target: str,
        *,
        storage_options: dict[str, str] | None = None,
        compact_after_files: int = 64,
        vacuum_retention_hours: int = 168,
        tables: Sequence[MirrorTable] = TABLES,
    ) -> None:
        self.store = store
        self.target = target
        self.storage_options = dict(storage_options or {})
        self.compact_after_files = compact_after_files
        self.vacuum_retention_hours = vacuum_retention_hours
        self.tables = tuple(tables)
        self._handles: dict[str, Any] = {}

    @classmethod
    def from_settings(cls, store: Store, settings: Settings, *, target: str | None = None) -> Mirror:
        """A mirror configured by ``settings.mirror`` (``target`` overrides the configured target)."""
        options = resolve_storage_options(settings.mirror.storage_options)
        _teach_redaction(options)
        return cls(
            store,
            resolve_target(settings, target),
            storage_options=options,
            compact_after_files=settings.mirror.compact_after_files,
            vacuum_retention_hours=settings.mirror.vacuum_retention_hours,
        )

    def redact(self, text: str) -> str:
        """``text`` with every storage option value replaced, so no credential reaches a log or a row."""
        for value in self.storage_options.values():
            if value and len(value) >= 4:
                text = text.replace(value, "***")
        return text

    def run(self, tables: Iterable[str] | None = None) -> MirrorReport:
        """Mirror the given (default: all) tables; a table's failure is in its report, never raised."""
        wanted = set(tables) if tables is not None else None
        started = time.perf_counter()
        report = MirrorReport(target=self.target)
        if not is_remote(self.target):
            try:
                os.makedirs(self.target, exist_ok=True)
            except OSError as exc:
                error = self.redact(f"cannot create {self.target}: {exc.strerror or exc}")
                report.tables = [
                    TableReport(t.name, error=error)
                    for t in self.tables
                    if wanted is None or t.name in wanted
                ]
                report.seconds = time.perf_counter() - started
                return report
        for spec in self.tables:
            if wanted is not None and spec.name not in wanted:
                continue
            report.tables.append(self._run_table(spec))
        report.seconds = time.perf_counter() - started
        return report

    def _run_table(self, spec: MirrorTable) -> TableReport:
        started = time.perf_counter()
        result = TableReport(spec.name)
        snapshot_at = datetime.now(UTC)
        try:
            self.mirror_table(spec, result)
        except _mirror_errors() as exc:
            result.error = self.redact(_error_text(exc))
            log.warning("mirror of %s failed: %s", spec.name, result.error)
        else:
            self.store._exec(
                "INSERT OR REPLACE INTO mirror_watermarks VALUES (?, ?)", [spec.name, snapshot_at]
            )
        result.seconds = time.perf_counter() - started
        return result

    def mirror_table(self, spec: MirrorTable, result: TableReport) -> None:
        """Merge the cache's changed rows of one table into its Delta table (creating it if needed)."""
        from deltalake import DeltaTable, write_deltalake

        uri = table_uri(self.target, spec.name)
        current = snapshot_table(self.store, spec.name)
        dt = self._handles.get(uri)
        if dt is not None:
            dt.update_incremental()
        elif DeltaTable.is_deltatable(uri, storage_options=self.storage_options or None):
            dt = DeltaTable(uri, storage_options=self.storage_options or None)
        if dt is None:
            write_deltalake(
                uri,
                current,
                mode="error",
                storage_options=self.storage_options or None,
                description=f"pmtui mirror of the cache table {spec.name}",
            )
            result.created = True
            result.inserted = current.num_rows
            dt = DeltaTable(uri, storage_options=self.storage_options or None)
        else:
            source, only_new = _changes(dt, current, spec.keys)
            if source.num_rows and only_new:
                # Only keys the table does not hold (new decisions, new sync runs): an append is what the
                # MERGE would do, without scanning the table.
                write_deltalake(dt, source, mode="append", schema_mode="merge")
                result.inserted = source.num_rows
                dt.update_incremental()
            elif source.num_rows:
                predicate = " AND ".join(f"t.{k} = s.{k}" for k in spec.keys)
                metrics = (
                    dt.merge(
                        source,
                        predicate=predicate,
                        source_alias="s",
                        target_alias="t",
                        merge_schema=True,
                    )
                    .when_matched_delete(predicate=f"s.{HASH_COLUMN} IS NULL")
                    .when_matched_update_all(predicate=f"s.{HASH_COLUMN} IS NOT NULL")
                    .when_not_matched_insert_all(predicate=f"s.{HASH_COLUMN} IS NOT NULL")
                    .execute()
                )
                result.inserted = int(metrics.get("num_target_rows_inserted", 0))
                result.updated = int(metrics.get("num_target_rows_updated", 0))
                result.deleted = int(metrics.get("num_target_rows_deleted", 0))
                dt.update_incremental()
        files = len(dt.file_uris())
        if files >= self.compact_after_files:
            dt.optimize.compact()
            result.compacted = True
            result.vacuumed = len(
                dt.vacuum(
                    retention_hours=self.vacuum_retention_hours,
                    dry_run=False,
                    enforce_retention_duration=False,
                )
            )
            dt.update_incremental()
            files = len(dt.file_uris())
        result.files = files
        result.version = dt.version()
        self._handles[uri] = dt


def _changes(dt: Any, current: pa.Table, keys: Sequence[str]) -> tuple[pa.Table, bool]:
    """The source of the MERGE, and whether it holds only new keys (then an append does the same, faster).

    The source is the changed or new rows, plus the keys of deleted rows with a null hash. Only the key
    and hash columns of the Delta table are read; the diff is Arrow anti-joins.
    """
    import pyarrow as pa

    names = set(dt.schema().to_arrow().names)
    if HASH_COLUMN not in names or not set(keys) <= names:
        return current, False
    key_list = list(keys)
    existing = dt.to_pyarrow_dataset().to_table(columns=[*key_list, HASH_COLUMN])
    existing = existing.cast(pa.schema([current.schema.field(k) for k in [*key_list, HASH_COLUMN]]))
    # Arrow joins refuse list columns (labels) as payload: join the keys and hash with a row number, then
    # take the rows by number.
    probe = current.select([*key_list, HASH_COLUMN]).append_column(
        "__row", pa.array(range(current.num_rows), pa.int64())
    )
    fresh = probe.join(existing, keys=[*key_list, HASH_COLUMN], join_type="left anti")
    changed = current.take(fresh.column("__row").combine_chunks().sort())
    gone = existing.select(key_list).join(current.select(key_list), keys=key_list, join_type="left anti")
    if not gone.num_rows:
        new_keys = fresh.select(key_list).join(
            existing.select(key_list), keys=key_list, join_type="left anti"
        )
        return changed, new_keys.num_rows == changed.num_rows
    deleted_columns = [
        gone.column(f.name) if f.name in keys else pa.nulls(gone.num_rows, f.type) for f in current.schema
    ]
    deleted = pa.Table.from_arrays(deleted_columns, schema=current.schema)
    return pa.concat_tables([changed, deleted]), False


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _mirror_errors() -> tuple[type[BaseException], ...]:
    """What a mirror run can fail with (evaluated only when something was raised: no import cost)."""
    import duckdb
    import pyarrow as pa
    from deltalake.exceptions import DeltaError

    return (OSError, ValueError, RuntimeError, duckdb.Error, pa.ArrowException, DeltaError, PmtuiError)


def _teach_redaction(options: dict[str, str]) -> None:
    from pmtui.logs import redaction_filter

    redaction_filter().add_secrets(v for v in options.values() if v and len(v) >= 4)


# ------------------------------------------------------------------------------- after sync, status


@dataclass(frozen=True)
class MirrorStatus:
    """The last recorded mirror problem or recovery, and the per-table watermarks (for sync status)."""

    failing: bool
    reason: str | None
    at: datetime | None
    watermarks: dict[str, datetime]


def mirror_status(store: Store) -> MirrorStatus:
    """Whether the mirror is failing (its last recorded decision is a failure) and how fresh each table is."""
    rows = store._rows(
        "SELECT reason, \"at\" FROM decisions WHERE kind = 'sync' AND request_id = ? "
        'ORDER BY "at" DESC LIMIT 1',
        [MIRROR_REQUEST_ID],
    )
    marks = {
        str(name): mark for name, mark in store._rows("SELECT table_name, watermark FROM mirror_watermarks")
    }
    if not rows:
        return MirrorStatus(False, None, None, marks)
    reason, at = rows[0]
    return MirrorStatus(str(reason).startswith(FAILED_PREFIX), str(reason), at, marks)


def record_outcome(store: Store, report: MirrorReport) -> None:
    """Record a failure (every time) or the first success after one, as a ``sync`` decision."""
    error = report.error_text()
    if error is not None:
        store.log_decision(
            Decision(
                request_id=MIRROR_REQUEST_ID,
                kind="sync",
                reason=f"{FAILED_PREFIX}{error}",
                detail={
                    "target": report.target,
                    "failed": [t.table for t in report.failed],
                    "retry": "next sync or `pmtui mirror`",
                },
            )
        )
        return
    if mirror_status(store).failing:
        store.log_decision(
            Decision(
                request_id=MIRROR_REQUEST_ID,
                kind="sync",
                reason=f"{RECOVERED_PREFIX}{len(report.tables)} tables mirrored to {report.target}",
                detail={"target": report.target, "merged": report.merged},
            )
        )


def run_mirror(store: Store, settings: Settings, *, target: str | None = None) -> MirrorReport:
    """Mirror every table per ``settings`` and record the outcome; raises only for bad configuration.

    One process mirrors at a time (a `pmtui mirror` next to a watch service's post-sync mirror would
    otherwise race on the Delta log): the others wait for it, up to :data:`MIRROR_LOCK_WAIT` seconds.
    """
    import contextlib

    from pmtui.core.locks import process_lock

    mirror = Mirror.from_settings(store, settings, target=target)
    lock = (
        process_lock(store.path.with_name("mirror.lock"), wait=MIRROR_LOCK_WAIT)
        if store.path is not None
        else contextlib.nullcontext()
    )
    with lock:
        report = mirror.run()
    record_outcome(store, report)
    return report


MIRROR_LOCK_WAIT = 300.0
"""How long a mirror waits for another process's mirror to finish before giving up (retried next time)."""


MIRROR_CADENCE = "mirror"
"""The ``sync_cursors`` row (service ``local``) whose time is the last successful post-sync mirror."""


def mirror_due(store: Store, settings: Settings) -> bool:
    """Whether the post-sync mirror runs now: every ``[mirror] every_minutes`` (and at once after a
    failure), so a quiet sync does not pay for a Delta merge each time. `pmtui mirror` always runs."""
    minutes = settings.mirror.every_minutes
    if minutes <= 0 or mirror_status(store).failing:
        return True
    last = store.cursor_updated_at(Service.LOCAL, MIRROR_CADENCE)
    return last is None or datetime.now(UTC) - last >= timedelta(minutes=minutes)


def mirror_after_sync(store: Store, settings: Settings) -> MirrorReport | None:
    """The post-sync mirror: None when disabled; never raises (a failure is in the report and recorded)."""
    if not settings.mirror.enabled:
        return None
    if not mirror_due(store, settings):
        return None
    try:
        report = run_mirror(store, settings)
        if report.ok:
            store.set_cursor(Service.LOCAL, MIRROR_CADENCE, None)
        return report
    except Exception as exc:
        # The last guard of "a mirror failure never fails the sync": whatever went wrong is logged with
        # its traceback, reported and recorded, and the sync's outcome stands.
        log.exception("mirror failed")
        report = MirrorReport(
            target=resolve_target(settings),
            tables=[TableReport("*", error=_error_text(exc))],
        )
        try:
            record_outcome(store, report)
        except _mirror_errors():
            log.warning("could not record the mirror failure", exc_info=True)
        return report


# ------------------------------------------------------------------------------------------ reading


def read_table(
    target: str,
    table: str,
    *,
    storage_options: dict[str, str] | None = None,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """One mirrored table as Arrow (without :data:`HASH_COLUMN`), read through a pyarrow dataset.

    ``DeltaTable.to_pyarrow_table()`` aborted the interpreter at exit in 7 of 20 runs here (STACK.md).
    """
    from deltalake import DeltaTable

    dt = DeltaTable(table_uri(target, table), storage_options=storage_options or None)
    dataset = dt.to_pyarrow_dataset()
    wanted = [name for name in (columns or dataset.schema.names) if name != HASH_COLUMN]
    return dataset.to_table(columns=wanted)


def read_mirror(
    target: str, *, storage_options: dict[str, str] | None = None, tables: Iterable[str] = TABLE_NAMES
) -> dict[str, pa.Table]:
    """Every mirrored table as Arrow, by name."""
    return {name: read_table(target, name, storage_options=storage_options) for name in tables}
