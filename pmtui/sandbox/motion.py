"""Emulator of Motion's REST API v1 (usemotion.com), faithful enough for pmtui's httpx client.

Facts come from ``API_NOTES.md`` section 4. Motion's reference is only known through transcriptions, so
many shapes are UNVERIFIED; every such choice is marked ``UNVERIFIED`` below with the form picked.
The points a client must survive are real, though: 50 items per page with no way to ask for more, no
"updated since" filter (a sync scans everything), only unresolved tasks unless asked otherwise, and a
budget of 12 requests per minute.

Demo and bulk data live in :mod:`pmtui.sandbox.motion_seed`; slot computation for auto-scheduled tasks
in :func:`schedule_slot`.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import math
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from pmtui.sandbox.server import (
    Clock,
    HttpError,
    Request,
    Response,
    ServiceEmulator,
    WindowLimiter,
    iso_z,
    parse_iso,
)

DEFAULT_API_KEY = "cG10dWktc2FuZGJveC1tb3Rpb24ta2V5LTAwMDAwMDAx"
"""A fake key shaped like Motion's (a base64 string shown once in Settings > API)."""

DEFAULT_REQUESTS_PER_MINUTE = 12
"""Motion's individual tier (docs.usemotion.com/cookbooks/rate-limits); teams may get 120."""

PAGE_SIZE = 50
"""Motion reports ``meta.pageSize`` 50 (a captured ``GET /v1/tasks`` shows it) and has no parameter to
change it."""

PRIORITIES = ("ASAP", "HIGH", "MEDIUM", "LOW")
DEADLINE_TYPES = ("HARD", "SOFT", "NONE")
DURATION_WORDS = ("NONE", "REMINDER")
WORK_HOURS = "Work Hours"
DEFAULT_DURATION = 30
"""Minutes given to a task created without ``duration`` (Motion's app default; UNVERIFIED for the API)."""

WORKDAY_START = time(9, 0)
WORKDAY_END = time(17, 0)
"""The "Work Hours" schedule, in UTC: the emulator knows no user time zone."""

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def schedule_slot(
    earliest: datetime, duration: int | str, due: datetime | None
) -> tuple[str | None, str | None, bool]:
    """The slot Motion's scheduler would plausibly pick: ``(scheduledStart, scheduledEnd, issue)``.

    A deterministic stand-in for the real scheduler: the first quarter hour at or after ``earliest``
    inside weekday work hours where the whole task fits (a task longer than a work day starts at 9:00).
    ``issue`` is true when the slot ends after the due date, which Motion shows as a scheduling issue.
    Reminders and ``NONE`` durations occupy no time, so they get no slot.
    """
    if not isinstance(duration, int):
        return None, None, False
    length = timedelta(minutes=duration)
    start = earliest.astimezone(UTC).replace(second=0, microsecond=0)
    if start < earliest:
        start += timedelta(minutes=1)
    start += timedelta(minutes=(-start.minute) % 15)
    for _ in range(366):
        day_start = datetime.combine(start.date(), WORKDAY_START, tzinfo=UTC)
        day_end = datetime.combine(start.date(), WORKDAY_END, tzinfo=UTC)
        if start.weekday() < 5:
            start = max(start, day_start)
            if start + length <= day_end or (start == day_start and length > day_end - day_start):
                break
        start = day_start + timedelta(days=1)
    end = start + length
    return iso_z(start), iso_z(end), due is not None and end > due


