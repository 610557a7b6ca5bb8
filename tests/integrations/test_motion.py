"""The Motion integration against the Motion emulator over real HTTP, and its pure mapping by tables.

The emulator's clock is frozen at Tuesday 2026-11-24 10:00 UTC. Its rate limit is off except in the
one test that turns it on; every test injects a limiter and a retry sleep on a fake clock, so nothing
here really sleeps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmtui.config import MotionSettings
from pmtui.errors import AuthError, RateLimitedError, TransientError, ValidationError
from pmtui.integrations.base import ChangePage, TaskPatch, marker_comment
from pmtui.integrations.limits import RateLimiter
from pmtui.integrations.motion import MotionIntegration, parse_retry_after, translate_status_error
from pmtui.integrations.motion_mapping import (
    PRIORITY_FROM_MOTION,
    PRIORITY_TO_MOTION,
    MotionStatus,
    WriteOptions,
    duration_from_motion,
    parse_statuses,
    parse_workspaces,
    status_from_motion,
    status_to_motion,
    task_fields,
    to_payload,
    to_remote_task,
)
from pmtui.models import Priority, Project, Service, Status, Task, TaskKind
from pmtui.sandbox.motion import DEFAULT_API_KEY, PAGE_SIZE, MotionEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, serving

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
DEMO_STATUSES = [
    MotionStatus("Todo", is_default=True),
    MotionStatus("In Progress"),
    MotionStatus("Blocked"),
    MotionStatus("Completed", is_resolved=True),
    MotionStatus("Canceled", is_resolved=True),
]
RESOLVED = {"Completed", "Canceled"}


class FakeTime:
    """A clock and sleep for the limiter and retries; sleeping also moves the emulator's clock."""

    def __init__(self, emulator: MotionEmulator | None = None) -> None:
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
def shared() -> Iterator[tuple[MotionEmulator, RunningEmulator]]:
    """One server for the module: stopping a server costs ~0.5 s (the serve loop's poll interval)."""
    emulator = MotionEmulator(clock=Clock(), seed=11)
    with serving(emulator) as running:
        yield emulator, running


@pytest.fixture
def emu(shared: tuple[MotionEmulator, RunningEmulator]) -> MotionEmulator:
    emulator = shared[0]
    emulator.clock.set(NOW, frozen=True)
    emulator.clear_faults()
    emulator.rate_limits_enabled = False
    emulator.reset_state()
    emulator.reset_counts()
    emulator.seed({"kind": "demo"})
    return emulator


@pytest.fixture
def url(shared: tuple[MotionEmulator, RunningEmulator], emu: MotionEmulator) -> str:
    return shared[1].url


@pytest.fixture
def ws(emu: MotionEmulator) -> str:
    workspace_id: str = emu.config_hints()["workspace_id"]
    return workspace_id


@pytest.fixture
def fake(emu: MotionEmulator) -> FakeTime:
    return FakeTime(emu)


def make_integration(
    url: str,
    ws: str | None,
    fake: FakeTime,
    *,
    key: str = DEFAULT_API_KEY,
    per_minute: float = 600_000,
    client: httpx.Client | None = None,
    auto_schedule: bool = True,
) -> MotionIntegration:
    settings_ = MotionSettings(base_url=url, workspace_id=ws, auto_schedule=auto_schedule)
    limiter = RateLimiter(per_minute, clock=fake.clock, sleep=fake.sleep)
    return MotionIntegration(
        settings_, key, client=client, limiter=limiter, retry_sleep=fake.sleep, now=lambda: NOW
    )


@pytest.fixture
def motion(url: str, ws: str, fake: FakeTime) -> Iterator[MotionIntegration]:
    integration = make_integration(url, ws, fake)
    yield integration
    integration.close()


def unresolved_ids(emu: MotionEmulator, ws: str) -> list[str]:
    with emu.lock:
        return [
            tid
            for tid, task in ((t, emu.state["tasks"][t]) for t in emu.state["task_order"])
            if task["workspaceId"] == ws and task["status"] not in RESOLVED
        ]


def drain(pages: Iterator[ChangePage]) -> list[ChangePage]:
    return list(pages)


# ------------------------------------------------------------------------------------- mapping tables


@pytest.mark.parametrize(
    ("motion_priority", "canonical"),
    [("ASAP", Priority.URGENT), ("HIGH", Priority.HIGH), ("MEDIUM", Priority.MEDIUM), ("LOW", Priority.LOW)],
)
def test_priority_table_both_ways(motion_priority: str, canonical: Priority) -> None:
    assert PRIORITY_FROM_MOTION[motion_priority] is canonical
    assert PRIORITY_TO_MOTION[canonical] == motion_priority


