"""Saved board views (`[ui.views]`, key `v`): the filter text is read whole, or the view is refused
with the word it could not read."""

from __future__ import annotations

import pytest

from pmtui.core.board import BoardFilter
from pmtui.screens.board import BoardScreen
from pmtui.screens.task_actions import parse_view
from tests.tui.conftest import SMALL, World, settle, type_text


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", BoardFilter()),
        ("label:docs", BoardFilter(label="docs")),
        (
            "status:all service:motion sort:priority",
            BoardFilter(status="all", service="motion", sort="priority"),
        ),
        ("due:overdue pricing page", BoardFilter(text="pricing page", due="overdue")),
        ("ratio 3:2", BoardFilter(text="ratio 3:2")),  # not a facet name: plain text
    ],
)
def test_a_view_is_read_whole(spec: str, expected: BoardFilter) -> None:
    assert parse_view(spec) == expected


@pytest.mark.parametrize(
    ("spec", "word"),
    [("status:later", "'status:later'"), ("service:jira", "'service:jira'"), ("sort:", "'sort:'")],
)
def test_a_bad_view_names_the_word(spec: str, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        parse_view(spec)


@pytest.mark.slow
async def test_v_applies_a_saved_view_and_a_bad_one_is_a_toast(world: World) -> None:
    world.settings.ui.views = {"docs": "label:docs sort:priority", "broken": "status:later"}
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        await pilot.press("v")
        await settle(pilot)
        await type_text(pilot, "docs")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.filter == BoardFilter(label="docs", sort="priority")
        assert len(screen.rows) > 0
        assert all("docs" in screen.rows.row(i).labels for i in range(len(screen.rows)))
        await pilot.press("v")
        await settle(pilot)
        await type_text(pilot, "broken")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.filter == BoardFilter(label="docs", sort="priority")  # unchanged
        assert any("view 'broken' in [ui.views]" in n.message for n in app._notifications)
