"""The six defects of issue #18, each reproduced against the four emulators, each asserting every side.

A "teammate" edits through a second integration of the same service (the real client over HTTP), so
their change is exactly what the service would hold; local edits go through the orchestrator (as the
app and `pmtui do` make them) or straight into the cache (an edit queued while the service was away).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pmtui.core.board import status_summary
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.integrations import integration_class
from pmtui.integrations.base import Integration, RemoteTask, TaskPatch
from pmtui.models import (
    CompleteTask,
    CreateTask,
    Plan,
    ResultStatus,
    Service,
    Status,
    Task,
    TaskChanges,
    UpdateTask,
)
from pmtui.sandbox.server import Fault
from tests.core.conftest import World

SERVICES = [Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION]


def teammate(world: World, service: Service) -> Integration:
    """Another client of the same service: what it writes is what the service holds."""
    section = world.engine.settings.service(service)
    return integration_class(service)(  # type: ignore[call-arg]
        section, world.sandbox.api_key(service.value), retry_sleep=lambda _s: None
    )


def no_backoff(world: World, service: Service) -> None:
    """Rebuild pmtui's own integration with retries that do not sleep."""
    old = world.engine._integrations.pop(service, None)
    if old is not None:
        old.close()
    world.engine._integrations[service] = teammate(world, service)


def only_on(world: World, service: Service) -> Task:
    """An open task held by ``service`` alone (so one service's behaviour is what is tested)."""
    store = world.engine.store
    for ref in store.refs_for_service(service):
        task = store.get_task(ref.entity_id)
        if task is None or task.deleted or task.status.is_closed:
            continue
        if [r.service for r in store.refs_for(task.id)] == [service]:
            return task
    raise AssertionError(f"no task held by {service.label} alone")


def remote(world: World, service: Service, task: Task) -> RemoteTask:
    found = teammate(world, service).get_task(world.ref(task, service).external_id)
    assert found is not None, f"{task.title!r} is gone from {service.label}"
    return found


def other_due(task: Task) -> datetime:
    base = task.due or datetime(2026, 12, 1, tzinfo=UTC)
    return (base + timedelta(days=9)).replace(hour=0, minute=0, second=0, microsecond=0)


# ------------------------------------------------------------------- 1. queued edit + remote edit


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_queued_local_edit_survives_a_remote_edit_of_another_field(world: World, service: Service) -> None:
    task = only_on(world, service)
    world.engine.store.upsert_tasks([task.model_copy(update={"title": "Queued while away"})])
    due = other_due(task)
    teammate(world, service).update_task(
        world.ref(task, service).external_id, TaskPatch({"due": due, "due_all_day": True})
    )
    world.later()
    runs = world.sync(service)
    assert runs[service].status == "ok", runs[service].error
    assert runs[service].pushed == 1
    there = remote(world, service, task)
    assert there.task.title == "Queued while away"
    assert there.task.due is not None
    assert there.task.due.date() == due.date()
    here = world.engine.store.get_task(task.id)
    assert here is not None
    assert here.title == "Queued while away"
    assert here.due is not None
    assert here.due.date() == due.date()
    assert world.engine.store.conflicts() == []
    assert world.sync(service)[service].pushed == 0


def test_a_change_pulled_from_linear_reaches_motion_when_motion_also_changed(world: World) -> None:
    task = world.task("ENG-3")
    teammate(world, Service.LINEAR).update_task(
        world.ref(task, Service.LINEAR).external_id, TaskPatch({"title": "Renamed in Linear"})
    )
    teammate(world, Service.MOTION).update_task(
        world.ref(task, Service.MOTION).external_id, TaskPatch({"duration_minutes": 95})
    )
    world.later()
    world.sync()
    motion = remote(world, Service.MOTION, task)
    assert motion.task.title == "Renamed in Linear"
    assert motion.task.duration_minutes == 95
    assert remote(world, Service.LINEAR, task).task.title == "Renamed in Linear"


