"""Cache recovery: a damaged DuckDB file is moved aside, salvaged where it can be read, and rebuilt.

The services hold the truth for everything that was synced, so a damaged cache is rebuilt by a full
sync into a fresh file. What lived *only* in the cache is handled honestly: local-only tasks and
unpushed edits are carried over when their rows can still be read (an edit only if the service did not
change the same field meanwhile), journal steps whose outcome was unknown are checked against the
service by their idempotency key, and whatever cannot be read is named as unknown. The damaged file is
never deleted: it stays next to the new one as ``pmtui.duckdb.damaged-<UTC timestamp>``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pmtui.config import Settings, service_enabled
from pmtui.core.merge import same_value
from pmtui.core.store import Store
from pmtui.core.store.base import aside_name
from pmtui.errors import PmtuiError, StoreError, StoreLockedError
from pmtui.models import (
    REMOTE_SERVICES,
    EntityType,
    ExternalRef,
    JournalEntry,
    JournalState,
    Service,
    SyncRun,
    Task,
)

log = logging.getLogger("pmtui.recovery")

DAMAGED_MARK = ".damaged-"
"""Infix of a damaged cache's new name: ``pmtui.duckdb.damaged-20261124T093000Z``."""


@dataclass
class UnpushedEdit:
    """A local edit the damaged cache had not pushed yet: the fields' local values and their old base."""

    task: Task
    service: Service
    external_id: str
    values: dict[str, Any]
    base: dict[str, Any]


@dataclass
class Salvage:
    """What could be read from the damaged file; ``unreadable`` names each part that could not."""

    journal: list[JournalEntry] = field(default_factory=list)
    unpushed: list[UnpushedEdit] = field(default_factory=list)
    local_only: list[tuple[Task, list[ExternalRef]]] = field(default_factory=list)
    open_conflicts: int = 0
    unreadable: list[str] = field(default_factory=list)


@dataclass
class RebuildReport:
    """The outcome of :func:`rebuild_cache`, as data and as lines for a terminal."""

    cache: Path
    moved_to: Path | None
    salvage: Salvage
    runs: list[SyncRun] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    reapplied: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    journal: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every service synced and nothing is known or feared lost."""
        return all(run.status == "ok" for run in self.runs) and not self.lost and not self.salvage.unreadable

    def lines(self) -> list[str]:
        """The report a person reads after `pmtui cache rebuild`."""
        out = []
        if self.moved_to is not None:
            out.append(f"moved the damaged cache to {self.moved_to} (kept; delete it when you are satisfied)")
        out.append(f"new cache: {self.cache}")
        for run in self.runs:
            mark = "ok  " if run.status == "ok" else "FAIL"
            out.append(
                f"[{mark}] {run.service.label:<7} {run.pulled} pulled"
                + (f": {run.error}" if run.error else "")
            )
        out += [f"restored local-only task: {line}" for line in self.restored]
        out += [f"re-applied unpushed edit: {line}" for line in self.reapplied]
        out += [f"journal: {line}" for line in self.journal]
        out += [f"LOST: {line}" for line in self.lost]
        for part in self.salvage.unreadable:
            out.append(
                f"UNKNOWN: {part} could not be read from the damaged file; edits made only there "
                "(not yet pushed) may be lost"
            )
        if self.salvage.open_conflicts:
            out.append(
                f"{self.salvage.open_conflicts} open conflict(s) were in the damaged cache; the services' "
                "values were kept (re-apply your side by hand if it mattered)"
            )
        return out


# ------------------------------------------------------------------------------------------- checking


def check_cache(path: Path) -> str | None:
    """``None`` if the cache opens and every table reads end to end, else the problem in one line.

    A lock held by another process is not damage: :class:`StoreLockedError` propagates.
    """
    try:
        with Store(path, read_only=True) as store:
            tables = [row[0] for row in store._rows("SELECT table_name FROM information_schema.tables")]
            for table in tables:
                store._rows(f'SELECT * FROM "{table}"')
    except StoreLockedError:
        raise
    except StoreError as exc:
        return exc.message
    return None


def damaged_name(path: Path, now: datetime) -> Path:
    """Where a damaged cache goes: next to it, stamped with the UTC time (never overwriting another)."""
    return aside_name(path, DAMAGED_MARK, now)


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename the cache (and its write-ahead log, if any) out of the way; returns the new name."""
    target = damaged_name(path, now or datetime.now(UTC))
    path.rename(target)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.rename(target.with_name(target.name + ".wal"))
    log.warning("moved the damaged cache aside", extra={"from": str(path), "to": str(target)})
    return target


