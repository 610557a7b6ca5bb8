"""Contract tests: python-gitlab 8.x, unchanged, against the GitLab REST v4 emulator over HTTP.

Every endpoint the emulator serves is driven through the real client where the client has a call for
it, and through ``requests`` where the test is about the wire (headers, error bodies, form bodies).
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import gitlab
import pytest
import requests

from pmtui.sandbox.gitlab import DEFAULT_API_KEY, GitLabEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, iso_z, serving

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISSUES = "GET /api/v4/projects/:id/issues"
CREATE = "POST /api/v4/projects/:id/issues"


def frozen_clock() -> Clock:
    clock = Clock()
    clock.set(T0, frozen=True)
    return clock


@pytest.fixture
def emu() -> GitLabEmulator:
    return GitLabEmulator(clock=frozen_clock(), seed=7)


@pytest.fixture
def server(emu: GitLabEmulator) -> Iterator[RunningEmulator]:
    with serving(emu) as running:
        yield running


@pytest.fixture
def gl(server: RunningEmulator) -> gitlab.Gitlab:
    return gitlab.Gitlab(server.url, private_token=DEFAULT_API_KEY, retry_transient_errors=True)


@pytest.fixture
def demo(emu: GitLabEmulator, gl: gitlab.Gitlab) -> Any:
    """The demo workspace, returned as python-gitlab's project object for acme/app."""
    emu.seed({"kind": "demo"})
    emu.reset_counts()
    return gl.projects.get("acme/app", lazy=True)


def api(server: RunningEmulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"PRIVATE-TOKEN": DEFAULT_API_KEY, **kwargs.pop("headers", {})}
    return requests.request(method, f"{server.url}/api/v4{path}", headers=headers, timeout=10, **kwargs)


# ------------------------------------------------------------------------------ auth and projects


def test_auth_reads_current_user_without_base_url_warning(gl: gitlab.Gitlab) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gl.auth()
    assert gl.user is not None
    assert gl.user.username == "sam.rivera"
    assert gl.user.id == 1


def test_wrong_token_raises_authentication_error(server: RunningEmulator) -> None:
    bad = gitlab.Gitlab(server.url, private_token="glpat-wrongwrongwrongwrong")
    with pytest.raises(gitlab.GitlabAuthenticationError) as info:
        bad.auth()
    assert info.value.response_code == 401
    wrong = requests.get(
        f"{server.url}/api/v4/projects/1/issues", headers={"PRIVATE-TOKEN": "glpat-wrong"}, timeout=5
    )
    assert (wrong.status_code, wrong.json()) == (401, {"message": "401 Unauthorized"})
    missing = requests.get(f"{server.url}/api/v4/user", timeout=5)
    assert (missing.status_code, missing.json()) == (401, {"message": "401 Unauthorized"})


def test_no_token_to_a_private_project_is_not_found(server: RunningEmulator) -> None:
    """GitLab hides a private project from an anonymous caller: 404, not 401 (issue #21)."""
    for path in ("/projects/1", "/projects/1/issues", "/projects/acme%2Fapp/merge_requests"):
        anonymous = requests.get(f"{server.url}/api/v4{path}", timeout=5)
        assert (anonymous.status_code, anonymous.json()) == (404, {"message": "404 Project Not Found"}), path
    with pytest.raises(gitlab.GitlabGetError) as info:
        gitlab.Gitlab(server.url).projects.get(1)
    assert info.value.response_code == 404


def test_user_has_the_public_profile(gl: gitlab.Gitlab) -> None:
    user = gl.users.get(2)
    assert (user.username, user.bot) == ("alex.chen", False)
    assert user.created_at.endswith("Z")
    for field in ("bio", "location", "public_email", "website_url", "organization", "job_title"):
        assert field in user.attributes, field
    assert (user.followers, user.following) == (0, 0)


def test_bearer_token_is_accepted(server: RunningEmulator) -> None:
    oauth = gitlab.Gitlab(server.url, oauth_token=DEFAULT_API_KEY)
    oauth.auth()
    assert oauth.user is not None
    assert oauth.user.username == "sam.rivera"


def test_project_by_encoded_path_and_by_id(demo: Any, gl: gitlab.Gitlab) -> None:
    by_path = gl.projects.get("acme/app")
    by_id = gl.projects.get(1)
    assert by_path.id == by_id.id == 1
    assert by_path.path_with_namespace == "acme/app"
    assert by_path.web_url == "https://gitlab.example.com/acme/app"
    with pytest.raises(gitlab.GitlabGetError) as info:
        gl.projects.get("acme/nope")
    assert info.value.response_code == 404
    assert info.value.error_message == "404 Project Not Found"
    listed = gl.projects.list(get_all=True, membership=True)
    assert [p.path_with_namespace for p in listed] == ["acme/app"]


