"""The local cache: one DuckDB file holding every task, reference, journal step, decision and sync run.

Screens and the briefing read only from here, so pmtui starts instantly and works offline. The schema
is versioned: :data:`MIGRATIONS` are applied in order, each in its own transaction, and a file written
by a newer pmtui is refused rather than damaged. Bulk writes go through Arrow tables because DuckDB's
``executemany`` is slow for thousands of rows (STACK.md).

DuckDB lets one process open a file read-write; a second one gets a :class:`StoreLockedError` naming
the holder, never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pmtui.errors import StoreError, StoreLockedError, StoreSchemaError
from pmtui.kinds import EntityType, JournalState, Service

if TYPE_CHECKING:
    from types import ModuleType

    import pyarrow as pa

    from pmtui.models import (
        Comment,
        Conflict,
        Decision,
        ExternalRef,
        JournalEntry,
        Milestone,
        Project,
        SyncRun,
        Task,
    )

log = logging.getLogger("pmtui.store")

STORE_FILENAME = "pmtui.duckdb"

HANDLE_PREFIXES: dict[str, str] = {
    Service.MOTION.value: "M",
    Service.NOTION.value: "N",
    Service.LOCAL.value: "L",
    Service.LINEAR.value: "LN",
    Service.GITLAB.value: "G",
}
"""The letters of a pmtui handle, by the service a key-less task came from (``M-12`` is Motion's 12th)."""

_HANDLE_PREFIX_SQL = (
    "CASE r.service "
    + " ".join(f"WHEN '{service}' THEN '{prefix}'" for service, prefix in HANDLE_PREFIXES.items())
    + " ELSE 'T' END"
)
_NEW_HANDLES_SQL = (
    "SELECT task_id, service, seq, prefix || '-' || CAST(seq AS VARCHAR) FROM ("
    "SELECT r.entity_id AS task_id, r.service, "
    f"{_HANDLE_PREFIX_SQL} AS prefix, "
    "coalesce((SELECT max(h.seq) FROM task_handles h WHERE h.service = r.service), 0) "
    "+ row_number() OVER (PARTITION BY r.service ORDER BY t.created_at NULLS LAST, r.entity_id) AS seq "
    "FROM (SELECT entity_id, coalesce(min(service) FILTER (WHERE service <> 'local'), 'local') AS service "
    "FROM external_refs WHERE entity = 'task' "
    "GROUP BY entity_id HAVING count(key) = 0) r "
    "LEFT JOIN tasks t ON t.id = r.entity_id "
    "WHERE {batch} AND r.entity_id NOT IN (SELECT task_id FROM task_handles))"
)
"""Handles for tasks none of whose refs has a key and that have no handle yet (``{batch}`` narrows it).

The sequence continues from the service's highest handle ever given, and a handle row is never
deleted, so a number is never reused, even after its task is gone."""

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            """CREATE TABLE tasks (
                id VARCHAR PRIMARY KEY,
                title VARCHAR NOT NULL,
                description VARCHAR NOT NULL DEFAULT '',
                status VARCHAR NOT NULL,
                priority VARCHAR NOT NULL,
                due TIMESTAMPTZ,
                due_all_day BOOLEAN NOT NULL DEFAULT TRUE,
                duration_minutes INTEGER,
                labels VARCHAR[] NOT NULL DEFAULT [],
                kind VARCHAR NOT NULL,
                project_id VARCHAR,
                milestone_id VARCHAR,
                assignee VARCHAR,
                scheduled_start TIMESTAMPTZ,
                scheduled_end TIMESTAMPTZ,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                completed_at TIMESTAMPTZ,
                deleted BOOLEAN NOT NULL DEFAULT FALSE
            )""",
            """CREATE TABLE projects (
                id VARCHAR PRIMARY KEY,
                name VARCHAR NOT NULL,
                description VARCHAR NOT NULL DEFAULT '',
                status VARCHAR NOT NULL,
                start DATE,
                due DATE,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                deleted BOOLEAN NOT NULL DEFAULT FALSE
            )""",
            """CREATE TABLE milestones (
                id VARCHAR PRIMARY KEY,
                project_id VARCHAR,
                name VARCHAR NOT NULL,
                start DATE,
                due DATE,
                closed BOOLEAN NOT NULL DEFAULT FALSE,
                updated_at TIMESTAMPTZ NOT NULL
            )""",
            """CREATE TABLE comments (
                id VARCHAR PRIMARY KEY,
                task_id VARCHAR NOT NULL,
                body VARCHAR NOT NULL,
                author VARCHAR,
                created_at TIMESTAMPTZ NOT NULL
            )""",
            """CREATE TABLE external_refs (
                entity VARCHAR NOT NULL,
                entity_id VARCHAR NOT NULL,
                service VARCHAR NOT NULL,
                external_id VARCHAR NOT NULL,
                key VARCHAR,
                url VARCHAR,
                container VARCHAR,
                remote_updated_at TIMESTAMPTZ,
                base JSON NOT NULL DEFAULT '{}',
                idempotency_key VARCHAR,
                synced_at TIMESTAMPTZ,
                PRIMARY KEY (service, entity, external_id)
            )""",
            "CREATE INDEX external_refs_entity ON external_refs (entity, entity_id)",
            """CREATE TABLE journal (
                id VARCHAR PRIMARY KEY,
                request_id VARCHAR NOT NULL,
                step INTEGER NOT NULL,
                service VARCHAR NOT NULL,
                op VARCHAR NOT NULL,
                payload JSON NOT NULL,
                idempotency_key VARCHAR NOT NULL,
                state VARCHAR NOT NULL,
                entity_id VARCHAR,
                external_id VARCHAR,
                attempts INTEGER NOT NULL DEFAULT 0,
                error VARCHAR,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL
            )""",
            """CREATE TABLE sync_cursors (
                service VARCHAR NOT NULL,
                resource VARCHAR NOT NULL,
                cursor VARCHAR,
                updated_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (service, resource)
            )""",
            """CREATE TABLE sync_runs (
                id VARCHAR PRIMARY KEY,
                run_id VARCHAR NOT NULL,
                service VARCHAR NOT NULL,
                started_at TIMESTAMPTZ NOT NULL,
                finished_at TIMESTAMPTZ,
                pulled INTEGER NOT NULL DEFAULT 0,
                pushed INTEGER NOT NULL DEFAULT 0,
                conflicts INTEGER NOT NULL DEFAULT 0,
                requests INTEGER NOT NULL DEFAULT 0,
                duration_ms INTEGER NOT NULL DEFAULT 0,
                status VARCHAR NOT NULL,
                error VARCHAR
            )""",
            """CREATE TABLE decisions (
                id VARCHAR PRIMARY KEY,
                "at" TIMESTAMPTZ NOT NULL,
                request_id VARCHAR NOT NULL,
                kind VARCHAR NOT NULL,
                action_ref VARCHAR,
                task_id VARCHAR,
                service VARCHAR,
                reason VARCHAR NOT NULL,
                detail JSON NOT NULL DEFAULT '{}'
            )""",
            """CREATE TABLE conflicts (
                id VARCHAR PRIMARY KEY,
                task_id VARCHAR NOT NULL,
                service VARCHAR NOT NULL,
                field VARCHAR NOT NULL,
                base JSON,
                local JSON,
                remote JSON,
                created_at TIMESTAMPTZ NOT NULL,
                resolved_at TIMESTAMPTZ,
                resolution VARCHAR,
                resolved_value JSON
            )""",
        ],
    ),
    (
        2,
        "indexes for the briefing and the board; mirror watermarks",
        [
            "CREATE INDEX tasks_due ON tasks (due)",
            "CREATE INDEX tasks_updated ON tasks (updated_at)",
            "CREATE INDEX journal_state ON journal (state)",
            "CREATE INDEX decisions_request ON decisions (request_id)",
            """CREATE TABLE mirror_watermarks (
                table_name VARCHAR PRIMARY KEY,
                watermark TIMESTAMPTZ NOT NULL
            )""",
        ],
    ),
    (
        3,
        "external refs know whether they are the task's origin (descriptions flow from the origin only)",
        [
            # DuckDB cannot alter a table that an index depends on: drop it, alter, recreate it.
            "DROP INDEX external_refs_entity",
            "ALTER TABLE external_refs ADD COLUMN origin BOOLEAN DEFAULT FALSE",
            "UPDATE external_refs SET origin = FALSE WHERE origin IS NULL",
            "CREATE INDEX external_refs_entity ON external_refs (entity, entity_id)",
        ],
    ),
    (
        4,
        "cached GitLab activity per task (merge requests, pipelines, commits)",
        [
            """CREATE TABLE gitlab_activity (
                task_id VARCHAR PRIMARY KEY,
                external_id VARCHAR NOT NULL,
                issue_updated_at TIMESTAMPTZ,
                fetched_at TIMESTAMPTZ NOT NULL,
                payload JSON NOT NULL
            )""",
        ],
    ),
    (
        5,
        "the outbox: local changes not yet on their service (one row per service and task)",
        [
            """CREATE TABLE outbox (
                service VARCHAR NOT NULL,
                task_id VARCHAR NOT NULL,
                op VARCHAR NOT NULL,
                payload JSON NOT NULL DEFAULT '{}',
                error VARCHAR,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (service, task_id, op)
            )""",
            # A cache from before the outbox may hold unpushed edits that only a diff against the base
            # finds: mark every task ref once; the next sync's push checks each and clears the clean.
            """INSERT INTO outbox
               SELECT DISTINCT service, entity_id, 'push', '{}', NULL, 0, now(), now()
               FROM external_refs WHERE entity = 'task' AND service <> 'local'""",
        ],
    ),
    (
        6,
        "requests: each plan run, its routes and the steps done with their inverses (resume and undo)",
        [
            """CREATE TABLE requests (
                request_id VARCHAR PRIMARY KEY,
                text VARCHAR NOT NULL,
                plan JSON NOT NULL,
                routes JSON NOT NULL,
                state VARCHAR NOT NULL,
                pid INTEGER,
                started_at TIMESTAMPTZ NOT NULL,
                finished_at TIMESTAMPTZ,
                steps JSON NOT NULL
            )""",
        ],
    ),
    (
        7,
        "sync runs: when a rate-limited service may be called again, and the objects a run skipped",
        [
            "ALTER TABLE sync_runs ADD COLUMN retry_at TIMESTAMPTZ",
            "ALTER TABLE sync_runs ADD COLUMN skipped JSON DEFAULT '[]'",
        ],
    ),
    (
        8,
        "a short pmtui handle (M-12, N-7) for tasks whose service gives them no key",
        [
            """CREATE TABLE task_handles (
                task_id VARCHAR PRIMARY KEY,
                service VARCHAR NOT NULL,
                seq INTEGER NOT NULL,
                handle VARCHAR NOT NULL UNIQUE
            )""",
            # Tasks cached before this version get theirs now, numbered in the order they were made.
            f"INSERT INTO task_handles {_NEW_HANDLES_SQL.format(batch='TRUE')}",
        ],
    ),
]
"""(version, description, statements). Append only: a released migration is never edited."""

