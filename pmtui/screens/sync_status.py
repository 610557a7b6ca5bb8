"""Sync health per service: last run, cursor, outbox, rate budget, last error and its fix; history."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from pmtui.core.board import ServiceStatus, StatusSummary, ago, countdown, status_summary
from pmtui.core.scan import SCAN_RESOURCE, ScanProgress, scan_progress
from pmtui.core.sync import Notice, attention_notices
from pmtui.models import REMOTE_SERVICES, JournalEntry, JournalState, Service, SyncRun
from pmtui.screens.base import Backend, EngineScreen, error_text
from pmtui.text import clean_block, clean_line
from pmtui.widgets.footer import KeyFooter
from pmtui.widgets.status_line import StatusLine
from pmtui.widgets.table import refill

GENERIC_HINT = "`pmtui doctor` checks the key, the ids and the connection"

SERVICE_COLUMNS = (
    "Service",
    "On",
    "Health",
    "Last sync",
    "Took",
    "↓ / ↑",
    "Outbox",
    "Conflicts",
    "Rate left",
    "Cursor",
)
HISTORY_COLUMNS = ("When", "Service", "Status", "Took", "Pulled", "Pushed", "Conflicts", "Requests", "Error")
ATTENTION_COLUMNS = ("Service", "Step", "Attempts", "Error")


@dataclass
class SyncOverview:
    """What the sync screen shows, read in one worker."""

    summary: StatusSummary
    runs: list[SyncRun]
    failed_steps: list[JournalEntry]
    notices: list[Notice]
    waiting: list[Waiting] = field(default_factory=list)
    """Local changes a service does not hold yet (the outbox), each with what and why."""
    scan: ScanProgress | None = None
    """Motion's full scan spread over syncs: how far the pass is, when it completes."""


@dataclass(frozen=True)
class Waiting:
    """One outbox entry as the sync screen lists it."""

    service: Service
    title: str
    what: str
    error: str | None
    attempts: int


@dataclass
class HealthLine:
    """The outcome of one service's health check."""

    ok: bool
    detail: str
    hint: str | None = None
    rate: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def duration_text(ms: int | None) -> str:
    if ms is None:
        return ""
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


