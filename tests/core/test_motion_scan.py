"""Motion's full scan spread over syncs, through the real client against the Motion emulator, its rate
limit on (12 requests in each 60 s window of the emulator's clock).

Each sync gets a Motion integration whose limiter and retry sleep run on a fake clock that also moves the
emulator's clock, so a round paced at 12 requests a minute takes no real time and a request the
emulator would refuse shows up as a 429 in the recorded answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pmtui.config import Settings, load_settings
from pmtui.core.engine import Engine
from pmtui.core.scan import SCAN_RESOURCE, ScanState, scan_progress
from pmtui.core.store import Store
from pmtui.integrations.limits import Lane, RateLimiter
from pmtui.integrations.motion import PAGE_SIZE, MotionIntegration
from pmtui.models import Plan, Service, SyncRun, Task, TaskChanges, UpdateTask
from pmtui.sandbox.motion import MotionEmulator
from pmtui.sandbox.runner import Sandbox, start_sandbox

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PER_MINUTE = 12
PAGES_PER_ROUND = 2
"""The budget share under test: 2 of Motion's 12 requests a minute go to the scan in each sync."""


class FakeTime:
    """The limiter's clock and sleep; sleeping moves the emulator's clock too (its windows roll over)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.now = 1000.0
        self.sandbox = sandbox

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sandbox.clock.advance(seconds)


class RecordingLimiter(RateLimiter):
    """A real limiter that also notes the lane of every request it lets through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lanes: list[Lane] = []

    def acquire(self, lane: Lane = Lane.BACKGROUND) -> float:
        self.lanes.append(lane)
        return super().acquire(lane)


@dataclass
class Scan:
    sandbox: Sandbox
    engine: Engine
    fake: FakeTime
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    """Every request of the Motion client, in order: method, path, status."""

    @property
    def emu(self) -> MotionEmulator:
        emulator = self.sandbox.emulator("motion")
        assert isinstance(emulator, MotionEmulator)
        return emulator

    @property
    def limiter(self) -> RecordingLimiter:
        integration = self.engine.integration(Service.MOTION)
        assert isinstance(integration, MotionIntegration)
        assert isinstance(integration.limiter, RecordingLimiter)
        return integration.limiter

    def round(self) -> SyncRun:
        """One sync of Motion, its requests recorded from a clean list."""
        self.calls.clear()
        self.fake.sleep(300)  # the sync interval: the emulator's window is fresh again
        (run,) = self.engine.sync([Service.MOTION])
        assert run.status == "ok", run.error
        return run

    def state(self) -> ScanState:
        return ScanState.parse(self.engine.store.get_cursor(Service.MOTION, SCAN_RESOURCE))

    def complete_pass(self) -> int:
        """Sync until a pass completes; the number of syncs it took."""
        passes = self.state().passes
        for rounds in range(1, 50):
            self.round()
            if self.state().passes > passes:
                return rounds
        raise AssertionError("the pass never completed")

    def lists(self) -> int:
        return sum(1 for method, path, _status in self.calls if (method, path) == ("GET", "/v1/tasks"))

    def unresolved(self) -> list[str]:
        """Unresolved task ids of the workspace, in the listing's (creation) order."""
        emu = self.emu
        ws = emu.config_hints()["workspace_id"]
        with emu.lock:
            resolved = {
                (w["id"], s["name"])
                for w in emu.state["workspaces"].values()
                for s in w.get("statuses", [])
                if s.get("isResolvedStatus")
            }
            tasks = [emu.state["tasks"][t] for t in emu.state["task_order"]]
        return [t["id"] for t in tasks if t["workspaceId"] == ws and (ws, t["status"]) not in resolved]

    def local(self, external_id: str) -> Task | None:
        ref = self.engine.store.ref_by_external(Service.MOTION, external_id)
        return None if ref is None else self.engine.store.get_task(ref.entity_id)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(seed="demo", services=("motion",), rate_limits=True) as running:
        yield running


def motion_settings(sandbox: Sandbox, share: float) -> Settings:
    overrides = sandbox.settings_dict()
    overrides["motion"].update(requests_per_minute=PER_MINUTE, scan_share=share)
    return load_settings(overrides=overrides)


@pytest.fixture
def scan(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scan]:
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PMTUI_NO_KEYRING", "1")
    sandbox.clock.set(NOW, frozen=True)
    emu = sandbox.emulator("motion")
    emu.reset_state()
    emu.clear_faults()
    emu.seed({"kind": "bulk", "n": 340, "changed_share": 0.0})
    emu.reset_counts()
    settings = motion_settings(sandbox, PAGES_PER_ROUND / PER_MINUTE)
    fake = FakeTime(sandbox)
    with Engine(settings, Store(tmp_path / "cache.duckdb")) as engine:
        built = Scan(sandbox, engine, fake)

        def note(response: httpx.Response) -> None:
            built.calls.append((response.request.method, response.request.url.path, response.status_code))

        client = httpx.Client(
            base_url=settings.motion.base_url,
            headers={"X-API-Key": sandbox.api_key("motion")},
            event_hooks={"response": [note]},
        )
        limiter = RecordingLimiter(PER_MINUTE, clock=fake.clock, sleep=fake.sleep)
        engine._integrations[Service.MOTION] = MotionIntegration(
            settings.motion, sandbox.api_key("motion"), client=client, limiter=limiter, retry_sleep=fake.sleep
        )
        yield built
        client.close()