SCHEMA_VERSION = MIGRATIONS[-1][0]

TASK_COLUMNS = (
    "id",
    "title",
    "description",
    "status",
    "priority",
    "due",
    "due_all_day",
    "duration_minutes",
    "labels",
    "kind",
    "project_id",
    "milestone_id",
    "assignee",
    "scheduled_start",
    "scheduled_end",
    "created_at",
    "updated_at",
    "completed_at",
    "deleted",
)


def _task_schema() -> pa.Schema:
    """The Arrow schema of the tasks table (pyarrow is imported here: the read path never needs it)."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    types = {
        "due": ts,
        "scheduled_start": ts,
        "scheduled_end": ts,
        "created_at": ts,
        "updated_at": ts,
        "completed_at": ts,
        "due_all_day": pa.bool_(),
        "deleted": pa.bool_(),
        "duration_minutes": pa.int32(),
        "labels": pa.list_(pa.string()),
    }
    return pa.schema([(name, types.get(name, pa.string())) for name in TASK_COLUMNS])


DAMAGED_HINT = (
    "run `pmtui cache rebuild`: it moves the damaged file aside (never deletes it) and rebuilds the cache "
    "from the services; see docs/recovery.md"
)


class StoreDamagedError(StoreError):
    """The cache file exists but is not a readable DuckDB database (truncated, overwritten, damaged).

    The file is left exactly where it is: `pmtui cache rebuild` (:mod:`pmtui.core.recovery`) moves it aside.
    """


class StoreUnwritableError(StoreError):
    """The cache's disk refuses writes (a read-only file system, a full disk): nothing is damaged, and
    nothing is moved or rebuilt; exit 1 like any failed run, not 4."""

    exit_code = 1


_DISK_PROBLEMS = {
    "read-only file system": (
        "the file system is read-only",
        "mount it read-write, or point PMTUI_HOME (or --home) at a writable folder; the cache is unchanged",
    ),
    "no space left on device": (
        "the disk is full",
        "free some space and run the command again; the cache keeps its last completed write",
    ),
    "disk quota exceeded": (
        "the disk quota is exceeded",
        "free some space and run the command again; the cache keeps its last completed write",
    ),
}


def _disk_problem(target: object, text: str) -> StoreUnwritableError | None:
    """A clear error for a disk that refuses writes, read from the OS's words in ``text``."""
    lowered = text.lower()
    for words, (what, hint) in _DISK_PROBLEMS.items():
        if words in lowered:
            return StoreUnwritableError(f"cannot write the cache {target}: {what}", hint=hint)
    return None


_REF_COLUMNS = (
    "entity",
    "entity_id",
    "service",
    "external_id",
    "key",
    "url",
    "container",
    "remote_updated_at",
    "base",
    "idempotency_key",
    "synced_at",
    "origin",
)
_ARROW_MIN_ROWS = 8
"""Below this many rows a plain ``executemany`` is cheaper than building and registering an Arrow table."""


def _ref_types() -> list[pa.DataType]:
    """Arrow types of :data:`_REF_COLUMNS`, in order (pyarrow stays off the read path's imports)."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return [pa.string()] * 7 + [ts, pa.string(), pa.string(), ts, pa.bool_()]


_DUCKDB_HEADER_BYTES = 3 * 4096
"""A DuckDB file's main header and its two database headers, before the first block."""
_OPEN_PATHS: dict[Path, int] = {}
"""Cache files this process has open, with how many Stores hold each (DuckDB shares one instance)."""


def _models() -> ModuleType:
    """:mod:`pmtui.models`, imported on first use: `pmtui briefing` reads rows, never models (pydantic
    is a large share of its start)."""
    import pmtui.models

    return pmtui.models


LINGER_SECONDS = 0.2
"""How long an idle connection stays open, so a burst of calls opens the file once."""
MAX_SESSION_SECONDS = 1.0
"""A connection open longer than this is closed at the end of its unit of work, whatever comes next."""
FAIR_SHARE_SECONDS = 0.05
"""After such a forced close, how long this process waits before opening again: others get their turn."""
LOCK_WAIT_SECONDS = 30.0
"""The default retry budget for opening a file another process holds (``PMTUI_LOCK_WAIT`` overrides)."""
_READ_ONLY_STATEMENT = re.compile(r"\s*(SELECT|SET|BEGIN|COMMIT|ROLLBACK|PRAGMA|WITH|CHECKPOINT)\b", re.I)


