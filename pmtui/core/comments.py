"""Comment sync: pull comments into the cache and carry each one, once, to every service holding its task.

Comments are append-only. Every comment has a row in ``comments`` and, per service it is on, a mapping in
``external_refs`` (``entity = 'comment'``, ``entity_id`` = the local comment id, ``external_id`` = the
service's comment id; ``origin`` marks where it was written). A comment made in pmtui also gets a
``local`` mapping, so "has at least one mapping" means "pmtui knows where this comment lives" and
only such comments are carried (a comment of an older cache without mappings stays where it is).

How "exactly once" holds:

* **Pull.** A remote comment is stored under an id derived from (service, remote id), together with its
  mapping, in one transaction: a re-read finds the mapping (or replaces the same row).
* **Carry.** Each post is a journal step keyed by the local comment id, and the post leaves that key on
  the remote comment as a marker (a hidden HTML comment; Notion: a short ``[pmtui:tag]``; Linear: the
  comment's own id). The step closes in the transaction that stores the mapping. A kill between post and
  store leaves the step pending; :func:`settle_comment` then looks for the marker before posting, so the
  comment is recorded, never posted twice.
* **No bounce.** On a pull, an unknown remote comment whose marker names a local comment of the same task
  is pmtui's own post: its mapping is stored and nothing new is made.

Which tasks are read: only those whose remote changed since the last sync (the change listing says so),
so a sync where nothing changed makes no comment requests, and at most ``[sync] comments_per_sync`` of
them per sync and service (the rest stay due for the next syncs). Their external ids are written down in the
same transaction that advances the task cursor (``sync_cursors`` row ``comments-due``), so a crash or a
failed comment listing leaves them due for the next sync instead of forgetting them. Services whose API
does not mark a task changed when a comment is added are read on demand: :meth:`CommentSync.refresh`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from pmtui.core.journal import Journal
from pmtui.core.store import Store
from pmtui.errors import PmtuiError, ServiceError, TransientError
from pmtui.integrations.base import Integration, RemoteComment, RemoteTask
from pmtui.models import (
    Comment,
    Decision,
    EntityType,
    ExternalRef,
    JournalEntry,
    JournalState,
    Service,
    utcnow,
)

log = logging.getLogger("pmtui.comments")

DUE_RESOURCE = "comments-due"
"""The ``sync_cursors`` resource holding the external ids whose comments a sync still has to read."""

COMMENT_OP = "add_comment"
"""The journal op of a comment post (the processor's and the carry's)."""


def comment_id_for(service: Service, remote_id: str) -> str:
    """The local id of a comment pulled from ``service``: the same every time, so a re-read replaces it.

    A 32-hex UUID v4 like every pmtui key, because the id is also the idempotency key of its carries
    (and Linear takes that key as the new comment's id).
    """
    digest = hashlib.sha256(f"comment:{service.value}:{remote_id}".encode()).digest()[:16]
    return uuid.UUID(bytes=digest, version=4).hex


def carried_text(comment: Comment, origin: Service | None) -> str:
    """The text a carried comment is posted with: who wrote it, where and when, then the body.

    No service lets an API client post as someone else or back-date a comment (Linear's ``createdAt``
    is for imports; the author stays the API key's user), so both go in the text.
    """
    when = comment.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = "pmtui" if origin in (None, Service.LOCAL) else origin.label
    who = comment.author or ("Comment from pmtui" if where == "pmtui" else "Someone")
    header = f"{who} ({when}):" if where == "pmtui" and not comment.author else f"{who} ({where}, {when}):"
    return f"{header}\n\n{comment.body}"


def mapping_ref(comment_id: str, service: Service, remote_id: str, *, origin: bool) -> ExternalRef:
    """The external_refs row that says comment ``comment_id`` is ``remote_id`` on ``service``."""
    return ExternalRef(
        entity=EntityType.COMMENT,
        entity_id=comment_id,
        service=service,
        external_id=remote_id,
        origin=origin,
        synced_at=utcnow(),
    )


def _comment_exists(store: Store, comment_id: str) -> bool:
    return bool(store._rows("SELECT 1 FROM comments WHERE id = ?", [comment_id]))


def _record(store: Store, comment: Comment, service: Service, remote_id: str) -> None:
    """Store the comment (if the cache lacks it) and its mapping on ``service``: a post's result."""
    if not _comment_exists(store, comment.id):
        store.add_comment(comment)
    store.upsert_refs([mapping_ref(comment.id, service, remote_id, origin=False)])


def post_comment(
    store: Store,
    journal: Journal,
    integration: Integration,
    *,
    request_id: str,
    comment: Comment,
    target: ExternalRef,
    text: str,
) -> str:
    """Post ``text`` as ``comment`` on the task ``target`` through the journal; returns the remote id.

    The key is the local comment id. An unknown outcome (the integration's own find-by-marker retries
    did not settle it) leaves the step pending for :func:`settle_comment` and raises; a refusal (auth,
    validation, throttled before the call) drops the step and raises.
    """
    entry = journal.begin(
        request_id=request_id,
        step=0,
        service=target.service,
        op=COMMENT_OP,
        idempotency_key=comment.id,
        entity_id=comment.task_id,
        external_id=target.external_id,
        payload={"body": text, "comment": comment.model_dump(mode="json")},
    )
    try:
        remote_id = integration.add_comment(target.external_id, text, idempotency_key=comment.id)
    except TransientError:
        raise  # outcome unknown: the pending step is settled by recovery, by the marker
    except ServiceError:
        journal.forget([entry])
        raise
    journal.close(entry, lambda: _record(store, comment, target.service, remote_id))
    return remote_id


def settle_comment(store: Store, journal: Journal, integration: Integration, entry: JournalEntry) -> str:
    """Finish a comment post left open by a crash or an unknown outcome: find it by marker, else post it.

    Returns one line for the decision log. Raises (leaving the step open) if the service cannot answer.
    """
    body = str(entry.payload.get("body", ""))
    raw = entry.payload.get("comment")
    comment = (
        Comment.model_validate(raw)
        if isinstance(raw, dict)
        else Comment(id=entry.idempotency_key, task_id=entry.entity_id or "", body=body or "(empty)")
    )
    if not entry.external_id:
        journal.mark(entry, JournalState.FAILED, error="no target task recorded")
        return f"comment on {entry.service.label}: no target task recorded; kept for review"
    marker = integration.comment_marker(entry.idempotency_key)
    found = next(
        (c for c in integration.list_comments(entry.external_id) if c.idempotency_key == marker), None
    )
    if found is not None:
        remote_id, line = found.id, "had been posted; recorded it once"
    else:
        remote_id = integration.add_comment(entry.external_id, body, idempotency_key=entry.idempotency_key)
        line = "posted once"
    journal.close(entry, lambda: _record(store, comment, entry.service, remote_id))
    return f"comment on {entry.service.label}: {line}"


class CommentSync:
    """Pulls comments of changed tasks during a sync and carries comments between services."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.store: Store = engine.store
        self.journal: Journal = engine.journal
        self._incremental: dict[Service, bool] = {}
        self._due: dict[Service, set[str]] = {}
        self._dirty: set[Service] = set()
        """Services whose due list changed since it was last saved (see :meth:`flush`)."""

    # ------------------------------------------------------------------------------------ change hooks

    def begin(self, service: Service) -> None:
        """Called before a service's pull: a first import (no task cursor yet) reads no comments.

        A first import would otherwise cost one comment listing per task (thousands of requests, and
        hours of Motion's budget); old comments arrive when their task next changes, or on refresh.
        """
        self._incremental[service] = self.store.get_cursor(service, "tasks") is not None
        self._due[service] = self._load_due(service)

    def changed(
        self, service: Service, integration: Integration, remote: RemoteTask, *, new: bool = False
    ) -> None:
        """A task of ``service`` changed remotely: its comments are due (saved with the page's cursor),
        unless the listing already says it has none."""
        if new and not self._incremental.get(service, True):
            return
        if integration.listed_without_comments(remote):
            return
        external_id = remote.ref.external_id
        due = self._due.setdefault(service, set())
        if external_id in due:
            return
        due.add(external_id)
        self._dirty.add(service)

    def flush(self, service: Service) -> None:
        """Save the due list, once per page, in the transaction that stores the page and its cursor.

        Saving it per changed task cost a write (~3 ms) each; per page keeps the same crash guarantee:
        the page, its cursor and the tasks whose comments it made due commit together.
        """
        if service in self._dirty:
            self._dirty.discard(service)
            self._save_due(service, self._due.get(service, set()))

    def _load_due(self, service: Service) -> set[str]:
        text = self.store.get_cursor(service, DUE_RESOURCE)
        try:
            loaded = json.loads(text) if text else []
        except ValueError:
            loaded = []
        return {str(x) for x in loaded} if isinstance(loaded, list) else set()

    def _save_due(self, service: Service, due: set[str]) -> None:
        if due:
            self.store.set_cursor(service, DUE_RESOURCE, json.dumps(sorted(due)))
        else:
            with self.store.transaction() as tx:
                tx._exec(
                    "DELETE FROM sync_cursors WHERE service = ? AND resource = ?",
                    [service.value, DUE_RESOURCE],
                )

    # ---------------------------------------------------------------------------------------- pulling

    def pull(self, service: Service, integration: Integration) -> int:
        """Read the comments of every task due on ``service``; returns how many new comments it stored.

        A failing listing stops the pull and leaves the rest due (for the next sync); it does not fail
        the service's sync, whose tasks are already stored.
        """
        due = self._due.get(service)
        if due is None:
            due = self._load_due(service)
            self._due[service] = due
        added = 0
        # A budget per sync: a sync where many tasks changed reads some of their comments and leaves the
        # rest due for the next syncs, instead of one request per changed task (Linear's and Notion's
        # budgets are shared with your own writes). Opening a task reads its comments at once.
        budget = self.engine.settings.sync.comments_per_sync
        batch = sorted(due)[:budget]
        if not batch:
            return 0  # nothing due, nothing to save: a quiet sync writes nothing here
        refs = self.store.refs_by_external(service, batch)
        for external_id in batch:
            ref = refs.get(external_id)
            if ref is not None:
                try:
                    remote = integration.list_comments(external_id)
                except PmtuiError as exc:
                    log.warning("reading %s comments failed: %s", service.value, exc)
                    self._save_due(service, due)
                    return added
                added += self.absorb(service, integration, ref, remote)
            due.discard(external_id)
        # Saved once at the end: a crash before it leaves tasks due that were already read, and reading
        # them again stores nothing twice (absorb recognises every comment it has).
        self._save_due(service, due)
        return added

    def absorb(
        self,
        service: Service,
        integration: Integration,
        task_ref: ExternalRef,
        remote: Iterable[RemoteComment],
    ) -> int:
        """Store the comments of one task that the cache does not know yet; returns how many were new.

        A comment whose marker names one of the task's local comments is pmtui's own post (carried
        there, or posted before a crash): only its mapping is stored.
        """
        listed = list(remote)
        if not listed:
            return 0
        known = self.store.refs_by_external(service, [c.id for c in listed], EntityType.COMMENT)
        local = self.store.comments_for(task_ref.entity_id)
        by_marker = {integration.comment_marker(c.id): c for c in local}
        comments: list[Comment] = []
        refs: list[ExternalRef] = []
        for item in listed:
            if item.id in known:
                continue
            mine = by_marker.get(item.idempotency_key) if item.idempotency_key else None
            if mine is not None:
                refs.append(mapping_ref(mine.id, service, item.id, origin=False))
                continue
            comment = Comment(
                id=comment_id_for(service, item.id),
                task_id=task_ref.entity_id,
                body=item.body,
                author=item.author,
                created_at=item.created_at,
            )
            comments.append(comment)
            refs.append(mapping_ref(comment.id, service, item.id, origin=True))
        if refs:
            with self.store.transaction():
                for comment in comments:
                    self.store.add_comment(comment)
                self.store.upsert_refs(refs)
        for comment in comments:
            self._decide(comment.task_id, service, f"pulled a comment by {comment.author or 'someone'}")
        return len(comments)

    # --------------------------------------------------------------------------------------- carrying

    def carry(self, services: Collection[Service], *, task_id: str | None = None) -> int:
        """Post every comment that one of ``services`` lacks (its task is held there); returns how many.

        Steps a crash or an unknown outcome left open are settled first (by marker, never blindly).
        A service that fails is skipped until the next sync; the others go on.
        """
        targets: list[Service] = [s for s in services if s is not Service.LOCAL]
        if not targets:
            return 0
        broken: set[Service] = set()
        self._settle_open(targets, broken)
        posted = 0
        for row in self._pending(targets, task_id):
            comment_id, task, body, author, created_at, service_value, external_id, origin_value = row
            service = Service(service_value)
            if service in broken:
                continue
            comment = Comment(
                id=comment_id, task_id=task, body=body, author=author, created_at=_aware(created_at)
            )
            origin = Service(origin_value) if origin_value else None
            target = ExternalRef(entity_id=task, service=service, external_id=external_id)
            try:
                post_comment(
                    self.store,
                    self.journal,
                    self.engine.integration(service),
                    request_id="sync",
                    comment=comment,
                    target=target,
                    text=carried_text(comment, origin),
                )
            except PmtuiError as exc:
                broken.add(service)
                log.warning("carrying a comment to %s failed: %s", service.value, exc)
                continue
            posted += 1
            where = "pmtui" if origin in (None, Service.LOCAL) else origin.label
            self._decide(task, service, f"carried a comment from {where} to {service.label}")
        return posted

    def _settle_open(self, targets: list[Service], broken: set[Service]) -> None:
        """Settle comment steps still open for ``targets`` (failed recoveries; pending ones of a crash)."""
        for entry in self.store.journal_entries(states=[JournalState.PENDING, JournalState.FAILED]):
            if entry.op != COMMENT_OP or entry.service not in targets or entry.service in broken:
                continue
            try:
                line = settle_comment(self.store, self.journal, self.engine.integration(entry.service), entry)
            except PmtuiError as exc:
                broken.add(entry.service)
                log.warning("settling a comment on %s failed: %s", entry.service.value, exc)
                continue
            self._decide(entry.entity_id, entry.service, line)

    def _pending(self, targets: list[Service], task_id: str | None) -> list[tuple[Any, ...]]:
        """Rows (comment, task, body, author, created, target service and task id, origin) to post.

        Oldest first; only comments with at least one mapping (pmtui knows where they live), on live
        tasks, for targets without a mapping and without an open journal step for that comment.
        """
        where_task = "AND c.task_id = ?" if task_id else ""
        params: list[Any] = [[s.value for s in targets]]
        if task_id:
            params.append(task_id)
        return self.store._rows(
            "SELECT c.id, c.task_id, c.body, c.author, c.created_at, r.service, r.external_id, "
            "(SELECT m.service FROM external_refs m WHERE m.entity = 'comment' AND m.entity_id = c.id "
            "AND m.origin ORDER BY m.service LIMIT 1) "
            "FROM comments c "
            "JOIN tasks t ON t.id = c.task_id AND NOT t.deleted "
            "JOIN external_refs r ON r.entity = 'task' AND r.entity_id = c.task_id "
            f"WHERE list_contains(?, r.service) {where_task} "
            "AND EXISTS (SELECT 1 FROM external_refs m WHERE m.entity = 'comment' AND m.entity_id = c.id) "
            "AND NOT EXISTS (SELECT 1 FROM external_refs m WHERE m.entity = 'comment' "
            "AND m.entity_id = c.id AND m.service = r.service) "
            "AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.op = 'add_comment' "
            "AND j.idempotency_key = c.id AND j.service = r.service) "
            "ORDER BY c.created_at, c.id, r.service",
            params,
        )

    # ---------------------------------------------------------------------------------------- refresh

    def refresh(self, task_id: str) -> int:
        """Read one task's comments on every service holding it and carry them; returns new + carried.

        For the task in view: Linear, Notion and Motion do not mark a task changed when someone
        comments (in the sandbox; UNVERIFIED for the real services), so a sync alone may not see it.
        """
        refs = [r for r in self.store.refs_for(task_id) if r.service is not Service.LOCAL]
        count = 0
        reachable: list[Service] = []
        for ref in refs:
            try:
                integration = self.engine.integration(ref.service)
                count += self.absorb(
                    ref.service, integration, ref, integration.list_comments(ref.external_id)
                )
            except PmtuiError as exc:
                log.warning("reading %s comments failed: %s", ref.service.value, exc)
                continue
            reachable.append(ref.service)
        return count + self.carry(reachable, task_id=task_id)

    def _decide(self, task_id: str | None, service: Service, reason: str) -> None:
        self.store.log_decision(
            Decision(request_id="sync", kind="sync", task_id=task_id, service=service, reason=reason)
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
