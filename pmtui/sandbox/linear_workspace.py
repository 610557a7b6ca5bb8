"""The Linear emulator's workspace: its state, lookups and every write a mutation can make.

Kept apart from ``pmtui.sandbox.linear`` (HTTP, GraphQL execution, pagination, rate limits) so that each
file reads on its own: this one is "what Linear does to its data", validated the way the API validates
input and answering with Linear-shaped errors.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from graphql import GraphQLError

from pmtui.sandbox.linear_data import (
    apply_state_timestamps,
    comment_record,
    empty_state,
    issue_record,
    label_record,
    milestone_record,
    project_record,
)
from pmtui.sandbox.server import ServiceEmulator, iso_z, parse_iso

log = logging.getLogger("pmtui.sandbox.linear")


def api_error(
    message: str,
    *,
    kind: str = "invalid input",
    code: str = "INVALID_INPUT",
    user_message: str | None = None,
    status: int | None = None,
    user_error: bool = True,
) -> GraphQLError:
    """A GraphQL error with Linear's extensions (``type``, ``code``, ``userPresentableMessage``, ...)."""
    extensions: dict[str, Any] = {
        "type": kind,
        "code": code,
        "userError": user_error,
        "userPresentableMessage": user_message or message,
    }
    if status is not None:
        extensions["statusCode"] = status
    return GraphQLError(message, extensions=extensions)


def invalid_input(detail: str) -> GraphQLError:
    """Linear's answer to a bad argument (UNVERIFIED wording; the shape follows the SDK's error types)."""
    return api_error("Argument Validation Error", user_message=detail, status=400)


def not_found(typename: str) -> GraphQLError:
    """Linear's answer to an unknown id (UNVERIFIED wording)."""
    return api_error(
        f"Entity not found: {typename}", user_message=f"Could not find referenced {typename}.", status=400
    )


