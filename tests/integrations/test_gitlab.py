"""The GitLab integration against the GitLab emulator over real HTTP, and its pure mapping by tables.

The emulator's clock is frozen at Tuesday 2026-11-24 10:00 UTC and its rate limit is off except where a
test turns it on. Every integration gets a limiter and a retry sleep on a fake clock (sleeping also
moves the emulator's clock), so nothing here really sleeps.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import gitlab
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtui.config import GitLabSettings
from pmtui.errors import (
    AuthError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    ServiceError,
    TransientError,
    ValidationError,
)
from pmtui.integrations.base import ChangePage, TaskPatch, marker_comment
from pmtui.integrations.gitlab import GitLabIntegration, parse_retry_after, translate_error
from pmtui.integrations.gitlab_mapping import (
    canonical_labels,
    due_from_gitlab,
    due_to_gitlab,
    label_changes,
    merge_request_summary,
    milestone_id_of,
    priority_from_labels,
    service_message,
    status_from_issue,
    task_fields,
    to_comment,
    to_payload,
    to_remote_project,
    to_remote_task,
)
from pmtui.integrations.limits import RateLimiter
from pmtui.models import Priority, Project, ProjectStatus, Service, Status, Task, TaskKind
from pmtui.sandbox.gitlab import DEFAULT_API_KEY, GitLabEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, WindowLimiter, iso_z, serving

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ISSUES = "GET /api/v4/projects/:id/issues"
ISSUE = "GET /api/v4/projects/:id/issues/:issue_iid"
CREATE = "POST /api/v4/projects/:id/issues"
UPDATE = "PUT /api/v4/projects/:id/issues/:issue_iid"
NOTES = "POST /api/v4/projects/:id/issues/:issue_iid/notes"
MILESTONES = "POST /api/v4/projects/:id/milestones"
KEY = "0123456789abcdef0123456789abcdef"


class FakeTime:
    """A clock and sleep for the limiter and retries; sleeping also moves the emulator's clock."""

    def __init__(self, emulator: GitLabEmulator | None = None) -> None:
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


# -------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[GitLabEmulator, RunningEmulator]]:
    """One server for the module: stopping a server costs ~0.5 s (the serve loop's poll interval)."""
    emulator = GitLabEmulator(clock=Clock(), seed=5)
    with serving(emulator) as running:
        yield emulator, running


@pytest.fixture
def emu(shared: tuple[GitLabEmulator, RunningEmulator]) -> GitLabEmulator:
    emulator = shared[0]
    emulator.clock.set(NOW, frozen=True)
    emulator.clear_faults()
    emulator.rate_limits_enabled = False
    emulator.reset_state()
    emulator.seed({"kind": "demo"})
    emulator.reset_counts()
    return emulator


@pytest.fixture
def url(shared: tuple[GitLabEmulator, RunningEmulator], emu: GitLabEmulator) -> str:
    return shared[1].url


@pytest.fixture
def fake(emu: GitLabEmulator) -> FakeTime:
    return FakeTime(emu)


def make_integration(
    url: str,
    fake: FakeTime,
    *,
    key: str = DEFAULT_API_KEY,
    project: str | None = "acme/app",
    per_minute: float = 600_000,
    client: gitlab.Gitlab | None = None,
    hard_delete: bool = False,
) -> GitLabIntegration:
    settings_ = GitLabSettings(base_url=url, project=project)
    limiter = RateLimiter(per_minute, clock=fake.clock, sleep=fake.sleep)
    return GitLabIntegration(
        settings_, key, client=client, limiter=limiter, retry_sleep=fake.sleep, hard_delete=hard_delete
    )


@pytest.fixture
def gl(url: str, fake: FakeTime) -> Iterator[GitLabIntegration]:
    integration = make_integration(url, fake)
    yield integration
    integration.close()


def drain(pages: Iterator[ChangePage]) -> list[ChangePage]:
    return list(pages)


def issue_record(emu: GitLabEmulator, iid: int) -> dict[str, Any]:
    project = emu.state["projects"]["1"]
    record: dict[str, Any] = emu.state["issues"][str(project["issue_iids"][str(iid)])]
    return record


# ------------------------------------------------------------------------------------ mapping tables


@pytest.mark.parametrize(
    ("state", "labels", "expected"),
    [
        ("opened", [], Status.TODO),
        ("opened", ["bug", "To Do"], Status.TODO),
        ("opened", ["Doing"], Status.IN_PROGRESS),
        ("opened", ["In Progress"], Status.IN_PROGRESS),
        ("opened", ["review"], Status.IN_PROGRESS),
        ("opened", ["To Do", "Review"], Status.IN_PROGRESS),
        ("closed", ["Doing"], Status.DONE),
        ("closed", [], Status.DONE),
    ],
)
def test_status_read_table(state: str, labels: list[str], expected: Status) -> None:
    assert status_from_issue(state, labels) is expected


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([], Priority.NONE),
        (["bug"], Priority.NONE),
        (["priority::low"], Priority.LOW),
        (["priority::medium"], Priority.MEDIUM),
        (["Priority::High"], Priority.HIGH),
        (["priority::urgent"], Priority.URGENT),
        (["priority::low", "priority::urgent", "priority::high"], Priority.URGENT),
        (["priority::someday"], Priority.NONE),
    ],
)
def test_priority_read_table(labels: list[str], expected: Priority) -> None:
    assert priority_from_labels(labels) is expected