def encode_cursor(seq: int, item_id: str) -> str:
    """An opaque cursor naming the last item served, so edits during paging cannot shift a page."""
    return base64.urlsafe_b64encode(f"{seq}:{item_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The creation sequence number inside a cursor; 400 if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        seq_text, _, item_id = text.partition(":")
        if not item_id:
            raise ValueError(text)
        return int(seq_text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise HttpError(400, {"message": "Invalid cursor"}) from exc


def _bad(message: str) -> HttpError:
    return HttpError(400, {"message": message})


def _parse_bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _bad(f"{name} must be a boolean")


def _parse_datetime(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{name} must be an ISO 8601 date-time string")
    try:
        return iso_z(parse_iso(value))
    except ValueError as exc:
        raise _bad(f"{name} must be an ISO 8601 date-time string") from exc


def _parse_date(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(f"{name} must be an ISO 8601 date")
    try:
        return parse_iso(value).date().isoformat()
    except ValueError as exc:
        raise _bad(f"{name} must be an ISO 8601 date") from exc


class MotionEmulator(ServiceEmulator):
    """Motion's ``/v1`` REST API: workspaces, users, statuses, projects, tasks and comments.

    State is plain dicts keyed by id. Tasks, projects and comments carry a creation sequence number
    ``seq`` and an ordered id list, so a page is found by bisection instead of a scan from the start,
    and a cursor (the last ``seq`` served) stays valid while items are edited or deleted.
    """

    name: ClassVar[str] = "motion"

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        api_key: str = DEFAULT_API_KEY,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    ) -> None:
        # reset_state() (called by the base constructor) rebuilds the limiter and the id generator
        # from these, so they must exist before it runs; nothing else precedes super().__init__().
        self._seed = seed
        self.requests_per_minute = requests_per_minute
        super().__init__(clock=clock, seed=seed)
        self.api_key = api_key
        self.route("GET", "/v1/workspaces", self._list_workspaces)
        self.route("GET", "/v1/users/me", self._get_me)
        self.route("GET", "/v1/users", self._list_users)
        self.route("GET", "/v1/statuses", self._list_statuses)
        self.route("GET", "/v1/projects", self._list_projects)
        self.route("POST", "/v1/projects", self._create_project)
        self.route("GET", "/v1/projects/:id", self._get_project)
        self.route("GET", "/v1/tasks", self._list_tasks)
        self.route("POST", "/v1/tasks", self._create_task)
        self.route("GET", "/v1/tasks/:id", self._get_task)
        self.route("PATCH", "/v1/tasks/:id", self._update_task)
        self.route("DELETE", "/v1/tasks/:id", self._delete_task)
        self.route("GET", "/v1/comments", self._list_comments)
        self.route("POST", "/v1/comments", self._create_comment)

    # ------------------------------------------------------------------------------------ hooks

    def reset_state(self) -> None:
        """Empty the data, restart ids and give back the full request budget."""
        self.limiter = WindowLimiter(self.requests_per_minute, 60.0, self.clock)
        self.clear_data()

    def clear_data(self) -> None:
        """Empty every collection and restart the id generator, so every seed reproduces the same ids."""
        self.rng = random.Random(self._seed)
        self.state = {
            "me": None,
            "users": {},
            "workspaces": {},
            "projects": {},
            "project_order": [],
            "tasks": {},
            "task_order": [],
            "comments": {},
            "comment_order": [],
            "seq": 0,
        }

    def authenticate(self, request: Request) -> None:
        """Motion reads the key from ``X-API-Key``; a missing or wrong key is a 401."""
        if request.header("x-api-key") != self.api_key:
            raise HttpError(401, {"message": "Unauthorized"})

    def error_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        """Errors are ``{"message": "..."}`` (UNVERIFIED: Motion documents no error shape)."""
        message = body.get("message") if isinstance(body, dict) else None
        return Response(status, {"message": str(message or body)}, headers)

    def rate_limit(self, request: Request) -> Response | None:
        """A fixed 60 s window on the emulator clock; every authenticated ``/v1`` request costs one."""
        allowed, _remaining, reset_at = self.limiter.take()
        if allowed:
            return None
        return self.throttled_response(reset_at - self.clock.time())

    def throttled_response(self, retry_after: float) -> Response:
        """429 with ``Retry-After`` in whole seconds (UNVERIFIED: Motion documents neither)."""
        seconds = max(1, math.ceil(retry_after))
        return Response(429, {"message": "Rate limit exceeded"}, {"Retry-After": str(seconds)})

    # ------------------------------------------------------------------------------ public api

    def config_hints(self) -> dict[str, Any]:
        """The workspace and user pmtui's Motion settings point at (the first team workspace)."""
        with self.lock:
            workspaces = list(self.state["workspaces"].values())
            team = next((w for w in workspaces if w["type"] == "TEAM"), workspaces[0] if workspaces else None)
            return {"workspace_id": team["id"] if team else None, "user_id": self.state["me"]}

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``{"kind": "demo"}`` or ``{"kind": "bulk", "n": N, "changed_share"?: f}``; returns counts."""
        from pmtui.sandbox import motion_seed

        kind = spec.get("kind")
        with self.lock:
            if kind == "demo":
                return motion_seed.seed_demo(self)
            if kind == "bulk":
                return motion_seed.seed_bulk(
                    self, int(spec.get("n", 1000)), float(spec.get("changed_share", 0.1))
                )
        raise _bad(f"motion cannot seed {spec!r}; expected kind 'demo' or 'bulk'")

    def admin_mutate(self, op: dict[str, Any]) -> Any:
        """Create, update or delete a task or project as another workspace member would."""
        action, kind = op.get("op"), op.get("kind")
        fields = dict(op.get("fields") or {})
        with self.lock:
            if kind == "task":
                if action == "create":
                    fields.setdefault("workspaceId", self.config_hints()["workspace_id"])
                    creator = self._other_user(fields["workspaceId"])
                    return self._render_task(self._insert_task(fields, creator_id=creator))
                task = self._task(str(op.get("id")))
                if action == "update":
                    return self._render_task(self._apply_task_fields(task, fields, creating=False))
                if action == "delete":
                    self._remove_task(task["id"])
                    return {"id": task["id"], "deleted": True}
            if kind == "project":
                if action == "create":
                    fields.setdefault("workspaceId", self.config_hints()["workspace_id"])
                    return self._render_project(self._insert_project(fields))
                project = self._project(str(op.get("id")))
                if action == "update":
                    return self._render_project(self._update_project(project, fields))
                if action == "delete":
                    self._remove_project(project["id"])
                    return {"id": project["id"], "deleted": True}
        raise _bad(f"motion has no admin mutation {action!r} on {kind!r}; kinds: task, project")

    # ------------------------------------------------------------------------ id and time helpers

    def new_id(self) -> str:
        """A 21-character id like Motion's, drawn from the seeded generator."""
        return "".join(self.rng.choices(_ID_ALPHABET, k=21))

    def next_seq(self) -> int:
        """The next creation sequence number (the stable listing order)."""
        self.state["seq"] += 1
        return int(self.state["seq"])

    def now_iso(self) -> str:
        return iso_z(self.now())

    # ------------------------------------------------------------------------------- rendering

    @staticmethod
    def _render_status(workspace: dict[str, Any], name: str) -> dict[str, Any]:
        for status in workspace["statuses"]:
            if status["name"] == name:
                return dict(status)
        return {"name": name, "isDefaultStatus": False, "isResolvedStatus": False}

    def _render_user(self, user_id: str) -> dict[str, Any]:
        user = self.state["users"][user_id]
        return {"id": user["id"], "name": user["name"], "email": user["email"]}

    def _render_workspace(self, workspace: dict[str, Any]) -> dict[str, Any]:
        """A workspace with its labels and statuses (tasks embed the same full object)."""
        shown = {k: workspace[k] for k in ("id", "name", "teamId", "type")}
        shown["labels"] = [{"name": label} for label in workspace["labels"]]
        shown["statuses"] = [dict(s) for s in workspace["statuses"]]
        return shown

    def _render_project(self, project: dict[str, Any]) -> dict[str, Any]:
        workspace = self.state["workspaces"][project["workspaceId"]]
        shown: dict[str, Any] = {
            "id": project["id"],
            "name": project["name"],
            "description": project["description"],
            "workspaceId": project["workspaceId"],
            "status": self._render_status(workspace, project["status"]),
            "createdTime": project["createdTime"],
            "updatedTime": project["updatedTime"],
            "customFieldValues": dict(project["customFieldValues"]),
        }
        return shown

    def _render_task(self, task: dict[str, Any]) -> dict[str, Any]:
        workspace = self.state["workspaces"][task["workspaceId"]]
        project = self.state["projects"].get(task["projectId"]) if task["projectId"] else None
        return {
            "id": task["id"],
            "name": task["name"],
            "description": task["description"],
            "duration": task["duration"],
            "dueDate": task["dueDate"],
            "deadlineType": task["deadlineType"],
            "parentRecurringTaskId": None,
            "completed": task["completed"],
            "completedTime": task["completedTime"],
            "createdTime": task["createdTime"],
            "updatedTime": task["updatedTime"],
            "startOn": task["startOn"],
            "creator": self._render_user(task["creatorId"]),
            "project": self._render_project(project) if project else None,
            "workspace": self._render_workspace(workspace),
            "status": self._render_status(workspace, task["status"]),
            "priority": task["priority"],
            "labels": [{"name": label} for label in task["labels"]],
            "assignees": [self._render_user(uid) for uid in task["assigneeIds"]],
            "scheduledStart": task["scheduledStart"],
            "scheduledEnd": task["scheduledEnd"],
            "schedulingIssue": task["schedulingIssue"],
            "lastInteractedTime": task.get("lastInteractedTime") or task["updatedTime"],
            "chunks": [],
            "customFieldValues": dict(task["customFieldValues"]),
        }

    def _render_comment(self, comment: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": comment["id"],
            "taskId": comment["taskId"],
            "content": comment["content"],
            "createdAt": comment["createdAt"],
            "creator": self._render_user(comment["creatorId"]),
        }

    # ---------------------------------------------------------------------------------- lookups

    def _workspace(self, workspace_id: Any, *, field: str = "workspaceId") -> dict[str, Any]:
        # An unknown id given as a field or filter is a validation error (400); one in the path a 404.
        workspace: dict[str, Any] | None = (
            self.state["workspaces"].get(workspace_id) if isinstance(workspace_id, str) else None
        )
        if workspace is None:
            raise _bad(f"{field}: workspace {workspace_id!r} not found")
        return workspace

    def _task(self, task_id: str) -> dict[str, Any]:
        task: dict[str, Any] | None = self.state["tasks"].get(task_id)
        if task is None:
            raise HttpError(404, {"message": "Task not found"})
        return task

    def _project(self, project_id: str) -> dict[str, Any]:
        project: dict[str, Any] | None = self.state["projects"].get(project_id)
        if project is None:
            raise HttpError(404, {"message": "Project not found"})
        return project

    def _other_user(self, workspace_id: str) -> str:
        """A workspace member who is not the API key's owner (the author of admin edits)."""
        me: str = self.state["me"]
        members: list[str] = self._workspace(workspace_id)["memberIds"]
        return next((uid for uid in members if uid != me), me)

    # ---------------------------------------------------------------------------------- paging

    def _page(
        self,
        order: list[str],
        records: dict[str, dict[str, Any]],
        cursor: str | None,
        keep: Callable[[dict[str, Any]], bool],
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The next :data:`PAGE_SIZE` records after ``cursor`` that pass ``keep``, and the ``meta``.

        ``meta.nextCursor`` is omitted on the last page (UNVERIFIED: the notes allow absent or null;
        we chose absent, consistently, so clients must use ``.get``). We look one match ahead so that a
        listing of exactly 600 items takes exactly 30 requests, with no empty trailing page.
        """
        start = 0
        if cursor:
            after = decode_cursor(cursor)
            start = bisect.bisect_right(order, after, key=lambda rid: records[rid]["seq"])
        found: list[dict[str, Any]] = []
        more = False
        for index in range(start, len(order)):
            record = records[order[index]]
            if not keep(record):
                continue
            if len(found) == PAGE_SIZE:
                more = True
                break
            found.append(record)
        meta: dict[str, Any] = {"pageSize": PAGE_SIZE}
        if more:
            meta["nextCursor"] = encode_cursor(found[-1]["seq"], found[-1]["id"])
        return found, meta

    # ------------------------------------------------------------------------ workspaces, users

    def _list_workspaces(self, request: Request) -> Response:
        """``{meta, workspaces}`` (the notes' recommended form of a conflicting wrapper)."""
        wanted = {i for raw in request.args("ids") for i in raw.split(",") if i}
        with self.lock:
            workspaces = [
                self._render_workspace(w)
                for w in self.state["workspaces"].values()
                if not wanted or w["id"] in wanted
            ]
        return Response(200, {"meta": {"pageSize": PAGE_SIZE}, "workspaces": workspaces})

    def _get_me(self, request: Request) -> Response:
        with self.lock:
            return Response(200, self._render_user(self.state["me"]))

    def _list_users(self, request: Request) -> Response:
        """Members of one workspace (or every known user); ``{meta, users}`` (UNVERIFIED wrapper)."""
        workspace_id = request.arg("workspaceId")
        with self.lock:
            if workspace_id:
                ids = list(self._workspace(workspace_id)["memberIds"])
            else:
                ids = list(self.state["users"])
            users = [self._render_user(uid) for uid in ids]
        return Response(200, {"meta": {"pageSize": PAGE_SIZE}, "users": users})

    def _list_statuses(self, request: Request) -> Response:
        """A bare array of statuses (UNVERIFIED: the wrapper is unknown; we chose no wrapper)."""
        workspace_id = request.arg("workspaceId")
        with self.lock:
            if workspace_id:
                workspaces = [self._workspace(workspace_id)]
            else:
                workspaces = list(self.state["workspaces"].values())
            seen: dict[str, dict[str, Any]] = {}
            for workspace in workspaces:
                for status in workspace["statuses"]:
                    seen.setdefault(status["name"], dict(status))
        return Response(200, list(seen.values()))

    # ---------------------------------------------------------------------------------- projects

    def _list_projects(self, request: Request) -> Response:
        workspace_id = request.arg("workspaceId")
        with self.lock:
            if workspace_id:
                self._workspace(workspace_id)
            found, meta = self._page(
                self.state["project_order"],
                self.state["projects"],
                request.arg("cursor"),
                lambda p: not workspace_id or p["workspaceId"] == workspace_id,
            )
            projects = [self._render_project(p) for p in found]
        return Response(200, {"meta": meta, "projects": projects})

    def _get_project(self, request: Request) -> Response:
        with self.lock:
            return Response(200, self._render_project(self._project(request.params["id"])))

    def _create_project(self, request: Request) -> Response:
        """200 and the project (UNVERIFIED status code; the transcriptions show 200 for tasks)."""
        body = request.form()
        with self.lock:
            return Response(200, self._render_project(self._insert_project(body)))

    def _insert_project(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad("name is required")
        workspace = self._workspace(body.get("workspaceId"))
        now = self.now_iso()
        project = {
            "id": self.new_id(),
            "seq": self.next_seq(),
            "name": name,
            "description": "",
            "workspaceId": workspace["id"],
            "status": self._default_status(workspace),
            "dueDate": None,
            "priority": "MEDIUM",
            "labels": [],
            "createdTime": now,
            "updatedTime": now,
            "customFieldValues": {},
        }
        self._apply_project_fields(project, workspace, body)
        self.state["projects"][project["id"]] = project
        self.state["project_order"].append(project["id"])
        return project

    def _apply_project_fields(
        self, project: dict[str, Any], workspace: dict[str, Any], body: dict[str, Any]
    ) -> None:
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise _bad("name must be a non-empty string")
            project["name"] = body["name"]
        if body.get("description") is not None:
            if not isinstance(body["description"], str):
                raise _bad("description must be a string")
            project["description"] = body["description"]
        if "dueDate" in body:
            project["dueDate"] = (
                None if body["dueDate"] is None else _parse_datetime("dueDate", body["dueDate"])
            )
        if "priority" in body:
            project["priority"] = self._check_priority(body["priority"])
        if "labels" in body:
            project["labels"] = self._check_labels(workspace, body["labels"])
        if "status" in body:
            project["status"] = self._check_status(workspace, body["status"])

    def _update_project(self, project: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        workspace = self.state["workspaces"][project["workspaceId"]]
        self._apply_project_fields(project, workspace, fields)
        project["updatedTime"] = self.now_iso()
        return project

    def _remove_project(self, project_id: str) -> None:
        del self.state["projects"][project_id]
        self.state["project_order"].remove(project_id)
        for task in self.state["tasks"].values():
            if task["projectId"] == project_id:
                task["projectId"] = None

    # ------------------------------------------------------------------------------ validation

    @staticmethod
    def _default_status(workspace: dict[str, Any]) -> str:
        statuses: list[dict[str, Any]] = workspace["statuses"]
        return str(next((s["name"] for s in statuses if s["isDefaultStatus"]), statuses[0]["name"]))

    @staticmethod
    def _check_status(workspace: dict[str, Any], value: Any) -> str:
        names = [s["name"] for s in workspace["statuses"]]
        if not isinstance(value, str) or value not in names:
            raise _bad(f"status {value!r} does not exist in this workspace; expected one of {names}")
        return value

    @staticmethod
    def _check_priority(value: Any) -> str:
        if value not in PRIORITIES:
            raise _bad(f"priority must be one of {', '.join(PRIORITIES)}")
        return str(value)

    @staticmethod
    def _check_labels(workspace: dict[str, Any], value: Any) -> list[str]:
        """Label names; a name the workspace lacks is added to it (as Motion's app does)."""
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _bad("labels must be an array of label names")
        for label in value:
            if label not in workspace["labels"]:
                workspace["labels"].append(label)
        return list(dict.fromkeys(value))

    @staticmethod
    def _check_duration(value: Any) -> int | str:
        if value in DURATION_WORDS:
            return str(value)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        raise _bad('duration must be "NONE", "REMINDER" or a whole number of minutes greater than 0')

    def _check_auto_scheduled(self, value: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _bad("autoScheduled must be null or an object")
        deadline_type = value.get("deadlineType", "SOFT")
        if deadline_type not in DEADLINE_TYPES:
            raise _bad(f"autoScheduled.deadlineType must be one of {', '.join(DEADLINE_TYPES)}")
        schedule = value.get("schedule", WORK_HOURS)
        # Only the default schedule exists here; Motion also knows each user's custom schedules.
        if schedule != WORK_HOURS:
            raise _bad(f"autoScheduled.schedule {schedule!r} not found; expected {WORK_HOURS!r}")
        start_date = value.get("startDate")
        return {
            "startDate": None if start_date is None else _parse_date("autoScheduled.startDate", start_date),
            "deadlineType": deadline_type,
            "schedule": schedule,
        }

    # ------------------------------------------------------------------------------------ tasks

    def _list_tasks(self, request: Request) -> Response:
        """Filters as transcribed; without ``status``/``includeAllStatuses`` only unresolved tasks."""
        statuses = set(request.args("status"))
        include_all = _parse_bool("includeAllStatuses", request.arg("includeAllStatuses"))
        if statuses and include_all is not None:
            raise _bad("status and includeAllStatuses cannot be used together")
        workspace_id = request.arg("workspaceId")
        project_id = request.arg("projectId")
        assignee_id = request.arg("assigneeId")
        label = request.arg("label")
        name = (request.arg("name") or "").lower()
        with self.lock:
            if workspace_id:
                self._workspace(workspace_id)
            resolved = {
                (w["id"], s["name"])
                for w in self.state["workspaces"].values()
                for s in w["statuses"]
                if s["isResolvedStatus"]
            }

            def keep(task: dict[str, Any]) -> bool:
                if workspace_id and task["workspaceId"] != workspace_id:
                    return False
                if project_id and task["projectId"] != project_id:
                    return False
                if assignee_id and assignee_id not in task["assigneeIds"]:
                    return False
                if label and label not in task["labels"]:
                    return False
                if name and name not in task["name"].lower():
                    return False
                if statuses:
                    return task["status"] in statuses
                return bool(include_all) or (task["workspaceId"], task["status"]) not in resolved

            found, meta = self._page(
                self.state["task_order"], self.state["tasks"], request.arg("cursor"), keep
            )
            tasks = [self._render_task(t) for t in found]
        return Response(200, {"meta": meta, "tasks": tasks})

    def _get_task(self, request: Request) -> Response:
        with self.lock:
            return Response(200, self._render_task(self._task(request.params["id"])))

    def _create_task(self, request: Request) -> Response:
        """200 and the task (status code per the transcription; 201 is UNVERIFIED)."""
        body = request.form()
        with self.lock:
            task = self._insert_task(body, creator_id=self.state["me"])
            return Response(200, self._render_task(task))

    def _update_task(self, request: Request) -> Response:
        body = request.form()
        with self.lock:
            task = self._task(request.params["id"])
            return Response(200, self._render_task(self._apply_task_fields(task, body, creating=False)))

    def _delete_task(self, request: Request) -> Response:
        """204 with an empty body (UNVERIFIED status code)."""
        with self.lock:
            self._remove_task(self._task(request.params["id"])["id"])
        return Response(204)

    def _insert_task(self, body: dict[str, Any], *, creator_id: str) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad("name is required")
        workspace = self._workspace(body.get("workspaceId"))
        now = self.now_iso()
        task: dict[str, Any] = {
            "id": "",
            "seq": 0,
            "name": name,
            "description": "",
            "duration": DEFAULT_DURATION,
            "dueDate": None,
            "deadlineType": "SOFT",
            "completed": False,
            "completedTime": None,
            "createdTime": now,
            "updatedTime": now,
            "startOn": self.now().date().isoformat(),
            "creatorId": creator_id,
            "projectId": None,
            "workspaceId": workspace["id"],
            "status": self._default_status(workspace),
            "priority": "MEDIUM",
            "labels": [],
            "assigneeIds": [],
            "autoScheduled": None,
            "scheduledStart": None,
            "scheduledEnd": None,
            "schedulingIssue": False,
            "customFieldValues": {},
        }
        # _apply_task_fields validates every field before changing anything, so a rejected request
        # takes no id and leaves no trace.
        self._apply_task_fields(task, body, creating=True)
        task["id"] = self.new_id()
        task["seq"] = self.next_seq()
        self.state["tasks"][task["id"]] = task
        self.state["task_order"].append(task["id"])
        return task

    def _apply_task_fields(
        self, task: dict[str, Any], body: dict[str, Any], *, creating: bool
    ) -> dict[str, Any]:
        """Validate ``body`` fully, then apply it to ``task``; shared by POST, PATCH and admin edits."""
        workspace = self.state["workspaces"][task["workspaceId"]]
        if not creating and "workspaceId" in body and body["workspaceId"] != task["workspaceId"]:
            raise _bad("workspaceId cannot be changed here; use PATCH /v1/tasks/{id}/move")
        changes: dict[str, Any] = {}
        if not creating and "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise _bad("name must be a non-empty string")
            changes["name"] = body["name"]
        if body.get("description") is not None:
            if not isinstance(body["description"], str):
                raise _bad("description must be a string")
            # Stored as sent (GitHub-flavoured Markdown); whether Motion echoes HTML is UNVERIFIED.
            changes["description"] = body["description"]
        if "dueDate" in body:
            changes["dueDate"] = (
                None if body["dueDate"] is None else _parse_datetime("dueDate", body["dueDate"])
            )
        if "duration" in body:
            changes["duration"] = self._check_duration(body["duration"])
        if "status" in body:
            changes["status"] = self._check_status(workspace, body["status"])
        if "projectId" in body:
            project_id = body["projectId"]
            if project_id is not None:
                project = self.state["projects"].get(project_id) if isinstance(project_id, str) else None
                if project is None or project["workspaceId"] != workspace["id"]:
                    raise _bad(f"projectId: project {project_id!r} not found in this workspace")
            changes["projectId"] = project_id
        if "priority" in body:
            changes["priority"] = self._check_priority(body["priority"])
        if "assigneeId" in body:
            assignee = body["assigneeId"]
            if assignee is not None and assignee not in workspace["memberIds"]:
                raise _bad(f"assigneeId: user {assignee!r} is not a member of this workspace")
            changes["assigneeIds"] = [] if assignee is None else [assignee]
        if "autoScheduled" in body:
            changes["autoScheduled"] = self._check_auto_scheduled(body["autoScheduled"])
        auto = changes.get("autoScheduled", task["autoScheduled"])
        if auto is not None and changes.get("dueDate", task["dueDate"]) is None:
            raise _bad("dueDate is required when autoScheduled is set")
        if "labels" in body:
            # Last, because it may add names to the workspace: nothing may fail after it.
            changes["labels"] = self._check_labels(workspace, body["labels"])

        task.update(changes)
        if "status" in changes:
            resolved = self._render_status(workspace, task["status"])["isResolvedStatus"]
            if resolved and not task["completed"]:
                task["completed"], task["completedTime"] = True, self.now_iso()
            elif not resolved:
                task["completed"], task["completedTime"] = False, None
        if auto is not None:
            task["deadlineType"] = auto["deadlineType"]
            if auto["startDate"]:
                task["startOn"] = auto["startDate"]
        if auto is None:
            task["scheduledStart"], task["scheduledEnd"], task["schedulingIssue"] = None, None, False
        elif {"autoScheduled", "dueDate", "duration"} & changes.keys():
            self._reschedule(task)
        if not creating:
            task["updatedTime"] = self.now_iso()
        return task

    def _reschedule(self, task: dict[str, Any]) -> None:
        auto = task["autoScheduled"]
        earliest = self.now()
        if auto and auto["startDate"]:
            earliest = max(
                earliest, datetime.combine(date.fromisoformat(auto["startDate"]), time(0), tzinfo=UTC)
            )
        due = parse_iso(task["dueDate"]) if task["dueDate"] else None
        start, end, issue = schedule_slot(earliest, task["duration"], due)
        task["scheduledStart"], task["scheduledEnd"], task["schedulingIssue"] = start, end, issue

    def _remove_task(self, task_id: str) -> None:
        tasks: dict[str, dict[str, Any]] = self.state["tasks"]
        order: list[str] = self.state["task_order"]
        # The order list is sorted by seq: bisect instead of list.remove(), which is slow at 50,000.
        index = bisect.bisect_left(order, tasks[task_id]["seq"], key=lambda rid: tasks[rid]["seq"])
        if index < len(order) and order[index] == task_id:
            del order[index]
        else:
            order.remove(task_id)
        del tasks[task_id]
        for comment_id in [c["id"] for c in self.state["comments"].values() if c["taskId"] == task_id]:
            del self.state["comments"][comment_id]
            self.state["comment_order"].remove(comment_id)

    # --------------------------------------------------------------------------------- comments

    def _list_comments(self, request: Request) -> Response:
        """``{meta, comments}`` oldest first (UNVERIFIED shape)."""
        task_id = request.arg("taskId")
        if not task_id:
            raise _bad("taskId is required")
        with self.lock:
            self._task(task_id)
            found, meta = self._page(
                self.state["comment_order"],
                self.state["comments"],
                request.arg("cursor"),
                lambda c: c["taskId"] == task_id,
            )
            comments = [self._render_comment(c) for c in found]
        return Response(200, {"meta": meta, "comments": comments})

    def _create_comment(self, request: Request) -> Response:
        """200 and the comment (UNVERIFIED shape and status)."""
        body = request.form()
        with self.lock:
            return Response(200, self._render_comment(self.add_comment(body, self.state["me"])))

    def add_comment(self, body: dict[str, Any], creator_id: str) -> dict[str, Any]:
        """Validate and store a comment (also used by the demo seed)."""
        task_id, content = body.get("taskId"), body.get("content")
        if not isinstance(task_id, str) or not task_id:
            raise _bad("taskId is required")
        if not isinstance(content, str) or not content.strip():
            raise _bad("content is required")
        task = self._task(task_id)
        comment = {
            "id": self.new_id(),
            "seq": self.next_seq(),
            "taskId": task_id,
            "content": content,
            "createdAt": self.now_iso(),
            "creatorId": creator_id,
        }
        self.state["comments"][comment["id"]] = comment
        self.state["comment_order"].append(comment["id"])
        task["lastInteractedTime"] = comment["createdAt"]  # a comment is an interaction, not an update
        return comment
