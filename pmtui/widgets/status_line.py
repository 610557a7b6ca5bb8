"""The status line under every screen: each service's last sync, the outbox, open conflicts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from pmtui.core.board import StatusSummary, ago, countdown

STATE_MARKS = {
    "ok": ("✓", "green"),
    "failed": ("✗", "red"),
    "running": ("…", "yellow"),
    "skipped": ("-", ""),
    "rate-limited": ("⏸", "yellow"),
    "cancelled": ("⊘", "yellow"),
}


def status_text(summary: StatusSummary, busy: str, now: datetime) -> Text:
    """The status line as styled text (pure, so tests and snapshots see the same thing)."""
    text = Text()
    shown = [s for s in summary.services if s.configured or s.last_status]
    if not shown:
        text.append("no services configured", style="dim")
    for index, service in enumerate(shown):
        if index:
            text.append("  ")
        mark, style = STATE_MARKS.get(service.last_status or "", ("·", "dim"))
        text.append(f"{service.service.label} ", style="bold")
        text.append(mark, style=style)
        left = countdown(service.retry_at, now) if service.last_status == "rate-limited" else None
        if left:
            text.append(f" rate-limited {left}", style="yellow")
        else:
            text.append(f" {ago(service.last_at, now)}", style="dim")
    text.append("  │  ", style="dim")
    text.append(f"outbox {summary.pending}", style="yellow" if summary.pending else "")
    if summary.failed:
        text.append(f"  failed {summary.failed}", style="red")
    text.append(f"  conflicts {summary.conflicts}", style="magenta bold" if summary.conflicts else "")
    text.append(f"  tasks {summary.tasks:,}", style="dim")
    if busy:
        text.append(f"  │  {busy}", style="yellow")
    return text


class StatusLine(Static):
    """Shows :class:`StatusSummary` and what runs in the background; the app sets its attributes."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    summary: reactive[StatusSummary] = reactive(StatusSummary.empty, always_update=True)
    busy: reactive[str] = reactive("")

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__("")
        self._clock = clock or (lambda: datetime.now(UTC))

    def on_mount(self) -> None:
        self.set_interval(30, self._refresh_text)
        self.set_interval(1, self._tick)
        # The app owns the data; the line follows its reactives when the app has them.
        if hasattr(self.app, "status"):
            self.watch(self.app, "status", self._set_summary)
        if hasattr(self.app, "sync_busy"):
            self.watch(self.app, "sync_busy", self._set_busy)

    def _set_summary(self, summary: StatusSummary) -> None:
        self.summary = summary

    def _set_busy(self, busy: str) -> None:
        self.busy = busy

    def watch_summary(self) -> None:
        self._refresh_text()

    def watch_busy(self) -> None:
        self._refresh_text()

    def _tick(self) -> None:
        """Redraw each second while a rate-limit countdown runs (and only then)."""
        if any(s.last_status == "rate-limited" and s.retry_at for s in self.summary.services):
            self._refresh_text()

    def _refresh_text(self) -> None:
        self.update(status_text(self.summary, self.busy, self._clock()))