def test_priority_none_is_written_as_medium() -> None:
    assert PRIORITY_TO_MOTION[Priority.NONE] == "MEDIUM"
    assert to_payload({"priority": Priority.NONE}, WriteOptions())["priority"] == "MEDIUM"


@pytest.mark.parametrize(
    ("name", "resolved", "completed", "expected"),
    [
        ("Todo", False, False, Status.TODO),
        ("Blocked", False, False, Status.TODO),
        ("In Progress", False, False, Status.IN_PROGRESS),
        ("in progress (review)", False, False, Status.IN_PROGRESS),
        ("Completed", True, True, Status.DONE),
        ("Done", True, False, Status.DONE),
        ("Canceled", True, True, Status.CANCELED),
        ("Cancelled", True, True, Status.CANCELED),
        ("Todo", False, True, Status.DONE),
    ],
)
def test_status_read_table(name: str, resolved: bool, completed: bool, expected: Status) -> None:
    assert status_from_motion(name, resolved=resolved, completed=completed) is expected


OTHER_STATUSES = [
    MotionStatus("Backlog"),
    MotionStatus("Up next", is_default=True),
    MotionStatus("Done", is_resolved=True),
]


@pytest.mark.parametrize(
    ("statuses", "status", "expected"),
    [
        (DEMO_STATUSES, Status.TODO, "Todo"),
        (DEMO_STATUSES, Status.IN_PROGRESS, "In Progress"),
        (DEMO_STATUSES, Status.DONE, "Completed"),
        (DEMO_STATUSES, Status.CANCELED, "Canceled"),
        (OTHER_STATUSES, Status.TODO, "Up next"),
        (OTHER_STATUSES, Status.IN_PROGRESS, "Up next"),
        (OTHER_STATUSES, Status.DONE, "Done"),
        (OTHER_STATUSES, Status.CANCELED, "Done"),
    ],
)
def test_status_write_table(statuses: list[MotionStatus], status: Status, expected: str) -> None:
    assert status_to_motion(status, statuses) == expected


def test_status_write_without_resolved_status_is_an_error() -> None:
    with pytest.raises(ValueError, match="resolved"):
        status_to_motion(Status.DONE, [MotionStatus("Todo", is_default=True)])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (30, 30),
        (1, 1),
        ("NONE", None),
        ("REMINDER", None),
        (None, None),
        (0, None),
        (True, None),
        (60 * 24 * 31, None),
    ],
)
def test_duration_read_table(raw: Any, expected: int | None) -> None:
    assert duration_from_motion(raw) == expected


def test_statuses_and_workspaces_accept_both_wrappers() -> None:
    bare = [{"name": "Todo", "isDefaultStatus": True, "isResolvedStatus": False}]
    assert parse_statuses(bare) == parse_statuses({"statuses": bare}) == [MotionStatus("Todo", True, False)]
    # Motion's reference shows each status wrapped as ``{"status": {...}}`` in one place (#21).
    wrapped_items = [{"status": item} for item in bare]
    assert parse_statuses(wrapped_items) == parse_statuses({"statuses": wrapped_items})
    assert parse_statuses(wrapped_items) == parse_statuses(bare)
    workspaces = [{"id": "w1", "name": "Acme"}]
    wrapped = {"meta": {}, "workspaces": workspaces}
    assert parse_workspaces(workspaces) == parse_workspaces(wrapped) == workspaces


DUE = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)
AUTO = {"startDate": "2026-11-24", "deadlineType": "SOFT", "schedule": "Work Hours"}


@pytest.mark.parametrize(
    ("fields", "creating", "auto_schedule", "expected"),
    [
        # create with a due date: auto-scheduled from today, soft deadline, default duration
        (
            {"title": "A", "due": DUE, "duration_minutes": None},
            True,
            True,
            {
                "name": "A",
                "dueDate": "2026-11-27T17:00:00.000Z",
                "autoScheduled": AUTO,
                "duration": 30,
                "priority": "MEDIUM",
                "workspaceId": "w1",
            },
        ),
        # create without a due date: Motion requires one to auto-schedule, so autoScheduled is null
        (
            {"title": "A", "due": None, "duration_minutes": 45},
            True,
            True,
            {
                "name": "A",
                "dueDate": None,
                "autoScheduled": None,
                "duration": 45,
                "priority": "MEDIUM",
                "workspaceId": "w1",
            },
        ),
        # auto-scheduling off
        (
            {"title": "A", "due": DUE},
            True,
            False,
            {
                "name": "A",
                "dueDate": "2026-11-27T17:00:00.000Z",
                "autoScheduled": None,
                "duration": 30,
                "priority": "MEDIUM",
                "workspaceId": "w1",
            },
        ),
        # update: only the fields present; clearing the due date also clears auto-scheduling
        ({"due": None}, False, True, {"dueDate": None, "autoScheduled": None}),
        ({"due": DUE}, False, True, {"dueDate": "2026-11-27T17:00:00.000Z", "autoScheduled": AUTO}),
        ({"duration_minutes": None}, False, True, {"duration": "NONE"}),
        ({"labels": ["Deep work", "Admin"]}, False, True, {"labels": ["Deep work", "Admin"]}),
        ({"labels": []}, False, True, {"labels": []}),
        (
            {"priority": Priority.URGENT, "status": Status.CANCELED},
            False,
            True,
            {"priority": "ASAP", "status": "Canceled"},
        ),
        ({"project_id": None}, False, True, {"projectId": None}),
        ({"title": "Renamed"}, False, True, {"name": "Renamed"}),
    ],
)
def test_payload_table(
    fields: dict[str, Any], creating: bool, auto_schedule: bool, expected: dict[str, Any]
) -> None:
    options = WriteOptions(statuses=DEMO_STATUSES, today=TODAY, auto_schedule=auto_schedule)
    body = to_payload(fields, options, creating=creating, workspace_id="w1")
    assert body == expected