def test_projects_keyset_by_id(emu: GitLabEmulator, server: RunningEmulator, gl: gitlab.Gitlab) -> None:
    for name in ("web", "api", "cli"):
        emu.admin_mutate({"op": "create", "kind": "project", "fields": {"path": name}})
    projects = gl.projects.list(pagination="keyset", order_by="id", sort="asc", per_page=2, get_all=True)
    assert [p.id for p in projects] == [1, 2, 3, 4]
    first = api(server, "GET", "/projects?pagination=keyset&order_by=id&sort=asc&per_page=2")
    assert "id_after=2" in first.headers["Link"]


# ------------------------------------------------------------------------------------- pagination


def test_get_all_over_600_issues_takes_exactly_six_requests(
    emu: GitLabEmulator, gl: gitlab.Gitlab, recwarn: pytest.WarningsRecorder
) -> None:
    emu.seed({"kind": "bulk", "n": 600})
    project = gl.projects.get(1, lazy=True)
    emu.reset_counts()
    issues = project.issues.list(get_all=True, per_page=100)
    assert len(issues) == 600
    assert len({i.iid for i in issues}) == 600
    assert emu.request_counts()[ISSUES] == 6
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)], [str(w.message) for w in recwarn]


def test_iterator_pages_lazily(emu: GitLabEmulator, gl: gitlab.Gitlab) -> None:
    emu.seed({"kind": "bulk", "n": 250})
    emu.reset_counts()
    lazy = gl.projects.get(1, lazy=True).issues.list(iterator=True, per_page=100)
    assert emu.request_counts()[ISSUES] == 1
    assert lazy.total == 250
    assert lazy.total_pages == 3
    first_150 = [next(lazy) for _ in range(150)]
    assert emu.request_counts()[ISSUES] == 2
    rest = list(lazy)
    assert len(first_150) + len(rest) == 250
    assert emu.request_counts()[ISSUES] == 3


def test_offset_headers_and_links_use_the_request_host(emu: GitLabEmulator, server: RunningEmulator) -> None:
    emu.seed({"kind": "bulk", "n": 45})
    page2 = api(server, "GET", "/projects/acme%2Fapp/issues?per_page=20&page=2&state=all")
    assert page2.status_code == 200
    h = page2.headers
    assert (h["X-Page"], h["X-Per-Page"], h["X-Next-Page"], h["X-Prev-Page"]) == ("2", "20", "3", "1")
    assert (h["X-Total"], h["X-Total-Pages"]) == ("45", "3")
    links = page2.links
    assert set(links) == {"prev", "next", "first", "last"}
    assert links["next"]["url"].startswith(f"{server.url}/api/v4/projects/acme%2Fapp/issues?")
    assert "page=3" in links["next"]["url"]
    assert "state=all" in links["next"]["url"]
    last = api(server, "GET", "/projects/1/issues?per_page=20&page=3")
    assert len(last.json()) == 5
    assert last.headers["X-Next-Page"] == ""
    assert "next" not in last.links
    beyond = api(server, "GET", "/projects/1/issues?per_page=20&page=9")
    assert beyond.json() == []
    clamped = api(server, "GET", "/projects/1/issues?per_page=500")
    assert clamped.headers["X-Per-Page"] == "100"
    assert len(clamped.json()) == 45
    default = api(server, "GET", "/projects/1/issues")
    assert default.headers["X-Per-Page"] == "20"
    assert api(server, "GET", "/projects/1/issues?page=x").json() == {"error": "page is invalid"}


def test_counts_are_omitted_above_ten_thousand(emu: GitLabEmulator, server: RunningEmulator) -> None:
    emu.seed({"kind": "bulk", "n": 10_001})
    response = api(server, "GET", "/projects/1/issues?per_page=100")
    assert "X-Total" not in response.headers
    assert "X-Total-Pages" not in response.headers
    assert "last" not in response.links
    assert response.headers["X-Next-Page"] == "2"


def test_keyset_pagination_by_id(emu: GitLabEmulator, server: RunningEmulator, gl: gitlab.Gitlab) -> None:
    emu.seed({"kind": "bulk", "n": 600})
    emu.reset_counts()
    issues = gl.projects.get(1, lazy=True).issues.list(
        pagination="keyset", order_by="id", sort="asc", per_page=100, get_all=True
    )
    ids = [i.id for i in issues]
    assert len(ids) == 600
    assert ids == sorted(ids)
    assert emu.request_counts()[ISSUES] == 6
    raw = api(server, "GET", "/projects/1/issues?pagination=keyset&order_by=id&sort=asc&per_page=100")
    assert set(raw.links) == {"next"}
    assert "cursor=" in raw.links["next"]["url"]
    assert not {"X-Total", "X-Page", "X-Next-Page", "X-Total-Pages"} & set(raw.headers)
    unsupported = api(server, "GET", "/projects/1/issues?pagination=keyset&order_by=priority")
    assert unsupported.status_code == 405


