"""Pure mapping between GitLab REST v4 shapes and pmtui's canonical models (no I/O here).

GitLab Free has no status beyond ``opened``/``closed`` and no priority field, so both partly live in
labels. The board labels of the default "Development" board carry the in-progress stage, and scoped
``priority::`` labels carry the priority (on GitLab Free they are ordinary labels that merely look
scoped; pmtui keeps at most one of them on an issue).

Status:

===================================================  ===============  ========================================
GitLab issue (read)                                  canonical        write
===================================================  ===============  ========================================
``opened``, no in-progress label                     ``todo``         ``state_event=reopen`` if closed; remove
                                                                      "Doing", "In Progress", "Review"
``opened`` with "Doing", "In Progress" or "Review"   ``in_progress``  ``state_event=reopen`` if closed; add
(case-insensitive)                                                    "Doing", remove "To Do"
``closed``                                           ``done``         ``state_event=close``
(never read)                                         ``canceled``     ``state_event=close`` (lossy: reads back
                                                                      as ``done``; GitLab Free has no
                                                                      "won't do")
===================================================  ===============  ========================================

This table holds while no board is followed. With ``gitlab.board`` set, the board's lists decide
instead (:mod:`pmtui.integrations.gitlab_boards`): every function here that reads or writes status takes
that ``board``. Without one, "To Do" is never added: an open issue without a stage label reads as ``todo``.

Priority (scoped labels, read case-insensitively, written in lower case):

=======================  ============  ==========================================================
label                    canonical     write
=======================  ============  ==========================================================
``priority::urgent``     ``urgent``    add it, remove every other ``priority::`` label
``priority::high``       ``high``      same
``priority::medium``     ``medium``    same
``priority::low``        ``low``       same
(none)                   ``none``      remove every ``priority::`` label
=======================  ============  ==========================================================

If an issue carries several (possible on Free, where scoped labels are not exclusive), the most
pressing wins.

Other fields:

- ``title`` <-> ``title``; ``description`` <-> ``description`` (Markdown) with pmtui's idempotency marker
  (a trailing HTML comment, invisible when rendered) stripped on read and kept on write;
- ``due`` <-> ``due_date`` (``YYYY-MM-DD``): read as 00:00 UTC with ``due_all_day=True``; a due with a
  time of day is written as its UTC calendar date (lossy: the time);
- ``labels`` <-> every label except the ``priority::`` and stage labels above (GitLab returns labels
  sorted by name, so their order is not kept; canonical labels named like a reserved label are not
  written, since status and priority own those). Updates send ``add_labels``/``remove_labels`` computed
  from the issue's current labels, so a label someone else adds meanwhile survives;
- ``assignee`` <-> the first assignee's ``username`` (written as ``assignee_ids`` resolved by username);
- the milestone is ``RemoteTask.project_external_id`` as ``"milestone:<global id>"`` (``Task.project_id``
  stays a local id that only the engine knows); ``kind`` is always ``code``;
- ``weight`` is not canonical: it is kept in ``RemoteTask.extra["weight"]`` with the other GitLab facts
  (``iid``, ``id``, ``state``, ``stage_label``, ``milestone``, ``merge_requests_count``,
  ``user_notes_count``, ``author``, ``closed_by``). Related merge requests are fetched on demand only
  (:meth:`pmtui.integrations.gitlab.GitLabIntegration.related_merge_requests`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pmtui.integrations.base import (
    RemoteComment,
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

if TYPE_CHECKING:
    from pmtui.integrations.gitlab_boards import Board

PRIORITY_PREFIX = "priority::"
PRIORITY_LABELS: dict[Priority, str] = {
    Priority.URGENT: "priority::urgent",
    Priority.HIGH: "priority::high",
    Priority.MEDIUM: "priority::medium",
    Priority.LOW: "priority::low",
}
PRIORITY_FROM_LABEL: dict[str, Priority] = {label: priority for priority, label in PRIORITY_LABELS.items()}
TODO_LABEL = "To Do"
DOING_LABEL = "Doing"
IN_PROGRESS_LABELS: tuple[str, ...] = ("Doing", "In Progress", "Review")
"""Stage labels that make an open issue read as ``in_progress``."""
STAGE_LABELS: tuple[str, ...] = (TODO_LABEL, *IN_PROGRESS_LABELS)
"""Board stage labels: owned by the status mapping, never part of ``Task.labels``."""
MILESTONE_PREFIX = "milestone:"

_IN_PROGRESS_FOLDED = {name.casefold() for name in IN_PROGRESS_LABELS}
_STAGE_FOLDED = {name.casefold() for name in STAGE_LABELS}


# ------------------------------------------------------------------------------------------- labels


def is_priority_label(name: str) -> bool:
    """A ``priority::...`` label (any case)."""
    return name.casefold().startswith(PRIORITY_PREFIX)


def is_stage_label(name: str) -> bool:
    """One of the board stage labels ("To Do", "Doing", "In Progress", "Review"; any case)."""
    return name.casefold() in _STAGE_FOLDED


def is_reserved_label(name: str, board: Board | None = None) -> bool:
    """A label the status or priority mapping owns (with a board, its list labels too)."""
    on_board = board is not None and board.is_list_label(name)
    return is_priority_label(name) or is_stage_label(name) or on_board


def canonical_labels(labels: Iterable[str], board: Board | None = None) -> list[str]:
    """The labels that are ``Task.labels``: all but the priority, stage and board list labels."""
    return [name for name in labels if not is_reserved_label(name, board)]


def priority_from_labels(labels: Iterable[str]) -> Priority:
    """The most pressing ``priority::`` label, or ``none``."""
    found = [PRIORITY_FROM_LABEL.get(name.casefold(), Priority.NONE) for name in labels]
    return max(found, key=lambda p: p.rank, default=Priority.NONE)


def status_from_issue(state: str | None, labels: Iterable[str]) -> Status:
    """The canonical status of an issue's ``state`` and labels (see the module's table)."""
    if state == "closed":
        return Status.DONE
    if any(name.casefold() in _IN_PROGRESS_FOLDED for name in labels):
        return Status.IN_PROGRESS
    return Status.TODO


def stage_label(labels: Iterable[str]) -> str | None:
    """The stage label an issue carries (the first, by name), if any."""
    return next((name for name in sorted(labels) if is_stage_label(name)), None)


# -------------------------------------------------------------------------------------------- dates


def due_from_gitlab(value: Any) -> datetime | None:
    """``YYYY-MM-DD`` as 00:00 UTC of that day, or None."""
    if not value:
        return None
    day = date.fromisoformat(str(value)[:10])
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def due_to_gitlab(due: datetime | date | None) -> str | None:
    """The ``due_date`` to write: the UTC calendar date of ``due`` (a bare date as is), or None."""
    if due is None:
        return None
    if isinstance(due, datetime):
        moment = due if due.tzinfo else due.replace(tzinfo=UTC)
        return moment.astimezone(UTC).date().isoformat()
    return due.isoformat()


def format_time(moment: datetime) -> str:
    """An instant as GitLab-style ISO 8601 in UTC with a ``Z`` (microseconds kept)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------ reads


