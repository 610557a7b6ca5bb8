"""External refs (a task's id on each service), the pmtui handles of key-less tasks, and the outbox.

A handle is given when a task's first ref is stored, so it lives with the refs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pmtui.core.store.base import StoreBase, _models, _utc
from pmtui.core.store.schema import _BATCH_HANDLES_SQL, _REF_COLUMNS, _ref_types
from pmtui.kinds import EntityType, Service

if TYPE_CHECKING:
    from pmtui.models import ExternalRef

_ARROW_MIN_ROWS = 8
"""Below this many rows a plain ``executemany`` is cheaper than building and registering an Arrow table."""


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


def _key_less_tasks(rows: Sequence[tuple[Any, ...]]) -> list[str]:
    """The task ids among ref rows written without a service key: only those can need a pmtui handle.

    A task gets a handle when none of its refs has a key, so a task whose ref was just written with
    one (every Linear and GitLab issue) never does.
    """
    return [row[1] for row in rows if row[0] == EntityType.TASK.value and row[4] is None]


class RefsMixin(StoreBase):
    """External refs, task handles and the outbox of changes a service does not hold yet."""

    def upsert_refs(self, refs: Iterable[ExternalRef]) -> None:
        """Write refs, one row per (service, entity, external id); a page goes in from one Arrow table.

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
        rows = list({(row[2], row[0], row[3]): row for row in rows}.values())  # the last ref per key
        # A delete and an insert, not INSERT OR REPLACE, which in DuckDB took about twice the CPU
        # (a page of 125 refs at 50,000: 22-24 against 12-14 ms; 3 rows: 21 against 11 ms).
        names = ", ".join(_REF_COLUMNS)
        if len(rows) < _ARROW_MIN_ROWS:
            with self.transaction() as tx:
                tx._many(
                    "DELETE FROM external_refs WHERE service = ? AND entity = ? AND external_id = ?",
                    [(row[2], row[0], row[3]) for row in rows],
                )
                tx._many(
                    f"INSERT INTO external_refs ({names}) VALUES ({', '.join('?' * len(_REF_COLUMNS))})", rows
                )
                tx._assign_handles(_key_less_tasks(rows))
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
                tx._exec(
                    "DELETE FROM external_refs r USING incoming_refs i WHERE r.service = i.service "
                    "AND r.entity = i.entity AND r.external_id = i.external_id"
                )
                tx._exec(f"INSERT INTO external_refs ({names}) SELECT {names} FROM incoming_refs")
                tx._assign_handles(_key_less_tasks(rows))
            finally:
                self.conn.unregister("incoming_refs")

    def _assign_handles(self, task_ids: Sequence[str]) -> None:
        """Give the key-less tasks among ``task_ids`` a handle, when they are first stored with a ref.

        Here rather than in the sync: every path that stores a task's first ref (sync, create, link)
        comes through :meth:`upsert_refs`.
        """
        if not task_ids:
            return
        # Nearly every task a sync stores already has its handle: finding the few without one reads
        # one column of task_handles (about 3 ms at 50,000 tasks), where the statement that gives them
        # groups the refs and joins the tasks (13-16 ms), once per stored page.
        (missing,) = self._rows(
            "SELECT list(id) FROM (SELECT DISTINCT unnest(?) AS id) "
            "WHERE id NOT IN (SELECT task_id FROM task_handles)",
            [list(task_ids)],
        )[0]
        if missing:
            self._exec(f"INSERT INTO task_handles {_BATCH_HANDLES_SQL}", [missing])

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

    def ref_stamps(self, service: Service, entity: EntityType = EntityType.TASK) -> dict[str, int | None]:
        """Every ref's remote update time, in microseconds since the epoch, by external id.

        What a scan compares each listed item with: one query per sync instead of one per page, and no
        models (a 12,500-task service reads in a few milliseconds; datetimes alone would cost more).
        """
        with self._hold():
            rows = self._rows(
                "SELECT external_id, epoch_us(remote_updated_at) FROM external_refs"
                " WHERE service = ? AND entity = ?",
                [service.value, entity.value],
            )
        return dict(rows)

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

    def outbox_clear_many(self, service: Service, task_ids: Sequence[str], op: str = "push") -> None:
        """:meth:`outbox_clear` of many tasks in one statement (the marks a sync's own merges left)."""
        if not task_ids:
            return
        with self._hold():
            self._exec(
                "DELETE FROM outbox WHERE service = ? AND op = ? AND list_contains(?, task_id)",
                [service.value, op, list(task_ids)],
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
