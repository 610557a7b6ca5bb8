"""SyncEngine: pull each service's changes, merge field by field, push local edits, file conflicts.

One run, per service (Linear, GitLab, Notion, then Motion: Motion schedules the others' work, so its
tasks can attach to tasks already known):

1. **Pull** the changes since the stored cursor, page by page; each page is stored before its cursor.
2. **Merge** each changed task three ways (:mod:`pmtui.core.merge`) against the ref's ``base`` — the
   values both sides agreed on, *in the service's own representation* (Linear keeps a bare date, Motion
   has no "no priority"), so a lossy service cannot make a value bounce between services.
3. **Push**, for every ref of the service, the fields where the local task differs from the base (a
   local edit, or a change another service brought in). The base becomes what the service reads back.
4. **Deletions** are never inferred from an error or a short listing: a task missing from a full scan
   is confirmed with a direct lookup, and a mass disappearance is held for review.

Conflicts (both sides changed a field differently, and the field's policy is ``ask``) are stored and
left alone: nothing is overwritten while a conflict is open.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pmtui.core.comments import CommentSync
from pmtui.core.merge import TaskOutcome, canonical_value, merge_fields, merge_task_states, same_value
from pmtui.core.milestones import absorb_milestones, link_task_milestones
from pmtui.errors import NotFoundError, PmtuiError
from pmtui.integrations.base import Integration, RemoteTask, TaskPatch
from pmtui.models import (
    SYNCED_TASK_FIELDS,
    Conflict,
    ConflictPolicy,
    Decision,
    EntityType,
    ExternalRef,
    Priority,
    Project,
    Service,
    Status,
    SyncRun,
    Task,
    new_id,
    utcnow,
)

log = logging.getLogger("pmtui.sync")

PROJECTS_REFRESH = timedelta(hours=1)
"""How stale the cached projects (GitLab milestones, Linear and Notion projects) may get between listings."""

SYNC_ORDER = (Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION)
"""Motion last: its tasks often schedule work held elsewhere, and attach to those tasks."""

SERVICE_FIELDS: dict[Service, tuple[str, ...]] = {
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
    Service.LINEAR: (
        "title",
        "description",
        "status",
        "priority",
        "due",
        "due_all_day",
        "labels",
        "assignee",
    ),
    Service.GITLAB: (
        "title",
        "description",
        "status",
        "priority",
        "due",
        "due_all_day",
        "labels",
        "assignee",
    ),
    Service.NOTION: ("title", "description", "status", "priority", "due", "due_all_day", "labels"),
}
"""The canonical fields each service can hold (merged and pushed); the rest stay local."""

_URL = re.compile(r"https?://[^\s)>\]\"']+")


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


@dataclass
class ServiceReport:
    """What one service's sync did, for the SyncRun row and the progress line."""

    run: SyncRun
    created: int = 0
    updated: int = 0
    deleted: int = 0
    held: list[str] = field(default_factory=list)


