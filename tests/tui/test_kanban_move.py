"""Moving cards between kanban columns with `[`/`]`: a status move through the orchestrator, and a move
between a followed GitLab board's own lists, both checked on the GitLab emulator's issue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Static

from pmtui.config import load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.models import Service, Status
from pmtui.screens.board import BoardScreen
from pmtui.widgets.kanban import Kanban, KanbanColumn
from tests.tui.conftest import LARGE, Template, World, build_world, settle

PUT = "PUT /api/v4/projects/:id/issues/:issue_iid"


def gitlab_issue(world: World, label: str) -> dict[str, Any]:
    """The first open demo issue with ``label`` (and its record, live in the emulator)."""
    state = world.sandbox.emulator("gitlab").state
    issues = sorted(state["issues"].values(), key=lambda i: i["iid"])
    return next(i for i in issues if i["state"] == "opened" and label in i["labels"])


def puts(world: World) -> int:
    return world.sandbox.emulator("gitlab").request_counts().get(PUT, 0)


def task_id_of(world: World, issue: dict[str, Any]) -> str:
    ref = world.engine.store.ref_by_external(Service.GITLAB, str(issue["iid"]))
    assert ref is not None
    return ref.entity_id


def column_of(screen: BoardScreen, task_id: str) -> KanbanColumn:
    """The kanban column whose table holds ``task_id``."""
    found = [c for c in screen.query_one(Kanban).columns() if task_id in c.table.rows.ids]
    assert len(found) == 1, [c.key for c in found]
    return found[0]


async def put_cursor_on(pilot: Any, screen: BoardScreen, task_id: str) -> KanbanColumn:
    column = column_of(screen, task_id)
    column.table.focus()
    index = column.table.rows.index_of(task_id)
    assert index is not None
    column.table.cursor = index
    await pilot.pause()
    return column


@pytest.fixture
def board_world(template: Template, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The TUI world with ``gitlab.board = "Development"`` followed (same sandbox and synced cache)."""
    built = build_world(template, tmp_path, monkeypatch)
    built.engine.close()
    overrides = {**template.overrides, "gitlab": {**template.overrides["gitlab"], "board": "Development"}}
    settings = load_settings(overrides=overrides)
    engine = Engine(settings, Store(tmp_path / "cache.duckdb"))
    try:
        yield World(built.sandbox, engine, settings, tmp_path)
    finally:
        engine.close()


@pytest.mark.slow
async def test_bracket_moves_a_card_to_the_next_status_column(world: World) -> None:
    issue = gitlab_issue(world, "To Do")
    before = set(issue["labels"])
    task_id = task_id_of(world, issue)
    app = world.app()
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        column = await put_cursor_on(pilot, screen, task_id)
        assert column.key == "todo"

        await pilot.press("right_square_bracket")
        await settle(pilot, rounds=3)

        assert column_of(screen, task_id).key == "in_progress"
        assert set(issue["labels"]) ^ before == {"To Do", "Doing"}, "exactly the two stage labels"
        assert puts(world) == 1
        task = world.engine.store.get_task(task_id)
        assert task is not None
        assert task.status is Status.IN_PROGRESS

        await pilot.press("shift+left")
        await settle(pilot, rounds=3)
        assert column_of(screen, task_id).key == "todo"
        assert "Doing" not in issue["labels"]


@pytest.mark.slow
async def test_a_gitlab_filtered_kanban_shows_the_boards_lists_and_moves_between_them(
    board_world: World,
) -> None:
    world = board_world
    issue = gitlab_issue(world, "Doing")
    before = set(issue["labels"])
    task_id = task_id_of(world, issue)
    app = world.app()
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        screen.filter = screen.filter.with_(service="gitlab")
        screen.reload()
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot, rounds=3)

        kanban = screen.query_one(Kanban)
        titles = [str(c.query_one(".kanban-column--title", Static).render()) for c in kanban.columns()]
        assert [t.split(" (")[0] for t in titles] == ["Open", "To Do", "Doing", "Review", "Closed"]
        column = await put_cursor_on(pilot, screen, task_id)
        assert column.title_text == "Doing"

        await pilot.press("right_square_bracket")
        await settle(pilot, rounds=3)

        assert column_of(screen, task_id).title_text == "Review"
        assert set(issue["labels"]) ^ before == {"Doing", "Review"}
        assert puts(world) == 1, "one edit: the status (in progress) does not change"
        task = world.engine.store.get_task(task_id)
        assert task is not None
        assert task.status is Status.IN_PROGRESS

        await pilot.press("right_square_bracket")
        await settle(pilot, rounds=3)
        assert issue["state"] == "closed"
        assert "Review" not in issue["labels"], "GitLab's Closed column drops the list label"
        assert all(task_id not in c.table.rows.ids for c in kanban.columns()), "done is filtered out"
        task = world.engine.store.get_task(task_id)
        assert task is not None
        assert task.status is Status.DONE, "a move across statuses reaches the cache through the orchestrator"
