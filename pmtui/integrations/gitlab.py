"""GitLab (gitlab.com or self-managed) over REST v4, with python-gitlab.

Issues of one project are tasks, its milestones are projects, user notes are comments. See
:mod:`pmtui.integrations.gitlab_mapping` for the status, priority and field tables.

Retries belong to :func:`pmtui.integrations.limits.with_retries`, not to python-gitlab: every call
passes ``obey_rate_limit=False`` and ``retry_transient_errors=False``, so a 429 surfaces as
:class:`RateLimitedError` (its ``Retry-After`` read from the answer) and pauses the process-wide
limiter for every caller, instead of one thread sleeping inside the client while the others keep
sending; and a create after a dropped connection is never re-sent blindly (python-gitlab re-POSTs on
``requests.ConnectionError`` when transient retries are on, which duplicates the issue). Creates
(issues, notes, milestones) run once and recover an unknown outcome through the marker pmtui leaves
in their text (:func:`pmtui.integrations.base.with_marker`).

Listing: ``GET /projects/:id/issues?updated_after=<cursor>&order_by=updated_at&sort=asc&state=all``
at 100 per page, one HTTP request per :class:`ChangePage` (the ``Link`` header is followed by hand so
each page runs under the limiter and retries). Keyset pagination (GitLab 18.3+) is asked for first:
with offset pages, an issue edited while the listing runs moves to the end and shifts the offsets,
so one unseen issue can slip between two pages while the cursor passes it. A server that refuses
keyset for issues (405/400) is asked again with offset pages, remembered for this instance.
``updated_after`` is inclusive, so the newest issue of the previous run comes back once more: the
engine compares ``remote_updated_at`` and drops it. Nothing changed costs exactly one request.

Boards: with ``gitlab.board`` set, the board's lists carry status (:mod:`pmtui.integrations.gitlab_boards`).
The board is read once (``GET /projects/:id/boards``, lists embedded) and kept for :data:`BOARD_TTL`
seconds; a status write then reads the issue first so that its one ``PUT`` removes exactly the old list's
label and adds the new one.

Deleting closes the issue (``archives=True``): GitLab deletion needs owner rights and destroys the
history. ``hard_delete=True`` deletes for real; such issues then simply stop being listed (an
incremental listing cannot see deletions; ``get_task`` answers None for them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, ClassVar, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabError, GitlabParsingError

from pmtui.config import SECRET_ENV, GitLabSettings
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
from pmtui.integrations.base import (
    Capabilities,
    ChangePage,
    Health,
    Integration,
    RemoteComment,
    RemoteProject,
    RemoteTask,
    TaskPatch,
    parse_remote_time,
    with_marker,
)
from pmtui.integrations.gitlab_activity import IssueActivity, fetch_issue_activity
from pmtui.integrations.gitlab_boards import Board, BoardSnapshot, fetch_board, fetch_snapshot
from pmtui.integrations.gitlab_mapping import (
    comment_body,
    format_time,
    merge_request_summary,
    milestone_payload,
    needs_close,
    service_message,
    task_fields,
    to_comment,
    to_payload,
    to_remote_project,
    to_remote_task,
)
from pmtui.integrations.limits import Lane, RateLimiter, create_once, limiter_for, with_retries
from pmtui.models import Project, Service, Task

T = TypeVar("T")

SERVICE = Service.GITLAB.value
ENV_VAR = SECRET_ENV[Service.GITLAB]
PAGE_SIZE = 100
"""GitLab's maximum ``per_page``."""
CALL_OPTIONS: dict[str, Any] = {"obey_rate_limit": False, "retry_transient_errors": False}
"""Passed to every python-gitlab call: with_retries owns throttling and retries (module docstring)."""
Raw = dict[str, Any]
BOARD_TTL = 600.0
"""Seconds a followed board's lists are trusted before they are read again."""