def test_keyset_cursor_is_stable_while_items_change(emu: GitLabEmulator, gl: gitlab.Gitlab) -> None:
    emu.seed({"kind": "bulk", "n": 300})
    lazy = gl.projects.get(1, lazy=True).issues.list(
        pagination="keyset", order_by="updated_at", sort="asc", per_page=50, iterator=True
    )
    seen = [next(lazy) for _ in range(50)]
    emu.clock.advance(60)
    moved = seen[0]
    emu.admin_mutate({"op": "update", "kind": "issue", "iid": moved.iid, "fields": {"title": "Moved"}})
    doomed = emu.admin_mutate({"op": "create", "kind": "issue", "fields": {"title": "Late arrival"}})
    seen.extend(lazy)
    iids = [i.iid for i in seen]
    assert set(iids) == set(range(1, 302))
    assert iids.count(moved.iid) == 2
    assert iids[-2:] == sorted([moved.iid, doomed["iid"]])


def test_updated_after_is_inclusive(emu: GitLabEmulator, gl: gitlab.Gitlab) -> None:
    summary = emu.seed({"kind": "bulk", "n": 200, "changed_share": 0.25})
    project = gl.projects.get(1, lazy=True)
    changed = project.issues.list(
        updated_after=summary["changed_since"], order_by="updated_at", sort="asc", get_all=True
    )
    assert len(changed) == summary["changed"] > 0
    stamps = [i.updated_at for i in changed]
    assert stamps == sorted(stamps)
    pivot = stamps[3]
    on_or_after = project.issues.list(updated_after=pivot, get_all=True, per_page=100)
    assert pivot in {i.updated_at for i in on_or_after}
    assert len(on_or_after) == len(changed) - 3
    on_or_before = project.issues.list(updated_before=pivot, updated_after=stamps[0], get_all=True)
    assert {i.updated_at for i in on_or_before} == set(stamps[:4])


# ---------------------------------------------------------------------------------------- filters


def test_list_filters(demo: Any, server: RunningEmulator) -> None:
    everything = demo.issues.list(get_all=True, per_page=100)
    assert len(everything) == 40
    opened = demo.issues.list(state="opened", get_all=True)
    assert len(opened) == 35
    both = demo.issues.list(labels=["bug", "backend"], get_all=True)
    assert both
    assert all({"bug", "backend"} <= set(i.labels) for i in both)
    unlabeled = demo.issues.list(labels="None", get_all=True)
    assert all(not i.labels for i in unlabeled)
    in_v14 = demo.issues.list(milestone="v1.4", get_all=True)
    assert in_v14
    assert all(i.milestone["title"] == "v1.4" for i in in_v14)
    no_milestone = demo.issues.list(milestone="None", get_all=True)
    assert all(i.milestone is None for i in no_milestone)
    assert len(in_v14) + len(no_milestone) <= 40
    picked = demo.issues.list(iids=[2, 4, 6], get_all=True)
    assert sorted(i.iid for i in picked) == [2, 4, 6]
    found = demo.issues.list(search="csv", get_all=True)
    assert {i.iid for i in found} >= {5, 10}
    mine = demo.issues.list(assignee_id=1, get_all=True)
    assert mine
    assert all(1 in [a["id"] for a in i.assignees] for i in mine)
    overdue = api(server, "GET", "/projects/1/issues?due_date=overdue&per_page=100").json()
    assert overdue
    assert all(i["due_date"] < "2026-11-24" for i in overdue)
    by_title = demo.issues.list(order_by="title", sort="asc", get_all=True)
    assert [i.title for i in by_title] == sorted(i.title for i in everything)
    by_due = demo.issues.list(order_by="due_date", sort="asc", get_all=True)
    dues = [i.due_date for i in by_due]
    dated = [d for d in dues if d is not None]
    assert dues[: len(dated)] == sorted(dated)
    assert api(server, "GET", "/projects/1/issues?state=bogus").json() == {
        "error": "state does not have a valid value"
    }
    assert api(server, "GET", "/projects/1/issues?milestone_id=5").status_code == 400
    assert api(server, "GET", "/projects/1/issues?milestone_id=Any").status_code == 200


# -------------------------------------------------------------------------------- issue round trip


