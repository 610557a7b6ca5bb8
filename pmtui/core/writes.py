"""The one write path: every change pmtui sends to a service is merged with what the service holds now.

A write is an *intended change of some fields against a known base* (``ExternalRef.base``, the values
both sides last agreed on). Before anything goes out it is merged three ways with the service's current
value (:func:`pmtui.core.merge.merge_fields`), exactly as a sync merges a pulled change:

- a field only pmtui changed is pushed;
- a field only the service changed is taken into the local cache;
- a field both changed differently becomes a conflict (per ``[sync] conflict_policy``), and neither
  side is written while it is open;
- the base advances only to what the service confirmed (read back after the write).

The sync (``SyncEngine``) merges with the value it just pulled; direct edits (the app, ``pmtui do``,
undo, conflict resolutions, recovery after a crash) read the service's value fresh. Until a push is
confirmed the change sits in the **outbox** (a row per service and task, written in the same
transaction as the local edit by :meth:`Store.upsert_tasks`), so it is pushed, pending, or a visible
conflict: never dropped. A service that is down leaves it pending; a task deleted on the service is a
delete-vs-edit conflict whose "keep" recreates it (:meth:`WritePath.recreate`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pmtui.config import Settings
from pmtui.core.merge import (
    FieldConflict,
    MergeResult,
    TaskMerge,
    TaskOutcome,
    canonical_value,
    merge_fields,
    merge_task_states,
    same_value,
)
from pmtui.core.store import OutboxEntry, Store
from pmtui.errors import NotFoundError, PmtuiError, ServiceError
from pmtui.integrations.base import Integration, RemoteTask, TaskPatch
from pmtui.integrations.limits import user_lane
from pmtui.models import (
    SYNCED_TASK_FIELDS,
    Conflict,
    ConflictPolicy,
    Decision,
    EntityType,
    ExternalRef,
    Priority,
    Service,
    Status,
    Task,
    utcnow,
)

log = logging.getLogger("pmtui.writes")

_ISSUE_FIELDS = ("title", "description", "status", "priority", "due", "due_all_day", "labels", "assignee")
"""What an issue tracker holds of a task (Linear and GitLab alike: a bare due date, an assignee)."""

SERVICE_FIELDS: dict[Service, tuple[str, ...]] = {
    # Motion keeps a due instant (no all-day flag) and a duration.
    Service.MOTION: (
        "title",
        "description",
        "status",
        "priority",
        "due",
        "duration_minutes",
        "labels",
        "assignee",
    ),
    Service.LINEAR: _ISSUE_FIELDS,
    Service.GITLAB: _ISSUE_FIELDS,
    Service.NOTION: ("title", "description", "status", "priority", "due", "due_all_day", "labels"),
}
"""The canonical fields each service can hold (merged and pushed); the rest stay local."""

DELETED_FIELD = "_deleted"
"""The pseudo-field of a delete-vs-edit conflict."""


# ------------------------------------------------------------------------------ value projection


def project_for(service: Service, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as ``service`` would read them back: the representation its base is kept in.

    Linear and GitLab keep a bare date (midnight UTC, all day); Motion has no "no priority" (it reads
    back MEDIUM) and no all-day flag; GitLab has no canceled state (closed reads back as done).
    """
    out = dict(values)
    if service in (Service.LINEAR, Service.GITLAB) and out.get("due"):
        due = _as_datetime(out["due"])
        if due is not None:
            out["due"] = datetime(due.year, due.month, due.day, tzinfo=UTC).isoformat()
            if "due_all_day" in out:
                out["due_all_day"] = True
    if service is Service.MOTION and out.get("priority") == Priority.NONE.value:
        out["priority"] = Priority.MEDIUM.value
    if service is Service.GITLAB and out.get("status") == Status.CANCELED.value:
        out["status"] = Status.DONE.value
    if isinstance(out.get("description"), str):
        out["description"] = out["description"].rstrip()
    return {name: canonical_value(name, value) for name, value in out.items()}


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def fields_of(task: Task, names: Iterable[str]) -> dict[str, Any]:
    """The canonical JSON values of ``names`` on ``task``."""
    data = task.model_dump(mode="json")
    return {name: data.get(name) for name in names}


