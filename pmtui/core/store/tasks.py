"""Tasks, projects and milestones: the rows the board, the briefing and every front end read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pmtui.core.store.base import StoreBase, _models, _utc
from pmtui.core.store.schema import TASK_COLUMNS, _task_schema

if TYPE_CHECKING:
    from pmtui.kinds import Service
    from pmtui.models import Milestone, Project, Task


class TasksMixin(StoreBase):
    """Tasks, projects and milestones (a task write marks its service refs in the outbox)."""

    def upsert_tasks(
        self, tasks: Sequence[Task], *, held_by: tuple[Service, Sequence[str]] | None = None
    ) -> int:
        """Write tasks (one row per id, from one Arrow table), and mark their refs for a push.

        ``held_by`` names a service and the ids among ``tasks`` that it already holds as written (a
        sync's pull of that service, where the merge left nothing to send back): their ref on that
        service is not marked. Without it the push would read each of those tasks, its ref and its
        conflicts only to find nothing to send and clear the mark (80-90 ms of a 1 % sync at 50,000).
        A mark already there stays, and the push settles it as before.
        """
        if not tasks:
            return 0
        tasks = list({task.id: task for task in tasks}.values())  # one row per id: the last one given
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
                # A delete and an insert, not INSERT OR REPLACE: in DuckDB that took 2-3x the CPU
                # (37 against 18 ms for a page of 125 tasks at 50,000, 134 against 40 for 1,000).
                tx._exec("DELETE FROM tasks WHERE id IN (SELECT id FROM incoming_tasks)")
                tx._exec(
                    f"INSERT INTO tasks ({', '.join(TASK_COLUMNS)}) "
                    f"SELECT {', '.join(TASK_COLUMNS)} FROM incoming_tasks"
                )
                # Dirty tracking: every local write of a task marks its service refs in the same
                # transaction, so the push reads only these (and no path that changes a task can miss
                # one). A mark whose fields already agree is cleared by the next push.
                holder, held = held_by if held_by else (None, [])
                tx._exec(
                    "INSERT INTO outbox SELECT DISTINCT r.service, r.entity_id, 'push', '{}', NULL, 0, "
                    "now(), now() FROM external_refs r JOIN incoming_tasks i ON r.entity_id = i.id "
                    "WHERE r.entity = 'task' AND r.service <> 'local' "
                    "AND NOT (r.service = ? AND list_contains(?::VARCHAR[], r.entity_id)) "
                    "ON CONFLICT DO NOTHING",
                    [holder.value if holder else "", list(held)],
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
        # DuckDB plans ``= ANY`` as a semi join whose keys filter the table scan, so only the matching
        # rows are read whole; with ``list_contains`` every column of every task was read first (19-25
        # against 12 ms of CPU for 125 of 50,000 tasks).
        rows = self._tasks_where("id = ANY(?)", [list(ids)])
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

        If two projects share the name, the oldest is returned, so every caller picks the same one.
        """
        with self._hold():
            table = self._records(
                "SELECT * FROM projects WHERE NOT deleted AND (id = ? OR lower(name) = lower(?)) "
                "ORDER BY (id = ?) DESC, created_at, id LIMIT 1",
                [name_or_id, name_or_id, name_or_id],
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
