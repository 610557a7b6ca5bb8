"""A model-based test of the write path (issue #18): Hypothesis explores interleavings of local edits
(direct, through the orchestrator, and queued offline), teammates' edits and deletes on all four
services, outages (5xx, 429, commit-then-drop), kills of the sync and syncs, then checks every side.

The invariant, after the faults clear and two syncs complete (a change pulled from one service reaches
another on the second): for every field anyone wrote, either every side holding the task has the
**last** value written to it (in real time; a conflict resolution counts as a write), or an open
conflict names that field; a task deleted on a service while edited locally is an open conflict, and
no task exists twice on any service. Last-writer-wins is the right oracle here because pmtui never
writes blind: a write that did not see an earlier one is concurrent with it, and concurrent writes of
different values must end in a conflict, not in either value silently.

CI runs a fixed budget (``PMTUI_MODEL_EXAMPLES``, default 6); ``PMTUI_MODEL_SLOW=1 pytest -m slow -k
model`` explores further (40 examples, or ``PMTUI_MODEL_EXAMPLES`` if larger). A
failing example Hypothesis finds is kept below as a regular test (see ``test_found_*``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pmtui.core.engine import Engine
from pmtui.core.merge import same_value
from pmtui.core.store import Store
from pmtui.core.writes import DELETED_FIELD
from pmtui.integrations import integration_class
from pmtui.integrations.base import Integration, TaskPatch
from pmtui.integrations.limits import RateLimiter
from pmtui.models import (
    CompleteTask,
    DeleteTask,
    Priority,
    ResultStatus,
    Service,
    Status,
    Task,
    TaskChanges,
    UpdateTask,
)
from pmtui.sandbox.server import Fault
from tests.core.conftest import Template, World
from tests.core.test_write_path import _delete_remotely, teammate

FIELDS = ("title", "priority", "status")
PRIORITIES = [Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT]
BUDGET = int(os.environ.get("PMTUI_MODEL_EXAMPLES", "6"))


class Killed(BaseException):
    """kill -9 in the middle of a sync: nothing after the n-th remote call runs."""


class Dying:
    """Wraps an integration; the ``fuse``-th call to it kills the process (after the call landed)."""

    def __init__(self, inner: Any, fuse: list[int]) -> None:
        self.inner, self.fuse = inner, fuse

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not callable(value) or name.startswith("_") or name in ("capabilities", "limiter", "close"):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if hasattr(result, "__next__"):
                result = list(result)
            self.fuse[0] -= 1
            if self.fuse[0] <= 0:
                raise Killed
            return iter(result) if isinstance(result, list) and name == "list_changes" else result

        return call


class FakeClock:
    """Retry-After waits and backoff cost no wall time (the sandbox's own clock is moved by the model)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def fast(world: World, service: Service, clock: FakeClock) -> Integration:
    section = world.engine.settings.service(service)
    limiter = RateLimiter(60000, clock=clock.clock, sleep=clock.sleep)
    return integration_class(service)(  # type: ignore[call-arg,no-any-return]
        section, world.sandbox.api_key(service.value), limiter=limiter, retry_sleep=clock.sleep
    )


@dataclass
class Tracked:
    """A task the model follows, the services that hold it, and what was written to it, in order."""

    task_id: str
    services: tuple[Service, ...]
    writes: dict[str, list[Any]] = field(default_factory=dict)
    deleted_on: set[Service] = field(default_factory=set)
    deleted_here: dict[Service, str] = field(default_factory=dict)
    """Deleted locally (through `pmtui do`'s delete): the service and id it had on each service."""
    gone: bool = False


def pick_tasks(world: World) -> list[Tracked]:
    """One task held by each service alone, and one held by Linear and Motion together."""
    store = world.engine.store
    chosen: list[Tracked] = []
    for service in (Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION):
        for ref in store.refs_for_service(service):
            task = store.get_task(ref.entity_id)
            if task is None or task.deleted or task.status.is_closed:
                continue
            if [r.service for r in store.refs_for(task.id)] == [service]:
                chosen.append(Tracked(task.id, (service,)))
                break
    shared = world.task("ENG-3")
    chosen.append(Tracked(shared.id, (Service.LINEAR, Service.MOTION)))
    return chosen


class WriteModel(RuleBasedStateMachine):
    """The sandbox and a synced cache, fresh for every example (restored from the template)."""

    template: Template
    workdir: Path

    def __init__(self) -> None:
        super().__init__()
        self.counter = itertools.count(1)
        self.faults: set[Service] = set()
        self.engine: Engine | None = None

    # ----------------------------------------------------------------------------------- setup

    @initialize()
    def fresh_world(self) -> None:
        sandbox = self.template.sandbox
        for name, snapshot in self.template.snapshots.items():
            emulator = sandbox.emulator(name)
            emulator.restore(snapshot)
            emulator.clear_faults()
        self.cache = self.workdir / f"model-{next(_EXAMPLES)}.duckdb"
        shutil.copy(self.template.cache, self.cache)
        self.engine = Engine(self.settings(), Store(self.cache))
        self.world = World(sandbox, self.engine)
        self.clock = FakeClock()
        self.use_fast_integrations()
        self.world.later()
        self.tracked = pick_tasks(self.world)

    def use_fast_integrations(self) -> None:
        assert self.engine is not None
        for service in (Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION):
            self.engine._integrations[service] = fast(self.world, service, self.clock)

    def settings(self) -> Any:
        """The sandbox's settings; GitLab, Notion and Linear are listed whole on every sync, so a
        remote delete is seen at once (in use it is seen within ``reconcile_minutes``)."""
        chosen = self.template.settings.model_copy(deep=True)
        chosen.sync.reconcile_minutes = 0
        return chosen

    def teardown(self) -> None:
        if self.engine is not None:
            self.engine.close()
        for name in self.template.sandbox.running:
            self.template.sandbox.emulator(name).clear_faults()

    def restart(self) -> None:
        """A new process on the same cache file (what a kill -9 leaves is all it gets)."""
        assert self.engine is not None
        self.engine.close()
        self.engine = Engine(self.settings(), Store(self.cache))
        self.world = World(self.template.sandbox, self.engine)
        self.use_fast_integrations()

    @contextlib.contextmanager
    def faults_off(self, service: Service) -> Iterator[None]:
        emulator = self.template.sandbox.emulator(service.value)
        saved = list(emulator.faults)
        emulator.clear_faults()
        try:
            yield
        finally:
            emulator.set_faults(saved)

    # ----------------------------------------------------------------------------------- values

    def new_value(self, name: str, data: st.DataObject) -> Any:
        if name == "title":
            return f"Model title {next(self.counter)}"
        if name == "priority":
            return data.draw(st.sampled_from(PRIORITIES))
        return data.draw(st.sampled_from([Status.DONE, Status.TODO]))

    def closed_in_motion(self, tracked: Tracked, service: Service) -> bool:
        """Whether a teammate's change would be to a completed Motion task, which pmtui does not watch.

        Motion lists only unresolved tasks and has no "changed since" filter, so a completed task is
        seen again only when someone reopens it (docs/services/motion.md, "A completed task is no longer
        watched"). A teammate's edit or deletion of a completed one is never pulled, so the model does
        not make one: its long exploration found exactly that gap.
        """
        if service is not Service.MOTION:
            return False
        ref = self.world.ref(self.local_task(tracked), service)
        with self.faults_off(service):
            found = teammate(self.world, service).get_task(ref.external_id)
        return found is not None and found.task.status.is_closed

    def live(self) -> list[Tracked]:
        return [t for t in self.tracked if not t.gone]

    def local_task(self, tracked: Tracked) -> Task:
        assert self.engine is not None
        task = self.engine.store.get_task(tracked.task_id)
        assert task is not None
        return task

    # ------------------------------------------------------------------------------------ rules

    @precondition(lambda self: self.live())
    @rule(data=st.data(), how=st.sampled_from(["direct", "offline"]))
    def edit_locally(self, data: st.DataObject, how: str) -> None:
        tracked = data.draw(st.sampled_from(self.live()))
        name = data.draw(st.sampled_from(FIELDS))
        self.write_locally(tracked, name, self.new_value(name, data), how)

    def write_locally(self, tracked: Tracked, name: str, value: Any, how: str) -> None:
        task = self.local_task(tracked)
        if task.deleted or tracked.deleted_here:
            return
        # A write of the value the cache already holds is made (its path is exercised) but not counted:
        # nothing tells it apart from no write, so a teammate's change since stands, as it should.
        unchanged = same_value(name, getattr(task, name), value)
        if how == "offline" or (name == "status" and value is not Status.DONE):
            assert self.engine is not None
            self.engine.store.upsert_tasks([task.model_copy(update={name: value})])
        elif name == "status":
            outcome = self.world.run(CompleteTask(task=task.id))
            assert outcome.results[0].status is not ResultStatus.FAILED, outcome.results
        else:
            outcome = self.world.run(UpdateTask(task=task.id, changes=TaskChanges(**{name: value})))
            assert outcome.results[0].status is not ResultStatus.FAILED, outcome.results
        if not unchanged:
            tracked.writes.setdefault(name, []).append(value)

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def edit_remotely(self, data: st.DataObject) -> None:
        tracked = data.draw(st.sampled_from(self.live()))
        service = data.draw(st.sampled_from(tracked.services))
        name = data.draw(st.sampled_from(FIELDS))
        self.write_remotely(tracked, service, name, self.new_value(name, data))

    def write_remotely(self, tracked: Tracked, service: Service, name: str, value: Any) -> None:
        if service in tracked.deleted_on or tracked.deleted_here or self.closed_in_motion(tracked, service):
            return
        ref = self.world.ref(self.local_task(tracked), service)
        with self.faults_off(service):  # the teammate's own connection works
            held = teammate(self.world, service).get_task(ref.external_id)
            teammate(self.world, service).update_task(ref.external_id, TaskPatch({name: value}))
        # As a local write: the value the service already held is no change to see (the long
        # exploration took a teammate's "high" over a priority that was already high for a lost edit).
        if held is None or not same_value(name, getattr(held.task, name), value):
            tracked.writes.setdefault(name, []).append(value)
        self.world.later(5)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), how=st.sampled_from(["direct", "offline"]), local_first=st.booleans())
    def concurrent_edits(self, data: st.DataObject, how: str, local_first: bool) -> None:
        """A local edit and a teammate's edit of one task with no sync between (same field or not)."""
        tracked = data.draw(st.sampled_from(self.live()))
        if tracked.deleted_on or self.local_task(tracked).deleted:
            return
        service = data.draw(st.sampled_from(tracked.services))
        local_field = data.draw(st.sampled_from(FIELDS))
        remote_field = data.draw(st.sampled_from(FIELDS))
        local_value = self.new_value(local_field, data)
        remote_value = self.new_value(remote_field, data)
        steps = [
            lambda: self.write_locally(tracked, local_field, local_value, how),
            lambda: self.write_remotely(tracked, service, remote_field, remote_value),
        ]
        for step in steps if local_first else reversed(steps):
            step()

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def delete_locally(self, data: st.DataObject) -> None:
        """`pmtui do 'delete …'`: deleted on each service unless that service changed it since."""
        tracked = data.draw(st.sampled_from(self.live()))
        task = self.local_task(tracked)
        if tracked.deleted_on or tracked.deleted_here or task.deleted:
            return
        homes = {r.service: r.external_id for r in self.world.engine.store.refs_for(task.id)}
        outcome = self.world.run(DeleteTask(task=task.id))
        if outcome.results[0].status is ResultStatus.FAILED:
            return  # a service did not answer: nothing was deleted anywhere
        tracked.deleted_here = {s: e for s, e in homes.items() if s is not Service.LOCAL}

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def delete_remotely(self, data: st.DataObject) -> None:
        tracked = data.draw(st.sampled_from(self.live()))
        if len(tracked.services) > 1 or tracked.deleted_on or tracked.deleted_here:
            return
        service = tracked.services[0]
        if self.closed_in_motion(tracked, service):
            return
        with self.faults_off(service):
            _delete_remotely(self.world, service, self.local_task(tracked))
        tracked.deleted_on.add(service)
        self.world.later(5)

    @rule(
        service=st.sampled_from([Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION]),
        kind=st.sampled_from(["error", "rate_limit", "commit_drop"]),
    )
    def outage(self, service: Service, kind: str) -> None:
        emulator = self.template.sandbox.emulator(service.value)
        if kind == "error":
            emulator.add_fault(Fault("error", value=503, count=None))
        elif kind == "rate_limit":
            emulator.add_fault(Fault("rate_limit", value=1, count=None))
        else:
            emulator.add_fault(Fault("commit_drop", count=2))
        self.faults.add(service)

    @rule()
    def sync(self) -> None:
        self.world.later(30)
        assert self.engine is not None
        self.engine.sync()

    @rule(fuse=st.integers(min_value=1, max_value=12))
    def kill_during_sync(self, fuse: int) -> None:
        assert self.engine is not None
        budget = [fuse]
        for service, inner in list(self.engine._integrations.items()):
            self.engine._integrations[service] = Dying(inner, budget)  # type: ignore[assignment]
        self.world.later(30)
        with contextlib.suppress(Killed):
            self.engine.sync()
        self.restart()

    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        """Faults clear; two syncs; check every side; then settle each open conflict either way."""
        self.settle_and_check()
        self.resolve_conflicts(lambda: data.draw(st.sampled_from(["local", "remote"])))

    def settle_and_check(self) -> None:
        for name in self.template.sandbox.running:
            self.template.sandbox.emulator(name).clear_faults()
        self.faults.clear()
        assert self.engine is not None
        self.engine.unhealthy.clear()
        self.settle_runs = []
        for _ in range(2):
            self.world.later(60)
            runs = self.engine.sync()
            self.settle_runs.append([(r.service.value, r.pulled, r.pushed) for r in runs])
            assert len(runs) == 4, runs
            assert all(run.status == "ok" for run in runs), [(r.service, r.error) for r in runs]
        self.check()

    def resolve_conflicts(self, choose: Callable[[], str]) -> None:
        assert self.engine is not None
        for conflict in self.engine.store.conflicts():
            tracked = next((t for t in self.tracked if t.task_id == conflict.task_id), None)
            choice = choose()
            self.engine.resolve_conflict(conflict.id, choice)
            if tracked is None:
                continue
            if conflict.field == DELETED_FIELD and conflict.local is True:  # deleted here, edited there
                if choice == "remote":
                    tracked.deleted_here = {}  # kept: restored with the service's values
                else:
                    tracked.gone = True
            elif conflict.field == DELETED_FIELD:
                if choice == "remote":
                    tracked.gone = True
                else:
                    tracked.deleted_on.clear()
            else:
                chosen = conflict.local if choice == "local" else conflict.remote
                tracked.writes.setdefault(conflict.field, []).append(chosen)

    # -------------------------------------------------------------------------------- invariant

    checked = 0
    """How many times the invariant was checked over a run (a run that never checks proves nothing)."""

    def check(self) -> None:
        WriteModel.checked += 1
        assert self.engine is not None
        store = self.engine.store
        open_conflicts = store.conflicts()
        for tracked in self.live():
            task = self.local_task(tracked)
            open_fields = {c.field for c in open_conflicts if c.task_id == tracked.task_id}
            if tracked.deleted_here:
                assert task.deleted, f"{task.title!r}: deleted locally but live in the cache"
                for service, ident in tracked.deleted_here.items():
                    if DELETED_FIELD in open_fields:
                        continue  # the service changed it meanwhile: kept there, a visible conflict
                    there = teammate(self.world, service).get_task(ident)
                    assert there is None or there.deleted or there.task.status.is_closed, (
                        f"{task.title!r} deleted locally is still open on {service}"
                    )
                if DELETED_FIELD not in open_fields:
                    tracked.gone = True
                continue
            if tracked.deleted_on:
                assert (
                    DELETED_FIELD in open_fields
                    or task.deleted
                    or not any(r.service in tracked.deleted_on for r in store.refs_for(task.id))
                ), f"{task.title!r}: deleted on {tracked.deleted_on} but still linked and no conflict"
                if DELETED_FIELD not in open_fields:
                    tracked.gone = True
                continue
            sides: dict[str, Any] = {"local": task}
            for ref in store.refs_for(task.id):
                if ref.service is Service.LOCAL:
                    continue
                found = teammate(self.world, ref.service).get_task(ref.external_id)
                assert found is not None, f"{task.title!r} vanished from {ref.service}"
                assert not found.deleted, f"{task.title!r} is deleted on {ref.service} with no conflict"
                sides[ref.service.value] = found.task
            for name, written in tracked.writes.items():
                if name in open_fields:
                    continue
                last = written[-1]
                for side, holder in sides.items():
                    value = getattr(holder, name)
                    if name == "status" and side == "gitlab" and value is Status.CANCELED:
                        value = Status.DONE
                    assert same_value(name, value, last), (
                        f"{name} of task {tracked.task_id} on {side} is {value!r}; the last write was "
                        f"{last!r} (all writes: {written!r}) and no conflict is open; sides: "
                        f"{ {k: getattr(v, name) for k, v in sides.items()} }; syncs: {self.settle_runs}"
                    )
        self.check_no_duplicates()

    def check_no_duplicates(self) -> None:
        assert self.engine is not None
        for service in (Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION):
            titles = _live_titles(self.template, service)
            for tracked in self.live():
                task = self.local_task(tracked)
                if task.title.startswith("Model title"):
                    assert titles.count(task.title) <= 1, f"{task.title!r} exists twice on {service}"

    @invariant()
    def journal_never_grows_unbounded(self) -> None:
        if self.engine is not None:
            assert len(self.engine.journal.all()) < 50


