"""What `pmtui sync` prints: the progress as it goes, a line per service run, and the exit code.

Kept apart from the engine, over plain JSON values, for two writers that must print the same thing: the
process that syncs (:mod:`pmtui.headless`, from the engine's events and ``SyncRun`` models) and a
`pmtui sync` that handed its round to a running engine (:mod:`pmtui.engine_link`, from the messages
that engine sends). A leaf of the stdlib and :mod:`pmtui.kinds`: the second must not import pydantic.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pmtui.kinds import Service

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFLICTS = 3
EXIT_CANCELLED = 130

NOT_OK = ("failed", "rate-limited", "cancelled", "skipped")
COUNTS = ("pages", "items", "skipped", "requests", "budget_left")
"""A ``sync-page`` event's counts, in the order the JSON progress lines give them."""


def exit_code_of(statuses: Iterable[str], open_conflicts: int) -> int:
    """130 when the user stopped it, 1 when a service did not sync, 3 when conflicts wait, else 0."""
    seen = set(statuses)
    if "cancelled" in seen:
        return EXIT_CANCELLED
    if seen & set(NOT_OK):
        return EXIT_FAILED
    return EXIT_CONFLICTS if open_conflicts else EXIT_OK


def progress_of(event: Any) -> dict[str, Any] | None:
    """An engine event as the plain progress it shows (None for events that show nothing).

    ``{"kind": "sync-start" | "sync-page" | "sync-done", "service": name, ...}`` with the page counts
    for ``sync-page`` and the run's status for ``sync-done``: what a running engine sends a delegated
    `pmtui sync`, and what :meth:`SyncOutput.event` shows in the process that syncs.
    """
    service = event.data.get("service")
    if not service:
        return None
    shown: dict[str, Any] = {"kind": event.kind, "service": str(service)}
    if event.kind == "sync-page":
        shown.update({key: event.data[key] for key in COUNTS})
    elif event.kind == "sync-done":
        shown["status"] = event.data["run"].status
    return shown


def forwarding(show: Callable[[Any], None], sends: Sequence[Callable[[Any], None]]) -> Callable[[Any], None]:
    """An engine event callback for a round another process asked for: this process's own ``show``, and
    the progress sent to each asker (:mod:`pmtui.engine_link`)."""
    if not sends:
        return show

    def both(event: Any) -> None:
        show(event)
        shown = progress_of(event)
        if shown is not None:
            for send in sends:
                send({"progress": shown})

    return both


class SyncOutput:
    """Shows a sync as it goes and the runs when they end: Rich on a terminal, JSON lines otherwise."""

    def __init__(self, *, as_json: bool, verbose: bool = False) -> None:
        self.as_json = as_json
        self._lock = threading.Lock()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        if verbose:
            _log_requests()

    # The engine calls this from the services' threads.
    def event(self, event: Any) -> None:
        """One engine event: a service started, stored a page, or ended."""
        shown = progress_of(event)
        if shown is not None:
            self.show(shown)

    def show(self, shown: Mapping[str, Any]) -> None:
        """One piece of progress, as :func:`progress_of` gives it."""
        kind, service = shown["kind"], shown["service"]
        if self.as_json:
            if kind == "sync-page":
                counts = {key: shown[key] for key in COUNTS}
                self._line(json.dumps({"event": "progress", "service": service, **counts}))
            return
        progress = self._ensure_progress()
        with self._lock:
            task = self._tasks.get(service)
            if task is None:
                task = self._tasks[service] = progress.add_task(
                    Service(service).label, total=None, counts="starting"
                )
        if kind == "sync-page":
            progress.update(
                task,
                counts=f"{shown['pages']} page(s) · {shown['items']} item(s) · "
                f"{shown['requests']} request(s) · {shown['budget_left']} left in the budget",
            )
        elif kind == "sync-done":
            progress.update(task, counts=shown["status"], total=1, completed=1)

    def _ensure_progress(self) -> Any:
        with self._lock:
            if self._progress is None:
                from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

                self._progress = Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description:<7}"),
                    TextColumn("{task.fields[counts]}"),
                    TimeElapsedColumn(),
                    transient=True,
                )
                self._progress.start()
            return self._progress

    def _line(self, text: str) -> None:
        with self._lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def finish(self) -> None:
        """Take the live display down (before the summary lines)."""
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
                self._tasks.clear()

    def runs(self, runs: Sequence[Mapping[str, Any]], open_conflicts: int) -> None:
        """One line (or JSON object) per service run (``SyncRun`` in JSON form), then what waits."""
        self.finish()
        for run in runs:
            if self.as_json:
                self._line(json.dumps(run))
                continue
            self._run_lines(run)
        if self.as_json:
            return
        statuses = [(Service(run["service"]).label, run["status"]) for run in runs]
        if any(status == "cancelled" for _, status in statuses):
            done = [label for label, status in statuses if status == "ok"]
            stopped = [label for label, status in statuses if status == "cancelled"]
            self._line(
                f"stopped: {', '.join(done) or 'nothing'} synced; {', '.join(stopped)} not finished "
                "(the pages stored so far are kept; `pmtui sync` resumes)"
            )
        if open_conflicts:
            self._line(f"{open_conflicts} conflict(s) wait for you: `pmtui conflicts`, or press 4 in `pmtui`")

    def _run_lines(self, run: Mapping[str, Any]) -> None:
        mark = {"ok": "ok  ", "cancelled": "STOP", "rate-limited": "WAIT", "skipped": "SKIP"}.get(
            run["status"], "FAIL"
        )
        self._line(
            f"[{mark}] {Service(run['service']).label:<7} {run['pulled']} pulled · {run['pushed']} pushed · "
            f"{run['conflicts']} conflicts · {run['requests']} requests · {run['duration_ms'] / 1000:.1f} s"
        )
        if run["error"]:
            self._line(f"       {run['error']}")
        skipped = list(run["skipped"])
        for item in skipped[:5]:
            self._line(f"       skipped {item}")
        if len(skipped) > 5:
            self._line(f"       … and {len(skipped) - 5} more skipped")


def _log_requests() -> None:
    """``-v``: every HTTP request the client libraries send, on stderr (secrets redacted as in the log)."""
    from pmtui.logs import redaction_filter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  %(name)s: %(message)s"))
    handler.addFilter(redaction_filter())
    for name, level in (("httpx", logging.INFO), ("urllib3", logging.DEBUG), ("pmtui.limits", logging.INFO)):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
