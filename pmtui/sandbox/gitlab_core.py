"""The GitLab emulator's stored state and the lookups every resource shares.

The emulator is one class assembled from one module per resource, each a step of a single inheritance
chain so that a later resource may use an earlier one (merge requests close issues and write notes):
:class:`GitLabCore` (state, lookups) -> ``gitlab_issues`` -> ``gitlab_notes`` (notes, links) ->
``gitlab_planning`` (milestones, labels, boards) -> ``gitlab_merge_requests`` ->
:class:`pmtui.sandbox.gitlab.GitLabEmulator` (routes, auth, rate limits, users and projects, the admin
surface).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pmtui.sandbox.gitlab_paging import (
    Record,
)
from pmtui.sandbox.gitlab_params import (
    as_int,
)
from pmtui.sandbox.gitlab_render import (
    GitLabViews,
    path_of,
)
from pmtui.sandbox.server import (
    HttpError,
    Request,
    ServiceEmulator,
    iso_z,
)


class GitLabCore(GitLabViews, ServiceEmulator):
    """State, sequences and lookups of the emulated GitLab instance."""

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


def _user_record(user_id: int, username: str, name: str, created: str) -> Record:
    return {
        "id": user_id,
        "username": username,
        "name": name,
        "state": "active",
        "email": f"{username}@acme.example",
        "created_at": created,
    }
