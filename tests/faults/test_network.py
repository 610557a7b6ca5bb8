"""Timeouts and connection resets: the outcome of the request is unknown to pmtui, so it must find out
rather than guess. A reset closes the connection before the write is applied; a timeout on a slow write
is worse: the service applies it after pmtui has given up. Either way the object exists once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pmtui.integrations.base import TaskPatch
from pmtui.models import CreateTask, Service, TaskChanges, UpdateTask
from pmtui.sandbox.server import Fault
from tests.faults.conftest import FakeTime, World, use_fake_time
from tests.faults.sides import assert_settled, local_titles, remote_titles

SERVICES = [Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB]
DUE = datetime(2026, 12, 4, 17, tzinfo=UTC)
TIMEOUT = 0.4
"""The clients' timeout in these tests (seconds); the injected latency is well above it."""


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_reset_before_a_create_makes_it_once(fast_world: World, service: Service) -> None:
    title = f"After a reset ({service.value})"
    fault = Fault("reset", count=1)
    fast_world.sandbox.emulator(service.value).add_fault(fault)
    outcome = fast_world.run(CreateTask(ref="a", title=title, due=DUE, service=service))
    fast_world.engine.recover()
    assert fault.hits == 1
    assert outcome.ok, outcome.results
    assert remote_titles(fast_world.sandbox, service.value).count(title) == 1
    assert local_titles(fast_world).count(title) == 1
    assert_settled(fast_world)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_reset_during_an_update_still_lands(fast_world: World, service: Service) -> None:
    ref = next(r for r in fast_world.engine.store.refs_for_service(service) if r.origin)
    fault = Fault("reset", count=1)
    fast_world.sandbox.emulator(service.value).add_fault(fault)
    fast_world.run(UpdateTask(ref="u", task=ref.entity_id, changes=TaskChanges(title="Reset then sent")))
    fast_world.later()
    runs = fast_world.sync(service)
    assert fault.hits == 1
    assert runs[service].status == "ok"
    remote = fast_world.engine.integration(service).get_task(ref.external_id)
    assert remote is not None
    assert remote.task.title == "Reset then sent"
    assert fast_world.engine.store.get_task(ref.entity_id).title == "Reset then sent"  # type: ignore[union-attr]
    assert_settled(fast_world, runs)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_timeout_on_a_slow_create_makes_it_once(world: World, fake_time: FakeTime, service: Service) -> None:
    use_fake_time(world, fake_time, timeout_seconds=TIMEOUT)
    title = f"Slow create ({service.value})"
    fault = Fault("latency", value=TIMEOUT * 1000 * 3, count=1, method="POST")
    world.sandbox.emulator(service.value).add_fault(fault)
    world.run(CreateTask(ref="a", title=title, due=DUE, service=service))
    world.engine.recover()
    world.later()
    runs = world.sync(service)
    assert fault.hits == 1
    assert runs[service].status == "ok", runs[service].error
    assert remote_titles(world.sandbox, service.value).count(title) == 1
    assert local_titles(world).count(title) == 1
    assert_settled(world, runs)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_timeout_during_sync_is_retried(world: World, fake_time: FakeTime, service: Service) -> None:
    use_fake_time(world, fake_time, timeout_seconds=TIMEOUT)
    ref = next(r for r in world.engine.store.refs_for_service(service) if r.origin)
    world.engine.integration(service).update_task(
        ref.external_id, TaskPatch({"title": "Pulled after a timeout"})
    )
    world.later()
    fault = Fault(
        "latency",
        value=TIMEOUT * 1000 * 3,
        count=1,
        method="GET" if service is not Service.LINEAR else "POST",
    )
    if service is Service.NOTION:
        fault = Fault("latency", value=TIMEOUT * 1000 * 3, count=1, path="/v1/data_sources")
    world.sandbox.emulator(service.value).add_fault(fault)
    runs = world.sync(service)
    assert fault.hits == 1
    assert runs[service].status == "ok", runs[service].error
    assert world.engine.store.get_task(ref.entity_id).title == "Pulled after a timeout"  # type: ignore[union-attr]
    assert_settled(world, runs)