def test_payload_marker_project_and_assignee() -> None:
    options = WriteOptions(today=TODAY, idempotency_key="k" * 32, users={"sam@acme.example": "u2"})
    body = to_payload(
        {"title": "A", "description": "Body", "assignee": "Sam@Acme.example"},
        options,
        creating=True,
        workspace_id="w1",
        project_external_id="p1",
    )
    assert body["description"] == f"Body\n\n{marker_comment('k' * 32)}"
    assert body["projectId"] == "p1"
    assert body["assigneeId"] == "u2"
    with pytest.raises(ValueError, match="nobody"):
        to_payload({"assignee": "nobody"}, options)


def raw_task(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "T1",
        "name": "Write report",
        "description": f"Notes\n\n{marker_comment('abc')}",
        "duration": 90,
        "dueDate": "2026-11-27T17:00:00.000Z",
        "deadlineType": "SOFT",
        "completed": False,
        "completedTime": None,
        "createdTime": "2026-11-20T09:00:00.000Z",
        "updatedTime": "2026-11-23T09:30:00.000Z",
        "project": {"id": "P1", "name": "Q1"},
        "workspace": {"id": "W1", "name": "Acme"},
        "status": {"name": "Blocked", "isDefaultStatus": False, "isResolvedStatus": False},
        "priority": "ASAP",
        "labels": [{"name": "Deep work"}, {"name": "Review"}],
        "assignees": [{"id": "U1", "name": "Alex", "email": "alex@acme.example"}],
        "scheduledStart": "2026-11-24T09:00:00.000Z",
        "scheduledEnd": "2026-11-24T10:30:00.000Z",
        "schedulingIssue": False,
    }
    raw.update(overrides)
    return raw


def test_to_remote_task_reads_every_field() -> None:
    remote = to_remote_task(raw_task())
    task = remote.task
    assert (task.title, task.description, task.status, task.priority) == (
        "Write report",
        "Notes",
        Status.TODO,
        Priority.URGENT,
    )
    assert task.due == DUE
    assert task.due_all_day is False
    assert task.duration_minutes == 90
    assert task.labels == ["Deep work", "Review"]
    assert task.kind is TaskKind.GENERAL
    assert task.assignee == "alex@acme.example"
    assert task.scheduled_start == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert task.scheduled_end == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert task.updated_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert remote.project_external_id == "P1"
    assert task.project_id is None
    assert remote.ref.service is Service.MOTION
    assert remote.ref.external_id == "T1"
    assert remote.ref.container == "W1"
    assert remote.ref.url == "https://app.usemotion.com/web/pm/workspaces/W1?task=T1"
    assert remote.ref.idempotency_key == "abc"
    assert remote.ref.remote_updated_at == task.updated_at
    assert remote.extra["status_name"] == "Blocked"


def test_to_remote_task_reminder_and_completed() -> None:
    remote = to_remote_task(
        raw_task(
            duration="REMINDER",
            description="",
            project=None,
            assignees=[],
            labels=[],
            status={"name": "Completed", "isResolvedStatus": True},
            completed=True,
            completedTime="2026-11-24T08:00:00.000Z",
        )
    )
    assert remote.task.duration_minutes is None
    assert remote.task.status is Status.DONE
    assert remote.task.completed_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert remote.project_external_id is None
    assert remote.ref.idempotency_key is None


