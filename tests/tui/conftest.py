"""TUI fixtures: one sandbox and one synced cache per session; every test starts from copies of both.

The sandbox clock is frozen at :data:`NOW` and the app gets the same fixed clock, so the screens (and
the snapshots) show the same thing on every run and every day.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pmtui.app import PmtuiApp, fixed_clock, make_app
from pmtui.config import Settings, load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.models import Service, Task
from pmtui.sandbox.runner import Sandbox, start_sandbox
from pmtui.sandbox.server import Clock

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SERVICES = ("motion", "linear", "notion", "gitlab")
SMALL = (100, 30)
LARGE = (160, 45)


@dataclass
class Template:
    sandbox: Sandbox
    snapshots: dict[str, dict[str, Any]]
    cache: Path
    overrides: dict[str, Any]


def normalise_times(store: Store) -> None:
    """Pin the wall-clock times a sync writes (run times, durations) so screens are the same every run."""
    synced = NOW - timedelta(minutes=5)
    store._exec("UPDATE sync_runs SET started_at = ?, finished_at = ?, duration_ms = 420", [synced, synced])
    # The services sync in parallel, so their runs were stored in any order; equal start times would leave
    # the history's order (newest first) to chance. A millisecond apart, in SERVICES order, fixes it
    # without changing what any screen shows (times are shown to the second).
    for offset, service in enumerate(SERVICES):
        moment = synced - timedelta(milliseconds=offset)
        store._exec(
            "UPDATE sync_runs SET started_at = ?, finished_at = ? WHERE service = ?",
            [moment, moment, service],
        )
    store._exec("UPDATE external_refs SET synced_at = ? WHERE synced_at IS NOT NULL", [synced])


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    clock = Clock()
    clock.set(NOW, frozen=True)
    with (
        pytest.MonkeyPatch.context() as patch,
        start_sandbox(seed="demo", services=SERVICES, clock=clock) as sandbox,
    ):
        for name, value in sandbox.env().items():
            patch.setenv(name, value)
        patch.setenv("PMTUI_NO_KEYRING", "1")
        overrides = sandbox.settings_dict()
        for section in overrides.values():
            section["requests_per_minute"] = 60000
        overrides["timezone"] = "Europe/Berlin"
        cache = tmp_path_factory.mktemp("tui") / "template.duckdb"
        with Engine(load_settings(overrides=overrides), Store(cache)) as engine:
            runs = engine.sync()
            assert all(run.status == "ok" for run in runs), runs
            normalise_times(engine.store)
        snapshots = {name: sandbox.emulator(name).snapshot() for name in sandbox.running}
        yield Template(sandbox, snapshots, cache, overrides)


@dataclass
class World:
    """A sandbox restored to the template, an engine over a copy of the synced cache."""

    sandbox: Sandbox
    engine: Engine
    settings: Settings
    tmp_path: Path

    def app(self, **kwargs: Any) -> PmtuiApp:
        kwargs.setdefault("clock", fixed_clock(NOW))
        kwargs.setdefault("auto_sync", False)
        kwargs.setdefault("history_path", self.tmp_path / "history.txt")
        return make_app(self.settings, self.engine, **kwargs)

    def task(self, text: str) -> Task:
        found = self.engine.store.find_tasks(text)
        assert len(found) == 1, [t.title for t in found]
        return found[0]

    def service_of(self, task: Task) -> Service:
        refs = self.engine.store.refs_for(task.id)
        return refs[0].service if refs else Service.LOCAL

    def motion_names(self) -> dict[str, dict[str, Any]]:
        return {t["name"]: t for t in self.sandbox.emulator("motion").state["tasks"].values()}

    def notion_titles(self) -> list[str]:
        state = self.sandbox.emulator("notion").state
        return [
            "".join(part["plain_text"] for part in page["values"].get("title", []))
            for page in state["pages"].values()
            if page["data_source_id"] == state["tasks_data_source_id"] and not page["in_trash"]
        ]

    def no_backoff(self, service: Service) -> None:
        """Build the integration with retries that do not sleep (the backoff is tested elsewhere)."""
        from pmtui.integrations import integration_class

        section = self.engine.settings.service(service)
        key = self.sandbox.api_key(service.value)
        self.engine._integrations[service] = integration_class(service)(  # type: ignore[call-arg]
            section, key, retry_sleep=lambda _seconds: None
        )

    def later(self, seconds: float = 120) -> None:
        self.sandbox.clock.advance(seconds)


def build_world(
    template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, empty: bool = False
) -> World:
    sandbox = template.sandbox
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    for name, snapshot in template.snapshots.items():
        emulator = sandbox.emulator(name)
        emulator.restore(snapshot)
        emulator.clear_faults()
    sandbox.clock.set(NOW, frozen=True)
    cache = tmp_path / "cache.duckdb"
    if not empty:
        shutil.copy(template.cache, cache)
    settings = load_settings(overrides=template.overrides)
    engine = Engine(settings, Store(cache))
    sandbox.reset_counts()
    return World(sandbox, engine, settings, tmp_path)


@pytest.fixture
def world(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    built = build_world(template, tmp_path, monkeypatch)
    try:
        yield built
    finally:
        built.engine.close()


@pytest.fixture
def empty_world(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    built = build_world(template, tmp_path, monkeypatch, empty=True)
    try:
        yield built
    finally:
        built.engine.close()


async def settle(pilot: Any, rounds: int = 2) -> None:
    """Let workers finish and their messages land (a few rounds: results start more work)."""
    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        await pilot.pause()
        for _attempt in range(10):
            try:
                await pilot.app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                # An exclusive worker replaced by a newer one (a filter typed key by key) is cancelled
                # on purpose; wait again for the one that replaced it.
                await pilot.pause()
        await pilot.pause()
    await _tables_measured(pilot)


async def quiesce(pilot: Any, quiet: int = 2, limit: int = 200) -> None:
    """Let the app come to rest: until ``quiet`` checks in a row find no worker left and no message waiting
    on the app or its screen. `settle`'s fixed rounds wait as long on a quiet app as on a busy one; this
    waits only while something is still happening (a result that starts more work keeps it waiting), so
    the key-map cases, hundreds of presses in a row, spend their time on the keys and not on pauses."""
    from textual.worker import WorkerCancelled

    calm = 0
    for _ in range(limit):
        await pilot.pause()
        app = pilot.app
        if len(app.workers) or _messages_waiting(app):
            calm = 0
            # An exclusive worker replaced by a newer one is cancelled; the next check waits for that one.
            with contextlib.suppress(WorkerCancelled):
                await app.workers.wait_for_complete()
            continue
        calm += 1
        if calm >= quiet:
            break
    await _tables_measured(pilot)


def _messages_waiting(app: Any) -> bool:
    return any(node._message_queue.qsize() for node in (app, *app.screen.walk_children(with_self=True)))


async def _tables_measured(pilot: Any) -> None:
    """Wait until every DataTable on the screen has measured the rows it was given: DataTable sizes its
    columns on its next idle, so a frame taken before that shows header-wide, truncated columns (a loaded
    machine made the sync-status snapshots fail that way). `_require_update_dimensions` is Textual's own
    flag for it; there is no public one."""
    from textual.widgets import DataTable

    for _ in range(50):
        tables = pilot.app.screen.query(DataTable)
        if not any(getattr(table, "_require_update_dimensions", False) for table in tables):
            return
        await pilot.pause(0.02)


@pytest.fixture
def snap_compare(snap_compare: Any) -> Any:
    """pytest-textual-snapshot's comparison, with every text cursor still when the picture is taken."""

    def compare(app: Any, *args: Any, run_before: Any = None, **kwargs: Any) -> bool:
        async def before(pilot: Any) -> None:
            if run_before is not None:
                await run_before(pilot)
            await _still_cursors(pilot)

        return bool(snap_compare(app, *args, run_before=before, **kwargs))

    return compare


async def _still_cursors(pilot: Any) -> None:
    """Stop every text cursor's blink (hidden): a blinking cursor is drawn or not depending on when the
    frame is taken, and a loaded machine took the agent prompt's picture in the other half of the blink."""
    from textual.widgets import Input, TextArea

    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


_KEY_NAMES = {
    " ": "space",
    "#": "number_sign",
    "@": "at",
    "-": "minus",
    ":": "colon",
    "/": "slash",
    ".": "full_stop",
    ",": "comma",
    "'": "apostrophe",
    '"': "quotation_mark",
    "?": "question_mark",
    "!": "exclamation_mark",
}


async def type_text(pilot: Any, text: str) -> None:
    """Type ``text`` key by key, as a person would."""
    await pilot.press(*[_KEY_NAMES.get(char, char) for char in text])
