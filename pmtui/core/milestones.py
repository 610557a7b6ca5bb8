"""Milestone tracking: progress (done / total), due date and "at risk", from the cache only.

Two kinds of milestone are tracked the same way:

- **Linear project milestones**, stored in the ``milestones`` table by the sync (:func:`absorb_milestones`)
  with tasks pointing at them through ``tasks.milestone_id`` (:func:`link_task_milestones`). Linear keeps
  no start date; the integration derives one (see :mod:`pmtui.integrations.linear_mapping`).
- **GitLab milestones**, which pmtui holds as *projects* (a GitLab issue's milestone is its project), so
  their tasks are the project's tasks and their start and due dates are the project's.

"At risk" means behind a straight line from start to due: on day ``d`` a milestone should be
``(d - start) / (due - start)`` done; it is at risk when its share of done tasks is below that. The
rules for the edges are in :func:`assess` and ``docs/milestones.md``.

Reads are one DuckDB aggregate over the tasks (a few milliseconds on 50,000 tasks), because the briefing
and the board run them on their start path; nothing here imports a network library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from pmtui.kinds import EntityType, Service

if TYPE_CHECKING:
    from pmtui.core.store import Store
    from pmtui.integrations.base import RemoteMilestone, RemoteTask
    from pmtui.models import Milestone

MilestoneState = Literal["done", "on_track", "at_risk", "overdue", "no_due", "no_tasks"]


@dataclass(frozen=True)
class Outlook:
    """Where a milestone stands on a day: its state, whether it is at risk, and the expected share."""

    state: MilestoneState
    at_risk: bool
    expected: float | None
    """The share of tasks that should be done by today on the straight line (None without a due date)."""


def assess(
    *, done: int, total: int, start: date | None, due: date | None, today: date, finished: bool = False
) -> Outlook:
    """The outlook of a milestone with ``done`` of ``total`` tasks done (canceled tasks left out).

    - ``finished`` (closed on its service) or every task done: ``done``, never at risk.
    - No due date: ``no_due``; there is no line to be behind.
    - No tasks: ``no_tasks``; nothing can be late, whatever the date.
    - Past due with work left: ``overdue`` (at risk).
    - No usable start (none, or not before the due date): the line is a step at the due date, so the
      milestone is at risk only from its due day on.
    - Otherwise at risk when ``done / total`` is below the elapsed share of ``start..due``.
    """
    if finished or (total > 0 and done >= total):
        return Outlook("done", False, 1.0 if due is not None else None)
    if due is None:
        return Outlook("no_due", False, None)
    if start is None or start >= due:
        expected = 1.0 if today >= due else 0.0
    else:
        expected = min(1.0, max(0.0, (today - start).days / (due - start).days))
    if total == 0:
        return Outlook("no_tasks", False, expected)
    if today > due:
        return Outlook("overdue", True, 1.0)
    at_risk = done / total < expected
    return Outlook("at_risk" if at_risk else "on_track", at_risk, expected)


@dataclass(frozen=True)
class MilestoneProgress:
    """One tracked milestone: where it lives, its dates, its progress and its outlook today."""

    id: str
    name: str
    project: str | None
    """The name of the project it belongs to (Linear); None for a GitLab milestone (it *is* one)."""
    service: str
    start: date | None
    due: date | None
    done: int
    total: int
    state: MilestoneState
    at_risk: bool
    expected: float | None

    @property
    def label(self) -> str:
        """``Q1 launch / Beta`` for a milestone inside a project, else its name."""
        return f"{self.project} / {self.name}" if self.project else self.name


_GITLAB_MILESTONES = (
    "SELECT entity_id FROM external_refs WHERE entity = 'project' AND service = 'gitlab' "
    "AND starts_with(external_id, 'milestone:')"
)
_MILESTONES_SQL = f"""
WITH gl AS (
    SELECT p.id, p.name, NULL::VARCHAR AS project, 'gitlab' AS service, p.start, p.due,
        p.status IN ('done', 'canceled') AS finished
    FROM projects p WHERE NOT p.deleted AND p.id IN ({_GITLAB_MILESTONES})
),
homes AS (
    SELECT entity_id, min(service) AS service FROM external_refs WHERE entity = 'milestone' GROUP BY 1
),
ms AS (
    SELECT m.id, m.name, p.name AS project, coalesce(h.service, 'local') AS service, m.start, m.due,
        m.closed AS finished
    FROM milestones m LEFT JOIN projects p ON p.id = m.project_id AND NOT p.deleted
    LEFT JOIN homes h ON h.entity_id = m.id
    UNION ALL SELECT * FROM gl
),
counted AS (
    SELECT key, count(*) FILTER (WHERE status <> 'canceled') AS total,
        count(*) FILTER (WHERE status = 'done') AS done
    FROM (
        SELECT milestone_id AS key, status FROM tasks WHERE NOT deleted AND milestone_id IS NOT NULL
        UNION ALL
        SELECT project_id AS key, status FROM tasks WHERE NOT deleted AND project_id IN (SELECT id FROM gl)
    ) GROUP BY key
)
SELECT ms.id, ms.name, ms.project, ms.service, ms.start, ms.due, ms.finished,
    coalesce(c.done, 0), coalesce(c.total, 0)
