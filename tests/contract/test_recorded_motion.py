"""The Motion emulator against Motion's recorded and documented responses (``../shared/recorded/motion``).

One real list response was captured; the rest are Motion's documented field tables (a transcription of
docs.usemotion.com), which the fixtures carry as ``fields``. Each fixture's request is replayed against
the seeded demo workspace over HTTP and compared by key paths and JSON types. See
``tests/contract/recorded.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pmtui.sandbox.motion import DEFAULT_API_KEY, MotionEmulator
from pmtui.sandbox.server import Clock, RunningEmulator, serving
from tests.contract import recorded

FIXTURES = recorded.fixture_paths("motion")
pytestmark = pytest.mark.skipif(not FIXTURES, reason="../shared/recorded/motion is not present")

TASK_READS = [
    "id", "name", "description", "status.name", "status.isResolvedStatus", "project.id", "workspace.id",
    "createdTime", "updatedTime", "scheduledStart", "scheduledEnd", "completed", "priority", "dueDate",
    "duration", "labels[].name", "completedTime", "assignees[].email", "assignees[].name", "assignees[].id",
    "schedulingIssue", "deadlineType",
]  # fmt: skip

PMTUI_READS: dict[str, list[str]] = {
    "tasks-list": ["meta.nextCursor", "tasks", *(f"tasks[].{p}" for p in TASK_READS)],
    "task-get": TASK_READS,
    "comments-list": [
        "meta.nextCursor", "comments[].id", "comments[].content", "comments[].createdAt",
        "comments[].creator.email", "comments[].creator.name",
    ],
    "comment-create": ["id"],
    "projects-list": [
        "meta.nextCursor", "projects[].id", "projects[].name", "projects[].description",
        "projects[].status.name", "projects[].status.isResolvedStatus", "projects[].createdTime",
        "projects[].updatedTime",
    ],
    "users-list": ["users[].id", "users[].name", "users[].email", "meta.nextCursor"],
    "users-me": ["id", "email", "name"],
    "workspaces": ["workspaces[].id", "workspaces[].name"],
    # Statuses: Motion documents a bare list in one place and ``[{"status": {...}}]`` in another;
    # pmtui's parse_statuses reads either (the fixture records the wrapped form, low confidence).
    "statuses": ["[].name|[].status.name", "[].isResolvedStatus|[].status.isResolvedStatus"],
}  # fmt: skip
"""The key paths pmtui's Motion integration (``pmtui/integrations/motion*.py``) reads, per response."""


@pytest.fixture(scope="module")
def emu() -> MotionEmulator:
    clock = Clock()
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), frozen=True)
    emulator = MotionEmulator(clock=clock, seed=7)
    emulator.seed({"kind": "demo"})
    emulator.rate_limits_enabled = False
    return emulator


@pytest.fixture(scope="module")
def server(emu: MotionEmulator) -> Iterator[RunningEmulator]:
    with serving(emu) as running:
        yield running


def names(emu: MotionEmulator) -> dict[str, str]:
    """Placeholder values from the seeded demo: the team workspace, a task in a project, a commented task."""
    state = emu.state
    workspace = emu.config_hints()["workspace_id"]
    tasks = [state["tasks"][i] for i in state["task_order"] if state["tasks"][i]["workspaceId"] == workspace]
    task = next(t for t in tasks if t["projectId"] and t["assigneeIds"] and t["labels"])
    order = state["comment_order"]
    commented = state["comments"][order[0]]["taskId"] if order else task["id"]
    return {"workspace_id": workspace, "task_id": task["id"], "commented_task_id": commented}


LAST_PAGE_ONLY = {
    "meta.nextCursor": "sent only when another page follows; the demo's lists fit in one page of 50 "
    "(test_next_cursor_when_another_page_follows checks it)"
}


def compare(fixture: dict[str, Any], got: recorded.Exchange) -> recorded.Comparison:
    """The comparison with the paths that depend on the list's length set aside."""
    fixture = {**fixture, "ignore": {**(fixture.get("ignore") or {}), **LAST_PAGE_ONLY}}
    return recorded.compare(fixture, got)


def exchange(emu: MotionEmulator, server: RunningEmulator, fixture: dict[str, Any]) -> recorded.Exchange:
    return recorded.replay(
        server.url, fixture, names(emu), {"X-API-Key": DEFAULT_API_KEY}, {"X-API-Key": "wrong"}
    )


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_recorded_response(emu: MotionEmulator, server: RunningEmulator, path: Path) -> None:
    fixture = recorded.load(path)
    got = exchange(emu, server, fixture)
    assert got.status == fixture["status"], got.body
    assert recorded.header_problems(fixture, got) == []
    result = compare(fixture, got)
    reads = set(fixture.get("client_reads", [])) | set(PMTUI_READS.get(path.stem, []))
    if not fixture.get("low_confidence"):
        reads |= set(fixture.get("pmtui_reads", [])) | set(fixture.get("required", []))
    assert result.lacks(reads) == [], "fields a client reads"
    assert {p: t for p, t in result.mismatched.items() if p in reads} == {}


def test_overall_share_of_recorded_fields(emu: MotionEmulator, server: RunningEmulator) -> None:
    present = total = 0
    report = {}
    for path in FIXTURES:
        fixture = recorded.load(path)
        result = compare(fixture, exchange(emu, server, fixture))
        present, total = present + result.present, total + result.total
        report[path.stem] = result.missing
        print(path.stem, "missing:", result.missing, "mismatched:", result.mismatched)
    share = present / total
    print(f"motion: {present}/{total} recorded fields present ({share:.1%})")
    assert share >= 0.95, {k: v for k, v in report.items() if v}


def test_pmtui_reads_only_fields_motion_sends() -> None:
    for stem, reads in PMTUI_READS.items():
        fixture = recorded.load(recorded.RECORDED / "motion" / f"{stem}.json")
        assert recorded.unread(reads, [fixture]) == [], stem


def test_a_real_list_pages_at_50(emu: MotionEmulator, server: RunningEmulator) -> None:
    """The captured ``GET /v1/tasks`` reports ``meta.pageSize`` 50; the emulator pages the same."""
    fixture = recorded.load(recorded.RECORDED / "motion" / "tasks-list.json")
    real = fixture["samples"][0]["meta"]["pageSize"]
    got = exchange(emu, server, fixture)
    assert got.body["meta"]["pageSize"] == real == 50


def test_next_cursor_when_another_page_follows(server: RunningEmulator) -> None:
    """With more than 50 tasks, ``meta.nextCursor`` is a string and the next page starts after it."""
    clock = Clock()
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), frozen=True)
    bulk = MotionEmulator(clock=clock, seed=7)
    bulk.seed({"kind": "bulk", "n": 120})
    fixture = recorded.load(recorded.RECORDED / "motion" / "tasks-list.json")
    with serving(bulk) as running:
        first = exchange(bulk, running, fixture)
    meta = first.body["meta"]
    assert recorded.json_type(meta["nextCursor"]) == "string"
    assert len(first.body["tasks"]) == meta["pageSize"] == 50