def test_canonical_labels_drop_priority_and_stage_labels() -> None:
    labels = ["backend", "Doing", "priority::high", "To Do", "review", "In Progress", "ops::infra", "bug"]
    assert canonical_labels(labels) == ["backend", "ops::infra", "bug"]


@pytest.mark.parametrize(
    ("fields", "current", "add", "remove"),
    [
        ({"status": Status.IN_PROGRESS}, None, ["Doing"], ["To Do"]),
        ({"status": Status.IN_PROGRESS}, ["bug", "To Do"], ["Doing"], ["To Do"]),
        ({"status": Status.IN_PROGRESS}, ["Review"], [], ["To Do"]),
        ({"status": Status.TODO}, None, [], ["Doing", "In Progress", "Review"]),
        ({"status": Status.TODO}, ["doing"], [], ["doing", "Doing", "In Progress", "Review"]),
        ({"status": Status.DONE}, ["Doing"], [], []),
        (
            {"priority": Priority.HIGH},
            None,
            ["priority::high"],
            ["priority::urgent", "priority::medium", "priority::low"],
        ),
        (
            {"priority": Priority.NONE},
            ["Priority::Low"],
            [],
            ["Priority::Low", "priority::urgent", "priority::high", "priority::medium", "priority::low"],
        ),
        ({"labels": ["bug", "docs"]}, ["bug", "backend", "Doing", "priority::low"], ["docs"], ["backend"]),
        ({"labels": ["Doing", "x"]}, [], ["x"], []),
    ],
)
def test_label_changes_table(
    fields: dict[str, Any], current: list[str] | None, add: list[str], remove: list[str]
) -> None:
    assert label_changes(fields, current) == (add, remove)


def test_label_change_without_current_labels_is_refused() -> None:
    with pytest.raises(ValueError, match="current labels"):
        label_changes({"labels": ["bug"]}, None)


@pytest.mark.parametrize(
    ("fields", "current_state", "expected"),
    [
        ({"status": Status.DONE}, None, {"state_event": "close"}),
        ({"status": Status.CANCELED}, "opened", {"state_event": "close"}),
        ({"status": Status.DONE}, "closed", {}),
        (
            {"status": Status.TODO},
            "closed",
            {"state_event": "reopen", "remove_labels": "Doing,In Progress,Review"},
        ),
        ({"status": Status.IN_PROGRESS}, "opened", {"add_labels": "Doing", "remove_labels": "To Do"}),
        ({"due": datetime(2026, 12, 24, tzinfo=UTC)}, None, {"due_date": "2026-12-24"}),
        ({"due": None}, None, {"due_date": None}),
        ({"title": "Renamed"}, None, {"title": "Renamed"}),
        ({"project_id": None}, None, {"milestone_id": 0}),
        ({"assignee": None}, None, {"assignee_ids": [0]}),
        ({"duration_minutes": 30, "due_all_day": True}, None, {}),
    ],
)
def test_update_payload_table(
    fields: dict[str, Any], current_state: str | None, expected: dict[str, Any]
) -> None:
    assert to_payload(fields, current_state=current_state) == expected


def test_create_payload_carries_marker_labels_priority_stage_and_milestone() -> None:
    task = Task(
        title="Fix CI",
        description="Flaky job",
        status=Status.IN_PROGRESS,
        priority=Priority.URGENT,
        labels=["ci", "priority::low", "To Do"],
        due=datetime(2026, 12, 1, 15, 30, tzinfo=UTC),
        due_all_day=False,
        assignee="alex.chen",
    )
    body = to_payload(
        task_fields(task),
        creating=True,
        idempotency_key=KEY,
        user_ids={"alex.chen": 2},
        project_external_id="milestone:101",
    )
    assert body == {
        "title": "Fix CI",
        "description": f"Flaky job\n\n{marker_comment(KEY)}",
        "labels": ["ci", "priority::urgent", "Doing"],
        "due_date": "2026-12-01",
        "assignee_ids": [2],
        "milestone_id": 101,
    }
    plain = to_payload(task_fields(Task(title="Bare")), creating=True)
    assert plain == {"title": "Bare", "description": ""}
    with pytest.raises(ValueError, match="no GitLab user"):
        to_payload({"assignee": "nobody"}, user_ids={"alex.chen": 2})
    with pytest.raises(ValueError, match="milestone"):
        to_payload({}, project_external_id="project:7")


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (None, None),
        (datetime(2026, 11, 24, tzinfo=UTC), "2026-11-24"),
        # a due with a time of day is written as its UTC calendar date
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), "2026-11-24"),
        (datetime.fromisoformat("2026-11-25T00:30:00+02:00"), "2026-11-24"),
        (date(2027, 1, 2), "2027-01-02"),
    ],
)
def test_due_write_table(due: datetime | date | None, expected: str | None) -> None:
    assert due_to_gitlab(due) == expected


