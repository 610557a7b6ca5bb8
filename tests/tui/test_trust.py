"""Actions a person can trust (#19): the prompt runs only a confirmed plan, filters put the cursor on the
first match, and moves, bulk actions and deletes ask once before they change anything.

Each test here reproduces a defect found by hand and failed on the code before the fix.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, Static

from pmtui.models import Service, Status
from pmtui.screens.agent_prompt import AgentPrompt
from pmtui.screens.board import BoardScreen
from pmtui.screens.modals import ConfirmModal
from pmtui.screens.task_detail import TaskDetailScreen
from pmtui.widgets.task_table import TaskTable
from tests.tui.conftest import SMALL, World, settle, type_text


async def _plan(pilot: Any, text: str) -> AgentPrompt:
    await settle(pilot)
    await pilot.press("colon")
    await pilot.pause()
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)
    prompt = pilot.app.screen
    assert isinstance(prompt, AgentPrompt)
    assert prompt.state == "planned"
    return prompt


@pytest.mark.slow
async def test_typing_after_a_plan_goes_into_the_request_and_runs_nothing(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        prompt = await _plan(pilot, "task Buy coffee beans")
        field = prompt.query_one("#agent-input", Input)
        assert field.has_focus  # the input keeps the focus once the plan is shown
        await type_text(pilot, " task Buy")  # a `y` in here used to run the shown plan
        await settle(pilot)
        assert prompt.state == "idle"
        assert field.value == "task Buy coffee beans task Buy"
    assert "Buy coffee beans" not in world.motion_names()
    assert not world.engine.store.find_tasks("Buy coffee beans")


@pytest.mark.slow
async def test_enter_after_editing_plans_again_and_never_runs_the_old_plan(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        prompt = await _plan(pilot, "task Buy coffee beans")
        await pilot.press("ctrl+u")  # clear the line
        await type_text(pilot, "task Buy tea")
        await pilot.press("enter")
        await settle(pilot)
        assert prompt.state == "planned"
        assert "Buy tea" in prompt.shown
        await pilot.press("enter")  # enter on an unchanged plan does not run it either
        await settle(pilot)
        assert prompt.state == "planned"
        await pilot.press("ctrl+y")
        await settle(pilot, rounds=4)
        assert prompt.state == "done"
    assert [t.title for t in world.engine.store.find_tasks("Buy tea")] == ["Buy tea"]
    assert not world.engine.store.find_tasks("Buy coffee beans")


@pytest.mark.slow
async def test_escape_drops_the_plan_and_the_run_button_runs_it(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        prompt = await _plan(pilot, "task Buy coffee beans")
        await pilot.press("escape")
        await pilot.pause()
        assert prompt.state == "idle"
        assert "Not run" in prompt.shown
        assert app.screen is prompt  # the first escape drops the plan, the prompt stays open
        await pilot.press("enter")
        await settle(pilot)
        assert prompt.state == "planned"
        await pilot.click("#agent-run")
        await settle(pilot, rounds=4)
        assert prompt.state == "done"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AgentPrompt)
    assert [t.title for t in world.engine.store.find_tasks("Buy coffee beans")] == ["Buy coffee beans"]


@pytest.mark.slow
async def test_a_new_filter_puts_the_cursor_on_the_first_match(world: World) -> None:
    """The cursor used to keep its row number, so Enter opened the second match, not the first."""
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        table = screen.query_one("#board-table", TaskTable)
        await pilot.press("down", "down")
        assert table.cursor == 2
        await pilot.press("slash")
        await type_text(pilot, "dark mode")
        await pilot.press("enter")
        await settle(pilot)
        assert len(screen.rows) >= 2
        assert table.cursor == 0
        first = screen.rows.row(0)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TaskDetailScreen)
        assert detail.task_id == first.id
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("down")
        await pilot.press("slash", "backspace")  # any change of the text goes back to the first match
        await settle(pilot)
        assert table.cursor == 0


async def test_the_filter_field_is_visible_whenever_it_has_focus(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        field = screen.query_one("#board-filter", Input)
        assert not field.display
        assert not field.focusable  # hidden, it can never take keys
        await pilot.press("t")  # kanban
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert field.has_focus
        assert field.display
        await pilot.press("escape")  # empty: hides it and gives the keys back to the kanban
        await pilot.pause()
        assert not field.display
        assert not field.has_focus
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("j")
        await pilot.pause()
        assert field.value == ""
        assert isinstance(app.focused, TaskTable)


async def _board_filtered(pilot: Any, text: str) -> BoardScreen:
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("slash")
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BoardScreen)
    return screen


@pytest.mark.slow
async def test_moving_a_task_to_another_service_says_what_happens_and_waits_for_a_key(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await _board_filtered(pilot, "electr")
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # Motion, Linear, [Notion], GitLab, Local
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        assert confirm.question == (
            "move 'Pay electricity bill' from Motion to Notion: "
            "creates a Notion page, archives the Motion task"
        )
        assert world.service_of(world.task("Pay electricity bill")) is Service.MOTION  # nothing yet
        await pilot.press("n")
        await settle(pilot)
        assert world.service_of(world.task("Pay electricity bill")) is Service.MOTION
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot, rounds=4)
    assert world.service_of(world.task("Pay electricity bill")) is Service.NOTION
    assert "Pay electricity bill" in world.notion_titles()


async def test_a_bulk_action_asks_once_and_names_what_it_does(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await _board_filtered(pilot, "Personal")
        titles = [screen.rows.row(i).title for i in range(2)]
        await pilot.press("space", "space")
        await pilot.press("x")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        assert confirm.question.startswith(f"complete 2 tasks: '{titles[0]}', '{titles[1]}'")
        assert all(world.task(t).status is not Status.DONE for t in titles)
        await pilot.press("y")
        await settle(pilot, rounds=4)
    assert all(world.task(t).status is Status.DONE for t in titles)


@pytest.mark.slow
async def test_x_on_one_row_needs_no_confirmation_and_shift_x_reopens(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await _board_filtered(pilot, "electr")
        await pilot.press("x")
        await settle(pilot)
        assert world.task("Pay electricity bill").status is Status.DONE
        await pilot.press("f")
        await settle(pilot)
        await type_text(pilot, "status: all")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
    assert world.task("Pay electricity bill").status is Status.TODO
    assert world.motion_names()["Pay electricity bill"]["completed"] is False


async def test_delete_asks_first(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await _board_filtered(pilot, "electr")
        await pilot.press("D")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        assert confirm.question.startswith("delete 'Pay electricity bill' on Motion")
        await pilot.press("escape")
        await settle(pilot)
        assert world.engine.store.find_tasks("Pay electricity bill")
        await pilot.press("D")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, rounds=4)
    assert not world.engine.store.find_tasks("Pay electricity bill")
    assert "Pay electricity bill" not in world.motion_names()


@pytest.mark.slow
async def test_u_and_ctrl_z_are_undo_everywhere(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for screen_key in ("1", "2", "3"):
            await pilot.press(screen_key)
            await settle(pilot)
            for key in ("u", "ctrl+z"):
                app.clear_notifications()
                await pilot.press(key)
                await settle(pilot)
                assert [n.message for n in app._notifications] == ["nothing to undo"]
        status = app.screen.query_one("#sync-title", Static)
        assert status is not None


@pytest.mark.slow
async def test_u_undoes_a_completion_made_in_the_app_on_the_service(world: World) -> None:
    """Issue #19: a stray `x` is taken back with `u`, on the service too (not only in the cache)."""
    task = world.task("Pay electricity bill")
    ref = next(r for r in world.engine.store.refs_for(task.id) if r.service is Service.MOTION)
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "electricity")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot, rounds=4)
        motion = world.sandbox.emulator("motion").state["tasks"][ref.external_id]
        assert motion["completed"]
        await pilot.press("u")
        await settle(pilot, rounds=4)
        assert any(n.title == "undone" for n in app._notifications), [n.message for n in app._notifications]
    motion = world.sandbox.emulator("motion").state["tasks"][ref.external_id]
    assert not motion["completed"]
    assert not world.engine.store.get_task(task.id).status.is_closed  # type: ignore[union-attr]