# ----------------------------------------------------------------- 2. direct edit vs teammate edit


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_a_direct_edit_never_overwrites_a_teammates_change(world: World, service: Service) -> None:
    task = only_on(world, service)
    teammate(world, service).update_task(
        world.ref(task, service).external_id, TaskPatch({"title": "Renamed by a teammate"})
    )
    world.later()
    outcome = world.run(UpdateTask(task=task.id, changes=TaskChanges(title="Renamed by me")))
    result = outcome.results[0]
    assert result.status is ResultStatus.CONFLICT, result
    assert "conflict" in result.message
    assert remote(world, service, task).task.title == "Renamed by a teammate"
    conflicts = world.engine.store.conflicts(task_id=task.id)
    assert [(c.field, c.local, c.remote) for c in conflicts] == [
        ("title", "Renamed by me", "Renamed by a teammate")
    ]
    # Nothing is written while the conflict is open, and the conflict settles it either way.
    world.sync(service)
    assert remote(world, service, task).task.title == "Renamed by a teammate"
    world.engine.resolve_conflict(conflicts[0].id, "local")
    assert remote(world, service, task).task.title == "Renamed by me"
    assert world.engine.store.conflicts() == []


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_a_direct_edit_keeps_a_teammates_change_to_another_field(world: World, service: Service) -> None:
    task = only_on(world, service)
    due = other_due(task)
    teammate(world, service).update_task(
        world.ref(task, service).external_id, TaskPatch({"due": due, "due_all_day": True})
    )
    world.later()
    outcome = world.run(UpdateTask(task=task.id, changes=TaskChanges(title="Mine")))
    assert outcome.results[0].status is ResultStatus.DONE
    there = remote(world, service, task)
    assert there.task.title == "Mine"
    assert there.task.due is not None
    assert there.task.due.date() == due.date()
    here = world.engine.store.get_task(task.id)
    assert here is not None
    assert here.due is not None
    assert here.due.date() == due.date()


def test_completing_a_task_a_teammate_renamed_keeps_their_title(world: World) -> None:
    task = world.task("ENG-45")
    teammate(world, Service.LINEAR).update_task(
        world.ref(task, Service.LINEAR).external_id, TaskPatch({"title": "Their title"})
    )
    world.later()
    world.run(CompleteTask(task=task.id))
    there = remote(world, Service.LINEAR, task)
    assert there.task.status is Status.DONE
    assert there.task.title == "Their title"


# -------------------------------------------------------------------- 3. recovery replays stale write


class Killed(BaseException):
    """Stands in for kill -9: nothing after the call runs, not even an except clause."""


class DiesAfterCall:
    """An integration whose next update reaches the service, after which the process 'dies'."""

    def __init__(self, inner: Integration) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def update_task(self, external_id: str, patch: TaskPatch) -> RemoteTask:
        self.inner.update_task(external_id, patch)
        raise Killed


@pytest.mark.parametrize("landed", [True, False], ids=["call-landed", "call-lost"])
def test_recovery_never_replays_a_stale_write(world: World, landed: bool) -> None:
    task = world.task("ENG-7")
    ident = world.ref(task, Service.LINEAR).external_id
    inner = world.engine.integration(Service.LINEAR)
    world.engine._integrations[Service.LINEAR] = DiesAfterCall(inner) if landed else _LostCall(inner)  # type: ignore[assignment]
    with pytest.raises(Killed):
        world.run(UpdateTask(task=task.id, changes=TaskChanges(title="My rename")))
    world.engine._integrations[Service.LINEAR] = inner
    world.later()
    teammate(world, Service.LINEAR).update_task(ident, TaskPatch({"title": "Teammate's newer title"}))
    world.later()
    world.sync(Service.LINEAR)
    assert remote(world, Service.LINEAR, task).task.title == "Teammate's newer title"
    conflicts = world.engine.store.conflicts(task_id=task.id)
    assert [(c.field, c.local, c.remote) for c in conflicts] == [
        ("title", "My rename", "Teammate's newer title")
    ]


class _LostCall(DiesAfterCall):
    def update_task(self, external_id: str, patch: TaskPatch) -> RemoteTask:
        raise Killed


# ------------------------------------------------------------- 4. remote delete + pending local edit