def test_issue_create_get_edit_close_delete(emu: GitLabEmulator, demo: Any, gl: gitlab.Gitlab) -> None:
    milestone = demo.milestones.list(title="v1.5", get_all=True)[0]
    created = demo.issues.create(
        {
            "title": "Investigate slow exports",
            "description": "- [x] Profile\n- [ ] Fix",
            "labels": ["needs-triage", "backend"],
            "milestone_id": milestone.id,
            "assignee_ids": [1, 2],
            "due_date": "2026-12-01",
            "confidential": True,
        }
    )
    assert created.iid == 41
    assert created.labels == ["backend", "needs-triage"]
    assert created.milestone["id"] == milestone.id
    assert [a["username"] for a in created.assignees] == ["sam.rivera", "alex.chen"]
    assert created.assignee["id"] == 1
    assert created.task_completion_status == {"count": 2, "completed_count": 1}
    assert created.created_at == created.updated_at == iso_z(T0)
    new_label = [lab for lab in demo.labels.list(get_all=True) if lab.name == "needs-triage"]
    assert new_label
    assert new_label[0].color == "#6699cc"

    emu.clock.advance(30)
    issue = demo.issues.get(created.iid)
    issue.title = "Investigate slow CSV exports"
    issue.labels = ["bug"]
    issue.save()
    assert issue.title == "Investigate slow CSV exports"
    assert issue.labels == ["bug"]
    assert issue.updated_at == iso_z(T0 + timedelta(seconds=30))

    path = f"/projects/1/issues/{issue.iid}"
    edited = gl.http_put(path, post_data={"add_labels": "docs,frontend", "remove_labels": "bug"})
    assert isinstance(edited, dict)
    assert edited["labels"] == ["docs", "frontend"]
    edited = gl.http_put(path, post_data={"milestone_id": 0, "assignee_ids": [0], "labels": ""})
    assert isinstance(edited, dict)
    assert (edited["milestone"], edited["assignees"], edited["labels"]) == (None, [], [])

    emu.clock.advance(30)
    issue = demo.issues.get(created.iid)
    issue.state_event = "close"
    issue.save()
    assert issue.state == "closed"
    assert issue.closed_at == iso_z(T0 + timedelta(seconds=60))
    # ``closed_by`` is also a method name on python-gitlab's ProjectIssue, so read the attribute.
    assert issue.attributes["closed_by"]["username"] == "sam.rivera"
    issue.state_event = "reopen"
    issue.save()
    assert (issue.state, issue.closed_at, issue.attributes["closed_by"]) == ("opened", None, None)

    issue.delete()
    with pytest.raises(gitlab.GitlabGetError) as info:
        demo.issues.get(created.iid)
    assert info.value.error_message == "404 Issue Not Found"
    assert emu.request_counts()["DELETE /api/v4/projects/:id/issues/:issue_iid"] == 1


def test_unchanged_update_does_not_bump_updated_at(emu: GitLabEmulator, demo: Any, gl: gitlab.Gitlab) -> None:
    before = demo.issues.get(7)
    emu.clock.advance(120)
    after = gl.http_put("/projects/1/issues/7", post_data={"title": before.title})
    assert isinstance(after, dict)
    assert after["updated_at"] == before.updated_at


def test_issue_validation_errors(demo: Any, gl: gitlab.Gitlab, server: RunningEmulator) -> None:
    with pytest.raises(gitlab.GitlabHttpError) as info:
        gl.http_post("/projects/1/issues", post_data={"description": "no title"})
    assert info.value.response_code == 400
    assert info.value.error_message == "title is missing"
    blank = api(server, "POST", "/projects/1/issues", json={"title": "  "})
    assert (blank.status_code, blank.json()) == (400, {"message": {"title": ["can't be blank"]}})
    bad_date = api(server, "POST", "/projects/1/issues", json={"title": "x", "due_date": "soon"})
    assert bad_date.json() == {"error": "due_date is invalid"}
    nothing = api(server, "PUT", "/projects/1/issues/1", json={})
    assert nothing.status_code == 400
    assert nothing.json()["error"].endswith("at least one parameter must be provided")
    bad_event = api(server, "PUT", "/projects/1/issues/1", json={"state_event": "archive"})
    assert bad_event.json() == {"error": "state_event does not have a valid value"}
    assert api(server, "GET", "/projects/1/issues/999").json() == {"message": "404 Issue Not Found"}
    assert api(server, "GET", "/projects/1/nothing").json() == {"error": "404 Not Found"}
    assert api(server, "PATCH", "/projects/1/issues/1").status_code == 405
    form = api(server, "POST", "/projects/1/issues", data={"title": "From a form", "labels": "docs, ops"})
    assert form.status_code == 201
    assert form.json()["labels"] == ["docs", "ops"]
    # Grape merges query-string parameters into the body, so this closes the issue too.
    query = api(server, "PUT", f"/projects/1/issues/{form.json()['iid']}?state_event=close")
    assert query.json()["state"] == "closed"


