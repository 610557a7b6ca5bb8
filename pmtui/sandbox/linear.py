"""A local emulator of Linear's GraphQL API (``POST /graphql``), validated against a Linear schema.

Every document is validated with graphql-core against the schema the emulator runs on (pmtui's own SDL of
what it emulates, or Linear's published schema when given one: :mod:`pmtui.sandbox.linear_schema`) and
executed with dict-backed resolvers. Any valid query succeeds: a field the emulator holds data for
returns it, and any other field gets the empty answer its schema type implies (null, [], an empty page,
a typed neutral value; :mod:`pmtui.sandbox.linear_defaults`), as the real API answers for an object with
nothing there. A mutation the emulator does not implement fails loudly, naming it.

Facts (endpoint, auth, errors, rate-limit headers, pagination) come from ``API_NOTES.md`` §1; the choices
made where Linear's behaviour is unverified are marked UNVERIFIED next to the code.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import random
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, get_named_type
from graphql.execution import execute_sync

from pmtui.sandbox.linear_data import (
    PRIORITY_LABELS,
    TYPE_DEFAULTS,
    seed_bulk,
    seed_demo,
    slugify,
)
from pmtui.sandbox.linear_defaults import default_value, is_connection, stable_id
from pmtui.sandbox.linear_filters import (
    FIELDS as FILTERABLE,
)
from pmtui.sandbox.linear_filters import (
    FilterUnsupportedError,
    FilterValueError,
    Predicate,
    compile_filter,
)
from pmtui.sandbox.linear_schema import (
    DEFAULT_PAGE_SIZE,
    estimate_complexity,
    is_mutation,
    linear_schema,
    prepare,
    root_fields,
)
from pmtui.sandbox.linear_schema import (
    schema_path as linear_schema_path,
)
from pmtui.sandbox.linear_workspace import (
    LinearWorkspace,
    api_error,
    invalid_input,
    not_found,
    unsupported,
)
from pmtui.sandbox.server import (
    Clock,
    HttpError,
    Request,
    Response,
    Route,
    iso_z,
)

log = logging.getLogger("pmtui.sandbox.linear")

DEFAULT_API_KEY = "lin_api_pmtuiSandboxKey0000000000000000000000000"
"""A fake personal API key in Linear's format (sent as ``Authorization: <key>``, no ``Bearer``)."""

DEFAULT_OAUTH_TOKEN = "lin_oauth_" + "0" * 56 + "5a4db0c5"
"""A fake OAuth access token (sent as ``Authorization: Bearer <token>``)."""

MAX_PAGE_SIZE = 250
"""Largest ``first``/``last`` a connection accepts (UNVERIFIED third-party figure, API_NOTES §1.5)."""

APP_URL = "https://linear.app"


@dataclass(frozen=True)
class LinearRateLimits:
    """Linear's budgets per API key; leaky buckets refilling at ``amount / period``.

    Defaults follow API_NOTES §1.6: 5,000 requests and 3,000,000 complexity points per hour (the
    figures seen in live headers), and at most 10,000 points for a single query. The single-query cap is
    enforced even with rate limiting off, because the real API rejects such a query whatever the budget.
    """

    requests: int = 5_000
    complexity: int = 3_000_000
    period_seconds: float = 3600.0
    max_query_complexity: int = 10_000


