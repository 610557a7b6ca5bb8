"""Crash recovery with a real kill -9: each intended object exists exactly once or not at all.

A child process runs a three-step workflow (three task creates) against the Motion emulator served by
this process, and SIGKILLs itself right before or right after one of the remote calls. The parent
then opens the same cache, recovers, and checks the service, the cache and the journal.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.config import load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.sandbox.motion import DEFAULT_API_KEY, MotionEmulator
from pmtui.sandbox.server import RunningEmulator

TITLES = ["Crash step one", "Crash step two", "Crash step three"]

CHILD = textwrap.dedent("""
    import os, signal, sys
    from datetime import UTC, datetime
    from pmtui.config import load_settings
    from pmtui.core.engine import Engine
    from pmtui.core.store import Store
    from pmtui.models import CreateTask, Plan, Service

    url, workspace, db, step, moment = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    settings = load_settings(overrides={"motion": {"base_url": url, "workspace_id": workspace,
                                                   "requests_per_minute": 60000}})
    engine = Engine(settings, Store(db))
    integration = engine.integration(Service.MOTION)
    real_create = integration.create_task
    calls = {"n": 0}

    def create_task(task, **kwargs):
        calls["n"] += 1
        if calls["n"] == step and moment == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = real_create(task, **kwargs)
        if calls["n"] == step and moment == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    integration.create_task = create_task
    due = datetime(2026, 12, 4, 17, tzinfo=UTC)
    plan = Plan(request_id="crash-request", actions=[
        CreateTask(ref="a", title="Crash step one", due=due),
        CreateTask(ref="b", title="Crash step two", due=due, after=["a"]),
        CreateTask(ref="c", title="Crash step three", due=due, after=["b"]),
    ])
    engine.execute(plan)
    print("finished without crashing")
""")


@pytest.fixture
def motion() -> Iterator[RunningEmulator]:
    emulator = MotionEmulator()
    emulator.seed({"kind": "demo"})
    running = RunningEmulator(emulator).start()
    yield running
    running.stop()


@pytest.mark.parametrize("moment", ["before", "after"])
@pytest.mark.parametrize("step", [1, 2, 3])
def test_kill_9_around_each_remote_call(
    motion: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: int, moment: str
) -> None:
    monkeypatch.setenv("PMTUI_MOTION_API_KEY", DEFAULT_API_KEY)
    workspace = motion.emulator.config_hints()["workspace_id"]  # type: ignore[attr-defined]
    db = tmp_path / "cache.duckdb"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, motion.url, workspace, str(db), str(step), moment],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -9, child.stdout + child.stderr

    settings = load_settings(
        overrides={
            "motion": {"base_url": motion.url, "workspace_id": workspace, "requests_per_minute": 60000}
        }
    )
    with Engine(settings, Store(db)) as engine:
        assert len(engine.journal.pending()) == 1  # the step that was in flight
        engine.recover()
        assert engine.journal.all() == []
        remote = [t["name"] for t in motion.emulator.state["tasks"].values() if t["name"] in TITLES]
        local = [t.title for t in engine.store.list_tasks() if t.title in TITLES]
    expected_remote = TITLES[: step if moment == "after" else step - 1]
    assert sorted(remote) == sorted(expected_remote)
    assert sorted(local) == sorted(expected_remote)
    assert len(remote) == len(set(remote))