def test_issue_shape(demo: Any, server: RunningEmulator) -> None:
    single = api(server, "GET", "/projects/1/issues/5").json()
    listed = api(server, "GET", "/projects/1/issues?iids[]=5").json()[0]
    assert "subscribed" in single
    assert "subscribed" not in listed
    expected = {
        "id", "iid", "project_id", "title", "description", "state", "labels", "milestone", "assignees",
        "assignee", "author", "due_date", "created_at", "updated_at", "closed_at", "closed_by", "web_url",
        "references", "user_notes_count", "merge_requests_count", "confidential", "issue_type", "type",
        "time_stats", "task_completion_status", "_links", "weight",
    }  # fmt: skip
    assert expected <= set(listed)
    assert single["web_url"] == "https://gitlab.example.com/acme/app/-/issues/5"
    assert single["references"] == {"short": "#5", "relative": "#5", "full": "acme/app#5"}
    assert (single["type"], single["issue_type"]) == ("ISSUE", "issue")
    assert single["_links"]["self"] == "https://gitlab.example.com/api/v4/projects/1/issues/5"
    assert ISO_MS.match(single["created_at"])
    assert ISO_MS.match(single["updated_at"])
    assert single["merge_requests_count"] == 1
    assert set(single["milestone"] or {}) >= {"id", "iid", "title", "due_date", "start_date", "state"} or (
        single["milestone"] is None
    )
    assert set(single["author"]) >= {"id", "username", "name", "state", "avatar_url", "web_url"}
    details = api(server, "GET", "/projects/1/issues?iids[]=5&with_labels_details=true").json()[0]
    assert {lab["name"] for lab in details["labels"]} == set(single["labels"])
    assert all("color" in lab for lab in details["labels"])


# ------------------------------------------------------------------------------------------ notes


def test_notes_list_create_edit_delete(emu: GitLabEmulator, demo: Any, server: RunningEmulator) -> None:
    issue = demo.issues.get(5)
    notes = issue.notes.list(get_all=True, sort="asc")
    assert [n.created_at for n in notes] == sorted(n.created_at for n in notes)
    system = [n for n in notes if n.system]
    assert any(n.body.startswith("mentioned in commit ") for n in system)
    assert all(n.noteable_type == "Issue" and n.noteable_iid == 5 for n in notes)
    assert issue.user_notes_count == len(notes) - len(system)

    emu.clock.advance(3600)
    note = issue.notes.create({"body": "Confirmed on production."})
    assert note.author["username"] == "sam.rivera"
    assert note.system is False
    refreshed = demo.issues.get(5)
    assert refreshed.user_notes_count == issue.user_notes_count + 1
    assert refreshed.updated_at == iso_z(T0 + timedelta(hours=1)), "a note touches its issue"

    note.body = "Confirmed on production (v1.4.2)."
    note.save()
    assert issue.notes.get(note.id).body == "Confirmed on production (v1.4.2)."
    note.delete()
    assert note.id not in {n.id for n in issue.notes.list(get_all=True)}
    missing = api(server, "POST", "/projects/1/issues/5/notes", json={})
    assert (missing.status_code, missing.json()) == (400, {"error": "body is missing"})


# ------------------------------------------------------------------------- merge requests and links


def test_merge_requests_related_and_closed_by(demo: Any, server: RunningEmulator) -> None:
    mrs = demo.mergerequests.list(get_all=True)
    assert sorted((m.iid, m.state) for m in mrs) == [(1, "merged"), (2, "opened"), (3, "opened")]
    assert [m.iid for m in demo.mergerequests.list(state="merged", get_all=True)] == [1]
    assert [m.iid for m in mrs if m.draft] == [3]
    merged = demo.mergerequests.get(1)
    assert merged.merged_at is not None
    assert merged.head_pipeline["status"] == "success"
    finished = merged.head_pipeline
    assert finished["started_at"] == finished["created_at"]
    assert finished["finished_at"] == finished["updated_at"]
    assert finished["duration"] == 400
    assert finished["coverage"] is None
    running = demo.mergerequests.get(3).head_pipeline
    assert running["status"] == "running"
    assert (running["finished_at"], running["duration"]) == (None, None)
    assert running["started_at"] is not None
    failing = demo.mergerequests.get(2)
    assert failing.head_pipeline["status"] == "failed"
    assert failing.web_url == "https://gitlab.example.com/acme/app/-/merge_requests/2"
    assert failing.references["full"] == "acme/app!2"
    commits = failing.commits(get_all=True)
    assert len(commits) == 3
    assert all(len(c.id) == 40 for c in commits)

    open_issue = demo.issues.get(5)
    assert [m["iid"] for m in open_issue.related_merge_requests()] == [2]
    assert [m["iid"] for m in open_issue.closed_by()] == [2]
    closed_issue = demo.issues.get(3)
    assert closed_issue.state == "closed"
    assert [m["iid"] for m in closed_issue.related_merge_requests()] == [1]
    assert closed_issue.closed_by() == [], "GitLab lists closing MRs for open issues only"
    mentioned = demo.issues.get(10)
    assert [m["iid"] for m in mentioned.related_merge_requests()] == [2]
    assert mentioned.closed_by() == []
    assert api(server, "GET", "/projects/1/merge_requests/99").json() == {
        "message": "404 Merge Request Not Found"
    }
    since = api(server, "GET", "/projects/1/merge_requests?updated_after=2026-11-23T00:00:00Z").json()
    assert [m["iid"] for m in since] == [3]


