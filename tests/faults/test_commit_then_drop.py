"""Commit-then-drop on every write kind and every service: the service applies the write, then the
connection closes before any answer. pmtui cannot know the outcome, so it must find out (idempotency
key, read-back) instead of writing again blindly: afterwards each object exists exactly once on the
service and once in the cache, the journal is settled and the next sync of the service is clean.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pmtui.models import (
    AddComment,
    CompleteTask,
    CreateProject,
    CreateTask,
    DeleteTask,
    Service,
    Status,
    Task,
    TaskChanges,
    UpdateTask,
)
from pmtui.sandbox.server import Fault
from tests.faults.conftest import World
from tests.faults.sides import assert_settled, local_titles, remote_comments, remote_projects, remote_titles

SERVICES = [Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB]
DUE = datetime(2026, 12, 4, 17, tzinfo=UTC)


def _drop_next_write(world: World, service: Service) -> Fault:
    fault = Fault("commit_drop", count=1)
    world.sandbox.emulator(service.value).add_fault(fault)
    return fault


def _made(world: World, service: Service, title: str) -> Task:
    """A task held by ``service`` only, created before the fault (so the fault hits the write under test)."""
    outcome = world.run(CreateTask(ref="seed", title=title, due=DUE, service=service))
    assert outcome.ok, outcome.results
    return world.task(title)


def _finish(world: World, service: Service, fault: Fault) -> None:
    """Recover (as the next start does), sync the service, and check the common end state."""
    assert fault.hits == 1, "the injected drop did not fire"
    world.engine.recover()
    world.later()
    runs = world.sync(service)
    assert runs[service].status == "ok", runs[service].error
    assert_settled(world, runs)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_create_task(fast_world: World, service: Service) -> None:
    title = f"Dropped create {service.value}"
    fault = _drop_next_write(fast_world, service)
    fast_world.run(CreateTask(ref="a", title=title, due=DUE, service=service))
    _finish(fast_world, service, fault)
    assert remote_titles(fast_world.sandbox, service.value).count(title) == 1
    assert local_titles(fast_world).count(title) == 1


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_update_task(fast_world: World, service: Service) -> None:
    task = _made(fast_world, service, f"Before update {service.value}")
    after = f"After update {service.value}"
    fault = _drop_next_write(fast_world, service)
    fast_world.run(UpdateTask(ref="u", task=task.id, changes=TaskChanges(title=after)))
    _finish(fast_world, service, fault)
    titles = remote_titles(fast_world.sandbox, service.value)
    assert titles.count(after) == 1
    assert f"Before update {service.value}" not in titles
    assert local_titles(fast_world).count(after) == 1
    remote = fast_world.engine.integration(service).get_task(fast_world.ref(task, service).external_id)
    assert remote is not None
    assert remote.task.title == after


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_complete_task(fast_world: World, service: Service) -> None:
    task = _made(fast_world, service, f"To complete {service.value}")
    fault = _drop_next_write(fast_world, service)
    fast_world.run(CompleteTask(ref="c", task=task.id))
    _finish(fast_world, service, fault)
    remote = fast_world.engine.integration(service).get_task(fast_world.ref(task, service).external_id)
    assert remote is not None
    assert remote.task.status is Status.DONE
    local = fast_world.engine.store.get_task(task.id)
    assert local is not None
    assert local.status is Status.DONE
    assert remote_titles(fast_world.sandbox, service.value).count(task.title) <= 1


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_delete_task(fast_world: World, service: Service) -> None:
    task = _made(fast_world, service, f"To delete {service.value}")
    external = fast_world.ref(task, service).external_id
    fault = _drop_next_write(fast_world, service)
    fast_world.run(DeleteTask(ref="d", task=task.id))
    _finish(fast_world, service, fault)
    remote = fast_world.engine.integration(service).get_task(external)
    assert remote is None or remote.task.deleted or remote.task.status in (Status.DONE, Status.CANCELED)
    local = fast_world.engine.store.get_task(task.id)
    assert local is None or local.deleted, "the deleted task came back in the cache"
    assert task.title not in local_titles(fast_world)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_add_comment(fast_world: World, service: Service) -> None:
    task = _made(fast_world, service, f"To comment {service.value}")
    body = f"Dropped comment on {service.value}"
    fault = _drop_next_write(fast_world, service)
    fast_world.run(AddComment(ref="k", task=task.id, body=body))
    _finish(fast_world, service, fault)
    # Comments carry an idempotency marker after the text (an HTML comment where the service renders one).
    assert [c for c in remote_comments(fast_world.sandbox, service.value) if body in c] != []
    assert len([c for c in remote_comments(fast_world.sandbox, service.value) if body in c]) == 1
    assert [c.body for c in fast_world.engine.store.comments_for(task.id)].count(body) == 1


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_create_project(fast_world: World, service: Service) -> None:
    name = f"Dropped project {service.value}"
    fault = _drop_next_write(fast_world, service)
    fast_world.run(CreateProject(ref="p", name=name, service=service, due=DUE.date()))
    _finish(fast_world, service, fault)
    assert remote_projects(fast_world.sandbox, service.value).count(name) == 1
    assert [p.name for p in fast_world.engine.store.list_projects()].count(name) == 1
