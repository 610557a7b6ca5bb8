"""The one key map (#23): every key of docs/keys.md, on every screen that has it, does what the page says.

Each case opens a screen on the sandbox-backed app, presses one key and checks its effect (a screen,
a change in the cache or on a service, a toast). A second set of checks reads the bindings themselves:
every binding is on the keys page with its keys, and no screen reuses a global key for another thing.
"""

from __future__ import annotations

import os
import stat
import webbrowser
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList

from pmtui.app import PmtuiApp, SyncFinished
from pmtui.models import Service, Status
from pmtui.screens.agent_prompt import AgentPrompt
from pmtui.screens.board import BoardScreen
from pmtui.screens.briefing import BriefingScreen
from pmtui.screens.conflicts import ConflictsScreen
from pmtui.screens.modals import ChoiceModal, ConfirmModal, HelpScreen, InputModal
from pmtui.screens.sync_status import SyncStatusScreen
from pmtui.screens.task_detail import TaskDetailScreen
from pmtui.screens.task_form import TaskForm
from pmtui.widgets.kanban import Kanban
from pmtui.widgets.task_table import TaskTable
from tests.tui.conftest import Template, World, build_world, quiesce, type_text
from tests.tui.test_sync_screens import make_title_conflict

KEYS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "keys.md"
SIZE = (80, 24)

MAIN_SCREENS = {"briefing": "1", "board": "2", "sync": "3", "conflicts": "4"}


@dataclass
class Run:
    """One key's case while it runs: the app, its pilot, the world and the messages posted so far."""

    app: PmtuiApp
    pilot: Any
    world: World
    messages: list[Message]
    tmp: Path

    def toasts(self) -> list[str]:
        return [n.message for n in self.app._notifications]

    def sent(self, kind: type[Message]) -> list[Message]:
        return [m for m in self.messages if isinstance(m, kind)]


