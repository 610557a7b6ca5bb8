"""The canonical vocabulary every layer of pmtui speaks: tasks, projects, references, actions, plans.

A raw service shape never leaves its integration module; only these models cross layer boundaries.
A leaf module: pydantic and the stdlib only, so ``integrations`` can use it without importing ``core``.

Times are always timezone-aware (UTC in storage): naive datetimes would raise the Delta mirror's table
protocol and silently shift "due today" across midnight, so validators reject them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

# The enumerations live in a pydantic-free leaf so the instant commands can use them (docs/performance.md);
# they are re-exported here, where every layer has always imported them from.
from pmtui.kinds import REMOTE_SERVICES as REMOTE_SERVICES
from pmtui.kinds import EntityType as EntityType
from pmtui.kinds import JournalState as JournalState
from pmtui.kinds import Priority as Priority
from pmtui.kinds import Service as Service
from pmtui.kinds import Status as Status


def _require_aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware (e.g. 2026-11-24T09:00:00+00:00)")
    return value.astimezone(UTC) if value is not None else None


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
"""A datetime that must carry a time zone; stored and compared in UTC."""


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh local id (UUID4 hex): also usable as an idempotency key a service keeps."""
    return uuid.uuid4().hex


class TaskKind(StrEnum):
    """What sort of work a task is; the router's default rules route by it."""

    ENGINEERING = "engineering"
    DOCUMENTATION = "documentation"
    CODE = "code"
    GENERAL = "general"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


# ---------------------------------------------------------------------------------------------- data


TITLE_MAX = 200_000
"""The longest title any service holds: Notion's title property, 100 rich-text items of 2,000 characters
(Linear and GitLab stop at 255, Motion sooner; a longer title is refused when pushed there, not read)."""


class Task(_Model):
    """One unit of work, wherever it lives; its homes on services are :class:`ExternalRef` rows.

    ``due`` is an instant; when ``due_all_day`` is true only its calendar date (in UTC) is meaningful,
    because services like Linear and GitLab keep a bare date that means "that day, wherever you are".
    """

    id: str = Field(default_factory=new_id)
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = ""
    status: Status = Status.TODO
    priority: Priority = Priority.NONE
    due: AwareDatetime | None = None
    due_all_day: bool = True
    duration_minutes: int | None = Field(default=None, gt=0, le=60 * 24 * 30)
    labels: list[str] = Field(default_factory=list)
    kind: TaskKind = TaskKind.GENERAL
    project_id: str | None = None
    milestone_id: str | None = None
    assignee: str | None = None
    scheduled_start: AwareDatetime | None = None
    scheduled_end: AwareDatetime | None = None
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)
    completed_at: AwareDatetime | None = None
    deleted: bool = False

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("title must not be blank")
        return stripped

    @field_validator("labels")
    @classmethod
    def _labels_clean(cls, value: list[str]) -> list[str]:
        seen: list[str] = []
        for label in value:
            name = label.strip()
            if name and name not in seen:
                seen.append(name)
        return seen

    @model_validator(mode="after")
    def _schedule_in_order(self) -> Task:
        if self.scheduled_start and self.scheduled_end and self.scheduled_end < self.scheduled_start:
            raise ValueError("scheduled_end is before scheduled_start")
        return self

    def due_day(self, tz: Any = UTC) -> date | None:
        """The calendar day the task is due in time zone ``tz`` (a ``tzinfo``)."""
        if self.due is None:
            return None
        if self.due_all_day:
            return self.due.astimezone(UTC).date()
        return self.due.astimezone(tz).date()


SYNCED_TASK_FIELDS: tuple[str, ...] = (
    "title",
    "description",
    "status",
    "priority",
    "due",
    "due_all_day",
    "duration_minutes",
    "labels",
    "project_id",
    "milestone_id",
    "assignee",
)
"""The fields the three-way merge compares; the rest are local bookkeeping."""


class ProjectStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DONE = "done"
    CANCELED = "canceled"


class Project(_Model):
    """A named group of tasks (a Linear project, a Motion project, a GitLab milestone, a Notion page)."""

    id: str = Field(default_factory=new_id)
    name: str = Field(min_length=1, max_length=500)
    description: str = ""
    status: ProjectStatus = ProjectStatus.ACTIVE
    start: date | None = None
    due: date | None = None
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)
    deleted: bool = False


class Milestone(_Model):
    """A dated checkpoint inside a project (Linear project milestone, GitLab milestone)."""

    id: str = Field(default_factory=new_id)
    project_id: str | None = None
    name: str = Field(min_length=1)
    start: date | None = None
    due: date | None = None
    closed: bool = False
    updated_at: AwareDatetime = Field(default_factory=utcnow)


class Comment(_Model):
    """A comment on a task; append-only, carried once to each service that holds the task."""

    id: str = Field(default_factory=new_id)
    task_id: str
    body: str = Field(min_length=1)
    author: str | None = None
    created_at: AwareDatetime = Field(default_factory=utcnow)


