"""Demo and bulk data for the Motion emulator.

The demo is a small team workspace whose due dates sit around the emulator's clock (overdue, today,
this week, later, none), so the TUI's "today" and "overdue" views have something to show whatever the
date. Records are built as plain dicts directly in the emulator's state: the bulk seed must write
50,000 tasks in a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pmtui.sandbox.server import iso_z

if TYPE_CHECKING:
    from pmtui.sandbox.motion import MotionEmulator

STATUSES = (
    {"name": "Todo", "isDefaultStatus": True, "isResolvedStatus": False},
    {"name": "In Progress", "isDefaultStatus": False, "isResolvedStatus": False},
    {"name": "Blocked", "isDefaultStatus": False, "isResolvedStatus": False},
    {"name": "Completed", "isDefaultStatus": False, "isResolvedStatus": True},
    {"name": "Canceled", "isDefaultStatus": False, "isResolvedStatus": True},
)
LABELS = ("Deep work", "Meeting", "Admin", "Review", "Personal")
USERS = (
    ("Alex Rivera", "alex.rivera@acme.example"),
    ("Sam Chen", "sam.chen@acme.example"),
    ("Priya Patel", "priya.patel@acme.example"),
    ("Jordan Lee", "jordan.lee@acme.example"),
)
PROJECTS = (
    ("Q1 launch", "Everything that must ship for the Q1 product launch.", "In Progress"),
    ("Hiring", "Open roles: backend engineer, product designer.", "Todo"),
    ("Personal", "Errands and life admin.", "Todo"),
)

LINEAR_ENG_3 = "https://linear.app/acme/issue/ENG-3/fix-login-redirect-loop"
"""The Linear emulator's demo issue ENG-3, which the demo's first task schedules."""


@dataclass(frozen=True)
class DemoTask:
    """One row of the demo: ``due`` is (days from today, "HH:MM") in UTC, ``slot`` today's work block."""

    name: str
    project: str | None
    status: str
    priority: str
    due: tuple[int, str] | None
    duration: int | str
    labels: tuple[str, ...]
    assignee: int = 0
    slot: tuple[str, str] | None = None
    description: str = ""


