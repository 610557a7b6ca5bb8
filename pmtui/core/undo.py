"""Undo, resume and the report of interrupted requests, over the request records the processor keeps.

Every plan run (a `pmtui do`, a key in the app) leaves a :class:`~pmtui.core.store.RequestRecord`: its
text, its routes and, per step done, how to undo it (``inverse``). From that:

- **undo** applies the inverses newest first, each through the one write path
  (:mod:`pmtui.core.writes`), so an undo never overwrites a teammate's newer change: it files a
  conflict instead. The undo is recorded step by step (``undoing`` -> ``undone``), so a crash part-way
  is reported at the next start and ``pmtui undo`` finishes it;
- **resume** runs an interrupted request again under its own request id and routes: the steps already
  done find what they made by their idempotency keys (nothing is made twice), the rest run;
- **interrupted** requests (state ``running`` whose process is gone) are found at every start and
  reported with how far they got.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pmtui.core.locks import process_alive
from pmtui.core.store import RequestRecord, Store
from pmtui.core.writes import patch_values
from pmtui.errors import PmtuiError
from pmtui.models import MoveTask, Plan, Service, utcnow

log = logging.getLogger("pmtui.undo")

UNDOABLE_STATES = ("done", "failed", "interrupted", "undoing")
RECENT = timedelta(minutes=30)
"""A request run again within this time of a finished identical one is asked about first."""


@dataclass
class UndoReport:
    """What an undo did, step by step, for the toast or the terminal."""

    request: RequestRecord
    undone: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per step, then the outcome."""
        out = [f"undone: {line}" for line in self.undone]
        out += [f"conflict: {line}" for line in self.conflicts]
        out += [f"not undoable: {line}" for line in self.skipped]
        return out or ["nothing to undo in that request"]


def progress_text(record: RequestRecord) -> str:
    """``3 of 5 steps done`` for a request, ``2 of 3 steps undone`` for an undo."""
    total = len(Plan.model_validate(record.plan).actions)
    if record.state in ("undoing", "undone"):
        undoable = [s for s in record.steps if s.get("inverse")]
        undone = sum(1 for s in undoable if s.get("undone"))
        return f"{undone} of {len(undoable)} steps undone"
    return f"{len(record.steps)} of {total} steps done"


def short(text: str, width: int = 40) -> str:
    """A request's text cut for a one-line report."""
    return text if len(text) <= width else text[: width - 1] + "…"


