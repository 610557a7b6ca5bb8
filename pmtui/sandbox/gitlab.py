"""A faithful local emulator of GitLab's REST API v4 (issues, notes, milestones, labels, MRs, boards).

python-gitlab is pointed at it unchanged: ``PRIVATE-TOKEN`` auth, iid-addressed issues under
``/api/v4/projects/:id`` (numeric id or URL-encoded ``acme%2Fapp``), Grape-style 400s, offset and keyset
pagination with ``Link`` headers built from the request's own ``Host``, and GitLab.com's rate limits
(2,000 req/min per user, 200 issue creations/min, 60 notes/min) with ``RateLimit-*`` headers.
Facts come from API_NOTES.md §2; choices made where the notes are UNVERIFIED are marked in comments.

Shapes are rendered from plain stored records (``self.state``) at answer time, so a snapshot, a restore
or an admin edit is visible to the next request exactly as a real edit would be.

This module holds the routes, authentication, rate limits, users and projects and the admin surface;
each resource lives in its own module (see :mod:`pmtui.sandbox.gitlab_core` for the chain), the JSON
shapes in :mod:`pmtui.sandbox.gitlab_render`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, ClassVar

from pmtui.sandbox.gitlab_merge_requests import GitLabMergeRequests
from pmtui.sandbox.gitlab_paging import (
    Record,
    is_keyset,
    keyset_page,
    offset_page,
    sort_records,
)
from pmtui.sandbox.gitlab_params import (
    Params,
    as_bool,
    as_choice,
    as_int,
    missing,
)
from pmtui.sandbox.gitlab_render import (
    API,
    OWNER_ID,
    path_of,
)
from pmtui.sandbox.gitlab_seed import seed_bulk, seed_demo
from pmtui.sandbox.server import (
    ADMIN_PREFIX,
    Clock,
    HttpError,
    Request,
    Response,
    WindowLimiter,
    iso_z,
)

DEFAULT_API_KEY = "glpat-sandboxToken0000000"
"""A fake personal access token in GitLab's ``glpat-`` + 20 characters format."""

EXTERNAL_URL = "https://gitlab.example.com"
"""The instance's ``external_url``: where ``web_url`` and ``_links`` point."""

APP_LIMIT_BODY = {"message": {"error": "This endpoint has been requested too many times. Try again later."}}


def _http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


