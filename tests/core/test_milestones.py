"""Milestone tracking: the at-risk rule by table, progress on crafted caches, Linear milestones pulled
from the emulator over real HTTP, GitLab milestones (held as projects) tracked the same way, and the
briefing's milestones section."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from rich.console import Console

from pmtui.core.briefing import build_briefing
from pmtui.core.milestones import assess, milestone_progress, project_tracks
from pmtui.core.store import Store
from pmtui.integrations.linear_mapping import milestone_starts, to_remote_milestones
from pmtui.models import (
    EntityType,
    ExternalRef,
    Milestone,
    Project,
    ProjectStatus,
    Service,
    Status,
    Task,
)
from pmtui.render.briefing import render_briefing
from pmtui.sandbox.linear_data import milestone_record
from tests.core.conftest import World

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


# ------------------------------------------------------------------------------------ the rule


@pytest.mark.parametrize(
    ("done", "total", "start", "due", "finished", "state", "at_risk", "expected"),
    [
        # Half the time gone, half the work done: exactly on the line is on track.
        (5, 10, day(-10), day(10), False, "on_track", False, 0.5),
        (4, 10, day(-10), day(10), False, "at_risk", True, 0.5),
        (6, 10, day(-10), day(10), False, "on_track", False, 0.5),
        # Before the start nothing is expected yet.
        (0, 10, day(2), day(10), False, "on_track", False, 0.0),
        # On the due day everything is expected.
        (9, 10, day(-10), day(0), False, "at_risk", True, 1.0),
        # Past due with work left.
        (9, 10, day(-10), day(-1), False, "overdue", True, 1.0),
        # All done, or closed on its service: never at risk, even past due.
        (10, 10, day(-10), day(-1), False, "done", False, 1.0),
        (2, 10, day(-10), day(-1), True, "done", False, 1.0),
        # No due date: no line to be behind.
        (0, 10, day(-10), None, False, "no_due", False, None),
        # No tasks: nothing can be late.
        (0, 0, day(-10), day(-5), False, "no_tasks", False, 1.0),
        (0, 0, day(-10), day(10), False, "no_tasks", False, 0.5),
        # No start (or a start not before due): a step at the due date.
        (0, 10, None, day(3), False, "on_track", False, 0.0),
        (0, 10, None, day(0), False, "at_risk", True, 1.0),
        (0, 10, day(5), day(3), False, "on_track", False, 0.0),
    ],
)
def test_assess(
    done: int,
    total: int,
    start: date | None,
    due: date | None,
    finished: bool,
    state: str,
    at_risk: bool,
    expected: float | None,
) -> None:
    outlook = assess(done=done, total=total, start=start, due=due, today=TODAY, finished=finished)
    assert (outlook.state, outlook.at_risk, outlook.expected) == (state, at_risk, expected)


def test_linear_start_is_previous_target_then_project_start_then_created() -> None:
    project = {"id": "p1", "startDate": "2026-10-01"}
    bare = {"id": "p2", "startDate": None}
    raws: list[dict[str, Any]] = [
        {"id": "b", "targetDate": "2026-12-01", "createdAt": "2026-09-01T00:00:00Z", "project": project},
        {"id": "a", "targetDate": "2026-11-10", "createdAt": "2026-09-01T00:00:00Z", "project": project},
        {"id": "a2", "targetDate": "2026-11-10", "createdAt": "2026-09-01T00:00:00Z", "project": project},
        {"id": "c", "targetDate": None, "createdAt": "2026-09-01T00:00:00Z", "project": project},
        {"id": "x", "targetDate": "2026-12-24", "createdAt": "2026-11-02T12:00:00Z", "project": bare},
    ]
    assert milestone_starts(raws) == {
        "a": date(2026, 10, 1),  # first by target date: the project's start
        "a2": date(2026, 10, 1),  # same target as "a": not after it, so also the project's start
        "b": date(2026, 11, 10),  # the previous milestone's target
        "c": date(2026, 10, 1),  # no target: the project's start (it has no line anyway)
        "x": date(2026, 11, 2),  # project without a start: the day it was created
    }
    remotes = {r.ref.external_id: r for r in to_remote_milestones([*raws, {"id": "z", "archivedAt": "x"}])}
    assert set(remotes) == {"a", "a2", "b", "c", "x"}  # archived left out
    assert remotes["b"].milestone.start == date(2026, 11, 10)
    assert remotes["b"].milestone.due == date(2026, 12, 1)
    assert remotes["b"].project_external_id == "p1"
    assert remotes["b"].ref.entity is EntityType.MILESTONE


# ----------------------------------------------------------------------------- crafted caches


def task(tid: str, status: Status, *, project: str | None = None, milestone: str | None = None) -> Task:
    return Task(id=tid, title=tid, status=status, project_id=project, milestone_id=milestone)


@pytest.fixture
def crafted() -> Store:
    """Q1 launch (Linear) with milestones Beta (past due) and GA; GitLab milestone v2 as a project."""
    store = Store(":memory:")
    store.upsert_projects(
        [
            Project(id="q1", name="Q1 launch", start=day(-30), due=day(30)),
            Project(id="v2", name="v2.0", start=day(-10), due=day(10)),
            Project(id="empty", name="Empty", due=day(-3)),
        ]
    )
    store.upsert_refs(
        [
            ExternalRef(
                entity=EntityType.PROJECT, entity_id="v2", service=Service.GITLAB, external_id="milestone:7"
            ),
            ExternalRef(entity=EntityType.PROJECT, entity_id="q1", service=Service.LINEAR, external_id="lp"),
            ExternalRef(
                entity=EntityType.MILESTONE, entity_id="beta", service=Service.LINEAR, external_id="lm1"
            ),
        ]
    )
    store.upsert_milestones(
        [
            Milestone(id="ga", project_id="q1", name="GA", start=day(-2), due=day(20)),
            Milestone(id="beta", project_id="q1", name="Beta", start=day(-30), due=day(-2)),
            Milestone(id="later", project_id=None, name="Someday"),
        ]
    )
    store.upsert_tasks(
        [
            task("b1", Status.DONE, project="q1", milestone="beta"),
            task("b2", Status.TODO, project="q1", milestone="beta"),
            task("b3", Status.CANCELED, project="q1", milestone="beta"),  # left out of both counts
            task("g1", Status.DONE, project="q1", milestone="ga"),
            task("g2", Status.IN_PROGRESS, project="q1", milestone="ga"),
            task("v1", Status.DONE, project="v2"),
            task("v2", Status.TODO, project="v2"),
            task("v3", Status.TODO, project="v2"),
            task("v4", Status.TODO, project="v2"),
            Task(id="gone", title="gone", project_id="v2", deleted=True),
        ]
    )
    return store


def test_progress_of_linear_and_gitlab_milestones_by_due(crafted: Store) -> None:
    found = milestone_progress(crafted, TODAY)
    assert [(m.label, m.service, m.done, m.total, m.state) for m in found] == [
        ("Q1 launch / Beta", "linear", 1, 2, "overdue"),
        ("v2.0", "gitlab", 1, 4, "at_risk"),  # half the time gone, a quarter done
        ("Q1 launch / GA", "local", 1, 2, "on_track"),  # 2 of 22 days gone, half done
        ("Someday", "local", 0, 0, "no_due"),
    ]
    v2 = found[1]
    assert (v2.start, v2.due, v2.expected) == (day(-10), day(10), 0.5)
    assert [m.id for m in milestone_progress(crafted, TODAY, include_done=False)] == [m.id for m in found]
    crafted.upsert_tasks([task("b2", Status.DONE, project="q1", milestone="beta")])
    assert "beta" not in [m.id for m in milestone_progress(crafted, TODAY, include_done=False)]


def test_a_closed_gitlab_milestone_is_done(crafted: Store) -> None:
    closed = crafted.find_project("v2")
    assert closed is not None
    crafted.upsert_projects([closed.model_copy(update={"status": ProjectStatus.DONE})])
    v2 = next(m for m in milestone_progress(crafted, TODAY) if m.id == "v2")
    assert (v2.state, v2.at_risk, v2.done, v2.total) == ("done", False, 1, 4)


def test_project_tracks_for_the_board_facet(crafted: Store) -> None:
    tracks = project_tracks(crafted, TODAY)
    q1, v2, empty = tracks["q1"], tracks["v2"], tracks["empty"]
    # Q1 is ahead of its own line (2/4 with a sixth of the time gone) but holds an overdue milestone.
    assert (q1.done, q1.total, q1.milestones_at_risk, q1.at_risk) == (2, 4, 1, True)
    assert q1.text() == "2/4 · at risk"
    assert v2.text() == "1/4 · at risk"
    assert (empty.state, empty.text()) == ("no_tasks", "0/0")
    assert project_tracks(crafted, TODAY, only="v2") == {"v2": v2}
    crafted.upsert_tasks([task(f"v{n}", Status.DONE, project="v2") for n in range(2, 5)])
    assert project_tracks(crafted, TODAY)["v2"].text() == "4/4 · done"


def test_briefing_milestones_section(crafted: Store) -> None:
    b = build_briefing(crafted, today=TODAY, now=NOW, tz=UTC)
    section = b.milestones
    assert (section.total, section.at_risk) == (4, 2)
    assert [(m.name, m.project, m.state, m.at_risk) for m in section.items] == [
        ("Beta", "Q1 launch", "overdue", True),
        ("v2.0", None, "at_risk", True),
        ("GA", "Q1 launch", "on_track", False),
        ("Someday", None, "no_due", False),
    ]
    data = json.loads(b.to_json())["milestones"]
    assert list(data["items"][0]) == [
        "id",
        "name",
        "project",
        "service",
        "start",
        "due",
        "done",
        "total",
        "expected",
        "state",
        "at_risk",
    ]
    assert data["items"][1] == {
        "id": "v2",
        "name": "v2.0",
        "project": None,
        "service": "gitlab",
        "start": "2026-11-14",
        "due": "2026-12-04",
        "done": 1,
        "total": 4,
        "expected": 0.5,
        "state": "at_risk",
        "at_risk": True,
    }
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(render_briefing(b, width=100))
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Milestones (4)"))
    body = lines[start + 1 : start + 5]
    assert "Q1 launch / Beta" in body[0]
    assert "1/2" in body[0]
    assert body[0].rstrip().endswith("overdue")
    assert body[1].rstrip().endswith("at risk")
    assert body[2].rstrip().endswith("on track")


def test_briefing_without_milestones_has_an_empty_section() -> None:
    store = Store(":memory:")
    store.upsert_tasks([task("t", Status.TODO)])
    b = build_briefing(store, today=TODAY, now=NOW, tz=UTC)
    assert (b.milestones.total, b.milestones.items) == (0, ())
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(render_briefing(b, width=100))
    assert "Milestones" not in out.getvalue()


# ------------------------------------------------------------------------------- from the sandbox


def linear_milestones(world: World) -> dict[str, dict[str, Any]]:
    state = world.sandbox.emulator("linear").state
    return {m["id"]: m for m in state["projectMilestones"].values() if m["archivedAt"] is None}


def test_linear_milestones_are_pulled_with_their_issues(world: World) -> None:
    store = world.engine.store
    state = world.sandbox.emulator("linear").state
    remote = linear_milestones(world)
    refs = {r.external_id: r for r in store.refs_for_service(Service.LINEAR, EntityType.MILESTONE)}
    assert set(refs) == set(remote)
    assert len(remote) == 6
    stored = {m.id: m for m in store.list_milestones()}
    projects = {
        r.external_id: r.entity_id for r in store.refs_for_service(Service.LINEAR, EntityType.PROJECT)
    }
    for ident, raw in remote.items():
        local = stored[refs[ident].entity_id]
        assert local.name == raw["name"]
        assert local.due == date.fromisoformat(raw["targetDate"])
        assert local.project_id == projects[raw["projectId"]]
        siblings = sorted(m["targetDate"] for m in remote.values() if m["projectId"] == raw["projectId"])
        earlier = [d for d in siblings if d < raw["targetDate"]]
        project_start = state["projects"][raw["projectId"]]["startDate"]
        assert local.start == date.fromisoformat(earlier[-1] if earlier else project_start)
    # Every issue's milestone reached its task, and only those tasks have one.
    members = {
        i["id"]: i["projectMilestoneId"]
        for i in state["issues"].values()
        if i["projectMilestoneId"] and i["archivedAt"] is None
    }
    assert len(members) >= 6
    linked = {
        row[0]: row[1]
        for row in store._rows(
            "SELECT r.external_id, t.milestone_id FROM tasks t JOIN external_refs r "
            "ON r.entity = 'task' AND r.entity_id = t.id AND r.service = 'linear' "
            "WHERE t.milestone_id IS NOT NULL"
        )
    }
    assert linked == {issue: refs[m].entity_id for issue, m in members.items()}
    progress = {m.id: m for m in milestone_progress(store, TODAY)}
    for ident in remote:
        mine = [i for i, m in members.items() if m == ident]
        assert progress[refs[ident].entity_id].total == len(mine)


def linear_graphql(world: World, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Someone changes Linear through its API (the emulator's admin hook has no milestone ops)."""
    answer = httpx.post(
        f"{world.sandbox.url('linear')}/graphql",
        headers={"Authorization": world.sandbox.api_key("linear")},
        json={"query": query, "variables": variables},
        timeout=10,
    )
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def test_milestone_changes_arrive_at_no_extra_request(world: World) -> None:
    emulator = world.sandbox.emulator("linear")
    store = world.engine.store
    refs = {r.external_id: r for r in store.refs_for_service(Service.LINEAR, EntityType.MILESTONE)}
    remote = linear_milestones(world)
    by_name = {m["name"]: m for m in remote.values()}
    beta, ga = by_name["Beta"], by_name["GA"]
    issue = next(i for i in emulator.state["issues"].values() if i["projectMilestoneId"] == beta["id"])
    emulator.admin_mutate(
        {"op": "update", "kind": "issue", "id": issue["id"], "fields": {"projectMilestoneId": ga["id"]}}
    )
    linear_graphql(
        world,
        "mutation($id: String!, $input: ProjectMilestoneUpdateInput!) "
        "{ projectMilestoneUpdate(id: $id, input: $input) { success } }",
        {"id": ga["id"], "input": {"targetDate": "2027-01-15"}},
    )
    world.later()
    world.sandbox.reset_counts()
    runs = world.sync(Service.LINEAR)
    assert runs[Service.LINEAR].status == "ok"
    counts = world.sandbox.request_counts()["linear"]
    assert counts["graphql:issues"] == counts["graphql:projectMilestones"] == 1
    # The milestones rode on the issue listing: no request asked for them alone (nor for the team, which
    # a fresh integration reads with its first listing too).
    riders = ("graphql:projectMilestones", "graphql:teams")
    others = sum(v for k, v in counts.items() if k.startswith("graphql:") and k not in riders)
    assert counts["POST /graphql"] == others
    task_ref = store.ref_by_external(Service.LINEAR, issue["id"])
    assert task_ref is not None
    moved = store.get_task(task_ref.entity_id)
    assert moved is not None
    assert moved.milestone_id == refs[ga["id"]].entity_id
    stored = {m.id: m for m in store.list_milestones()}
    assert stored[refs[ga["id"]].entity_id].due == date(2027, 1, 15)


