"""Linear issues <-> canonical tasks: pure functions of plain data, tested by tables.

Status (by the workflow state's ``type``; the state's own name is free text a team chooses):

============================  ===========  ====================================================
Linear state type             canonical    written as (first state of the team, by position)
============================  ===========  ====================================================
triage, backlog, unstarted    todo         unstarted
started                       in_progress  started
completed                     done         completed
canceled, duplicate           canceled     canceled
============================  ===========  ====================================================

Priority (Linear's ``priority`` number, both ways): 0 none, 1 urgent, 2 high, 3 medium, 4 low.

Other fields: ``dueDate`` (``YYYY-MM-DD``) <-> ``due`` at 00:00 UTC with ``due_all_day=True`` (a timed
due is written as its UTC date: Linear has no due times); ``labelIds`` <-> label names (through the
cached label map the integration keeps); ``assignee`` <-> the user's ``displayName`` (matched on
display name, name or email when writing); ``project`` <-> ``project_external_id``; ``projectMilestone``
-> ``milestone_external_id`` (read only: pmtui never moves an issue between milestones); ``kind`` is always
engineering; ``estimate`` is not canonical and travels in ``RemoteTask.extra``. An archived or trashed
issue is ``deleted=True``.

Project milestones (:func:`to_remote_milestones`) have a ``targetDate`` but no start, and "at risk" needs
one (a straight line from start to due). The start is derived, in this order: the target date of the
milestone before it in the same project (by target date: work towards this one starts when the previous
one is due), else the project's ``startDate``, else the day the milestone was created.

Idempotency: Linear accepts a client-chosen ``id`` on creates, so pmtui's 32-hex key *is* the issue's
id, formatted as a UUID (:func:`key_to_uuid`); the issue found by that id is the one the key created.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from pmtui.integrations.base import (
    RemoteComment,
    RemoteMilestone,
    RemoteProject,
    RemoteTask,
    parse_remote_time,
    split_marker,
)
from pmtui.models import (
    SYNCED_TASK_FIELDS,
    EntityType,
    ExternalRef,
    Milestone,
    Priority,
    Project,
    ProjectStatus,
    Service,
    Status,
    Task,
    TaskKind,
)

Raw = Mapping[str, Any]

_KEY_NAMESPACE = uuid.UUID("6f1d3c1e-5b7a-4a59-9d0e-7f3c2b1a0e99")
"""Namespace for keys that are not 32 hex digits (never produced by pmtui itself; a safety net)."""

STATUS_BY_STATE_TYPE: dict[str, Status] = {
    "triage": Status.TODO,
    "backlog": Status.TODO,
    "unstarted": Status.TODO,
    "started": Status.IN_PROGRESS,
    "completed": Status.DONE,
    "canceled": Status.CANCELED,
    "duplicate": Status.CANCELED,
}
"""Linear workflow state type -> canonical status."""

STATE_TYPE_BY_STATUS: dict[Status, str] = {
    Status.TODO: "unstarted",
    Status.IN_PROGRESS: "started",
    Status.DONE: "completed",
    Status.CANCELED: "canceled",
}
"""Canonical status -> the state type written (the team's first state of that type, by position)."""

PRIORITY_FROM_LINEAR: dict[int, Priority] = {
    0: Priority.NONE,
    1: Priority.URGENT,
    2: Priority.HIGH,
    3: Priority.MEDIUM,
    4: Priority.LOW,
}
"""Linear ``priority`` -> canonical priority."""

PRIORITY_TO_LINEAR: dict[Priority, int] = {value: key for key, value in PRIORITY_FROM_LINEAR.items()}
"""Canonical priority -> Linear ``priority``."""

PROJECT_STATUS_BY_TYPE: dict[str, ProjectStatus] = {
    "backlog": ProjectStatus.PLANNED,
    "planned": ProjectStatus.PLANNED,
    "started": ProjectStatus.ACTIVE,
    "paused": ProjectStatus.ACTIVE,
    "completed": ProjectStatus.DONE,
    "canceled": ProjectStatus.CANCELED,
}
"""Linear project status type -> canonical project status (read only)."""


# ------------------------------------------------------------------------------------------- ids


def key_to_uuid(key: str) -> str:
    """The UUID pmtui gives the object it creates with ``key`` (a 32-hex key is the UUID itself)."""
    text = key.strip()
    try:
        return str(uuid.UUID(hex=text))
    except ValueError:
        return str(uuid.uuid5(_KEY_NAMESPACE, text))


def uuid_to_key(ident: str) -> str:
    """The 32-hex key a Linear UUID stands for (the inverse of :func:`key_to_uuid` for hex keys)."""
    try:
        return uuid.UUID(ident).hex
    except ValueError:
        return ident


# ------------------------------------------------------------------------------------- field tables


def status_from_state_type(state_type: str | None) -> Status:
    """The canonical status of a workflow state type (unknown types count as todo)."""
    return STATUS_BY_STATE_TYPE.get(str(state_type or "").lower(), Status.TODO)


def pick_state(states: Iterable[Raw], status: Status | str) -> str:
    """The id of the state a status is written as: the first (by position) of its type.

    Raises ``ValueError`` when the team has no state of that type.
    """
    wanted = STATE_TYPE_BY_STATUS[Status(status)]
    matching = sorted(
        (s for s in states if s.get("type") == wanted),
        key=lambda s: (float(s.get("position") or 0.0), str(s.get("name") or "")),
    )
    if not matching:
        raise ValueError(f"the team has no workflow state of type {wanted!r} for status {Status(status)}")
    return str(matching[0]["id"])


def priority_from_linear(value: Any) -> Priority:
    """Linear's 0-4 priority as canonical (anything unknown is none)."""
    try:
        return PRIORITY_FROM_LINEAR.get(int(value), Priority.NONE)
    except (TypeError, ValueError):
        return Priority.NONE


def priority_to_linear(priority: Priority | str) -> int:
    """Canonical priority as Linear's 0-4."""
    return PRIORITY_TO_LINEAR[Priority(priority)]


def due_from_linear(value: str | None) -> datetime | None:
    """``YYYY-MM-DD`` as midnight UTC (an all-day due), or None."""
    if not value:
        return None
    return datetime.combine(date.fromisoformat(str(value)[:10]), time(0, 0), tzinfo=UTC)


def due_to_linear(value: datetime | date | str | None) -> str | None:
    """A due instant (or date, or ISO text) as Linear's ``YYYY-MM-DD``: its calendar date in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = parse_remote_time(value) if "T" in value else None
        value = parsed if parsed is not None else date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).date().isoformat()
    return value.isoformat()


def _person(raw: Any) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    name = raw.get("displayName") or raw.get("name") or raw.get("email")
    return str(name) if name else None


def user_index(users: Iterable[Raw]) -> dict[str, str]:
    """Lower-cased display name, name and email -> user id, for writing ``assignee``."""
    index: dict[str, str] = {}
    for user in users:
        for field_name in ("email", "name", "displayName"):  # displayName last: it wins a clash
            value = user.get(field_name)
            if value and user.get("id"):
                index[str(value).strip().casefold()] = str(user["id"])
    return index


def label_names(labels: Iterable[Raw]) -> dict[str, str]:
    """Label id -> name, for reading ``labelIds``."""
    return {str(label["id"]): str(label["name"]) for label in labels if label.get("id") and label.get("name")}


def label_index(labels: Iterable[Raw], team_id: str) -> dict[str, str]:
    """Lower-cased name -> id of the labels an issue of ``team_id`` can carry (team labels win over
    workspace labels of the same name; groups cannot be applied and are left out)."""
    index: dict[str, str] = {}
    usable = [
        label
        for label in labels
        if not label.get("isGroup") and _label_team(label) in (None, team_id) and label.get("name")
    ]
    for label in sorted(usable, key=lambda x: _label_team(x) is not None):  # workspace first, team last
        index[str(label["name"]).strip().casefold()] = str(label["id"])
    return index


def _label_team(label: Raw) -> str | None:
    team = label.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    return None


# ------------------------------------------------------------------------------------------ reading


def to_remote_task(raw: Raw, *, labels: Mapping[str, str] | None = None) -> RemoteTask:
    """A Linear issue (as ``IssueFields`` selects it) as a canonical :class:`RemoteTask`.

    ``labels`` maps label ids to names; ids it does not know are left out of ``task.labels`` and listed
    in ``extra["unknown_label_ids"]`` (the integration refreshes its label map when it sees any).
    """
    labels = labels or {}
    state = raw.get("state") if isinstance(raw.get("state"), Mapping) else {}
    assert isinstance(state, Mapping)
    description, _marker = split_marker(raw.get("description"))
    created = parse_remote_time(raw.get("createdAt"))
    updated = parse_remote_time(raw.get("updatedAt")) or created
    status = status_from_state_type(state.get("type"))
    label_ids = [str(x) for x in raw.get("labelIds") or []]
    names = [labels[x] for x in label_ids if x in labels]
    completed = parse_remote_time(raw.get("completedAt")) or parse_remote_time(raw.get("canceledAt"))
    fields: dict[str, Any] = {
        "title": str(raw.get("title") or "").strip() or "(untitled)",
        "description": description,
        "status": status,
        "priority": priority_from_linear(raw.get("priority")),
        "due": due_from_linear(raw.get("dueDate")),
        "due_all_day": True,
        "labels": names,
        "kind": TaskKind.ENGINEERING,
        "assignee": _person(raw.get("assignee")),
        "completed_at": completed if status.is_closed else None,
        "deleted": bool(raw.get("archivedAt") or raw.get("trashed")),
    }
    if created:
        fields["created_at"] = created
    if updated:
        fields["updated_at"] = updated
    task = Task(**fields)
    team = raw.get("team") if isinstance(raw.get("team"), Mapping) else None
    project = raw.get("project") if isinstance(raw.get("project"), Mapping) else None
    milestone = raw.get("projectMilestone") if isinstance(raw.get("projectMilestone"), Mapping) else None
    ident = str(raw["id"])
    ref = ExternalRef(
        entity_id=task.id,
        service=Service.LINEAR,
        external_id=ident,
        key=str(raw["identifier"]) if raw.get("identifier") else None,
        url=raw.get("url"),
        container=str(team["key"]) if team and team.get("key") else None,
        remote_updated_at=updated,
        idempotency_key=uuid_to_key(ident),
    )
    extra: dict[str, Any] = {
        "estimate": raw.get("estimate"),
        "state": state.get("name"),
        "state_type": state.get("type"),
        "state_id": state.get("id"),
        "team_id": team.get("id") if team else None,
        "archived_at": raw.get("archivedAt"),
        "trashed": bool(raw.get("trashed")),
    }
    unknown = [x for x in label_ids if x not in labels]
    if unknown:
        extra["unknown_label_ids"] = unknown
    return RemoteTask(
        ref=ref,
        task=task,
        project_external_id=str(project["id"]) if project and project.get("id") else None,
        deleted=task.deleted,
        extra=extra,
        milestone_external_id=str(milestone["id"]) if milestone and milestone.get("id") else None,
    )


def unknown_label_ids(raws: Iterable[Raw], labels: Mapping[str, str]) -> set[str]:
    """Label ids on ``raws`` that ``labels`` cannot name (someone created a label since it was read)."""
    return {str(x) for raw in raws for x in raw.get("labelIds") or [] if str(x) not in labels}


def to_remote_project(raw: Raw) -> RemoteProject:
    """A Linear project (as ``ProjectFields`` selects it) as a canonical :class:`RemoteProject`."""
    status = raw.get("status") if isinstance(raw.get("status"), Mapping) else {}
    assert isinstance(status, Mapping)
    created = parse_remote_time(raw.get("createdAt"))
    updated = parse_remote_time(raw.get("updatedAt")) or created
    fields: dict[str, Any] = {
        "name": str(raw.get("name") or "").strip() or "(untitled)",
        "description": str(raw.get("description") or ""),
        "status": PROJECT_STATUS_BY_TYPE.get(str(status.get("type") or ""), ProjectStatus.ACTIVE),
        "start": date.fromisoformat(str(raw["startDate"])[:10]) if raw.get("startDate") else None,
        "due": date.fromisoformat(str(raw["targetDate"])[:10]) if raw.get("targetDate") else None,
        "deleted": bool(raw.get("archivedAt")),
    }
    if created:
        fields["created_at"] = created
    if updated:
        fields["updated_at"] = updated
    project = Project(**fields)
    ident = str(raw["id"])
    ref = ExternalRef(
        entity=EntityType.PROJECT,
        entity_id=project.id,
        service=Service.LINEAR,
        external_id=ident,
        key=str(raw["slugId"]) if raw.get("slugId") else None,
        url=raw.get("url"),
        remote_updated_at=updated,
        idempotency_key=uuid_to_key(ident),
    )
    return RemoteProject(ref=ref, project=project)


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def milestone_starts(raws: Iterable[Raw]) -> dict[str, date | None]:
    """Milestone id -> its derived start (see the module docstring for the rule and why).

    Within a project, milestones are ordered by target date (then ``sortOrder``); the start of one is the
    latest target date strictly before its own, else the project's ``startDate``, else its ``createdAt``
    day. A milestone without a target date gets the project's start (or its creation day): it has no line.
    """
    by_project: dict[str, list[Raw]] = {}
    for raw in raws:
        project = raw.get("project") if isinstance(raw.get("project"), Mapping) else {}
        assert isinstance(project, Mapping)
        by_project.setdefault(str(project.get("id") or ""), []).append(raw)
    starts: dict[str, date | None] = {}
    for siblings in by_project.values():
        targets = sorted({d for raw in siblings if (d := _date(raw.get("targetDate"))) is not None})
        for raw in siblings:
            project = raw.get("project") if isinstance(raw.get("project"), Mapping) else {}
            assert isinstance(project, Mapping)
            created = parse_remote_time(raw.get("createdAt"))
            fallback = _date(project.get("startDate")) or (created.date() if created else None)
            due = _date(raw.get("targetDate"))
            earlier = [d for d in targets if due is not None and d < due]
            starts[str(raw["id"])] = earlier[-1] if earlier else fallback
    return starts


def to_remote_milestones(raws: Iterable[Raw]) -> list[RemoteMilestone]:
    """Linear project milestones (as ``MilestoneFields`` selects them) as :class:`RemoteMilestone` s.

    All of a project's milestones must be passed together: each one's start depends on its siblings.
    Archived milestones are left out (the listing does not return them; this is a safety net).
    """
    live = [raw for raw in raws if raw.get("id") and not raw.get("archivedAt")]
    starts = milestone_starts(live)
    found = []
    for raw in live:
        ident = str(raw["id"])
        project = raw.get("project") if isinstance(raw.get("project"), Mapping) else {}
        assert isinstance(project, Mapping)
        updated = parse_remote_time(raw.get("updatedAt")) or parse_remote_time(raw.get("createdAt"))
        fields: dict[str, Any] = {
            "name": str(raw.get("name") or "").strip() or "(untitled)",
            "start": starts.get(ident),
            "due": _date(raw.get("targetDate")),
        }
        if updated:
            fields["updated_at"] = updated
        milestone = Milestone(**fields)
        ref = ExternalRef(
            entity=EntityType.MILESTONE,
            entity_id=milestone.id,
            service=Service.LINEAR,
            external_id=ident,
            remote_updated_at=updated,
        )
        project_id = str(project["id"]) if project.get("id") else None
        found.append(RemoteMilestone(ref=ref, milestone=milestone, project_external_id=project_id))
    return found


def to_comment(raw: Raw, task_external_id: str) -> RemoteComment | None:
    """A Linear comment as a canonical :class:`Comment`; None for an empty body.

    Its marker is the key its id stands for (pmtui creates comments with ``id`` = the key as a UUID).
    """
    text, key = split_marker(raw.get("body"))
    if not text.strip():
        return None
    fields: dict[str, Any] = {
        "id": str(raw["id"]),
        "task_id": task_external_id,
        "body": text,
        "author": _person(raw.get("user")),
        "idempotency_key": key or uuid_to_key(str(raw["id"])),
    }
    created = parse_remote_time(raw.get("createdAt"))
    if created:
        fields["created_at"] = created
    return RemoteComment(**fields)


# ------------------------------------------------------------------------------------------ writing


def task_fields(task: Task) -> dict[str, Any]:
    """The canonical fields of a whole task, as a create writes them."""
    return {name: getattr(task, name) for name in SYNCED_TASK_FIELDS}


def wanted_labels(fields: Mapping[str, Any]) -> list[str]:
    """The label names ``fields`` sets (cleaned as :class:`Task` cleans them), or [] if it sets none."""
    seen: list[str] = []
    for name in fields.get("labels") or []:
        clean = str(name).strip()
        if clean and clean.casefold() not in {s.casefold() for s in seen}:
            seen.append(clean)
    return seen


def to_payload(
    fields: Mapping[str, Any],
    *,
    states: Iterable[Raw] = (),
    labels: Mapping[str, str] | None = None,
    users: Mapping[str, str] | None = None,
    project_external_id: str | None = None,
    creating: bool = False,
    team_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Linear's ``IssueCreateInput`` (``creating``) or ``IssueUpdateInput`` for canonical ``fields``.

    ``states`` are the team's workflow states, ``labels`` lower-cased name -> id (every label in
    ``fields`` must be there: the integration creates missing ones first), ``users`` from
    :func:`user_index`. A create carries ``teamId`` and ``id`` = the key as a UUID. Updates carry only
    the fields present; ``None`` clears where Linear allows it. Raises ``ValueError`` for an unknown
    label or assignee, or a status the team has no state for.
    """
    body: dict[str, Any] = {}
    if creating:
        if team_id:
            body["teamId"] = team_id
        if idempotency_key:
            body["id"] = key_to_uuid(idempotency_key)
    if fields.get("title") is not None:
        body["title"] = str(fields["title"])
    if "description" in fields and (fields["description"] is not None or not creating):
        body["description"] = split_marker(fields["description"])[0] if fields["description"] else ""
    if fields.get("status") is not None:
        body["stateId"] = pick_state(states, fields["status"])
    if fields.get("priority") is not None:
        body["priority"] = priority_to_linear(fields["priority"])
    if "due" in fields and (fields["due"] is not None or not creating):
        body["dueDate"] = due_to_linear(fields["due"])
    if "labels" in fields and (fields["labels"] or not creating):
        index = labels or {}
        ids: list[str] = []
        for name in wanted_labels(fields):
            label_id = index.get(name.casefold())
            if label_id is None:
                raise ValueError(f"no Linear label named {name!r}")
            if label_id not in ids:
                ids.append(label_id)
        body["labelIds"] = ids
    if "assignee" in fields and (fields["assignee"] is not None or not creating):
        body["assigneeId"] = _assignee_id(fields["assignee"], users)
    if project_external_id is not None:
        body["projectId"] = project_external_id
    elif not creating and "project_id" in fields and fields["project_id"] is None:
        body["projectId"] = None
    return body


def _assignee_id(name: Any, users: Mapping[str, str] | None) -> str | None:
    if name is None or not str(name).strip():
        return None
    found = (users or {}).get(str(name).strip().casefold())
    if found is None:
        raise ValueError(f"no member of the Linear team is called {str(name).strip()!r}")
    return found


def project_payload(project: Project, *, team_id: str, idempotency_key: str) -> dict[str, Any]:
    """Linear's ``ProjectCreateInput``: the key as the project's id, in the configured team."""
    body: dict[str, Any] = {
        "id": key_to_uuid(idempotency_key),
        "name": project.name,
        "teamIds": [team_id],
    }
    if project.description:
        body["description"] = project.description
    if project.start:
        body["startDate"] = project.start.isoformat()
    if project.due:
        body["targetDate"] = project.due.isoformat()
    return body


def service_message(error: Raw) -> str:
    """Linear's own words for a GraphQL error: its message, and the user-facing text when it adds to it."""
    message = str(error.get("message") or "").strip()
    extensions = error.get("extensions") if isinstance(error.get("extensions"), Mapping) else {}
    assert isinstance(extensions, Mapping)
    friendly = str(extensions.get("userPresentableMessage") or "").strip()
    if friendly and friendly != message:
        return f"{message}: {friendly}" if message else friendly
    return message or friendly or "Linear refused the request"
