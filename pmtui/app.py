"""The Textual app: screens by number key, the agent prompt on `:`, a status line, toasts, a command palette.

Built only by :func:`make_app` (the CLI, ``pmtui demo`` and the tests all use it). The app is handed its
engine; every engine call runs in a thread worker, so no frame waits on the network or on a query.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App, InvalidThemeError, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import WorkerState

from pmtui.core.board import StatusSummary, status_summary
from pmtui.idle_gc import IdleCollector
from pmtui.screens.base import Backend, Clock, error_text, system_clock

if TYPE_CHECKING:
    from pmtui.config import Settings
    from pmtui.core.engine import Engine, EngineEvent
    from pmtui.models import Service, SyncRun

log = logging.getLogger("pmtui.tui")

NO_SERVICES_TEXT = (
    "No service is connected yet: run `pmtui config init` to connect Motion, Linear, Notion or GitLab, "
    "or `pmtui demo` to try pmtui against the local emulators."
)
"""What a sync says when there is nothing to sync, instead of "pulled 0"."""

SCREENS = Binding.Group("Screens", compact=True)
"""The number keys, shown together in the footer as ``1234 Screens``."""

BACKGROUND_AFTER_S = 1.0
"""The latest moment after start at which the status read and the recovery begin, data drawn or not."""

MODES: tuple[tuple[str, str, str], ...] = (
    # (mode, key, title)
    ("briefing", "1", "Briefing"),
    ("board", "2", "Board"),
    ("sync", "3", "Sync"),
    ("conflicts", "4", "Conflicts"),
)


SCREEN_CLASSES: dict[str, str] = {
    "briefing": "pmtui.screens.briefing:BriefingScreen",
    "board": "pmtui.screens.board:BoardScreen",
    "sync": "pmtui.screens.sync_status:SyncStatusScreen",
    "conflicts": "pmtui.screens.conflicts:ConflictsScreen",
}
"""Each mode's screen class, as ``module:name``: imported when first needed (see ``_mode_screen``)."""


def _screen_class(path: str) -> Callable[[Backend], Screen[Any]]:
    module, _, name = path.partition(":")
    factory: Callable[[Backend], Screen[Any]] = getattr(importlib.import_module(module), name)
    return factory


class EngineEventMessage(Message):
    """An engine event (step, sync progress) delivered on the UI thread; a flood of one kind coalesces."""

    def __init__(self, event: EngineEvent) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EngineEventMessage) and message.event.kind == self.event.kind


class SyncFinished(Message):
    """A sync ended (``runs`` is None when the engine has no sync yet)."""

    def __init__(self, runs: list[SyncRun] | None, background: bool) -> None:
        super().__init__()
        self.runs = runs
        self.background = background


class StatusRead(Message):
    def __init__(self, summary: StatusSummary) -> None:
        super().__init__()
        self.summary = summary


