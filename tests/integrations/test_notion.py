"""The Notion integration against the Notion emulator over real HTTP, and its pure mapping by tables.

The emulator's clock is frozen at Tuesday 2026-11-24 10:15:30 UTC (Notion rounds edit times down to the
minute, so pages edited "now" read 10:15). Every test injects a limiter and a retry sleep on a fake
clock, so nothing here really sleeps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notion_client.errors import APIResponseError, RequestTimeoutError, UnknownHTTPResponseError

from pmtui.config import NotionProperties, NotionSettings
from pmtui.errors import (
    AuthError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from pmtui.integrations.base import TaskPatch, marker_comment
from pmtui.integrations.limits import RateLimiter
from pmtui.integrations.notion import (
    NotionIntegration,
    forget_user_names,
    parse_retry_after,
    translate_error,
)
from pmtui.integrations.notion_mapping import (
    DataSourceSchema,
    PropertySchema,
    changes_query,
    comment_rich_text,
    comment_tag,
    comment_text,
    due_from_notion,
    due_to_notion,
    next_window,
    parse_schema,
    priority_from_notion,
    priority_option,
    schema_problems,
    status_from_notion,
    status_option,
    task_fields,
    text_chunks,
    to_payload,
    to_remote_task,
    to_rich_text,
)
from pmtui.models import Priority, Project, ProjectStatus, Service, Status, Task, TaskKind
from pmtui.sandbox.notion import DEFAULT_API_KEY, NotionEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, serving

NOW = datetime(2026, 11, 24, 10, 15, 30, tzinfo=UTC)
NOW_MINUTE = datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
QUERY = "POST /v1/data_sources/:data_source_id/query"
SCHEMA_GET = "GET /v1/data_sources/:data_source_id"
SCHEMA_PATCH = "PATCH /v1/data_sources/:data_source_id"
KEY = "0123456789abcdef0123456789abcdef"
NAMES = NotionProperties()


class FakeTime:
    """A clock and sleep for the limiter and retries; sleeping also moves the emulator's clock."""

    def __init__(self, emulator: NotionEmulator | None = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.emulator = emulator

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.emulator is not None:
            self.emulator.clock.advance(seconds)


# --------------------------------------------------------------------------------------------- schema

STATUS_PROP = PropertySchema(
    name="Status",
    id="st",
    type="status",
    options=("Not started", "Blocked", "In progress", "Review", "Done", "Canceled"),
    groups=(
        ("to_do", ("Not started", "Blocked")),
        ("in_progress", ("In progress", "Review")),
        ("complete", ("Done", "Canceled")),
    ),
)
DEMO_STATUS = PropertySchema(
    name="Status",
    id="st",
    type="status",
    options=("Not started", "In progress", "Done"),
    groups=(("to_do", ("Not started",)), ("in_progress", ("In progress",)), ("complete", ("Done",))),
)
SELECT_STATUS = PropertySchema(name="State", id="ss", type="select", options=("Open", "Doing", "Closed"))
PRIORITY_PROP = PropertySchema(
    name="Priority", id="pr", type="select", options=("Urgent", "high", "Medium", "Low", "Someday")
)


def demo_schema(**overrides: PropertySchema | None) -> DataSourceSchema:
    """The demo's tasks schema (with the key property), as parse_schema makes it."""
    props: dict[str, PropertySchema | None] = {
        "Name": PropertySchema("Name", "title", "title"),
        "Status": DEMO_STATUS,
        "Due": PropertySchema("Due", "du", "date"),
        "Priority": PRIORITY_PROP,
        "Tags": PropertySchema("Tags", "tg", "multi_select", options=("docs",)),
        "Project": PropertySchema("Project", "pj", "relation", relation_data_source_id="projects-ds"),
        "Description": PropertySchema("Description", "de", "rich_text"),
        "pmtui key": PropertySchema("pmtui key", "ky", "rich_text"),
    }
    props.update(overrides)
    return DataSourceSchema(
        id="tasks-ds", title="Tasks", properties={k: v for k, v in props.items() if v is not None}
    )


def test_parse_schema_reads_types_options_groups_and_relation() -> None:
    raw = {
        "id": "ds-1",
        "title": [{"plain_text": "Docs"}],
        "parent": {"type": "database_id", "database_id": "db-1"},
        "properties": {
            "Name": {"id": "title", "name": "Name", "type": "title", "title": {}},
            "Status": {
                "id": "a",
                "type": "status",
                "status": {
                    "options": [{"id": "o1", "name": "Todo"}, {"id": "o2", "name": "Shipped"}],
                    "groups": [
                        {"name": "To-do", "option_ids": ["o1"]},
                        {"name": "In progress", "option_ids": []},
                        {"name": "Complete", "option_ids": ["o2"]},
                    ],
                },
            },
            "Project": {"id": "b", "type": "relation", "relation": {"data_source_id": "ds-2"}},
        },
    }
    schema = parse_schema(raw)
    assert (schema.id, schema.title, schema.database_id, schema.title_property) == (
        "ds-1",
        "Docs",
        "db-1",
        "Name",
    )
    status = schema.properties["Status"]
    assert status.options == ("Todo", "Shipped")
    assert status.group_of("Shipped") == "complete"
    assert status.group_of("Todo") == "to_do"
    assert schema.properties["Project"].relation_data_source_id == "ds-2"


def test_schema_problems_name_the_property_and_the_config_key() -> None:
    schema = demo_schema(Due=None, Priority=PropertySchema("Priority", "pr", "rich_text"))
    problems = schema_problems(schema, NAMES)
    assert [(p.config_key, p.property_name) for p in problems] == [("due", "Due"), ("priority", "Priority")]
    assert problems[0].message.startswith("property 'Due' not found in data source 'Tasks' (tasks-ds);")
    assert 'set [notion.properties] due = "<your name>"' in problems[0].message
    assert "is a rich_text property, pmtui needs select" in problems[1].message
    assert 'set [notion.properties] priority = "<a select property>"' in problems[1].message


def test_schema_problems_skip_unmapped_properties_and_a_missing_key() -> None:
    schema = demo_schema(Due=None, **{"pmtui key": None})
    assert schema_problems(schema, NotionProperties(due="")) == []
    wrong_key = demo_schema(**{"pmtui key": PropertySchema("pmtui key", "k", "number")})
    assert [p.config_key for p in schema_problems(wrong_key, NAMES)] == ["key"]


# ------------------------------------------------------------------------------------- status tables


@pytest.mark.parametrize(
    ("name", "group", "expected"),
    [
        (None, None, Status.TODO),
        ("Not started", "to_do", Status.TODO),
        ("Blocked", "to_do", Status.TODO),
        ("Review", "in_progress", Status.IN_PROGRESS),
        ("Shipped", "complete", Status.DONE),
        ("Canceled", "complete", Status.CANCELED),
        ("Cancelled", "to_do", Status.CANCELED),
        ("Done", None, Status.DONE),
        ("Closed", None, Status.DONE),
        ("Doing", None, Status.IN_PROGRESS),
        ("In progress", None, Status.IN_PROGRESS),
        ("Open", None, Status.TODO),
    ],
)
def test_status_read_table(name: str | None, group: str | None, expected: Status) -> None:
    assert status_from_notion(name, group) is expected


@pytest.mark.parametrize(
    ("prop", "status", "expected"),
    [
        (STATUS_PROP, Status.TODO, "Not started"),
        (STATUS_PROP, Status.IN_PROGRESS, "In progress"),
        (STATUS_PROP, Status.DONE, "Done"),
        (STATUS_PROP, Status.CANCELED, "Canceled"),
        (DEMO_STATUS, Status.CANCELED, "Done"),  # lossy: no cancel option
        (SELECT_STATUS, Status.TODO, "Open"),
        (SELECT_STATUS, Status.IN_PROGRESS, "Doing"),
        (SELECT_STATUS, Status.DONE, "Closed"),
        (SELECT_STATUS, Status.CANCELED, "Closed"),
        (PropertySchema("S", "s", "select"), Status.DONE, "Done"),  # a select creates the option
    ],
)
def test_status_write_table(prop: PropertySchema, status: Status, expected: str) -> None:
    assert status_option(status, prop) == expected


def test_status_write_without_an_option_in_the_group_is_an_error() -> None:
    prop = PropertySchema("Status", "s", "status", options=("Todo",), groups=(("to_do", ("Todo",)),))
    with pytest.raises(ValueError, match="no option for done"):
        status_option(Status.DONE, prop)


# ----------------------------------------------------------------------------------- priority, dates


@pytest.mark.parametrize(
    ("name", "priority"),
    [
        ("Urgent", Priority.URGENT),
        ("High", Priority.HIGH),
        ("Medium", Priority.MEDIUM),
        ("Low", Priority.LOW),
    ],
)
def test_priority_table_both_ways(name: str, priority: Priority) -> None:
    assert priority_from_notion(name) is priority
    assert priority_from_notion(name.upper()) is priority
    assert priority_option(priority, None) == name


def test_priority_edges() -> None:
    assert priority_from_notion(None) is Priority.NONE
    assert priority_from_notion("Someday") is Priority.NONE
    assert priority_option(Priority.NONE, PRIORITY_PROP) is None
    assert priority_option(Priority.HIGH, PRIORITY_PROP) == "high"  # the option's own spelling


@pytest.mark.parametrize(
    ("value", "due", "all_day"),
    [
        (None, None, True),
        ({"start": None}, None, True),
        ({"start": "2026-12-01", "end": None}, datetime(2026, 12, 1, tzinfo=UTC), True),
        ({"start": "2026-12-01T09:30:00.000Z"}, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), False),
        ({"start": "2026-12-01T09:30:00.000+01:00"}, datetime(2026, 12, 1, 8, 30, tzinfo=UTC), False),
        (
            {"start": "2026-12-01T09:30:00", "time_zone": "Europe/Berlin"},
            datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
            False,
        ),
        (
            {"start": "2026-12-01T09:30:00", "time_zone": None},
            datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
            False,
        ),
    ],
)
def test_due_read_table(value: Any, due: datetime | None, all_day: bool) -> None:
    assert due_from_notion(value) == (due, all_day)


