"""A service down for a whole session (nothing listens at its address): that service's runs fail with
a clear status, the others sync, nothing of the down service is dropped, an edit meant for it waits in
the cache, and when it comes back the next sync pushes the edit once."""

from __future__ import annotations

import socket

from pmtui.integrations import integration_class
from pmtui.models import ResultStatus, Service, TaskChanges, UpdateTask
from tests.faults.conftest import FakeTime, World, use_fake_time
from tests.faults.sides import assert_settled, remote_titles


def _dead_address() -> str:
    """A 127.0.0.1 URL where nothing listens (a port bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_gitlab_down_for_the_session(fast_world: World, fake_time: FakeTime) -> None:
    engine = fast_world.engine
    store = engine.store
    engine._integrations.pop(Service.GITLAB).close()
    down = engine.settings.gitlab.model_copy(update={"base_url": _dead_address(), "timeout_seconds": 2})
    engine._integrations[Service.GITLAB] = integration_class(Service.GITLAB)(  # type: ignore[call-arg]
        down, fast_world.sandbox.api_key("gitlab"), retry_sleep=fake_time.sleep
    )
    cursor = store.get_cursor(Service.GITLAB, "tasks")
    refs = len(store.refs_for_service(Service.GITLAB))
    tasks = store.count_tasks()
    ref = next(r for r in store.refs_for_service(Service.GITLAB) if r.origin)

    first = fast_world.sync()
    outcome = fast_world.run(
        UpdateTask(ref="u", task=ref.entity_id, changes=TaskChanges(title="Waits for GitLab"))
    )
    second = fast_world.sync()

    for runs in (first, second):
        assert runs[Service.GITLAB].status == "failed"
        assert "gitlab" in (runs[Service.GITLAB].error or "").lower()
        assert all(runs[s].status == "ok" for s in (Service.MOTION, Service.LINEAR, Service.NOTION))
        assert_settled(fast_world, runs)
    assert outcome.results[0].status is ResultStatus.QUEUED
    assert store.get_cursor(Service.GITLAB, "tasks") == cursor
    assert len(store.refs_for_service(Service.GITLAB)) == refs
    assert store.count_tasks() == tasks
    assert store.get_task(ref.entity_id).title == "Waits for GitLab"  # type: ignore[union-attr]
    assert "Waits for GitLab" not in remote_titles(fast_world.sandbox, "gitlab")

    use_fake_time(fast_world, fake_time)  # GitLab is back at its real address
    back = fast_world.sync(Service.GITLAB)
    assert back[Service.GITLAB].status == "ok"
    assert back[Service.GITLAB].pushed == 1
    assert remote_titles(fast_world.sandbox, "gitlab").count("Waits for GitLab") == 1
    assert_settled(fast_world, back)