def milestone_external_id(milestone_id: Any) -> str:
    """The external id of a milestone as a pmtui project: ``milestone:<global id>``."""
    return f"{MILESTONE_PREFIX}{milestone_id}"


def milestone_id_of(external_id: str) -> int:
    """The global milestone id inside ``milestone:<id>`` (a bare number is accepted too)."""
    text = external_id.removeprefix(MILESTONE_PREFIX)
    if not text.isdigit():
        raise ValueError(f"{external_id!r} is not a GitLab milestone id (expected milestone:<id>)")
    return int(text)


def _username(value: Any) -> str | None:
    if isinstance(value, Mapping):
        name = value.get("username") or value.get("name")
        return str(name) if name else None
    return None


def to_remote_task(raw: Mapping[str, Any], board: Board | None = None) -> RemoteTask:
    """A GitLab issue as a canonical :class:`RemoteTask` (marker stripped, status and priority by label).

    With a followed ``board`` the status is its list's (and ``extra["board_list"]`` names the list).
    """
    labels = [str(name) for name in raw.get("labels") or [] if isinstance(name, str)]
    description, key = split_marker(raw.get("description"))
    created = parse_remote_time(raw.get("created_at"))
    updated = parse_remote_time(raw.get("updated_at")) or created
    assignees = [a for a in raw.get("assignees") or [] if isinstance(a, Mapping)]
    assignee = _username(assignees[0]) if assignees else _username(raw.get("assignee"))
    state = str(raw.get("state") or "opened")
    fields: dict[str, Any] = {
        "title": str(raw.get("title") or "").strip() or "(untitled)",
        "description": description,
        "status": board.status_of(state, labels) if board else status_from_issue(state, labels),
        "priority": priority_from_labels(labels),
        "due": due_from_gitlab(raw.get("due_date")),
        "due_all_day": True,
        "labels": canonical_labels(labels, board),
        "kind": TaskKind.CODE,
        "assignee": assignee,
        "completed_at": parse_remote_time(raw.get("closed_at")) if state == "closed" else None,
    }
    if created:
        fields["created_at"] = created
    if updated:
        fields["updated_at"] = updated
    task = Task(**fields)
    iid = raw["iid"]
    references: Mapping[str, Any] = raw["references"] if isinstance(raw.get("references"), Mapping) else {}
    milestone = raw.get("milestone") if isinstance(raw.get("milestone"), Mapping) else None
    project_id = raw.get("project_id")
    ref = ExternalRef(
        entity_id=task.id,
        service=Service.GITLAB,
        external_id=str(iid),
        key=str(references.get("full") or f"#{iid}"),
        url=raw.get("web_url"),
        container=str(project_id) if project_id is not None else None,
        remote_updated_at=updated,
        idempotency_key=key,
    )
    extra: dict[str, Any] = {
        "iid": iid,
        "id": raw.get("id"),
        "state": state,
        "weight": raw.get("weight"),
        "stage_label": stage_label(labels),
        "milestone": milestone.get("title") if milestone else None,
        "merge_requests_count": raw.get("merge_requests_count"),
        "user_notes_count": raw.get("user_notes_count"),
        "author": _username(raw.get("author")),
        "closed_by": _username(raw.get("closed_by")),
    }
    if board is not None:
        found = board.list_of(labels)
        extra["board_list"] = found.label if found else None
    return RemoteTask(
        ref=ref,
        task=task,
        project_external_id=milestone_external_id(milestone["id"]) if milestone else None,
        deleted=False,  # closed is done, not deleted; GitLab's hard delete leaves nothing to list
        extra=extra,
    )