def apply_values(task: Task, values: dict[str, Any]) -> Task:
    """``task`` with canonical JSON ``values`` applied (validated, so enums and datetimes come back typed)."""
    data = task.model_dump(mode="json")
    data.update(values)
    data["updated_at"] = utcnow().isoformat()
    if values.get("status") == Status.DONE.value and not data.get("completed_at"):
        data["completed_at"] = utcnow().isoformat()
    if values.get("status") in (Status.TODO.value, Status.IN_PROGRESS.value):
        data["completed_at"] = None
    return Task.model_validate(data)


def patch_values(values: dict[str, Any]) -> dict[str, Any]:
    """Canonical JSON values as the typed values an integration's TaskPatch takes."""
    typed = Task.model_validate(
        {
            "title": values.get("title") or "x",
            **{
                k: v
                for k, v in values.items()
                if v is not None or k in ("due", "duration_minutes", "assignee")
            },
        }
    )
    return {name: getattr(typed, name) for name in values}


# ----------------------------------------------------------------------------------- outcomes


@dataclass
class RefOutcome:
    """What one write to one service did (for the result line, the decision log and the toast)."""

    service: Service
    pushed: tuple[str, ...] = ()
    pulled: tuple[str, ...] = ()
    """Fields the service had changed, now taken into the local cache."""
    conflicts: tuple[str, ...] = ()
    """Fields left open for the person (``_deleted`` for a delete-vs-edit)."""
    pending: str | None = None
    """Why the change waits in the outbox (the service's own message); None once it is written."""
    deleted: bool = False
    """The service had deleted the (unedited) task: it left the cache."""
    unreachable: bool = False
    """The change waits because the service did not answer (down, throttled), not because it refused."""

    @property
    def written(self) -> bool:
        """True when nothing waits and nothing conflicts: the service holds the change."""
        return self.pending is None and not self.conflicts


@dataclass
class MergeStep:
    """A merge decided against one ref: the task and ref to store, and the conflicts to file."""

    task: Task
    task_changed: bool
    ref: ExternalRef
    conflicts: list[FieldConflict] = field(default_factory=list)
    result: MergeResult | None = None

    @property
    def needs_push(self) -> bool:
        """The merge left fields the service does not hold yet."""
        return bool(self.result and self.result.to_push)


# ------------------------------------------------------------------------------------ the path


