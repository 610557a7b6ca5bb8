"""Field conflicts between the cache and a service, open until resolved."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pmtui.core.store.base import StoreBase, _models
from pmtui.kinds import Service

if TYPE_CHECKING:
    from pmtui.models import Conflict


class ConflictsMixin(StoreBase):
    """Conflicts: stored, listed and looked up by task and field."""

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
