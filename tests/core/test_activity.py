"""Cached GitLab activity: fetched for the task in view, refreshed by a sync only for changed issues,
summarised for the briefing from the cache alone. Requests are counted at the GitLab emulator."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

from pmtui.core.activity import (
    MAX_AGE,
    ActivitySummary,
    CachedActivity,
    activity_for_task,
    needs_refresh,
    open_tasks_summary,
    read_cached,
    refresh_changed,
    summarize,
)
from pmtui.core.briefing import build_briefing
from pmtui.integrations.gitlab_activity import IssueActivity, MergeRequestActivity
from pmtui.models import Service, Status
from pmtui.render.briefing import render_briefing
from pmtui.sandbox.server import Fault
from tests.core.conftest import World

RELATED = "GET /api/v4/projects/:id/issues/:issue_iid/related_merge_requests"
ACTIVITY_ROUTES = (
    RELATED,
    "GET /api/v4/projects/:id/issues/:issue_iid/closed_by",
    "GET /api/v4/projects/:id/merge_requests/:merge_request_iid/commits",
)
"""Routes only the activity fetch uses (it reads the issue's notes too, but so does the comment sync)."""
NOTES = "GET /api/v4/projects/:id/issues/:issue_iid/notes"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def activity_requests(world: World) -> int:
    counts = world.sandbox.emulator("gitlab").request_counts()
    return sum(counts.get(route, 0) for route in ACTIVITY_ROUTES)


def related_calls(world: World) -> int:
    return world.sandbox.emulator("gitlab").request_counts().get(RELATED, 0)


def view(world: World, key: str, **kwargs: Any) -> CachedActivity:
    """What the task detail's worker does for the task ``key``."""
    task = world.task(key)
    source: Any = world.engine.integration(Service.GITLAB)
    kwargs.setdefault("now", datetime.now(UTC))
    found = activity_for_task(world.engine.store, source, task.id, **kwargs)
    assert found is not None
    return found


def gitlab_admin(world: World, op: dict[str, Any]) -> Any:
    return world.sandbox.emulator("gitlab").admin_mutate(op)


# ------------------------------------------------------------------------------- the task in view


def test_first_view_fetches_then_the_cache_answers(world: World) -> None:
    first = view(world, "acme/app#5")
    [mr] = first.activity.merge_requests
    assert (mr.iid, mr.state, mr.closes, mr.pipeline) == (2, "opened", True, "failed")
    assert activity_requests(world) == 3
    assert world.sandbox.emulator("gitlab").request_counts()[NOTES] == 1
    task = world.task("acme/app#5")
    assert first.issue_updated_at == world.ref(task, Service.GITLAB).remote_updated_at

    again = view(world, "acme/app#5")
    assert again == read_cached(world.engine.store, task.id)
    assert again.activity == first.activity
    assert world.sandbox.emulator("gitlab").request_counts()["total"] == 4, "a fresh cache costs nothing"

    view(world, "acme/app#5", force=True)
    assert world.sandbox.emulator("gitlab").request_counts()["total"] == 8


def test_an_old_cache_is_refetched_for_the_task_in_view(world: World) -> None:
    first = view(world, "acme/app#8", now=T0)
    assert view(world, "acme/app#8", now=T0 + MAX_AGE).fetched_at == first.fetched_at
    assert related_calls(world) == 1
    assert view(world, "acme/app#8", now=T0 + MAX_AGE + timedelta(seconds=1)).fetched_at > first.fetched_at
    assert related_calls(world) == 2


def test_a_task_without_a_gitlab_issue_has_no_activity(world: World) -> None:
    task = next(
        t
        for t in world.engine.store.list_tasks()
        if not world.engine.store.refs_for(t.id)
        or all(r.service is not Service.GITLAB for r in world.engine.store.refs_for(t.id))
    )
    source: Any = world.engine.integration(Service.GITLAB)
    assert activity_for_task(world.engine.store, source, task.id, now=T0) is None
    assert activity_requests(world) == 0


@pytest.mark.parametrize(
    ("cached_issue", "external_id", "issue_now", "now", "expected", "expected_without_age"),
    [
        (T0, "5", T0, T0 + timedelta(minutes=1), False, False),
        (T0, "5", T0 + timedelta(seconds=1), T0, True, True),  # the issue changed
        (T0, "6", T0, T0, True, True),  # the task now points at another issue
        (None, "5", T0, T0, True, True),  # fetched without knowing the issue's version
        (T0, "5", None, T0, False, False),
        (T0, "5", T0, T0 + MAX_AGE + timedelta(seconds=1), True, False),  # only too old
    ],
)
def test_needs_refresh(
    cached_issue: datetime | None,
    external_id: str,
    issue_now: datetime | None,
    now: datetime,
    expected: bool,
    expected_without_age: bool,
) -> None:
    cached = CachedActivity(
        task_id="t", external_id="5", issue_updated_at=cached_issue, fetched_at=T0, activity=IssueActivity()
    )
    facts: dict[str, Any] = {"external_id": external_id, "issue_updated_at": issue_now, "now": now}
    assert needs_refresh(cached, **facts) is expected
    assert needs_refresh(cached, **facts, max_age=None) is expected_without_age
    assert needs_refresh(None, **facts) is True


# ------------------------------------------------------------------------------------------- sync


def test_sync_refreshes_only_cached_issues_that_changed(world: World) -> None:
    five, eight = view(world, "acme/app#5"), view(world, "acme/app#8")
    assert five.activity.merge_requests[0].state == "opened"
    world.sandbox.reset_counts()

    world.later()
    runs = world.sync(Service.GITLAB)
    assert runs[Service.GITLAB].status == "ok"
    assert activity_requests(world) == 0, "nothing changed: no activity request"

    # Merging !2 closes #5 and #10 (a system note each, which touches both issues); #10 was never
    # viewed, so only #5 is refetched; #8 is cached but unchanged.
    world.later()
    gitlab_admin(
        world,
        {
            "op": "update",
            "kind": "merge_request",
            "iid": 2,
            "fields": {"pipeline_status": "success", "state_event": "merge"},
        },
    )
    world.sandbox.reset_counts()
    world.later()
    runs = world.sync(Service.GITLAB)
    assert runs[Service.GITLAB].status == "ok"
    assert related_calls(world) == 1
    assert activity_requests(world) == 3, "one issue's MRs, closing MRs and MR commits"

    store = world.engine.store
    refreshed = read_cached(store, world.task("acme/app#5").id)
    assert refreshed is not None
    [mr] = refreshed.activity.merge_requests
    assert (mr.state, mr.closes, mr.pipeline) == ("merged", True, "success")
    assert refreshed.issue_updated_at == world.ref(world.task("acme/app#5"), Service.GITLAB).remote_updated_at
    assert read_cached(store, world.task("acme/app#8").id) == eight
    assert read_cached(store, world.task("acme/app#10").id) is None


def test_a_failed_refresh_never_fails_the_sync_and_is_retried_next_time(world: World) -> None:
    view(world, "acme/app#1")
    gitlab = world.sandbox.emulator("gitlab")
    world.later()
    gitlab_admin(
        world,
        {
            "op": "create",
            "kind": "note",
            "issue_iid": 1,
            "fields": {"body": "mentioned in commit 0badc0de", "system": True},
        },
    )
    gitlab.add_fault(Fault("error", value=404, count=1, path=RELATED))
    world.later()
    runs = world.sync(Service.GITLAB)
    assert runs[Service.GITLAB].status == "ok"
    task = world.task("acme/app#1")
    stale = read_cached(world.engine.store, task.id)
    assert stale is not None
    assert "0badc0de" not in [c.sha for c in stale.activity.commits]
    assert [t for t, _e, _u in world.engine.store.stale_gitlab_activity()] == [task.id]

    world.later()
    world.sync(Service.GITLAB)
    fresh = read_cached(world.engine.store, task.id)
    assert fresh is not None
    assert "0badc0de" in [c.sha for c in fresh.activity.commits]
    assert world.engine.store.stale_gitlab_activity() == []


def test_refresh_changed_ignores_what_cannot_fetch(world: World) -> None:
    assert refresh_changed(world.engine.store, object()) == []


# ---------------------------------------------------------------------------------------- summary


def mr(
    iid: int, state: str = "opened", pipeline: str | None = None, draft: bool = False
) -> MergeRequestActivity:
    return MergeRequestActivity(
        iid=iid, project_id=1, title=f"MR {iid}", state=state, draft=draft, closes=False, pipeline=pipeline
    )


@pytest.mark.parametrize(
    ("activities", "expected", "text"),
    [
        ([], ActivitySummary(), ""),
        ([IssueActivity()], ActivitySummary(tasks=1), "no open MRs"),
        (
            [IssueActivity(merge_requests=(mr(1, "merged", "failed"), mr(2, pipeline="success")))],
            ActivitySummary(tasks=1, open_merge_requests=1),
            "1 MR open",
        ),
        (
            [
                IssueActivity(merge_requests=(mr(2, pipeline="failed"),)),
                IssueActivity(
                    merge_requests=(mr(2, pipeline="failed"), mr(3, pipeline="running", draft=True))
                ),
            ],
            ActivitySummary(
                tasks=2,
                open_merge_requests=2,
                draft_merge_requests=1,
                failing_pipelines=1,
                running_pipelines=1,
            ),
            "2 MRs open (1 draft), 1 pipeline failing, 1 pipeline running",
        ),
        (
            [
                IssueActivity(
                    merge_requests=(mr(4, pipeline="failed"), mr(5, pipeline="failed"), mr(6, "closed"))
                )
            ],
            ActivitySummary(tasks=1, open_merge_requests=2, failing_pipelines=2),
            "2 MRs open, 2 pipelines failing",
        ),
    ],
)
def test_summarize(activities: list[IssueActivity], expected: ActivitySummary, text: str) -> None:
    summary = summarize(activities)
    assert summary == expected
    assert summary.text() == text


def test_the_briefing_summarises_the_cache_of_open_tasks(world: World) -> None:
    store = world.engine.store
    assert open_tasks_summary(store) == ActivitySummary()
    for key in ("acme/app#5", "acme/app#8", "acme/app#10", "acme/app#3"):
        view(world, key)
    world.sandbox.reset_counts()

    summary = open_tasks_summary(store)
    # #3 is closed (done), so its merged MR is not counted; !2 relates to #5 and #10 but counts once.
    assert world.task("acme/app#3").status is Status.DONE
    assert summary == ActivitySummary(
        tasks=3, open_merge_requests=2, draft_merge_requests=1, failing_pipelines=1, running_pipelines=1
    )
    today = T0.date()
    briefing = build_briefing(store, today=today, now=T0, tz=UTC)
    assert briefing.gitlab_activity == summary
    data = json.loads(briefing.to_json())
    assert data["gitlab_activity"] == {
        "tasks": 3,
        "open_merge_requests": 2,
        "draft_merge_requests": 1,
        "failing_pipelines": 1,
        "running_pipelines": 1,
    }
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(render_briefing(briefing, width=100))
    text = out.getvalue()
    assert "Code (GitLab)" in text
    assert "2 MRs open (1 draft), 1 pipeline failing, 1 pipeline running" in text
    assert world.sandbox.emulator("gitlab").request_counts().get("total", 0) == 0, (
        "the briefing reads the cache"
    )


def test_a_briefing_without_cached_activity_has_no_code_section(world: World) -> None:
    briefing = build_briefing(world.engine.store, today=T0.date(), now=T0, tz=UTC)
    assert briefing.gitlab_activity == ActivitySummary()
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(render_briefing(briefing, width=100))
    assert "Code (GitLab)" not in out.getvalue()