def _lock_wait_default() -> float:
    text = os.environ.get("PMTUI_LOCK_WAIT", "")
    try:
        return max(0.0, float(text)) if text else LOCK_WAIT_SECONDS
    except ValueError:
        return LOCK_WAIT_SECONDS


def _lock_holder(message: str) -> str | None:
    """``PID n (command line)`` of the process DuckDB names as holding the file, or None."""
    found = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", message)
    if not found:
        return None
    pid = found.group(2)
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    except OSError:
        command = Path(found.group(1)).name
    return f"PID {pid} ({' '.join(command.split())[:200]})"


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


class Store:
    """The DuckDB cache. One instance per process; methods are safe to call from worker threads."""

    def __init__(self, path: Path | str, *, read_only: bool = False, lock_wait: float | None = None) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self.read_only = read_only
        self.lock_wait = lock_wait if lock_wait is not None else _lock_wait_default()
        """Seconds a unit of work waits for another process to release the file before giving up."""
        self._lock = threading.RLock()
        self._depth = 0
        self._opened: Path | None = None
        self._target = str(path)
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._holds = 0
        self._dirty = False
        self._connected_at = 0.0
        self._last_used = 0.0
        self._cooldown_until = 0.0
        self._reaper: threading.Thread | None = None
        self._closed = False
        # The on-disk size check below is only meaningful for a file nobody has touched since its last
        # checkpoint: a WAL to replay, or another Store of this process sharing DuckDB's database
        # instance, makes the database larger in memory than on disk.
        resolved = self.path.resolve() if self.path is not None else None
        settled = (
            resolved is not None and resolved not in _OPEN_PATHS and not Path(f"{resolved}.wal").exists()
        )
        if self.path is not None:
            if read_only and not self.path.exists():
                raise StoreError(
                    f"no cache at {self.path} yet",
                    hint="run `pmtui sync` (or `pmtui demo`) to fill it",
                )
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise _disk_problem(self.path.parent, str(exc)) or StoreUnwritableError(
                    f"cannot create the cache folder {self.path.parent}: {exc.strerror}",
                    hint="give your user write access to it, or point PMTUI_HOME (or --home) elsewhere",
                ) from exc
        try:
            with self._hold():
                if settled:
                    self._check_intact(self._target)
                if self.path is not None and not read_only:
                    self._make_private()
                if not read_only:
                    self.migrate()
                else:
                    self._check_version()
        except BaseException:
            with self._lock:
                self._release()
                self._closed = True
            raise
        if resolved is not None:
            self._opened = resolved
            _OPEN_PATHS[resolved] = _OPEN_PATHS.get(resolved, 0) + 1

    # ------------------------------------------------------------------------------ the connection
    # A file-backed Store opens DuckDB only for a unit of work (a statement, a transaction, a burst of
    # calls) and closes it again, so any number of pmtui processes share one cache: DuckDB lets one
    # process at a time open the file. See docs/architecture.md, "Many front ends, one cache".

    @property
    def shared(self) -> bool:
        """Whether this store releases the file between units of work (every file-backed store)."""
        return self.path is not None

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        """The open connection, opened if needed: use it while holding ``_hold()`` (or ``_lock``), since
        an idle connection is closed by the release thread, which takes the same lock."""
        with self._lock:
            if self._conn is None:
                if self._closed:
                    raise StoreError("the cache was closed", hint="this is a bug in pmtui: please report it")
                self._conn = self._connect()
                if self.shared:
                    self._last_used = time.monotonic()
                    self._reap_later()
            return self._conn

    @contextmanager
    def _hold(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Keep the file open (and this store's lock taken) for one unit of work; re-entrant.

        The outermost hold of a file-backed store leaves the connection to linger for
        :data:`LINGER_SECONDS` (a burst of calls opens the file once) unless it has been open longer
        than :data:`MAX_SESSION_SECONDS`, so a busy process never starves the others.
        """
        with self._lock:
            if self._closed:
                raise StoreError("the cache was closed", hint="this is a bug in pmtui: please report it")
            if self._conn is None:
                self._conn = self._connect()
            self._holds += 1
            try:
                yield self._conn
            finally:
                self._holds -= 1
                if self._holds == 0 and self.shared:
                    now = time.monotonic()
                    self._last_used = now
                    if now - self._connected_at > MAX_SESSION_SECONDS:
                        self._release()
                        self._cooldown_until = now + FAIR_SHARE_SECONDS
                    else:
                        self._reap_later()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting up to ``lock_wait`` seconds while another process holds it."""
        deadline = time.monotonic() + self.lock_wait
        delay = 0.005
        pause = self._cooldown_until - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        while True:
            try:
                conn = duckdb.connect(self._target, read_only=self.read_only)
                break
            except duckdb.IOException as exc:
                text = str(exc)
                if "lock" not in text.lower():
                    raise self._open_error(exc) from exc
                if time.monotonic() >= deadline:
                    holder = _lock_holder(text)
                    raise StoreLockedError(
                        f"the cache {self._target} is open in another process and stayed busy for "
                        f"{self.lock_wait:g} s" + (f": held by {holder}" if holder else ""),
                        holder=holder,
                        hint="that process keeps the cache open and never lets go; stop it "
                        "(a current pmtui releases it after every unit of work)",
                    ) from exc
            except duckdb.ConnectionException as exc:
                # Another Store of this process has the file open with the other read_only setting.
                if "different configuration" not in str(exc) or time.monotonic() >= deadline:
                    raise self._open_error(exc) from exc
            except duckdb.Error as exc:
                raise self._open_error(exc) from exc
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.05)
        conn.execute("SET TimeZone = 'UTC'").fetchall()
        self._connected_at = time.monotonic()
        return conn

    def _open_error(self, exc: duckdb.Error) -> StoreError:
        text = str(exc)
        disk = _disk_problem(self._target, text)
        if disk is not None:
            return disk
        if "permission denied" in text.lower():
            return StoreError(
                f"cannot open the cache {self._target}: permission denied",
                hint="give your user read and write access to the file and its folder",
            )
        return StoreDamagedError(f"the cache {self._target} is damaged: {text}", hint=DAMAGED_HINT)

    def _release(self) -> None:
        """Close the connection (the lock is held) and tell other processes when something changed."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if self._dirty:
            self._dirty = False
            self._bump_change_marker()

    def _reap_later(self) -> None:
        """Close the lingering connection from a helper thread once it has been idle long enough."""
        if self._reaper is not None and self._reaper.is_alive():
            return

        def reap() -> None:
            while True:
                time.sleep(LINGER_SECONDS / 2)
                with self._lock:
                    if self._conn is None:
                        self._reaper = None
                        return
                    if self._holds == 0 and time.monotonic() - self._last_used >= LINGER_SECONDS:
                        self._release()
                        self._reaper = None
                        return

        self._reaper = threading.Thread(target=reap, name="pmtui-store-release", daemon=True)
        self._reaper.start()

    def let_go(self) -> None:
        """Close the connection now unless a unit of work holds it, so the file and its change marker are
        final (the answer cache keys on them: :func:`pmtui.answers.refresh`)."""
        with self._lock:
            if self._holds == 0:
                self._release()

    @property
    def change_marker(self) -> Path | None:
        """A small file next to the cache, replaced after every write: front ends watch it to refresh."""
        return None if self.path is None else self.path.with_name(self.path.name + ".changed")

    def _bump_change_marker(self) -> None:
        marker = self.change_marker
        if marker is None:
            return
        try:
            temporary = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
            temporary.write_text(f"{os.getpid()} {time.time_ns()}\n", encoding="utf-8")
            os.replace(temporary, marker)
        except OSError as exc:  # a read-only folder: others refresh on their own schedule instead
            log.warning("could not mark the cache changed: %s", exc)

    def change_token(self) -> tuple[int, int] | None:
        """What identifies the last write by any process (None before the first): compare to notice one."""
        marker = self.change_marker
        if marker is None:
            return None
        try:
            info = marker.stat()
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns)

    # ------------------------------------------------------------------------------- statement helpers
    # DuckDB 2.x refuses new work on a connection while a result is unread, so every statement is
    # drained here: writes are completed, reads fetched whole.

    # A read that reaches a damaged block raises duckdb.IOException mid-command; it becomes a
    # StoreDamagedError (a line and exit 4 in the CLI) instead of a traceback.

    def _exec(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self._hold() as conn, self._io_errors():
            conn.execute(sql, list(params or [])).fetchall()
            if not _READ_ONLY_STATEMENT.match(sql):
                self._dirty = True

    def _rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._hold() as conn, self._io_errors():
            return conn.execute(sql, list(params or [])).fetchall()

    def _records(self, sql: str, params: Sequence[Any] | None = None) -> _Records:
        """A query's rows as dicts, without Arrow: the read paths of a sync and of the CLI stay off
        pyarrow (and the pandas it pulls in), about a second of start-up and 150 MB of memory."""
        with self._hold() as conn, self._io_errors():
            result = conn.execute(sql, list(params or []))
            names = [column[0] for column in result.description or []]
            return _Records([dict(zip(names, row, strict=True)) for row in result.fetchall()])

    def _arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        with self._hold() as conn, self._io_errors():
            relation = conn.sql(sql, params=list(params)) if params else conn.sql(sql)
            return relation.to_arrow_table()

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._hold() as conn, self._io_errors():
            conn.executemany(sql, [list(r) for r in rows]).fetchall()
            self._dirty = True

    @contextmanager
    def _io_errors(self) -> Iterator[None]:
        try:
            yield
        except (duckdb.IOException, duckdb.FatalException, duckdb.InternalException) as exc:
            disk = _disk_problem(self.path or ":memory:", str(exc))
            if disk is not None:
                raise disk from exc
            raise StoreDamagedError(
                f"the cache {self.path or ':memory:'} could not be read or written: {exc}",
                hint=f"if the disk is not full, the file is damaged: {DAMAGED_HINT}",
            ) from exc
        except duckdb.Error as exc:
            # A full disk can surface as any DuckDB error (a failed COMMIT is a TransactionException), and
            # DuckDB 2 raises a checksum mismatch (a block overwritten on disk) as a plain duckdb.Error.
            disk = _disk_problem(self.path or ":memory:", str(exc))
            if disk is not None:
                raise disk from exc
            if "corrupt" not in str(exc).lower():
                raise
            raise StoreDamagedError(
                f"the cache {self.path or ':memory:'} could not be read or written: {exc}",
                hint=f"if the disk is not full, the file is damaged: {DAMAGED_HINT}",
            ) from exc

    def _make_private(self) -> None:
        """The cache holds every task and comment: 0600 for it and its WAL, also when an older pmtui (or a
        library caller with a loose umask) created them readable by others."""
        assert self.path is not None
        for path in (self.path, Path(f"{self.path}.wal")):
            try:
                if path.stat().st_mode & 0o077:
                    path.chmod(0o600)
            except OSError:  # gone, or not ours: nothing to tighten
                continue

    def _check_intact(self, target: str) -> None:
        """Refuse a truncated file at open: DuckDB itself notices only when a query reaches a lost block.

        A healthy file is its headers plus whole blocks, and holds every block in use. ``total_blocks``
        is no guide (DuckDB trims free blocks off the end of the file but keeps counting them), so the
        check is on the block boundary and on the blocks in use.
        """
        if self.path is None or not self.path.exists():
            return
        rows = self.conn.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        ).fetchall()
        if not rows:
            return
        block_size, used_blocks = (int(v or 0) for v in rows[0])
        size = self.path.stat().st_size
        body = size - _DUCKDB_HEADER_BYTES
        whole = block_size <= 0 or (body >= 0 and body % block_size == 0)
        if whole and (block_size <= 0 or used_blocks <= body // block_size):
            return
        raise StoreDamagedError(
            f"the cache {target} is damaged: the file ends at {size} bytes, inside its data (truncated)",
            hint=DAMAGED_HINT,
        )

    # ------------------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the connection; safe to call twice.

        Stores of one process share DuckDB's instance of a file, so each drops only its own count of it.
        """
        with self._lock:
            self._release()
            self._closed = True
            opened, self._opened = self._opened, None
            if opened is not None:
                left = _OPEN_PATHS.pop(opened, 1) - 1
                if left > 0:
                    _OPEN_PATHS[opened] = left

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """A write transaction on this store; rolled back if the block raises.

        Re-entrant: an inner ``transaction()`` joins the outer one, so a journal step can close in the
        same transaction as the store methods that save its result.
        """
        with self._hold():
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._exec("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self._exec("ROLLBACK")
                raise
            else:
                self._depth = 0
                self._exec("COMMIT")

    def version(self) -> int:
        """The schema version of the open file (0 for an empty file)."""
        with self._hold():
            exists = next(
                iter(
                    self._rows(
                        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
                    )
                ),
                None,
            )
            if not exists or not exists[0]:
                return 0
            row = next(iter(self._rows("SELECT max(version) FROM schema_version")), None)
            return int(row[0]) if row and row[0] is not None else 0

    def _check_version(self) -> None:
        current = self.version()
        if current > SCHEMA_VERSION:
            raise StoreSchemaError(
                f"the cache was written by a newer pmtui (schema {current}, this one knows {SCHEMA_VERSION})",
                hint="upgrade pmtui, or point PMTUI_HOME elsewhere",
            )

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply the pending migrations up to ``target`` (default: latest); returns those applied."""
        self._check_version()
        applied: list[int] = []
        with self._hold():
            dirty = self._dirty
            self._exec(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "description VARCHAR, applied_at TIMESTAMPTZ NOT NULL)"
            )
            # A no-op on an existing cache: opening one must not announce a change (front ends would
            # reload, and the answer cache would go stale). A new file's migrations below mark it.
            self._dirty = dirty
            current = self.version()
            for version, description, statements in MIGRATIONS:
                if version <= current or (target is not None and version > target):
                    continue
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

    # ----------------------------------------------------------------------------------------- tasks

    def upsert_tasks(self, tasks: Sequence[Task]) -> int:
        """Insert or replace tasks in one Arrow-backed statement."""
        if not tasks:
            return 0
        columns: dict[str, list[Any]] = {name: [] for name in TASK_COLUMNS}
        for task in tasks:
            columns["id"].append(task.id)
            columns["title"].append(task.title)
            columns["description"].append(task.description)
            columns["status"].append(task.status.value)
            columns["priority"].append(task.priority.value)
            columns["due"].append(_utc(task.due))
            columns["due_all_day"].append(task.due_all_day)
            columns["duration_minutes"].append(task.duration_minutes)
            columns["labels"].append(list(task.labels))
            columns["kind"].append(task.kind.value)
            columns["project_id"].append(task.project_id)
            columns["milestone_id"].append(task.milestone_id)
            columns["assignee"].append(task.assignee)
            columns["scheduled_start"].append(_utc(task.scheduled_start))
            columns["scheduled_end"].append(_utc(task.scheduled_end))
            columns["created_at"].append(_utc(task.created_at))
            columns["updated_at"].append(_utc(task.updated_at))
            columns["completed_at"].append(_utc(task.completed_at))
            columns["deleted"].append(task.deleted)
        import pyarrow as pa

        table = pa.Table.from_pydict(columns, schema=_task_schema())
        with self._hold(), self.transaction() as tx:
            self.conn.register("incoming_tasks", table)
            try:
                tx._exec(
                    f"INSERT OR REPLACE INTO tasks ({', '.join(TASK_COLUMNS)}) "
                    f"SELECT {', '.join(TASK_COLUMNS)} FROM incoming_tasks"
                )
                # Dirty tracking: every local write of a task marks its service refs in the same
                # transaction, so the push reads only these (and no path that changes a task can miss
                # one). A mark whose fields already agree is cleared by the next push.
                tx._exec(
                    "INSERT INTO outbox SELECT DISTINCT r.service, r.entity_id, 'push', '{}', NULL, 0, "
                    "now(), now() FROM external_refs r JOIN incoming_tasks i ON r.entity_id = i.id "
                    "WHERE r.entity = 'task' AND r.service <> 'local' ON CONFLICT DO NOTHING"
                )
            finally:
                self.conn.unregister("incoming_tasks")
        return len(tasks)

    def get_task(self, task_id: str) -> Task | None:
        """The task with this id, soft-deleted ones included; None if the cache never had it."""
        rows = self._tasks_where("id = ?", [task_id])
        return rows[0] if rows else None

    def tasks_by_ids(self, ids: Sequence[str]) -> dict[str, Task]:
        """Many tasks in one query (the sync's push and deletion checks read every ref's task)."""
        if not ids:
            return {}
        rows = self._tasks_where("list_contains(?, id)", [list(ids)])
        return {task.id: task for task in rows}

    def list_tasks(
        self, *, include_deleted: bool = False, include_closed: bool = True, limit: int | None = None
    ) -> list[Task]:
        """Tasks ordered by due date (undated last), then priority."""
        clauses = []
        if not include_deleted:
            clauses.append("NOT deleted")
        if not include_closed:
            clauses.append("status NOT IN ('done', 'canceled')")
        where = " AND ".join(clauses) or "TRUE"
        return self._tasks_where(where, [], limit=limit)

    def find_tasks(self, text: str, *, limit: int = 20) -> list[Task]:
        """Tasks whose title contains ``text`` (case-insensitive), or whose key or handle equals it."""
        return self._tasks_where(
            "NOT deleted AND (title ILIKE ? OR id = ? OR id IN (SELECT entity_id FROM external_refs "
            "WHERE entity = 'task' AND (upper(key) = upper(?) OR external_id = ?)) "
            "OR id IN (SELECT task_id FROM task_handles WHERE upper(handle) = upper(?)))",
            [f"%{text}%", text, text, text, text],
            limit=limit,
        )

    def count_tasks(self) -> int:
        """How many tasks are not deleted (closed ones included), in one count query."""
        with self._hold():
            row = next(iter(self._rows("SELECT count(*) FROM tasks WHERE NOT deleted")), None)
        return int(row[0]) if row else 0

    def _tasks_where(self, where: str, params: list[Any], *, limit: int | None = None) -> list[Task]:
        sql = (
            f"SELECT {', '.join(TASK_COLUMNS)} FROM tasks WHERE {where} "
            "ORDER BY due NULLS LAST, priority, title"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._hold():
            table = self._records(sql, params)
        return [_models().Task.model_validate(row) for row in table.to_pylist()]

    # -------------------------------------------------------------------------------------- projects

    def upsert_projects(self, projects: Iterable[Project]) -> None:
        """Insert or replace projects by id in one transaction; an empty iterable writes nothing."""
        rows = [
            (
                p.id,
                p.name,
                p.description,
                p.status.value,
                p.start,
                p.due,
                p.created_at,
                p.updated_at,
                p.deleted,
            )
            for p in projects
        ]
        if rows:
            with self.transaction() as tx:
                tx._many("INSERT OR REPLACE INTO projects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def list_projects(self, *, include_deleted: bool = False) -> list[Project]:
        """Projects by name; deleted ones only with ``include_deleted``."""
        where = "TRUE" if include_deleted else "NOT deleted"
        with self._hold():
            table = self._records(f"SELECT * FROM projects WHERE {where} ORDER BY name")
        return [_models().Project.model_validate(row) for row in table.to_pylist()]

    def find_project(self, name_or_id: str) -> Project | None:
        """The live project whose id, or name ignoring case, is ``name_or_id``; None if there is none.

        If two projects share the name, which one is returned is unspecified.
        """
        with self._hold():
            table = self._records(
                "SELECT * FROM projects WHERE NOT deleted AND (id = ? OR lower(name) = lower(?)) LIMIT 1",
                [name_or_id, name_or_id],
            )
        rows = table.to_pylist()
        return _models().Project.model_validate(rows[0]) if rows else None

    def upsert_milestones(self, milestones: Iterable[Milestone]) -> None:
        """Insert or replace milestones by id in one transaction; an empty iterable writes nothing."""
        rows = [(m.id, m.project_id, m.name, m.start, m.due, m.closed, m.updated_at) for m in milestones]
        if rows:
            with self.transaction() as tx:
                tx._many("INSERT OR REPLACE INTO milestones VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def list_milestones(self) -> list[Milestone]:
        """Every stored milestone, by due date (undated last), then name."""
        with self._hold():
            table = self._records("SELECT * FROM milestones ORDER BY due NULLS LAST, name, id")
        return [_models().Milestone.model_validate(row) for row in table.to_pylist()]

    def delete_milestones(self, milestone_ids: Sequence[str]) -> None:
        """Forget milestones (gone from their service); tasks keep the id, which then matches nothing."""
        if milestone_ids:
            with self._hold():
                self._exec("DELETE FROM milestones WHERE list_contains(?, id)", [list(milestone_ids)])

    def set_task_milestones(self, assignments: Sequence[tuple[str, str | None]]) -> int:
        """Set ``milestone_id`` of many tasks, (task id, milestone id or None) pairs, in one statement.

        Only tasks whose milestone really changes are written (and get a new ``updated_at``, so the Delta
        mirror carries the change); returns how many.
        """
        if not assignments:
            return 0
        with self._hold():
            rows = self._rows(
                "UPDATE tasks SET milestone_id = m.mid, updated_at = ? "
                "FROM (SELECT unnest(?::VARCHAR[]) AS tid, unnest(?::VARCHAR[]) AS mid) m "
                "WHERE tasks.id = m.tid AND tasks.milestone_id IS DISTINCT FROM m.mid",
                [datetime.now(UTC), [a[0] for a in assignments], [a[1] for a in assignments]],
            )
        return int(rows[0][0]) if rows else 0

    def add_comment(self, comment: Comment) -> None:
        """Store a comment, replacing one with the same id, so storing a listed comment again is harmless."""
        with self._hold():
            self._exec(
                "INSERT OR REPLACE INTO comments VALUES (?, ?, ?, ?, ?)",
                [comment.id, comment.task_id, comment.body, comment.author, comment.created_at],
            )

    def comments_for(self, task_id: str) -> list[Comment]:
        """The task's cached comments, oldest first; empty if none were ever stored."""
        with self._hold():
            table = self._records("SELECT * FROM comments WHERE task_id = ? ORDER BY created_at", [task_id])
        return [_models().Comment.model_validate(row) for row in table.to_pylist()]

    # --------------------------------------------------------------------------------- external refs

    def upsert_refs(self, refs: Iterable[ExternalRef]) -> None:
        """Insert or replace refs; a page of them goes in as one Arrow-backed statement.

        ``executemany`` cost ~160 ms per page of refs on a first sync (most of a 4,000-task sync's
        time), so anything beyond a handful of rows is written from an Arrow table instead.
        """
        rows = [
            (
                r.entity.value,
                r.entity_id,
                r.service.value,
                r.external_id,
                r.key,
                r.url,
                r.container,
                _utc(r.remote_updated_at),
                json.dumps(r.base, default=str),
                r.idempotency_key,
                _utc(r.synced_at),
                r.origin,
            )
            for r in refs
        ]
        if not rows:
            return
        insert = (
            "INSERT OR REPLACE INTO external_refs (entity, entity_id, service, external_id, key, "
            "url, container, remote_updated_at, base, idempotency_key, synced_at, origin) "
        )
        if len(rows) < _ARROW_MIN_ROWS:
            with self.transaction() as tx:
                tx._many(insert + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                tx._assign_handles([row[1] for row in rows if row[0] == EntityType.TASK.value])
            return
        import pyarrow as pa

        columns = zip(*rows, strict=True)
        table = pa.Table.from_arrays(
            [pa.array(column, type=kind) for column, kind in zip(columns, _ref_types(), strict=True)],
            names=list(_REF_COLUMNS),
        )
        with self._hold(), self.transaction() as tx:
            self.conn.register("incoming_refs", table)
            try:
                tx._exec(insert + f"SELECT {', '.join(_REF_COLUMNS)} FROM incoming_refs")
                tx._assign_handles([row[1] for row in rows if row[0] == EntityType.TASK.value])
            finally:
                self.conn.unregister("incoming_refs")

    def _assign_handles(self, task_ids: Sequence[str]) -> None:
        """Give the key-less tasks among ``task_ids`` a handle, when they are first stored with a ref.

        Here rather than in the sync: every path that stores a task's first ref (sync, create, link)
        comes through :meth:`upsert_refs`.
        """
        if task_ids:
            self._exec(
                f"INSERT INTO task_handles {_NEW_HANDLES_SQL.format(batch='list_contains(?, r.entity_id)')}",
                [list(dict.fromkeys(task_ids))],
            )

    def handles_for(self, task_ids: Sequence[str]) -> dict[str, str]:
        """Task id -> the name people use for it: a service key (``ENG-12``), else its pmtui handle."""
        if not task_ids:
            return {}
        with self._lock:
            rows = self._rows(
                "SELECT t.id, coalesce((SELECT arg_min(key, service) FROM external_refs r "
                "WHERE r.entity = 'task' AND r.entity_id = t.id AND key IS NOT NULL), h.handle) "
                "FROM (SELECT unnest(?) AS id) t LEFT JOIN task_handles h ON h.task_id = t.id",
                [list(task_ids)],
            )
        return {task_id: handle for task_id, handle in rows if handle}

    def pmtui_handles(self) -> dict[str, str]:
        """Task id -> pmtui handle (``M-12``) for every task that has one."""
        with self._lock:
            rows = self._rows("SELECT task_id, handle FROM task_handles")
        return {task_id: handle for task_id, handle in rows}

    def refs_for(self, entity_id: str, entity: EntityType = EntityType.TASK) -> list[ExternalRef]:
        """Every service's ref for one entity (a task linked to two services has two)."""
        return self._refs_where("entity = ? AND entity_id = ?", [entity.value, entity_id])

    def ref_by_external(
        self, service: Service, external_id: str, entity: EntityType = EntityType.TASK
    ) -> ExternalRef | None:
        """The ref of ``service``'s object ``external_id``, or None if pmtui has never stored it."""
        rows = self._refs_where(
            "service = ? AND entity = ? AND external_id = ?", [service.value, entity.value, external_id]
        )
        return rows[0] if rows else None

    def ref_by_external_key(self, service: Service, key: str) -> ExternalRef | None:
        """The ref a create with idempotency ``key`` produced on ``service``, if it was stored."""
        rows = self._refs_where("service = ? AND idempotency_key = ?", [service.value, key])
        return rows[0] if rows else None

    def refs_by_external(
        self, service: Service, external_ids: Sequence[str], entity: EntityType = EntityType.TASK
    ) -> dict[str, ExternalRef]:
        """Many refs of one service in one query, by external id (a page of a listing at a time)."""
        if not external_ids:
            return {}
        rows = self._refs_where(
            "service = ? AND entity = ? AND list_contains(?, external_id)",
            [service.value, entity.value, list(external_ids)],
        )
        return {ref.external_id: ref for ref in rows}

    def refs_for_service(self, service: Service, entity: EntityType = EntityType.TASK) -> list[ExternalRef]:
        """Every ref of one service and entity kind: what the sync's deletion checks compare a listing to."""
        return self._refs_where("service = ? AND entity = ?", [service.value, entity.value])

    def refs_for_tasks(self, service: Service, task_ids: Sequence[str]) -> list[ExternalRef]:
        """``service``'s refs of many tasks in one query (the push reads only the marked ones)."""
        if not task_ids:
            return []
        return self._refs_where(
            "service = ? AND entity = 'task' AND list_contains(?, entity_id)", [service.value, list(task_ids)]
        )

    def delete_ref(self, ref: ExternalRef) -> None:
        """Forget the link to one remote object; the entity itself stays in the cache."""
        with self._hold():
            self._exec(
                "DELETE FROM external_refs WHERE service = ? AND entity = ? AND external_id = ?",
                [ref.service.value, ref.entity.value, ref.external_id],
            )

    def _refs_where(self, where: str, params: list[Any]) -> list[ExternalRef]:
        with self._hold():
            table = self._records(f"SELECT * FROM external_refs WHERE {where}", params)
        refs = []
        for row in table.to_pylist():
            row["base"] = json.loads(row["base"]) if row["base"] else {}
            refs.append(_models().ExternalRef.model_validate(row))
        return refs

    # ---------------------------------------------------------------------------------------- outbox

    def outbox_mark(self, service: Service, task_id: str, op: str = "push", payload: Any = None) -> None:
        """Note that ``task_id`` has a change ``service`` does not hold yet (idempotent)."""
        with self._hold():
            self._exec(
                "INSERT INTO outbox VALUES (?, ?, ?, ?, NULL, 0, now(), now()) ON CONFLICT DO NOTHING",
                [service.value, task_id, op, json.dumps(payload or {}, default=str)],
            )

    def outbox_clear(self, service: Service, task_id: str, op: str = "push") -> None:
        """The service holds the change now (or there was none): drop the mark."""
        with self._hold():
            self._exec(
                "DELETE FROM outbox WHERE service = ? AND task_id = ? AND op = ?",
                [service.value, task_id, op],
            )

    def outbox_fail(self, service: Service, task_id: str, error: str, op: str = "push") -> None:
        """Keep the mark, with the service's own reason, for the sync status screen."""
        with self._hold():
            self._exec(
                "UPDATE outbox SET error = ?, attempts = attempts + 1, updated_at = now() "
                "WHERE service = ? AND task_id = ? AND op = ?",
                [error, service.value, task_id, op],
            )

    def outbox_entries(
        self, service: Service | None = None, *, op: str | None = None, limit: int | None = None
    ) -> list[OutboxEntry]:
        """Marked changes, oldest first: of one service and kind when given."""
        clauses, params = ["TRUE"], []
        if service is not None:
            clauses.append("service = ?")
            params.append(service.value)
        if op is not None:
            clauses.append("op = ?")
            params.append(op)
        sql = f"SELECT * FROM outbox WHERE {' AND '.join(clauses)} ORDER BY created_at, task_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self._rows(sql, params)
        return [
            OutboxEntry(
                service=Service(row[0]),
                task_id=str(row[1]),
                op=str(row[2]),
                payload=json.loads(row[3]) if row[3] else {},
                error=row[4],
                attempts=int(row[5]),
                created_at=row[6],
                updated_at=row[7],
            )
            for row in rows
        ]

    def outbox_counts(self) -> dict[Service, int]:
        """Marked changes per service (marks, not yet checked against the base)."""
        return {
            Service(row[0]): int(row[1])
            for row in self._rows("SELECT service, count(*) FROM outbox GROUP BY service")
        }

    # -------------------------------------------------------------------------------------- requests

    def request_write(self, record: RequestRecord) -> None:
        """Insert or replace one request's record (state and steps are rewritten as it goes)."""
        with self._hold():
            self._exec(
                "INSERT OR REPLACE INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    record.request_id,
                    record.text,
                    json.dumps(record.plan, default=str),
                    json.dumps(record.routes, default=str),
                    record.state,
                    record.pid,
                    record.started_at,
                    record.finished_at,
                    json.dumps(record.steps, default=str),
                ],
            )

    def requests(self, *, states: Sequence[str] | None = None, limit: int = 50) -> list[RequestRecord]:
        """Request records, newest first (of the given states)."""
        where, params = "TRUE", []
        if states:
            where = "list_contains(?, state)"
            params.append(list(states))
        rows = self._rows(
            f"SELECT * FROM requests WHERE {where} ORDER BY started_at DESC LIMIT {int(limit)}", params
        )
        return [
            RequestRecord(
                request_id=str(row[0]),
                text=str(row[1]),
                plan=json.loads(row[2]),
                routes=json.loads(row[3]),
                state=str(row[4]),
                pid=row[5],
                started_at=row[6],
                finished_at=row[7],
                steps=json.loads(row[8]),
            )
            for row in rows
        ]

    def request(self, request_id: str) -> RequestRecord | None:
        """One request's record by id (or by a unique prefix of it, as `pmtui undo --list` shows it)."""
        rows = self._rows(
            "SELECT request_id FROM requests WHERE starts_with(request_id, ?) LIMIT 2", [request_id]
        )
        if len(rows) != 1:
            return None
        found = [r for r in self.requests(limit=100000) if r.request_id == rows[0][0]]
        return found[0] if found else None

    # --------------------------------------------------------------------------------------- journal

    def journal_write(self, entry: JournalEntry) -> None:
        """Write or update one journal step."""
        with self._hold():
            self._exec(
                "INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    entry.id,
                    entry.request_id,
                    entry.step,
                    entry.service.value,
                    entry.op,
                    json.dumps(entry.payload, default=str),
                    entry.idempotency_key,
                    entry.state.value,
                    entry.entity_id,
                    entry.external_id,
                    entry.attempts,
                    entry.error,
                    entry.created_at,
                    datetime.now(UTC),
                ],
            )

    def journal_entries(self, *, states: Sequence[JournalState] | None = None) -> list[JournalEntry]:
        """Journal steps, only those in ``states`` when given, oldest first and in step order."""
        where, params = "TRUE", []
        if states:
            where = f"state IN ({', '.join('?' for _ in states)})"
            params = [s.value for s in states]
        # Plain rows (as every read here), not Arrow: read at every start, it must not import pyarrow.
        rows = self._records(f"SELECT * FROM journal WHERE {where} ORDER BY created_at, step", params)
        entries = []
        for row in rows.to_pylist():
            row["payload"] = json.loads(row["payload"])
            entries.append(_models().JournalEntry.model_validate(row))
        return entries

    def journal_delete(self, entry_ids: Sequence[str]) -> None:
        """Remove steps by id; ``Journal.close`` calls it in the transaction that stores the step's result."""
        if entry_ids:
            with self._hold():
                self._exec(
                    f"DELETE FROM journal WHERE id IN ({', '.join('?' for _ in entry_ids)})", list(entry_ids)
                )

    # ------------------------------------------------------------------------------ cursors and runs

    def get_cursor(self, service: Service, resource: str) -> str | None:
        """The saved cursor of ``service``'s ``resource``; None if never saved (the next pull lists all)."""
        with self._hold():
            row = next(
                iter(
                    self._rows(
                        "SELECT cursor FROM sync_cursors WHERE service = ? AND resource = ?",
                        [service.value, resource],
                    )
                ),
                None,
            )
        return row[0] if row else None

    def cursor_updated_at(self, service: Service, resource: str) -> datetime | None:
        """When ``service``'s ``resource`` cursor was last saved; None if never (a listing is due)."""
        with self._hold():
            rows = self._rows(
                "SELECT updated_at FROM sync_cursors WHERE service = ? AND resource = ?",
                [service.value, resource],
            )
        return _utc(rows[0][0]) if rows else None

    def set_cursor(self, service: Service, resource: str, cursor: str | None) -> None:
        """Save a cursor; the sync calls it in the transaction that stores the page, so no page is skipped."""
        with self._hold():
            self._exec(
                "INSERT OR REPLACE INTO sync_cursors VALUES (?, ?, ?, ?)",
                [service.value, resource, cursor, datetime.now(UTC)],
            )

    def record_sync_run(self, run: SyncRun) -> None:
        """Insert or replace a run by id: a sync records it at start and rewrites it when it ends."""
        with self._hold():
            self._exec(
                "INSERT OR REPLACE INTO sync_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run.id,
                    run.run_id,
                    run.service.value,
                    run.started_at,
                    run.finished_at,
                    run.pulled,
                    run.pushed,
                    run.conflicts,
                    run.requests,
                    run.duration_ms,
                    run.status,
                    run.error,
                    run.retry_at,
                    json.dumps(run.skipped),
                ],
            )

    def end_abandoned_runs(self, service: Service) -> int:
        """Mark ``service``'s runs still "running" as failed: called by the process that now holds that
        service's sync lock, so whoever recorded them has ended (killed mid-run). Returns how many."""
        with self._hold():
            rows = self._rows(
                "SELECT count(*) FROM sync_runs WHERE service = ? AND status = 'running'", [service.value]
            )
            if rows and rows[0][0]:
                self._exec(
                    "UPDATE sync_runs SET status = 'failed', finished_at = coalesce(finished_at, ?), "
                    "error = 'interrupted: the process ended during the run' "
                    "WHERE service = ? AND status = 'running'",
                    [datetime.now(UTC), service.value],
                )
            return int(rows[0][0]) if rows else 0

    def sync_runs(self, *, service: Service | None = None, limit: int = 50) -> list[SyncRun]:
        """Recorded runs, newest first, of one service when given, at most ``limit``."""
        where, params = ("service = ?", [service.value]) if service else ("TRUE", [])
        with self._hold():
            table = self._records(
                f"SELECT * FROM sync_runs WHERE {where} ORDER BY started_at DESC LIMIT {int(limit)}", params
            )
        return [_sync_run(row) for row in table.to_pylist()]

    def last_sync_runs(self) -> dict[Service, SyncRun]:
        """The newest run per service."""
        with self._hold():
            table = self._records(
                "SELECT * FROM sync_runs QUALIFY row_number() OVER (PARTITION BY service "
                "ORDER BY started_at DESC) = 1"
            )
        runs = [_sync_run(row) for row in table.to_pylist()]
        return {run.service: run for run in runs}

    # ------------------------------------------------------------------------------------- decisions

    def log_decision(self, decision: Decision) -> None:
        """Append one decision; the log is never rewritten, so a repeated id raises."""
        with self._hold():
            self._exec(
                "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    decision.id,
                    decision.at,
                    decision.request_id,
                    decision.kind,
                    decision.action_ref,
                    decision.task_id,
                    decision.service.value if decision.service else None,
                    decision.reason,
                    json.dumps(decision.detail, default=str),
                ],
            )

    def attach_decisions(self, request_id: str, action_ref: str, task_id: str) -> None:
        """File a request's plan and its action's decisions under the task the action created.

        They are logged before the task exists (routing comes first), so without this "Decisions" in
        the task's detail would be empty for every task the agent made.
        """
        with self._lock:
            self._exec(
                "UPDATE decisions SET task_id = ? WHERE request_id = ? AND task_id IS NULL "
                "AND (action_ref = ? OR kind = 'plan')",
                [task_id, request_id, action_ref],
            )

    def decisions(
        self, *, request_id: str | None = None, task_id: str | None = None, limit: int = 200
    ) -> list[Decision]:
        """Logged decisions, newest first, filtered by request and/or task, at most ``limit``."""
        clauses, params = [], []
        if request_id:
            clauses.append("request_id = ?")
            params.append(request_id)
        if task_id:
            clauses.append("task_id = ?")
            params.append(task_id)
        where = " AND ".join(clauses) or "TRUE"
        with self._hold():
            table = self._records(
                f'SELECT * FROM decisions WHERE {where} ORDER BY "at" DESC LIMIT {int(limit)}', params
            )
        rows = []
        for row in table.to_pylist():
            row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
            rows.append(_models().Decision.model_validate(row))
        return rows

    # ------------------------------------------------------------------------------------- conflicts

    def add_conflict(self, conflict: Conflict) -> None:
        """Insert or replace a conflict by id: resolving one rewrites it with ``resolved_at`` set."""
        with self._hold():
            self._exec(
                "INSERT OR REPLACE INTO conflicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    conflict.id,
                    conflict.task_id,
                    conflict.service.value,
                    conflict.field,
                    json.dumps(conflict.base, default=str),
                    json.dumps(conflict.local, default=str),
                    json.dumps(conflict.remote, default=str),
                    conflict.created_at,
                    conflict.resolved_at,
                    conflict.resolution,
                    json.dumps(conflict.resolved_value, default=str),
                ],
            )

    def conflicts(self, *, open_only: bool = True, task_id: str | None = None) -> list[Conflict]:
        """Conflicts oldest first: only unresolved ones unless ``open_only=False``, of one task when given."""
        clauses, params = [], []
        if open_only:
            clauses.append("resolved_at IS NULL")
        if task_id:
            clauses.append("task_id = ?")
            params.append(task_id)
        where = " AND ".join(clauses) or "TRUE"
        with self._hold():
            table = self._records(f"SELECT * FROM conflicts WHERE {where} ORDER BY created_at", params)
        result = []
        for row in table.to_pylist():
            for key in ("base", "local", "remote", "resolved_value"):
                row[key] = json.loads(row[key]) if row[key] is not None else None
            result.append(_models().Conflict.model_validate(row))
        return result

    def open_conflicts_for(self, service: Service, task_ids: Sequence[str]) -> dict[str, set[str]]:
        """Task id -> the fields with an open conflict on ``service``, for many tasks in one query."""
        result: dict[str, set[str]] = {}
        if not task_ids:
            return result
        with self._hold():
            rows = self._rows(
                "SELECT task_id, field FROM conflicts WHERE resolved_at IS NULL AND service = ? "
                "AND list_contains(?, task_id)",
                [service.value, list(task_ids)],
            )
        for task_id, field_name in rows:
            result.setdefault(str(task_id), set()).add(str(field_name))
        return result

    def open_conflict_fields(self) -> dict[str, set[str]]:
        """Task id -> the fields with an open conflict, in one query."""
        result: dict[str, set[str]] = {}
        for task_id, field_name in self._rows(
            "SELECT task_id, field FROM conflicts WHERE resolved_at IS NULL"
        ):
            result.setdefault(str(task_id), set()).add(str(field_name))
        return result

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

    # ------------------------------------------------------------------------------ gitlab activity
    # One row per task whose GitLab issue's code activity was fetched (pmtui.core.activity decides
    # when); ``issue_updated_at`` is the issue's remote update time the payload was fetched against.

    def gitlab_activity(self, task_id: str) -> dict[str, Any] | None:
        """The cached activity row of a task (payload decoded), or None."""
        rows = self._rows(
            "SELECT task_id, external_id, issue_updated_at, fetched_at, payload FROM gitlab_activity "
            "WHERE task_id = ?",
            [task_id],
        )
        if not rows:
            return None
        task, external_id, issue_updated_at, fetched_at, payload = rows[0]
        return {
            "task_id": task,
            "external_id": external_id,
            "issue_updated_at": _utc(issue_updated_at),
            "fetched_at": _utc(fetched_at),
            "payload": json.loads(payload) if payload else {},
        }

    def put_gitlab_activity(
        self,
        task_id: str,
        external_id: str,
        *,
        issue_updated_at: datetime | None,
        fetched_at: datetime,
        payload: dict[str, Any],
    ) -> None:
        """Write (or replace) a task's cached activity."""
        self._exec(
            "INSERT OR REPLACE INTO gitlab_activity VALUES (?, ?, ?, ?, ?)",
            [task_id, external_id, _utc(issue_updated_at), _utc(fetched_at), json.dumps(payload)],
        )

    def stale_gitlab_activity(self) -> list[tuple[str, str, datetime | None]]:
        """Cached tasks whose GitLab issue changed since the fetch: (task id, issue id, its updated_at).

        Compares with the ref the last pull wrote; a task that lost its GitLab ref is not listed.
        """
        rows = self._rows(
            "SELECT a.task_id, r.external_id, r.remote_updated_at FROM gitlab_activity a "
            "JOIN external_refs r ON r.entity = 'task' AND r.entity_id = a.task_id AND r.service = 'gitlab' "
            "WHERE r.external_id <> a.external_id OR (r.remote_updated_at IS NOT NULL AND "
            "(a.issue_updated_at IS NULL OR r.remote_updated_at > a.issue_updated_at)) "
            "ORDER BY a.task_id"
        )
        return [(str(t), str(e), _utc(u)) for t, e, u in rows]

    def open_tasks_gitlab_activity(self) -> list[dict[str, Any]]:
        """The cached activity payloads of open tasks (empty when the file predates the table)."""
        try:
            rows = self._rows(
                "SELECT a.payload FROM gitlab_activity a JOIN tasks t ON t.id = a.task_id "
                "WHERE NOT t.deleted AND t.status IN ('todo', 'in_progress') ORDER BY a.task_id"
            )
        except duckdb.CatalogException:  # a read-only open of a cache older than migration 4
            return []
        return [json.loads(payload) for (payload,) in rows if payload]