def test_issue_links(demo: Any, server: RunningEmulator) -> None:
    source = demo.issues.get(11)
    src, target = source.links.create({"target_project_id": 1, "target_issue_iid": 13, "link_type": "blocks"})
    assert (src.iid, target.iid) == (11, 13)
    linked = source.links.list(get_all=True)
    assert [(link.iid, link.link_type) for link in linked] == [(13, "blocks")]
    inverse = demo.issues.get(13).links.list(get_all=True)
    assert [(link.iid, link.link_type) for link in inverse] == [(11, "is_blocked_by")]
    assert set(linked[0].attributes) >= {"issue_link_id", "link_created_at", "link_updated_at", "title"}
    again = api(
        server, "POST", "/projects/1/issues/11/links", json={"target_project_id": 1, "target_issue_iid": 13}
    )
    assert (again.status_code, again.json()) == (409, {"message": "Issue(s) already assigned"})
    no_target = api(server, "POST", "/projects/1/issues/11/links", json={"target_project_id": 1})
    assert no_target.json() == {"error": "target_issue_iid is missing"}
    one = api(server, "GET", f"/projects/1/issues/11/links/{linked[0].issue_link_id}").json()
    assert one["link_type"] == "blocks"
    linked[0].delete()
    assert source.links.list(get_all=True) == []


# --------------------------------------------------------------------------- milestones and labels


def test_milestones(emu: GitLabEmulator, demo: Any, server: RunningEmulator) -> None:
    milestones = demo.milestones.list(get_all=True)
    assert [m.title for m in milestones] == ["v1.4", "v1.5"]
    assert all(m.start_date and m.due_date for m in milestones)
    created = demo.milestones.create({"title": "v2.0", "start_date": "2027-01-04", "due_date": "2027-02-01"})
    assert (created.state, created.iid) == ("active", 3)
    emu.clock.advance(10)
    created.state_event = "close"
    created.save()
    assert created.state == "closed"
    assert created.updated_at == iso_z(T0 + timedelta(seconds=10))
    assert [m.title for m in demo.milestones.list(state="closed", get_all=True)] == ["v2.0"]
    assert [m.title for m in demo.milestones.list(iids=[1], get_all=True)] == ["v1.4"]
    assert demo.milestones.get(created.id).title == "v2.0"
    issues = milestones[0].issues()
    assert all(i.milestone["id"] == milestones[0].id for i in issues)
    dupe = api(server, "POST", "/projects/1/milestones", json={"title": "v1.4"})
    assert dupe.status_code == 400
    assert "title" in dupe.json()["message"]
    assert api(server, "POST", "/projects/1/milestones", json={}).json() == {"error": "title is missing"}
    backwards = api(
        server,
        "POST",
        "/projects/1/milestones",
        json={"title": "x", "start_date": "2027-02-01", "due_date": "2027-01-01"},
    )
    assert backwards.json() == {"message": {"due_date": ["must be greater than start date"]}}
    assert api(server, "GET", "/projects/1/milestones/9999").json() == {"message": "404 Milestone Not Found"}


def test_labels(demo: Any, server: RunningEmulator) -> None:
    names = [lab.name for lab in demo.labels.list(get_all=True)]
    assert {"bug", "feature", "backend", "frontend", "docs", "To Do", "Doing", "Review"} <= set(names)
    label = demo.labels.create({"name": "security", "color": "#ff0000", "description": "Sec"})
    assert (label.name, label.color, label.text_color) == ("security", "#ff0000", "#FFFFFF")
    conflict = api(server, "POST", "/projects/1/labels", json={"name": "security", "color": "#ff0000"})
    assert (conflict.status_code, conflict.json()) == (409, {"message": "Label already exists"})
    assert api(server, "POST", "/projects/1/labels", json={"name": "x"}).json() == {
        "error": "color is missing"
    }
    counted = {lab["name"]: lab for lab in api(server, "GET", "/projects/1/labels?with_counts=true").json()}
    assert counted["bug"]["open_issues_count"] + counted["bug"]["closed_issues_count"] > 0
    assert counted["backend"]["open_merge_requests_count"] == 1


