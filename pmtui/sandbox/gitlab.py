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
from datetime import UTC, date, datetime, timedelta
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

API = "/api/v4"
OWNER_ID = 1
"""The user the API token belongs to (project owner, so it may delete issues)."""

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
TASK_RE = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+\[([ xX~])\]", re.MULTILINE)
# GitLab's default issue_closing_pattern, simplified to same-project ``#N`` references.
CLOSING_RE = re.compile(
    r"\b(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?):?\s+"
    r"(?:issues?\s+)?((?:#\d+(?:\s*,?\s*(?:and\s+)?)?)+)",
    re.IGNORECASE,
)
MENTION_RE = re.compile(r"(?<![\w/!&])#(\d+)\b")
DRAFT_RE = re.compile(r"^\s*(?:\[draft\]|\(draft\)|draft:|draft\s-\s|draft\s)", re.IGNORECASE)
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


def closing_iids(text: str | None) -> list[int]:
    """Issue iids an MR description closes on merge (``Closes #4, #5``)."""
    found: list[int] = []
    for group in CLOSING_RE.findall(text or ""):
        for number in re.findall(r"#(\d+)", group):
            if int(number) not in found:
                found.append(int(number))
    return found


def mentioned_iids(text: str | None) -> set[int]:
    """Every same-project ``#N`` issue reference in a text."""
    return {int(n) for n in MENTION_RE.findall(text or "")}


def _http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)



