"""Contract tests of the Motion emulator, driven over HTTP with plain httpx as pmtui's client is.

Motion has no official Python SDK, so httpx is the "real client" here. The clock is frozen at
Tuesday 2026-11-24 10:00 UTC so that scheduling, rate-limit windows and timestamps are exact.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pmtui.sandbox.motion import DEFAULT_API_KEY, PAGE_SIZE, MotionEmulator, schedule_slot
from pmtui.sandbox.server import Clock, Fault, HttpError, RunningEmulator, iso_z, serving

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
DEMO_TASKS = 31
DEMO_RESOLVED = 5


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.set(NOW, frozen=True)
    return clock


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[MotionEmulator, RunningEmulator]]:
    """One server for the module: stopping a server costs ~0.5 s (the serve loop's poll interval)."""
    emulator = MotionEmulator(clock=Clock(), seed=7)
    with serving(emulator) as running:
        yield emulator, running


@pytest.fixture
def emu(shared: tuple[MotionEmulator, RunningEmulator]) -> MotionEmulator:
    """The shared emulator, back to a fresh demo at NOW with no faults, counts or rate limits."""
    emulator = shared[0]
    emulator.clock.set(NOW, frozen=True)
    emulator.clear_faults()
    emulator.rate_limits_enabled = False
    emulator.reset_state()
    emulator.reset_counts()
    emulator.seed({"kind": "demo"})
    return emulator


@pytest.fixture
def server(shared: tuple[MotionEmulator, RunningEmulator], emu: MotionEmulator) -> RunningEmulator:
    return shared[1]


@pytest.fixture
def client(server: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{server.url}/v1", headers={"X-API-Key": DEFAULT_API_KEY}, timeout=5.0
    ) as http:
        yield http


@pytest.fixture
def ws(emu: MotionEmulator) -> str:
    workspace_id: str = emu.config_hints()["workspace_id"]
    return workspace_id


def list_all(client: httpx.Client, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every task of a listing, following ``meta.nextCursor``; returns (tasks, requests made)."""
    tasks: list[dict[str, Any]] = []
    cursor: str | None = None
    requests = 0
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = client.get("/tasks", params=query)
        requests += 1
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"]["pageSize"] == PAGE_SIZE
        tasks.extend(body["tasks"])
        cursor = body["meta"].get("nextCursor")
        if not cursor:
            return tasks, requests


def task_named(client: httpx.Client, name: str) -> dict[str, Any]:
    found = [t for t in list_all(client, name=name, includeAllStatuses="true")[0] if t["name"] == name]
    assert len(found) == 1, found
    return found[0]


def fresh_tasks(emu: MotionEmulator, unresolved: int, resolved: int = 0) -> list[str]:
    """Replace the demo tasks by ``unresolved`` open and ``resolved`` completed tasks (in-process)."""
    emu.seed({"kind": "bulk", "n": 0})
    ws = emu.config_hints()["workspace_id"]
    ids = []
    for index in range(unresolved + resolved):
        status = "Completed" if index % 13 == 5 and resolved else "Todo"
        if status == "Completed":
            resolved -= 1
        fields = {"name": f"Task {index:04d}", "workspaceId": ws, "status": status}
        ids.append(emu.admin_mutate({"op": "create", "kind": "task", "fields": fields})["id"])
    return ids


# ------------------------------------------------------------------------------------------ auth


def test_missing_or_wrong_key_is_401_with_message(server: RunningEmulator) -> None:
    with httpx.Client(base_url=f"{server.url}/v1") as anonymous:
        response = anonymous.get("/workspaces")
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}
        wrong = anonymous.get("/tasks", headers={"X-API-Key": "not-the-key"})
        assert wrong.status_code == 401
        assert wrong.json() == {"message": "Unauthorized"}


def test_unknown_route_and_method_answer_with_message(client: httpx.Client) -> None:
    missing = client.get("/nothing-here")
    assert missing.status_code == 404
    assert "message" in missing.json()
    not_allowed = client.put("/tasks/abc", json={})
    assert not_allowed.status_code == 405
    assert "message" in not_allowed.json()


# ------------------------------------------------------------------------- workspaces, users, statuses


def test_workspaces_wrapper_labels_and_statuses(client: httpx.Client, ws: str) -> None:
    body = client.get("/workspaces").json()
    assert body["meta"] == {"pageSize": PAGE_SIZE}
    names = [w["name"] for w in body["workspaces"]]
    assert names == ["Acme", "My Private Workspace"]
    acme = body["workspaces"][0]
    assert acme["id"] == ws
    assert acme["type"] == "TEAM"
    assert acme["teamId"]
    assert [label["name"] for label in acme["labels"]] == [
        "Deep work",
        "Meeting",
        "Admin",
        "Review",
        "Personal",
    ]
    assert acme["statuses"][0] == {"name": "Todo", "isDefaultStatus": True, "isResolvedStatus": False}
    resolved = [s["name"] for s in acme["statuses"] if s["isResolvedStatus"]]
    assert resolved == ["Completed", "Canceled"]
    only = client.get("/workspaces", params={"ids": ws}).json()["workspaces"]
    assert [w["id"] for w in only] == [ws]


def test_users_me_and_workspace_members(client: httpx.Client, emu: MotionEmulator, ws: str) -> None:
    me = client.get("/users/me").json()
    assert me == {
        "id": emu.config_hints()["user_id"],
        "name": "Alex Rivera",
        "email": "alex.rivera@acme.example",
    }
    members = client.get("/users", params={"workspaceId": ws}).json()
    assert members["meta"]["pageSize"] == PAGE_SIZE
    assert [u["name"] for u in members["users"]] == ["Alex Rivera", "Sam Chen", "Priya Patel", "Jordan Lee"]
    assert set(members["users"][1]) == {"id", "name", "email"}
    private = client.get("/workspaces").json()["workspaces"][1]["id"]
    assert [u["id"] for u in client.get("/users", params={"workspaceId": private}).json()["users"]] == [
        me["id"]
    ]


def test_statuses_is_a_bare_array(client: httpx.Client, ws: str) -> None:
    statuses = client.get("/statuses", params={"workspaceId": ws}).json()
    assert isinstance(statuses, list)
    assert [s["name"] for s in statuses] == ["Todo", "In Progress", "Blocked", "Completed", "Canceled"]
    assert all(set(s) == {"name", "isDefaultStatus", "isResolvedStatus"} for s in statuses)
    unknown = client.get("/statuses", params={"workspaceId": "nope"})
    assert unknown.status_code == 400
    assert "workspace" in unknown.json()["message"]


# ------------------------------------------------------------------------------------------ projects


def test_projects_list_create_get(client: httpx.Client, ws: str) -> None:
    listing = client.get("/projects", params={"workspaceId": ws}).json()
    assert "nextCursor" not in listing["meta"]
    assert [p["name"] for p in listing["projects"]] == ["Q1 launch", "Hiring", "Personal"]
    first = listing["projects"][0]
    assert set(first) == {
        "id",
        "name",
        "description",
        "workspaceId",
        "status",
        "createdTime",
        "updatedTime",
        "customFieldValues",
    }
    assert first["status"] == {"name": "In Progress", "isDefaultStatus": False, "isResolvedStatus": False}

    created = client.post(
        "/projects",
        json={
            "name": "Website redesign",
            "workspaceId": ws,
            "description": "New look",
            "priority": "HIGH",
            "dueDate": "2026-12-31T17:00:00Z",
            "labels": ["Review"],
        },
    )
    assert created.status_code == 200
    project = created.json()
    assert project["name"] == "Website redesign"
    assert project["description"] == "New look"
    assert project["status"]["name"] == "Todo"
    assert project["createdTime"] == project["updatedTime"] == "2026-11-24T10:00:00.000Z"
    assert client.get(f"/projects/{project['id']}").json() == project

    assert client.post("/projects", json={"workspaceId": ws}).status_code == 400
    assert client.post("/projects", json={"name": "x"}).status_code == 400
    assert (
        client.post("/projects", json={"name": "x", "workspaceId": ws, "priority": "URGENT"}).status_code
        == 400
    )
    missing = client.get("/projects/does-not-exist")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Project not found"}


def test_projects_paginate_by_fifty(client: httpx.Client, ws: str) -> None:
    existing = len(client.get("/projects", params={"workspaceId": ws}).json()["projects"])
    for index in range(PAGE_SIZE):
        assert client.post("/projects", json={"name": f"P{index}", "workspaceId": ws}).status_code == 200
    first = client.get("/projects", params={"workspaceId": ws}).json()
    assert len(first["projects"]) == PAGE_SIZE == 50
    second = client.get("/projects", params={"workspaceId": ws, "cursor": first["meta"]["nextCursor"]}).json()
    rest = [f"P{i}" for i in range(PAGE_SIZE - existing, PAGE_SIZE)]
    assert [p["name"] for p in second["projects"]] == rest
    assert "nextCursor" not in second["meta"]


# ------------------------------------------------------------------------------------ task listing


def test_default_listing_hides_resolved_tasks(client: httpx.Client, emu: MotionEmulator) -> None:
    tasks, requests = list_all(client)
    assert requests == math.ceil((DEMO_TASKS - DEMO_RESOLVED) / PAGE_SIZE)
    assert len(tasks) == DEMO_TASKS - DEMO_RESOLVED
    assert not any(t["status"]["isResolvedStatus"] or t["completed"] for t in tasks)
    everything, requests = list_all(client, includeAllStatuses="true")
    assert len(everything) == DEMO_TASKS
    assert requests == math.ceil(DEMO_TASKS / PAGE_SIZE)
    assert len(list_all(client, includeAllStatuses="false")[0]) == DEMO_TASKS - DEMO_RESOLVED
    assert emu.request_counts()["GET /v1/tasks"] == 3 * math.ceil(DEMO_TASKS / PAGE_SIZE)


def test_status_filter_repeated_and_array_forms(client: httpx.Client) -> None:
    repeated = client.get("/tasks", params=[("status", "Completed"), ("status", "Canceled")]).json()["tasks"]
    assert len(repeated) == DEMO_RESOLVED
    assert {t["status"]["name"] for t in repeated} == {"Completed", "Canceled"}
    assert all(t["completed"] and t["completedTime"] for t in repeated)
    brackets = client.get("/tasks", params=[("status[]", "Completed"), ("status[]", "Canceled")]).json()[
        "tasks"
    ]
    assert [t["id"] for t in brackets] == [t["id"] for t in repeated]
    blocked = client.get("/tasks", params={"status": "Blocked"}).json()["tasks"]
    assert [t["name"] for t in blocked] == ["Prepare demo environment"]
    both = client.get("/tasks", params={"status": "Todo", "includeAllStatuses": "true"})
    assert both.status_code == 400
    assert "includeAllStatuses" in both.json()["message"]
    assert client.get("/tasks", params={"includeAllStatuses": "maybe"}).status_code == 400


def test_name_label_project_assignee_and_workspace_filters(client: httpx.Client, ws: str) -> None:
    by_name = client.get("/tasks", params={"name": "LOGIN redirect"}).json()["tasks"]
    assert [t["name"] for t in by_name] == ["Fix login redirect loop"]
    meetings = client.get("/tasks", params={"label": "Meeting"}).json()["tasks"]
    assert {t["name"] for t in meetings} == {
        "Launch sync with marketing",
        "Interview debrief: frontend candidate",
        "1:1 with Sam",
    }
    assert all({"name": "Meeting"} in t["labels"] for t in meetings)
    hiring = client.get("/projects", params={"workspaceId": ws}).json()["projects"][1]
    in_hiring = list_all(client, projectId=hiring["id"], includeAllStatuses="true")[0]
    assert len(in_hiring) == 7
    assert {t["project"]["name"] for t in in_hiring} == {"Hiring"}
    sam = client.get("/users", params={"workspaceId": ws}).json()["users"][1]
    sams = client.get("/tasks", params={"assigneeId": sam["id"]}).json()["tasks"]
    assert {t["name"] for t in sams} == {"Prepare demo environment", "Fix flaky checkout test"}
    private = client.get("/workspaces").json()["workspaces"][1]["id"]
    assert client.get("/tasks", params={"workspaceId": private}).json() == {
        "meta": {"pageSize": PAGE_SIZE},
        "tasks": [],
    }
    assert len(list_all(client, workspaceId=ws)[0]) == DEMO_TASKS - DEMO_RESOLVED


def test_invalid_cursor_is_400(client: httpx.Client) -> None:
    response = client.get("/tasks", params={"cursor": "%%%garbage"})
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid cursor"}


def test_six_hundred_unresolved_tasks_take_exactly_twelve_requests(
    client: httpx.Client, emu: MotionEmulator
) -> None:
    ids = fresh_tasks(emu, unresolved=600, resolved=40)
    emu.reset_counts()
    tasks, requests = list_all(client)
    assert requests == 600 // PAGE_SIZE == 12
    assert emu.request_counts() == {"GET /v1/tasks": 12, "total": 12}
    assert len(tasks) == 600
    assert len({t["id"] for t in tasks}) == 600
    unresolved_ids = [i for i in ids if not emu.state["tasks"][i]["completed"]]
    assert [t["id"] for t in tasks] == unresolved_ids  # creation order, nothing skipped


def test_cursor_is_stable_while_tasks_change_mid_listing(client: httpx.Client, emu: MotionEmulator) -> None:
    ids = fresh_tasks(emu, unresolved=100)
    seen: list[str] = []
    cursor: str | None = None
    page = 0
    while True:
        body = client.get("/tasks", params={"cursor": cursor} if cursor else {}).json()
        seen.extend(t["id"] for t in body["tasks"])
        page += 1
        if page == 1:
            # Another user edits tasks already served and not yet served, resolves one already served,
            # deletes one on a later page and adds a new one: nothing unrelated may be skipped or repeated.
            emu.clock.advance(30)
            for task_id in (ids[0], ids[5], ids[50], ids[99]):
                emu.admin_mutate(
                    {"op": "update", "kind": "task", "id": task_id, "fields": {"name": "edited"}}
                )
            emu.admin_mutate(
                {"op": "update", "kind": "task", "id": ids[3], "fields": {"status": "Completed"}}
            )
            emu.admin_mutate({"op": "delete", "kind": "task", "id": ids[60]})
            added = emu.admin_mutate({"op": "create", "kind": "task", "fields": {"name": "late arrival"}})[
                "id"
            ]
        cursor = body["meta"].get("nextCursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert seen == [*(i for i in ids if i != ids[60]), added]


@pytest.mark.slow
def test_deep_cursor_over_bulk_seed(client: httpx.Client, emu: MotionEmulator) -> None:
    # No clock here: pytest-timeout catches a seed or a page that went quadratic, and the sync benchmarks
    # (benchmarks/) time the emulators at 50,000 tasks.
    counts = emu.seed({"kind": "bulk", "n": 50_000, "changed_share": 0.2})
    assert counts["tasks"] == 50_000
    assert 3_000 < counts["resolved"] < 7_000
    last = emu.state["tasks"][emu.state["task_order"][-100]]
    from pmtui.sandbox.motion import encode_cursor

    body = client.get("/tasks", params={"cursor": encode_cursor(last["seq"], last["id"])}).json()
    assert 0 < len(body["tasks"]) <= PAGE_SIZE
    recent = sum(
        1 for t in emu.state["tasks"].values() if t["updatedTime"] >= iso_z(NOW - timedelta(hours=1))
    )
    assert 8_000 < recent < 12_000


# ------------------------------------------------------------------------------------ task objects


def test_task_object_shape_and_linear_link(client: httpx.Client, ws: str) -> None:
    task = task_named(client, "Fix login redirect loop")
    assert client.get(f"/tasks/{task['id']}").json() == task
    assert set(task) == {
        "id",
        "name",
        "description",
        "duration",
        "dueDate",
        "deadlineType",
        "parentRecurringTaskId",
        "completed",
        "completedTime",
        "createdTime",
        "updatedTime",
        "startOn",
        "creator",
        "project",
        "workspace",
        "status",
        "priority",
        "labels",
        "assignees",
        "scheduledStart",
        "scheduledEnd",
        "schedulingIssue",
        "lastInteractedTime",
        "chunks",
        "customFieldValues",
    }
    assert (
        "Scheduled from Linear: https://linear.app/acme/issue/ENG-3/fix-login-redirect-loop"
        in task["description"]
    )
    assert task["labels"] == [{"name": "Deep work"}]
    assert task["workspace"]["id"] == ws
    # Tasks embed the full workspace and project, as the captured real list shows (#21).
    assert set(task["workspace"]) == {"id", "name", "teamId", "type", "labels", "statuses"}
    todo = {"name": "Todo", "isDefaultStatus": True, "isResolvedStatus": False}
    assert todo in task["workspace"]["statuses"]
    assert set(task["project"]) == {
        *("id", "name", "description", "workspaceId", "status"),
        *("createdTime", "updatedTime", "customFieldValues"),
    }
    assert task["lastInteractedTime"] >= task["updatedTime"]  # a comment is an interaction too
    assert task["scheduledStart"] == "2026-11-24T09:00:00.000Z"
    assert task["scheduledEnd"] == "2026-11-24T10:30:00.000Z"
    assert task["parentRecurringTaskId"] is None
    assert task["chunks"] == []
    missing = client.get("/tasks/nope")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Task not found"}


def test_demo_due_dates_spread_around_now(client: httpx.Client) -> None:
    tasks = list_all(client, includeAllStatuses="true")[0]
    open_tasks = [t for t in tasks if not t["completed"]]
    dues = [datetime.fromisoformat(t["dueDate"].replace("Z", "+00:00")) for t in open_tasks if t["dueDate"]]
    today = NOW.date()
    assert sum(1 for d in dues if d < NOW) >= 3  # overdue
    assert sum(1 for d in dues if d.date() == today) >= 5
    assert any(d.date() == today and d.hour >= 21 for d in dues)  # late in the evening
    assert sum(1 for d in dues if today < d.date() <= today + timedelta(days=7)) >= 5
    assert any(t["dueDate"] is None for t in open_tasks)
    durations = [t["duration"] for t in tasks if isinstance(t["duration"], int)]
    assert min(durations) == 15
    assert max(durations) == 180
    scheduled = [t for t in tasks if t["scheduledStart"]]
    assert len(scheduled) >= 3
    assert all(t["scheduledStart"].startswith("2026-11-24") for t in scheduled)


def test_create_task_full_body(client: httpx.Client, emu: MotionEmulator, ws: str) -> None:
    project = client.get("/projects", params={"workspaceId": ws}).json()["projects"][0]
    sam = client.get("/users", params={"workspaceId": ws}).json()["users"][1]
    response = client.post(
        "/tasks",
        json={
            "name": "Write release notes",
            "workspaceId": ws,
            "dueDate": "2026-11-26T17:00:00.000Z",
            "duration": 60,
            "status": "In Progress",
            "projectId": project["id"],
            "description": "## Notes\n- item",
            "priority": "HIGH",
            "labels": ["Review", "Docs"],
            "assigneeId": sam["id"],
            "autoScheduled": {"startDate": "2026-11-24", "deadlineType": "HARD", "schedule": "Work Hours"},
        },
    )
    assert response.status_code == 200
    task = response.json()
    assert task["name"] == "Write release notes"
    assert task["status"] == {"name": "In Progress", "isDefaultStatus": False, "isResolvedStatus": False}
    assert task["project"]["id"] == project["id"]
    assert task["priority"] == "HIGH"
    assert task["labels"] == [{"name": "Review"}, {"name": "Docs"}]
    assert task["assignees"] == [sam]
    assert task["creator"]["id"] == emu.config_hints()["user_id"]
    assert task["deadlineType"] == "HARD"
    assert task["dueDate"] == "2026-11-26T17:00:00.000Z"
    assert task["createdTime"] == task["updatedTime"] == "2026-11-24T10:00:00.000Z"
    assert (task["scheduledStart"], task["scheduledEnd"]) == (
        "2026-11-24T10:00:00.000Z",
        "2026-11-24T11:00:00.000Z",
    )
    assert task["schedulingIssue"] is False
    assert task["completed"] is False
    labels = client.get("/workspaces", params={"ids": ws}).json()["workspaces"][0]["labels"]
    assert {"name": "Docs"} in labels  # unknown label names join the workspace


def test_create_task_defaults(client: httpx.Client, ws: str) -> None:
    task = client.post("/tasks", json={"name": "Minimal", "workspaceId": ws}).json()
    assert task["priority"] == "MEDIUM"
    assert task["status"]["name"] == "Todo"
    assert task["status"]["isDefaultStatus"] is True
    assert task["project"] is None
    assert task["labels"] == []
    assert task["assignees"] == []
    assert task["scheduledStart"] is None
    assert task["duration"] == 30
    reminder = client.post("/tasks", json={"name": "Ping", "workspaceId": ws, "duration": "REMINDER"}).json()
    assert reminder["duration"] == "REMINDER"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"workspaceId": "WS"}, "name"),
        ({"name": "  ", "workspaceId": "WS"}, "name"),
        ({"name": "x"}, "workspaceId"),
        ({"name": "x", "workspaceId": "WS", "autoScheduled": {"deadlineType": "SOFT"}}, "dueDate"),
        ({"name": "x", "workspaceId": "WS", "status": "Done"}, "status"),
        ({"name": "x", "workspaceId": "WS", "projectId": "nope"}, "projectId"),
        ({"name": "x", "workspaceId": "WS", "priority": "URGENT"}, "priority"),
        ({"name": "x", "workspaceId": "WS", "duration": 0}, "duration"),
        ({"name": "x", "workspaceId": "WS", "duration": "45"}, "duration"),
        ({"name": "x", "workspaceId": "WS", "dueDate": "tomorrow"}, "dueDate"),
        ({"name": "x", "workspaceId": "WS", "assigneeId": "stranger"}, "assigneeId"),
        ({"name": "x", "workspaceId": "WS", "labels": "Admin"}, "labels"),
        (
            {
                "name": "x",
                "workspaceId": "WS",
                "dueDate": "2026-12-01T00:00:00Z",
                "autoScheduled": {"deadlineType": "SOMETIMES"},
            },
            "deadlineType",
        ),
        (
            {
                "name": "x",
                "workspaceId": "WS",
                "dueDate": "2026-12-01T00:00:00Z",
                "autoScheduled": {"schedule": "Evenings"},
            },
            "schedule",
        ),
    ],
)
def test_create_task_validation_errors(
    client: httpx.Client, emu: MotionEmulator, ws: str, body: dict[str, Any], fragment: str
) -> None:
    body = {k: (ws if v == "WS" else v) for k, v in body.items()}
    before = len(emu.state["tasks"])
    labels_before = list(emu.state["workspaces"][ws]["labels"])
    response = client.post("/tasks", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert set(response.json()) == {"message"}
    assert len(emu.state["tasks"]) == before
    assert emu.state["workspaces"][ws]["labels"] == labels_before


def test_create_task_rejects_non_json_body(client: httpx.Client) -> None:
    response = client.post("/tasks", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_auto_scheduled_slot_respects_start_date_and_flags_late_slots(client: httpx.Client, ws: str) -> None:
    later = client.post(
        "/tasks",
        json={
            "name": "Later",
            "workspaceId": ws,
            "duration": 90,
            "dueDate": "2026-11-30T17:00:00Z",
            "autoScheduled": {"startDate": "2026-11-26", "deadlineType": "SOFT", "schedule": "Work Hours"},
        },
    ).json()
    assert (later["scheduledStart"], later["scheduledEnd"]) == (
        "2026-11-26T09:00:00.000Z",
        "2026-11-26T10:30:00.000Z",
    )
    assert later["startOn"] == "2026-11-26"
    late = client.post(
        "/tasks",
        json={
            "name": "Too late",
            "workspaceId": ws,
            "duration": 60,
            "dueDate": "2026-11-24T10:30:00Z",
            "autoScheduled": {"startDate": "2026-11-24"},
        },
    ).json()
    assert late["scheduledEnd"] == "2026-11-24T11:00:00.000Z"
    assert late["schedulingIssue"] is True
    unscheduled = client.patch(f"/tasks/{late['id']}", json={"autoScheduled": None}).json()
    assert unscheduled["scheduledStart"] is None
    assert unscheduled["schedulingIssue"] is False


@pytest.mark.parametrize(
    ("earliest", "duration", "due", "expected"),
    [
        ("2026-11-24T07:10:00Z", 30, None, ("2026-11-24T09:00:00.000Z", "2026-11-24T09:30:00.000Z", False)),
        ("2026-11-24T10:07:00Z", 30, None, ("2026-11-24T10:15:00.000Z", "2026-11-24T10:45:00.000Z", False)),
        ("2026-11-24T16:30:00Z", 60, None, ("2026-11-25T09:00:00.000Z", "2026-11-25T10:00:00.000Z", False)),
        ("2026-11-27T18:00:00Z", 45, None, ("2026-11-30T09:00:00.000Z", "2026-11-30T09:45:00.000Z", False)),
        ("2026-11-24T10:00:00Z", 600, None, ("2026-11-25T09:00:00.000Z", "2026-11-25T19:00:00.000Z", False)),
        (
            "2026-11-24T16:00:00Z",
            120,
            "2026-11-24T23:00:00Z",
            ("2026-11-25T09:00:00.000Z", "2026-11-25T11:00:00.000Z", True),
        ),
        ("2026-11-24T10:00:00Z", "REMINDER", None, (None, None, False)),
    ],
)
def test_schedule_slot_table(
    earliest: str, duration: int | str, due: str | None, expected: tuple[Any, ...]
) -> None:
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    assert schedule_slot(parse(earliest), duration, parse(due) if due else None) == expected


# ------------------------------------------------------------------------------- update and delete


def test_patch_resolving_removes_task_from_default_listing(client: httpx.Client, emu: MotionEmulator) -> None:
    task = task_named(client, "Review pricing page copy")
    emu.clock.advance(3600)
    done = client.patch(f"/tasks/{task['id']}", json={"status": "Completed"})
    assert done.status_code == 200
    body = done.json()
    assert body["completed"] is True
    assert body["completedTime"] == body["updatedTime"] == "2026-11-24T11:00:00.000Z"
    assert body["status"]["isResolvedStatus"] is True
    assert task["id"] not in {t["id"] for t in list_all(client)[0]}
    assert task["id"] in {t["id"] for t in list_all(client, includeAllStatuses="true")[0]}
    reopened = client.patch(f"/tasks/{task['id']}", json={"status": "Todo"}).json()
    assert reopened["completed"] is False
    assert reopened["completedTime"] is None


def test_patch_fields_and_validation(client: httpx.Client, emu: MotionEmulator) -> None:
    task = task_named(client, "Clean up backlog")
    emu.clock.advance(120)
    patched = client.patch(
        f"/tasks/{task['id']}",
        json={
            "name": "Clean up the backlog",
            "priority": "ASAP",
            "labels": ["Admin"],
            "duration": 15,
            "dueDate": "2026-11-25T12:00:00+01:00",
            "description": "now",
        },
    ).json()
    assert patched["name"] == "Clean up the backlog"
    assert patched["priority"] == "ASAP"
    assert patched["labels"] == [{"name": "Admin"}]
    assert patched["duration"] == 15
    assert patched["dueDate"] == "2026-11-25T11:00:00.000Z"
    assert patched["description"] == "now"
    assert patched["createdTime"] == task["createdTime"]
    assert patched["updatedTime"] == "2026-11-24T10:02:00.000Z"
    rejected = client.patch(f"/tasks/{task['id']}", json={"status": "Nope", "name": "should not stick"})
    assert rejected.status_code == 400
    assert client.get(f"/tasks/{task['id']}").json() == patched
    assert client.patch(f"/tasks/{task['id']}", json={"autoScheduled": {}}).json()["scheduledStart"]
    no_due = client.patch(f"/tasks/{task['id']}", json={"dueDate": None})
    assert no_due.status_code == 400
    assert "dueDate" in no_due.json()["message"]
    assert client.patch("/tasks/unknown", json={"name": "x"}).status_code == 404


def test_delete_returns_204_without_body(client: httpx.Client, emu: MotionEmulator) -> None:
    task = task_named(client, "Plan weekend trip")
    response = client.delete(f"/tasks/{task['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/tasks/{task['id']}").status_code == 404
    assert client.delete(f"/tasks/{task['id']}").status_code == 404
    assert len(emu.state["task_order"]) == DEMO_TASKS - 1


# ------------------------------------------------------------------------------------------ comments


def test_comments_list_create_and_errors(client: httpx.Client, emu: MotionEmulator) -> None:
    task = task_named(client, "Fix login redirect loop")
    listing = client.get("/comments", params={"taskId": task["id"]}).json()
    assert listing["meta"] == {"pageSize": PAGE_SIZE}
    assert [c["creator"]["name"] for c in listing["comments"]] == ["Sam Chen", "Alex Rivera"]
    assert set(listing["comments"][0]) == {"id", "taskId", "content", "createdAt", "creator"}
    created = client.post("/comments", json={"taskId": task["id"], "content": "Fixed in **#42**"})
    assert created.status_code == 200
    assert created.json()["content"] == "Fixed in **#42**"
    assert created.json()["createdAt"] == "2026-11-24T10:00:00.000Z"
    assert created.json()["creator"]["id"] == emu.config_hints()["user_id"]
    assert len(client.get("/comments", params={"taskId": task["id"]}).json()["comments"]) == 3
    assert client.get("/comments").status_code == 400
    assert client.get("/comments", params={"taskId": "nope"}).status_code == 404
    assert client.post("/comments", json={"taskId": task["id"]}).status_code == 400
    assert client.post("/comments", json={"taskId": "nope", "content": "x"}).status_code == 404


# --------------------------------------------------------------------------------------- rate limits


def test_rate_limit_twelve_per_minute_window_on_the_clock(client: httpx.Client, emu: MotionEmulator) -> None:
    emu.rate_limits_enabled = True
    for _ in range(12):
        assert client.get("/workspaces").status_code == 200
    throttled = client.get("/tasks")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "60"
    assert throttled.json() == {"message": "Rate limit exceeded"}
    emu.clock.advance(15)
    again = client.post("/tasks", json={"name": "x", "workspaceId": emu.config_hints()["workspace_id"]})
    assert again.status_code == 429
    assert again.headers["Retry-After"] == "45"
    emu.clock.advance(45)
    assert client.get("/tasks").status_code == 200
    assert emu.request_counts()["total"] == 15
    assert len(emu.state["tasks"]) == DEMO_TASKS  # the throttled POST was not applied


def test_rate_limit_is_configurable_and_off_by_default(clock: Clock) -> None:
    emulator = MotionEmulator(clock=clock, requests_per_minute=120)
    emulator.seed({"kind": "demo"})
    with (
        serving(emulator) as running,
        httpx.Client(base_url=f"{running.url}/v1", headers={"X-API-Key": DEFAULT_API_KEY}) as http,
    ):
        for _ in range(30):
            assert http.get("/users/me").status_code == 200
        emulator.rate_limits_enabled = True
        statuses = [http.get("/users/me").status_code for _ in range(121)]
        assert statuses.count(200) == 120
        assert statuses[-1] == 429


def test_injected_rate_limit_fault_uses_motion_shape(client: httpx.Client, emu: MotionEmulator) -> None:
    emu.add_fault(Fault(kind="rate_limit", value=2, count=1))
    response = client.get("/tasks")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json() == {"message": "Rate limit exceeded"}
    assert client.get("/tasks").status_code == 200


# ------------------------------------------------------------------------------------------- faults


def test_error_fault_answers_in_motion_error_shape(client: httpx.Client, emu: MotionEmulator) -> None:
    emu.add_fault(Fault(kind="error", value=503, count=1, path="/v1/tasks"))
    response = client.get("/tasks")
    assert response.status_code == 503
    assert set(response.json()) == {"message"}
    assert client.get("/tasks").status_code == 200


def test_commit_drop_applies_the_write_exactly_once(
    client: httpx.Client, emu: MotionEmulator, ws: str
) -> None:
    emu.add_fault(Fault(kind="commit_drop", method="POST", path="/v1/tasks"))
    with pytest.raises(httpx.TransportError):
        client.post("/tasks", json={"name": "Dropped but saved", "workspaceId": ws})
    assert [
        t["name"] for t in client.get("/tasks", params={"name": "Dropped but saved"}).json()["tasks"]
    ] == ["Dropped but saved"]
    assert emu.request_counts()["POST /v1/tasks"] == 1


def test_reset_fault_applies_nothing(client: httpx.Client, emu: MotionEmulator, ws: str) -> None:
    emu.add_fault(Fault(kind="reset", method="POST"))
    with pytest.raises(httpx.TransportError):
        client.post("/tasks", json={"name": "Never saved", "workspaceId": ws})
    assert client.get("/tasks", params={"name": "Never saved"}).json()["tasks"] == []
    assert len(emu.state["tasks"]) == DEMO_TASKS
    assert client.post("/tasks", json={"name": "Never saved", "workspaceId": ws}).status_code == 200
    assert len(client.get("/tasks", params={"name": "Never saved"}).json()["tasks"]) == 1


def test_latency_fault_delays_the_answer(client: httpx.Client, emu: MotionEmulator) -> None:
    fault = Fault(kind="latency", value=300, count=1, path="/v1/workspaces")
    emu.add_fault(fault)
    started = time.perf_counter()
    assert client.get("/workspaces").status_code == 200
    assert time.perf_counter() - started >= 0.3  # a lower bound: the server slept, however fast the machine
    assert fault.hits == 1
    assert client.get("/workspaces").status_code == 200
    assert fault.hits == 1, "count=1: the second request is not delayed"


def test_exact_request_counts_per_route(client: httpx.Client, emu: MotionEmulator, ws: str) -> None:
    client.get("/workspaces")
    client.get("/users/me")
    created = client.post("/tasks", json={"name": "Counted", "workspaceId": ws}).json()
    client.get(f"/tasks/{created['id']}")
    client.patch(f"/tasks/{created['id']}", json={"priority": "LOW"})
    client.delete(f"/tasks/{created['id']}")
    client.get("/tasks")
    client.get("/tasks")
    assert emu.request_counts() == {
        "GET /v1/workspaces": 1,
        "GET /v1/users/me": 1,
        "POST /v1/tasks": 1,
        "GET /v1/tasks/:id": 1,
        "PATCH /v1/tasks/:id": 1,
        "DELETE /v1/tasks/:id": 1,
        "GET /v1/tasks": 2,
        "total": 8,
    }


# ------------------------------------------------------------------------------ admin, clock, seeds


def test_admin_mutate_bumps_updated_time_as_another_user(client: httpx.Client, emu: MotionEmulator) -> None:
    task = task_named(client, "Finalize launch checklist")
    emu.clock.advance(600)
    updated = emu.admin_mutate(
        {
            "op": "update",
            "kind": "task",
            "id": task["id"],
            "fields": {"name": "Finalize checklist", "status": "Completed"},
        }
    )
    assert updated["updatedTime"] == "2026-11-24T10:10:00.000Z"
    assert updated["completed"] is True
    assert client.get(f"/tasks/{task['id']}").json() == updated
    created = emu.admin_mutate({"op": "create", "kind": "task", "fields": {"name": "From Sam"}})
    assert created["creator"]["name"] == "Sam Chen"
    assert created["createdTime"] == "2026-11-24T10:10:00.000Z"
    assert emu.admin_mutate({"op": "delete", "kind": "task", "id": created["id"]})["deleted"] is True
    assert client.get(f"/tasks/{created['id']}").status_code == 404

    project = emu.admin_mutate({"op": "create", "kind": "project", "fields": {"name": "Ops"}})
    emu.clock.advance(60)
    renamed = emu.admin_mutate(
        {"op": "update", "kind": "project", "id": project["id"], "fields": {"name": "Ops 2"}}
    )
    assert renamed["updatedTime"] == "2026-11-24T10:11:00.000Z"
    assert client.get(f"/projects/{project['id']}").json()["name"] == "Ops 2"
    with pytest.raises(HttpError):
        emu.admin_mutate({"op": "update", "kind": "comment", "id": "x"})


def test_admin_endpoint_mutate_and_clock_over_http(server: RunningEmulator, client: httpx.Client) -> None:
    with httpx.Client(base_url=server.url) as admin:
        task = task_named(client, "Renew passport")
        assert admin.post("/_sandbox/clock", json={"advance": 90}).json() == {
            "now": "2026-11-24T10:01:30.000Z"
        }
        result = admin.post(
            "/_sandbox/mutate",
            json={"op": "update", "kind": "task", "id": task["id"], "fields": {"priority": "LOW"}},
        ).json()["result"]
        assert result["updatedTime"] == "2026-11-24T10:01:30.000Z"
        bad = admin.post("/_sandbox/mutate", json={"op": "explode", "kind": "task", "id": task["id"]})
        assert bad.status_code in (400, 404)


def test_seed_is_deterministic(clock: Clock) -> None:
    first, second, other = (MotionEmulator(clock=clock, seed=s) for s in (3, 3, 4))
    for emulator in (first, second, other):
        emulator.seed({"kind": "demo"})
    assert first.snapshot() == second.snapshot()
    assert first.config_hints() == second.config_hints()
    assert first.config_hints() != other.config_hints()
    before = first.snapshot()
    first.admin_mutate({"op": "create", "kind": "task", "fields": {"name": "noise"}})
    first.reset_state()
    first.seed({"kind": "demo"})
    assert first.snapshot() == before
    bulk_a, bulk_b = MotionEmulator(clock=clock, seed=1), MotionEmulator(clock=clock, seed=1)
    assert bulk_a.seed({"kind": "bulk", "n": 500}) == bulk_b.seed({"kind": "bulk", "n": 500})
    assert bulk_a.snapshot() == bulk_b.snapshot()


def test_config_hints_point_at_the_demo_workspace(emu: MotionEmulator) -> None:
    hints = emu.config_hints()
    assert set(hints) == {"workspace_id", "user_id"}
    assert emu.state["workspaces"][hints["workspace_id"]]["name"] == "Acme"
    assert emu.state["users"][hints["user_id"]]["name"] == "Alex Rivera"
    with pytest.raises(HttpError):
        emu.seed({"kind": "galaxy"})
