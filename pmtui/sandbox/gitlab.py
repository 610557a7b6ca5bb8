"""A faithful local emulator of GitLab's REST API v4 (issues, notes, milestones, labels, MRs, boards).

python-gitlab is pointed at it unchanged: ``PRIVATE-TOKEN`` auth, iid-addressed issues under
``/api/v4/projects/:id`` (numeric id or URL-encoded ``acme%2Fapp``), Grape-style 400s, offset and keyset
pagination with ``Link`` headers built from the request's own ``Host``, and GitLab.com's rate limits
(2,000 req/min per user, 200 issue creations/min, 60 notes/min) with ``RateLimit-*`` headers.
Facts come from API_NOTES.md §2; choices made where the notes are UNVERIFIED are marked in comments.

Shapes are rendered from plain stored records (``self.state``) at answer time, so a snapshot, a restore
or an admin edit is visible to the next request exactly as a real edit would be.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import timedelta
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, ClassVar

from pmtui.sandbox.gitlab_paging import (
    Record,
    decode_cursor,
    encode_cursor,
    is_keyset,
    keyset_page,
    offset_page,
    sort_records,
)
from pmtui.sandbox.gitlab_params import (
    Params,
    as_bool,
    as_choice,
    as_date,
    as_int,
    as_int_list,
    as_names,
    as_time,
    missing,
    not_valid,
    request_params,
)
from pmtui.sandbox.gitlab_render import (
    API,
    DRAFT_RE,
    OWNER_ID,
    GitLabViews,
    closing_iids,
    mentioned_iids,
    path_of,
)
from pmtui.sandbox.gitlab_seed import seed_bulk, seed_demo
from pmtui.sandbox.server import (
    ADMIN_PREFIX,
    Clock,
    HttpError,
    Request,
    Response,
    ServiceEmulator,
    WindowLimiter,
    iso_z,
)

DEFAULT_API_KEY = "glpat-sandboxToken0000000"
"""A fake personal access token in GitLab's ``glpat-`` + 20 characters format."""

EXTERNAL_URL = "https://gitlab.example.com"
"""The instance's ``external_url``: where ``web_url`` and ``_links`` point."""


ISSUE_ORDERS = (
    "created_at",
    "updated_at",
    "due_date",
    "title",
    "weight",
    "relative_position",
    "priority",
    "label_priority",
    "milestone_due",
    "popularity",
    "id",
)
KEYSET_ISSUE_ORDERS = ("id", "created_at", "updated_at", "title")
MR_ORDERS = ("created_at", "updated_at", "title", "merged_at", "priority", "label_priority", "milestone_due")
LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")
INVERSE_LINK = {"relates_to": "relates_to", "blocks": "is_blocked_by", "is_blocked_by": "blocks"}
ISSUE_TYPES = ("issue", "incident", "test_case", "task")
LABEL_DEFAULT_COLOR = "#6699cc"  # GitLab's Label::DEFAULT_COLOR, used for labels created on the fly.
COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
UPDATE_FIELDS = (
    "title",
    "description",
    "assignee_id",
    "assignee_ids",
    "confidential",
    "created_at",
    "discussion_locked",
    "due_date",
    "issue_type",
    "labels",
    "add_labels",
    "remove_labels",
    "milestone_id",
    "state_event",
    "updated_at",
    "weight",
    "epic_id",
    "epic_iid",
)
APP_LIMIT_BODY = {"message": {"error": "This endpoint has been requested too many times. Try again later."}}


def _http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


