"""What every pmtui screen shares: the backend it is handed, and errors turned into toasts.

Screens receive a :class:`Backend` in their constructor (never a global). Engine work runs in thread
workers of one shape; a worker that raises reaches :meth:`EngineScreen.on_worker_state_changed`,
which shows the error as a toast instead of ending the app.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from textual.binding import ActiveBinding
from textual.screen import ModalScreen, Screen
from textual.worker import WorkerState

from pmtui import paths
from pmtui.errors import PmtuiError

if TYPE_CHECKING:
    from pmtui.config import Settings
    from pmtui.core.engine import Engine, EngineEvent
    from pmtui.core.orchestrator import AgentOrchestrator
    from pmtui.models import Action, ActionResult, Service, SyncRun

log = logging.getLogger("pmtui.tui")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current instant (UTC)."""
    return datetime.now(UTC)


class Backend:
    """The engine plus what the screens need around it: the clock, the orchestrator (built lazily).

    The orchestrator's planner may import heavy modules (litellm), so it is built on first use, in a
    worker thread, never on the start path. So may the engine itself (:attr:`engine`, given an
    ``opener``): the app's first frame is drawn from the filed answer, and importing DuckDB and opening
    the cache (about 0.13 s of CPU) then happen after it, in the thread that first needs the engine.
    """

    def __init__(
        self,
        engine: Engine | None,
        *,
        clock: Clock = system_clock,
        history_path: Path | None = None,
        opener: Callable[[], Engine] | None = None,
        settings: Settings | None = None,
        cache_path: Path | None = None,
    ):
        if engine is None and (opener is None or settings is None):
            raise ValueError("a Backend needs an engine, or an opener and the settings")
        self._engine = engine
        self._opener = opener
        self._opening = threading.Lock()
        self._settings = settings
        self._cache_path = cache_path
        self.clock = clock
        self.history_path = history_path
        self._orchestrator: AgentOrchestrator | None = None
        self._lock = threading.Lock()
        self.planner_note: str | None = None
        self.listeners: list[Callable[[EngineEvent], None]] = []
        self.cancel = threading.Event()
        """Set when the app quits: a running sync stops at its next safe point (nothing half-written)."""
        self.syncing = threading.Event()
        """Set while a sync runs in a worker thread (the quit path waits a moment for it)."""
        self._turn = threading.Lock()
        """One sync at a time in this process: the app's own, or a round a `pmtui sync` handed over."""

    @property
    def engine(self) -> Engine:
        """The engine, opened on first use (by whichever thread needs it first) when deferred."""
        engine = self._engine
        if engine is None:
            with self._opening:
                if self._engine is None:
                    assert self._opener is not None
                    opened = self._opener()
                    opened.on_event = self.emit
                    self._engine = opened
                engine = self._engine
        return engine

    @engine.setter
    def engine(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def settings(self) -> Settings:
        """The engine's settings, known before it is open."""
        if self._engine is not None:
            return self._engine.settings
        assert self._settings is not None
        return self._settings

    @property
    def cache_path(self) -> Path | None:
        """The cache file (None in memory), known before the engine is open: its change marker and the
        answers filed for it."""
        return self._engine.store.path if self._engine is not None else self._cache_path

    @property
    def engine_open(self) -> bool:
        """Whether the engine has been opened (a deferred one opens on first use)."""
        return self._engine is not None

    @property
    def files_answers(self) -> bool:
        """Whether this cache is the data folder's, whose answers `pmtui briefing` files: a deferred
        engine is always opened from the data folder."""
        return self._engine.files_answers if self._engine is not None else self.cache_path is not None

    def change_token(self) -> tuple[int, int] | None:
        """The cache's change marker (as :meth:`Store.change_token`), read without opening the engine."""
        return None if self.cache_path is None else paths.change_token(self.cache_path)

    def emit(self, event: EngineEvent) -> None:
        """The engine's event callback: hands each event to every listener (any thread)."""
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not break the engine's work
                log.exception("event listener failed")

    @property
    def store(self) -> Any:
        return self.engine.store

    def now(self) -> datetime:
        """The app's "now" (fixed in snapshot tests)."""
        return self.clock()

    def tz(self) -> tzinfo:
        """The user's time zone."""
        zone: tzinfo = self.settings.tzinfo()
        return zone

    def orchestrator(self) -> AgentOrchestrator:
        """The orchestrator over this engine (call from a worker: the first call builds the planner)."""
        with self._lock:
            if self._orchestrator is None:
                from pmtui.core.agent import make_planner
                from pmtui.core.orchestrator import AgentOrchestrator

                planner, self.planner_note = make_planner(self.engine.settings)
                self._orchestrator = AgentOrchestrator(self.engine, planner)
            return self._orchestrator

    def run_action(self, action: Action) -> ActionResult:
        """One action from a key press, routed and journaled like any plan (call from a worker)."""
        return self.orchestrator().execute_action(action)

    def sync(
        self, services: list[Service] | None, on_progress: Callable[[EngineEvent], None] | None = None
    ) -> list[SyncRun] | None:
        """Sync ``services`` (all when None); None when the engine has no sync yet."""
        runner = getattr(self.engine, "sync", None)
        if not callable(runner):
            return None
        with self._turn:
            self.syncing.set()
            try:
                runs: list[SyncRun] = runner(services, on_progress=on_progress, cancel=self.cancel)
            finally:
                self.syncing.clear()
        return runs

    # A `pmtui sync` of this home hands its round to the open app (pmtui.engine_link).
    def admit_round(self, asked: list[str] | None) -> list[str] | str:
        """The services a handed-over round syncs: any the app syncs (every configured one)."""
        from pmtui.engine_link import admit_services

        configured = [service.value for service in self.engine.configured_services()]
        return admit_services(asked, configured, configured)

    def run_round(self, names: list[str], send: Callable[[Any], None]) -> dict[str, Any] | str:
        """Sync ``names`` after the app's own sync, if one runs; what the command prints, or why not.

        Its progress reaches the app's listeners too (the status line), and its writes the open screens
        through the change marker, as any sync's.
        """
        from pmtui.headless import plain
        from pmtui.models import Service
        from pmtui.sync_output import forwarding

        runs = self.sync([Service(name) for name in names], on_progress=forwarding(self.emit, [send]))
        if runs is None or self.cancel.is_set():
            return "the app is closing" if runs is not None else "this engine cannot sync"
        return {"runs": plain(runs), "open_conflicts": len(self.store.conflicts())}


def error_text(error: BaseException, doing: str | None = None) -> str:
    """What a toast says about ``error``: a pmtui error's own text and hint; otherwise a generic line."""
    if isinstance(error, PmtuiError):
        return error.user_text()
    where = f" while {doing}" if doing else ""
    return f"Something went wrong{where}. The details are in the log file (pmtui.jsonl)."


def report_error(screen: Screen[Any], error: BaseException, doing: str | None = None) -> None:
    """Log ``error`` and show it as a toast, never as a traceback."""
    if isinstance(error, PmtuiError):
        log.warning("action failed: %s", error, extra={"doing": doing})
    else:
        log.error("unexpected error%s", f" while {doing}" if doing else "", exc_info=error)
    screen.app.notify(error_text(error, doing), title="Error", severity="error", timeout=10)


class ErrorToastMixin:
    """Turns a failed worker into a toast (every screen, modal or not)."""

    def on_worker_state_changed(self, event: Any) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            doing = (event.worker.description or event.worker.name or "").replace("_", " ").strip() or None
            report_error(self, event.worker.error, doing)  # type: ignore[arg-type]
            self.worker_failed(event.worker.group, event.worker.error)

    def worker_failed(self, group: str, error: BaseException) -> None:
        """Hook: a worker of ``group`` failed (already shown as a toast)."""


class EngineScreen(ErrorToastMixin, Screen[None]):
    """A main screen: holds the backend, reloads when the app's data changes."""

    def __init__(self, backend: Backend, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend
        self._stale = False

    def on_mount(self) -> None:
        self.watch(self.app, "data_version", self._data_changed, init=False)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The active bindings with the app's own first: the footer draws them in this order and cuts
        from the right, so at 80 columns it keeps q (quit), ? (help) and : (ask)."""
        bindings = super().active_bindings
        first = {key: b for key, b in bindings.items() if b.node is self.app}
        return first | {key: b for key, b in bindings.items() if b.node is not self.app}

    def refresh_data(self) -> None:
        """``r``: read this screen's data again (screens that fetch more override it)."""
        self.reload()

    def _data_changed(self, _version: int) -> None:
        if self.app.screen is self:
            self.reload()
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def reload(self) -> None:
        """Read this screen's data again (in a worker)."""

    def data_changed(self) -> None:
        """Tell every screen that the cache changed (after an action or a sync)."""
        bump = getattr(self.app, "bump_data", None)
        if callable(bump):
            bump()


class EngineModal(ErrorToastMixin, ModalScreen[Any]):
    """A modal that may run engine work."""

    def __init__(self, backend: Backend, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend


def result_line(result: ActionResult) -> str:
    """One line about an action's result, for a toast."""
    from pmtui.models import ResultStatus

    if result.status is ResultStatus.FAILED:
        hint = f"\n  hint: {result.hint}" if result.hint else ""
        return f"{result.message}: {result.error}{hint}" if result.message else f"{result.error}{hint}"
    key = f" [{result.key}]" if result.key else ""
    return f"{result.message}{key}" if result.message else result.status.value


def severity_of(result: ActionResult) -> Literal["information", "warning", "error"]:
    """How loud a result's toast is: failed is an error, queued for later a warning."""
    from pmtui.models import ResultStatus

    if result.status is ResultStatus.FAILED:
        return "error"
    if result.status in (
        ResultStatus.QUEUED,
        ResultStatus.SKIPPED,
        ResultStatus.COMPENSATED,
        ResultStatus.CONFLICT,
    ):
        return "warning"
    return "information"