class SyncStatusScreen(EngineScreen):
    """Each service's sync state; `s` syncs the selected service, `S` all, `H` checks health."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sync_one", "Sync this", id="sync.one"),
        Binding("H", "health", "Health", id="sync.health"),
        Binding("j", "cursor(1)", "Down", show=False, id="sync.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="sync.up"),
    ]

    class Loaded(Message):
        def __init__(self, overview: SyncOverview) -> None:
            super().__init__()
            self.overview = overview

    class HealthChecked(Message):
        def __init__(self, results: dict[Service, HealthLine]) -> None:
            super().__init__()
            self.results = results

    def __init__(self, backend: Backend, **kwargs: object) -> None:
        super().__init__(backend, **kwargs)
        self.overview: SyncOverview | None = None
        self.health: dict[Service, HealthLine] = {}
        self.checking = False

    def compose(self) -> ComposeResult:
        yield Static("Sync", id="sync-title", classes="screen-title")
        yield DataTable(id="sync-services", cursor_type="row", zebra_stripes=True)
        yield Static("", id="sync-detail")
        with TabbedContent(id="sync-tabs"):
            with TabPane("History", id="sync-history-tab"):
                yield DataTable(id="sync-history", cursor_type="row", zebra_stripes=True)
            with TabPane("Needs attention", id="sync-attention-tab"):
                yield DataTable(id="sync-attention", cursor_type="row", zebra_stripes=True)
        yield StatusLine(self.backend.clock)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        services = self.query_one("#sync-services", DataTable)
        services.add_columns(*SERVICE_COLUMNS)
        self.query_one("#sync-history", DataTable).add_columns(*HISTORY_COLUMNS)
        self.query_one("#sync-attention", DataTable).add_columns(*ATTENTION_COLUMNS)
        services.focus()
        self.reload()
        self.set_interval(1, self._tick)
        # The title says when a sync is running: show it as soon as it starts, not at the next reload.
        self.watch(self.app, "sync_busy", self._busy_changed, init=False)

    def _busy_changed(self, _busy: str) -> None:
        self._draw()

    def _tick(self) -> None:
        """Redraw each second while a rate-limited service counts down to its retry time."""
        overview = self.overview
        if overview is not None and any(
            s.last_status == "rate-limited" and s.retry_at for s in overview.summary.services
        ):
            self._draw()

    def reload(self) -> None:
        self._load()

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="sync-load", description="reading sync state"
    )
    def _load(self) -> None:
        store = self.backend.store
        from pmtui.core.writes import pending_changes

        pending = pending_changes(store)
        tasks = store.tasks_by_ids([entry.task_id for entries in pending.values() for entry, _ in entries])
        waiting = [
            Waiting(
                service,
                t.title if (t := tasks.get(entry.task_id)) else entry.task_id,
                what,
                entry.error,
                entry.attempts,
            )
            for service, entries in pending.items()
            for entry, what in entries
        ]
        overview = SyncOverview(
            summary=status_summary(store, self.backend.engine.configured_services()),
            runs=store.sync_runs(limit=50),
            failed_steps=store.journal_entries(states=[JournalState.FAILED]),
            notices=attention_notices(store),
            waiting=waiting,
            scan=scan_progress(store, self.backend.engine.settings),
        )
        self.post_message(self.Loaded(overview))

    def on_sync_status_screen_loaded(self, event: Loaded) -> None:
        self.overview = event.overview
        self._draw()

    def _draw(self) -> None:
        overview = self.overview
        if overview is None:
            return
        now = self.backend.now()
        busy = getattr(self.app, "sync_busy", "")
        title = Text.assemble(("Sync ", "bold"), (f"· {overview.summary.tasks:,} tasks in the cache", "dim"))
        if busy:
            title.append(f" · {busy}", style="yellow")
        self.query_one("#sync-title", Static).update(title)
        statuses = overview.summary.services
        refill(  # keeps the cursor where it was
            self.query_one("#sync-services", DataTable),
            SERVICE_COLUMNS,
            [self._service_cells(status, now) for status in statuses],
            keys=[status.service.value for status in statuses],
        )
        self._render_detail()
        tz = self.backend.tz()
        runs: list[list[Any]] = []
        for run in overview.runs:
            style = {"ok": "green", "failed": "red", "running": "yellow"}.get(run.status, "dim")
            error = run.error or (f"skipped {len(run.skipped)}: {run.skipped[0]}" if run.skipped else "")
            runs.append(
                [
                    run.started_at.astimezone(tz).strftime("%d %b %H:%M:%S"),
                    run.service.label,
                    Text(run.status, style=style),
                    duration_text(run.duration_ms),
                    str(run.pulled),
                    str(run.pushed),
                    str(run.conflicts),
                    str(run.requests),
                    error[:60],
                ]
            )
        if not overview.runs:
            runs.append(["no sync has run yet", "", "", "", "", "", "", "", ""])
        refill(self.query_one("#sync-history", DataTable), HISTORY_COLUMNS, runs)
        attention: list[list[Any]] = []
        for notice in overview.notices:
            attention.append([notice.source, notice.what, "", clean_line(notice.detail, limit=None)[:80]])
        for entry in overview.failed_steps:
            error = clean_line(entry.error, limit=None)[:80]
            attention.append([entry.service.label, entry.op, str(entry.attempts), error])
        failing = [w for w in overview.waiting if w.error]
        for waiting in failing:
            attention.append(
                [
                    waiting.service.label,
                    f"not pushed: {clean_line(waiting.title, limit=None)[:40]}",
                    str(waiting.attempts),
                    clean_line(waiting.error, limit=None)[:80],
                ]
            )
        if not attention:
            attention.append(["nothing needs attention", "", "", ""])
        refill(self.query_one("#sync-attention", DataTable), ATTENTION_COLUMNS, attention)

    def _service_cells(self, status: ServiceStatus, now: Any) -> list[Any]:
        health = self.health.get(status.service)
        if health is None:
            health_cell = Text(
                "checking…" if self.checking and status.configured else "H: check", style="dim"
            )
        else:
            health_cell = Text("healthy" if health.ok else "unhealthy", style="green" if health.ok else "red")
        state = {"ok": "green", "failed": "red", "running": "yellow", "rate-limited": "yellow"}.get(
            status.last_status or "", "dim"
        )
        left = countdown(status.retry_at, now) if status.last_status == "rate-limited" else None
        last = Text(
            f"rate-limited, {left} left"
            if left
            else (f"{status.last_status} {ago(status.last_at, now)}" if status.last_status else "never"),
            style=state,
        )
        cursor = (
            ", ".join(f"{name}={value}" for name, value in status.cursors if value and name != SCAN_RESOURCE)
            or "—"
        )
        scan = self.overview.scan if self.overview is not None else None
        if status.service is Service.MOTION and scan is not None and scan.in_progress:
            total = f"/{scan.pages_total}" if scan.pages_total else ""
            cursor = f"scan {scan.pages_done}{total} · {cursor}"
        return [
            Text(status.service.label, style="bold"),
            "yes" if status.configured else "no",
            health_cell,
            last,
            duration_text(status.duration_ms),
            f"{status.pulled} / {status.pushed}" if status.last_status else "",
            Text(str(status.pending), style="yellow" if status.pending else ""),
            Text(str(status.conflicts), style="magenta" if status.conflicts else ""),
            health.rate if health else "",
            cursor[:28],
        ]

    def _selected(self) -> Service | None:
        table = self.query_one("#sync-services", DataTable)
        if not table.row_count:
            return None
        index = table.cursor_row
        return REMOTE_SERVICES[index] if 0 <= index < len(REMOTE_SERVICES) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "sync-services":
            self._render_detail()

    def _render_detail(self) -> None:
        overview = self.overview
        service = self._selected()
        if overview is None or service is None:
            return
        status = next((s for s in overview.summary.services if s.service is service), None)
        if status is None:
            return
        text = Text()
        text.append(f"{service.label}: ", style="bold")
        if not status.configured:
            text.append("not configured. ", style="dim")
            text.append(
                f"fix: set PMTUI_{service.value.upper()}_API_KEY and [{service.value}] in config.toml; "
                f"{GENERIC_HINT}",
                style="dim",
            )
        health = self.health.get(service)
        if health is not None:
            text.append(clean_block(health.detail), style="green" if health.ok else "red")
            if health.hint:
                text.append(f"\n  fix: {health.hint}", style="yellow")
        if status.last_error:
            text.append(f"\n  last error: {clean_block(status.last_error)}", style="red")
            if not (health and health.hint):
                text.append(f"\n  fix: {GENERIC_HINT}", style="yellow")
        mine = [w for w in overview.waiting if w.service is service]
        if mine:
            text.append(f"\n  {len(mine)} local change(s) waiting to be pushed:", style="yellow")
            for waiting in mine[:5]:
                why = f" — {waiting.error}" if waiting.error else ""
                text.append(f"\n    {waiting.title[:50]!r} ({waiting.what}){why}", style="yellow")
        if status.failed:
            text.append(f"\n  {status.failed} outbox step(s) failed: see Needs attention", style="red")
        scan = overview.scan
        if service is Service.MOTION and scan is not None and (scan.in_progress or scan.spreads):
            text.append(f"\n  {scan.line()}", style="cyan")
        if status.configured and health is None and not status.last_error:
            text.append("press H to ask the service how it is (account, ids, rate budget)", style="dim")
        self.query_one("#sync-detail", Static).update(text)

    # -------------------------------------------------------------------------------- actions

    def action_cursor(self, step: int) -> None:
        """``j`` / ``k``: the focused table's cursor (the services table when none has focus)."""
        focused = self.focused
        table = focused if isinstance(focused, DataTable) else self.query_one("#sync-services", DataTable)
        if step > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def action_sync_one(self) -> None:
        service = self._selected()
        if service is not None:
            self._start_sync([service])

    def action_sync_all(self) -> None:
        self._start_sync(None)

    def _start_sync(self, services: list[Service] | None) -> None:
        start = getattr(self.app, "start_sync", None)
        if not callable(start):
            return
        start(services)

    def action_health(self) -> None:
        self.checking = True
        self._draw()
        self._check_health(self.backend.engine.configured_services())

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="sync-health", description="checking health"
    )
    def _check_health(self, services: list[Service]) -> None:
        engine = self.backend.engine

        def check(service: Service) -> HealthLine:
            try:
                health = engine.integration(service).health()
            except Exception as exc:  # noqa: BLE001 - one service failing must not hide the others' answers
                hint = getattr(exc, "hint", None)
                return HealthLine(ok=False, detail=error_text(exc, f"checking {service.label}"), hint=hint)
            rate = ""
            if health.rate_remaining is not None:
                limit = f"/{int(health.rate_limit)}" if health.rate_limit is not None else ""
                rate = f"{int(health.rate_remaining)}{limit}"
            account = f" as {health.account}" if health.account else ""
            return HealthLine(ok=health.ok, detail=f"{health.detail}{account}", hint=health.hint, rate=rate)

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = dict(zip(services, pool.map(check, services), strict=True))
        self.post_message(self.HealthChecked(results))

    def on_sync_status_screen_health_checked(self, event: HealthChecked) -> None:
        self.checking = False
        self.health.update(event.results)
        bad = [s.label for s, h in event.results.items() if not h.ok]
        self.notify(
            "unhealthy: " + ", ".join(bad) if bad else "every configured service answered",
            title="health",
            severity="warning" if bad else "information",
        )
        self._draw()

    def worker_failed(self, group: str, error: BaseException) -> None:
        if group == "sync-health":
            self.checking = False
            self._draw()
