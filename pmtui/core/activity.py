"""GitLab code activity of tasks: when to fetch it, the cache, and the briefing's one-line summary.

The activity of an issue (its merge requests with state, draft flag and head pipeline, the commits
that reference it) costs three or four requests, so it is never part of a sync's listing. It is
fetched for the task in view (the task detail's worker), kept in the ``gitlab_activity`` table, and
a sync refreshes only the cached tasks whose issue changed since their fetch (a new "mentioned in"
note or a close touches the issue's ``updated_at``). A pipeline finishing does not touch the issue,
so the task detail also refetches a cache older than :data:`MAX_AGE`.

The briefing reads the cache only (:func:`open_tasks_summary`); nothing here imports python-gitlab.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pmtui.errors import PmtuiError
from pmtui.integrations.gitlab_activity import IssueActivity, MergeRequestActivity
from pmtui.kinds import Service

if TYPE_CHECKING:
    from pmtui.core.store import Store

log = logging.getLogger("pmtui.activity")

MAX_AGE = timedelta(minutes=10)
"""A task in view refetches activity older than this (pipelines change without touching the issue)."""


@runtime_checkable
class ActivitySource(Protocol):
    """What can fetch an issue's activity: the GitLab integration."""

    def issue_activity(self, external_id: str, *, background: bool = False) -> IssueActivity:
        """The issue's merge requests and the commits that reference it.

        ``background=True`` (a sync's refresh) spends the background lane, so it yields to the user's calls.
        """


@dataclass(frozen=True, kw_only=True)
class CachedActivity:
    """A task's activity as cached, with the issue version it was fetched against."""

    task_id: str
    external_id: str
    issue_updated_at: datetime | None
    fetched_at: datetime
    activity: IssueActivity


def needs_refresh(
    cached: CachedActivity | None,
    *,
    external_id: str,
    issue_updated_at: datetime | None,
    now: datetime,
    max_age: timedelta | None = MAX_AGE,
) -> bool:
    """Whether the task in view should refetch: nothing cached, another issue, the issue changed since,
    or (with ``max_age``) the fetch is older than that."""
    if cached is None or cached.external_id != external_id:
        return True
    if issue_updated_at is not None and (
        cached.issue_updated_at is None or issue_updated_at > cached.issue_updated_at
    ):
        return True
    return max_age is not None and now - cached.fetched_at > max_age


def read_cached(store: Store, task_id: str) -> CachedActivity | None:
    """The cached activity of a task; None when absent or stored in another payload format."""
    row = store.gitlab_activity(task_id)
    if row is None:
        return None
    activity = IssueActivity.from_json(row["payload"])
    if activity is None:
        return None
    return CachedActivity(
        task_id=task_id,
        external_id=str(row["external_id"]),
        issue_updated_at=row["issue_updated_at"],
        fetched_at=row["fetched_at"],
        activity=activity,
    )


def refresh(
    store: Store,
    source: ActivitySource,
    task_id: str,
    external_id: str,
    *,
    issue_updated_at: datetime | None,
    now: datetime,
    background: bool = False,
) -> CachedActivity:
    """Fetch one issue's activity now and cache it (network: call from a worker or the sync)."""
    activity = source.issue_activity(external_id, background=background)
    store.put_gitlab_activity(
        task_id,
        external_id,
        issue_updated_at=issue_updated_at,
        fetched_at=now,
        payload=activity.to_json(),
    )
    return CachedActivity(
        task_id=task_id,
        external_id=external_id,
        issue_updated_at=issue_updated_at,
        fetched_at=now,
        activity=activity,
    )