class GitLabEmulator(ServiceEmulator):
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

    def _project_record(self, pid: int, namespace: str, path: str, namespace_name: str, created: str) -> Record:
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
            return self._throttled(self.limiter, reset_at)
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

    def _throttled(self, limiter: WindowLimiter, reset_at: float) -> Response:
        return self.throttled_response(max(1.0, reset_at - self.clock.time()))

    def _rate_headers(self, limiter: WindowLimiter, name: str | None = "throttle_authenticated_api") -> dict[str, str]:
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
            return {
                "project_id": project["id"],
                "project_path": _path_of(project),
                "user": self.state["users"][str(OWNER_ID)]["username"],
            }

    # ------------------------------------------------------------------------------------ lookups

    def _project(self, ref: str) -> Record:
        projects = self.state["projects"]
        if ref.isdigit():
            found = projects.get(str(int(ref)))
        else:
            wanted = ref.strip("/").lower()
            found = next((p for p in projects.values() if _path_of(p).lower() == wanted), None)
        if found is None:
            raise HttpError(404, {"message": "404 Project Not Found"})
        return found

    def _issue(self, project: Record, iid_text: str) -> Record:
        iid = as_int(iid_text, "issue_iid")
        issue_id = project["issue_iids"].get(str(iid))
        if issue_id is None:
            raise HttpError(404, {"message": "404 Issue Not Found"})
        return self.state["issues"][str(issue_id)]

    def _route_issue(self, request: Request) -> tuple[Record, Record]:
        project = self._project(request.params["id"])
        return project, self._issue(project, request.params["issue_iid"])

    def _issue_by_iid(self, project_id: int, iid: int) -> Record | None:
        project = self.state["projects"].get(str(project_id))
        if project is None:
            return None
        issue_id = project["issue_iids"].get(str(iid))
        return None if issue_id is None else self.state["issues"].get(str(issue_id))

    def _labels_of(self, project_id: int) -> dict[str, Record]:
        return {lab["name"]: lab for lab in self.state["labels"].values() if lab["project_id"] == project_id}

    def _milestone(self, project: Record, milestone_id: str) -> Record:
        found = self.state["milestones"].get(str(as_int(milestone_id, "milestone_id")))
        if found is None or found["project_id"] != project["id"]:
            raise HttpError(404, {"message": "404 Milestone Not Found"})
        return found

    def _mr(self, project: Record, iid_text: str) -> Record:
        iid = as_int(iid_text, "merge_request_iid")
        for mr in self.state["merge_requests"].values():
            if mr["project_id"] == project["id"] and mr["iid"] == iid:
                return mr
        raise HttpError(404, {"message": "404 Merge Request Not Found"})

    def _closing_index(self, project_id: int) -> dict[int, list[Record]]:
        """Issue iid -> MRs whose description closes it (cached until the next write)."""
        index = self._closing_cache.get(project_id)
        if index is None:
            index = {}
            for mr in sorted(self.state["merge_requests"].values(), key=lambda m: m["id"]):
                if mr["project_id"] == project_id:
                    for iid in closing_iids(mr.get("description")):
                        index.setdefault(iid, []).append(mr)
            self._closing_cache[project_id] = index
        return index

    # ----------------------------------------------------------------------------------- rendering

    def _web(self, path: str) -> str:
        return f"{self.external_url}/{path.lstrip('/')}"

    def _user_json(self, user_id: int | None) -> Record | None:
        user = self.state["users"].get(str(user_id)) if user_id is not None else None
        if user is None:
            return None
        return {
            "id": user["id"],
            "username": user["username"],
            "public_email": None,
            "name": user["name"],
            "state": user["state"],
            "locked": False,
            "avatar_url": f"https://www.gravatar.com/avatar/{user['id']:032x}?s=80&d=identicon",
            "web_url": self._web(user["username"]),
        }

    def _milestone_json(self, milestone: Record) -> Record:
        today = self.now().date().isoformat()
        project = self.state["projects"][str(milestone["project_id"])]
        return {
            "id": milestone["id"],
            "iid": milestone["iid"],
            "project_id": milestone["project_id"],
            "title": milestone["title"],
            "description": milestone["description"],
            "state": milestone["state"],
            "created_at": milestone["created_at"],
            "updated_at": milestone["updated_at"],
            "due_date": milestone["due_date"],
            "start_date": milestone["start_date"],
            "expired": bool(milestone["due_date"] and milestone["due_date"] < today),
            "web_url": self._web(f"{_path_of(project)}/-/milestones/{milestone['iid']}"),
        }

    def _label_json(self, label: Record, counts: dict[str, int] | None = None) -> Record:
        data: Record = {
            "id": label["id"],
            "name": label["name"],
            "description": label["description"],
            "description_html": label["description"] or "",
            "text_color": _text_color(label["color"]),
            "color": label["color"],
            "subscribed": False,
            "priority": label["priority"],
            "is_project_label": True,
        }
        if counts is not None:
            data.update(counts)
        return data

    def _issue_json(self, issue: Record, *, single: bool = False, label_details: bool = False) -> Record:
        project = self.state["projects"][str(issue["project_id"])]
        path = _path_of(project)
        iid = issue["iid"]
        api_self = f"{self.external_url}{API}/projects/{project['id']}/issues/{iid}"
        milestone = self.state["milestones"].get(str(issue["milestone_id"])) if issue["milestone_id"] else None
        assignees = [u for u in (self._user_json(a) for a in issue["assignee_ids"]) if u is not None]
        notes = self.state["notes"].get(str(issue["id"]), [])
        tasks = TASK_RE.findall(issue["description"] or "")
        done = sum(1 for t in tasks if t in "xX")
        labels: list[Any] = sorted(issue["labels"])
        if label_details:
            known = self._labels_of(project["id"])
            labels = [self._label_json(known[n]) for n in labels if n in known]
        data: Record = {
            "id": issue["id"],
            "iid": iid,
            "project_id": issue["project_id"],
            "title": issue["title"],
            "description": issue["description"],
            "state": issue["state"],
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
            "closed_at": issue["closed_at"],
            "closed_by": self._user_json(issue["closed_by_id"]),
            "labels": labels,
            "milestone": self._milestone_json(milestone) if milestone else None,
            "assignees": assignees,
            "author": self._user_json(issue["author_id"]),
            "type": "ISSUE",
            "assignee": assignees[0] if assignees else None,
            "user_notes_count": sum(1 for n in notes if not n["system"]),
            "merge_requests_count": len(self._closing_index(project["id"]).get(iid, [])),
            "upvotes": issue.get("upvotes", 0),
            "downvotes": 0,
            "due_date": issue["due_date"],
            "confidential": issue["confidential"],
            "discussion_locked": issue["discussion_locked"],
            "issue_type": issue["issue_type"],
            "web_url": self._web(f"{path}/-/issues/{iid}"),
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "task_completion_status": {"count": len(tasks), "completed_count": done},
            "weight": issue["weight"],
            "blocking_issues_count": 0,
            "has_tasks": bool(tasks),
            "task_status": f"{done} of {len(tasks)} checklist items completed",
            "_links": {
                "self": api_self,
                "notes": f"{api_self}/notes",
                "award_emoji": f"{api_self}/award_emoji",
                "project": f"{self.external_url}{API}/projects/{project['id']}",
                "closed_as_duplicate_of": None,
            },
            "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{path}#{iid}"},
            "severity": "UNKNOWN",
            "moved_to_id": None,
            "imported": False,
            "imported_from": "none",
            "service_desk_reply_to": None,
        }
        if single:
            data["subscribed"] = issue["author_id"] == OWNER_ID or OWNER_ID in issue["assignee_ids"]
        return data

    def _note_json(self, note: Record, issue: Record) -> Record:
        return {
            "id": note["id"],
            "type": None,
            "body": note["body"],
            "author": self._user_json(note["author_id"]),
            "created_at": note["created_at"],
            "updated_at": note["updated_at"],
            "system": note["system"],
            "noteable_id": issue["id"],
            "noteable_type": "Issue",
            "project_id": issue["project_id"],
            "resolvable": False,
            "confidential": note["internal"],
            "internal": note["internal"],
            "imported": False,
            "imported_from": "none",
            "noteable_iid": issue["iid"],
            "commands_changes": {},
        }

    def _pipeline_json(self, mr: Record) -> Record | None:
        pipeline = mr.get("pipeline")
        if pipeline is None:
            return None
        project = self.state["projects"][str(mr["project_id"])]
        status = pipeline["status"]
        return {
            "id": pipeline["id"],
            "iid": pipeline["iid"],
            "project_id": mr["project_id"],
            "sha": mr["sha"],
            "ref": f"refs/merge-requests/{mr['iid']}/head",
            "status": status,
            "source": "merge_request_event",
            "created_at": pipeline["created_at"],
            "updated_at": pipeline["updated_at"],
            "web_url": self._web(f"{_path_of(project)}/-/pipelines/{pipeline['id']}"),
            "detailed_status": {
                "icon": f"status_{status}",
                "text": status.capitalize(),
                "label": "passed" if status == "success" else status,
                "group": status,
                "has_details": True,
            },
        }

    def _mr_json(self, mr: Record, *, full: bool = False) -> Record:
        project = self.state["projects"][str(mr["project_id"])]
        path = _path_of(project)
        milestone = self.state["milestones"].get(str(mr["milestone_id"])) if mr.get("milestone_id") else None
        assignees = [u for u in (self._user_json(a) for a in mr["assignee_ids"]) if u is not None]
        draft = bool(DRAFT_RE.match(mr["title"]))
        tasks = TASK_RE.findall(mr["description"] or "")
        if mr["state"] == "opened":
            detailed = "draft_status" if draft else "mergeable"
            if not draft and mr.get("pipeline") and mr["pipeline"]["status"] != "success":
                detailed = "ci_must_pass"
        else:
            detailed = "not_open"
        data: Record = {
            "id": mr["id"],
            "iid": mr["iid"],
            "project_id": mr["project_id"],
            "title": mr["title"],
            "description": mr["description"],
            "state": mr["state"],
            "created_at": mr["created_at"],
            "updated_at": mr["updated_at"],
            "merged_by": self._user_json(mr["merged_by_id"]),
            "merge_user": self._user_json(mr["merged_by_id"]),
            "merged_at": mr["merged_at"],
            "closed_by": self._user_json(mr["closed_by_id"]),
            "closed_at": mr["closed_at"],
            "target_branch": mr["target_branch"],
            "source_branch": mr["source_branch"],
            "user_notes_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "author": self._user_json(mr["author_id"]),
            "assignees": assignees,
            "assignee": assignees[0] if assignees else None,
            "reviewers": [],
            "source_project_id": mr["project_id"],
            "target_project_id": mr["project_id"],
            "labels": sorted(mr["labels"]),
            "draft": draft,
            "work_in_progress": draft,
            "milestone": self._milestone_json(milestone) if milestone else None,
            "merge_when_pipeline_succeeds": False,
            "merge_status": "can_be_merged" if mr["state"] == "opened" else "unchecked",
            "detailed_merge_status": detailed,
            "sha": mr["sha"],
            "merge_commit_sha": mr.get("merge_commit_sha"),
            "squash_commit_sha": None,
            "discussion_locked": None,
            "should_remove_source_branch": None,
            "force_remove_source_branch": True,
            "reference": f"!{mr['iid']}",
            "references": {"short": f"!{mr['iid']}", "relative": f"!{mr['iid']}", "full": f"{path}!{mr['iid']}"},
            "web_url": self._web(f"{path}/-/merge_requests/{mr['iid']}"),
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "squash": False,
            "squash_on_merge": False,
            "task_completion_status": {
                "count": len(tasks),
                "completed_count": sum(1 for t in tasks if t in "xX"),
            },
            "has_conflicts": False,
            "blocking_discussions_resolved": True,
            "imported": False,
            "imported_from": "none",
        }
        if full:
            # The list endpoints use GitLab's MergeRequestBasic entity; only the full entity (single MR,
            # related_merge_requests) carries the pipeline. UNVERIFIED: related_merge_requests' entity.
            pipeline = self._pipeline_json(mr)
            data.update(
                {
                    "subscribed": mr["author_id"] == OWNER_ID,
                    "changes_count": str(len(mr["commits"])),
                    "latest_build_started_at": pipeline["created_at"] if pipeline else None,
                    "latest_build_finished_at": None,
                    "first_deployed_to_production_at": None,
                    "pipeline": pipeline,
                    "head_pipeline": pipeline,
                    "diff_refs": {
                        "base_sha": mr["base_sha"],
                        "head_sha": mr["sha"],
                        "start_sha": mr["base_sha"],
                    },
                    "merge_error": None,
                    "first_contribution": False,
                    "user": {"can_merge": True},
                }
            )
        return data

    def _project_json(self, project: Record) -> Record:
        path = _path_of(project)
        namespace = project["namespace_path"]
        return {
            "id": project["id"],
            "description": project["description"],
            "name": project["name"],
            "name_with_namespace": f"{project['namespace_name']} / {project['name']}",
            "path": project["path"],
            "path_with_namespace": path,
            "created_at": project["created_at"],
            "default_branch": project["default_branch"],
            "tag_list": [],
            "topics": [],
            "ssh_url_to_repo": f"git@{self.external_url.split('://', 1)[-1]}:{path}.git",
            "http_url_to_repo": self._web(f"{path}.git"),
            "web_url": self._web(path),
            "readme_url": self._web(f"{path}/-/blob/main/README.md"),
            "forks_count": 0,
            "avatar_url": None,
            "star_count": 0,
            "last_activity_at": project["last_activity_at"],
            "visibility": "private",
            "namespace": {
                "id": project["namespace_id"],
                "name": project["namespace_name"],
                "path": namespace,
                "kind": "group",
                "full_path": namespace,
                "parent_id": None,
                "avatar_url": None,
                "web_url": self._web(f"groups/{namespace}"),
            },
            "_links": {
                "self": f"{self.external_url}{API}/projects/{project['id']}",
                "issues": f"{self.external_url}{API}/projects/{project['id']}/issues",
                "merge_requests": f"{self.external_url}{API}/projects/{project['id']}/merge_requests",
                "labels": f"{self.external_url}{API}/projects/{project['id']}/labels",
            },
            "archived": False,
            "issues_enabled": True,
            "merge_requests_enabled": True,
            "open_issues_count": sum(
                1
                for i in self.state["issues"].values()
                if i["project_id"] == project["id"] and i["state"] == "opened"
            ),
            "permissions": {"project_access": {"access_level": 50, "notification_level": 3}, "group_access": None},
        }

    def _board_list_json(self, board_list: Record) -> Record:
        label = self.state["labels"].get(str(board_list["label_id"]))
        return {
            "id": board_list["id"],
            "label": self._label_json(label) if label else None,
            "position": board_list["position"],
            "max_issue_count": 0,
            "max_issue_weight": 0,
            "limit_metric": None,
        }

    def _board_json(self, board: Record) -> Record:
        project = self.state["projects"][str(board["project_id"])]
        return {
            "id": board["id"],
            "name": board["name"],
            "hide_backlog_list": False,
            "hide_closed_list": False,
            "project": {
                "id": project["id"],
                "name": project["name"],
                "name_with_namespace": f"{project['namespace_name']} / {project['name']}",
                "path": project["path"],
                "path_with_namespace": _path_of(project),
                "http_url_to_repo": self._web(f"{_path_of(project)}.git"),
                "web_url": self._web(_path_of(project)),
            },
            "milestone": None,
            "assignee": None,
            "labels": [],
            "weight": None,
            "lists": [self._board_list_json(x) for x in sorted(board["lists"], key=lambda x: x["position"])],
        }
