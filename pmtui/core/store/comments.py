"""Comments and the cached GitLab activity (merge requests, pipelines, commits) of tasks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from pmtui.core.store.base import StoreBase, _models, _utc

if TYPE_CHECKING:
    from pmtui.models import Comment


class CommentsMixin(StoreBase):
    """Comments and GitLab activity per task."""

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