def to_remote_project(raw: Mapping[str, Any]) -> RemoteProject:
    """A GitLab milestone as a canonical :class:`RemoteProject` (closed -> done)."""
    description, key = split_marker(raw.get("description"))
    created = parse_remote_time(raw.get("created_at"))
    updated = parse_remote_time(raw.get("updated_at")) or created
    fields: dict[str, Any] = {
        "name": str(raw.get("title") or "").strip() or "(untitled)",
        "description": description,
        "status": ProjectStatus.DONE if raw.get("state") == "closed" else ProjectStatus.ACTIVE,
        "start": date.fromisoformat(str(raw["start_date"])[:10]) if raw.get("start_date") else None,
        "due": date.fromisoformat(str(raw["due_date"])[:10]) if raw.get("due_date") else None,
    }
    if created:
        fields["created_at"] = created
    if updated:
        fields["updated_at"] = updated
    project = Project(**fields)
    project_id = raw.get("project_id")
    ref = ExternalRef(
        entity=EntityType.PROJECT,
        entity_id=project.id,
        service=Service.GITLAB,
        external_id=milestone_external_id(raw["id"]),
        key=str(raw["title"]) if raw.get("title") else None,
        url=raw.get("web_url"),
        container=str(project_id) if project_id is not None else None,
        remote_updated_at=updated,
        idempotency_key=key,
    )
    return RemoteProject(ref=ref, project=project)


def comment_body(raw: Mapping[str, Any]) -> tuple[str, str | None]:
    """A note's text without pmtui's marker, and the marker's key."""
    text, key = split_marker(raw.get("body"))
    return text, key


