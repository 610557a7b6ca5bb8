"""The one interface every service implements, and the shapes that cross it.

Only canonical models leave an integration: each module owns its ``to_task(raw)`` / ``from_task(task)``
mapping as pure functions. Errors are :mod:`pmtui.errors` service errors, raised ``from`` the client
library's own exception, so the engine can tell auth from throttling from "the outcome is unknown".
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pmtui.models import Comment, ExternalRef, Milestone, Project, Service, Task

IDEMPOTENCY_MARKER = "pmtui:id="
"""Prefix of the marker pmtui leaves on objects it creates where the service keeps no client id."""


def marker_comment(key: str) -> str:
    """The idempotency marker as a trailing HTML comment: invisible in rendered Markdown."""
    return f"<!-- {IDEMPOTENCY_MARKER}{key} -->"


def split_marker(text: str | None) -> tuple[str, str | None]:
    """``text`` without its trailing marker comment, and the key the marker carried (or None)."""
    if not text:
        return "", None
    start = text.rfind(f"<!-- {IDEMPOTENCY_MARKER}")
    if start == -1:
        return text, None
    end = text.find("-->", start)
    if end == -1:
        return text, None
    key = text[start + len(f"<!-- {IDEMPOTENCY_MARKER}") : end].strip()
    return (text[:start] + text[end + 3 :]).rstrip(), key or None


def with_marker(text: str, key: str) -> str:
    """``text`` with the marker for ``key`` appended (any earlier marker is replaced)."""
    body, _ = split_marker(text)
    return f"{body}\n\n{marker_comment(key)}" if body else marker_comment(key)


@dataclass(frozen=True)
class Capabilities:
    """What a service can hold; the router and the processor check these before calling it."""

    projects: bool = True
    milestones: bool = False
    due_dates: bool = True
    due_times: bool = False
    """Due dates carry a time of day (Motion) rather than a bare date (Linear, GitLab)."""
    scheduling: bool = False
    """The service schedules work itself (Motion's auto-scheduling; needs a due date and duration)."""
    comments: bool = True
    labels: bool = True
    priorities: bool = True
    durations: bool = False
    client_ids: bool = False
    """Creates accept a client-chosen id (Linear), which makes them naturally idempotent."""
    archives: bool = False
    """Delete archives or trashes rather than destroying."""
    incremental: bool = True
    """Listing can filter on "updated since"; without it every sync scans (Motion)."""
    max_page_size: int = 100


@dataclass
class RemoteTask:
    """A task as a service holds it, already mapped to canonical fields.

    ``task.id`` is meaningless here (the engine matches through ``ref``); ``deleted`` is true for
    archived, trashed or otherwise gone objects that the listing still reports.
    """

    ref: ExternalRef
    task: Task
    project_external_id: str | None = None
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    milestone_external_id: str | None = None
    """The milestone the task belongs to, on listings that report milestones (see ``ChangePage``)."""


class RemoteComment(Comment):
    """A comment as a service lists it: ``task_id`` is the task's *external* id, and the marker it carried.

    ``idempotency_key`` is what :meth:`Integration.comment_marker` gives for the key pmtui posted it
    with (None when it carries none), so the sync can tell its own comments from people's.
    """

    idempotency_key: str | None = None


@dataclass
class RemoteProject:
    """A project (or the service's nearest equivalent) as the service holds it."""

    ref: ExternalRef
    project: Project


@dataclass
class RemoteMilestone:
    """A dated checkpoint inside a project (a Linear project milestone) as the service holds it.

    ``milestone.project_id`` is meaningless here; ``project_external_id`` names the project, which the
    engine maps to its local id. ``milestone.start`` is already derived where the service keeps none.
    """

    ref: ExternalRef
    milestone: Milestone
    project_external_id: str | None = None


@dataclass
class ChangePage:
    """One page of a change listing; the engine stores its items, then saves ``cursor``.

    ``full_scan`` means the listing this page belongs to covers every live object (Motion has no
    updated-since filter), so an object missing from a completed full scan is a deletion *candidate*,
    to be confirmed with :meth:`Integration.get_task` before anything is done.
    """

    items: list[RemoteTask]
    cursor: str | None
    last: bool
    full_scan: bool = False
    seen: list[str] | None = None
    """On a full scan: the external ids of every live object on this page (changed or not)."""
    milestones: list[RemoteMilestone] | None = None
    """Every live milestone of the scope, on the first page of a listing that reports milestones (None
    elsewhere). Such a listing also sets each task's ``milestone_external_id``."""
    skipped: list[SkippedItem] = field(default_factory=list)
    """Objects on this page that pmtui cannot represent: left out of ``items``, named in the sync status."""
    resume: str | None = None
    """On a full scan spread over syncs: the service's position after this page, where the next sync
    continues if this round stops here (None once ``last``)."""


@dataclass(frozen=True)
class SkippedItem:
    """A remote object a sync left out, and why (shown in the sync status, never a traceback)."""

    external_id: str
    reason: str


def map_items(
    raws: Iterable[Any], convert: Callable[[Any], RemoteTask], ident: Callable[[Any], str]
) -> tuple[list[RemoteTask], list[SkippedItem]]:
    """Convert a page's raw objects; one that does not map is skipped with its reason, the rest go on.

    A single odd object (a field beyond every limit pmtui knows, an unexpected shape) must not stop a
    service's sync: it is reported, and picked up again when it next changes.
    """
    items: list[RemoteTask] = []
    skipped: list[SkippedItem] = []
    for raw in raws:
        try:
            items.append(convert(raw))
        except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            skipped.append(SkippedItem(_ident_or_unknown(ident, raw), _reason(exc)))
    return items, skipped


def _ident_or_unknown(ident: Callable[[Any], str], raw: Any) -> str:
    try:
        return ident(raw)
    except (KeyError, TypeError, ValueError, AttributeError):
        return "(unknown id)"


def _reason(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "value"
            return f"{where}: {first.get('msg', exc)}"[:300]
        except (IndexError, TypeError, AttributeError):
            pass
    return f"{type(exc).__name__}: {exc}"[:300]


@dataclass
class Health:
    """What `pmtui doctor` and the sync status screen show about a service."""

    service: Service
    ok: bool
    detail: str
    account: str | None = None
    ids: dict[str, str] = field(default_factory=dict)
    rate_remaining: float | None = None
    rate_limit: float | None = None
    hint: str | None = None


@dataclass
class TaskPatch:
    """The canonical fields to change on a remote task; absent fields are left alone."""

    fields: dict[str, Any]
    project_external_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.fields) or self.project_external_id is not None


class Integration(abc.ABC):
    """One service behind the common interface. Instances are built with their client injected."""

    service: ClassVar[Service]
    capabilities: ClassVar[Capabilities]

    @abc.abstractmethod
    def health(self) -> Health:
        """Reachable, authenticated as whom, ids resolved, rate budget left."""

    @abc.abstractmethod
    def create_project(self, project: Project, *, idempotency_key: str) -> RemoteProject:
        """Create a project; a retry with the same key returns the first one."""

    @abc.abstractmethod
    def create_task(
        self, task: Task, *, idempotency_key: str, project_external_id: str | None = None
    ) -> RemoteTask:
        """Create a task carrying ``idempotency_key`` where the service keeps it."""

    @abc.abstractmethod
    def update_task(self, external_id: str, patch: TaskPatch) -> RemoteTask:
        """Apply a partial change; returns the task as the service now holds it."""

    def complete_task(self, external_id: str) -> RemoteTask:
        """Mark done (the service's resolved/closed/completed state)."""
        from pmtui.models import Status

        return self.update_task(external_id, TaskPatch({"status": Status.DONE}))

    @abc.abstractmethod
    def delete_task(self, external_id: str) -> None:
        """Delete, or archive/trash where the service archives; deleting a missing task is not an error."""

    @abc.abstractmethod
    def get_task(self, external_id: str) -> RemoteTask | None:
        """The task, or None if the service says it does not exist."""

    @abc.abstractmethod
    def find_by_idempotency_key(self, key: str, hint: Task | None = None) -> RemoteTask | None:
        """The task pmtui created with ``key``, if the service has it (recovery after an unknown outcome).

        ``hint`` is the task as it was sent, so services without a key index can search narrowly
        (by title) instead of scanning everything.
        """

    @abc.abstractmethod
    def list_changes(self, cursor: str | None) -> Iterator[ChangePage]:
        """Pages of tasks changed since ``cursor`` (everything when None)."""

    def list_projects(self) -> list[RemoteProject]:
        """Every project the service holds for the configured scope."""
        return []

    def find_project_by_idempotency_key(self, key: str) -> RemoteProject | None:
        """The project pmtui created with ``key``, if the service has it (recovery after a crash).

        Read from the project listing, where every integration reports the marker it left.
        """
        return next((p for p in self.list_projects() if p.ref.idempotency_key == key), None)

    def add_comment(self, external_id: str, body: str, *, idempotency_key: str) -> str:
        """Post a comment; returns its id. Services without comments raise NotConfiguredError."""
        from pmtui.errors import NotConfiguredError

        raise NotConfiguredError(f"{self.service.value} has no comments", service=self.service.value)

    def list_comments(self, external_id: str) -> list[RemoteComment]:
        """The task's comments, oldest first (without system notes)."""
        return []

    def comment_marker(self, key: str) -> str:
        """How a comment posted with ``key`` shows in :attr:`RemoteComment.idempotency_key`."""
        return key

    def listed_without_comments(self, remote: RemoteTask) -> bool:
        """Whether the listing itself says the task has no comment, so reading them would find none.

        A changed task's comments cost a request each; a service that counts them in the listing
        (GitLab's ``user_notes_count``) saves that request for the many tasks nobody commented on.
        False where the listing does not say.
        """
        return False

    def close(self) -> None:  # noqa: B027 - optional hook: most integrations have nothing to release
        """Release the client's connections."""


def parse_remote_time(value: str | None) -> datetime | None:
    """An aware datetime from a service's ISO timestamp (``Z`` or offset), or None."""
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    from datetime import UTC

    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SpreadScanning(abc.ABC):
    """A service whose full listing one sync may not finish: no "updated since" filter and a small budget
    (Motion). The engine reads :meth:`round_pages` pages a sync through :meth:`scan`, each sync going on
    where the previous one stopped (:mod:`pmtui.core.scan`); the other services list what changed."""

    @abc.abstractmethod
    def round_pages(self) -> int:
        """How many pages of a full scan one sync may read."""

    @abc.abstractmethod
    def scan(
        self,
        cursor: str | None,
        *,
        resume: str | None,
        max_pages: int,
        known: Callable[[list[str]], Mapping[str, datetime | None]],
    ) -> Iterator[ChangePage]:
        """Up to ``max_pages`` pages of a full scan from ``resume``; ``known`` gives the cached update time
        of a page's ids, so an item the cache already holds is reported in ``seen`` without being parsed."""
