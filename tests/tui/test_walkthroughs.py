"""Replay every recorded walkthrough headless, so the docs' recordings cannot drift from the app.

Each script in ``walkthroughs/stories.py`` runs against the app exactly as ``pmtui demo`` builds it
(demo sandbox, empty cache, a first sync at start), and every text it waits for must appear on screen.
The recordings themselves (``docs/walkthroughs/``) must exist for every script and match its name and size.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pmtui.integrations import limits
from pmtui.sandbox.runner import Sandbox
from walkthroughs.docs import DOCS_PAGE, RECORDINGS, render_page
from walkthroughs.recorder import frame_rows, plain, redraw, tmux_key
from walkthroughs.replay import DemoRun, demo_app, replay
from walkthroughs.stories import WALKTHROUGHS


def _motion_names(sandbox: Sandbox) -> list[str]:
    return [task["name"] for task in sandbox.emulator("motion").state["tasks"].values()]


def _notion_titles(sandbox: Sandbox) -> list[str]:
    state = sandbox.emulator("notion").state
    return [
        "".join(part["plain_text"] for part in page["values"].get("title", []))
        for page in state["pages"].values()
        if page["data_source_id"] == state["tasks_data_source_id"] and not page["in_trash"]
    ]


def _linear_title(sandbox: Sandbox, identifier: str) -> str:
    issues = sandbox.emulator("linear").state["issues"].values()
    return str(next(i["title"] for i in issues if i["identifier"] == identifier))


def _check_agent_request(run: DemoRun) -> None:
    assert "Write the launch FAQ" in _notion_titles(run.sandbox)


def _check_conflict(run: DemoRun) -> None:
    # "take local" kept Linear's rename and wrote it to Motion; no conflict is left open.
    assert _linear_title(run.sandbox, "ENG-3") == "Fix login redirect loop on Safari"
    assert "Fix login redirect loop on Safari" in _motion_names(run.sandbox)
    assert "Fix SSO login redirect loop" not in _motion_names(run.sandbox)
    assert run.app.backend.engine.store.conflicts() == []


def _check_service_down(run: DemoRun) -> None:
    runs = run.app.backend.engine.store.sync_runs(limit=20)
    gitlab = [r.status for r in runs if r.service.value == "gitlab"]
    assert gitlab[:2] == ["ok", "failed"], gitlab  # newest first: back up after the failure


CHECKS: dict[str, Callable[[DemoRun], None]] = {
    "agent-request": _check_agent_request,
    "conflict-resolved": _check_conflict,
    "service-down": _check_service_down,
}


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One disposable-cache folder for every replay: the Linear schema is built once, not per story."""
    return tmp_path_factory.mktemp("walkthrough-cache")


@pytest.mark.parametrize("name", sorted(WALKTHROUGHS))
async def test_walkthrough_replays(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_cache: Path
) -> None:
    walkthrough = WALKTHROUGHS[name]
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").symlink_to(shared_cache, target_is_directory=True)
    monkeypatch.setenv("PMTUI_HOME", str(home))
    monkeypatch.setenv("PMTUI_NO_KEYRING", "1")
    for variable in [v for v in os.environ if v.startswith("PMTUI_") and v.endswith("_API_KEY")]:
        monkeypatch.delenv(variable)  # the demo's own keys come from the config it writes
    # A service that is down is retried with jittered backoff; the replay needs the outcome, not the wait.
    monkeypatch.setattr(limits, "backoff_delay", lambda *_args, **_kwargs: 0.0)
    with demo_app() as run:
        replayed = await replay(walkthrough, run)
        assert [text for text, _screen in replayed.seen] == [w.text for w in walkthrough.waits()]
        assert all(text in screen for text, screen in replayed.seen)
        if name in CHECKS:
            CHECKS[name](run)


@pytest.mark.parametrize("name", sorted(WALKTHROUGHS))
def test_walkthrough_is_recorded(name: str) -> None:
    walkthrough = WALKTHROUGHS[name]
    cast = RECORDINGS / f"{name}.cast"
    header = json.loads(cast.read_text(encoding="utf-8").splitlines()[0])
    assert header["version"] == 2
    assert (header["width"], header["height"]) == (walkthrough.width, walkthrough.height + 1)
    assert header["title"] == walkthrough.title
    svg = (RECORDINGS / f"{name}.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg")


def test_docs_page_matches_the_scripts() -> None:
    assert DOCS_PAGE.read_text(encoding="utf-8") == render_page(), (
        "docs/walkthroughs.md is out of date: run `python -m walkthroughs docs`"
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [("enter", ("Enter", False)), ("ctrl+k", ("C-k", False)), ("colon", (":", False)), ("S", ("S", True))],
)
def test_textual_keys_become_tmux_keys(key: str, expected: tuple[str, bool]) -> None:
    assert tmux_key(key) == expected


def test_a_redraw_repaints_only_changed_rows_and_the_caption() -> None:
    before = frame_rows("\x1b[1mone\x1b[0m\ntwo", 3)
    drawn = redraw("\x1b[1mone\x1b[0m\nTWO", "caption", width=10, height=3, previous=before)
    assert "\x1b[1;1H" not in drawn  # row 1 is unchanged
    assert "\x1b[2;1H\x1b[0mTWO" in drawn
    assert "\x1b[4;1H\x1b[0;1;7m caption  \x1b[0m" in drawn  # the narration row, padded to the width
    assert plain("\x1b[38;2;1;2;3mok\x1b[0m") == "ok"


async def test_the_replay_settles_past_a_worker_replaced_at_the_end() -> None:
    """CI once failed a replay after its last step: a sync the app had started itself finished while the
    replay waited for the workers, a screen reloaded, and its exclusive worker's cancellation was raised
    as the replay's failure. A cancelled, replaced worker is the app working as meant."""
    import asyncio

    from textual import work
    from textual.app import App
    from textual.worker import WorkerState

    from walkthroughs.replay import _settle

    class Reloading(App[None]):
        loads = 0

        @work(exclusive=True, group="load")
        async def load(self) -> None:
            await asyncio.sleep(0.3)
            self.loads += 1

    app = Reloading()
    async with app.run_test() as pilot:
        first = app.load()
        app.set_timer(0.1, app.load)  # a reload lands while the replay waits
        await _settle(pilot)
        assert first.state is WorkerState.CANCELLED
        assert app.loads == 1
        assert all(worker.state is WorkerState.SUCCESS for worker in app.workers)
