"""The Linear emulator answers any valid query, on pmtui's own SDL and on Linear's published schema.

A query generated from the schema selects every field of ``Issue``, ``Team``, ``Project``, ``User``,
``Organization`` and the viewer (scalars by name, object fields by their ``id``, connections by their
nodes' ids); it is sent through gql over HTTP, as a client that asks for everything would. The published
schema is Linear's file, read in place from ``../shared/specs`` (the test skips cleanly without it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from pmtui.config import LinearSettings
from pmtui.errors import AuthError, UsageError
from pmtui.integrations.limits import RateLimiter
from pmtui.integrations.linear import LinearIntegration
from pmtui.sandbox import linear_schema as schema_module
from pmtui.sandbox.linear import DEFAULT_API_KEY, LinearEmulator, LinearRateLimits
from pmtui.sandbox.linear_defaults import stable_id
from pmtui.sandbox.runner import start_sandbox
from pmtui.sandbox.server import Clock, RunningEmulator, serving
from tests.contract.linear_selection import PLACEHOLDER_ID, every_field_selection

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PUBLISHED = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "linear-schema.graphql"


def _schemas() -> list[Any]:
    published = pytest.param(
        PUBLISHED,
        id="published",
        marks=pytest.mark.skipif(
            not PUBLISHED.is_file(), reason="../shared/specs/linear-schema.graphql absent"
        ),
    )
    return [pytest.param(schema_module.EMULATED_SCHEMA, id="emulated"), published]


@pytest.fixture(scope="module", params=_schemas())
def served(request: pytest.FixtureRequest) -> Iterator[tuple[LinearEmulator, RunningEmulator]]:
    emulator = LinearEmulator(clock=Clock(), seed=5, schema_path=request.param)
    # A query of every field (connections included) costs more than Linear's 10,000-point cap, which
    # the real API would refuse; here the point is the answer, so the cap is out of the way.
    emulator.configure_rate_limits(LinearRateLimits(max_query_complexity=10**9))
    emulator.clock.set(NOW, frozen=True)
    emulator.seed({"kind": "demo"})
    with serving(emulator) as running:
        yield emulator, running


@pytest.fixture
def emu(served: tuple[LinearEmulator, RunningEmulator]) -> LinearEmulator:
    return served[0]


@pytest.fixture
def url(served: tuple[LinearEmulator, RunningEmulator]) -> str:
    return f"{served[1].url}/graphql"


def run(url: str, query: str, **variables: Any) -> dict[str, Any]:
    """One document through gql (httpx transport), the client pmtui uses."""
    transport = HTTPXTransport(url=url, headers={"Authorization": DEFAULT_API_KEY}, timeout=30)
    with Client(transport=transport) as session:
        result: dict[str, Any] = session.execute(GraphQLRequest(query, variable_values=variables or None))
    return result


# ------------------------------------------------------------------------------- every-field queries

ROOTS = {
    "Issue": ('issue(id: "ENG-3")', "issue"),
    "Team": ('team(id: "{team}")', "team"),
    "Project": ('project(id: "{project}")', "project"),
    "User": ('user(id: "{user}")', "user"),
    "Organization": ("organization", "organization"),
    "Viewer": ("viewer", "viewer"),
}


@pytest.mark.parametrize("kind", list(ROOTS))
def test_a_query_of_every_field_succeeds(emu: LinearEmulator, url: str, kind: str) -> None:
    hints = emu.config_hints()
    project_id = next(iter(emu.state["projects"]))
    other_user = next(u for u in emu.state["users"] if u != hints["viewer_id"])
    root, key = ROOTS[kind]
    selection, names = every_field_selection(emu.schema, "User" if kind == "Viewer" else kind)
    root = root.format(team=hints["team_id"], project=project_id, user=other_user)
    query = f"query Every {{ {root} {{ {selection} }} }}"
    data = run(url, query)[key]
    assert sorted(data) == sorted(names)
    assert len(names) > 40
    if kind == "Issue":
        assert data["identifier"] == "ENG-3"
        assert data["title"] == "Fix login redirect loop"
        assert data["team"]["id"] == hints["team_id"]
        assert data["subscribers"] == {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
        assert data["sharedAccess"] == {"__typename": "IssueSharedAccess"}
    if kind == "Team":
        assert data["key"] == "ENG"
        assert data["viewerCanLeave"] is True
        assert data["viewerMembership"]["id"]
        assert len(data["memberships"]["nodes"]) == len(emu.state["teams"][hints["team_id"]]["memberIds"])
    if kind == "Viewer":
        assert data["id"] == hints["viewer_id"]
        assert data["isMe"] is True
    if kind == "Organization":
        assert data["urlKey"] == hints["organization"]
        assert data["suggestedBranchNameEnabled"] is False  # a current-API field (extension)


def test_empty_answers_are_typed_and_stable(emu: LinearEmulator, url: str) -> None:
    query = """{ issue(id: "ENG-3") { id createdAt boardOrder customerTicketCount sharedAccess { isShared
                 sharedWithCount sharedWithUsers { id } } botActor { id } documentContent { id }
                 syncedWith { service } reactionData history(first: 3) { nodes { id } } } }"""
    first, second = run(url, query)["issue"], run(url, query)["issue"]
    assert first == second
    assert first["boardOrder"] == 0.0
    assert first["customerTicketCount"] == 0
    assert first["sharedAccess"] == {"isShared": False, "sharedWithCount": 0, "sharedWithUsers": []}
    assert first["botActor"] is None
    assert first["documentContent"] is None
    assert first["syncedWith"] is None
    assert first["reactionData"] == {}
    assert first["history"] == {"nodes": []}


def test_synthetic_ids_derive_from_the_parent(emu: LinearEmulator, url: str) -> None:
    team = emu.config_hints()["team_id"]
    data = run(url, "query($t: String!) { team(id: $t) { id viewerMembership { id } } }", t=team)["team"]
    assert data["viewerMembership"]["id"] == stable_id(f"TeamMembership:{team}:{emu.state['viewerId']}")
    assert uuid.UUID(data["viewerMembership"]["id"]).version == 5


def test_root_queries_without_data_are_empty_or_not_found(emu: LinearEmulator, url: str) -> None:
    if "initiatives" not in emu.schema.query_type.fields:  # type: ignore[union-attr]
        pytest.skip("pmtui's own SDL declares only the root queries the emulator implements")
    assert run(url, "{ initiatives { nodes { id } pageInfo { hasNextPage } } }")["initiatives"] == {
        "nodes": [],
        "pageInfo": {"hasNextPage": False},
    }
    with pytest.raises(TransportQueryError) as caught:
        run(url, f'{{ initiative(id: "{PLACEHOLDER_ID}") {{ id }} }}')
    assert caught.value.errors is not None
    assert caught.value.errors[0]["message"] == "Entity not found: Initiative"


# -------------------------------------------------------------------------------------- searchIssues

SEARCH = """
query Search($term: String!, $teamId: String, $includeComments: Boolean, $first: Int, $after: String) {
  searchIssues(term: $term, teamId: $teamId, includeComments: $includeComments, first: $first,
               after: $after) {
    totalCount
    nodes { identifier title metadata team { key } }
    pageInfo { hasNextPage endCursor }
    archivePayload { totalCount }
  }
}
"""


def test_search_issues_matches_every_word_of_the_term(emu: LinearEmulator, url: str) -> None:
    found = run(url, SEARCH, term="LOGIN")["searchIssues"]
    titles = {n["title"] for n in found["nodes"]}
    expected = {i["title"] for i in emu.state["issues"].values() if "login" in i["title"].lower()}
    assert titles == expected
    assert "Fix login redirect loop" in titles
    assert found["totalCount"] == float(len(expected))
    assert all(n["metadata"] == {} for n in found["nodes"])
    two_words = run(url, SEARCH, term="login redirect")["searchIssues"]
    assert [n["identifier"] for n in two_words["nodes"]] == ["ENG-3"]
    assert run(url, SEARCH, term="ENG-3")["searchIssues"]["nodes"][0]["title"] == "Fix login redirect loop"


def test_search_issues_pages_filters_by_team_and_reads_comments(emu: LinearEmulator, url: str) -> None:
    everything = run(url, SEARCH, term="", first=250)["searchIssues"]
    live = [i for i in emu.state["issues"].values() if i["archivedAt"] is None]
    assert everything["totalCount"] == float(len(live))
    page = run(url, SEARCH, term="", first=5)["searchIssues"]
    assert len(page["nodes"]) == 5
    assert page["pageInfo"]["hasNextPage"] is True
    rest = run(url, SEARCH, term="", first=250, after=page["pageInfo"]["endCursor"])["searchIssues"]
    assert len(page["nodes"]) + len(rest["nodes"]) == len(live)
    des = run(url, SEARCH, term="", teamId="DES", first=250)["searchIssues"]
    assert des["nodes"]
    assert {n["team"]["key"] for n in des["nodes"]} == {"DES"}
    comment = next(c for c in emu.state["comments"].values() if c["issueId"])
    word = max(comment["body"].split(), key=len).strip(".,!?:;()").lower()
    with_comments = run(url, SEARCH, term=word, includeComments=True, first=250)["searchIssues"]
    issue = emu.state["issues"][comment["issueId"]]
    assert issue["identifier"] in {n["identifier"] for n in with_comments["nodes"]}
    with pytest.raises(TransportQueryError) as caught:
        run(url, SEARCH, term="x", teamId="NOPE")
    assert caught.value.errors is not None
    assert caught.value.errors[0]["message"] == "Entity not found: Team"


# ---------------------------------------------------------------------------------- authentication


def test_a_refused_key_is_http_401_with_linears_authentication_error(url: str) -> None:
    response = httpx.post(url, json={"query": "{ viewer { id } }"}, headers={"Authorization": "lin_api_bad"})
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["message"] == "Authentication required, not authenticated"
    assert error["extensions"]["code"] == "AUTHENTICATION_ERROR"
    assert error["extensions"]["type"] == "authentication error"
    assert error["extensions"]["statusCode"] == 401
    assert error["extensions"]["userError"] is True
    assert error["extensions"]["userPresentableMessage"]


def test_pmtuis_linear_integration_maps_the_401_to_its_auth_error(
    served: tuple[LinearEmulator, RunningEmulator],
) -> None:
    emulator, running = served
    before = emulator.request_counts().get("total", 0)
    integration = LinearIntegration(
        LinearSettings(base_url=running.url, team_key="ENG"),
        "lin_api_refusedrefused",
        limiter=RateLimiter(600_000),
        retry_sleep=lambda _s: pytest.fail("an auth error is never retried"),
    )
    try:
        with pytest.raises(AuthError) as caught:
            integration.get_task(str(uuid.uuid4()))
    finally:
        integration.close()
    assert caught.value.env_var == "PMTUI_LINEAR_API_KEY"
    assert caught.value.status == 401
    assert "lin_api_refusedrefused" not in caught.value.user_text()
    assert emulator.request_counts().get("total", 0) == before + 1  # one request: never retried


# ---------------------------------------------------------------------------------- schema setting


def test_the_schema_setting_and_its_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(schema_module.SCHEMA_ENV, raising=False)
    assert schema_module.schema_path() == schema_module.EMULATED_SCHEMA
    monkeypatch.setenv(schema_module.SCHEMA_ENV, str(tmp_path / "missing.graphql"))
    with pytest.raises(UsageError, match=r"PMTUI_SANDBOX_LINEAR_SCHEMA=.*missing.graphql: no such file"):
        schema_module.schema_path()
    with pytest.raises(UsageError, match=r"--linear-schema .*nope.graphql: no such file"):
        schema_module.schema_path(tmp_path / "nope.graphql")
    broken = tmp_path / "broken.graphql"
    broken.write_text("type Query { issues: [Issue }")
    monkeypatch.setenv(schema_module.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(UsageError, match=r"broken.graphql is not a usable GraphQL schema"):
        schema_module.linear_schema(broken)
    other = tmp_path / "other.graphql"
    other.write_text("type Query { hello: String }")
    with pytest.raises(UsageError, match=r"is not a Linear schema: it defines no Mutation, Issue"):
        schema_module.linear_schema(other)


def test_the_pickle_cache_is_keyed_by_the_schema_files_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(schema_module.CACHE_ENV, str(tmp_path))
    first = schema_module.schema_cache_path(b"type Query { a: Int }")
    assert first.parent == tmp_path
    assert first != schema_module.schema_cache_path(b"type Query { b: Int }")
    copy = tmp_path / "copy.graphql"
    copy.write_bytes(schema_module.EMULATED_SCHEMA.read_bytes())
    built = schema_module.linear_schema(copy)
    assert schema_module.schema_cache_path(copy.read_bytes()).is_file()
    assert "viewerCanJoin" in built.type_map["Team"].fields  # type: ignore[union-attr]


def test_sandbox_serve_refuses_a_missing_schema_file_with_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-schema.graphql"
    done = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "sandbox", "serve", "--linear-schema", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PMTUI_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 2
    assert f"--linear-schema {missing}: no such file" in done.stderr
    assert "Traceback" not in done.stderr
    assert "sandbox:" not in done.stdout  # nothing started


def test_start_sandbox_passes_the_schema_to_the_linear_emulator(tmp_path: Path) -> None:
    with start_sandbox(
        seed=None, services=("linear",), linear_schema=schema_module.EMULATED_SCHEMA
    ) as sandbox:
        linear = sandbox.emulator("linear")
        assert isinstance(linear, LinearEmulator)
        assert linear.schema_file == schema_module.EMULATED_SCHEMA
    with pytest.raises(UsageError, match="no such file"):
        start_sandbox(seed=None, services=("linear",), linear_schema=tmp_path / "absent.graphql")


def test_cycles_of_the_demo_team(emu: LinearEmulator, url: str) -> None:
    team = emu.config_hints()["team_id"]
    data = run(
        url,
        f"""{{ team(id: "{team}") {{ cyclesEnabled activeCycle {{ number isActive }}
                cycles {{ nodes {{ id number isPast isFuture startsAt endsAt team {{ key }} }} }} }}
              cycles {{ nodes {{ id }} }} }}""",
    )
    cycles = data["team"]["cycles"]["nodes"]
    assert [c["number"] for c in cycles] == [1.0, 2.0, 3.0]
    assert [(c["isPast"], c["isFuture"]) for c in cycles] == [(True, False), (False, False), (False, True)]
    assert data["team"]["activeCycle"] == {"number": 2.0, "isActive": True}
    assert data["team"]["cyclesEnabled"] is True
    assert {c["id"] for c in data["cycles"]["nodes"]} == {c["id"] for c in cycles}
    one = run(url, f'{{ cycle(id: "{cycles[0]["id"]}") {{ number team {{ key }} }} }}')
    assert one["cycle"] == {"number": 1.0, "team": {"key": "ENG"}}