class SyncEngine:
    """Runs syncs over the engine's store and integrations."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.store = engine.store
        self.settings = engine.settings
        self._new_tasks: list[Task] = []
        self._page_tasks: dict[str, Task] = {}
        """The local tasks of the current page's known refs, read in one query."""
        self._page_conflicts: dict[str, set[str]] | None = None
        """Task id -> fields with an open conflict on the service being pulled (current page only)."""
        self._batching = False
        """Inside a page: merged tasks and refs are written with the page, not one statement each."""
        self._keyed: dict[str, Task | None] = {}
        """The current page's idempotency keys and the local task each names (None: not pmtui's)."""
        self._project_ids: dict[tuple[Service, str], str] = {}
        """Remote project id -> local project id, as found during the current service's sync."""
        self._new_refs: list[ExternalRef] = []
        self.comments = CommentSync(engine)
        """Comments of the tasks that changed: pulled after each service, carried after all of them."""

    # --------------------------------------------------------------------------------- entry points

    def sync(
        self,
        services: list[Service] | None = None,
        *,
        on_progress: Callable[[Any], None] | None = None,
    ) -> list[SyncRun]:
        """Sync the given (default: every configured) services once; one SyncRun each."""
        from pmtui.core.engine import EngineEvent

        emit = on_progress or self.engine.on_event
        configured = self.engine.configured_services()
        wanted = [s for s in SYNC_ORDER if s in (services or configured)]
        run_id = new_id()
        try:
            self.engine.recover()
        except PmtuiError as exc:
            log.warning("recovery before sync failed: %s", exc)
        runs = []
        for service in wanted:
            emit(EngineEvent("sync-start", f"{service.label}: syncing", {"service": service.value}))
            report = self.sync_service(service, run_id=run_id)
            runs.append(report.run)
            status = report.run.status
            emit(
                EngineEvent(
                    "sync-done", f"{service.label}: {status}", {"service": service.value, "run": report.run}
                )
            )
        self.comments.carry([run.service for run in runs if run.status == "ok"])
        return runs

    def sync_service(self, service: Service, *, run_id: str | None = None) -> ServiceReport:
        """Pull, merge and push one service; failures end in the SyncRun, never as an exception."""
        run = SyncRun(run_id=run_id or new_id(), service=service)
        report = ServiceReport(run=run)
        started = time.perf_counter()
        self._project_ids.clear()
        self.store.record_sync_run(run)
        integration: Integration | None = None
        requests_before = 0
        try:
            integration = self.engine.integration(service)
            limiter = getattr(integration, "limiter", None)
            requests_before = getattr(limiter, "requests", 0)
            self.comments.begin(service)
            self._pull(service, integration, report)
            if service is Service.GITLAB:  # cached MR/commit activity of the issues that changed
                from pmtui.core.activity import refresh_changed

                refresh_changed(self.store, integration)
            self._push(service, integration, report)
            self.comments.pull(service, integration)
            run.status = "ok"
            self.engine.unhealthy.discard(service)
        except PmtuiError as exc:
            run.status = "failed"
            run.error = exc.user_text()
            if exc.retriable:
                self.engine.unhealthy.add(service)
            log.warning("sync of %s failed: %s", service.value, exc, extra={"service": service.value})
        finally:
            limiter = getattr(integration, "limiter", None)
            run.requests = max(0, getattr(limiter, "requests", 0) - requests_before)
            run.finished_at = utcnow()
            run.duration_ms = int((time.perf_counter() - started) * 1000)
            run.conflicts = len([c for c in self.store.conflicts() if c.service is service])
            self.store.record_sync_run(run)
        return report

    # --------------------------------------------------------------------------------------- pulling

    def _pull(self, service: Service, integration: Integration, report: ServiceReport) -> None:
        cursor = self.store.get_cursor(service, "tasks")
        if cursor is None or self._projects_due(service):
            self._pull_projects(service, integration)
        seen: set[str] = set()
        full_scan = False
        tracks_milestones = False
        for page in integration.list_changes(cursor):
            with self.store.transaction():
                if page.milestones is not None:  # a listing that reports milestones (Linear)
                    tracks_milestones = True
                    absorb_milestones(self.store, service, page.milestones)
                known = self.store.refs_by_external(service, [r.ref.external_id for r in page.items])
                self._prefetch_adoptable(page.items, known)
                self._page_tasks = self.store.tasks_by_ids([r.entity_id for r in known.values()])
                self._page_conflicts = self.store.open_conflicts_for(service, list(self._page_tasks))
                self._batching = True
                try:
                    for remote in page.items:
                        self._absorb(service, integration, remote, report, known.get(remote.ref.external_id))
                finally:
                    self._batching = False
                    self._page_tasks, self._page_conflicts = {}, None
                self._flush_new()
                self.comments.flush(service)
                if tracks_milestones:
                    link_task_milestones(self.store, service, page.items)
                if page.cursor is not None and page.cursor != cursor:
                    self.store.set_cursor(service, "tasks", page.cursor)
            if page.full_scan:
                full_scan = True
                seen.update(page.seen or [])
        if full_scan:
            self._confirm_disappearances(service, integration, seen, report)

    def _projects_due(self, service: Service) -> bool:
        """Whether the service's projects were last listed longer than :data:`PROJECTS_REFRESH` ago.

        Task listings say nothing about a milestone moving its due date or a project created since, so
        projects are listed again now and then rather than on every sync: a sync where nothing changed
        keeps making one list request per service.
        """
        listed = self.store.cursor_updated_at(service, "projects")
        return listed is None or datetime.now(UTC) - listed > PROJECTS_REFRESH

    def _pull_projects(self, service: Service, integration: Integration) -> None:
        """Import new projects and bring known ones up to date (the service owns a project's fields)."""
        for remote in integration.list_projects():
            existing = self.store.ref_by_external(service, remote.ref.external_id, EntityType.PROJECT)
            fields = {
                "name": remote.project.name,
                "description": remote.project.description,
                "status": remote.project.status,
                "start": remote.project.start,
                "due": remote.project.due,
            }
            if existing is not None:
                # Only what this service states: a project held by two services (a Motion project and
                # the GitLab milestone of the same name) must not have one's blanks erase the other's dates.
                stated = {k: v for k, v in fields.items() if v not in (None, "")}
                known = self.store.find_project(existing.entity_id)
                if known is not None and any(getattr(known, k) != v for k, v in stated.items()):
                    self.store.upsert_projects([known.model_copy(update={**stated, "updated_at": utcnow()})])
                continue
            project = self.store.find_project(remote.project.name) or Project(**fields)
            self.store.upsert_projects([project])
            ref = remote.ref.model_copy(
                update={
                    "entity": EntityType.PROJECT,
                    "entity_id": project.id,
                    "synced_at": utcnow(),
                    "origin": True,
                }
            )
            self.store.upsert_refs([ref])
        self.store.set_cursor(service, "projects", None)

    def _absorb(
        self,
        service: Service,
        integration: Integration,
        remote: RemoteTask,
        report: ServiceReport,
        ref: ExternalRef | None,
    ) -> None:
        if ref is None:
            ref = self._adopt(service, remote)
            if ref is None:
                self._create_local(service, remote, report)
                self.comments.changed(service, remote.ref.external_id, new=True)
                return
        if (
            ref.remote_updated_at is not None
            and remote.ref.remote_updated_at is not None
            and remote.ref.remote_updated_at <= ref.remote_updated_at
            and not remote.deleted
        ):
            return  # already seen (an overlapping re-read)
        self.comments.changed(service, remote.ref.external_id)
        task = self._page_tasks.get(ref.entity_id) or self.store.get_task(ref.entity_id)
        if task is None:
            self._create_local(service, remote, report)
            return
        self._merge(service, ref, task, remote, report)

    def _adopt(self, service: Service, remote: RemoteTask) -> ExternalRef | None:
        """A remote task pmtui already knows under another name: its own create, or a link in the text."""
        key = remote.ref.idempotency_key
        if key:
            existing = self._keyed[key] if key in self._keyed else self.store.get_task(key)
            if existing is not None:
                ref = remote.ref.model_copy(
                    update={"entity_id": existing.id, "origin": not self.store.refs_for(existing.id)}
                )
                ref.base = project_for(service, fields_of(existing, self._fields(service, ref)))
                self.store.upsert_refs([ref])
                return ref
        for url in _URL.findall(remote.task.description or ""):
            owner = self._task_for_url(url.rstrip(".,;"))
            if owner is not None and not any(r.service is service for r in self.store.refs_for(owner.id)):
                ref = remote.ref.model_copy(update={"entity_id": owner.id, "origin": False})
                ref.base = project_for(service, fields_of(owner, self._fields(service, ref)))
                self.store.upsert_refs([ref])
                self._decide(
                    owner.id, service, f"linked {service.label} task to {owner.title!r} (it links {url})"
                )
                return ref
        return None

    def _task_for_url(self, url: str) -> Task | None:
        rows = self.store._rows(
            "SELECT entity_id FROM external_refs WHERE entity = 'task' AND url IS NOT NULL AND url <> '' "
            "AND (starts_with(?, url) OR starts_with(url, ?)) LIMIT 1",
            [url, url],
        )
        return self.store.get_task(rows[0][0]) if rows else None

    def _create_local(self, service: Service, remote: RemoteTask, report: ServiceReport) -> None:
        if remote.deleted:
            return
        project_id = self._local_project(service, remote.project_external_id)
        task = remote.task.model_copy(
            update={"id": new_id(), "project_id": project_id, "updated_at": utcnow()}
        )
        task = Task.model_validate(task.model_dump())
        ref = remote.ref.model_copy(update={"entity_id": task.id, "origin": True, "synced_at": utcnow()})
        ref.base = project_for(service, fields_of(remote.task, SERVICE_FIELDS[service]))
        self._new_tasks.append(task)
        self._new_refs.append(ref)
        report.created += 1
        report.run.pulled += 1

    def _flush_new(self) -> None:
        """Write the page's new tasks and refs in two statements (one row at a time costs ~6 ms each)."""
        if self._new_tasks:
            self.store.upsert_tasks(self._new_tasks)
        if self._new_refs:
            self.store.upsert_refs(self._new_refs)
        self._new_tasks, self._new_refs = [], []

    def _local_project(self, service: Service, external_id: str | None) -> str | None:
        if not external_id:
            return None
        found = self._project_ids.get((service, external_id))
        if found is not None:
            return found
        ref = self.store.ref_by_external(service, external_id, EntityType.PROJECT)
        if ref is not None:
            # A project's ref never moves to another project, so it can be remembered for the run;
            # a miss is not remembered (the project may be imported later in the same sync).
            self._project_ids[(service, external_id)] = ref.entity_id
        return ref.entity_id if ref else None

    def _prefetch_adoptable(self, items: Sequence[RemoteTask], known: Mapping[str, ExternalRef]) -> None:
        """Load, in one query, the tasks that a page's unknown remote tasks may be pmtui's own creates of.

        One ``get_task`` per new remote task cost ~2 ms each: a fifth of a first sync's local work.
        """
        keys = [
            r.ref.idempotency_key for r in items if r.ref.idempotency_key and r.ref.external_id not in known
        ]
        found = self.store.tasks_by_ids(keys) if keys else {}
        self._keyed = {key: found.get(key) for key in keys}

    def _fields(self, service: Service, ref: ExternalRef) -> tuple[str, ...]:
        """Which fields this ref exchanges: all the service holds for the origin, else the flow fields."""
        supported = SERVICE_FIELDS.get(service, SYNCED_TASK_FIELDS)
        if ref.origin:
            return supported
        flow = set(self.settings.sync.flow_fields)
        return tuple(name for name in supported if name in flow)

    def _policies(self) -> dict[str, ConflictPolicy]:
        return dict(self.settings.sync.conflict_policy)

    def _merge(
        self, service: Service, ref: ExternalRef, task: Task, remote: RemoteTask, report: ServiceReport
    ) -> None:
        names = self._fields(service, ref)
        base = {k: v for k, v in ref.base.items() if k in names}
        local = project_for(service, fields_of(task, names))
        remote_values = project_for(service, fields_of(remote.task, names))
        if self._page_conflicts is not None:
            open_fields = set(self._page_conflicts.get(task.id, ()))
        else:
            open_fields = {c.field for c in self.store.conflicts(task_id=task.id) if c.service is service}
        if remote.deleted or task.deleted:
            state = merge_task_states(
                base or None,
                None if task.deleted else local,
                None if remote.deleted else remote_values,
                fields=names,
            )
            self._settle_deletion(service, ref, task, remote, state, report)
            return
        result = merge_fields(
            base,
            local,
            remote_values,
            policies=self._policies(),
            fields=names,
            local_updated_at=task.updated_at,
            remote_updated_at=remote.ref.remote_updated_at,
        )
        stored = {k: v for k, v in result.to_store.items() if k not in open_fields}
        if stored:
            task = apply_values(task, stored)
            if self._batching:
                self._new_tasks.append(task)  # written with the page (_flush_new)
            else:
                self.store.upsert_tasks([task])
            report.updated += 1
            report.run.pulled += 1
        for conflict in result.conflicts:
            if conflict.field in open_fields:
                continue
            self.store.add_conflict(conflict.to_conflict(task_id=task.id, service=service))
            self._decide(task.id, service, f"conflict on {conflict.field}: both sides changed it")
        new_base = dict(ref.base)
        new_base.update({k: v for k, v in result.next_base.items() if k not in open_fields})
        ref.base = new_base
        ref.remote_updated_at = remote.ref.remote_updated_at
        ref.synced_at = utcnow()
        ref.key = remote.ref.key or ref.key
        ref.url = remote.ref.url or ref.url
        if self._batching:
            self._new_refs.append(ref)
        else:
            self.store.upsert_refs([ref])

    def _settle_deletion(
        self,
        service: Service,
        ref: ExternalRef,
        task: Task,
        remote: RemoteTask,
        state: Any,
        report: ServiceReport,
    ) -> None:
        outcome = state.outcome
        if outcome is TaskOutcome.DELETE_LOCAL:
            self.store.upsert_tasks([task.model_copy(update={"deleted": True, "updated_at": utcnow()})])
            self.store.delete_ref(ref)
            report.deleted += 1
            self._decide(task.id, service, f"deleted locally: {service.label} deleted {task.title!r}")
        elif outcome in (TaskOutcome.DELETED_REMOTELY, TaskOutcome.DELETED_LOCALLY):
            open_fields = {c.field for c in self.store.conflicts(task_id=task.id) if c.service is service}
            if "_deleted" not in open_fields:
                self.store.add_conflict(
                    Conflict(
                        task_id=task.id,
                        service=service,
                        field="_deleted",
                        base=False,
                        local=task.deleted,
                        remote=remote.deleted,
                    )
                )
                self._decide(task.id, service, f"conflict: {state.reason}")
            ref.remote_updated_at = remote.ref.remote_updated_at
            self.store.upsert_refs([ref])
        elif outcome is TaskOutcome.DELETE_REMOTE:
            self.engine.integration(service).delete_task(ref.external_id)
            self.store.delete_ref(ref)
            self._decide(task.id, service, f"deleted on {service.label}: {task.title!r} was deleted locally")
        elif outcome is TaskOutcome.FORGET:
            self.store.delete_ref(ref)

    def _confirm_disappearances(
        self, service: Service, integration: Integration, seen: set[str], report: ServiceReport
    ) -> None:
        """Tasks missing from a full scan: look each up; hold a mass disappearance for review."""
        known = self.store.refs_for_service(service)
        tasks = self.store.tasks_by_ids([r.entity_id for r in known])
        live = [
            r
            for r in known
            if (t := tasks.get(r.entity_id)) is not None
            and not t.deleted
            and t.status not in (Status.DONE, Status.CANCELED)
        ]
        missing = [r for r in live if r.external_id not in seen]
        if not missing:
            return
        share = len(missing) / max(len(live), 1)
        if len(missing) > 3 and share > self.settings.sync.mass_deletion_share:
            report.held = [r.external_id for r in missing]
            self._decide(
                None,
                service,
                f"held {len(missing)} disappearances for review "
                f"({share:.0%} of {service.label}'s open tasks vanished in one sync)",
                {"pending_deletions": report.held},
            )
            return
        for ref in missing:
            try:
                remote = integration.get_task(ref.external_id)
            except NotFoundError:
                remote = None
            task = self.store.get_task(ref.entity_id)
            if task is None:
                continue
            if remote is None:
                gone = RemoteTask(
                    ref=ref.model_copy(update={"remote_updated_at": utcnow()}), task=task, deleted=True
                )
                self._merge(service, ref, task, gone, report)
            else:
                self._merge(service, ref, task, remote, report)

    # --------------------------------------------------------------------------------------- pushing

    def _push(self, service: Service, integration: Integration, report: ServiceReport) -> None:
        """Send every ref's local differences (edits, or changes other services brought) to the service."""
        refs = self.store.refs_for_service(service)
        tasks = self.store.tasks_by_ids([ref.entity_id for ref in refs])
        conflicted = self.store.open_conflict_fields()
        for ref in refs:
            task = tasks.get(ref.entity_id)
            if task is None or task.deleted:
                continue
            names = self._fields(service, ref)
            open_fields = conflicted.get(task.id, set())
            local = project_for(service, fields_of(task, names))
            diff = {
                name: value
                for name, value in local.items()
                if name not in open_fields
                and name in ref.base
                and not same_value(name, ref.base.get(name), value)
            }
            if not diff:
                continue
            remote = integration.update_task(ref.external_id, TaskPatch(patch_values(diff)))
            readback = project_for(service, fields_of(remote.task, names))
            ref.base = {**ref.base, **{name: readback.get(name) for name in diff}}
            ref.remote_updated_at = remote.ref.remote_updated_at
            ref.synced_at = utcnow()
            self.store.upsert_refs([ref])
            report.run.pushed += 1
            self._decide(task.id, service, f"pushed {', '.join(sorted(diff))} of {task.title!r}")

    # ------------------------------------------------------------------------------------ conflicts

    def resolve_conflict(
        self, conflict_id: str, choice: Literal["local", "remote", "merged"], value: Any = None
    ) -> None:
        """Settle a conflict: the chosen value goes to the local task and every service that holds it."""
        conflict = next((c for c in self.store.conflicts() if c.id == conflict_id), None)
        if conflict is None:
            raise PmtuiError(f"no open conflict {conflict_id}", hint="it may have been resolved already")
        task = self.store.get_task(conflict.task_id)
        if task is None:
            raise PmtuiError("the conflict's task no longer exists")
        chosen = {"local": conflict.local, "remote": conflict.remote}.get(choice, value)
        if conflict.field == "_deleted":
            keep = choice == "local" if conflict.local is False else choice == "remote"
            if not keep:
                self.store.upsert_tasks([task.model_copy(update={"deleted": True, "updated_at": utcnow()})])
        else:
            task = apply_values(task, {conflict.field: canonical_value(conflict.field, chosen)})
            self.store.upsert_tasks([task])
            for ref in self.store.refs_for(task.id):
                if ref.service is Service.LOCAL or conflict.field not in self._fields(ref.service, ref):
                    continue
                integration = self.engine.integration(ref.service)
                values = project_for(ref.service, fields_of(task, [conflict.field]))
                remote = integration.update_task(ref.external_id, TaskPatch(patch_values(values)))
                readback = project_for(ref.service, fields_of(remote.task, [conflict.field]))
                ref.base = {**ref.base, conflict.field: readback[conflict.field]}
                ref.remote_updated_at = remote.ref.remote_updated_at
                self.store.upsert_refs([ref])
        conflict.resolved_at = utcnow()
        conflict.resolution = "merged" if choice == "merged" else choice
        conflict.resolved_value = chosen
        self.store.add_conflict(conflict)
        self._decide(task.id, conflict.service, f"resolved {conflict.field} conflict: took {choice}")

    def _decide(
        self, task_id: str | None, service: Service, reason: str, detail: dict[str, Any] | None = None
    ) -> None:
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


@dataclass(frozen=True)
class Notice:
    """Something in the sync's state a person should look at (shown under "Needs attention")."""

    source: str
    what: str
    detail: str


def attention_notices(store: Any) -> list[Notice]:
    """Held mass disappearances (per service, the latest) and a failing Delta mirror."""
    notices: list[Notice] = []
    rows = store._rows(
        "SELECT service, reason FROM decisions WHERE kind = 'sync' AND request_id = 'sync' "
        "AND starts_with(reason, 'held ') "
        'QUALIFY row_number() OVER (PARTITION BY service ORDER BY "at" DESC) = 1'
    )
    for service, reason in rows:
        label = Service(service).label if service else "sync"
        notices.append(Notice(label, "deletions held for review", str(reason)))
    from pmtui.core.mirror import mirror_status

    mirror = mirror_status(store)
    if mirror.failing and mirror.reason:
        notices.append(Notice("Delta mirror", "mirror failing (retried at each sync)", mirror.reason))
    return notices
