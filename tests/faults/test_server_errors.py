"""5xx bursts: a sync rides them out with backoff, a write retried through a 5xx is made once, an update
the service keeps refusing waits in the cache for the next sync, and a create that never gets through
leaves nothing behind on either side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pmtui.integrations.base import TaskPatch
from pmtui.models import CreateTask, ResultStatus, Service, TaskChanges, UpdateTask
from pmtui.sandbox.server import Fault
from tests.faults.conftest import World
from tests.faults.sides import assert_settled, local_titles, remote_titles

SERVICES = [Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB]
DUE = datetime(2026, 12, 4, 17, tzinfo=UTC)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_burst_during_sync_is_ridden_out(fast_world: World, service: Service) -> None:
    ref = next(r for r in fast_world.engine.store.refs_for_service(service) if r.origin)
    fast_world.engine.integration(service).update_task(ref.external_id, TaskPatch({"title": "After a burst"}))
    fast_world.later()
    fault = Fault("error", value=503, count=3)
    fast_world.sandbox.emulator(service.value).add_fault(fault)
    runs = fast_world.sync(service)
    assert fault.hits == 3
    assert runs[service].status == "ok", runs[service].error
    assert fast_world.engine.store.get_task(ref.entity_id).title == "After a burst"  # type: ignore[union-attr]
    assert_settled(fast_world, runs)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
@pytest.mark.parametrize("burst", [1, 2])
def test_burst_on_a_create_makes_it_once(fast_world: World, service: Service, burst: int) -> None:
    title = f"Through a 502 burst ({service.value})"
    fault = Fault("error", value=502, count=burst, method="POST")
    fast_world.sandbox.emulator(service.value).add_fault(fault)
    outcome = fast_world.run(CreateTask(ref="a", title=title, due=DUE, service=service))
    fast_world.engine.recover()
    assert fault.hits == burst
    # Whatever the outcome: never twice, and the cache agrees with the service.
    remote = remote_titles(fast_world.sandbox, service.value).count(title)
    assert remote <= 1
    assert local_titles(fast_world).count(title) == remote
    assert_settled(fast_world)
    assert outcome.ok, outcome.results
    assert remote == 1


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_update_refused_with_5xx_is_kept_and_pushed_later(fast_world: World, service: Service) -> None:
    ref = next(r for r in fast_world.engine.store.refs_for_service(service) if r.origin)
    emulator = fast_world.sandbox.emulator(service.value)
    emulator.add_fault(Fault("error", value=503, count=None))
    outcome = fast_world.run(
        UpdateTask(ref="u", task=ref.entity_id, changes=TaskChanges(title="Edited offline"))
    )
    assert outcome.results[0].status is ResultStatus.QUEUED, outcome.results
    assert "Edited offline" not in remote_titles(fast_world.sandbox, service.value)
    assert fast_world.engine.store.get_task(ref.entity_id).title == "Edited offline"  # type: ignore[union-attr]
    emulator.clear_faults()
    fast_world.later()
    runs = fast_world.sync(service)
    assert runs[service].status == "ok"
    assert runs[service].pushed >= 1
    assert remote_titles(fast_world.sandbox, service.value).count("Edited offline") == 1
    assert_settled(fast_world, runs)


def test_create_that_never_gets_through_leaves_nothing(fast_world: World) -> None:
    motion = fast_world.sandbox.emulator("motion")
    motion.add_fault(Fault("error", value=500, count=None, method="POST", path="/v1/tasks"))
    outcome = fast_world.run(CreateTask(ref="a", title="Never made", due=DUE, service=Service.MOTION))
    assert not outcome.ok
    assert outcome.results[0].status is ResultStatus.FAILED
    assert outcome.results[0].error
    # The second attempt's outcome is unknown, so its step stays pending until recovery asks Motion.
    fast_world.engine.recover()
    assert "Never made" not in remote_titles(fast_world.sandbox, "motion")
    assert "Never made" not in local_titles(fast_world)
    assert_settled(fast_world)
