"""Pure mapping between Notion's page and data source shapes and pmtui's canonical models (no I/O here).

A task is a page of the tasks data source; which property holds which field is configured by name
(``[notion.properties]``, :class:`pmtui.config.NotionProperties`). An empty name leaves a field unmapped.

Status (a ``status`` property, mapped by the option's *group*; a ``select`` property by option name):

=====================================  ===============  ==============================================
Notion option (read)                   canonical        Notion option (write)
=====================================  ===============  ==============================================
name contains "cancel" (any group)     ``canceled``     the first option named like "cancel"; without
                                                        one, the ``done`` option (lossy)
group "Complete"                       ``done``         the first "Complete" option not named "cancel"
group "In progress"                    ``in_progress``  the first "In progress" option
group "To-do" (or no value)            ``todo``         the first "To-do" option
no group known (select): "done",       by the name      the first option that reads back as the status,
"complete", "closed", "finished" ->    (else todo)      else "Not started" / "In progress" / "Done" /
done; "progress", "doing" ->                            "Canceled" (a select creates the option)
in_progress
=====================================  ===============  ==============================================

Priority (a ``select``): ``Urgent``/``High``/``Medium``/``Low`` <-> ``urgent``/``high``/``medium``/``low``
(case-insensitive; an existing option's spelling is kept on write); empty <-> ``none`` (``none`` clears
the select). Lossy: any other option name reads as ``none``, its name kept in ``extra["priority_name"]``.

Other fields:

- ``title`` <-> the title property; ``description`` <-> a ``rich_text`` property, cut into items of at most
  2,000 UTF-16 units (Notion's per-item limit, counted as JavaScript counts), at most 100 items; a pmtui
  marker comment is stripped both ways (the idempotency key lives in its own property);
- ``due`` <-> a ``date`` property's ``start``: a bare date ``YYYY-MM-DD`` is ``due_all_day=True`` at 00:00
  UTC; a date-time is ``due_all_day=False`` (kept to the millisecond; a zone-less time is read in the
  value's ``time_zone``, else UTC). A date range's ``end`` is not mapped (kept in ``extra["due_end"]``);
- ``labels`` <-> ``multi_select`` option names;
- the project is a ``relation`` to the projects data source: its first page id is
  ``RemoteTask.project_external_id`` (``Task.project_id`` stays a local id that only the engine knows);
- the idempotency key <-> a ``rich_text`` property (default "pmtui key") written on create;
- trashed pages (``in_trash``/``archived``) read as ``deleted``; ``kind`` is always ``documentation``.

Assignees, durations and milestones are not mapped (no configured property holds them).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pmtui.config import NotionProperties
from pmtui.integrations.base import RemoteProject, RemoteTask, parse_remote_time, split_marker
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

RICH_TEXT_ITEM_LIMIT = 2000
"""Characters (UTF-16 code units) in one rich text item's ``text.content`` ([doc] request-limits)."""
RICH_TEXT_ITEMS_MAX = 100
"""Rich text items in one property value or comment ([doc] request-limits)."""
BLOCKS_MAX = 100
"""Child blocks in one create or append request."""
PAGE_SIZE = 100
"""The query endpoint's maximum (and default) page size."""
SERVER_TIME_MARGIN = timedelta(minutes=1)
"""How far before a listing's server time (its first response's ``Date``) the next window starts.

An edit made after the listing read the data source is stamped at or after that instant's minute; the
margin covers the time between Notion evaluating the query and stamping its ``Date`` header (and any skew
between the host that stamps pages and the one that answers), so nothing edited meanwhile is missed."""

EXPECTED_TYPES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "status": ("status", "select"),
    "due": ("date",),
    "priority": ("select",),
    "labels": ("multi_select",),
    "project": ("relation",),
    "description": ("rich_text",),
    "key": ("rich_text",),
}
"""Config key of ``[notion.properties]`` -> the property types pmtui can map it from."""

