"""Pure mapping between Motion's REST shapes and pmtui's canonical models (no I/O here).

Status (by the workspace's own status names; Motion lets each workspace define them):

=========================================  ===============  ==========================================
Motion status (read)                       canonical        Motion status (write)
=========================================  ===============  ==========================================
resolved, name contains "cancel"           ``canceled``     a resolved status named like "cancel"
                                                            (else the ``done`` one)
resolved, any other name (or               ``done``         the first resolved status not named
``completed``)                                              "cancel"
unresolved, name contains "progress"       ``in_progress``  the status whose name contains "progress"
                                                            (else the default)
any other unresolved status ("Todo",       ``todo``         the workspace's default status
"Blocked", ...)
=========================================  ===============  ==========================================

Lossy: unresolved statuses other than the default and "progress" ones (e.g. "Blocked") read as
``todo``; their name is kept in ``RemoteTask.extra["status_name"]``.

Priority: ``ASAP`` <-> ``urgent``, ``HIGH`` <-> ``high``, ``MEDIUM`` <-> ``medium``, ``LOW`` <-> ``low``.
Lossy: canonical ``none`` is written as ``MEDIUM`` (Motion's own default; it has no "no priority").

Other fields:

- ``title`` <-> ``name``; ``description`` <-> ``description`` (Markdown) with pmtui's idempotency marker
  (a trailing HTML comment) stripped on read and kept on write;
- ``due`` <-> ``dueDate`` (a date-time, so ``due_all_day`` reads False; an all-day due is written as its
  instant, 00:00 UTC of that day: lossy for ``due_all_day``);
- ``duration_minutes`` <-> ``duration`` (minutes); ``"NONE"`` and ``"REMINDER"`` read as None; a task
  created without one gets the configured default; clearing it writes ``"NONE"``;
- ``labels``: label names out, ``[{"name": ...}]`` objects in;
- ``assignee``: the first assignee's email (name, then id, when Motion shows no email); written as
  ``assigneeId`` resolved from the workspace members;
- ``scheduledStart``/``scheduledEnd`` -> ``scheduled_start``/``scheduled_end`` (read only: Motion's
  scheduler owns them); ``autoScheduled`` is written as ``{startDate: today, deadlineType: SOFT,
  schedule: "Work Hours"}`` when auto-scheduling is on and the task has a due date (Motion requires a
  ``dueDate`` for auto-scheduled tasks), otherwise ``null``;
- the Motion project is ``RemoteTask.project_external_id`` (``Task.project_id`` stays a local id, which
  only the engine knows); ``kind`` is always ``general``; Motion has no milestones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pmtui.integrations.base import (
    RemoteProject,
    RemoteTask,
    parse_remote_time,
    split_marker,
    with_marker,
)
from pmtui.models import (
    SYNCED_TASK_FIELDS,
    EntityType,
    ExternalRef,
    Priority,
    Project,
    ProjectStatus,
    Service,
    Status,
    Task,
    TaskKind,
)

APP_URL = "https://app.usemotion.com/web/pm/workspaces"
"""Motion's web app; tasks open as ``<workspace>?task=<id>`` (the form Motion's own links use)."""

PRIORITY_FROM_MOTION: dict[str, Priority] = {
    "ASAP": Priority.URGENT,
    "HIGH": Priority.HIGH,
    "MEDIUM": Priority.MEDIUM,
    "LOW": Priority.LOW,
}
PRIORITY_TO_MOTION: dict[Priority, str] = {
    Priority.URGENT: "ASAP",
    Priority.HIGH: "HIGH",
    Priority.MEDIUM: "MEDIUM",
    Priority.LOW: "LOW",
    Priority.NONE: "MEDIUM",  # lossy: Motion has no "no priority"; MEDIUM is its default
}
DURATION_WORDS = ("NONE", "REMINDER")
MAX_DURATION_MINUTES = 60 * 24 * 30
"""The longest duration a canonical task holds; a longer Motion duration reads as None."""
WORK_HOURS = "Work Hours"


# ------------------------------------------------------------------------------------------- statuses


@dataclass(frozen=True)
class MotionStatus:
    """One status of a workspace, as ``GET /v1/statuses`` lists it."""

    name: str
    is_default: bool = False
    is_resolved: bool = False


def parse_statuses(body: Any) -> list[MotionStatus]:
    """The statuses of a ``GET /v1/statuses`` answer: a bare array, or ``{"statuses": [...]}``.

    Each item is a status object, or one wrapped as ``{"status": {...}}``: Motion's reference shows the
    wrapped form for this endpoint and the bare form where a workspace embeds its statuses.
    """
    items = body.get("statuses", []) if isinstance(body, dict) else body
    items = [
        item["status"] if isinstance(item, dict) and isinstance(item.get("status"), dict) else item
        for item in items or []
    ]
    return [
        MotionStatus(
            name=str(item["name"]),
            is_default=bool(item.get("isDefaultStatus")),
            is_resolved=bool(item.get("isResolvedStatus")),
        )
        for item in items or []
        if isinstance(item, dict) and item.get("name")
    ]


def parse_workspaces(body: Any) -> list[dict[str, Any]]:
    """The workspaces of a ``GET /v1/workspaces`` answer: ``{meta, workspaces}`` or a bare array."""
    items = body.get("workspaces", []) if isinstance(body, dict) else body
    return [item for item in items or [] if isinstance(item, dict) and item.get("id")]


def status_from_motion(name: str, *, resolved: bool, completed: bool = False) -> Status:
    """The canonical status of a Motion status (see the module's table)."""
    lowered = name.lower()
    if resolved or completed:
        return Status.CANCELED if "cancel" in lowered else Status.DONE
    if "progress" in lowered:
        return Status.IN_PROGRESS
    return Status.TODO


def status_to_motion(status: Status, statuses: Sequence[MotionStatus]) -> str:
    """The workspace status name to write for a canonical status (see the module's table)."""
    if not statuses:
        raise ValueError("the workspace has no statuses")
    default = next((s for s in statuses if s.is_default), None) or next(
        (s for s in statuses if not s.is_resolved), statuses[0]
    )
    resolved = [s for s in statuses if s.is_resolved]
    done = next((s for s in resolved if "cancel" not in s.name.lower()), resolved[0] if resolved else None)
    if status is Status.TODO:
        return default.name
    if status is Status.IN_PROGRESS:
        progress = next((s for s in statuses if not s.is_resolved and "progress" in s.name.lower()), default)
        return progress.name
    if done is None:
        raise ValueError("the workspace has no resolved status to complete a task with")
    if status is Status.CANCELED:
        canceled = next((s for s in resolved if "cancel" in s.name.lower()), done)
        return canceled.name
    return done.name


# ---------------------------------------------------------------------------------------------- reads


def duration_from_motion(value: Any) -> int | None:
    """Minutes, or None for ``"NONE"``, ``"REMINDER"``, a missing or an out-of-range value."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_DURATION_MINUTES else None


def _assignee(raw: Mapping[str, Any]) -> str | None:
    for person in raw.get("assignees") or []:
        if isinstance(person, dict):
            return person.get("email") or person.get("name") or person.get("id")
    return None


def task_url(workspace_id: str | None, task_id: str) -> str | None:
    """The task in Motion's web app."""
    return f"{APP_URL}/{workspace_id}?task={task_id}" if workspace_id else None


def workspace_of(raw: Mapping[str, Any]) -> str | None:
    """The workspace id of a task (``workspace.id``) or of a project (``workspaceId``)."""
    workspace = raw.get("workspace")
    if isinstance(workspace, dict) and workspace.get("id"):
        return str(workspace["id"])
    return str(raw["workspaceId"]) if raw.get("workspaceId") else None


def to_remote_task(raw: Mapping[str, Any]) -> RemoteTask:
    """A Motion task as a canonical :class:`RemoteTask` (marker stripped, status by its status object)."""
    description, key = split_marker(raw.get("description"))
    status_obj: Mapping[str, Any] = raw["status"] if isinstance(raw.get("status"), dict) else {}
    status_name = str(status_obj.get("name") or "")
    project: Mapping[str, Any] = raw["project"] if isinstance(raw.get("project"), dict) else {}
    project_id = project.get("id") or raw.get("projectId")
    workspace_id = workspace_of(raw)
    created = parse_remote_time(raw.get("createdTime"))
    updated = parse_remote_time(raw.get("updatedTime")) or created
    start = parse_remote_time(raw.get("scheduledStart"))
    end = parse_remote_time(raw.get("scheduledEnd"))
    if start and end and end < start:
        start, end = None, None
    fields: dict[str, Any] = {
        "title": str(raw.get("name") or "").strip() or "(untitled)",
        "description": description,
        "status": status_from_motion(
            status_name,
            resolved=bool(status_obj.get("isResolvedStatus")),
            completed=bool(raw.get("completed")),
        ),
        "priority": PRIORITY_FROM_MOTION.get(str(raw.get("priority")), Priority.MEDIUM),
        "due": parse_remote_time(raw.get("dueDate")),
        "due_all_day": False,
        "duration_minutes": duration_from_motion(raw.get("duration")),
        "labels": [
            str(label["name"]) if isinstance(label, dict) else str(label) for label in raw.get("labels") or []
        ],
        "kind": TaskKind.GENERAL,
        "assignee": _assignee(raw),
        "scheduled_start": start,
        "scheduled_end": end,
        "completed_at": parse_remote_time(raw.get("completedTime")),
    }
    if created:
        fields["created_at"] = created
    if updated:
        fields["updated_at"] = updated
    task = Task(**fields)
    ref = ExternalRef(
        entity_id=task.id,
        service=Service.MOTION,
        external_id=str(raw["id"]),
        url=task_url(workspace_id, str(raw["id"])),
        container=workspace_id,
        remote_updated_at=updated,
        idempotency_key=key,
    )
    extra = {
        "status_name": status_name,
        "completed": bool(raw.get("completed")),
        "scheduling_issue": bool(raw.get("schedulingIssue")),
        "deadline_type": raw.get("deadlineType"),
        "workspace_id": workspace_id,
    }
    return RemoteTask(
        ref=ref, task=task, project_external_id=str(project_id) if project_id else None, extra=extra
    )


def project_status_from_motion(status: Any) -> ProjectStatus:
    """Resolved projects are done (canceled when so named); every other status is active."""
    if not isinstance(status, dict):
        return ProjectStatus.ACTIVE
    name = str(status.get("name") or "")
    canonical = status_from_motion(name, resolved=bool(status.get("isResolvedStatus")))
    return {Status.DONE: ProjectStatus.DONE, Status.CANCELED: ProjectStatus.CANCELED}.get(
        canonical, ProjectStatus.ACTIVE
    )


def to_remote_project(raw: Mapping[str, Any]) -> RemoteProject:
    """A Motion project as a canonical :class:`RemoteProject`."""
    description, key = split_marker(raw.get("description"))
    workspace_id = workspace_of(raw)
    created = parse_remote_time(raw.get("createdTime"))
    updated = parse_remote_time(raw.get("updatedTime")) or created
    due = parse_remote_time(raw.get("dueDate"))
    fields: dict[str, Any] = {
        "name": str(raw.get("name") or "").strip() or "(untitled)",
        "description": description,
        "status": project_status_from_motion(raw.get("status")),
        "due": due.date() if due else None,
    }
    if created:
        fields["created_at"] = created
    if updated:
        fields["updated_at"] = updated
    project = Project(**fields)
    url = f"{APP_URL}/{workspace_id}/projects/{raw['id']}/views/default" if workspace_id else None
    ref = ExternalRef(
        entity=EntityType.PROJECT,
        entity_id=project.id,
        service=Service.MOTION,
        external_id=str(raw["id"]),
        url=url,
        container=workspace_id,
        remote_updated_at=updated,
        idempotency_key=key,
    )
    return RemoteProject(ref=ref, project=project)


# --------------------------------------------------------------------------------------------- writes


@dataclass(frozen=True)
class WriteOptions:
    """What a write needs besides the canonical fields: the workspace's facts and pmtui's settings."""

    statuses: Sequence[MotionStatus] = ()
    today: date | None = None
    auto_schedule: bool = True
    default_duration_minutes: int = 30
    idempotency_key: str | None = None
    """Kept as a marker at the end of the description (creates, and updates that set the description)."""
    users: Mapping[str, str] | None = None
    """Lower-cased email, name or id of each workspace member -> user id, to resolve ``assignee``."""


def task_fields(task: Task) -> dict[str, Any]:
    """The canonical fields of a whole task, as a create writes them."""
    return {name: getattr(task, name) for name in SYNCED_TASK_FIELDS}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _auto_scheduled(options: WriteOptions) -> dict[str, Any]:
    today = options.today or datetime.now(UTC).date()
    return {"startDate": today.isoformat(), "deadlineType": "SOFT", "schedule": WORK_HOURS}


def to_payload(
    fields: Mapping[str, Any],
    options: WriteOptions,
    *,
    creating: bool = False,
    workspace_id: str | None = None,
    project_external_id: str | None = None,
) -> dict[str, Any]:
    """Motion's write body (``POST``/``PATCH /v1/tasks``) for canonical ``fields``.

    On create every field is written (defaults included); on update only the fields present.
    Raises ``ValueError`` for an assignee that is not a member of the workspace.
    """
    body: dict[str, Any] = {}
    if creating and workspace_id:
        body["workspaceId"] = workspace_id
    if "title" in fields and fields["title"] is not None:
        body["name"] = str(fields["title"])
    if "description" in fields or (creating and options.idempotency_key):
        text = fields.get("description") or ""
        body["description"] = with_marker(text, options.idempotency_key) if options.idempotency_key else text
    if "status" in fields and fields["status"] is not None:
        body["status"] = status_to_motion(Status(fields["status"]), options.statuses)
    if "priority" in fields or creating:
        body["priority"] = PRIORITY_TO_MOTION[Priority(fields.get("priority") or Priority.NONE)]
    if "due" in fields or creating:
        due = fields.get("due")
        body["dueDate"] = _iso(due) if due is not None else None
        # Motion rejects an auto-scheduled task without a due date, so the two always move together.
        scheduled = due is not None and options.auto_schedule
        body["autoScheduled"] = _auto_scheduled(options) if scheduled else None
    if "duration_minutes" in fields or creating:
        minutes = fields.get("duration_minutes")
        if minutes is None:
            body["duration"] = options.default_duration_minutes if creating else "NONE"
        else:
            body["duration"] = int(minutes)
    if "labels" in fields and (fields["labels"] or not creating):
        body["labels"] = [str(label) for label in fields["labels"] or []]
    if "assignee" in fields and (fields["assignee"] is not None or not creating):
        body["assigneeId"] = _assignee_id(fields["assignee"], options.users)
    if project_external_id is not None:
        body["projectId"] = project_external_id
    elif not creating and "project_id" in fields and fields["project_id"] is None:
        body["projectId"] = None
    return body


def _assignee_id(assignee: str | None, users: Mapping[str, str] | None) -> str | None:
    if assignee is None:
        return None
    found = (users or {}).get(assignee.strip().lower())
    if found is None:
        raise ValueError(f"no member {assignee!r} in the Motion workspace")
    return found


def user_index(users: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Lower-cased email, name and id of each user -> id (the ``users`` of :class:`WriteOptions`)."""
    index: dict[str, str] = {}
    for user in users:
        user_id = user.get("id")
        if not user_id:
            continue
        for value in (user.get("name"), user.get("email"), user_id):
            if value:
                index.setdefault(str(value).strip().lower(), str(user_id))
    return index


def project_payload(project: Project, *, workspace_id: str, idempotency_key: str) -> dict[str, Any]:
    """Motion's ``POST /v1/projects`` body, the marker at the end of the description."""
    body: dict[str, Any] = {
        "name": project.name,
        "workspaceId": workspace_id,
        "description": with_marker(project.description, idempotency_key),
    }
    if project.due is not None:
        body["dueDate"] = _iso(datetime.combine(project.due, datetime.min.time(), tzinfo=UTC))
    return body


def comment_body(raw: Mapping[str, Any]) -> tuple[str, str | None]:
    """A Motion comment's text without its marker, and the marker's key."""
    text, key = split_marker(raw.get("content"))
    return (text or str(raw.get("content") or "")), key