Check = Callable[[Run], Awaitable[None] | None]


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real browser and a real editor for the app to start: scripts that leave a trace in tmp_path."""
    browser = _script(tmp_path / "browser.sh", f'printf "%s\\n" "$1" >> "{tmp_path}/opened.txt"')
    editor = _script(tmp_path / "editor.sh", 'printf "edited in the editor" >> "$1"')
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read $BROWSER again
    monkeypatch.setattr(webbrowser, "_browsers", {})
    return tmp_path


async def open_screen(pilot: Any, world: World, name: str) -> None:
    """Bring up screen ``name`` the way a person would (board rows filtered to one known task)."""
    await quiesce(pilot)
    if name in MAIN_SCREENS:
        await pilot.press(MAIN_SCREENS[name])
        await quiesce(pilot)
    elif name == "board-one":
        await pilot.press("2")
        await quiesce(pilot)
        await pilot.press("slash")
        await type_text(pilot, "electr")
        await pilot.press("enter")
        await quiesce(pilot)
    elif name == "board-done":
        await open_screen(pilot, world, "board-one")
        await pilot.press("x")
        await quiesce(pilot)
        await pilot.press("f")
        await quiesce(pilot)
        await type_text(pilot, "status: all")
        await pilot.press("enter")
        await quiesce(pilot)
        assert world.task("Pay electricity bill").status is Status.DONE
    elif name == "detail":
        task = world.task("Pay electricity bill")
        pilot.app.push_screen(TaskDetailScreen(pilot.app.backend, task.id))
        await quiesce(pilot)
    elif name == "prompt":
        await pilot.press("colon")
        await type_text(pilot, "task Buy coffee beans")
        await pilot.press("enter")
        await quiesce(pilot)
    elif name == "kanban":
        await pilot.press("2")
        await quiesce(pilot)
        await pilot.press("t")
        await quiesce(pilot)


def on(kind: type[Any]) -> Check:
    def check(run: Run) -> None:
        assert isinstance(run.app.screen, kind), run.app.screen

    return check


def toast(text: str) -> Check:
    def check(run: Run) -> None:
        assert any(text in message for message in run.toasts()), run.toasts()

    return check


def board_cursor(expected: Callable[[int], bool]) -> Check:
    def check(run: Run) -> None:
        table = run.app.screen.query_one("#board-table", TaskTable)
        assert expected(table.cursor), table.cursor

    return check


def electricity(status: Status) -> Check:
    def check(run: Run) -> None:
        assert run.world.task("Pay electricity bill").status is status

    return check


def _opened(run: Run) -> None:
    import time

    trace = run.tmp / "opened.txt"
    for _ in range(100):  # the browser script runs in its own process
        if trace.exists() and trace.read_text():
            break
        time.sleep(0.05)
    url = trace.read_text().strip()
    refs = run.world.engine.store.refs_for(run.world.task("Pay electricity bill").id)
    assert url == next(r.url for r in refs if r.url)


def _copied(run: Run) -> None:
    task = run.world.task("Pay electricity bill")
    ref = run.world.engine.store.refs_for(task.id)[0]
    assert run.app.clipboard == ref.url


def _edited(run: Run) -> None:
    task = run.world.task("Pay electricity bill")
    assert task.description.endswith("edited in the editor")
    motion = run.world.motion_names()["Pay electricity bill"]
    assert "edited in the editor" in str(motion.get("description"))


def _synced(services: int | None) -> Check:
    def check(run: Run) -> None:
        done = run.sent(SyncFinished)
        assert done, "no sync ran"
        runs = done[-1].runs or []  # type: ignore[attr-defined]
        assert runs
        assert all(r.status == "ok" for r in runs)
        if services is not None:
            assert len(runs) == services

    return check


def _reloaded(kind: type[Message]) -> Check:
    def check(run: Run) -> None:
        assert run.sent(kind), f"{kind.__name__} not read again"

    return check


def _filter_focused(run: Run) -> None:
    screen = run.app.screen
    assert isinstance(screen, BoardScreen)
    field = screen.query_one("#board-filter", Input)
    assert field.has_focus
    assert field.display


def _nothing_to_undo(run: Run) -> None:
    assert run.toasts()[-1].startswith("nothing to undo"), run.toasts()


def _conflict_pending(choice: str) -> Check:
    def check(run: Run) -> None:
        screen = run.app.screen
        assert isinstance(screen, ConflictsScreen)
        assert screen.pending is not None
        assert screen.pending.resolutions[0].choice == choice

    return check


def _conflict_moved(run: Run) -> None:
    screen = run.app.screen
    assert isinstance(screen, ConflictsScreen)
    assert screen.query_one("#conflict-queue", OptionList).highlighted == 1


def _briefing_moved(run: Run) -> None:
    screen = run.app.screen
    assert isinstance(screen, BriefingScreen)
    assert screen.query_one("#briefing-tasks", OptionList).highlighted not in (None, 1)


def _snoozed(run: Run) -> None:
    assert any(m.what == "snooze to tomorrow" for m in run.sent(BriefingScreen.ActionDone))  # type: ignore[attr-defined]


def _briefing_completed(run: Run) -> None:
    from pmtui.models import ResultStatus

    done = [m for m in run.sent(BriefingScreen.ActionDone) if m.what == "complete"]  # type: ignore[attr-defined]
    assert done
    assert done[-1].result.status is not ResultStatus.FAILED  # type: ignore[attr-defined]


def _kanban_column(index: int) -> Check:
    def check(run: Run) -> None:
        kanban = run.app.screen.query_one(Kanban)
        assert kanban.focused_table() is kanban.tables()[index]

    return check


def _agent(state: str) -> Check:
    def check(run: Run) -> None:
        prompt = run.app.screen
        assert isinstance(prompt, AgentPrompt)
        assert prompt.state == state

    return check


def _closed_prompt(run: Run) -> None:
    assert not isinstance(run.app.screen, AgentPrompt)


def _board_selected(run: Run) -> None:
    assert len(run.app.screen.query_one("#board-table", TaskTable).selected) == 1


def _sorted(sort: str) -> Check:
    def check(run: Run) -> None:
        screen = run.app.screen
        assert isinstance(screen, BoardScreen)
        assert screen.filter.sort == sort

    return check


def _reversed(run: Run) -> None:
    screen = run.app.screen
    assert isinstance(screen, BoardScreen)
    assert screen.descending
    dues = [screen.rows.row(i).due for i in range(len(screen.rows))]
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated, reverse=True)


def _filter_cleared(run: Run) -> None:
    screen = run.app.screen
    assert isinstance(screen, BoardScreen)
    assert screen.filter.text == ""
    assert len(screen.rows) > 1


def _detail_scrolled(run: Run) -> None:
    from textual.containers import VerticalScroll

    assert run.app.screen.query_one(VerticalScroll).scroll_y > 0


def _quit(run: Run) -> None:
    assert run.app.return_code == 0  # set by App.exit; None while the app runs


# (screen, keys pressed, check)
CASES: list[tuple[str, tuple[str, ...], Check]] = [
    # global keys, on every main screen
    *[(s, ("question_mark",), on(HelpScreen)) for s in MAIN_SCREENS],
    *[(s, ("colon",), on(AgentPrompt)) for s in MAIN_SCREENS],
    *[(s, ("5",), on(AgentPrompt)) for s in MAIN_SCREENS],
    *[(s, ("ctrl+k",), on(AgentPrompt)) for s in MAIN_SCREENS],
    *[(s, ("1",), on(BriefingScreen)) for s in MAIN_SCREENS],
    *[(s, ("2",), on(BoardScreen)) for s in MAIN_SCREENS],
    *[(s, ("3",), on(SyncStatusScreen)) for s in MAIN_SCREENS],
    *[(s, ("4",), on(ConflictsScreen)) for s in MAIN_SCREENS],
    *[(s, ("slash",), _filter_focused) for s in MAIN_SCREENS],
    *[(s, ("S",), _synced(4)) for s in MAIN_SCREENS],
    *[(s, ("u",), _nothing_to_undo) for s in MAIN_SCREENS],
    *[(s, ("ctrl+z",), _nothing_to_undo) for s in MAIN_SCREENS],
    *[(s, ("q",), _quit) for s in MAIN_SCREENS],
    ("briefing", ("r",), _synced(4)),
    ("board", ("r",), _reloaded(BoardScreen.RowsLoaded)),
    ("sync", ("r",), _reloaded(SyncStatusScreen.Loaded)),
    ("conflicts", ("r",), _reloaded(ConflictsScreen.Loaded)),
    ("detail", ("r",), _reloaded(TaskDetailScreen.Loaded)),
    # navigation
    ("board", ("j",), board_cursor(lambda c: c == 1)),
    ("board", ("down",), board_cursor(lambda c: c == 1)),
    ("board", ("j", "k"), board_cursor(lambda c: c == 0)),
    ("board", ("j", "up"), board_cursor(lambda c: c == 0)),
    ("board", ("G",), board_cursor(lambda c: c > 10)),
    ("board", ("G", "g"), board_cursor(lambda c: c == 0)),
    ("board", ("end",), board_cursor(lambda c: c > 10)),
    ("board", ("end", "home"), board_cursor(lambda c: c == 0)),
    ("board", ("pagedown",), board_cursor(lambda c: c > 3)),
    ("briefing", ("j",), _briefing_moved),
    ("briefing", ("G",), _briefing_moved),
    ("kanban", ("l",), _kanban_column(1)),
    ("kanban", ("right",), _kanban_column(1)),
    ("kanban", ("l", "h"), _kanban_column(0)),
    ("kanban", ("l", "left"), _kanban_column(0)),
    ("detail", ("G",), _detail_scrolled),
    ("detail", ("j", "j", "j"), _detail_scrolled),
    # board
    ("board", ("n",), on(TaskForm)),
    ("board", ("e",), on(TaskForm)),
    ("board", ("f",), on(ChoiceModal)),
    ("board", ("m",), on(ChoiceModal)),
    ("board", ("p",), on(ChoiceModal)),
    ("board", ("d",), on(InputModal)),
    ("board", ("D",), on(ConfirmModal)),
    ("board", ("v",), on(ChoiceModal)),
    ("board", ("t",), lambda run: _is_kanban(run, True)),
    ("board", ("t", "t"), lambda run: _is_kanban(run, False)),
    ("board", ("space",), _board_selected),
    ("board", ("o",), _sorted("priority")),
    ("board", ("O",), _reversed),
    ("board", ("enter",), on(TaskDetailScreen)),
    ("board-one", ("x",), electricity(Status.DONE)),
    ("board-done", ("X",), electricity(Status.TODO)),
    ("board-one", ("escape",), _filter_cleared),
    ("board-one", ("b",), _opened),
    ("board-one", ("y",), _copied),
    ("board-one", ("E",), _edited),
    ("board", ("f", "escape", "F"), lambda run: _facets_cleared(run)),
    # briefing
    ("briefing", ("enter",), on(TaskDetailScreen)),
    ("briefing", ("x",), _briefing_completed),
    ("briefing", ("z",), _snoozed),
    # task detail
    ("detail", ("escape",), on(BriefingScreen)),
    ("detail", ("backspace",), on(BriefingScreen)),
    ("detail", ("e",), on(TaskForm)),
    ("detail", ("c",), on(InputModal)),
    ("detail", ("x",), electricity(Status.DONE)),
    ("detail", ("x", "X"), electricity(Status.TODO)),
    ("detail", ("b",), _opened),
    ("detail", ("y",), _copied),
    ("detail", ("E",), _edited),
    # sync
    ("sync", ("s",), _synced(1)),
    ("sync", ("H",), lambda run: _health(run)),
    ("sync", ("j",), lambda run: _sync_row(run, 1)),
    ("sync", ("j", "k"), lambda run: _sync_row(run, 0)),
    # conflicts (two open conflicts: see make_conflicts)
    ("conflicts", ("L",), _conflict_pending("local")),
    ("conflicts", ("R",), _conflict_pending("remote")),
    ("conflicts", ("e",), on(InputModal)),
    ("conflicts", ("A",), on(ChoiceModal)),
    ("conflicts", ("L", "u"), lambda run: _no_pending(run)),
    ("conflicts", ("j",), _conflict_moved),
    ("conflicts", ("down",), _conflict_moved),
    # agent prompt (a plan for "task Buy coffee beans" is shown)
    ("prompt", ("ctrl+y",), _agent("done")),
    ("prompt", ("escape",), _agent("idle")),
    ("prompt", ("escape", "escape"), _closed_prompt),
    ("prompt", ("enter",), _agent("planned")),
    ("prompt", ("x",), _agent("idle")),
]


def _is_kanban(run: Run, shown: bool) -> None:
    screen = run.app.screen
    assert isinstance(screen, BoardScreen)
    assert screen.kanban is shown
    if shown:
        assert run.app.focused in screen.query_one(Kanban).tables()


def _facets_cleared(run: Run) -> None:
    screen = run.app.screen
    assert isinstance(screen, BoardScreen)
    assert screen.filter.status == "open"
    assert screen.filter.service is None


def _health(run: Run) -> None:
    screen = run.app.screen
    assert isinstance(screen, SyncStatusScreen)
    assert set(screen.health) == {Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB}


def _sync_row(run: Run, row: int) -> None:
    from textual.widgets import DataTable

    assert run.app.screen.query_one("#sync-services", DataTable).cursor_row == row


def _no_pending(run: Run) -> None:
    screen = run.app.screen
    assert isinstance(screen, ConflictsScreen)
    assert screen.pending is None
    assert screen.last_outcome.startswith("undone")


def _case_id(case: tuple[str, tuple[str, ...], Check]) -> str:
    return f"{case[0]}:{'+'.join(case[1])}"


BLANK = "keymap-blank"
"""A mode with an empty screen: the app rests there while the main screens of the last case are removed."""

BASE_MODE = {
    "detail": "briefing",
    "prompt": "briefing",
    "kanban": "board",
    "board-one": "board",
    "board-done": "board",
}
"""The mode a case's screen is opened from (the main screens are their own mode)."""