PRIORITY_FROM_NOTION: dict[str, Priority] = {
    "urgent": Priority.URGENT,
    "high": Priority.HIGH,
    "medium": Priority.MEDIUM,
    "low": Priority.LOW,
}
PRIORITY_TO_NOTION: dict[Priority, str] = {
    Priority.URGENT: "Urgent",
    Priority.HIGH: "High",
    Priority.MEDIUM: "Medium",
    Priority.LOW: "Low",
}
STATUS_GROUPS: dict[str, Status] = {
    "to_do": Status.TODO,
    "in_progress": Status.IN_PROGRESS,
    "complete": Status.DONE,
}
"""Normalised status group name -> canonical status (Notion's three built-in groups)."""
DEFAULT_STATUS_NAMES: dict[Status, str] = {
    Status.TODO: "Not started",
    Status.IN_PROGRESS: "In progress",
    Status.DONE: "Done",
    Status.CANCELED: "Canceled",
}
"""Option names written to a ``select`` status property that has no fitting option (Notion creates it)."""

COMMENT_TAG = re.compile(r"\s*\[pmtui:([0-9a-f]{6,64})\]\s*$")
"""The short trailing marker pmtui puts on comments (Notion comments have no hidden field)."""


# --------------------------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class PropertySchema:
    """One property of a data source: its name, id, type and (for options) option names and groups."""

    name: str
    id: str
    type: str
    options: tuple[str, ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """For a ``status`` property: (normalised group name, option names) in the schema's order."""
    relation_data_source_id: str | None = None

    def group_of(self, option_name: str) -> str | None:
        """The normalised group of a status option, or None (select properties have no groups)."""
        for group, members in self.groups:
            if option_name in members:
                return group
        return None


@dataclass(frozen=True)
class DataSourceSchema:
    """The parts of a data source's schema that the mapping needs."""

    id: str
    title: str
    database_id: str | None = None
    properties: Mapping[str, PropertySchema] = field(default_factory=dict)

    @property
    def title_property(self) -> str | None:
        """The name of the title property (every data source has exactly one)."""
        return next((p.name for p in self.properties.values() if p.type == "title"), None)

    def get(self, name: str | None) -> PropertySchema | None:
        """The property configured as ``name``; None when the name is unset or the data source lacks it."""
        return self.properties.get(name) if name else None


@dataclass(frozen=True)
class SchemaProblem:
    """A configured property that is missing or of a type pmtui cannot map."""

    config_key: str
    property_name: str
    message: str
    hint: str


def normalise_group(name: str) -> str:
    """``"To-do"`` -> ``to_do``, ``"In progress"`` -> ``in_progress``, ``"Complete"`` -> ``complete``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def parse_schema(raw: Mapping[str, Any]) -> DataSourceSchema:
    """A :class:`DataSourceSchema` from a data source object (``GET /v1/data_sources/{id}``)."""
    properties: dict[str, PropertySchema] = {}
    for name, prop in (raw.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        kind = str(prop.get("type") or "")
        config = as_dict(prop.get(kind))
        options = tuple(
            str(o["name"]) for o in config.get("options") or [] if isinstance(o, dict) and o.get("name")
        )
        groups: list[tuple[str, tuple[str, ...]]] = []
        if kind == "status":
            by_id = {
                o.get("id"): str(o.get("name")) for o in config.get("options") or [] if isinstance(o, dict)
            }
            for group in config.get("groups") or []:
                if isinstance(group, dict) and group.get("name"):
                    members = tuple(by_id[i] for i in group.get("option_ids") or [] if i in by_id)
                    groups.append((normalise_group(str(group["name"])), members))
        target = config.get("data_source_id") if kind == "relation" else None
        properties[str(name)] = PropertySchema(
            name=str(name),
            id=str(prop.get("id") or name),
            type=kind,
            options=options,
            groups=tuple(groups),
            relation_data_source_id=str(target) if target else None,
        )
    parent = as_dict(raw.get("parent"))
    return DataSourceSchema(
        id=str(raw.get("id") or ""),
        title=plain_text(raw.get("title")) or str(raw.get("id") or ""),
        database_id=str(parent["database_id"]) if parent.get("database_id") else None,
        properties=properties,
    )


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (Notion omits or nulls optional objects)."""
    return value if isinstance(value, dict) else {}


def _described(schema: DataSourceSchema) -> str:
    return f"{schema.title!r} ({schema.id})" if schema.title != schema.id else schema.id


def schema_problems(schema: DataSourceSchema, names: NotionProperties) -> list[SchemaProblem]:
    """Every configured property that is missing (except ``key``, which pmtui adds) or of the wrong type."""
    problems: list[SchemaProblem] = []
    for config_key, allowed in EXPECTED_TYPES.items():
        name = getattr(names, config_key)
        if not name:
            continue
        prop = schema.get(name)
        wanted = " or ".join(allowed)
        if prop is None:
            if config_key == "key":
                continue
            candidates = [p.name for p in schema.properties.values() if p.type in allowed]
            hint = (
                f'set [notion.properties] {config_key} = "<your name>"'
                + (f" (its {wanted} properties: {', '.join(candidates)})" if candidates else "")
                + (f', or {config_key} = "" to leave it unmapped' if config_key != "title" else "")
            )
            problems.append(
                SchemaProblem(
                    config_key,
                    name,
                    f"property {name!r} not found in data source {_described(schema)}; {hint}",
                    hint,
                )
            )
        elif prop.type not in allowed:
            hint = f'set [notion.properties] {config_key} = "<a {wanted} property>"'
            problems.append(
                SchemaProblem(
                    config_key,
                    name,
                    f"property {name!r} in data source {_described(schema)} is a {prop.type} property, "
                    f"pmtui needs {wanted}; {hint}",
                    hint,
                )
            )
    return problems


# ------------------------------------------------------------------------------------------ rich text


def _utf16_len(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def text_chunks(text: str, limit: int = RICH_TEXT_ITEM_LIMIT) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-16 units, never inside a character."""
    chunks: list[str] = []
    start = 0
    size = 0
    for index, char in enumerate(text):
        width = _utf16_len(char)
        if size + width > limit:
            chunks.append(text[start:index])
            start, size = index, 0
        size += width
    if start < len(text):
        chunks.append(text[start:])
    return chunks


def to_rich_text(text: str, *, max_items: int = RICH_TEXT_ITEMS_MAX) -> list[dict[str, Any]]:
    """A rich text array (write form) holding ``text``; raises ValueError when it needs too many items."""
    chunks = text_chunks(text)
    if len(chunks) > max_items:
        raise ValueError(
            f"text of {len(text)} characters needs {len(chunks)} rich text items; Notion allows {max_items} "
            f"of {RICH_TEXT_ITEM_LIMIT} characters"
        )
    return [{"type": "text", "text": {"content": chunk}} for chunk in chunks]


def plain_text(items: Any) -> str:
    """The text of a rich text array (read form ``plain_text``, or the write form's ``text.content``)."""
    parts: list[str] = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("plain_text"), str):
            parts.append(item["plain_text"])
        elif isinstance(item.get("text"), dict):
            parts.append(str(item["text"].get("content") or ""))
    return "".join(parts)


# ------------------------------------------------------------------------------------- field mapping


def status_from_notion(option_name: str | None, group: str | None = None) -> Status:
    """The canonical status of a status/select option (see the module's table)."""
    if not option_name:
        return Status.TODO
    lowered = option_name.lower()
    if "cancel" in lowered:
        return Status.CANCELED
    if group in STATUS_GROUPS:
        return STATUS_GROUPS[group]
    if any(word in lowered for word in ("done", "complete", "closed", "finished")):
        return Status.DONE
    if any(word in lowered for word in ("progress", "doing")):
        return Status.IN_PROGRESS
    return Status.TODO


_GROUP_OF_STATUS = {status: group for group, status in STATUS_GROUPS.items()}


def status_option(status: Status, prop: PropertySchema) -> str:
    """The option name to write for ``status`` (see the module's table); ValueError if none fits."""
    ordered: list[str] = []
    target = _GROUP_OF_STATUS.get(status)
    for group, members in prop.groups:
        if group == target:
            ordered.extend(members)
    ordered.extend(name for name in prop.options if name not in ordered)
    for name in ordered:
        if status_from_notion(name, prop.group_of(name)) is status:
            return name
    if status is Status.CANCELED:
        return status_option(Status.DONE, prop)
    if prop.type == "select":
        return DEFAULT_STATUS_NAMES[status]
    raise ValueError(
        f"the status property {prop.name!r} has no option for {status.value}; add one to its "
        f"{target.replace('_', '-') if target else status.value} group in Notion"
    )


def priority_from_notion(name: str | None) -> Priority:
    """``Urgent``/``High``/``Medium``/``Low`` (any case) -> canonical; anything else or empty -> none."""
    return PRIORITY_FROM_NOTION.get((name or "").strip().lower(), Priority.NONE)


def priority_option(priority: Priority, prop: PropertySchema | None) -> str | None:
    """The select option name for ``priority`` (None clears); an existing option's spelling wins."""
    if priority is Priority.NONE:
        return None
    wanted = PRIORITY_TO_NOTION[priority]
    if prop is not None:
        for name in prop.options:
            if name.strip().lower() == wanted.lower():
                return name
    return wanted


def _format_instant(moment: datetime) -> str:
    """An ISO date-time in UTC to the millisecond (``2026-11-24T09:30:00.000+00:00``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def due_from_notion(value: Any) -> tuple[datetime | None, bool]:
    """``(due, due_all_day)`` from a date property value (see the module's notes)."""
    if not isinstance(value, dict) or not value.get("start"):
        return None, True
    start = str(value["start"]).strip()
    if len(start) == 10:
        day = datetime.fromisoformat(start)
        return day.replace(tzinfo=UTC), True
    parsed = datetime.fromisoformat(start[:-1] + "+00:00" if start.endswith("Z") else start)
    if parsed.tzinfo is None:
        zone: Any = UTC
        if value.get("time_zone"):
            try:
                zone = ZoneInfo(str(value["time_zone"]))
            except (ZoneInfoNotFoundError, ValueError):
                zone = UTC
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC), False


def due_to_notion(due: datetime | None, all_day: bool) -> dict[str, Any] | None:
    """A date property value (write form) for a canonical due; None clears it."""
    if due is None:
        return None
    if all_day:
        return {"start": due.astimezone(UTC).date().isoformat()}
    return {"start": _format_instant(due)}


def infer_all_day(due: datetime | None) -> bool:
    """For a patch that sets ``due`` without ``due_all_day``: midnight UTC reads as a bare date."""
    if due is None:
        return True
    moment = due.astimezone(UTC)
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


# ------------------------------------------------------------------------------------------- reading


def _value(properties: Mapping[str, Any], name: str | None, kind: str) -> Any:
    if not name:
        return None
    prop = properties.get(name)
    if not isinstance(prop, dict) or prop.get("type") != kind:
        return None
    return prop.get(kind)


def _title_of(properties: Mapping[str, Any], name: str | None) -> str:
    items = _value(properties, name, "title")
    if items is None:
        # Fall back on whichever property is the title (a renamed title property still has one).
        items = next(
            (p.get("title") for p in properties.values() if isinstance(p, dict) and p.get("type") == "title"),
            None,
        )
    return plain_text(items)


def _option_name(value: Any) -> str | None:
    return str(value["name"]) if isinstance(value, dict) and value.get("name") else None


def is_trashed(raw: Mapping[str, Any]) -> bool:
    """In the trash (``in_trash``, or ``archived`` as 2025-09-03 also sends it)."""
    return bool(raw.get("in_trash") or raw.get("archived"))


def container_of(raw: Mapping[str, Any]) -> str | None:
    """The data source a page belongs to (its parent), or None."""
    parent = as_dict(raw.get("parent"))
    value = parent.get("data_source_id") or parent.get("database_id")
    return str(value) if value else None


def unique_id_key(properties: Mapping[str, Any]) -> str | None:
    """The page's ID property as Notion shows it (``TASK-12``, or ``12`` without a prefix), else None.

    A data source has at most one ``unique_id`` property, so it is found by type, whatever its name;
    it becomes the task's handle on the board, in the briefing and in ``pmtui do``.
    """
    for value in properties.values():
        if not isinstance(value, Mapping) or value.get("type") != "unique_id":
            continue
        unique = value.get("unique_id")
        number = unique.get("number") if isinstance(unique, Mapping) else None
        if not isinstance(number, int) or isinstance(number, bool):
            return None
        prefix = unique.get("prefix") if isinstance(unique, Mapping) else None
        return f"{prefix}-{number}" if prefix else str(number)
    return None


def to_remote_task(
    raw: Mapping[str, Any], schema: DataSourceSchema | None, names: NotionProperties
) -> RemoteTask:
    """A page of the tasks data source as a canonical :class:`RemoteTask` (see the module's tables)."""
    properties: Mapping[str, Any] = raw.get("properties") or {}
    status_prop = properties.get(names.status) if names.status else None
    status_name: str | None = None
    group: str | None = None
    if isinstance(status_prop, dict):
        status_name = _option_name(status_prop.get(status_prop.get("type", "")))
        schema_prop = schema.get(names.status) if schema else None
        group = schema_prop.group_of(status_name) if schema_prop and status_name else None
    priority_name = _option_name(_value(properties, names.priority, "select"))
    due, all_day = due_from_notion(_value(properties, names.due, "date"))
    description, _ = split_marker(plain_text(_value(properties, names.description, "rich_text")))
    labels = [
        str(o["name"]) for o in _value(properties, names.labels, "multi_select") or [] if _option_name(o)
    ]
    relation = _value(properties, names.project, "relation") or []
    project_id = next((str(r["id"]) for r in relation if isinstance(r, dict) and r.get("id")), None)
    key = plain_text(_value(properties, names.key, "rich_text")).strip() or None
    created = parse_remote_time(raw.get("created_time"))
    updated = parse_remote_time(raw.get("last_edited_time")) or created
    deleted = is_trashed(raw)
    fields: dict[str, Any] = {
        "title": _title_of(properties, names.title).strip() or "(untitled)",
        "description": description,
        "status": status_from_notion(status_name, group),
        "priority": priority_from_notion(priority_name),
        "due": due,
        "due_all_day": all_day,
        "labels": labels,
        "kind": TaskKind.DOCUMENTATION,
        "deleted": deleted,
    }
    if created:
        fields["created_at"] = created
    if updated:
        fields["updated_at"] = updated
    task = Task(**fields)
    container = container_of(raw)
    ref = ExternalRef(
        entity_id=task.id,
        service=Service.NOTION,
        external_id=str(raw["id"]),
        key=unique_id_key(properties),
        url=str(raw["url"]) if raw.get("url") else None,
        container=container,
        remote_updated_at=updated,
        idempotency_key=key,
    )
    date_value = _value(properties, names.due, "date")
    extra = {
        "status_name": status_name,
        "status_group": group,
        "priority_name": priority_name,
        "due_end": date_value.get("end") if isinstance(date_value, dict) else None,
        "data_source_id": container,
    }
    return RemoteTask(ref=ref, task=task, project_external_id=project_id, deleted=deleted, extra=extra)


# ------------------------------------------------------------------------------------------- writing


def task_fields(task: Task) -> dict[str, Any]:
    """The canonical fields of a whole task, as a create writes them."""
    return {name: getattr(task, name) for name in SYNCED_TASK_FIELDS}


def to_payload(
    fields: Mapping[str, Any],
    schema: DataSourceSchema,
    names: NotionProperties,
    *,
    creating: bool = False,
    idempotency_key: str | None = None,
    project_external_id: str | None = None,
) -> dict[str, Any]:
    """The ``properties`` of a page create or update for canonical ``fields``.

    On create, empty values are left out (Notion's defaults are the same); on update, every field present
    is written, ``None`` clearing it. Fields the data source does not map (duration, assignee, ...) are
    ignored. Raises ValueError for text that exceeds Notion's limits or a status with no option.
    """
    out: dict[str, Any] = {}
    title = schema.get(names.title) or schema.get(schema.title_property)
    if "title" in fields and fields["title"] is not None and title is not None:
        out[title.name] = {"title": to_rich_text(str(fields["title"]).strip())}
    description = schema.get(names.description)
    if "description" in fields and description is not None:
        text, _ = split_marker(fields["description"] or "")
        if text or not creating:
            out[description.name] = {"rich_text": to_rich_text(text)}
    status = schema.get(names.status)
    if "status" in fields and fields["status"] is not None and status is not None:
        out[status.name] = {status.type: {"name": status_option(Status(fields["status"]), status)}}
    priority = schema.get(names.priority)
    if "priority" in fields and priority is not None:
        name = priority_option(Priority(fields["priority"] or Priority.NONE), priority)
        if name is not None or not creating:
            out[priority.name] = {"select": {"name": name} if name is not None else None}
    due_prop = schema.get(names.due)
    if "due" in fields and due_prop is not None:
        due = fields["due"]
        all_day = fields["due_all_day"] if fields.get("due_all_day") is not None else infer_all_day(due)
        if due is not None or not creating:
            out[due_prop.name] = {"date": due_to_notion(due, bool(all_day))}
    labels = schema.get(names.labels)
    if "labels" in fields and labels is not None and (fields["labels"] or not creating):
        out[labels.name] = {"multi_select": [{"name": str(label)} for label in fields["labels"] or []]}
    project = schema.get(names.project)
    if project is not None:
        if project_external_id is not None:
            out[project.name] = {"relation": [{"id": project_external_id}]}
        elif not creating and "project_id" in fields and fields["project_id"] is None:
            out[project.name] = {"relation": []}
    key = schema.get(names.key)
    if creating and idempotency_key and key is not None:
        out[key.name] = {"rich_text": to_rich_text(idempotency_key)}
    return out


# ------------------------------------------------------------------------------------------ projects


def project_status_from_notion(option_name: str | None, group: str | None = None) -> ProjectStatus:
    """A project page's status option as a canonical project status (active unless named otherwise)."""
    if not option_name:
        return ProjectStatus.ACTIVE
    lowered = option_name.lower()
    if "cancel" in lowered:
        return ProjectStatus.CANCELED
    if group == "complete" or any(w in lowered for w in ("done", "complete", "closed", "finished")):
        return ProjectStatus.DONE
    if any(w in lowered for w in ("plan", "backlog", "not started", "later")):
        return ProjectStatus.PLANNED
    return ProjectStatus.ACTIVE


def _project_status_prop(schema: DataSourceSchema) -> PropertySchema | None:
    prop = schema.get("Status")
    return prop if prop is not None and prop.type in ("status", "select") else None


def to_remote_project(raw: Mapping[str, Any], schema: DataSourceSchema, key_name: str) -> RemoteProject:
    """A page of the projects data source as a canonical :class:`RemoteProject`.

    Its name is the title property (discovered from the schema); a ``Status`` select or status property,
    when there is one, gives the project status. Descriptions live in the page body and are not read.
    """
    properties: Mapping[str, Any] = raw.get("properties") or {}
    status_prop = _project_status_prop(schema)
    status_name: str | None = None
    if status_prop is not None:
        status_name = _option_name(_value(properties, status_prop.name, status_prop.type))
    created = parse_remote_time(raw.get("created_time"))
    updated = parse_remote_time(raw.get("last_edited_time")) or created
    fields: dict[str, Any] = {
        "name": _title_of(properties, schema.title_property).strip()[:500] or "(untitled)",
        "status": project_status_from_notion(
            status_name, status_prop.group_of(status_name) if status_prop and status_name else None
        ),
        "deleted": is_trashed(raw),
    }
    if created:
        fields["created_at"] = created
    if updated:
        fields["updated_at"] = updated
    project = Project(**fields)
    key = plain_text(_value(properties, key_name, "rich_text")).strip() or None
    ref = ExternalRef(
        entity=EntityType.PROJECT,
        entity_id=project.id,
        service=Service.NOTION,
        external_id=str(raw["id"]),
        url=str(raw["url"]) if raw.get("url") else None,
        container=container_of(raw),
        remote_updated_at=updated,
        idempotency_key=key,
    )
    return RemoteProject(ref=ref, project=project)


def paragraphs(text: str) -> list[dict[str, Any]]:
    """Paragraph blocks holding ``text`` (one per blank-line-separated paragraph); ValueError past 100."""
    blocks = [
        {"object": "block", "type": "paragraph", "paragraph": {"rich_text": to_rich_text(part.strip())}}
        for part in re.split(r"\n\s*\n", text)
        if part.strip()
    ]
    if len(blocks) > BLOCKS_MAX:
        raise ValueError(f"a description of {len(blocks)} paragraphs exceeds Notion's {BLOCKS_MAX} blocks")
    return blocks


def project_payload(
    project: Project, schema: DataSourceSchema, key_name: str, idempotency_key: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(properties, children)`` of a projects page create: title, key, status when mappable, body."""
    title = schema.title_property or "title"
    properties: dict[str, Any] = {title: {"title": to_rich_text(project.name.strip())}}
    if schema.get(key_name) is not None:
        properties[key_name] = {"rich_text": to_rich_text(idempotency_key)}
    status_prop = _project_status_prop(schema)
    if status_prop is not None:
        for name in status_prop.options:
            if project_status_from_notion(name, status_prop.group_of(name)) is project.status:
                properties[status_prop.name] = {status_prop.type: {"name": name}}
                break
    body, _ = split_marker(project.description)
    return properties, paragraphs(body)


# ------------------------------------------------------------------------------------------ comments


def comment_tag(key: str) -> str:
    """A short tag for a comment's idempotency key: its first 12 hex digits, or 12 of its SHA-256."""
    compact = key.replace("-", "").lower()
    if re.fullmatch(r"[0-9a-f]{12,}", compact):
        return compact[:12]
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def comment_rich_text(body: str, key: str) -> list[dict[str, Any]]:
    """A comment's rich text: the body, then a grey ``[pmtui:<tag>]`` item that makes a retry findable.

    Notion comments hold only rich text and show an HTML comment literally, so the marker is a short
    visible tag rather than :func:`pmtui.integrations.base.marker_comment`.
    """
    text, _ = split_marker(body)
    items = to_rich_text(text, max_items=RICH_TEXT_ITEMS_MAX - 1)
    tag = f" [pmtui:{comment_tag(key)}]"
    items.append({"type": "text", "text": {"content": tag}, "annotations": {"color": "gray"}})
    return items


def comment_text(raw: Mapping[str, Any]) -> tuple[str, str | None]:
    """A comment's text without pmtui's tag (or marker comment), and the tag it carried."""
    text = plain_text(raw.get("rich_text"))
    found = COMMENT_TAG.search(text)
    tag = None
    if found:
        tag = found.group(1)
        text = text[: found.start()]
    text, _ = split_marker(text)
    return text.rstrip(), tag


# ------------------------------------------------------------------------------------------- listing


def format_cursor(moment: datetime) -> str:
    """The change cursor: the newest ``last_edited_time`` seen, as an ISO string in UTC."""
    return moment.astimezone(UTC).isoformat()


def parse_cursor(cursor: str | None) -> datetime | None:
    """The instant a cursor holds; None for no cursor or one this module did not write."""
    if not cursor:
        return None
    try:
        return parse_remote_time(cursor)
    except ValueError:
        return None


def changes_query(since: datetime | None) -> dict[str, Any]:
    """The query body for pages edited at or after ``since`` (everything when None), oldest edit first.

    ``on_or_after``, not ``after``: an edit later in the cursor's own minute carries the same stamp.
    """
    body: dict[str, Any] = {
        "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}],
        "page_size": PAGE_SIZE,
    }
    if since is not None:
        body["filter"] = {
            "timestamp": "last_edited_time",
            "last_edited_time": {"on_or_after": since.astimezone(UTC).isoformat()},
        }
    return body


def next_window(
    server_time: datetime | None, since: datetime | None, latest: datetime | None
) -> datetime | None:
    """Where the listing after a complete one starts: the minute of its server time, less the margin.

    Every page edited before the listing began (and at or after ``since``) was in it, and every later
    edit is stamped at or after that minute, so the next listing re-reads only pages edited in the
    margin, not the last minute of edits the way a window starting at the newest stamp (``latest``) does
    when those edits were older. Without a server time (no ``Date`` header) the newest stamp it is.
    """
    if server_time is None:
        return latest
    start = (server_time - SERVER_TIME_MARGIN).astimezone(UTC).replace(second=0, microsecond=0)
    if since is not None and start < since:
        return since
    return start


def key_filter(key_property: str, key: str) -> dict[str, Any]:
    """The query filter that finds the page pmtui created with ``key``."""
    return {"property": key_property, "rich_text": {"equals": key}}


def newest(moments: Iterable[datetime | None], start: datetime | None = None) -> datetime | None:
    """The latest of ``moments`` and ``start`` (Nones ignored)."""
    best = start
    for moment in moments:
        if moment is not None and (best is None or moment > best):
            best = moment
    return best


def page_results(body: Any) -> Sequence[Mapping[str, Any]]:
    """The page objects of a list answer (data source rows that are not pages are skipped)."""
    results = body.get("results", []) if isinstance(body, dict) else []
    return [r for r in results if isinstance(r, dict) and r.get("object", "page") == "page" and r.get("id")]
