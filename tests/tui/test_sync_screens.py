"""Sync status and conflict resolution screens against the real sync engine and the sandbox."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from textual.message import Message
from textual.widgets import DataTable

from pmtui.models import Service
from pmtui.sandbox.server import Fault
from pmtui.screens import conflicts as conflicts_module
from pmtui.screens.conflicts import ConflictsScreen
from pmtui.screens.sync_status import SyncStatusScreen
from tests.tui.conftest import SMALL, World, settle, type_text
from walkthroughs.replay import screen_text

ScreenT = TypeVar("ScreenT")


def make_title_conflict(world: World, title: str, local: str, remote: str) -> None:
    """Edit the title in the cache (an offline edit, not pushed yet) and in Motion, then sync Motion."""
    task = world.task(title)
    ref = next(r for r in world.engine.store.refs_for(task.id) if r.service is Service.MOTION)
    world.engine.store.upsert_tasks([task.model_copy(update={"title": local})])
    world.sandbox.emulator("motion").admin_mutate(
        {"op": "update", "kind": "task", "id": ref.external_id, "fields": {"name": remote}}
    )
    world.later()
    world.engine.sync([Service.MOTION])


async def open_screen(pilot: Any, key: str, kind: type[ScreenT]) -> ScreenT:
    """Press ``key`` and let the screen load: the screen it opened, which must be a ``kind``."""
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


async def open_sync(pilot: Any) -> SyncStatusScreen:
    return await open_screen(pilot, "3", SyncStatusScreen)


async def open_conflicts(pilot: Any) -> ConflictsScreen:
    return await open_screen(pilot, "4", ConflictsScreen)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("L",), "Mine"),
        (("R",), "Theirs"),
    ],
)
async def test_resolve_a_title_conflict_each_way(world: World, keys: tuple[str, ...], expected: str) -> None:
    make_title_conflict(world, "Pay electricity bill", "Mine", "Theirs")
    assert len(world.engine.store.conflicts()) == 1
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_conflicts(pilot)
        assert [i.field for i in screen.items] == ["title"]
        await pilot.press(*keys)
        assert screen.pending is not None  # waiting for its undo window
        await pilot.press("j")  # the next key applies it
        await settle(pilot)
        assert screen.items == []
    assert world.engine.store.conflicts() == []
    assert expected in world.motion_names()
    assert world.task(expected).title == expected


@pytest.mark.slow
async def test_resolve_with_an_edited_merged_value(world: World) -> None:
    make_title_conflict(world, "Pay electricity bill", "Mine", "Theirs")
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await open_conflicts(pilot)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("ctrl+u")  # clear the prefilled local value
        await type_text(pilot, "Pay the bill")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("j")
        await settle(pilot)
    assert world.engine.store.conflicts() == []
    assert "Pay the bill" in world.motion_names()


async def test_undo_takes_a_resolution_back_before_it_is_sent(world: World) -> None:
    make_title_conflict(world, "Pay electricity bill", "Mine", "Theirs")
    world.sandbox.reset_counts()
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_conflicts(pilot)
        await pilot.press("L")
        await pilot.press("u")
        assert screen.pending is None
        await pilot.press("j")
        await settle(pilot)
    assert len(world.engine.store.conflicts()) == 1
    writes = {
        k: v for k, v in world.sandbox.emulator("motion").request_counts().items() if k.startswith("PATCH")
    }
    assert writes == {}


async def test_a_resolution_applies_by_itself_after_the_window(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conflicts_module, "UNDO_SECONDS", 0.2)
    make_title_conflict(world, "Pay electricity bill", "Mine", "Theirs")
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await open_conflicts(pilot)
        await pilot.press("R")
        await pilot.pause(0.5)
        await settle(pilot)
    assert world.engine.store.conflicts() == []


async def test_same_choice_for_every_conflict_of_the_field(world: World) -> None:
    make_title_conflict(world, "Pay electricity bill", "Mine 1", "Theirs 1")
    make_title_conflict(world, "Renew passport", "Mine 2", "Theirs 2")
    assert len(world.engine.store.conflicts()) == 2
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await open_conflicts(pilot)
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("down", "enter")  # take remote
        await pilot.press("j")
        await settle(pilot)
    assert world.engine.store.conflicts() == []
    names = world.motion_names()
    assert "Theirs 1" in names
    assert "Theirs 2" in names


async def test_sync_now_updates_the_status(world: World) -> None:
    app = world.app()
    messages: list[Message] = []
    async with app.run_test(size=SMALL, message_hook=messages.append) as pilot:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncStatusScreen)
        history = screen.query_one("#sync-history", DataTable)
        before = history.row_count
        await pilot.press("S")
        await settle(pilot, rounds=4)
        assert history.row_count == before + 4  # one run per service: Motion, Linear, Notion, GitLab
        await pilot.press("s")  # the selected row: Motion
        await settle(pilot, rounds=4)
        assert history.row_count == before + 5
        assert screen.overview is not None
        assert screen.overview.runs[0].service is Service.MOTION
        assert any(n.title == "sync done" for n in app._notifications)


async def test_a_refilled_table_is_drawn_whole_even_when_a_frame_comes_before_its_idle(world: World) -> None:
    """A frame drawn right after a refill (a busy machine) used to cache the new rows at header width,
    and DataTable's later measurement did not invalidate that cache: the table stayed truncated ("ye",
    "H: che"), which made the sync-status snapshots fail about one run in ten. Each refill now sizes
    its columns to its rows before the first frame."""
    app = world.app()
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_sync(pilot)
        assert screen.overview is not None
        error = "Motion answered 503 Service Unavailable (retried 3 times)"
        failed = screen.overview.runs[0].model_copy(update={"status": "failed", "error": error})
        screen.overview.runs.insert(0, failed)
        screen._draw()
        assert error in screen_text(app)  # the frame before the table's idle
        await settle(pilot)
        assert error in screen_text(app)  # and every frame after it


async def test_a_reload_keeps_each_tables_cursor_where_the_person_left_it(world: World) -> None:
    """A write by any process reloads the screen (within a second); each table used to be rebuilt with
    its cursor back on the first cell and its view scrolled home, under the person reading it."""
    app = world.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sync(pilot)
        services = screen.query_one("#sync-services", DataTable)
        history = screen.query_one("#sync-history", DataTable)
        assert history.row_count >= 4
        await pilot.press("down", "down")
        await pilot.press("tab", "tab")
        assert history.has_focus
        await pilot.press("down", "down", "down", *["right"] * 8)
        await settle(pilot)
        where = (services.cursor_coordinate, history.cursor_coordinate, history.scroll_offset)
        assert history.cursor_coordinate.row == 3
        assert history.scroll_offset.x > 0  # a row cursor: right scrolls the view
        app.bump_data()  # what the app does when another process wrote to the cache
        await settle(pilot)
        assert (services.cursor_coordinate, history.cursor_coordinate, history.scroll_offset) == where


async def test_a_failing_sync_shows_its_error_and_fix(world: World) -> None:
    world.no_backoff(Service.MOTION)
    world.sandbox.emulator("motion").add_fault(Fault("error", value=503, count=None))
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, SyncStatusScreen)
        assert screen.overview is not None
        motion = next(s for s in screen.overview.summary.services if s.service is Service.MOTION)
        assert motion.last_status == "failed"
        assert motion.last_error
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors
        assert errors[0].title == "sync failed"
        assert app.status.services[0].last_status == "failed"


async def test_health_check_on_demand(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, SyncStatusScreen)
        assert set(screen.health) == {Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB}
        assert all(line.ok for line in screen.health.values()), screen.health


async def test_a_change_the_service_refuses_is_listed_with_its_reason(world: World) -> None:
    """Issue #18: a failing push marks that task, visibly, and the status line counts it as waiting."""
    store = world.engine.store
    ref = store.refs_for_service(Service.GITLAB)[0]
    task = store.get_task(ref.entity_id)
    assert task is not None
    store.upsert_tasks([task.model_copy(update={"title": "x" * 300})])  # GitLab refuses over 255
    world.later()
    runs = {run.service: run for run in world.engine.sync([Service.GITLAB])}
    assert runs[Service.GITLAB].status == "ok"
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncStatusScreen)
        assert screen.overview is not None
        waiting = [w for w in screen.overview.waiting if w.service is Service.GITLAB]
        assert [w.title for w in waiting] == ["x" * 300]
        assert waiting[0].error
        table = screen.query_one("#sync-attention", DataTable)
        cells = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert any(c.startswith("not pushed: xxx") for c in cells), cells
        gitlab = next(s for s in app.status.services if s.service is Service.GITLAB)
        assert gitlab.pending == 1
        assert app.status.pending >= 1


async def test_motions_spread_scan_shows_its_progress_and_when_it_completes(world: World) -> None:
    """Issue #22: a Motion pass that takes several syncs says how far it is and when it completes."""
    from pmtui.core.scan import SCAN_RESOURCE, ScanState

    state = ScanState(resume="opaque", pages=3, last_pass_pages=12, passes=4)
    world.engine.store.set_cursor(Service.MOTION, SCAN_RESOURCE, state.dump())
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncStatusScreen)
        assert screen.overview is not None
        assert screen.overview.scan is not None
        per_round = screen.overview.scan.per_round
        detail = str(screen.query_one("#sync-detail").render())
        syncs = -(-9 // per_round)
        assert f"Motion: full scan 3 of 12 pages, complete in ~{syncs * 5} min" in detail
        row = screen.query_one("#sync-services", DataTable).get_row(Service.MOTION.value)
        assert str(row[-1]).startswith("scan 3/12")
        assert "opaque" not in str(row[-1])  # the scan's own state is not a cursor to show
