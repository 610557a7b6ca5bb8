"""The Engine: the one object every front end holds (the TUI, the commands, the headless sync).

It owns the store and builds each service's integration on first use (so a command that touches only
the cache never imports a client library). Front ends hear about progress through a plain callback
they pass in; the TUI adapts it to Textual messages.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pmtui import paths
from pmtui.config import Settings, service_enabled
from pmtui.core.journal import Journal
from pmtui.core.router import RouteDecision, determine_primary_integration, facts_for
from pmtui.core.store import Store, store_path
from pmtui.errors import NotConfiguredError
from pmtui.integrations.base import Integration
from pmtui.integrations.limits import user_lane
from pmtui.models import (
    REMOTE_SERVICES,
    Action,
    CreateProject,
    CreateTask,
    Decision,
    Link,
    MoveTask,
    Plan,
    Service,
    SyncRun,
)

if TYPE_CHECKING:
    from pmtui.core.processor import SagaOutcome, TaskProcessor
    from pmtui.core.undo import RequestLog

log = logging.getLogger("pmtui.engine")


@dataclass
class EngineEvent:
    """Something a front end may want to show: a step started or ended, a sync progressed."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


EventCallback = Callable[[EngineEvent], None]


class Engine:
    """Store + integrations + router + processor, built from settings."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        on_event: EventCallback | None = None,
        integrations: dict[Service, Integration] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.on_event = on_event or (lambda _event: None)
        self._integrations: dict[Service, Integration] = dict(integrations or {})
        self._lock = threading.Lock()
        self.files_answers = False
        """Set by :meth:`open`: closing files the briefing's and conflicts' answers if the cache changed."""
        self.journal = Journal(store)
        self._processor: TaskProcessor | None = None
        self._processor_lock = threading.Lock()  # not _lock: building one must not wait on integration()
        self.unhealthy: set[Service] = set()

    @property
    def processor(self) -> TaskProcessor:
        """The write path (plans, sagas, undo), built on first use: a sync that creates nothing, and so
        every quiet `pmtui sync`, never imports it (about 10 ms of the process's start)."""
        with self._processor_lock:
            if self._processor is None:
                from pmtui.core.processor import TaskProcessor

                self._processor = TaskProcessor(
                    self.store, self.settings, self.integration, journal=self.journal
                )
            return self._processor

    @classmethod
    def open(
        cls, settings: Settings, *, on_event: EventCallback | None = None, read_only: bool = False
    ) -> Engine:
        """Open the cache in the data folder (migrating it) and build the engine over it."""
        store = Store(store_path(paths.data_dir()), read_only=read_only)
        engine = cls(settings, store, on_event=on_event)
        engine.files_answers = not read_only
        return engine

    def close(self) -> None:
        """Close the integrations built so far, then the store, which releases the cache file's lock.

        An engine over the data folder's cache that wrote to it files the new answers of `pmtui briefing`
        and `pmtui conflicts` first (:mod:`pmtui.answers`): the process that changed the data pays for
        the next answer, so a briefing after `pmtui sync` or `pmtui do` needs no DuckDB even when no
        engine keeps running. Only where a briefing or conflicts answer was ever filed: a machine that
        only syncs never pays for one.
        """
        for integration in self._integrations.values():
            integration.close()
        self._integrations.clear()
        if self.files_answers and self.store.wrote and not self.store.is_closed:
            from pmtui.answers import answers_wanted, refresh_quietly

            if answers_wanted():
                refresh_quietly(self.store)
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def emit(self, kind: str, message: str, **data: Any) -> None:
        """Call ``on_event`` synchronously in the calling (worker) thread, so a callback must only hand off.

        The TUI's callback posts a message; without a callback the event is dropped.
        """
        self.on_event(EngineEvent(kind, message, data))

    # ---------------------------------------------------------------------------------- services

    def configured_services(self) -> list[Service]:
        """Remote services that are enabled (explicitly, or because a key exists)."""
        return [s for s in REMOTE_SERVICES if service_enabled(self.settings, s)]

    def usable_services(self) -> set[Service]:
        """Configured and not known to be down right now."""
        return set(self.configured_services()) - self.unhealthy

    def integration(self, service: Service) -> Integration:
        """The integration of ``service``, built on first use."""
        with self._lock:
            existing = self._integrations.get(service)
            if existing is not None:
                return existing
            from pmtui.integrations import build_integration

            if service is not Service.LOCAL and service not in self.configured_services():
                raise NotConfiguredError(
                    f"{service.label} is not configured",
                    service=service.value,
                    hint="`pmtui doctor` shows how to configure it",
                )
            built = build_integration(service, self.settings, lookup=self.store.get_task)
            limiter = getattr(built, "limiter", None)
            if limiter is not None:  # a throttled service beyond the cap is reported, not slept through
                limiter.max_wait = self.settings.sync.max_retry_after_seconds
            self._integrations[service] = built
            return built

    # ------------------------------------------------------------------------------------- plans

    def route(self, action: Action) -> RouteDecision | None:
        """Where a create (or link/move) goes and why; other actions act where the task already lives."""
        if isinstance(action, CreateTask | CreateProject):
            return determine_primary_integration(
                facts_for(action),
                rules=self.settings.routing.rules,
                usable=self.usable_services(),
                fallback=self.settings.routing.fallback,
                explicit=action.service,
            )
        if isinstance(action, Link | MoveTask):
            usable = self.usable_services()
            if action.to in usable:
                return RouteDecision(action.to, f"asked for {action.to.label}")
            return RouteDecision(
                Service.LOCAL, f"{action.to.label} is not available now", queued_for=action.to
            )
        return None

    def route_plan(self, plan: Plan) -> dict[str, RouteDecision]:
        """Route every action and log each choice in the decision log."""
        routes: dict[str, RouteDecision] = {}
        for action in plan.actions:
            decision = self.route(action)
            if decision is None:
                continue
            routes[action.ref] = decision
            self.store.log_decision(
                Decision(
                    request_id=plan.request_id,
                    kind="route",
                    action_ref=action.ref,
                    service=decision.service,
                    reason=decision.explanation,
                    detail={
                        "rule": decision.rule,
                        "queued_for": decision.queued_for and decision.queued_for.value,
                    },
                )
            )
        return routes

    def execute(self, plan: Plan, routes: dict[str, RouteDecision] | None = None) -> SagaOutcome:
        """Validate, then run a plan; validation problems raise before any remote call."""
        from pmtui.errors import PlanError

        routes = routes if routes is not None else self.route_plan(plan)
        problems = self.processor.validate(plan, routes)
        if problems:
            raise PlanError(
                f"the plan has {len(problems)} problem(s)",
                problems=problems,
                hint="fix the request and try again; nothing was changed",
            )
        self.emit("plan", f"running {len(plan.actions)} action(s)", request_id=plan.request_id)
        with user_lane():  # the person waits: every call of the plan goes before background sync reads
            outcome = self.processor.execute(plan, routes)
        self.emit("plan-done", "done" if outcome.ok else "failed", request_id=plan.request_id)
        return outcome

    def sync(
        self,
        services: list[Service] | None = None,
        *,
        on_progress: EventCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[SyncRun]:
        """Sync the given (default: every configured) services once, concurrently; one SyncRun each.

        Never raises for a service's failure (it is in the run's status and error). Setting ``cancel``
        stops every service at its next safe point; those runs end ``cancelled``.
        """
        from pmtui.core.sync import SyncEngine

        return SyncEngine(self, cancel=cancel).sync(services, on_progress=on_progress)

    def resolve_conflict(self, conflict_id: str, choice: str, value: Any = None) -> None:
        """Settle a conflict with the local, remote or a merged value, pushed to every side."""
        from pmtui.core.sync import SyncEngine

        with user_lane():
            SyncEngine(self).resolve_conflict(conflict_id, choice, value)  # type: ignore[arg-type]

    def refresh_comments(self, task_id: str) -> int:
        """Read one task's comments on every service holding it and carry the new ones; returns the count.

        For the task in view: a sync reads comments only of tasks whose remote changed, and not every
        service marks a task changed when someone comments on it.
        """
        from pmtui.core.comments import CommentSync

        with user_lane():  # the task is in view: its reads go before a background scan's pages
            return CommentSync(self).refresh(task_id)

    def recover(self) -> list[str]:
        """Settle journal steps left pending by a crash, then report requests a crash interrupted
        (run at start of the app and of `pmtui do`, and by `pmtui sync`)."""
        lines = self.processor.recover() if self.journal.pending() else []
        return lines + self.requests.report()

    @property
    def requests(self) -> RequestLog:
        """Resume, undo and the interrupted-request report (:class:`pmtui.core.undo.RequestLog`)."""
        from pmtui.core.undo import RequestLog

        return RequestLog(self)
