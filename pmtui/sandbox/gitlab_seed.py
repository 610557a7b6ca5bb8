"""Seed data for the GitLab emulator: a small realistic demo project and a bulk one for benchmarks.

Both replace the state and are deterministic for the emulator's ``seed`` and clock (freeze the clock
for byte-identical runs). Records are built directly, not through HTTP, so 50,000 issues seed in
about a second.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pmtui.sandbox.server import iso_z

if TYPE_CHECKING:
    from pmtui.sandbox.gitlab import GitLabEmulator

Record = dict[str, Any]

LABELS: tuple[tuple[str, str, str | None, int | None], ...] = (
    ("bug", "#dc143c", "Something is broken", 1),
    ("feature", "#428bca", "New functionality", None),
    ("backend", "#5843ad", "API, jobs and database", None),
    ("frontend", "#f0ad4e", "Web UI", None),
    ("docs", "#5cb85c", "Documentation", None),
    ("To Do", "#ededed", "Board: ready to start", None),
    ("Doing", "#1068bf", "Board: in progress", None),
    ("Review", "#8fbc8f", "Board: waiting for review", None),
)
BOARD_LABELS = ["To Do", "Doing", "Review"]

# (title, labels, description or None)
DEMO_ISSUES: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    (
        "Crash when saving a report with an empty title",
        ("bug", "backend"),
        "Steps:\n1. Open a report\n2. Clear the title\n3. Save",
    ),
    ("Add dark mode to the settings page", ("feature", "frontend"), None),
    ("Login redirect loops after SSO timeout", ("bug", "backend"), "Users bounce between /login and /sso."),
    ("Document the public webhooks API", ("docs",), "- [x] Events\n- [ ] Payload examples\n- [ ] Retries"),
    ("Export reports as CSV", ("feature", "backend"), "Finance asked for a CSV export of monthly reports."),
    ("Slow dashboard load for large teams", ("bug", "frontend"), None),
    ("Rate-limit the password reset endpoint", ("backend",), None),
    ("Dark mode: chart colours are unreadable", ("bug", "frontend"), None),
    ("Add audit log for permission changes", ("feature", "backend"), "- [ ] Model\n- [ ] API\n- [ ] UI"),
    ("CSV export ignores the selected timezone", ("bug", "backend"), None),
    ("Onboarding checklist for new workspaces", ("feature", "frontend"), None),
    ("Upgrade the PostgreSQL driver", ("backend",), None),
    ("Write a migration guide for v1.4", ("docs",), None),
    ("Keyboard shortcuts overlay", ("feature", "frontend"), None),
    ("Flaky test: test_invoice_rounding", ("bug", "backend"), None),
    ("Avatar upload fails for PNG over 2 MB", ("bug", "frontend"), None),
    ("Search results miss archived projects", ("bug", "backend"), None),
    ("Add SAML group sync", ("feature", "backend"), None),
    ("Update the API reference for pagination", ("docs", "backend"), None),
    ("Mobile layout breaks on the billing page", ("bug", "frontend"), None),
    ("Background job retries are not logged", ("backend",), None),
    ("Bulk edit for issue labels", ("feature", "frontend"), None),
    ("Email digest shows wrong due dates", ("bug", "backend"), None),
    (
        "Accessibility audit of the sign-up form",
        ("frontend",),
        "- [x] Contrast\n- [x] Labels\n- [ ] Focus order",
    ),
    ("Cache project statistics", ("backend",), None),
    ("Translate the settings page to German", ("frontend", "docs"), None),
    ("Webhook deliveries time out after 10 s", ("bug", "backend"), None),
    ("Add a changelog to the release process", ("docs",), None),
    ("Show due dates in the board cards", ("feature", "frontend"), None),
    ("Remove the legacy v1 export endpoint", ("backend",), None),
    ("Two-factor recovery codes download", ("feature", "frontend"), None),
    ("Document the rate limits", ("docs",), None),
    ("Improve error message for invalid API tokens", ("backend",), None),
    ("Sidebar flickers when switching projects", ("bug", "frontend"), None),
    ("Nightly backup verification job", ("backend",), None),
    ("Add a status page link to the footer", ("frontend",), None),
    ("Reduce Docker image size", ("backend",), None),
    ("FAQ entry for SSO setup", ("docs",), None),
    ("Tooltip text is cut off in Safari", ("bug", "frontend"), None),
    ("Quarterly dependency review", ("backend", "docs"), None),
)
# Due dates in days from today, cycled over the issues: overdue, today, this week, later and none.
DUE_PATTERN: tuple[int | None, ...] = (-6, -2, 0, 1, None, 3, 5, -1, 0, 9, None, 14, 2, 21, None, 30, 4, 6)
CLOSED_IIDS = {12, 15, 21, 28}  # and #3, closed when MR !1 merges
COMMENTS = (
    "I can reproduce this on staging.",
    "Looks related to the change from last sprint.",
    "I'll take this one.",
    "Can we get a screenshot?",
    "Fixed on my branch, MR coming.",
    "Bumping: customers are asking about it.",
)


def issue_record(
    emu: GitLabEmulator, project: Record, *, title: str, created: datetime, updated: datetime, **extra: Any
) -> Record:
    """A stored issue with every field the renderer reads, registered under its project's iid."""
    iid = project["next_issue_iid"]
    project["next_issue_iid"] = iid + 1
    issue: Record = {
        "id": emu._next_id("issue"),
        "iid": iid,
        "project_id": project["id"],
        "title": title,
        "description": None,
        "state": "opened",
        "labels": [],
        "milestone_id": None,
        "assignee_ids": [],
        "author_id": 1,
        "due_date": None,
        "created_at": iso_z(created),
        "updated_at": iso_z(updated),
        "closed_at": None,
        "closed_by_id": None,
        "confidential": False,
        "discussion_locked": None,
        "weight": None,
        "issue_type": "issue",
        "upvotes": 0,
        **extra,
    }
    project["issue_iids"][str(iid)] = issue["id"]
    emu.state["issues"][str(issue["id"])] = issue
    return issue