_EXAMPLES = itertools.count(1)


def _live_titles(template: Template, service: Service) -> list[str]:
    from tests.faults.sides import remote_titles

    return remote_titles(template.sandbox, service.value)


def _run(template: Template, tmp_path: Path, examples: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    for name, value in template.sandbox.env().items():
        monkeypatch.setenv(name, value)

    WriteModel.template = template
    WriteModel.workdir = tmp_path
    WriteModel.checked = 0
    run_state_machine_as_test(
        WriteModel,
        settings=settings(
            max_examples=examples,
            stateful_step_count=12,
            deadline=None,
            derandomize=examples <= BUDGET,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.explicit, Phase.generate]
            if os.environ.get("PMTUI_MODEL_SHRINK") == "0"
            else list(Phase),
        ),
    )
    assert WriteModel.checked > 0, "no example reached a settle: the invariant was never checked"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_model_every_write_is_on_every_side_or_a_conflict(
    template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(template, tmp_path, BUDGET, monkeypatch)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(
    not os.environ.get("PMTUI_MODEL_SLOW"), reason="the long exploration: PMTUI_MODEL_SLOW=1 runs it"
)
def test_model_explores_further(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(template, tmp_path, max(BUDGET, 40), monkeypatch)


def _machine(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteModel:
    for name, value in template.sandbox.env().items():
        monkeypatch.setenv(name, value)
    WriteModel.template = template
    WriteModel.workdir = tmp_path
    machine = WriteModel()
    machine.fresh_world()
    return machine


def test_found_a_queued_edit_dropped_by_a_teammates_edit_of_another_field(
    template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept from the model (it finds this in its first examples with 0.1's merge base): an edit made
    offline and a teammate's change of another field of the same GitLab issue, then syncs; the edit
    was dropped (the cache showed it, GitLab never got it, no conflict)."""
    machine = _machine(template, tmp_path, monkeypatch)
    try:
        tracked = next(t for t in machine.tracked if t.services == (Service.GITLAB,))
        machine.write_locally(tracked, "title", "Model title 1", "offline")
        machine.write_remotely(tracked, Service.GITLAB, "priority", Priority.HIGH)
        machine.settle_and_check()
    finally:
        machine.teardown()


def test_found_concurrent_edits_of_one_field_on_a_shared_task_end_in_a_conflict(
    template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A direct rename while a teammate renamed the Motion copy of a Linear issue: a conflict, then
    resolving it either way puts the chosen title on both services."""
    machine = _machine(template, tmp_path, monkeypatch)
    try:
        shared = next(t for t in machine.tracked if len(t.services) == 2)
        machine.write_remotely(shared, Service.MOTION, "title", "Model title 1")
        machine.write_locally(shared, "title", "Model title 2", "direct")
        machine.settle_and_check()
        assert machine.engine is not None
        assert [c.field for c in machine.engine.store.conflicts()] == ["title"]
        machine.resolve_conflicts(lambda: "remote")
        machine.settle_and_check()
        assert machine.engine.store.conflicts() == []
    finally:
        machine.teardown()
