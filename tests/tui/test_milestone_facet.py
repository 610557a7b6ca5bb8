"""The board's project facet shows each project's progress and outlook ("v1.4 1/13 · at risk").

The TUI sandbox holds GitLab's demo project, whose milestone v1.4 (a pmtui project) is due in six days
with most of its issues open: behind the straight line from its start, so at risk.
"""

from __future__ import annotations

from textual.widgets import Static

from pmtui.screens.board import BoardScreen
from pmtui.screens.modals import ChoiceModal
from tests.tui.conftest import SMALL, World, settle, type_text


def progress_of(world: World, name: str) -> tuple[str, int, int]:
    """(project id, done, total) of a project, counted straight from the cache (canceled left out)."""
    rows = world.engine.store._rows(
        "SELECT p.id, count(*) FILTER (WHERE t.status = 'done'), "
        "count(*) FILTER (WHERE t.status <> 'canceled') FROM projects p "
        "JOIN tasks t ON t.project_id = p.id AND NOT t.deleted WHERE p.name = ? GROUP BY p.id",
        [name],
    )
    assert len(rows) == 1, rows
    return str(rows[0][0]), int(rows[0][1]), int(rows[0][2])


async def test_project_facet_shows_progress_and_at_risk(world: World) -> None:
    project_id, done, total = progress_of(world, "v1.4")
    assert done < total
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ChoiceModal)
        labels = {value: label for label, value in picker.choices}
        assert labels[f"project:{project_id}"].startswith("project: v1.4 (")
        assert labels[f"project:{project_id}"].endswith(f" · {done}/{total} · at risk")
        assert all(" · " in label for value, label in labels.items() if value.startswith("project:"))
        await type_text(pilot, "v1.4")
        await pilot.press("enter")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)
        assert board.filter.project == project_id
        assert board.project_progress is not None
        assert board.project_progress.at_risk
        facets = str(board.query_one("#board-facets", Static).render())
        assert f"project: v1.4 {done}/{total} · at risk" in facets
        assert len(board.rows) == total - done  # the open tasks of the milestone
