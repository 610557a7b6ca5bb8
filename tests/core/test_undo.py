"""Undo and resume (issue #19): every action kind on every service, through the merged write path.

Each test reads the final state on the service through a second client (the teammate of
test_write_path), so "undone" means the service holds the earlier value again, not just the cache.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pmtui.core.undo import RequestLog
from pmtui.integrations.base import TaskPatch
from pmtui.models import (
    CompleteTask,
    CreateProject,
    CreateTask,
    MoveTask,
    Plan,
    Priority,
    ResultStatus,
    Service,
    Status,
    TaskChanges,
    UpdateTask,
)
from tests.core.conftest import World
from tests.core.test_write_path import SERVICES, only_on, remote, teammate


def log(world: World) -> RequestLog:
    return world.engine.requests


def run(world: World, *actions: Any, text: str = "") -> Any:
    plan = Plan(actions=list(actions), text=text or " ".join(a.type for a in actions))
    return world.engine.execute(plan)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_undo_an_update_on_each_service(world: World, service: Service) -> None:
    task = only_on(world, service)
    run(world, UpdateTask(task=task.id, changes=TaskChanges(title="Renamed, then undone")))
    assert remote(world, service, task).task.title == "Renamed, then undone"
    report = log(world).undo()
    assert report.conflicts == []
    assert remote(world, service, task).task.title == task.title
    assert world.engine.store.get_task(task.id).title == task.title  # type: ignore[union-attr]
    assert log(world).undoable() == []


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_undo_a_completion_reopens_it(world: World, service: Service) -> None:
    task = only_on(world, service)
    run(world, CompleteTask(task=task.id))
    assert remote(world, service, task).task.status is Status.DONE
    log(world).undo()
    there = remote(world, service, task).task
    assert there.status is task.status or (there.status is Status.TODO and task.status is not Status.DONE)
    assert not world.engine.store.get_task(task.id).status.is_closed  # type: ignore[union-attr]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_undo_a_create_removes_it_from_the_service(world: World, service: Service) -> None:
    due = datetime(2026, 12, 10, 17, tzinfo=UTC)  # Motion schedules only what has a due date
    outcome = run(world, CreateTask(title=f"Made by mistake on {service.value}", service=service, due=due))
    result = outcome.results[0]
    assert result.status is ResultStatus.DONE, result
    task = world.engine.store.get_task(result.entity_id or "")
    assert task is not None
    ident = world.ref(task, service).external_id
    log(world).undo()
    gone = teammate(world, service).get_task(ident)
    assert gone is None or gone.deleted or gone.task.status.is_closed
    assert world.engine.store.get_task(task.id).deleted  # type: ignore[union-attr]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_undo_never_overwrites_a_teammates_newer_change(world: World, service: Service) -> None:
    task = only_on(world, service)
    run(world, UpdateTask(task=task.id, changes=TaskChanges(title="Mine")))
    teammate(world, service).update_task(world.ref(task, service).external_id, TaskPatch({"title": "Theirs"}))
    world.later()
    report = log(world).undo()
    assert report.conflicts, report.lines()
    assert remote(world, service, task).task.title == "Theirs"
    conflicts = world.engine.store.conflicts(task_id=task.id)
    assert [(c.field, c.remote) for c in conflicts] == [("title", "Theirs")]


def test_undo_a_move_between_services(world: World) -> None:
    task = only_on(world, Service.MOTION)
    original = world.ref(task, Service.MOTION).external_id
    outcome = run(world, MoveTask(task=task.id, to=Service.LINEAR))
    assert outcome.results[0].status is ResultStatus.DONE, outcome.results
    assert {r.service for r in world.engine.store.refs_for(task.id)} == {Service.LINEAR}
    linear_id = world.ref(task, Service.LINEAR).external_id
    log(world).undo()
    assert {r.service for r in world.engine.store.refs_for(task.id)} == {Service.MOTION}
    back = remote(world, Service.MOTION, task)
    assert back.task.title == task.title
    assert back.ref.external_id != original  # a new Motion task: the old one was archived
    gone = teammate(world, Service.LINEAR).get_task(linear_id)
    assert gone is None or gone.deleted


def test_undo_a_bulk_action_undoes_every_task(world: World) -> None:
    tasks = [only_on(world, s) for s in SERVICES]
    run(world, *[UpdateTask(task=t.id, changes=TaskChanges(priority=Priority.URGENT)) for t in tasks])
    log(world).undo()
    for task, service in zip(tasks, SERVICES, strict=True):
        there = remote(world, service, task).task.priority
        expected = (
            task.priority
            if service is not Service.MOTION or task.priority is not Priority.NONE
            else (Priority.MEDIUM)
        )
        assert there is expected, (service, there, task.priority)


class Killed(BaseException):
    """kill -9 during the undo."""


def test_a_killed_undo_is_reported_and_finished(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = [only_on(world, s) for s in (Service.LINEAR, Service.GITLAB)]
    run(world, *[UpdateTask(task=t.id, changes=TaskChanges(title=f"Bulk {i}")) for i, t in enumerate(tasks)])
    calls = {"n": 0}
    real = world.engine.processor.writes.write

    def dies_on_second(task: Any, values: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed
        return real(task, values)

    monkeypatch.setattr(world.engine.processor.writes, "write", dies_on_second)
    with pytest.raises(Killed):
        log(world).undo()
    monkeypatch.undo()
    record = log(world).undoable()[0]
    record.pid = 999_999_999  # the killed process
    world.engine.store.request_write(record)
    lines = world.engine.recover()
    assert any("the undo of request" in line and "1 of 2 steps undone" in line for line in lines), lines
    log(world).undo(record.request_id)
    for task, service in zip(tasks, (Service.LINEAR, Service.GITLAB), strict=True):
        assert remote(world, service, task).task.title == task.title


def test_an_interrupted_request_is_reported_and_resumes_without_duplicates(world: World) -> None:
    class Dies(BaseException):
        pass

    integration = world.engine.integration(Service.GITLAB)
    real = integration.create_task
    calls = {"n": 0}

    def create_task(task: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        made = real(task, **kwargs)
        if calls["n"] == 2:
            raise Dies  # killed right after the second create landed
        return made

    integration.create_task = create_task  # type: ignore[method-assign]
    titles = ["Resume one", "Resume two", "Resume three"]
    plan = Plan(
        text="three tasks for resume",
        actions=[CreateTask(ref=f"a{i}", title=t, service=Service.GITLAB) for i, t in enumerate(titles)],
    )
    with pytest.raises(Dies):
        world.engine.execute(plan)
    integration.create_task = real  # type: ignore[method-assign]
    record = world.engine.store.request(plan.request_id)
    assert record is not None
    record.pid = 999_999_999
    world.engine.store.request_write(record)
    lines = world.engine.recover()
    assert any("three tasks for resume" in line and "1 of 3 steps done" in line for line in lines), lines
    assert log(world).same_text("three  tasks for RESUME") is not None
    result = log(world).resume()
    assert result.status == "done", result.summary()
    issues = [i["title"] for i in world.sandbox.emulator("gitlab").state["issues"].values()]
    for title in titles:
        assert issues.count(title) == 1, (title, issues.count(title))
    assert world.engine.recover() == []


def test_undoing_an_edit_that_became_a_conflict_settles_it_for_the_teammate(world: World) -> None:
    """Found by hand: undo of a rename that met a teammate's rename left the conflict open with a local
    value the task no longer had. Back at the base, only the teammate changed it: their title stands."""
    task = only_on(world, Service.LINEAR)
    teammate(world, Service.LINEAR).update_task(
        world.ref(task, Service.LINEAR).external_id, TaskPatch({"title": "Renamed by Kim"})
    )
    world.later()
    outcome = run(world, UpdateTask(task=task.id, changes=TaskChanges(title="My name for it")))
    assert outcome.results[0].status is ResultStatus.CONFLICT
    report = log(world).undo()
    assert report.conflicts == []
    assert world.engine.store.conflicts() == []
    assert world.engine.store.get_task(task.id).title == "Renamed by Kim"  # type: ignore[union-attr]
    assert remote(world, Service.LINEAR, task).task.title == "Renamed by Kim"


def test_a_project_created_just_before_a_crash_is_recovered_and_never_made_twice(world: World) -> None:
    """Issue #19: recovery dropped a killed project create and the rerun made a second project."""

    class Dies(BaseException):
        pass

    integration = world.engine.integration(Service.GITLAB)
    real = integration.create_project

    def create_project(project: Any, **kwargs: Any) -> Any:
        real(project, **kwargs)
        raise Dies  # killed after GitLab made the milestone, before pmtui stored it

    integration.create_project = create_project  # type: ignore[method-assign]
    plan = Plan(
        text="new project Crash-proof launch with a task",
        actions=[
            CreateProject(ref="p", name="Crash-proof launch", service=Service.GITLAB),
            CreateTask(ref="t", title="Launch checklist", project="p", service=Service.GITLAB, after=["p"]),
        ],
    )
    with pytest.raises(Dies):
        world.engine.execute(plan)
    integration.create_project = real  # type: ignore[method-assign]
    record = world.engine.store.request(plan.request_id)
    assert record is not None
    record.pid = 999_999_999
    world.engine.store.request_write(record)
    lines = world.engine.recover()
    assert any("had been committed" in line for line in lines), lines
    assert world.engine.store.find_project("Crash-proof launch") is not None
    result = log(world).resume()
    assert result.status == "done", result.summary()
    milestones = [m["title"] for m in world.sandbox.emulator("gitlab").state["milestones"].values()]
    assert milestones.count("Crash-proof launch") == 1
    issues = [i["title"] for i in world.sandbox.emulator("gitlab").state["issues"].values()]
    assert issues.count("Launch checklist") == 1


def test_redo_writes_an_undone_edit_again(world: World) -> None:
    task = only_on(world, Service.NOTION)
    run(world, UpdateTask(task=task.id, changes=TaskChanges(title="Second thoughts")))
    log(world).undo()
    assert remote(world, Service.NOTION, task).task.title == task.title
    report = log(world).redo()
    assert report.conflicts == []
    assert remote(world, Service.NOTION, task).task.title == "Second thoughts"
    assert log(world).undoable()[0].request_id  # undoable again
