"""The Linear emulator's records (plain dicts in API field naming) and its demo and bulk workspaces.

A record holds the API's scalar fields under their GraphQL names plus the ids of its relations
(``teamId``, ``stateId``, ``labelIds``, ...); the emulator's resolvers turn those ids into objects.
Fields that are constant in the sandbox (``cycle: null``, ``customerTicketCount: 0``) live in
``TYPE_DEFAULTS`` instead of in every record, which keeps a 50,000-issue workspace small.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from typing import Any, Protocol

from pmtui.sandbox.linear_defaults import stable_id
from pmtui.sandbox.server import iso_z

PRIORITY_LABELS = {0: "No priority", 1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}
"""Linear's priority scale (schema: Issue.priority)."""

WORKFLOW_TEMPLATE: list[tuple[str, str, str]] = [
    ("Triage", "triage", "#fc7840"),
    ("Backlog", "backlog", "#bec2c8"),
    ("Todo", "unstarted", "#e2e2e2"),
    ("In Progress", "started", "#f2c94c"),
    ("In Review", "started", "#0f783c"),
    ("Done", "completed", "#5e6ad2"),
    ("Canceled", "canceled", "#95a2b3"),
    ("Duplicate", "duplicate", "#95a2b3"),
]
"""The workflow a new Linear team gets (names, types and colours as in the app)."""

PROJECT_STATUS_TEMPLATE: list[tuple[str, str, str]] = [
    ("Backlog", "backlog", "#bec2c8"),
    ("Planned", "planned", "#e2e2e2"),
    ("In Progress", "started", "#f2c94c"),
    ("Paused", "paused", "#95a2b3"),
    ("Completed", "completed", "#5e6ad2"),
    ("Canceled", "canceled", "#95a2b3"),
]

TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "Issue": {
        "cycle": None,
        "delegate": None,
        "snoozedBy": None,
        "snoozedUntilAt": None,
        "favorite": None,
        "lastAppliedTemplate": None,
        "recurringIssueTemplate": None,
        "sourceComment": None,
        "botActor": None,
        "externalUserCreator": None,
        "asksRequester": None,
        "asksExternalUserRequester": None,
        "integrationSourceType": None,
        "documentContent": None,
        "syncedWith": None,
        "slaType": None,
        "slaBreachesAt": None,
        "slaHighRiskAt": None,
        "slaMediumRiskAt": None,
        "slaStartedAt": None,
        "autoArchivedAt": None,
        "autoClosedAt": None,
        "triagedAt": None,
        "startedTriageAt": None,
        "addedToCycleAt": None,
        "customerTicketCount": 0,
        "reactionData": {},
        "reactions": [],
        "inheritsSharedAccess": False,
    },
    "Team": {
        "parent": None,
        "activeCycle": None,
        "integrationsSettings": None,
        "defaultProjectTemplate": None,
        "defaultTemplateForMembers": None,
        "defaultTemplateForNonMembers": None,
        "triageResponsibility": None,
        "scimGroupName": None,
        "scimManaged": False,
        "retiredAt": None,
        "autoClosePeriod": None,
        "autoCloseStateId": None,
        "autoCloseChildIssues": False,
        "autoCloseParentIssues": False,
        "allMembersCanJoin": True,
        "cyclesEnabled": False,
        "cycleDuration": 1,
        "cycleCooldownTime": 0,
        "cycleStartDay": 1,
        "cycleLockToActive": False,
        "cycleIssueAutoAssignStarted": False,
        "cycleIssueAutoAssignCompleted": False,
        "upcomingCycleCount": 2,
        "autoArchivePeriod": 6,
        "defaultIssueEstimate": 1,
        "issueEstimationType": "fibonacci",
        "issueEstimationAllowZero": False,
        "issueEstimationExtended": False,
        "inheritIssueEstimation": False,
        "inheritWorkflowStatuses": False,
        "groupIssueHistory": True,
        "setIssueSortOrderOnStateChange": "bottom",
        "requirePriorityToLeaveTriage": False,
        "aiThreadSummariesEnabled": False,
        "aiDiscussionSummariesEnabled": False,
        "initiativesEnabled": False,
        "securitySettings": {},
        "visibility": "public",
        "private": False,
    },
    "WorkflowState": {"inheritedFrom": None},
    "IssueLabel": {"inheritedFrom": None, "retiredBy": None, "lastAppliedAt": None},
    "ProjectStatus": {"archivedAt": None},
    "Project": {
        "convertedFromIssue": None,
        "lastUpdate": None,
        "favorite": None,
        "documentContent": None,
        "integrationsSettings": None,
        "lastAppliedTemplate": None,
        "health": None,
        "healthUpdatedAt": None,
        "autoArchivedAt": None,
        "startDateResolution": None,
        "targetDateResolution": None,
        "frequencyResolution": "weekly",
        "updateReminderFrequency": None,
        "updateReminderFrequencyInWeeks": None,
        "updateRemindersDay": None,
        "updateRemindersHour": None,
        "projectUpdateRemindersPausedUntilAt": None,
        "slackChannelId": None,
        "microsoftTeamsChannelId": None,
        "syncedWith": None,
        "completedIssueCountHistory": [],
        "completedScopeHistory": [],
        "inProgressScopeHistory": [],
        "issueCountHistory": [],
        "scopeHistory": [],
    },
    "ProjectMilestone": {"documentContent": None},
    "Comment": {
        "agentSession": None,
        "botActor": None,
        "externalThread": None,
        "externalUser": None,
        "documentContent": None,
        "documentContentId": None,
        "initiative": None,
        "initiativeId": None,
        "initiativeUpdate": None,
        "initiativeUpdateId": None,
        "post": None,
        "projectUpdate": None,
        "projectUpdateId": None,
        "resolvingComment": None,
        "resolvingCommentId": None,
        "resolvingUser": None,
        "syncedWith": None,
        "quotedText": None,
        "reactionData": {},
        "reactions": [],
    },
    "User": {
        "avatarUrl": None,
        "calendarHash": None,
        "description": None,
        "disableReason": None,
        "gitHubUserId": None,
        "lastSeen": None,
        "statusEmoji": None,
        "statusLabel": None,
        "statusUntilAt": None,
        "title": None,
        "guest": False,
        "app": False,
        "isAssignable": True,
        "isMentionable": True,
        "canAccessAnyPublicTeam": True,
        "supportsAgentSessions": False,
    },
    "Organization": {
        "logoUrl": None,
        "gitBranchFormat": None,
        "trialEndsAt": None,
        "trialStartsAt": None,
        "deletionRequestedAt": None,
        "subscription": None,
        "defaultFeedSummarySchedule": None,
        "defaultHomeView": None,
        "allowedFileUploadContentTypes": None,
        "ipRestrictions": None,
        "slackProjectChannelIntegration": None,
        "themeSettings": None,
        "initiativeUpdateReminderFrequencyInWeeks": None,
        "projectUpdateReminderFrequencyInWeeks": None,
        "previousUrlKeys": [],
        "roadmapEnabled": True,
        "samlEnabled": False,
        "scimEnabled": False,
        "releasesEnabled": False,
        "customersEnabled": False,
        "feedEnabled": False,
        "hipaaComplianceEnabled": False,
        "gitLinkbackMessagesEnabled": True,
        "gitPublicLinkbackMessagesEnabled": False,
        "gitLinkbackDescriptionsEnabled": True,
        "pullRequestTourEnabled": False,
        "pullRequestIssueMode": "default",
        "aiThreadSummariesEnabled": False,
        "aiDiscussionSummariesEnabled": False,
        "fiscalYearStartMonth": 0,
        "periodUploadVolume": 0,
        "customerCount": 0,
        "releaseChannel": "public",
        "projectUpdateRemindersDay": "Friday",
        "projectUpdateRemindersHour": 14,
        "initiativeUpdateRemindersDay": "Friday",
        "initiativeUpdateRemindersHour": 14,
        "slackProjectChannelPrefix": "proj",
        "authSettings": {},
        "securitySettings": {},
        "customersConfiguration": {},
    },
}
"""Fields whose value the sandbox knows to be constant, per GraphQL type (consulted after the record)."""


class IdSource(Protocol):
    """What the record builders need from the emulator: seeded UUIDs."""

    def uuid(self) -> str: ...


