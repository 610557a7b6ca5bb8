"""The Linear integration against the Linear emulator over real HTTP, and its pure mapping by tables.

The emulator's clock is frozen at Tuesday 2026-11-24 10:00 UTC and its rate limit is off except where a
test turns it on. Every integration gets a limiter and a retry sleep on a fake clock (sleeping also
moves the emulator's clock), so nothing here really sleeps.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from gql import Client
from gql.transport.httpx import HTTPXTransport
from graphql import parse, print_ast, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtui.config import LinearSettings
from pmtui.errors import (
    AuthError,
    NotConfiguredError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from pmtui.integrations import linear_queries as q
from pmtui.integrations.base import ChangePage, TaskPatch
from pmtui.integrations.limits import RateLimiter
from pmtui.integrations.linear import (
    AlreadyExistsError,
    LinearIntegration,
    parse_retry_after,
    translate_query_errors,
    translate_status,
)
from pmtui.integrations.linear_mapping import (
    due_from_linear,
    due_to_linear,
    key_to_uuid,
    label_index,
    pick_state,
    priority_from_linear,
    priority_to_linear,
    project_payload,
    status_from_state_type,
    task_fields,
    to_comment,
    to_payload,
    to_remote_project,
    to_remote_task,
    user_index,
    uuid_to_key,
)
from pmtui.models import Priority, Project, ProjectStatus, Service, Status, Task, TaskKind
from pmtui.sandbox.linear import DEFAULT_API_KEY, LinearEmulator, LinearRateLimits
from pmtui.sandbox.linear_schema import estimate_complexity, linear_schema, prepare
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, serving

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
KEY = "0123456789abcdef0123456789abcdef"
STATES = [
    {"id": "s-triage", "name": "Triage", "type": "triage", "position": 0.0},
    {"id": "s-backlog", "name": "Backlog", "type": "backlog", "position": 1.0},
    {"id": "s-review", "name": "In Review", "type": "started", "position": 4.0},
    {"id": "s-todo", "name": "Todo", "type": "unstarted", "position": 2.0},
    {"id": "s-doing", "name": "In Progress", "type": "started", "position": 3.0},
    {"id": "s-done", "name": "Done", "type": "completed", "position": 5.0},
    {"id": "s-canceled", "name": "Canceled", "type": "canceled", "position": 6.0},
    {"id": "s-dup", "name": "Duplicate", "type": "duplicate", "position": 7.0},
]
LABELS = {"bug": "l-bug", "feature": "l-feature", "ops": "l-ops"}
LABEL_NAMES = {"l-bug": "Bug", "l-feature": "Feature", "l-ops": "ops"}
USERS = [{"id": "u-sam", "name": "Sam Chen", "displayName": "sam", "email": "sam@acme.example"}]


class FakeTime:
    """A clock and sleep for the limiter and retries; sleeping also moves the emulator's clock."""

    def __init__(self, emulator: LinearEmulator | None = None) -> None:
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

    def wall(self) -> float:
        """Epoch seconds as the emulator sees them (its reset headers are on its clock)."""
        return self.emulator.clock.time() if self.emulator is not None else NOW.timestamp()


# -------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[LinearEmulator, RunningEmulator]]:
    """One server for the module: stopping a server costs ~0.5 s (the serve loop's poll interval)."""
    emulator = LinearEmulator(clock=Clock(), seed=7)
    with serving(emulator) as running:
        yield emulator, running


@pytest.fixture
def emu(shared: tuple[LinearEmulator, RunningEmulator]) -> LinearEmulator:
    emulator = shared[0]
    emulator.clock.set(NOW, frozen=True)
    emulator.clear_faults()
    emulator.rate_limits_enabled = False
    emulator.configure_rate_limits(LinearRateLimits())
    emulator.seed({"kind": "demo"})
    emulator.reset_counts()
    return emulator


@pytest.fixture
def url(shared: tuple[LinearEmulator, RunningEmulator], emu: LinearEmulator) -> str:
    return shared[1].url


@pytest.fixture
def fake(emu: LinearEmulator) -> FakeTime:
    return FakeTime(emu)


def make_integration(
    url: str,
    fake: FakeTime,
    *,
    key: str = DEFAULT_API_KEY,
    team_key: str | None = "ENG",
    per_minute: float = 600_000,
    client: Client | None = None,
) -> LinearIntegration:
    settings_ = LinearSettings(base_url=url, team_key=team_key)
    limiter = RateLimiter(per_minute, clock=fake.clock, sleep=fake.sleep)
    return LinearIntegration(
        settings_, key, client=client, limiter=limiter, retry_sleep=fake.sleep, now=fake.wall
    )


@pytest.fixture
def li(url: str, fake: FakeTime) -> Iterator[LinearIntegration]:
    integration = make_integration(url, fake)
    yield integration
    integration.close()


def counts(emu: LinearEmulator, field: str) -> int:
    return emu.request_counts().get(f"graphql:{field}", 0)


def drain(pages: Iterator[ChangePage]) -> list[ChangePage]:
    return list(pages)


def live_issues(emu: LinearEmulator, title: str) -> list[dict[str, Any]]:
    return [i for i in emu.state["issues"].values() if i["title"] == title]


# ---------------------------------------------------------------------------------------- documents