DEMO_TASKS: tuple[DemoTask, ...] = (
    DemoTask(  # agrees with ENG-3 on the fields twins exchange (due, priority): linking files no conflict
        "Fix login redirect loop",
        "Q1 launch",
        "In Progress",
        "ASAP",
        (1, "00:00"),
        90,
        ("Deep work",),
        slot=("09:00", "10:30"),
        description=f"Scheduled from Linear: {LINEAR_ENG_3}\n\nUsers bounce between /login and /app.",
    ),
    DemoTask(
        "Write launch announcement draft", "Q1 launch", "Todo", "MEDIUM", (2, "17:00"), 60, ("Deep work",)
    ),
    DemoTask("Review pricing page copy", "Q1 launch", "Todo", "HIGH", (-1, "17:00"), 30, ("Review",)),
    DemoTask(
        "Prepare demo environment", "Q1 launch", "Blocked", "HIGH", (-2, "12:00"), 120, ("Deep work",), 1
    ),
    DemoTask(
        "QA checklist for release candidate", "Q1 launch", "Todo", "MEDIUM", (3, "17:00"), 90, ("Review",), 2
    ),
    DemoTask("Launch sync with marketing", "Q1 launch", "Todo", "MEDIUM", (0, "15:00"), 30, ("Meeting",)),
    DemoTask("Update onboarding emails", "Q1 launch", "Completed", "LOW", (-3, "17:00"), 45, ("Admin",), 3),
    DemoTask(
        "Record product walkthrough video", "Q1 launch", "Todo", "MEDIUM", (6, "17:00"), 180, ("Deep work",)
    ),
    DemoTask(
        "Fix flaky checkout test",
        "Q1 launch",
        "In Progress",
        "ASAP",
        (0, "12:00"),
        60,
        ("Deep work",),
        1,
        slot=("10:30", "11:30"),
    ),
    DemoTask("Finalize launch checklist", "Q1 launch", "Todo", "HIGH", (1, "10:00"), 45, ("Admin",)),
    DemoTask("Screen backend engineer candidates", "Hiring", "Todo", "HIGH", (1, "17:00"), 60, ("Review",)),
    DemoTask(
        "Schedule onsite interviews",
        "Hiring",
        "In Progress",
        "MEDIUM",
        (0, "16:00"),
        30,
        ("Admin",),
        slot=("13:00", "13:30"),
    ),
    DemoTask(
        "Write job description for designer",
        "Hiring",
        "Completed",
        "MEDIUM",
        (-5, "17:00"),
        60,
        ("Deep work",),
        2,
    ),
    DemoTask(
        "Interview debrief: frontend candidate", "Hiring", "Todo", "MEDIUM", (0, "22:30"), 30, ("Meeting",)
    ),
    DemoTask("Reference check for Dana", "Hiring", "Todo", "LOW", (4, "17:00"), 15, ("Admin",), 3),
    DemoTask("Update careers page", "Hiring", "Canceled", "LOW", (-7, "17:00"), 30, ("Admin",)),
    DemoTask("Prepare interview rubric", "Hiring", "Todo", "MEDIUM", (8, "17:00"), 90, ("Deep work",)),
    DemoTask("Book dentist appointment", "Personal", "Todo", "LOW", (2, "12:00"), 15, ("Personal",)),
    DemoTask("Renew passport", "Personal", "Todo", "MEDIUM", (20, "17:00"), 60, ("Personal",)),
    DemoTask(
        "Pay electricity bill", "Personal", "Todo", "HIGH", (-1, "09:00"), "REMINDER", ("Personal", "Admin")
    ),
    DemoTask("Plan weekend trip", "Personal", "Todo", "LOW", None, 60, ("Personal",)),
    DemoTask("Cancel old gym membership", "Personal", "Completed", "LOW", (-2, "17:00"), 15, ("Personal",)),
    DemoTask(
        "Weekly planning",
        None,
        "Todo",
        "MEDIUM",
        (0, "10:00"),
        30,
        ("Admin",),
        slot=("13:30", "14:00"),
    ),
    DemoTask(
        "Reply to partner emails",
        None,
        "In Progress",
        "MEDIUM",
        (0, "18:00"),
        45,
        ("Admin",),
        slot=("14:00", "14:45"),
    ),
    DemoTask("1:1 with Sam", None, "Todo", "MEDIUM", (1, "14:00"), 30, ("Meeting",)),
    DemoTask("Read architecture RFC", None, "Todo", "LOW", (5, "17:00"), 60, ("Review", "Deep work")),
    DemoTask("Submit October expense report", None, "Todo", "HIGH", (-4, "17:00"), 30, ("Admin",)),
    DemoTask("Draft quarterly OKRs", None, "Todo", "MEDIUM", (12, "17:00"), 120, ("Deep work",)),
    DemoTask("Clean up backlog", None, "Todo", "LOW", None, 45, ()),
    DemoTask("Write team retro notes", None, "Completed", "MEDIUM", (-1, "17:00"), 30, ("Meeting",), 2),
    DemoTask("Complete security training", None, "Todo", "MEDIUM", (30, "17:00"), "NONE", ()),
)

DEMO_COMMENTS = (
    ("Fix login redirect loop", 1, "Reproduced on Safari only; the session cookie is SameSite=Strict."),
    ("Fix login redirect loop", 0, "Blocking the launch checklist, taking it this morning."),
    ("Prepare demo environment", 1, "Waiting for the staging database snapshot."),
)


