"""`pmtui sync` as a front end: its output, its signals, its watch loop and its exit codes, kept apart.

The command in :mod:`pmtui.cli` only parses options and wires these together. Progress comes from the
engine's events (``sync-start``, ``sync-page``, ``sync-done``), delivered from the services' worker
threads: on a terminal a Rich progress display, otherwise JSON lines with the same counts.
"""

from __future__ import annotations

import contextlib
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
from pmtui.sync_output import (
    EXIT_CANCELLED,
    EXIT_CONFLICTS,
    EXIT_FAILED,
    EXIT_OK,
    NOT_OK,
    SyncOutput,
    exit_code_of,
    forwarding,
)

__all__ = ["EXIT_CANCELLED", "EXIT_CONFLICTS", "EXIT_FAILED", "EXIT_OK", "NOT_OK", "SyncOutput"]


def exit_code(runs: Sequence[SyncRun], open_conflicts: int) -> int:
    """130 when the user stopped it, 1 when a service did not sync, 3 when conflicts wait, else 0."""
    return exit_code_of((run.status for run in runs), open_conflicts)


def plain(runs: Sequence[SyncRun]) -> list[dict[str, Any]]:
    """The runs in their JSON form, as :meth:`SyncOutput.runs` shows them."""
    return [run.model_dump(mode="json") for run in runs]


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
    from pmtui.idle_gc import start_up_over

    output = SyncOutput(as_json=json_output or not sys.stdout.isatty(), verbose=verbose)
    stop = threading.Event()
    with Engine.open(settings) as engine, Interrupts(stop, say):
        wanted = list(services or engine.configured_services())
        if not wanted:
            say("no service is configured: `pmtui doctor` shows how (or try `pmtui demo`)")
            return EXIT_FAILED
        _build_integrations(engine, wanted)
        start_up_over()  # a launcher's pause of the collector ends: the round may make garbage
        runs = engine.sync(wanted, on_progress=output.event, cancel=stop)
        if not stop.is_set():
            mirror_after_sync(engine, settings, quiet=output.as_json, say=say)
        open_conflicts = len(engine.store.conflicts())
        output.runs(plain(runs), open_conflicts)
        return exit_code(runs, open_conflicts)


def _build_integrations(engine: Any, services: Sequence[Service]) -> None:
    """Build the services' integrations, importing their client libraries (gql, python-gitlab, ...),
    while the start-up's pause of the collector lasts: some 45,000 objects that live as long as the
    process, which the collector would otherwise traverse again and again in the round's first
    seconds. An integration that cannot be built (no key, a library missing, a full disk) fails again in
    its service's run, which reports it as that service's failure and syncs the others.
    """
    for service in services:
        with contextlib.suppress(Exception):
            engine.integration(service)


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


def watch(
    engine: Any,
    services: Sequence[Service],
    *,
    interval: float,
    stop: threading.Event,
    output: SyncOutput,
    wakeups: Any = None,
    after_run: Callable[[], None] = lambda: None,
    serve_key: str | None = None,
) -> list[SyncRun]:
    """Keep every service syncing on its own schedule until ``stop``; returns each service's last run.

    The first round syncs all of them together (Motion after the others); then each service waits its
    interval (or its rate limit's end, if later) in its own thread, and a webhook delivery wakes its
    service at once. Between runs no process holds the cache. With ``serve_key`` (the
    :func:`pmtui.engine_link.request_key` the settings were loaded under), a `pmtui sync` of this home
    hands its round to this loop (:class:`RoundBook`).
    """
    from pmtui.answers import refresh_quietly  # after each run: the next briefing then skips DuckDB
    from pmtui.engine_link import EngineServer

    last: dict[Service, SyncRun] = {}
    wake = {service: threading.Event() for service in services}
    book = RoundBook(engine, wake, stop)
    server = EngineServer(serve_key, book.admit, book.run, by="pmtui sync --watch") if serve_key else None
    if server is not None:
        server.start()  # before the first round: a `pmtui sync` meanwhile waits for its own runs
    try:
        first = engine.sync(list(services), on_progress=output.event, cancel=stop)
        last.update({run.service: run for run in first})
        output.runs(plain(first), len(engine.store.conflicts()))
        after_run()
        refresh_quietly(engine.store)
        return _loop(
            engine,
            services,
            wake,
            book,
            last,
            interval=interval,
            stop=stop,
            output=output,
            wakeups=wakeups,
            after_run=after_run,
        )
    finally:
        if server is not None:
            server.close()