def _base(emu: GitLabEmulator) -> tuple[Record, dict[str, int], list[Record]]:
    """Fresh state with the labels and the two milestones both seeds share."""
    emu.reset_state()
    emu.rng = random.Random(emu.seed_value)
    project = emu.state["projects"]["1"]
    for name, color, description, priority in LABELS:
        emu._store_label(project, name, color, description, priority)
    today = emu.now().date()
    milestones = [
        emu.create_milestone(
            project,
            {
                "title": "v1.4",
                "description": "Stability release",
                "start_date": (today - timedelta(days=14)).isoformat(),
                "due_date": (today + timedelta(days=6)).isoformat(),
            },
        ),
        emu.create_milestone(
            project,
            {
                "title": "v1.5",
                "description": "Reporting and exports",
                "start_date": (today + timedelta(days=7)).isoformat(),
                "due_date": (today + timedelta(days=35)).isoformat(),
            },
        ),
    ]
    created = iso_z(emu.now() - timedelta(days=70))
    for milestone in milestones:
        milestone["created_at"] = milestone["updated_at"] = created
    labels = {name: lab["id"] for name, lab in emu._labels_of(project["id"]).items()}
    return project, labels, milestones


def seed_demo(emu: GitLabEmulator) -> dict[str, Any]:
    """A realistic small ``acme/app``: ~40 issues, labels, milestones, MRs, notes, links and a board."""
    project, _, milestones = _base(emu)
    rng = random.Random(f"gitlab-demo-{emu.seed_value}")
    now = emu.now()
    today = now.date()
    open_count = 0
    for index, (title, labels, description) in enumerate(DEMO_ISSUES):
        iid = index + 1
        created = now - timedelta(days=rng.uniform(8, 60), minutes=rng.randint(0, 600))
        updated = created + (now - created) * rng.uniform(0.2, 0.95)
        due = DUE_PATTERN[index % len(DUE_PATTERN)]
        extra: Record = {
            "description": description,
            "labels": sorted(labels),
            "author_id": rng.choice((1, 1, 2, 3)),
            "assignee_ids": rng.choice(([1], [1], [2], [3], [], [1, 2])),
            "due_date": None if due is None else (today + timedelta(days=due)).isoformat(),
            "milestone_id": rng.choice((milestones[0]["id"], milestones[1]["id"], None)),
            "weight": rng.choice((None, 1, 2, 3, 5)),
        }
        if iid in CLOSED_IIDS:
            closed = updated
            extra.update({"state": "closed", "closed_at": iso_z(closed), "closed_by_id": rng.choice((1, 2))})
        else:
            open_count += 1
            stage = BOARD_LABELS[open_count % 4] if open_count % 4 < 3 else None
            if stage:
                extra["labels"] = sorted([*labels, stage])
        issue_record(emu, project, title=title, created=created, updated=updated, **extra)

    merge_requests = _demo_merge_requests(emu, project, now)
    notes = _demo_notes(emu, project, rng, now)
    _demo_links(emu, project, now)
    emu.create_board(project, "Development", BOARD_LABELS)
    project["last_activity_at"] = iso_z(now)
    emu._invalidate()
    return {
        "issues": len(DEMO_ISSUES),
        "closed": sum(1 for i in emu.state["issues"].values() if i["state"] == "closed"),
        "milestones": len(milestones),
        "labels": len(LABELS),
        "merge_requests": merge_requests,
        "notes": notes,
        "boards": 1,
    }