def _base(emu: MotionEmulator) -> dict[str, Any]:
    """Users, the team workspace "Acme", a private workspace and the three projects; returns ids."""
    emu.clear_data()
    state = emu.state
    now = emu.now()
    user_ids = []
    for name, email in USERS:
        user_id = emu.new_id()
        state["users"][user_id] = {"id": user_id, "name": name, "email": email}
        user_ids.append(user_id)
    state["me"] = user_ids[0]
    acme = {
        "id": emu.new_id(),
        "name": "Acme",
        "teamId": emu.new_id(),
        # UNVERIFIED enum values; "TEAM" / "INDIVIDUAL" as the transcriptions suggest.
        "type": "TEAM",
        "labels": list(LABELS),
        "statuses": [dict(s) for s in STATUSES],
        "memberIds": list(user_ids),
    }
    private = {
        "id": emu.new_id(),
        "name": "My Private Workspace",
        "teamId": None,
        "type": "INDIVIDUAL",
        "labels": [],
        "statuses": [dict(s) for s in STATUSES],
        "memberIds": [user_ids[0]],
    }
    for workspace in (acme, private):
        state["workspaces"][workspace["id"]] = workspace
    project_ids: dict[str, str] = {}
    project: dict[str, Any]
    for offset, (name, description, status) in enumerate(PROJECTS):
        created = iso_z(now - timedelta(days=60 - offset))
        project = {
            "id": emu.new_id(),
            "seq": emu.next_seq(),
            "name": name,
            "description": description,
            "workspaceId": acme["id"],
            "status": status,
            "dueDate": None,
            "priority": "MEDIUM",
            "labels": [],
            "createdTime": created,
            "updatedTime": created,
            "customFieldValues": {},
        }
        state["projects"][project["id"]] = project
        state["project_order"].append(project["id"])
        project_ids[name] = project["id"]
    return {"users": user_ids, "workspace": acme, "projects": project_ids}


def _task_record(
    emu: MotionEmulator,
    *,
    workspace_id: str,
    name: str,
    created: datetime,
    updated: datetime,
    creator_id: str,
    **fields: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": emu.new_id(),
        "seq": emu.next_seq(),
        "name": name,
        "description": "",
        "duration": 30,
        "dueDate": None,
        "deadlineType": "SOFT",
        "completed": False,
        "completedTime": None,
        "createdTime": iso_z(created),
        "updatedTime": iso_z(updated),
        "startOn": created.date().isoformat(),
        "creatorId": creator_id,
        "projectId": None,
        "workspaceId": workspace_id,
        "status": "Todo",
        "priority": "MEDIUM",
        "labels": [],
        "assigneeIds": [],
        "autoScheduled": None,
        "scheduledStart": None,
        "scheduledEnd": None,
        "schedulingIssue": False,
        "customFieldValues": {},
    }
    record.update(fields)
    emu.state["tasks"][record["id"]] = record
    emu.state["task_order"].append(record["id"])
    return record


def _at(day: datetime, offset_days: int, hhmm: str) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day.date() + timedelta(days=offset_days), time(hours, minutes), tzinfo=UTC)