def test_due_read_is_midnight_utc() -> None:
    assert due_from_gitlab("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    assert due_from_gitlab(None) is None
    assert milestone_id_of("milestone:101") == 101


def raw_issue(**overrides: Any) -> dict[str, Any]:
    """An issue shaped like GitLab's list answer."""
    raw: dict[str, Any] = {
        "id": 5041,
        "iid": 41,
        "project_id": 1,
        "title": "Investigate slow exports",
        "description": f"Profile first.\n\n{marker_comment(KEY)}",
        "state": "opened",
        "labels": ["Doing", "backend", "priority::high"],
        "milestone": {"id": 101, "iid": 1, "title": "v1.4", "due_date": "2026-11-30"},
        "assignees": [{"id": 2, "username": "alex.chen"}],
        "assignee": {"id": 2, "username": "alex.chen"},
        "author": {"id": 1, "username": "sam.rivera"},
        "due_date": "2026-12-01",
        "created_at": "2026-11-20T09:00:00.000Z",
        "updated_at": "2026-11-24T09:30:00.123Z",
        "closed_at": None,
        "closed_by": None,
        "web_url": "https://gitlab.example.com/acme/app/-/issues/41",
        "references": {"short": "#41", "relative": "#41", "full": "acme/app#41"},
        "user_notes_count": 2,
        "merge_requests_count": 1,
        "weight": 3,
    }
    raw.update(overrides)
    return raw


def test_to_remote_task_reads_every_field() -> None:
    remote = to_remote_task(raw_issue())
    task = remote.task
    assert (task.title, task.description) == ("Investigate slow exports", "Profile first.")
    assert (task.status, task.priority, task.kind) == (Status.IN_PROGRESS, Priority.HIGH, TaskKind.CODE)
    assert (task.due, task.due_all_day) == (datetime(2026, 12, 1, tzinfo=UTC), True)
    assert task.labels == ["backend"]
    assert task.assignee == "alex.chen"
    assert task.updated_at == datetime(2026, 11, 24, 9, 30, 0, 123000, tzinfo=UTC)
    ref = remote.ref
    assert (ref.service, ref.external_id, ref.key) == (Service.GITLAB, "41", "acme/app#41")
    assert ref.container == "1"
    assert ref.url == "https://gitlab.example.com/acme/app/-/issues/41"
    assert ref.idempotency_key == KEY
    assert ref.remote_updated_at == task.updated_at
    assert remote.project_external_id == "milestone:101"
    assert remote.deleted is False
    assert remote.extra["weight"] == 3
    assert remote.extra["stage_label"] == "Doing"
    assert remote.extra["merge_requests_count"] == 1
    closed = to_remote_task(
        raw_issue(
            state="closed",
            closed_at="2026-11-24T09:30:00.000Z",
            milestone=None,
            closed_by={"id": 1, "username": "sam.rivera"},
            description=None,
        )
    )
    assert closed.task.status is Status.DONE
    assert closed.deleted is False, "closed is done, never deleted"
    assert closed.task.completed_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert closed.extra["closed_by"] == "sam.rivera"
    assert closed.task.description == ""
    assert closed.project_external_id is None


def test_milestone_note_and_merge_request_mapping() -> None:
    milestone = to_remote_project(
        {
            "id": 103,
            "iid": 3,
            "project_id": 1,
            "title": "v2.0",
            "state": "closed",
            "description": f"Big one\n\n{marker_comment(KEY)}",
            "start_date": "2027-01-04",
            "due_date": "2027-02-01",
            "created_at": "2026-11-24T10:00:00.000Z",
            "updated_at": "2026-11-24T10:00:00.000Z",
            "web_url": "https://gitlab.example.com/acme/app/-/milestones/3",
        }
    )
    assert milestone.ref.external_id == "milestone:103"
    assert milestone.ref.idempotency_key == KEY
    assert (milestone.project.name, milestone.project.description) == ("v2.0", "Big one")
    assert milestone.project.status is ProjectStatus.DONE
    assert (milestone.project.start, milestone.project.due) == (date(2027, 1, 4), date(2027, 2, 1))
    note = {
        "id": 9,
        "body": f"LGTM\n\n{marker_comment(KEY)}",
        "system": False,
        "author": {"id": 1, "username": "sam.rivera"},
        "created_at": "2026-11-24T10:00:00.000Z",
    }
    comment = to_comment(note, "41")
    assert comment is not None
    assert (comment.id, comment.task_id, comment.body, comment.author) == ("9", "41", "LGTM", "sam.rivera")
    assert to_comment({**note, "system": True, "body": "changed the description"}, "41") is None
    summary = merge_request_summary(
        {
            "iid": 2,
            "title": "Draft: CSV",
            "state": "opened",
            "draft": True,
            "web_url": "u",
            "head_pipeline": {"status": "failed"},
            "sha": "x",
        }
    )
    assert summary == {
        "iid": 2,
        "title": "Draft: CSV",
        "state": "opened",
        "draft": True,
        "web_url": "u",
        "pipeline": "failed",
    }


def test_error_translation_table() -> None:
    auth = translate_error(401, "401 Unauthorized", "list issues")
    assert isinstance(auth, AuthError)
    assert auth.env_var == "PMTUI_GITLAB_API_KEY"
    assert isinstance(translate_error(403, "403 Forbidden", "delete issue"), AuthError)
    assert isinstance(translate_error(404, "404 Issue Not Found", "get issue"), NotFoundError)
    throttled = translate_error(429, "Retry later", "x", {"Retry-After": "17"})
    assert isinstance(throttled, RateLimitedError)
    assert throttled.retry_after == 17
    invalid = translate_error(400, {"title": ["can't be blank"]}, "create issue")
    assert isinstance(invalid, ValidationError)
    assert invalid.message == "title can't be blank"
    assert isinstance(translate_error(503, "503 Service Unavailable", "x"), TransientError)
    assert isinstance(translate_error(409, "Resource lock", "x"), TransientError)
    assert isinstance(translate_error(409, "Duplicated issue", "x"), PermanentError)
    assert isinstance(translate_error(418, "teapot", "x"), PermanentError)
    assert parse_retry_after({"RateLimit-Reset": "1030"}, now=lambda: 1000.0) == 30
    assert parse_retry_after({}) is None
    assert service_message({"base": ["locked"], "due_date": ["must be greater than start date"]}) == (
        "locked; due_date must be greater than start date"
    )


# ------------------------------------------------------------------------------- lossless round trip

USERS = {"sam.rivera": 1, "alex.chen": 2}
USERNAMES = {v: k for k, v in USERS.items()}


def apply_body(raw: dict[str, Any], body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """What GitLab does with a write body (API_NOTES §2.2): labels sorted, add then remove."""
    out = copy.deepcopy(raw)
    for name in ("title", "description", "due_date"):
        if name in body:
            out[name] = body[name]
    if creating:
        out["labels"] = sorted(set(body.get("labels", [])))
    else:
        add = [n for n in str(body.get("add_labels", "")).split(",") if n]
        remove = set(n for n in str(body.get("remove_labels", "")).split(",") if n)
        out["labels"] = sorted({n for n in [*out["labels"], *add] if n not in remove})
    if body.get("state_event") == "close":
        out["state"] = "closed"
    elif body.get("state_event") == "reopen":
        out["state"] = "opened"
    if "milestone_id" in body:
        out["milestone"] = {"id": body["milestone_id"], "title": "m"} if body["milestone_id"] else None
    if "assignee_ids" in body:
        out["assignees"] = [{"id": i, "username": USERNAMES[i]} for i in body["assignee_ids"] if i]
    return out


label_names = st.sampled_from(["bug", "feature", "backend", "ops::infra", "good first issue", "\u03b1-test"])
tasks = st.builds(
    lambda title, description, status, priority, due, labels, assignee: Task(
        title=title,
        description=description,
        status=status,
        priority=priority,
        due=datetime(due.year, due.month, due.day, tzinfo=UTC) if due else None,
        labels=labels,
        assignee=assignee,
    ),
    title=st.text(min_size=1, max_size=80).map(str.strip).filter(bool),
    description=st.text(max_size=200).map(str.rstrip).filter(lambda s: "<!--" not in s),
    status=st.sampled_from([Status.TODO, Status.IN_PROGRESS, Status.DONE]),
    priority=st.sampled_from(list(Priority)),
    due=st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    labels=st.lists(label_names, unique=True, max_size=4),
    assignee=st.none() | st.sampled_from(sorted(USERS)),
)
milestones = st.none() | st.sampled_from(["milestone:101", "milestone:102"])


def canonical(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "due": task.due,
        "due_all_day": task.due_all_day,
        "labels": sorted(task.labels),
        "assignee": task.assignee,
    }


@settings(max_examples=150, deadline=None)
@given(first=tasks, second=tasks, first_milestone=milestones, second_milestone=milestones)
def test_round_trip_is_lossless(
    first: Task, second: Task, first_milestone: str | None, second_milestone: str | None
) -> None:
    base = raw_issue(
        description=None,
        labels=[],
        milestone=None,
        assignees=[],
        assignee=None,
        due_date=None,
        state="opened",
    )
    body = to_payload(
        task_fields(first),
        creating=True,
        idempotency_key=KEY,
        user_ids=USERS,
        project_external_id=first_milestone,
    )
    raw = apply_body(base, body, creating=True)
    if first.status.is_closed:
        raw = apply_body(raw, {"state_event": "close"}, creating=False)
    created = to_remote_task(raw)
    assert canonical(created.task) == canonical(first)
    assert created.ref.idempotency_key == KEY
    assert created.project_external_id == first_milestone
    # an update to every field of another task lands on exactly that task, marker kept
    fields = task_fields(second)
    update = to_payload(
        fields,
        current_labels=raw["labels"],
        current_state=raw["state"],
        idempotency_key=KEY,
        user_ids=USERS,
        project_external_id=second_milestone,
    )
    updated = to_remote_task(apply_body(raw, update, creating=False))
    assert canonical(updated.task) == canonical(second)
    assert updated.ref.idempotency_key == KEY
    if second_milestone is not None:
        assert updated.project_external_id == second_milestone


# ------------------------------------------------------------------------------ against the emulator


def test_create_get_round_trip(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    drain(gl.list_changes(None))  # the listing shows who alex.chen is (the emulator has no user search)
    task = Task(
        title="Investigate slow exports",
        description="Profile the CSV path.",
        status=Status.IN_PROGRESS,
        priority=Priority.HIGH,
        labels=["backend", "perf"],
        due=datetime(2026, 12, 3, tzinfo=UTC),
        assignee="alex.chen",
    )
    created = gl.create_task(task, idempotency_key=KEY, project_external_id="milestone:102")
    assert created.ref.external_id == "41"
    assert created.ref.key == "acme/app#41"
    assert created.ref.idempotency_key == KEY
    assert created.project_external_id == "milestone:102"
    assert canonical(created.task) == canonical(task)
    stored = issue_record(emu, 41)
    assert stored["labels"] == ["Doing", "backend", "perf", "priority::high"]
    assert stored["description"].endswith(marker_comment(KEY))
    assert stored["assignee_ids"] == [2]
    fetched = gl.get_task("41")
    assert fetched is not None
    assert canonical(fetched.task) == canonical(task)
    assert fetched.task.description == "Profile the CSV path."
    assert emu.request_counts()[CREATE] == 1
    assert gl.get_task("999") is None
    assert gl.get_task("not-a-number") is None


def test_create_done_closes_after_the_create(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    created = gl.create_task(Task(title="Already shipped", status=Status.DONE), idempotency_key=KEY)
    assert created.task.status is Status.DONE
    assert issue_record(emu, int(created.ref.external_id))["state"] == "closed"
    assert emu.request_counts()[CREATE] == 1
    assert emu.request_counts()[UPDATE] == 1


def test_update_complete_reopen_and_delete_archives(
    gl: GitLabIntegration, emu: GitLabEmulator, fake: FakeTime
) -> None:
    created = gl.create_task(
        Task(title="Ship it", description="Body", priority=Priority.LOW, labels=["bug"]), idempotency_key=KEY
    )
    iid = created.ref.external_id
    emu.admin_mutate({"op": "update", "kind": "issue", "iid": int(iid), "fields": {"add_labels": "ops"}})
    moved = gl.update_task(
        iid, TaskPatch({"labels": ["docs"], "description": "New body", "status": Status.IN_PROGRESS})
    )
    assert moved.task.labels == ["docs"]
    assert moved.task.description == "New body"
    assert moved.task.status is Status.IN_PROGRESS
    assert moved.task.priority is Priority.LOW, "the priority label survives a labels change"
    assert moved.ref.idempotency_key == KEY, "the marker survives a description change"
    assert issue_record(emu, int(iid))["labels"] == ["Doing", "docs", "priority::low"]

    emu.clock.advance(60)
    done = gl.complete_task(iid)
    assert done.task.status is Status.DONE
    assert done.ref.remote_updated_at == NOW + timedelta(seconds=60)
    todo = gl.update_task(
        iid,
        TaskPatch(
            {"status": Status.TODO, "priority": Priority.NONE, "due": datetime(2026, 12, 24, tzinfo=UTC)}
        ),
    )
    assert (todo.task.status, todo.task.priority) == (Status.TODO, Priority.NONE)
    assert todo.task.due == datetime(2026, 12, 24, tzinfo=UTC)
    assert issue_record(emu, int(iid))["labels"] == ["docs"]
    cleared = gl.update_task(iid, TaskPatch({"due": None}, project_external_id="milestone:101"))
    assert cleared.task.due is None
    assert cleared.project_external_id == "milestone:101"
    unset = gl.update_task(iid, TaskPatch({"project_id": None}))
    assert unset.project_external_id is None

    gl.delete_task(iid)
    archived = gl.get_task(iid)
    assert archived is not None, "delete closes: GitLab deletion needs owner rights and loses history"
    assert archived.task.status is Status.DONE
    assert archived.deleted is False
    gl.delete_task("999")  # a missing issue is not an error
    hard = make_integration(gl.settings.base_url, fake, hard_delete=True)
    hard.delete_task(iid)
    assert hard.get_task(iid) is None
    hard.delete_task(iid)


def test_validation_error_carries_gitlabs_message(gl: GitLabIntegration) -> None:
    with pytest.raises(ValidationError) as info:
        gl.create_task(Task(title="x" * 300), idempotency_key=KEY)
    assert info.value.message == "title is too long (maximum is 255 characters)"
    with pytest.raises(NotFoundError):
        gl.update_task("999", TaskPatch({"title": "nope"}))


def test_assignee_is_resolved_from_people_seen_on_issues(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    assert gl.get_task("1") is not None
    known = {
        a["username"]
        for a in emu.admin_mutate(
            {"op": "update", "kind": "issue", "iid": 1, "fields": {"assignee_ids": [2]}}
        )["assignees"]
    }
    assert known == {"alex.chen"}
    assert gl.get_task("1") is not None  # sees alex.chen (id 2) on the issue
    emu.reset_counts()
    created = gl.create_task(Task(title="Assigned", assignee="Alex.Chen"), idempotency_key=KEY)
    assert created.task.assignee == "alex.chen"
    assert set(emu.request_counts()) == {CREATE, "total"}, "no user lookup for someone already seen"
    # Anyone else is looked up with GET /users?username= (the emulator lacks that route: a 404 here);
    # either way nothing is created for an assignee that cannot be resolved.
    with pytest.raises(ServiceError):
        gl.create_task(Task(title="Who?", assignee="nobody.here"), idempotency_key="1" * 32)
    assert emu.request_counts()[CREATE] == 1


def test_find_by_idempotency_key_matches_the_marker_only(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    emu.admin_mutate(
        {
            "op": "create",
            "kind": "issue",
            "fields": {"title": "Decoy", "description": f"mentions {KEY} in prose"},
        }
    )
    assert gl.find_by_idempotency_key(KEY) is None
    created = gl.create_task(Task(title="Real one"), idempotency_key=KEY)
    gl.complete_task(created.ref.external_id)
    emu.reset_counts()
    found = gl.find_by_idempotency_key(KEY)
    assert found is not None
    assert found.ref.external_id == created.ref.external_id
    assert found.task.status is Status.DONE, "closed issues are searched too"
    assert emu.request_counts()[ISSUES] == 1


def test_comments_round_trip_without_system_notes(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    before = gl.list_comments("5")
    assert before
    system_bodies = [n["body"] for n in emu.state["notes"][str(issue_record(emu, 5)["id"])] if n["system"]]
    assert system_bodies, "the demo issue has system notes"
    assert not {c.body for c in before} & set(system_bodies)
    note_id = gl.add_comment("5", "Confirmed on production.", idempotency_key=KEY)
    after = gl.list_comments("5")
    assert after[-1].id == note_id
    assert after[-1].body == "Confirmed on production."
    assert after[-1].author == "sam.rivera"
    assert [c.created_at for c in after] == sorted(c.created_at for c in after)
    stored = [n for n in emu.state["notes"][str(issue_record(emu, 5)["id"])] if str(n["id"]) == note_id]
    assert stored[0]["body"] == f"Confirmed on production.\n\n{marker_comment(KEY)}"


def test_comment_commit_drop_leaves_one_note(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    emu.add_fault(Fault("commit_drop", method="POST", path="/api/v4/projects/acme%2Fapp/issues/5/notes"))
    note_id = gl.add_comment("5", "Posted once", idempotency_key=KEY)
    mine = [c for c in gl.list_comments("5") if c.body == "Posted once"]
    assert [c.id for c in mine] == [note_id]
    assert emu.request_counts()[NOTES] == 1


def test_projects_are_milestones_created_once(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    listed = gl.list_projects()
    assert [p.project.name for p in listed] == ["v1.4", "v1.5"]
    project = Project(name="v2.0", description="Next major", start=date(2027, 1, 4), due=date(2027, 2, 1))
    emu.add_fault(Fault("commit_drop", method="POST", path="/api/v4/projects/acme%2Fapp/milestones"))
    created = gl.create_project(project, idempotency_key=KEY)
    assert created.project.name == "v2.0"
    assert created.project.description == "Next major"
    assert created.ref.external_id.startswith("milestone:")
    again = gl.create_project(project, idempotency_key=KEY)
    assert again.ref.external_id == created.ref.external_id
    assert emu.request_counts()[MILESTONES] == 1
    assert [p.project.name for p in gl.list_projects()] == ["v1.4", "v1.5", "v2.0"]
    task = gl.create_task(
        Task(title="In v2"), idempotency_key="f" * 32, project_external_id=created.ref.external_id
    )
    assert task.project_external_id == created.ref.external_id
    with pytest.raises(ValidationError, match="already being used"):
        gl.create_project(Project(name="v1.4"), idempotency_key="e" * 32)


def test_related_merge_requests_are_fetched_on_demand(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    drain(gl.list_changes(None))
    assert not any("related_merge_requests" in route for route in emu.request_counts())
    related = gl.related_merge_requests("5")
    assert related == [
        {
            "iid": 2,
            "title": "Export reports as CSV",
            "state": "opened",
            "draft": False,
            "web_url": "https://gitlab.example.com/acme/app/-/merge_requests/2",
            "pipeline": "failed",
        }
    ]


# ------------------------------------------------------------------------------------------ listing


def test_full_listing_of_1000_plus_issues_costs_ceil_n_over_100(
    gl: GitLabIntegration, emu: GitLabEmulator
) -> None:
    for n in (1050, 1000):
        emu.seed({"kind": "bulk", "n": n})
        emu.reset_counts()
        pages = drain(gl.list_changes(None))
        assert emu.request_counts()[ISSUES] == math.ceil(n / 100)
        assert emu.request_counts()["total"] == math.ceil(n / 100)
        assert len(pages) == math.ceil(n / 100)
        assert [p.last for p in pages] == [False] * (len(pages) - 1) + [True]
        iids = [item.ref.external_id for page in pages for item in page.items]
        assert len(iids) == len(set(iids)) == n
        stamps = [item.ref.remote_updated_at for page in pages for item in page.items]
        assert None not in stamps
        assert stamps == sorted(s for s in stamps if s is not None)
        for page in pages:  # each page's cursor is the newest time seen so far
            newest = max(item.ref.remote_updated_at for item in page.items if item.ref.remote_updated_at)
            assert page.cursor == newest.isoformat(timespec="microseconds").replace("+00:00", "Z")


def test_incremental_listing_returns_only_changed_issues(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    emu.seed({"kind": "bulk", "n": 1050})
    pages = drain(gl.list_changes(None))
    cursor = pages[-1].cursor
    assert cursor is not None
    emu.clock.advance(120)
    changed = {"17", "404", "1001"}
    for iid in changed:
        emu.admin_mutate(
            {"op": "update", "kind": "issue", "iid": int(iid), "fields": {"title": f"New {iid}"}}
        )
    emu.reset_counts()
    delta = drain(gl.list_changes(cursor))
    assert emu.request_counts()[ISSUES] == 1
    items = {item.ref.external_id: item for page in delta for item in page.items}
    assert changed <= set(items)
    # updated_after is inclusive: only the boundary issue of the previous run may come back with them
    extra = [i for eid, i in items.items() if eid not in changed]
    assert all(i.ref.remote_updated_at == datetime.fromisoformat(cursor) for i in extra)
    assert len(extra) <= 1
    assert items["404"].task.title == "New 404"
    assert delta[-1].cursor == iso_z(NOW + timedelta(seconds=120)).replace(".000Z", ".000000Z")


def test_nothing_changed_costs_exactly_one_request(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    cursor = drain(gl.list_changes(None))[-1].cursor
    emu.reset_counts()
    again = drain(gl.list_changes(cursor))
    assert emu.request_counts()[ISSUES] == 1
    assert emu.request_counts()["total"] == 1
    assert len(again) == 1
    assert again[0].last is True
    assert again[0].cursor == cursor
    assert all(item.ref.remote_updated_at == datetime.fromisoformat(str(cursor)) for item in again[0].items)


def test_issue_edited_during_a_listing_is_not_skipped(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    # With offset pages, moving an already-seen issue to the end shifts every later issue back by one,
    # so the first issue of the next page would be skipped; keyset pages hold a position instead.
    emu.seed({"kind": "bulk", "n": 250})
    seen: set[str] = set()
    pages = gl.list_changes(None)
    first = next(pages)
    seen.update(item.ref.external_id for item in first.items)
    emu.clock.advance(30)
    emu.admin_mutate(
        {
            "op": "update",
            "kind": "issue",
            "iid": int(first.items[0].ref.external_id),
            "fields": {"title": "Edited mid-listing"},
        }
    )
    for page in pages:
        seen.update(item.ref.external_id for item in page.items)
    assert len(seen) == 250


def test_offset_pages_when_keyset_is_refused(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    emu.seed({"kind": "bulk", "n": 230})
    emu.add_fault(Fault("error", value=405, count=1, method="GET", path="/api/v4/projects/acme%2Fapp/issues"))
    pages = drain(gl.list_changes(None))
    assert sum(len(p.items) for p in pages) == 230
    assert emu.request_counts()[ISSUES] == 1 + 3
    emu.reset_counts()
    drain(gl.list_changes(None))
    assert emu.request_counts()[ISSUES] == 3, "the fallback is remembered"


def test_numeric_project_id_works(url: str, fake: FakeTime, emu: GitLabEmulator) -> None:
    by_id = make_integration(url, fake, project="1")
    assert sum(len(p.items) for p in drain(by_id.list_changes(None))) == 40


# -------------------------------------------------------------------------------------------- faults


def test_retry_after_is_never_retried_early(
    url: str, emu: GitLabEmulator, fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every real sleep of the process is recorded (and still slept): python-gitlab must not sleep out
    # the 7 s Retry-After itself, pmtui's limiter waits on the fake clock. No wall-clock bound.
    slept: list[float] = []
    real_sleep = time.sleep

    def recording_sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    sent: list[float] = []
    client = gitlab.Gitlab(url, private_token=DEFAULT_API_KEY, per_page=100, retry_transient_errors=True)
    client.session.hooks["response"].append(lambda response, *a, **k: sent.append(fake.now))
    integration = make_integration(url, fake, client=client)
    emu.add_fault(
        Fault("rate_limit", value=7, count=2, method="GET", path="/api/v4/projects/acme%2Fapp/issues/")
    )
    found = integration.get_task("5")
    assert found is not None
    assert len(sent) == 3
    assert sent[1] - sent[0] >= 7
    assert sent[2] - sent[1] >= 7
    assert not [s for s in slept if s >= 1], f"python-gitlab slept out the Retry-After itself: {slept}"
    client.session.close()


def test_real_rate_limit_waits_instead_of_failing(url: str, emu: GitLabEmulator, fake: FakeTime) -> None:
    emu.limiter = WindowLimiter(5, 60.0, emu.clock)
    emu.rate_limits_enabled = True
    statuses: list[int] = []
    client = gitlab.Gitlab(url, private_token=DEFAULT_API_KEY, per_page=100)
    client.session.hooks["response"].append(lambda response, *a, **k: statuses.append(response.status_code))
    greedy = make_integration(url, fake, client=client)
    try:
        for _ in range(8):
            assert greedy.get_task("5") is not None
        assert statuses.count(429) == 1
        assert statuses.count(200) == 8
        assert fake.now - 1000.0 >= 59, "the 6th request waited for the next window"
        health = greedy.health()
        assert health.rate_limit == 5
        assert health.rate_remaining is not None
        assert health.rate_remaining < 5
    finally:
        emu.limiter = WindowLimiter(2000, 60.0, emu.clock)
        client.session.close()


def test_server_error_burst_recovers(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    emu.add_fault(Fault("error", value=503, count=3, method="GET"))
    assert gl.get_task("5") is not None
    assert emu.request_counts()[ISSUE] == 4
    emu.add_fault(Fault("error", value=502, count=2, method="PUT"))
    renamed = gl.update_task("5", TaskPatch({"title": "Renamed after 502s"}))
    assert renamed.task.title == "Renamed after 502s"
    emu.add_fault(Fault("reset", count=1, method="PUT"))
    assert gl.update_task("5", TaskPatch({"priority": Priority.LOW})).task.priority is Priority.LOW
    emu.add_fault(Fault("error", value=500, count=None, method="GET"))
    with pytest.raises(TransientError):
        gl.get_task("5")
    emu.clear_faults()


def test_commit_drop_on_create_leaves_one_issue_after_recovery(
    gl: GitLabIntegration, emu: GitLabEmulator
) -> None:
    task = Task(title="Exactly once", labels=["backend"])
    emu.add_fault(Fault("commit_drop", method="POST", path="/api/v4/projects/acme%2Fapp/issues"))
    with pytest.raises(TransientError):
        gl.create_task(task, idempotency_key=KEY)
    assert emu.request_counts()[CREATE] == 1, "neither python-gitlab nor pmtui re-sent the POST"
    # the caller's recovery: look the key up, and create only if it is absent
    found = gl.find_by_idempotency_key(KEY, hint=task)
    if found is None:
        found = gl.create_task(task, idempotency_key=KEY)
    assert found.task.title == "Exactly once"
    same = [i for i in emu.state["issues"].values() if i["title"] == "Exactly once"]
    assert len(same) == 1
    assert str(same[0]["iid"]) == found.ref.external_id
    assert emu.request_counts()[CREATE] == 1


def test_wrong_token_is_an_auth_error_naming_the_env_var(url: str, fake: FakeTime) -> None:
    integration = make_integration(url, fake, key="glpat-wrongwrongwrong1234")
    with pytest.raises(AuthError) as info:
        drain(integration.list_changes(None))
    error = info.value
    assert error.service == "gitlab"
    assert error.env_var == "PMTUI_GITLAB_API_KEY"
    assert error.hint is not None
    assert "PMTUI_GITLAB_API_KEY" in error.hint
    assert "glpat-wrongwrongwrong1234" not in error.user_text()
    health = integration.health()
    assert health.ok is False
    assert health.hint is not None
    assert "PMTUI_GITLAB_API_KEY" in health.hint


def test_health_reports_account_project_and_budget(gl: GitLabIntegration, url: str, fake: FakeTime) -> None:
    health = gl.health()
    assert health.ok
    assert health.service is Service.GITLAB
    assert health.account == "sam.rivera"
    assert health.ids == {"project_id": "1", "project_path": "acme/app"}
    assert "acme/app" in health.detail
    assert health.rate_limit == pytest.approx(600_000)
    missing = make_integration(url, fake, project="acme/nope").health()
    assert missing.ok is False
    assert missing.account == "sam.rivera"
    assert missing.hint is not None
    assert "acme/app" in missing.hint
    unset = make_integration(url, fake, project=None).health()
    assert unset.ok is False
    assert unset.hint is not None
    assert "gitlab.project" in unset.hint


def test_refused_connection_is_transient_after_bounded_retries(fake: FakeTime) -> None:
    nowhere = make_integration("http://127.0.0.1:9", fake)
    with pytest.raises(TransientError, match="connection to GitLab failed"):
        nowhere.get_task("5")
    assert len(fake.sleeps) == 4, "with_retries owns the retries: 5 attempts, 4 backoffs"