class WritePath:
    """Merge, store, push: the same steps for the sync, direct edits, undo, resolutions and recovery."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        integrations: Callable[[Service], Integration],
    ) -> None:
        self.store = store
        self.settings = settings
        self.integrations = integrations

    # ---------------------------------------------------------------------------------- fields

    def fields(self, service: Service, ref: ExternalRef) -> tuple[str, ...]:
        """Which fields this ref exchanges: all the service holds for the origin, else the flow fields."""
        supported = SERVICE_FIELDS.get(service, SYNCED_TASK_FIELDS)
        if ref.origin:
            return supported
        flow = set(self.settings.sync.flow_fields)
        return tuple(name for name in supported if name in flow)

    def policies(self) -> dict[str, ConflictPolicy]:
        """The configured conflict policy per field (``ask`` where none is set)."""
        return dict(self.settings.sync.conflict_policy)

    def open_fields(self, service: Service, task_id: str) -> set[str]:
        """Fields of ``task_id`` with an open conflict on ``service``: nothing is written to them."""
        return set(self.store.open_conflicts_for(service, [task_id]).get(task_id, set()))

    def pending_diff(
        self, service: Service, ref: ExternalRef, task: Task, open_fields: Iterable[str] = ()
    ) -> dict[str, Any]:
        """The fields where the local task differs from what the service was last agreed to hold."""
        names = self.fields(service, ref)
        blocked = set(open_fields)
        local = project_for(service, fields_of(task, names))
        return {
            name: value
            for name, value in local.items()
            if name not in blocked and name in ref.base and not same_value(name, ref.base.get(name), value)
        }

    # ---------------------------------------------------------------------------------- merging

    def merge(
        self,
        service: Service,
        ref: ExternalRef,
        task: Task,
        remote: RemoteTask,
        open_fields: Iterable[str] = (),
    ) -> MergeStep:
        """Decide the three-way merge of a live task against the service's value (no I/O).

        The caller stores ``step.task`` (when changed), ``step.ref`` and files ``step.conflicts``; the
        fields only pmtui changed stay different from the new base, so the push sends them.
        """
        names = self.fields(service, ref)
        blocked = set(open_fields)
        base = {k: v for k, v in ref.base.items() if k in names}
        local = project_for(service, fields_of(task, names))
        remote_values = project_for(service, fields_of(remote.task, names))
        result = merge_fields(
            base,
            local,
            remote_values,
            policies=self.policies(),
            fields=names,
            local_updated_at=task.updated_at,
            remote_updated_at=remote.ref.remote_updated_at,
        )
        stored = {k: v for k, v in result.to_store.items() if k not in blocked}
        merged_task = apply_values(task, stored) if stored else task
        new_base = dict(ref.base)
        new_base.update({k: v for k, v in result.next_base.items() if k not in blocked})
        new_ref = ref.model_copy(
            update={
                "base": new_base,
                "remote_updated_at": remote.ref.remote_updated_at or ref.remote_updated_at,
                "synced_at": utcnow(),
                "key": remote.ref.key or ref.key,
                "url": remote.ref.url or ref.url,
            }
        )
        conflicts = [c for c in result.conflicts if c.field not in blocked]
        return MergeStep(merged_task, bool(stored), new_ref, conflicts, result)

    def file_conflicts(self, service: Service, task: Task, conflicts: Iterable[FieldConflict]) -> None:
        """Store each new field conflict (an open one on the same field is not filed twice)."""
        for conflict in conflicts:
            self.store.add_conflict(conflict.to_conflict(task_id=task.id, service=service))
            self.decide(task.id, service, f"conflict on {conflict.field}: both sides changed it")

    # ---------------------------------------------------------------------------------- pushing

    def push(
        self,
        service: Service,
        integration: Integration,
        ref: ExternalRef,
        task: Task,
        open_fields: Iterable[str] = (),
    ) -> tuple[str, ...]:
        """Send the fields that differ from the base; the base advances to what the service reads back.

        Returns the pushed field names (empty when there was nothing to send, which clears the mark).
        Service errors propagate: the caller decides whether the change waits or the task is gone.
        """
        diff = self.pending_diff(service, ref, task, open_fields)
        if not diff:
            self.store.outbox_clear(service, task.id)
            return ()
        remote = integration.update_task(ref.external_id, TaskPatch(patch_values(diff)))
        names = self.fields(service, ref)
        readback = project_for(service, fields_of(remote.task, names))
        ref.base = {**ref.base, **{name: readback.get(name) for name in diff}}
        ref.remote_updated_at = remote.ref.remote_updated_at or ref.remote_updated_at
        ref.synced_at = utcnow()
        with self.store.transaction():
            self.store.upsert_refs([ref])
            current = self.store.get_task(task.id) or task
            if not self.pending_diff(service, ref, current, open_fields):
                self.store.outbox_clear(service, task.id)
        self.decide(task.id, service, f"pushed {', '.join(sorted(diff))} of {task.title!r}")
        return tuple(sorted(diff))

    # ------------------------------------------------------------------------------- direct writes

    def write(self, task: Task, values: Mapping[str, Any]) -> tuple[Task, list[RefOutcome]]:
        """Apply a local edit (typed field values), then merge and push it to every service holding it.

        The edit is stored (and marked in the outbox) before any remote call, so a crash or an outage
        leaves it pending, never lost.
        """
        updated = task.model_copy(update={**values, "updated_at": utcnow()})
        if values.get("status") is Status.DONE and task.completed_at is None:
            updated = updated.model_copy(update={"completed_at": utcnow()})
        status = values.get("status")
        if status is not None and not Status(status).is_closed:
            updated = updated.model_copy(update={"completed_at": None})
        updated = Task.model_validate(updated.model_dump())
        with self.store.transaction():
            self.store.upsert_tasks([updated])
            self._restate_conflicts(updated, values)
        with user_lane():  # the person waits on this write: its reads go before any background scan
            return updated, self.reconcile_all(updated.id)

    def _restate_conflicts(self, task: Task, values: Mapping[str, Any]) -> None:
        """A new local value of a field in conflict changes the conflict: back at the base (an undo) or
        equal to the service's value, nobody disagrees any more and the service's value stands; any
        other value is the conflict's new local side."""
        for conflict in self.store.conflicts(task_id=task.id):
            if conflict.field not in values or conflict.field == DELETED_FIELD:
                continue
            mine = canonical_value(conflict.field, fields_of(task, [conflict.field])[conflict.field])
            if same_value(conflict.field, mine, conflict.base) or same_value(
                conflict.field, mine, conflict.remote
            ):
                conflict.resolved_at = utcnow()
                conflict.resolution = "remote"
                conflict.resolved_value = conflict.remote
                ref = next((r for r in self.store.refs_for(task.id) if r.service is conflict.service), None)
                if ref is not None:
                    # Only the service changed the field now: the merge takes its value into the cache.
                    seen = {**ref.base, conflict.field: canonical_value(conflict.field, conflict.base)}
                    self.store.upsert_refs([ref.model_copy(update={"base": seen})])
            else:
                conflict.local = mine
            self.store.add_conflict(conflict)

    def reconcile_all(self, task_id: str) -> list[RefOutcome]:
        """Merge the task with each of its services' current value and push what only pmtui changed."""
        outcomes = []
        for ref in self.store.refs_for(task_id):
            if ref.service is Service.LOCAL:
                continue
            outcomes.append(self.reconcile(ref))
        return outcomes

    def reconcile(self, ref: ExternalRef) -> RefOutcome:
        """Read the service's value now, merge three ways, store, file conflicts, push; never raises for
        a service failure (the change waits in the outbox with the service's message)."""
        service = ref.service
        task = self.store.get_task(ref.entity_id)
        if task is None:
            return RefOutcome(service)
        try:
            integration = self.integrations(service)
            fresh = self.lookup(integration, ref.external_id)
        except ServiceError as exc:
            return self._pending(service, task, exc)
        except PmtuiError as exc:  # not configured, ...
            return self._pending(service, task, exc)
        if fresh is None or fresh.deleted or task.deleted:
            return self.settle_presence(service, ref, task, fresh)
        open_fields = self.open_fields(service, task.id)
        step = self.merge(service, ref, task, fresh, open_fields)
        with self.store.transaction():
            if step.task_changed:
                self.store.upsert_tasks([step.task])
            self.store.upsert_refs([step.ref])
            self.file_conflicts(service, step.task, step.conflicts)
        stored = step.result.to_store if step.result else {}
        pulled = tuple(sorted(k for k in stored if k not in open_fields))
        still_open = tuple(sorted(open_fields & {*self.fields(service, ref), DELETED_FIELD}))
        conflicts = tuple(c.field for c in step.conflicts) + still_open
        try:
            pushed = self.push(service, integration, step.ref, step.task, open_fields | set(conflicts))
        except ServiceError as exc:
            if isinstance(exc, NotFoundError) or not exc.retriable:
                gone = self.lookup(integration, ref.external_id, quiet=True)
                if gone is None or gone.deleted:
                    return self.settle_presence(service, step.ref, step.task, gone)
            outcome = self._pending(service, step.task, exc)
            outcome.pulled, outcome.conflicts = pulled, conflicts
            return outcome
        return RefOutcome(service, pushed=pushed, pulled=pulled, conflicts=conflicts)

    def _pending(self, service: Service, task: Task, exc: PmtuiError) -> RefOutcome:
        reason = exc.user_text()
        self.store.outbox_mark(service, task.id)
        if not getattr(exc, "retriable", False):  # a refusal is shown with its reason; an outage is not
            self.store.outbox_fail(service, task.id, reason)
        log.warning(
            "write to %s waits: %s", service.value, reason, extra={"service": service.value, "task": task.id}
        )
        return RefOutcome(service, pending=reason, unreachable=getattr(exc, "retriable", False))

    def lookup(self, integration: Integration, external_id: str, *, quiet: bool = False) -> RemoteTask | None:
        """The service's object now; ``None`` only when two lookups in a row say it is gone.

        A single 404 can be a glitch (a proxy, an eventually consistent read): a task is never taken for
        deleted on one answer.
        """
        try:
            found = integration.get_task(external_id)
        except NotFoundError:
            found = None
        if found is not None:
            return found
        try:
            return integration.get_task(external_id)
        except NotFoundError:
            return None
        except ServiceError:
            if quiet:
                return None
            raise

    # ------------------------------------------------------------------------------- deletions

    def settle_presence(
        self,
        service: Service,
        ref: ExternalRef,
        task: Task,
        remote: RemoteTask | None,
        *,
        remote_updated_at: Any = None,
    ) -> RefOutcome:
        """One side no longer holds the task: delete, forget, or file a delete-vs-edit conflict."""
        names = self.fields(service, ref)
        base = {k: v for k, v in ref.base.items() if k in names}
        local = None if task.deleted else project_for(service, fields_of(task, names))
        remote_values = (
            None if remote is None or remote.deleted else project_for(service, fields_of(remote.task, names))
        )
        state = merge_task_states(base or None, local, remote_values, fields=names)
        self.settle_deletion(
            service,
            ref,
            task,
            state,
            remote_deleted=remote is None or remote.deleted,
            remote_updated_at=remote_updated_at,
        )
        if state.outcome.is_conflict:
            return RefOutcome(service, conflicts=(DELETED_FIELD,))
        return RefOutcome(service, deleted=state.outcome is TaskOutcome.DELETE_LOCAL)

    def settle_deletion(
        self,
        service: Service,
        ref: ExternalRef,
        task: Task,
        state: TaskMerge,
        *,
        remote_deleted: bool,
        remote_updated_at: Any = None,
    ) -> None:
        """Apply a whole-task decision where one side deleted the task."""
        outcome = state.outcome
        if outcome is TaskOutcome.DELETE_LOCAL:
            with self.store.transaction():
                self.store.delete_ref(ref)
                self.drop_if_unheld(task)
                self.store.outbox_clear(service, task.id)
            self.decide(task.id, service, f"deleted locally: {service.label} deleted {task.title!r}")
        elif outcome.is_conflict:
            if DELETED_FIELD not in self.open_fields(service, task.id):
                self.store.add_conflict(
                    Conflict(
                        task_id=task.id,
                        service=service,
                        field=DELETED_FIELD,
                        base=False,
                        local=task.deleted,
                        remote=remote_deleted,
                    )
                )
                self.decide(task.id, service, f"conflict: {state.reason}")
            if remote_updated_at is not None:
                ref.remote_updated_at = remote_updated_at
            self.store.upsert_refs([ref])
        elif outcome is TaskOutcome.DELETE_REMOTE:
            self.integrations(service).delete_task(ref.external_id)
            with self.store.transaction():
                self.store.delete_ref(ref)
                self.store.outbox_clear(service, task.id)
            self.decide(task.id, service, f"deleted on {service.label}: {task.title!r} was deleted locally")
        elif outcome is TaskOutcome.FORGET:
            with self.store.transaction():
                self.store.delete_ref(ref)
                self.store.outbox_clear(service, task.id)

    def recreate(self, service: Service, ref: ExternalRef, task: Task, key: str) -> ExternalRef:
        """Make the task again on ``service`` (after "keep" on a remote delete): a new object, the ref
        moved to it, the base what the service now holds. ``key`` makes a retry find, not duplicate."""
        from pmtui.integrations.limits import create_once

        integration = self.integrations(service)
        project_external = None
        if task.project_id:
            project_external = next(
                (
                    r.external_id
                    for r in self.store.refs_for(task.project_id, EntityType.PROJECT)
                    if r.service is service
                ),
                None,
            )
        remote = create_once(
            lambda: integration.create_task(task, idempotency_key=key, project_external_id=project_external),
            lambda: integration.find_by_idempotency_key(key, task),
            attempts=3,
            sleep=getattr(integration, "_retry_sleep", lambda _s: None),
        )
        new_ref = remote.ref.model_copy(
            update={
                "entity_id": task.id,
                "idempotency_key": key,
                "base": project_for(service, fields_of(remote.task, SERVICE_FIELDS[service])),
                "synced_at": utcnow(),
                "origin": ref.origin,
            }
        )
        with self.store.transaction():
            self.store.delete_ref(ref)
            self.store.upsert_refs([new_ref])
            self.store.outbox_clear(service, task.id)
            self.store.outbox_mark(service, task.id)  # fields the create could not carry are pushed
        self.decide(task.id, service, f"recreated {task.title!r} on {service.label} (kept after its delete)")
        return new_ref

    def drop_if_unheld(self, task: Task) -> None:
        """Soft-delete the local task once no service holds it any more (its other homes keep it)."""
        if not [r for r in self.store.refs_for(task.id) if r.service is not Service.LOCAL]:
            self.store.upsert_tasks([task.model_copy(update={"deleted": True, "updated_at": utcnow()})])

    # ----------------------------------------------------------------------------------- log

    def decide(
        self, task_id: str | None, service: Service, reason: str, detail: dict[str, Any] | None = None
    ) -> None:
        """One line in the decision log, as the sync writes them."""
        self.store.log_decision(
            Decision(
                request_id="sync",
                kind="sync",
                task_id=task_id,
                service=service,
                reason=reason,
                detail=detail or {},
            )
        )


