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
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pmtui.core.comments import CommentSync
from pmtui.core.merge import canonical_value, same_value
from pmtui.core.milestones import absorb_milestones, link_task_milestones
from pmtui.core.scan import SpreadScan
from pmtui.core.writes import (
    DELETED_FIELD,
    SERVICE_FIELDS,
    MergeStep,
    WritePath,
    apply_values,
    fields_of,
    project_for,
)
from pmtui.errors import NotFoundError, PmtuiError, RateLimitedError, ServiceError
from pmtui.integrations.base import Integration, RemoteTask
from pmtui.models import (
    Conflict,
    EntityType,
    ExternalRef,
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


_URL = re.compile(r"https?://[^\s)>\]\"']+")


@dataclass
class ServiceReport:
    """What one service's sync did, for the SyncRun row and the progress line."""

    run: SyncRun
    created: int = 0
    updated: int = 0
    deleted: int = 0
    held: list[str] = field(default_factory=list)
    requests_before: int = 0
    """The service's request count when this run began: a long-lived process (``--watch``, the app)
    counts from its start, and the run shows only its own."""


class SyncEngine:
    """Runs syncs over the engine's store and integrations."""

    def __init__(
        self,
        engine: Any,
        *,
        cancel: threading.Event | None = None,
        emit: Callable[[Any], None] | None = None,
    ) -> None:
        self.engine = engine
        self.cancel = cancel or threading.Event()
        """Set by a front end to stop at the next safe point (between pages, between phases)."""
        self.emit = emit
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
        self._held: list[str] = []
        """Ids of the page's merged tasks the service being pulled already holds as merged (no mark)."""
        self.writes = WritePath(self.store, self.settings, engine.integration)
        self.comments = CommentSync(engine)
        """Comments of the tasks that changed: pulled after each service, carried after all of them."""

    # --------------------------------------------------------------------------------- entry points

    def sync(
        self,
        services: list[Service] | None = None,
        *,
        on_progress: Callable[[Any], None] | None = None,
    ) -> list[SyncRun]:
        """Sync the given (default: every configured) services once, concurrently; one SyncRun each."""
        from pmtui.core.sync_runner import run_services

        emit = on_progress or self.engine.on_event
        configured = self.engine.configured_services()
        return run_services(self.engine, services or configured, emit=emit, cancel=self.cancel)

    def sync_service(self, service: Service, *, run_id: str | None = None) -> ServiceReport:
        """Pull, merge and push one service; every ending is recorded in its SyncRun, never left "running".

        A service error fails the run; a Retry-After beyond the cap ends it ``rate-limited`` with the
        time it may be called again; a cancel ends it ``cancelled`` at the next safe point.
        """
        from pmtui.core.sync_runner import SyncCancelled

        run = SyncRun(run_id=run_id or new_id(), service=service)
        report = ServiceReport(run=run)
        started = time.perf_counter()
        self._project_ids.clear()
        self.store.record_sync_run(run, new=True)
        integration: Integration | None = None
        requests_before = 0
        try:
            integration = self.engine.integration(service)
            limiter = getattr(integration, "limiter", None)
            requests_before = report.requests_before = getattr(limiter, "requests", 0)
            self.comments.begin(service)
            spread = SpreadScan.start(self.store, service, integration)
            if spread is not None and spread.spreads:
                # The scan takes several syncs: the waiting writes go first, each merged with the task
                # read fresh (its page may not be read for minutes), never queued behind the pages.
                self._push_fresh(service, integration, report)
                self._checkpoint()
            self._pull(service, integration, report, spread)
            self._checkpoint()
            if service is Service.GITLAB:  # cached MR/commit activity of the issues that changed
                from pmtui.core.activity import refresh_changed

                refresh_changed(self.store, integration)
            self._checkpoint()
            self._push(service, integration, report)
            self._checkpoint()
            self.comments.pull(service, integration)
            run.status = "ok"
            self.engine.unhealthy.discard(service)
        except SyncCancelled:
            run.status = "cancelled"
            run.error = "cancelled: the pages stored so far are kept; the next sync resumes from there"
        except RateLimitedError as exc:
            if exc.until is not None:
                run.status = "rate-limited"
                run.retry_at = exc.until
                run.error = exc.message
            else:
                run.status = "failed"
                run.error = exc.user_text()
            log.warning("sync of %s rate-limited: %s", service.value, exc, extra={"service": service.value})
        except PmtuiError as exc:
            run.status = "failed"
            run.error = exc.user_text()
            if exc.retriable:
                self.engine.unhealthy.add(service)
            log.warning("sync of %s failed: %s", service.value, exc, extra={"service": service.value})
        except Exception as exc:  # a bug must not leave the run "running" nor stop the other services
            run.status = "failed"
            run.error = f"unexpected {type(exc).__name__}: {exc}"[:500]
            log.exception("sync of %s failed unexpectedly", service.value, extra={"service": service.value})
        finally:
            if run.status == "running":  # KeyboardInterrupt, SystemExit: still recorded as an ending
                run.status = "cancelled"
                run.error = "interrupted"
            limiter = getattr(integration, "limiter", None)
            run.requests = max(0, getattr(limiter, "requests", 0) - requests_before)
            run.finished_at = utcnow()
            run.duration_ms = int((time.perf_counter() - started) * 1000)
            run.conflicts = len([c for c in self.store.conflicts() if c.service is service])
            self.store.record_sync_run(run)
        return report

    def _checkpoint(self) -> None:
        """A safe point: nothing is half-written here, so a cancel requested by the user stops the run."""
        if self.cancel.is_set():
            from pmtui.core.sync_runner import SyncCancelled

            raise SyncCancelled

    def _progress(
        self, service: Service, integration: Integration, report: ServiceReport, pages: int
    ) -> None:
        """Tell the front end how far this service got (pages, items, requests, budget left)."""
        if self.emit is None:
            return
        from pmtui.core.engine import EngineEvent

        limiter = getattr(integration, "limiter", None)
        self.emit(
            EngineEvent(
                "sync-page",
                f"{service.label}: {pages} page(s), {report.run.pulled} item(s)",
                {
                    "service": service.value,
                    "pages": pages,
                    "items": report.run.pulled,
                    "skipped": len(report.run.skipped),
                    "requests": max(0, getattr(limiter, "requests", 0) - report.requests_before),
                    "budget_left": int(getattr(limiter, "remaining", 0)),
                },
            )
        )

    # --------------------------------------------------------------------------------------- pulling

    def _pull(
        self,
        service: Service,
        integration: Integration,
        report: ServiceReport,
        spread: SpreadScan | None = None,
    ) -> None:
        cursor = self.store.get_cursor(service, "tasks")
        if cursor is None or self._projects_due(service):
            self._pull_projects(service, integration)
        seen: set[str] = set()
        full_scan = False
        reconcile = self._reconcile_due(service, integration)
        listed_from = None if reconcile else cursor
        tracks_milestones = False
        listing = spread.pages(listed_from) if spread is not None else integration.list_changes(listed_from)
        for pages, page in enumerate(listing, start=1):
            self._checkpoint()
            report.run.skipped.extend(f"{item.external_id}: {item.reason}" for item in page.skipped)
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
                        self._absorb_or_skip(service, integration, remote, report, known)
                finally:
                    self._batching = False
                    self._page_tasks, self._page_conflicts = {}, None
                self._flush_new(service)
                self.comments.flush(service)
                if tracks_milestones:
                    link_task_milestones(self.store, service, page.items)
                if (
                    page.cursor is not None
                    and page.cursor != cursor
                    and (not reconcile or cursor is None or page.last)
                ):
                    # A reconciling listing starts from the beginning: its cursor is stored only once
                    # it has passed the incremental one (at its last page), never moved backwards.
                    self.store.set_cursor(service, "tasks", page.cursor)
                if spread is not None:
                    spread.record(page)
            if page.full_scan:
                full_scan = True
                seen.update(page.seen or [])
            elif reconcile:  # a whole listing of an incremental service: what it omits may be gone
                seen.update(r.ref.external_id for r in page.items if not r.deleted)
            self._progress(service, integration, report, pages)
        self._checkpoint()
        if spread is not None:  # deletions only from a complete pass, with every round's evidence
            full_scan, seen = spread.completed, spread.seen_all
        if full_scan or reconcile:
            self._confirm_disappearances(service, integration, seen, report)
        if reconcile:
            self.store.set_cursor(service, "reconcile", None)

    def _absorb_or_skip(
        self,
        service: Service,
        integration: Integration,
        remote: RemoteTask,
        report: ServiceReport,
        known: Mapping[str, ExternalRef],
    ) -> None:
        """Absorb one remote task; one pmtui cannot represent is skipped with its reason, the page goes on."""
        try:
            self._absorb(service, integration, remote, report, known.get(remote.ref.external_id))
        except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            reason = f"{type(exc).__name__}: {exc}"[:300]
            report.run.skipped.append(f"{remote.ref.external_id}: {reason}")
            log.warning("skipped %s %s: %s", service.value, remote.ref.external_id, exc)

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
            ref = remote.ref.model_copy(
                update={"entity": EntityType.PROJECT, "synced_at": utcnow(), "origin": True}
            )
            self.store.adopt_project(Project(**fields), ref)
        self.store.set_cursor(service, "projects", None)

    def _absorb(
        self,
        service: Service,
        integration: Integration,
        remote: RemoteTask,
        report: ServiceReport,
        ref: ExternalRef | None,
    ) -> None:
        adopted = ref is None
        if ref is None:
            ref = self._adopt(service, remote)
            if ref is None:
                self._create_local(service, remote, report)
                self.comments.changed(service, integration, remote, new=True)
                return
        if self._already_seen(service, ref, remote, adopted=adopted):
            return
        self.comments.changed(service, integration, remote)
        task = self._page_tasks.get(ref.entity_id) or self.store.get_task(ref.entity_id)
        if task is None:
            self._create_local(service, remote, report)
            return
        self._merge(service, ref, task, remote, report)

    def _already_seen(
        self, service: Service, ref: ExternalRef, remote: RemoteTask, *, adopted: bool = False
    ) -> bool:
        """Whether a listed task is one this ref has already merged (a window's re-read), without a request.

        An older stamp is. The same stamp is only if the values are what the ref last agreed: Notion
        stamps to the minute, so a page edited again in the minute it was read keeps its stamp. A ref
        just adopted from this very item took its stamp from the item: pmtui's own create took the local
        task's values as its base (nothing to merge); a link took only the fields both sides hold alike,
        and the ones left out still need their merge (:meth:`_agreed`).
        """
        theirs, ours = remote.ref.remote_updated_at, ref.remote_updated_at
        if remote.deleted or theirs is None or ours is None or theirs > ours:
            return False
        if theirs < ours:
            return True
        names = self._fields(service, ref)
        if any(name not in ref.base for name in names):
            return False  # a field without a base (where a link's two sides disagree) needs its merge
        if adopted:
            return True
        values = project_for(service, fields_of(remote.task, names))
        return all(same_value(name, ref.base[name], values[name]) for name in names)

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
                ref.base = self._agreed(service, ref, owner, remote)
                self.store.upsert_refs([ref])
                self._decide(
                    owner.id, service, f"linked {service.label} task to {owner.title!r} (it links {url})"
                )
                return ref
        return None

    def _agreed(self, service: Service, ref: ExternalRef, task: Task, remote: RemoteTask) -> dict[str, Any]:
        """The base of a link between two items that never agreed on anything: the fields they hold alike.

        A field the two hold differently has no common value to merge from, so it is left out of the
        base and the merge that follows treats it as added on both sides: an empty side takes the other's
        value, two different values are a conflict. Taking either side's value as the base would make
        the other's look like a change later and overwrite it (a colleague's rename made before the link
        was pushed over; the scheduled twin's due date and priority replaced the issue's own).
        """
        names = self._fields(service, ref)
        local = project_for(service, fields_of(task, names))
        theirs = project_for(service, fields_of(remote.task, names))
        return {name: theirs[name] for name in names if same_value(name, local[name], theirs[name])}

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

    def _flush_new(self, service: Service) -> None:
        """Write the page's new tasks and refs in two statements (one row at a time costs ~6 ms each)."""
        if self._new_tasks:
            self.store.upsert_tasks(self._new_tasks, held_by=(service, self._held))
        if self._new_refs:
            self.store.upsert_refs(self._new_refs)
        self._new_tasks, self._new_refs, self._held = [], [], []

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
        return self.writes.fields(service, ref)

    def _merge(
        self, service: Service, ref: ExternalRef, task: Task, remote: RemoteTask, report: ServiceReport
    ) -> None:
        """Merge a pulled remote task into the cache (the push later sends what only pmtui changed)."""
        if self._page_conflicts is not None:
            open_fields = set(self._page_conflicts.get(task.id, ()))
        else:
            open_fields = self.writes.open_fields(service, task.id)
        if remote.deleted or task.deleted:
            self.writes.settle_presence(
                service, ref, task, remote, remote_updated_at=remote.ref.remote_updated_at
            )
            if remote.deleted and not task.deleted:
                report.deleted += 0 if DELETED_FIELD in self.writes.open_fields(service, task.id) else 1
            return
        step = self.writes.merge(service, ref, task, remote, open_fields)
        if step.task_changed:
            if self._batching:
                self._new_tasks.append(step.task)  # written with the page (_flush_new)
                if self._settled_here(service, step, open_fields):
                    self._held.append(task.id)
            else:
                self.store.upsert_tasks([step.task])
            report.updated += 1
            report.run.pulled += 1
        self.writes.file_conflicts(service, step.task, step.conflicts)
        if step.needs_push:
            self.store.outbox_mark(service, task.id)
        if self._batching:
            self._new_refs.append(step.ref)
        else:
            self.store.upsert_refs([step.ref])

    def _settled_here(self, service: Service, step: MergeStep, open_fields: set[str]) -> bool:
        """Whether ``service`` holds every field of the merged task it exchanges: the push's own test
        for clearing a mark (:meth:`_push`), so not marking the task for it changes no outcome."""
        blocked = open_fields | {conflict.field for conflict in step.conflicts}
        if DELETED_FIELD in blocked:
            return False
        return not self.writes.pending_diff(service, step.ref, step.task, blocked)

    def _reconcile_due(self, service: Service, integration: Integration) -> bool:
        """Whether this sync lists every object (to find remote deletions an incremental listing never
        reports): on the first sync, and then every ``[sync] reconcile_minutes`` for services whose
        listings are incremental (GitLab, Notion, Linear). Motion always lists whole."""
        if not integration.capabilities.incremental:
            return False
        stamped = self.store.cursor_updated_at(service, "reconcile")
        minutes = self.settings.sync.reconcile_minutes
        return stamped is None or datetime.now(UTC) - stamped >= timedelta(minutes=minutes)

    def _confirm_disappearances(
        self, service: Service, integration: Integration, seen: set[str], report: ServiceReport
    ) -> None:
        """Tasks missing from a full listing: look each up twice; hold a mass disappearance for review."""
        # Ids only: a quiet full scan (Motion's every sync) used to load every ref and task as models
        # here, most of its local work, to find that nothing was missing.
        live = [
            row[0]
            for row in self.store._rows(
                "SELECT r.external_id FROM external_refs r JOIN tasks t ON t.id = r.entity_id "
                "WHERE r.service = ? AND r.entity = 'task' AND NOT t.deleted AND t.status NOT IN (?, ?)",
                [service.value, Status.DONE.value, Status.CANCELED.value],
            )
        ]
        absent = [external_id for external_id in live if external_id not in seen]
        if not absent:
            return
        found = self.store.refs_by_external(service, absent)
        missing = [found[external_id] for external_id in absent if external_id in found]
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
            task = self.store.get_task(ref.entity_id)
            if task is None:
                continue
            try:
                remote = self.writes.lookup(integration, ref.external_id)
            except PmtuiError as exc:
                log.info("could not confirm %s is gone: %s", ref.external_id, exc)
                continue  # not confirmed: nothing is deleted on an error
            if remote is None:
                gone = RemoteTask(
                    ref=ref.model_copy(update={"remote_updated_at": utcnow()}), task=task, deleted=True
                )
                self._merge(service, ref, task, gone, report)
            else:
                self._merge(service, ref, task, remote, report)

    # --------------------------------------------------------------------------------------- pushing

    def _push(self, service: Service, integration: Integration, report: ServiceReport) -> None:
        """Send the marked tasks' local differences (edits, or changes other services brought).

        Only tasks in the outbox are read (a quiet sync reads none). The pull just merged whatever the
        service changed, so the base is its current value: what differs from it is pmtui's change. One
        task's failure marks that task with the service's reason and the rest still go out; a service
        that stops answering ends the push with the rest still pending.
        """
        self._deliver_creates(service, integration, report)
        entries = self.store.outbox_entries(service, op="push")
        if not entries:
            return
        ids = [entry.task_id for entry in entries]
        tasks = self.store.tasks_by_ids(ids)
        conflicted = self.store.open_conflicts_for(service, ids)
        refs: dict[str, ExternalRef] = {}
        for ref in self.store.refs_for_tasks(service, ids):
            refs[ref.entity_id] = ref
        # Most marks of a sync are its own merges' (every task write marks the task's refs, the one it
        # came from too): nothing differs from the base, so they are cleared together, not one
        # statement per changed task.
        settled = [
            task_id
            for task_id in ids
            if (task := tasks.get(task_id)) is None
            or (ref := refs.get(task_id)) is None
            or task.deleted
            or (
                DELETED_FIELD not in conflicted.get(task_id, set())
                and not self.writes.pending_diff(service, ref, task, conflicted.get(task_id, set()))
            )
        ]
        self.store.outbox_clear_many(service, settled)
        cleared = set(settled)
        for task_id in ids:
            if task_id in cleared:
                continue
            task, ref = tasks[task_id], refs[task_id]
            open_fields = conflicted.get(task_id, set())
            if DELETED_FIELD in open_fields:
                continue  # the person decides first (keep recreates it, drop removes it)
            try:
                pushed = self.writes.push(service, integration, ref, task, open_fields)
            except ServiceError as exc:
                if isinstance(exc, NotFoundError) or not exc.retriable:
                    gone = self.writes.lookup(integration, ref.external_id, quiet=True)
                    if gone is None or gone.deleted:
                        self.writes.settle_presence(service, ref, task, gone)
                        continue
                if not exc.retriable:
                    self.store.outbox_fail(service, task_id, exc.user_text())
                log.warning(
                    "push of %s to %s failed: %s",
                    task.title,
                    service.value,
                    exc,
                    extra={"service": service.value, "task": task_id},
                )
                if exc.retriable:
                    raise  # the service is not answering: the rest stay pending for the next sync
                continue
            if pushed:
                report.run.pushed += 1

    def _push_fresh(self, service: Service, integration: Integration, report: ServiceReport) -> None:
        """Send the marked tasks before a scan that spreads over syncs, each read fresh first.

        :meth:`_push` trusts the pull to have merged the service's latest values; a partial scan may
        not have read a task's page for minutes, so each task is read back, merged three ways and only
        then written (the write path's own reconcile: a service change is never overwritten).
        """
        self._deliver_creates(service, integration, report)
        ids = [entry.task_id for entry in self.store.outbox_entries(service, op="push")]
        for ref in self.store.refs_for_tasks(service, ids):
            self._checkpoint()
            outcome = self.writes.reconcile(ref)
            if outcome.pushed:
                report.run.pushed += 1
            if outcome.unreachable:
                break  # the service is not answering: the rest stay pending for the next sync

    def _deliver_creates(self, service: Service, integration: Integration, report: ServiceReport) -> None:
        """Create the tasks queued for this service while it was away ("queued for Linear")."""
        for entry in self.store.outbox_entries(service, op="create"):
            from pmtui.core.processor import idempotency_key  # imported by a sync that creates something

            task = self.store.get_task(entry.task_id)
            if (
                task is None
                or task.deleted
                or any(r.service is service for r in self.store.refs_for(entry.task_id))
            ):
                self.store.outbox_clear(service, entry.task_id, "create")
                continue
            key = idempotency_key(entry.task_id, "deliver", service.value)
            placeholder = ExternalRef(entity_id=task.id, service=service, external_id="", origin=True)
            try:
                new_ref = self.writes.recreate(service, placeholder, task, key)
            except ServiceError as exc:
                self.store.outbox_fail(service, entry.task_id, exc.user_text(), "create")
                if exc.retriable:
                    raise
                continue
            with self.store.transaction():
                # The service the plan meant becomes the task's home; the stand-in copy follows it.
                for other in self.store.refs_for(task.id):
                    if other.service not in (service, Service.LOCAL) and other.origin:
                        self.store.upsert_refs([other.model_copy(update={"origin": False})])
                self.store.upsert_refs([new_ref.model_copy(update={"origin": True})])
                self.store.outbox_clear(service, entry.task_id, "create")
            report.created += 1
            report.run.pushed += 1
            self._decide(task.id, service, f"delivered {task.title!r} to {service.label} (it was queued)")

    # ------------------------------------------------------------------------------------ conflicts

    def resolve_conflict(
        self, conflict_id: str, choice: Literal["local", "remote", "merged"], value: Any = None
    ) -> None:
        """Settle a conflict through the write path: the chosen value is merged with what each service
        holds now, so a service that changed the field again since the conflict gets a new conflict
        rather than being overwritten."""
        conflict = next((c for c in self.store.conflicts() if c.id == conflict_id), None)
        if conflict is None:
            raise PmtuiError(f"no open conflict {conflict_id}", hint="it may have been resolved already")
        task = self.store.get_task(conflict.task_id)
        if task is None:
            raise PmtuiError("the conflict's task no longer exists")
        chosen = {"local": conflict.local, "remote": conflict.remote}.get(choice, value)
        conflict.resolved_at = utcnow()
        conflict.resolution = "merged" if choice == "merged" else choice
        conflict.resolved_value = chosen
        if conflict.field == DELETED_FIELD:
            self._resolve_deletion(conflict, task, choice)
            self._decide(task.id, conflict.service, f"resolved delete conflict: took {choice}")
            return
        ref = next((r for r in self.store.refs_for(task.id) if r.service is conflict.service), None)
        canonical = canonical_value(conflict.field, chosen)
        with self.store.transaction():
            if ref is not None:
                # The service's conflicting value is now seen and decided on: it becomes the base, so
                # the chosen value reads as pmtui's change (pushed) unless the service moved again.
                seen = project_for(conflict.service, {conflict.field: conflict.remote})[conflict.field]
                self.store.upsert_refs([ref.model_copy(update={"base": {**ref.base, conflict.field: seen}})])
            self.store.upsert_tasks([apply_values(task, {conflict.field: canonical})])
            self.store.add_conflict(conflict)
        self.writes.reconcile_all(task.id)
        self._decide(task.id, conflict.service, f"resolved {conflict.field} conflict: took {choice}")

    def _resolve_deletion(self, conflict: Conflict, task: Task, choice: str) -> None:
        """Delete-vs-edit: "keep" recreates (remote delete) or restores (local delete); "drop" deletes."""
        from pmtui.core.processor import idempotency_key

        service = conflict.service
        ref = next((r for r in self.store.refs_for(task.id) if r.service is service), None)
        deleted_remotely = conflict.local is False
        keep = choice == "local" if deleted_remotely else choice == "remote"
        if deleted_remotely and keep and ref is not None:
            self.writes.recreate(service, ref, task, idempotency_key(conflict.id, "recreate", service.value))
            self.store.add_conflict(conflict)
            return
        if deleted_remotely:
            with self.store.transaction():
                if ref is not None:
                    self.store.delete_ref(ref)
                self.store.outbox_clear(service, task.id)
                self.store.add_conflict(conflict)
                self.writes.drop_if_unheld(task)
            return
        if keep:  # deleted here, edited there: bring it back with the service's values
            with self.store.transaction():
                self.store.upsert_tasks([task.model_copy(update={"deleted": False, "updated_at": utcnow()})])
                self.store.add_conflict(conflict)
            if ref is not None:
                self.writes.reconcile(ref)
            return
        if ref is not None:
            self.engine.integration(service).delete_task(ref.external_id)
            self.store.delete_ref(ref)
        self.store.add_conflict(conflict)

    def _decide(
        self, task_id: str | None, service: Service, reason: str, detail: dict[str, Any] | None = None
    ) -> None:
        self.writes.decide(task_id, service, reason, detail)


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
