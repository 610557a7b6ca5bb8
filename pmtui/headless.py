"""`pmtui sync` as a front end: its output, its signals, its watch loop and its exit codes, kept apart.

The command in :mod:`pmtui.cli` only parses options and wires these together. Progress comes from the
engine's events (``sync-start``, ``sync-page``, ``sync-done``), delivered from the services' worker
threads: on a terminal a Rich progress display, otherwise JSON lines with the same counts.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pmtui.config import Settings
from pmtui.models import Service, SyncRun

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFLICTS = 3
EXIT_CANCELLED = 130

NOT_OK = ("failed", "rate-limited", "cancelled", "skipped")


def exit_code(runs: Sequence[SyncRun], open_conflicts: int) -> int:
    """130 when the user stopped it, 1 when a service did not sync, 3 when conflicts wait, else 0."""
    if any(run.status == "cancelled" for run in runs):
        return EXIT_CANCELLED
    if any(run.status in NOT_OK for run in runs):
        return EXIT_FAILED
    return EXIT_CONFLICTS if open_conflicts else EXIT_OK


class Interrupts:
    """The first Ctrl-C (or SIGTERM) asks the sync to stop after the current write; a second Ctrl-C quits.

    Stopping at a safe point keeps every stored page and the cursor before it, so a rerun resumes. The
    second Ctrl-C leaves with exit 130 at once: DuckDB drops the transaction that was open, and the
    journal settles any remote step whose outcome was unknown at the next start.
    """

    def __init__(self, stop: threading.Event, say: Callable[[str], None]) -> None:
        self.stop = stop
        self._say = say
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.stop.is_set() and signum == signal.SIGINT:
            self._say("aborted")
            os._exit(EXIT_CANCELLED)
        self.stop.set()
        self._say("stopping after the current write… (Ctrl-C again to quit at once)")


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
        service = event.data.get("service")
        if not service:
            return
        if self.as_json:
            if event.kind == "sync-page":
                counts = {k: event.data[k] for k in ("pages", "items", "skipped", "requests", "budget_left")}
                self._line(json.dumps({"event": "progress", "service": service, **counts}))
            return
        progress = self._ensure_progress()
        with self._lock:
            task = self._tasks.get(service)
            if task is None:
                task = self._tasks[service] = progress.add_task(
                    Service(service).label, total=None, counts="starting"
                )
        if event.kind == "sync-page":
            data = event.data
            progress.update(
                task,
                counts=f"{data['pages']} page(s) · {data['items']} item(s) · {data['requests']} request(s) · "
                f"{data['budget_left']} left in the budget",
            )
        elif event.kind == "sync-done":
            run: SyncRun = event.data["run"]
            progress.update(task, counts=run.status, total=1, completed=1)

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

    def runs(self, runs: Sequence[SyncRun], open_conflicts: int) -> None:
        """One line (or JSON object) per service run, then what waits for the user."""
        self.finish()
        for run in runs:
            if self.as_json:
                self._line(json.dumps(run.model_dump(mode="json")))
                continue
            mark = {"ok": "ok  ", "cancelled": "STOP", "rate-limited": "WAIT", "skipped": "SKIP"}.get(
                run.status, "FAIL"
            )
            self._line(
                f"[{mark}] {run.service.label:<7} {run.pulled} pulled · {run.pushed} pushed · "
                f"{run.conflicts} conflicts · {run.requests} requests · {run.duration_ms / 1000:.1f} s"
            )
            if run.error:
                self._line(f"       {run.error}")
            for item in run.skipped[:5]:
                self._line(f"       skipped {item}")
            if len(run.skipped) > 5:
                self._line(f"       … and {len(run.skipped) - 5} more skipped")
        if self.as_json:
            return
        if any(run.status == "cancelled" for run in runs):
            done = [run.service.label for run in runs if run.status == "ok"]
            stopped = [run.service.label for run in runs if run.status == "cancelled"]
            self._line(
                f"stopped: {', '.join(done) or 'nothing'} synced; {', '.join(stopped)} not finished "
                "(the pages stored so far are kept; `pmtui sync` resumes)"
            )
        if open_conflicts:
            self._line(f"{open_conflicts} conflict(s) wait for you: `pmtui conflicts`, or press 4 in `pmtui`")


def sync_once(
    settings: Settings,
    services: Sequence[Service] | None,
    *,
    json_output: bool,
    verbose: bool,
    say: Callable[[str], None],
) -> int:
    """`pmtui sync` without --watch: one round, the mirror if due, the runs; returns the exit code.

    Shared by the Typer command and :mod:`pmtui.launch`, which runs the plain forms of `pmtui sync`
    without importing Typer (a quiet round is short enough that Typer's import and parsing were a
    sixth of the process's CPU).
    """
    from pmtui.core.engine import Engine

    output = SyncOutput(as_json=json_output or not sys.stdout.isatty(), verbose=verbose)
    stop = threading.Event()
    with Engine.open(settings) as engine, Interrupts(stop, say):
        wanted = list(services or engine.configured_services())
        if not wanted:
            say("no service is configured: `pmtui doctor` shows how (or try `pmtui demo`)")
            return EXIT_FAILED
        runs = engine.sync(wanted, on_progress=output.event, cancel=stop)
        if not stop.is_set():
            mirror_after_sync(engine, settings, quiet=output.as_json, say=say)
        open_conflicts = len(engine.store.conflicts())
        output.runs(runs, open_conflicts)
        return exit_code(runs, open_conflicts)


def mirror_after_sync(engine: Any, settings: Settings, *, quiet: bool, say: Callable[[str], None]) -> None:
    """Mirror after a sync when enabled and due: a failure is a line on stderr and a recorded decision."""
    if not settings.mirror.enabled:
        return
    from pmtui.core.mirror import mirror_after_sync as run_mirror

    report = run_mirror(engine.store, settings)
    if report is None:
        return
    if not report.ok:
        say(f"[FAIL] mirror: {report.error_text()} (retried at the next sync; `pmtui mirror` retries now)")
    elif not quiet:
        say(f"[ok  ] mirror: {report.merged} row(s) merged into {report.target} in {report.seconds:.1f} s")


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


def watch(
    engine: Any,
    services: Sequence[Service],
    *,
    interval: float,
    stop: threading.Event,
    output: SyncOutput,
    wakeups: Any = None,
    after_run: Callable[[], None] = lambda: None,
) -> list[SyncRun]:
    """Keep every service syncing on its own schedule until ``stop``; returns each service's last run.

    The first round syncs all of them together (Motion after the others); then each service waits its
    interval (or its rate limit's end, if later) in its own thread, and a webhook delivery wakes its
    service at once. Between runs no process holds the cache.
    """
    from pmtui.answers import refresh_quietly  # after each run: the next briefing then skips DuckDB
    from pmtui.core.sync_runner import run_services

    last: dict[Service, SyncRun] = {}
    first = engine.sync(list(services), on_progress=output.event, cancel=stop)
    last.update({run.service: run for run in first})
    output.runs(first, len(engine.store.conflicts()))
    after_run()
    refresh_quietly(engine.store)
    wake = {service: threading.Event() for service in services}
    print_lock = threading.Lock()

    def loop(service: Service) -> None:
        while not stop.is_set():
            run = last.get(service)
            delay = interval
            if run is not None and run.status == "rate-limited" and run.retry_at is not None:
                delay = max(delay, (run.retry_at - _now()).total_seconds())
            deadline = time.monotonic() + delay
            while not stop.is_set() and not wake[service].is_set() and time.monotonic() < deadline:
                wake[service].wait(0.5)
            wake[service].clear()
            if stop.is_set():
                return
            runs = run_services(engine, [service], emit=output.event, cancel=stop)
            with print_lock:
                last.update({r.service: r for r in runs})
                output.runs(runs, len(engine.store.conflicts()))
                after_run()
                refresh_quietly(engine.store)

    threads = [
        threading.Thread(target=loop, args=(service,), name=f"pmtui-watch-{service.value}", daemon=True)
        for service in services
    ]
    for thread in threads:
        thread.start()
    while not stop.is_set():
        if wakeups is None:
            stop.wait(0.5)
            continue
        try:
            request = wakeups.get(timeout=0.5)
        except queue.Empty:
            continue
        if request.service in wake:
            wake[request.service].set()
    for thread in threads:
        thread.join()
    return [last[s] for s in services if s in last]


def _now() -> Any:
    from pmtui.models import utcnow

    return utcnow()


def settings_interval(settings: Settings, interval: int | None) -> float:
    """Seconds between a service's runs under --watch."""
    return float(interval or settings.sync.interval_seconds)
