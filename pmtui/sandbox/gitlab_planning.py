"""Milestones, labels and issue boards in the GitLab emulator."""

from __future__ import annotations

from pmtui.sandbox.gitlab_issues import COLOR_RE
from pmtui.sandbox.gitlab_notes import GitLabNotes
from pmtui.sandbox.gitlab_paging import (
    Record,
    is_keyset,
    offset_page,
    sort_records,
)
from pmtui.sandbox.gitlab_params import (
    Params,
    as_bool,
    as_choice,
    as_date,
    as_int,
    as_time,
    missing,
    request_params,
)
from pmtui.sandbox.server import (
    HttpError,
    Request,
    Response,
    iso_z,
)


class GitLabPlanning(GitLabNotes):
    """Milestones, labels and boards: what issues are planned and arranged by."""

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
