"""Notes, related merge requests and issue links in the GitLab emulator."""

from __future__ import annotations

from pmtui.sandbox.gitlab_issues import INVERSE_LINK, LINK_TYPES, GitLabIssues
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
    as_time,
    missing,
    request_params,
)
from pmtui.sandbox.gitlab_render import (
    OWNER_ID,
    mentioned_iids,
)
from pmtui.sandbox.server import (
    HttpError,
    Request,
    Response,
    iso_z,
)


class GitLabNotes(GitLabIssues):
    """An issue's notes, the merge requests around it and its links to other issues."""

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
