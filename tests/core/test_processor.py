"""The TaskProcessor end to end against the Motion emulator through the real Motion integration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pmtui.config import load_settings
from pmtui.core.engine import Engine
from pmtui.core.processor import idempotency_key
from pmtui.core.store import Store
from pmtui.errors import PlanError
from pmtui.models import (
    CompleteTask,
    CreateProject,
    CreateTask,
    JournalState,
    Plan,
    ResultStatus,
    Service,
    Task,
    TaskChanges,
    UpdateTask,
)
from pmtui.sandbox.motion import DEFAULT_API_KEY, MotionEmulator
from pmtui.sandbox.server import Fault, RunningEmulator

DUE = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)


@pytest.fixture
def motion() -> Iterator[RunningEmulator]:
    emulator = MotionEmulator()
    emulator.seed({"kind": "demo"})
    running = RunningEmulator(emulator).start()
    yield running
    running.stop()


@pytest.fixture
def engine(motion: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("PMTUI_MOTION_API_KEY", DEFAULT_API_KEY)
    hints = motion.emulator.config_hints()  # type: ignore[attr-defined]
    settings = load_settings(
        overrides={
            "motion": {
                "base_url": motion.url,
                "workspace_id": hints["workspace_id"],
                "requests_per_minute": 60000,
            }
        }
    )
    with Engine(settings, Store(tmp_path / "cache.duckdb")) as built:
        built.processor.integrations(Service.MOTION)  # build it once so the limiter is shared
        yield built


def _motion_tasks(motion: RunningEmulator, title_prefix: str) -> list[dict[str, object]]:
    state = motion.emulator.state
    return [t for t in state["tasks"].values() if str(t["name"]).startswith(title_prefix)]


def _plan(prefix: str) -> Plan:
    return Plan(
        text="new project",
        actions=[
            CreateProject(ref="p", name=f"{prefix} project", due=DUE.date()),
            CreateTask(ref="a", title=f"{prefix} spec", due=DUE, project="p", after=["p"]),
            CreateTask(ref="b", title=f"{prefix} API", due=DUE, project="p", after=["p"]),
            CreateTask(ref="c", title=f"{prefix} docs", due=DUE, project="p", after=["p"]),
        ],
    )


def test_project_with_three_tasks(engine: Engine, motion: RunningEmulator) -> None:
    motion.emulator.reset_counts()
    outcome = engine.execute(_plan("Q1"))
    assert outcome.ok, outcome.results
    assert [r.status for r in outcome.results] == [ResultStatus.DONE] * 4
    assert {r.service for r in outcome.results} == {Service.MOTION}
    counts = motion.emulator.request_counts()
    assert counts["POST /v1/tasks"] == 3
    assert counts.get("POST /v1/projects") == 1
    created = _motion_tasks(motion, "Q1 ")
    assert sorted(t["name"] for t in created) == ["Q1 API", "Q1 docs", "Q1 spec"]
    project_id = outcome.results[0].entity_id
    stored = [t for t in engine.store.list_tasks() if t.title.startswith("Q1 ")]
    assert len(stored) == 3
    assert {t.project_id for t in stored} == {project_id}
    assert all(len(engine.store.refs_for(t.id)) == 1 for t in stored)
    reasons = [d.reason for d in engine.store.decisions(limit=50)]
    assert any("has a deadline" in r for r in reasons)
    assert engine.journal.all() == []


def test_third_step_fails_and_everything_is_compensated(engine: Engine, motion: RunningEmulator) -> None:
    motion.emulator.add_fault(Fault("error", value=400, count=1, after=2, method="POST", path="/v1/tasks"))
    outcome = engine.execute(_plan("Doomed"))
    assert not outcome.ok
    statuses = {r.ref: r.status for r in outcome.results}
    assert statuses == {
        "p": ResultStatus.DONE,
        "a": ResultStatus.COMPENSATED,
        "b": ResultStatus.COMPENSATED,
        "c": ResultStatus.FAILED,
    }
    assert len(outcome.compensated) == 2
    assert outcome.remaining == []
    assert _motion_tasks(motion, "Doomed ") == []
    assert [t for t in engine.store.list_tasks() if t.title.startswith("Doomed ")] == []
    assert engine.journal.all() == []


def test_transient_failure_then_success_creates_once(engine: Engine, motion: RunningEmulator) -> None:
    motion.emulator.add_fault(Fault("error", value=503, count=1, method="POST", path="/v1/tasks"))
    outcome = engine.execute(Plan(actions=[CreateTask(title="Retry me", due=DUE)]))
    assert outcome.ok
    assert len(_motion_tasks(motion, "Retry me")) == 1


def test_commit_then_drop_on_every_create_makes_no_duplicates(
    engine: Engine, motion: RunningEmulator
) -> None:
    motion.emulator.add_fault(Fault("commit_drop", count=None, method="POST", path="/v1/tasks"))
    outcome = engine.execute(_plan("Dropped"))
    assert outcome.ok, outcome.results
    created = _motion_tasks(motion, "Dropped ")
    assert sorted(t["name"] for t in created) == ["Dropped API", "Dropped docs", "Dropped spec"]
    assert len([t for t in engine.store.list_tasks() if t.title.startswith("Dropped ")]) == 3


def test_validation_reports_everything_before_any_remote_call(
    engine: Engine, motion: RunningEmulator
) -> None:
    motion.emulator.reset_counts()
    plan = Plan(
        actions=[
            CreateTask(ref="a", title="Orphan", project="No such project", due=DUE),
            CompleteTask(ref="b", task="a task that does not exist"),
            UpdateTask(ref="c", task="another missing one", changes=TaskChanges()),
        ]
    )
    with pytest.raises(PlanError) as caught:
        engine.execute(plan)
    problems = caught.value.problems
    assert len(problems) == 4
    assert any("unknown project 'No such project'" in p for p in problems)
    assert any("no task matches 'a task that does not exist'" in p for p in problems)
    assert any("nothing to change" in p for p in problems)
    assert motion.emulator.request_counts()["total"] == 0


def test_update_and_complete_reach_the_service(engine: Engine, motion: RunningEmulator) -> None:
    engine.execute(Plan(actions=[CreateTask(title="Polish slides", due=DUE)]))
    outcome = engine.execute(
        Plan(
            actions=[
                UpdateTask(ref="u", task="Polish slides", changes=TaskChanges(title="Polish the slides")),
            ]
        )
    )
    assert outcome.ok
    outcome = engine.execute(Plan(actions=[CompleteTask(ref="d", task="Polish the slides")]))
    assert outcome.ok
    remote = _motion_tasks(motion, "Polish the slides")
    assert len(remote) == 1
    assert remote[0]["completed"] is True


def test_recovery_finishes_a_create_that_was_committed(engine: Engine, motion: RunningEmulator) -> None:
    # The process "died" after Motion committed the create but before the result was stored.
    key = idempotency_key("req-crash", "a")
    task = Task(id=key, title="Survives a crash", due=DUE, due_all_day=False)
    engine.journal.begin(
        request_id="req-crash",
        step=0,
        service=Service.MOTION,
        op="create_task",
        idempotency_key=key,
        payload={"task": task.model_dump(mode="json")},
        entity_id=task.id,
    )
    engine.integration(Service.MOTION).create_task(task, idempotency_key=key)
    lost = Task(id=idempotency_key("req-crash", "b"), title="Never sent", due=DUE, due_all_day=False)
    engine.journal.begin(
        request_id="req-crash",
        step=1,
        service=Service.MOTION,
        op="create_task",
        idempotency_key=lost.id,
        payload={"task": lost.model_dump(mode="json")},
        entity_id=lost.id,
    )
    lines = engine.recover()
    assert any("had been committed" in line for line in lines)
    assert any("never reached the service" in line for line in lines)
    assert engine.journal.all() == []
    assert len(_motion_tasks(motion, "Survives a crash")) == 1
    stored = engine.store.get_task(key)
    assert stored is not None
    assert len(engine.store.refs_for(key)) == 1
    assert engine.store.get_task(lost.id) is None
    assert engine.journal.store.journal_entries(states=[JournalState.FAILED]) == []


def test_existing_project_is_reused_not_duplicated(engine: Engine, motion: RunningEmulator) -> None:
    engine.execute(
        Plan(actions=[CreateProject(ref="p", name="Reuse me", due=(DUE + timedelta(days=3)).date())])
    )
    outcome = engine.execute(Plan(actions=[CreateProject(ref="p", name="reuse ME")]))
    assert "already exists" in outcome.results[0].message
    assert sum(1 for p in motion.emulator.state["projects"].values() if p["name"] == "Reuse me") == 1