def _loop(
    engine: Any,
    services: Sequence[Service],
    wake: dict[Service, threading.Event],
    book: RoundBook,
    last: dict[Service, SyncRun],
    *,
    interval: float,
    stop: threading.Event,
    output: SyncOutput,
    wakeups: Any,
    after_run: Callable[[], None],
) -> list[SyncRun]:
    """:func:`watch` after its first round: a thread per service, webhooks and rounds waking them."""
    from pmtui.answers import refresh_quietly
    from pmtui.core.sync_runner import run_services

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
            asked = book.starting(service)
            emit = forwarding(output.event, [round_.send for round_ in asked])
            runs = run_services(engine, [service], emit=emit, cancel=stop)
            with print_lock:
                last.update({r.service: r for r in runs})
                output.runs(plain(runs), len(engine.store.conflicts()))
                after_run()
                refresh_quietly(engine.store)
            book.ended(asked, runs)

    threads = [
        threading.Thread(target=loop, args=(service,), name=f"pmtui-watch-{service.value}", daemon=True)
        for service in services
    ]
    for thread in threads:
        thread.start()
    book.threads = {service: thread for service, thread in zip(services, threads, strict=True)}
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


class _Round:
    """One `pmtui sync` a running watch serves: a run of each service asked for, started after it asked."""

    def __init__(self, services: list[Service], send: Callable[[Any], None]) -> None:
        self.services = services
        self.send = send
        self.started: set[Service] = set()
        self.runs: dict[Service, SyncRun] = {}
        self.done = threading.Event()


class RoundBook:
    """The rounds `pmtui sync` processes handed to this watch (:mod:`pmtui.engine_link`).

    A round is served by the watch's own service threads, woken at once, never by a second run beside
    them (which would find the service locked and be ``skipped``). Each service's next run that
    *starts* after the request belongs to the round; a run already going when it came may have listed
    before the change the user wants synced, so it does not count. Motion is woken once the others'
    runs are in (or after :data:`~pmtui.core.sync_runner.MOTION_WAITS_SECONDS`), as in a round here.
    """

    def __init__(self, engine: Any, wake: dict[Service, threading.Event], stop: threading.Event) -> None:
        self.engine = engine
        self.wake = wake
        self.stop = stop
        self.threads: dict[Service, threading.Thread] = {}
        self._lock = threading.Lock()
        self._open: list[_Round] = []

    def admit(self, asked: list[str] | None) -> list[str] | str:
        """The services a request's round syncs (every configured one for None), or why not here."""
        from pmtui.engine_link import admit_services

        configured = [service.value for service in self.engine.configured_services()]
        return admit_services(asked, configured, [service.value for service in self.wake])

    def run(self, names: list[str], send: Callable[[Any], None]) -> dict[str, Any] | str:
        """Wake the round's services and wait for their runs: what the command prints, or why not."""
        from pmtui.core.sync import SYNC_ORDER
        from pmtui.core.sync_runner import MOTION_WAITS_SECONDS

        wanted = [service for service in SYNC_ORDER if service.value in names]
        round_ = _Round(wanted, send)
        with self._lock:
            self._open.append(round_)
        try:
            others = [service for service in wanted if service is not Service.MOTION]
            for service in others:
                self.wake[service].set()
            if Service.MOTION in wanted:
                self._wait(round_, others, MOTION_WAITS_SECONDS)
                self.wake[Service.MOTION].set()
            if not self._wait(round_, wanted, None):
                return "the watch stopped"
        finally:
            with self._lock:
                self._open.remove(round_)
        runs = [round_.runs[service] for service in wanted]
        return {"runs": plain(runs), "open_conflicts": len(self.engine.store.conflicts())}

    def _wait(self, round_: _Round, services: Sequence[Service], seconds: float | None) -> bool:
        """Until ``services`` have their runs (True), the watch stops, a loop died or time is up."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not all(service in round_.runs for service in services):
            dead = any(s in self.threads and not self.threads[s].is_alive() for s in services)
            if self.stop.is_set() or dead or (deadline is not None and time.monotonic() >= deadline):
                return False
            round_.done.wait(0.2)
            round_.done.clear()
        return True

    def starting(self, service: Service) -> list[_Round]:
        """The rounds the run of ``service`` that starts now belongs to."""
        with self._lock:
            asked = [r for r in self._open if service in r.services and service not in r.started]
            for round_ in asked:
                round_.started.add(service)
        return asked

    def ended(self, asked: list[_Round], runs: Sequence[SyncRun]) -> None:
        """Hand the ended runs to the rounds they belong to."""
        for round_ in asked:
            round_.runs.update({run.service: run for run in runs})
            round_.done.set()


def _now() -> Any:
    from pmtui.models import utcnow

    return utcnow()


def settings_interval(settings: Settings, interval: int | None) -> float:
    """Seconds between a service's runs under --watch."""
    return float(interval or settings.sync.interval_seconds)
