"""Messages true to the moment: a sync with nothing to sync says how to connect a service; the empty
briefing does not ask for a sync that is already running."""

from __future__ import annotations

from pmtui.app import NO_SERVICES_TEXT, SyncFinished
from pmtui.screens.briefing import _empty_text
from tests.tui.conftest import SMALL, World, settle


async def test_a_sync_with_no_service_says_how_to_connect_one(empty_world: World) -> None:
    app = empty_world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.post_message(SyncFinished([], background=False))  # what the engine answers with no service
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert NO_SERVICES_TEXT in messages
        assert "pmtui config init" in NO_SERVICES_TEXT
        assert not any(m.startswith("pulled 0") for m in messages)


def test_the_empty_briefing_says_a_first_sync_is_running() -> None:
    running = _empty_text("syncing every service…")
    assert "the first sync is running" in running
    assert "Press S" not in running
    assert "Press S to sync" in _empty_text("")