def test_every_document_is_valid_against_linears_schema() -> None:
    schema = linear_schema()
    assert len(q.DOCUMENTS) >= 15
    for name, text in q.DOCUMENTS.items():
        errors = validate(schema, parse(text))
        assert errors == [], f"{name}: {[e.message for e in errors]}"


def test_every_document_fits_the_complexity_cap_with_the_issue_page_at_250() -> None:
    assert q.ISSUE_PAGE_SIZE == 250
    costs: dict[str, int] = {}
    for name, text in q.DOCUMENTS.items():
        first = q.ISSUE_PAGE_SIZE if name == "ISSUES_CHANGED" else q.LIST_PAGE_SIZE
        variables = {"first": first, "withMilestones": True, "withTeam": True}  # the first page: all of it
        costs[name] = estimate_complexity(prepare(print_ast(parse(text))), None, variables)
    assert max(costs.values()) < LinearRateLimits().max_query_complexity
    assert 1_000 < costs["ISSUES_CHANGED"] < 3_000  # labelIds instead of a nested labels connection
    nested = q.ISSUES_CHANGED.replace("labelIds", "labels(first: 50) { nodes { id name } }")
    assert estimate_complexity(prepare(nested), None, {"first": 250}) > 10_000  # why labelIds


# ------------------------------------------------------------------------------------ mapping tables


@pytest.mark.parametrize(
    ("state_type", "expected"),
    [
        ("triage", Status.TODO),
        ("backlog", Status.TODO),
        ("unstarted", Status.TODO),
        ("started", Status.IN_PROGRESS),
        ("completed", Status.DONE),
        ("canceled", Status.CANCELED),
        ("duplicate", Status.CANCELED),
        ("something-new", Status.TODO),
        (None, Status.TODO),
    ],
)
def test_status_read_table(state_type: str | None, expected: Status) -> None:
    assert status_from_state_type(state_type) is expected


@pytest.mark.parametrize(
    ("status", "state_id"),
    [
        (Status.TODO, "s-todo"),
        (Status.IN_PROGRESS, "s-doing"),  # the first "started" state by position, not "In Review"
        (Status.DONE, "s-done"),
        (Status.CANCELED, "s-canceled"),
        ("in_progress", "s-doing"),
    ],
)
def test_status_write_picks_the_first_state_of_the_type(status: Status | str, state_id: str) -> None:
    assert pick_state(STATES, status) == state_id


def test_status_write_without_a_state_of_the_type_is_refused() -> None:
    with pytest.raises(ValueError, match="completed"):
        pick_state([s for s in STATES if s["type"] != "completed"], Status.DONE)


@pytest.mark.parametrize(
    ("linear", "canonical"),
    [(0, Priority.NONE), (1, Priority.URGENT), (2, Priority.HIGH), (3, Priority.MEDIUM), (4, Priority.LOW)],
)
def test_priority_table_both_ways(linear: int, canonical: Priority) -> None:
    assert priority_from_linear(linear) is canonical
    assert priority_from_linear(float(linear)) is canonical
    assert priority_to_linear(canonical) == linear


def test_unknown_priority_reads_as_none() -> None:
    assert priority_from_linear(None) is Priority.NONE
    assert priority_from_linear(9) is Priority.NONE


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (datetime(2026, 12, 1, tzinfo=UTC), "2026-12-01"),
        (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "2026-12-01"),
        (datetime(2026, 12, 1, 23, 30, tzinfo=UTC).astimezone(), "2026-12-01"),
        (date(2026, 12, 1), "2026-12-01"),
        ("2026-12-01", "2026-12-01"),
        ("2026-12-01T00:00:00+00:00", "2026-12-01"),
    ],
)
def test_due_write_table(value: Any, expected: str | None) -> None:
    assert due_to_linear(value) == expected


