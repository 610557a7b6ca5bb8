"""Layout at 80 columns (#23): titles keep 40% of the board, kanban columns scroll instead of crushing
titles, and dates read as dates (never ISO timestamps) in the conflict screen and the prompt's answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.console import Console
from textual.widgets import Static

from pmtui.models import Service
from pmtui.screens.agent_prompt import AgentPrompt
from pmtui.screens.board import BoardScreen
from pmtui.screens.conflicts import ConflictsScreen
from pmtui.widgets.kanban import Kanban
from pmtui.widgets.task_table import TaskTable
from tests.tui.conftest import NOW, World, settle, type_text

NARROW = (80, 24)


def _plain(widget: Static) -> str:
    console = Console(width=200, record=True)
    console.print(widget.render())
    return console.export_text()


async def test_titles_get_at_least_40_percent_of_the_board_at_80_columns(world: World) -> None:
    app = world.app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#board-table", TaskTable)
        columns = dict((c.name, w) for c, w in table.columns(table.scrollable_content_region.width))
        assert columns["Title"] >= 0.4 * 80, columns
        assert {"Key", "Due"} <= set(columns)


@pytest.mark.slow
async def test_kanban_columns_scroll_sideways_instead_of_crushing_titles(world: World) -> None:
    app = world.app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("f")  # every status: four columns, 144 cells at least
        await settle(pilot)
        await type_text(pilot, "status: all")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        kanban = screen.query_one(Kanban)
        widths = [column.size.width for column in kanban.columns() if column.display]
        assert len(widths) == 4
        assert all(width >= 28 for width in widths), widths
        assert kanban.max_scroll_x > 0
        table = kanban.tables()[0]
        columns = dict((c.name, w) for c, w in table.columns(table.scrollable_content_region.width))
        assert columns["Title"] >= 20, columns
        await pilot.press("l", "l", "l")
        await settle(pilot)
        assert kanban.scroll_x > 0  # the focused column is brought into view


def _due_conflict(world: World) -> None:
    task = world.task("Pay electricity bill")
    ref = next(r for r in world.engine.store.refs_for(task.id) if r.service is Service.MOTION)
    local_due = NOW + timedelta(days=3, hours=6)  # Fri 27 Nov 15:00 UTC, 16:00 in Berlin
    world.engine.store.upsert_tasks([task.model_copy(update={"due": local_due, "due_all_day": False})])
    world.sandbox.emulator("motion").admin_mutate(
        {"op": "update", "kind": "task", "id": ref.external_id, "fields": {"dueDate": "2026-12-02T16:00:00Z"}}
    )
    world.later()
    world.engine.sync([Service.MOTION])


async def test_a_due_date_conflict_shows_dates_not_timestamps(world: World) -> None:
    _due_conflict(world)
    assert [c.field for c in world.engine.store.conflicts()] == ["due"]
    app = world.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConflictsScreen)
        local = _plain(screen.query_one("#diff-local", Static))
        remote = _plain(screen.query_one("#diff-remote", Static))
        assert "Fri 27 Nov 16:00" in local, local
        assert "Wed 02 Dec 17:00" in remote, remote
        assert "2026-" not in local + remote


@pytest.mark.slow
async def test_the_prompt_answers_with_human_dates(world: World) -> None:
    app = world.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await type_text(pilot, "what is overdue?")
        await pilot.press("enter")
        await settle(pilot, rounds=3)
        prompt = app.screen
        assert isinstance(prompt, AgentPrompt)
        if prompt.state == "planned":
            await pilot.press("ctrl+y")
            await settle(pilot, rounds=3)
        assert prompt.state == "done", prompt.shown
        lines = [line for line in prompt.shown.splitlines() if " due " in line]
        assert lines, prompt.shown
        assert not any("2026-" in line for line in lines), lines