def pending_changes(store: Store) -> dict[Service, list[tuple[OutboxEntry, str]]]:
    """Per service, the local changes it does not hold yet, each with what is waiting (and why).

    A push mark counts only while the task really differs from the base (a mark left by a pull is
    cleared by that sync's push); a queued create always counts. Marks are few between syncs, so
    this reads only those tasks.
    """
    entries = store.outbox_entries(limit=2000)
    pushes = [e for e in entries if e.op == "push"]
    tasks = store.tasks_by_ids(sorted({e.task_id for e in pushes}))
    conflicted = store.open_conflict_fields() if pushes else {}
    refs: dict[tuple[Service, str], ExternalRef] = {}
    for service in {e.service for e in pushes}:
        for held in store.refs_for_tasks(service, [e.task_id for e in pushes if e.service is service]):
            refs[(service, held.entity_id)] = held
    found: dict[Service, list[tuple[OutboxEntry, str]]] = {}
    for entry in entries:
        if entry.op == "create":
            found.setdefault(entry.service, []).append((entry, f"create on {entry.service.label}"))
            continue
        task, known = tasks.get(entry.task_id), refs.get((entry.service, entry.task_id))
        if task is None or known is None or task.deleted:
            continue
        ref = known
        names = tuple(n for n in SERVICE_FIELDS.get(entry.service, ()) if n in ref.base)
        blocked = conflicted.get(task.id, set())
        local = project_for(entry.service, fields_of(task, names))
        diff = sorted(
            n for n in names if n not in blocked and not same_value(n, ref.base.get(n), local.get(n))
        )
        if diff:
            found.setdefault(entry.service, []).append((entry, ", ".join(diff)))
    return found