def _demo_merge_requests(emu: GitLabEmulator, project: Record, now: datetime) -> int:
    """One merged MR (it closed #3), one open with a failing pipeline, one draft still running."""
    specs: tuple[Record, ...] = (
        {
            "title": "Fix login redirect loop after SSO timeout",
            "description": "Closes #3\n\nThe SSO callback now clears the stale session cookie.",
            "source_branch": "fix/sso-redirect-loop",
            "labels": "bug,backend",
            "assignee_ids": [2],
            "pipeline_status": "success",
            "commit_count": 2,
            "_age": 6,
            "_merge": True,
        },
        {
            "title": "Export reports as CSV",
            "description": "Closes #5\n\nAlso prepares the timezone fix for #10.",
            "source_branch": "feature/csv-export",
            "labels": "feature,backend",
            "assignee_ids": [1],
            "pipeline_status": "failed",
            "commit_count": 3,
            "_age": 3,
        },
        {
            "title": "Dark mode theme",
            "description": "Closes #8\n\n- [x] Palette\n- [ ] Charts",
            "source_branch": "feature/dark-mode",
            "labels": "feature,frontend",
            "assignee_ids": [3],
            "pipeline_status": "running",
            "draft": True,
            "_age": 1,
        },
    )
    for spec in specs:
        fields = {k: v for k, v in spec.items() if not k.startswith("_")}
        mr = emu.create_mr(project, fields, int(spec["assignee_ids"][0]))
        created = iso_z(now - timedelta(days=spec["_age"]))
        mr["created_at"] = mr["updated_at"] = created
        for commit in mr["commits"]:
            commit["created_at"] = commit["authored_date"] = commit["committed_date"] = created
        if mr["pipeline"]:
            # A finished pipeline took a few minutes, so started/finished/duration are distinct facts.
            ran = timedelta(minutes=6, seconds=40) if spec["pipeline_status"] != "running" else timedelta()
            mr["pipeline"]["created_at"] = created
            mr["pipeline"]["updated_at"] = iso_z(now - timedelta(days=spec["_age"]) + ran)
        if spec.get("_merge"):
            emu.update_mr(project, mr, {"state_event": "merge"}, 2)
            merged = iso_z(now - timedelta(days=2))
            mr["merged_at"] = mr["updated_at"] = merged
            issue = emu._issue_by_iid(project["id"], 3)
            if issue is not None:
                issue["closed_at"] = issue["updated_at"] = merged
                for note in emu.state["notes"].get(str(issue["id"]), []):
                    note["created_at"] = note["updated_at"] = merged
    return len(specs)


