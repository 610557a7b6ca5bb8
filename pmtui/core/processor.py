"""TaskProcessor: validated actions, run as a saga with compensation.

Every remote step gets an idempotency key derived from the request id and the action's ref, so a
plan can be run again after a crash or an unknown outcome and each step finds what it already made
instead of making it twice. Steps are journaled before their remote call and closed in the same
transaction that stores their result. When a step fails for good, the steps already done are undone in
reverse (created objects are deleted or archived, updates are reverted) and the result says exactly
what remains.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pmtui.config import Settings
from pmtui.core.comments import COMMENT_OP, mapping_ref, post_comment, settle_comment
from pmtui.core.journal import Journal
from pmtui.core.router import RouteDecision, route_to_json
from pmtui.core.store import RequestRecord, Store
from pmtui.core.writes import DELETED_FIELD, RefOutcome, WritePath
from pmtui.errors import NotFoundError, PmtuiError, ServiceError
from pmtui.integrations.base import Integration, RemoteProject, RemoteTask
from pmtui.integrations.limits import create_once
from pmtui.models import (
    Action,
    ActionResult,
    AddComment,
    Comment,
    CompleteTask,
    Conflict,
    CreateProject,
    CreateTask,
    Decision,
    DeleteTask,
    EntityType,
    ExternalRef,
    JournalEntry,
    JournalState,
    Link,
    MoveTask,
    Plan,
    Project,
    Query,
    ResultStatus,
    Service,
    Status,
    Sync,
    Task,
    TaskKind,
    UpdateTask,
    utcnow,
)

log = logging.getLogger("pmtui.processor")

UNKNOWN_OUTCOME_ATTEMPTS = 3
"""Calls per write whose outcome stays unknown (each after a lookup by key) before it is left to recovery."""

IntegrationProvider = Callable[[Service], Integration]
_T = TypeVar("_T")


def idempotency_key(request_id: str, ref: str, suffix: str = "") -> str:
    """A 32-hex key that is the same every time the same step of the same request runs.

    It is a valid UUID v4 (version and variant bits set), because Linear takes it as the issue's
    client-chosen ``id`` and documents that id as "UUID v4".
    """
    digest = hashlib.sha256(f"{request_id}:{ref}:{suffix}".encode()).digest()[:16]
    return uuid.UUID(bytes=digest, version=4).hex


@dataclass
class _Done:
    """A completed step and how to undo it."""

    action: Action
    service: Service
    undo: Callable[[], None] | None
    description: str


@dataclass(frozen=True)
class _Step:
    """One action of a request being run: its idempotency key and the one way its result is built."""

    request_id: str
    action: Action

    @property
    def key(self) -> str:
        """The action's idempotency key, the same on every run of the request (a resume finds its object)."""
        return idempotency_key(self.request_id, self.action.ref)

    def result(
        self,
        status: ResultStatus,
        message: str = "",
        *,
        service: Service | None = None,
        entity_id: str | None = None,
        made: ExternalRef | None = None,
        key: str | None = None,
        error: str | None = None,
        hint: str | None = None,
    ) -> ActionResult:
        """The action's result line; ``made`` is the ref of the object it made (its key and URL shown)."""
        return ActionResult(
            ref=self.action.ref,
            type=self.action.type,
            status=status,
            service=service,
            entity_id=entity_id,
            key=made.key if made is not None else key,
            url=made.url if made is not None else None,
            message=message,
            error=error,
            hint=hint,
        )


StepOutcome = tuple[ActionResult, Callable[[], None] | None]
"""A step's result and how to undo it in this run's saga (None: nothing to undo, or kept on purpose)."""


@dataclass
class SagaOutcome:
    """Results per action, plus what was rolled back and what could not be."""

    results: list[ActionResult] = field(default_factory=list)
    compensated: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    """Objects that stay on a service after a failed saga (a compensation that itself failed)."""

    @property
    def ok(self) -> bool:
        """True when every action is done, skipped or queued (a queued write waits for the next sync)."""
        return all(
            r.status in (ResultStatus.DONE, ResultStatus.SKIPPED, ResultStatus.QUEUED, ResultStatus.CONFLICT)
            for r in self.results
        )