def activity_for_task(
    store: Store,
    source: ActivitySource,
    task_id: str,
    *,
    now: datetime,
    force: bool = False,
    max_age: timedelta | None = MAX_AGE,
) -> CachedActivity | None:
    """The task's activity for the detail view: the cache when fresh, else fetched and cached.

    None when the task has no GitLab issue. Network only when :func:`needs_refresh` (or ``force``).
    """
    ref = next((r for r in store.refs_for(task_id) if r.service is Service.GITLAB), None)
    if ref is None:
        return None
    cached = read_cached(store, task_id)
    stale = needs_refresh(
        cached,
        external_id=ref.external_id,
        issue_updated_at=ref.remote_updated_at,
        now=now,
        max_age=max_age,
    )
    if cached is not None and not (force or stale):
        return cached
    return refresh(store, source, task_id, ref.external_id, issue_updated_at=ref.remote_updated_at, now=now)


def refresh_changed(store: Store, source: object, *, now: datetime | None = None) -> list[str]:
    """After a GitLab pull: refetch the cached activity of the tasks whose issue changed since.

    Tasks never viewed have no cache entry and cost nothing. A failure stops the refresh and is
    logged, never raised: the pull it follows has already succeeded, and the next sync tries again
    (the entries stay stale until then). Returns the ids of the tasks refreshed.
    """
    if not isinstance(source, ActivitySource):
        return []
    when = now or datetime.now(UTC)
    done: list[str] = []
    for task_id, external_id, issue_updated_at in store.stale_gitlab_activity():
        try:
            refresh(
                store,
                source,
                task_id,
                external_id,
                issue_updated_at=issue_updated_at,
                now=when,
                background=True,
            )
        except (PmtuiError, KeyError, TypeError, ValueError) as exc:
            # A service error, or an answer of an unexpected shape: either way not the sync's failure.
            log.warning("refreshing GitLab activity stopped: %s", exc, extra={"service": "gitlab"})
            break
        done.append(task_id)
    return done


# ----------------------------------------------------------------------------------- the summary


@dataclass(frozen=True, kw_only=True)
class ActivitySummary:
    """Code activity across the user's open tasks, for the briefing ("2 MRs open, 1 pipeline failing").

    Merge requests are counted once even when they relate to several tasks; pipelines are those of
    the open MRs (a merged MR's old pipeline is history).
    """

    tasks: int = 0
    """Open tasks with cached activity (the ones viewed at least once)."""
    open_merge_requests: int = 0
    draft_merge_requests: int = 0
    failing_pipelines: int = 0
    running_pipelines: int = 0

    def text(self) -> str:
        """The one-line summary, empty when there is nothing to say."""
        parts = []
        if self.open_merge_requests:
            mrs = "MR" if self.open_merge_requests == 1 else "MRs"
            drafts = f" ({self.draft_merge_requests} draft)" if self.draft_merge_requests else ""
            parts.append(f"{self.open_merge_requests} {mrs} open{drafts}")
        for count, word in ((self.failing_pipelines, "failing"), (self.running_pipelines, "running")):
            if count:
                parts.append(f"{count} {'pipeline' if count == 1 else 'pipelines'} {word}")
        if not parts and self.tasks:
            parts.append("no open MRs")
        return ", ".join(parts)


RUNNING_STATES = frozenset({"running", "pending", "created", "preparing", "waiting_for_resource"})


def summarize(activities: Iterable[IssueActivity]) -> ActivitySummary:
    """Count the open MRs (once each), their drafts, and their failing and running head pipelines."""
    tasks = 0
    seen: dict[tuple[int | None, int], MergeRequestActivity] = {}
    for activity in activities:
        tasks += 1
        for mr in activity.open_merge_requests():
            seen.setdefault((mr.project_id, mr.iid), mr)
    mrs = list(seen.values())
    return ActivitySummary(
        tasks=tasks,
        open_merge_requests=len(mrs),
        draft_merge_requests=sum(1 for mr in mrs if mr.draft),
        failing_pipelines=sum(1 for mr in mrs if mr.pipeline == "failed"),
        running_pipelines=sum(1 for mr in mrs if mr.pipeline in RUNNING_STATES),
    )


def open_tasks_summary(store: Store) -> ActivitySummary:
    """The summary over the cached activity of open tasks (the cache only: no network, no client)."""
    parsed = (IssueActivity.from_json(payload) for payload in store.open_tasks_gitlab_activity())
    return summarize(activity for activity in parsed if activity is not None)
