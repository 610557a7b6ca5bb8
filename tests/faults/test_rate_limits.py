"""429 storms (Linear: its HTTP 400 RATELIMITED): pmtui waits for the service's Retry-After, never
retries early, never writes twice, and a service that stays throttled fails alone with a clear status.

Waits run on a fake clock (see conftest), so the suite is fast and the wait itself is asserted. GitLab
is the exception: python-gitlab obeys Retry-After inside the client with a real sleep, so its storm is
kept to one one-second answer.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pmtui.integrations.base import TaskPatch
from pmtui.models import CreateTask, Service
from pmtui.sandbox.server import Fault
from tests.faults.conftest import FakeTime, World
from tests.faults.sides import assert_settled, local_titles, remote_titles

SERVICES = [Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB]
DUE = datetime(2026, 12, 4, 17, tzinfo=UTC)


def _storm(service: Service) -> tuple[float, int]:
    """(Retry-After seconds, how many throttled answers) for a storm on ``service``."""
    return (1.0, 1) if service is Service.GITLAB else (2.0, 3)


def _rename_remotely(world: World, service: Service, title: str) -> str:
    """Rename one of the service's tasks behind the cache's back (its base is left as it was, so the
    next pull sees a remote edit); returns the local task id."""
    ref = next(r for r in world.engine.store.refs_for_service(service) if r.origin)
    world.engine.integration(service).update_task(ref.external_id, TaskPatch({"title": title}))
    world.later()
    return ref.entity_id


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_storm_during_sync_is_waited_out(fast_world: World, fake_time: FakeTime, service: Service) -> None:
    task_id = _rename_remotely(fast_world, service, f"Renamed during a storm ({service.value})")
    retry_after, count = _storm(service)
    fault = Fault("rate_limit", value=retry_after, count=count)
    fast_world.sandbox.emulator(service.value).add_fault(fault)
    runs = fast_world.sync(service)
    assert fault.hits == count
    assert runs[service].status == "ok", runs[service].error
    assert fast_world.engine.store.get_task(task_id).title == f"Renamed during a storm ({service.value})"  # type: ignore[union-attr]
    if service is not Service.GITLAB:
        assert fake_time.waited >= retry_after * count, "retried before the Retry-After had passed"
    assert_settled(fast_world, runs)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_storm_during_a_create_makes_it_once(fast_world: World, service: Service) -> None:
    title = f"Created through a storm ({service.value})"
    retry_after, count = _storm(service)
    fault = Fault("rate_limit", value=retry_after, count=count, method="POST")
    fast_world.sandbox.emulator(service.value).add_fault(fault)
    outcome = fast_world.run(CreateTask(ref="a", title=title, due=DUE, service=service))
    assert outcome.ok, outcome.results
    assert fault.hits == count
    assert remote_titles(fast_world.sandbox, service.value).count(title) == 1
    assert local_titles(fast_world).count(title) == 1
    assert_settled(fast_world)


def test_endless_throttling_fails_that_service_only(fast_world: World) -> None:
    motion = fast_world.sandbox.emulator("motion")
    cursor = fast_world.engine.store.get_cursor(Service.MOTION, "tasks")
    refs = len(fast_world.engine.store.refs_for_service(Service.MOTION))
    tasks = fast_world.engine.store.count_tasks()
    task_id = _rename_remotely(fast_world, Service.LINEAR, "Linear still syncs")
    motion.add_fault(Fault("rate_limit", value=5, count=None))
    runs = fast_world.sync()
    assert runs[Service.MOTION].status == "failed"
    assert "429" in (runs[Service.MOTION].error or "") or "rate" in (runs[Service.MOTION].error or "").lower()
    assert all(runs[s].status == "ok" for s in (Service.LINEAR, Service.NOTION, Service.GITLAB))
    assert fast_world.engine.store.get_task(task_id).title == "Linear still syncs"  # type: ignore[union-attr]
    # Nothing of Motion's was lost or dropped because it could not be listed.
    assert fast_world.engine.store.get_cursor(Service.MOTION, "tasks") == cursor
    assert len(fast_world.engine.store.refs_for_service(Service.MOTION)) == refs
    assert fast_world.engine.store.count_tasks() == tasks
    assert_settled(fast_world, runs)
    motion.clear_faults()
    again = fast_world.sync(Service.MOTION)
    assert again[Service.MOTION].status == "ok"
    assert_settled(fast_world, again)