# ------------------------------------------------------------------------------------------ salvaging


def salvage(path: Path) -> Salvage:
    """Read what can still be read from a damaged cache, part by part (DuckDB opened read-only)."""
    found = Salvage()
    try:
        conn = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        log.warning("damaged cache unreadable: %s", exc)
        found.unreadable.append("the whole file (journal, local-only tasks, unpushed edits)")
        return found
    try:
        tasks: dict[str, Task] = {}
        refs: list[ExternalRef] = []
        try:
            for row in _dicts(conn, "SELECT * FROM journal"):
                row["payload"] = json.loads(row["payload"])
                found.journal.append(JournalEntry.model_validate(row))
        except (duckdb.Error, ValueError):
            found.unreadable.append("the journal (remote steps in flight)")
        try:
            tasks = {row["id"]: Task.model_validate(row) for row in _dicts(conn, "SELECT * FROM tasks")}
            for row in _dicts(conn, "SELECT * FROM external_refs WHERE entity = 'task'"):
                row["base"] = json.loads(row["base"]) if row["base"] else {}
                refs.append(ExternalRef.model_validate(row))
        except (duckdb.Error, ValueError):
            found.unreadable.append("the tasks and their service links (local-only tasks, unpushed edits)")
            tasks, refs = {}, []
        try:
            found.open_conflicts = int(
                conn.execute("SELECT count(*) FROM conflicts WHERE resolved_at IS NULL").fetchall()[0][0]
            )
        except duckdb.Error:
            found.unreadable.append("the conflict queue")
        _sort_tasks(found, tasks, refs)
    finally:
        conn.close()
    return found