def test_due_write_table() -> None:
    assert due_to_notion(None, True) is None
    assert due_to_notion(datetime(2026, 12, 1, tzinfo=UTC), True) == {"start": "2026-12-01"}
    assert due_to_notion(datetime(2026, 12, 1, 9, 30, 15, 123000, tzinfo=UTC), False) == {
        "start": "2026-12-01T09:30:15.123+00:00"
    }


# ---------------------------------------------------------------------------------------- rich text


def test_text_chunks_respect_2000_utf16_units_and_never_split_a_character() -> None:
    assert text_chunks("") == []
    assert [len(c) for c in text_chunks("x" * 4500)] == [2000, 2000, 500]
    emoji = "😀" * 1001  # two UTF-16 units each, as Notion (JavaScript) counts
    chunks = text_chunks("a" + emoji)
    assert "".join(chunks) == "a" + emoji
    assert [sum(2 if ord(c) > 0xFFFF else 1 for c in chunk) for chunk in chunks] == [1999, 4]
    with pytest.raises(ValueError, match="Notion allows 100"):
        to_rich_text("x" * (2000 * 100 + 1))


def test_comment_marker_is_a_short_visible_tag_that_round_trips() -> None:
    items = comment_rich_text("Looks good", KEY)
    assert items[-1]["text"]["content"] == " [pmtui:0123456789ab]"
    assert items[-1]["annotations"] == {"color": "gray"}
    raw = {"rich_text": [{"plain_text": i["text"]["content"]} for i in items]}
    assert comment_text(raw) == ("Looks good", "0123456789ab")
    assert comment_text({"rich_text": [{"plain_text": "plain"}]}) == ("plain", None)
    html = {"rich_text": [{"plain_text": "moved " + marker_comment(KEY)}]}
    assert comment_text(html) == ("moved", None)
    assert len(comment_tag("not hex at all")) == 12
    assert comment_tag("not hex at all") != comment_tag("not hex at al1")


def test_changes_query_starts_at_the_cursor_itself_including_its_minute() -> None:
    assert changes_query(None) == {
        "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}],
        "page_size": 100,
    }
    body = changes_query(datetime(2026, 11, 24, 10, 17, tzinfo=UTC))
    assert body["filter"] == {
        "timestamp": "last_edited_time",
        "last_edited_time": {"on_or_after": "2026-11-24T10:17:00+00:00"},
    }