def to_comment(raw: Mapping[str, Any], task_external_id: str) -> RemoteComment | None:
    """A user note as a canonical :class:`Comment`; None for system notes and empty bodies."""
    if raw.get("system"):
        return None
    text, key = comment_body(raw)
    if not text.strip():
        return None
    fields: dict[str, Any] = {
        "id": str(raw["id"]),
        "task_id": task_external_id,
        "body": text,
        "author": _username(raw.get("author")),
        "idempotency_key": key,
    }
    created = parse_remote_time(raw.get("created_at"))
    if created:
        fields["created_at"] = created
    return RemoteComment(**fields)


def merge_request_summary(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The plain facts the UI shows about a related merge request (``pipeline`` is its status or None)."""
    pipeline = raw.get("head_pipeline") or raw.get("pipeline")
    return {
        "iid": raw.get("iid"),
        "title": raw.get("title"),
        "state": raw.get("state"),
        "draft": bool(raw.get("draft") or raw.get("work_in_progress")),
        "web_url": raw.get("web_url"),
        "pipeline": pipeline.get("status") if isinstance(pipeline, Mapping) else None,
    }


# ----------------------------------------------------------------------------------------- writes


def task_fields(task: Task) -> dict[str, Any]:
    """The canonical fields of a whole task, as a create writes them."""
    return {name: getattr(task, name) for name in SYNCED_TASK_FIELDS}


def _matching(current: Sequence[str], wanted: Iterable[str]) -> list[str]:
    """The names of ``current`` equal (any case) to one of ``wanted``, plus ``wanted`` itself."""
    folded = {name.casefold() for name in wanted}
    found = [name for name in current if name.casefold() in folded]
    return list(dict.fromkeys([*found, *wanted]))


def label_changes(
    fields: Mapping[str, Any], current_labels: Sequence[str] | None, board: Board | None = None
) -> tuple[list[str], list[str]]:
    """``(add, remove)`` label names for an update of ``status``/``priority``/``labels`` in ``fields``.

    ``current_labels`` is needed when ``labels`` changes (to diff against it); for status and priority
    alone it only helps remove differently-cased variants. Raises ``ValueError`` when it is needed.
    With a ``board``, a status change moves the issue between the board's lists instead.
    """
    current = list(current_labels or [])
    add: list[str] = []
    remove: list[str] = []
    if board is not None and "status" in fields and fields["status"] is not None:
        add, remove = board.status_changes(Status(fields["status"]), current_labels)
    elif "status" in fields and fields["status"] is not None:
        status = Status(fields["status"])
        if status is Status.IN_PROGRESS:
            if status_from_issue("opened", current) is not Status.IN_PROGRESS or not current_labels:
                add.append(DOING_LABEL)
            remove.extend(_matching(current, [TODO_LABEL]))
        elif status is Status.TODO:
            remove.extend(_matching(current, IN_PROGRESS_LABELS))
    if "priority" in fields:
        priority = Priority(fields["priority"] or Priority.NONE)
        target = PRIORITY_LABELS.get(priority)
        others = [label for label in PRIORITY_LABELS.values() if label != target]
        others += [name for name in current if is_priority_label(name) and name != target]
        remove.extend(_matching(current, others))
        if target is not None:
            add.append(target)
    if "labels" in fields:
        if current_labels is None:
            raise ValueError("changing labels needs the issue's current labels")
        wanted = [str(name).strip() for name in fields["labels"] or []]
        wanted = canonical_labels((name for name in wanted if name), board)
        have = canonical_labels(current, board)
        add.extend(name for name in wanted if name not in have)
        remove.extend(name for name in have if name not in wanted)
    add = list(dict.fromkeys(add))
    remove = [name for name in dict.fromkeys(remove) if name not in add]
    return add, remove


def create_labels(fields: Mapping[str, Any], board: Board | None = None) -> list[str]:
    """The full label list of a new issue: canonical labels, its priority and its stage (or board list)."""
    labels = canonical_labels(
        (str(name).strip() for name in fields.get("labels") or [] if str(name).strip()), board
    )
    priority = PRIORITY_LABELS.get(Priority(fields.get("priority") or Priority.NONE))
    if priority:
        labels.append(priority)
    if board is not None:
        stage = board.create_label(Status(fields.get("status") or Status.TODO))
        if stage:
            labels.append(stage)
    elif fields.get("status") is not None and Status(fields["status"]) is Status.IN_PROGRESS:
        labels.append(DOING_LABEL)
    return list(dict.fromkeys(labels))


def _assignee_ids(assignee: str | None, user_ids: Mapping[str, int] | None) -> list[int]:
    if assignee is None:
        return [0]  # "0 or an empty value unassigns everyone" (GitLab issues API, edit)
    found = (user_ids or {}).get(assignee.strip().casefold())
    if found is None:
        raise ValueError(f"no GitLab user {assignee!r}")
    return [found]


def to_payload(
    fields: Mapping[str, Any],
    *,
    creating: bool = False,
    current_labels: Sequence[str] | None = None,
    current_state: str | None = None,
    idempotency_key: str | None = None,
    user_ids: Mapping[str, int] | None = None,
    project_external_id: str | None = None,
    board: Board | None = None,
) -> dict[str, Any]:
    """GitLab's write body (``POST``/``PUT /projects/:id/issues``) for canonical ``fields``.

    A create cannot set the state (GitLab opens every new issue), so a closed status is left to a
    follow-up ``state_event=close`` (:func:`needs_close`). Updates carry only the fields present, and
    labels as ``add_labels``/``remove_labels``. ``idempotency_key`` keeps the marker on a description.
    Raises ``ValueError`` for an unknown assignee, a bad milestone id, or labels without
    ``current_labels``. A followed ``board`` maps status to its lists (one edit moves the card).
    """
    body: dict[str, Any] = {}
    if "title" in fields and fields["title"] is not None:
        body["title"] = str(fields["title"])
    if "description" in fields or (creating and idempotency_key):
        text = fields.get("description") or ""
        body["description"] = with_marker(text, idempotency_key) if idempotency_key else text
    if creating:
        labels = create_labels(fields, board)
        if labels:
            body["labels"] = labels
    else:
        add, remove = label_changes(fields, current_labels, board)
        if add:
            body["add_labels"] = ",".join(add)
        if remove:
            body["remove_labels"] = ",".join(remove)
        if "status" in fields and fields["status"] is not None:
            closed = Status(fields["status"]).is_closed
            wanted_state = "closed" if closed else "opened"
            if current_state != wanted_state:
                body["state_event"] = "close" if closed else "reopen"
    if "due" in fields and (fields["due"] is not None or not creating):
        body["due_date"] = due_to_gitlab(fields["due"])
    if "assignee" in fields and (fields["assignee"] is not None or not creating):
        body["assignee_ids"] = _assignee_ids(fields["assignee"], user_ids)
    if project_external_id is not None:
        body["milestone_id"] = milestone_id_of(project_external_id)
    elif not creating and "project_id" in fields and fields["project_id"] is None:
        body["milestone_id"] = 0  # "0 or an empty value unsets the milestone"
    return body


def needs_close(fields: Mapping[str, Any]) -> bool:
    """Whether a new issue must be closed after its create (its status is done or canceled)."""
    status = fields.get("status")
    return status is not None and Status(status).is_closed


def milestone_payload(project: Project, *, idempotency_key: str) -> dict[str, Any]:
    """GitLab's ``POST /projects/:id/milestones`` body, the marker at the end of the description."""
    body: dict[str, Any] = {
        "title": project.name,
        "description": with_marker(project.description, idempotency_key),
    }
    if project.start is not None:
        body["start_date"] = project.start.isoformat()
    if project.due is not None:
        body["due_date"] = project.due.isoformat()
    return body


def service_message(message: Any) -> str:
    """GitLab's error ``message``/``error`` as one line: Grape strings, or ``{"field": ["msg"]}``."""
    if isinstance(message, bytes):
        message = message.decode(errors="replace")
    if isinstance(message, Mapping):
        parts = []
        for name, value in message.items():
            items = value if isinstance(value, list) else [value]
            parts.append(
                f"{name} {', '.join(str(v) for v in items)}"
                if name != "base"
                else ", ".join(str(v) for v in items)
            )
        return "; ".join(parts) or "no message"
    if isinstance(message, list):
        return "; ".join(str(m) for m in message)
    text = str(message or "").strip()
    return text[:300] if text else "no message"