GROUPS = sorted({screen for screen, _keys, _check in CASES})


def _quits(case: tuple[str, tuple[str, ...], Check]) -> bool:
    return "q" in case[1]


async def _fresh_case(
    app: PmtuiApp, pilot: Any, template: Template, tmp: Path, monkeypatch: pytest.MonkeyPatch, screen: str
) -> World:
    """Put the running app back to how a new app starts, over a new world: the sandbox restored, a new
    copy of the synced cache, new main screens (no cursor, filter, sort or toggle survives), no toasts,
    no clipboard, no prompt history, no messages."""
    await quiesce(pilot)
    await app.switch_mode(BLANK)
    for mode in MAIN_SCREENS:
        factory = app._modes[mode]
        await app.remove_mode(mode)
        app.add_mode(mode, factory)
    world = build_world(template, tmp, monkeypatch)
    world.settings.ui.views = {"docs": "label:docs sort:priority"}
    if screen == "conflicts":
        make_title_conflict(world, "Pay electricity bill", "Mine 1", "Theirs 1")
        make_title_conflict(world, "Renew passport", "Mine 2", "Theirs 2")
    backend = app.backend
    old = backend.engine
    backend.engine = world.engine
    world.engine.on_event = backend.emit
    backend._orchestrator = None
    backend.history_path = tmp / "history.txt"
    backend.cancel.clear()
    old.close()
    app.settings = world.settings
    app._history = None
    app._syncing = False
    app.sync_busy = ""
    app._cache_token = world.engine.store.change_token()
    app._clipboard = ""
    app.clear_notifications()
    (tmp.parent / "opened.txt").unlink(missing_ok=True)  # the browser script's trace (see `tools`)
    await app.switch_mode(BASE_MODE.get(screen, screen))
    app.refresh_status()
    app._recover()
    await quiesce(pilot)
    return world