def test_boards_and_lists(demo: Any) -> None:
    boards = demo.boards.list(get_all=True)
    assert len(boards) == 1
    board = boards[0]
    # ``lists`` is also the name of python-gitlab's sub-manager, so read the attribute.
    assert [(x["label"]["name"], x["position"]) for x in board.attributes["lists"]] == [
        ("To Do", 0),
        ("Doing", 1),
        ("Review", 2),
    ]
    lists = board.lists.list(get_all=True)
    assert [x.label["name"] for x in lists] == ["To Do", "Doing", "Review"]
    assert board.lists.get(lists[1].id).label["name"] == "Doing"
    doing = demo.issues.list(labels="Doing", state="opened", get_all=True)
    assert doing


# ----------------------------------------------------------------------------- throttling, faults


def test_injected_429_is_retried_after_retry_after(emu: GitLabEmulator, demo: Any) -> None:
    emu.add_fault(Fault(kind="rate_limit", value=1, count=1, path="/api/v4/projects/acme%2Fapp/issues"))
    started = time.monotonic()
    issues = demo.issues.list(get_all=True, per_page=100)
    assert time.monotonic() - started >= 1.0
    assert len(issues) == 40
    assert emu.request_counts()[ISSUES] == 2


def test_429_wire_shape(emu: GitLabEmulator, server: RunningEmulator) -> None:
    emu.add_fault(Fault(kind="rate_limit", value=1, count=1))
    response = api(server, "GET", "/projects/1/issues")
    assert response.status_code == 429
    assert response.text == "Retry later\n"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Retry-After"] == "1"
    for header in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Observed", "RateLimit-Reset"):
        assert header in response.headers
    assert response.headers["RateLimit-ResetTime"].endswith("GMT")


def test_real_budget_throttles_then_recovers() -> None:
    emu = GitLabEmulator(seed=1, rate_limit=3, rate_limit_period=1.0, issue_create_limit=1)
    emu.rate_limits_enabled = True
    with serving(emu) as running:
        first = api(running, "GET", "/projects/1/issues")
        assert first.headers["RateLimit-Limit"] == "3"
        assert first.headers["RateLimit-Remaining"] == "2"
        assert first.headers["RateLimit-Observed"] == "1"
        assert int(first.headers["RateLimit-Reset"]) >= int(time.time())
        api(running, "GET", "/projects/1/issues")
        api(running, "GET", "/projects/1/issues")
        throttled = api(running, "GET", "/projects/1/issues")
        assert throttled.status_code == 429
        assert throttled.text == "Retry later\n"
        assert throttled.headers["Retry-After"] == "1"
        client = gitlab.Gitlab(running.url, private_token=DEFAULT_API_KEY)
        emu.reset_counts()
        issues = client.projects.get(1, lazy=True).issues.list(get_all=True)
        assert issues == []
        assert emu.request_counts()[ISSUES] >= 2, "the client waited and retried"
        time.sleep(1.0)
        created = api(running, "POST", "/projects/1/issues", json={"title": "one"})
        assert created.status_code == 201
        second = api(running, "POST", "/projects/1/issues", json={"title": "two"})
        assert second.status_code == 429
        assert second.json() == {
            "message": {"error": "This endpoint has been requested too many times. Try again later."}
        }
        assert "Retry-After" in second.headers


def test_5xx_burst_is_retried_with_transient_retries(
    emu: GitLabEmulator, demo: Any, server: RunningEmulator
) -> None:
    emu.add_fault(Fault(kind="error", value=503, count=3, method="GET"))
    assert len(demo.issues.list(get_all=True, per_page=100)) == 40
    assert emu.request_counts()[ISSUES] == 4
    emu.add_fault(Fault(kind="error", value=500, count=1, method="GET"))
    strict = gitlab.Gitlab(server.url, private_token=DEFAULT_API_KEY)
    with pytest.raises(gitlab.GitlabListError) as info:
        strict.projects.get(1, lazy=True).issues.list(get_all=True)
    assert info.value.response_code == 500
    assert info.value.error_message == "500 Internal Server Error"


def test_commit_drop_on_create_applies_once(emu: GitLabEmulator, demo: Any) -> None:
    emu.add_fault(
        Fault(kind="commit_drop", count=1, method="POST", path="/api/v4/projects/acme%2Fapp/issues")
    )
    with pytest.raises(requests.exceptions.ConnectionError):
        demo.issues.create({"title": "Dropped reply"}, retry_transient_errors=False)
    matches = [i for i in demo.issues.list(search="Dropped reply", get_all=True)]
    assert len(matches) == 1
    assert emu.request_counts()[CREATE] == 1


def test_reset_before_write_is_retried_and_applied_once(emu: GitLabEmulator, demo: Any) -> None:
    emu.add_fault(Fault(kind="reset", count=1, method="POST"))
    created = demo.issues.create({"title": "Survives a reset"})
    assert created.iid == 41
    assert len(demo.issues.list(search="Survives a reset", get_all=True)) == 1
    assert emu.request_counts()[CREATE] == 2


# ---------------------------------------------------------------------------------- admin surface


