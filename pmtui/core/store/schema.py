"""The cache's schema: the migrations that build it, in order, and the column layouts bulk writes use.

:data:`MIGRATIONS` is append-only (a released migration is never edited); :class:`~pmtui.core.store.
migrations.SchemaMixin` applies them. Data only, so the table layout is read in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmtui.kinds import Service

if TYPE_CHECKING:
    import pyarrow as pa


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

_BATCH_HANDLES_SQL = _NEW_HANDLES_SQL.replace(
    "FROM external_refs WHERE entity = 'task' GROUP BY",
    "FROM external_refs WHERE entity = 'task' AND list_contains(?, entity_id) GROUP BY",
).format(batch="TRUE")
""":data:`_NEW_HANDLES_SQL` for the tasks in a list (the one parameter), filtered before grouping.

Filtering after the grouping (``{batch}``) grouped every ref of the cache for each page a sync stored:
about 6 ms a page at 50,000 tasks, paid by every changed task's page."""

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
    (
        9,
        "the ids a spread scan's current pass has listed, a page's worth of rows at a time",
        [
            # Kept in the scan's cursor row until now, rewritten whole with every page: a pass of
            # 12,500 tasks wrote 250 ever-longer copies of its id list.
            """CREATE TABLE scan_seen (
                service VARCHAR NOT NULL,
                external_id VARCHAR NOT NULL,
                PRIMARY KEY (service, external_id)
            )""",
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


def _ref_types() -> list[pa.DataType]:
    """Arrow types of :data:`_REF_COLUMNS`, in order (pyarrow stays off the read path's imports)."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return [pa.string()] * 7 + [ts, pa.string(), pa.string(), ts, pa.bool_()]
