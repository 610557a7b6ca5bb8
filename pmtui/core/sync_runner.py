"""The sync run loop: every service in its own thread, one service's trouble never holding the others.

:class:`~pmtui.core.sync.SyncEngine` knows how to sync *one* service (pull, merge, push). This module
decides *when*: each service runs in its own worker thread with its own rate-limit budget; the cache
serializes their writes (one page at a time, see :mod:`pmtui.core.store`). A service whose Retry-After
is beyond ``[sync] max_retry_after_seconds`` ends its round as ``rate-limited`` at once instead of
sleeping through it. Motion starts once the others have pulled (its tasks attach to tasks held
elsewhere), or after :data:`MOTION_WAITS_SECONDS` at most.

Only one process syncs a given service at a time (:func:`pmtui.core.locks.process_lock`); another
process asking for the same service at the same moment records that service as ``skipped``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from pmtui.core.locks import Busy, process_lock
from pmtui.errors import PmtuiError
from pmtui.models import Service, SyncRun, new_id, utcnow

log = logging.getLogger("pmtui.sync")

MOTION_WAITS_SECONDS = 120.0
"""Longest Motion waits for the other services of its round before it starts anyway."""


class SyncCancelled(Exception):
    """Raised at a safe point (between pages, between phases) once the user asked the sync to stop."""


def sync_lock_path(store_path: Path | None, service: Service) -> Path | None:
    """The lock file that one process holds while it syncs ``service`` (None for an in-memory cache)."""
    return None if store_path is None else store_path.with_name(f"sync-{service.value}.lock")


def run_services(
    engine: Any,
    services: Sequence[Service],
    *,
    emit: Callable[[Any], None],
    cancel: threading.Event | None = None,
) -> list[SyncRun]:
    """Sync ``services`` (in SYNC_ORDER) concurrently, once each; one SyncRun each, in that order."""
    from pmtui.core.sync import SYNC_ORDER

    wanted = [s for s in SYNC_ORDER if s in services]
    run_id = new_id()
    cancel = cancel or threading.Event()
    try:
        engine.recover()
    except PmtuiError as exc:
        log.warning("recovery before sync failed: %s", exc)
    futures: dict[Service, Future[SyncRun]] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(wanted)), thread_name_prefix="pmtui-sync") as pool:
        for service in wanted:
            if service is Service.MOTION:
                continue
            futures[service] = pool.submit(sync_one, engine, service, run_id, emit, cancel)
        if Service.MOTION in wanted:
            wait(list(futures.values()), timeout=MOTION_WAITS_SECONDS)
            futures[Service.MOTION] = pool.submit(sync_one, engine, Service.MOTION, run_id, emit, cancel)
        runs = {service: future.result() for service, future in futures.items()}
    ordered = [runs[s] for s in wanted]
    if not cancel.is_set():
        from pmtui.core.comments import CommentSync

        try:
            CommentSync(engine).carry([run.service for run in ordered if run.status == "ok"])
        except PmtuiError as exc:
            log.warning("carrying comments failed: %s", exc)
    return ordered


def sync_one(
    engine: Any,
    service: Service,
    run_id: str,
    emit: Callable[[Any], None],
    cancel: threading.Event,
) -> SyncRun:
    """One service's sync under its cross-process lock; never raises (the outcome is in the run)."""
    from pmtui.core.engine import EngineEvent
    from pmtui.core.sync import SyncEngine

    emit(EngineEvent("sync-start", f"{service.label}: syncing", {"service": service.value}))
    lock = sync_lock_path(engine.store.path, service)
    try:
        if lock is None:
            report = SyncEngine(engine, cancel=cancel, emit=emit).sync_service(service, run_id=run_id)
            run = report.run
        else:
            with process_lock(lock):
                engine.store.end_abandoned_runs(service)
                report = SyncEngine(engine, cancel=cancel, emit=emit).sync_service(service, run_id=run_id)
                run = report.run
    except Busy as busy:
        run = SyncRun(
            run_id=run_id,
            service=service,
            status="skipped",
            finished_at=utcnow(),
            error=f"another pmtui is syncing {service.label} right now: {busy.holder or 'unknown'}",
        )
        engine.store.record_sync_run(run, new=True)
    emit(EngineEvent("sync-done", f"{service.label}: {run.status}", {"service": service.value, "run": run}))
    return run
