"""Merge requests in the GitLab emulator: listing, the basic and full entity, commits, merging."""

from __future__ import annotations

from pmtui.sandbox.gitlab_paging import (
    Record,
    offset_page,
    sort_records,
)
from pmtui.sandbox.gitlab_params import (
    Params,
    as_bool,
    as_choice,
    as_int,
    as_int_list,
    as_names,
    as_time,
    missing,
)
from pmtui.sandbox.gitlab_planning import GitLabPlanning
from pmtui.sandbox.gitlab_render import (
    DRAFT_RE,
    closing_iids,
    path_of,
)
from pmtui.sandbox.server import (
    Request,
    Response,
    iso_z,
)

MR_ORDERS = ("created_at", "updated_at", "title", "merged_at", "priority", "label_priority", "milestone_due")


class GitLabMergeRequests(GitLabPlanning):
    """Merge requests, their commits and pipelines; merging one closes the issues it names."""

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