def _delete_remotely(world: World, service: Service, task: Task) -> None:
    ident = world.ref(task, service).external_id
    if service is Service.GITLAB:
        world.sandbox.emulator("gitlab").admin_mutate({"op": "delete", "kind": "issue", "iid": int(ident)})
    elif service is Service.NOTION:
        teammate(world, service).delete_task(ident)
    elif service is Service.LINEAR:
        world.sandbox.emulator("linear").admin_mutate({"op": "delete", "kind": "issue", "id": ident})
    else:
        world.sandbox.emulator("motion").admin_mutate({"op": "delete", "kind": "task", "id": ident})


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_remote_delete_with_a_pending_edit_files_a_conflict_and_the_service_keeps_syncing(
    world: World, service: Service
) -> None:
    store = world.engine.store
    task = only_on(world, service)
    bystander = next(
        t
        for ref in store.refs_for_service(service)
        if (t := store.get_task(ref.entity_id)) is not None
        and t.id != task.id
        and not t.deleted
        and not t.status.is_closed
        and [r.service for r in store.refs_for(t.id)] == [service]
    )
    store.upsert_tasks([task.model_copy(update={"title": "Edited before it was deleted"})])
    store.upsert_tasks([bystander.model_copy(update={"title": "Queued behind it"})])
    _delete_remotely(world, service, task)
    world.later()
    for _ in range(2):
        runs = world.sync(service)
        assert runs[service].status == "ok", runs[service].error
        world.later()
    assert remote(world, service, bystander).task.title == "Queued behind it"
    kept = store.get_task(task.id)
    assert kept is not None
    assert not kept.deleted
    conflicts = store.conflicts(task_id=task.id)
    assert [c.field for c in conflicts] == ["_deleted"]
    # "Keep it": recreated on the service as a new object, the ref follows it.
    old_ident = world.ref(task, service).external_id
    world.engine.resolve_conflict(conflicts[0].id, "local")
    new_ref = world.ref(task, service)
    assert new_ref.external_id != old_ident
    again = remote(world, service, task)
    assert again.task.title == "Edited before it was deleted"
    assert not again.deleted
    assert store.conflicts() == []
    runs = world.sync(service)
    assert runs[service].status == "ok"
    assert runs[service].pushed == 0


@pytest.mark.parametrize("service", [Service.GITLAB, Service.NOTION], ids=lambda s: s.value)
def test_drop_after_a_remote_delete_removes_it_locally(world: World, service: Service) -> None:
    store = world.engine.store
    task = only_on(world, service)
    store.upsert_tasks([task.model_copy(update={"title": "Edited, then they deleted it"})])
    _delete_remotely(world, service, task)
    world.later()
    world.sync(service)
    conflict = store.conflicts(task_id=task.id)[0]
    world.engine.resolve_conflict(conflict.id, "remote")
    gone = store.get_task(task.id)
    assert gone is not None
    assert gone.deleted


# ------------------------------------------------------------------------- 5. missed remote deletes


def _reconcile_now(world: World) -> None:
    world.engine.settings.sync.reconcile_minutes = 0


@pytest.mark.parametrize("service", [Service.GITLAB, Service.NOTION], ids=lambda s: s.value)
def test_a_remote_delete_nobody_edited_leaves_the_cache(world: World, service: Service) -> None:
    task = only_on(world, service)
    _delete_remotely(world, service, task)
    _reconcile_now(world)
    world.later()
    world.sync(service)
    gone = world.engine.store.get_task(task.id)
    assert gone is not None
    assert gone.deleted
    assert world.engine.store.conflicts() == []


def test_one_transient_404_never_deletes_a_motion_task(world: World) -> None:
    no_backoff(world, Service.MOTION)
    motion = world.sandbox.emulator("motion")
    task = only_on(world, Service.MOTION)
    ident = world.ref(task, Service.MOTION).external_id
    # Completed by a teammate: it leaves the unresolved listing, so pmtui looks it up.
    motion.admin_mutate({"op": "update", "kind": "task", "id": ident, "fields": {"status": "Completed"}})
    motion.add_fault(Fault("error", value=404, count=1, method="GET", path="/v1/tasks/:id"))
    world.later()
    world.sync(Service.MOTION)
    here = world.engine.store.get_task(task.id)
    assert here is not None
    assert not here.deleted
    world.later()
    world.sync(Service.MOTION)
    here = world.engine.store.get_task(task.id)
    assert here is not None
    assert not here.deleted
    assert here.status is Status.DONE