def slugify(title: str, limit: int = 60) -> str:
    """The URL/branch slug Linear derives from a title (lowercase words joined by ``-``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:limit].rstrip("-") or "untitled"


def empty_state() -> dict[str, Any]:
    """A workspace with nothing in it (collections keyed by id, in creation order)."""
    return {
        "organization": None,
        "viewerId": None,
        "lastSyncId": 1000,
        "issueNumbers": {},
        "users": {},
        "teams": {},
        "workflowStates": {},
        "issueLabels": {},
        "projectStatuses": {},
        "projects": {},
        "projectMilestones": {},
        "issues": {},
        "comments": {},
        "cycles": {},
    }


# --------------------------------------------------------------------------------------------- records


def organization_record(oid: str, name: str, url_key: str, at: str) -> dict[str, Any]:
    return {"id": oid, "name": name, "urlKey": url_key, "createdAt": at, "updatedAt": at, "archivedAt": None}


def user_record(uid: str, name: str, email: str, at: str, *, admin: bool = False) -> dict[str, Any]:
    handle = email.split("@")[0]
    return {
        "id": uid,
        "name": name,
        "displayName": handle,
        "email": email,
        "initials": "".join(part[0] for part in name.split()[:2]).upper(),
        "avatarBackgroundColor": "#5e6ad2",
        "active": True,
        "admin": admin,
        "owner": admin,
        "timezone": "Europe/Berlin",
        "createdAt": at,
        "updatedAt": at,
        "archivedAt": None,
    }


def team_record(tid: str, key: str, name: str, at: str, member_ids: list[str]) -> dict[str, Any]:
    return {
        "id": tid,
        "key": key,
        "name": name,
        "displayName": name,
        "description": None,
        "color": "#5e6ad2",
        "icon": None,
        "timezone": "Europe/Berlin",
        "triageEnabled": False,
        "defaultIssueStateId": None,
        "triageIssueStateId": None,
        "memberIds": member_ids,
        "createdAt": at,
        "updatedAt": at,
        "archivedAt": None,
    }


def state_record(
    sid: str, team_id: str, name: str, kind: str, color: str, pos: float, at: str
) -> dict[str, Any]:
    return {
        "id": sid,
        "name": name,
        "type": kind,
        "color": color,
        "position": pos,
        "description": None,
        "teamId": team_id,
        "createdAt": at,
        "updatedAt": at,
        "archivedAt": None,
    }


def label_record(
    lid: str, name: str, color: str, at: str, *, team_id: str | None = None, creator_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": lid,
        "name": name,
        "color": color,
        "description": None,
        "isGroup": False,
        "parentId": None,
        "teamId": team_id,
        "creatorId": creator_id,
        "createdAt": at,
        "updatedAt": at,
        "archivedAt": None,
    }


def project_status_record(psid: str, name: str, kind: str, color: str, pos: float, at: str) -> dict[str, Any]:
    return {
        "id": psid,
        "name": name,
        "type": kind,
        "color": color,
        "position": pos,
        "description": None,
        "indefinite": kind in ("backlog", "paused"),
        "createdAt": at,
        "updatedAt": at,
    }


def project_record(
    pid: str, slug_id: str, name: str, status_id: str, at: str, **fields: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": pid,
        "name": name,
        "description": "",
        "content": None,
        "color": "#bec2c8",
        "icon": None,
        "priority": 0,
        "prioritySortOrder": 0.0,
        "sortOrder": 0.0,
        "slugId": slug_id,
        "statusId": status_id,
        "startDate": None,
        "targetDate": None,
        "leadId": None,
        "creatorId": None,
        "teamIds": [],
        "memberIds": [],
        "labelIds": [],
        "trashed": None,
        "createdAt": at,
        "updatedAt": at,
        "archivedAt": None,
        "completedAt": None,
        "canceledAt": None,
        "startedAt": None,
    }
    record.update(fields)
    return record


def milestone_record(mid: str, project_id: str, name: str, at: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": mid,
        "name": name,
        "description": None,
        "targetDate": None,
        "sortOrder": 0.0,
        "projectId": project_id,
        "createdAt": at,
        "updatedAt": at,
        "archivedAt": None,
    }
    record.update(fields)
    return record


def issue_record(
    iid: str, team_key: str, number: int, title: str, team_id: str, state_id: str, at: str
) -> dict[str, Any]:
    return {
        "id": iid,
        "identifier": f"{team_key}-{number}",
        "number": number,
        "title": title,
        "description": None,
        "priority": 0,
        "estimate": None,
        "dueDate": None,
        "sortOrder": -float(number),
        "prioritySortOrder": -float(number),
        "subIssueSortOrder": None,
        "teamId": team_id,
        "stateId": state_id,
        "projectId": None,
        "projectMilestoneId": None,
        "assigneeId": None,
        "creatorId": None,
        "parentId": None,
        "labelIds": [],
        "previousIdentifiers": [],
        "trashed": None,
        "createdAt": at,
        "updatedAt": at,
        "addedToTeamAt": at,
        "addedToProjectAt": None,
        "archivedAt": None,
        "completedAt": None,
        "canceledAt": None,
        "startedAt": None,
    }


def comment_record(cid: str, issue_id: str, user_id: str | None, body: str, at: str) -> dict[str, Any]:
    return {
        "id": cid,
        "body": body,
        "issueId": issue_id,
        "userId": user_id,
        "parentId": None,
        "projectId": None,
        "createdAt": at,
        "updatedAt": at,
        "editedAt": None,
        "resolvedAt": None,
        "archivedAt": None,
    }


def cycle_record(team_id: str, number: int, starts: datetime, days: int, at: str) -> dict[str, Any]:
    """A team's cycle (sprint); its id derives from team and number, so seeding draws no random ids."""
    ends = starts + timedelta(days=days)
    return {
        "id": stable_id(f"Cycle:{team_id}:{number}"),
        "number": float(number),
        "name": None,
        "description": None,
        "teamId": team_id,
        "startsAt": iso_z(starts),
        "endsAt": iso_z(ends),
        "createdAt": at,
        "updatedAt": at,
        "archivedAt": None,
        "autoArchivedAt": None,
    }


