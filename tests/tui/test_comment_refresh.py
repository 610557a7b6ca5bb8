"""`r` in task detail reads the task's comments on its services: a comment made there (which does not
always mark the task changed, so a sync may not see it) shows up and is carried to the task's other homes."""

from __future__ import annotations

from pmtui.models import Service
from pmtui.screens.task_detail import TaskDetailScreen
from tests.tui.conftest import SMALL, World, settle


async def test_r_pulls_a_comment_made_on_the_service_once(world: World) -> None:
    ref = next(r for r in world.engine.store.refs_for_service(Service.MOTION) if r.origin)
    motion = world.sandbox.emulator("motion")
    other = next(iter(motion.state["users"]))
    motion.add_comment({"taskId": ref.external_id, "content": "Blocked on the vendor"}, other)
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.push_screen(TaskDetailScreen(app.backend, ref.entity_id))
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, TaskDetailScreen)
        assert screen.detail is not None
        assert "Blocked on the vendor" not in [c.body for c in screen.detail.comments]
        for _ in range(2):  # twice: the second read finds nothing new
            await pilot.press("r")
            await settle(pilot, rounds=6)
        assert screen.detail is not None
        bodies = [c.body for c in screen.detail.comments]
        assert bodies.count("Blocked on the vendor") == 1, bodies
    stored = [c.body for c in world.engine.store.comments_for(ref.entity_id)]
    assert stored.count("Blocked on the vendor") == 1
    on_motion = [c["content"] for c in motion.state["comments"].values() if c["taskId"] == ref.external_id]
    assert sum("Blocked on the vendor" in text for text in on_motion) == 1  # never echoed back
