"""Motion (usemotion.com) over its REST API v1, with httpx (Motion has no official Python SDK).

Motion's budget is 12 requests a minute on the individual tier, pages hold 50 items and cannot be made
larger, and there is no "updated since" filter, so a full pass lists the workspace's unresolved tasks
(``ceil(N / 50)`` requests). One sync reads at most ``[motion] scan_share`` of a minute's budget of those
pages (:meth:`MotionIntegration.round_pages`); a larger workspace is scanned over several syncs, each
continuing where the last stopped (:meth:`MotionIntegration.scan`). Only items whose ``updatedTime``
differs from the cache's are parsed. A task that was completed leaves that listing: once a pass is
complete the engine sees it missing and confirms with :meth:`MotionIntegration.get_task`. Workspace
statuses are fetched once per workspace and cached.

Motion keeps no client id, so creates carry pmtui's marker at the end of the description; see
:mod:`pmtui.integrations.motion_mapping` for the field, status and priority tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import httpx

from pmtui.config import SECRET_ENV, MotionSettings
from pmtui.errors import (
    AuthError,
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
    SpreadScanning,
    TaskPatch,
    parse_remote_time,
    split_marker,
    with_marker,
)
from pmtui.integrations.comments import find_marked, to_remote_comments
from pmtui.integrations.limits import (
    Lane,
    RateLimiter,
    create_once,
    limiter_for,
    parse_retry_after,
    round_pages,
    with_retries,
)
from pmtui.integrations.motion_mapping import (
    MotionStatus,
    WriteOptions,
    comment_body,
    parse_statuses,
    parse_workspaces,
    project_payload,
    task_fields,
    to_payload,
    to_remote_project,
    to_remote_task,
    user_index,
)
from pmtui.models import Project, Service, Status, Task, utcnow

T = TypeVar("T")

SERVICE = Service.MOTION.value
ENV_VAR = SECRET_ENV[Service.MOTION]
PAGE_SIZE = 50
"""Motion's fixed page size (``meta.pageSize`` 50 in a captured ``GET /v1/tasks``); nothing changes it."""


