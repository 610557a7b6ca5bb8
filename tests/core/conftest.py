"""Shared fixtures for engine tests: one demo sandbox and one first-synced cache per module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pmtui.config import load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.models import Plan, Service, Task
from pmtui.sandbox.runner import Sandbox, start_sandbox


@dataclass
class World:
    sandbox: Sandbox
    engine: Engine

    def task(self, key: str) -> Task:
        found = [t for t in self.engine.store.find_tasks(key) if t.title]
        assert len(found) == 1, f"{key}: {[t.title for t in found]}"
        return found[0]

    def ref(self, task: Task, service: Service) -> Any:
        return next(r for r in self.engine.store.refs_for(task.id) if r.service is service)

    def later(self, seconds: float = 120) -> None:
        self.sandbox.clock.advance(seconds)

    def sync(self, *services: Service) -> dict[Service, Any]:
        return {run.service: run for run in self.engine.sync(list(services) or None)}

    def run(self, *actions: Any) -> Any:
        return self.engine.execute(Plan(actions=list(actions)))

    def linear_issue(self, ident: str) -> dict[str, Any]:
        emulator = self.sandbox.emulator("linear")
        return emulator.admin_mutate({"op": "update", "kind": "issue", "id": ident, "fields": {}})  # type: ignore[no-any-return]

    def writes(self, service: str) -> int:
        counts = self.sandbox.emulator(service).request_counts()
        if service == "linear":
            return sum(
                v
                for k, v in counts.items()
                if k.startswith("graphql:issue")
                and k not in ("graphql:issues", "graphql:issue", "graphql:issueLabels")
            )
        return sum(
            v
            for k, v in counts.items()
            if k.split(" ")[0] in ("POST", "PUT", "PATCH", "DELETE") and "/query" not in k
        )


@dataclass
class Template:
    """One sandbox and one first-synced cache for the module; each test starts from copies of both."""

    sandbox: Sandbox
    snapshots: dict[str, dict[str, Any]]
    cache: Path
    settings: Any


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    with pytest.MonkeyPatch.context() as patch, start_sandbox(seed="demo") as sandbox:
        for name, value in sandbox.env().items():
            patch.setenv(name, value)
        patch.setenv("PMTUI_NO_KEYRING", "1")
        overrides = sandbox.settings_dict()
        for section in overrides.values():
            section["requests_per_minute"] = 60000
        settings = load_settings(overrides=overrides)
        cache = tmp_path_factory.mktemp("sync") / "template.duckdb"
        with Engine(settings, Store(cache)) as engine:
            runs = engine.sync()
            assert all(run.status == "ok" for run in runs), runs
        snapshots = {name: sandbox.emulator(name).snapshot() for name in sandbox.running}
        yield Template(sandbox, snapshots, cache, settings)


def restore_sandbox(template: Template, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The module's emulators back to their state after the first sync, faults cleared, keys set."""
    sandbox = template.sandbox
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    for name, snapshot in template.snapshots.items():
        emulator = sandbox.emulator(name)
        emulator.restore(snapshot)
        emulator.clear_faults()
    return sandbox


@pytest.fixture
def world(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    sandbox = restore_sandbox(template, monkeypatch)
    cache = tmp_path / "cache.duckdb"
    shutil.copy(template.cache, cache)
    with Engine(template.settings, Store(cache)) as engine:
        built = World(sandbox, engine)
        built.later()
        sandbox.reset_counts()
        yield built