@dataclass(frozen=True)
class _Records:
    """Rows read as dicts, with the one method the readers used of an Arrow table."""

    rows: list[dict[str, Any]]

    def to_pylist(self) -> list[dict[str, Any]]:
        return self.rows


@dataclass(frozen=True)
class OutboxEntry:
    """One change a service does not hold yet: ``push`` (fields differ from the base) or ``create``
    (the task must be created there, e.g. "queued for Linear"), with the last failure's reason."""

    service: Service
    task_id: str
    op: str
    payload: dict[str, Any]
    error: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime


@dataclass
class RequestRecord:
    """A plan as it was run: its text, routes and the steps done (each with how to undo it).

    ``state``: ``running`` while a process works on it, ``done`` / ``failed`` at the end,
    ``interrupted`` once a later start finds its process gone, ``undoing`` / ``undone`` for an undo.
    """

    request_id: str
    text: str
    plan: dict[str, Any]
    routes: dict[str, Any]
    state: str
    pid: int | None
    started_at: datetime
    finished_at: datetime | None
    steps: list[dict[str, Any]]


def _sync_run(row: dict[str, Any]) -> SyncRun:
    skipped = row.get("skipped")
    row["skipped"] = json.loads(skipped) if isinstance(skipped, str) else (skipped or [])
    run: SyncRun = _models().SyncRun.model_validate(row)
    return run


def store_path(data_dir: Path) -> Path:
    """The cache file inside a data folder."""
    return data_dir / STORE_FILENAME
