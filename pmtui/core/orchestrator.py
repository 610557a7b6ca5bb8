"""AgentOrchestrator: request -> plan -> route -> validate -> execute -> a result people can read.

The agent's tools and every front end (``pmtui do``, the TUI's agent prompt) go through here, never to
a service directly. The result says what was done where (with links), what failed and why, and what
was rolled back; the LLM planner gets it back as its tool results (the feedback loop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pmtui.core.engine import Engine
from pmtui.core.processor import SagaOutcome
from pmtui.core.router import RouteDecision
from pmtui.errors import PlanError, PmtuiError
from pmtui.models import (
    Action,
    ActionResult,
    Decision,
    Plan,
    Query,
    ResultStatus,
    Service,
    Status,
    Sync,
    Task,
)

if TYPE_CHECKING:
    from pmtui.core.agent.context import Planner, PlannerContext

log = logging.getLogger("pmtui.orchestrator")

OrchestrationStatus = Literal[
    "planned", "done", "partial", "failed", "invalid", "question", "nothing", "refused"
]


@dataclass
class OrchestrationResult:
    """Everything a front end shows about one request, and what the LLM planner is told back."""

    plan: Plan
    routes: dict[str, RouteDecision] = field(default_factory=dict)
    status: OrchestrationStatus = "planned"
    problems: list[str] = field(default_factory=list)
    results: list[ActionResult] = field(default_factory=list)
    compensated: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Query refs -> the tasks that answer them (from the local cache)."""
    reply: str | None = None
    """The planner's own answer after it was told the results (the LLM planner's feedback loop)."""

    def plan_lines(self) -> list[str]:
        """One line per action: what, where, why."""
        lines = []
        for action in self.plan.ordered() if self.plan.actions else []:
            route = self.routes.get(action.ref)
            where = f" -> {route.explanation}" if route else ""
            lines.append(f"{action.type.replace('_', ' ')} {_what(action)}{where}")
        return lines

    def read_only(self) -> bool:
        """Whether the plan only reads the cache ("what is overdue?"): nothing to confirm."""
        return bool(self.plan.actions) and all(isinstance(action, Query) for action in self.plan.actions)

    def summary(self) -> str:
        """A short human report of the outcome, then the planner's reply when it gave one."""
        text = self._outcome_text()
        return f"{text}\n{self.reply}" if self.reply else text

    def _outcome_text(self) -> str:
        if self.status == "question" and self.plan.question:
            choices = "; ".join(c.label for c in self.plan.question.choices)
            return f"{self.plan.question.text} ({choices})"
        if self.status == "refused":
            example = f" Try: {self.plan.example}" if self.plan.example else ""
            return f"error: {self.plan.error}. Nothing was planned.{example}"
        if self.status == "nothing":
            example = f" Try: {self.plan.example}" if self.plan.example else ""
            understood = (
                f"Understood: {self.plan.understood}." if self.plan.understood else "Nothing understood."
            )
            return f"{understood}{example}"
        if self.status == "invalid":
            return "Not run, nothing changed:\n" + "\n".join(f"- {p}" for p in self.problems)
        lines = []
        for result in self.results:
            link = f" {result.url}" if result.url else ""
            key = f" [{result.key}]" if result.key else ""
            if result.status is ResultStatus.FAILED:
                lines.append(
                    f"failed: {result.message}: {result.error}"
                    + (f" (hint: {result.hint})" if result.hint else "")
                )
            else:
                lines.append(f"{result.status.value}: {result.message}{key}{link}")
        if self.compensated:
            lines.append("rolled back: " + "; ".join(self.compensated))
        if self.remaining:
            lines.append("still on the services (undo failed): " + "; ".join(self.remaining))
        return "\n".join(lines) if lines else self.status

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for `pmtui do --json` and the LLM feedback loop."""
        return {
            "request_id": self.plan.request_id,
            "status": self.status,
            "plan": self.plan.model_dump(mode="json"),
            "routes": {
                ref: {
                    "service": r.service.value,
                    "why": r.explanation,
                    "queued_for": r.queued_for.value if r.queued_for else None,
                }
                for ref, r in self.routes.items()
            },
            "problems": self.problems,
            "results": [r.model_dump(mode="json") for r in self.results],
            "compensated": self.compensated,
            "remaining": self.remaining,
            "answers": self.answers,
            "reply": self.reply,
        }


def _what(action: Action) -> str:
    for name in ("title", "name", "task", "question"):
        value = getattr(action, name, None)
        if value:
            return repr(value)
    return ""


class AgentOrchestrator:
    """Plans with the configured planner and runs plans through the engine."""

    def __init__(self, engine: Engine, planner: Planner) -> None:
        self.engine = engine
        self.planner = planner

    # --------------------------------------------------------------------------------- planning

    def context(self, now: datetime | None = None) -> PlannerContext:
        """What the planner may know: the time, the user's zone, the tasks, projects and services."""
        from pmtui.core.agent.context import PlannerContext, TaskHandle

        store = self.engine.store
        handles = []
        homes = {
            row[0]: row[1]
            for row in store._rows(
                "SELECT entity_id, arg_min(service, key IS NULL) FROM external_refs "
                "WHERE entity = 'task' GROUP BY entity_id"
            )
        }
        tasks = store.list_tasks(include_closed=False, limit=5000)
        names = store.handles_for([task.id for task in tasks])
        for task in tasks:
            service = homes.get(task.id)
            handles.append(
                TaskHandle(
                    id=task.id,
                    title=task.title,
                    key=names.get(task.id),
                    service=Service(service) if service else None,
                )
            )
        return PlannerContext(
            now=now or datetime.now(UTC),
            tz=self.engine.settings.tzinfo(),
            tasks=handles,
            projects=[p.name for p in store.list_projects()],
            services=self.engine.configured_services(),
        )

    def plan_request(self, text: str, *, now: datetime | None = None) -> OrchestrationResult:
        """Plan, route and validate a request without any remote call (a dry run)."""
        plan = self.planner.plan(text, self.context(now))
        plan.text = plan.text or text
        self.engine.store.log_decision(
            Decision(
                request_id=plan.request_id,
                kind="plan",
                reason=plan.understood or f"planned {len(plan.actions)} action(s)",
                detail={"text": text, "planner": plan.planner, "actions": len(plan.actions)},
            )
        )
        result = OrchestrationResult(plan=plan)
        if plan.error is not None:
            result.status = "refused"
            return result
        if plan.question is not None:
            result.status = "question"
            return result
        if not plan.actions:
            result.status = "nothing"
            return result
        result.routes = self.engine.route_plan(plan)
        result.problems = self.engine.processor.validate(plan, result.routes)
        if result.problems:
            result.status = "invalid"
        return result

    # -------------------------------------------------------------------------------- execution

    def process_user_request(
        self,
        text: str,
        *,
        confirm: Callable[[OrchestrationResult], bool] | None = None,
        now: datetime | None = None,
    ) -> OrchestrationResult:
        """The main entry: plan, route, validate, ask ``confirm`` (if given), execute, report."""
        result = self.plan_request(text, now=now)
        if result.status != "planned":
            return result
        if confirm is not None and not confirm(result):
            result.status = "planned"
            return result
        return self.run(result)

    def run(self, result: OrchestrationResult) -> OrchestrationResult:
        """Execute an already planned and validated request; a planner with `respond` hears how it went."""
        self._execute(result)
        respond = getattr(self.planner, "respond", None)
        if respond is not None and result.plan.planner == self.planner.name:
            try:
                result.reply = respond(result.plan.text, result.to_dict())
            except PmtuiError as exc:  # the actions already ran; their results still stand
                log.warning("the planner could not answer after the run: %s", exc)
        return result

    def _execute(self, result: OrchestrationResult) -> OrchestrationResult:
        plan = result.plan
        queries = [a for a in plan.actions if isinstance(a, Query)]
        syncs = [a for a in plan.actions if isinstance(a, Sync)]
        for query in queries:
            result.answers[query.ref] = [self._task_row(t) for t in self.answer_query(query)]
            result.results.append(
                ActionResult(
                    ref=query.ref,
                    type=query.type,
                    status=ResultStatus.DONE,
                    message=f"{len(result.answers[query.ref])} task(s) {query.question}",
                )
            )
        for sync in syncs:
            result.results.append(self._sync(sync))
        work = Plan(
            request_id=plan.request_id,
            text=plan.text,
            planner=plan.planner,
            actions=[a for a in plan.actions if not isinstance(a, Query | Sync)],
        )
        if work.actions:
            try:
                outcome = self.engine.execute(work, {k: v for k, v in result.routes.items()})
            except PlanError as exc:
                result.status = "invalid"
                result.problems = exc.problems
                return result
            self._absorb(result, outcome)
        else:
            result.status = "done"
        return result

    def _absorb(self, result: OrchestrationResult, outcome: SagaOutcome) -> None:
        self._name_tasks(result.plan, outcome.results)
        result.results.extend(outcome.results)
        for done in outcome.results:
            if done.type == "create_task" and done.status is ResultStatus.DONE and done.entity_id:
                self.engine.store.attach_decisions(result.plan.request_id, done.ref, done.entity_id)
        result.compensated = outcome.compensated
        result.remaining = outcome.remaining
        if outcome.ok:
            result.status = "done"
        elif any(r.status is ResultStatus.DONE for r in outcome.results) and not outcome.compensated:
            result.status = "partial"
        else:
            result.status = "failed"

    def _name_tasks(self, plan: Plan, results: list[ActionResult]) -> None:
        """Name tasks in result messages as people know them (``M-12 'Title'``), never by internal id.

        Actions from the app carry the task's id; a failure message built from the action would
        otherwise read ``'9dbab5c3…' failed``.
        """
        store = self.engine.store
        ids = {str(task) for action in plan.actions if (task := getattr(action, "task", None))}
        known = store.tasks_by_ids(sorted(ids))
        if not known:
            return
        handles = store.handles_for(sorted(known))
        names = {
            repr(task_id): f"{handles[task_id]} {task.title!r}" if task_id in handles else repr(task.title)
            for task_id, task in known.items()
        }
        for item in results:
            for raw, name in names.items():
                item.message = item.message.replace(raw, name)
                if item.error:
                    item.error = item.error.replace(raw, name)

    def execute_action(self, action: Action) -> ActionResult:
        """Run one action from the UI (a key press), routed and journaled like any plan."""
        plan = Plan(actions=[action], text=f"{action.type} (from the app)")
        result = OrchestrationResult(plan=plan, routes=self.engine.route_plan(plan))
        result.problems = self.engine.processor.validate(plan, result.routes)
        if result.problems:
            return ActionResult(
                ref=action.ref,
                type=action.type,
                status=ResultStatus.FAILED,
                error="; ".join(result.problems),
                message="not run",
            )
        return self.run(result).results[0]

    def override_route(self, result: OrchestrationResult, service: Service) -> OrchestrationResult:
        """Send every create in a planned request to ``service`` instead (the user overrides the router)."""
        from pmtui.models import CreateProject, CreateTask

        for action in result.plan.actions:
            if isinstance(action, CreateTask | CreateProject):
                action.service = service
        result.routes = self.engine.route_plan(result.plan)
        result.problems = self.engine.processor.validate(result.plan, result.routes)
        result.status = "invalid" if result.problems else "planned"
        return result

    def handle_cross_integration_sync(self, services: list[Service] | None = None) -> list[Any]:
        """Sync (pull, merge, push, cross-service propagation): delegates to the sync engine."""
        return self.engine.sync(services)

    def resolve_conflicts(self, conflict_id: str, choice: str, value: Any = None) -> None:
        """Settle one conflict and push the result everywhere: delegates to the sync engine."""
        self.engine.resolve_conflict(conflict_id, choice, value)

    def route_to_integration(self, action: Action) -> RouteDecision | None:
        """Where an action would go and why, without running it."""
        return self.engine.route(action)

    # ------------------------------------------------------------------------------------ reads

    def answer_query(self, query: Query, *, now: datetime | None = None) -> list[Task]:
        """Answer a read-only question from the local cache."""
        store = self.engine.store
        now = now or datetime.now(UTC)
        tz = self.engine.settings.tzinfo()
        today = now.astimezone(tz).date()
        open_tasks = store.list_tasks(include_closed=False, limit=5000)
        if query.question == "overdue":
            return [
                t
                for t in open_tasks
                if t.due is not None and ((t.due_day(tz) or today) < today if t.due_all_day else t.due < now)
            ]
        if query.question == "today":
            return [t for t in open_tasks if t.due_day(tz) == today]
        if query.question == "upcoming":
            end = today + timedelta(days=7)
            return [t for t in open_tasks if (day := t.due_day(tz)) is not None and today < day <= end]
        if query.question == "conflicts":
            ids = {c.task_id for c in store.conflicts()}
            return [t for t in (store.get_task(i) for i in ids) if t is not None]
        return store.find_tasks(query.text, limit=50) if query.text else []

    def _task_row(self, task: Task) -> dict[str, Any]:
        refs = self.engine.store.refs_for(task.id)
        ref = refs[0] if refs else None
        return {
            "id": task.id,
            "title": task.title,
            "status": task.status.value,
            "due": task.due.isoformat() if task.due else None,
            "key": ref.key if ref else None,
            "url": ref.url if ref else None,
            "service": ref.service.value if ref else Service.LOCAL.value,
            "done": task.status in (Status.DONE, Status.CANCELED),
        }

    def _sync(self, action: Sync) -> ActionResult:
        report = self.engine.sync(action.services or None)
        return ActionResult(ref=action.ref, type=action.type, status=ResultStatus.DONE, message=str(report))
