"""The local cache: one DuckDB file holding every task, reference, journal step, decision and sync run.

Screens and the briefing read only from here, so pmtui starts instantly and works offline. The schema
is versioned: :data:`MIGRATIONS` are applied in order, each in its own transaction, and a file written
by a newer pmtui is refused rather than damaged. Bulk writes go through Arrow tables because DuckDB's
``executemany`` is slow for thousands of rows (STACK.md).

DuckDB lets one process open a file read-write; a second one gets a :class:`StoreLockedError` naming
the holder, never a traceback.

One :class:`Store` over every table, written as one module per group of tables, all sharing the
connection and the transaction of :class:`~pmtui.core.store.base.StoreBase`:

- :mod:`~pmtui.core.store.base`: opening, holding and releasing the file, statements, transactions;
- :mod:`~pmtui.core.store.schema` and :mod:`~pmtui.core.store.migrations`: the DDL and its versions;
- :mod:`~pmtui.core.store.tasks`: tasks, projects, milestones;
- :mod:`~pmtui.core.store.refs`: external refs, task handles, the outbox;
- :mod:`~pmtui.core.store.journal`: request records, journal steps, decisions;
- :mod:`~pmtui.core.store.conflicts`, :mod:`~pmtui.core.store.sync_runs` (cursors and runs),
  :mod:`~pmtui.core.store.comments` (comments and GitLab activity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmtui.core.store.base import (
    DAMAGED_HINT,
    FAIR_SHARE_SECONDS,
    LINGER_SECONDS,
    LOCK_WAIT_SECONDS,
    MAX_SESSION_SECONDS,
    STORE_FILENAME,
    StoreBase,
    StoreDamagedError,
    StoreUnwritableError,
    store_path,
)
from pmtui.core.store.comments import CommentsMixin
from pmtui.core.store.conflicts import ConflictsMixin
from pmtui.core.store.journal import JournalMixin, RequestRecord
from pmtui.core.store.migrations import SchemaMixin
from pmtui.core.store.refs import OutboxEntry, RefsMixin
from pmtui.core.store.schema import HANDLE_PREFIXES, MIGRATIONS, SCHEMA_VERSION, TASK_COLUMNS
from pmtui.core.store.sync_runs import SyncRunsMixin
from pmtui.core.store.tasks import TasksMixin
from pmtui.errors import StoreError, StoreLockedError, StoreSchemaError

if TYPE_CHECKING:
    from pmtui.models import ExternalRef, Project

__all__ = [
    "DAMAGED_HINT",
    "FAIR_SHARE_SECONDS",
    "HANDLE_PREFIXES",
    "LINGER_SECONDS",
    "LOCK_WAIT_SECONDS",
    "MAX_SESSION_SECONDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STORE_FILENAME",
    "TASK_COLUMNS",
    "OutboxEntry",
    "RequestRecord",
    "Store",
    "StoreBase",
    "StoreDamagedError",
    "StoreError",
    "StoreLockedError",
    "StoreSchemaError",
    "StoreUnwritableError",
    "store_path",
]


class Store(
    TasksMixin,
    RefsMixin,
    JournalMixin,
    ConflictsMixin,
    SyncRunsMixin,
    CommentsMixin,
    SchemaMixin,
):
    """The DuckDB cache. One instance per process; methods are safe to call from worker threads.

    Every group of tables is a mixin over :class:`StoreBase`, so a transaction opened by one (say, a
    journal step closing) covers the writes of the others (the task it saved). Methods that span
    groups (a project and its ref) live here.
    """

    def adopt_project(self, project: Project, ref: ExternalRef) -> Project:
        """Link a service's project ``ref`` to the live project of the same name, or to ``project`` (new).

        One transaction: services sync in parallel and several hold a project of one name (Motion's,
        Linear's and Notion's "Q1 launch"); looked up and created apart, each could find none and make
        its own, and the briefing listed the project twice with its tasks split between them.
        """
        with self.transaction() as tx:
            chosen = tx.find_project(project.name)
            if chosen is None:
                chosen = project
                tx.upsert_projects([project])
            tx.upsert_refs([ref.model_copy(update={"entity_id": chosen.id})])
        return chosen
