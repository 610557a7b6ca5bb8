"""Briefing, task detail and agent prompt, driven by keyboard only against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textual.message import Message
from textual.widgets import OptionList

from pmtui.models import Service, Status
from pmtui.screens.agent_prompt import AgentPrompt, answer_question, load_history
from pmtui.screens.briefing import BriefingScreen
from pmtui.screens.task_detail import TaskDetailScreen
from tests.tui.conftest import SMALL, World, settle, type_text


def briefing_task(app: Any) -> str | None:
    screen = app.screen
    assert isinstance(screen, BriefingScreen)
    return screen._current_task()


async def test_briefing_shows_the_sections_and_moves_with_j_k(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BriefingScreen)
        assert screen.briefing is not None
        assert screen.briefing.counts.overdue > 0
        first = briefing_task(app)
        assert first is not None
        await pilot.press("j")
        second = briefing_task(app)
        assert second not in (None, first)
        await pilot.press("k")
        assert briefing_task(app) == first
        prompts = [str(o.prompt) for o in screen.query_one(OptionList).options]
        assert any(p.startswith("Overdue") for p in prompts)
        assert any(p.startswith("Top priorities") for p in prompts)
        assert any("(+40)" in p or "(+30)" in p for p in prompts)  # ranking reasons are shown


async def test_briefing_snooze_and_complete(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        first = briefing_task(app)
        assert first is not None
        await pilot.press("z")
        await settle(pilot)
        snoozed = world.engine.store.get_task(first)
        assert snoozed is not None
        assert snoozed.due == datetime(2026, 11, 25, tzinfo=UTC)
        target = briefing_task(app)
        assert target is not None
        await pilot.press("x")
        await settle(pilot)
        done = world.engine.store.get_task(target)
        assert done is not None
        assert done.status is Status.DONE


async def test_briefing_enter_opens_detail_with_refs_and_decisions(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        task_id = briefing_task(app)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TaskDetailScreen)
        assert screen.task_id == task_id
        assert screen.detail is not None
        assert screen.detail.refs


async def test_detail_of_a_gitlab_issue_loads_merge_requests_and_takes_a_comment(world: World) -> None:
    task = world.task("acme/app#1")
    messages: list[Message] = []
    app = world.app()
    async with app.run_test(size=SMALL, message_hook=messages.append) as pilot:
        await settle(pilot)
        app.push_screen(TaskDetailScreen(app.backend, task.id))
        await settle(pilot, rounds=4)
        loaded = [m for m in messages if isinstance(m, TaskDetailScreen.MergeRequestsLoaded)]
        assert loaded
        assert loaded[-1].error is None
        await pilot.press("c")
        await pilot.pause()
        await type_text(pilot, "Repro is easy")
        await pilot.press("enter")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, TaskDetailScreen)
        assert screen.detail is not None
        assert [c.body for c in screen.detail.comments][-1] == "Repro is easy"
    notes = world.sandbox.emulator("gitlab").request_counts()
    assert any(k.startswith("POST") and "notes" in k for k in notes), notes


async def test_agent_prompt_plans_confirms_and_runs(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, AgentPrompt)
        await type_text(pilot, "task Offsite due fri @motion")
        await pilot.press("enter")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, AgentPrompt)
        assert prompt.state == "planned"
        plan = prompt.shown
        assert "Motion" in plan
        assert "Offsite" not in world.motion_names()  # nothing ran before confirming
        await pilot.press("ctrl+y")
        await settle(pilot, rounds=4)
        assert prompt.state == "done"
        assert "created" in prompt.shown
        await pilot.press("up")
        assert "Offsite" in prompt.query_one("#agent-input").value  # type: ignore[attr-defined]
    assert "Offsite" in world.motion_names()
    assert load_history(world.tmp_path / "history.txt") == ["task Offsite due fri @motion"]
    assert world.service_of(world.task("Offsite")) is Service.MOTION


async def test_agent_prompt_question_choices_are_selectable(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await type_text(pilot, "done write")
        await pilot.press("enter")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, AgentPrompt)
        assert prompt.state == "question"
        choices = prompt.query_one("#agent-choices", OptionList)
        assert choices.option_count >= 2
        await pilot.press("enter")
        await settle(pilot)
        assert prompt.state == "planned"


def test_answer_question_replaces_the_phrase() -> None:
    assert answer_question("done write", "Which task do you mean by 'write'?", "abc") == "done abc"
    assert answer_question("done x", "Which one?", "abc") == "done x abc"
