"""How the GitLab emulator shows its stored records: the JSON entities of GitLab's REST API v4.

Kept apart from the request handling so the shapes (``Entities::Issue``, ``MergeRequestBasic`` versus
``MergeRequest``, ``Milestone``, ``Note``, board lists) can be read against GitLab's docs in one place.
"""

from __future__ import annotations

import html
import re
from typing import Any

from pmtui.sandbox.gitlab_paging import Record
from pmtui.sandbox.server import Clock, parse_iso

API = "/api/v4"
OWNER_ID = 1
"""The user the API token belongs to (project owner, so it may delete issues)."""

TASK_RE = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+\[([ xX~])\]", re.MULTILINE)
# GitLab's default issue_closing_pattern, simplified to same-project ``#N`` references.
CLOSING_RE = re.compile(
    r"\b(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?):?\s+"
    r"(?:issues?\s+)?((?:#\d+(?:\s*,?\s*(?:and\s+)?)?)+)",
    re.IGNORECASE,
)
MENTION_RE = re.compile(r"(?<![\w/!&])#(\d+)\b")
PROJECT_SETTINGS: dict[str, Any] = {
    "packages_enabled": True,
    "package_registry_access_level": "enabled",
    "empty_repo": False,
    "resolve_outdated_diff_discussions": False,
    "container_expiration_policy": {
        "cadence": "1d",
        "enabled": False,
        "keep_n": 10,
        "older_than": "90d",
        "name_regex": ".*",
        "name_regex_keep": None,
        "next_run_at": None,
    },
    "wiki_enabled": True,
    "jobs_enabled": True,
    "snippets_enabled": True,
    "container_registry_enabled": True,
    "service_desk_enabled": False,
    "can_create_merge_request_in": True,
    "issues_access_level": "enabled",
    "repository_access_level": "enabled",
    "merge_requests_access_level": "enabled",
    "forking_access_level": "enabled",
    "wiki_access_level": "enabled",
    "builds_access_level": "enabled",
    "snippets_access_level": "enabled",
    "pages_access_level": "private",
    "analytics_access_level": "enabled",
    "container_registry_access_level": "enabled",
    "security_and_compliance_access_level": "private",
    "emails_disabled": False,
    "emails_enabled": True,
    "shared_runners_enabled": True,
    "group_runners_enabled": True,
    "lfs_enabled": True,
    "import_url": None,
    "import_type": None,
    "import_status": "none",
    "import_error": None,
    "ci_default_git_depth": 20,
    "ci_forward_deployment_enabled": True,
    "ci_forward_deployment_rollback_allowed": True,
    "ci_allow_fork_pipelines_to_run_in_parent_project": True,
    "ci_id_token_sub_claim_components": ["project_path", "ref_type", "ref"],
    "ci_job_token_scope_enabled": False,
    "ci_separated_caches": True,
    "ci_restrict_pipeline_cancellation_role": "developer",
    "ci_pipeline_variables_minimum_override_role": "developer",
    "ci_push_repository_for_job_token_allowed": False,
    "public_jobs": True,
    "build_timeout": 3600,
    "auto_cancel_pending_pipelines": "enabled",
    "ci_config_path": "",
    "shared_with_groups": [],
    "only_allow_merge_if_pipeline_succeeds": False,
    "allow_merge_on_skipped_pipeline": None,
    "allow_pipeline_trigger_approve_deployment": False,
    "restrict_user_defined_variables": False,
    "request_access_enabled": True,
    "only_allow_merge_if_all_discussions_are_resolved": False,
    "remove_source_branch_after_merge": True,
    "printing_merge_request_link_enabled": True,
    "merge_method": "merge",
    "squash_option": "default_off",
    "enforce_auth_checks_on_uploads": True,
    "suggestion_commit_message": None,
    "merge_commit_template": None,
    "squash_commit_template": None,
    "issue_branch_template": None,
    "auto_devops_enabled": False,
    "auto_devops_deploy_strategy": "continuous",
    "autoclose_referenced_issues": True,
    "keep_latest_artifact": True,
    "runner_token_expiration_interval": None,
    "external_authorization_classification_label": "",
    "requirements_enabled": False,
    "requirements_access_level": "enabled",
    "security_and_compliance_enabled": False,
    "secret_push_protection_enabled": False,
    "compliance_frameworks": [],
    "warn_about_potentially_unwanted_characters": True,
}
"""A new private project's settings as ``GET /projects/:id`` shows them to its owner (GitLab's defaults);
the emulator stores none of them and changes no behaviour by them."""

DRAFT_RE = re.compile(r"^\s*(?:\[draft\]|\(draft\)|draft:|draft\s-\s|draft\s)", re.IGNORECASE)


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


def path_of(project: Record) -> str:
    """``namespace/project``, as in ``path_with_namespace``."""
    return f"{project['namespace_path']}/{project['path']}"