def test_next_window_starts_a_margin_before_the_listings_server_time() -> None:
    at = datetime(2026, 11, 24, 10, 20, 5, tzinfo=UTC)
    since, latest = datetime(2026, 11, 24, 9, 0, tzinfo=UTC), datetime(2026, 11, 24, 10, 19, tzinfo=UTC)
    # 10:20:05 less the minute of margin is 10:19:05: that minute, since an edit then is stamped 10:19.
    assert next_window(at, since, latest) == datetime(2026, 11, 24, 10, 19, tzinfo=UTC)
    assert next_window(at, since, datetime(2026, 11, 1, tzinfo=UTC)) == datetime(
        2026, 11, 24, 10, 19, tzinfo=UTC
    )
    assert next_window(None, since, latest) == latest  # no Date header: the newest stamp seen
    assert next_window(None, since, None) is None
    # Never before the window this listing started from.
    assert next_window(at, datetime(2026, 11, 24, 10, 20, tzinfo=UTC), latest) == datetime(
        2026, 11, 24, 10, 20, tzinfo=UTC
    )


# ------------------------------------------------------------------------------------------ payloads


def test_create_payload_writes_every_mapped_field_and_the_key() -> None:
    task = Task(
        title=" Write FAQ ",
        description="All the questions.",
        status=Status.IN_PROGRESS,
        priority=Priority.HIGH,
        due=datetime(2026, 12, 1, tzinfo=UTC),
        labels=["docs", "faq"],
        duration_minutes=30,
        assignee="ada@acme.example",
    )
    body = to_payload(
        task_fields(task),
        demo_schema(),
        NAMES,
        creating=True,
        idempotency_key=KEY,
        project_external_id="proj-1",
    )
    assert body == {
        "Name": {"title": [{"type": "text", "text": {"content": "Write FAQ"}}]},
        "Description": {"rich_text": [{"type": "text", "text": {"content": "All the questions."}}]},
        "Status": {"status": {"name": "In progress"}},
        "Priority": {"select": {"name": "high"}},
        "Due": {"date": {"start": "2026-12-01"}},
        "Tags": {"multi_select": [{"name": "docs"}, {"name": "faq"}]},
        "Project": {"relation": [{"id": "proj-1"}]},
        "pmtui key": {"rich_text": [{"type": "text", "text": {"content": KEY}}]},
    }