def test_a_pass_larger_than_one_rounds_budget_takes_ceil_pages_over_budget_syncs(scan: Scan) -> None:
    unresolved = scan.unresolved()
    pages = math.ceil(len(unresolved) / PAGE_SIZE)
    assert pages > PAGES_PER_ROUND  # the workspace does not fit one sync's share

    first = scan.complete_pass()

    assert first == math.ceil(pages / PAGES_PER_ROUND)
    refs = scan.engine.store.refs_for_service(Service.MOTION)
    assert {r.external_id for r in refs} == set(unresolved)
    assert scan.state().last_pass_pages == pages
    # A quiet pass: the same number of syncs, never more list requests a sync than the share, no 429.
    listed = []
    for _ in range(first):
        run = scan.round()
        listed.append(scan.lists())
        assert all(status == 200 for _m, _p, status in scan.calls)
        assert run.pulled == 0
    assert max(listed) <= PAGES_PER_ROUND
    assert sum(listed) == pages
    assert scan.state().passes == 2


def test_a_task_deleted_remotely_is_concluded_gone_only_when_the_pass_completes(scan: Scan) -> None:
    scan.complete_pass()
    first_page = scan.unresolved()[:PAGE_SIZE]
    victim = first_page[3]
    scan.emu.admin_mutate({"op": "delete", "kind": "task", "id": victim})

    scan.round()  # reads pages 1-2 of the next pass: the victim is missing from them, the pass is not done
    assert scan.state().pages == PAGES_PER_ROUND
    assert not any(path.endswith(victim) for _m, path, _s in scan.calls)  # not even looked up yet
    kept = scan.local(victim)
    assert kept is not None
    assert not kept.deleted

    while scan.state().pages:  # the rest of the pass
        before = scan.state().passes
        scan.round()
        if scan.state().passes == before:
            kept = scan.local(victim)
            assert kept is not None
            assert not kept.deleted

    gone = scan.local(victim)
    assert gone is None or gone.deleted
    survivor = scan.local(first_page[4])
    assert survivor is not None
    assert not survivor.deleted


def test_a_waiting_edit_is_pushed_first_in_a_round_of_a_partial_scan_without_losing_a_remote_change(
    scan: Scan,
) -> None:
    scan.complete_pass()
    scan.round()  # the next pass is under way: its first pages are read
    assert scan.state().resume is not None
    target = scan.unresolved()[-1]  # on the last page: no round of this pass has read it yet
    task = scan.local(target)
    assert task is not None
    # Motion changed the priority meanwhile; here the title changed and waits in the outbox (as a change
    # another service brought in, or an edit made while Motion did not answer, would).
    scan.emu.admin_mutate({"op": "update", "kind": "task", "id": target, "fields": {"priority": "ASAP"}})
    store = scan.engine.store
    with store.transaction():
        store.upsert_tasks([task.model_copy(update={"title": "Edited during the scan", "updated_at": NOW})])
        store.outbox_mark(Service.MOTION, task.id)

    run = scan.round()

    assert run.pushed == 1
    patched = [i for i, (m, p, _s) in enumerate(scan.calls) if m == "PATCH" and p.endswith(target)]
    listings = [i for i, (m, p, _s) in enumerate(scan.calls) if (m, p) == ("GET", "/v1/tasks")]
    assert patched
    assert listings
    assert patched[0] < listings[0]
    remote = scan.emu.state["tasks"][target]
    assert remote["name"] == "Edited during the scan"
    assert remote["priority"] == "ASAP"  # read fresh and merged, not overwritten from a stale base
    assert store.outbox_entries(Service.MOTION, op="push") == []
    assert scan.state().pages == 2 * PAGES_PER_ROUND  # and the scan still went on


def test_a_users_write_never_queues_behind_the_scan_in_the_limiter(scan: Scan) -> None:
    scan.complete_pass()
    task = scan.local(scan.unresolved()[0])
    assert task is not None
    scan.limiter.lanes.clear()

    outcome = scan.engine.execute(
        Plan(actions=[UpdateTask(task=task.id, changes=TaskChanges(title="Renamed by the person"))])
    )

    assert outcome.ok, outcome

    # The read-back and the write both go in the user's lane, which background reads yield to.
    assert scan.limiter.lanes
    assert set(scan.limiter.lanes) == {Lane.USER}
    assert scan.emu.state["tasks"][scan.unresolved()[0]]["name"] == "Renamed by the person"
    # Opening the task reads its comments the same way.
    scan.limiter.lanes.clear()
    scan.engine.refresh_comments(task.id)
    assert scan.limiter.lanes
    assert set(scan.limiter.lanes) == {Lane.USER}