class ExternalRef(_Model):
    """Where a local entity lives on a service, and what both sides agreed on at the last sync.

    ``base`` is the canonical field snapshot of that agreement: the third side of the three-way merge.
    ``idempotency_key`` is the marker the service keeps, so a retry finds the object instead of
    creating it twice.
    """

    entity: EntityType = EntityType.TASK
    entity_id: str
    service: Service
    external_id: str
    key: str | None = None
    url: str | None = None
    container: str | None = None
    remote_updated_at: AwareDatetime | None = None
    base: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None
    synced_at: AwareDatetime | None = None
    origin: bool = False
    """The service the task came from (or was first created on); descriptions flow from it only."""


# ------------------------------------------------------------------------------------------- actions


class TaskChanges(_Model):
    """A partial update of a task: only the fields that are set change (``None`` clears where allowed)."""

    title: str | None = None
    description: str | None = None
    status: Status | None = None
    priority: Priority | None = None
    due: AwareDatetime | None = None
    due_all_day: bool | None = None
    duration_minutes: int | None = Field(default=None, gt=0)
    labels: list[str] | None = None
    project: str | None = None
    assignee: str | None = None
    clear: list[Literal["due", "duration_minutes", "project", "assignee", "description"]] = Field(
        default_factory=list
    )

    def is_empty(self) -> bool:
        return not self.clear and all(
            getattr(self, name) is None for name in type(self).model_fields if name != "clear"
        )


class _ActionBase(_Model):
    ref: str = Field(default_factory=lambda: new_id()[:8])
    """A plan-local name other actions use to depend on this one."""
    after: list[str] = Field(default_factory=list)
    """Refs of the actions that must succeed before this one runs."""
    service: Service | None = None
    """An explicit destination (``@linear`` in a request); ``None`` lets the router decide."""


class CreateProject(_ActionBase):
    """Create a project (in Motion, Linear, GitLab as a milestone, or Notion) that tasks can belong to."""

    type: Literal["create_project"] = "create_project"
    name: str = Field(min_length=1)
    description: str = ""
    due: date | None = None
    kind: TaskKind = TaskKind.GENERAL


class CreateTask(_ActionBase):
    """Create a task; the router picks its service unless ``service`` names one."""

    type: Literal["create_task"] = "create_task"
    title: str = Field(min_length=1)
    description: str = ""
    due: AwareDatetime | None = None
    due_all_day: bool = True
    priority: Priority = Priority.NONE
    labels: list[str] = Field(default_factory=list)
    kind: TaskKind | None = None
    duration_minutes: int | None = Field(default=None, gt=0)
    project: str | None = None
    """A project name, a local project id, or the ``ref`` of a create_project action in the same plan."""
    assignee: str | None = None


class UpdateTask(_ActionBase):
    """Change some fields of an existing task, on every service that holds it."""

    type: Literal["update_task"] = "update_task"
    task: str = Field(min_length=1)
    """How the user named the task: a local id, a service key like ``ENG-123``, or a title."""
    changes: TaskChanges


class CompleteTask(_ActionBase):
    """Mark a task done, on every service that holds it."""

    type: Literal["complete_task"] = "complete_task"
    task: str = Field(min_length=1)


class DeleteTask(_ActionBase):
    """Delete a task (archived or closed where the service keeps history)."""

    type: Literal["delete_task"] = "delete_task"
    task: str = Field(min_length=1)


class AddComment(_ActionBase):
    """Add a comment to a task, on the service that holds it."""

    type: Literal["add_comment"] = "add_comment"
    task: str = Field(min_length=1)
    body: str = Field(min_length=1)


class MoveTask(_ActionBase):
    """Move a task's home to another service (create there, then archive at the old home)."""

    type: Literal["move_task"] = "move_task"
    task: str = Field(min_length=1)
    to: Service


class Link(_ActionBase):
    """Hold an existing task on one more service too (e.g. schedule a Linear issue in Motion)."""

    type: Literal["link"] = "link"
    task: str = Field(min_length=1)
    to: Service
    due: AwareDatetime | None = None
    duration_minutes: int | None = Field(default=None, gt=0)


class Sync(_ActionBase):
    """Sync the given services (all configured ones when empty) now."""

    type: Literal["sync"] = "sync"
    services: list[Service] = Field(default_factory=list)
    """Empty means every enabled service."""


class Query(_ActionBase):
    """A read-only question ("what is overdue?"), answered from the local cache."""

    type: Literal["query"] = "query"
    question: Literal["overdue", "today", "upcoming", "conflicts", "search"] = "search"
    text: str = ""


Action = Annotated[
    CreateProject
    | CreateTask
    | UpdateTask
    | CompleteTask
    | DeleteTask
    | AddComment
    | MoveTask
    | Link
    | Sync
    | Query,
    Field(discriminator="type"),
]
"""One typed step of a plan; ``type`` tells which."""