def test_admin_mutate_bumps_updated_at_like_a_real_edit(emu: GitLabEmulator, demo: Any) -> None:
    since = iso_z(emu.now())
    assert demo.issues.list(updated_after=since, get_all=True) == []
    emu.clock.advance(90)
    updated = emu.admin_mutate(
        {"op": "update", "kind": "issue", "iid": 7, "fields": {"state_event": "close", "labels": "bug"}}
    )
    assert updated["updated_at"] == iso_z(T0 + timedelta(seconds=90))
    assert updated["closed_by"]["username"] == "alex.chen"
    assert [i.iid for i in demo.issues.list(updated_after=since, get_all=True)] == [7]
    created = emu.admin_mutate({"op": "create", "kind": "issue", "fields": {"title": "From Alex"}})
    assert created["author"]["username"] == "alex.chen"
    note = emu.admin_mutate({"op": "create", "kind": "note", "issue_iid": 2, "fields": {"body": "ping"}})
    assert note["noteable_iid"] == 2
    assert demo.issues.get(2).updated_at == iso_z(T0 + timedelta(seconds=90))
    emu.admin_mutate({"op": "delete", "kind": "issue", "id": created["id"]})
    with pytest.raises(gitlab.GitlabGetError):
        demo.issues.get(created["iid"])
    merged = emu.admin_mutate(
        {"op": "update", "kind": "merge_request", "iid": 2, "fields": {"state_event": "merge"}}
    )
    assert merged["state"] == "merged"
    closed = demo.issues.get(5)
    assert closed.state == "closed"
    assert any(n.body == "closed via merge request !2" and n.system for n in closed.notes.list(get_all=True))
    opened_mr = emu.admin_mutate(
        {"op": "create", "kind": "merge_request", "fields": {"title": "Fix #9", "description": "Fixes #9"}}
    )
    assert opened_mr["iid"] == 4
    assert [m["iid"] for m in demo.issues.get(9).closed_by()] == [4]
    milestone = emu.admin_mutate({"op": "create", "kind": "milestone", "fields": {"title": "v3"}})
    assert (
        emu.admin_mutate(
            {"op": "update", "kind": "milestone", "id": milestone["id"], "fields": {"state_event": "close"}}
        )["state"]
        == "closed"
    )


def test_admin_endpoint_over_http(server: RunningEmulator) -> None:
    seeded = requests.post(f"{server.url}/_sandbox/seed", json={"kind": "demo"}, timeout=5).json()
    assert seeded["issues"] == 40
    mutated = requests.post(
        f"{server.url}/_sandbox/mutate",
        json={"op": "update", "kind": "issue", "iid": 1, "fields": {"title": "Renamed by Alex"}},
        timeout=5,
    ).json()
    assert mutated["result"]["title"] == "Renamed by Alex"
    assert api(server, "GET", "/projects/1/issues/1").json()["title"] == "Renamed by Alex"


def test_seed_is_deterministic_and_hints_point_at_it() -> None:
    def snapshot(seed: int) -> dict[str, Any]:
        emu = GitLabEmulator(clock=frozen_clock(), seed=seed)
        emu.seed({"kind": "demo"})
        return emu.snapshot()

    assert snapshot(3) == snapshot(3)
    assert snapshot(3) != snapshot(4)
    emu = GitLabEmulator(clock=frozen_clock())
    summary = emu.seed({"kind": "demo"})
    assert summary["issues"] == 40
    assert summary["merge_requests"] == 3
    assert emu.config_hints() == {
        "project_id": 1,
        "project_path": "acme/app",
        "user": "sam.rivera",
        "board": "Development",
    }
    issues = emu.state["issues"].values()
    dues = {i["due_date"] for i in issues}
    assert None in dues
    assert "2026-11-24" in dues
    assert any(d is not None and d < "2026-11-24" for d in dues)
    assert any(d is not None and d > "2026-12-01" for d in dues)
    restored = GitLabEmulator(clock=frozen_clock())
    restored.restore(emu.snapshot())
    assert restored.snapshot() == emu.snapshot()


@pytest.mark.slow
def test_bulk_seed_of_fifty_thousand() -> None:
    # How fast is the benchmarks' question (benchmarks/); pytest-timeout catches a seed that hangs.
    emu = GitLabEmulator(clock=frozen_clock())
    summary = emu.seed({"kind": "bulk", "n": 50_000, "changed_share": 0.02})
    assert summary["issues"] == len(emu.state["issues"]) == 50_000
    assert 0 < summary["changed"] < 2_000


def test_users_list_filters_by_username(gl: gitlab.Gitlab) -> None:
    users = gl.users.list(username="alex.chen")
    assert [u.username for u in users] == ["alex.chen"]
    assert gl.users.list(username="nobody") == []
    assert len(gl.users.list(get_all=True)) >= 3