def apply_state_timestamps(issue: dict[str, Any], state_type: str, at: str) -> None:
    """Set completedAt/canceledAt/startedAt as Linear does when an issue enters a state of this type."""
    if state_type == "started":
        issue["startedAt"] = issue.get("startedAt") or at
        issue["completedAt"] = issue["canceledAt"] = None
    elif state_type == "completed":
        issue["completedAt"] = at
        issue["canceledAt"] = None
    elif state_type in ("canceled", "duplicate"):
        issue["canceledAt"] = at
        issue["completedAt"] = None
    else:  # triage, backlog, unstarted: back to not started (UNVERIFIED that startedAt is cleared)
        issue["startedAt"] = issue["completedAt"] = issue["canceledAt"] = None


# ------------------------------------------------------------------------------------------ workspaces

DEMO_USERS = [
    ("Alex Rivera", "alex@acme.example", True),
    ("Sam Chen", "sam@acme.example", False),
    ("Priya Natarajan", "priya@acme.example", False),
    ("Jonas Weber", "jonas@acme.example", False),
]

DEMO_LABELS = [
    ("Bug", "#eb5757"),
    ("Feature", "#bb87fc"),
    ("Improvement", "#4ea7fc"),
    ("docs", "#26b5ce"),
    ("tech-debt", "#f2994a"),
    ("security", "#d12f2f"),
]

DEMO_TITLES = [
    "Set up staging environment for launch",
    "Write launch announcement draft",
    "Fix login redirect loop",
    "Add rate limiting to public API",
    "Migrate sessions table to new schema",
    "Onboarding checklist for new workspaces",
    "Audit log export to CSV",
    "Flaky test: checkout happy path",
    "Reduce cold start time of the API",
    "Dark mode for settings page",
    "Invoice PDF shows wrong VAT rate",
    "Proration for mid-cycle plan changes",
    "Stripe webhook retries create duplicate invoices",
    "Billing page: show upcoming invoice",
    "Dunning emails for failed payments",
    "Tax ID validation for EU customers",
    "Usage-based pricing meter",
    "Refund flow in admin console",
    "Push notifications for mentions",
    "Offline mode for issue list",
    "iOS: crash when opening attachments",
    "Android: deep links to issues",
    "Mobile: biometric login",
    "Mobile app store screenshots",
    "Upgrade React Native to latest",
    "Document the public API pagination",
    "Password reset email lands in spam",
    "Search results ignore archived filter",
    "Improve error message on expired invite",
    "Keyboard shortcut cheat sheet",
    "Slow query on the activity feed",
    "Remove legacy feature flags",
    "SSO: support Okta SCIM provisioning",
    "Export workspace data as JSON",
    "Rename 'boards' to 'views' in the UI",
    "Timezone bug in due date reminders",
    "Cache avatar images at the CDN",
    "Accessibility pass on modals",
    "Add health check endpoint",
    "Attachment upload progress bar",
    "Bulk edit priority from the list view",
    "Track signup funnel events",
    "GDPR: delete account end to end",
    "Webhook signature docs are outdated",
    "Retry failed email deliveries",
    "Localize date formats",
    "Empty state for the inbox",
    "Investigate memory leak in worker",
]