def test_due_read_is_midnight_utc() -> None:
    assert due_from_linear("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    assert due_from_linear(None) is None


def test_keys_are_uuids_and_back() -> None:
    assert key_to_uuid(KEY) == "01234567-89ab-cdef-0123-456789abcdef"
    assert uuid_to_key(key_to_uuid(KEY)) == KEY
    assert key_to_uuid("not hex") == key_to_uuid("not hex")  # stable for odd keys too
    uuid.UUID(key_to_uuid("not hex"))


def test_label_index_prefers_team_labels_and_skips_groups_and_other_teams() -> None:
    labels = [
        {"id": "w-bug", "name": "Bug", "isGroup": False, "team": None},
        {"id": "t-bug", "name": "bug", "isGroup": False, "team": {"id": "team"}},
        {"id": "g", "name": "Area", "isGroup": True, "team": None},
        {"id": "o", "name": "Other", "isGroup": False, "team": {"id": "elsewhere"}},
    ]
    assert label_index(labels, "team") == {"bug": "t-bug"}


def test_user_index_matches_display_name_name_and_email() -> None:
    index = user_index(USERS)
    assert index["sam"] == index["sam chen"] == index["sam@acme.example"] == "u-sam"


def test_create_payload_carries_id_team_and_every_field() -> None:
    task = Task(
        title="Ship it",
        description="Body",
        status=Status.IN_PROGRESS,
        priority=Priority.URGENT,
        due=datetime(2026, 12, 3, tzinfo=UTC),
        labels=["bug", "Ops"],
        assignee="Sam",
    )
    body = to_payload(
        task_fields(task),
        states=STATES,
        labels=LABELS,
        users=user_index(USERS),
        project_external_id="p1",
        creating=True,
        team_id="team",
        idempotency_key=KEY,
    )
    assert body == {
        "teamId": "team",
        "id": key_to_uuid(KEY),
        "title": "Ship it",
        "description": "Body",
        "stateId": "s-doing",
        "priority": 1,
        "dueDate": "2026-12-03",
        "labelIds": ["l-bug", "l-ops"],
        "assigneeId": "u-sam",
        "projectId": "p1",
    }


def test_create_payload_leaves_out_what_is_empty() -> None:
    body = to_payload(
        task_fields(Task(title="t")), states=STATES, creating=True, team_id="team", idempotency_key=KEY
    )
    assert body == {
        "teamId": "team",
        "id": key_to_uuid(KEY),
        "title": "t",
        "description": "",
        "stateId": "s-todo",
        "priority": 0,
    }


@pytest.mark.parametrize(
    ("fields", "project", "expected"),
    [
        ({"title": "New"}, None, {"title": "New"}),
        ({"due": None}, None, {"dueDate": None}),
        ({"assignee": None}, None, {"assigneeId": None}),
        ({"labels": []}, None, {"labelIds": []}),
        ({"project_id": None}, None, {"projectId": None}),
        ({"project_id": "local"}, "remote", {"projectId": "remote"}),
        ({"status": Status.DONE, "priority": "low"}, None, {"stateId": "s-done", "priority": 4}),
        ({"description": None}, None, {"description": ""}),
        ({"duration_minutes": 30, "due_all_day": True}, None, {}),
    ],
)
def test_update_payload_table(fields: dict[str, Any], project: str | None, expected: dict[str, Any]) -> None:
    assert to_payload(fields, states=STATES, labels=LABELS, project_external_id=project) == expected


def test_payload_refuses_unknown_labels_and_assignees() -> None:
    with pytest.raises(ValueError, match="nope"):
        to_payload({"labels": ["nope"]}, labels=LABELS)
    with pytest.raises(ValueError, match="Nobody"):
        to_payload({"assignee": "Nobody"}, users=user_index(USERS))


def raw_issue(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": key_to_uuid(KEY),
        "identifier": "ENG-7",
        "title": "Fix it",
        "description": "Steps\n\n<!-- pmtui:id=abc -->",
        "priority": 2.0,
        "estimate": 3.0,
        "dueDate": "2026-12-05",
        "url": "https://linear.app/acme/issue/ENG-7/fix-it",
        "createdAt": "2026-11-01T09:00:00.000Z",
        "updatedAt": "2026-11-20T09:00:00.123Z",
        "archivedAt": None,
        "trashed": None,
        "completedAt": None,
        "canceledAt": None,
        "labelIds": ["l-bug", "l-gone"],
        "state": {"id": "s-doing", "name": "In Progress", "type": "started"},
        "team": {"id": "team", "key": "ENG"},
        "project": {"id": "p1"},
        "assignee": {"id": "u-sam", "name": "Sam Chen", "displayName": "sam", "email": "sam@acme.example"},
    }
    raw.update(overrides)
    return raw


def test_to_remote_task_reads_every_field() -> None:
    remote = to_remote_task(raw_issue(), labels=LABEL_NAMES)
    task = remote.task
    assert (task.title, task.description, task.status, task.priority) == (
        "Fix it",
        "Steps",
        Status.IN_PROGRESS,
        Priority.HIGH,
    )
    assert task.due == datetime(2026, 12, 5, tzinfo=UTC)
    assert task.due_all_day
    assert task.labels == ["Bug"]
    assert task.assignee == "sam"
    assert task.kind is TaskKind.ENGINEERING
    assert task.updated_at == datetime(2026, 11, 20, 9, 0, 0, 123000, tzinfo=UTC)
    assert remote.ref.service is Service.LINEAR
    assert remote.ref.external_id == key_to_uuid(KEY)
    assert remote.ref.key == "ENG-7"
    assert remote.ref.container == "ENG"
    assert remote.ref.idempotency_key == KEY
    assert remote.ref.url
    assert remote.ref.url.endswith("fix-it")
    assert remote.project_external_id == "p1"
    assert not remote.deleted
    assert remote.extra["estimate"] == 3.0
    assert remote.extra["unknown_label_ids"] == ["l-gone"]


@pytest.mark.parametrize(
    ("overrides", "deleted", "status"),
    [
        ({"archivedAt": "2026-11-21T00:00:00.000Z"}, True, Status.IN_PROGRESS),
        ({"archivedAt": "2026-11-21T00:00:00.000Z", "trashed": True}, True, Status.IN_PROGRESS),
        (
            {"state": {"id": "x", "name": "Dup", "type": "duplicate"}, "canceledAt": "2026-11-21T00:00:00Z"},
            False,
            Status.CANCELED,
        ),
    ],
)
def test_archived_and_trashed_issues_are_deleted(
    overrides: dict[str, Any], deleted: bool, status: Status
) -> None:
    remote = to_remote_task(raw_issue(**overrides), labels=LABEL_NAMES)
    assert remote.deleted is deleted
    assert remote.task.deleted is deleted
    assert remote.task.status is status
    if status.is_closed:
        assert remote.task.completed_at == datetime(2026, 11, 21, tzinfo=UTC)


def test_project_and_comment_mapping() -> None:
    project = to_remote_project(
        {
            "id": key_to_uuid(KEY),
            "name": "Launch",
            "description": "Go",
            "slugId": "abc",
            "url": "u",
            "startDate": "2026-11-01",
            "targetDate": "2026-12-01",
            "createdAt": "2026-10-01T00:00:00Z",
            "updatedAt": "2026-10-02T00:00:00Z",
            "archivedAt": None,
            "status": {"id": "x", "type": "started"},
        }
    )
    assert project.project.name == "Launch"
    assert project.project.status is ProjectStatus.ACTIVE
    assert project.project.due == date(2026, 12, 1)
    assert project.ref.idempotency_key == KEY
    body = project_payload(Project(name="Launch", due=date(2026, 12, 1)), team_id="team", idempotency_key=KEY)
    assert body == {"id": key_to_uuid(KEY), "name": "Launch", "teamIds": ["team"], "targetDate": "2026-12-01"}
    comment = to_comment(
        {
            "id": "c1",
            "body": "Hi",
            "createdAt": "2026-11-02T00:00:00Z",
            "user": {"name": "Sam Chen", "displayName": "sam"},
        },
        "issue",
    )
    assert comment is not None
    assert (comment.body, comment.author, comment.task_id) == ("Hi", "sam", "issue")
    assert to_comment({"id": "c2", "body": "  "}, "issue") is None


# ---------------------------------------------------------------------------------- lossless round trip

TITLES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s.strip() != "")
DUES = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2100, 1, 1)))
NAMES = st.sampled_from(["Bug", "Feature", "ops"])