class PmtuiApp(App[None]):
    """The pmtui command centre."""

    CSS_PATH = "app.tcss"
    TITLE = "pmtui"

    # The global keys (docs/keys.md): they mean the same on every screen, and no screen reuses one.
    # The footer shows the app's keys first (see EngineScreen.active_bindings), so at 80 columns
    # q, ? and : are never the ones cut off.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("colon,5", "agent", "Ask", id="app.agent"),
        Binding("1", "go('briefing')", "Briefing", id="app.briefing", group=SCREENS),
        Binding("2", "go('board')", "Board", id="app.board", group=SCREENS),
        Binding("3", "go('sync')", "Sync", id="app.sync", group=SCREENS),
        Binding("4", "go('conflicts')", "Conflicts", id="app.conflicts", group=SCREENS),
        Binding("ctrl+k", "agent", "Ask", show=False, id="app.agent_palette"),
        Binding("r", "refresh", "Refresh", show=False, id="app.refresh"),
        Binding("slash", "filter", "Filter the board", show=False, id="app.filter"),
        Binding("S", "sync_all", "Sync all services", show=False, id="app.sync_all"),
        Binding("u,ctrl+z", "undo", "Undo", show=False, id="app.undo"),
    ]

    data_version: reactive[int] = reactive(0, init=False)
    status: reactive[StatusSummary] = reactive(StatusSummary.empty, always_update=True, init=False)
    sync_busy: reactive[str] = reactive("", init=False)

    def __init__(self, backend: Backend, *, auto_sync: bool = True, serve_key: str | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.serve_key = serve_key
        """With it (the key the settings were loaded under), a `pmtui sync` of this home hands its round
        to the app once its first frame is drawn (:mod:`pmtui.engine_link`)."""
        self._server: Any = None
        self.start_error: Exception | None = None
        """Why the cache could not be opened after the first frame (the app then exits with it)."""
        self.settings = backend.settings
        self.auto_sync = auto_sync
        self._syncing = False
        self._cache_token: tuple[int, int] | None = None
        self._history: list[str] | None = None
        self._background_started = False
        self._collector = IdleCollector()
        self._screens_imported = False
        for mode, screen_class in SCREEN_CLASSES.items():
            self.add_mode(mode, partial(self._mode_screen, screen_class, backend))
        backend.listeners.append(self._engine_event)
        keymap = dict(self.settings.ui.keymap)
        if keymap:
            self.set_keymap(keymap)

    def _mode_screen(self, screen_class: str, backend: Backend) -> Screen[Any]:
        """A mode's screen, made at its first visit, marked as styled by the app's current stylesheet.

        The screen's module is imported here, not with the app: only the briefing is needed for the
        first frame, and the other three screens' modules took 35-50 ms of the start (the app imports
        them at its first rest, :meth:`_at_rest`, so a first visit rarely waits for them).

        Textual compares a new mode screen's stylesheet generation (-1 until styled) with the app's and
        reparses and reapplies the whole stylesheet when they differ: twice at the first press of 2, 3
        or 4, because the first pass marks the screen being left. A screen made now has no styles yet:
        mounting styles each of its widgets from the current stylesheet anyway, so the passes repeat
        work a person waits for (80-90 ms per first visit at 50,000 tasks). A theme change still
        reaches it: that raises the app's generation, and Textual refreshes the screen then.
        """
        factory = _screen_class(screen_class)
        screen = factory(backend)
        screen._css_update_count = self._css_update_count
        return screen

    # --------------------------------------------------------------------------------- lifecycle

    def on_mount(self) -> None:
        self._cache_token = self.backend.change_token()
        self.set_interval(1.0, self._watch_cache)
        self.set_interval(1.0, self._at_rest)
        theme = self.settings.ui.theme
        try:
            self.theme = theme
        except InvalidThemeError:  # an unknown theme name must not stop the app
            self.notify(f"unknown theme {theme!r}; using textual-dark", severity="warning")
        self.switch_mode("briefing")
        # The status line's read (which may ask the OS keyring) and the journal's recovery run in worker
        # threads that share the interpreter with the first frame, so they start once the briefing has
        # drawn its data, or after a moment if it never does.
        self.set_timer(BACKGROUND_AFTER_S, self.start_background)
        if self.auto_sync:
            self.set_interval(self.settings.sync.interval_seconds, self._periodic_sync)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseEvent | events.Paste):
            self._collector.touched()  # no full garbage collection while a person is typing (pmtui.idle_gc)
        await super().on_event(event)

    def _at_rest(self) -> None:
        """Once a second: at rest (no key or mouse for a while), collect garbage (:mod:`pmtui.idle_gc`);
        at the first rest, also import the screens not shown yet, so their first visit does not."""
        self._collector.tick()
        if not self._screens_imported and self._collector.resting():
            self._screens_imported = True
            for path in SCREEN_CLASSES.values():
                _screen_class(path)

    def on_unmount(self) -> None:
        self._collector.release()
        if self._server is not None:
            self._server.close()

    def on_board_screen_rows_loaded(self, _event: Message) -> None:
        # The board's rows are drawn (the screen handled the message first): they stay alive, so the
        # collections before the next rest need not scan them (pmtui.idle_gc).
        self._collector.freeze()

    def on_briefing_screen_built(self, _event: Message) -> None:
        # The briefing's data is on screen once this refresh is drawn: background work may start.
        self.call_after_refresh(self.start_background)

    def on_briefing_screen_shown_filed(self, _event: Message) -> None:
        # The first frame has the filed briefing: open the cache and read the status line right after it.
        self.call_after_refresh(self.start_background)

    def start_background(self) -> None:
        """Read the status line and settle the journal, once (the first frame's data comes first)."""
        if self._background_started:
            return
        self._background_started = True
        self._collector.freeze()  # what the start made stays alive: no collection scans it again
        if self.backend.engine_open:
            self._engine_ready()
        else:
            self._open_engine()

    @work(thread=True, exclusive=True, exit_on_error=False, group="open", description="opening the cache")
    def _open_engine(self) -> None:
        """Open the cache after the first frame; one that cannot be opened ends the app with its error,
        as it ended the start before (a damaged cache, another process that never lets go)."""
        from pmtui.errors import PmtuiError

        try:
            self.backend.engine  # noqa: B018 - opens it
        except PmtuiError as exc:
            self.call_from_thread(self._cannot_open, exc)
            return
        self.call_from_thread(self._engine_ready)

    def _cannot_open(self, error: Exception) -> None:
        self.start_error = error
        self.exit(return_code=getattr(error, "exit_code", 1))

    def _engine_ready(self) -> None:
        """The engine is open: read the status line, settle the journal, take `pmtui sync` rounds."""
        self.refresh_status()
        self._recover()
        if self.serve_key:
            from pmtui.engine_link import EngineServer

            backend = self.backend
            self._server = EngineServer(
                self.serve_key, backend.admit_round, backend.run_round, by="pmtui app"
            )
            self._server.start()

    @work(thread=True, exclusive=True, exit_on_error=False, group="recover", description="recovering")
    def _recover(self) -> None:
        settled = self.backend.engine.recover()
        if settled:
            self.call_from_thread(
                self.notify, "\n".join(settled[:5]), title=f"recovered {len(settled)} step(s)", timeout=8
            )
            self.call_from_thread(self.bump_data)
        if self.auto_sync:
            self.call_from_thread(self.start_sync, None, True)

    def on_worker_state_changed(self, event: Any) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            if not isinstance(error, Exception):
                return
            from pmtui.errors import PmtuiError

            if not isinstance(error, PmtuiError):
                log.error("background work failed", exc_info=error)
            self.notify(
                error_text(error, event.worker.description or None),
                title="Error",
                severity="error",
                timeout=10,
            )
            if event.worker.group == "sync":
                self._syncing = False
                self.sync_busy = ""

    # ------------------------------------------------------------------------------------ data

    def _watch_cache(self) -> None:
        """Notice a write by any process (a sync, `pmtui do`, a webhook) within a second, and reload."""
        token = self.backend.change_token()
        if token != self._cache_token:
            self._cache_token = token
            self.bump_data()
            self._refresh_answers()

    @work(thread=True, exclusive=True, exit_on_error=False, group="answers", description="caching answers")
    def _refresh_answers(self) -> None:
        """After a change, file the answers `pmtui briefing` and `pmtui conflicts` give (pmtui.answers)."""
        from pmtui.answers import refresh

        refresh(self.backend.engine.store)

    async def action_quit(self) -> None:
        """Quit now: a running sync is asked to stop at its next safe point and is not waited for here."""
        self.backend.cancel.set()
        self.exit()

    def bump_data(self) -> None:
        """The cache changed: screens reload (the visible one now, others when shown) and the status line."""
        self.data_version += 1
        self.refresh_status()

    def refresh_status(self) -> None:
        """Read the status line's data again (in a worker)."""
        self._read_status()

    @work(thread=True, exclusive=True, exit_on_error=False, group="status", description="reading the status")
    def _read_status(self) -> None:
        engine = self.backend.engine
        self.post_message(StatusRead(status_summary(engine.store, engine.configured_services())))

    def on_status_read(self, message: StatusRead) -> None:
        self.status = message.summary

    def _engine_event(self, event: EngineEvent) -> None:
        self.post_message(EngineEventMessage(event))

    def on_engine_event_message(self, message: EngineEventMessage) -> None:
        event = message.event
        if self._syncing and event.message:
            self.sync_busy = f"syncing: {event.message}"[:60]

    # ------------------------------------------------------------------------------------ sync

    def start_sync(self, services: list[Service] | None = None, background: bool = False) -> None:
        """Sync ``services`` (all when None) in a worker; one sync at a time."""
        if self._syncing:
            if not background:
                self.notify("a sync is already running", timeout=3)
            return
        self._syncing = True
        names = ", ".join(s.label for s in services) if services else "every service"
        self.sync_busy = f"syncing {names}…"
        self._sync(services, background)

    def _periodic_sync(self) -> None:
        self.start_sync(None, background=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync", description="syncing")
    def _sync(self, services: list[Service] | None, background: bool) -> None:
        runs = self.backend.sync(services, on_progress=self._engine_event)
        self.post_message(SyncFinished(runs, background))

    def on_sync_finished(self, message: SyncFinished) -> None:
        self._syncing = False
        self.sync_busy = ""
        runs = message.runs or []
        failed = [run for run in runs if run.status == "failed"]
        if failed:
            lines = [f"{run.service.label}: {run.error or 'failed'}" for run in failed]
            self.notify("\n".join(lines), title="sync failed", severity="error", timeout=10)
        elif not runs and not message.background:
            self.notify(NO_SERVICES_TEXT, title="nothing to sync", severity="warning", timeout=8)
        elif not message.background:
            pulled = sum(run.pulled for run in runs)
            pushed = sum(run.pushed for run in runs)
            conflicts = sum(run.conflicts for run in runs)
            text = f"pulled {pulled}, pushed {pushed}"
            if conflicts:
                text += f", {conflicts} conflict(s) (4: resolve)"
            self.notify(text, title="sync done", timeout=4)
        self.bump_data()

    # --------------------------------------------------------------------------------- actions

    def action_go(self, mode: str) -> None:
        if isinstance(self.screen, Screen) and self.screen.is_modal:
            self.pop_screen()
        self.switch_mode(mode)

    def action_undo(self) -> None:
        """``u`` / ``ctrl+z``: undo the latest request (every step of it, on every service)."""
        self._undo()

    @work(thread=True, exclusive=True, exit_on_error=False, group="undo", description="undoing")
    def _undo(self) -> None:
        # The same undo as `pmtui undo`: each step merged with what the service holds now, so a
        # teammate's newer change is kept and becomes a conflict instead of being overwritten.
        from pmtui.errors import PmtuiError

        requests = self.backend.engine.requests
        if not requests.undoable():
            self.call_from_thread(self.notify, "nothing to undo", timeout=3)
            return
        try:
            report = requests.undo()
        except PmtuiError as exc:
            self.call_from_thread(self.notify, exc.user_text(), title="undo failed", severity="error")
            return
        lines = report.lines()
        severity = "warning" if report.conflicts else "information"
        title = "undone, with a conflict" if report.conflicts else "undone"
        self.call_from_thread(self.notify, "\n".join(lines[:5]), title=title, severity=severity, timeout=6)
        self.call_from_thread(self.bump_data)

    def action_refresh(self) -> None:
        """``r``: the screen reads its data again (the briefing syncs first; see docs/keys.md)."""
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh):
            refresh()

    def action_sync_all(self) -> None:
        self.start_sync(None)

    async def action_filter(self) -> None:
        """``/`` anywhere: the board, with its filter field focused."""
        if isinstance(self.screen, Screen) and self.screen.is_modal:
            return
        await self.switch_mode("board")
        await self.screen.run_action("filter")

    def action_agent(self) -> None:
        from pmtui.screens.agent_prompt import AgentPrompt, load_history

        if isinstance(self.screen, AgentPrompt):
            return
        if self._history is None:
            self._history = load_history(self.backend.history_path)
        self.push_screen(AgentPrompt(self.backend, history=self._history))

    def action_help(self) -> None:
        from pmtui.screens.modals import HelpScreen, binding_rows

        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        title = type(screen).__name__.replace("Screen", "") or "pmtui"
        self.push_screen(HelpScreen(title, binding_rows(screen)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, key, title in MODES:
            yield SystemCommand(
                f"Go to {title}",
                f"Switch to the {title.lower()} screen ({key})",
                partial(self.action_go, mode),
            )
        yield SystemCommand("Ask pmtui", "Open the agent prompt (:)", self.action_agent)
        yield SystemCommand("Help: keys", "List every key of this screen (?)", self.action_help)
        yield SystemCommand("Sync all services", "Pull, merge and push every service now", self.start_sync)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or (binding.id or "").startswith("app.") or binding.action in seen:
                continue
            seen.add(binding.action)
            name = type(screen).__name__.replace("Screen", "")
            yield SystemCommand(
                f"{name}: {binding.description}",
                f"key {self.get_key_display(binding)} · id {binding.id or '-'}",
                partial(self.run_action, binding.action, active.node),
            )


def make_app(
    settings: Settings,
    engine: Engine | None = None,
    *,
    clock: Clock | None = None,
    auto_sync: bool = True,
    history_path: Path | None = None,
    serve_key: str | None = None,
) -> PmtuiApp:
    """Build the app over ``engine`` (when not given, the data folder's, opened once the first frame is
    drawn: :meth:`PmtuiApp.start_background`).

    ``clock`` fixes "now" (snapshot tests); ``auto_sync`` runs a sync at start and every
    ``settings.sync.interval_seconds`` once the engine can sync; ``history_path`` keeps the agent
    prompt's history (default: ``prompt_history.txt`` in the data folder); ``serve_key`` lets a
    `pmtui sync` of this home hand its round to the app (see :class:`PmtuiApp`).
    """
    from pmtui import paths

    if history_path is None:
        history_path = paths.data_dir() / "prompt_history.txt"
    if engine is None:
        from pmtui.answers import cache_file

        backend = Backend(
            None,
            clock=clock or system_clock,
            history_path=history_path,
            opener=partial(_open_engine, settings),
            settings=settings,
            cache_path=cache_file(paths.data_dir()),
        )
    else:
        backend = Backend(engine, clock=clock or system_clock, history_path=history_path)
        engine.on_event = backend.emit
    return PmtuiApp(backend, auto_sync=auto_sync, serve_key=serve_key)


def _open_engine(settings: Settings) -> Engine:
    """The data folder's engine: opened after the first frame, in the thread that first needs it."""
    from pmtui.core.engine import Engine

    return Engine.open(settings)


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always says ``moment`` (for snapshots)."""
    return lambda: moment
