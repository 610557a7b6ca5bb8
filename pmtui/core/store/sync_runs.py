"""Sync cursors (where each service's listing resumes) and the record of every sync run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pmtui.core.store.base import StoreBase, _models, _utc
from pmtui.kinds import Service

if TYPE_CHECKING:
    from pmtui.models import SyncRun


def _sync_run(row: dict[str, Any]) -> SyncRun:
    skipped = row.get("skipped")
    row["skipped"] = json.loads(skipped) if isinstance(skipped, str) else (skipped or [])
    run: SyncRun = _models().SyncRun.model_validate(row)
    return run


class SyncRunsMixin(StoreBase):
    """Sync cursors and sync runs."""

    def get_cursor(self, service: Service, resource: str) -> str | None:
        """The saved cursor of ``service``'s ``resource``; None if never saved (the next pull lists all)."""
        with self._hold():
            row = next(
                iter(
                    self._rows(
                        "SELECT cursor FROM sync_cursors WHERE service = ? AND resource = ?",
                        [service.value, resource],
                    )
                ),
                None,
            )
        return row[0] if row else None

    def cursor_updated_at(self, service: Service, resource: str) -> datetime | None:
        """When ``service``'s ``resource`` cursor was last saved; None if never (a listing is due)."""
        with self._hold():
            rows = self._rows(
                "SELECT updated_at FROM sync_cursors WHERE service = ? AND resource = ?",
                [service.value, resource],
            )
        return _utc(rows[0][0]) if rows else None

    def set_cursor(self, service: Service, resource: str, cursor: str | None) -> None:
        """Save a cursor; the sync calls it in the transaction that stores the page, so no page is skipped."""
        self._upsert_row(
            "sync_cursors",
            {"service": service.value, "resource": resource},
            {"cursor": cursor, "updated_at": datetime.now(UTC)},
        )

    def scan_seen_add(self, service: Service, external_ids: Sequence[str]) -> None:
        """Note ids a spread scan's pass listed (a page at a time, in the page's transaction)."""
        if not external_ids:
            return
        with self._hold():
            self._exec(
                "INSERT INTO scan_seen SELECT ?, unnest(?) ON CONFLICT DO NOTHING",
                [service.value, list(external_ids)],
            )

    def scan_seen_ids(self, service: Service) -> set[str]:
        """Every id the current pass has listed: the deletion check's evidence once the pass is complete."""
        with self._hold():
            rows = self._rows("SELECT external_id FROM scan_seen WHERE service = ?", [service.value])
        return {row[0] for row in rows}

    def scan_seen_clear(self, service: Service) -> None:
        """Forget a pass's evidence (it completed, or a new pass starts from the first page)."""
        with self._hold():
            self._exec("DELETE FROM scan_seen WHERE service = ?", [service.value])

    def record_sync_run(self, run: SyncRun, *, new: bool = False) -> None:
        """Write a run by id: a sync records it at start (``new``: a run id no row has, so the insert
        alone, without the update that would find nothing) and rewrites it when it ends."""
        row = {
            "run_id": run.run_id,
            "service": run.service.value,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "pulled": run.pulled,
            "pushed": run.pushed,
            "conflicts": run.conflicts,
            "requests": run.requests,
            "duration_ms": run.duration_ms,
            "status": run.status,
            "error": run.error,
            "retry_at": run.retry_at,
            "skipped": json.dumps(run.skipped),
        }
        if new:
            self._insert_row("sync_runs", {"id": run.id, **row})
        else:
            self._upsert_row("sync_runs", {"id": run.id}, row)

    def end_abandoned_runs(self, service: Service) -> int:
        """Mark ``service``'s runs still "running" as failed: called by the process that now holds that
        service's sync lock, so whoever recorded them has ended (killed mid-run). Returns how many."""
        with self._hold():
            rows = self._rows(
                "SELECT count(*) FROM sync_runs WHERE service = ? AND status = 'running'", [service.value]
            )
            if rows and rows[0][0]:
                self._exec(
                    "UPDATE sync_runs SET status = 'failed', finished_at = coalesce(finished_at, ?), "
                    "error = 'interrupted: the process ended during the run' "
                    "WHERE service = ? AND status = 'running'",
                    [datetime.now(UTC), service.value],
                )
            return int(rows[0][0]) if rows else 0

    def sync_runs(self, *, service: Service | None = None, limit: int = 50) -> list[SyncRun]:
        """Recorded runs, newest first, of one service when given, at most ``limit``."""
        where, params = ("service = ?", [service.value]) if service else ("TRUE", [])
        with self._hold():
            table = self._records(
                # The tie-break keeps runs that started together (one round's services) in one order.
                f"SELECT * FROM sync_runs WHERE {where} ORDER BY started_at DESC, service, run_id "
                f"LIMIT {int(limit)}",
                params,
            )
        return [_sync_run(row) for row in table.to_pylist()]

    def last_sync_runs(self) -> dict[Service, SyncRun]:
        """The newest run per service."""
        with self._hold():
            table = self._records(
                "SELECT * FROM sync_runs QUALIFY row_number() OVER (PARTITION BY service "
                "ORDER BY started_at DESC) = 1"
            )
        runs = [_sync_run(row) for row in table.to_pylist()]
        return {run.service: run for run in runs}