class GitLabEmulator(GitLabMergeRequests):
    """GitLab REST v4 for one instance: users, projects and everything the pmtui sync touches."""

    name: ClassVar[str] = "gitlab"

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        api_key: str = DEFAULT_API_KEY,
        rate_limit: int = 2000,
        rate_limit_period: float = 60.0,
        issue_create_limit: int = 200,
        note_create_limit: int = 60,
        project_get_limit: int = 400,
        external_url: str = EXTERNAL_URL,
    ) -> None:
        super().__init__(clock=clock, seed=seed)
        self.seed_value = seed
        self.api_key = api_key
        self.external_url = external_url.rstrip("/")
        self.limiter = WindowLimiter(rate_limit, rate_limit_period, self.clock)
        self.issue_create_limiter = WindowLimiter(issue_create_limit, rate_limit_period, self.clock)
        self.note_create_limiter = WindowLimiter(note_create_limit, rate_limit_period, self.clock)
        self.project_get_limiter = WindowLimiter(project_get_limit, rate_limit_period, self.clock)
        r = self._register
        r("GET", "/user", self._get_current_user)
        r("GET", "/users", self._list_users)
        r("GET", "/users/:user_id", self._get_user)
        r("GET", "/projects", self._list_projects)
        r("GET", "/projects/:id", self._get_project)
        r("GET", "/projects/:id/issues", self._list_issues)
        r("POST", "/projects/:id/issues", self._create_issue_route)
        r("GET", "/projects/:id/issues/:issue_iid", self._get_issue)
        r("PUT", "/projects/:id/issues/:issue_iid", self._update_issue_route)
        r("DELETE", "/projects/:id/issues/:issue_iid", self._delete_issue_route)
        r("GET", "/projects/:id/issues/:issue_iid/notes", self._list_notes)
        r("POST", "/projects/:id/issues/:issue_iid/notes", self._create_note_route)
        r("GET", "/projects/:id/issues/:issue_iid/notes/:note_id", self._get_note)
        r("PUT", "/projects/:id/issues/:issue_iid/notes/:note_id", self._update_note_route)
        r("DELETE", "/projects/:id/issues/:issue_iid/notes/:note_id", self._delete_note_route)
        r("GET", "/projects/:id/issues/:issue_iid/related_merge_requests", self._related_mrs)
        r("GET", "/projects/:id/issues/:issue_iid/closed_by", self._closed_by)
        r("GET", "/projects/:id/issues/:issue_iid/links", self._list_links)
        r("POST", "/projects/:id/issues/:issue_iid/links", self._create_link)
        r("GET", "/projects/:id/issues/:issue_iid/links/:issue_link_id", self._get_link)
        r("DELETE", "/projects/:id/issues/:issue_iid/links/:issue_link_id", self._delete_link)
        r("GET", "/projects/:id/milestones", self._list_milestones)
        r("POST", "/projects/:id/milestones", self._create_milestone_route)
        r("GET", "/projects/:id/milestones/:milestone_id", self._get_milestone)
        r("PUT", "/projects/:id/milestones/:milestone_id", self._update_milestone_route)
        r("GET", "/projects/:id/milestones/:milestone_id/issues", self._milestone_issues)
        r("GET", "/projects/:id/labels", self._list_labels)
        r("POST", "/projects/:id/labels", self._create_label_route)
        r("GET", "/projects/:id/labels/:label_id", self._get_label)
        r("GET", "/projects/:id/merge_requests", self._list_mrs)
        r("GET", "/projects/:id/merge_requests/:merge_request_iid", self._get_mr)
        r("GET", "/projects/:id/merge_requests/:merge_request_iid/commits", self._mr_commits)
        r("GET", "/projects/:id/boards", self._list_boards)
        r("GET", "/projects/:id/boards/:board_id", self._get_board)
        r("GET", "/projects/:id/boards/:board_id/lists", self._list_board_lists)
        r("GET", "/projects/:id/boards/:board_id/lists/:list_id", self._get_board_list)

    def _register(self, method: str, template: str, handler: Callable[[Request], Response]) -> None:
        """Register under ``/api/v4``; every handler runs under the state lock (state is shared)."""

        def locked(request: Request) -> Response:
            with self.lock:
                return handler(request)

        self.route(method, API + template, locked)

    # ------------------------------------------------------------------------------------- hooks

    def authenticate(self, request: Request) -> None:
        """``PRIVATE-TOKEN`` (or ``Authorization: Bearer``, or ``?private_token=``) must be the key."""
        token = request.header("private-token")
        if token is None:
            auth = request.header("authorization") or ""
            if auth.lower().startswith("bearer "):
                token = auth[7:].strip()
        if token is None:
            token = request.arg("private_token") or request.arg("access_token")
        if token is None and request.path.startswith(f"{API}/projects/"):
            # An anonymous caller may not learn that a private project exists: GitLab answers 404.
            raise HttpError(404, {"message": "404 Project Not Found"})
        if token != self.api_key:
            raise HttpError(401, {"message": "401 Unauthorized"})

    def error_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        """GitLab's error bodies; the base's generic ones are mapped to what GitLab really sends."""
        message = body.get("message") if isinstance(body, dict) else None
        if status == 404 and isinstance(message, str) and message.startswith("no route"):
            body = {"error": "404 Not Found"}
        elif status == 405:
            body = {"error": "405 Not Allowed"}
        elif status >= 500 and message in ("injected server error", "emulator crashed"):
            body = {"message": f"{status} {_reason(status)}"}
        elif status == 400 and isinstance(message, str) and message.startswith("body is not valid JSON"):
            body = {"error": "The provided content-type is not supported or the body is not valid JSON"}
        return Response(status, body, headers)

    def rate_limit(self, request: Request) -> Response | None:
        """Charge the per-user budget, then the endpoint budgets GitLab.com enforces (§2.6)."""
        allowed, _, reset_at = self.limiter.take()
        if not allowed:
            return self._throttled(reset_at)
        endpoint = self._endpoint_limiter(request)
        if endpoint is not None:
            allowed, _, reset_at = endpoint.take()
            if not allowed:
                # Application limits (issue/note creation, GET project) answer through the Rails app,
                # not Rack::Attack, hence a JSON body. UNVERIFIED: exact headers on these 429s.
                retry_after = max(1, math.ceil(reset_at - self.clock.time()))
                headers = {"Retry-After": str(retry_after), **self._rate_headers(endpoint, name=None)}
                return Response(429, APP_LIMIT_BODY, headers)
        return None

    def _endpoint_limiter(self, request: Request) -> WindowLimiter | None:
        route = request.route
        if route == f"POST {API}/projects/:id/issues":
            return self.issue_create_limiter
        if route == f"POST {API}/projects/:id/issues/:issue_iid/notes":
            return self.note_create_limiter
        if route == f"GET {API}/projects/:id":
            return self.project_get_limiter
        return None

    def throttled_response(self, retry_after: float) -> Response:
        """Rack::Attack's throttle answer: 429, plain ``Retry later``, ``Retry-After`` and RateLimit-*."""
        wait = max(0, math.ceil(retry_after))
        reset_at = self.clock.time() + wait
        headers = {
            "Retry-After": str(wait),
            "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Limit": str(self.limiter.limit),
            "RateLimit-Observed": str(self.limiter.limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(math.ceil(reset_at)),
            "RateLimit-ResetTime": _http_date(reset_at),
        }
        return Response(429, None, headers, raw=b"Retry later\n", content_type="text/plain")

    def _throttled(self, reset_at: float) -> Response:
        return self.throttled_response(max(1.0, reset_at - self.clock.time()))

    def _rate_headers(
        self, limiter: WindowLimiter, name: str | None = "throttle_authenticated_api"
    ) -> dict[str, str]:
        remaining, reset_at = limiter.status()
        headers = {
            "RateLimit-Limit": str(limiter.limit),
            "RateLimit-Observed": str(limiter.limit - remaining),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(math.ceil(reset_at)),
            "RateLimit-ResetTime": _http_date(reset_at),
        }
        if name:
            headers["RateLimit-Name"] = name
        return headers

    def handle(self, request: Request) -> Response:
        """As the base, plus the informational ``RateLimit-*`` headers on every API answer."""
        response = super().handle(request)
        if (
            self.rate_limits_enabled
            and not request.path.startswith(ADMIN_PREFIX)
            and "RateLimit-Limit" not in response.headers
        ):
            response.headers.update(self._rate_headers(self.limiter))
        return response

    def config_hints(self) -> dict[str, Any]:
        """What pmtui's GitLab config needs to point at the seeded project."""
        with self.lock:
            project = self.state["projects"]["1"]
            boards = sorted(
                (b for b in self.state["boards"].values() if b["project_id"] == project["id"]),
                key=lambda b: int(b["id"]),
            )
            return {
                "project_id": project["id"],
                "project_path": path_of(project),
                "user": self.state["users"][str(OWNER_ID)]["username"],
                "board": boards[0]["name"] if boards else None,
            }

    # ------------------------------------------------------------------------- users and projects

    def _get_current_user(self, request: Request) -> Response:
        user = self.state["users"][str(OWNER_ID)]
        data = self._user_json(OWNER_ID) or {}
        # python-gitlab's auth() warns when the user's web_url is not under the URL it was given; a real
        # instance builds it from external_url, which is that URL, so use the request's own base here.
        data["web_url"] = f"{request.base_url}/{user['username']}"
        data.update(
            {
                "created_at": user["created_at"],
                "bio": "",
                "location": "",
                "skype": "",
                "linkedin": "",
                "twitter": "",
                "discord": "",
                "website_url": "",
                "organization": "Acme",
                "job_title": "",
                "pronouns": None,
                "bot": False,
                "work_information": None,
                "local_time": None,
                "last_sign_in_at": user["created_at"],
                "confirmed_at": user["created_at"],
                "last_activity_on": self.now().date().isoformat(),
                "email": user["email"],
                "theme_id": 1,
                "color_scheme_id": 1,
                "projects_limit": 100000,
                "current_sign_in_at": user["created_at"],
                "identities": [],
                "can_create_group": True,
                "can_create_project": True,
                "two_factor_enabled": False,
                "external": False,
                "private_profile": False,
                "commit_email": user["email"],
            }
        )
        return Response(200, data)

    def _list_users(self, request: Request) -> Response:
        # GET /users filters by exact `username` (docs.gitlab.com/api/users/#list-users) or `search`.
        username = request.arg("username")
        search = (request.arg("search") or "").lower()
        users = [
            u
            for u in self.state["users"].values()
            if (username is None or u["username"].lower() == username.lower())
            and (not search or search in u["username"].lower() or search in u["name"].lower())
        ]
        ordered = sort_records(users, lambda u: u["id"], descending=False)
        return offset_page(request, ordered, lambda u: self._user_json(u["id"]))

    def _get_user(self, request: Request) -> Response:
        user = self._user_profile_json(as_int(request.params["user_id"], "user_id"))
        if user is None:
            raise HttpError(404, {"message": "404 User Not Found"})
        return Response(200, user)

    def _get_project(self, request: Request) -> Response:
        return Response(200, self._project_json(self._project(request.params["id"])))

    def _list_projects(self, request: Request) -> Response:
        order_by = as_choice(
            request.arg("order_by") or "created_at",
            "order_by",
            (
                "id",
                "name",
                "path",
                "created_at",
                "updated_at",
                "last_activity_at",
                "similarity",
                "star_count",
            ),
        )
        descending = as_choice(request.arg("sort") or "desc", "sort", ("asc", "desc")) == "desc"
        search = (request.arg("search") or "").lower()
        projects = [
            p
            for p in self.state["projects"].values()
            if not search or search in p["name"].lower() or search in path_of(p).lower()
        ]
        field = {"path": "path", "name": "name", "updated_at": "last_activity_at"}.get(order_by, order_by)
        if field not in ("id", "name", "path", "created_at", "last_activity_at"):
            field = "created_at"
        if is_keyset(request):
            # Projects support keyset pagination by id only; the Link carries ``id_after``/``id_before``.
            if order_by != "id":
                raise HttpError(
                    405, {"error": "Keyset pagination is not yet available for this type of request"}
                )
            ordered = sorted(projects, key=lambda p: p["id"], reverse=descending)
            marker = "id_before" if descending else "id_after"

            def boundary(query: dict[str, str]) -> tuple[Any, ...] | None:
                value = query.get(marker)
                return None if value is None else (as_int(value, marker),)

            return keyset_page(
                request,
                ordered,
                self._project_json,
                key=lambda p: (p["id"],),
                descending=descending,
                cursor_of=lambda p: {marker: str(p["id"])},
                boundary_of=boundary,
            )
        ordered = sort_records(projects, lambda p: p[field], descending=descending)
        return offset_page(request, ordered, self._project_json)

    # ------------------------------------------------------------------------------ admin surface

    def admin_mutate(self, op: dict[str, Any]) -> Any:
        """Edit as another user would (default ``alex.chen``), through the same code as the API.

        ``kind``: ``issue`` | ``note`` | ``merge_request`` | ``milestone`` | ``project`` | ``board`` (create
        only: ``name`` and ``labels``, one list per label). Issues are named
        by global ``id`` or by ``iid`` (+ ``project_id``, default 1); notes by ``id`` plus their issue.
        """
        with self.lock:
            return self._admin_mutate(op)

    def _admin_mutate(self, op: dict[str, Any]) -> Any:
        action = op.get("op")
        kind = op.get("kind")
        fields: Params = dict(op.get("fields") or {})
        actor = as_int(op.get("actor_id", fields.pop("author_id", 2)), "actor_id")
        if str(actor) not in self.state["users"]:
            raise HttpError(400, {"message": f"unknown actor {actor}"})
        project = self._project(str(op.get("project_id", fields.pop("project_id", 1))))
        if kind == "issue":
            if action == "create":
                return self._issue_json(self.create_issue(project, fields, actor), single=True)
            issue = self._admin_issue(project, op)
            if action == "update":
                self.update_issue(project, issue, fields, actor)
                return self._issue_json(issue, single=True)
            if action == "delete":
                self.delete_issue(project, issue)
                return {"deleted": issue["id"]}
        elif kind == "note":
            issue = self._admin_issue(
                project, {"id": op.get("issue_id"), "iid": op.get("issue_iid", fields.pop("issue_iid", None))}
            )
            if action == "create":
                system = as_bool(fields.pop("system", False), "system")
                return self._note_json(self.create_note(issue, fields, actor, system=system), issue)
            note = self._note(issue, str(op.get("id")))
            if action == "update":
                return self._note_json(self.update_note(issue, note, fields), issue)
            if action == "delete":
                self.state["notes"][str(issue["id"])].remove(note)
                self._invalidate()
                return {"deleted": note["id"]}
        elif kind == "merge_request":
            if action == "create":
                return self._mr_json(self.create_mr(project, fields, actor), full=True)
            mr = self._mr(project, str(op.get("iid") or self._mr_iid(op.get("id"))))
            if action == "update":
                return self._mr_json(self.update_mr(project, mr, fields, actor), full=True)
        elif kind == "milestone":
            if action == "create":
                return self._milestone_json(self.create_milestone(project, fields))
            milestone = self._milestone(project, str(op.get("id")))
            if action == "update":
                return self._milestone_json(self.update_milestone(project, milestone, fields))
            if action == "delete":
                del self.state["milestones"][str(milestone["id"])]
                for issue in self.state["issues"].values():
                    if issue["milestone_id"] == milestone["id"]:
                        issue["milestone_id"] = None
                self._invalidate()
                return {"deleted": milestone["id"]}
        elif kind == "board" and action == "create":
            labels = fields.get("labels") or []
            if not isinstance(labels, list) or not all(isinstance(n, str) and n for n in labels):
                raise HttpError(400, {"message": "labels must be a list of label names"})
            return self._board_json(self.create_board(project, str(fields.get("name") or "Board"), labels))
        elif kind == "project" and action == "create":
            return self._project_json(self.create_project(fields))
        raise HttpError(400, {"message": f"gitlab has no admin mutation {action!r} for kind {kind!r}"})

    def _admin_issue(self, project: Record, op: dict[str, Any]) -> Record:
        if op.get("iid") is not None:
            return self._issue(project, str(op["iid"]))
        issue: Record | None = self.state["issues"].get(str(op.get("id")))
        if issue is None:
            raise HttpError(404, {"message": "404 Issue Not Found"})
        return issue

    def _mr_iid(self, mr_id: Any) -> int:
        mr = self.state["merge_requests"].get(str(mr_id))
        if mr is None:
            raise HttpError(404, {"message": "404 Merge Request Not Found"})
        return int(mr["iid"])

    def create_project(self, fields: Params) -> Record:
        """A new project in the ``acme`` group (admin only)."""
        path = str(fields.get("path") or fields.get("name") or "").strip()
        if not path:
            raise missing("path")
        namespace = str(fields.get("namespace", "acme"))
        if any(path_of(p) == f"{namespace}/{path}" for p in self.state["projects"].values()):
            raise HttpError(400, {"message": {"path": ["has already been taken"]}})
        pid = self._next_id("project")
        project = self._project_record(pid, namespace, path, namespace.capitalize(), iso_z(self.now()))
        project["name"] = str(fields.get("name") or path)
        self.state["projects"][str(pid)] = project
        self._invalidate()
        return project

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``{"kind": "demo"}`` or ``{"kind": "bulk", "n": N, "changed_share"?: 0..1}``; replaces state."""
        kind = spec.get("kind")
        with self.lock:
            if kind == "demo":
                return seed_demo(self)
            if kind == "bulk":
                return seed_bulk(self, int(spec.get("n", 1000)), float(spec.get("changed_share", 0.0)))
        raise HttpError(400, {"message": f"gitlab cannot seed {spec!r}; kinds are demo and bulk"})


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