def _text_color(color: str) -> str:
    """GitLab picks white text on dark label colours and near-black on light ones."""
    hex_value = color.lstrip("#")
    if len(hex_value) == 3:
        hex_value = "".join(c * 2 for c in hex_value)
    try:
        red, green, blue = (int(hex_value[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "#FFFFFF"
    return "#1F1E24" if (red * 299 + green * 587 + blue * 114) / 1000 > 128 else "#FFFFFF"


class GitLabViews:
    """Renders stored records as GitLab's JSON entities (mixed into :class:`GitLabEmulator`)."""

    state: dict[str, Any]
    clock: Clock
    external_url: str
    _closing_cache: dict[int, dict[int, list[Record]]]

    def _labels_of(self, project_id: int) -> dict[str, Record]:
        return {lab["name"]: lab for lab in self.state["labels"].values() if lab["project_id"] == project_id}

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

    def _user_profile_json(self, user_id: int) -> Record | None:
        """``GET /users/:id``: the basic user plus the public profile (GitLab's ``UserPublic`` entity)."""
        basic = self._user_json(user_id)
        if basic is None:
            return None
        user = self.state["users"][str(user_id)]
        return {
            **basic,
            "created_at": user["created_at"],
            "bio": "",
            "bot": bool(user.get("bot", False)),
            "location": "",
            "public_email": None,
            "skype": "",
            "linkedin": "",
            "twitter": "",
            "discord": "",
            "website_url": "",
            "organization": "",
            "job_title": "",
            "pronouns": None,
            "work_information": None,
            "followers": 0,
            "following": 0,
            "is_followed": False,
            "local_time": None,
        }

    def _milestone_json(self, milestone: Record) -> Record:
        today = self.clock.now().date().isoformat()
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
            "web_url": self._web(f"{path_of(project)}/-/milestones/{milestone['iid']}"),
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
        path = path_of(project)
        iid = issue["iid"]
        api_self = f"{self.external_url}{API}/projects/{project['id']}/issues/{iid}"
        milestone = (
            self.state["milestones"].get(str(issue["milestone_id"])) if issue["milestone_id"] else None
        )
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
            "attachment": None,
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
        path = f"/{path_of(project)}/-/pipelines/{pipeline['id']}"
        started, finished, duration = self._pipeline_times(pipeline)
        return {
            "id": pipeline["id"],
            "iid": pipeline["iid"],
            "project_id": mr["project_id"],
            "sha": mr["sha"],
            "ref": f"refs/merge-requests/{mr['iid']}/head",
            "status": status,
            "source": "merge_request_event",
            "before_sha": "0" * 40,
            "tag": False,
            "yaml_errors": None,
            "user": self._user_json(mr["author_id"]),
            "created_at": pipeline["created_at"],
            "updated_at": pipeline["updated_at"],
            "started_at": started,
            "finished_at": finished,
            "committed_at": None,
            "duration": duration,
            "queued_duration": 0 if started else None,
            "coverage": None,
            "web_url": self._web(path.lstrip("/")),
            "detailed_status": {
                "icon": f"status_{status}",
                "text": status.capitalize(),
                "label": "passed" if status == "success" else status,
                "group": status,
                "tooltip": "passed" if status == "success" else status,
                "has_details": True,
                "details_path": path,
                "illustration": None,
                "favicon": f"/assets/ci_favicons/favicon_status_{status}.png",
            },
        }

    @staticmethod
    def _pipeline_times(pipeline: Record) -> tuple[str | None, str | None, int | None]:
        """``started_at``, ``finished_at`` and ``duration`` (whole seconds) as GitLab derives them.

        A pipeline starts when its first job does (taken as its creation) and has a finish time and a
        duration only once it reached a final status; the last update is when it got there.
        """
        if pipeline["status"] in ("created", "pending", "waiting_for_resource", "preparing", "scheduled"):
            return None, None, None
        started = pipeline["created_at"]
        if pipeline["status"] not in ("success", "failed", "canceled", "skipped"):
            return started, None, None
        finished = pipeline["updated_at"]
        seconds = (parse_iso(finished) - parse_iso(started)).total_seconds()
        return started, finished, max(0, int(seconds))

    def _mr_json(self, mr: Record, *, full: bool = False) -> Record:
        project = self.state["projects"][str(mr["project_id"])]
        path = path_of(project)
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
            "approvals_before_merge": None,
            "merge_status": "can_be_merged" if mr["state"] == "opened" else "unchecked",
            "detailed_merge_status": detailed,
            "sha": mr["sha"],
            "merge_commit_sha": mr.get("merge_commit_sha"),
            "squash_commit_sha": None,
            "discussion_locked": None,
            "should_remove_source_branch": None,
            "force_remove_source_branch": True,
            "reference": f"!{mr['iid']}",
            "references": {
                "short": f"!{mr['iid']}",
                "relative": f"!{mr['iid']}",
                "full": f"{path}!{mr['iid']}",
            },
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
        path = path_of(project)
        host = self.external_url.split("://", 1)[-1]
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
                **{
                    rel: f"{self.external_url}{API}/projects/{project['id']}/{tail}"
                    for rel, tail in (
                        ("repo_branches", "repository/branches"),
                        ("events", "events"),
                        ("members", "members"),
                        ("cluster_agents", "cluster_agents"),
                    )
                },
            },
            "archived": False,
            "issues_enabled": True,
            "merge_requests_enabled": True,
            "open_issues_count": sum(
                1
                for i in self.state["issues"].values()
                if i["project_id"] == project["id"] and i["state"] == "opened"
            ),
            "permissions": {
                "project_access": {"access_level": 50, "notification_level": 3},
                "group_access": None,
            },
            "updated_at": project.get("updated_at", project["last_activity_at"]),
            "description_html": f'<p dir="auto">{html.escape(project["description"] or "")}</p>',
            "creator_id": OWNER_ID,
            "container_registry_image_prefix": f"registry.{host}/{path}",
            **PROJECT_SETTINGS,
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
                "path_with_namespace": path_of(project),
                "http_url_to_repo": self._web(f"{path_of(project)}.git"),
                "web_url": self._web(path_of(project)),
            },
            "milestone": None,
            "assignee": None,
            "labels": [],
            "weight": None,
            "lists": [self._board_list_json(x) for x in sorted(board["lists"], key=lambda x: x["position"])],
        }