class TaskProcessor:
    """Runs plans: validation first, then each action through the journal, compensating on failure."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        integrations: IntegrationProvider,
        *,
        journal: Journal | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.integrations = integrations
        self.journal = journal or Journal(store)
        self.writes = WritePath(store, settings, integrations)
        self._inverse: dict[str, Any] | None = None
        """How to undo the step being run (set by each step; kept in the request's record)."""

    # ------------------------------------------------------------------------------------ validation

    def validate(self, plan: Plan, routes: dict[str, RouteDecision]) -> list[str]:
        """Every problem with the plan, found before any remote call (all at once, not the first)."""
        problems: list[str] = []
        refs = {a.ref: a for a in plan.actions}
        for action in plan.actions:
            route = routes.get(action.ref)
            where = f"{action.type} {_describe(action)}"
            if isinstance(action, CreateTask):
                if (
                    action.project
                    and action.project not in refs
                    and self.store.find_project(action.project) is None
                ):
                    problems.append(f"{where}: unknown project {action.project!r}")
                if route and route.service is Service.MOTION:
                    section = self.settings.motion
                    if section.auto_schedule and action.due is None and action.service is Service.MOTION:
                        problems.append(f"{where}: Motion needs a due date to auto-schedule (add `due ...`)")
                if action.due is not None and action.due.year < 2000:
                    problems.append(f"{where}: due date {action.due.date()} is not plausible")
            elif isinstance(action, UpdateTask | CompleteTask | DeleteTask | AddComment | MoveTask | Link):
                matches = self._find(action.task, refs)
                if not matches:
                    problems.append(f"{where}: no task matches {action.task!r}")
                elif len(matches) > 1:
                    names = ", ".join(f"{t.title!r}" for t in matches[:5])
                    problems.append(
                        f"{where}: {action.task!r} matches {len(matches)} tasks ({names}); be more specific"
                    )
                if isinstance(action, UpdateTask) and action.changes.is_empty():
                    problems.append(f"{where}: nothing to change")
                if isinstance(action, MoveTask | Link) and route is not None and route.queued_for:
                    problems.append(f"{where}: {action.to.label} is not configured or not reachable")
            if isinstance(action, CreateProject) and not action.name.strip():
                problems.append(f"{where}: the project needs a name")
        return problems

    def _find(self, name: str, refs: dict[str, Action]) -> list[Task]:
        if name in refs:
            return [Task(title=_describe(refs[name]))]
        exact = self.store.get_task(name)
        if exact is not None:
            return [exact]
        found = self.store.find_tasks(name, limit=10)
        same = [t for t in found if t.title.lower() == name.lower()]
        return same or found

    # ------------------------------------------------------------------------------------- execution

    def execute(self, plan: Plan, routes: dict[str, RouteDecision]) -> SagaOutcome:
        """Run the plan's actions in dependency order as one saga, recorded for resume and undo.

        Every step's idempotency key comes from the request id and the action's ref, so running the
        same request again (a resume after a crash) finds what was already made instead of making it
        twice; the record keeps the routes so a resumed step goes where it went the first time.
        """
        outcome = SagaOutcome()
        done: list[_Done] = []
        made: dict[str, tuple[str, Service, str | None]] = {}  # ref -> (local id, service, external id)
        record = self._begin_request(plan, routes)
        finished = {step["ref"] for step in record.steps}
        for action in plan.ordered():
            route = routes.get(action.ref)
            step = _Step(plan.request_id, action)
            self._inverse = None
            try:
                result, undo = self._run(step, route, made)
            except PmtuiError as exc:
                self._fail(step, route.service if route else None, exc, done, outcome)
                for rest in plan.ordered():
                    if all(r.ref != rest.ref for r in outcome.results):
                        outcome.results.append(
                            _Step(plan.request_id, rest).result(
                                ResultStatus.SKIPPED, "not run: an earlier step failed"
                            )
                        )
                self._end_request(record, "failed")
                return outcome
            outcome.results.append(result)
            if action.ref not in finished and result.status is not ResultStatus.SKIPPED:
                self._record_step(record, action, result)
            if undo is not None:
                done.append(_Done(action, result.service or Service.LOCAL, undo, result.message))
            self._decide(
                plan.request_id,
                "outcome",
                action,
                result.service,
                result.message,
                {"status": result.status.value, "key": result.key, "url": result.url},
            )
        self._end_request(record, "done")
        return outcome

    def _begin_request(self, plan: Plan, routes: dict[str, RouteDecision]) -> RequestRecord:
        """The request's record, marked running by this process (a resume keeps the steps done)."""
        record = self.store.request(plan.request_id)
        if record is None or record.request_id != plan.request_id:
            record = RequestRecord(
                request_id=plan.request_id,
                text=plan.text or "",
                plan=plan.model_dump(mode="json"),
                routes={ref: route_to_json(route) for ref, route in routes.items()},
                state="running",
                pid=os.getpid(),
                started_at=utcnow(),
                finished_at=None,
                steps=[],
            )
        else:
            record.state, record.pid, record.finished_at = "running", os.getpid(), None
        self.store.request_write(record)
        return record

    def _end_request(self, record: RequestRecord, state: str) -> None:
        record.state, record.finished_at = state, utcnow()
        self.store.request_write(record)

    def _record_step(self, record: RequestRecord, action: Action, result: ActionResult) -> None:
        """Add a finished step, with how to undo it, to the request's record (`pmtui undo` reads it)."""
        record.steps.append(
            {
                "ref": action.ref,
                "type": action.type,
                "what": result.message,
                "status": result.status.value,
                "service": result.service.value if result.service else None,
                "entity_id": result.entity_id,
                "inverse": self._inverse,
            }
        )
        self.store.request_write(record)

    def _fail(
        self,
        step: _Step,
        service: Service | None,
        exc: PmtuiError,
        done: list[_Done],
        outcome: SagaOutcome,
    ) -> None:
        """Record a step that failed for good, then undo the steps already done, newest first."""
        outcome.results.append(
            step.result(
                ResultStatus.FAILED,
                f"{_describe(step.action)} failed",
                service=service,
                error=str(exc),
                hint=exc.hint,
            )
        )
        self._decide(
            step.request_id, "outcome", step.action, service, f"failed: {exc}", {"retriable": exc.retriable}
        )
        self._compensate(step.request_id, done, outcome)

    def _compensate(self, request_id: str, done: list[_Done], outcome: SagaOutcome) -> None:
        for step in reversed(done):
            if step.undo is None:
                continue
            try:
                step.undo()
            except PmtuiError as exc:
                outcome.remaining.append(f"{step.description} ({step.service.label}): undo failed: {exc}")
                self._decide(request_id, "compensate", step.action, step.service, f"undo failed: {exc}", {})
                continue
            outcome.compensated.append(f"{step.description} ({step.service.label})")
            for result in outcome.results:
                if result.ref == step.action.ref:
                    result.status = ResultStatus.COMPENSATED
            self._decide(
                request_id, "compensate", step.action, step.service, f"undone: {step.description}", {}
            )

    def _decide(
        self,
        request_id: str,
        kind: Any,
        action: Action | _Ref,
        service: Service | None,
        reason: str,
        detail: dict[str, Any],
    ) -> None:
        self.store.log_decision(
            Decision(
                request_id=request_id,
                kind=kind,
                action_ref=action.ref,
                service=service,
                reason=reason,
                detail=detail,
            )
        )
        log.info(
            "%s %s: %s",
            kind,
            action.ref,
            reason,
            extra={"request_id": request_id, "action": action.type, "service": service and service.value},
        )

    # ------------------------------------------------------------------------------------ the steps

    def run_one(self, request_id: str, action: Action) -> StepOutcome:
        """Run one action outside a plan (an undo moving a task back): no record, no compensation."""
        return self._run(_Step(request_id, action), None, {})

    def _run(
        self, step: _Step, route: RouteDecision | None, made: dict[str, tuple[str, Service, str | None]]
    ) -> StepOutcome:
        action = step.action
        service = route.service if route else Service.LOCAL
        if isinstance(action, CreateProject):
            return self._create_project(step, action, service, made)
        if isinstance(action, CreateTask):
            return self._create_task(
                step, action, service, made, queued_for=route.queued_for if route else None
            )
        if isinstance(action, UpdateTask | CompleteTask):
            return self._update(step, action)
        if isinstance(action, DeleteTask):
            return self._delete(step, action)
        if isinstance(action, AddComment):
            return self._comment(step, action)
        if isinstance(action, Link | MoveTask):
            return self._link(step, action, move=isinstance(action, MoveTask))
        if isinstance(action, Sync | Query):
            return step.result(
                ResultStatus.SKIPPED, f"{action.type} is answered by the engine, not the processor"
            ), None
        raise AssertionError(f"unhandled action {action!r}")

    def _journaled(
        self,
        request_id: str,
        key: str,
        service: Service,
        op: str,
        call: Callable[[], _T],
        *,
        payload: dict[str, Any] | None = None,
        entity_id: str | None,
        external_id: str | None = None,
        store_result: Callable[[_T], None],
    ) -> _T:
        """The step runner: journal the step, make its remote call, then store the result and close the
        step in one transaction.

        A refusal (a :class:`ServiceError` out of ``call``) drops the step: nothing was made to find
        again. A crash between the call and the close leaves it pending for :meth:`recover`.
        """
        entry = self.journal.begin(
            request_id=request_id,
            step=0,
            service=service,
            op=op,
            idempotency_key=key,
            payload=payload,
            entity_id=entity_id,
            external_id=external_id,
        )
        try:
            outcome = call()
        except ServiceError:
            self.journal.forget([entry])
            raise
        self.journal.close(entry, functools.partial(store_result, outcome))
        return outcome

    def _on_task(self, name: str) -> tuple[Task, list[ExternalRef]]:
        """The one task an action names, and its refs on services (the local ref left out)."""
        task = self._resolve(name)
        return task, self._service_refs(task.id)

    def _service_refs(self, task_id: str) -> list[ExternalRef]:
        return [r for r in self.store.refs_for(task_id) if r.service is not Service.LOCAL]

    def _remote_call(
        self,
        step: _Step,
        service: Service,
        call: Callable[[], RemoteTask],
        *,
        payload: dict[str, Any],
        entity_id: str | None,
        hint: Task | None,
        store_result: Callable[[RemoteTask], None],
    ) -> RemoteTask:
        """Create a task through the step runner, found by its key first (a resumed request made it),
        and looked up by key after an unknown outcome instead of being made twice."""
        integration = self.integrations(service)
        existing = self.store.ref_by_external_key(service, step.key) if service is not Service.LOCAL else None
        if existing is not None:
            found = integration.get_task(existing.external_id)
            if found is not None:
                return found
        return self._journaled(
            step.request_id,
            step.key,
            service,
            "create_task",
            lambda: self._call_once(
                call,
                integration,
                step.key,
                hint,
                step.request_id,
                _Ref(step.action.ref, "create_task"),
                service,
            ),
            payload=payload,
            entity_id=entity_id,
            store_result=store_result,
        )

    def _call_once(
        self,
        call: Callable[[], RemoteTask],
        integration: Integration,
        key: str,
        hint: Task | None,
        request_id: str,
        ref: _Ref,
        service: Service,
    ) -> RemoteTask:
        """Call; after an unknown outcome look the object up by its key, and call again only if absent.

        The integrations' own :func:`create_once`, with the lookup by key as its ``find``: a burst of 5xx
        answers can outlast one retry, and the lookup before each new attempt keeps a create that did
        land from being made twice. A final failure leaves the journal step open for recovery.
        """

        def find() -> RemoteTask | None:
            found = integration.find_by_idempotency_key(key, hint)
            if found is not None:
                self._decide(
                    request_id,
                    "retry",
                    ref,
                    service,
                    "outcome unknown; found the object by its idempotency key",
                    {"key": key},
                )
            return found

        # The integration's own clock: tests run it fake, so a burst costs no wall time.
        sleep: Callable[[float], None] = getattr(integration, "_retry_sleep", time.sleep)
        return create_once(call, find, attempts=UNKNOWN_OUTCOME_ATTEMPTS, sleep=sleep)

    def _create_project(
        self,
        step: _Step,
        action: CreateProject,
        service: Service,
        made: dict[str, tuple[str, Service, str | None]],
    ) -> StepOutcome:
        existing = self.store.find_project(action.name)
        if existing is not None:
            made[action.ref] = (existing.id, service, None)
            ref = next(
                (r for r in self.store.refs_for(existing.id, EntityType.PROJECT) if r.service is service),
                None,
            )
            if ref is not None:
                made[action.ref] = (existing.id, service, ref.external_id)
            return step.result(
                ResultStatus.DONE,
                f"project {action.name!r} already exists; using it",
                service=service,
                entity_id=existing.id,
            ), None
        project = Project(id=step.key, name=action.name, description=action.description, due=action.due)
        integration = self.integrations(service)

        def store(remote: RemoteProject) -> None:
            # Adopted, not inserted: a sync may have imported another service's project of this name
            # during the create (looked up above, before the round trip); the new ref joins that one.
            remote.ref.entity = EntityType.PROJECT
            chosen = self.store.adopt_project(project, remote.ref)
            remote.ref.entity_id = project.id = chosen.id

        remote = self._journaled(
            step.request_id,
            step.key,
            service,
            "create_project",
            lambda: integration.create_project(project, idempotency_key=step.key),
            payload={"name": action.name},
            entity_id=project.id,
            store_result=store,
        )
        made[action.ref] = (project.id, service, remote.ref.external_id)
        return step.result(
            ResultStatus.DONE,
            f"created project {action.name!r} in {service.label}",
            service=service,
            entity_id=project.id,
            made=remote.ref,
        ), None

    def _create_task(
        self,
        step: _Step,
        action: CreateTask,
        service: Service,
        made: dict[str, tuple[str, Service, str | None]],
        *,
        queued_for: Service | None,
    ) -> StepOutcome:
        key = step.key
        project_id, project_external = self._project_for(action.project, service, made)
        from pmtui.core.router import classify_kind

        kind = action.kind or classify_kind(action.title, action.labels, action.description).kind
        task = Task(
            id=key,
            title=action.title,
            description=action.description,
            due=action.due,
            due_all_day=action.due_all_day,
            priority=action.priority,
            labels=action.labels,
            kind=kind if isinstance(kind, TaskKind) else TaskKind.GENERAL,
            duration_minutes=action.duration_minutes,
            project_id=project_id,
            assignee=action.assignee,
        )
        integration = self.integrations(service)

        def store(remote: RemoteTask) -> None:
            schedule = {
                "scheduled_start": remote.task.scheduled_start,
                "scheduled_end": remote.task.scheduled_end,
            }
            self._record_created(remote, task, key, service, origin=True, local_update=schedule)
            if queued_for is not None:
                # A real outbox entry: the next healthy sync of that service creates it there.
                self.store.outbox_mark(queued_for, task.id, "create", {"request_id": step.request_id})

        remote = self._remote_call(
            step,
            service,
            lambda: integration.create_task(task, idempotency_key=key, project_external_id=project_external),
            payload={"task": task.model_dump(mode="json"), "project_external_id": project_external},
            entity_id=task.id,
            hint=task,
            store_result=store,
        )
        made[action.ref] = (task.id, service, remote.ref.external_id)
        external_id = remote.ref.external_id

        def undo() -> None:
            if service is not Service.LOCAL:
                integration.delete_task(external_id)
            self.store.upsert_tasks([task.model_copy(update={"deleted": True, "updated_at": utcnow()})])
            self.store.delete_ref(remote.ref)

        self._inverse = {"op": "delete", "task_id": task.id}
        where = service.label + (f" (queued for {queued_for.label})" if queued_for else "")
        return step.result(
            ResultStatus.DONE,
            f"created {action.title!r} in {where}",
            service=service,
            entity_id=task.id,
            made=remote.ref,
        ), undo

    def _record_created(
        self,
        remote: RemoteTask,
        task: Task,
        key: str,
        service: Service,
        *,
        origin: bool,
        local_update: dict[str, Any],
    ) -> None:
        """Store what a create made: its ref (keyed, base = what the service holds) and the local task."""
        remote.ref.entity_id = task.id
        remote.ref.idempotency_key = key
        remote.ref.base = _base_of(service, remote.task)
        remote.ref.synced_at = utcnow()
        remote.ref.origin = origin
        self.store.upsert_tasks([task.model_copy(update={**local_update, "updated_at": utcnow()})])
        self.store.upsert_refs([remote.ref])

    def _merged_before_move(self, task: Task) -> tuple[Task, list[ExternalRef]]:
        """The task merged with what its services hold now (a teammate's change moves with it), or an
        error naming what stops the move (a conflict, a service not answering)."""
        outcomes = self.writes.reconcile_all(task.id)
        blocked = [o for o in outcomes if o.conflicts or o.pending]
        if blocked:
            why = "; ".join(
                f"{o.service.label}: "
                + (f"conflict on {', '.join(o.conflicts)}" if o.conflicts else str(o.pending))
                for o in blocked
            )
            raise PmtuiError(
                f"{task.title!r} was not moved: {why}",
                hint="settle the conflict (Conflicts, 4) or wait for the service, then move it again",
            )
        merged = self.store.get_task(task.id) or task
        return merged, self._service_refs(merged.id)

    def _project_for(
        self, name: str | None, service: Service, made: dict[str, tuple[str, Service, str | None]]
    ) -> tuple[str | None, str | None]:
        if not name:
            return None, None
        if name in made:
            local_id, made_on, external = made[name]
            return local_id, external if made_on is service else None
        project = self.store.find_project(name)
        if project is None:
            return None, None
        ref = next(
            (r for r in self.store.refs_for(project.id, EntityType.PROJECT) if r.service is service), None
        )
        return project.id, ref.external_id if ref else None

    def _resolve(self, name: str) -> Task:
        matches = self._find(name, {})
        if len(matches) != 1:
            raise PmtuiError(
                f"{name!r} matches {len(matches)} tasks", hint="name the task by its key, e.g. ENG-12"
            )
        return matches[0]

    def _update(self, step: _Step, action: UpdateTask | CompleteTask) -> StepOutcome:
        """A direct edit through the one write path: stored first, then merged with each service's
        current value; a field a teammate changed too becomes a conflict, never an overwrite."""
        task = self._resolve(action.task)
        if isinstance(action, CompleteTask):
            fields: dict[str, Any] = {"status": Status.DONE}
        else:
            fields = _changes_to_fields(action.changes)
            if "project" in fields:
                project = self.store.find_project(str(fields.pop("project")))
                fields["project_id"] = project.id if project else None
        before = {name: getattr(task, name) for name in fields if name in Task.model_fields}
        if isinstance(action, CompleteTask):
            before["completed_at"] = task.completed_at
        self._inverse = {
            "op": "write",
            "task_id": task.id,
            "values": _jsonable(before),
            "redo": _jsonable(fields),
        }
        updated, outcomes = self._write(step, task, fields)
        verb = "completed" if isinstance(action, CompleteTask) else "updated"
        result = self._write_result(step, updated, verb, outcomes)
        if result.status is not ResultStatus.DONE:
            return result, None
        return result, lambda: self._revert(task.id, before)

    def _write(self, step: _Step, task: Task, fields: dict[str, Any]) -> tuple[Task, list[RefOutcome]]:
        """Journal the write per service (so a crash is reconciled, never replayed), then write it."""
        entries = [
            self.journal.begin(
                request_id=step.request_id,
                step=0,
                service=ref.service,
                op="update_task",
                idempotency_key=idempotency_key(step.request_id, step.action.ref, ref.service.value),
                payload={"fields": _jsonable(fields)},
                entity_id=task.id,
                external_id=ref.external_id,
            )
            for ref in self._service_refs(task.id)
        ]
        updated, outcomes = self.writes.write(task, fields)
        self.journal.forget(entries)  # what did not reach a service waits in the outbox
        return updated, outcomes

    def _write_result(self, step: _Step, task: Task, verb: str, outcomes: list[RefOutcome]) -> ActionResult:
        """One result line for a merged write: done, waiting for a service, or a conflict to settle."""
        refs = self.store.refs_for(task.id)
        display_key = next((r.key for r in refs if r.key), None)
        base = step.result(ResultStatus.DONE, entity_id=task.id, key=display_key)
        conflicted = [o for o in outcomes if o.conflicts]
        if conflicted:
            first = conflicted[0]
            what = ", ".join("deleted" if f == DELETED_FIELD else f for f in first.conflicts)
            return base.model_copy(
                update={
                    "status": ResultStatus.CONFLICT,
                    "service": first.service,
                    "message": (
                        f"{verb} {task.title!r} locally; conflict on {what}: {first.service.label} changed "
                        "it too. Nothing was overwritten: settle it in Conflicts (4) or `pmtui conflicts`"
                    ),
                }
            )
        waiting = [o for o in outcomes if o.pending]
        if waiting:
            away = [o.service.label for o in waiting if o.unreachable]
            refused = [f"{o.service.label} ({o.pending})" for o in waiting if not o.unreachable]
            parts = ([f"{', '.join(away)} unreachable"] if away else []) + (
                [f"{', '.join(refused)} refused it"] if refused else []
            )
            return base.model_copy(
                update={
                    "status": ResultStatus.QUEUED,
                    "service": waiting[0].service,
                    "message": f"{verb} {task.title!r} locally; {'; '.join(parts)}, the next sync pushes it",
                }
            )
        written = [o.service for o in outcomes if not o.deleted]
        where = ", ".join(s.label for s in written) or "the local cache"
        kept = sorted({f for o in outcomes for f in o.pulled})
        note = f" (kept the service's newer {', '.join(kept)})" if kept else ""
        return base.model_copy(
            update={
                "service": written[0] if written else Service.LOCAL,
                "message": f"{verb} {task.title!r} in {where}{note}",
            }
        )

    def _revert(self, task_id: str, before: dict[str, Any]) -> None:
        """Undo an edit through the same merged write (a newer teammate change makes it a conflict)."""
        current = self.store.get_task(task_id)
        if current is not None:
            self.writes.write(current, before)

    def _delete(self, step: _Step, action: DeleteTask) -> StepOutcome:
        task, refs = self._on_task(action.task)
        kept = self._delete_remote(step.request_id, action.ref, task, refs)
        self.store.upsert_tasks([task.model_copy(update={"deleted": True, "updated_at": utcnow()})])
        where = ", ".join(r.service.label for r in refs) or "the local cache"
        result = step.result(
            ResultStatus.DONE,
            f"deleted {task.title!r} from {where}",
            service=refs[0].service if refs else Service.LOCAL,
            entity_id=task.id,
        )
        if kept:
            names = ", ".join(s.label for s in kept)
            result.status = ResultStatus.CONFLICT
            result.message = (
                f"deleted {task.title!r} locally; {names} changed it since the last sync, so it was kept "
                "there: settle it in Conflicts (4)"
            )
        return result, None

    def _delete_remote(
        self, request_id: str, step_ref: str, task: Task, refs: list[ExternalRef]
    ) -> list[Service]:
        """Delete the task on each service unless that service changed it since the last agreement
        (deleting would lose that change: a delete-vs-edit conflict instead). Returns where it was kept."""
        from pmtui.core.merge import changed_fields
        from pmtui.core.writes import fields_of, project_for

        kept: list[Service] = []
        for ref in refs:
            integration = self.integrations(ref.service)
            fresh = self.writes.lookup(integration, ref.external_id)
            if fresh is not None and not fresh.deleted:
                names = self.writes.fields(ref.service, ref)
                remote = project_for(ref.service, fields_of(fresh.task, names))
                base = {k: v for k, v in ref.base.items() if k in names}
                if base and changed_fields(base, remote, names):
                    self.store.add_conflict(
                        Conflict(
                            task_id=task.id,
                            service=ref.service,
                            field=DELETED_FIELD,
                            base=False,
                            local=True,
                            remote=False,
                        )
                    )
                    kept.append(ref.service)
                    continue
            gone = fresh is None or fresh.deleted
            self._journaled(
                request_id,
                idempotency_key(request_id, step_ref, ref.service.value),
                ref.service,
                "delete_task",
                functools.partial(self._delete_on, integration, ref.external_id, gone=gone),
                entity_id=task.id,
                external_id=ref.external_id,
                store_result=functools.partial(self._forget_ref, ref),
            )
        return kept

    @staticmethod
    def _delete_on(integration: Integration, external_id: str, *, gone: bool) -> None:
        """Delete on the service unless it is gone already; a 404 means someone was quicker: done."""
        if not gone:
            with contextlib.suppress(NotFoundError):
                integration.delete_task(external_id)

    def _forget_ref(self, ref: ExternalRef, _deleted: None = None) -> None:
        """The task is gone from ``ref``'s service: drop the link and anything queued for it."""
        self.store.delete_ref(ref)
        self.store.outbox_clear(ref.service, ref.entity_id)

    def _comment(self, step: _Step, action: AddComment) -> StepOutcome:
        """Post the comment on every service holding the task, each through the journal.

        A service that is unreachable keeps it for the next sync to carry (the comment is stored
        locally with a "made in pmtui" mapping); a refusal by the first service fails the action.
        """
        task, refs = self._on_task(action.task)
        comment = Comment(id=step.key, task_id=task.id, body=action.body)
        posted: list[Service] = []
        queued: list[Service] = []
        for target in refs:
            try:
                post_comment(
                    self.store,
                    self.journal,
                    self.integrations(target.service),
                    request_id=step.request_id,
                    comment=comment,
                    target=target,
                    text=action.body,
                )
            except ServiceError as exc:
                if not exc.retriable and not posted and not queued:
                    raise
                log.warning("comment on %s not posted now: %s", target.service.value, exc)
                queued.append(target.service)
                continue
            posted.append(target.service)
        with self.store.transaction():
            if not self.store._rows("SELECT 1 FROM comments WHERE id = ?", [comment.id]):
                self.store.add_comment(comment)
            self.store.upsert_refs([mapping_ref(comment.id, Service.LOCAL, comment.id, origin=True)])
        where = ", ".join(s.label for s in posted) or "the local cache"
        if queued:
            names = ", ".join(s.label for s in queued)
            return step.result(
                ResultStatus.QUEUED,
                f"commented on {task.title!r} in {where}; {names} unreachable: the next sync posts it",
                service=queued[0],
                entity_id=task.id,
            ), None
        return step.result(
            ResultStatus.DONE,
            f"commented on {task.title!r} in {where}",
            service=posted[0] if posted else Service.LOCAL,
            entity_id=task.id,
        ), None

    def _link(self, step: _Step, action: Link | MoveTask, *, move: bool) -> StepOutcome:
        task, refs = self._on_task(action.task)
        if move and refs:
            task, refs = self._merged_before_move(task)
        if any(r.service is action.to for r in refs):
            return step.result(
                ResultStatus.SKIPPED,
                f"{task.title!r} is already in {action.to.label}",
                service=action.to,
                entity_id=task.id,
            ), None
        updates: dict[str, Any] = {}
        if isinstance(action, Link):
            if action.due is not None:
                updates.update(due=action.due, due_all_day=False)
            if action.duration_minutes is not None:
                updates["duration_minutes"] = action.duration_minutes
        # A linked copy carries the work, not the people: assignees are named differently on each service.
        updates["assignee"] = None
        origin = next((r for r in refs if r.origin), refs[0] if refs else None)
        if origin is not None and origin.url and not move:
            updates["description"] = f"Scheduled from {origin.service.label}: {origin.url}"
        linked = task.model_copy(update=updates)
        key = step.key
        integration = self.integrations(action.to)

        def store(remote: RemoteTask) -> None:
            # The local task takes the schedule (due, duration), never the copy's description or assignee.
            schedule = {k: v for k, v in updates.items() if k in ("due", "due_all_day", "duration_minutes")}
            self._record_created(remote, task, key, action.to, origin=False, local_update=schedule)

        remote = self._remote_call(
            step,
            action.to,
            lambda: integration.create_task(linked, idempotency_key=key),
            payload={"task": linked.model_dump(mode="json")},
            entity_id=task.id,
            hint=linked,
            store_result=store,
        )
        new_ref = remote.ref

        def undo() -> None:
            integration.delete_task(new_ref.external_id)
            self.store.delete_ref(new_ref)

        if move:
            self._delete_remote(step.request_id, f"{action.ref}:move", task, refs)
            if refs:
                self._inverse = {"op": "move", "task_id": task.id, "to": refs[0].service.value}
            verb = f"moved {task.title!r} to {action.to.label}"
        else:
            self._inverse = {"op": "unlink", "task_id": task.id, "service": action.to.value}
            verb = f"linked {task.title!r} to {action.to.label}"
        return step.result(
            ResultStatus.DONE, verb, service=action.to, entity_id=task.id, made=new_ref
        ), None if move else undo

    # -------------------------------------------------------------------------------------- recovery

    def recover(self) -> list[str]:
        """Settle every step left pending by a crash; returns one line per step for the decision log.

        A pending create is looked up by its idempotency key: found means the service committed it, so
        the result is stored; not found means it never happened. Updates and deletes are idempotent and
        are applied again. A comment is posted again only if the service does not show it already.
        """
        lines: list[str] = []
        for entry in self.journal.pending():
            try:
                lines.append(self._recover_one(entry))
            except PmtuiError as exc:
                self.journal.mark(entry, JournalState.FAILED, error=str(exc))
                lines.append(
                    f"{entry.op} on {entry.service.label}: could not settle ({exc}); kept for review"
                )
            self.store.log_decision(
                Decision(
                    request_id=entry.request_id,
                    kind="recover",
                    task_id=entry.entity_id,
                    service=entry.service,
                    reason=lines[-1],
                    detail={"op": entry.op},
                )
            )
        return lines

    def _recover_one(self, entry: JournalEntry) -> str:
        integration = self.integrations(entry.service)
        if entry.op == "create_task":
            task = Task.model_validate(entry.payload["task"])
            remote = integration.find_by_idempotency_key(entry.idempotency_key, task)
            if remote is None:
                self.journal.forget([entry])
                return f"create {task.title!r} on {entry.service.label}: never reached the service; dropped"

            def store() -> None:
                remote.ref.entity_id = task.id
                remote.ref.idempotency_key = entry.idempotency_key
                remote.ref.base = _base_of(entry.service, remote.task)
                remote.ref.synced_at = utcnow()
                remote.ref.origin = not self.store.refs_for(task.id)
                if self.store.get_task(task.id) is None:
                    self.store.upsert_tasks([task])
                self.store.upsert_refs([remote.ref])

            self.journal.close(entry, store)
            return f"create {task.title!r} on {entry.service.label}: had been committed; recorded it once"
        if entry.op == "update_task" and entry.external_id:
            # Never replayed: the edit is in the cache (stored before the call), so it is merged with
            # what the service holds now; a teammate's newer change makes it a conflict, not a loss.
            ref = self.store.ref_by_external(entry.service, entry.external_id)
            self.journal.forget([entry])
            if ref is None:
                return f"update on {entry.service.label}: the task is no longer linked; nothing to do"
            outcome = self.writes.reconcile(ref)
            if outcome.conflicts:
                return f"update on {entry.service.label}: the service changed it too; conflict filed"
            if outcome.pending:
                return f"update on {entry.service.label}: still waiting ({outcome.pending})"
            return f"update on {entry.service.label}: merged with the service's current value"
        if entry.op == "delete_task" and entry.external_id:
            with contextlib.suppress(NotFoundError):
                integration.delete_task(entry.external_id)
            self.journal.forget([entry])
            return f"delete on {entry.service.label}: applied again (idempotent)"
        if entry.op == COMMENT_OP:
            return settle_comment(self.store, self.journal, integration, entry)
        if entry.op == "create_project":
            # Found by its marker and recorded now, so a rerun of the request finds it in the cache
            # instead of making a second project.
            name = str(entry.payload.get("name") or "")
            found = integration.find_project_by_idempotency_key(entry.idempotency_key)
            if found is None:
                self.journal.forget([entry])
                return f"create project {name!r} on {entry.service.label}: never reached the service"
            project = Project(id=entry.entity_id or entry.idempotency_key, name=name or found.project.name)

            def record() -> None:
                ref = found.ref.model_copy(update={"entity_id": project.id, "entity": EntityType.PROJECT})
                if self.store.find_project(project.id) is None:
                    self.store.adopt_project(project, ref)  # one of this name may have come meanwhile
                else:
                    self.store.upsert_refs([ref])

            self.journal.close(entry, record)
            return f"create project {name!r} on {entry.service.label}: had been committed; recorded it once"
        self.journal.mark(entry, JournalState.FAILED, error="unknown step")
        return f"{entry.op} on {entry.service.label}: unknown step kept for review"


@dataclass
class _Ref:
    """Stands in for an action in a decision about one of its sub-steps."""

    ref: str
    type: str


def _describe(action: Any) -> str:
    for name in ("title", "name", "task"):
        value = getattr(action, name, None)
        if value:
            return repr(value)
    return str(action.type)


def _changes_to_fields(changes: Any) -> dict[str, Any]:
    fields = {name: value for name, value in changes.model_dump(exclude_none=True).items() if name != "clear"}
    for name in changes.clear:
        fields[name] = None
    if "due" in fields and fields["due"] is not None and isinstance(fields["due"], datetime):
        fields["due"] = fields["due"].astimezone(UTC)
    return fields


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else getattr(v, "value", v)) for k, v in fields.items()
    }


def _base_of(service: Service, task: Task) -> dict[str, Any]:
    """What ``service`` now holds of ``task``, in the representation the sync compares it in."""
    from pmtui.core.writes import SERVICE_FIELDS, fields_of, project_for
    from pmtui.models import SYNCED_TASK_FIELDS

    return project_for(service, fields_of(task, SERVICE_FIELDS.get(service, SYNCED_TASK_FIELDS)))