def _service_message(response: httpx.Response) -> str:
    """Motion's own words from an error body (``{"message": ...}``), tolerating any body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, list):
            message = "; ".join(str(m) for m in message)
        if message:
            return str(message)
    text = response.text.strip()
    return text[:300] if text else f"HTTP {response.status_code}"


def translate_status_error(exc: httpx.HTTPStatusError, action: str) -> ServiceError:
    """The pmtui error for an HTTP error answer from Motion."""
    response = exc.response
    status = response.status_code
    message = _service_message(response)
    if status in (401, 403):
        return AuthError(
            f"{action}: Motion refused the API key ({message})",
            service=SERVICE,
            env_var=ENV_VAR,
            status=status,
        )
    if status == 404:
        return NotFoundError(f"{action}: {message}", service=SERVICE, status=status)
    if status == 429:
        return RateLimitedError(
            f"{action}: {message}",
            service=SERVICE,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status in (400, 422):
        return ValidationError(message, service=SERVICE, status=status)
    if status >= 500 or status == 408:
        return TransientError(f"{action}: {message}", service=SERVICE, status=status)
    return PermanentError(f"{action}: {message}", service=SERVICE, status=status)


class MotionIntegration(Integration, SpreadScanning):
    """Motion behind the common interface; every HTTP call goes through the shared limiter."""

    service: ClassVar[Service] = Service.MOTION
    capabilities: ClassVar[Capabilities] = Capabilities(
        projects=True,
        milestones=False,
        due_dates=True,
        due_times=True,
        scheduling=True,
        comments=True,
        labels=True,
        priorities=True,
        durations=True,
        client_ids=False,
        archives=False,
        incremental=False,
        max_page_size=PAGE_SIZE,
    )

    def __init__(
        self,
        settings: MotionSettings,
        api_key: str,
        *,
        client: httpx.Client | None = None,
        limiter: RateLimiter | None = None,
        retry_sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self._owns_client = client is None
        self.client = client or httpx.Client(
            base_url=settings.base_url,
            headers={"X-API-Key": api_key},
            timeout=settings.timeout_seconds,
        )
        self.limiter = limiter or limiter_for(SERVICE, settings.base_url, settings.requests_per_minute)
        self._retry_sleep = retry_sleep
        self._now = now
        self._workspace_id: str | None = settings.workspace_id
        self._statuses: dict[str, list[MotionStatus]] = {}
        self._users: dict[str, dict[str, str]] = {}
        self._keys: dict[str, str] = {}
        """external id -> idempotency key seen on it, so a description update keeps the marker."""

    # ------------------------------------------------------------------------------------- http

    def _send(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None, action: str
    ) -> Any:
        try:
            response = self.client.request(method, path, params=params, json=json)
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise translate_status_error(exc, action) from exc
        except httpx.TimeoutException as exc:
            raise TransientError(f"{action}: Motion did not answer in time", service=SERVICE) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"{action}: connection to Motion failed ({type(exc).__name__})", service=SERVICE
            ) from exc
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise PermanentError(
                f"{action}: Motion answered with something that is not JSON",
                service=SERVICE,
                status=response.status_code,
            ) from exc

    def _call(
        self,
        method: str,
        path: str,
        *,
        lane: Lane,
        action: str,
        retry_transient: bool = True,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        return with_retries(
            lambda: self._send(method, path, params=params, json=json, action=action),
            limiter=self.limiter,
            service=SERVICE,
            lane=lane,
            retry_transient=retry_transient,
            sleep=self._retry_sleep,
        )

    def _pages(
        self,
        path: str,
        key: str,
        params: dict[str, Any],
        *,
        lane: Lane,
        action: str,
    ) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """Each page's items and whether it is the last; ``nextCursor`` is absent (or null) at the end."""
        for items, cursor in self._cursor_pages(path, key, params, lane=lane, action=action):
            yield items, cursor is None

    def _cursor_pages(
        self,
        path: str,
        key: str,
        params: dict[str, Any],
        *,
        lane: Lane,
        action: str,
        start: str | None = None,
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Each page's items and the ``nextCursor`` after it (None at the end); ``start`` is a cursor an
        earlier listing stopped at, so a scan can stop after any page and the next sync go on from there."""
        cursor: str | None = start
        while True:
            query = dict(params, **({"cursor": cursor} if cursor else {}))
            body = self._call("GET", path, lane=lane, action=action, params=query)
            items = body.get(key, []) if isinstance(body, dict) else (body or [])
            meta = body.get("meta") if isinstance(body, dict) else None
            cursor = (meta or {}).get("nextCursor") or None
            yield [item for item in items if isinstance(item, dict)], cursor
            if cursor is None:
                return

    # ------------------------------------------------------------------------------- workspace

    def _workspaces(self, lane: Lane) -> list[dict[str, Any]]:
        return parse_workspaces(self._call("GET", "/v1/workspaces", lane=lane, action="list workspaces"))

    def workspace_id(self, lane: Lane = Lane.BACKGROUND) -> str:
        """The configured workspace, else the first one the key can see (one request, then cached)."""
        if self._workspace_id is None:
            workspaces = self._workspaces(lane)
            if not workspaces:
                raise ValidationError("the API key sees no Motion workspace", service=SERVICE)
            self._workspace_id = str(workspaces[0]["id"])
        return self._workspace_id

    def statuses(self, workspace_id: str | None = None, lane: Lane = Lane.USER) -> list[MotionStatus]:
        """The workspace's statuses (one request per workspace per process)."""
        workspace = workspace_id or self.workspace_id(lane)
        if workspace not in self._statuses:
            body = self._call(
                "GET", "/v1/statuses", lane=lane, action="list statuses", params={"workspaceId": workspace}
            )
            self._statuses[workspace] = parse_statuses(body)
        return self._statuses[workspace]

    def _user_index(self, workspace: str, lane: Lane) -> dict[str, str]:
        if workspace not in self._users:
            users: list[dict[str, Any]] = []
            for page, _last in self._pages(
                "/v1/users", "users", {"workspaceId": workspace}, lane=lane, action="list users"
            ):
                users.extend(page)
            self._users[workspace] = user_index(users)
        return self._users[workspace]

    def _options(self, fields: dict[str, Any], *, idempotency_key: str | None, lane: Lane) -> WriteOptions:
        workspace = self.workspace_id(lane)
        return WriteOptions(
            statuses=self.statuses(workspace, lane) if fields.get("status") is not None else (),
            today=self._now().date(),
            auto_schedule=self.settings.auto_schedule,
            default_duration_minutes=self.settings.default_duration_minutes,
            idempotency_key=idempotency_key,
            users=self._user_index(workspace, lane) if fields.get("assignee") is not None else None,
        )

    def _remember(self, remote: RemoteTask) -> RemoteTask:
        if remote.ref.idempotency_key:
            self._keys[remote.ref.external_id] = remote.ref.idempotency_key
        return remote

    @staticmethod
    def _payload(fields: dict[str, Any], options: WriteOptions, **kwargs: Any) -> dict[str, Any]:
        try:
            return to_payload(fields, options, **kwargs)
        except ValueError as exc:
            raise ValidationError(str(exc), service=SERVICE) from exc

    # ---------------------------------------------------------------------------------- health

    def health(self) -> Health:
        """Who the key belongs to, which workspace is used, and the request budget left here."""
        try:
            me = self._call("GET", "/v1/users/me", lane=Lane.USER, action="who am I") or {}
            workspaces = self._workspaces(Lane.USER)
        except ServiceError as exc:
            return Health(
                service=self.service,
                ok=False,
                detail=exc.message,
                hint=exc.hint,
                rate_remaining=self.limiter.remaining,
                rate_limit=self.limiter.rate * 60,
            )
        account = me.get("email") or me.get("name") or me.get("id")
        known = ", ".join(f"{w['id']} ({w.get('name', '?')})" for w in workspaces) or "none"
        wanted = self.settings.workspace_id
        chosen = (
            next((w for w in workspaces if w["id"] == wanted), None)
            if wanted
            else (workspaces[0] if workspaces else None)
        )
        if chosen is None:
            detail = f"workspace {wanted} not found" if wanted else "the API key sees no workspace"
            return Health(
                service=self.service,
                ok=False,
                detail=detail,
                account=account,
                hint=f"set motion.workspace_id to one of: {known}",
                rate_remaining=self.limiter.remaining,
                rate_limit=self.limiter.rate * 60,
            )
        self._workspace_id = str(chosen["id"])
        return Health(
            service=self.service,
            ok=True,
            detail=f"workspace {chosen.get('name', chosen['id'])}",
            account=str(account) if account else None,
            ids={"workspace_id": str(chosen["id"]), "user_id": str(me.get("id", ""))},
            rate_remaining=self.limiter.remaining,
            rate_limit=self.limiter.rate * 60,
            hint=None if wanted else f"workspaces: {known}; set motion.workspace_id to pick one",
        )

    # ----------------------------------------------------------------------------------- tasks

    def create_task(
        self, task: Task, *, idempotency_key: str, project_external_id: str | None = None
    ) -> RemoteTask:
        """POST once: a dropped answer raises TransientError and the caller recovers by the key."""
        fields = task_fields(task)
        if fields["status"] is Status.TODO:
            # Motion gives new tasks the workspace default, which reads as todo: skip the status lookup.
            del fields["status"]
        options = self._options(fields, idempotency_key=idempotency_key, lane=Lane.USER)
        body = self._payload(
            fields,
            options,
            creating=True,
            workspace_id=self.workspace_id(Lane.USER),
            project_external_id=project_external_id,
        )
        raw = self._call(
            "POST", "/v1/tasks", lane=Lane.USER, action="create task", json=body, retry_transient=False
        )
        return self._remember(to_remote_task(raw))

    def update_task(self, external_id: str, patch: TaskPatch) -> RemoteTask:
        """PATCH the changed fields (idempotent, so transient failures are retried)."""
        if not patch:
            found = self.get_task(external_id)
            if found is None:
                raise NotFoundError(f"task {external_id} not found", service=SERVICE, status=404)
            return found
        fields = dict(patch.fields)
        key = self._keys.get(external_id) if "description" in fields else None
        options = self._options(fields, idempotency_key=key, lane=Lane.USER)
        body = self._payload(fields, options, project_external_id=patch.project_external_id)
        raw = self._call("PATCH", f"/v1/tasks/{external_id}", lane=Lane.USER, action="update task", json=body)
        return self._remember(to_remote_task(raw))

    def delete_task(self, external_id: str) -> None:
        """DELETE (Motion destroys; it has no archive); an already missing task is fine."""
        try:
            self._call("DELETE", f"/v1/tasks/{external_id}", lane=Lane.USER, action="delete task")
        except NotFoundError:
            return None

    def get_task(self, external_id: str) -> RemoteTask | None:
        """The task (resolved ones too), or None when Motion answers 404."""
        try:
            raw = self._call("GET", f"/v1/tasks/{external_id}", lane=Lane.BACKGROUND, action="get task")
        except NotFoundError:
            return None
        return self._remember(to_remote_task(raw))

    def find_by_idempotency_key(self, key: str, hint: Task | None = None) -> RemoteTask | None:
        """Search by the hint's title (all statuses) and match the marker; without a hint, scan all."""
        params: dict[str, Any] = {"workspaceId": self.workspace_id(Lane.USER), "includeAllStatuses": "true"}
        if hint is not None:
            params["name"] = hint.title
        for page, _last in self._pages("/v1/tasks", "tasks", params, lane=Lane.USER, action="find task"):
            for raw in page:
                remote = to_remote_task(raw)
                if remote.ref.idempotency_key == key:
                    return self._remember(remote)
        return None

    def list_changes(self, cursor: str | None) -> Iterator[ChangePage]:
        """A full scan of the workspace's unresolved tasks; items are those updated after ``cursor``.

        The cursor is the ISO time of the newest ``updatedTime`` seen. The listing is in creation
        order, so only the last page may move it; earlier pages hand back the incoming cursor.
        """
        return self._scan(cursor, resume=None, max_pages=None, known=None)

    def round_pages(self) -> int:
        """Pages one sync may read: ``[motion] scan_share`` of the limiter's per-minute budget, at least 1."""
        return round_pages(self.settings.scan_share, self.limiter.rate * 60)

    def scan(
        self,
        cursor: str | None,
        *,
        resume: str | None,
        max_pages: int,
        known: Callable[[list[str]], Mapping[str, datetime | None]],
    ) -> Iterator[ChangePage]:
        """Up to ``max_pages`` pages from ``resume`` (None: the first page); an item is changed when its
        ``updatedTime`` is newer than the cache's copy (``known``), which holds across syncs where a
        single "since" time would not: the pages of one pass are read minutes apart."""
        return self._scan(cursor, resume=resume, max_pages=max_pages, known=known)

    def _scan(
        self,
        cursor: str | None,
        *,
        resume: str | None,
        max_pages: int | None,
        known: Callable[[list[str]], Mapping[str, datetime | None]] | None,
    ) -> Iterator[ChangePage]:
        since = parse_remote_time(cursor) if cursor else None
        newest = since
        params = {"workspaceId": self.workspace_id(Lane.BACKGROUND)}
        pages = self._cursor_pages(
            "/v1/tasks", "tasks", params, lane=Lane.BACKGROUND, action="list tasks", start=resume
        )
        for number, (page, after) in enumerate(pages, start=1):
            last = after is None
            stamps = known([str(raw["id"]) for raw in page if "id" in raw]) if known is not None else {}
            items: list[RemoteTask] = []
            seen: list[str] = []
            for raw in page:
                stamp = parse_remote_time(raw.get("updatedTime"))
                held = stamps.get(str(raw.get("id"))) if known is not None else since
                if held is not None and stamp is not None and stamp <= held:
                    # Unchanged since the cache read it: its id and update time are all the scan needs,
                    # so no model is built (a quiet sync parses no task).
                    ident = str(raw["id"])
                    seen.append(ident)
                    _body, key = split_marker(raw.get("description"))
                    if key:
                        self._keys[ident] = key
                    continue
                remote = self._remember(to_remote_task(raw))
                seen.append(remote.ref.external_id)
                updated = remote.ref.remote_updated_at
                if since is None or known is not None or (updated is not None and updated > since):
                    items.append(remote)
                if updated is not None and (newest is None or updated > newest):
                    newest = updated
            # By "since": only the last page may move the cursor (the listing is in creation order). By
            # the cache's stamps the cursor filters nothing, so each page may record the newest seen.
            moved = last or known is not None
            page_cursor = (newest.isoformat() if newest else None) if moved else cursor
            yield ChangePage(
                items=items,
                cursor=page_cursor,
                last=last,
                full_scan=True,
                seen=seen,
                resume=after,
            )
            if max_pages is not None and number >= max_pages:
                return

    # -------------------------------------------------------------------------------- projects

    def list_projects(self) -> list[RemoteProject]:
        """Every project of the workspace."""
        params = {"workspaceId": self.workspace_id(Lane.BACKGROUND)}
        return [
            to_remote_project(raw)
            for page, _last in self._pages(
                "/v1/projects", "projects", params, lane=Lane.BACKGROUND, action="list projects"
            )
            for raw in page
        ]

    def _find_project(self, key: str) -> RemoteProject | None:
        params = {"workspaceId": self.workspace_id(Lane.USER)}
        for page, _last in self._pages(
            "/v1/projects", "projects", params, lane=Lane.USER, action="find project"
        ):
            for raw in page:
                remote = to_remote_project(raw)
                if remote.ref.idempotency_key == key:
                    return remote
        return None

    def create_project(self, project: Project, *, idempotency_key: str) -> RemoteProject:
        """Look for a project carrying the key first (projects are few), then POST it once."""
        found = self._find_project(idempotency_key)
        if found is not None:
            return found
        body = project_payload(
            project, workspace_id=self.workspace_id(Lane.USER), idempotency_key=idempotency_key
        )
        return self._create_once(
            lambda: to_remote_project(
                self._call(
                    "POST",
                    "/v1/projects",
                    lane=Lane.USER,
                    action="create project",
                    json=body,
                    retry_transient=False,
                )
            ),
            lambda: self._find_project(idempotency_key),
        )

    def _create_once(self, post: Callable[[], T], find: Callable[[], T | None]) -> T:
        return create_once(post, find, sleep=self._retry_sleep)

    # -------------------------------------------------------------------------------- comments

    def _raw_comments(self, external_id: str, lane: Lane) -> Iterator[dict[str, Any]]:
        for page, _last in self._pages(
            "/v1/comments", "comments", {"taskId": external_id}, lane=lane, action="list comments"
        ):
            yield from page

    def add_comment(self, external_id: str, body: str, *, idempotency_key: str) -> str:
        """POST the comment with a marker; after an unknown outcome the marker tells if it landed."""
        content = with_marker(body, idempotency_key)

        def post() -> str:
            raw = self._call(
                "POST",
                "/v1/comments",
                lane=Lane.USER,
                action="add comment",
                json={"taskId": external_id, "content": content},
                retry_transient=False,
            )
            return str(raw["id"])

        def find() -> str | None:
            return find_marked(self._raw_comments(external_id, Lane.USER), comment_body, idempotency_key)

        return self._create_once(post, find)

    def list_comments(self, external_id: str) -> list[RemoteComment]:
        """The task's comments, oldest first, markers stripped."""
        return to_remote_comments(
            self._raw_comments(external_id, Lane.BACKGROUND),
            external_id,
            split=comment_body,
            author=_comment_author,
            created=lambda raw: raw.get("createdAt") or raw.get("createdTime"),
        )

    def close(self) -> None:
        """Close the HTTP client when this integration built it."""
        if self._owns_client:
            self.client.close()


def _comment_author(raw: Mapping[str, Any]) -> str | None:
    """A Motion comment's author: the creator's e-mail (unique in the workspace), else their name."""
    creator = raw.get("creator")
    if not isinstance(creator, Mapping):
        return None
    found = creator.get("email") or creator.get("name")
    return str(found) if found else None