def parse_retry_after(
    headers: Mapping[str, str] | None, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds), else from ``RateLimit-Reset`` (epoch seconds)."""
    if not headers:
        return None
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value.strip()))
        except ValueError:
            pass
    reset = headers.get("RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now())
        except ValueError:
            return None
    return None


def translate_error(
    status: int | None, message: Any, action: str, headers: Mapping[str, str] | None = None
) -> ServiceError:
    """The pmtui error for a GitLab error answer (``message`` is GitLab's own ``message``/``error``)."""
    text = service_message(message)
    if status in (401, 403):
        return AuthError(
            f"{action}: GitLab refused the token ({text})", service=SERVICE, env_var=ENV_VAR, status=status
        )
    if status == 404:
        return NotFoundError(f"{action}: {text}", service=SERVICE, status=status)
    if status == 429:
        return RateLimitedError(f"{action}: {text}", service=SERVICE, retry_after=parse_retry_after(headers))
    if status in (400, 422):
        return ValidationError(text, service=SERVICE, status=status)
    if status is not None and (status >= 500 or status == 408 or (status == 409 and "lock" in text.lower())):
        return TransientError(f"{action}: {text}", service=SERVICE, status=status)
    return PermanentError(f"{action}: {text}", service=SERVICE, status=status)


class GitLabIntegration(Integration):
    """GitLab issues of one project behind the common interface; every call goes through the limiter."""

    service: ClassVar[Service] = Service.GITLAB
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
        client_ids=False,
        archives=True,
        incremental=True,
        max_page_size=PAGE_SIZE,
    )

    def __init__(
        self,
        settings: GitLabSettings,
        api_key: str,
        *,
        client: gitlab.Gitlab | None = None,
        limiter: RateLimiter | None = None,
        hard_delete: bool = False,
        retry_sleep: Callable[[float], None] = time.sleep,
        keyset: bool = True,
    ) -> None:
        self.settings = settings
        self.hard_delete = hard_delete
        """Delete issues for real instead of closing them (needs owner rights; history is lost)."""
        self._owns_client = client is None
        self.gl = client or gitlab.Gitlab(
            settings.base_url,
            private_token=api_key,
            per_page=PAGE_SIZE,
            retry_transient_errors=True,
            timeout=settings.timeout_seconds,
        )
        self.limiter = limiter or limiter_for(SERVICE, settings.base_url, settings.requests_per_minute)
        self._retry_sleep = retry_sleep
        self._keyset = keyset
        self._local = threading.local()
        self._user_ids: dict[str, int] = {}
        self._board: tuple[float, Board | None] | None = None
        self._board_lock = threading.Lock()
        self.gl.session.hooks.setdefault("response", []).append(self._remember_response)

    # ------------------------------------------------------------------------------------- http

    def _remember_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A requests hook: keep the headers of this thread's last answer (python-gitlab drops them)."""
        self._local.headers = response.headers

    def _last_headers(self) -> Mapping[str, str] | None:
        headers: Mapping[str, str] | None = getattr(self._local, "headers", None)
        return headers

    def _attempt(self, fn: Callable[[], T], action: str) -> T:
        self._local.headers = None
        try:
            return fn()
        except GitlabParsingError as exc:
            raise PermanentError(
                f"{action}: GitLab answered with something that is not JSON", service=SERVICE
            ) from exc
        except GitlabError as exc:
            raise translate_error(exc.response_code, exc.error_message, action, self._last_headers()) from exc
        except requests.Timeout as exc:
            raise TransientError(f"{action}: GitLab did not answer in time", service=SERVICE) from exc
        except requests.RequestException as exc:
            raise TransientError(
                f"{action}: connection to GitLab failed ({type(exc).__name__})", service=SERVICE
            ) from exc

    def _call(self, fn: Callable[[], T], *, lane: Lane, action: str, retry_transient: bool = True) -> T:
        return with_retries(
            lambda: self._attempt(fn, action),
            limiter=self.limiter,
            service=SERVICE,
            lane=lane,
            retry_transient=retry_transient,
            sleep=self._retry_sleep,
        )

    def _get_page(self, url: str, query: dict[str, Any]) -> tuple[list[Raw], str | None]:
        response = self.gl.http_request("get", url, query_data=query, **CALL_OPTIONS)
        try:
            body = response.json()
        except ValueError as exc:
            raise GitlabParsingError(error_message="Failed to parse the server message") from exc
        items = [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []
        next_url = response.links.get("next", {}).get("url")
        return items, next_url or None

    def _pages(
        self, path: str, query: dict[str, Any], *, lane: Lane, action: str
    ) -> Iterator[tuple[list[Raw], bool]]:
        """Each page's items (one request each, following ``Link: rel="next"``) and whether it is last."""
        url, params = path, dict(query)
        while True:
            items, next_url = self._call(partial(self._get_page, url, params), lane=lane, action=action)
            yield items, next_url is None
            if next_url is None:
                return
            url, params = next_url, {}

    # ---------------------------------------------------------------------------------- project

    def _project_ref(self) -> str | int:
        ref = (self.settings.project or "").strip().strip("/")
        if not ref:
            raise NotConfiguredError(
                "no GitLab project is configured",
                service=SERVICE,
                hint="set gitlab.project to the project's numeric id or its group/name path",
            )
        return int(ref) if ref.isdigit() else ref

    @property
    def project(self) -> Any:
        """python-gitlab's lazy project object (no request until used)."""
        return self.gl.projects.get(self._project_ref(), lazy=True)

    def _issue_path(self, external_id: str) -> tuple[Any, int]:
        try:
            iid = int(external_id)
        except ValueError as exc:
            raise NotFoundError(f"{external_id!r} is not a GitLab issue iid", service=SERVICE) from exc
        return self.project.issues, iid

    # ---------------------------------------------------------------------------------- health

    def health(self) -> Health:
        """Who the token belongs to, the project resolved (id and path), and the rate budget left."""
        account: str | None = None
        try:
            me = self._call(
                lambda: self.gl.http_get("/user", **CALL_OPTIONS), lane=Lane.USER, action="who am I"
            )
            account = str(me.get("username")) if isinstance(me, dict) and me.get("username") else None
            ref = self._project_ref()
            project = self._call(
                lambda: self.gl.projects.get(ref, **CALL_OPTIONS), lane=Lane.USER, action="get project"
            )
            _items, _next = self._call(
                lambda: self._get_page(self.project.issues.path, {"per_page": 1, "state": "opened"}),
                lane=Lane.USER,
                action="count issues",
            )
        except (NotFoundError, NotConfiguredError) as exc:
            return self._unhealthy(exc, account, self._project_hint())
        except ServiceError as exc:
            return self._unhealthy(exc, account, exc.hint)
        headers = self._last_headers() or {}
        remaining, limit = _float(headers.get("RateLimit-Remaining")), _float(headers.get("RateLimit-Limit"))
        opened = headers.get("X-Total")
        path = str(project.attributes.get("path_with_namespace") or ref)
        return Health(
            service=self.service,
            ok=True,
            detail=f"project {path}" + (f", {opened} open issues" if opened else ""),
            account=account,
            ids={"project_id": str(project.attributes.get("id")), "project_path": path},
            rate_remaining=remaining if remaining is not None else self.limiter.remaining,
            rate_limit=limit if limit is not None else self.limiter.rate * 60,
        )

    def _unhealthy(self, exc: ServiceError, account: str | None, hint: str | None) -> Health:
        return Health(
            service=self.service,
            ok=False,
            detail=exc.message,
            account=account,
            hint=hint,
            rate_remaining=self.limiter.remaining,
            rate_limit=self.limiter.rate * 60,
        )

    def _project_hint(self) -> str:
        """Suggest the projects the token is a member of (one request; best effort)."""
        try:
            items, _next = self._call(
                lambda: self._get_page(
                    "/projects",
                    {"membership": "true", "per_page": 20, "order_by": "last_activity_at", "simple": "true"},
                ),
                lane=Lane.USER,
                action="list projects",
            )
        except ServiceError:
            items = []
        names = ", ".join(str(p.get("path_with_namespace")) for p in items if p.get("path_with_namespace"))
        suffix = f" (yours: {names})" if names else ""
        return f"set gitlab.project to a numeric id or group/name path{suffix}"

    # ----------------------------------------------------------------------------------- users

    def _learn_users(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        """Remember the username -> id of the people on an issue, so assigning them costs no lookup."""
        people = [*(raw.get("assignees") or []), raw.get("author"), raw.get("closed_by")]
        for person in people:
            if isinstance(person, dict) and person.get("id") and person.get("username"):
                self._user_ids[str(person["username"]).casefold()] = int(person["id"])
        return raw

    def _task(self, raw: Mapping[str, Any]) -> RemoteTask:
        return to_remote_task(self._learn_users(raw), self.board())

    def _user_index(self, fields: Mapping[str, Any]) -> dict[str, int] | None:
        """Username -> id for the assignee in ``fields``: people seen on issues, else one user lookup."""
        name = fields.get("assignee")
        if not name:
            return None
        key = str(name).strip().casefold()
        if key not in self._user_ids:
            users = self._call(
                lambda: self.gl.http_get(
                    "/users", query_data={"username": str(name).strip()}, **CALL_OPTIONS
                ),
                lane=Lane.USER,
                action="find user",
            )
            for user in users if isinstance(users, list) else []:
                if isinstance(user, dict) and user.get("id") and user.get("username"):
                    self._user_ids[str(user["username"]).casefold()] = int(user["id"])
        return self._user_ids

    def _payload(self, fields: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        try:
            return to_payload(fields, user_ids=self._user_index(fields), board=self.board(), **kwargs)
        except ValueError as exc:
            raise ValidationError(str(exc), service=SERVICE) from exc

    # ----------------------------------------------------------------------------------- tasks

    def _get_raw(self, external_id: str, lane: Lane) -> Raw:
        issues, iid = self._issue_path(external_id)
        issue = self._call(lambda: issues.get(iid, **CALL_OPTIONS), lane=lane, action="get issue")
        return dict(issue.attributes)

    def _put(self, iid: int, body: dict[str, Any]) -> Raw:
        issues = self.project.issues
        raw = self._call(
            lambda: issues.update(iid, body, **CALL_OPTIONS), lane=Lane.USER, action="update issue"
        )
        return dict(raw)

    def create_task(
        self, task: Task, *, idempotency_key: str, project_external_id: str | None = None
    ) -> RemoteTask:
        """POST once (no blind retry: the outcome of a dropped create is unknown), then close if done."""
        fields = task_fields(task)
        body = self._payload(
            fields, creating=True, idempotency_key=idempotency_key, project_external_id=project_external_id
        )
        issues = self.project.issues
        issue = self._call(
            lambda: issues.create(body, **CALL_OPTIONS),
            lane=Lane.USER,
            action="create issue",
            retry_transient=False,
        )
        raw = dict(issue.attributes)
        if needs_close(fields):
            raw = self._put(int(raw["iid"]), {"state_event": "close"})
        return self._task(raw)

    def update_task(self, external_id: str, patch: TaskPatch) -> RemoteTask:
        """PUT the changed fields; a labels or description change reads the issue first (diff, marker)."""
        fields = dict(patch.fields)
        current: Raw | None = None
        moves_list = "status" in fields and self.board() is not None
        if "labels" in fields or "description" in fields or moves_list:
            current = self._get_raw(external_id, Lane.USER)
        key = to_remote_task(current).ref.idempotency_key if current is not None else None
        body = self._payload(
            fields,
            current_labels=list(current.get("labels") or []) if current is not None else None,
            current_state=str(current.get("state")) if current is not None else None,
            idempotency_key=key,
            project_external_id=patch.project_external_id,
        )
        if not body:
            return self._task(current if current is not None else self._get_raw(external_id, Lane.USER))
        _issues, iid = self._issue_path(external_id)
        return self._task(self._put(iid, body))

    def delete_task(self, external_id: str) -> None:
        """Close the issue (archive semantics), or DELETE it with ``hard_delete``; a missing one is fine."""
        try:
            issues, iid = self._issue_path(external_id)
            if self.hard_delete:
                self._call(lambda: issues.delete(iid, **CALL_OPTIONS), lane=Lane.USER, action="delete issue")
            else:
                self._put(iid, {"state_event": "close"})
        except NotFoundError:
            return None

    def get_task(self, external_id: str) -> RemoteTask | None:
        """The issue (closed ones too), or None when GitLab answers 404."""
        try:
            return self._task(self._get_raw(external_id, Lane.BACKGROUND))
        except NotFoundError:
            return None

    def find_by_idempotency_key(self, key: str, hint: Task | None = None) -> RemoteTask | None:
        """Search descriptions for the key (``search=<key>&in=description``, all states), match the marker.

        python-gitlab has no keyword for ``in`` (a Python keyword; ``in_`` would be sent verbatim), so the
        query goes out through ``http_request`` with the real parameter name.
        """
        query = {"search": key, "in": "description", "state": "all", "per_page": PAGE_SIZE}
        for page, _last in self._pages(self.project.issues.path, query, lane=Lane.USER, action="find issue"):
            for raw in page:
                remote = self._task(raw)
                if remote.ref.idempotency_key == key:
                    return remote
        return None

    def list_changes(self, cursor: str | None) -> Iterator[ChangePage]:
        """Issues updated on or after ``cursor`` (an ISO instant), oldest first, one page per request.

        Each page's cursor is the newest ``updated_at`` seen so far, safe to store after that page
        because the listing is ascending by update time and ``updated_after`` is inclusive.
        """
        since = parse_remote_time(cursor) if cursor else None
        newest = since
        query: dict[str, Any] = {
            "state": "all",
            "order_by": "updated_at",
            "sort": "asc",
            "per_page": PAGE_SIZE,
        }
        if since is not None:
            query["updated_after"] = format_time(since)
        for page, last in self._change_pages(query):
            items = [self._task(raw) for raw in page]
            for item in items:
                updated = item.ref.remote_updated_at
                if updated is not None and (newest is None or updated > newest):
                    newest = updated
            yield ChangePage(items=items, cursor=format_time(newest) if newest else cursor, last=last)

    def _change_pages(self, query: dict[str, Any]) -> Iterator[tuple[list[Raw], bool]]:
        path = self.project.issues.path
        if self._keyset:
            pages = self._pages(
                path, {**query, "pagination": "keyset"}, lane=Lane.BACKGROUND, action="list issues"
            )
            try:
                first = next(pages)
            except (PermanentError, ValidationError) as exc:
                if exc.status not in (400, 405):
                    raise
                self._keyset = False  # GitLab before 18.3: no keyset pagination for project issues
            else:
                yield first
                yield from pages
                return
        yield from self._pages(path, query, lane=Lane.BACKGROUND, action="list issues")

    def related_merge_requests(self, external_id: str) -> list[dict[str, Any]]:
        """Merge requests that mention or close the issue, as plain dicts for the UI (fetched on demand).

        Each is ``{iid, title, state, draft, web_url, pipeline}`` with ``pipeline`` the head pipeline's
        status (``success``, ``failed``, ``running``, ...) or None. Not part of the common interface.
        """
        issues, iid = self._issue_path(external_id)
        path = f"{issues.path}/{iid}/related_merge_requests"
        return [
            merge_request_summary(raw)
            for page, _last in self._pages(
                path, {"per_page": PAGE_SIZE}, lane=Lane.USER, action="related merge requests"
            )
            for raw in page
        ]

    def issue_activity(self, external_id: str, *, background: bool = False) -> IssueActivity:
        """The issue's merge requests (state, draft, pipeline, closes) and the commits that reference it.

        See :mod:`pmtui.integrations.gitlab_activity`; ``background`` puts the requests in the
        background lane (a sync's refresh) instead of the user's (the task in view).
        """
        issues, iid = self._issue_path(external_id)
        lane = Lane.BACKGROUND if background else Lane.USER

        def pages(path: str, action: str) -> Iterator[list[Raw]]:
            for page, _last in self._pages(path, {"per_page": PAGE_SIZE}, lane=lane, action=action):
                yield page

        def get(path: str, action: str) -> Raw:
            raw = self._call(lambda: self.gl.http_get(path, **CALL_OPTIONS), lane=lane, action=action)
            return dict(raw) if isinstance(raw, dict) else {}

        return fetch_issue_activity(f"{issues.path}/{iid}", pages=pages, get=get)

    # ---------------------------------------------------------------------------------- boards

    def board(self, *, refresh: bool = False) -> Board | None:
        """The followed board (``gitlab.board``), read at most every :data:`BOARD_TTL` s; None if unset."""
        if self.settings.board is None:
            return None
        with self._board_lock:
            cached = self._board
            if refresh or cached is None or time.monotonic() - cached[0] > BOARD_TTL:
                cached = (time.monotonic(), fetch_board(self, self.settings.board))
                self._board = cached
            return cached[1]

    def board_snapshot(self) -> BoardSnapshot | None:
        """The followed board, re-read, and the column each open issue shows in (for the kanban)."""
        board = self.board(refresh=True)
        return fetch_snapshot(self, board) if board is not None else None

    def move_to_column(self, external_id: str, column: str) -> RemoteTask:
        """Move the issue to a board column (``open``, ``list:<id>``, ``closed``) in one ``PUT``.

        For moves the canonical status cannot express (two lists that both mean in progress).
        """
        board = self.board()
        if board is None:
            raise NotConfiguredError(
                "no GitLab board is followed", service=SERVICE, hint="set gitlab.board to a board's name"
            )
        current = self._get_raw(external_id, Lane.USER)
        try:
            body = board.move_body(column, list(current.get("labels") or []), str(current.get("state")))
        except ValueError as exc:
            raise ValidationError(str(exc), service=SERVICE) from exc
        if not body:
            return self._task(current)
        _issues, iid = self._issue_path(external_id)
        return self._task(self._put(iid, body))

    # -------------------------------------------------------------------------------- projects

    def list_projects(self) -> list[RemoteProject]:
        """Every milestone of the project (active and closed) as a project."""
        path = self.project.milestones.path
        return [
            to_remote_project(raw)
            for page, _last in self._pages(
                path, {"per_page": PAGE_SIZE}, lane=Lane.BACKGROUND, action="list milestones"
            )
            for raw in page
        ]

    def _find_milestone(self, key: str, title: str | None = None) -> RemoteProject | None:
        query: dict[str, Any] = {"per_page": PAGE_SIZE}
        query.update({"title": title} if title is not None else {"search": key})
        path = self.project.milestones.path
        for page, _last in self._pages(path, query, lane=Lane.USER, action="find milestone"):
            for raw in page:
                remote = to_remote_project(raw)
                if remote.ref.idempotency_key == key:
                    return remote
        return None

    def create_project(self, project: Project, *, idempotency_key: str) -> RemoteProject:
        """Create a milestone; a milestone already carrying the key (a retry) is returned instead."""
        found = self._find_milestone(idempotency_key)
        if found is not None:
            return found
        body = milestone_payload(project, idempotency_key=idempotency_key)
        milestones = self.project.milestones

        def post() -> RemoteProject:
            try:
                created = self._call(
                    lambda: milestones.create(body, **CALL_OPTIONS),
                    lane=Lane.USER,
                    action="create milestone",
                    retry_transient=False,
                )
            except ValidationError:
                # Titles are unique per project: a create that landed before its answer was lost
                # makes the retry collide with itself.
                mine = self._find_milestone(idempotency_key, title=project.name)
                if mine is None:
                    raise
                return mine
            return to_remote_project(created.attributes)

        return self._create_once(post, lambda: self._find_milestone(idempotency_key))

    def _create_once(self, post: Callable[[], T], find: Callable[[], T | None]) -> T:
        return create_once(post, find, sleep=self._retry_sleep)

    # -------------------------------------------------------------------------------- comments

    def _notes_path(self, external_id: str) -> str:
        issues, iid = self._issue_path(external_id)
        return f"{issues.path}/{iid}/notes"

    def _raw_notes(self, external_id: str, lane: Lane) -> Iterator[Raw]:
        query = {"sort": "asc", "order_by": "created_at", "per_page": PAGE_SIZE}
        for page, _last in self._pages(self._notes_path(external_id), query, lane=lane, action="list notes"):
            yield from page

    def add_comment(self, external_id: str, body: str, *, idempotency_key: str) -> str:
        """POST a note ending in pmtui's marker (an invisible HTML comment); recover by the marker."""
        content = with_marker(body, idempotency_key)
        issues, iid = self._issue_path(external_id)
        notes = issues.get(iid, lazy=True).notes

        def post() -> str:
            note = self._call(
                lambda: notes.create({"body": content}, **CALL_OPTIONS),
                lane=Lane.USER,
                action="add note",
                retry_transient=False,
            )
            return str(note.attributes["id"])

        def find() -> str | None:
            for raw in self._raw_notes(external_id, Lane.USER):
                if not raw.get("system") and comment_body(raw)[1] == idempotency_key:
                    return str(raw["id"])
            return None

        return self._create_once(post, find)

    def listed_without_comments(self, remote: RemoteTask) -> bool:
        """The listing's ``user_notes_count`` is 0: no user note to read (system notes are skipped)."""
        return remote.extra.get("user_notes_count") == 0

    def list_comments(self, external_id: str) -> list[RemoteComment]:
        """The issue's user notes, oldest first, markers stripped (system notes skipped)."""
        comments: list[RemoteComment] = []
        for raw in self._raw_notes(external_id, Lane.BACKGROUND):
            comment = to_comment(raw, external_id)
            if comment is not None:
                comments.append(comment)
        return comments

    def close(self) -> None:
        """Close the HTTP session when this integration built the client."""
        if self._owns_client:
            self.gl.session.close()


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
