"""The local service: tasks that live only in pmtui's cache (the default when nothing is configured).

It has no remote side, so every call succeeds at once and echoes the task back with a ``local`` ref;
the engine stores the result exactly as it does for a remote service, which keeps one code path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pmtui.integrations.base import (
    Capabilities,
    ChangePage,
    Health,
    Integration,
    RemoteProject,
    RemoteTask,
    TaskPatch,
)
from pmtui.models import ExternalRef, Project, Service, Status, Task, utcnow


class LocalIntegration(Integration):
    """Keeps nothing itself: ``lookup`` reads the task from the engine's cache when asked."""

    service = Service.LOCAL
    capabilities = Capabilities(
        projects=True,
        milestones=False,
        due_dates=True,
        due_times=True,
        scheduling=False,
        comments=True,
        durations=True,
        client_ids=True,
        incremental=False,
    )

    def __init__(self, lookup: Callable[[str], Task | None] | None = None) -> None:
        self._lookup = lookup or (lambda _id: None)

    def health(self) -> Health:
        """Always healthy: there is no remote side to reach."""
        return Health(service=Service.LOCAL, ok=True, detail="tasks kept in the local cache only")

    def _remote(self, task: Task) -> RemoteTask:
        ref = ExternalRef(
            entity_id=task.id,
            service=Service.LOCAL,
            external_id=task.id,
            remote_updated_at=task.updated_at,
            idempotency_key=task.id,
        )
        return RemoteTask(ref=ref, task=task)

    def create_project(self, project: Project, *, idempotency_key: str) -> RemoteProject:
        """Echo the project back with a ``local`` ref whose external id is the project's own id."""
        ref = ExternalRef(
            entity_id=project.id,
            service=Service.LOCAL,
            external_id=project.id,
            idempotency_key=idempotency_key,
        )
        return RemoteProject(ref=ref, project=project)

    def create_task(
        self, task: Task, *, idempotency_key: str, project_external_id: str | None = None
    ) -> RemoteTask:
        """Echo the task back with a ``local`` ref (external id = task id), so a retry gives the same ref."""
        return self._remote(task)

    def update_task(self, external_id: str, patch: TaskPatch) -> RemoteTask:
        """The cached task (or a placeholder) with ``patch`` applied; moving to done sets ``completed_at``."""
        current = self._lookup(external_id)
        if current is None:
            current = Task(id=external_id, title="(local task)")
        changed = current.model_copy(update={**patch.fields, "updated_at": utcnow()})
        if patch.fields.get("status") == Status.DONE and changed.completed_at is None:
            changed.completed_at = utcnow()
        return self._remote(Task.model_validate(changed.model_dump()))

    def delete_task(self, external_id: str) -> None:
        """Nothing to do: the only copy is the cache's, which the engine updates itself."""
        return None

    def get_task(self, external_id: str) -> RemoteTask | None:
        """The cached task through ``lookup``; None if the cache does not have it."""
        task = self._lookup(external_id)
        return self._remote(task) if task else None

    def find_by_idempotency_key(self, key: str, hint: Task | None = None) -> RemoteTask | None:
        """``key`` looked up as a task id. A local create never leaves the process, so a step left pending
        finds nothing here and recovery treats it as never run.
        """
        return self.get_task(key)

    def list_changes(self, cursor: str | None) -> Iterator[ChangePage]:
        """One empty last page, the cursor unchanged: nothing changes a local task behind pmtui's back."""
        yield ChangePage(items=[], cursor=cursor, last=True)