def test_create_payload_leaves_empty_values_out() -> None:
    body = to_payload(task_fields(Task(title="Bare")), demo_schema(), NAMES, creating=True)
    assert set(body) == {"Name", "Status"}
    assert body["Status"] == {"status": {"name": "Not started"}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"priority": Priority.NONE}, {"Priority": {"select": None}}),
        ({"due": None}, {"Due": {"date": None}}),
        ({"description": None}, {"Description": {"rich_text": []}}),
        ({"labels": []}, {"Tags": {"multi_select": []}}),
        ({"project_id": None}, {"Project": {"relation": []}}),
        ({"project_id": "a-local-id"}, {}),  # only the engine knows local project ids
        ({"status": "done"}, {"Status": {"status": {"name": "Done"}}}),
        (
            {"due": datetime(2026, 12, 1, 9, 30, tzinfo=UTC)},
            {"Due": {"date": {"start": "2026-12-01T09:30:00.000+00:00"}}},
        ),
        ({"due": datetime(2026, 12, 1, tzinfo=UTC)}, {"Due": {"date": {"start": "2026-12-01"}}}),
        (
            {"due": datetime(2026, 12, 1, tzinfo=UTC), "due_all_day": False},
            {"Due": {"date": {"start": "2026-12-01T00:00:00.000+00:00"}}},
        ),
        (
            {"description": "text\n\n" + marker_comment(KEY)},
            {"Description": {"rich_text": [{"type": "text", "text": {"content": "text"}}]}},
        ),
        ({"duration_minutes": 30, "assignee": "x", "milestone_id": "m"}, {}),
    ],
)
def test_update_payload_table(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    assert to_payload(fields, demo_schema(), NAMES) == expected


def test_unmapped_properties_are_not_written() -> None:
    names = NotionProperties(priority="", labels="")
    body = to_payload({"priority": Priority.HIGH, "labels": ["a"], "title": "T"}, demo_schema(), names)
    assert set(body) == {"Name"}


# ----------------------------------------------------------------------------------------- round trip


def read_form(properties: dict[str, Any], schema: DataSourceSchema) -> dict[str, Any]:
    """What Notion shows for the properties a page was written with (write form -> read form)."""
    out: dict[str, Any] = {}
    for name, value in properties.items():
        kind = schema.properties[name].type
        written = value[kind]
        if kind in ("title", "rich_text"):
            shown: Any = [{"type": "text", "plain_text": i["text"]["content"]} for i in written]
        elif kind in ("status", "select"):
            shown = {"id": "x", "name": written["name"], "color": "default"} if written else None
        elif kind == "multi_select":
            shown = [{"id": "x", "name": i["name"]} for i in written]
        elif kind == "date":
            shown = dict(written, end=None, time_zone=None) if written else None
        else:
            shown = written
        out[name] = {"id": schema.properties[name].id, "type": kind, kind: shown}
    return out


def page(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "object": "page",
        "id": "page-1",
        "created_time": "2026-11-24T10:15:00.000Z",
        "last_edited_time": "2026-11-24T10:16:00.000Z",
        "parent": {"type": "data_source_id", "data_source_id": "tasks-ds", "database_id": "db"},
        "url": "https://www.notion.so/page1",
        "in_trash": False,
        "archived": False,
        "properties": properties,
        **extra,
    }


def test_to_remote_task_reads_every_field() -> None:
    schema = demo_schema()
    remote = to_remote_task(
        page(
            {
                "Name": {"type": "title", "title": [{"plain_text": "Write "}, {"plain_text": "FAQ"}]},
                "Status": {"type": "status", "status": {"name": "Done"}},
                "Priority": {"type": "select", "select": {"name": "Urgent"}},
                "Due": {"type": "date", "date": {"start": "2026-12-01", "end": "2026-12-03"}},
                "Tags": {"type": "multi_select", "multi_select": [{"name": "docs"}]},
                "Project": {"type": "relation", "relation": [{"id": "p1"}, {"id": "p2"}], "has_more": False},
                "Description": {
                    "type": "rich_text",
                    "rich_text": [{"plain_text": "Body " + marker_comment("z")}],
                },
                "pmtui key": {"type": "rich_text", "rich_text": [{"plain_text": KEY}]},
            }
        ),
        schema,
        NAMES,
    )
    task = remote.task
    assert (task.title, task.status, task.priority, task.labels) == (
        "Write FAQ",
        Status.DONE,
        Priority.URGENT,
        ["docs"],
    )
    assert (task.due, task.due_all_day) == (datetime(2026, 12, 1, tzinfo=UTC), True)
    assert task.description == "Body"
    assert task.kind is TaskKind.DOCUMENTATION
    assert remote.project_external_id == "p1"
    assert remote.ref.idempotency_key == KEY
    assert remote.ref.service is Service.NOTION
    assert remote.ref.container == "tasks-ds"
    assert remote.ref.url == "https://www.notion.so/page1"
    assert remote.ref.remote_updated_at == datetime(2026, 11, 24, 10, 16, tzinfo=UTC)
    assert task.created_at == NOW_MINUTE
    assert remote.extra["due_end"] == "2026-12-03"
    assert remote.deleted is False


def test_to_remote_task_trashed_and_empty_page() -> None:
    remote = to_remote_task(page({}, in_trash=True), demo_schema(), NAMES)
    assert remote.deleted is True
    assert remote.task.deleted is True
    assert remote.task.title == "(untitled)"
    assert (remote.task.status, remote.task.priority, remote.task.due) == (Status.TODO, Priority.NONE, None)
    assert to_remote_task(page({}, in_trash=None, archived=True), None, NAMES).deleted is True


label = (
    st.text(
        st.characters(codec="utf-8", exclude_characters=",", exclude_categories=["Cs", "Cc"]),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=4500).filter(
    lambda s: "<!--" not in s
)
minute_dt = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(  # noqa: DTZ001 - hypothesis wants naive bounds
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=UTC)
)


@st.composite
def canonical_tasks(draw: st.DrawFn) -> Task:
    all_day = draw(st.booleans())
    due = draw(st.none() | minute_dt)
    if due is not None and all_day:
        due = due.replace(hour=0, minute=0, second=0, microsecond=0)
    return Task(
        title=draw(st.text(min_size=1, max_size=300).map(str.strip).filter(bool)),
        description=draw(text),
        status=draw(st.sampled_from([Status.TODO, Status.IN_PROGRESS, Status.DONE, Status.CANCELED])),
        priority=draw(st.sampled_from(list(Priority))),
        due=due,
        due_all_day=all_day if due is not None else True,
        labels=draw(st.lists(label, max_size=5)),
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(task=canonical_tasks(), project=st.none() | st.uuids().map(str))
def test_round_trip_is_lossless(task: Task, project: str | None) -> None:
    schema = demo_schema(Status=STATUS_PROP)
    body = to_payload(
        task_fields(task), schema, NAMES, creating=True, idempotency_key=KEY, project_external_id=project
    )
    remote = to_remote_task(page(read_form(body, schema)), schema, NAMES)
    for name in ("title", "description", "status", "priority", "due", "due_all_day", "labels"):
        assert getattr(remote.task, name) == getattr(task, name), name
    assert remote.project_external_id == project
    assert remote.ref.idempotency_key == KEY


# ----------------------------------------------------------------------------------- error mapping


def api_error(status: int, code: str, message: str = "msg", headers: dict[str, str] | None = None) -> Any:
    return APIResponseError(
        code=code,
        status=status,
        message=message,
        headers=httpx.Headers(headers or {}),
        raw_body_text=f'{{"object":"error","code":"{code}","message":"{message}"}}',
    )


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (api_error(401, "unauthorized"), AuthError),
        (api_error(403, "restricted_resource"), AuthError),
        (api_error(404, "object_not_found"), NotFoundError),
        (api_error(400, "validation_error", "body failed validation: x"), ValidationError),
        (api_error(400, "invalid_json"), ValidationError),
        (api_error(409, "conflict_error"), TransientError),
        (api_error(429, "rate_limited", headers={"Retry-After": "7"}), RateLimitedError),
        (api_error(500, "internal_server_error"), TransientError),
        (api_error(503, "service_unavailable"), TransientError),
        (api_error(504, "gateway_timeout"), TransientError),
        (
            UnknownHTTPResponseError(529, raw_body_text='{"code":"service_overload","message":"busy"}'),
            TransientError,
        ),
        (
            UnknownHTTPResponseError(400, raw_body_text='{"code":"missing_version","message":"no version"}'),
            ValidationError,
        ),
        (UnknownHTTPResponseError(418, raw_body_text="teapot"), PermanentError),
        (RequestTimeoutError(), TransientError),
        (httpx.RemoteProtocolError("dropped"), TransientError),
        (httpx.ConnectError("refused"), TransientError),
    ],
)
def test_error_translation_table(exc: Exception, kind: type[Exception]) -> None:
    translated = translate_error(exc, "do it")
    assert type(translated) is kind
    assert translated.service == "notion"


def test_error_translation_details() -> None:
    limited = translate_error(api_error(429, "rate_limited", headers={"Retry-After": "7"}), "x")
    assert isinstance(limited, RateLimitedError)
    assert limited.retry_after == 7
    invalid = translate_error(api_error(400, "validation_error", "body failed validation: x"), "x")
    assert invalid.message == "body failed validation: x"
    missing = translate_error(
        UnknownHTTPResponseError(400, raw_body_text='{"code":"missing_version","message":"no version"}'), "x"
    )
    assert missing.message == "no version"
    auth = translate_error(api_error(401, "unauthorized"), "x")
    assert isinstance(auth, AuthError)
    assert auth.env_var == "PMTUI_NOTION_API_KEY"
    assert parse_retry_after(None) is None
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# -------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[NotionEmulator, RunningEmulator]]:
    """One server for the module: stopping a server costs ~0.5 s (the serve loop's poll interval)."""
    emulator = NotionEmulator(clock=Clock(), seed=7)
    with serving(emulator) as running:
        yield emulator, running


@pytest.fixture
def emu(shared: tuple[NotionEmulator, RunningEmulator]) -> NotionEmulator:
    emulator = shared[0]
    emulator.clock.set(NOW, frozen=True)
    emulator.clear_faults()
    emulator.rate_limits_enabled = False
    emulator.seed({"kind": "demo"})
    emulator.reset_counts()
    return emulator


@pytest.fixture
def url(shared: tuple[NotionEmulator, RunningEmulator], emu: NotionEmulator) -> str:
    return shared[1].url


