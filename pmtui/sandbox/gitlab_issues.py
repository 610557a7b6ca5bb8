"""Project issues in the GitLab emulator: listing (filters, order, offset and keyset pages) and writes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pmtui.sandbox.gitlab_core import GitLabCore
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
    OWNER_ID,
)
from pmtui.sandbox.server import (
    HttpError,
    Request,
    Response,
    iso_z,
)

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


class GitLabIssues(GitLabCore):
    """Issue listing, reading and writing."""

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


def _time_test(field: str, bound: str, *, after: bool) -> Callable[[Record], bool]:
    """An inclusive ``*_after``/``*_before`` filter on a stored ISO timestamp (sortable as text)."""
    if after:
        return lambda record: bool(record[field] >= bound)
    return lambda record: bool(record[field] <= bound)


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