def _dicts(conn: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = conn.execute(sql)
    names = [column[0] for column in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _sort_tasks(found: Salvage, tasks: dict[str, Task], refs: list[ExternalRef]) -> None:
    """Split the readable tasks into local-only ones and synced ones with an unpushed local edit."""
    from pmtui.core.writes import SERVICE_FIELDS, fields_of, project_for

    by_task: dict[str, list[ExternalRef]] = {}
    for ref in refs:
        by_task.setdefault(ref.entity_id, []).append(ref)
    for task in tasks.values():
        if task.deleted:
            continue
        held = by_task.get(task.id, [])
        remote = [r for r in held if r.service is not Service.LOCAL]
        if not remote:
            found.local_only.append((task, held))
            continue
        for ref in remote:
            local = project_for(ref.service, fields_of(task, SERVICE_FIELDS.get(ref.service, ())))
            diff = {
                name: value
                for name, value in local.items()
                if name in ref.base and not same_value(name, ref.base.get(name), value)
            }
            if diff:
                found.unpushed.append(
                    UnpushedEdit(task, ref.service, ref.external_id, diff, {n: ref.base.get(n) for n in diff})
                )


# ----------------------------------------------------------------------------------------- rebuilding


def rebuild_cache(
    settings: Settings,
    path: Path,
    *,
    force: bool = False,
    on_event: Callable[[Any], None] | None = None,
    now: datetime | None = None,
) -> RebuildReport:
    """Move a damaged cache aside, build a fresh one from the services, and carry over what was salvaged.

    Refuses (changing nothing) when the cache is held by another process, when no service is configured
    (there would be nothing to rebuild from), and when the cache is healthy unless ``force`` is given.
    """
    from pmtui.core.engine import Engine

    problem = check_cache(path) if path.exists() else None
    if path.exists() and problem is None and not force:
        raise PmtuiError(
            f"the cache {path} is healthy; nothing to rebuild",
            hint="`pmtui cache rebuild --force` rebuilds it from the services anyway",
        )
    services = [s for s in REMOTE_SERVICES if service_enabled(settings, s)]
    if not services:
        raise PmtuiError(
            "no service is configured, so there is nothing to rebuild the cache from",
            hint="configure a service (`pmtui doctor` shows how); the damaged file was left where it is",
        )
    moved = move_aside(path, now) if path.exists() else None
    found = salvage(moved) if moved is not None else Salvage()
    report = RebuildReport(cache=path, moved_to=moved, salvage=found)
    with Engine(settings, Store(path), on_event=on_event) as engine:
        for task, local_refs in found.local_only:
            engine.store.upsert_tasks([task])
            engine.store.upsert_refs(local_refs)
            report.restored.append(repr(task.title))
        report.runs = engine.sync()
        pushed_again = _reapply_edits(engine, found.unpushed, report)
        if pushed_again:
            by_service = {run.service: run for run in report.runs}
            for run in engine.sync(sorted(pushed_again, key=lambda s: s.value)):
                by_service[run.service] = run
            report.runs = list(by_service.values())
        report.journal = [_settle(engine, entry, report) for entry in found.journal]
    return report


def _reapply_edits(engine: Any, edits: list[UnpushedEdit], report: RebuildReport) -> set[Service]:
    """Put each salvaged local edit onto the rebuilt task, unless the service changed that field too."""
    from pmtui.core.writes import apply_values

    services: set[Service] = set()
    for edit in edits:
        ref = engine.store.ref_by_external(edit.service, edit.external_id, EntityType.TASK)
        task = engine.store.get_task(ref.entity_id) if ref is not None else None
        what = f"{edit.task.title!r} on {edit.service.label} ({', '.join(sorted(edit.values))})"
        if ref is None or task is None:
            report.lost.append(f"local edit of {what}: the task is gone from {edit.service.label}")
            continue
        clash = [n for n in edit.values if not same_value(n, ref.base.get(n), edit.base.get(n))]
        if clash:
            report.lost.append(
                f"local edit of {what}: {edit.service.label} changed {', '.join(sorted(clash))} too; "
                f"its value was kept (yours: {', '.join(f'{n}={edit.values[n]!r}' for n in sorted(clash))})"
            )
            continue
        engine.store.upsert_tasks([apply_values(task, edit.values)])
        services.add(edit.service)
        report.reapplied.append(what)
    return services


def _settle(engine: Any, entry: JournalEntry, report: RebuildReport) -> str:
    """Say what became of a journal step found in the damaged cache (asking the service where it can)."""
    where = entry.service.label
    if entry.state is not JournalState.PENDING:
        line = (
            f"{entry.op} on {where} needed attention ({entry.error or entry.state.value}); check it by hand"
        )
        report.lost.append(line)
        return line
    if entry.op == "create_task" and "task" in entry.payload:
        task = Task.model_validate(entry.payload["task"])
        try:
            remote = engine.integration(entry.service).find_by_idempotency_key(entry.idempotency_key, task)
        except PmtuiError as exc:
            line = f"create {task.title!r} on {where}: could not be checked ({exc}); look for it there"
            report.lost.append(line)
            return line
        if remote is not None:
            return f"create {task.title!r} on {where}: had reached {where}; it is in the rebuilt cache once"
        line = f"create {task.title!r} on {where}: never reached {where}; run the request again"
        report.lost.append(line)
        return line
    line = f"{entry.op} on {where} (task {entry.entity_id}): outcome unknown; check it on {where}"
    report.lost.append(line)
    return line