@pytest.fixture
def fake(emu: NotionEmulator) -> FakeTime:
    return FakeTime(emu)


def make_integration(
    url: str, emu: NotionEmulator, fake: FakeTime, *, key: str = DEFAULT_API_KEY, **overrides: Any
) -> NotionIntegration:
    hints = emu.config_hints()
    fields: dict[str, Any] = {
        "base_url": url,
        "tasks_data_source_id": hints["tasks_data_source_id"],
        "projects_data_source_id": hints["projects_data_source_id"],
        **overrides,
    }
    limiter = RateLimiter(600_000, clock=fake.clock, sleep=fake.sleep)
    return NotionIntegration(NotionSettings(**fields), key, limiter=limiter, retry_sleep=fake.sleep)


@pytest.fixture
def notion(url: str, emu: NotionEmulator, fake: FakeTime) -> Iterator[NotionIntegration]:
    integration = make_integration(url, emu, fake)
    yield integration
    integration.close()


def page_id_by_title(emu: NotionEmulator, title: str) -> str:
    for page_id, stored in emu.state["pages"].items():
        if "".join(i["plain_text"] for i in stored["values"].get("title", [])) == title:
            return str(page_id)
    raise AssertionError(title)


# -------------------------------------------------------------------------------------------- health


def test_health_checks_the_schema_and_adds_the_key_property_once(
    notion: NotionIntegration, emu: NotionEmulator
) -> None:
    health = notion.health()
    hints = emu.config_hints()
    assert health.ok, health.detail
    assert health.account == "pmtui sandbox"
    assert health.ids["tasks_data_source_id"] == hints["tasks_data_source_id"]
    assert health.ids["projects_data_source_id"] == hints["projects_data_source_id"]
    assert health.ids["bot_user_id"] == hints["bot_user_id"]
    assert health.detail == "tasks in 'Tasks', projects in 'Projects'"
    schema = emu.state["data_sources"][hints["tasks_data_source_id"]]["properties"]
    assert schema["pmtui key"]["type"] == "rich_text"
    assert notion.health().ok
    counts = emu.request_counts()
    assert counts[SCHEMA_PATCH] == 1
    assert counts["GET /v1/users/me"] == 2


def test_missing_property_names_the_property_and_the_config_key(
    notion: NotionIntegration, emu: NotionEmulator
) -> None:
    emu.admin_mutate({"op": "update", "kind": "data_source", "properties": {"Due": {"name": "Deadline"}}})
    health = notion.health()
    assert not health.ok
    assert "property 'Due' not found in data source 'Tasks'" in health.detail
    assert '[notion.properties] due = "<your name>"' in health.detail
    assert health.hint is not None
    assert "Deadline" in health.hint
    with pytest.raises(ValidationError, match=r"property 'Due' not found.*\[notion\.properties\] due"):
        list(notion.list_changes(None))
    assert emu.request_counts().get(QUERY, 0) == 0


def test_health_without_a_data_source_lists_the_shared_ones(
    url: str, emu: NotionEmulator, fake: FakeTime
) -> None:
    integration = make_integration(url, emu, fake, tasks_data_source_id=None)
    health = integration.health()
    assert not health.ok
    assert health.hint is not None
    assert emu.config_hints()["tasks_data_source_id"] in health.hint
    assert "Tasks (" in health.hint


def test_a_database_id_instead_of_a_data_source_id_is_named(
    url: str, emu: NotionEmulator, fake: FakeTime
) -> None:
    hints = emu.config_hints()
    integration = make_integration(url, emu, fake, tasks_data_source_id=hints["tasks_database_id"])
    with pytest.raises(ValidationError) as caught:
        integration.check_schema()
    assert caught.value.message.startswith(f"{hints['tasks_database_id']} is a database, not a data source")
    assert f"Tasks ({hints['tasks_data_source_id']})" in caught.value.message
    assert "tasks_data_source_id" in (caught.value.hint or "")
    unknown = make_integration(url, emu, fake, tasks_data_source_id="00000000-0000-4000-8000-000000000000")
    assert not unknown.health().ok
    with pytest.raises(NotFoundError):
        unknown.check_schema()


def test_projects_data_source_defaults_to_the_relation_target(
    url: str, emu: NotionEmulator, fake: FakeTime
) -> None:
    integration = make_integration(url, emu, fake, projects_data_source_id=None)
    assert [p.project.name for p in integration.list_projects()] == [
        "Docs sprint",
        "Q1 launch",
        "Website refresh",
    ]


def test_wrong_key_is_an_auth_error_naming_the_env_var(url: str, emu: NotionEmulator, fake: FakeTime) -> None:
    wrong = "ntn_" + "x" * 40
    integration = make_integration(url, emu, fake, key=wrong)
    with pytest.raises(AuthError) as caught:
        integration.get_task("00000000-0000-4000-8000-000000000000")
    error = caught.value
    assert error.service == "notion"
    assert error.env_var == "PMTUI_NOTION_API_KEY"
    assert "PMTUI_NOTION_API_KEY" in (error.hint or "")
    assert wrong not in error.user_text()
    assert emu.request_counts()[SCHEMA_GET] == 1  # not retried
    health = integration.health()
    assert not health.ok
    assert "refused the API key" in health.detail


# --------------------------------------------------------------------------------------------- tasks


def test_create_get_round_trip(notion: NotionIntegration, emu: NotionEmulator) -> None:
    project = page_id_by_title(emu, "Docs sprint")
    long_description = "Intro. " + "x" * 4500
    task = Task(
        title="Write FAQ",
        description=long_description,
        status=Status.IN_PROGRESS,
        priority=Priority.HIGH,
        due=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        due_all_day=False,
        labels=["docs", "faq"],
    )
    created = notion.create_task(task, idempotency_key=KEY, project_external_id=project)
    assert created.ref.idempotency_key == KEY
    assert created.project_external_id == project
    assert created.ref.remote_updated_at == NOW_MINUTE
    fetched = notion.get_task(created.ref.external_id)
    assert fetched is not None
    for name in ("title", "description", "status", "priority", "due", "due_all_day", "labels"):
        assert getattr(fetched.task, name) == getattr(created.task, name) == getattr(task, name), name
    assert fetched.task.kind is TaskKind.DOCUMENTATION
    stored = emu.state["pages"][created.ref.external_id]
    schema = emu.state["data_sources"][emu.config_hints()["tasks_data_source_id"]]["properties"]
    assert [len(i["text"]["content"]) for i in stored["values"][schema["Description"]["id"]]] == [
        2000,
        2000,
        507,
    ]
    assert stored["values"][schema["Due"]["id"]]["start"] == "2026-12-01T09:30:00.000+00:00"
    found = notion.find_by_idempotency_key(KEY)
    assert found is not None
    assert found.ref.external_id == created.ref.external_id