ACTION_TYPES: tuple[type[BaseModel], ...] = (
    CreateProject,
    CreateTask,
    UpdateTask,
    CompleteTask,
    DeleteTask,
    AddComment,
    MoveTask,
    Link,
    Sync,
    Query,
)


class Choice(_Model):
    label: str
    value: str


class Question(_Model):
    """What the planner asks back instead of guessing ("which 'login' task?")."""

    text: str
    choices: list[Choice] = Field(default_factory=list)


class Plan(_Model):
    """What a planner made of a request: typed actions and the order they must respect."""

    request_id: str = Field(default_factory=new_id)
    text: str = ""
    actions: list[Action] = Field(default_factory=list)
    question: Question | None = None
    understood: str = ""
    """A one-line paraphrase of the request, shown before confirmation."""
    example: str | None = None
    """When nothing was understood: an example of a request that would work."""
    error: str | None = None
    """Why the request was refused, naming the part that could not be read (``due 31/02``, ``@jira``).

    A refused request plans nothing: guessing around an impossible date or an unknown service would
    put the task in the wrong place or keep the date in its title."""
    planner: str = "rules"

    @model_validator(mode="after")
    def _dependencies_known(self) -> Plan:
        refs = [a.ref for a in self.actions]
        if len(set(refs)) != len(refs):
            raise ValueError("two actions share a ref")
        known = set(refs)
        for action in self.actions:
            missing = [dep for dep in action.after if dep not in known]
            if missing:
                raise ValueError(f"action {action.ref} depends on unknown {', '.join(missing)}")
        return self

    def ordered(self) -> list[Action]:
        """The actions in an order that respects ``after`` (stable; raises on a cycle)."""
        done: set[str] = set()
        order: list[Action] = []
        pending = list(self.actions)
        while pending:
            ready = [a for a in pending if all(dep in done for dep in a.after)]
            if not ready:
                raise ValueError("the plan's dependencies form a cycle")
            for action in ready:
                order.append(action)
                done.add(action.ref)
            pending = [a for a in pending if a.ref not in done]
        return order


class ResultStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    COMPENSATED = "compensated"
    PLANNED = "planned"
    QUEUED = "queued"
    CONFLICT = "conflict"
    """Stored locally, but the service changed the same field: an open conflict, nothing overwritten."""


class ActionResult(_Model):
    """What happened to one action: where it went, the object it made, or why it failed."""

    ref: str
    type: str
    status: ResultStatus
    service: Service | None = None
    entity_id: str | None = None
    key: str | None = None
    url: str | None = None
    message: str = ""
    error: str | None = None
    hint: str | None = None


# ------------------------------------------------------------------------------------------ sync/log


class ConflictPolicy(StrEnum):
    ASK = "ask"
    PREFER_LOCAL = "prefer-local"
    PREFER_REMOTE = "prefer-remote"
    NEWEST = "newest"


class Conflict(_Model):
    """A field both sides changed differently since the last agreement; nothing is overwritten while open."""

    id: str = Field(default_factory=new_id)
    task_id: str
    service: Service
    field: str
    base: Any = None
    local: Any = None
    remote: Any = None
    created_at: AwareDatetime = Field(default_factory=utcnow)
    resolved_at: AwareDatetime | None = None
    resolution: Literal["local", "remote", "merged", "skipped"] | None = None
    resolved_value: Any = None


class SyncRun(_Model):
    """One service's part of one sync: what moved, what it cost, how it ended."""

    id: str = Field(default_factory=new_id)
    run_id: str
    service: Service
    started_at: AwareDatetime = Field(default_factory=utcnow)
    finished_at: AwareDatetime | None = None
    pulled: int = 0
    pushed: int = 0
    conflicts: int = 0
    requests: int = 0
    duration_ms: int = 0
    status: Literal["running", "ok", "failed", "skipped", "rate-limited", "cancelled"] = "running"
    error: str | None = None
    retry_at: AwareDatetime | None = None
    """When rate-limited: the service asked not to be called before this moment (the countdown's end)."""
    skipped: list[str] = Field(default_factory=list)
    """Remote objects left out because pmtui cannot represent them, each as ``id: reason``."""


class Decision(_Model):
    """One orchestration decision (route, retry, compensation, outcome), so "why?" has an answer."""

    id: str = Field(default_factory=new_id)
    at: AwareDatetime = Field(default_factory=utcnow)
    request_id: str
    kind: Literal["plan", "route", "retry", "compensate", "outcome", "recover", "sync"]
    action_ref: str | None = None
    task_id: str | None = None
    service: Service | None = None
    reason: str
    detail: dict[str, Any] = Field(default_factory=dict)


class JournalEntry(_Model):
    """A remote step written down before it is attempted, so a crash can be finished or undone."""

    id: str = Field(default_factory=new_id)
    request_id: str
    step: int = 0
    service: Service
    op: str
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    state: JournalState = JournalState.PENDING
    entity_id: str | None = None
    external_id: str | None = None
    attempts: int = 0
    error: str | None = None
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)