# ----------------------------------------------------------------------------- 6. a real outbox


def test_queued_for_linear_is_delivered_once_linear_is_back(world: World) -> None:
    linear = world.sandbox.emulator("linear")
    no_backoff(world, Service.LINEAR)
    linear.add_fault(Fault("error", value=503, count=None))
    world.engine.unhealthy.add(Service.LINEAR)
    action = CreateTask(title="Fix login redirect", labels=["bug"])
    plan = Plan(actions=[action])
    routes = world.engine.route_plan(plan)
    assert routes[action.ref].queued_for is Service.LINEAR
    outcome = world.engine.execute(plan, routes)
    assert outcome.results[0].status is ResultStatus.DONE, outcome.results
    task = world.engine.store.get_task(outcome.results[0].entity_id or "")
    assert task is not None
    summary = status_summary(world.engine.store, world.engine.configured_services())
    assert summary.pending >= 1
    pending = {s.service: s.pending for s in summary.services}
    assert pending[Service.LINEAR] == 1
    linear.clear_faults()
    world.later()
    world.sync()
    world.later()
    world.sync()
    titles = [i["title"] for i in linear.state["issues"].values() if not i.get("trashed")]
    assert titles.count("Fix login redirect") == 1
    services = {r.service for r in world.engine.store.refs_for(task.id)}
    assert Service.LINEAR in services
    from pmtui.core.writes import pending_changes

    assert pending_changes(world.engine.store) == {}


def test_outbox_counts_local_edits_not_yet_on_their_service(world: World) -> None:
    task = only_on(world, Service.GITLAB)
    world.engine.store.upsert_tasks([task.model_copy(update={"title": "Not pushed yet"})])
    summary = status_summary(world.engine.store, world.engine.configured_services())
    pending = {s.service: s.pending for s in summary.services}
    assert pending[Service.GITLAB] == 1
    assert summary.pending == 1
    world.later()
    world.sync(Service.GITLAB)
    assert status_summary(world.engine.store, world.engine.configured_services()).pending == 0


# -------------------------------------------------------------------------- a failing item, visible


def test_a_failing_push_marks_that_task_and_the_others_go_out(world: World) -> None:
    store = world.engine.store
    first, second = _two_gitlab(world)
    # GitLab refuses a title over 255 characters: the first push fails for good, the second goes out.
    store.upsert_tasks([first.model_copy(update={"title": "x" * 300})])
    store.upsert_tasks([second.model_copy(update={"title": "Goes out anyway"})])
    world.later()
    runs = world.sync(Service.GITLAB)
    assert runs[Service.GITLAB].status == "ok"
    assert remote(world, Service.GITLAB, second).task.title == "Goes out anyway"
    failed = store.outbox_entries(Service.GITLAB)
    assert [(e.task_id, bool(e.error)) for e in failed] == [(first.id, True)]


def _two_gitlab(world: World) -> tuple[Task, Task]:
    store = world.engine.store
    found = []
    for ref in store.refs_for_service(Service.GITLAB):
        task = store.get_task(ref.entity_id)
        if (
            task is not None
            and not task.deleted
            and [r.service for r in store.refs_for(task.id)] == [Service.GITLAB]
        ):
            found.append(task)
        if len(found) == 2:
            return found[0], found[1]
    raise AssertionError("two GitLab-only tasks expected")


def test_the_outbox_survives_a_reopen(world: World, tmp_path: Any) -> None:
    task = only_on(world, Service.NOTION)
    ident = world.ref(task, Service.NOTION).external_id
    world.engine.store.upsert_tasks([task.model_copy(update={"title": "Written before a crash"})])
    path = world.engine.store.path
    assert path is not None
    world.engine.close()
    with Engine(world.engine.settings, Store(path)) as engine:
        runs = {run.service: run for run in engine.sync([Service.NOTION])}
        assert runs[Service.NOTION].pushed == 1
    there = teammate(world, Service.NOTION).get_task(ident)
    assert there is not None
    assert there.task.title == "Written before a crash"