def seed_demo(emu: MotionEmulator) -> dict[str, Any]:
    """Replace the data with the demo workspace; deterministic for the emulator's seed and clock."""
    base = _base(emu)
    now = emu.now()
    users, acme, projects = base["users"], base["workspace"], base["projects"]
    resolved = {s["name"] for s in STATUSES if s["isResolvedStatus"]}
    by_name: dict[str, str] = {}
    total = len(DEMO_TASKS)
    for index, row in enumerate(DEMO_TASKS):
        # Created over the past weeks in table order (so the listing order is the table's);
        # edited a few hours later, never after now.
        created = now - timedelta(hours=7 * (total - index) + 24)
        updated = min(now, created + timedelta(hours=1 + index % 5))
        due = _at(now, *row.due) if row.due else None
        fields: dict[str, Any] = {
            "description": row.description,
            "duration": row.duration,
            "dueDate": iso_z(due) if due else None,
            "projectId": projects[row.project] if row.project else None,
            "status": row.status,
            "priority": row.priority,
            "labels": list(row.labels),
            "assigneeIds": [users[row.assignee]],
        }
        if row.status in resolved:
            fields["completed"] = True
            fields["completedTime"] = iso_z(updated)
        if row.slot:
            start, end = _at(now, 0, row.slot[0]), _at(now, 0, row.slot[1])
            fields["autoScheduled"] = {
                "startDate": now.date().isoformat(),
                "deadlineType": "SOFT",
                "schedule": "Work Hours",
            }
            fields["startOn"] = now.date().isoformat()
            fields["scheduledStart"], fields["scheduledEnd"] = iso_z(start), iso_z(end)
            fields["schedulingIssue"] = due is not None and end > due
        creator = users[row.assignee] if row.assignee else users[0]
        task = _task_record(
            emu,
            workspace_id=acme["id"],
            name=row.name,
            created=created,
            updated=updated,
            creator_id=creator,
            **fields,
        )
        by_name[row.name] = task["id"]
    for task_name, author, content in DEMO_COMMENTS:
        emu.add_comment({"taskId": by_name[task_name], "content": content}, users[author])
    return {
        "workspaces": len(emu.state["workspaces"]),
        "users": len(users),
        "projects": len(projects),
        "tasks": total,
        "resolved": sum(1 for row in DEMO_TASKS if row.status in resolved),
        "comments": len(DEMO_COMMENTS),
    }


_VERBS = ("Review", "Draft", "Fix", "Plan", "Update", "Test", "Ship", "Refactor", "Document", "Triage")
_NOUNS = (
    "invoice flow",
    "search index",
    "release notes",
    "API docs",
    "on-call rota",
    "billing page",
    "mobile login",
    "status emails",
    "data export",
    "team offsite",
)


def seed_bulk(emu: MotionEmulator, n: int, changed_share: float) -> dict[str, Any]:
    """Replace the data with the demo workspace's skeleton plus ``n`` generated tasks.

    About 10 % are resolved. ``changed_share`` of them were edited in the last hour; the rest carry
    their creation time as ``updatedTime``, so an incremental sync can tell what changed.
    """
    base = _base(emu)
    now = emu.now()
    rng = emu.rng
    users, acme = base["users"], base["workspace"]
    project_ids = list(base["projects"].values())
    labels = list(LABELS)
    statuses = ("Todo", "Todo", "Todo", "In Progress", "Blocked", "Todo", "In Progress", "Todo", "Todo")
    start = now - timedelta(days=90)
    step = timedelta(days=89) / max(n, 1)
    resolved = 0
    for index in range(n):
        created = start + step * index
        roll = rng.random()
        updated = now - timedelta(minutes=rng.random() * 60) if rng.random() < changed_share else created
        updated = max(updated, created)
        fields: dict[str, Any] = {
            "duration": (15, 30, 45, 60, 90, 120, 180)[index % 7],
            "priority": ("ASAP", "HIGH", "MEDIUM", "MEDIUM", "LOW")[index % 5],
            "labels": [labels[index % len(labels)]],
            "assigneeIds": [users[index % len(users)]],
            "projectId": project_ids[index % len(project_ids)] if index % 4 else None,
            "dueDate": iso_z(now + timedelta(days=(index % 45) - 15, hours=index % 9)) if index % 6 else None,
        }
        if roll < 0.1:
            resolved += 1
            fields.update(status="Completed", completed=True, completedTime=iso_z(updated))
        else:
            fields["status"] = statuses[index % len(statuses)]
        _task_record(
            emu,
            workspace_id=acme["id"],
            name=f"{_VERBS[index % 10]} {_NOUNS[(index // 10) % 10]} #{index + 1}",
            created=created,
            updated=updated,
            creator_id=users[index % len(users)],
            **fields,
        )
    return {"tasks": n, "resolved": resolved, "unresolved": n - resolved, "projects": len(project_ids)}
