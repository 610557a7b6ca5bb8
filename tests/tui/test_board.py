"""The task board driven by keyboard only: create, complete, bulk move, filter, kanban, errors as toasts."""

from __future__ import annotations

from typing import Any

import pytest
from textual.message import Message
from textual.widgets import Input, Static

from pmtui.models import Service, Status
from pmtui.sandbox.server import Fault
from pmtui.screens.board import BoardScreen
from pmtui.screens.task_detail import TaskDetailScreen
from pmtui.screens.task_form import TaskForm
from pmtui.widgets.task_table import TaskTable
from tests.tui.conftest import SMALL, World, settle, type_text


def board(app: Any) -> BoardScreen:
    assert isinstance(app.screen, BoardScreen)
    return app.screen


async def open_board(pilot: Any, filter_text: str | None = None) -> BoardScreen:
    await pilot.press("2")
    await settle(pilot)
    if filter_text is not None:
        await pilot.press("slash")
        await type_text(pilot, filter_text)
        await pilot.press("enter")
        await settle(pilot)
    return board(pilot.app)


async def test_filter_as_you_type_and_sort(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_board(pilot, "docs")
        rows = [screen.rows.row(i) for i in range(len(screen.rows))]
        titles = [row.title for row in rows]
        assert titles
        assert all(
            "docs" in row.title.lower() or "docs" in row.labels or "docs" in (row.project or "").lower()
            for row in rows
        )
        await pilot.press("o")
        await settle(pilot)
        assert screen.filter.sort == "priority"
        await pilot.press("escape")  # clears the filter text
        await settle(pilot)
        assert screen.filter.text == ""
        assert len(screen.rows) > len(titles)


async def test_create_a_task_from_the_board_lands_in_its_service(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await open_board(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TaskForm)
        await type_text(pilot, "Book venue")
        await pilot.press("tab")
        await type_text(pilot, "fri")
        await settle(pilot)
        route = app.screen.query_one("#f-route", Static)
        assert "Motion" in str(route.render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
    assert "Book venue" in world.motion_names()
    task = world.task("Book venue")
    assert world.service_of(task) is Service.MOTION


@pytest.mark.slow
async def test_form_validation_keeps_the_form_open(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await open_board(pilot)
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "Something")
        await pilot.press("tab")
        await type_text(pilot, "blorp")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TaskForm)
        assert "due:" in str(app.screen.query_one("#f-error", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
    assert world.sandbox.request_counts()["motion"]["total"] == 0


@pytest.mark.slow
async def test_complete_a_task(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await open_board(pilot, "electr")
        assert len(board(app).rows) == 1
        await pilot.press("x")
        await settle(pilot)
    task = world.task("Pay electricity bill")
    assert task.status is Status.DONE
    assert world.motion_names()["Pay electricity bill"]["completed"] is True


@pytest.mark.slow
async def test_bulk_move_three_tasks_to_notion(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_board(pilot, "Personal")
        assert len(screen.rows) == 4
        moved = [screen.rows.row(i).title for i in range(3)]
        await pilot.press("space", "space", "space")
        table = screen.query_one("#board-table", TaskTable)
        assert len(table.selected) == 3
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # Motion, Linear, [Notion], GitLab, Local
        await settle(pilot)
        await pilot.press("y")  # more than one task: confirm once
        await settle(pilot, rounds=4)
        assert not table.selected
    notion = world.notion_titles()
    for title in moved:
        assert title in notion
        assert world.service_of(world.task(title)) is Service.NOTION


async def test_kanban_columns_by_status(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_board(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert screen.kanban
        titles = {
            c.id: str(c.query_one(".kanban-column--title", Static).render())
            for c in screen.query("KanbanColumn")
        }
        assert titles["kanban-todo"].startswith("To do (")
        await pilot.press("l")
        assert screen.query_one("#kanban-in_progress TaskTable", TaskTable).has_focus
        await pilot.press("t")
        await pilot.pause()
        assert not screen.kanban


@pytest.mark.slow
async def test_enter_opens_the_task_detail(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await open_board(pilot, "electr")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TaskDetailScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_a_service_down_queues_the_action_with_a_warning(world: World) -> None:
    world.no_backoff(Service.MOTION)
    world.sandbox.emulator("motion").add_fault(Fault("error", value=503, count=None))
    messages: list[Message] = []
    app = world.app()
    async with app.run_test(size=SMALL, message_hook=messages.append) as pilot:
        await open_board(pilot, "electr")
        await pilot.press("x")
        await settle(pilot, rounds=5)
        assert app.is_running
        done = [m for m in messages if isinstance(m, BoardScreen.ActionsDone)]
        assert done
        warnings = [n for n in app._notifications if n.severity in ("warning", "error")]
        assert warnings, [n.message for n in app._notifications]
        assert "Traceback" not in warnings[0].message


async def test_filter_input_does_not_trigger_screen_keys(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_board(pilot)
        await pilot.press("slash")
        await type_text(pilot, "x2n")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert screen.query_one("#board-filter", Input).value == "x2n"