DES_TITLES = [
    "Design system: button variants",
    "Icons for the mobile tab bar",
    "Illustrations for empty states",
    "Billing page mockups",
    "Onboarding flow wireframes",
]


class _Builder:
    """Fills an emulator's state; every id and timestamp is drawn deterministically."""

    def __init__(self, emu: IdSource, state: dict[str, Any], now: datetime, rng: random.Random) -> None:
        self.emu = emu
        self.state = state
        self.now = now
        self.rng = rng

    def at(self, days: float) -> str:
        return iso_z(self.now + timedelta(days=days))

    def day(self, days: int) -> str:
        return (self.now + timedelta(days=days)).date().isoformat()

    def workspace(self) -> dict[str, Any]:
        st = self.state
        created = self.at(-400)
        st["organization"] = organization_record(self.emu.uuid(), "Acme", "acme", created)
        users = []
        for name, email, admin in DEMO_USERS:
            user = user_record(self.emu.uuid(), name, email, created, admin=admin)
            st["users"][user["id"]] = user
            users.append(user)
        st["viewerId"] = users[0]["id"]
        teams = {}
        for key, name, members in (("ENG", "Engineering", users), ("DES", "Design", users[:1] + users[2:3])):
            team = team_record(self.emu.uuid(), key, name, created, [u["id"] for u in members])
            st["teams"][team["id"]] = team
            st["issueNumbers"][team["id"]] = 0
            states = {}
            for pos, (sname, kind, color) in enumerate(WORKFLOW_TEMPLATE):
                record = state_record(
                    self.emu.uuid(), team["id"], sname, kind, color, float(pos), self.at(-400 + pos / 86400)
                )
                st["workflowStates"][record["id"]] = record
                states[sname] = record
            team["defaultIssueStateId"] = states["Backlog"]["id"]
            team["triageIssueStateId"] = states["Triage"]["id"]
            teams[key] = {"team": team, "states": states}
        labels = {}
        for i, (name, color) in enumerate(DEMO_LABELS):
            label = label_record(
                self.emu.uuid(), name, color, self.at(-399 + i / 86400), creator_id=users[0]["id"]
            )
            st["issueLabels"][label["id"]] = label
            labels[name] = label
        statuses = {}
        for pos, (name, kind, color) in enumerate(PROJECT_STATUS_TEMPLATE):
            status = project_status_record(self.emu.uuid(), name, kind, color, float(pos), created)
            st["projectStatuses"][status["id"]] = status
            statuses[kind] = status
        eng = teams["ENG"]["team"]["id"]
        des = teams["DES"]["team"]["id"]
        projects = {}
        for i, (name, status_type, start, target, lead, team_ids) in enumerate(
            (
                ("Q1 launch", "started", -45, 20, users[0], [eng]),
                ("Billing revamp", "planned", -10, 60, users[1], [eng, des]),
                ("Mobile app", "started", -90, 35, users[2], [eng]),
            )
        ):
            project = project_record(
                self.emu.uuid(),
                f"{self.rng.getrandbits(48):012x}",
                name,
                statuses[status_type]["id"],
                self.at(-120 + i),
                description=f"{name}: tracked in pmtui's sandbox.",
                startDate=self.day(start),
                targetDate=self.day(target),
                startedAt=self.at(start) if status_type == "started" else None,
                leadId=lead["id"],
                creatorId=users[0]["id"],
                teamIds=team_ids,
                memberIds=[u["id"] for u in users],
                sortOrder=float(i),
                priority=2 + i % 2,
            )
            st["projects"][project["id"]] = project
            projects[name] = project
        milestones: dict[str, list[dict[str, Any]]] = {}
        for pname, names in (
            ("Q1 launch", [("Beta", -5), ("GA", 20)]),
            ("Billing revamp", [("Design review", 15), ("Rollout", 55)]),
            ("Mobile app", [("TestFlight", 10), ("Store release", 35)]),
        ):
            project = projects[pname]
            milestones[pname] = []
            for order, (mname, due) in enumerate(names):
                milestone = milestone_record(
                    self.emu.uuid(),
                    project["id"],
                    mname,
                    project["createdAt"],
                    targetDate=self.day(due),
                    sortOrder=float(order),
                )
                st["projectMilestones"][milestone["id"]] = milestone
                milestones[pname].append(milestone)
        return {
            "users": users,
            "teams": teams,
            "labels": labels,
            "projects": projects,
            "milestones": milestones,
            "statuses": statuses,
        }

    def issue(
        self, team: dict[str, Any], title: str, state: dict[str, Any], created: str, updated: str
    ) -> dict[str, Any]:
        st = self.state
        number = st["issueNumbers"][team["id"]] + 1
        st["issueNumbers"][team["id"]] = number
        issue = issue_record(self.emu.uuid(), team["key"], number, title, team["id"], state["id"], created)
        issue["updatedAt"] = updated
        if state["type"] in ("started", "completed", "canceled", "duplicate"):
            apply_state_timestamps(issue, "started", created)
            if state["type"] != "started":
                apply_state_timestamps(issue, state["type"], updated)
        st["issues"][issue["id"]] = issue
        return issue


