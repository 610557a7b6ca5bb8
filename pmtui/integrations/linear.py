"""Linear over its GraphQL API, with gql (httpx transport).

Issues of one team are tasks, the team's projects are projects, issue comments are comments. See
:mod:`pmtui.integrations.linear_mapping` for the status, priority and field tables, and
:mod:`pmtui.integrations.linear_queries` for every document sent (validated against Linear's schema
and measured against its 10,000-point complexity cap by the tests).

gql has no retries of its own: every request runs once inside
:func:`pmtui.integrations.limits.with_retries`, under the process-wide limiter. Errors arrive as gql
exceptions and leave as :mod:`pmtui.errors`: Linear answers most failures, throttling included (HTTP
400 with ``extensions.code = RATELIMITED``), as a GraphQL ``errors`` body, which gql raises as
``TransportQueryError`` without the HTTP status, so the error's ``extensions`` (``type``, ``code``,
``statusCode``) decide; non-JSON answers (a 502 from the proxy) raise ``TransportServerError`` with the
status; a dropped or refused connection or a timeout raises ``TransportConnectionFailed``. The answer's
headers (``Retry-After``, ``X-RateLimit-*``) are read off ``HTTPXTransport.response_headers``, which is
why one integration sends one request at a time on its transport (a lock).

Idempotency: creates (issues, comments, projects) send ``input.id`` = pmtui's key as a UUID. Linear
refuses a second create with an id in use ("Entity already exists"), so a create whose outcome was lost
can be retried safely: the retry either creates the object or is refused, and then the object is fetched
by that id. Creates therefore run with ``retry_transient=True``.

Listing: ``issues(first: 250, filter: {team, updatedAt > cursor}, orderBy: updatedAt,
includeArchived: true)``, one request per :class:`ChangePage`; nothing changed costs one request. The
first request of a listing also asks for the team's project milestones (a second root field of the
same query), so milestones cost no request of their own; the first page carries them. The team is
found the same way: an integration's first listing with ``team_key`` set filters by the key and reads
the team (``teams``, a third root field), where it used to look the team up in a request of its own
first; a key no team has still gets the lookup, whose error names the keys there are.
Linear does not document the direction of ``orderBy: updatedAt`` (the emulator lists ascending), so only
the LAST page carries the new cursor (the newest ``updatedAt`` seen in the whole listing); earlier pages
repeat the cursor the listing started from, which is always safe to store. Archived and trashed issues
come back with ``deleted=True``; deleting archives (``issueArchive``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from gql import Client, GraphQLRequest
from gql.client import SyncClientSession
from gql.transport.exceptions import (
    TransportAlreadyConnected,
    TransportError,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXTransport
from graphql import DocumentNode, parse

from pmtui.config import SECRET_ENV, LinearSettings
from pmtui.errors import (
    AuthError,
    NotConfiguredError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    ServiceError,
    TransientError,
    ValidationError,
)
from pmtui.integrations import linear_queries as q
from pmtui.integrations.base import (
    Capabilities,
    ChangePage,
    Health,
    Integration,
    RemoteComment,
    RemoteMilestone,
    RemoteProject,
    RemoteTask,
    TaskPatch,
    parse_remote_time,
)
from pmtui.integrations.limits import Lane, RateLimiter, limiter_for, with_retries
from pmtui.integrations.linear_mapping import (
    key_to_uuid,
    label_index,
    label_names,
    project_payload,
    service_message,
    task_fields,
    to_comment,
    to_payload,
    to_remote_milestones,
    to_remote_project,
    to_remote_task,
    unknown_label_ids,
    user_index,
    uuid_to_key,
    wanted_labels,
)
from pmtui.models import Project, Service, Task

SERVICE = Service.LINEAR.value
ENV_VAR = SECRET_ENV[Service.LINEAR]
Raw = dict[str, Any]

_DOCUMENTS: dict[str, DocumentNode] = {}
_DOCUMENTS_LOCK = threading.Lock()


def _team_with_key(teams: Sequence[Raw], key: str) -> Raw | None:
    """The team whose key is ``key``, in any case (as the settings allow)."""
    return next((t for t in teams if str(t.get("key", "")).casefold() == key.casefold()), None)


def _document(text: str) -> DocumentNode:
    """The parsed document for ``text`` (parsed once per process)."""
    with _DOCUMENTS_LOCK:
        parsed = _DOCUMENTS.get(text)
        if parsed is None:
            parsed = _DOCUMENTS[text] = parse(text)
        return parsed


class AlreadyExistsError(ValidationError):
    """Linear refused a create because an object with its client-chosen id exists (a retried create)."""


# ------------------------------------------------------------------------------------------ errors


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def reset_in(value: Any, now: float) -> float | None:
    """Seconds until a Linear reset time: epoch milliseconds when above 1e11 (today's headers), else
    epoch seconds (the older documentation); None if unreadable."""
    reset = _float(value)
    if reset is None:
        return None
    if reset > 1e11:
        reset /= 1000.0
    return max(0.0, reset - now)


def parse_retry_after(headers: Mapping[str, str] | None, now: float) -> float | None:
    """Seconds to wait: ``Retry-After`` (seconds), else ``X-RateLimit-Requests-Reset`` (epoch ms/s)."""
    retry = _float(_header(headers, "Retry-After"))
    if retry is not None:
        return max(0.0, retry)
    for name in ("X-RateLimit-Requests-Reset", "X-RateLimit-Complexity-Reset"):
        remaining = _float(_header(headers, name.replace("Reset", "Remaining")))
        wait = reset_in(_header(headers, name), now)
        if wait is not None and (remaining is None or remaining <= 0):
            return wait
    return None


_INPUT_KINDS = (
    "invalid input",
    "user error",
    "graphql error",
    "feature not accessible",
    "usage limit exceeded",
)
_INPUT_CODES = ("INVALID_INPUT", "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED")


def translate_query_errors(
    errors: Sequence[Any] | None, headers: Mapping[str, str] | None, action: str, now: float
) -> ServiceError:
    """The pmtui error for a GraphQL ``errors`` answer (gql's ``TransportQueryError``).

    Decided by the first error's ``extensions`` (Linear's ``type`` and ``code``, and ``statusCode``),
    since gql does not keep the HTTP status of an answer that carries a GraphQL body.
    """
    first: Mapping[str, Any] = next((e for e in errors or [] if isinstance(e, Mapping)), {})
    extensions = first.get("extensions") if isinstance(first.get("extensions"), Mapping) else {}
    assert isinstance(extensions, Mapping)
    kind = str(extensions.get("type") or "").lower()
    code = str(extensions.get("code") or "").upper()
    status = extensions.get("statusCode")
    status = int(status) if isinstance(status, int | float) and not isinstance(status, bool) else None
    message = str(first.get("message") or "")
    text = service_message(first)
    if code == "RATELIMITED" or kind == "ratelimited" or status == 429:
        return RateLimitedError(
            f"{action}: {text}", service=SERVICE, retry_after=parse_retry_after(headers, now)
        )
    auth_kinds = ("authentication error", "forbidden")
    if kind in auth_kinds or code in ("AUTHENTICATION_ERROR", "FORBIDDEN") or status in (401, 403):
        return AuthError(
            f"{action}: Linear refused the API key ({text})", service=SERVICE, env_var=ENV_VAR, status=status
        )
    if message.lower().startswith("entity not found") or code == "NOT_FOUND" or status == 404:
        return NotFoundError(f"{action}: {text}", service=SERVICE, status=status)
    if "already exists" in message.lower() and message.lower().startswith("entity"):
        return AlreadyExistsError(text, service=SERVICE, status=status)
    if code == "SANDBOX_UNSUPPORTED":
        # The emulator cannot answer this (a gap in the sandbox, not a passing failure): never retried.
        return PermanentError(f"{action}: {text}", service=SERVICE, status=status)
    if kind in ("internal error", "network error", "lock timeout") or (status is not None and status >= 500):
        return TransientError(f"{action}: {text}", service=SERVICE, status=status)
    if kind in _INPUT_KINDS or code in _INPUT_CODES or extensions.get("userError") is True:
        return ValidationError(text, service=SERVICE, status=status)
    return PermanentError(f"{action}: {text}", service=SERVICE, status=status)


def translate_status(
    status: int | None, action: str, headers: Mapping[str, str] | None, now: float
) -> ServiceError:
    """The pmtui error for an answer that is not GraphQL (gql's ``TransportServerError``), by HTTP status."""
    where = f"{action}: Linear answered HTTP {status}"
    if status == 429:
        return RateLimitedError(where, service=SERVICE, retry_after=parse_retry_after(headers, now))
    if status in (401, 403):
        return AuthError(
            f"{where} (the API key was refused)", service=SERVICE, env_var=ENV_VAR, status=status
        )
    if status == 404:
        return NotFoundError(where, service=SERVICE, status=status)
    if status is not None and (status >= 500 or status == 408):
        return TransientError(where, service=SERVICE, status=status)
    if status in (400, 422):
        return ValidationError(where, service=SERVICE, status=status)
    return PermanentError(where, service=SERVICE, status=status)


# ------------------------------------------------------------------------------------- integration


class LinearIntegration(Integration):
    """The issues of one Linear team behind the common interface; every request goes through the limiter."""

    service: ClassVar[Service] = Service.LINEAR
    capabilities: ClassVar[Capabilities] = Capabilities(
        projects=True,
        milestones=True,
        due_dates=True,
        due_times=False,
        scheduling=False,
        comments=True,
        labels=True,
        priorities=True,
        durations=False,
        client_ids=True,
        archives=True,
        incremental=True,
        max_page_size=q.ISSUE_PAGE_SIZE,
    )

    def __init__(
        self,
        settings: LinearSettings,
        api_key: str,
        *,
        client: Client | None = None,
        limiter: RateLimiter | None = None,
        retry_sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.client = client or Client(
            transport=HTTPXTransport(
                url=f"{settings.base_url}/graphql",
                headers={"Authorization": api_key},
                timeout=settings.timeout_seconds,
            ),
            fetch_schema_from_transport=False,
        )
        self.limiter = limiter or limiter_for(SERVICE, settings.base_url, settings.requests_per_minute)
        self._retry_sleep = retry_sleep
        self._now = now
        self._lock = threading.RLock()
        self._session: SyncClientSession | None = None
        self._opened = False
        """Whether this integration connected the client's transport (and so closes it)."""
        self._last_headers: Mapping[str, str] | None = None
        self._team: Raw | None = None
        self._states: list[Raw] | None = None
        self._labels: list[Raw] | None = None
        self._users: list[Raw] | None = None

    # ------------------------------------------------------------------------------------- http

    def _connect(self) -> SyncClientSession:
        if self._session is None:
            try:
                self._session = self.client.connect_sync()  # type: ignore[no-untyped-call]
                self._opened = True
            except TransportAlreadyConnected:
                # A client handed in already connected: use its session.
                self._session = self.client.session  # type: ignore[assignment]
        assert self._session is not None
        return self._session

    def _response_headers(self) -> Mapping[str, str] | None:
        headers: Mapping[str, str] | None = getattr(self.client.transport, "response_headers", None)
        return headers

    def _attempt(self, document: str, variables: dict[str, Any] | None, action: str) -> Raw:
        """One request, its failure translated; records the answer's headers and rate budget."""
        with self._lock:
            session = self._connect()
            transport = self.client.transport
            if hasattr(transport, "response_headers"):
                transport.response_headers = None
            try:
                data: Raw = session.execute(GraphQLRequest(_document(document), variable_values=variables))
            except TransportQueryError as exc:
                raise translate_query_errors(exc.errors, self._headers_now(), action, self._now()) from exc
            except TransportServerError as exc:
                raise translate_status(exc.code, action, self._headers_now(), self._now()) from exc
            except TransportProtocolError as exc:
                raise TransientError(
                    f"{action}: Linear answered with something that is not GraphQL", service=SERVICE
                ) from exc
            except TransportError as exc:
                cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else type(exc).__name__
                raise TransientError(
                    f"{action}: connection to Linear failed ({cause})", service=SERVICE
                ) from exc
            self._headers_now()
            return data

    def _headers_now(self) -> Mapping[str, str] | None:
        """The last answer's headers; a spent budget pauses the limiter until Linear's reset."""
        headers = self._response_headers()
        if headers is None:
            return None
        self._last_headers = headers
        now = self._now()
        for kind in ("Requests", "Complexity"):
            remaining = _float(_header(headers, f"X-RateLimit-{kind}-Remaining"))
            wait = reset_in(_header(headers, f"X-RateLimit-{kind}-Reset"), now)
            if remaining is not None and wait is not None:
                self.limiter.observe_remaining(remaining, wait)
        return headers

    def _call(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        lane: Lane,
        action: str,
        retry_transient: bool = True,
    ) -> Raw:
        return with_retries(
            lambda: self._attempt(document, variables, action),
            limiter=self.limiter,
            service=SERVICE,
            lane=lane,
            retry_transient=retry_transient,
            sleep=self._retry_sleep,
        )

    def _pages(
        self,
        document: str,
        variables: dict[str, Any],
        path: Sequence[str],
        *,
        lane: Lane,
        action: str,
        after: str | None = None,
    ) -> Iterator[tuple[list[Raw], bool]]:
        """Each page's nodes of the connection at ``path`` in the answer (one request per page), and
        whether it is the last page; ``after`` resumes a listing whose first page came some other way."""
        while True:
            data: Any = self._call(document, {**variables, "after": after}, lane=lane, action=action)
            for step in path:
                data = data.get(step) if isinstance(data, Mapping) else None
            if not isinstance(data, Mapping):
                raise NotFoundError(f"{action}: Linear returned nothing", service=SERVICE)
            info = data.get("pageInfo") or {}
            after = info.get("endCursor")
            last = not info.get("hasNextPage") or not after
            yield [n for n in data.get("nodes") or [] if isinstance(n, dict)], last
            if last:
                return

    # ------------------------------------------------------------------------ team, states, labels

    def _team_raw(self, lane: Lane = Lane.USER) -> Raw:
        """The configured team (by ``team_key``; the first team when unset): one query, cached."""
        if self._team is None:
            teams = [
                t
                for page, _last in self._pages(
                    q.TEAMS, {"first": q.LIST_PAGE_SIZE}, ["teams"], lane=lane, action="list teams"
                )
                for t in page
            ]
            key = (self.settings.team_key or "").strip()
            found = _team_with_key(teams, key) if key else next(iter(teams), None)
            if found is None:
                keys = ", ".join(str(t.get("key")) for t in teams) or "none"
                raise NotConfiguredError(
                    f"no Linear team with key {key!r}" if key else "the Linear workspace has no team",
                    service=SERVICE,
                    hint=f"set linear.team_key to one of: {keys}",
                )
            self._team = found
        return self._team

    def _team_id(self, lane: Lane = Lane.USER) -> str:
        return str(self._team_raw(lane)["id"])

    def _workflow_states(self, lane: Lane = Lane.USER) -> list[Raw]:
        """The team's workflow states: one query, cached."""
        if self._states is None:
            data = self._call(
                q.TEAM_STATES,
                {"teamId": self._team_id(lane), "first": q.LIST_PAGE_SIZE},
                lane=lane,
                action="list workflow states",
            )
            team = data.get("team") or {}
            self._states = [s for s in (team.get("states") or {}).get("nodes") or [] if isinstance(s, dict)]
        return self._states

    def _all_labels(self, lane: Lane, *, refresh: bool = False) -> list[Raw]:
        """Every label of the workspace (team and workspace labels), cached until ``refresh``."""
        if self._labels is None or refresh:
            self._labels = [
                label
                for page, _last in self._pages(
                    q.LABELS, {"first": q.LIST_PAGE_SIZE}, ["issueLabels"], lane=lane, action="list labels"
                )
                for label in page
            ]
        return self._labels

    def _label_names_for(self, raws: Sequence[Raw], lane: Lane) -> dict[str, str]:
        """Label id -> name covering ``raws`` (reads the labels once; again if an unknown id shows up)."""
        if not any(raw.get("labelIds") for raw in raws):
            return label_names(self._labels or [])
        names = label_names(self._all_labels(lane))
        if unknown_label_ids(raws, names):
            names = label_names(self._all_labels(lane, refresh=True))
        return names

    def _label_ids_for(self, fields: Mapping[str, Any]) -> dict[str, str]:
        """Lower-cased name -> id for the labels ``fields`` sets; missing ones are created in the team."""
        wanted = wanted_labels(fields)
        if not wanted:
            return {}
        team_id = self._team_id()
        index = label_index(self._all_labels(Lane.USER), team_id)
        missing = [name for name in wanted if name.casefold() not in index]
        if missing:
            index = label_index(self._all_labels(Lane.USER, refresh=True), team_id)
        for name in [n for n in wanted if n.casefold() not in index]:
            index[name.casefold()] = self._create_label(name, team_id)
        return index

    def _create_label(self, name: str, team_id: str) -> str:
        try:
            data = self._call(
                q.LABEL_CREATE,
                {"input": {"name": name, "teamId": team_id}},
                lane=Lane.USER,
                action="create label",
                retry_transient=False,
            )
        except (ValidationError, TransientError):
            # A create whose answer was lost, or a label made meanwhile: the name now exists, or not.
            found = label_index(self._all_labels(Lane.USER, refresh=True), team_id).get(name.casefold())
            if found is None:
                raise
            return found
        label = (data.get("issueLabelCreate") or {}).get("issueLabel") or {}
        if self._labels is not None and label.get("id"):
            self._labels.append(label)
        return str(label["id"])

    def _user_ids_for(self, fields: Mapping[str, Any]) -> dict[str, str] | None:
        if not fields.get("assignee"):
            return None
        if self._users is None:
            self._users = [
                u
                for page, _last in self._pages(
                    q.TEAM_MEMBERS,
                    {"teamId": self._team_id(), "first": q.LIST_PAGE_SIZE},
                    ["team", "members"],
                    lane=Lane.USER,
                    action="list team members",
                )
                for u in page
            ]
        return user_index(self._users)

    def _payload(
        self,
        fields: Mapping[str, Any],
        *,
        creating: bool,
        project_external_id: str | None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        states = self._workflow_states() if fields.get("status") is not None else []
        try:
            return to_payload(
                fields,
                states=states,
                labels=self._label_ids_for(fields) if "labels" in fields else None,
                users=self._user_ids_for(fields),
                project_external_id=project_external_id,
                creating=creating,
                team_id=self._team_id() if creating else None,
                idempotency_key=idempotency_key,
            )
        except ValueError as exc:
            raise ValidationError(str(exc), service=SERVICE) from exc

    # ------------------------------------------------------------------------------------- health

    def health(self) -> Health:
        """Who the key belongs to, the team resolved (id and key), and the request budget left."""
        account: str | None = None
        try:
            viewer = self._call(q.VIEWER, lane=Lane.USER, action="who am I").get("viewer") or {}
            account = str(viewer.get("email") or viewer.get("name") or "") or None
            headers = self._last_headers
            team = self._team_raw(Lane.USER)
            states = self._workflow_states(Lane.USER)
        except ServiceError as exc:
            return Health(
                service=self.service,
                ok=False,
                detail=exc.message,
                account=account,
                hint=exc.hint,
                rate_remaining=self.limiter.remaining,
                rate_limit=self.limiter.rate * 60,
            )
        remaining = _float(_header(headers, "X-RateLimit-Requests-Remaining"))
        limit = _float(_header(headers, "X-RateLimit-Requests-Limit"))
        if remaining is None:
            remaining, limit = self._rate_status()
        return Health(
            service=self.service,
            ok=True,
            detail=f"team {team.get('key')} ({team.get('name')}), {len(states)} workflow states",
            account=account,
            ids={
                "team_id": str(team["id"]),
                "team_key": str(team.get("key")),
                "viewer_id": str(viewer.get("id")),
            },
            rate_remaining=remaining if remaining is not None else self.limiter.remaining,
            rate_limit=limit if limit is not None else self.limiter.rate * 60,
        )

    def _rate_status(self) -> tuple[float | None, float | None]:
        """The request budget from ``rateLimitStatus`` when the answer carried no headers."""
        try:
            data = self._call(q.RATE_LIMIT_STATUS, lane=Lane.USER, action="rate limit status")
        except ServiceError:
            return None, None
        for limit in (data.get("rateLimitStatus") or {}).get("limits") or []:
            if str(limit.get("type", "")).lower().startswith("request"):
                return _float(limit.get("remainingAmount")), _float(limit.get("allowedAmount"))
        return None, None

    # -------------------------------------------------------------------------------------- tasks

    def _task(self, raw: Raw, lane: Lane) -> RemoteTask:
        return to_remote_task(raw, labels=self._label_names_for([raw], lane))

    def _get_raw(self, external_id: str, lane: Lane) -> Raw:
        data = self._call(q.ISSUE, {"id": external_id}, lane=lane, action="get issue")
        issue = data.get("issue")
        if not isinstance(issue, dict):
            raise NotFoundError(f"get issue: {external_id} not found", service=SERVICE)
        return issue

    def create_task(
        self, task: Task, *, idempotency_key: str, project_external_id: str | None = None
    ) -> RemoteTask:
        """``issueCreate`` with ``id`` = the key as a UUID; a create refused as existing returns that issue.

        Retrying transient failures is safe here, unlike on services without client ids: Linear dedupes
        by ``id``, so the retry of a create that did land is refused ("Entity already exists") and the
        one issue is fetched by its id instead of a second one being made.
        """
        body = self._payload(
            task_fields(task),
            creating=True,
            project_external_id=project_external_id,
            idempotency_key=idempotency_key,
        )
        try:
            data = self._call(
                q.ISSUE_CREATE, {"input": body}, lane=Lane.USER, action="create issue", retry_transient=True
            )
        except AlreadyExistsError:
            return self._task(self._get_raw(body["id"], Lane.USER), Lane.USER)
        return self._task(self._payload_entity(data, "issueCreate", "issue", "create issue"), Lane.USER)

    @staticmethod
    def _payload_entity(data: Raw, field_name: str, entity: str, action: str) -> Raw:
        payload = data.get(field_name) or {}
        raw = payload.get(entity)
        if not payload.get("success") or not isinstance(raw, dict):
            raise PermanentError(f"{action}: Linear did not report success", service=SERVICE)
        return raw

    def update_task(self, external_id: str, patch: TaskPatch) -> RemoteTask:
        """``issueUpdate`` with the changed fields only (idempotent, so transient failures are retried)."""
        body = self._payload(patch.fields, creating=False, project_external_id=patch.project_external_id)
        if not body:
            return self._task(self._get_raw(external_id, Lane.USER), Lane.USER)
        data = self._call(
            q.ISSUE_UPDATE, {"id": external_id, "input": body}, lane=Lane.USER, action="update issue"
        )
        return self._task(self._payload_entity(data, "issueUpdate", "issue", "update issue"), Lane.USER)

    def delete_task(self, external_id: str) -> None:
        """``issueArchive`` (Linear's archive; restorable); an issue that is already gone is fine."""
        try:
            self._call(q.ISSUE_ARCHIVE, {"id": external_id}, lane=Lane.USER, action="archive issue")
        except NotFoundError:
            return None

    def get_task(self, external_id: str) -> RemoteTask | None:
        """The issue (archived ones too, as deleted), or None when Linear does not know the id."""
        try:
            return self._task(self._get_raw(external_id, Lane.BACKGROUND), Lane.BACKGROUND)
        except NotFoundError:
            return None

    def find_by_idempotency_key(self, key: str, hint: Task | None = None) -> RemoteTask | None:
        """``issue(id: <key as UUID>)``: the issue pmtui created with ``key``, or None."""
        try:
            return self._task(self._get_raw(key_to_uuid(key), Lane.USER), Lane.USER)
        except NotFoundError:
            return None

    def list_changes(self, cursor: str | None) -> Iterator[ChangePage]:
        """Issues of the team updated after ``cursor`` (Linear's ISO ``updatedAt``), archived included.

        Only the last page carries the new cursor (the module docstring says why).
        """
        key = (self.settings.team_key or "").strip()
        team: dict[str, Any]
        if self._team is None and key:  # the team comes with the first page: no lookup request first
            team = {"key": {"eqIgnoreCase": key}}
        else:
            team = {"id": {"eq": self._team_id(Lane.BACKGROUND)}}
        filters: dict[str, Any] = {"team": team}
        if cursor:
            filters["updatedAt"] = {"gt": cursor}
        newest_at = parse_remote_time(cursor) if cursor else None
        newest = cursor
        milestone_filter = {"project": {"accessibleTeams": {"some": team}}}
        variables: dict[str, Any] = {
            "first": q.ISSUE_PAGE_SIZE,
            "filter": filters,
            "withMilestones": True,
            "milestoneFilter": milestone_filter,
            "withTeam": "key" in team,
            "teamFilter": team,
        }
        after: str | None = None
        while True:
            data = self._call(
                q.ISSUES_CHANGED, {**variables, "after": after}, lane=Lane.BACKGROUND, action="list issues"
            )
            if variables["withTeam"]:
                self._team_from_listing(data.get("teams"), key)
                variables["withTeam"] = False
            milestones = None
            if variables["withMilestones"]:
                milestones = self._milestones(data.get("projectMilestones"), milestone_filter)
                variables["withMilestones"] = False
            connection = data.get("issues")
            if not isinstance(connection, Mapping):
                raise NotFoundError("list issues: Linear returned nothing", service=SERVICE)
            info = connection.get("pageInfo") or {}
            after = info.get("endCursor")
            last = not info.get("hasNextPage") or not after
            page = [n for n in connection.get("nodes") or [] if isinstance(n, dict)]
            labels = self._label_names_for(page, Lane.BACKGROUND)
            items = [to_remote_task(raw, labels=labels) for raw in page]
            for raw, item in zip(page, items, strict=True):
                updated = item.ref.remote_updated_at
                if updated is not None and (newest_at is None or updated > newest_at):
                    newest_at, newest = updated, str(raw.get("updatedAt"))
            yield ChangePage(items=items, cursor=newest if last else cursor, last=last, milestones=milestones)
            if last:
                return

    def _team_from_listing(self, connection: Any, key: str) -> None:
        """The configured team as the listing's first answer read it; a key no team has gets the lookup
        of every team, whose error lists the keys there are."""
        nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
        found = _team_with_key([t for t in nodes or [] if isinstance(t, dict) and t.get("id")], key)
        if found is None:
            self._team_raw(Lane.BACKGROUND)  # raises NotConfiguredError, with the keys as its hint
        else:
            self._team = found

    def _milestones(self, connection: Any, milestone_filter: dict[str, Any]) -> list[RemoteMilestone]:
        """The team's milestones from the first issue page's answer, plus any further pages (a team
        with more than ``MILESTONE_PAGE_SIZE`` costs one request per extra page, nothing otherwise)."""
        if not isinstance(connection, Mapping):
            raise NotFoundError("list milestones: Linear returned nothing", service=SERVICE)
        raws = [n for n in connection.get("nodes") or [] if isinstance(n, dict)]
        info = connection.get("pageInfo") or {}
        if info.get("hasNextPage") and info.get("endCursor"):
            for page, _last in self._pages(
                q.PROJECT_MILESTONES,
                {"first": q.LIST_PAGE_SIZE, "filter": milestone_filter},
                ["projectMilestones"],
                lane=Lane.BACKGROUND,
                action="list milestones",
                after=str(info["endCursor"]),
            ):
                raws.extend(page)
        return to_remote_milestones(raws)

    # ------------------------------------------------------------------------------------ projects

    def list_projects(self) -> list[RemoteProject]:
        """The team's projects."""
        return [
            to_remote_project(raw)
            for page, _last in self._pages(
                q.TEAM_PROJECTS,
                {"teamId": self._team_id(Lane.BACKGROUND), "first": q.LIST_PAGE_SIZE},
                ["team", "projects"],
                lane=Lane.BACKGROUND,
                action="list projects",
            )
            for raw in page
        ]

    def create_project(self, project: Project, *, idempotency_key: str) -> RemoteProject:
        """``projectCreate`` in the team with ``id`` = the key as a UUID (a retry finds the first one)."""
        body = project_payload(project, team_id=self._team_id(), idempotency_key=idempotency_key)
        try:
            data = self._call(
                q.PROJECT_CREATE,
                {"input": body},
                lane=Lane.USER,
                action="create project",
                retry_transient=True,
            )
        except AlreadyExistsError:
            found = self._call(q.PROJECT, {"id": body["id"]}, lane=Lane.USER, action="get project")
            if not isinstance(found.get("project"), dict):
                raise
            return to_remote_project(found["project"])
        return to_remote_project(self._payload_entity(data, "projectCreate", "project", "create project"))

    # ------------------------------------------------------------------------------------ comments

    def add_comment(self, external_id: str, body: str, *, idempotency_key: str) -> str:
        """``commentCreate`` with ``id`` = the key as a UUID; refused as existing means it landed before."""
        ident = key_to_uuid(idempotency_key)
        try:
            data = self._call(
                q.COMMENT_CREATE,
                {"input": {"id": ident, "issueId": external_id, "body": body}},
                lane=Lane.USER,
                action="add comment",
                retry_transient=True,
            )
        except AlreadyExistsError:
            return ident
        return str(self._payload_entity(data, "commentCreate", "comment", "add comment")["id"])

    def list_comments(self, external_id: str) -> list[RemoteComment]:
        """The issue's comments, oldest first."""
        comments: list[RemoteComment] = []
        for page, _last in self._pages(
            q.ISSUE_COMMENTS,
            {"id": external_id, "first": q.LIST_PAGE_SIZE},
            ["issue", "comments"],
            lane=Lane.BACKGROUND,
            action="list comments",
        ):
            for raw in page:
                comment = to_comment(raw, external_id)
                if comment is not None:
                    comments.append(comment)
        return sorted(comments, key=lambda c: c.created_at)

    def comment_marker(self, key: str) -> str:
        """A Linear comment's marker is its id: the key as a UUID (see :func:`key_to_uuid`)."""
        return uuid_to_key(key_to_uuid(key))

    def close(self) -> None:
        """Close the HTTP session this integration opened (a client handed in connected stays open)."""
        with self._lock:
            if self._session is not None and self._opened:
                self.client.close_sync()  # type: ignore[no-untyped-call]
            self._session = None
            self._opened = False