def echo(payload: dict[str, Any], statuses: list[MotionStatus]) -> dict[str, Any]:
    """What Motion answers to a create body: labels become objects, the status an object."""
    name = payload.get("status") or next(s.name for s in statuses if s.is_default)
    status = next(s for s in statuses if s.name == name)
    return raw_task(
        name=payload["name"],
        description=payload["description"],
        duration=payload["duration"],
        dueDate=payload["dueDate"],
        priority=payload["priority"],
        labels=[{"name": label} for label in payload.get("labels", [])],
        status={
            "name": status.name,
            "isDefaultStatus": status.is_default,
            "isResolvedStatus": status.is_resolved,
        },
        completed=status.is_resolved,
        project={"id": payload["projectId"]} if payload.get("projectId") else None,
        assignees=[],
        workspace={"id": payload["workspaceId"]},
    )


millis = st.integers(min_value=0, max_value=10**9).map(
    lambda ms: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
)
label = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(min_size=1, max_size=40).filter(lambda t: t.strip()),
    description=st.text(max_size=80).filter(lambda d: "<!--" not in d),
    status=st.sampled_from(list(Status)),
    priority=st.sampled_from([p for p in Priority if p is not Priority.NONE]),
    due=st.none() | millis,
    duration=st.integers(min_value=1, max_value=60 * 24 * 30),
    labels=st.lists(label, max_size=4),
    project=st.none() | st.just("P9"),
)
def test_round_trip_is_lossless(
    title: str,
    description: str,
    status: Status,
    priority: Priority,
    due: datetime | None,
    duration: int,
    labels: list[str],
    project: str | None,
) -> None:
    task = Task(
        title=title,
        description=description,
        status=status,
        priority=priority,
        due=due,
        due_all_day=False,
        duration_minutes=duration,
        labels=labels,
    )
    options = WriteOptions(statuses=DEMO_STATUSES, today=TODAY, idempotency_key="key1")
    payload = to_payload(
        task_fields(task), options, creating=True, workspace_id="W1", project_external_id=project
    )
    remote = to_remote_task(echo(payload, DEMO_STATUSES))
    back = remote.task
    for name in ("title", "status", "priority", "due", "due_all_day", "duration_minutes", "labels"):
        assert getattr(back, name) == getattr(task, name), name
    assert back.description == task.description.rstrip()
    assert remote.project_external_id == project
    assert remote.ref.idempotency_key == "key1"