def linear_applies(body: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """What Linear stores for an issueCreate/issueUpdate input, rendered as IssueFields selects it."""
    raw = dict(old or raw_issue(description="", labelIds=[], assignee=None, project=None, dueDate=None))
    by_state = {s["id"]: s for s in STATES}
    if "title" in body:
        raw["title"] = body["title"]
    if "description" in body:
        raw["description"] = body["description"]
    if "stateId" in body:
        raw["state"] = by_state[body["stateId"]]
    if "priority" in body:
        raw["priority"] = float(body["priority"])
    if "dueDate" in body:
        raw["dueDate"] = body["dueDate"]
    if "labelIds" in body:
        raw["labelIds"] = body["labelIds"]
    if "assigneeId" in body:
        raw["assignee"] = USERS[0] if body["assigneeId"] else None
    if "projectId" in body:
        raw["project"] = {"id": body["projectId"]} if body["projectId"] else None
    return raw


CANONICAL = ("title", "description", "status", "priority", "due", "due_all_day", "labels", "assignee")


@settings(max_examples=60, deadline=None)
@given(
    first=st.builds(
        Task,
        title=TITLES,
        description=st.text(max_size=40).map(str.strip),
        status=st.sampled_from(Status),
        priority=st.sampled_from(Priority),
        due=DUES.map(lambda d: due_from_linear(d.isoformat()) if d else None),
        labels=st.lists(NAMES, max_size=3, unique=True),
        assignee=st.sampled_from([None, "sam"]),
    ),
    second=st.builds(
        Task,
        title=TITLES,
        description=st.text(max_size=40).map(str.strip),
        status=st.sampled_from(Status),
        priority=st.sampled_from(Priority),
        due=DUES.map(lambda d: due_from_linear(d.isoformat()) if d else None),
        labels=st.lists(NAMES, max_size=3, unique=True),
        assignee=st.sampled_from([None, "sam"]),
    ),
)
def test_round_trip_is_lossless(first: Task, second: Task) -> None:
    labels, users = {n.casefold(): i for i, n in LABEL_NAMES.items()}, user_index(USERS)
    created = to_payload(
        task_fields(first),
        states=STATES,
        creating=True,
        team_id="team",
        labels=labels,
        users=users,
        idempotency_key=KEY,
        project_external_id="p1",
    )
    raw = linear_applies(created)
    read = to_remote_task(raw, labels=LABEL_NAMES)
    assert {f: getattr(read.task, f) for f in CANONICAL} == {f: getattr(first, f) for f in CANONICAL}
    assert read.project_external_id == "p1"
    # An update of every field from the first task to the second lands on the second exactly.
    patch = to_payload(task_fields(second), states=STATES, labels=labels, users=users)
    reread = to_remote_task(linear_applies(patch, raw), labels=LABEL_NAMES)
    assert {f: getattr(reread.task, f) for f in CANONICAL} == {f: getattr(second, f) for f in CANONICAL}


# -------------------------------------------------------------------------------------- error tables


def gql_error(message: str, **extensions: Any) -> list[dict[str, Any]]:
    return [{"message": message, "extensions": extensions}]


def test_error_translation_table() -> None:
    now = NOW.timestamp()
    limited = translate_query_errors(
        gql_error("Rate limit exceeded", code="RATELIMITED", type="ratelimited", statusCode=429),
        {"retry-after": "7"},
        "list issues",
        now,
    )
    assert isinstance(limited, RateLimitedError)
    assert limited.retry_after == 7
    by_reset = translate_query_errors(
        gql_error("Rate limit exceeded", code="RATELIMITED"),
        {"X-RateLimit-Requests-Remaining": "0", "X-RateLimit-Requests-Reset": str(int((now + 42) * 1000))},
        "list issues",
        now,
    )
    assert isinstance(by_reset, RateLimitedError)
    assert by_reset.retry_after == pytest.approx(42)
    auth = translate_query_errors(
        gql_error("Authentication required", type="authentication error"), None, "who am I", now
    )
    assert isinstance(auth, AuthError)
    assert auth.env_var == "PMTUI_LINEAR_API_KEY"
    assert auth.service == "linear"
    assert isinstance(translate_query_errors(gql_error("No", type="forbidden"), None, "x", now), AuthError)
    missing = translate_query_errors(
        gql_error("Entity not found: Issue", type="invalid input", statusCode=400), None, "get issue", now
    )
    assert isinstance(missing, NotFoundError)
    exists = translate_query_errors(
        gql_error("Entity already exists: Issue", type="invalid input"), None, "x", now
    )
    assert isinstance(exists, AlreadyExistsError)
    assert isinstance(exists, ValidationError)
    invalid = translate_query_errors(
        gql_error(
            "Argument Validation Error",
            type="invalid input",
            userPresentableMessage="title must not be empty.",
        ),
        None,
        "create issue",
        now,
    )
    assert type(invalid) is ValidationError
    assert invalid.message == "Argument Validation Error: title must not be empty."
    crashed = translate_query_errors(gql_error("boom", type="internal error", statusCode=500), None, "x", now)
    assert isinstance(crashed, TransientError)
    gap = translate_query_errors(
        gql_error("sandbox: no", type="internal error", code="SANDBOX_UNSUPPORTED"), None, "x", now
    )
    assert type(gap) is PermanentError
    assert type(translate_query_errors([{"message": "odd"}], None, "x", now)) is PermanentError
    assert isinstance(translate_status(429, "x", {"Retry-After": "3"}, now), RateLimitedError)
    for status, kind in [
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (400, ValidationError),
        (418, PermanentError),
    ]:
        assert type(translate_status(status, "x", None, now)) is kind, status


def test_retry_after_parsing() -> None:
    now = NOW.timestamp()
    assert parse_retry_after({"Retry-After": "2"}, now) == 2
    assert parse_retry_after(
        {"X-RateLimit-Requests-Remaining": "0", "X-RateLimit-Requests-Reset": str(now + 9)}, now
    ) == pytest.approx(9)
    assert (
        parse_retry_after(
            {"X-RateLimit-Requests-Remaining": "10", "X-RateLimit-Requests-Reset": str(now + 9)}, now
        )
        is None
    )
    assert parse_retry_after(None, now) is None


# --------------------------------------------------------------------------------- against the emulator


def test_create_get_find_round_trip(li: LinearIntegration, emu: LinearEmulator) -> None:
    project = next(p for p in emu.state["projects"].values() if p["archivedAt"] is None)
    task = Task(
        title="Wire up billing",
        description="Use Stripe",
        status=Status.IN_PROGRESS,
        priority=Priority.HIGH,
        due=datetime(2026, 12, 4, tzinfo=UTC),
        labels=["Bug", "tech-debt"],
        assignee="sam",
    )
    created = li.create_task(task, idempotency_key=KEY, project_external_id=project["id"])
    assert created.ref.external_id == key_to_uuid(KEY)
    assert created.ref.key
    assert created.ref.key.startswith("ENG-")
    for remote in (created, li.get_task(created.ref.external_id), li.find_by_idempotency_key(KEY)):
        assert remote is not None
        assert {f: getattr(remote.task, f) for f in CANONICAL} == {f: getattr(task, f) for f in CANONICAL}
        assert remote.project_external_id == project["id"]
        assert remote.ref.idempotency_key == KEY
    assert li.find_by_idempotency_key("f" * 32) is None
    assert li.get_task(str(uuid.uuid4())) is None
    assert counts(emu, "teams") == 1
    assert counts(emu, "team") == 2


def test_update_complete_and_delete_archives(li: LinearIntegration, emu: LinearEmulator) -> None:
    remote = li.create_task(Task(title="Polish"), idempotency_key=KEY)
    ident = remote.ref.external_id
    updated = li.update_task(
        ident,
        TaskPatch(
            {"title": "Polish more", "priority": Priority.LOW, "due": datetime(2026, 12, 9, tzinfo=UTC)}
        ),
    )
    assert (updated.task.title, updated.task.priority) == ("Polish more", Priority.LOW)
    assert updated.task.due == datetime(2026, 12, 9, tzinfo=UTC)
    cleared = li.update_task(ident, TaskPatch({"due": None, "status": Status.IN_PROGRESS}))
    assert cleared.task.due is None
    assert cleared.task.status is Status.IN_PROGRESS
    done = li.complete_task(ident)
    assert done.task.status is Status.DONE
    assert done.task.completed_at is not None
    assert emu.state["workflowStates"][emu.state["issues"][ident]["stateId"]]["name"] == "Done"
    canceled = li.update_task(ident, TaskPatch({"status": Status.CANCELED}))
    assert canceled.task.status is Status.CANCELED
    li.delete_task(ident)
    assert emu.state["issues"][ident]["archivedAt"] is not None  # archived, not destroyed
    gone = li.get_task(ident)
    assert gone is not None
    assert gone.deleted
    li.delete_task(str(uuid.uuid4()))  # a missing issue is not an error
    assert counts(emu, "issueArchive") == 2


def test_labels_are_resolved_and_missing_ones_created_once(
    li: LinearIntegration, emu: LinearEmulator
) -> None:
    first = li.create_task(Task(title="A", labels=["bug", "fresh-label"]), idempotency_key=KEY)
    second = li.create_task(Task(title="B", labels=["Fresh-Label"]), idempotency_key="a" * 32)
    assert first.task.labels == ["Bug", "fresh-label"]
    assert second.task.labels == ["fresh-label"]
    assert counts(emu, "issueLabelCreate") == 1
    made = [x for x in emu.state["issueLabels"].values() if x["name"] == "fresh-label"]
    assert len(made) == 1
    assert made[0]["teamId"] == emu.config_hints()["team_id"]
    dropped = li.update_task(first.ref.external_id, TaskPatch({"labels": ["fresh-label"]}))
    assert dropped.task.labels == ["fresh-label"]


def test_label_created_elsewhere_is_named_after_a_refresh(
    li: LinearIntegration, emu: LinearEmulator, url: str
) -> None:
    drain(li.list_changes(None))
    reads = counts(emu, "issueLabels")
    team_id = emu.config_hints()["team_id"]
    answer = httpx.post(  # someone adds a label in Linear's web app
        f"{url}/graphql",
        headers={"Authorization": DEFAULT_API_KEY},
        timeout=10,
        json={"query": q.LABEL_CREATE, "variables": {"input": {"name": "from-the-web", "teamId": team_id}}},
    )
    label = answer.json()["data"]["issueLabelCreate"]["issueLabel"]
    issue = next(i for i in emu.state["issues"].values() if i["teamId"] == team_id)
    emu.clock.advance(60)
    emu.admin_mutate({"op": "update", "id": issue["id"], "fields": {"labelIds": [label["id"]]}})
    remote = li.get_task(issue["id"])
    assert remote is not None
    assert remote.task.labels == ["from-the-web"]
    assert counts(emu, "issueLabels") == reads + 1


def test_unknown_assignee_and_archived_project_are_validation_errors(
    li: LinearIntegration, emu: LinearEmulator
) -> None:
    with pytest.raises(ValidationError, match="Nobody"):
        li.create_task(Task(title="x", assignee="Nobody"), idempotency_key=KEY)
    project = next(iter(emu.state["projects"].values()))
    emu.admin_mutate({"op": "delete", "kind": "project", "id": project["id"]})
    with pytest.raises(ValidationError, match="archived") as caught:
        li.create_task(Task(title="x"), idempotency_key=KEY, project_external_id=project["id"])
    assert caught.value.service == "linear"
    assert not live_issues(emu, "x")


def test_comments_round_trip_and_are_idempotent(li: LinearIntegration, emu: LinearEmulator) -> None:
    remote = li.create_task(Task(title="Talk"), idempotency_key=KEY)
    first = li.add_comment(remote.ref.external_id, "First!", idempotency_key="c" * 32)
    again = li.add_comment(remote.ref.external_id, "First!", idempotency_key="c" * 32)
    li.add_comment(remote.ref.external_id, "Second", idempotency_key="d" * 32)
    assert first == again == key_to_uuid("c" * 32)
    comments = li.list_comments(remote.ref.external_id)
    assert [c.body for c in comments] == ["First!", "Second"]
    assert comments[0].author == "alex"
    assert sum(1 for c in emu.state["comments"].values() if c["issueId"] == remote.ref.external_id) == 2


def test_projects_are_created_once_by_id(li: LinearIntegration, emu: LinearEmulator) -> None:
    project = Project(name="Launch v2", description="The next one", due=date(2027, 1, 15))
    first = li.create_project(project, idempotency_key=KEY)
    again = li.create_project(project, idempotency_key=KEY)
    assert first.ref.external_id == again.ref.external_id == key_to_uuid(KEY)
    assert [p for p in emu.state["projects"].values() if p["name"] == "Launch v2"] == [
        emu.state["projects"][key_to_uuid(KEY)]
    ]
    listed = {p.ref.external_id: p for p in li.list_projects()}
    assert listed[key_to_uuid(KEY)].project.due == date(2027, 1, 15)
    assert emu.state["projects"][key_to_uuid(KEY)]["teamIds"] == [emu.config_hints()["team_id"]]


def test_full_listing_of_1000_plus_issues_costs_ceil_n_over_250(
    li: LinearIntegration, emu: LinearEmulator
) -> None:
    n = 1_111
    emu.seed({"kind": "bulk", "n": n})
    emu.reset_counts()
    pages = drain(li.list_changes(None))
    assert counts(emu, "issues") == math.ceil(n / q.ISSUE_PAGE_SIZE) == len(pages) == 5
    ids = [item.ref.external_id for page in pages for item in page.items]
    assert len(ids) == len(set(ids)) == n
    assert [p.last for p in pages] == [False] * 4 + [True]
    assert [p.cursor for p in pages[:-1]] == [None] * 4  # only the last page moves the cursor
    newest = max(i["updatedAt"] for i in emu.state["issues"].values())
    assert pages[-1].cursor == newest
    assert counts(emu, "issueLabels") == 1
    assert counts(emu, "teams") == 1


def test_incremental_listing_returns_only_changed_issues(li: LinearIntegration, emu: LinearEmulator) -> None:
    cursor = drain(li.list_changes(None))[-1].cursor
    assert cursor is not None
    issues = list(emu.state["issues"].values())
    eng = emu.config_hints()["team_id"]
    mine = [i for i in issues if i["teamId"] == eng and i["archivedAt"] is None][:3]
    other_team = next(i for i in issues if i["teamId"] != eng)
    emu.clock.advance(120)
    emu.admin_mutate({"op": "update", "id": mine[0]["id"], "fields": {"title": "Renamed"}})
    emu.admin_mutate({"op": "update", "id": mine[1]["id"], "fields": {"priority": 1}})
    emu.admin_mutate({"op": "delete", "id": mine[2]["id"]})
    emu.admin_mutate({"op": "update", "id": other_team["id"], "fields": {"title": "Not ours"}})
    emu.reset_counts()
    pages = drain(li.list_changes(cursor))
    assert counts(emu, "issues") == 1
    assert len(pages) == 1
    assert pages[0].last
    items = {item.ref.external_id: item for item in pages[0].items}
    assert set(items) == {mine[0]["id"], mine[1]["id"], mine[2]["id"]}
    assert items[mine[0]["id"]].task.title == "Renamed"
    assert items[mine[1]["id"]].task.priority is Priority.URGENT
    assert items[mine[2]["id"]].deleted  # trashed issues still arrive, as deletions
    assert pages[0].cursor is not None
    assert pages[0].cursor > cursor


def test_nothing_changed_costs_exactly_one_request(li: LinearIntegration, emu: LinearEmulator) -> None:
    cursor = drain(li.list_changes(None))[-1].cursor
    emu.reset_counts()
    pages = drain(li.list_changes(cursor))
    assert [(len(p.items), p.cursor, p.last) for p in pages] == [(0, cursor, True)]
    assert emu.request_counts()["POST /graphql"] == counts(emu, "issues") == 1


def test_retry_after_is_never_retried_early(url: str, emu: LinearEmulator, fake: FakeTime) -> None:
    sent: list[float] = []
    transport = HTTPXTransport(
        url=f"{url}/graphql",
        headers={"Authorization": DEFAULT_API_KEY},
        timeout=10,
        event_hooks={"request": [lambda _request: sent.append(fake.now)]},
    )
    integration = make_integration(url, fake, client=Client(transport=transport))
    issue_id = next(iter(emu.state["issues"]))
    integration.get_task(issue_id)  # labels read once, so the next get is a single request
    emu.add_fault(Fault(kind="rate_limit", value=7, count=1, path="/graphql"))
    sent.clear()
    remote = integration.get_task(issue_id)
    assert remote is not None
    assert len(sent) == 2
    assert sent[1] - sent[0] >= 7
    integration.close()


def test_real_rate_limit_waits_instead_of_failing(url: str, emu: LinearEmulator, fake: FakeTime) -> None:
    emu.configure_rate_limits(LinearRateLimits(requests=3, period_seconds=60))
    emu.rate_limits_enabled = True
    integration = make_integration(url, fake)
    issue_id = next(iter(emu.state["issues"]))
    for _ in range(6):
        assert integration.get_task(issue_id) is not None
    assert sum(fake.sleeps) >= 20  # three requests' worth of refill at 3 per minute
    integration.close()


def test_server_error_burst_recovers(li: LinearIntegration, emu: LinearEmulator) -> None:
    issue_id = next(iter(emu.state["issues"]))
    li.get_task(issue_id)
    emu.reset_counts()
    emu.add_fault(Fault(kind="error", value=500, count=2, path="/graphql"))
    emu.add_fault(Fault(kind="error", value=503, count=1, after=2, path="/graphql"))  # plain text (proxy)
    assert li.get_task(issue_id) is not None
    assert emu.request_counts()["POST /graphql"] == 4  # two JSON 500s, one plain 503, then the answer
    assert counts(emu, "issue") == 1  # only the answered request reached the resolver


def test_commit_drop_on_create_leaves_one_issue(li: LinearIntegration, emu: LinearEmulator) -> None:
    task = Task(title="Dropped on the way back")
    li.create_task(Task(title="warm-up"), idempotency_key="b" * 32)  # team and states cached
    emu.add_fault(Fault(kind="commit_drop", count=1, path="/graphql"))
    remote = li.create_task(task, idempotency_key=KEY)  # committed, answer lost, retried, refused, fetched
    assert remote.ref.external_id == key_to_uuid(KEY)
    assert counts(emu, "issueCreate") == 3  # warm-up, the dropped one, the refused retry
    assert len(live_issues(emu, task.title)) == 1
    # The caller's recovery path finds the same one and does not create a second.
    found = li.find_by_idempotency_key(KEY, task)
    assert found is not None
    assert found.ref.external_id == remote.ref.external_id
    assert len(live_issues(emu, task.title)) == 1


def test_commit_drop_on_comment_leaves_one_comment(li: LinearIntegration, emu: LinearEmulator) -> None:
    issue_id = next(iter(emu.state["issues"]))
    before = len(emu.state["comments"])
    emu.add_fault(Fault(kind="commit_drop", count=1, path="/graphql"))
    assert li.add_comment(issue_id, "once", idempotency_key=KEY) == key_to_uuid(KEY)
    assert len(emu.state["comments"]) == before + 1


def test_wrong_key_is_an_auth_error_naming_the_env_var(url: str, fake: FakeTime) -> None:
    wrong = "lin_api_wrongwrongwrong"
    integration = make_integration(url, fake, key=wrong)
    with pytest.raises(AuthError) as caught:
        integration.get_task(str(uuid.uuid4()))
    error = caught.value
    assert error.service == "linear"
    assert error.env_var == "PMTUI_LINEAR_API_KEY"
    assert "PMTUI_LINEAR_API_KEY" in (error.hint or "")
    assert wrong not in error.user_text()
    health = integration.health()
    assert not health.ok
    assert "PMTUI_LINEAR_API_KEY" in (health.hint or "")
    assert fake.sleeps == []  # never retried
    integration.close()


def test_health_reports_account_team_and_budget(li: LinearIntegration, emu: LinearEmulator) -> None:
    health = li.health()
    hints = emu.config_hints()
    assert health.ok
    assert health.account == "alex@acme.example"
    assert health.ids == {"team_id": hints["team_id"], "team_key": "ENG", "viewer_id": hints["viewer_id"]}
    assert health.rate_limit == 5000
    assert health.rate_remaining is not None
    assert health.rate_remaining > 0


def test_team_is_the_first_when_unset_and_a_wrong_key_names_the_choices(
    url: str, fake: FakeTime, emu: LinearEmulator
) -> None:
    first = make_integration(url, fake, team_key=None)
    oldest = min(emu.state["teams"].values(), key=lambda t: (t["createdAt"], t["id"]))
    assert first.health().ids["team_key"] == oldest["key"]
    wrong = make_integration(url, fake, team_key="NOPE")
    health = wrong.health()
    assert not health.ok
    assert "NOPE" in health.detail
    assert "ENG" in (health.hint or "")
    with pytest.raises(NotConfiguredError):
        drain(wrong.list_changes(None))
    first.close()
    wrong.close()


def test_a_fresh_integration_reads_its_team_with_the_first_listing_request(
    url: str, fake: FakeTime, emu: LinearEmulator
) -> None:
    """What a `pmtui sync` process with nothing to do costs Linear: one request, not a ``Teams`` lookup
    and then the listing. The key filter finds the same issues the id filter does."""
    eng = next(t for t in emu.state["teams"].values() if t["key"] == "ENG")
    expected = {i["id"] for i in emu.state["issues"].values() if i["teamId"] == eng["id"]}
    warm = make_integration(url, fake, team_key="eng")  # any case, as the settings allow
    by_key = drain(warm.list_changes(None))  # the team unknown: filtered by its key
    by_id = drain(warm.list_changes(None))  # the team known now: filtered by its id
    assert {i.ref.external_id for p in by_key for i in p.items} == expected
    assert {i.ref.external_id for p in by_id for i in p.items} == expected
    cursor = by_key[-1].cursor
    assert cursor is not None
    warm.close()

    emu.reset_counts()
    fresh = make_integration(url, fake, team_key="ENG")
    pages = drain(fresh.list_changes(cursor))
    assert [(p.items, p.last, p.cursor) for p in pages] == [([], True, cursor)]
    assert emu.request_counts()["total"] == 1
    assert counts(emu, "issues") == counts(emu, "teams") == 1
    assert fresh.health().ids["team_id"] == eng["id"]  # the team the listing read is the one in use
    assert counts(emu, "teams") == 1
    fresh.close()


def test_a_wrong_team_key_in_the_first_listing_names_the_choices(url: str, fake: FakeTime) -> None:
    wrong = make_integration(url, fake, team_key="NOPE")
    with pytest.raises(NotConfiguredError) as caught:
        drain(wrong.list_changes("2026-01-01T00:00:00.000Z"))
    assert "NOPE" in str(caught.value)
    assert "ENG" in (caught.value.hint or "")
    wrong.close()


def test_refused_connection_is_transient_after_bounded_retries(fake: FakeTime) -> None:
    integration = make_integration("http://127.0.0.1:9", fake)  # the discard port: nobody listens
    with pytest.raises(TransientError, match="connection to Linear failed"):
        integration.get_task(str(uuid.uuid4()))
    assert len(fake.sleeps) == 4  # five attempts, backoff between them
    integration.close()


def test_bulk_cursor_survives_a_second_incremental_run(li: LinearIntegration, emu: LinearEmulator) -> None:
    emu.seed({"kind": "bulk", "n": 300, "changed_share": 0.02})
    cursor = drain(li.list_changes(None))[-1].cursor
    emu.clock.advance(timedelta(minutes=5).total_seconds())
    target = next(iter(emu.state["issues"]))
    emu.admin_mutate({"op": "update", "id": target, "fields": {"title": "Bumped"}})
    pages = drain(li.list_changes(cursor))
    assert [i.ref.external_id for p in pages for i in p.items] == [target]
    assert drain(li.list_changes(pages[-1].cursor))[0].items == []