def unsupported(what: str) -> GraphQLError:
    """A valid request the sandbox cannot answer: loud, so the gap is noticed and filled."""
    log.warning("linear sandbox: %s", what)
    return api_error(
        f"sandbox: {what}",
        kind="internal error",
        code="SANDBOX_UNSUPPORTED",
        user_error=False,
        status=500,
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _check_date(value: Any, name: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise invalid_input(f"{name} must be a date in the format YYYY-MM-DD.") from exc


def _check_datetime(value: Any, name: str) -> str | None:
    if value is None:
        return None
    try:
        return iso_z(parse_iso(str(value)))
    except ValueError as exc:
        raise invalid_input(f"{name} must be an ISO 8601 date-time.") from exc


class LinearWorkspace(ServiceEmulator):
    """Linear's data and its writes; :class:`pmtui.sandbox.linear.LinearEmulator` serves it over GraphQL."""

    _version: int
    _caches: dict[str, tuple[int, Any]]

    def reset_state(self) -> None:
        self.state = empty_state()
        self._invalidate()

    def restore(self, data: dict[str, Any]) -> None:
        super().restore(data)
        self._invalidate()

    def _invalidate(self) -> None:
        """Forget the derived indexes (sorted issue lists, identifier map); called on every write."""
        self._version = getattr(self, "_version", 0) + 1
        self._caches: dict[str, tuple[int, Any]] = {}

    def _cached(self, name: str, build: Callable[[], Any]) -> Any:
        entry = self._caches.get(name)
        if entry is not None and entry[0] == self._version:
            return entry[1]
        value = build()
        self._caches[name] = (self._version, value)
        return value

    def _sync_id(self) -> float:
        """Linear's ``lastSyncId``: a number that grows with every change in the workspace."""
        self.state["lastSyncId"] += 1
        self._invalidate()
        return float(self.state["lastSyncId"])

    def _now(self) -> str:
        return iso_z(self.now())

    def _identifiers(self) -> dict[str, str]:
        def build() -> dict[str, str]:
            index: dict[str, str] = {}
            for issue in self.state["issues"].values():
                for old in issue["previousIdentifiers"]:
                    index[old.upper()] = issue["id"]
            for issue in self.state["issues"].values():
                index[issue["identifier"].upper()] = issue["id"]
            return index

        result: dict[str, str] = self._cached("identifiers", build)
        return result

    def _get(self, collection: str, ident: str, typename: str) -> dict[str, Any]:
        found = self.state[collection].get(ident)
        if found is None:
            raise not_found(typename)
        result: dict[str, Any] = found
        return result

    def _find_issue(self, ident: str) -> dict[str, Any] | None:
        """An issue by UUID or by identifier (``ENG-12``, also a former one after a team move)."""
        issues = self.state["issues"]
        if ident in issues:
            result: dict[str, Any] = issues[ident]
            return result
        by_identifier = self._identifiers().get(ident.upper())
        return issues.get(by_identifier) if by_identifier else None

    def _issue(self, ident: str) -> dict[str, Any]:
        issue = self._find_issue(ident)
        if issue is None:
            raise not_found("Issue")
        return issue

    def _project(self, ident: str) -> dict[str, Any]:
        """A project by UUID or by its URL slug id (``project(id:)`` accepts both)."""
        projects = self.state["projects"]
        if ident in projects:
            result: dict[str, Any] = projects[ident]
            return result
        slug = ident.rsplit("-", 1)[-1]
        for project in projects.values():
            if project["slugId"] == slug:
                found: dict[str, Any] = project
                return found
        raise not_found("Project")

    _ISSUE_CREATE_KEYS = frozenset(
        {
            "id", "teamId", "title", "description", "priority", "estimate", "dueDate", "stateId",
            "assigneeId", "labelIds", "projectId", "projectMilestoneId", "parentId", "sortOrder",
            "prioritySortOrder", "subIssueSortOrder", "createdAt", "completedAt", "subscriberIds",
            "useDefaultTemplate", "preserveSortOrderOnCreate",
        }
    )  # fmt: skip

    _ISSUE_UPDATE_KEYS = frozenset(
        {
            "teamId", "title", "description", "priority", "estimate", "dueDate", "stateId", "assigneeId",
            "labelIds", "addedLabelIds", "removedLabelIds", "projectId", "projectMilestoneId", "parentId",
            "sortOrder", "prioritySortOrder", "subIssueSortOrder", "trashed", "subscriberIds",
        }
    )  # fmt: skip

    def _check_keys(self, typename: str, data: dict[str, Any], allowed: frozenset[str]) -> None:
        extra = sorted(k for k, v in data.items() if k not in allowed and v is not None)
        if extra:
            raise unsupported(f"{typename}.{extra[0]} is not supported by the Linear emulator")

    def _client_id(self, data: dict[str, Any], collection: str, typename: str) -> str:
        """The client-chosen UUID of a create, or a fresh one; an id in use is refused (safe retries)."""
        ident = data.get("id")
        if ident is None:
            return self.uuid()
        if not _is_uuid(str(ident)):
            raise invalid_input("id must be a UUID.")
        if ident in self.state[collection]:
            # UNVERIFIED wording: Linear refuses a second create with the same id.
            raise api_error(
                f"Entity already exists: {typename}",
                user_message=f"A {typename} with id {ident} already exists.",
                status=400,
            )
        return str(ident)

    def _check_priority(self, value: Any) -> int:
        if not isinstance(value, int) or not 0 <= value <= 4:
            raise invalid_input("priority must be an integer between 0 and 4.")
        return value

    def _check_labels(self, label_ids: Iterable[str], team_id: str) -> list[str]:
        result: list[str] = []
        for label_id in label_ids:
            label = self.state["issueLabels"].get(label_id)
            if label is None:
                raise not_found("IssueLabel")
            if label["teamId"] not in (None, team_id):
                raise invalid_input(f"Label {label['name']!r} belongs to another team.")
            if label["isGroup"]:
                raise invalid_input(f"Label {label['name']!r} is a group and cannot be applied.")
            if label_id not in result:
                result.append(label_id)
        return result

    def _check_parent(self, issue_id: str, parent_ref: str) -> str:
        parent = self._find_issue(parent_ref)
        if parent is None:
            raise not_found("Issue")
        cursor: dict[str, Any] | None = parent
        while cursor is not None:
            if cursor["id"] == issue_id:
                raise invalid_input("An issue cannot be its own ancestor.")
            cursor = self.state["issues"].get(cursor["parentId"] or "")
        return str(parent["id"])

    def _resolve_issue_links(self, data: dict[str, Any], issue: dict[str, Any]) -> dict[str, Any]:
        """Validate the relation ids of a create/update and return the record changes they imply."""
        changes: dict[str, Any] = {}
        team_id = issue["teamId"]
        if "stateId" in data and data["stateId"] is not None:
            state = self._get("workflowStates", data["stateId"], "WorkflowState")
            if state["teamId"] != team_id:
                raise invalid_input("The workflow state belongs to another team.")
            changes["stateId"] = state["id"]
        if "assigneeId" in data:
            if data["assigneeId"] is not None:
                self._get("users", data["assigneeId"], "User")
            changes["assigneeId"] = data["assigneeId"]
        if "projectId" in data:
            if data["projectId"] is not None:
                project = self._project(data["projectId"])
                if project["archivedAt"] is not None:
                    raise invalid_input("The project is archived.")
                changes["projectId"] = project["id"]
            else:
                changes["projectId"] = None
        project_id = changes.get("projectId", issue["projectId"])
        if "projectMilestoneId" in data:
            if data["projectMilestoneId"] is not None:
                milestone = self._get("projectMilestones", data["projectMilestoneId"], "ProjectMilestone")
                if milestone["projectId"] != project_id:
                    raise invalid_input("The milestone belongs to another project.")
                changes["projectMilestoneId"] = milestone["id"]
            else:
                changes["projectMilestoneId"] = None
        elif project_id != issue["projectId"]:
            milestone = self.state["projectMilestones"].get(issue["projectMilestoneId"] or "")
            if milestone is not None and milestone["projectId"] != project_id:
                changes["projectMilestoneId"] = None
        if "parentId" in data:
            changes["parentId"] = (
                None if data["parentId"] is None else self._check_parent(issue["id"], data["parentId"])
            )
        for key in ("title", "description"):
            if key in data:
                if key == "title" and not (data["title"] or "").strip():
                    raise invalid_input("title must not be empty.")
                changes[key] = data[key]
        if "priority" in data and data["priority"] is not None:
            changes["priority"] = self._check_priority(data["priority"])
        if "estimate" in data:
            changes["estimate"] = None if data["estimate"] is None else float(data["estimate"])
        if "dueDate" in data:
            changes["dueDate"] = _check_date(data["dueDate"], "dueDate")
        for key in ("sortOrder", "prioritySortOrder", "subIssueSortOrder"):
            if data.get(key) is not None:
                changes[key] = float(data[key])
        return changes

    def _issue_create(self, data: dict[str, Any], creator_id: str | None) -> dict[str, Any]:
        self._check_keys("IssueCreateInput", data, self._ISSUE_CREATE_KEYS)
        team = self._get("teams", data["teamId"], "Team")
        ident = self._client_id(data, "issues", "Issue")
        if not (data.get("title") or "").strip():
            raise invalid_input("title must not be empty.")
        now = self._now()
        created = _check_datetime(data.get("createdAt"), "createdAt") or now
        if created > now:
            raise invalid_input("createdAt must be in the past.")
        number = self.state["issueNumbers"].get(team["id"], 0) + 1
        default_state = team["defaultIssueStateId"] or next(
            s["id"] for s in self.state["workflowStates"].values() if s["teamId"] == team["id"]
        )
        issue = issue_record(ident, team["key"], number, data["title"], team["id"], default_state, created)
        changes = self._resolve_issue_links(data, issue)
        labels = self._check_labels(data.get("labelIds") or [], team["id"])
        self.state["issueNumbers"][team["id"]] = number
        issue.update(changes)
        issue["labelIds"] = labels
        issue["creatorId"] = creator_id
        issue["updatedAt"] = now
        if issue["projectId"]:
            issue["addedToProjectAt"] = now
        state_type = self.state["workflowStates"][issue["stateId"]]["type"]
        apply_state_timestamps(issue, state_type, created)
        if state_type == "completed" and data.get("completedAt"):
            issue["completedAt"] = _check_datetime(data["completedAt"], "completedAt")
        self.state["issues"][ident] = issue
        self._sync_id()
        return issue

    def _issue_update(self, ident: str, data: dict[str, Any]) -> dict[str, Any]:
        self._check_keys("IssueUpdateInput", data, self._ISSUE_UPDATE_KEYS)
        issue = self._issue(ident)
        changes: dict[str, Any] = {}
        moved_team: dict[str, Any] | None = None
        if data.get("teamId") is not None and data["teamId"] != issue["teamId"]:
            moved_team = self._get("teams", data["teamId"], "Team")
            probe = dict(issue, teamId=moved_team["id"])
            if data.get("stateId") is None:
                # A moved issue keeps its state type in the new team's workflow.
                kind = self.state["workflowStates"][issue["stateId"]]["type"]
                candidates = sorted(
                    (s for s in self.state["workflowStates"].values() if s["teamId"] == moved_team["id"]),
                    key=lambda s: (s["type"] != kind, s["position"]),
                )
                changes["stateId"] = candidates[0]["id"]
        else:
            probe = issue
        changes.update(self._resolve_issue_links(data, probe))
        team_id = moved_team["id"] if moved_team else issue["teamId"]
        labels: list[str] = list(issue["labelIds"])
        if data.get("labelIds") is not None:
            labels = self._check_labels(data["labelIds"], team_id)
        if data.get("addedLabelIds"):
            labels = self._check_labels([*labels, *data["addedLabelIds"]], team_id)
        if data.get("removedLabelIds"):
            labels = [x for x in labels if x not in set(data["removedLabelIds"])]
        if moved_team:
            labels = [x for x in labels if self.state["issueLabels"][x]["teamId"] in (None, team_id)]
        now = self._now()
        if moved_team:
            number = self.state["issueNumbers"].get(team_id, 0) + 1
            self.state["issueNumbers"][team_id] = number
            issue["previousIdentifiers"] = [*issue["previousIdentifiers"], issue["identifier"]]
            issue.update(
                teamId=team_id, number=number, identifier=f"{moved_team['key']}-{number}", addedToTeamAt=now
            )
        old_state = issue["stateId"]
        if changes.get("projectId") and changes["projectId"] != issue["projectId"]:
            issue["addedToProjectAt"] = now
        issue.update(changes)
        issue["labelIds"] = labels
        if issue["stateId"] != old_state:
            apply_state_timestamps(issue, self.state["workflowStates"][issue["stateId"]]["type"], now)
        if "trashed" in data and data["trashed"] is not None:
            issue["trashed"] = True if data["trashed"] else None
            issue["archivedAt"] = now if data["trashed"] else None
        issue["updatedAt"] = now
        self._sync_id()
        return issue

    def _issue_labels(
        self, ident: str, add: list[str] | None = None, remove: list[str] | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if add:
            data["addedLabelIds"] = add
        if remove:
            self._get("issueLabels", remove[0], "IssueLabel")
            data["removedLabelIds"] = remove
        return self._issue_update(ident, data)

    def _issue_archive(self, ident: str, trash: bool | None) -> dict[str, Any]:
        issue = self._issue(ident)
        now = self._now()
        issue["archivedAt"] = now
        issue["trashed"] = True if trash else None
        issue["updatedAt"] = now
        self._sync_id()
        return issue

    def _issue_unarchive(self, ident: str) -> dict[str, Any]:
        issue = self._issue(ident)
        issue["archivedAt"] = None
        issue["trashed"] = None
        issue["updatedAt"] = self._now()
        self._sync_id()
        return issue

    def _issue_delete(self, ident: str, permanently: bool) -> dict[str, Any] | None:
        """``issueDelete`` trashes (archivedAt set, trashed true); ``permanentlyDelete`` removes it."""
        issue = self._issue(ident)
        if permanently:
            del self.state["issues"][issue["id"]]
            for child in self.state["issues"].values():
                if child["parentId"] == issue["id"]:
                    child["parentId"] = None
            self._sync_id()
            return None
        return self._issue_archive(issue["id"], trash=True)

    _PROJECT_KEYS = frozenset(
        {
            "id", "name", "teamIds", "description", "content", "color", "icon", "leadId", "memberIds",
            "priority", "startDate", "targetDate", "statusId", "sortOrder", "prioritySortOrder",
            "completedAt", "canceledAt", "trashed",
        }
    )  # fmt: skip

    def _project_fields(self, data: dict[str, Any], project: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if "name" in data and data["name"] is not None:
            if not data["name"].strip():
                raise invalid_input("name must not be empty.")
            changes["name"] = data["name"]
        for key in ("description", "color"):
            if data.get(key) is not None:
                changes[key] = data[key]
        for key in ("content", "icon"):
            if key in data:
                changes[key] = data[key]
        if "teamIds" in data and data["teamIds"] is not None:
            if not data["teamIds"]:
                raise invalid_input("teamIds should not be empty.")
            changes["teamIds"] = [self._get("teams", t, "Team")["id"] for t in data["teamIds"]]
        if "leadId" in data:
            changes["leadId"] = (
                None if data["leadId"] is None else self._get("users", data["leadId"], "User")["id"]
            )
        if data.get("memberIds") is not None:
            changes["memberIds"] = [self._get("users", u, "User")["id"] for u in data["memberIds"]]
        if data.get("priority") is not None:
            changes["priority"] = self._check_priority(data["priority"])
        for key in ("startDate", "targetDate"):
            if key in data:
                changes[key] = _check_date(data[key], key)
        for key in ("sortOrder", "prioritySortOrder"):
            if data.get(key) is not None:
                changes[key] = float(data[key])
        now = self._now()
        if data.get("statusId") is not None and data["statusId"] != project["statusId"]:
            status = self._get("projectStatuses", data["statusId"], "ProjectStatus")
            changes["statusId"] = status["id"]
            if status["type"] == "started":
                changes["startedAt"] = project["startedAt"] or now
            changes["completedAt"] = now if status["type"] == "completed" else None
            changes["canceledAt"] = now if status["type"] == "canceled" else None
        for key in ("completedAt", "canceledAt"):
            if data.get(key) is not None:
                changes[key] = _check_datetime(data[key], key)
        return changes

    def _project_create(self, data: dict[str, Any]) -> dict[str, Any]:
        self._check_keys("ProjectCreateInput", data, self._PROJECT_KEYS)
        ident = self._client_id(data, "projects", "Project")
        backlog = next(s for s in self.state["projectStatuses"].values() if s["type"] == "backlog")
        now = self._now()
        project = project_record(ident, f"{self.rng.getrandbits(48):012x}", data["name"], backlog["id"], now)
        project["creatorId"] = self.state["viewerId"]
        project.update(self._project_fields(data, project))
        if not project["teamIds"]:
            raise invalid_input("teamIds should not be empty.")
        self.state["projects"][ident] = project
        self._sync_id()
        return project

    def _project_update(self, ident: str, data: dict[str, Any]) -> dict[str, Any]:
        self._check_keys("ProjectUpdateInput", data, self._PROJECT_KEYS - {"id"})
        project = self._project(ident)
        changes = self._project_fields(data, project)
        now = self._now()
        if data.get("trashed") is not None:
            changes["trashed"] = True if data["trashed"] else None
            changes["archivedAt"] = now if data["trashed"] else None
        project.update(changes)
        project["updatedAt"] = now
        self._sync_id()
        return project

    def _project_delete(self, ident: str) -> dict[str, Any]:
        """``projectDelete`` moves the project to the trash (archived), like issueDelete."""
        project = self._project(ident)
        now = self._now()
        project.update(archivedAt=now, trashed=True, updatedAt=now)
        self._sync_id()
        return project

    def _milestone_create(self, data: dict[str, Any]) -> dict[str, Any]:
        self._check_keys(
            "ProjectMilestoneCreateInput",
            data,
            frozenset({"id", "name", "projectId", "description", "targetDate", "sortOrder"}),
        )
        ident = self._client_id(data, "projectMilestones", "ProjectMilestone")
        project = self._project(data["projectId"])
        if not data["name"].strip():
            raise invalid_input("name must not be empty.")
        siblings = [m for m in self.state["projectMilestones"].values() if m["projectId"] == project["id"]]
        milestone = milestone_record(
            ident,
            project["id"],
            data["name"],
            self._now(),
            description=data.get("description"),
            targetDate=_check_date(data.get("targetDate"), "targetDate"),
            sortOrder=float(data["sortOrder"]) if data.get("sortOrder") is not None else float(len(siblings)),
        )
        self.state["projectMilestones"][ident] = milestone
        self._sync_id()
        return milestone

    def _milestone_update(self, ident: str, data: dict[str, Any]) -> dict[str, Any]:
        self._check_keys(
            "ProjectMilestoneUpdateInput", data, frozenset({"name", "description", "targetDate", "sortOrder"})
        )
        milestone = self._get("projectMilestones", ident, "ProjectMilestone")
        if data.get("name") is not None:
            milestone["name"] = data["name"]
        if "description" in data:
            milestone["description"] = data["description"]
        if "targetDate" in data:
            milestone["targetDate"] = _check_date(data["targetDate"], "targetDate")
        if data.get("sortOrder") is not None:
            milestone["sortOrder"] = float(data["sortOrder"])
        milestone["updatedAt"] = self._now()
        self._sync_id()
        return milestone

    def _milestone_delete(self, ident: str) -> str:
        milestone = self._get("projectMilestones", ident, "ProjectMilestone")
        del self.state["projectMilestones"][milestone["id"]]
        for issue in self.state["issues"].values():
            if issue["projectMilestoneId"] == milestone["id"]:
                issue["projectMilestoneId"] = None
        self._sync_id()
        return str(milestone["id"])

    def _comment_create(self, data: dict[str, Any], user_id: str | None = None) -> dict[str, Any]:
        self._check_keys(
            "CommentCreateInput",
            data,
            frozenset(
                {"id", "body", "issueId", "parentId", "createdAt", "doNotSubscribeToIssue", "subscriberIds"}
            ),
        )
        if not data.get("issueId"):
            raise invalid_input("issueId is required (the sandbox only supports comments on issues).")
        if not (data.get("body") or "").strip():
            raise invalid_input("body must not be empty.")
        issue = self._issue(data["issueId"])
        ident = self._client_id(data, "comments", "Comment")
        now = self._now()
        created = _check_datetime(data.get("createdAt"), "createdAt") or now
        comment = comment_record(ident, issue["id"], user_id or self.state["viewerId"], data["body"], created)
        comment["updatedAt"] = now
        if data.get("parentId"):
            parent = self._get("comments", data["parentId"], "Comment")
            if parent["issueId"] != issue["id"]:
                raise invalid_input("The parent comment belongs to another issue.")
            comment["parentId"] = parent["id"]
        self.state["comments"][ident] = comment
        self._sync_id()
        return comment

    def _comment_update(
        self, ident: str, data: dict[str, Any], skip_edited_at: bool = False
    ) -> dict[str, Any]:
        self._check_keys(
            "CommentUpdateInput", data, frozenset({"body", "doNotSubscribeToIssue", "subscriberIds"})
        )
        comment = self._get("comments", ident, "Comment")
        now = self._now()
        if data.get("body") is not None:
            if not data["body"].strip():
                raise invalid_input("body must not be empty.")
            comment["body"] = data["body"]
            if not skip_edited_at:
                comment["editedAt"] = now
        comment["updatedAt"] = now
        self._sync_id()
        return comment

    def _comment_delete(self, ident: str) -> str:
        comment = self._get("comments", ident, "Comment")
        del self.state["comments"][comment["id"]]
        self._sync_id()
        return str(comment["id"])

    def _label_create(self, data: dict[str, Any]) -> dict[str, Any]:
        self._check_keys(
            "IssueLabelCreateInput",
            data,
            frozenset({"id", "name", "color", "description", "teamId", "parentId", "isGroup"}),
        )
        ident = self._client_id(data, "issueLabels", "IssueLabel")
        name = (data.get("name") or "").strip()
        if not name:
            raise invalid_input("name must not be empty.")
        team_id = self._get("teams", data["teamId"], "Team")["id"] if data.get("teamId") else None
        for label in self.state["issueLabels"].values():
            if (
                label["name"].lower() == name.lower()
                and label["teamId"] in (None, team_id)
                and not label["archivedAt"]
            ):
                raise invalid_input(f"A label named {name!r} already exists.")  # UNVERIFIED wording
        label = label_record(
            ident,
            name,
            data.get("color") or "#bec2c8",
            self._now(),
            team_id=team_id,
            creator_id=self.state["viewerId"],
        )
        label["description"] = data.get("description")
        label["isGroup"] = bool(data.get("isGroup"))
        if data.get("parentId"):
            parent = self._get("issueLabels", data["parentId"], "IssueLabel")
            if not parent["isGroup"]:
                raise invalid_input("The parent label is not a group.")
            label["parentId"] = parent["id"]
        self.state["issueLabels"][ident] = label
        self._sync_id()
        return label