def test_error_translation_table() -> None:
    request = httpx.Request("GET", "http://motion.test/v1/tasks")

    def error(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        response = httpx.Response(status, json=body or {"message": "nope"}, headers=headers, request=request)
        return translate_status_error(httpx.HTTPStatusError("x", request=request, response=response), "act")

    assert isinstance(error(401), AuthError)
    assert isinstance(error(403), AuthError)
    assert type(error(404)).__name__ == "NotFoundError"
    assert isinstance(error(400, {"message": "name is required"}), ValidationError)
    assert error(400, {"message": "name is required"}).message == "name is required"
    throttled = error(429, headers={"Retry-After": "17"})
    assert isinstance(throttled, RateLimitedError)
    assert throttled.retry_after == 17
    assert isinstance(error(503), TransientError)
    assert type(error(409)).__name__ == "PermanentError"
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after(None) is None


# ---------------------------------------------------------------------------------- over HTTP: tasks


def test_create_get_round_trip_with_auto_schedule(
    motion: MotionIntegration, emu: MotionEmulator, ws: str
) -> None:
    projects = {p.project.name: p.ref.external_id for p in motion.list_projects()}
    task = Task(
        title="Draft Q1 memo",
        description="Outline first.",
        status=Status.IN_PROGRESS,
        priority=Priority.HIGH,
        due=datetime(2026, 11, 26, 17, 0, tzinfo=UTC),
        due_all_day=False,
        duration_minutes=60,
        labels=["Deep work", "Brand new"],
        assignee="sam.chen@acme.example",
    )
    created = motion.create_task(task, idempotency_key="a" * 32, project_external_id=projects["Q1 launch"])
    fetched = motion.get_task(created.ref.external_id)
    assert fetched is not None
    for remote in (created, fetched):
        for name in (
            "title",
            "description",
            "status",
            "priority",
            "due",
            "duration_minutes",
            "labels",
            "assignee",
        ):
            assert getattr(remote.task, name) == getattr(task, name), name
        assert remote.task.due_all_day is False
        assert remote.project_external_id == projects["Q1 launch"]
        assert remote.ref.idempotency_key == "a" * 32
        assert remote.ref.container == ws
        assert remote.ref.url
        assert created.ref.external_id in remote.ref.url
        # Motion scheduled it (work hours from the emulator's "now", 10:00 on a Tuesday)
        assert remote.task.scheduled_start == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        assert remote.task.scheduled_end == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    stored = emu.state["tasks"][created.ref.external_id]
    assert stored["description"].endswith(marker_comment("a" * 32))
    assert stored["autoScheduled"] == {
        "startDate": "2026-11-24",
        "deadlineType": "SOFT",
        "schedule": "Work Hours",
    }


def test_create_without_due_is_not_auto_scheduled_and_gets_default_duration(
    motion: MotionIntegration, emu: MotionEmulator
) -> None:
    emu.reset_counts()
    created = motion.create_task(Task(title="Someday"), idempotency_key="b" * 32)
    assert created.task.duration_minutes == 30
    assert created.task.due is None
    assert created.task.scheduled_start is None
    assert created.task.status is Status.TODO
    assert created.task.priority is Priority.MEDIUM
    assert emu.state["tasks"][created.ref.external_id]["autoScheduled"] is None
    # a todo create needs no status lookup: one request in all
    assert emu.request_counts()["total"] == 1


def test_update_complete_cancel_and_delete(motion: MotionIntegration, emu: MotionEmulator) -> None:
    created = motion.create_task(
        Task(
            title="Ship it",
            description="v1",
            due=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
            due_all_day=False,
        ),
        idempotency_key="c" * 32,
    )
    tid = created.ref.external_id
    emu.clock.advance(60)
    updated = motion.update_task(
        tid,
        TaskPatch(
            {
                "title": "Ship it now",
                "description": "v2",
                "priority": Priority.URGENT,
                "labels": ["Admin"],
                "status": Status.IN_PROGRESS,
                "due": None,
                "duration_minutes": 15,
            }
        ),
    )
    assert (updated.task.title, updated.task.description, updated.task.priority) == (
        "Ship it now",
        "v2",
        Priority.URGENT,
    )
    assert updated.task.labels == ["Admin"]
    assert updated.task.status is Status.IN_PROGRESS
    assert updated.task.due is None
    assert updated.task.scheduled_start is None
    assert updated.task.duration_minutes == 15
    assert updated.ref.remote_updated_at == NOW + timedelta(seconds=60)
    # the marker survives a description update, so recovery still finds the task
    assert updated.ref.idempotency_key == "c" * 32
    assert emu.state["tasks"][tid]["description"].endswith(marker_comment("c" * 32))

    done = motion.complete_task(tid)
    assert done.task.status is Status.DONE
    assert done.task.completed_at is not None
    assert emu.state["tasks"][tid]["status"] == "Completed"
    canceled = motion.update_task(tid, TaskPatch({"status": Status.CANCELED}))
    assert canceled.task.status is Status.CANCELED
    reopened = motion.update_task(tid, TaskPatch({"status": Status.TODO}))
    assert reopened.task.status is Status.TODO
    assert reopened.task.completed_at is None

    motion.delete_task(tid)
    assert motion.get_task(tid) is None
    motion.delete_task(tid)  # already gone: not an error
    assert tid not in emu.state["tasks"]


def test_statuses_are_fetched_once(motion: MotionIntegration, emu: MotionEmulator) -> None:
    created = motion.create_task(Task(title="Status cache"), idempotency_key="d" * 32)
    emu.reset_counts()
    for status in (Status.IN_PROGRESS, Status.DONE, Status.TODO):
        motion.update_task(created.ref.external_id, TaskPatch({"status": status}))
    counts = emu.request_counts()
    assert counts["GET /v1/statuses"] == 1
    assert counts["PATCH /v1/tasks/:id"] == 3


def test_validation_error_carries_motions_message(motion: MotionIntegration) -> None:
    created = motion.create_task(Task(title="Bad project"), idempotency_key="e" * 32)
    with pytest.raises(ValidationError, match="projectId: project 'nope' not found") as info:
        motion.update_task(created.ref.external_id, TaskPatch({}, project_external_id="nope"))
    assert info.value.service == "motion"
    with pytest.raises(ValidationError, match="no member"):
        motion.update_task(created.ref.external_id, TaskPatch({"assignee": "ghost@nowhere.example"}))


def test_find_by_idempotency_key_searches_by_title(motion: MotionIntegration, emu: MotionEmulator) -> None:
    task = Task(title="Weekly planning")  # the demo already holds a task with this title
    created = motion.create_task(task, idempotency_key="f" * 32)
    motion.complete_task(created.ref.external_id)  # resolved tasks are found too
    emu.reset_counts()
    found = motion.find_by_idempotency_key("f" * 32, hint=task)
    assert found is not None
    assert found.ref.external_id == created.ref.external_id
    assert emu.request_counts()["GET /v1/tasks"] == 1
    assert motion.find_by_idempotency_key("0" * 32, hint=task) is None


# ------------------------------------------------------------------------------- projects and comments


def test_projects_create_once_and_list(motion: MotionIntegration, emu: MotionEmulator, ws: str) -> None:
    project = Project(name="Website refresh", description="New landing page")
    first = motion.create_project(project, idempotency_key="p" * 32)
    again = motion.create_project(project, idempotency_key="p" * 32)
    assert again.ref.external_id == first.ref.external_id
    assert emu.request_counts()["POST /v1/projects"] == 1
    assert first.project.name == "Website refresh"
    assert first.project.description == "New landing page"
    assert first.ref.container == ws
    assert first.ref.idempotency_key == "p" * 32
    listed = {p.project.name: p for p in motion.list_projects()}
    assert set(listed) == {"Q1 launch", "Hiring", "Personal", "Website refresh"}
    in_project = motion.create_task(
        Task(title="Hero image"), idempotency_key="q" * 32, project_external_id=first.ref.external_id
    )
    assert in_project.project_external_id == first.ref.external_id


def test_comments_round_trip(motion: MotionIntegration, emu: MotionEmulator) -> None:
    created = motion.create_task(Task(title="Discuss"), idempotency_key="g" * 32)
    tid = created.ref.external_id
    first = motion.add_comment(tid, "First thought", idempotency_key="c1")
    emu.clock.advance(5)
    second = motion.add_comment(tid, "Second **thought**", idempotency_key="c2")
    comments = motion.list_comments(tid)
    assert [c.id for c in comments] == [first, second]
    assert [c.body for c in comments] == ["First thought", "Second **thought**"]
    assert comments[0].author == "alex.rivera@acme.example"
    assert comments[1].created_at == NOW + timedelta(seconds=5)
    assert emu.state["comments"][first]["content"].endswith(marker_comment("c1"))


def test_comment_commit_drop_leaves_one_comment(motion: MotionIntegration, emu: MotionEmulator) -> None:
    created = motion.create_task(Task(title="Flaky network"), idempotency_key="h" * 32)
    emu.add_fault(Fault("commit_drop", method="POST", path="/v1/comments"))
    comment_id = motion.add_comment(created.ref.external_id, "Only once", idempotency_key="once")
    comments = motion.list_comments(created.ref.external_id)
    assert [c.id for c in comments] == [comment_id]
    assert emu.request_counts()["POST /v1/comments"] == 1


# ------------------------------------------------------------------------------------------- listing


def test_the_client_counts_with_motions_real_page_size() -> None:
    # A captured GET /v1/tasks answers meta.pageSize 50 (the emulator's PAGE_SIZE); budgets and bounds
    # computed from the client's figure were 2.5x too pessimistic at 20.
    assert PAGE_SIZE == 50
    assert MotionIntegration.capabilities.max_page_size == PAGE_SIZE


@pytest.mark.parametrize(
    ("share", "per_minute", "pages"),
    [(0.5, 12, 6), (1.0, 12, 12), (0.01, 12, 1), (0.5, 120, 60), (1 / 6, 12, 2)],
)
def test_one_sync_reads_its_share_of_a_minutes_budget(
    url: str, ws: str, fake: FakeTime, share: float, per_minute: float, pages: int
) -> None:
    limiter = RateLimiter(per_minute, clock=fake.clock, sleep=fake.sleep)
    integration = MotionIntegration(
        MotionSettings(base_url=url, workspace_id=ws, scan_share=share),
        DEFAULT_API_KEY,
        limiter=limiter,
        retry_sleep=fake.sleep,
    )
    assert integration.round_pages() == pages
    integration.close()


def test_scan_stops_after_its_pages_and_resumes_where_it_stopped(
    motion: MotionIntegration, emu: MotionEmulator, ws: str
) -> None:
    emu.seed({"kind": "bulk", "n": 180, "changed_share": 0.0})
    expected = unresolved_ids(emu, ws)
    assert len(expected) > 2 * PAGE_SIZE
    emu.reset_counts()
    first = drain(motion.scan(None, resume=None, max_pages=2, known=lambda ids: {}))
    assert len(first) == 2
    assert not first[-1].last
    assert first[-1].resume
    assert emu.request_counts()["GET /v1/tasks"] == 2
    rest = drain(motion.scan(None, resume=first[-1].resume, max_pages=10, known=lambda ids: {}))
    assert rest[-1].last
    assert rest[-1].resume is None
    listed = [i for page in first + rest for i in page.seen or []]
    assert listed == expected  # every task once, in order, across the two calls
    # Items the cache already holds at their current update time are seen but not parsed again.
    stamps = {r.ref.external_id: r.ref.remote_updated_at for page in first for r in page.items}
    again = drain(motion.scan(None, resume=None, max_pages=1, known=lambda ids: stamps))
    assert again[0].items == []
    assert again[0].seen == first[0].seen


def test_full_listing_of_1000_plus_tasks_costs_ceil_n_over_the_page_size(
    motion: MotionIntegration, emu: MotionEmulator, ws: str
) -> None:
    emu.seed({"kind": "bulk", "n": 1200, "changed_share": 0.1})
    expected = unresolved_ids(emu, ws)
    assert len(expected) > 1000
    emu.reset_counts()
    pages = drain(motion.list_changes(None))
    assert len(pages) == math.ceil(len(expected) / PAGE_SIZE)
    counts = emu.request_counts()
    assert counts["GET /v1/tasks"] == math.ceil(len(expected) / PAGE_SIZE)
    assert counts["total"] == counts["GET /v1/tasks"]
    assert [t.ref.external_id for p in pages for t in p.items] == expected
    assert [i for p in pages for i in p.seen or []] == expected
    assert all(p.full_scan for p in pages)
    assert [p.last for p in pages] == [False] * (len(pages) - 1) + [True]
    # only the last page may move the cursor; it is then the newest updatedTime seen
    assert all(p.cursor is None for p in pages[:-1])
    newest = max(emu.state["tasks"][tid]["updatedTime"] for tid in expected)
    assert pages[-1].cursor is not None
    assert datetime.fromisoformat(pages[-1].cursor) == datetime.fromisoformat(newest.replace("Z", "+00:00"))


def test_incremental_listing_returns_only_changed_tasks(
    motion: MotionIntegration, emu: MotionEmulator, ws: str
) -> None:
    emu.seed({"kind": "bulk", "n": 300, "changed_share": 0.0})
    cursor = drain(motion.list_changes(None))[-1].cursor
    open_ids = unresolved_ids(emu, ws)
    emu.clock.advance(120)
    changed = [open_ids[3], open_ids[150], open_ids[-1]]
    for tid in changed:
        emu.admin_mutate({"op": "update", "kind": "task", "id": tid, "fields": {"priority": "LOW"}})
    finished = open_ids[42]
    emu.admin_mutate({"op": "update", "kind": "task", "id": finished, "fields": {"status": "Completed"}})
    emu.reset_counts()
    pages = drain(motion.list_changes(cursor))
    assert [t.ref.external_id for p in pages for t in p.items] == changed
    assert all(t.task.priority is Priority.LOW for p in pages for t in p.items)
    seen = [i for p in pages for i in p.seen or []]
    assert finished not in seen
    assert len(seen) == len(open_ids) - 1
    assert emu.request_counts()["GET /v1/tasks"] == math.ceil((len(open_ids) - 1) / PAGE_SIZE)
    # the engine confirms the disappearance with one GET: the task is now done
    confirmed = motion.get_task(finished)
    assert confirmed is not None
    assert confirmed.task.status is Status.DONE
    # the new cursor is the newest change; listing again from it yields nothing
    assert pages[-1].cursor is not None
    assert pages[-1].cursor > (cursor or "")
    assert [t for p in drain(motion.list_changes(pages[-1].cursor)) for t in p.items] == []


def test_nothing_changed_costs_one_request_on_a_small_workspace(
    motion: MotionIntegration, emu: MotionEmulator, ws: str
) -> None:
    emu.seed({"kind": "bulk", "n": 0})
    for index in range(12):
        emu.admin_mutate({"op": "create", "kind": "task", "fields": {"name": f"Task {index}"}})
    cursor = drain(motion.list_changes(None))[-1].cursor
    emu.clock.advance(60)
    emu.reset_counts()
    pages = drain(motion.list_changes(cursor))
    assert emu.request_counts() == {"GET /v1/tasks": 1, "total": 1}
    assert len(pages) == 1
    assert pages[0].items == []
    assert len(pages[0].seen or []) == 12
    assert pages[0].cursor == cursor


def test_workspace_resolved_from_the_listing_when_unset(
    url: str, fake: FakeTime, emu: MotionEmulator, ws: str
) -> None:
    integration = make_integration(url, None, fake)
    drain(integration.list_changes(None))
    drain(integration.list_changes(None))
    assert integration.workspace_id() == ws
    assert emu.request_counts()["GET /v1/workspaces"] == 1


# -------------------------------------------------------------------------------------------- faults


def test_retry_after_is_never_retried_early(url: str, ws: str, emu: MotionEmulator, fake: FakeTime) -> None:
    sent: list[float] = []
    client = httpx.Client(
        base_url=url,
        headers={"X-API-Key": DEFAULT_API_KEY},
        timeout=5.0,
        event_hooks={"request": [lambda request: sent.append(fake.now)]},
    )
    integration = make_integration(url, ws, fake, client=client)
    tid = unresolved_ids(emu, ws)[0]
    emu.add_fault(Fault("rate_limit", value=7, count=2, method="GET", path="/v1/tasks/"))
    found = integration.get_task(tid)
    assert found is not None
    assert len(sent) == 3
    assert sent[1] - sent[0] >= 7
    assert sent[2] - sent[1] >= 7
    client.close()


def test_real_rate_limit_waits_instead_of_failing(
    url: str, ws: str, emu: MotionEmulator, fake: FakeTime
) -> None:
    emu.rate_limits_enabled = True
    emu.reset_state()  # a fresh 12-per-minute window starting now
    emu.seed({"kind": "demo"})
    tid = unresolved_ids(emu, ws)[0]
    statuses: list[int] = []
    client = httpx.Client(
        base_url=url,
        headers={"X-API-Key": DEFAULT_API_KEY},
        timeout=5.0,
        event_hooks={"response": [lambda response: statuses.append(response.status_code)]},
    )
    # A limiter far above Motion's budget (another process spent it, or a wrong setting): the
    # integration meets a real 429 and waits out its Retry-After instead of failing.
    greedy = make_integration(url, ws, fake, client=client, per_minute=100_000)
    for _ in range(15):
        assert greedy.get_task(tid) is not None
    assert statuses.count(429) == 1
    assert statuses.count(200) == 15
    assert fake.now - 1000.0 >= 60.0 - 1  # the 13th request waited for the next window
    # At Motion's own budget (with a burst of one request) the limiter paces the calls 5 s apart,
    # so even the emulator's fixed 12-per-minute window never has to throttle.
    statuses.clear()
    emu.reset_state()
    emu.seed({"kind": "demo"})
    tid = unresolved_ids(emu, ws)[0]
    limiter = RateLimiter(12, burst=1, clock=fake.clock, sleep=fake.sleep)
    paced = MotionIntegration(
        MotionSettings(base_url=url, workspace_id=ws),
        DEFAULT_API_KEY,
        client=client,
        limiter=limiter,
        retry_sleep=fake.sleep,
    )
    start = fake.now
    for _ in range(30):
        assert paced.get_task(tid) is not None
    assert statuses == [200] * 30
    assert fake.now - start == pytest.approx(29 * 5.0, abs=0.5)
    client.close()


def test_server_error_burst_recovers(motion: MotionIntegration, emu: MotionEmulator, ws: str) -> None:
    tid = unresolved_ids(emu, ws)[0]
    emu.add_fault(Fault("error", value=503, count=3, method="GET", path="/v1/tasks/"))
    assert motion.get_task(tid) is not None
    assert emu.request_counts()["GET /v1/tasks/:id"] == 4
    emu.add_fault(Fault("error", value=502, count=2, method="PATCH"))
    renamed = motion.update_task(tid, TaskPatch({"title": "Renamed after 502s"}))
    assert renamed.task.title == "Renamed after 502s"
    emu.add_fault(Fault("reset", count=1, method="PATCH"))
    assert motion.update_task(tid, TaskPatch({"priority": Priority.LOW})).task.priority is Priority.LOW


def test_commit_drop_on_create_leaves_one_task_after_recovery(
    motion: MotionIntegration, emu: MotionEmulator
) -> None:
    task = Task(title="Exactly once", due=datetime(2026, 11, 28, 9, 0, tzinfo=UTC), due_all_day=False)
    emu.add_fault(Fault("commit_drop", method="POST", path="/v1/tasks"))
    with pytest.raises(TransientError):
        motion.create_task(task, idempotency_key="z" * 32)
    # the caller's recovery: look the key up, and create only if it is absent
    found = motion.find_by_idempotency_key("z" * 32, hint=task)
    if found is None:
        found = motion.create_task(task, idempotency_key="z" * 32)
    assert found.task.title == "Exactly once"
    same = [t for t in emu.state["tasks"].values() if t["name"] == "Exactly once"]
    assert len(same) == 1
    assert same[0]["id"] == found.ref.external_id
    assert emu.request_counts()["POST /v1/tasks"] == 1


def test_wrong_key_is_an_auth_error_naming_the_env_var(url: str, ws: str, fake: FakeTime) -> None:
    integration = make_integration(url, ws, fake, key="wrong-key-123")
    with pytest.raises(AuthError) as info:
        drain(integration.list_changes(None))
    error = info.value
    assert error.service == "motion"
    assert error.env_var == "PMTUI_MOTION_API_KEY"
    assert error.hint is not None
    assert "PMTUI_MOTION_API_KEY" in error.hint
    assert "wrong-key-123" not in error.user_text()
    health = integration.health()
    assert health.ok is False
    assert health.hint is not None
    assert "PMTUI_MOTION_API_KEY" in health.hint


def test_health_reports_account_workspace_and_budget(
    motion: MotionIntegration, ws: str, url: str, fake: FakeTime
) -> None:
    health = motion.health()
    assert health.ok
    assert health.service is Service.MOTION
    assert health.account == "alex.rivera@acme.example"
    assert health.ids["workspace_id"] == ws
    assert health.rate_limit == pytest.approx(600_000)
    assert health.rate_remaining is not None
    assert health.rate_remaining > 0
    missing = make_integration(url, "no-such-workspace", fake).health()
    assert missing.ok is False
    assert missing.hint is not None
    assert ws in missing.hint