def _demo_notes(emu: GitLabEmulator, project: Record, rng: random.Random, now: datetime) -> int:
    """Comments on a dozen issues plus system notes that mention commits and MRs."""
    count = 0
    for iid in (1, 2, 4, 5, 6, 8, 9, 10, 14, 17, 23, 27):
        issue = emu._issue_by_iid(project["id"], iid)
        if issue is None:
            continue
        notes = emu.state["notes"].setdefault(str(issue["id"]), [])
        for n in range(rng.randint(1, 3)):
            at = iso_z(now - timedelta(days=rng.uniform(0.5, 7), minutes=n))
            notes.append(_note(emu, rng.choice(COMMENTS), rng.choice((1, 2, 3)), at, system=False))
            count += 1
        if iid in (1, 5, 9, 17):
            sha = f"{rng.getrandbits(28):07x}"
            at = iso_z(now - timedelta(days=rng.uniform(0.5, 3)))
            notes.append(_note(emu, f"mentioned in commit {sha}", 2, at, system=True))
            count += 1
    for iid, mr_iid in ((5, 2), (8, 3), (10, 2)):
        issue = emu._issue_by_iid(project["id"], iid)
        if issue is not None:
            at = iso_z(now - timedelta(days=1))
            emu.state["notes"].setdefault(str(issue["id"]), []).append(
                _note(emu, f"mentioned in merge request !{mr_iid}", 1, at, system=True)
            )
            count += 1
    for notes in emu.state["notes"].values():
        notes.sort(key=lambda n: (n["created_at"], n["id"]))
    # A note touches its issue, so the issue's updated_at is never older than its newest note.
    for key, notes in emu.state["notes"].items():
        issue = emu.state["issues"][key]
        issue["updated_at"] = max([issue["updated_at"], *(n["updated_at"] for n in notes)])
    return sum(len(v) for v in emu.state["notes"].values())


def _note(emu: GitLabEmulator, body: str, author_id: int, at: str, *, system: bool) -> Record:
    return {
        "id": emu._next_id("note"),
        "body": body,
        "author_id": author_id,
        "created_at": at,
        "updated_at": at,
        "system": system,
        "internal": False,
    }


def _demo_links(emu: GitLabEmulator, project: Record, now: datetime) -> None:
    for source, target, link_type in ((5, 10, "relates_to"), (2, 8, "blocks")):
        a = emu._issue_by_iid(project["id"], source)
        b = emu._issue_by_iid(project["id"], target)
        if a is None or b is None:
            continue
        at = iso_z(now - timedelta(days=4))
        link = {
            "id": emu._next_id("link"),
            "source_id": a["id"],
            "target_id": b["id"],
            "link_type": link_type,
            "created_at": at,
            "updated_at": at,
        }
        emu.state["links"][str(link["id"])] = link


def seed_bulk(emu: GitLabEmulator, n: int, changed_share: float = 0.0) -> dict[str, Any]:
    """``n`` issues in project 1; ``changed_share`` of them updated in the last hour, the rest weeks ago."""
    project, _, milestones = _base(emu)
    rng = random.Random(f"gitlab-bulk-{emu.seed_value}-{n}")
    now = emu.now()
    today = now.date()
    changed_since = now - timedelta(hours=1)
    label_sets: tuple[list[str], ...] = (
        ["bug"],
        ["feature"],
        ["backend"],
        ["frontend", "feature"],
        ["docs"],
        [],
    )
    changed = 0
    start = now - timedelta(days=90)
    for index in range(n):
        created = start + timedelta(seconds=index * (60 * 24 * 3600 / max(n, 1)))
        recent = rng.random() < changed_share
        if recent:
            changed += 1
            updated = changed_since + timedelta(seconds=rng.uniform(1, 3500))
        else:
            updated = min(created + timedelta(days=rng.uniform(0, 20)), now - timedelta(days=10))
            updated = max(updated, created)
        due = rng.choice((None, None, -3, 0, 2, 7, 20))
        closed = rng.random() < 0.2
        issue_record(
            emu,
            project,
            title=f"Bulk issue {index + 1}",
            created=created,
            updated=updated,
            labels=list(label_sets[index % len(label_sets)]),
            assignee_ids=[1] if index % 3 == 0 else [],
            due_date=None if due is None else (today + timedelta(days=due)).isoformat(),
            milestone_id=milestones[index % 2]["id"] if index % 4 == 0 else None,
            state="closed" if closed else "opened",
            closed_at=iso_z(updated) if closed else None,
            closed_by_id=1 if closed else None,
        )
    emu._invalidate()
    return {"issues": n, "changed": changed, "changed_since": iso_z(changed_since), "project_id": 1}
