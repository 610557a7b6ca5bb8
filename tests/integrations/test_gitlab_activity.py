"""GitLab activity of an issue (MRs, pipelines, commits): python-gitlab against the emulator over HTTP,
and the pure assembling parts by tables.

The demo project has three MRs: !1 merged (closed #3, pipeline success, 2 commits), !2 open (closes #5,
mentions #10, pipeline failed, 3 commits), !3 a draft (closes #8, pipeline running, 1 commit); issues
#1, #5, #9 and #17 carry a "mentioned in commit <sha>" system note.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from pmtui.config import GitLabSettings
from pmtui.errors import AuthError, NotFoundError
from pmtui.integrations.gitlab import GitLabIntegration
from pmtui.integrations.gitlab_activity import (
    ACTIVITY_FORMAT,
    CommitActivity,
    IssueActivity,
    closed_via_merge_requests,
    combine_merge_requests,
    commits_from_notes,
    fetch_issue_activity,
    merge_commits,
    pipeline_status,
)
from pmtui.integrations.limits import Lane, RateLimiter
from pmtui.sandbox.gitlab import DEFAULT_API_KEY, GitLabEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, serving

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
RELATED = "GET /api/v4/projects/:id/issues/:issue_iid/related_merge_requests"
CLOSED_BY = "GET /api/v4/projects/:id/issues/:issue_iid/closed_by"
NOTES = "GET /api/v4/projects/:id/issues/:issue_iid/notes"
MR_COMMITS = "GET /api/v4/projects/:id/merge_requests/:merge_request_iid/commits"
MR = "GET /api/v4/projects/:id/merge_requests/:merge_request_iid"


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[GitLabEmulator, RunningEmulator]]:
    emulator = GitLabEmulator(clock=Clock(), seed=5)
    with serving(emulator) as running:
        yield emulator, running


@pytest.fixture
def emu(shared: tuple[GitLabEmulator, RunningEmulator]) -> GitLabEmulator:
    emulator = shared[0]
    emulator.clock.set(NOW, frozen=True)
    emulator.clear_faults()
    emulator.rate_limits_enabled = False
    emulator.seed({"kind": "demo"})
    emulator.reset_counts()
    return emulator


@pytest.fixture
def gl(shared: tuple[GitLabEmulator, RunningEmulator], emu: GitLabEmulator) -> Iterator[GitLabIntegration]:
    integration = GitLabIntegration(
        GitLabSettings(base_url=shared[1].url, project="acme/app"),
        DEFAULT_API_KEY,
        limiter=RateLimiter(600_000),
        retry_sleep=lambda _seconds: None,
    )
    yield integration
    integration.close()


def mr_commit_shas(emu: GitLabEmulator, iid: int) -> list[str]:
    mr = next(m for m in emu.state["merge_requests"].values() if m["iid"] == iid)
    return [c["id"] for c in mr["commits"]]


# ---------------------------------------------------------------------------------- over HTTP


def test_open_issue_with_a_failing_mr_and_a_mentioned_commit(
    gl: GitLabIntegration, emu: GitLabEmulator
) -> None:
    activity = gl.issue_activity("5")
    [mr] = activity.merge_requests
    assert (mr.iid, mr.state, mr.draft, mr.closes, mr.pipeline) == (2, "opened", False, True, "failed")
    assert mr.title == "Export reports as CSV"
    assert mr.reference == "acme/app!2"
    assert mr.web_url == "https://gitlab.example.com/acme/app/-/merge_requests/2"
    assert mr.commit_count == 3

    from_mr = [c for c in activity.commits if c.merge_request_iid == 2]
    assert sorted(c.sha for c in from_mr) == sorted(mr_commit_shas(emu, 2))
    assert all(len(c.sha) == 40 and c.short_id == c.sha[:8] and c.title for c in from_mr)
    assert {c.title for c in from_mr} == {f"Export reports as CSV ({n})" for n in (1, 2, 3)}
    assert all(c.web_url and c.web_url.endswith(f"/-/commit/{c.sha}") for c in from_mr)

    [mentioned] = [c for c in activity.commits if c.mentioned]
    notes = emu.state["notes"][str(emu._issue_by_iid(1, 5)["id"])]  # type: ignore[index]
    [note] = [n for n in notes if n["system"] and n["body"].startswith("mentioned in commit ")]
    assert mentioned.sha == note["body"].removeprefix("mentioned in commit ")
    assert mentioned.merge_request_iid is None
    assert mentioned.author == "Alex Chen"
    assert mentioned.at == note["created_at"]
    assert len(activity.commits) == 4
    assert [c.at for c in activity.commits] == sorted((c.at for c in activity.commits), reverse=True)

    counts = emu.request_counts()
    assert (counts[RELATED], counts[CLOSED_BY], counts[NOTES], counts[MR_COMMITS]) == (1, 1, 1, 1)
    assert counts["total"] == 4, "the related entity carries the pipeline: no extra GET of the MR"


def test_closed_issue_keeps_the_closes_flag_from_its_system_note(gl: GitLabIntegration) -> None:
    # GitLab's closed_by answers [] once the issue is closed; "closed via merge request !1" says it.
    [mr] = gl.issue_activity("3").merge_requests
    assert (mr.iid, mr.state, mr.closes, mr.pipeline, mr.commit_count) == (1, "merged", True, "success", 2)


def test_draft_mr_with_a_running_pipeline(gl: GitLabIntegration) -> None:
    [mr] = gl.issue_activity("8").merge_requests
    assert (mr.iid, mr.state, mr.draft, mr.closes, mr.pipeline) == (3, "opened", True, True, "running")
    assert mr.title == "Draft: Dark mode theme"


def test_mentioned_but_not_closed(gl: GitLabIntegration) -> None:
    [mr] = gl.issue_activity("10").merge_requests
    assert (mr.iid, mr.closes) == (2, False)


def test_issue_with_only_a_commit_mention_and_one_with_nothing(
    gl: GitLabIntegration, emu: GitLabEmulator
) -> None:
    one = gl.issue_activity("1")
    assert one.merge_requests == ()
    assert [(c.mentioned, c.merge_request_iid) for c in one.commits] == [(True, None)]
    emu.reset_counts()
    nothing = gl.issue_activity("2")
    assert nothing == IssueActivity()
    assert emu.request_counts()["total"] == 3, "no MR: no commit listing"


def test_mention_of_an_mr_commit_marks_it_instead_of_adding_one(
    gl: GitLabIntegration, emu: GitLabEmulator
) -> None:
    sha = mr_commit_shas(emu, 2)[0]
    emu.admin_mutate(
        {
            "op": "create",
            "kind": "note",
            "issue_iid": 10,
            "fields": {"body": f"mentioned in commit {sha[:8]}", "system": True},
        }
    )
    activity = gl.issue_activity("10")
    assert len(activity.commits) == 3
    [marked] = [c for c in activity.commits if c.mentioned]
    assert (marked.sha, marked.merge_request_iid) == (sha, 2)


def test_a_new_mr_merged_closes_the_issue_and_shows_its_pipeline(
    gl: GitLabIntegration, emu: GitLabEmulator
) -> None:
    created = emu.admin_mutate(
        {
            "op": "create",
            "kind": "merge_request",
            "fields": {
                "title": "Fix search",
                "description": "Fixes #17",
                "pipeline_status": "pending",
                "commit_count": 2,
            },
        }
    )
    opened = gl.issue_activity("17")
    assert [(m.iid, m.state, m.closes, m.pipeline) for m in opened.merge_requests] == [
        (created["iid"], "opened", True, "pending")
    ]
    emu.admin_mutate(
        {
            "op": "update",
            "kind": "merge_request",
            "iid": created["iid"],
            "fields": {"pipeline_status": "success", "state_event": "merge"},
        }
    )
    merged = gl.issue_activity("17")
    assert [(m.state, m.closes, m.pipeline) for m in merged.merge_requests] == [("merged", True, "success")]
    assert sum(1 for c in merged.commits if c.merge_request_iid == created["iid"]) == 2
    assert sum(1 for c in merged.commits if c.mentioned) == 1


def test_a_missing_issue_is_not_found(gl: GitLabIntegration) -> None:
    with pytest.raises(NotFoundError):
        gl.issue_activity("999")


def test_errors_are_translated(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    emu.add_fault(Fault("error", value=403, count=None, path=CLOSED_BY))
    with pytest.raises(AuthError):
        gl.issue_activity("5")
    assert emu.request_counts()[CLOSED_BY] == 1, "a refusal is not retried"


def test_a_closes_only_mr_is_read_whole_for_its_pipeline(gl: GitLabIntegration, emu: GitLabEmulator) -> None:
    """``closed_by`` returns the basic MR entity (no pipeline): the MR is fetched once more."""

    def pages(path: str, action: str) -> Iterator[list[dict[str, Any]]]:
        for page, _last in gl._pages(path, {"per_page": 100}, lane=Lane.USER, action=action):
            # Drop the related listing: only closed_by (the basic entity) names the MR.
            yield [] if path.endswith("/related_merge_requests") else page

    def get(path: str, action: str) -> dict[str, Any]:
        raw = gl.gl.http_get(path)
        assert isinstance(raw, dict)
        return raw

    activity = fetch_issue_activity(f"{gl.project.issues.path}/5", pages=pages, get=get)
    [mr] = activity.merge_requests
    assert (mr.iid, mr.closes, mr.pipeline) == (2, True, "failed")
    assert emu.request_counts()[MR] == 1


# ---------------------------------------------------------------------------------- pure parts


def note(body: str, *, system: bool = True, at: str = "2026-11-20T10:00:00Z") -> dict[str, Any]:
    return {"body": body, "system": system, "created_at": at, "author": {"name": "Sam", "username": "sam"}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("mentioned in commit 3fa757b", "3fa757b"),
        ("mentioned in commit " + "a" * 40, "a" * 40),
        ("mentioned in commit acme/other@0123abcd", "0123abcd"),
        ("closed via commit deadbeef1", "deadbeef1"),
        ("mentioned in merge request !2", None),
        ("mentioned in commit xyz", None),
        ("changed the description", None),
    ],
)
def test_commits_from_system_notes(body: str, expected: str | None) -> None:
    found = commits_from_notes([note(body)])
    assert [c.sha for c in found] == ([expected] if expected else [])
    if expected:
        assert (found[0].mentioned, found[0].author, found[0].at) == (True, "Sam", "2026-11-20T10:00:00Z")


def test_user_notes_never_count_and_a_sha_counts_once() -> None:
    notes = [
        note("mentioned in commit 3fa757b", system=False),
        note("mentioned in commit abcdef1"),
        note("mentioned in commit abcdef1"),
    ]
    assert [c.sha for c in commits_from_notes(notes)] == ["abcdef1"]


def test_closed_via_merge_request_notes() -> None:
    notes = [
        note("closed via merge request !4"),
        note("closed via merge request acme/app!7"),
        note("closed via merge request !9", system=False),
        note("mentioned in merge request !5"),
    ]
    assert closed_via_merge_requests(notes) == {4, 7}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"head_pipeline": {"status": "failed"}, "pipeline": {"status": "success"}}, "failed"),
        ({"head_pipeline": None, "pipeline": {"status": "running"}}, "running"),
        ({"head_pipeline": None}, None),
        ({}, None),
    ],
)
def test_pipeline_status(raw: dict[str, Any], expected: str | None) -> None:
    assert pipeline_status(raw) == expected


def mr(iid: int, state: str = "opened", project_id: int = 1, **extra: Any) -> dict[str, Any]:
    return {"iid": iid, "state": state, "project_id": project_id, "title": f"MR {iid}", **extra}


def test_related_and_closing_are_merged_once_each_with_closes() -> None:
    related = [
        mr(1, "merged", head_pipeline=None),
        mr(2, head_pipeline={"status": "failed"}),
        mr(2, project_id=9, head_pipeline=None),
    ]
    closing = [mr(2), mr(4, "closed")]
    combined = combine_merge_requests(related, closing, closed_via={1})
    assert [(r["project_id"], r["iid"], r["state"], closes) for r, closes in combined] == [
        (1, 2, "opened", True),
        (9, 2, "opened", False),  # the same iid in another project is another MR
        (1, 1, "merged", True),  # from the "closed via" note
        (1, 4, "closed", True),
    ]
    assert "head_pipeline" in combined[1][0], "the related (full) entity is the one kept"


def test_merge_commits_newest_first_and_marks_mentions() -> None:
    a = CommitActivity(sha="a" * 40, short_id="aaaaaaaa", at="2026-11-20T00:00:00Z", merge_request_iid=1)
    b = CommitActivity(sha="b" * 40, short_id="bbbbbbbb", at="2026-11-22T00:00:00Z", merge_request_iid=1)
    mention_a = CommitActivity(sha="aaaaaaa", short_id="aaaaaaa", at="2026-11-23T00:00:00Z", mentioned=True)
    mention_c = CommitActivity(sha="ccccccc", short_id="ccccccc", at="2026-11-21T00:00:00Z", mentioned=True)
    merged = merge_commits([a, b, a], [mention_a, mention_c])
    assert [(c.sha[:1], c.mentioned) for c in merged] == [("b", False), ("c", True), ("a", True)]


def test_activity_json_round_trip_and_other_formats() -> None:
    activity = IssueActivity(
        merge_requests=(),
        commits=(CommitActivity(sha="abc1234", short_id="abc1234", mentioned=True),),
    )
    data = activity.to_json()
    assert data["format"] == ACTIVITY_FORMAT
    assert IssueActivity.from_json(data) == activity
    assert IssueActivity.from_json({**data, "format": ACTIVITY_FORMAT + 1}) is None
    assert IssueActivity.from_json({"format": ACTIVITY_FORMAT, "merge_requests": [{"iid": 1}]}) is None
