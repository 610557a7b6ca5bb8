"""The Linear emulator against what the real Linear API sends, from ``../shared/recorded/linear``.

The recordings are read in place (never copied into the repository; the test skips without them):

- ``sdk-98.0.0-operations.json``: the GraphQL documents @linear/sdk 98's ``LinearClient`` sends. Each is
  sent to the emulator as the SDK sends it; it must succeed, and every field it selects must come back.
- ``sdk-98.0.0-types.json``: the fields of each type in Linear's current API (from the SDK's generated
  types). For each type a query of all its recorded fields is sent, and a field counts as present when
  the answer carries it on an object of that ``__typename`` with the JSON type its GraphQL type implies.
  The share present is reported and must be at least 95%.
- ``errors.json``: error answers (low confidence); statuses are reported, the paths that @linear/sdk and
  pmtui read must be present.

And pmtui's side: every field pmtui's Linear integration selects is one the real API has.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    TypeInfo,
    Visitor,
    parse,
    visit,
)
from graphql.utilities import TypeInfoVisitor

from pmtui.integrations import linear_queries
from pmtui.sandbox import linear_schema as schema_module
from pmtui.sandbox.linear import DEFAULT_API_KEY, LinearEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, serving
from tests.contract.linear_selection import every_field_selection

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / ".." / "shared" / "recorded" / "linear"
PUBLISHED = ROOT / ".." / "shared" / "specs" / "linear-schema.graphql"

pytestmark = pytest.mark.skipif(not RECORDED.is_dir(), reason="../shared/recorded/linear absent")


def _recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    return data


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
    emulator = LinearEmulator(clock=Clock(), seed=3, schema_path=request.param)
    emulator.clock.set(NOW, frozen=True)
    emulator.seed({"kind": "demo"})
    with serving(emulator) as running:
        yield emulator, running


def post(
    url: str, query: str, variables: dict[str, Any] | None = None, key: str = DEFAULT_API_KEY
) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    return httpx.post(url, json=body, headers={"Authorization": key}, timeout=30)


# ------------------------------------------------------------------------------------------ observing


def json_type_ok(value: Any, gql_type: Any) -> bool:
    """Whether a JSON value has the shape its GraphQL output type implies."""
    if isinstance(gql_type, GraphQLNonNull):
        return value is not None and json_type_ok(value, gql_type.of_type)
    if value is None:
        return True
    if isinstance(gql_type, GraphQLList):
        return isinstance(value, list) and all(json_type_ok(v, gql_type.of_type) for v in value)
    if isinstance(gql_type, GraphQLEnumType):
        return isinstance(value, str)
    if isinstance(gql_type, GraphQLScalarType):
        if gql_type.name == "Boolean":
            return isinstance(value, bool)
        if gql_type.name == "Int":
            return isinstance(value, int) and not isinstance(value, bool)
        if gql_type.name == "Float":
            return isinstance(value, int | float) and not isinstance(value, bool)
        if gql_type.name == "JSONObject":
            return isinstance(value, dict)
        if gql_type.name == "JSON":
            return True
        return isinstance(value, str)
    return isinstance(value, dict)


class Observed:
    """The (type, field) pairs seen in answers, and those whose JSON type did not fit the schema."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.seen: set[tuple[str, str]] = set()
        self.mistyped: dict[tuple[str, str], Any] = {}

    def walk(self, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                self.walk(item)
            return
        if not isinstance(value, dict):
            return
        typename = value.get("__typename")
        target = self.schema.type_map.get(typename) if isinstance(typename, str) else None
        for key, child in value.items():
            if isinstance(target, GraphQLObjectType) and key != "__typename":
                field = target.fields.get(key)
                if field is not None and json_type_ok(child, field.type):
                    self.seen.add((target.name, key))
                else:
                    self.mistyped[(target.name, key)] = child
            self.walk(child)


def selected_fields(schema: GraphQLSchema, document: str) -> set[tuple[str, str]]:
    """The (parent type, field) pairs a document selects (through fragments too)."""
    info = TypeInfo(schema)
    found: set[tuple[str, str]] = set()

    class Collect(Visitor):
        def enter_field(self, node: Any, *_args: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                found.add((parent.name, node.name.value))

    visit(parse(document), TypeInfoVisitor(info, Collect()))
    return found


def sdk_variables(emu: LinearEmulator) -> dict[str, dict[str, Any]]:
    """What to send with each recorded SDK operation, filled from the demo workspace."""
    hints = emu.config_hints()
    issue = next(i for i in emu.state["issues"].values() if i["identifier"] == "ENG-3")["id"]
    project = next(iter(emu.state["projects"]))
    page = {"first": 2}
    return {
        "issues": page,
        "issue": {"id": issue},
        "teams": page,
        "team": {"id": hints["team_id"]},
        "workflowStates": page,
        "projects": page,
        "project": {"id": project},
        "projectMilestones": page,
        "comments": page,
        "issueLabels": page,
        "users": page,
        "viewer": {},
        "organization": {},
        "rateLimitStatus": {},
        "createIssue": {"input": {"teamId": hints["team_id"], "title": "Sent as @linear/sdk sends it"}},
        "updateIssue": {"id": issue, "input": {"title": "Fix login redirect loop"}},
        "createComment": {"input": {"issueId": issue, "body": "A comment from the SDK's document"}},
        "issue_comments": {"id": issue},
        "issue_labels": {"id": issue},
        "issue_state": {"id": issue},
        "team_states": {"id": hints["team_id"]},
        "searchIssues": {"term": "login", "first": 2},
    }


# Where an object of each recorded type is found, as a query with `{sel}` for the type's selection.
TYPE_QUERIES = {
    "Issue": 'query { issue(id: "ENG-3") { __typename {sel} } }',
    "IssueConnection": "query { issues(first: 2) { __typename {sel} } }",
    "Team": 'query { team(id: "{team}") { __typename {sel} } }',
    "TeamConnection": "query { teams(first: 2) { __typename {sel} } }",
    "Project": "query { projects(first: 2) { nodes { __typename {sel} } } }",
    "ProjectConnection": "query { projects(first: 2) { __typename {sel} } }",
    "WorkflowState": "query { workflowStates(first: 2) { nodes { __typename {sel} } } }",
    "WorkflowStateConnection": "query { workflowStates(first: 2) { __typename {sel} } }",
    "IssueLabel": "query { issueLabels(first: 2) { nodes { __typename {sel} } } }",
    "IssueLabelConnection": "query { issueLabels(first: 2) { __typename {sel} } }",
    "Comment": "query { comments(first: 2) { nodes { __typename {sel} } } }",
    "CommentConnection": "query { comments(first: 2) { __typename {sel} } }",
    "ProjectMilestone": "query { projectMilestones(first: 2) { nodes { __typename {sel} } } }",
    "ProjectMilestoneConnection": "query { projectMilestones(first: 2) { __typename {sel} } }",
    "User": "query { users(first: 2) { nodes { __typename {sel} } } }",
    "UserConnection": "query { users(first: 2) { __typename {sel} } }",
    "Organization": "query { organization { __typename {sel} } }",
    "ProjectStatus": "query { organization { projectStatuses { __typename {sel} } } }",
    "PageInfo": "query { issues(first: 2) { pageInfo { __typename {sel} } } }",
    "RateLimitPayload": "query { rateLimitStatus { __typename {sel} } }",
    "IssuePayload": (
        'mutation { issueCreate(input: {teamId: "{team}", title: "Contract"}) { __typename {sel} } }'
    ),
    "CommentPayload": (
        'mutation { commentCreate(input: {issueId: "ENG-3", body: "Contract"}) { __typename {sel} } }'
    ),
    "IssueArchivePayload": 'mutation { issueArchive(id: "ENG-40") { __typename {sel} } }',
    "ProjectPayload": (
        'mutation { projectCreate(input: {name: "Contract", teamIds: ["{team}"]}) { __typename {sel} } }'
    ),
    "IssueLabelPayload": (
        'mutation { issueLabelCreate(input: {name: "contract", teamId: "{team}"}) { __typename {sel} } }'
    ),
    "TeamMembership": 'query { team(id: "{team}") { memberships(first: 2) { nodes { __typename {sel} } } } }',
    "Cycle": 'query { team(id: "{team}") { cycles(first: 2) { nodes { __typename {sel} } } } }',
}


@pytest.fixture(scope="module")
def observed(served: tuple[LinearEmulator, RunningEmulator]) -> dict[str, Any]:
    """Every SDK document and every recorded type's query, sent once; what came back."""
    emu, running = served
    url = f"{running.url}/graphql"
    seen = Observed(emu.schema)
    failures: dict[str, Any] = {}
    operations = _recorded("sdk-98.0.0-operations.json")["operations"]
    variables = sdk_variables(emu)
    for name, document in operations.items():
        answer = post(url, document, variables[name])
        body = answer.json()
        if answer.status_code != 200 or body.get("errors"):
            failures[f"sdk:{name}"] = (answer.status_code, body.get("errors"))
        seen.walk(body.get("data"))
    types: dict[str, list[str]] = _recorded("sdk-98.0.0-types.json")["types"]
    team = emu.config_hints()["team_id"]
    for type_name, fields in types.items():
        selection, _names = every_field_selection(emu.schema, type_name, only=fields)
        query = TYPE_QUERIES[type_name].replace("{team}", team).replace("{sel}", selection)
        answer = post(url, query)
        body = answer.json()
        if answer.status_code != 200 or body.get("errors"):
            failures[f"type:{type_name}"] = (answer.status_code, body.get("errors"))
        seen.walk(body.get("data"))
    return {"seen": seen, "failures": failures, "operations": operations, "types": types}


# ---------------------------------------------------------------------------------------------- tests


def test_every_document_the_linear_sdk_sends_succeeds(observed: dict[str, Any]) -> None:
    assert observed["failures"] == {}
    assert len(observed["operations"]) >= 20


def test_every_field_the_linear_sdk_reads_comes_back(
    served: tuple[LinearEmulator, RunningEmulator], observed: dict[str, Any]
) -> None:
    emu = served[0]
    seen: Observed = observed["seen"]
    recorded_types = set(observed["types"])
    missing = set()
    for document in observed["operations"].values():
        for type_name, field in selected_fields(emu.schema, document):
            if type_name in recorded_types and (type_name, field) not in seen.seen:
                missing.add(f"{type_name}.{field}")
    assert sorted(missing) == []


def test_at_least_95_percent_of_the_recorded_fields_are_present(
    served: tuple[LinearEmulator, RunningEmulator], observed: dict[str, Any]
) -> None:
    seen: Observed = observed["seen"]
    types: dict[str, list[str]] = observed["types"]
    total = sum(len(fields) for fields in types.values())
    absent = [f"{t}.{f}" for t, fields in types.items() for f in fields if (t, f) not in seen.seen]
    mistyped = sorted(f"{t}.{f}" for (t, f) in seen.mistyped if f in types.get(t, ()))
    share = (total - len(absent)) / total
    print(
        f"\nLinear recorded fields present on {served[0].schema_file.name}: {total - len(absent)}/{total} "
        f"= {share:.1%}; absent: {absent}; mistyped: {mistyped}"
    )
    assert share >= 0.95, absent
    assert mistyped == []


def test_every_field_pmtui_reads_is_one_linear_sends(
    served: tuple[LinearEmulator, RunningEmulator], observed: dict[str, Any]
) -> None:
    emu = served[0]
    types: dict[str, list[str]] = observed["types"]
    seen: Observed = observed["seen"]
    reads: set[tuple[str, str]] = set()
    for document in linear_queries.DOCUMENTS.values():
        reads |= selected_fields(emu.schema, document)
    checked = {(t, f) for (t, f) in reads if t in types}
    assert len(checked) >= 40
    not_real = sorted(f"{t}.{f}" for (t, f) in checked if f not in types[t])
    assert not_real == [], "pmtui reads fields the real Linear API does not send"
    not_served = sorted(f"{t}.{f}" for (t, f) in checked if (t, f) not in seen.seen)
    assert not_served == [], "the emulator lacks fields pmtui reads"


# ------------------------------------------------------------------------------------------------ errors


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """``errors[].extensions.code``-style paths of a JSON value."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= key_paths(child, path)
    elif isinstance(value, list):
        for child in value:
            paths |= key_paths(child, f"{prefix}[]")
    return paths


def test_error_answers_carry_what_clients_read(served: tuple[LinearEmulator, RunningEmulator]) -> None:
    emu, running = served
    url = f"{running.url}/graphql"
    recorded = _recorded("errors.json")
    reads = set(recorded["client_reads"]) | set(recorded["pmtui_reads"])
    report = {}
    for name, case in recorded["cases"].items():
        request = case["request"]
        fault = request.get("fault")
        if fault:
            emu.add_fault(
                Fault(kind=fault["kind"], value=fault["value"], count=fault["count"], path="/graphql")
            )
        key = "lin_api_refusedrefusedrefused" if request.get("auth") == "bad" else DEFAULT_API_KEY
        answer = post(url, request["query"], key=key)
        got = key_paths(answer.json())
        real = set().union(*(key_paths(sample) for sample in case["samples"]))
        lacking = sorted(path for path in real & reads if path not in got)
        assert lacking == [], f"{name}: the emulator's answer lacks {lacking}"
        for header in case.get("headers", {}).get("present", []):
            assert header in answer.headers, f"{name}: no {header} header"
        report[name] = (case["status"], answer.status_code, sorted(real - got))
    print(f"\nLinear error answers (recorded status, emulator status, recorded paths absent): {report}")
    assert report["auth"][1] == 401 == report["auth"][0]