FROM ms LEFT JOIN counted c ON c.key = ms.id
ORDER BY ms.due NULLS LAST, ms.name, ms.id
"""
"""Every milestone (Linear rows and GitLab milestone-projects) with its done / total, ordered by due."""


def milestone_progress(store: Store, today: date, *, include_done: bool = True) -> list[MilestoneProgress]:
    """Every tracked milestone with its progress and outlook on ``today``, ordered by due (undated last).

    ``include_done=False`` leaves out the finished ones (closed on their service, or every task done).
    """
    found = []
    for mid, name, project, service, start, due, finished, done, total in store._rows(_MILESTONES_SQL):
        outlook = assess(
            done=int(done), total=int(total), start=start, due=due, today=today, finished=bool(finished)
        )
        if not include_done and outlook.state == "done":
            continue
        found.append(
            MilestoneProgress(
                id=str(mid),
                name=str(name),
                project=project,
                service=str(service),
                start=start,
                due=due,
                done=int(done),
                total=int(total),
                state=outlook.state,
                at_risk=outlook.at_risk,
                expected=outlook.expected,
            )
        )
    return found


@dataclass(frozen=True)
class ProjectTrack:
    """A project's progress for the board's project facet: done / total and whether it is at risk."""

    id: str
    done: int
    total: int
    state: MilestoneState
    at_risk: bool
    """Behind its own start..due line, or holding a milestone that is at risk."""
    milestones_at_risk: int

    def text(self) -> str:
        """``4/9 · at risk``, ``4/9 · overdue``, ``9/9 · done`` or ``4/9``."""
        base = f"{self.done}/{self.total}"
        if self.state == "overdue":
            return f"{base} · overdue"
        if self.at_risk:
            return f"{base} · at risk"
        if self.state == "done":
            return f"{base} · done"
        return base


_PROJECTS_SQL = """
SELECT p.id, p.start, p.due, p.status IN ('done', 'canceled') AS finished,
    count(t.id) FILTER (WHERE t.status <> 'canceled') AS total, count(t.id) FILTER (WHERE t.status = 'done')