def test_update_complete_clear_and_delete(notion: NotionIntegration, emu: NotionEmulator) -> None:
    created = notion.create_task(
        Task(title="Draft", priority=Priority.LOW, due=datetime(2026, 12, 5, tzinfo=UTC), labels=["a"]),
        idempotency_key=KEY,
        project_external_id=page_id_by_title(emu, "Q1 launch"),
    )
    page_id = created.ref.external_id
    emu.clock.advance(120)
    updated = notion.update_task(
        page_id,
        TaskPatch(
            {"title": "Draft 2", "priority": Priority.NONE, "due": None, "labels": [], "project_id": None}
        ),
    )
    assert (updated.task.title, updated.task.priority, updated.task.due, updated.task.labels) == (
        "Draft 2",
        Priority.NONE,
        None,
        [],
    )
    assert updated.project_external_id is None
    assert updated.ref.remote_updated_at == NOW_MINUTE + timedelta(minutes=2)
    moved = notion.update_task(
        page_id, TaskPatch({}, project_external_id=page_id_by_title(emu, "Docs sprint"))
    )
    assert moved.project_external_id == page_id_by_title(emu, "Docs sprint")
    timed = notion.update_task(
        page_id, TaskPatch({"due": datetime(2026, 12, 6, 15, 0, tzinfo=UTC), "due_all_day": False})
    )
    assert (timed.task.due, timed.task.due_all_day) == (datetime(2026, 12, 6, 15, 0, tzinfo=UTC), False)
    flipped = notion.update_task(page_id, TaskPatch({"due_all_day": True}))
    assert (flipped.task.due, flipped.task.due_all_day) == (datetime(2026, 12, 6, tzinfo=UTC), True)
    assert notion.complete_task(page_id).task.status is Status.DONE
    assert notion.update_task(page_id, TaskPatch({"status": Status.TODO})).task.status is Status.TODO
    assert notion.update_task(page_id, TaskPatch({})).task.title == "Draft 2"
    notion.delete_task(page_id)
    assert emu.state["pages"][page_id]["in_trash"] is True
    gone = notion.get_task(page_id)
    assert gone is not None
    assert gone.deleted
    assert gone.task.deleted
    notion.delete_task(page_id)  # trashing twice is fine
    notion.delete_task("00000000-0000-4000-8000-000000000000")  # so is a page that never existed
    assert notion.get_task("00000000-0000-4000-8000-000000000000") is None
    assert notion.find_by_idempotency_key(KEY) is None  # a trashed page was deleted on purpose


def test_validation_error_carries_notions_message(notion: NotionIntegration, emu: NotionEmulator) -> None:
    page_id = page_id_by_title(emu, "Write API reference")
    emu.admin_mutate({"op": "trash", "kind": "page", "id": page_id})
    with pytest.raises(ValidationError) as caught:
        notion.update_task(page_id, TaskPatch({"title": "Renamed"}))
    assert caught.value.message.startswith("Can't edit block that is archived")
    with pytest.raises(NotFoundError):
        notion.update_task("00000000-0000-4000-8000-000000000000", TaskPatch({"title": "x"}))


def test_status_groups_drive_reads_and_writes(notion: NotionIntegration, emu: NotionEmulator) -> None:
    page_id = page_id_by_title(emu, "Write API reference")
    emu.admin_mutate({"op": "update", "kind": "page", "id": page_id, "fields": {"Status": "Done"}})
    fetched = notion.get_task(page_id)
    assert fetched is not None
    assert fetched.task.status is Status.DONE
    assert fetched.extra["status_group"] == "complete"
    canceled = notion.update_task(page_id, TaskPatch({"status": Status.CANCELED}))
    assert canceled.task.status is Status.DONE  # lossy: the demo's status has no cancel option
    assert emu.request_counts()[SCHEMA_GET] == 1  # the schema is read once


# ----------------------------------------------------------------------------------------- comments


def test_comments_round_trip(notion: NotionIntegration, emu: NotionEmulator) -> None:
    page_id = page_id_by_title(emu, "Write onboarding guide")
    before = notion.list_comments(page_id)
    assert len(before) == 2
    comment_id = notion.add_comment(page_id, "Shipped!", idempotency_key=KEY)
    after = notion.list_comments(page_id)
    assert [c.body for c in after][-1] == "Shipped!"
    assert after[-1].id == comment_id
    assert after[-1].author == emu.state["users"][emu.config_hints()["bot_user_id"]]["name"]
    assert after[-1].created_at == NOW_MINUTE
    stored = emu.state["comments"][comment_id]["rich_text"]
    assert "".join(i["plain_text"] for i in stored) == "Shipped! [pmtui:0123456789ab]"


def test_a_tasks_database_with_id_formula_rollup_and_files_reads_and_keys_by_its_id(
    notion: NotionIntegration, emu: NotionEmulator
) -> None:
    """Most real tasks databases have an ID, a formula, a rollup and files; the ID is the task's handle."""
    emu.admin_mutate(
        {
            "kind": "data_source",
            "op": "update",
            "properties": {
                "ID": {"unique_id": {"prefix": "TASK"}},
                "Due text": {"formula": {"expression": 'prop("Due")'}},
                "Project status": {
                    "rollup": {"relation_property_name": "Project", "rollup_property_name": "Status"}
                },
                "Files": {"files": {}},
            },
        }
    )
    page_id = page_id_by_title(emu, "Write onboarding guide")
    ds = emu.state["data_sources"][emu.config_hints()["tasks_data_source_id"]]
    id_prop = ds["properties"]["ID"]["id"]
    number = emu.state["pages"][page_id]["values"][id_prop]
    tasks = {t.ref.external_id: t for p in notion.list_changes(None) for t in p.items}
    assert tasks[page_id].ref.key == f"TASK-{number}"
    assert len({t.ref.key for t in tasks.values()}) == len(tasks)
    assert all(t.ref.key and t.ref.key.startswith("TASK-") for t in tasks.values())
    assert notion.get_task(page_id).ref.key == f"TASK-{number}"
    created = notion.create_task(Task(title="Numbered on create"), idempotency_key=KEY)
    assert created.ref.key is not None
    assert created.ref.key == f"TASK-{max(int(t.ref.key.split('-')[1]) for t in tasks.values()) + 1}"