def test_progress_line_says_how_far_the_pass_is_and_when_it_completes(scan: Scan) -> None:
    settings = scan.engine.settings
    assert scan_progress(scan.engine.store, settings) is None  # no scan yet
    rounds = scan.complete_pass()
    pages = scan.state().last_pass_pages
    assert pages is not None
    scan.round()

    progress = scan_progress(scan.engine.store, settings)

    assert progress is not None
    left = rounds - 1
    minutes = round(left * settings.sync.interval_seconds / 60)
    assert progress.line() == (
        f"Motion: full scan {PAGES_PER_ROUND} of {pages} pages, complete in ~{minutes} min "
        f"({left} more sync{'s' if left != 1 else ''}, {PAGES_PER_ROUND} pages each at 12 req/min)"
    )


def test_a_workspace_within_one_rounds_budget_keeps_the_one_sync_pass(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    sandbox.clock.set(NOW, frozen=True)
    emu = sandbox.emulator("motion")
    emu.reset_state()
    emu.seed({"kind": "bulk", "n": 120, "changed_share": 0.0})
    settings = motion_settings(sandbox, 0.5)  # 6 pages a sync: 120 tasks fit in one
    fake = FakeTime(sandbox)
    with Engine(settings, Store(tmp_path / "cache.duckdb")) as engine:
        limiter = RateLimiter(PER_MINUTE, clock=fake.clock, sleep=fake.sleep)
        engine._integrations[Service.MOTION] = MotionIntegration(
            settings.motion, sandbox.api_key("motion"), limiter=limiter, retry_sleep=fake.sleep
        )
        (run,) = engine.sync([Service.MOTION])
        assert run.status == "ok", run.error
        state = ScanState.parse(engine.store.get_cursor(Service.MOTION, SCAN_RESOURCE))
        assert state.passes == 1
        assert state.resume is None
        assert state.pages == 0
        progress = scan_progress(engine.store, settings)
        assert progress is not None
        assert progress.line() == "Motion: full scan complete (3 pages, read in one sync at 12 req/min)"


def test_a_resume_position_motion_refuses_restarts_the_pass_instead_of_failing(scan: Scan) -> None:
    scan.complete_pass()
    stale = ScanState(resume="not-a-cursor-motion-knows", pages=2, last_pass_pages=7, passes=1)
    scan.engine.store.set_cursor(Service.MOTION, SCAN_RESOURCE, stale.dump())
    scan.engine.store.scan_seen_add(Service.MOTION, ["gone"])

    scan.round()

    assert ("GET", "/v1/tasks", 400) in scan.calls  # Motion refused the old position once
    state = scan.state()
    assert state.pages == PAGES_PER_ROUND  # a new pass, from the first page
    assert "gone" not in scan.engine.store.scan_seen_ids(Service.MOTION)
    assert state.last_pass_pages == 7
    assert state.passes == 1


@pytest.mark.parametrize("stored", ["{not json", '{"pages": "many"}', "[]", ""])
def test_an_unreadable_scan_state_starts_a_new_pass(stored: str) -> None:
    assert ScanState.parse(stored) == ScanState()


def test_the_scan_state_does_not_grow_with_the_pass(scan: Scan) -> None:
    """Each page used to rewrite every id the pass had listed into the cursor row: a pass's writes grew
    with the square of its length. The row now holds a few numbers and a position, page after page."""
    sizes = []
    for _ in range(3):
        scan.round()
        text = scan.engine.store.get_cursor(Service.MOTION, SCAN_RESOURCE)
        assert text is not None
        sizes.append(len(text))

    assert scan.state().pages == 3 * PAGES_PER_ROUND  # still one pass, 6 pages in
    assert max(sizes) < 400, sizes
    listed = scan.engine.store.scan_seen_ids(Service.MOTION)
    assert listed == set(scan.unresolved()[: 3 * PAGES_PER_ROUND * PAGE_SIZE])


def test_a_pass_begun_by_an_older_pmtui_keeps_what_it_listed(scan: Scan) -> None:
    """A state written with its ids inline (before the ``scan_seen`` table) goes on from where it was:
    the ids it had listed count for the pass, so completing it looks up nothing that is still there."""
    scan.complete_pass()
    unresolved = scan.unresolved()
    first_pages = unresolved[: PAGES_PER_ROUND * PAGE_SIZE]
    scan.round()  # the next pass reads its first pages; now write that state the old way
    state = scan.state()
    legacy = json.loads(state.dump()) | {"seen": first_pages}
    scan.engine.store.scan_seen_clear(Service.MOTION)
    scan.engine.store.set_cursor(Service.MOTION, SCAN_RESOURCE, json.dumps(legacy))

    lookups = []
    passes = state.passes
    while scan.state().passes == passes:
        scan.round()
        lookups += [p for method, p, _s in scan.calls if method == "GET" and p.startswith("/v1/tasks/")]

    assert lookups == []  # no task of the first pages was taken for missing
    assert {r.external_id for r in scan.engine.store.refs_for_service(Service.MOTION)} == set(unresolved)
