"""Fixtures of the fault-injection suite: the demo sandbox and a first-synced cache for the suite (as in
tests/core), and an engine whose retries and Retry-After waits run on a fake clock.

The fake clock matters twice: the suite stays fast (a 429 storm with Retry-After 2 costs no wall time),
and the waits become observable, so a test can assert that pmtui honoured the service's Retry-After.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from pmtui.config import load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.integrations import integration_class
from pmtui.integrations.limits import RateLimiter
from pmtui.models import REMOTE_SERVICES
from pmtui.sandbox.runner import start_sandbox
from tests.core.conftest import Template, World, world

__all__ = ["FakeTime", "Template", "World", "fast_world", "template", "use_fake_time", "world"]


@pytest.fixture(scope="package")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """tests/core's template, once for the whole fault suite: every test restores the emulators from
    its snapshots and copies its cache, so sharing it across modules is safe and saves a first sync each."""
    with pytest.MonkeyPatch.context() as patch, start_sandbox(seed="demo") as sandbox:
        for name, value in sandbox.env().items():
            patch.setenv(name, value)
        patch.setenv("PMTUI_NO_KEYRING", "1")
        overrides = sandbox.settings_dict()
        for section in overrides.values():
            section["requests_per_minute"] = 60000
        settings = load_settings(overrides=overrides)
        cache = tmp_path_factory.mktemp("faults") / "template.duckdb"
        with Engine(settings, Store(cache)) as engine:
            runs = engine.sync()
            assert all(run.status == "ok" for run in runs), runs
        snapshots = {name: sandbox.emulator(name).snapshot() for name in sandbox.running}
        yield Template(sandbox, snapshots, cache, settings)


@dataclass
class FakeTime:
    """A monotonic clock that only moves when something sleeps on it; records every sleep."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def waited(self) -> float:
        return sum(self.sleeps)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def use_fake_time(world: World, fake_time: FakeTime, **section: object) -> None:
    """Rebuild the four integrations to wait on ``fake_time``; ``section`` overrides settings (a timeout)."""
    engine = world.engine
    for service in REMOTE_SERVICES:
        old = engine._integrations.pop(service, None)
        if old is not None:
            old.close()
        settings = engine.settings.service(service).model_copy(update=section)
        limiter = RateLimiter(60000, clock=fake_time.clock, sleep=fake_time.sleep)
        engine._integrations[service] = integration_class(service)(  # type: ignore[call-arg]
            settings, world.sandbox.api_key(service.value), limiter=limiter, retry_sleep=fake_time.sleep
        )


@pytest.fixture
def fast_world(world: World, fake_time: FakeTime) -> World:
    """``world`` whose four integrations wait on ``fake_time`` (limiter pauses and retry backoff)."""
    use_fake_time(world, fake_time)
    return world
