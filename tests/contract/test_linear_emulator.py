"""Contract tests of the Linear emulator, driven through gql (the client pmtui uses) over HTTP.

The clock is frozen at 2026-11-24 10:00 UTC so that timestamps, incremental filters and the leaky
rate-limit buckets are exact. One server serves the whole module (stopping one costs ~0.5 s); each test
gets it back with fresh demo data, no faults, zeroed counters and full buckets.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.client import SyncClientSession
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError, TransportServerError
from gql.transport.httpx import HTTPXTransport
from gql.transport.requests import RequestsHTTPTransport

from pmtui.sandbox import linear_schema as schema_module
from pmtui.sandbox.linear import (
    DEFAULT_API_KEY,
    DEFAULT_OAUTH_TOKEN,
    LinearEmulator,
    LinearRateLimits,
)
from pmtui.sandbox.linear_filters import apply_duration
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, iso_z, serving

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

ISSUE_FIELDS = """id identifier number title description priority priorityLabel estimate dueDate url
branchName sortOrder labelIds trashed createdAt updatedAt archivedAt completedAt canceledAt startedAt
state { id name type } team { id key } project { id name } projectMilestone { id name }
assignee { id name } creator { id name } parent { id identifier } labels { nodes { id name } }"""

ISSUES_PAGE = """
query Issues($first: Int, $after: String, $filter: IssueFilter, $orderBy: PaginationOrderBy,
             $includeArchived: Boolean) {
  issues(first: $first, after: $after, filter: $filter, orderBy: $orderBy,
         includeArchived: $includeArchived) {
    nodes { id identifier title updatedAt createdAt archivedAt }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

CREATE_ISSUE = f"""
mutation Create($input: IssueCreateInput!) {{
  issueCreate(input: $input) {{ success lastSyncId issue {{ {ISSUE_FIELDS} }} }}
}}
"""

UPDATE_ISSUE = f"""
mutation Update($id: String!, $input: IssueUpdateInput!) {{
  issueUpdate(id: $id, input: $input) {{ success lastSyncId issue {{ {ISSUE_FIELDS} }} }}
}}
"""

GET_ISSUE = f"query Get($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} }} }}"


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[LinearEmulator, RunningEmulator]]:
    emulator = LinearEmulator(clock=Clock(), seed=11)
    with serving(emulator) as running:
        yield emulator, running


@pytest.fixture
def emu(shared: tuple[LinearEmulator, RunningEmulator]) -> LinearEmulator:
    emulator = shared[0]
    emulator.clock.set(NOW, frozen=True)
    emulator.clear_faults()
    emulator.rate_limits_enabled = False
    emulator.configure_rate_limits(LinearRateLimits())
    emulator.seed({"kind": "demo"})
    emulator.reset_counts()
    return emulator


@pytest.fixture
def url(shared: tuple[LinearEmulator, RunningEmulator], emu: LinearEmulator) -> str:
    return f"{shared[1].url}/graphql"


@pytest.fixture
def client(url: str) -> Iterator[SyncClientSession]:
    """A connected gql session over httpx, as pmtui's Linear integration holds one."""
    transport = HTTPXTransport(url=url, headers={"Authorization": DEFAULT_API_KEY}, timeout=10)
    with Client(transport=transport) as session:
        yield session


@pytest.fixture
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": DEFAULT_API_KEY}, timeout=10) as raw:
        yield raw


@pytest.fixture
def hints(emu: LinearEmulator) -> dict[str, Any]:
    return emu.config_hints()


def run(client: SyncClientSession, query: str, **variables: Any) -> dict[str, Any]:
    """Execute one document through gql, the way pmtui's Linear integration does."""
    result: dict[str, Any] = client.execute(GraphQLRequest(query, variable_values=variables or None))
    return result


def query_error(client: SyncClientSession, query: str, **variables: Any) -> dict[str, Any]:
    """The first GraphQL error of a request that must fail."""
    with pytest.raises(TransportQueryError) as caught:
        run(client, query, **variables)
    assert caught.value.errors
    error: dict[str, Any] = caught.value.errors[0]
    return error


def all_issues(
    client: SyncClientSession, page: int = 250, after: str | None = None, **variables: Any
) -> list[dict[str, Any]]:
    """Every issue of a listing, following ``pageInfo.endCursor`` as pmtui's sync does."""
    nodes: list[dict[str, Any]] = []
    while True:
        data = run(client, ISSUES_PAGE, first=page, after=after, **variables)["issues"]
        nodes.extend(data["nodes"])
        if not data["pageInfo"]["hasNextPage"]:
            return nodes
        after = data["pageInfo"]["endCursor"]


def state_id(emu: LinearEmulator, team_key: str, name: str) -> str:
    team = next(t for t in emu.state["teams"].values() if t["key"] == team_key)
    return next(
        s["id"]
        for s in emu.state["workflowStates"].values()
        if s["teamId"] == team["id"] and s["name"] == name
    )


def label_id(emu: LinearEmulator, name: str) -> str:
    return next(x["id"] for x in emu.state["issueLabels"].values() if x["name"] == name)


def project_id(emu: LinearEmulator, name: str) -> str:
    return next(p["id"] for p in emu.state["projects"].values() if p["name"] == name)


# ------------------------------------------------------------------------------------------ seed and reads


def test_demo_workspace_reads_like_linear(client: SyncClientSession, hints: dict[str, Any]) -> None:
    data = run(
        client,
        """{ viewer { id name isMe } organization { urlKey name }
             teams { nodes { id key name states { nodes { name type position } } } } }""",
    )
    assert data["viewer"]["isMe"] is True
    assert data["viewer"]["id"] == hints["viewer_id"]
    assert data["organization"]["urlKey"] == "acme" == hints["organization"]
    eng = next(t for t in data["teams"]["nodes"] if t["key"] == "ENG")
    assert eng["id"] == hints["team_id"]
    assert [s["type"] for s in eng["states"]["nodes"]] == [
        "triage", "backlog", "unstarted", "started", "started", "completed", "canceled", "duplicate",
    ]  # fmt: skip
    issue = run(client, GET_ISSUE, id="ENG-3")["issue"]
    assert issue["title"] == "Fix login redirect loop"
    assert issue["url"] == "https://linear.app/acme/issue/ENG-3/fix-login-redirect-loop"
    assert issue["branchName"].endswith("/eng-3-fix-login-redirect-loop")
    assert issue["priorityLabel"] == "Urgent"
    assert issue["dueDate"] == "2026-11-25"
    assert issue["number"] == 3.0
    assert issue["labelIds"] == [n["id"] for n in issue["labels"]["nodes"]]
    assert run(client, GET_ISSUE, id=issue["id"])["issue"]["identifier"] == "ENG-3"


def test_demo_due_dates_and_states_are_spread(emu: LinearEmulator) -> None:
    issues = list(emu.state["issues"].values())
    today = NOW.date().isoformat()
    dues = [i["dueDate"] for i in issues]
    assert any(d and d < today for d in dues), "some overdue"
    assert today in dues
    assert any(d is None for d in dues)
    assert any(i["completedAt"] for i in issues)
    assert {emu.state["projects"][i["projectId"]]["name"] for i in issues if i["projectId"]} == {
        "Q1 launch", "Billing revamp", "Mobile app",
    }  # fmt: skip
    assert all(i["createdAt"] <= i["updatedAt"] <= iso_z(NOW) for i in issues)


def test_seed_is_deterministic() -> None:
    clock = Clock()
    clock.set(NOW, frozen=True)
    a, b, c = (LinearEmulator(clock=clock, seed=s) for s in (3, 3, 4))
    for emulator in (a, b, c):
        emulator.seed({"kind": "demo"})
    assert a.snapshot() == b.snapshot()
    assert a.config_hints() != c.config_hints()
    summary = a.seed({"kind": "bulk", "n": 2000, "changed_share": 0.01})
    assert summary["issues"] == 2000
    assert summary["changed"] == 20
    assert len(a.state["issues"]) == 2000


def test_nested_connections_and_lookups(client: SyncClientSession, emu: LinearEmulator) -> None:
    pid = project_id(emu, "Q1 launch")
    data = run(
        client,
        """query($id: String!) { project(id: $id) {
             name url status { type } lead { name } teams { nodes { key } }
             projectMilestones { nodes { name targetDate status } }
             issues(first: 3) {
               nodes { identifier project { id } } pageInfo { hasNextPage endCursor } } } }""",
        id=pid,
    )["project"]
    assert data["status"]["type"] == "started"
    assert data["teams"]["nodes"] == [{"key": "ENG"}]
    assert {m["name"] for m in data["projectMilestones"]["nodes"]} == {"Beta", "GA"}
    assert len(data["issues"]["nodes"]) == 3
    assert data["issues"]["pageInfo"]["hasNextPage"] is True
    assert {n["project"]["id"] for n in data["issues"]["nodes"]} == {pid}
    slug = data["url"].rsplit("-", 1)[-1]
    assert run(client, "query($id: String!) { project(id: $id) { id } }", id=slug)["project"]["id"] == pid
    parent = run(
        client, '{ issue(id: "ENG-11") { children { nodes { identifier parent { identifier } } } } }'
    )
    assert [c["parent"]["identifier"] for c in parent["issue"]["children"]["nodes"]] == ["ENG-11", "ENG-11"]
    labels = run(client, "{ issueLabels(first: 100) { nodes { name team { id } } } }")["issueLabels"]["nodes"]
    assert {"Bug", "Feature", "Improvement", "docs"} <= {x["name"] for x in labels}
    users = run(client, "{ users { nodes { name active } } }")["users"]["nodes"]
    assert len(users) == 4
    states = run(
        client,
        '{ workflowStates(filter: { team: { key: { eq: "DES" } }, type: { eq: "completed" } }) '
        "{ nodes { name } } }",
    )
    assert states["workflowStates"]["nodes"] == [{"name": "Done"}]
    missing = query_error(client, GET_ISSUE, id="ENG-9999")
    assert missing["extensions"]["type"] == "invalid input"
    assert "Issue" in missing["message"]


# -------------------------------------------------------------------------------------------- pagination


def test_pagination_over_600_issues_takes_exactly_three_requests(
    client: SyncClientSession, emu: LinearEmulator
) -> None:
    emu.seed({"kind": "bulk", "n": 600})
    emu.reset_counts()
    nodes = all_issues(client, page=250)
    counts = emu.request_counts()
    assert counts["graphql:issues"] == 3
    assert counts["POST /graphql"] == 3
    assert len(nodes) == 600
    assert len({n["id"] for n in nodes}) == 600
    assert [n["createdAt"] for n in nodes] == sorted(n["createdAt"] for n in nodes)


def test_default_page_size_last_before_and_cap(client: SyncClientSession, emu: LinearEmulator) -> None:
    emu.seed({"kind": "bulk", "n": 120})
    page = run(client, "{ issues { nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } }")
    assert len(page["issues"]["nodes"]) == 50
    assert page["issues"]["pageInfo"]["hasPreviousPage"] is False
    second = run(client, ISSUES_PAGE, first=50, after=page["issues"]["pageInfo"]["endCursor"])["issues"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    start = second["pageInfo"]["startCursor"]
    back = run(
        client,
        "query($b: String) { issues(last: 10, before: $b) { nodes { id } pageInfo { hasPreviousPage } } }",
        b=start,
    )["issues"]
    assert [n["id"] for n in back["nodes"]] == [n["id"] for n in page["issues"]["nodes"][-10:]]
    assert back["pageInfo"]["hasPreviousPage"] is True
    error = query_error(client, "{ issues(first: 251) { nodes { id } } }")
    assert error["extensions"]["type"] == "invalid input"
    assert "250" in error["extensions"]["userPresentableMessage"]
    bad_cursor = query_error(client, ISSUES_PAGE, first=5, after="not-a-cursor")
    assert bad_cursor["extensions"]["type"] == "invalid input"


def test_cursor_stays_stable_when_items_are_updated_while_paging(
    client: SyncClientSession, emu: LinearEmulator
) -> None:
    emu.seed({"kind": "bulk", "n": 300})
    first = run(client, ISSUES_PAGE, first=100, orderBy="updatedAt")["issues"]
    seen = [n["id"] for n in first["nodes"]]
    emu.clock.advance(5)
    emu.admin_mutate(
        {"op": "update", "kind": "issue", "id": seen[0], "fields": {"title": "moved to the end"}}
    )
    rest = all_issues(client, page=100, orderBy="updatedAt", after=first["pageInfo"]["endCursor"])
    ids = seen + [n["id"] for n in rest]
    assert set(ids) == set(emu.state["issues"])
    assert ids[-1] == seen[0], "an issue updated mid-paging reappears at the end, none is skipped"


# --------------------------------------------------------------------------------------------- filters


def test_updated_at_filter_returns_only_changed_issues(
    client: SyncClientSession, emu: LinearEmulator
) -> None:
    emu.seed({"kind": "bulk", "n": 400})
    since = iso_z(emu.now())
    emu.clock.advance(60)
    ids = list(emu.state["issues"])
    emu.admin_mutate({"op": "update", "kind": "issue", "id": ids[10], "fields": {"priority": 1}})
    emu.admin_mutate({"op": "update", "kind": "issue", "id": ids[300], "fields": {"dueDate": "2026-12-24"}})
    emu.reset_counts()
    changed = all_issues(client, filter={"updatedAt": {"gt": since}})
    assert sorted(n["id"] for n in changed) == sorted([ids[10], ids[300]])
    assert all(n["updatedAt"] == iso_z(NOW.replace(minute=1)) for n in changed)
    assert emu.request_counts()["graphql:issues"] == 1
    relative = all_issues(client, filter={"updatedAt": {"gte": "-PT30S"}})
    assert len(relative) == 2


def test_fields_skip_and_include_leave_out_are_neither_run_counted_nor_charged(
    client: SyncClientSession, emu: LinearEmulator
) -> None:
    """A root field under ``@include(if: false)`` or ``@skip(if: true)`` is not run, so it is not a
    request for it in the counts, and it costs no complexity (the variable's default applies)."""
    doc = """
    query Q($with: Boolean = false, $skip: Boolean!) {
      viewer { id }
      teams(first: 50) @include(if: $with) { nodes { id key } }
      projects(first: 50) @skip(if: $skip) { nodes { id } }
    }
    """
    emu.reset_counts()
    left_out = run(client, doc, skip=True)
    assert set(left_out) == {"viewer"}
    counts = emu.request_counts()
    assert counts["graphql:viewer"] == 1
    assert "graphql:teams" not in counts
    assert "graphql:projects" not in counts
    both = run(client, doc, skip=False, **{"with": True})
    assert set(both) == {"viewer", "teams", "projects"}
    counts = emu.request_counts()
    assert counts["graphql:teams"] == counts["graphql:projects"] == 1
    prepared = schema_module.prepare(doc)
    lean = schema_module.estimate_complexity(prepared, None, {"skip": True})
    full = schema_module.estimate_complexity(prepared, None, {"skip": False, "with": True})
    assert lean == 2  # the viewer object and its id: 1.1, rounded up
    assert full == 117  # 1.1 + 50 teams x (1 + 2 x 0.1) + 50 projects x (1 + 0.1), rounded up


def test_issue_filters(client: SyncClientSession, emu: LinearEmulator, hints: dict[str, Any]) -> None:
    def ids(flt: dict[str, Any]) -> set[str]:
        return {n["identifier"] for n in all_issues(client, filter=flt)}

    eng = ids({"team": {"key": {"eq": "ENG"}}})
    assert len(eng) == 48
    assert ids({"team": {"id": {"eq": hints["team_id"]}}}) == eng
    started = ids({"state": {"type": {"in": ["started"]}}})
    assert "ENG-3" in started
    assert all(
        emu.state["workflowStates"][i["stateId"]]["type"] == "started"
        for i in emu.state["issues"].values()
        if i["identifier"] in started
    )
    bugs = ids({"labels": {"name": {"eq": "Bug"}}})
    assert "ENG-3" in bugs
    assert bugs == ids({"labels": {"some": {"name": {"eqIgnoreCase": "bug"}}}})
    assert ids({"title": {"containsIgnoreCase": "REDIRECT"}}) == {"ENG-3"}
    assert ids({"number": {"eq": 3}, "team": {"key": {"eq": "ENG"}}}) == {"ENG-3"}
    overdue = ids({"dueDate": {"lt": "2026-11-24"}, "completedAt": {"null": True}})
    assert overdue
    assert all(
        i["dueDate"] < "2026-11-24" for i in emu.state["issues"].values() if i["identifier"] in overdue
    )
    both = ids({"or": [{"number": {"eq": 1}}, {"number": {"eq": 2}}], "team": {"key": {"eq": "ENG"}}})
    assert both == {"ENG-1", "ENG-2"}
    assert ids({"project": {"null": True}, "team": {"key": {"eq": "DES"}}}) == {
        "DES-1",
        "DES-2",
        "DES-3",
        "DES-5",
    }
    assigned = ids({"assignee": {"id": {"eq": hints["viewer_id"]}}})
    assert assigned
    assert all(
        i["assigneeId"] == hints["viewer_id"]
        for i in emu.state["issues"].values()
        if i["identifier"] in assigned
    )
    unsupported = query_error(client, ISSUES_PAGE, first=5, filter={"slaStatus": {"eq": "Breached"}})
    if "slaStatus" in emu.schema.type_map["IssueFilter"].fields:  # type: ignore[union-attr]
        assert unsupported["message"] == "sandbox: filter IssueFilter.slaStatus not supported"
    else:  # pmtui's own SDL declares only the filter keys the emulator evaluates
        assert "unknown field 'slaStatus'" in unsupported["message"]
    bad_date = query_error(client, ISSUES_PAGE, first=5, filter={"updatedAt": {"gt": "yesterday"}})
    assert bad_date["extensions"]["type"] == "invalid input"


def test_durations_follow_iso_8601() -> None:
    assert apply_duration("-P2W1D", NOW) == datetime(2026, 11, 9, 10, 0, tzinfo=UTC)
    assert apply_duration("P1M", NOW) == datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    assert apply_duration("-PT90M", NOW) == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert apply_duration("2026-11-01", NOW) is None


# --------------------------------------------------------------------------------------------- mutations


def test_issue_create_with_client_id_then_get(
    client: SyncClientSession, emu: LinearEmulator, hints: dict[str, Any]
) -> None:
    new_id = str(uuid.uuid4())
    created = run(
        client,
        CREATE_ISSUE,
        input={
            "id": new_id,
            "teamId": hints["team_id"],
            "title": "Ship the sandbox",
            "description": "From **pmtui**",
            "priority": 2,
            "estimate": 3,
            "dueDate": "2026-12-01",
            "labelIds": [label_id(emu, "Feature")],
            "projectId": project_id(emu, "Q1 launch"),
            "stateId": state_id(emu, "ENG", "Todo"),
        },
    )["issueCreate"]
    assert created["success"] is True
    issue = created["issue"]
    assert issue["id"] == new_id
    assert issue["identifier"] == "ENG-49"
    assert issue["state"]["name"] == "Todo"
    assert issue["priorityLabel"] == "High"
    assert issue["estimate"] == 3.0
    assert issue["creator"]["id"] == hints["viewer_id"]
    assert issue["createdAt"] == issue["updatedAt"] == iso_z(NOW)
    fetched = run(client, GET_ISSUE, id=new_id)["issue"]
    assert fetched == issue
    assert run(client, GET_ISSUE, id="ENG-49")["issue"]["id"] == new_id
    assert emu.request_counts()["graphql:issueCreate"] == 1
    later = run(client, CREATE_ISSUE, input={"teamId": hints["team_id"], "title": "Next"})["issueCreate"]
    assert later["lastSyncId"] > created["lastSyncId"]
    assert later["issue"]["state"]["name"] == "Backlog"
    bad = query_error(client, CREATE_ISSUE, input={"teamId": hints["team_id"], "title": "x", "priority": 7})
    assert bad["extensions"]["type"] == "invalid input"
    no_team = query_error(client, 'mutation { issueCreate(input: {title: "x"}) { success } }')
    assert no_team["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_issue_update_round_trip(client: SyncClientSession, emu: LinearEmulator) -> None:
    emu.clock.advance(120)
    done = state_id(emu, "ENG", "Done")
    milestone = next(
        m["id"]
        for m in emu.state["projectMilestones"].values()
        if m["projectId"] == project_id(emu, "Mobile app")
    )
    updated = run(
        client,
        UPDATE_ISSUE,
        id="ENG-3",
        input={
            "stateId": done,
            "priority": 4,
            "dueDate": None,
            "addedLabelIds": [label_id(emu, "security")],
            "removedLabelIds": [label_id(emu, "Bug")],
            "projectId": project_id(emu, "Mobile app"),
            "projectMilestoneId": milestone,
            "title": "Fix login redirect loop (Safari)",
            "estimate": 5,
            "parentId": "ENG-1",
        },
    )["issueUpdate"]["issue"]
    assert updated["state"]["type"] == "completed"
    assert updated["completedAt"] == iso_z(emu.now())
    assert updated["dueDate"] is None
    assert [n["name"] for n in updated["labels"]["nodes"]] == ["security"]
    assert updated["projectMilestone"]["id"] == milestone
    assert updated["parent"]["identifier"] == "ENG-1"
    assert updated["updatedAt"] == iso_z(emu.now()) > updated["createdAt"]
    assert updated["url"].endswith("/ENG-3/fix-login-redirect-loop-safari")
    reopened = run(client, UPDATE_ISSUE, id="ENG-3", input={"stateId": state_id(emu, "ENG", "Todo")})
    assert reopened["issueUpdate"]["issue"]["completedAt"] is None
    wrong_team = query_error(
        client, UPDATE_ISSUE, id="ENG-3", input={"stateId": state_id(emu, "DES", "Done")}
    )
    assert wrong_team["extensions"]["type"] == "invalid input"
    added = run(
        client,
        "mutation($id: String!, $l: String!) { issueAddLabel(id: $id, labelId: $l) "
        "{ success issue { labelIds } } }",
        id="ENG-3",
        l=label_id(emu, "docs"),
    )
    assert label_id(emu, "docs") in added["issueAddLabel"]["issue"]["labelIds"]
    moved = run(
        client,
        UPDATE_ISSUE,
        id="ENG-3",
        input={"teamId": next(t["id"] for t in emu.state["teams"].values() if t["key"] == "DES")},
    )["issueUpdate"]["issue"]
    assert moved["identifier"] == "DES-6"
    assert moved["state"]["type"] == "unstarted"
    assert run(client, GET_ISSUE, id="ENG-3")["issue"]["identifier"] == "DES-6"


def test_archive_delete_and_include_archived(client: SyncClientSession, emu: LinearEmulator) -> None:
    archive = run(
        client, 'mutation { issueArchive(id: "ENG-5") { success entity { identifier archivedAt } } }'
    )
    assert archive["issueArchive"]["entity"]["archivedAt"] == iso_z(NOW)
    visible = {n["identifier"] for n in all_issues(client)}
    assert "ENG-5" not in visible
    assert "ENG-5" in {n["identifier"] for n in all_issues(client, includeArchived=True)}
    run(client, 'mutation { issueUnarchive(id: "ENG-5") { success } }')
    assert "ENG-5" in {n["identifier"] for n in all_issues(client)}
    deleted = run(client, 'mutation { issueDelete(id: "ENG-6") { success entity { trashed archivedAt } } }')
    assert deleted["issueDelete"]["entity"] == {"trashed": True, "archivedAt": iso_z(NOW)}
    assert run(client, GET_ISSUE, id="ENG-6")["issue"]["trashed"] is True
    gone = run(
        client, 'mutation { issueDelete(id: "ENG-7", permanentlyDelete: true) { success entity { id } } }'
    )
    assert gone["issueDelete"] == {"success": True, "entity": None}
    assert query_error(client, GET_ISSUE, id="ENG-7")["extensions"]["type"] == "invalid input"


def test_comments_round_trip(client: SyncClientSession, emu: LinearEmulator) -> None:
    cid = str(uuid.uuid4())
    made = run(
        client,
        """mutation($input: CommentCreateInput!) { commentCreate(input: $input) {
             success lastSyncId comment { id body url issue { identifier } user { id } editedAt } } }""",
        input={"id": cid, "issueId": "ENG-3", "body": "Looks fixed on **staging**."},
    )["commentCreate"]
    assert made["comment"]["id"] == cid
    assert made["comment"]["issue"]["identifier"] == "ENG-3"
    assert made["comment"]["url"].endswith(f"#comment-{cid[:8]}")
    emu.clock.advance(30)
    edited = run(
        client,
        'mutation($id: String!) { commentUpdate(id: $id, input: {body: "Edited"}) '
        "{ comment { body editedAt updatedAt } } }",
        id=cid,
    )["commentUpdate"]["comment"]
    assert edited["body"] == "Edited"
    assert edited["editedAt"] == edited["updatedAt"] == iso_z(emu.now())
    listed = run(client, '{ issue(id: "ENG-3") { comments { nodes { id body } } } }')["issue"]["comments"][
        "nodes"
    ]
    assert [c["id"] for c in listed][-1] == cid
    removed = run(client, "mutation($id: String!) { commentDelete(id: $id) { success entityId } }", id=cid)
    assert removed["commentDelete"] == {"success": True, "entityId": cid}
    comments = run(client, "{ comments(first: 250) { nodes { id } } }")["comments"]["nodes"]
    assert cid not in {c["id"] for c in comments}


def test_projects_milestones_and_labels(
    client: SyncClientSession, emu: LinearEmulator, hints: dict[str, Any]
) -> None:
    created = run(
        client,
        """mutation($input: ProjectCreateInput!) { projectCreate(input: $input) {
             success project { id name status { type } teams { nodes { key } } targetDate url } } }""",
        input={"name": "Sandbox", "teamIds": [hints["team_id"]], "targetDate": "2027-01-31"},
    )["projectCreate"]["project"]
    assert created["status"]["type"] == "backlog"
    assert created["teams"]["nodes"] == [{"key": "ENG"}]
    assert created["url"].startswith("https://linear.app/acme/project/sandbox-")
    no_teams = query_error(client, 'mutation { projectCreate(input: {name: "x", teamIds: []}) { success } }')
    assert no_teams["extensions"]["type"] == "invalid input"
    started = next(s["id"] for s in emu.state["projectStatuses"].values() if s["type"] == "started")
    updated = run(
        client,
        "mutation($id: String!, $s: String!) { "
        'projectUpdate(id: $id, input: {statusId: $s, name: "Sandbox 2"}) '
        "{ project { name status { type } startedAt } } }",
        id=created["id"],
        s=started,
    )["projectUpdate"]["project"]
    assert updated == {"name": "Sandbox 2", "status": {"type": "started"}, "startedAt": iso_z(NOW)}
    milestone = run(
        client,
        "mutation($p: String!) { "
        'projectMilestoneCreate(input: {projectId: $p, name: "M1", targetDate: "2026-12-20"}) '
        "{ success projectMilestone { name status project { id } } } }",
        p=created["id"],
    )["projectMilestoneCreate"]["projectMilestone"]
    assert milestone == {"name": "M1", "status": "next", "project": {"id": created["id"]}}
    label = run(
        client,
        'mutation($t: String) { issueLabelCreate(input: {name: "infra", color: "#123456", teamId: $t}) '
        "{ success issueLabel { id name team { key } } } }",
        t=hints["team_id"],
    )["issueLabelCreate"]["issueLabel"]
    assert label["team"] == {"key": "ENG"}
    dup = query_error(client, 'mutation { issueLabelCreate(input: {name: "Bug"}) { success } }')
    assert dup["extensions"]["type"] == "invalid input"
    deleted = run(
        client,
        "mutation($id: String!) { projectDelete(id: $id) { success entity { archivedAt } } }",
        id=created["id"],
    )
    assert deleted["projectDelete"]["entity"]["archivedAt"] == iso_z(NOW)
    names = {p["name"] for p in run(client, "{ projects { nodes { name } } }")["projects"]["nodes"]}
    assert "Sandbox 2" not in names
    filtered = run(client, '{ projects(filter: { status: { type: { eq: "planned" } } }) { nodes { name } } }')
    assert filtered["projects"]["nodes"] == [{"name": "Billing revamp"}]


# ---------------------------------------------------------------------------------- errors and faults


def test_schema_invalid_query_is_400_with_graphql_errors(
    http: httpx.Client, url: str, client: SyncClientSession
) -> None:
    response = http.post(url, json={"query": "{ issues { nodes { id nope } } }"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["message"] == "Cannot query field 'nope' on type 'Issue'."
    assert error["locations"] == [{"line": 1, "column": 23}]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "data" not in response.json()
    syntax = http.post(url, json={"query": "{ issues { "})
    assert syntax.status_code == 400
    assert syntax.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    bad_var = http.post(
        url, json={"query": "query($n: Int) { issues(first: $n) { nodes { id } } }", "variables": {"n": "x"}}
    )
    assert bad_var.status_code == 400
    assert bad_var.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    via_gql = query_error(client, "{ viewer { nope } }")
    assert via_gql["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_fields_without_data_get_their_types_empty_answer(client: SyncClientSession) -> None:
    data = run(
        client,
        """{ issue(id: "ENG-3") { id subscribers { nodes { id } pageInfo { hasNextPage endCursor } }
             cycle { id } snoozedUntilAt sharedAccess { isShared sharedWithCount sharedWithUsers { id } }
             boardOrder reactionData history { nodes { id } } } }""",
    )
    assert data["issue"]["subscribers"] == {
        "nodes": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
    assert data["issue"]["cycle"] is None
    assert data["issue"]["snoozedUntilAt"] is None
    assert data["issue"]["sharedAccess"] == {"isShared": False, "sharedWithCount": 0, "sharedWithUsers": []}
    assert data["issue"]["boardOrder"] == 0.0
    assert data["issue"]["reactionData"] == {}
    assert data["issue"]["history"] == {"nodes": []}


def test_unimplemented_mutation_fails_loudly(http: httpx.Client, url: str) -> None:
    write = http.post(url, json={"query": 'mutation { issueLabelDelete(id: "x") { success } }'})
    if write.status_code == 400:  # the emulated SDL does not even declare it
        assert write.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    else:
        error = write.json()["errors"][0]
        assert "Mutation.issueLabelDelete" in error["message"]
        assert error["extensions"]["code"] == "SANDBOX_UNSUPPORTED"


def test_authentication_failures(url: str) -> None:
    query = {"query": "{ viewer { id } }"}
    for headers in ({}, {"Authorization": "lin_api_wrong"}, {"Authorization": f"Bearer {DEFAULT_API_KEY}"}):
        response = httpx.post(url, json=query, headers=headers)
        assert response.status_code == 401
        extensions = response.json()["errors"][0]["extensions"]
        assert extensions["type"] == "authentication error"
        assert extensions["code"] == "AUTHENTICATION_ERROR"
    oauth = httpx.post(url, json=query, headers={"Authorization": f"Bearer {DEFAULT_OAUTH_TOKEN}"})
    assert oauth.status_code == 200
    bad = Client(transport=HTTPXTransport(url=url, headers={"Authorization": "nope"}))
    with pytest.raises(TransportQueryError) as caught:
        bad.execute(GraphQLRequest("{ viewer { id } }"))
    assert caught.value.errors is not None
    assert caught.value.errors[0]["extensions"]["type"] == "authentication error"


def test_commit_drop_applies_issue_create_once(
    client: SyncClientSession, emu: LinearEmulator, hints: dict[str, Any]
) -> None:
    new_id = str(uuid.uuid4())
    emu.add_fault(Fault(kind="commit_drop", path="/graphql"))
    before = len(emu.state["issues"])
    read = run(client, GET_ISSUE, id="ENG-1")  # a query is not a write: the fault waits for the mutation
    assert read["issue"]["identifier"] == "ENG-1"
    payload = {"id": new_id, "teamId": hints["team_id"], "title": "Exactly once"}
    with pytest.raises(TransportConnectionFailed):
        run(client, CREATE_ISSUE, input=payload)
    assert len(emu.state["issues"]) == before + 1
    retry = query_error(client, CREATE_ISSUE, input=payload)
    assert retry["extensions"]["type"] == "invalid input"
    assert "already exists" in retry["message"]
    assert sum(1 for i in emu.state["issues"].values() if i["title"] == "Exactly once") == 1
    assert run(client, GET_ISSUE, id=new_id)["issue"]["title"] == "Exactly once"


def test_reset_fault_applies_nothing_and_5xx_is_a_server_error(
    client: SyncClientSession, emu: LinearEmulator, hints: dict[str, Any]
) -> None:
    emu.add_fault(Fault(kind="reset", path="/graphql"))
    with pytest.raises(TransportConnectionFailed):
        run(client, CREATE_ISSUE, input={"teamId": hints["team_id"], "title": "never"})
    assert not any(i["title"] == "never" for i in emu.state["issues"].values())
    emu.add_fault(Fault(kind="error", value=503, path="/graphql"))
    with pytest.raises(TransportServerError) as caught:
        run(client, "{ viewer { id } }")
    assert caught.value.code == 503
    emu.add_fault(Fault(kind="error", value=500, path="/graphql"))
    with pytest.raises(TransportQueryError) as internal:
        run(client, "{ viewer { id } }")
    assert internal.value.errors is not None
    assert internal.value.errors[0]["extensions"]["type"] == "internal error"
    assert run(client, "{ viewer { id } }")["viewer"]["id"] == hints["viewer_id"]


def test_operation_name_selects_whether_a_request_writes(
    http: httpx.Client, url: str, emu: LinearEmulator
) -> None:
    document = """query Read { viewer { id } }
                  mutation Write($t: String!) {
                    issueCreate(input: {teamId: $t, title: "picked"}) { success } }"""
    emu.add_fault(Fault(kind="commit_drop", path="/graphql"))
    read = http.post(url, json={"query": document, "operationName": "Read"})
    assert read.status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(
            url,
            json={
                "query": document,
                "operationName": "Write",
                "variables": {"t": emu.config_hints()["team_id"]},
            },
        )
    assert emu.request_counts()["graphql:issueCreate"] == 1
    ambiguous = http.post(url, json={"query": document})
    assert ambiguous.status_code == 400


# --------------------------------------------------------------------------------------------- rate limits


def test_request_budget_throttles_with_linear_shape(
    http: httpx.Client, url: str, emu: LinearEmulator
) -> None:
    emu.configure_rate_limits(LinearRateLimits(requests=3, period_seconds=3600))
    emu.rate_limits_enabled = True
    query = {"query": "{ viewer { id name } }"}
    remaining = []
    for _ in range(3):
        ok = http.post(url, json=query)
        assert ok.status_code == 200
        remaining.append(int(ok.headers["X-RateLimit-Requests-Remaining"]))
        assert ok.headers["X-RateLimit-Requests-Limit"] == "3"
        assert ok.headers["X-RateLimit-Complexity-Limit"] == "3000000"
        assert int(ok.headers["X-RateLimit-Requests-Reset"]) > 1e12  # epoch milliseconds
        assert ok.headers["X-Complexity"] == "2"
    assert remaining == [2, 1, 0]
    throttled = http.post(url, json=query)
    assert throttled.status_code == 400
    error = throttled.json()["errors"][0]
    assert error["extensions"]["code"] == "RATELIMITED"
    assert error["extensions"]["type"] == "ratelimited"
    assert error["extensions"]["statusCode"] == 429
    assert error["extensions"]["userPresentableMessage"]
    assert throttled.headers["Retry-After"] == "1200"  # one token refills in 3600/3 s
    assert throttled.headers["X-RateLimit-Requests-Remaining"] == "0"
    emu.clock.advance(1200)
    assert http.post(url, json=query).status_code == 200


def test_complexity_budget_and_single_query_cap(
    client: SyncClientSession, http: httpx.Client, url: str, emu: LinearEmulator
) -> None:
    emu.configure_rate_limits(LinearRateLimits(complexity=1000))
    emu.rate_limits_enabled = True
    page = "{ issues(first: 250) { nodes { id title updatedAt state { name } } } }"
    first = http.post(url, json={"query": page})
    assert first.status_code == 200
    cost = int(first.headers["X-Complexity"])
    assert cost == 600  # 250 x (nodes object 1 + 3 scalars 0.3 + state object 1 + its scalar 0.1)
    assert int(first.headers["X-RateLimit-Complexity-Remaining"]) == 1000 - cost
    with pytest.raises(TransportQueryError) as caught:
        run(client, page)
    assert caught.value.errors is not None
    assert caught.value.errors[0]["extensions"]["code"] == "RATELIMITED"
    emu.rate_limits_enabled = False
    huge = http.post(
        url, json={"query": "{ issues(first: 250) { nodes { labels(first: 100) { nodes { id name } } } } }"}
    )
    assert huge.status_code == 400
    assert huge.json()["errors"][0]["message"] == "Query too complex"
    status = run(
        client, "{ rateLimitStatus { kind limits { type allowedAmount remainingAmount reset period } } }"
    )
    assert {x["type"] for x in status["rateLimitStatus"]["limits"]} == {"requests", "complexity"}


def test_injected_rate_limit_fault_uses_the_same_shape(
    http: httpx.Client, url: str, emu: LinearEmulator
) -> None:
    emu.add_fault(Fault(kind="rate_limit", value=1, path="/graphql"))
    throttled = http.post(url, json={"query": "{ viewer { id } }"})
    assert throttled.status_code == 400
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json()["errors"][0]["extensions"]["code"] == "RATELIMITED"
    assert http.post(url, json={"query": "{ viewer { id } }"}).status_code == 200


# ------------------------------------------------------------------------------------ admin and transports


def test_admin_mutate_bumps_updated_at_as_another_user(
    client: SyncClientSession, emu: LinearEmulator
) -> None:
    emu.clock.advance(90)
    created = emu.admin_mutate({"op": "create", "kind": "issue", "fields": {"title": "From a teammate"}})
    assert created["identifier"] == "ENG-49"
    assert created["creator"]["id"] != emu.config_hints()["viewer_id"]
    assert created["createdAt"] == iso_z(emu.now())
    emu.clock.advance(30)
    updated = emu.admin_mutate({"op": "update", "kind": "issue", "id": "ENG-49", "fields": {"priority": 1}})
    assert updated["updatedAt"] == iso_z(emu.now()) > created["updatedAt"]
    comment = emu.admin_mutate(
        {"op": "create", "kind": "comment", "fields": {"issueId": "ENG-49", "body": "hi"}}
    )
    assert comment["issue"]["identifier"] == "ENG-49"
    deleted = emu.admin_mutate({"op": "delete", "kind": "issue", "id": "ENG-49"})
    assert deleted["trashed"] is True
    project = emu.admin_mutate(
        {
            "op": "create",
            "kind": "project",
            "fields": {"name": "Side", "teamIds": [emu.config_hints()["team_id"]]},
        }
    )
    assert project["status"]["type"] == "backlog"
    assert emu.request_counts()["total"] == 0, "admin edits are not API requests"


def test_requests_transport_works_too(url: str) -> None:
    transport = RequestsHTTPTransport(url=url, headers={"Authorization": DEFAULT_API_KEY}, timeout=10)
    with Client(transport=transport) as session:
        data = session.execute(GraphQLRequest('{ issue(id: "ENG-3") { title team { key } } }'))
    assert data == {"issue": {"title": "Fix login redirect loop", "team": {"key": "ENG"}}}


def test_schema_pickle_cache_round_trip_and_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMTUI_SANDBOX_SCHEMA_CACHE", str(tmp_path / "schemas"))
    path = schema_module.schema_path()
    sdl = path.read_bytes()
    cache = schema_module.schema_cache_path(sdl)
    assert cache.parent == tmp_path / "schemas"
    assert cache.name.startswith("linear-schema-")
    assert cache.suffix == ".pickle"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not a pickle")
    built = schema_module._load_schema(path)  # falls back to the SDL and rewrites the cache
    assert "Issue" in built.type_map
    with cache.open("rb") as handle:
        reloaded = pickle.load(handle)
    assert set(reloaded.type_map) == set(built.type_map)
    assert schema_module.linear_schema() is schema_module.linear_schema()
