"""Delete, comment, schedule (link) and move, end to end through the orchestrator on every side."""

from __future__ import annotations

from datetime import UTC, datetime

from pmtui.core.agent.rules import RulePlanner
from pmtui.core.orchestrator import AgentOrchestrator
from pmtui.models import AddComment, DeleteTask, ResultStatus, Service
from tests.core.conftest import World

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_delete_closes_on_gitlab_and_archives_on_linear(world: World) -> None:
    issue_task = world.task("acme/app#5")
    linear_task = world.task("ENG-14")
    linear_id = world.ref(linear_task, Service.LINEAR).external_id
    outcome = world.run(DeleteTask(ref="g", task=issue_task.id), DeleteTask(ref="l", task=linear_task.id))
    assert outcome.ok, outcome.results
    issue = next(i for i in world.sandbox.emulator("gitlab").state["issues"].values() if i["iid"] == 5)
    assert issue["state"] == "closed"
    assert world.linear_issue(linear_id)["archivedAt"] is not None
    for task in (issue_task, linear_task):
        stored = world.engine.store.get_task(task.id)
        assert stored is not None
        assert stored.deleted
        assert world.engine.store.refs_for(task.id) == []


def test_comment_reaches_linear_once(world: World) -> None:
    task = world.task("ENG-12")
    ident = world.ref(task, Service.LINEAR).external_id
    outcome = world.run(AddComment(task="ENG-12", body="waiting on review"))
    assert outcome.ok, outcome.results
    comments = [
        c for c in world.sandbox.emulator("linear").state["comments"].values() if c["issueId"] == ident
    ]
    assert [c["body"] for c in comments if "waiting on review" in c["body"]] == ["waiting on review"]
    assert [c.body for c in world.engine.store.comments_for(task.id)] == ["waiting on review"]


def test_schedule_a_linear_issue_in_motion(world: World) -> None:
    orchestrator = AgentOrchestrator(world.engine, RulePlanner())
    task = world.task("ENG-13")
    result = orchestrator.process_user_request("schedule ENG-13 for 2h before thursday", now=NOW)
    assert result.status == "done", result.summary()
    refs = {r.service: r for r in world.engine.store.refs_for(task.id)}
    assert set(refs) == {Service.LINEAR, Service.MOTION}
    assert refs[Service.LINEAR].origin
    assert not refs[Service.MOTION].origin
    motion_task = world.sandbox.emulator("motion").state["tasks"][refs[Service.MOTION].external_id]
    assert motion_task["name"] == task.title
    assert motion_task["duration"] == 120
    assert motion_task["dueDate"].startswith("2026-11-26")
    again = orchestrator.process_user_request("schedule ENG-13 for 2h before thursday", now=NOW)
    assert again.results[0].status is ResultStatus.SKIPPED
    assert "already in Motion" in again.results[0].message


def test_move_a_notion_task_to_gitlab(world: World) -> None:
    orchestrator = AgentOrchestrator(world.engine, RulePlanner())
    task = world.task("Write onboarding guide")
    notion_id = world.ref(task, Service.NOTION).external_id
    result = orchestrator.process_user_request('move "Write onboarding guide" to gitlab', now=NOW)
    assert result.status == "done", result.summary()
    refs = world.engine.store.refs_for(task.id)
    assert [r.service for r in refs] == [Service.GITLAB]
    issues = [
        i
        for i in world.sandbox.emulator("gitlab").state["issues"].values()
        if i["title"] == "Write onboarding guide"
    ]
    assert len(issues) == 1
    assert world.sandbox.emulator("notion").state["pages"][notion_id]["in_trash"] is True


def test_scheduling_keeps_the_local_description_and_assignee(world: World) -> None:
    orchestrator = AgentOrchestrator(world.engine, RulePlanner())
    task = world.task("ENG-15")
    orchestrator.process_user_request("schedule ENG-15 for 1h before friday", now=NOW)
    after = world.engine.store.get_task(task.id)
    assert after is not None
    assert (after.description, after.assignee) == (task.description, task.assignee)
    assert after.duration_minutes == 60
    motion_ref = world.ref(after, Service.MOTION)
    motion_task = world.sandbox.emulator("motion").state["tasks"][motion_ref.external_id]
    assert "Scheduled from Linear: https://linear.app/acme/issue/ENG-15" in motion_task["description"]