FROM projects p LEFT JOIN tasks t ON t.project_id = p.id AND NOT t.deleted
WHERE NOT p.deleted {only} GROUP BY ALL
"""


def project_tracks(store: Store, today: date, *, only: str | None = None) -> dict[str, ProjectTrack]:
    """Project id -> its track: its own start..due line (GitLab milestones and dated Linear projects),
    plus the count of its milestones at risk (a project is at risk if any of them is). ``only`` limits
    it to one project."""
    where, params = ("m.project_id = ?", [only]) if only else ("m.project_id IS NOT NULL", [])
    risky: dict[str, int] = {}
    for pid, start, due, finished, done, total in store._rows(
        "SELECT m.project_id, m.start, m.due, m.closed, "
        "count(t.id) FILTER (WHERE t.status = 'done'), count(t.id) FILTER (WHERE t.status <> 'canceled') "
        "FROM milestones m LEFT JOIN tasks t ON t.milestone_id = m.id AND NOT t.deleted "
        f"WHERE {where} GROUP BY ALL",
        params,
    ):
        outlook = assess(
            done=int(done), total=int(total), start=start, due=due, today=today, finished=finished
        )
        if outlook.at_risk:
            risky[str(pid)] = risky.get(str(pid), 0) + 1
    tracks = {}
    sql = _PROJECTS_SQL.format(only="AND p.id = ?" if only else "")
    for pid, start, due, finished, total, done in store._rows(sql, [only] if only else []):
        outlook = assess(
            done=int(done), total=int(total), start=start, due=due, today=today, finished=finished
        )
        extra = risky.get(str(pid), 0)
        tracks[str(pid)] = ProjectTrack(
            id=str(pid),
            done=int(done),
            total=int(total),
            state=outlook.state,
            at_risk=outlook.at_risk or extra > 0,
            milestones_at_risk=extra,
        )
    return tracks


# --------------------------------------------------------------------------------------------- sync


def absorb_milestones(store: Store, service: Service, remotes: Sequence[RemoteMilestone]) -> int:
    """Store a service's complete milestone listing: upsert each (keeping its local id), forget the ones
    no longer listed. Returns how many were written. Runs inside the sync's page transaction.

    Every sync lists the milestones whole, and they rarely change: a milestone and a ref equal to the
    stored ones are not written again, so a quiet sync leaves both tables (and the file) untouched."""
    from pmtui.models import new_id  # the sync's path, not the briefing's: keeps pydantic off the latter

    known = store.refs_by_external(service, [r.ref.external_id for r in remotes], EntityType.MILESTONE)
    projects = store.refs_by_external(
        service, sorted({r.project_external_id for r in remotes if r.project_external_id}), EntityType.PROJECT
    )
    rows: list[Milestone] = []
    refs = []
    for remote in remotes:
        existing = known.get(remote.ref.external_id)
        local_id = existing.entity_id if existing is not None else new_id()
        project = projects.get(remote.project_external_id or "")
        rows.append(
            remote.milestone.model_copy(
                update={"id": local_id, "project_id": project.entity_id if project else None}
            )
        )
        refs.append(remote.ref.model_copy(update={"entity_id": local_id, "origin": True}))
    listed = {r.ref.external_id for r in remotes}
    gone = [
        ref for ref in store.refs_for_service(service, EntityType.MILESTONE) if ref.external_id not in listed
    ]
    stored = {milestone.id: milestone for milestone in store.list_milestones()} if known else {}
    rows = [row for row in rows if stored.get(row.id) != row]
    refs = [ref for ref in refs if known.get(ref.external_id) != ref]
    with store.transaction():
        store.upsert_milestones(rows)
        store.upsert_refs(refs)
        store.delete_milestones([ref.entity_id for ref in gone])
        for ref in gone:
            store.delete_ref(ref)
    return len(rows)


def link_task_milestones(store: Store, service: Service, items: Sequence[RemoteTask]) -> int:
    """Point each listed task at its milestone (or none), as the service says: membership is read-only
    in pmtui, so the service always wins. Returns how many tasks changed milestone."""
    if not items:
        return 0
    tasks = store.refs_by_external(service, [item.ref.external_id for item in items])
    wanted = sorted({item.milestone_external_id for item in items if item.milestone_external_id})
    milestones = store.refs_by_external(service, wanted, EntityType.MILESTONE)
    pairs: list[tuple[str, str | None]] = []
    for item in items:
        task = tasks.get(item.ref.external_id)
        if task is None:
            continue
        milestone = milestones.get(item.milestone_external_id or "")
        pairs.append((task.entity_id, milestone.entity_id if milestone else None))
    return store.set_task_milestones(pairs)