class GitLabEmulator(GitLabViews, ServiceEmulator):
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

    # ------------------------------------------------------------------------------------- state

    def reset_state(self) -> None:
        """An instance with three users and the empty project ``acme/app`` (id 1)."""
        self._invalidate()
        created = iso_z(self.now() - timedelta(days=400))
        self.state = {
            "seq": {
                "user": 3,
                "project": 1,
                "issue": 5000,
                "note": 90000,
                "milestone": 100,
                "label": 10,
                "merge_request": 3000,
                "link": 700,
                "board": 20,
                "board_list": 30,
                "pipeline": 8000,
            },
            "users": {
                "1": _user_record(1, "sam.rivera", "Sam Rivera", created),
                "2": _user_record(2, "alex.chen", "Alex Chen", created),
                "3": _user_record(3, "jordan.lee", "Jordan Lee", created),
            },
            "projects": {"1": self._project_record(1, "acme", "app", "Acme", created)},
            "issues": {},
            "notes": {},
            "labels": {},
            "milestones": {},
            "merge_requests": {},
            "links": {},
            "boards": {},
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the state (admin ``PUT /_sandbox/state``) and drop cached list orders."""
        super().restore(data)
        self._invalidate()

    def _invalidate(self) -> None:
        """Forget cached sorted lists; called on every write so cached pages never go stale."""
        self._version = getattr(self, "_version", 0) + 1
        self._list_cache: dict[tuple[Any, ...], list[Record]] = {}
        self._closing_cache: dict[int, dict[int, list[Record]]] = {}

    def _next_id(self, kind: str) -> int:
        seq = self.state["seq"]
        seq[kind] += 1
        return int(seq[kind])

    def _project_record(
        self, pid: int, namespace: str, path: str, namespace_name: str, created: str
    ) -> Record:
        return {
            "id": pid,
            "name": path,
            "path": path,
            "namespace_path": namespace,
            "namespace_name": namespace_name,
            "namespace_id": 7,
            "description": "The Acme web application.",
            "created_at": created,
            "last_activity_at": created,
            "default_branch": "main",
            "next_issue_iid": 1,
            "next_mr_iid": 1,
            "next_milestone_iid": 1,
            "issue_iids": {},
        }

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

    # ------------------------------------------------------------------------------------ lookups

    def _project(self, ref: str) -> Record:
        projects = self.state["projects"]
        if ref.isdigit():
            found: Record | None = projects.get(str(int(ref)))
        else:
            wanted = ref.strip("/").lower()
            found = next((p for p in projects.values() if path_of(p).lower() == wanted), None)
        if found is None:
            raise HttpError(404, {"message": "404 Project Not Found"})
        return found

    def _issue(self, project: Record, iid_text: str) -> Record:
        iid = as_int(iid_text, "issue_iid")
        issue_id = project["issue_iids"].get(str(iid))
        if issue_id is None:
            raise HttpError(404, {"message": "404 Issue Not Found"})
        issue: Record = self.state["issues"][str(issue_id)]
        return issue

    def _route_issue(self, request: Request) -> tuple[Record, Record]:
        project = self._project(request.params["id"])
        return project, self._issue(project, request.params["issue_iid"])

    def _issue_by_iid(self, project_id: int, iid: int) -> Record | None:
        project = self.state["projects"].get(str(project_id))
        if project is None:
            return None
        issue_id = project["issue_iids"].get(str(iid))
        return None if issue_id is None else self.state["issues"].get(str(issue_id))

    def _milestone(self, project: Record, milestone_id: str) -> Record:
        found: Record | None = self.state["milestones"].get(str(as_int(milestone_id, "milestone_id")))
        if found is None or found["project_id"] != project["id"]:
            raise HttpError(404, {"message": "404 Milestone Not Found"})
        return found

    def _mr(self, project: Record, iid_text: str) -> Record:
        iid = as_int(iid_text, "merge_request_iid")
        mr: Record
        for mr in self.state["merge_requests"].values():
            if mr["project_id"] == project["id"] and mr["iid"] == iid:
                return mr
        raise HttpError(404, {"message": "404 Merge Request Not Found"})

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

    # ------------------------------------------------------------------------------ issue listing

    def _list_issues(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        order_by = as_choice(request.arg("order_by") or "created_at", "order_by", ISSUE_ORDERS)
        descending = as_choice(request.arg("sort") or "desc", "sort", ("asc", "desc")) == "desc"
        details = as_bool(request.arg("with_labels_details"), "with_labels_details")

        def render(issue: Record) -> Record:
            return self._issue_json(issue, label_details=details)

        if is_keyset(request):
            if order_by not in KEYSET_ISSUE_ORDERS:
                # UNVERIFIED body; GitLab answers 405 when keyset is not available for an ordering.
                raise HttpError(
                    405, {"error": "Keyset pagination is not yet available for this type of request"}
                )
            ordered = self._issues_sorted(project, request, order_by, descending)
            value = _issue_sort_value(order_by, self.state)

            def key(issue: Record) -> tuple[Any, ...]:
                return (issue["id"],) if order_by == "id" else (value(issue), issue["id"])

            def boundary(query: dict[str, str]) -> tuple[Any, ...] | None:
                cursor = query.get("cursor")
                if not cursor:
                    return None
                data = decode_cursor(cursor)
                try:
                    if order_by == "id":
                        return (int(data["id"]),)
                    return (data[order_by], int(data["id"]))
                except (KeyError, TypeError, ValueError) as exc:
                    raise HttpError(400, {"message": "400 Bad request - Invalid cursor parameter"}) from exc

            def cursor_of(issue: Record) -> dict[str, str]:
                values = {"id": str(issue["id"])}
                if order_by != "id":
                    values[order_by] = value(issue)
                return {"cursor": encode_cursor(values)}

            return keyset_page(
                request,
                ordered,
                render,
                key=key,
                descending=descending,
                cursor_of=cursor_of,
                boundary_of=boundary,
            )
        return offset_page(request, self._issues_sorted(project, request, order_by, descending), render)

    def _issues_sorted(
        self, project: Record, request: Request, order_by: str, descending: bool
    ) -> list[Record]:
        """Filtered and sorted issues; cached per query until the next write so paging is O(page)."""
        paging = ("page", "per_page", "cursor", "pagination", "with_labels_details")
        cache_key = (
            project["id"],
            order_by,
            descending,
            tuple(sorted((k, tuple(v)) for k, v in request.query.items() if k not in paging)),
        )
        cached = self._list_cache.get(cache_key)
        if cached is not None:
            return cached
        matches = self._filter_issues(project, request)
        ordered = sort_records(matches, _issue_sort_value(order_by, self.state), descending=descending)
        if len(self._list_cache) > 32:
            self._list_cache.clear()
        self._list_cache[cache_key] = ordered
        return ordered

    def _filter_issues(self, project: Record, request: Request) -> list[Record]:
        """GitLab's issue finder over one project (the filters of API_NOTES §2.2)."""
        tests: list[Callable[[Record], bool]] = []
        state = request.arg("state") or "all"
        as_choice(state, "state", ("opened", "closed", "all"))
        if state != "all":
            tests.append(lambda i: i["state"] == state)
        label_args = request.args("labels")
        if label_args:
            wanted = as_names(label_args)
            lowered = [w.lower() for w in wanted]
            if lowered == ["none"]:
                tests.append(lambda i: not i["labels"])
            elif lowered == ["any"]:
                tests.append(lambda i: bool(i["labels"]))
            else:
                wanted_set = set(wanted)
                tests.append(lambda i: wanted_set.issubset(i["labels"]))
        if request.arg("milestone") is not None and request.arg("milestone_id") is not None:
            raise HttpError(400, {"error": "milestone, milestone_id are mutually exclusive"})
        milestone = request.arg("milestone")
        if milestone is not None:
            tests.append(self._milestone_test(project, milestone, by_title=True))
        milestone_id = request.arg("milestone_id")
        if milestone_id is not None:
            choice = as_choice(milestone_id, "milestone_id", ("None", "Any", "Upcoming", "Started"))
            tests.append(self._milestone_test(project, choice, by_title=False))
        iids = {as_int(v, "iids") for v in request.args("iids")}
        if iids:
            tests.append(lambda i: i["iid"] in iids)
        assignee = request.arg("assignee_id")
        if assignee is not None:
            if assignee.lower() == "none":
                tests.append(lambda i: not i["assignee_ids"])
            elif assignee.lower() == "any":
                tests.append(lambda i: bool(i["assignee_ids"]))
            else:
                assignee_id = as_int(assignee, "assignee_id")
                tests.append(lambda i: assignee_id in i["assignee_ids"])
        usernames = request.args("assignee_username")
        if usernames:
            ids = {u["id"] for u in self.state["users"].values() if u["username"] in usernames}
            tests.append(lambda i: bool(ids.intersection(i["assignee_ids"])))
        author = request.arg("author_id")
        if author is not None:
            author_id = as_int(author, "author_id")
            tests.append(lambda i: i["author_id"] == author_id)
        author_name = request.arg("author_username")
        if author_name is not None:
            ids = {u["id"] for u in self.state["users"].values() if u["username"] == author_name}
            tests.append(lambda i: i["author_id"] in ids)
        scope = as_choice(request.arg("scope") or "all", "scope", ("created_by_me", "assigned_to_me", "all"))
        if scope == "created_by_me":
            tests.append(lambda i: i["author_id"] == OWNER_ID)
        elif scope == "assigned_to_me":
            tests.append(lambda i: OWNER_ID in i["assignee_ids"])
        search = request.arg("search")
        if search:
            needle = search.lower()
            where = as_names(request.arg("in") or "title,description")
            tests.append(
                lambda i: any(needle in (i.get(field) or "").lower() for field in where if field in i)
            )
        for name, field, after in (
            ("created_after", "created_at", True),
            ("created_before", "created_at", False),
            ("updated_after", "updated_at", True),
            ("updated_before", "updated_at", False),
        ):
            raw = request.arg(name)
            if raw:
                bound = as_time(raw, name)
                # Inclusive on both sides ("on or after", "on or before"): API_NOTES §2.2.
                tests.append(_time_test(field, bound, after=after))
        confidential = request.arg("confidential")
        if confidential is not None:
            flag = as_bool(confidential, "confidential")
            tests.append(lambda i: i["confidential"] == flag)
        issue_type = request.arg("issue_type")
        if issue_type is not None:
            as_choice(issue_type, "issue_type", ISSUE_TYPES)
            tests.append(lambda i: i["issue_type"] == issue_type)
        due = request.arg("due_date")
        if due is not None:
            tests.append(self._due_test(due))
        pid = project["id"]
        issues = self.state["issues"].values()
        return [i for i in issues if i["project_id"] == pid and all(test(i) for test in tests)]

    def _milestone_test(self, project: Record, value: str, *, by_title: bool) -> Callable[[Record], bool]:
        keyword = value.lower()
        if keyword == "none":
            return lambda i: not i["milestone_id"]
        if keyword == "any":
            return lambda i: bool(i["milestone_id"])
        today = self.now().date().isoformat()
        milestones = [m for m in self.state["milestones"].values() if m["project_id"] == project["id"]]
        if keyword == "upcoming":
            ids = {m["id"] for m in milestones if m["due_date"] and m["due_date"] > today}
        elif keyword == "started":
            ids = {
                m["id"]
                for m in milestones
                if m["state"] == "active" and m["start_date"] and m["start_date"] <= today
            }
        elif by_title:
            ids = {m["id"] for m in milestones if m["title"] == value}
        else:
            raise not_valid("milestone_id")
        return lambda i: i["milestone_id"] in ids

    def _due_test(self, value: str) -> Callable[[Record], bool]:
        today = self.now().date()
        choice = as_choice(
            value,
            "due_date",
            (
                "0",
                "any",
                "today",
                "tomorrow",
                "overdue",
                "week",
                "month",
                "next_month_and_previous_two_weeks",
            ),
        )
        if choice == "0":
            return lambda i: i["due_date"] is None
        if choice == "any":
            return lambda i: i["due_date"] is not None
        if choice == "overdue":
            cut = today.isoformat()
            return lambda i: i["due_date"] is not None and i["due_date"] < cut
        if choice == "today":
            start = end = today
        elif choice == "tomorrow":
            start = end = today + timedelta(days=1)
        elif choice == "week":
            start = today - timedelta(days=today.weekday())
            end = start + timedelta(days=6)
        elif choice == "month":
            start = today.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        else:
            start = today - timedelta(days=14)
            end = (today.replace(day=1) + timedelta(days=64)).replace(day=1) - timedelta(days=1)
        low, high = start.isoformat(), end.isoformat()
        return lambda i: i["due_date"] is not None and low <= i["due_date"] <= high

    # ------------------------------------------------------------------------- issue read/write

    def _get_issue(self, request: Request) -> Response:
        _, issue = self._route_issue(request)
        return Response(200, self._issue_json(issue, single=True))

    def _create_issue_route(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        issue = self.create_issue(project, request_params(request), OWNER_ID)
        return Response(201, self._issue_json(issue, single=True))

    def _update_issue_route(self, request: Request) -> Response:
        project, issue = self._route_issue(request)
        params = request_params(request)
        if not any(field in params for field in UPDATE_FIELDS):
            fields = ", ".join(UPDATE_FIELDS)
            raise HttpError(400, {"error": f"{fields} are missing, at least one parameter must be provided"})
        self.update_issue(project, issue, params, OWNER_ID)
        return Response(200, self._issue_json(issue, single=True))

    def _delete_issue_route(self, request: Request) -> Response:
        project, issue = self._route_issue(request)
        self.delete_issue(project, issue)
        return Response(204)

    def create_issue(self, project: Record, params: Params, author_id: int) -> Record:
        """Validate and store a new issue as ``POST /projects/:id/issues`` does."""
        if "title" not in params or params["title"] is None:
            raise missing("title")
        now = iso_z(self.now())
        issue: Record = {
            "id": self._next_id("issue"),
            "iid": project["next_issue_iid"],
            "project_id": project["id"],
            "title": "",
            "description": None,
            "state": "opened",
            "labels": [],
            "milestone_id": None,
            "assignee_ids": [],
            "author_id": author_id,
            "due_date": None,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
            "closed_by_id": None,
            "confidential": False,
            "discussion_locked": None,
            "weight": None,
            "issue_type": "issue",
            "upvotes": 0,
        }
        if "iid" in params and params["iid"] not in (None, ""):
            issue["iid"] = as_int(params["iid"], "iid")
            if str(issue["iid"]) in project["issue_iids"]:
                raise HttpError(409, {"message": "Duplicated issue"})
        self._apply_issue_fields(project, issue, params, author_id, creating=True)
        if params.get("created_at"):
            issue["created_at"] = issue["updated_at"] = as_time(params["created_at"], "created_at")
        project["next_issue_iid"] = max(project["next_issue_iid"], issue["iid"] + 1)
        project["issue_iids"][str(issue["iid"])] = issue["id"]
        project["last_activity_at"] = issue["updated_at"]
        self.state["issues"][str(issue["id"])] = issue
        self._invalidate()
        return issue

    def update_issue(self, project: Record, issue: Record, params: Params, actor_id: int) -> Record:
        """Apply ``PUT /projects/:id/issues/:iid`` fields; bumps ``updated_at`` only if something changed."""
        before = {k: (list(v) if isinstance(v, list) else v) for k, v in issue.items()}
        self._apply_issue_fields(project, issue, params, actor_id, creating=False)
        changed = issue != before
        if params.get("updated_at"):
            issue["updated_at"] = as_time(params["updated_at"], "updated_at")
        elif changed:
            issue["updated_at"] = iso_z(self.now())
        if changed:
            project["last_activity_at"] = issue["updated_at"]
            self._invalidate()
        return issue

    def _apply_issue_fields(
        self, project: Record, issue: Record, params: Params, actor_id: int, *, creating: bool
    ) -> None:
        """Validate every given field first, then write them, so a 400 leaves the issue untouched."""
        staged: Record = {}
        if "title" in params:
            title = str(params["title"] or "").strip()
            if not title:
                raise HttpError(400, {"message": {"title": ["can't be blank"]}})
            if len(title) > 255:
                raise HttpError(400, {"message": {"title": ["is too long (maximum is 255 characters)"]}})
            staged["title"] = title
        if "description" in params:
            description = params["description"]
            if description is not None and len(str(description)) > 1_048_576:
                raise HttpError(
                    400, {"message": {"description": ["is too long (maximum is 1048576 characters)"]}}
                )
            staged["description"] = None if description is None else str(description)
        if "due_date" in params:
            staged["due_date"] = as_date(params["due_date"], "due_date")
        if "confidential" in params:
            staged["confidential"] = as_bool(params["confidential"], "confidential")
        if "discussion_locked" in params:
            staged["discussion_locked"] = as_bool(params["discussion_locked"], "discussion_locked")
        if "issue_type" in params:
            staged["issue_type"] = as_choice(params["issue_type"], "issue_type", ISSUE_TYPES)
        if "weight" in params:
            if params["weight"] in (None, ""):
                staged["weight"] = None
            else:
                weight = as_int(params["weight"], "weight")
                if weight < 0:
                    raise HttpError(400, {"message": {"weight": ["must be greater than or equal to 0"]}})
                staged["weight"] = weight
        if "milestone_id" in params:
            raw = params["milestone_id"]
            milestone_id = None if raw in (None, "") else as_int(raw, "milestone_id")
            milestone = self.state["milestones"].get(str(milestone_id)) if milestone_id else None
            # GitLab's filter_milestone turns an id outside the project into "no milestone".
            staged["milestone_id"] = (
                milestone["id"] if milestone and milestone["project_id"] == project["id"] else None
            )
        if "assignee_ids" in params or "assignee_id" in params:
            name = "assignee_ids" if "assignee_ids" in params else "assignee_id"
            ids = as_int_list(params[name], name)
            # Unknown users are dropped (filter_assignees); 0 means "unassign everyone".
            staged["assignee_ids"] = [i for i in dict.fromkeys(ids) if i and str(i) in self.state["users"]]
        state_event = params.get("state_event")
        if state_event not in (None, ""):
            state_event = as_choice(state_event, "state_event", ("close", "reopen"))
        labels: list[str] | None = None
        if "labels" in params:
            labels = as_names(params["labels"])
        if "add_labels" in params or "remove_labels" in params:
            current = labels if labels is not None else list(issue["labels"])
            add = as_names(params.get("add_labels"))
            remove = set(as_names(params.get("remove_labels")))
            labels = [n for n in [*current, *add] if n not in remove]
            labels = list(dict.fromkeys(labels))
        if labels is not None:
            staged["labels"] = sorted(self._ensure_labels(project, labels))
        issue.update(staged)
        if state_event == "close" and issue["state"] == "opened":
            issue["state"] = "closed"
            issue["closed_at"] = iso_z(self.now())
            issue["closed_by_id"] = actor_id
        elif state_event == "reopen" and issue["state"] == "closed":
            issue["state"] = "opened"
            issue["closed_at"] = None
            issue["closed_by_id"] = None

    def _ensure_labels(self, project: Record, names: list[str]) -> list[str]:
        """Existing labels by name; unknown ones are created on the fly, as GitLab does."""
        known = self._labels_of(project["id"])
        for label_name in names:
            if label_name not in known:
                known[label_name] = self._store_label(project, label_name, LABEL_DEFAULT_COLOR, None, None)
        return names

    def _store_label(
        self, project: Record, name: str, color: str, description: str | None, priority: int | None
    ) -> Record:
        label = {
            "id": self._next_id("label"),
            "project_id": project["id"],
            "name": name,
            "color": color,
            "description": description,
            "priority": priority,
        }
        self.state["labels"][str(label["id"])] = label
        return label

    def delete_issue(self, project: Record, issue: Record) -> None:
        """Remove an issue with its notes and links."""
        del self.state["issues"][str(issue["id"])]
        project["issue_iids"].pop(str(issue["iid"]), None)
        self.state["notes"].pop(str(issue["id"]), None)
        links = self.state["links"]
        for link_id in [k for k, v in links.items() if issue["id"] in (v["source_id"], v["target_id"])]:
            del links[link_id]
        self._invalidate()

    # ------------------------------------------------------------------------------------- notes

    def _list_notes(self, request: Request) -> Response:
        _, issue = self._route_issue(request)
        order_by = as_choice(
            request.arg("order_by") or "created_at", "order_by", ("created_at", "updated_at")
        )
        descending = as_choice(request.arg("sort") or "desc", "sort", ("asc", "desc")) == "desc"
        notes = list(self.state["notes"].get(str(issue["id"]), []))
        ordered = sort_records(notes, lambda n: n[order_by], descending=descending)
        return offset_page(request, ordered, lambda n: self._note_json(n, issue))

    def _note(self, issue: Record, note_id: str) -> Record:
        wanted = as_int(note_id, "note_id")
        note: Record
        for note in self.state["notes"].get(str(issue["id"]), []):
            if note["id"] == wanted:
                return note
        raise HttpError(404, {"message": "404 Note Not Found"})

    def _get_note(self, request: Request) -> Response:
        _, issue = self._route_issue(request)
        return Response(200, self._note_json(self._note(issue, request.params["note_id"]), issue))

    def _create_note_route(self, request: Request) -> Response:
        _, issue = self._route_issue(request)
        note = self.create_note(issue, request_params(request), OWNER_ID)
        return Response(201, self._note_json(note, issue))

    def create_note(self, issue: Record, params: Params, author_id: int, *, system: bool = False) -> Record:
        """Store a comment; like GitLab it touches the issue's ``updated_at`` (notes touch their noteable)."""
        if "body" not in params or params["body"] is None:
            raise missing("body")
        body = str(params["body"])
        if not body.strip():
            raise HttpError(400, {"message": {"note": ["can't be blank"]}})
        if len(body) > 1_000_000:
            raise HttpError(400, {"message": {"note": ["is too long (maximum is 1000000 characters)"]}})
        now = iso_z(self.now())
        note = {
            "id": self._next_id("note"),
            "body": body,
            "author_id": author_id,
            "created_at": now,
            "updated_at": now,
            "system": system,
            "internal": as_bool(params.get("internal", params.get("confidential")), "internal"),
        }
        if params.get("created_at"):
            note["created_at"] = note["updated_at"] = as_time(params["created_at"], "created_at")
        self.state["notes"].setdefault(str(issue["id"]), []).append(note)
        issue["updated_at"] = max(issue["updated_at"], note["updated_at"])
        self._invalidate()
        return note

    def _update_note_route(self, request: Request) -> Response:
        _, issue = self._route_issue(request)
        note = self._note(issue, request.params["note_id"])
        params = request_params(request)
        if "body" not in params:
            raise missing("body")
        self.update_note(issue, note, params)
        return Response(200, self._note_json(note, issue))

    def update_note(self, issue: Record, note: Record, params: Params) -> Record:
        """Edit a comment's body."""
        body = str(params.get("body") or "")
        if not body.strip():
            raise HttpError(400, {"message": {"note": ["can't be blank"]}})
        if body != note["body"]:
            note["body"] = body
            note["updated_at"] = iso_z(self.now())
            issue["updated_at"] = max(issue["updated_at"], note["updated_at"])
            self._invalidate()
        return note

    def _delete_note_route(self, request: Request) -> Response:
        _, issue = self._route_issue(request)
        note = self._note(issue, request.params["note_id"])
        self.state["notes"][str(issue["id"])].remove(note)
        self._invalidate()
        return Response(204)

    # ---------------------------------------------------------------------- related MRs and links

    def _related_mrs(self, request: Request) -> Response:
        project, issue = self._route_issue(request)
        related = [
            mr
            for mr in sorted(self.state["merge_requests"].values(), key=lambda m: m["id"])
            if mr["project_id"] == project["id"]
            and issue["iid"] in mentioned_iids(f"{mr['title']}\n{mr['description'] or ''}")
        ]
        return offset_page(request, related, lambda m: self._mr_json(m, full=True))

    def _closed_by(self, request: Request) -> Response:
        project, issue = self._route_issue(request)
        # GitLab's Issue#closed_by_merge_requests returns nothing once the issue is closed.
        closing = (
            [] if issue["state"] != "opened" else self._closing_index(project["id"]).get(issue["iid"], [])
        )
        return offset_page(request, closing, self._mr_json)

    def _link_json(self, link: Record, issue: Record) -> Record:
        """The linked issue as seen from ``issue``, with the link's id, type and times."""
        outgoing = link["source_id"] == issue["id"]
        other = self.state["issues"][str(link["target_id"] if outgoing else link["source_id"])]
        data = self._issue_json(other)
        data.update(
            {
                "issue_link_id": link["id"],
                "link_type": link["link_type"] if outgoing else INVERSE_LINK[link["link_type"]],
                "link_created_at": link["created_at"],
                "link_updated_at": link["updated_at"],
            }
        )
        return data

    def _links_of(self, issue: Record) -> list[Record]:
        links = [v for v in self.state["links"].values() if issue["id"] in (v["source_id"], v["target_id"])]
        return sorted(links, key=lambda v: (v["created_at"], v["id"]))

    def _list_links(self, request: Request) -> Response:
        _, issue = self._route_issue(request)
        return Response(200, [self._link_json(link, issue) for link in self._links_of(issue)])

    def _create_link(self, request: Request) -> Response:
        _, issue = self._route_issue(request)
        params = request_params(request)
        for name in ("target_project_id", "target_issue_iid"):
            if params.get(name) in (None, ""):
                raise missing(name)
        target_project = self._project(str(params["target_project_id"]))
        target = self._issue(target_project, str(params["target_issue_iid"]))
        link_type = as_choice(params.get("link_type") or "relates_to", "link_type", LINK_TYPES)
        if target["id"] == issue["id"]:
            raise HttpError(400, {"message": "Cannot link an issue to itself"})  # UNVERIFIED wording
        for link in self._links_of(issue):
            if target["id"] in (link["source_id"], link["target_id"]):
                raise HttpError(409, {"message": "Issue(s) already assigned"})
        now = iso_z(self.now())
        link = {
            "id": self._next_id("link"),
            "source_id": issue["id"],
            "target_id": target["id"],
            "link_type": link_type,
            "created_at": now,
            "updated_at": now,
        }
        self.state["links"][str(link["id"])] = link
        self._invalidate()
        return Response(201, self._link_pair(link))

    def _link_pair(self, link: Record) -> Record:
        return {
            "source_issue": self._issue_json(self.state["issues"][str(link["source_id"])]),
            "target_issue": self._issue_json(self.state["issues"][str(link["target_id"])]),
            "link_type": link["link_type"],
        }

    def _route_link(self, request: Request) -> Record:
        _, issue = self._route_issue(request)
        wanted = as_int(request.params["issue_link_id"], "issue_link_id")
        for link in self._links_of(issue):
            if link["id"] == wanted:
                return link
        raise HttpError(404, {"message": "404 Not found"})

    def _get_link(self, request: Request) -> Response:
        return Response(200, self._link_pair(self._route_link(request)))

    def _delete_link(self, request: Request) -> Response:
        link = self._route_link(request)
        body = self._link_pair(link)
        del self.state["links"][str(link["id"])]
        self._invalidate()
        return Response(200, body)

    # -------------------------------------------------------------------------------- milestones

    def _list_milestones(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        milestones = [m for m in self.state["milestones"].values() if m["project_id"] == project["id"]]
        state = request.arg("state")
        if state:
            as_choice(state, "state", ("active", "closed"))
            milestones = [m for m in milestones if m["state"] == state]
        iids = {as_int(v, "iids") for v in request.args("iids")}
        if iids:
            milestones = [m for m in milestones if m["iid"] in iids]
        title = request.arg("title")
        if title is not None:
            milestones = [m for m in milestones if m["title"] == title]
        search = (request.arg("search") or "").lower()
        if search:
            milestones = [
                m
                for m in milestones
                if search in m["title"].lower() or search in (m["description"] or "").lower()
            ]
        for name, after in (("updated_after", True), ("updated_before", False)):
            raw = request.arg(name)
            if raw:  # UNVERIFIED (newer GitLab): inclusive like the issue filters
                bound = as_time(raw, name)
                milestones = [
                    m for m in milestones if (m["updated_at"] >= bound if after else m["updated_at"] <= bound)
                ]
        # GitLab lists milestones by due date (soonest first, undated last), then id.
        ordered = sort_records(milestones, lambda m: m["due_date"], descending=False)
        return offset_page(request, ordered, self._milestone_json)

    def _get_milestone(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        return Response(200, self._milestone_json(self._milestone(project, request.params["milestone_id"])))

    def _create_milestone_route(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        return Response(201, self._milestone_json(self.create_milestone(project, request_params(request))))

    def _update_milestone_route(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        milestone = self._milestone(project, request.params["milestone_id"])
        params = request_params(request)
        fields = ("title", "description", "due_date", "start_date", "state_event")
        if not any(f in params for f in fields):
            names = ", ".join(fields)
            raise HttpError(400, {"error": f"{names} are missing, at least one parameter must be provided"})
        return Response(200, self._milestone_json(self.update_milestone(project, milestone, params)))

    def _milestone_issues(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        milestone = self._milestone(project, request.params["milestone_id"])
        issues = [i for i in self.state["issues"].values() if i["milestone_id"] == milestone["id"]]
        ordered = sort_records(issues, lambda i: i["created_at"], descending=True)
        return offset_page(request, ordered, self._issue_json)

    def create_milestone(self, project: Record, params: Params) -> Record:
        """Validate and store a milestone (``POST /projects/:id/milestones``)."""
        if params.get("title") is None:
            raise missing("title")
        now = iso_z(self.now())
        milestone: Record = {
            "id": self._next_id("milestone"),
            "iid": project["next_milestone_iid"],
            "project_id": project["id"],
            "title": "",
            "description": None,
            "state": "active",
            "due_date": None,
            "start_date": None,
            "created_at": now,
            "updated_at": now,
        }
        self._apply_milestone_fields(project, milestone, params)
        project["next_milestone_iid"] += 1
        self.state["milestones"][str(milestone["id"])] = milestone
        self._invalidate()
        return milestone

    def update_milestone(self, project: Record, milestone: Record, params: Params) -> Record:
        """Edit a milestone; ``state_event`` is ``close`` or ``activate``."""
        before = dict(milestone)
        self._apply_milestone_fields(project, milestone, params)
        if milestone != before:
            milestone["updated_at"] = iso_z(self.now())
            self._invalidate()
        return milestone

    def _apply_milestone_fields(self, project: Record, milestone: Record, params: Params) -> None:
        staged: Record = {}
        if "title" in params:
            title = str(params["title"] or "").strip()
            if not title:
                raise HttpError(400, {"message": {"title": ["can't be blank"]}})
            clash = any(
                m["title"] == title and m["id"] != milestone["id"]
                for m in self.state["milestones"].values()
                if m["project_id"] == project["id"]
            )
            if clash:
                raise HttpError(
                    400,
                    {"message": {"title": ["already being used for another group or project milestone."]}},
                )
            staged["title"] = title
        if "description" in params:
            staged["description"] = params["description"]
        for name in ("due_date", "start_date"):
            if name in params:
                staged[name] = as_date(params[name], name)
        start = staged.get("start_date", milestone["start_date"])
        due = staged.get("due_date", milestone["due_date"])
        if start and due and due < start:
            raise HttpError(400, {"message": {"due_date": ["must be greater than start date"]}})
        event = params.get("state_event")
        if event not in (None, ""):
            staged["state"] = (
                "closed" if as_choice(event, "state_event", ("close", "activate")) == "close" else "active"
            )
        milestone.update(staged)

    # ------------------------------------------------------------------------------------ labels

    def _list_labels(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        labels = sorted(
            self._labels_of(project["id"]).values(), key=lambda lab: (lab["name"].lower(), lab["id"])
        )
        search = (request.arg("search") or "").lower()
        if search:
            labels = [lab for lab in labels if search in lab["name"].lower()]
        if not as_bool(request.arg("with_counts"), "with_counts"):
            return offset_page(request, labels, self._label_json)
        counts = {
            lab["name"]: {"open_issues_count": 0, "closed_issues_count": 0, "open_merge_requests_count": 0}
            for lab in labels
        }
        for issue in self.state["issues"].values():
            if issue["project_id"] == project["id"]:
                key = "open_issues_count" if issue["state"] == "opened" else "closed_issues_count"
                for name in issue["labels"]:
                    if name in counts:
                        counts[name][key] += 1
        for mr in self.state["merge_requests"].values():
            if mr["project_id"] == project["id"] and mr["state"] == "opened":
                for name in mr["labels"]:
                    if name in counts:
                        counts[name]["open_merge_requests_count"] += 1
        return offset_page(request, labels, lambda lab: self._label_json(lab, counts[lab["name"]]))

    def _get_label(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        ref = request.params["label_id"]
        labels = self._labels_of(project["id"])
        found = labels.get(ref) or next((lab for lab in labels.values() if str(lab["id"]) == ref), None)
        if found is None:
            raise HttpError(404, {"message": "404 Label Not Found"})
        return Response(200, self._label_json(found))

    def _create_label_route(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        params = request_params(request)
        for required in ("name", "color"):
            if params.get(required) is None:
                raise missing(required)
        name = str(params["name"]).strip()
        if not name:
            raise HttpError(400, {"message": {"title": ["can't be blank"]}})
        color = str(params["color"]).strip()
        if not COLOR_RE.match(color):
            raise HttpError(400, {"message": {"color": ["must be a valid color code"]}})
        if name in self._labels_of(project["id"]):
            raise HttpError(409, {"message": "Label already exists"})
        priority = None if params.get("priority") in (None, "") else as_int(params["priority"], "priority")
        label = self._store_label(project, name, color, params.get("description"), priority)
        self._invalidate()
        return Response(201, self._label_json(label))

    # ----------------------------------------------------------------------------- merge requests

    def _list_mrs(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        state = as_choice(
            request.arg("state") or "all", "state", ("opened", "closed", "locked", "merged", "all")
        )
        order_by = as_choice(request.arg("order_by") or "created_at", "order_by", MR_ORDERS)
        descending = as_choice(request.arg("sort") or "desc", "sort", ("asc", "desc")) == "desc"
        mrs = [m for m in self.state["merge_requests"].values() if m["project_id"] == project["id"]]
        if state != "all":
            mrs = [m for m in mrs if m["state"] == state]
        iids = {as_int(v, "iids") for v in request.args("iids")}
        if iids:
            mrs = [m for m in mrs if m["iid"] in iids]
        for name in ("source_branch", "target_branch"):
            value = request.arg(name)
            if value is not None:
                mrs = [m for m in mrs if m[name] == value]
        labels = as_names(request.args("labels"))
        if labels:
            mrs = [m for m in mrs if set(labels).issubset(m["labels"])]
        search = (request.arg("search") or "").lower()
        if search:
            mrs = [
                m for m in mrs if search in m["title"].lower() or search in (m["description"] or "").lower()
            ]
        draft = request.arg("draft", request.arg("wip"))
        if draft is not None:
            want = draft.lower() in ("yes", "true")
            mrs = [m for m in mrs if bool(DRAFT_RE.match(m["title"])) == want]
        for name, field, after in (
            ("created_after", "created_at", True),
            ("created_before", "created_at", False),
            ("updated_after", "updated_at", True),
            ("updated_before", "updated_at", False),
        ):
            raw = request.arg(name)
            if raw:
                bound = as_time(raw, name)
                mrs = [m for m in mrs if (m[field] >= bound if after else m[field] <= bound)]
        field = order_by if order_by in ("created_at", "updated_at", "title", "merged_at") else "created_at"
        ordered = sort_records(mrs, lambda m: m[field], descending=descending)
        return offset_page(request, ordered, self._mr_json)

    def _get_mr(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        return Response(200, self._mr_json(self._mr(project, request.params["merge_request_iid"]), full=True))

    def _mr_commits(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        mr = self._mr(project, request.params["merge_request_iid"])
        path = path_of(project)
        commits = [{**c, "web_url": self._web(f"{path}/-/commit/{c['id']}")} for c in reversed(mr["commits"])]
        return offset_page(request, commits, lambda c: c)

    def create_mr(self, project: Record, params: Params, author_id: int) -> Record:
        """Store a merge request (admin only: pmtui never opens MRs)."""
        if not str(params.get("title") or "").strip():
            raise missing("title")
        for name in ("source_branch", "target_branch"):
            params.setdefault(
                name, "main" if name == "target_branch" else f"feature-{project['next_mr_iid']}"
            )
        now = iso_z(self.now())
        title = str(params["title"]).strip()
        if as_bool(params.get("draft"), "draft") and not DRAFT_RE.match(title):
            title = f"Draft: {title}"
        mr: Record = {
            "id": self._next_id("merge_request"),
            "iid": project["next_mr_iid"],
            "project_id": project["id"],
            "title": title,
            "description": params.get("description"),
            "state": "opened",
            "created_at": now,
            "updated_at": now,
            "merged_at": None,
            "merged_by_id": None,
            "closed_at": None,
            "closed_by_id": None,
            "target_branch": str(params["target_branch"]),
            "source_branch": str(params["source_branch"]),
            "author_id": author_id,
            "assignee_ids": as_int_list(params.get("assignee_ids"), "assignee_ids"),
            "labels": sorted(self._ensure_labels(project, as_names(params.get("labels")))),
            "milestone_id": params.get("milestone_id"),
            "sha": self._sha(),
            "base_sha": self._sha(),
            "merge_commit_sha": None,
            "commits": [],
            "pipeline": None,
        }
        for n in range(max(1, as_int(params.get("commit_count", 1), "commit_count"))):
            mr["commits"].append(
                self._commit(f"{title.removeprefix('Draft: ')} ({n + 1})", now, mr["author_id"])
            )
        mr["sha"] = mr["commits"][-1]["id"]
        project["next_mr_iid"] += 1
        self.state["merge_requests"][str(mr["id"])] = mr
        self.update_mr(
            project,
            mr,
            {k: v for k, v in params.items() if k in ("pipeline_status", "state_event")},
            author_id,
        )
        self._invalidate()
        return mr

    def update_mr(self, project: Record, mr: Record, params: Params, actor_id: int) -> Record:
        """Edit an MR; ``state_event`` close|reopen|merge (merging closes the issues it names)."""
        now = iso_z(self.now())
        if "title" in params:
            mr["title"] = str(params["title"]).strip() or mr["title"]
        if "description" in params:
            mr["description"] = params["description"]
        if "labels" in params:
            mr["labels"] = sorted(self._ensure_labels(project, as_names(params["labels"])))
        if "assignee_ids" in params:
            mr["assignee_ids"] = [i for i in as_int_list(params["assignee_ids"], "assignee_ids") if i]
        if params.get("pipeline_status"):
            status = as_choice(
                params["pipeline_status"],
                "pipeline_status",
                ("success", "failed", "running", "pending", "canceled"),
            )
            if mr["pipeline"] is None:
                pid = self._next_id("pipeline")
                mr["pipeline"] = {
                    "id": pid,
                    "iid": pid - 8000,
                    "status": status,
                    "created_at": now,
                    "updated_at": now,
                }
            else:
                mr["pipeline"].update({"status": status, "updated_at": now})
        event = params.get("state_event")
        if event:
            event = as_choice(event, "state_event", ("close", "reopen", "merge"))
            if event == "close" and mr["state"] == "opened":
                mr.update({"state": "closed", "closed_at": now, "closed_by_id": actor_id})
            elif event == "reopen" and mr["state"] == "closed":
                mr.update({"state": "opened", "closed_at": None, "closed_by_id": None})
            elif event == "merge" and mr["state"] == "opened":
                mr.update({"state": "merged", "merged_at": now, "merged_by_id": actor_id})
                mr["merge_commit_sha"] = self._sha()
                for iid in closing_iids(mr["description"]):
                    issue = self._issue_by_iid(project["id"], iid)
                    if issue is not None and issue["state"] == "opened":
                        self.update_issue(project, issue, {"state_event": "close"}, actor_id)
                        self.create_note(
                            issue, {"body": f"closed via merge request !{mr['iid']}"}, actor_id, system=True
                        )
        mr["updated_at"] = now
        self._invalidate()
        return mr

    def _sha(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def _commit(self, title: str, when: str, author_id: int) -> Record:
        user = self.state["users"][str(author_id)]
        sha = self._sha()
        return {
            "id": sha,
            "short_id": sha[:8],
            "created_at": when,
            "parent_ids": [],
            "title": title,
            "message": f"{title}\n",
            "author_name": user["name"],
            "author_email": user["email"],
            "authored_date": when,
            "committer_name": user["name"],
            "committer_email": user["email"],
            "committed_date": when,
            "trailers": {},
            "extended_trailers": {},
        }

    # ------------------------------------------------------------------------------------ boards

    def _board(self, project: Record, board_id: str) -> Record:
        board: Record | None = self.state["boards"].get(str(as_int(board_id, "board_id")))
        if board is None or board["project_id"] != project["id"]:
            raise HttpError(404, {"message": "404 Board Not Found"})
        return board

    @staticmethod
    def _offset_only(request: Request) -> None:
        """Boards and lists have no keyset pagination: GitLab's paginate helper answers 405."""
        if is_keyset(request):
            raise HttpError(405, {"error": "Keyset pagination is not yet available for this type of request"})

    def _list_boards(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        self._offset_only(request)
        boards = sorted(
            (b for b in self.state["boards"].values() if b["project_id"] == project["id"]),
            key=lambda b: b["id"],
        )
        return offset_page(request, boards, self._board_json)

    def _get_board(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        return Response(200, self._board_json(self._board(project, request.params["board_id"])))

    def _list_board_lists(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        board = self._board(project, request.params["board_id"])
        self._offset_only(request)
        lists = sorted(board["lists"], key=lambda x: x["position"])
        return offset_page(request, lists, self._board_list_json)

    def _get_board_list(self, request: Request) -> Response:
        project = self._project(request.params["id"])
        board = self._board(project, request.params["board_id"])
        wanted = as_int(request.params["list_id"], "list_id")
        for board_list in board["lists"]:
            if board_list["id"] == wanted:
                return Response(200, self._board_list_json(board_list))
        raise HttpError(404, {"message": "404 List Not Found"})

    def create_board(self, project: Record, name: str, label_names: list[str]) -> Record:
        """A board whose lists follow the given labels (created if missing), positions 0..n-1."""
        labels = self._labels_of(project["id"])
        self._ensure_labels(project, label_names)
        labels = self._labels_of(project["id"])
        board = {
            "id": self._next_id("board"),
            "project_id": project["id"],
            "name": name,
            "lists": [
                {"id": self._next_id("board_list"), "label_id": labels[n]["id"], "position": pos}
                for pos, n in enumerate(label_names)
            ],
        }
        self.state["boards"][str(board["id"])] = board
        self._invalidate()
        return board

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


# ------------------------------------------------------------------------------------------ helpers


def _user_record(user_id: int, username: str, name: str, created: str) -> Record:
    return {
        "id": user_id,
        "username": username,
        "name": name,
        "state": "active",
        "email": f"{username}@acme.example",
        "created_at": created,
    }


def _time_test(field: str, bound: str, *, after: bool) -> Callable[[Record], bool]:
    """An inclusive ``*_after``/``*_before`` filter on a stored ISO timestamp (sortable as text)."""
    if after:
        return lambda record: bool(record[field] >= bound)
    return lambda record: bool(record[field] <= bound)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _issue_sort_value(order_by: str, state: dict[str, Any]) -> Callable[[Record], Any]:
    """The per-issue value GitLab orders by (ties broken by id; nulls last)."""
    if order_by in ("created_at", "updated_at", "due_date", "title", "weight", "id"):
        return lambda i: i[order_by]
    if order_by == "milestone_due":
        milestones = state["milestones"]
        return lambda i: (milestones.get(str(i["milestone_id"])) or {}).get("due_date")
    if order_by == "popularity":
        return lambda i: i.get("upvotes", 0)
    # relative_position, priority and label_priority have no stored value here; GitLab falls back to
    # id order for issues that were never positioned or prioritised, so do the same.
    return lambda i: i["id"]