def test_a_quiet_sync_rewrites_no_milestone_and_a_changed_one_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = world.engine.store
    written: list[tuple[str, int]] = []
    many = type(store)._many

    def recording(self: Store, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        written.append((sql.split(" (")[0].split(" VALUES")[0], len(rows)))
        many(self, sql, rows)

    monkeypatch.setattr(type(store), "_many", recording)
    before = {m.id: m for m in store.list_milestones()}
    world.later()
    assert world.sync(Service.LINEAR)[Service.LINEAR].status == "ok"
    assert not [w for w in written if "milestones" in w[0] or "external_refs" in w[0]], written
    assert {m.id: m for m in store.list_milestones()} == before
    ga = next(m for m in linear_milestones(world).values() if m["name"] == "GA")
    linear_graphql(
        world,
        "mutation($id: String!, $input: ProjectMilestoneUpdateInput!) "
        "{ projectMilestoneUpdate(id: $id, input: $input) { success } }",
        {"id": ga["id"], "input": {"name": "General availability"}},
    )
    world.later()
    assert world.sync(Service.LINEAR)[Service.LINEAR].status == "ok"
    assert ("INSERT OR REPLACE INTO milestones", 1) in written
    renamed = store.ref_by_external(Service.LINEAR, ga["id"], EntityType.MILESTONE)
    assert renamed is not None
    after = {m.id: m for m in store.list_milestones()}
    assert after[renamed.entity_id].name == "General availability"
    assert {k: v for k, v in after.items() if k != renamed.entity_id} == {
        k: v for k, v in before.items() if k != renamed.entity_id
    }


def test_a_deleted_linear_milestone_is_forgotten(world: World) -> None:
    store = world.engine.store
    beta = next(m for m in linear_milestones(world).values() if m["name"] == "Beta")
    local = store.ref_by_external(Service.LINEAR, beta["id"], EntityType.MILESTONE)
    assert local is not None
    linear_graphql(
        world, "mutation($id: String!) { projectMilestoneDelete(id: $id) { success } }", {"id": beta["id"]}
    )
    world.later()
    world.sync(Service.LINEAR)
    assert store.ref_by_external(Service.LINEAR, beta["id"], EntityType.MILESTONE) is None
    assert local.entity_id not in {m.id for m in milestone_progress(store, TODAY)}
    assert len(store.list_milestones()) == 5


def test_gitlab_milestones_are_tracked_from_their_tasks(world: World) -> None:
    store = world.engine.store
    state = world.sandbox.emulator("gitlab").state
    milestones = [m for m in state["milestones"].values()]
    assert milestones
    found = {m.name: m for m in milestone_progress(store, TODAY) if m.service == "gitlab"}
    assert set(found) == {m["title"] for m in milestones}
    for raw in milestones:
        issues = [i for i in state["issues"].values() if i.get("milestone_id") == raw["id"]]
        mine = found[raw["title"]]
        assert mine.total == len(issues)
        assert mine.done == sum(1 for i in issues if i["state"] == "closed")
        assert mine.due == (date.fromisoformat(raw["due_date"]) if raw.get("due_date") else None)
        assert mine.start == (date.fromisoformat(raw["start_date"]) if raw.get("start_date") else None)
        assert mine.project is None


def test_more_milestones_than_one_page_cost_one_request_per_extra_page(world: World) -> None:
    from pmtui.integrations import linear_queries as q

    emulator = world.sandbox.emulator("linear")
    state = emulator.state
    project = next(p for p in state["projects"].values() if p["name"] == "Mobile app")
    with emulator.lock:  # seeded straight into the emulator: 100 creates over HTTP cost ~20 s
        for n in range(q.MILESTONE_PAGE_SIZE):
            made = milestone_record(
                str(uuid.uuid4()),
                project["id"],
                f"Sprint {n:03d}",
                project["createdAt"],
                targetDate="2027-02-01",
            )
            state["projectMilestones"][made["id"]] = made
    world.later()
    world.sandbox.reset_counts()
    world.sync(Service.LINEAR)
    counts = world.sandbox.request_counts()["linear"]
    assert counts["graphql:projectMilestones"] == 2  # the first page rides on the listing, one more
    assert len(world.engine.store.list_milestones()) == q.MILESTONE_PAGE_SIZE + 6
