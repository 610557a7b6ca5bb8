"""How every screen looks, at 80x24 (the smallest terminal we support) and 200x60, with data, empty,
busy and in error.

The app's clock and the sandbox's clock are frozen at the same instant and the sync times in the cache
are pinned (see conftest), so these pictures are the same on every run and every day.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from pmtui.models import JournalEntry, JournalState, Service, SyncRun
from pmtui.sandbox.server import Fault
from pmtui.screens.task_detail import TaskDetailScreen
from tests.tui.conftest import NOW, World, normalise_times, settle, type_text

NARROW = (80, 24)
WIDE = (200, 60)
SIZES = pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])

Steps = Callable[[Any], Awaitable[None]]


def keys(*pressed: str, typed: str = "", after: tuple[str, ...] = ()) -> Steps:
    async def run(pilot: Any) -> None:
        await settle(pilot, rounds=1)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot, rounds=1)
        if typed:
            await type_text(pilot, typed)
        for key in after:
            await pilot.press(key)
            await settle(pilot, rounds=1)
        await settle(pilot, rounds=2)

    return run


@SIZES
def test_briefing(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(), terminal_size=size, run_before=keys())


@SIZES
def test_briefing_empty(empty_world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(empty_world.app(), terminal_size=size, run_before=keys())


@SIZES
def test_board(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(
        world.app(), terminal_size=size, run_before=keys("2", "down", "space", "down", "space")
    )


@SIZES
def test_board_kanban(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("2", "t"))


def test_board_filtered(world: World, snap_compare: Any) -> None:
    assert snap_compare(world.app(), terminal_size=NARROW, run_before=keys("2", "slash", typed="docs"))


@SIZES
def test_board_confirm_move(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(
        world.app(),
        terminal_size=size,
        run_before=keys("2", "slash", typed="electr", after=("enter", "m", "down", "down", "enter")),
    )


@SIZES
def test_board_empty(empty_world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(empty_world.app(), terminal_size=size, run_before=keys("2"))


@SIZES
def test_board_action_queued_when_a_service_is_down(
    world: World, snap_compare: Any, size: tuple[int, int]
) -> None:
    world.no_backoff(Service.MOTION)
    world.sandbox.emulator("motion").add_fault(Fault("error", value=503, count=None))
    assert snap_compare(
        world.app(), terminal_size=size, run_before=keys("2", "slash", typed="electr", after=("enter", "x"))
    )


@SIZES
def test_new_task_form(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("2", "n", typed="Notes #docs"))


@SIZES
def test_task_detail(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    task = world.task("Pay electricity bill")
    app = world.app()

    async def run(pilot: Any) -> None:
        await settle(pilot)
        app.push_screen(TaskDetailScreen(app.backend, task.id))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run)


@SIZES
def test_sync_status(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("3"))


@SIZES
def test_sync_status_busy(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    app = world.app()

    async def run(pilot: Any) -> None:
        await keys("3")(pilot)
        app.sync_busy = "syncing Motion…"
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run)


@SIZES
def test_sync_status_error(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    store = world.engine.store
    store.record_sync_run(
        SyncRun(
            run_id="r-failed",
            service=Service.MOTION,
            started_at=NOW - timedelta(minutes=1),
            finished_at=NOW - timedelta(minutes=1),
            duration_ms=1200,
            status="failed",
            error="Motion answered 503 Service Unavailable (retried 3 times)",
        )
    )
    store.journal_write(
        JournalEntry(
            request_id="req-1",
            service=Service.MOTION,
            op="update_task",
            idempotency_key="k-1",
            state=JournalState.FAILED,
            attempts=3,
            error="Motion answered 503",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("3", "tab", "tab", "right"))


def _conflict(world: World) -> None:
    task = world.task("Pay electricity bill")
    ref = next(r for r in world.engine.store.refs_for(task.id) if r.service is Service.MOTION)
    world.engine.store.upsert_tasks([task.model_copy(update={"title": "Pay the electricity bill today"})])
    world.sandbox.emulator("motion").admin_mutate(
        {
            "op": "update",
            "kind": "task",
            "id": ref.external_id,
            "fields": {"name": "Pay electricity + gas bill"},
        }
    )
    world.later()
    world.engine.sync([Service.MOTION])
    normalise_times(world.engine.store)
    world.engine.store._exec("UPDATE conflicts SET created_at = ?", [NOW])


@SIZES
def test_conflicts(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    _conflict(world)
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("4"))


@SIZES
def test_conflicts_due_date(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    from tests.tui.test_layout import _due_conflict

    _due_conflict(world)
    normalise_times(world.engine.store)
    world.engine.store._exec("UPDATE conflicts SET created_at = ?", [NOW])
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("4"))


@SIZES
def test_conflicts_pending_undo(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    _conflict(world)
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("4", "L"))


@SIZES
def test_conflicts_empty(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("4"))


@SIZES
def test_agent_prompt_plan(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(
        world.app(),
        terminal_size=size,
        run_before=keys("colon", typed="task Budget due fri", after=("enter",)),
    )


@SIZES
def test_help(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("2", "question_mark"))


@SIZES
def test_help_on_the_briefing(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(world.app(), terminal_size=size, run_before=keys("question_mark"))
