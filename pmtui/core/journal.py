"""The journal: every remote step is written down *before* it is attempted.

A step is ``pending`` from just before its remote call until the transaction that stores its result,
which also closes it. If the process dies in between, the next start finds the step still pending
and asks the service, through the step's idempotency key, whether the object exists: if so the result
is stored (finish), if not the step never happened. Nothing is created twice, nothing is forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pmtui.core.store import Store
from pmtui.models import JournalEntry, JournalState, Service, utcnow

log = logging.getLogger("pmtui.journal")


@dataclass
class RecoveryReport:
    """What recovery did at start: steps finished from the service's state, and steps that never ran."""

    finished: list[JournalEntry] = field(default_factory=list)
    abandoned: list[JournalEntry] = field(default_factory=list)
    compensated: list[JournalEntry] = field(default_factory=list)
    failed: list[tuple[JournalEntry, str]] = field(default_factory=list)

    @property
    def touched(self) -> int:
        """How many steps recovery settled (finished, abandoned or compensated); failures are not counted."""
        return len(self.finished) + len(self.abandoned) + len(self.compensated)


class Journal:
    """Writes, closes and lists journal steps in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def begin(
        self,
        *,
        request_id: str,
        step: int,
        service: Service,
        op: str,
        idempotency_key: str,
        payload: dict[str, Any] | None = None,
        entity_id: str | None = None,
        external_id: str | None = None,
    ) -> JournalEntry:
        """Record a step as pending; call right before the remote call."""
        entry = JournalEntry(
            request_id=request_id,
            step=step,
            service=service,
            op=op,
            idempotency_key=idempotency_key,
            payload=payload or {},
            entity_id=entity_id,
            external_id=external_id,
            attempts=1,
        )
        self.store.journal_write(entry)
        return entry

    def close(self, entry: JournalEntry, store_result: Callable[[], None] | None = None) -> None:
        """Store the step's result and remove the step, in one transaction."""
        with self.store.transaction():
            if store_result is not None:
                store_result()
            self.store.journal_delete([entry.id])

    def mark(
        self,
        entry: JournalEntry,
        state: JournalState,
        *,
        error: str | None = None,
        external_id: str | None = None,
    ) -> None:
        """Move a step to another state (done-but-kept for compensation, failed, compensated)."""
        entry.state = state
        entry.error = error
        if external_id is not None:
            entry.external_id = external_id
        entry.updated_at = utcnow()
        self.store.journal_write(entry)

    def pending(self) -> list[JournalEntry]:
        """Steps whose outcome is unknown (the process stopped during their remote call)."""
        return self.store.journal_entries(states=[JournalState.PENDING])

    def attention(self) -> list[JournalEntry]:
        """Steps a person should look at: failed compensations and unrecoverable steps."""
        return self.store.journal_entries(states=[JournalState.FAILED])

    def all(self) -> list[JournalEntry]:
        """Every step in any state, oldest first (:meth:`pending` and :meth:`attention` filter it)."""
        return self.store.journal_entries()

    def forget(self, entries: list[JournalEntry]) -> None:
        """Drop steps, storing nothing: the call failed cleanly, or its replay left nothing to record."""
        self.store.journal_delete([e.id for e in entries])