class RequestLog:
    """Finds interrupted and recent requests, resumes and undoes them (over an :class:`Engine`)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.store: Store = engine.store

    # ----------------------------------------------------------------------------- interrupted

    def interrupted(self) -> list[RequestRecord]:
        """Requests (or undos) whose process died part-way; marks a dead ``running`` one interrupted."""
        found = []
        for record in self.store.requests(states=["running", "interrupted", "undoing"], limit=200):
            if record.state in ("running", "undoing") and process_alive(record.pid):
                continue  # another process is on it right now
            if record.state == "running":
                record.state = "interrupted"
                self.store.request_write(record)
            found.append(record)
        return found

    def report(self) -> list[str]:
        """One line per interrupted request, as every start shows it."""
        lines = []
        for record in self.interrupted():
            at = record.started_at.astimezone(self.engine.settings.tzinfo()).strftime("%H:%M")
            what = "the undo of request" if record.state == "undoing" else "request"
            fix = (
                "`pmtui undo` finishes the undo"
                if record.state == "undoing"
                else "`pmtui resume` (or the same `pmtui do`) does the remaining steps, "
                "`pmtui undo` undoes the done ones"
            )
            lines.append(
                f"{what} {short(record.text)!r} was interrupted at {at}: {progress_text(record)}; {fix}"
            )
        return lines

    def same_text(self, text: str, now: datetime | None = None) -> RequestRecord | None:
        """An interrupted request with this text, or one finished with it in the last half hour."""
        wanted = " ".join(text.split()).casefold()
        moment = now or utcnow()
        for record in self.store.requests(limit=50):
            if " ".join(record.text.split()).casefold() != wanted:
                continue
            if record.state == "interrupted":
                return record
            if record.state in ("done",) and record.finished_at and moment - record.finished_at < RECENT:
                return record
        return None

    # ---------------------------------------------------------------------------------- resume

    def resume(self, request_id: str | None = None) -> Any:
        """Run an interrupted request again under its own id and routes: done steps are found, not
        redone. Returns the orchestration result."""
        from pmtui.core.orchestrator import OrchestrationResult
        from pmtui.core.router import route_from_json

        record = self._pick(request_id, ("interrupted",), "interrupted request")
        plan = Plan.model_validate(record.plan)
        routes = {ref: route_from_json(data) for ref, data in record.routes.items()}
        result = OrchestrationResult(plan=plan, routes=routes)
        outcome = self.engine.execute(plan, routes)
        result.results.extend(outcome.results)
        result.compensated, result.remaining = outcome.compensated, outcome.remaining
        result.status = "done" if outcome.ok else "failed"
        return result

    # ------------------------------------------------------------------------------------ undo

    def undoable(self, limit: int = 20) -> list[RequestRecord]:
        """Requests with at least one step left to undo, newest first."""
        return [
            r
            for r in self.store.requests(states=list(UNDOABLE_STATES), limit=200)
            if any(s.get("inverse") and not s.get("undone") for s in r.steps)
        ][:limit]

    def undo(self, request_id: str | None = None) -> UndoReport:
        """Undo a request's done steps, newest first, each merged with what the services hold now."""
        record = self._pick(request_id, UNDOABLE_STATES, "request to undo", need_inverse=True)
        report = UndoReport(record)
        record.state, record.pid = "undoing", os.getpid()
        self.store.request_write(record)
        for step in reversed(record.steps):
            inverse = step.get("inverse")
            if step.get("undone"):
                continue
            if not inverse:
                report.skipped.append(str(step.get("what") or step.get("type")))
                continue
            line, conflicted = self._apply(record.request_id, step, inverse)
            (report.conflicts if conflicted else report.undone).append(line)
            step["undone"] = True
            self.store.request_write(record)  # each step is recorded before the next one starts
        record.state, record.finished_at = "undone", utcnow()
        self.store.request_write(record)
        return report

    def redo(self, request_id: str | None = None) -> UndoReport:
        """Redo what an undo took back, where that makes sense: the edits and completions of an undone
        request are written again (merged, like every write); creates, moves and deletes are not, since
        making them again is a new request (`pmtui do … --again`)."""
        record = self._pick(request_id, ("undone",), "undone request")
        report = UndoReport(record)
        for step in record.steps:
            inverse = step.get("inverse") or {}
            if not step.get("undone"):
                continue
            if inverse.get("op") != "write" or "redo" not in inverse:
                report.skipped.append(str(step.get("what") or step.get("type")))
                continue
            task = self.store.get_task(str(inverse.get("task_id")))
            if task is None:
                report.skipped.append(f"{step.get('what')}: the task is gone")
                continue
            values = patch_values(dict(inverse["redo"]))
            _updated, outcomes = self.engine.processor.writes.write(task, values)
            conflicted = [o for o in outcomes if o.conflicts]
            if conflicted:
                names = ", ".join(o.service.label for o in conflicted)
                report.conflicts.append(
                    f"{task.title!r}: {names} changed it since; kept theirs, conflict filed"
                )
            else:
                report.undone.append(f"{short(str(step.get('what')), 60)} (again)")
            step["undone"] = False
            self.store.request_write(record)
        record.state = "done"
        self.store.request_write(record)
        return report

    def _apply(self, request_id: str, step: dict[str, Any], inverse: dict[str, Any]) -> tuple[str, bool]:
        processor = self.engine.processor
        task = self.store.get_task(str(inverse.get("task_id")))
        if task is None:
            return f"{step.get('what')}: the task is gone", False
        op = inverse.get("op")
        if op == "write":
            values = patch_values(dict(inverse.get("values") or {}))
            _updated, outcomes = processor.writes.write(task, values)
            conflicted = [o for o in outcomes if o.conflicts]
            if conflicted:
                names = ", ".join(o.service.label for o in conflicted)
                return f"{task.title!r}: {names} changed it since; kept theirs, conflict filed", True
            now = self.store.get_task(task.id) or task
            fields = ", ".join(sorted(values))
            return f"{fields} of {now.title!r} back as before ({short(str(step.get('what')), 50)})", False
        if op == "delete":
            refs = [r for r in self.store.refs_for(task.id) if r.service is not Service.LOCAL]
            kept = processor._delete_remote(f"{request_id}:undo", str(step.get("ref")), task, refs)
            self.store.upsert_tasks([task.model_copy(update={"deleted": True, "updated_at": utcnow()})])
            if kept:
                names = ", ".join(s.label for s in kept)
                return f"{task.title!r}: {names} changed it since; kept there, conflict filed", True
            return f"removed {task.title!r} again ({step.get('what')})", False
        if op == "move":
            back = MoveTask(ref=f"{step.get('ref')}-undo", task=task.id, to=Service(str(inverse["to"])))
            processor.run_one(f"{request_id}:undo", back)
            return f"moved {task.title!r} back to {back.to.label}", False
        if op == "unlink":
            service = Service(str(inverse["service"]))
            refs = [r for r in self.store.refs_for(task.id) if r.service is service]
            processor._delete_remote(f"{request_id}:undo", str(step.get("ref")), task, refs)
            return f"removed the {service.label} copy of {task.title!r}", False
        return f"{step.get('what')}: cannot be undone", False

    # ---------------------------------------------------------------------------------- helpers

    def _pick(
        self,
        request_id: str | None,
        states: tuple[str, ...],
        what: str,
        *,
        need_inverse: bool = False,
    ) -> RequestRecord:
        if request_id:
            record = self.store.request(request_id)
            if record is None:
                raise PmtuiError(
                    f"no request {request_id!r}",
                    hint="`pmtui undo --list` shows the recent ones and their ids",
                )
            if record.state not in states:
                raise PmtuiError(
                    f"request {short(record.text)!r} is {record.state}; there is no {what} there"
                )
            return record
        candidates = self.undoable() if need_inverse else self.store.requests(states=list(states), limit=1)
        if not candidates:
            raise PmtuiError(f"no {what}", hint="`pmtui undo --list` shows the recent requests")
        return candidates[0]
