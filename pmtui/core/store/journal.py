"""What a plan did: request records (resume and undo), journal steps and the decision log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pmtui.core.store.base import StoreBase, _models
from pmtui.kinds import JournalState

if TYPE_CHECKING:
    from pmtui.models import Decision, JournalEntry


@dataclass
class RequestRecord:
    """A plan as it was run: its text, routes and the steps done (each with how to undo it).

    ``state``: ``running`` while a process works on it, ``done`` / ``failed`` at the end,
    ``interrupted`` once a later start finds its process gone, ``undoing`` / ``undone`` for an undo.
    """

    request_id: str
    text: str
    plan: dict[str, Any]
    routes: dict[str, Any]
    state: str
    pid: int | None
    started_at: datetime
    finished_at: datetime | None
    steps: list[dict[str, Any]]


class JournalMixin(StoreBase):
    """Request records, journal steps and logged decisions."""

    def request_write(self, record: RequestRecord) -> None:
        """Insert or replace one request's record (state and steps are rewritten as it goes)."""
        with self._hold():
            self._exec(
                "INSERT OR REPLACE INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    record.request_id,
                    record.text,
                    json.dumps(record.plan, default=str),
                    json.dumps(record.routes, default=str),
                    record.state,
                    record.pid,
                    record.started_at,
                    record.finished_at,
                    json.dumps(record.steps, default=str),
                ],
            )

    def requests(self, *, states: Sequence[str] | None = None, limit: int = 50) -> list[RequestRecord]:
        """Request records, newest first (of the given states)."""
        where, params = "TRUE", []
        if states:
            where = "list_contains(?, state)"
            params.append(list(states))
        rows = self._rows(
            f"SELECT * FROM requests WHERE {where} ORDER BY started_at DESC LIMIT {int(limit)}", params
        )
        return [
            RequestRecord(
                request_id=str(row[0]),
                text=str(row[1]),
                plan=json.loads(row[2]),
                routes=json.loads(row[3]),
                state=str(row[4]),
                pid=row[5],
                started_at=row[6],
                finished_at=row[7],
                steps=json.loads(row[8]),
            )
            for row in rows
        ]

    def request(self, request_id: str) -> RequestRecord | None:
        """One request's record by id (or by a unique prefix of it, as `pmtui undo --list` shows it)."""
        rows = self._rows(
            "SELECT request_id FROM requests WHERE starts_with(request_id, ?) LIMIT 2", [request_id]
        )
        if len(rows) != 1:
            return None
        found = [r for r in self.requests(limit=100000) if r.request_id == rows[0][0]]
        return found[0] if found else None

    # --------------------------------------------------------------------------------------- journal

    def journal_write(self, entry: JournalEntry) -> None:
        """Write or update one journal step."""
        with self._hold():
            self._exec(
                "INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    entry.id,
                    entry.request_id,
                    entry.step,
                    entry.service.value,
                    entry.op,
                    json.dumps(entry.payload, default=str),
                    entry.idempotency_key,
                    entry.state.value,
                    entry.entity_id,
                    entry.external_id,
                    entry.attempts,
                    entry.error,
                    entry.created_at,
                    datetime.now(UTC),
                ],
            )

    def journal_entries(self, *, states: Sequence[JournalState] | None = None) -> list[JournalEntry]:
        """Journal steps, only those in ``states`` when given, oldest first and in step order."""
        where, params = "TRUE", []
        if states:
            where = f"state IN ({', '.join('?' for _ in states)})"
            params = [s.value for s in states]
        # Plain rows (as every read here), not Arrow: read at every start, it must not import pyarrow.
        rows = self._records(f"SELECT * FROM journal WHERE {where} ORDER BY created_at, step", params)
        entries = []
        for row in rows.to_pylist():
            row["payload"] = json.loads(row["payload"])
            entries.append(_models().JournalEntry.model_validate(row))
        return entries

    def journal_delete(self, entry_ids: Sequence[str]) -> None:
        """Remove steps by id; ``Journal.close`` calls it in the transaction that stores the step's result."""
        if entry_ids:
            with self._hold():
                self._exec(
                    f"DELETE FROM journal WHERE id IN ({', '.join('?' for _ in entry_ids)})", list(entry_ids)
                )

    # ------------------------------------------------------------------------------------- decisions

    def log_decision(self, decision: Decision) -> None:
        """Append one decision; the log is never rewritten, so a repeated id raises."""
        with self._hold():
            self._exec(
                "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    decision.id,
                    decision.at,
                    decision.request_id,
                    decision.kind,
                    decision.action_ref,
                    decision.task_id,
                    decision.service.value if decision.service else None,
                    decision.reason,
                    json.dumps(decision.detail, default=str),
                ],
            )

    def attach_decisions(self, request_id: str, action_ref: str, task_id: str) -> None:
        """File a request's plan and its action's decisions under the task the action created.

        They are logged before the task exists (routing comes first), so without this "Decisions" in
        the task's detail would be empty for every task the agent made.
        """
        with self._lock:
            self._exec(
                "UPDATE decisions SET task_id = ? WHERE request_id = ? AND task_id IS NULL "
                "AND (action_ref = ? OR kind = 'plan')",
                [task_id, request_id, action_ref],
            )

    def decisions(
        self, *, request_id: str | None = None, task_id: str | None = None, limit: int = 200
    ) -> list[Decision]:
        """Logged decisions, newest first, filtered by request and/or task, at most ``limit``."""
        clauses, params = [], []
        if request_id:
            clauses.append("request_id = ?")
            params.append(request_id)
        if task_id:
            clauses.append("task_id = ?")
            params.append(task_id)
        where = " AND ".join(clauses) or "TRUE"
        with self._hold():
            table = self._records(
                f'SELECT * FROM decisions WHERE {where} ORDER BY "at" DESC LIMIT {int(limit)}', params
            )
        rows = []
        for row in table.to_pylist():
            row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
            rows.append(_models().Decision.model_validate(row))
        return rows
