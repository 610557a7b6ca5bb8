"""Task detail of a demo GitLab issue: its merge requests with state and pipeline, and its commits.

acme/app#5 ("Export reports as CSV") is closed by the open MR !2, whose pipeline fails and which has
three commits; a system note on the issue mentions one more commit.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from textual.message import Message
from textual.widgets import Static

from pmtui.core.activity import read_cached
from pmtui.screens.task_detail import TaskDetailScreen
from tests.tui.conftest import LARGE, SMALL, World, settle

RELATED = "GET /api/v4/projects/:id/issues/:issue_iid/related_merge_requests"


def section_text(screen: TaskDetailScreen) -> str:
    """The merge request section as plain text."""
    out = io.StringIO()
    Console(file=out, width=160, color_system=None).print(screen.query_one("#detail-mrs", Static).content)
    return out.getvalue()


def mr_commits(world: World, iid: int) -> list[dict[str, Any]]:
    mr = next(m for m in world.sandbox.emulator("gitlab").state["merge_requests"].values() if m["iid"] == iid)
    commits: list[dict[str, Any]] = mr["commits"]
    return commits


async def test_detail_shows_mrs_with_state_and_pipeline_and_the_commits(world: World) -> None:
    task = world.task("acme/app#5")
    messages: list[Message] = []
    app = world.app()
    async with app.run_test(size=LARGE, message_hook=messages.append) as pilot:
        await settle(pilot)
        app.push_screen(TaskDetailScreen(app.backend, task.id))
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, TaskDetailScreen)
        [loaded] = [m for m in messages if isinstance(m, TaskDetailScreen.MergeRequestsLoaded)]
        assert loaded.error is None
        assert loaded.activity is not None
        [mr] = loaded.activity.activity.merge_requests
        assert (mr.iid, mr.state, mr.closes, mr.pipeline) == (2, "opened", True, "failed")

        text = section_text(screen)
        assert "Merge requests and commits  fetched just now" in text
        assert "!2 Export reports as CSV  opened  closes  pipeline failed" in text
        assert "Commits (4)" in text
        for commit in mr_commits(world, 2):
            assert f"{commit['short_id']} {commit['title']}" in text
        assert "mentioned in a note  Alex Chen" in text
    assert world.sandbox.emulator("gitlab").request_counts()[RELATED] == 1
    cached = read_cached(world.engine.store, task.id)
    assert cached is not None
    assert cached.activity == loaded.activity.activity


@pytest.mark.slow
async def test_reopening_shows_the_cache_without_a_request_and_r_refetches(world: World) -> None:
    task = world.task("acme/app#8")
    app = world.app()
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        app.push_screen(TaskDetailScreen(app.backend, task.id))
        await settle(pilot, rounds=4)
        await pilot.press("escape")
        await settle(pilot)
        gitlab = world.sandbox.emulator("gitlab")
        gitlab.reset_counts()

        app.push_screen(TaskDetailScreen(app.backend, task.id))
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, TaskDetailScreen)
        assert screen.detail is not None
        assert screen.detail.activity is not None, "read with the task, before any worker ran"
        text = section_text(screen)
        assert "!3 Dark mode theme  opened draft  closes  pipeline running" in text
        assert gitlab.request_counts().get("total", 0) == 0

        await pilot.press("r")
        await settle(pilot, rounds=4)
        assert gitlab.request_counts()[RELATED] == 1
        assert "pipeline running" in section_text(screen)


async def test_a_fetch_error_keeps_the_cached_copy_on_screen(world: World) -> None:
    from pmtui.models import Service
    from pmtui.sandbox.server import Fault

    task = world.task("acme/app#5")
    app = world.app()
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        app.push_screen(TaskDetailScreen(app.backend, task.id))
        await settle(pilot, rounds=4)
        world.no_backoff(Service.GITLAB)
        world.sandbox.emulator("gitlab").add_fault(Fault("error", value=503, count=None, path=RELATED))
        await pilot.press("r")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, TaskDetailScreen)
        text = section_text(screen)
        assert "showing the cached copy" in text
        assert "!2 Export reports as CSV  opened  closes  pipeline failed" in text


async def test_briefing_summarises_the_cached_activity(world: World) -> None:
    from datetime import UTC, datetime

    from pmtui.core.activity import activity_for_task
    from pmtui.models import Service
    from pmtui.screens.briefing import BriefingScreen

    source: Any = world.engine.integration(Service.GITLAB)
    for key in ("acme/app#5", "acme/app#8"):
        activity_for_task(world.engine.store, source, world.task(key).id, now=datetime.now(UTC))
    world.sandbox.reset_counts()
    app = world.app()
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BriefingScreen)
        out = io.StringIO()
        Console(file=out, width=160, color_system=None).print(
            app.screen.query_one("#briefing-sync", Static).content
        )
        assert "GitLab code: 2 MRs open (1 draft), 1 pipeline failing, 1 pipeline running" in out.getvalue()
    assert world.sandbox.emulator("gitlab").request_counts().get("total", 0) == 0


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["100x30", "160x45"])
def test_detail_with_merge_requests_looks(world: World, snap_compare: Any, size: tuple[int, int]) -> None:
    task = world.task("acme/app#5")
    app = world.app()

    async def run(pilot: Any) -> None:
        await settle(pilot)
        app.push_screen(TaskDetailScreen(app.backend, task.id))
        await settle(pilot, rounds=4)

    assert snap_compare(app, terminal_size=size, run_before=run)
