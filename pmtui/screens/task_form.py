"""The new-task and edit-task form: validated fields, and where the router will send the task and why."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, ClassVar

from pydantic import ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from pmtui.models import CreateTask, Priority, Service, Task, TaskChanges
from pmtui.screens.base import Backend, EngineModal

PRIORITIES = [(p.value, p.value) for p in reversed(Priority)]


def parse_due(text: str, now: datetime, tz: tzinfo) -> tuple[datetime | None, bool] | str:
    """``(due, all_day)`` from what the user typed (empty: no due), or an error message."""
    from pmtui.core.agent.dates import parse_when

    if not text.strip():
        return None, True
    when = parse_when(text, now, tz)
    if when is None or when.span[1] - when.span[0] < len(text.strip()):
        return "due: try 2026-12-01, tomorrow, fri, fri 3pm, in 3 days"
    return when.at, when.all_day


def split_labels(text: str) -> list[str]:
    """``bug, ui #ops`` -> ``["bug", "ui", "ops"]``."""
    return [
        part.strip().lstrip("#") for part in text.replace("#", ",").split(",") if part.strip().lstrip("#")
    ]


def first_error(exc: ValidationError) -> str:
    """The first validation problem, as ``field: message``."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg"))


class TaskForm(EngineModal):
    """Create (returns a ``CreateTask``) or edit (returns ``TaskChanges``) a task; None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    class Routed(Message):
        """Where the task would go, and why."""

        def __init__(self, explanation: str) -> None:
            super().__init__()
            self.explanation = explanation

    def __init__(self, backend: Backend, *, task: Task | None = None, project: str | None = None) -> None:
        super().__init__(backend)
        self.editing_task = task
        self.project_name = project

    @property
    def editing(self) -> bool:
        return self.editing_task is not None

    def compose(self) -> ComposeResult:
        task = self.editing_task
        tz = self.backend.tz()
        due = ""
        if task is not None and task.due is not None:
            moment = task.due.astimezone(tz) if not task.due_all_day else task.due
            due = moment.strftime("%Y-%m-%d") if task.due_all_day else moment.strftime("%Y-%m-%d %H:%M")
        services = [("auto (router decides)", "auto")] + [
            (s.label, s.value) for s in [*self.backend.engine.configured_services(), Service.LOCAL]
        ]
        with Vertical(classes="modal-box form-box"):
            yield Static("Edit task" if self.editing else "New task", classes="modal-title")
            yield Label("Title")
            yield Input(value=task.title if task else "", placeholder="What needs doing", id="f-title")
            with Horizontal(classes="form-row"):
                with Vertical():
                    yield Label("Due")
                    yield Input(value=due, placeholder="fri, 2026-12-01, tomorrow 3pm", id="f-due")
                with Vertical():
                    yield Label("Priority")
                    yield Select(
                        PRIORITIES,
                        value=task.priority.value if task else Priority.NONE.value,
                        allow_blank=False,
                        id="f-priority",
                    )
            with Horizontal(classes="form-row"):
                with Vertical():
                    yield Label("Labels")
                    yield Input(
                        value=", ".join(task.labels) if task else "", placeholder="bug, docs", id="f-labels"
                    )
                with Vertical():
                    yield Label("Project")
                    yield Input(value=self.project_name or "", placeholder="project name", id="f-project")
            if not self.editing:
                yield Label("Service")
                yield Select(services, value="auto", allow_blank=False, id="f-service")
            yield Label("Description")
            yield Input(value=task.description if task else "", id="f-description")
            yield Static("", id="f-route", classes="form-route")
            yield Static("", id="f-error", classes="modal-error")
            yield Static("ctrl+s save · escape cancel · tab next field", classes="modal-note")

    def on_mount(self) -> None:
        self.query_one("#f-title", Input).focus()
        self._changed()

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Any = None) -> None:
        built = self._build()
        error = self.query_one("#f-error", Static)
        if isinstance(built, str):
            error.update(built if event is not None and self.query_one("#f-title", Input).value else "")
            return
        error.update("")
        if isinstance(built, CreateTask):
            self._route(built)

    @work(thread=True, exclusive=True, exit_on_error=False, group="route")
    def _route(self, action: CreateTask) -> None:
        decision = self.backend.engine.route(action)
        if decision is not None:
            self.post_message(self.Routed(decision.explanation))

    def on_task_form_routed(self, event: Routed) -> None:
        self.query_one("#f-route", Static).update(f"→ {event.explanation}")

    def _build(self) -> CreateTask | TaskChanges | str:
        title = self.query_one("#f-title", Input).value.strip()
        if not title:
            return "title: required"
        parsed = parse_due(self.query_one("#f-due", Input).value, self.backend.now(), self.backend.tz())
        if isinstance(parsed, str):
            return parsed
        due, all_day = parsed
        priority = Priority(str(self.query_one("#f-priority", Select).value))
        labels = split_labels(self.query_one("#f-labels", Input).value)
        project = self.query_one("#f-project", Input).value.strip() or None
        description = self.query_one("#f-description", Input).value
        try:
            if self.editing_task is None:
                service_value = str(self.query_one("#f-service", Select).value)
                return CreateTask(
                    title=title,
                    due=due,
                    due_all_day=all_day,
                    priority=priority,
                    labels=labels,
                    project=project,
                    description=description,
                    service=None if service_value == "auto" else Service(service_value),
                )
            return self._changes(title, due, all_day, priority, labels, project, description)
        except ValidationError as exc:
            return first_error(exc)

    def _changes(
        self,
        title: str,
        due: datetime | None,
        all_day: bool,
        priority: Priority,
        labels: list[str],
        project: str | None,
        description: str,
    ) -> TaskChanges:
        task = self.editing_task
        assert task is not None
        changes: dict[str, Any] = {}
        clear: list[str] = []
        if title != task.title:
            changes["title"] = title
        if due != task.due or (due is not None and all_day != task.due_all_day):
            if due is None:
                clear.append("due")
            else:
                changes["due"] = due
                changes["due_all_day"] = all_day
        if priority != task.priority:
            changes["priority"] = priority
        if labels != task.labels:
            changes["labels"] = labels
        if project != self.project_name:
            if project is None:
                clear.append("project")
            else:
                changes["project"] = project
        if description != task.description:
            if description:
                changes["description"] = description
            else:
                clear.append("description")
        return TaskChanges(**changes, clear=clear)

    def action_save(self) -> None:
        built = self._build()
        if isinstance(built, str):
            self.query_one("#f-error", Static).update(built)
            return
        if isinstance(built, TaskChanges) and built.is_empty():
            self.dismiss(None)
            return
        self.dismiss(built)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)