@pytest.mark.slow  # about 3 minutes of CPU for the 123 cases
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("screen", GROUPS)
async def test_keys_do_what_the_map_says(
    screen: str, template: Template, world: World, tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every case of ``screen`` in CASES. One app runs them all (an app start costs more than a case);
    before each case it is reset to a new app's state over a new world (see _fresh_case). Every case
    runs even when one fails, and the failure names the case."""
    from textual.screen import Screen

    cases = sorted((c for c in CASES if c[0] == screen), key=_quits)  # `q` ends the app: last
    failures: list[str] = []
    messages: list[Message] = []
    app = world.app()
    app.add_mode(BLANK, Screen)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        for index, case in enumerate(cases):
            _screen, keys, check = case
            case_tmp = tools / f"case-{index}"
            case_tmp.mkdir()
            current = await _fresh_case(app, pilot, template, case_tmp, monkeypatch, screen)
            messages.clear()
            try:
                await open_screen(pilot, current, screen)
                for key in keys:
                    await pilot.press(key)
                    await quiesce(pilot)
                await quiesce(pilot)
                result = check(Run(app, pilot, current, messages, tools))
                if result is not None:
                    await result
            except Exception as exc:  # noqa: BLE001 - every case runs; all failures are reported below
                failures.append(f"{_case_id(case)}: {type(exc).__name__}: {exc}")
        current.engine.close()
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------------ the map itself


GLOBAL_KEYS = {"q", "question_mark", "colon", "5", "1", "2", "3", "4", "r", "slash", "S", "u", "ctrl+z"}
NAVIGATION_KEYS = {"j", "k", "g", "G", "h", "l"}
SAME_MEANING = {"board.filter", "conflicts.undo"}
"""Screen bindings on a global key that do exactly what the global key does there."""

DOC_NAMES = {
    "question_mark": "?",
    "colon": ":",
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def _screen_bindings() -> list[tuple[str, Binding]]:
    from pmtui.widgets.kanban import Kanban as KanbanWidget

    owners: list[Any] = [
        PmtuiApp,
        BoardScreen,
        BriefingScreen,
        TaskDetailScreen,
        SyncStatusScreen,
        ConflictsScreen,
        AgentPrompt,
        KanbanWidget,
        ConfirmModal,
    ]
    found = []
    for owner in owners:
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            found.append((owner.__name__, binding))
    return found


def test_every_binding_is_on_the_keys_page_with_its_keys() -> None:
    page = KEYS_PAGE.read_text(encoding="utf-8")
    lines = page.splitlines()
    for owner, binding in _screen_bindings():
        if binding.id is None or binding.id.startswith(("confirm.",)):
            continue
        row = next((line for line in lines if f"`{binding.id}`" in line), None)
        assert row is not None, f"{owner}: {binding.id} is not on docs/keys.md"
        for key in binding.key.split(","):
            shown = DOC_NAMES.get(key, key)
            assert f"`{shown}`" in row, f"{binding.id}: key {shown!r} missing from: {row}"
    for word in ("undo", "reopen", "confirm"):
        assert word in page.lower()


def test_no_screen_reuses_a_global_or_navigation_key() -> None:
    for owner, binding in _screen_bindings():
        if owner == "PmtuiApp" or binding.id in SAME_MEANING or owner in ("ConfirmModal",):
            continue
        for key in binding.key.split(","):
            assert key not in GLOBAL_KEYS, f"{owner} binds global key {key!r} to {binding.action}"
            if key in NAVIGATION_KEYS:
                assert binding.description.lower() in (
                    "down",
                    "up",
                    "first",
                    "last",
                    "top",
                    "bottom",
                    "next",
                    "previous",
                    "column left",
                    "column right",
                    "scroll down",
                    "scroll up",
                ), f"{owner} uses navigation key {key!r} for {binding.description!r}"


def test_one_letter_means_one_thing_across_screens() -> None:
    meaning: dict[str, set[str]] = {}
    for owner, binding in _screen_bindings():
        if owner in ("ConfirmModal", "AgentPrompt"):
            continue  # a modal's own answer keys (y / n) and the prompt's are scoped to it
        for key in binding.key.split(","):
            meaning.setdefault(key, set()).add(binding.action.split("(")[0])
    clashes = {
        key: actions
        for key, actions in meaning.items()
        if len(actions) > 1
        and key != "escape"  # back on a pushed screen, clear on the board: both "leave this state"
        and not actions <= {"move", "step", "cursor", "scroll", "edge", "scroll_edge", "column"}
    }
    assert not clashes, clashes


def test_the_keys_page_is_linked_from_the_docs_index() -> None:
    index = (KEYS_PAGE.parent / "index.md").read_text(encoding="utf-8")
    assert "(keys.md)" in index
    assert os.path.exists(KEYS_PAGE)
