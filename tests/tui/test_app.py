"""The app shell: number keys, the agent prompt keys, help, the command palette, keymap, themes, errors."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest
from textual.widgets import DataTable

from pmtui.app import PmtuiApp, _screen_class
from pmtui.screens.agent_prompt import AgentPrompt
from pmtui.screens.board import BoardScreen
from pmtui.screens.briefing import BriefingScreen
from pmtui.screens.conflicts import ConflictsScreen
from pmtui.screens.modals import HelpScreen
from pmtui.screens.sync_status import SyncStatusScreen
from tests.tui.conftest import SMALL, World, quiesce, settle


@pytest.mark.slow
async def test_number_keys_switch_screens(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BriefingScreen)
        for key, screen_type in (
            ("2", BoardScreen),
            ("3", SyncStatusScreen),
            ("4", ConflictsScreen),
            ("1", BriefingScreen),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen_type), key
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, AgentPrompt)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert isinstance(app.screen, AgentPrompt)
        await pilot.press("escape")
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, AgentPrompt)


async def test_help_lists_the_screen_bindings_with_ids(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        ids = {table.get_row_at(i)[2] for i in range(table.row_count)}
        assert {"board.complete", "board.new", "board.filter", "app.help", "app.board"} <= ids
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_keymap_rebinds_by_id(world: World) -> None:
    world.settings.ui.keymap = {"app.board": "w", "board.new": "a"}
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("a")
        await pilot.pause()
        assert type(app.screen).__name__ == "TaskForm"


async def test_command_palette_lists_screens_and_actions(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Go to Board" in titles
        assert "Board: Done" in titles
        assert "Ask pmtui" in titles


async def _first_visits(app: PmtuiApp, theme_change: str | None) -> tuple[list[str], int]:
    """Visit every screen for the first time (``theme_change`` applied after the board); the pictures of
    each first frame and how many times the whole stylesheet was parsed again meanwhile."""
    pictures: list[str] = []
    reparses = 0
    async with app.run_test(size=SMALL) as pilot:
        await quiesce(pilot)
        original = app.stylesheet.reparse

        def counted() -> None:
            nonlocal reparses
            reparses += 1
            original()

        app.stylesheet.reparse = counted  # type: ignore[method-assign]
        pictures.append(app.export_screenshot())
        for key in "234":
            await pilot.press(key)
            await quiesce(pilot)
            pictures.append(app.export_screenshot())
            if key == "2" and theme_change:
                app.theme = theme_change
                await quiesce(pilot)
                reparses -= 1  # the theme change's own pass, which Textual must make
    return pictures, reparses


@pytest.mark.parametrize(("theme", "theme_change"), [("textual-dark", None), ("nord", "gruvbox")])
async def test_a_first_visit_draws_as_textual_would_without_restyling_the_app(
    world: World, monkeypatch: pytest.MonkeyPatch, theme: str, theme_change: str | None
) -> None:
    world.settings.ui.theme = theme
    pictures, reparses = await _first_visits(world.app(), theme_change)
    assert reparses == 0
    # Textual's own way: each new mode screen restyles the whole app (what the app skips).
    monkeypatch.setattr(PmtuiApp, "_mode_screen", lambda self, path, backend: _screen_class(path)(backend))
    expected, textual_reparses = await _first_visits(world.app(), theme_change)
    assert textual_reparses >= 3
    assert pictures == expected
    if theme_change:
        assert pictures[2] != pictures[1]  # the theme did change the picture


async def test_the_app_collects_garbage_only_at_rest_and_gives_it_all_back_at_exit(world: World) -> None:
    app = world.app()
    now = [1000.0]
    app._collector._clock = lambda: now[0]  # rest is measured on this clock: only the test moves it
    app._collector.touched()
    collected: list[float] = []
    tick = app._collector.tick

    def counted() -> bool:
        done = tick()
        if done:
            collected.append(now[0])
        return done

    app._collector.tick = counted  # type: ignore[method-assign]  # before mount: the app's timer calls it

    async def collected_within(seconds: float) -> bool:
        """Whether the app's once-a-second check collected within ``seconds`` of real time."""
        for _ in range(int(seconds * 10)):
            if collected:
                return True
            await pilot.pause(0.1)
        return bool(collected)

    async with app.run_test(size=SMALL) as pilot:
        await quiesce(pilot)
        now[0] += 1.5
        await pilot.press("2")  # 1.5 s after the last input: the rest starts again here
        await quiesce(pilot)
        # The board's rows are frozen as they arrive, with no collection (no pause).
        assert isinstance(app.screen, BoardScreen)
        assert gc.get_freeze_count() > 10_000
        now[0] += 1.5  # 3 s since the first input, 1.5 s since the key: typing, not rest
        assert not await collected_within(1.5)
        now[0] += 1.0  # 2.5 s since the key: at rest
        assert await collected_within(10)
        assert gc.get_freeze_count() > 10_000
        await pilot.press("3")
        await quiesce(pilot)
        assert isinstance(app.screen, SyncStatusScreen)
    assert gc.get_freeze_count() == 0


async def test_unknown_theme_is_a_warning_not_a_crash(world: World) -> None:
    world.settings.ui.theme = "no-such-theme"
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert any("unknown theme" in n.message for n in app._notifications)


def test_starting_the_app_imports_no_client_library() -> None:
    code = (
        "import sys, pmtui.app, pmtui.screens.board, pmtui.screens.briefing, pmtui.screens.task_detail, "
        "pmtui.screens.sync_status, pmtui.screens.conflicts, pmtui.screens.agent_prompt; "
        "print(sorted(m for m in ('litellm', 'gql', 'gitlab', 'notion_client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