class LeakyBucket:
    """A token bucket on the emulator's clock: full at ``capacity``, refilling ``capacity`` per period."""

    def __init__(self, capacity: float, period: float, clock: Clock) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self._clock = clock
        self._level = capacity
        self._stamp = clock.time()

    def refill(self) -> float:
        """Bring the level up to now and return it."""
        now = self._clock.time()
        self._level = min(self.capacity, self._level + max(now - self._stamp, 0.0) * self.rate)
        self._stamp = now
        return self._level

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` tokens are available (0 if they are now)."""
        return max(cost - self.refill(), 0.0) / self.rate

    def spend(self, cost: float) -> None:
        self._level = self.refill() - cost

    def reset_ms(self) -> int:
        """Epoch milliseconds at which the bucket is full again (Linear sends resets in ms today)."""
        level = self.refill()
        return int((self._clock.time() + (self.capacity - level) / self.rate) * 1000)


def _on_milestone(milestone_id: str) -> Predicate:
    return lambda issue: issue["projectMilestoneId"] == milestone_id


_TYPE_ALIASES = {"IssueSearchResult": "Issue"}
"""Types whose objects are another type's records (a search result is an issue plus ``metadata``)."""

_ROOT = object()
"""The root value; the resolver dispatches Query/Mutation fields when it sees it."""

Resolver = Callable[[dict[str, Any], dict[str, Any]], Any]

_ISSUE_VIEW = """id identifier number title description priority priorityLabel estimate dueDate url branchName
sortOrder labelIds trashed createdAt updatedAt archivedAt completedAt canceledAt startedAt
state { id name type } team { id key } project { id name } projectMilestone { id name }
assignee { id name } creator { id name } parent { id identifier }"""
_PROJECT_VIEW = """id name description content slugId url priority startDate targetDate createdAt updatedAt
archivedAt completedAt canceledAt startedAt status { id name type } lead { id name }
teams { nodes { id key } }"""
_COMMENT_VIEW = (
    "id body url issueId createdAt updatedAt editedAt archivedAt user { id name } issue { id identifier }"
)


class LinearEmulator(LinearWorkspace):
    """Linear's GraphQL API over dict state: queries, mutations, filters, pagination and rate limits."""

    name = "linear"

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        api_key: str = DEFAULT_API_KEY,
        oauth_token: str = DEFAULT_OAUTH_TOKEN,
        rate_limit: LinearRateLimits | None = None,
        schema_path: Path | str | None = None,
    ) -> None:
        super().__init__(clock=clock, seed=seed)
        self.seed_value = seed
        self.api_key = api_key
        self.oauth_token = oauth_token
        self._bucket_lock = threading.RLock()
        self.configure_rate_limits(rate_limit or LinearRateLimits())
        self.schema_file: Path = linear_schema_path(schema_path)
        self.schema: GraphQLSchema = linear_schema(self.schema_file)
        self._queries: dict[str, Callable[[dict[str, Any]], Any]] = {
            "issue": lambda a: self._issue(a["id"]),
            "issues": lambda a: self._issue_connection(a),
            "team": lambda a: self._get("teams", a["id"], "Team"),
            "teams": lambda a: self._connection("Team", self.state["teams"].values(), a),
            "project": lambda a: self._project(a["id"]),
            "projects": self._projects,
            "projectMilestone": lambda a: self._get("projectMilestones", a["id"], "ProjectMilestone"),
            "projectMilestones": lambda a: self._connection(
                "ProjectMilestone", self.state["projectMilestones"].values(), a
            ),
            "workflowState": lambda a: self._get("workflowStates", a["id"], "WorkflowState"),
            "workflowStates": lambda a: self._connection(
                "WorkflowState", self.state["workflowStates"].values(), a
            ),
            "issueLabel": lambda a: self._get("issueLabels", a["id"], "IssueLabel"),
            "issueLabels": lambda a: self._connection("IssueLabel", self.state["issueLabels"].values(), a),
            "comment": self._comment_query,
            "comments": lambda a: self._connection("Comment", self.state["comments"].values(), a),
            "user": lambda a: self._get("users", a["id"], "User"),
            "users": lambda a: self._connection("User", self.state["users"].values(), a),
            "viewer": lambda a: self._viewer(),
            "organization": lambda a: self._organization(),
            "rateLimitStatus": lambda a: self._rate_limit_status(),
            "projectStatuses": lambda a: self._connection(
                "ProjectStatus", self.state["projectStatuses"].values(), a
            ),
            "searchIssues": self._search_issues,
            "cycle": self._cycle_query,
            "cycles": lambda a: self._connection("Cycle", self._cycles(), a),
        }
        self._mutations: dict[str, Callable[[dict[str, Any]], Any]] = {
            "issueCreate": lambda a: self._issue_payload(
                self._issue_create(a["input"], self._viewer()["id"])
            ),
            "issueUpdate": lambda a: self._issue_payload(self._issue_update(a["id"], a["input"])),
            "issueArchive": lambda a: self._archive_payload(self._issue_archive(a["id"], a.get("trash"))),
            "issueUnarchive": lambda a: self._archive_payload(self._issue_unarchive(a["id"])),
            "issueDelete": lambda a: self._archive_payload(
                self._issue_delete(a["id"], bool(a.get("permanentlyDelete")))
            ),
            "issueAddLabel": lambda a: self._issue_payload(self._issue_labels(a["id"], add=[a["labelId"]])),
            "issueRemoveLabel": lambda a: self._issue_payload(
                self._issue_labels(a["id"], remove=[a["labelId"]])
            ),
            "projectCreate": lambda a: self._project_payload(self._project_create(a["input"])),
            "projectUpdate": lambda a: self._project_payload(self._project_update(a["id"], a["input"])),
            "projectDelete": lambda a: self._archive_payload(self._project_delete(a["id"])),
            "projectMilestoneCreate": lambda a: self._payload(
                "projectMilestone", self._milestone_create(a["input"])
            ),
            "projectMilestoneUpdate": lambda a: self._payload(
                "projectMilestone", self._milestone_update(a["id"], a["input"])
            ),
            "projectMilestoneDelete": lambda a: self._delete_payload(self._milestone_delete(a["id"])),
            "commentCreate": lambda a: self._payload("comment", self._comment_create(a["input"])),
            "commentUpdate": lambda a: self._payload(
                "comment", self._comment_update(a["id"], a["input"], bool(a.get("skipEditedAt")))
            ),
            "commentDelete": lambda a: self._delete_payload(self._comment_delete(a["id"])),
            "issueLabelCreate": lambda a: self._payload("issueLabel", self._label_create(a["input"])),
        }
        self._fields: dict[tuple[str, str], Resolver] = self._field_resolvers()
        self.route("POST", "/graphql", self._graphql)

    def configure_rate_limits(self, limits: LinearRateLimits) -> None:
        """Set the budgets and start with full buckets (enforced once ``rate_limits_enabled``)."""
        with self._bucket_lock:
            self.limits = limits
            self.request_bucket = LeakyBucket(limits.requests, limits.period_seconds, self.clock)
            self.complexity_bucket = LeakyBucket(limits.complexity, limits.period_seconds, self.clock)

    # ------------------------------------------------------------------------------------- state & caches

    # ------------------------------------------------------------------------------------------ HTTP

    def authenticate(self, request: Request) -> None:
        header = (request.header("authorization") or "").strip()
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            if token == self.oauth_token:
                return
            if token == self.api_key:
                # Personal keys go without "Bearer" (developers/graphql); message text UNVERIFIED.
                raise self._auth_error(
                    "It looks like you're trying to use an API key as a Bearer token. "
                    "Remove the Bearer prefix from the Authorization header."
                )
        elif header and header == self.api_key:
            return
        raise self._auth_error("Authentication required, not authenticated")

    @staticmethod
    def _auth_error(message: str) -> HttpError:
        """Linear's answer to a missing or refused key: HTTP 401 with an ``AUTHENTICATION_ERROR`` body.

        Status and body as recorded from api.linear.app with an invalid key (``shared/recorded/linear/
        errors.json``, case ``auth``; low confidence, third-party capture): @linear/sdk maps it by
        ``extensions.type``, and by the status (401 is an authentication error) when the body is unreadable.
        """
        return HttpError(
            401,
            {
                "errors": [
                    {
                        "message": message,
                        "extensions": {
                            "type": "authentication error",
                            "code": "AUTHENTICATION_ERROR",
                            "statusCode": 401,
                            "userError": True,
                            "userPresentableMessage": "You need to authenticate to access this operation.",
                        },
                    }
                ]
            },
        )

    def error_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        """Every error leaves as ``{"errors": [{message, extensions}]}``, as GraphQL clients expect."""
        if isinstance(body, dict) and "errors" in body:
            return Response(status, body, headers)
        if status in (502, 503, 504):
            # Gateway failures come from the proxy in front of the API, not from GraphQL: plain text.
            text = f"{status} {HTTPStatus(status).phrase}".encode()
            return Response(status, None, headers, raw=text, content_type="text/plain; charset=utf-8")
        message = body.get("message", "error") if isinstance(body, dict) else str(body)
        if status >= 500:
            kind, code = "internal error", "INTERNAL_SERVER_ERROR"
        elif status == 404:
            kind, code = "other", "NOT_FOUND"
        else:
            kind, code = "invalid input", "BAD_REQUEST"
        extensions = {"type": kind, "code": code, "statusCode": status, "userError": status < 500}
        return Response(status, {"errors": [{"message": message, "extensions": extensions}]}, headers)

    def is_write(self, request: Request, route: Route) -> bool:
        """Only mutations write; the operation is read from the body (``operationName`` picks one)."""
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return False
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return False
        return is_mutation(prepare(body["query"], self.schema), body.get("operationName"))

    def _complexity_of(self, request: Request) -> int:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return 0
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return 0
        prepared = prepare(body["query"], self.schema)
        if prepared.errors:
            return 0
        variables = body.get("variables") if isinstance(body.get("variables"), dict) else None
        return estimate_complexity(prepared, body.get("operationName"), variables, self.schema)

    def rate_limit(self, request: Request) -> Response | None:
        """Charge one request and the query's complexity to the leaky buckets (when enabled)."""
        cost = self._complexity_of(request)
        if cost > self.limits.max_query_complexity:
            cost = 0  # rejected by the handler as too complex; only the request is charged
        with self._bucket_lock:
            wait = max(self.request_bucket.wait_for(1), self.complexity_bucket.wait_for(cost))
            if wait > 0:
                return self._throttled(wait, cost)
            self.request_bucket.spend(1)
            self.complexity_bucket.spend(cost)
        return None

    def throttled_response(self, retry_after: float) -> Response:
        return self._throttled(retry_after, 0)

    def _throttled(self, retry_after: float, cost: int) -> Response:
        headers = self._rate_headers(cost)
        headers["Retry-After"] = str(max(math.ceil(retry_after), 1))
        body = {
            "errors": [
                {
                    "message": "Rate limit exceeded",
                    "extensions": {
                        "code": "RATELIMITED",
                        "type": "ratelimited",
                        "statusCode": 429,
                        "userError": True,
                        "userPresentableMessage": "You have exceeded the rate limit. Please try again later.",
                    },
                }
            ]
        }
        # Linear answers HTTP 400 with statusCode 429 in the body (API_NOTES §1.6, third-party report).
        return Response(400, body, headers)

    def _rate_headers(self, cost: int) -> dict[str, str]:
        with self._bucket_lock:
            req, cx = self.request_bucket, self.complexity_bucket
            return {
                "X-RateLimit-Requests-Limit": str(int(req.capacity)),
                "X-RateLimit-Requests-Remaining": str(max(int(req.refill()), 0)),
                "X-RateLimit-Requests-Reset": str(req.reset_ms()),
                "X-RateLimit-Complexity-Limit": str(int(cx.capacity)),
                "X-RateLimit-Complexity-Remaining": str(max(int(cx.refill()), 0)),
                "X-RateLimit-Complexity-Reset": str(cx.reset_ms()),
                "X-Complexity": str(cost),
            }

    def _graphql(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, {"message": "POST body must be a JSON object"})
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise HttpError(
                400,
                {
                    "message": "GraphQL operations must contain a non-empty `query` "
                    "or a `persistedQuery` extension."
                },
            )
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            raise HttpError(400, {"message": "`variables` must be an object"})
        op_name = body.get("operationName")
        prepared = prepare(query, self.schema)
        if prepared.errors:
            code = "GRAPHQL_PARSE_FAILED" if prepared.syntax_error else "GRAPHQL_VALIDATION_FAILED"
            errors = [self._format_error(e, code=code, kind="graphql error") for e in prepared.errors]
            return Response(400, {"errors": errors}, self._rate_headers(0))
        for field_name in root_fields(prepared, op_name, variables):
            self.count(f"graphql:{field_name}")
        cost = estimate_complexity(prepared, op_name, variables, self.schema)
        headers = self._rate_headers(cost)
        if cost > self.limits.max_query_complexity:
            # UNVERIFIED wording; Linear refuses such a query before running it.
            error = api_error(
                "Query too complex",
                user_message=(
                    f"Query complexity {cost} exceeds the maximum of {self.limits.max_query_complexity} "
                    "points; request fewer items per page or fewer nested connections."
                ),
                status=400,
            )
            return Response(400, {"errors": [self._format_error(error)]}, headers)
        assert prepared.document is not None
        with self.lock:
            result = execute_sync(
                self.schema,
                prepared.document,
                root_value=_ROOT,
                variable_values=variables,
                operation_name=op_name,
                field_resolver=self._resolve,
            )
        errors = [self._format_error(e) for e in result.errors or []]
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # Variable coercion or operation selection failed: nothing ran (Apollo's BAD_USER_INPUT, 400).
            errors = [
                self._format_error(e, code="BAD_USER_INPUT", kind="graphql error") for e in result.errors
            ]
            return Response(400, {"errors": errors}, headers)
        payload: dict[str, Any] = {"data": result.data}
        if errors:
            payload["errors"] = errors
        return Response(200, payload, headers)

    @staticmethod
    def _format_error(
        error: GraphQLError, *, code: str = "INTERNAL_SERVER_ERROR", kind: str = "internal error"
    ) -> dict[str, Any]:
        formatted: dict[str, Any] = dict(error.formatted)
        if not error.extensions:
            if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
                log.error("linear sandbox resolver crashed", exc_info=error.original_error)
            formatted["extensions"] = {
                "type": kind,
                "code": code,
                "userError": kind != "internal error",
                "userPresentableMessage": error.message,
            }
        return formatted

    # ------------------------------------------------------------------------------------- resolution

    def _resolve(self, source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        """The default field resolver: root dispatch, computed fields, the record's own keys, the type's
        known constants, and last the schema-driven empty answer (:mod:`pmtui.sandbox.linear_defaults`).

        Only a mutation the emulator does not implement fails (naming it): a write that silently did
        nothing would let a client bug pass.
        """
        parent, name = info.parent_type.name, info.field_name
        if source is _ROOT:
            table = self._mutations if parent == "Mutation" else self._queries
            root = table.get(name)
            if root is not None:
                return root(args)
            if parent == "Mutation":
                raise unsupported(f"{parent}.{name} is not implemented by the Linear emulator")
            return self._root_default(info, args)
        kind = _TYPE_ALIASES.get(parent, parent)
        computed = self._fields.get((kind, name))
        if computed is not None:
            return computed(source, args)
        if isinstance(source, dict):
            if name in source:
                return source[name]
            defaults = TYPE_DEFAULTS.get(kind)
            if defaults is not None and name in defaults:
                return defaults[name]
        return default_value(self.schema, info.return_type, source, parent, name)

    def _root_default(self, info: GraphQLResolveInfo[Any], args: dict[str, Any]) -> Any:
        """A root query the emulator holds no data for: a lookup by id finds nothing (Linear's "Entity not
        found"), anything else is empty (an empty page, null, or the type's empty object)."""
        named = get_named_type(info.return_type)
        if "id" in args and isinstance(named, GraphQLObjectType) and not is_connection(named):
            raise not_found(named.name)
        return default_value(self.schema, info.return_type, None, info.parent_type.name, info.field_name)

    def _field_resolvers(self) -> dict[tuple[str, str], Resolver]:
        def st() -> dict[str, Any]:  # the state dict is replaced on reset/restore: look it up late
            return self.state

        def ref(collection: str, key: str) -> Resolver:
            return lambda obj, _a: st()[collection].get(obj.get(key) or "")

        def issues_where(test: Callable[[dict[str, Any], dict[str, Any]], bool]) -> Resolver:
            return lambda obj, a: self._issue_connection(a, extra=lambda issue: test(obj, issue))

        empty = lambda _obj, _a: self._page([], [], lambda _o: True, {}, "createdAt")  # noqa: E731
        return {
            ("Issue", "team"): ref("teams", "teamId"),
            ("Issue", "state"): ref("workflowStates", "stateId"),
            ("Issue", "project"): ref("projects", "projectId"),
            ("Issue", "projectMilestone"): ref("projectMilestones", "projectMilestoneId"),
            ("Issue", "assignee"): ref("users", "assigneeId"),
            ("Issue", "creator"): ref("users", "creatorId"),
            ("Issue", "parent"): ref("issues", "parentId"),
            ("Issue", "priorityLabel"): lambda o, _a: PRIORITY_LABELS.get(int(o["priority"]), "No priority"),
            ("Issue", "url"): lambda o, _a: self._issue_url(o),
            ("Issue", "branchName"): lambda o, _a: self._branch_name(o),
            ("Issue", "labels"): lambda o, a: self._connection(
                "IssueLabel", [st()["issueLabels"][i] for i in o["labelIds"] if i in st()["issueLabels"]], a
            ),
            ("Issue", "comments"): lambda o, a: self._connection(
                "Comment", self._comments_by_issue().get(o["id"], []), a
            ),
            ("Issue", "children"): lambda o, a: self._connection(
                "Issue", self._children_by_parent().get(o["id"], []), a
            ),
            ("Issue", "attachments"): empty,
            ("Issue", "relations"): empty,
            ("Issue", "inverseRelations"): empty,
            ("Team", "states"): lambda o, a: self._connection(
                "WorkflowState", [s for s in st()["workflowStates"].values() if s["teamId"] == o["id"]], a
            ),
            ("Team", "labels"): lambda o, a: self._connection(
                "IssueLabel", [x for x in st()["issueLabels"].values() if x["teamId"] == o["id"]], a
            ),
            ("Team", "members"): lambda o, a: self._connection(
                "User", [st()["users"][u] for u in o["memberIds"] if u in st()["users"]], a
            ),
            ("Team", "issues"): issues_where(lambda team, issue: issue["teamId"] == team["id"]),
            ("Team", "projects"): lambda o, a: self._projects(a, team_id=o["id"]),
            ("Team", "defaultIssueState"): ref("workflowStates", "defaultIssueStateId"),
            ("Team", "triageIssueState"): ref("workflowStates", "triageIssueStateId"),
            ("Team", "organization"): lambda _o, _a: self._organization(),
            ("Team", "issueCount"): lambda o, a: sum(
                1
                for i in st()["issues"].values()
                if i["teamId"] == o["id"] and (a.get("includeArchived") or i["archivedAt"] is None)
            ),
            ("Team", "memberships"): lambda o, a: self._connection(
                "TeamMembership", self._memberships(team_id=o["id"]), a
            ),
            ("Team", "membership"): lambda o, a: next(
                iter(self._memberships(o["id"], a.get("userId"))), None
            ),
            ("Team", "viewerMembership"): lambda o, _a: next(
                iter(self._memberships(o["id"], st()["viewerId"])), None
            ),
            ("Team", "viewerCanJoin"): lambda o, _a: st()["viewerId"] not in o["memberIds"],
            ("Team", "viewerCanLeave"): lambda o, _a: st()["viewerId"] in o["memberIds"],
            ("User", "teamMemberships"): lambda o, a: self._connection(
                "TeamMembership", self._memberships(user_id=o["id"]), a
            ),
            ("TeamMembership", "team"): ref("teams", "teamId"),
            ("TeamMembership", "user"): ref("users", "userId"),
            ("Team", "cycles"): lambda o, a: self._connection(
                "Cycle", [c for c in self._cycles() if c["teamId"] == o["id"]], a
            ),
            ("Team", "activeCycle"): lambda o, _a: next(
                (c for c in self._cycles() if c["teamId"] == o["id"] and self._cycle_phase(c) == 0), None
            ),
            ("Cycle", "team"): ref("teams", "teamId"),
            ("Cycle", "isActive"): lambda o, _a: self._cycle_phase(o) == 0,
            ("Cycle", "isPast"): lambda o, _a: self._cycle_phase(o) < 0,
            ("Cycle", "isFuture"): lambda o, _a: self._cycle_phase(o) > 0,
            ("Cycle", "completedAt"): lambda o, _a: o["endsAt"] if self._cycle_phase(o) < 0 else None,
            ("WorkflowState", "team"): ref("teams", "teamId"),
            ("WorkflowState", "issues"): issues_where(lambda s, issue: issue["stateId"] == s["id"]),
            ("IssueLabel", "team"): ref("teams", "teamId"),
            ("IssueLabel", "parent"): ref("issueLabels", "parentId"),
            ("IssueLabel", "creator"): ref("users", "creatorId"),
            ("IssueLabel", "children"): lambda o, a: self._connection(
                "IssueLabel", [x for x in st()["issueLabels"].values() if x["parentId"] == o["id"]], a
            ),
            ("IssueLabel", "issues"): issues_where(lambda label, issue: label["id"] in issue["labelIds"]),
            ("Project", "status"): ref("projectStatuses", "statusId"),
            ("Project", "state"): lambda o, _a: st()["projectStatuses"][o["statusId"]]["type"],
            ("Project", "lead"): ref("users", "leadId"),
            ("Project", "creator"): ref("users", "creatorId"),
            ("Project", "teams"): lambda o, a: self._connection(
                "Team", [st()["teams"][t] for t in o["teamIds"] if t in st()["teams"]], a
            ),
            ("Project", "members"): lambda o, a: self._connection(
                "User", [st()["users"][u] for u in o["memberIds"] if u in st()["users"]], a
            ),
            ("Project", "issues"): issues_where(lambda p, issue: issue["projectId"] == p["id"]),
            ("Project", "projectMilestones"): lambda o, a: self._connection(
                "ProjectMilestone",
                [m for m in st()["projectMilestones"].values() if m["projectId"] == o["id"]],
                a,
            ),
            ("Project", "url"): lambda o, _a: (
                f"{APP_URL}/{self._url_key()}/project/{slugify(o['name'])}-{o['slugId']}"
            ),
            ("Project", "priorityLabel"): lambda o, _a: PRIORITY_LABELS.get(
                int(o["priority"]), "No priority"
            ),
            ("Project", "progress"): lambda o, _a: self._progress(lambda i: i["projectId"] == o["id"]),
            ("Project", "scope"): lambda o, _a: float(
                sum(i.get("estimate") or 0 for i in self._live_issues() if i["projectId"] == o["id"])
            ),
            ("ProjectMilestone", "project"): ref("projects", "projectId"),
            ("ProjectMilestone", "issues"): issues_where(lambda m, i: i["projectMilestoneId"] == m["id"]),
            ("ProjectMilestone", "progress"): lambda o, _a: self._progress(_on_milestone(o["id"])),
            ("ProjectMilestone", "status"): lambda o, _a: self._milestone_status(o),
            ("Comment", "issue"): ref("issues", "issueId"),
            ("Comment", "user"): ref("users", "userId"),
            ("Comment", "parent"): ref("comments", "parentId"),
            ("Comment", "project"): ref("projects", "projectId"),
            ("Comment", "url"): lambda o, _a: self._comment_url(o),
            ("Comment", "children"): lambda o, a: self._connection(
                "Comment", [c for c in st()["comments"].values() if c["parentId"] == o["id"]], a
            ),
            ("User", "isMe"): lambda o, _a: o["id"] == st()["viewerId"],
            ("User", "url"): lambda o, _a: f"{APP_URL}/{self._url_key()}/profiles/{o['displayName']}",
            ("User", "organization"): lambda _o, _a: self._organization(),
            ("User", "assignedIssues"): issues_where(lambda u, issue: issue["assigneeId"] == u["id"]),
            ("User", "createdIssues"): issues_where(lambda u, issue: issue["creatorId"] == u["id"]),
            ("User", "createdIssueCount"): lambda o, _a: sum(
                1 for i in st()["issues"].values() if i["creatorId"] == o["id"]
            ),
            ("User", "teams"): lambda o, a: self._connection(
                "Team", [t for t in st()["teams"].values() if o["id"] in t["memberIds"]], a
            ),
            ("Organization", "teams"): lambda _o, a: self._connection("Team", st()["teams"].values(), a),
            ("Organization", "users"): lambda _o, a: self._connection("User", st()["users"].values(), a),
            ("Organization", "labels"): lambda _o, a: self._connection(
                "IssueLabel", [x for x in st()["issueLabels"].values() if x["teamId"] is None], a
            ),
            ("Organization", "projectStatuses"): lambda _o, _a: list(st()["projectStatuses"].values()),
            ("Organization", "userCount"): lambda _o, _a: len(st()["users"]),
            ("Organization", "createdIssueCount"): lambda _o, _a: len(st()["issues"]),
        }

    # ---------------------------------------------------------------------------------------- derived

    def _url_key(self) -> str:
        org = self.state["organization"]
        return str(org["urlKey"]) if org else "acme"

    def _issue_url(self, issue: dict[str, Any]) -> str:
        return f"{APP_URL}/{self._url_key()}/issue/{issue['identifier']}/{slugify(issue['title'])}"

    def _branch_name(self, issue: dict[str, Any]) -> str:
        # Linear's default git branch format is "<username>/<identifier>-<title slug>" (of the viewer).
        viewer = self.state["users"].get(self.state["viewerId"] or "")
        handle = viewer["displayName"] if viewer else "user"
        return f"{handle}/{issue['identifier'].lower()}-{slugify(issue['title'], 40)}"

    def _comment_url(self, comment: dict[str, Any]) -> str:
        issue = self.state["issues"].get(comment["issueId"] or "")
        base = self._issue_url(issue) if issue else f"{APP_URL}/{self._url_key()}"
        return f"{base}#comment-{comment['id'][:8]}"

    def _cycles(self) -> list[dict[str, Any]]:
        cycles: dict[str, dict[str, Any]] = self.state.get("cycles") or {}  # states saved before cycles
        return list(cycles.values())

    def _cycle_query(self, args: dict[str, Any]) -> dict[str, Any]:
        found = next((c for c in self._cycles() if c["id"] == args["id"]), None)
        if found is None:
            raise not_found("Cycle")
        return found

    def _cycle_phase(self, cycle: dict[str, Any]) -> int:
        """-1 for a past cycle, 0 for the current one, 1 for a future one (on the emulator's clock)."""
        now = iso_z(self.now())
        if now < cycle["startsAt"]:
            return 1
        return 0 if now < cycle["endsAt"] else -1

    def _memberships(self, team_id: str | None = None, user_id: str | None = None) -> list[dict[str, Any]]:
        """Team memberships, derived from each team's members (ids stable: team and user decide them)."""
        found = []
        for team in self.state["teams"].values():
            if team_id is not None and team["id"] != team_id:
                continue
            for position, member in enumerate(team["memberIds"]):
                if user_id is not None and member != user_id:
                    continue
                found.append(
                    {
                        "id": stable_id(f"TeamMembership:{team['id']}:{member}"),
                        "teamId": team["id"],
                        "userId": member,
                        "owner": False,
                        "sortOrder": float(position),
                        "createdAt": team["createdAt"],
                        "updatedAt": team["createdAt"],
                        "archivedAt": None,
                    }
                )
        return found

    def _live_issues(self) -> Iterable[dict[str, Any]]:
        return (i for i in self.state["issues"].values() if i["archivedAt"] is None)

    def _progress(self, member: Predicate) -> float:
        """Share of completed issues among the non-canceled ones (Linear weighs by estimate; simplified)."""
        states = self.state["workflowStates"]
        done = total = 0
        for issue in self._live_issues():
            if not member(issue):
                continue
            kind = states[issue["stateId"]]["type"]
            if kind in ("canceled", "duplicate"):
                continue
            total += 1
            done += kind == "completed"
        return done / total if total else 0.0

    def _milestone_status(self, milestone: dict[str, Any]) -> str:
        if self._progress(_on_milestone(milestone["id"])) >= 1.0:
            return "done"
        today = self.now().date().isoformat()
        if milestone["targetDate"] and milestone["targetDate"] < today:
            return "overdue"
        siblings = sorted(
            (
                m
                for m in self.state["projectMilestones"].values()
                if m["projectId"] == milestone["projectId"] and m["archivedAt"] is None
            ),
            key=lambda m: (m["sortOrder"], m["createdAt"]),
        )
        for sibling in siblings:
            if self._progress(_on_milestone(sibling["id"])) < 1.0:
                return "next" if sibling["id"] == milestone["id"] else "unstarted"
        return "unstarted"

    def _children_by_parent(self) -> dict[str, list[dict[str, Any]]]:
        def build() -> dict[str, list[dict[str, Any]]]:
            index: dict[str, list[dict[str, Any]]] = {}
            for issue in self.state["issues"].values():
                if issue["parentId"]:
                    index.setdefault(issue["parentId"], []).append(issue)
            return index

        result: dict[str, list[dict[str, Any]]] = self._cached("children", build)
        return result

    def _comments_by_issue(self) -> dict[str, list[dict[str, Any]]]:
        def build() -> dict[str, list[dict[str, Any]]]:
            index: dict[str, list[dict[str, Any]]] = {}
            for comment in self.state["comments"].values():
                if comment["issueId"]:
                    index.setdefault(comment["issueId"], []).append(comment)
            return index

        result: dict[str, list[dict[str, Any]]] = self._cached("comments", build)
        return result

    # ------------------------------------------------------------------------------------ pagination

    def _ordered_issues(self, order: str) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """All issues sorted by (order key, id), sorted once per state version."""

        def build() -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
            items = sorted(self.state["issues"].values(), key=lambda i: (i[order], i["id"]))
            return items, [(i[order], i["id"]) for i in items]

        result: tuple[list[dict[str, Any]], list[tuple[str, str]]] = self._cached(f"issues:{order}", build)
        return result

    def _issue_connection(self, args: dict[str, Any], extra: Predicate | None = None) -> dict[str, Any]:
        order = self._order(args)
        items, keys = self._ordered_issues(order)
        return self._page(items, keys, self._predicate("Issue", args, extra), args, order)

    def _connection(
        self, kind: str, items: Iterable[dict[str, Any]], args: dict[str, Any], extra: Predicate | None = None
    ) -> dict[str, Any]:
        order = self._order(args)
        ordered = sorted(items, key=lambda obj: (obj[order], obj["id"]))
        keys = [(obj[order], obj["id"]) for obj in ordered]
        return self._page(ordered, keys, self._predicate(kind, args, extra), args, order)

    @staticmethod
    def _order(args: dict[str, Any]) -> str:
        if args.get("sort"):
            raise unsupported("the `sort` argument is not supported; use orderBy")
        # Direction UNVERIFIED (API_NOTES §1.5): ascending by (key, id), which keeps cursors stable.
        order = args.get("orderBy") or "createdAt"
        return str(order)

    def _predicate(self, kind: str, args: dict[str, Any], extra: Predicate | None) -> Predicate:
        checks: list[Predicate] = []
        if not args.get("includeArchived"):
            checks.append(lambda obj: obj.get("archivedAt") is None)
        if extra is not None:
            checks.append(extra)
        if args.get("filter"):
            if kind not in FILTERABLE:
                raise unsupported(f"filters on {kind} are not supported")
            try:
                checks.append(compile_filter(kind, args["filter"], self.state, self.now()))
            except FilterUnsupportedError as exc:
                raise unsupported(str(exc).removeprefix("sandbox: ")) from exc
            except FilterValueError as exc:
                raise invalid_input(str(exc)) from exc
        return lambda obj: all(check(obj) for check in checks)

    @staticmethod
    def _encode_cursor(order: str, key: tuple[str, str]) -> str:
        # Opaque to clients (Linear's are too); it carries the sort key so pages stay stable under edits.
        raw = json.dumps([order, key[0], key[1]], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(order: str, cursor: str) -> tuple[str, str]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            got_order, key, ident = json.loads(base64.urlsafe_b64decode(padded))
        except (ValueError, binascii.Error, TypeError) as exc:
            raise invalid_input(f"Invalid cursor {cursor!r}.") from exc
        if got_order != order:
            raise invalid_input("The cursor was issued for a different orderBy.")
        return str(key), str(ident)

    def _page(
        self,
        items: list[dict[str, Any]],
        keys: list[tuple[str, str]],
        match: Predicate,
        args: dict[str, Any],
        order: str,
    ) -> dict[str, Any]:
        """One Relay page: walk from the cursor position, testing items until the page is full."""
        first, last = args.get("first"), args.get("last")
        for name, value in (("first", first), ("last", last)):
            if value is not None and value < 0:
                raise invalid_input(f"{name} must not be negative.")
            if value is not None and value > MAX_PAGE_SIZE:
                raise invalid_input(f"{name} must not be greater than {MAX_PAGE_SIZE}.")
        start, end = 0, len(items)
        if args.get("after"):
            start = bisect_right(keys, self._decode_cursor(order, args["after"]))
        if args.get("before"):
            end = bisect_left(keys, self._decode_cursor(order, args["before"]))
        if last is not None and first is None:
            found: list[dict[str, Any]] = []
            i = end - 1
            while i >= start and len(found) <= last:
                if match(items[i]):
                    found.append(items[i])
                i -= 1
            page = list(reversed(found[:last]))
            has_previous = len(found) > last
            has_next = bool(args.get("before")) and any(match(x) for x in items[end:])
        else:
            size = DEFAULT_PAGE_SIZE if first is None else first
            found = []
            i = start
            while i < end and len(found) <= size:
                if match(items[i]):
                    found.append(items[i])
                i += 1
            page = found[:size]
            if last is not None:
                page = page[max(len(page) - last, 0) :]
            has_next = len(found) > size
            has_previous = bool(args.get("after")) and any(match(x) for x in reversed(items[:start]))
        cursors = [self._encode_cursor(order, (obj[order], obj["id"])) for obj in page]
        return {
            "edges": [{"node": obj, "cursor": c} for obj, c in zip(page, cursors, strict=True)],
            "nodes": page,
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": has_previous,
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
            },
        }

    # ------------------------------------------------------------------------------------------ lookups

    def _projects(self, args: dict[str, Any], team_id: str | None = None) -> dict[str, Any]:
        items: Iterable[dict[str, Any]] = self.state["projects"].values()
        if team_id is not None:
            items = [p for p in items if team_id in p["teamIds"]]
        return self._connection("Project", items, args)

    def _search_issues(self, args: dict[str, Any]) -> dict[str, Any]:
        """``searchIssues(term!, teamId, includeComments, filter, ...)``: an ``IssueSearchPayload`` page.

        Linear ranks full-text hits by relevance (UNVERIFIED how); the emulator matches issues whose
        identifier, title or description (and comments, with ``includeComments``) contain every word of
        the term, case-insensitively, and pages them in the usual ``orderBy`` order. ``totalCount`` is the
        number of hits over all pages.
        """
        words = str(args.get("term") or "").lower().split()
        team_ref = args.get("teamId")
        team_id: str | None = None
        if team_ref:
            team = self.state["teams"].get(team_ref) or next(
                (t for t in self.state["teams"].values() if t["key"] == team_ref), None
            )
            if team is None:
                raise not_found("Team")
            team_id = team["id"]
        comments = self._comments_by_issue() if args.get("includeComments") else {}

        def hit(issue: dict[str, Any]) -> bool:
            if team_id is not None and issue["teamId"] != team_id:
                return False
            parts = [issue["identifier"], issue["title"], issue.get("description") or ""]
            parts += [c["body"] for c in comments.get(issue["id"], ()) if c["archivedAt"] is None]
            text = "\n".join(parts).lower()
            return all(word in text for word in words)

        order = self._order(args)
        items, keys = self._ordered_issues(order)
        match = self._predicate("Issue", args, hit)
        page = self._page(items, keys, match, args, order)
        page["totalCount"] = float(sum(1 for issue in items if match(issue)))
        return page

    def _comment_query(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("id"):
            raise unsupported("comment(hash:) is not supported; pass id")
        return self._get("comments", args["id"], "Comment")

    def _viewer(self) -> dict[str, Any]:
        return self._get("users", self.state["viewerId"] or "", "User")

    def _organization(self) -> dict[str, Any]:
        org = self.state["organization"]
        if org is None:
            raise not_found("Organization")
        result: dict[str, Any] = org
        return result

    def _rate_limit_status(self) -> dict[str, Any]:
        # Field values follow API_NOTES §1.3; the limit type names are UNVERIFIED.
        with self._bucket_lock:
            limits = []
            for kind, bucket in (("requests", self.request_bucket), ("complexity", self.complexity_bucket)):
                limits.append(
                    {
                        "type": kind,
                        "allowedAmount": float(bucket.capacity),
                        "period": self.limits.period_seconds * 1000,
                        "remainingAmount": float(int(bucket.refill())),
                        "requestedAmount": 1.0 if kind == "requests" else 0.0,
                        "reset": float(bucket.reset_ms()),
                    }
                )
        return {"identifier": None, "kind": "api key", "limits": limits}

    # ------------------------------------------------------------------------------------------ payloads

    def _payload(self, field_name: str, entity: dict[str, Any]) -> dict[str, Any]:
        return {"success": True, "lastSyncId": float(self.state["lastSyncId"]), field_name: entity}

    def _issue_payload(self, issue: dict[str, Any]) -> dict[str, Any]:
        return self._payload("issue", issue)

    def _project_payload(self, project: dict[str, Any]) -> dict[str, Any]:
        return self._payload("project", project)

    def _archive_payload(self, entity: dict[str, Any] | None) -> dict[str, Any]:
        return {"success": True, "lastSyncId": float(self.state["lastSyncId"]), "entity": entity}

    def _delete_payload(self, entity_id: str) -> dict[str, Any]:
        return {"success": True, "lastSyncId": float(self.state["lastSyncId"]), "entityId": entity_id}

    # ------------------------------------------------------------------------------------ issue writes

    # ----------------------------------------------------------------------------------- other writes

    # ------------------------------------------------------------------------------------- admin surface

    def config_hints(self) -> dict[str, Any]:
        """The ids pmtui's ``[linear]`` settings need to point at the seeded workspace."""
        with self.lock:
            team = next((t for t in self.state["teams"].values() if t["key"] == "ENG"), None)
            org = self.state["organization"]
            return {
                "team_id": team["id"] if team else None,
                "team_key": team["key"] if team else None,
                "organization": org["urlKey"] if org else None,
                "viewer_id": self.state["viewerId"],
            }

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``{"kind": "demo"}`` or ``{"kind": "bulk", "n": N, "changed_share": 0.01}``; replaces the state."""
        kind = spec.get("kind", "demo")
        with self.lock:
            self.reset_state()
            self.rng = random.Random(self.seed_value)
            rng = random.Random(self.seed_value + 1)
            if kind == "demo":
                summary = seed_demo(self, self.state, self.now(), rng)
            elif kind == "bulk":
                n = int(spec.get("n", 1000))
                share = float(spec.get("changed_share", 0.0))
                summary = seed_bulk(self, self.state, self.now(), rng, n, share)
            else:
                raise HttpError(400, {"message": f"unknown seed kind {kind!r}; expected demo or bulk"})
            self._invalidate()
            return summary

    def _other_user(self) -> str | None:
        """Someone other than the viewer: admin edits happen "as another user would"."""
        viewer: str | None = self.state["viewerId"]
        others = [u for u in self.state["users"] if u != viewer]
        return others[0] if others else viewer

    def admin_mutate(self, op: dict[str, Any]) -> Any:
        """Create/update/delete an issue, comment or project as another user; fields in API input naming."""
        action, kind = op.get("op"), op.get("kind", "issue")
        fields = dict(op.get("fields") or {})
        try:
            with self.lock:
                if kind == "issue":
                    if action == "create":
                        if "teamId" not in fields:
                            fields["teamId"] = self.config_hints()["team_id"]
                        return self._render("issue", self._issue_create(fields, self._other_user())["id"])
                    if action == "update":
                        return self._render("issue", self._issue_update(str(op["id"]), fields)["id"])
                    if action == "delete":
                        issue = self._issue_delete(str(op["id"]), bool(op.get("permanently")))
                        return None if issue is None else self._render("issue", issue["id"])
                if kind == "comment":
                    if action == "create":
                        return self._render("comment", self._comment_create(fields, self._other_user())["id"])
                    if action == "update":
                        return self._render("comment", self._comment_update(str(op["id"]), fields)["id"])
                    if action == "delete":
                        return {"id": self._comment_delete(str(op["id"])), "deleted": True}
                if kind == "project":
                    if action == "create":
                        return self._render("project", self._project_create(fields)["id"])
                    if action == "update":
                        return self._render("project", self._project_update(str(op["id"]), fields)["id"])
                    if action == "delete":
                        return self._render("project", self._project_delete(str(op["id"]))["id"])
        except GraphQLError as exc:
            raise HttpError(400, {"message": exc.message, "extensions": exc.extensions}) from exc
        raise HttpError(400, {"message": f"linear has no admin mutation {action!r} on {kind!r}"})

    def _render(self, kind: str, ident: str) -> dict[str, Any]:
        """The object as the API shows it, by running a fixed query through the resolvers."""
        selection = {"issue": _ISSUE_VIEW, "project": _PROJECT_VIEW, "comment": _COMMENT_VIEW}[kind]
        prepared = prepare(f"query Render($id: String!) {{ {kind}(id: $id) {{ {selection} }} }}", self.schema)
        assert not prepared.errors, prepared.errors
        assert prepared.document is not None
        result = execute_sync(
            self.schema,
            prepared.document,
            root_value=_ROOT,
            variable_values={"id": ident},
            field_resolver=self._resolve,
        )
        if result.errors:
            raise HttpError(500, {"message": result.errors[0].message})
        assert result.data is not None
        rendered: dict[str, Any] = result.data[kind]
        return rendered