def _comment_as_a_person(emu: NotionEmulator, page_id: str, text: str) -> dict[str, Any]:
    person = next(u for u in emu.state["users"].values() if u["type"] == "person")
    emu.admin_mutate(
        {"op": "create", "kind": "comment", "page_id": page_id, "text": text, "user_id": person["id"]}
    )
    return dict(person)


def test_comment_author_is_the_display_name_not_the_user_id(
    notion: NotionIntegration, emu: NotionEmulator, url: str
) -> None:
    """Notion sends only ``{object, id}`` in ``created_by``; the name is in ``display_name`` (issue #21)."""
    page_id = page_id_by_title(emu, "Write onboarding guide")
    person = _comment_as_a_person(emu, page_id, "Looks good to me")
    raw = httpx.get(
        f"{url}/v1/comments",
        params={"block_id": page_id},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}", "Notion-Version": "2025-09-03"},
    ).json()["results"][-1]
    assert raw["created_by"] == {"object": "user", "id": person["id"]}
    assert raw["display_name"] == {"type": "user", "resolved_name": person["name"]}
    emu.reset_counts()
    [comment] = [c for c in notion.list_comments(page_id) if c.body == "Looks good to me"]
    assert comment.author == person["name"] != person["id"]
    assert "GET /v1/users/:user_id" not in emu.request_counts()


def test_comment_author_without_display_name_is_looked_up_once(
    notion: NotionIntegration, emu: NotionEmulator
) -> None:
    page_id = page_id_by_title(emu, "Write onboarding guide")
    person = _comment_as_a_person(emu, page_id, "Older comment")
    authors = {c["created_by"] for c in emu.state["comments"].values() if c["parent"]["page_id"] == page_id}
    emu.comment_display_names = False
    forget_user_names()
    try:
        for _ in range(2):
            [comment] = [c for c in notion.list_comments(page_id) if c.body == "Older comment"]
            assert comment.author == person["name"]
    finally:
        emu.comment_display_names = True
    # One lookup per distinct author, on the first listing only.
    assert emu.request_counts()["GET /v1/users/:user_id"] == len(authors)


def test_comment_commit_drop_leaves_one_comment(notion: NotionIntegration, emu: NotionEmulator) -> None:
    page_id = page_id_by_title(emu, "Write onboarding guide")
    emu.add_fault(Fault("commit_drop", method="POST", path="/v1/comments"))
    comment_id = notion.add_comment(page_id, "Once only", idempotency_key=KEY)
    assert [c.id for c in notion.list_comments(page_id) if c.body == "Once only"] == [comment_id]
    assert emu.request_counts()["POST /v1/comments"] == 1


# ----------------------------------------------------------------------------------------- projects


def test_projects_create_once_and_list(notion: NotionIntegration, emu: NotionEmulator) -> None:
    project = Project(name="Handbook", description="Why.\n\nHow.", status=ProjectStatus.PLANNED)
    created = notion.create_project(project, idempotency_key=KEY)
    again = notion.create_project(project, idempotency_key=KEY)
    assert again.ref.external_id == created.ref.external_id
    assert created.project.status is ProjectStatus.PLANNED
    assert emu.request_counts()["POST /v1/pages"] == 1
    listed = {p.project.name: p for p in notion.list_projects()}
    assert set(listed) == {"Docs sprint", "Q1 launch", "Website refresh", "Handbook"}
    assert listed["Handbook"].ref.idempotency_key == KEY
    children = emu.state["children"][created.ref.external_id]
    assert len(children) == 2


def test_project_commit_drop_is_recovered_by_key(notion: NotionIntegration, emu: NotionEmulator) -> None:
    emu.add_fault(Fault("commit_drop", method="POST", path="/v1/pages"))
    created = notion.create_project(Project(name="Handbook"), idempotency_key=KEY)
    assert [p.ref.external_id for p in notion.list_projects() if p.project.name == "Handbook"] == [
        created.ref.external_id
    ]
    assert emu.request_counts()["POST /v1/pages"] == 1


# ------------------------------------------------------------------------------------------ listing


def test_full_listing_of_1000_plus_pages_costs_ceil_n_over_100(
    notion: NotionIntegration, emu: NotionEmulator
) -> None:
    emu.seed({"kind": "bulk", "n": 1050})
    total = len(emu.state["data_sources"][emu.config_hints()["tasks_data_source_id"]]["page_ids"])
    emu.reset_counts()
    pages = list(notion.list_changes(None))
    ids = [item.ref.external_id for p in pages for item in p.items]
    assert total == 1080
    assert len(ids) == len(set(ids)) == total
    assert [p.last for p in pages] == [False] * (len(pages) - 1) + [True]
    counts = emu.request_counts()
    assert counts[QUERY] == math.ceil(total / 100) == 11
    assert counts["total"] == counts[QUERY] + 2  # + the schema read and the key property, once
    # Each page's cursor is the newest edit time seen so far, so it is safe to store after that page; the
    # last one is where the next window starts: the server's minute (10:15:30 here) less the margin.
    seen: list[datetime] = []
    for change_page in pages[:-1]:
        seen.extend(i.ref.remote_updated_at for i in change_page.items if i.ref.remote_updated_at)
        assert change_page.cursor == max(seen).isoformat()
    seen.extend(i.ref.remote_updated_at for i in pages[-1].items if i.ref.remote_updated_at)
    assert seen == sorted(seen)
    assert pages[-1].cursor == (NOW_MINUTE - timedelta(minutes=1)).isoformat()