def seed_demo(emu: IdSource, state: dict[str, Any], now: datetime, rng: random.Random) -> dict[str, Any]:
    """Acme's workspace: team ENG (48 issues over three projects) and DES (5), labels, comments."""
    b = _Builder(emu, state, now, rng)
    ws = b.workspace()
    users, labels = ws["users"], ws["labels"]
    eng, des = ws["teams"]["ENG"], ws["teams"]["DES"]
    project_names = ["Q1 launch", "Billing revamp", "Mobile app"]
    # Due offsets in days: overdue, today, this week, later, none (cycled with the titles).
    due_cycle: list[int | None] = [-6, 0, 2, None, 12, -1, 4, 30, None, 1, 21, -3, 0, 6, None, 45]
    state_cycle = ["Todo", "In Progress", "Backlog", "Todo", "In Review", "Done", "Todo", "Backlog",
                   "In Progress", "Triage", "Todo", "Canceled"]  # fmt: skip
    count = len(DEMO_TITLES)
    issues: list[dict[str, Any]] = []
    for i, title in enumerate(DEMO_TITLES):
        created_days = -60 + i * 55 / count
        state_name = "In Progress" if i == 2 else state_cycle[i % len(state_cycle)]
        created = b.at(created_days)
        updated = b.at(min(created_days + 1 + rng.random() * 5, -0.05))
        issue = b.issue(eng["team"], title, eng["states"][state_name], created, updated)
        if 10 <= i < 18:
            project = project_names[1]
        elif 18 <= i < 25:
            project = project_names[2]
        elif i < 10 or i % 4 == 0:
            project = project_names[0]
        else:
            project = None
        if project:
            issue["projectId"] = ws["projects"][project]["id"]
            issue["addedToProjectAt"] = created
            if i % 3 == 0:
                issue["projectMilestoneId"] = ws["milestones"][project][i % 2]["id"]
        due = due_cycle[i % len(due_cycle)]
        issue["dueDate"] = None if due is None else b.day(due)
        issue["priority"] = [2, 1, 3, 0, 4, 2, 3][i % 7]
        issue["estimate"] = [1.0, 2.0, 3.0, 5.0, None, 8.0][i % 6]
        issue["assigneeId"] = None if i % 5 == 4 else users[i % len(users)]["id"]
        issue["creatorId"] = users[(i + 1) % len(users)]["id"]
        label_names = [
            ["Bug"],
            ["Feature"],
            ["Improvement"],
            ["Bug", "security"],
            ["docs"],
            [],
            ["tech-debt"],
        ]
        issue["labelIds"] = [labels[n]["id"] for n in label_names[i % len(label_names)]]
        issue["description"] = f"Context for **{title}**.\n\n- [ ] reproduce\n- [ ] fix\n" if i % 2 else None
        issues.append(issue)
    # ENG-3 is the one the other sandboxes refer to (Motion schedules it).
    issues[2].update(priority=1, dueDate=b.day(1), labelIds=[labels["Bug"]["id"]])
    issues[12]["parentId"] = issues[10]["id"]
    issues[13]["parentId"] = issues[10]["id"]
    for i, title in enumerate(DES_TITLES):
        created = b.at(-30 + i * 5)
        issue = b.issue(
            des["team"], title, des["states"][["Todo", "In Progress", "Backlog"][i % 3]], created, created
        )
        issue["assigneeId"] = users[2]["id"]
        issue["creatorId"] = users[0]["id"]
        issue["dueDate"] = b.day(3 + i * 4) if i % 2 == 0 else None
        if i == 3:
            issue["projectId"] = ws["projects"]["Billing revamp"]["id"]
        issues.append(issue)
    comments = 0
    for n, (idx, text) in enumerate(
        (
            (2, "Reproduced on Safari: the callback bounces between /login and /auth/callback."),
            (2, "Cookie SameSite=Lax fixes it locally; PR coming."),
            (7, "Happens about once in 20 runs on CI."),
            (12, "Seen by three customers this week."),
            (20, "Crash log attached in the support ticket."),
        )
    ):
        issue = issues[idx]
        at = b.at(-2 + n * 0.2)
        comment = comment_record(emu.uuid(), issue["id"], users[(n + 1) % len(users)]["id"], text, at)
        state["comments"][comment["id"]] = comment
        comments += 1
    # Two-week cycles for ENG: the last one, the current one and the next (none of the issues is in one).
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    for number, offset in ((1, -14), (2, 0), (3, 14)):
        starts = monday + timedelta(days=offset)
        # Linear creates a cycle ahead of its start (upcoming cycles): here one cycle length before.
        cycle = cycle_record(eng["team"]["id"], number, starts, 14, iso_z(starts - timedelta(days=14)))
        state["cycles"][cycle["id"]] = cycle
    eng["team"]["cyclesEnabled"] = True
    return {
        "kind": "demo",
        "teams": len(state["teams"]),
        "projects": len(state["projects"]),
        "issues": len(state["issues"]),
        "comments": comments,
        "labels": len(state["issueLabels"]),
        "users": len(state["users"]),
    }


def seed_bulk(
    emu: IdSource, state: dict[str, Any], now: datetime, rng: random.Random, n: int, changed_share: float
) -> dict[str, Any]:
    """The demo's workspace without its issues, plus ``n`` ENG issues spread over projects and states.

    Issues are created over the past year and last updated at least a day ago, except a
    ``changed_share`` of them updated within the last hour (what an incremental pull should fetch).
    """
    b = _Builder(emu, state, now, rng)
    ws = b.workspace()
    eng = ws["teams"]["ENG"]
    team = eng["team"]
    states = list(eng["states"].values())
    projects = list(ws["projects"].values())
    label_ids = [label["id"] for label in ws["labels"].values()]
    user_ids = [u["id"] for u in ws["users"]]
    changed = round(n * changed_share)
    changed_every = n / changed if changed else 0.0
    next_changed = 0.0
    start = now - timedelta(days=365)
    step = timedelta(days=364) / max(n, 1)
    issues = state["issues"]
    made_changed = 0
    key, tid = team["key"], team["id"]
    for i in range(n):
        created_dt = start + step * i
        created = iso_z(created_dt)
        if changed and i >= next_changed and made_changed < changed:
            updated = iso_z(now - timedelta(minutes=1 + rng.random() * 50))
            next_changed += changed_every
            made_changed += 1
        else:
            updated = iso_z(min(created_dt + timedelta(hours=rng.random() * 48), now - timedelta(days=1)))
        state_rec = states[i % len(states)]
        issue = issue_record(emu.uuid(), key, i + 1, f"Bulk issue {i + 1}", tid, state_rec["id"], created)
        issue["updatedAt"] = updated
        if state_rec["type"] in ("started", "completed", "canceled", "duplicate"):
            issue["startedAt"] = created
            if state_rec["type"] == "completed":
                issue["completedAt"] = updated
            elif state_rec["type"] != "started":
                issue["canceledAt"] = updated
        if i % 4:
            issue["projectId"] = projects[i % len(projects)]["id"]
            issue["addedToProjectAt"] = created
        issue["priority"] = i % 5
        issue["assigneeId"] = user_ids[i % len(user_ids)]
        issue["creatorId"] = user_ids[0]
        issue["labelIds"] = [label_ids[i % len(label_ids)]] if i % 3 == 0 else []
        if i % 7 == 0:
            issue["dueDate"] = (now + timedelta(days=(i % 60) - 20)).date().isoformat()
        issues[issue["id"]] = issue
    state["issueNumbers"][tid] = n
    return {"kind": "bulk", "issues": n, "changed": made_changed, "projects": len(projects)}