def test_incremental_listing_returns_changed_pages_and_only_the_margin_before_the_last_listing(
    notion: NotionIntegration, emu: NotionEmulator
) -> None:
    first = list(notion.list_changes(None))
    cursor = first[-1].cursor
    assert cursor is not None
    emu.clock.advance(600)
    changed = [page_id_by_title(emu, t) for t in ("Write API reference", "Glossary of terms")]
    emu.admin_mutate({"op": "update", "kind": "page", "id": changed[0], "fields": {"Status": "Done"}})
    emu.admin_mutate({"op": "update", "kind": "page", "id": changed[1], "fields": {"Priority": "Urgent"}})
    created = emu.admin_mutate({"op": "create", "kind": "page", "fields": {"Name": "From the web"}})
    trashed = page_id_by_title(emu, "Write onboarding guide")
    emu.admin_mutate({"op": "trash", "kind": "page", "id": trashed})
    emu.reset_counts()
    pages = list(notion.list_changes(cursor))
    items = {i.ref.external_id: i for p in pages for i in p.items}
    assert emu.request_counts() == {QUERY: 1, "total": 1}
    assert set(changed) | {created["id"]} <= set(items)
    assert trashed not in items  # deletions are confirmed by get_task, not listed
    old_cursor = datetime.fromisoformat(cursor)
    assert old_cursor == NOW_MINUTE - timedelta(minutes=1)  # the first listing ran at 10:15:30
    overlap = {k: v for k, v in items.items() if k not in set(changed) | {created["id"]}}
    assert len(overlap) < 5
    for item in overlap.values():  # only what was edited in the minute before the first listing
        assert item.ref.remote_updated_at is not None
        assert old_cursor <= item.ref.remote_updated_at <= NOW_MINUTE
    assert items[changed[0]].task.status is Status.DONE
    assert pages[-1].cursor == (NOW_MINUTE + timedelta(minutes=9)).isoformat()
    gone = notion.get_task(trashed)
    assert gone is not None
    assert gone.deleted


def test_nothing_changed_costs_exactly_one_request(notion: NotionIntegration, emu: NotionEmulator) -> None:
    emu.seed({"kind": "bulk", "n": 300})
    cursor = None
    for change_page in notion.list_changes(None):
        cursor = change_page.cursor
    emu.clock.advance(3600)
    emu.reset_counts()
    pages = list(notion.list_changes(cursor))
    assert emu.request_counts() == {QUERY: 1, "total": 1}
    assert len(pages) == 1
    assert pages[0].last
    # Only what was edited in the minute before the first listing (10:15:30) is read again ...
    assert all(
        i.ref.remote_updated_at is not None
        and datetime.fromisoformat(cursor or "") <= i.ref.remote_updated_at <= NOW_MINUTE
        for i in pages[0].items
    )
    # ... and the window moves to this listing's time (11:15:30) less the margin: the next reads nothing.
    assert pages[0].cursor == (NOW_MINUTE + timedelta(minutes=59)).isoformat()
    emu.clock.advance(3600)
    emu.reset_counts()
    again = list(notion.list_changes(pages[0].cursor))
    assert emu.request_counts() == {QUERY: 1, "total": 1}
    assert [i for p in again for i in p.items] == []


def test_an_unreadable_cursor_lists_everything(notion: NotionIntegration, emu: NotionEmulator) -> None:
    items = [i for p in notion.list_changes("not a time") for i in p.items]
    assert len(items) == 30


# ------------------------------------------------------------------------------------------- faults


def test_retry_after_is_never_retried_early(
    notion: NotionIntegration, emu: NotionEmulator, fake: FakeTime
) -> None:
    page_id = page_id_by_title(emu, "Write API reference")
    notion.check_schema()
    emu.reset_counts()
    emu.add_fault(Fault("rate_limit", value=7, count=2, method="GET", path="/v1/pages/"))
    started = fake.now
    fetched = notion.get_task(page_id)
    assert fetched is not None
    assert fetched.task.title == "Write API reference"
    assert emu.request_counts()["GET /v1/pages/:page_id"] == 3  # the client's own retry is off
    assert fake.now - started >= 14  # two Retry-Afters of 7 s, each waited in full
    assert all(s >= 7 for s in fake.sleeps)


def test_real_rate_limit_waits_instead_of_failing(url: str, emu: NotionEmulator, fake: FakeTime) -> None:
    notion = make_integration(url, emu, fake)
    notion.check_schema()
    emu.limiter = type(emu.limiter)(5, 60.0, emu.clock)
    emu.rate_limits_enabled = True
    emu.reset_counts()
    for _ in range(8):
        assert notion.get_task(page_id_by_title(emu, "Glossary of terms")) is not None
    counts = emu.request_counts()
    assert counts["GET /v1/pages/:page_id"] == 9  # one 429, then a wait for the window
    assert sum(fake.sleeps) >= 1


def test_server_error_burst_recovers(notion: NotionIntegration, emu: NotionEmulator) -> None:
    page_id = page_id_by_title(emu, "Write API reference")
    emu.add_fault(Fault("error", value=503, count=3, method="GET", path="/v1/pages/"))
    assert notion.get_task(page_id) is not None
    assert emu.request_counts()["GET /v1/pages/:page_id"] == 4
    emu.add_fault(Fault("error", value=500, count=2, method="POST", path=QUERY))
    assert sum(len(p.items) for p in notion.list_changes(None)) == 30
    emu.add_fault(Fault("error", value=502, count=2, method="PATCH", path="/v1/pages/"))
    assert notion.update_task(page_id, TaskPatch({"title": "Renamed"})).task.title == "Renamed"
    emu.add_fault(Fault("reset", count=1, method="PATCH", path="/v1/pages/"))
    assert notion.update_task(page_id, TaskPatch({"title": "Again"})).task.title == "Again"


def test_a_failed_create_is_not_retried_blindly(notion: NotionIntegration, emu: NotionEmulator) -> None:
    notion.check_schema()
    emu.add_fault(Fault("error", value=503, count=1, method="POST", path="/v1/pages"))
    with pytest.raises(TransientError):
        notion.create_task(Task(title="Maybe"), idempotency_key=KEY)
    assert emu.request_counts()["POST /v1/pages"] == 1
    assert notion.find_by_idempotency_key(KEY) is None


def test_commit_drop_on_create_leaves_one_page_after_recovery(
    notion: NotionIntegration, emu: NotionEmulator
) -> None:
    task = Task(title="Dropped answer")
    emu.add_fault(Fault("commit_drop", method="POST", path="/v1/pages"))
    with pytest.raises(TransientError):
        notion.create_task(task, idempotency_key=KEY)
    found = notion.find_by_idempotency_key(KEY, task)
    assert found is not None
    assert found.task.title == "Dropped answer"
    assert emu.request_counts()["POST /v1/pages"] == 1
    titled = [
        p
        for p in emu.state["pages"].values()
        if "".join(i["plain_text"] for i in p["values"].get("title", [])) == "Dropped answer"
    ]
    assert len(titled) == 1
