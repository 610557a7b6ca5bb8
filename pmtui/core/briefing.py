"""The morning briefing as data: what is overdue, due today, most pressing, coming up, done, and how sync is.

Every section is computed by DuckDB over the cache and selects only the rows it shows (with ``LIMIT``) plus
SQL counts, so a cache of 50,000 tasks never becomes 50,000 Python objects on the start path. The result
is a tree of frozen dataclasses with a stable JSON shape (:data:`SCHEMA_VERSION`); ``pmtui briefing --json``
prints it, :func:`pmtui.render.briefing.render_briefing` lays it out for a terminal and the app's briefing
screen shows it. Nothing here renders.

Time zones: an all-day task counts for its UTC calendar date (``Task.due_day``); a timed task counts for
the day its instant falls on in the user's zone. Day boundaries are computed here, in Python, as UTC
instants, so the SQL only ever compares instants and needs no zone database of its own.

Sections are disjoint where they could overlap: a timed task due earlier today whose time has passed is
overdue, not "due today".
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from pmtui.core.activity import ActivitySummary, open_tasks_summary
from pmtui.kinds import REMOTE_SERVICES, Priority, Service

if TYPE_CHECKING:
    from pmtui.config import Settings
    from pmtui.core.store import Store

SCHEMA_VERSION = 1
"""Version of the JSON shape; bumped when a key is renamed or removed (adding keys keeps it)."""

# ------------------------------------------------------------------------------------------- ranking

PRIORITY_POINTS: dict[str, int] = {
    Priority.URGENT.value: 40,
    Priority.HIGH.value: 30,
    Priority.MEDIUM.value: 20,
    Priority.LOW.value: 10,
    Priority.NONE.value: 0,
}
"""Points for the task's own priority: the user's explicit word counts most."""
OVERDUE_POINTS = 30
"""Points for being overdue at all."""
OVERDUE_POINTS_PER_DAY = 2
"""Extra points per whole day overdue, so older debts rise, capped by :data:`OVERDUE_DAYS_CAP`."""
OVERDUE_DAYS_CAP = 10
"""Days after which being more overdue adds nothing (a month-old task is not 15x more urgent)."""
DUE_TODAY_POINTS = 25
DUE_TOMORROW_POINTS = 10
DUE_THIS_WEEK_POINTS = 5
"""Points for a due date two to seven days ahead."""
SCHEDULED_TODAY_POINTS = 15
"""Points for having a Motion time slot today: the calendar already says "do it today"."""
IN_PROGRESS_POINTS = 5
"""Points for work already started: finishing beats starting."""
BLOCKED_POINTS = -30
"""A blocked task cannot be done today however urgent it is, so it sinks."""
BLOCKED_LABEL = "blocked"
"""The label (any case) that marks a task as blocked; the canonical statuses have no "blocked" state."""


@dataclass(frozen=True)
class Reason:
    """One line of a ranking's explanation: what counted, and how many points it gave."""

    label: str
    points: int

    def text(self) -> str:
        """``urgent (+40)``: the form shown to the user."""
        return f"{self.label} ({self.points:+d})"


@dataclass(frozen=True)
class Ranking:
    """A task's score for today and the reasons that add up to it."""

    score: int
    reasons: tuple[Reason, ...]


def overdue_by(due: datetime, *, all_day: bool, today: date, now: datetime) -> tuple[int, int | None] | None:
    """How long a due date has passed as ``(days, hours)``; ``hours`` only for timed tasks; None if not due.

    An all-day task is late from the day after its date; a timed one from its instant, counted in whole
    hours (``days`` is then ``hours // 24``), so "5 h" and "2 days" both mean what they say.
    """
    if all_day:
        days = (today - due.astimezone(UTC).date()).days
        return (days, None) if days > 0 else None
    if due >= now:
        return None
    hours = int((now - due).total_seconds() // 3600)
    return hours // 24, hours


def overdue_text(days: int, hours: int | None) -> str:
    """``3 days``, ``1 day``, ``5 h`` or ``<1 h``: hours only for timed tasks late by less than a day."""
    if hours is not None and hours < 24:
        return f"{hours} h" if hours else "<1 h"
    return "1 day" if days == 1 else f"{days} days"


def is_blocked(labels: Sequence[str]) -> bool:
    """True if a label says ``blocked`` (any case)."""
    return any(label.strip().lower() == BLOCKED_LABEL for label in labels)


def rank(
    *,
    priority: str,
    status: str,
    labels: Sequence[str],
    due: datetime | None,
    due_all_day: bool,
    scheduled_start: datetime | None,
    today: date,
    now: datetime,
    tz: tzinfo,
) -> Ranking:
    """Score one task for "what should I do today", with every point explained.

    The rules are the module constants above; :func:`_score_sql` is the same rules in SQL, so DuckDB
    can pick the top candidates out of the whole cache and this function explains them.
    """
    reasons: list[Reason] = []
    points = PRIORITY_POINTS.get(priority, 0)
    if points:
        reasons.append(Reason(label=priority, points=points))
    if due is not None:
        late = overdue_by(due, all_day=due_all_day, today=today, now=now)
        if late is not None:
            days, hours = late
            extra = OVERDUE_POINTS_PER_DAY * min(days, OVERDUE_DAYS_CAP)
            reasons.append(
                Reason(label=f"overdue {overdue_text(days, hours)}", points=OVERDUE_POINTS + extra)
            )
        else:
            day = due.astimezone(UTC).date() if due_all_day else due.astimezone(tz).date()
            ahead = (day - today).days
            at = "" if due_all_day else due.astimezone(tz).strftime("%H:%M ")
            if ahead == 0:
                reasons.append(Reason(label=f"due {at}today", points=DUE_TODAY_POINTS))
            elif ahead == 1:
                reasons.append(Reason(label=f"due {at}tomorrow", points=DUE_TOMORROW_POINTS))
            elif 2 <= ahead <= 7:
                reasons.append(Reason(label=f"due in {ahead} days", points=DUE_THIS_WEEK_POINTS))
    if scheduled_start is not None:
        local = scheduled_start.astimezone(tz)
        if local.date() == today:
            reasons.append(
                Reason(label=f"scheduled {local.strftime('%H:%M')} today", points=SCHEDULED_TODAY_POINTS)
            )
    if status == "in_progress":
        reasons.append(Reason(label="in progress", points=IN_PROGRESS_POINTS))
    if is_blocked(labels):
        reasons.append(Reason(label=BLOCKED_LABEL, points=BLOCKED_POINTS))
    return Ranking(score=sum(r.points for r in reasons), reasons=tuple(reasons))


# ------------------------------------------------------------------------------------------- windows


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The instant (in UTC) a calendar day starts in ``tz``; correct on DST-change days."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def utc_midnight(day: date) -> datetime:
    """The instant a calendar day starts in UTC: all-day due dates are compared against these."""
    return datetime.combine(day, time(0), tzinfo=UTC)


TREND_DAYS = 14
"""Days in a project's completion sparkline (today and the 13 before)."""
HANDLES_SCHEMA = 8
"""The cache schema that has ``task_handles`` (a cache opened read-only before its migration has none)."""
RECENT_DAYS = 7
"""Days of "recently completed" (today and the 6 before)."""
WEEK_DAYS = 7
"""Days of "upcoming" after today."""


@dataclass(frozen=True)
class Window:
    """The instants that bound a briefing's day, computed once so every query agrees on them."""

    today: date
    now: datetime
    tz: tzinfo

    def params(self) -> dict[str, Any]:
        """Named SQL parameters (see :func:`_bind`)."""
        local = [local_midnight(self.today + timedelta(days=n), self.tz) for n in range(-TREND_DAYS, 9)]

        def at(offset: int) -> datetime:
            return local[offset + TREND_DAYS]

        return {
            "today": self.today,
            "now": self.now.astimezone(UTC),
            "day_start": at(0),
            "day_end": at(1),
            "tomorrow_end": at(2),
            "week_end": at(WEEK_DAYS + 1),
            "utc_today": utc_midnight(self.today),
            "utc_tomorrow": utc_midnight(self.today + timedelta(days=1)),
            "utc_day2": utc_midnight(self.today + timedelta(days=2)),
            "utc_week_end": utc_midnight(self.today + timedelta(days=WEEK_DAYS + 1)),
            "recent_start": at(1 - RECENT_DAYS),
            "trend_start": at(1 - TREND_DAYS),
            "trend_starts": [at(n) for n in range(1 - TREND_DAYS, 1)],
            "trend_stops": [at(n + 1) for n in range(1 - TREND_DAYS, 1)],
            "upcoming_bounds": [at(n) for n in range(1, WEEK_DAYS + 1)],
        }


def briefing_now(day: date, tz: tzinfo, clock: datetime) -> datetime:
    """The "now" a briefing of ``day`` uses: the clock on today, the start of the day for any other day.

    Briefing another day answers "what will the morning of that day look like" against today's cache.
    """
    if clock.astimezone(tz).date() == day:
        return clock.astimezone(UTC)
    return local_midnight(day, tz)


def parse_day(text: str, today: date | None = None) -> date:
    """The day ``--date`` names: ``2026-11-24``, ``today``, ``tomorrow``, ``yesterday``, ``fri``...

    Any day phrase the agent reads works (``next mon``, ``dec 5``), as long as all of it is read;
    raises ValueError with a message a user can act on (never a traceback for ``9999-12-31``).
    """
    from pmtui.core.agent.dates import parse_day_phrase

    value = " ".join(text.split())
    found = parse_day_phrase(value, today or date.today())  # noqa: DTZ011 - the caller passes the user's day
    if isinstance(found, date):
        return found
    raise ValueError(
        f"--date {value!r}: {found}; use a date like 2026-11-24, today, tomorrow, yesterday or a weekday"
    )


# -------------------------------------------------------------------------------------------- models
# Frozen dataclasses rather than pydantic models: building 14 pydantic classes cost ~17 ms of the
# briefing's start, and these are only ever built here from trusted SQL rows.


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass(frozen=True, kw_only=True)
class RefLink:
    """Where a task lives on a service: its key (``ENG-3``) and web URL, for OSC 8 links."""

    service: str
    key: str | None
    url: str | None


@dataclass(frozen=True, kw_only=True)
class TaskRow:
    """One task as a briefing shows it; datetimes are in the user's zone, ``due_day`` is its day."""

    id: str
    title: str
    status: str
    priority: str
    project: str | None
    labels: tuple[str, ...]
    due_day: date | None
    due_at: datetime | None
    """The due instant of a timed task; None for an all-day task (only ``due_day`` matters then)."""
    due_all_day: bool
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    completed_at: datetime | None
    ref: RefLink | None


@dataclass(frozen=True, kw_only=True)
class OverdueTask(TaskRow):
    """An overdue task and how late it is (``overdue_hours`` only for timed tasks)."""

    overdue_days: int
    overdue_hours: int | None
    overdue_text: str


@dataclass(frozen=True, kw_only=True)
class RankedTask(TaskRow):
    """A task in "top priorities": its score and the reasons that make it up."""

    score: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, kw_only=True)
class TaskSection:
    """The first rows of a section and how many there are in all."""

    total: int
    items: tuple[TaskRow, ...]


@dataclass(frozen=True, kw_only=True)
class OverdueSection:
    """Overdue tasks, most overdue first."""

    total: int
    items: tuple[OverdueTask, ...]


@dataclass(frozen=True, kw_only=True)
class PrioritySection:
    """The highest-scoring open tasks, best first (a ranking has no meaningful "total")."""

    items: tuple[RankedTask, ...]


@dataclass(frozen=True, kw_only=True)
class ProjectProgress:
    """Progress of one project: done / total (canceled tasks excluded) and completions per day."""

    id: str
    name: str
    status: str
    due: date | None
    done: int
    total: int
    trend: tuple[int, ...]
    """Tasks completed on each of the last 14 days in the user's zone, oldest first, today last."""


@dataclass(frozen=True, kw_only=True)
class ProjectSection:
    """Open projects, the most active (completions in the trend window) first."""

    total: int
    items: tuple[ProjectProgress, ...]


@dataclass(frozen=True, kw_only=True)
class MilestoneItem:
    """A milestone's progress and outlook (:mod:`pmtui.core.milestones` has the at-risk rules)."""

    id: str
    name: str
    project: str | None
    service: str
    start: date | None
    due: date | None
    done: int
    total: int
    expected: float | None
    """The share of tasks that should be done today, on a straight line from start to due."""
    state: str
    """``on_track``, ``at_risk``, ``overdue``, ``no_due`` or ``no_tasks`` (done ones are left out)."""
    at_risk: bool


@dataclass(frozen=True, kw_only=True)
class MilestoneSection:
    """Milestones not yet done (Linear project milestones, GitLab milestones), soonest due first."""

    total: int = 0
    at_risk: int = 0
    items: tuple[MilestoneItem, ...] = ()


SyncState = Literal["ok", "failed", "running", "skipped", "never_synced", "not_configured"]


@dataclass(frozen=True, kw_only=True)
class ServiceHealth:
    """How one service's sync stands: its last run, its last error, and the work waiting on it."""

    service: str
    label: str
    configured: bool
    state: SyncState
    last_sync_at: datetime | None
    duration_ms: int | None
    last_error: str | None
    last_error_at: datetime | None
    pending_steps: int
    failed_steps: int
    open_conflicts: int


@dataclass(frozen=True, kw_only=True)
class Counts:
    """Totals for the header line."""

    open: int
    overdue: int
    due_today: int
    upcoming: int
    completed: int
    scheduled: int
    conflicts: int
    pending_steps: int


@dataclass(frozen=True, kw_only=True)
class Briefing:
    """The whole briefing for one day; :meth:`to_json` is the stable ``--json`` shape."""

    schema_version: int = SCHEMA_VERSION
    date: date
    generated_at: datetime
    timezone: str
    is_empty: bool
    counts: Counts
    priorities: PrioritySection
    schedule: TaskSection
    overdue: OverdueSection
    due_today: TaskSection
    upcoming: TaskSection
    completed: TaskSection
    projects: ProjectSection
    milestones: MilestoneSection = field(default_factory=MilestoneSection)
    sync: tuple[ServiceHealth, ...]
    gitlab_activity: ActivitySummary = field(default_factory=ActivitySummary)
    """Open MRs and their pipelines across open tasks, from the cached GitLab activity."""

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dicts and lists, keys in declaration order (dates and datetimes left as objects)."""
        return asdict(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The ``--json`` output: ISO 8601 dates, datetimes with the user's UTC offset."""
        return json.dumps(self.to_dict(), indent=indent, default=_json_value, ensure_ascii=False)


@dataclass(frozen=True)
class Limits:
    """How many rows each section shows (the totals are always exact)."""

    priorities: int = 5
    schedule: int = 12
    overdue: int = 8
    due_today: int = 10
    upcoming: int = 10
    completed: int = 8
    projects: int = 8
    milestones: int = 8


# ------------------------------------------------------------------------------------------------ SQL

_PARAM = re.compile(r"\{(\w+)\}")


def _bind(template: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """Turn ``{name}`` placeholders into DuckDB's positional ``$n``, so a value used twice is bound once."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    sql = _PARAM.sub(number, template)
    return sql, [values[name] for name in order]


_OPEN = "t.status IN ('todo', 'in_progress')"
_OVERDUE = (
    f"({_OPEN} AND t.due IS NOT NULL AND ((t.due_all_day AND t.due < {{utc_today}}) "
    "OR (NOT t.due_all_day AND t.due < {now})))"
)
_DUE_TODAY = (
    f"({_OPEN} AND t.due IS NOT NULL AND ((t.due_all_day AND t.due >= {{utc_today}} "
    "AND t.due < {utc_tomorrow}) OR (NOT t.due_all_day AND t.due >= {now} "
    "AND t.due >= {day_start} AND t.due < {day_end})))"
)
_UPCOMING = (
    f"({_OPEN} AND t.due IS NOT NULL AND ((t.due_all_day AND t.due >= {{utc_tomorrow}} "
    "AND t.due < {utc_week_end}) OR (NOT t.due_all_day AND t.due >= {day_end} AND t.due >= {now} "
    "AND t.due < {week_end})))"
)
_COMPLETED = "(t.status = 'done' AND t.completed_at >= {recent_start} AND t.completed_at < {day_end})"
_SCHEDULED = "(t.status <> 'canceled' AND t.scheduled_start >= {day_start} AND t.scheduled_start < {day_end})"
_PRIORITY_RANK = (
    "CASE t.priority " + " ".join(f"WHEN '{p.value}' THEN {p.rank}" for p in Priority) + " ELSE 0 END"
)
_BLOCKED = f"list_contains(list_transform(t.labels, lambda x: lower(trim(x))), '{BLOCKED_LABEL}')"


def _score_sql() -> str:
    """The rules of :func:`rank` as one SQL expression over ``tasks t`` (kept equal by a test)."""
    priority = (
        "CASE t.priority "
        + " ".join(f"WHEN '{name}' THEN {points}" for name, points in PRIORITY_POINTS.items())
        + " ELSE 0 END"
    )
    late_days = (
        "CASE WHEN t.due_all_day THEN date_diff('day', CAST(t.due AS DATE), {today}) "
        "ELSE CAST(floor((epoch({now}) - epoch(t.due)) / 3600) AS BIGINT) // 24 END"
    )
    due = (
        f"CASE WHEN {_OVERDUE} THEN {OVERDUE_POINTS} + {OVERDUE_POINTS_PER_DAY} * "
        f"least({late_days}, {OVERDUE_DAYS_CAP}) "
        "WHEN t.due IS NULL THEN 0 "
        "WHEN t.due_all_day THEN (CASE "
        f"WHEN t.due >= {{utc_today}} AND t.due < {{utc_tomorrow}} THEN {DUE_TODAY_POINTS} "
        f"WHEN t.due >= {{utc_tomorrow}} AND t.due < {{utc_day2}} THEN {DUE_TOMORROW_POINTS} "
        f"WHEN t.due >= {{utc_day2}} AND t.due < {{utc_week_end}} THEN {DUE_THIS_WEEK_POINTS} ELSE 0 END) "
        "ELSE (CASE "
        f"WHEN t.due >= {{day_start}} AND t.due < {{day_end}} THEN {DUE_TODAY_POINTS} "
        f"WHEN t.due >= {{day_end}} AND t.due < {{tomorrow_end}} THEN {DUE_TOMORROW_POINTS} "
        f"WHEN t.due >= {{tomorrow_end}} AND t.due < {{week_end}} THEN {DUE_THIS_WEEK_POINTS} ELSE 0 END) "
        "END"
    )
    scheduled = (
        "CASE WHEN t.scheduled_start >= {day_start} AND t.scheduled_start < {day_end} "
        f"THEN {SCHEDULED_TODAY_POINTS} ELSE 0 END"
    )
    return (
        f"(({priority}) + ({due}) + ({scheduled}) "
        f"+ (CASE WHEN t.status = 'in_progress' THEN {IN_PROGRESS_POINTS} ELSE 0 END) "
        f"+ (CASE WHEN {_BLOCKED} THEN {BLOCKED_POINTS} ELSE 0 END))"
    )


_BY_PRIORITY = f"{_PRIORITY_RANK} DESC, t.title, t.id"
_UPCOMING_DAY = (
    "CASE WHEN t.due_all_day THEN date_diff('day', {today}, CAST(t.due AS DATE)) "
    "ELSE len(list_filter({upcoming_bounds}::TIMESTAMPTZ[], lambda b: b <= t.due)) END"
)
_SCORED_TASKS = f"(SELECT t.*, {_score_sql()} AS score FROM tasks t WHERE NOT t.deleted AND {_OPEN})"
_SECTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    # (name, source, where, order, score column)
    (
        "priorities",
        _SCORED_TASKS,
        "t.score > 0",
        f"t.score DESC, t.due NULLS LAST, {_BY_PRIORITY}",
        "t.score",
    ),
    ("schedule", "tasks", _SCHEDULED, f"t.scheduled_start, {_BY_PRIORITY}", "NULL"),
    ("overdue", "tasks", _OVERDUE, f"t.due, {_BY_PRIORITY}", "NULL"),
    ("due_today", "tasks", _DUE_TODAY, f"t.due_all_day DESC, t.due, {_BY_PRIORITY}", "NULL"),
    ("upcoming", "tasks", _UPCOMING, f"{_UPCOMING_DAY}, t.due_all_day DESC, t.due, {_BY_PRIORITY}", "NULL"),
    ("completed", "tasks", _COMPLETED, "t.completed_at DESC, t.title, t.id", "NULL"),
)
"""Each task section: its rows, ordered, with a position and the section's total (one query for all)."""
_REF_ORDER = (
    "(key IS NULL), (url IS NULL), CASE service "
    + " ".join(
        f"WHEN '{s.value}' THEN {n}"
        for n, s in enumerate((Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION, Service.LOCAL))
    )
    + " ELSE 9 END, external_id"
)
"""Which ref a row links to: one with a key (``ENG-3`` is what people say), then a URL, then by service."""


def _sections_sql(limits: Limits, *, handles: bool = True) -> str:
    """Every task section in one statement: each branch is a top-N (``ORDER BY ... LIMIT``), tagged.

    ``handles`` joins the pmtui handles (``M-12``) for key-less tasks; a cache opened read-only before
    it was migrated to schema 7 has no such table yet.
    """
    branches = [
        f"(SELECT '{name}' AS section, t.*, row_number() OVER (ORDER BY {order}) AS pos FROM "
        "(SELECT t.id, t.title, t.status, t.priority, t.project_id, t.labels, t.due, t.due_all_day, "
        f"t.scheduled_start, t.scheduled_end, t.completed_at, CAST({score} AS INTEGER) AS score "
        f"FROM {source} t WHERE NOT t.deleted AND {where} ORDER BY {order} "
        f"LIMIT {int(getattr(limits, name))}) t)"
        for name, source, where, order, score in _SECTIONS
    ]
    return (
        f"WITH picked AS MATERIALIZED ({' UNION ALL '.join(branches)}), "
        "first_ref AS (SELECT entity_id, service, key, url FROM external_refs WHERE entity = 'task' "
        "AND entity_id IN (SELECT id FROM picked) "
        f"QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY {_REF_ORDER}) = 1) "
        "SELECT k.section, k.score, k.id, k.title, k.status, k.priority, p.name, k.labels, k.due, "
        "k.due_all_day, k.scheduled_start, k.scheduled_end, k.completed_at, r.service, "
        f"{'coalesce(r.key, h.handle)' if handles else 'r.key'}, r.url "
        "FROM picked k LEFT JOIN projects p ON p.id = k.project_id AND NOT p.deleted "
        "LEFT JOIN first_ref r ON r.entity_id = k.id "
        f"{'LEFT JOIN task_handles h ON h.task_id = k.id ' if handles else ''}"
        "ORDER BY k.section, k.pos"
    )


_COUNTS_SQL = (
    f"SELECT count(*), count(*) FILTER (WHERE {_OPEN}), count(*) FILTER (WHERE {_OVERDUE}), "
    f"count(*) FILTER (WHERE {_DUE_TODAY}), count(*) FILTER (WHERE {_UPCOMING}), "
    f"count(*) FILTER (WHERE {_COMPLETED}), count(*) FILTER (WHERE {_SCHEDULED}) "
    "FROM tasks t WHERE NOT t.deleted"
)
"""Every section's total in one scan: tasks, open, overdue, due today, upcoming, completed, scheduled."""


_PROJECTS_SQL = (
    "WITH stats AS (SELECT t.project_id, count(*) FILTER (WHERE t.status <> 'canceled') AS total, "
    "count(*) FILTER (WHERE t.status = 'done') AS done FROM tasks t "
    "WHERE NOT t.deleted AND t.project_id IS NOT NULL GROUP BY t.project_id), "
    "days AS (SELECT unnest(range({trend_days})) AS idx, unnest({trend_starts}::TIMESTAMPTZ[]) AS start, "
    "unnest({trend_stops}::TIMESTAMPTZ[]) AS stop), "
    "per_day AS (SELECT t.project_id, d.idx, count(*) AS n FROM tasks t JOIN days d "
    "ON t.completed_at >= d.start AND t.completed_at < d.stop WHERE NOT t.deleted AND t.status = 'done' "
    "AND t.completed_at >= {trend_start} AND t.completed_at < {day_end} AND t.project_id IS NOT NULL "
    "GROUP BY ALL), "
    "trend AS (SELECT project_id, sum(n) AS recent, list(idx ORDER BY idx) AS days, "
    "list(n ORDER BY idx) AS counts FROM per_day GROUP BY project_id) "
    "SELECT p.id, p.name, p.status, p.due, coalesce(s.done, 0), coalesce(s.total, 0), count(*) OVER (), "
    "tr.days, tr.counts FROM projects p LEFT JOIN stats s ON s.project_id = p.id "
    "LEFT JOIN trend tr ON tr.project_id = p.id "
    "WHERE NOT p.deleted AND p.status NOT IN ('done', 'canceled') "
    "ORDER BY coalesce(tr.recent, 0) DESC, coalesce(s.total - s.done, 0) DESC, p.name, p.id "
    "LIMIT {project_limit}"
)
"""Open projects (not done or canceled) with progress and the per-day completions of the trend window."""

_SYNC_SQL = (
    "WITH svc AS (SELECT unnest({services}::VARCHAR[]) AS service), "
    "last AS (SELECT service, status, coalesce(finished_at, started_at) AS at, duration_ms FROM sync_runs "
    "QUALIFY row_number() OVER (PARTITION BY service ORDER BY started_at DESC) = 1), "
    "err AS (SELECT service, error, coalesce(finished_at, started_at) AS at FROM sync_runs "
    "WHERE error IS NOT NULL QUALIFY row_number() OVER (PARTITION BY service ORDER BY started_at DESC) = 1), "
    "steps AS (SELECT service, count(*) FILTER (WHERE state = 'pending') AS pending, "
    "count(*) FILTER (WHERE state = 'failed') AS failed FROM journal GROUP BY service), "
    "open_conflicts AS (SELECT service, count(*) AS n FROM conflicts WHERE resolved_at IS NULL "
    "GROUP BY service) "
    "SELECT svc.service, last.status, last.at, last.duration_ms, err.error, err.at, "
    "coalesce(steps.pending, 0), coalesce(steps.failed, 0), coalesce(open_conflicts.n, 0) FROM svc "
    "LEFT JOIN last ON last.service = svc.service LEFT JOIN err ON err.service = svc.service "
    "LEFT JOIN steps ON steps.service = svc.service "
    "LEFT JOIN open_conflicts ON open_conflicts.service = svc.service"
)
"""Per service: the newest run, the newest error, journal steps waiting, open conflicts."""


_LATE_HOURS = "CAST(floor((epoch({now}) - epoch(t.due)) / 3600) AS BIGINT)"
_NEXT_CHANGE_SQL = (
    f"SELECT min(CASE WHEN t.due >= {{now}} THEN t.due "
    f"ELSE t.due + to_hours(24 * ({_LATE_HOURS} // 24 + 1)) END) FROM tasks t "
    f"WHERE NOT t.deleted AND {_OPEN} AND t.due IS NOT NULL AND NOT t.due_all_day "
    f"AND (t.due >= {{now}} OR {_LATE_HOURS} // 24 < {OVERDUE_DAYS_CAP})"
)
"""The next instant the clock alone changes a section or a score: a timed task's due instant passes (it
becomes overdue), or an overdue timed task starts another whole day late (its points grow, to the cap).
The same expressions as :data:`_OVERDUE` and :func:`_score_sql`, so both agree on the boundary."""


def valid_until(store: Store, *, today: date, now: datetime, tz: tzinfo) -> datetime | None:
    """Until when the briefing of ``today`` computed at ``now`` stays what a new computation would give.

    Within it only the hours late, the ranking's reason texts and "how long ago" move, and
    :func:`pmtui.answers.at_time` recomputes those; the day's end bounds it in any case.
    """
    day_end = local_midnight(today + timedelta(days=1), tz)
    try:
        row = _query(store, _NEXT_CHANGE_SQL, {"now": now.astimezone(UTC)})
    except Exception:  # noqa: BLE001 - an unexpected schema only means "valid for no time at all"
        return now
    found = row[0][0] if row else None
    return min(found, day_end) if found is not None else day_end


def _query(store: Store, template: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    sql, params = _bind(template, values)
    return store._rows(sql, params)


def _task_row(raw: Sequence[Any], tz: tzinfo) -> dict[str, Any]:
    """TaskRow fields from a sections-query row (from ``id`` on)."""
    (task_id, title, status, priority, project, labels, due, all_day, start, end, completed) = raw[:11]
    service, key, url = raw[11:14]

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(tz) if value is not None else None

    due_day = None
    if due is not None:
        due_day = due.astimezone(UTC).date() if all_day else due.astimezone(tz).date()
    return {
        "id": task_id,
        "title": title,
        "status": status,
        "priority": priority,
        "project": project,
        "labels": tuple(labels or ()),
        "due_day": due_day,
        "due_at": None if all_day or due is None else local(due),
        "due_all_day": bool(all_day),
        "scheduled_start": local(start),
        "scheduled_end": local(end),
        "completed_at": local(completed),
        "ref": RefLink(service=service, key=key, url=url) if service else None,
    }


def _zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz.tzname(None) or tz)


def service_health(
    service: Service, *, configured: bool, row: Sequence[Any] | None, tz: tzinfo
) -> ServiceHealth:
    """One service's health from its sync-query row (None: no data at all for it).

    A service with a run shows that run's state whatever the settings say; one with none is "never
    synced" when configured and "not configured" otherwise.
    """
    _, status, at, duration, error, error_at, pending, failed, conflicts = (
        row if row is not None else (None, None, None, None, None, None, 0, 0, 0)
    )
    state: SyncState
    if status is not None:
        state = status if status in ("ok", "failed", "running", "skipped") else "failed"
    else:
        state = "never_synced" if configured else "not_configured"
    return ServiceHealth(
        service=service.value,
        label=service.label,
        configured=configured,
        state=state,
        last_sync_at=at.astimezone(tz) if at is not None else None,
        duration_ms=int(duration) if duration is not None else None,
        last_error=error,
        last_error_at=error_at.astimezone(tz) if error_at is not None else None,
        pending_steps=int(pending),
        failed_steps=int(failed),
        open_conflicts=int(conflicts),
    )


def _counts_or_none(store: Store, values: dict[str, Any]) -> tuple[int, ...] | None:
    """The :data:`_COUNTS_SQL` row, or None when the file has no schema yet (an empty DuckDB file)."""
    import duckdb

    try:
        row = _query(store, _COUNTS_SQL, values)[0]
    except duckdb.CatalogException:
        return None
    return tuple(int(v) for v in row)


def build_briefing(
    store: Store,
    *,
    today: date,
    now: datetime,
    tz: tzinfo,
    configured: Sequence[str] = (),
    limits: Limits = Limits(),
) -> Briefing:
    """Compute the briefing of ``today`` (in zone ``tz``, as of instant ``now``) from the cache.

    Four queries: every section's total in one scan, every task section's rows (with project name and
    first ref) in one, the projects with their trend, and the sync health. ``configured`` lists the
    services set up in the settings, so one that never synced says so.
    """
    values = {
        **Window(today=today, now=now, tz=tz).params(),
        "trend_days": TREND_DAYS,
        "project_limit": limits.projects,
        "services": [s.value for s in REMOTE_SERVICES],
    }
    counted = _counts_or_none(store, values)
    if counted is None or counted[0] == 0:
        return empty_briefing(today=today, now=now, tz=tz, configured=configured)
    _, open_count, overdue, due_today, upcoming, completed, scheduled = counted

    sections: dict[str, list[tuple[Any, ...]]] = {name: [] for name, *_ in _SECTIONS}
    sql = _sections_sql(limits, handles=store.version() >= HANDLES_SCHEMA)
    for row in _query(store, sql, values):
        sections[row[0]].append(row)

    def rows(name: str) -> tuple[TaskRow, ...]:
        return tuple(TaskRow(**_task_row(r[2:], tz)) for r in sections[name])

    late_items = _overdue_items(sections["overdue"], today=today, now=now, tz=tz)
    ranked = _ranked_items(sections["priorities"], today=today, now=now, tz=tz)

    by_service = {row[0]: row for row in _query(store, _SYNC_SQL, values)}
    health = tuple(
        service_health(s, configured=s in configured, row=by_service.get(s.value), tz=tz)
        for s in REMOTE_SERVICES
    )
    return Briefing(
        date=today,
        generated_at=now.astimezone(tz),
        timezone=_zone_name(tz),
        is_empty=False,
        counts=Counts(
            open=open_count,
            overdue=overdue,
            due_today=due_today,
            upcoming=upcoming,
            completed=completed,
            scheduled=scheduled,
            conflicts=sum(h.open_conflicts for h in health),
            pending_steps=sum(h.pending_steps for h in health),
        ),
        priorities=PrioritySection(items=ranked),
        schedule=TaskSection(total=scheduled, items=rows("schedule")),
        overdue=OverdueSection(total=overdue, items=late_items),
        due_today=TaskSection(total=due_today, items=rows("due_today")),
        upcoming=TaskSection(total=upcoming, items=rows("upcoming")),
        completed=TaskSection(total=completed, items=rows("completed")),
        projects=_projects(store, values),
        milestones=_milestones(store, today, limits.milestones),
        sync=health,
        gitlab_activity=open_tasks_summary(store),
    )


def _overdue_items(
    rows: Sequence[tuple[Any, ...]], *, today: date, now: datetime, tz: tzinfo
) -> tuple[OverdueTask, ...]:
    """Overdue rows of the sections query, each with how late it is."""
    items = []
    for raw in rows:
        late = overdue_by(raw[8], all_day=raw[9], today=today, now=now) or (0, None)
        items.append(
            OverdueTask(
                **_task_row(raw[2:], tz),
                overdue_days=late[0],
                overdue_hours=late[1],
                overdue_text=overdue_text(*late),
            )
        )
    return tuple(items)


def _ranked_items(
    rows: Sequence[tuple[Any, ...]], *, today: date, now: datetime, tz: tzinfo
) -> tuple[RankedTask, ...]:
    """The SQL's top candidates, scored again in Python for the reasons, best first."""
    ranked = []
    for raw in rows:
        ranking = rank(
            priority=raw[5],
            status=raw[4],
            labels=raw[7] or (),
            due=raw[8],
            due_all_day=raw[9],
            scheduled_start=raw[10],
            today=today,
            now=now,
            tz=tz,
        )
        ranked.append(RankedTask(**_task_row(raw[2:], tz), score=ranking.score, reasons=ranking.reasons))
    ranked.sort(key=lambda item: -item.score)  # stable: keeps the SQL tie order
    return tuple(ranked)


def _projects(store: Store, values: dict[str, Any]) -> ProjectSection:
    rows = _query(store, _PROJECTS_SQL, values)
    items = []
    for project_id, name, status, due, done, total, _, days, counts in rows:
        trend = [0] * TREND_DAYS
        for index, count in zip(days or (), counts or (), strict=True):
            trend[int(index)] = int(count)
        items.append(
            ProjectProgress(
                id=project_id,
                name=name,
                status=status,
                due=due,
                done=int(done),
                total=int(total),
                trend=tuple(trend),
            )
        )
    return ProjectSection(total=int(rows[0][6]) if rows else 0, items=tuple(items))


def _milestones(store: Store, today: date, limit: int) -> MilestoneSection:
    from pmtui.core.milestones import milestone_progress

    found = milestone_progress(store, today, include_done=False)
    items = tuple(
        MilestoneItem(
            id=m.id,
            name=m.name,
            project=m.project,
            service=m.service,
            start=m.start,
            due=m.due,
            done=m.done,
            total=m.total,
            expected=None if m.expected is None else round(m.expected, 3),
            state=m.state,
            at_risk=m.at_risk,
        )
        for m in found[:limit]
    )
    return MilestoneSection(total=len(found), at_risk=sum(m.at_risk for m in found), items=items)


def empty_briefing(*, today: date, now: datetime, tz: tzinfo, configured: Sequence[str] = ()) -> Briefing:
    """The briefing of a cache with no tasks (or no cache file at all): every section empty."""
    empty = TaskSection(total=0, items=())
    return Briefing(
        date=today,
        generated_at=now.astimezone(tz),
        timezone=_zone_name(tz),
        is_empty=True,
        counts=Counts(
            open=0, overdue=0, due_today=0, upcoming=0, completed=0, scheduled=0, conflicts=0, pending_steps=0
        ),
        priorities=PrioritySection(items=()),
        schedule=empty,
        overdue=OverdueSection(total=0, items=()),
        due_today=empty,
        upcoming=empty,
        completed=empty,
        projects=ProjectSection(total=0, items=()),
        sync=tuple(service_health(s, configured=s in configured, row=None, tz=tz) for s in REMOTE_SERVICES),
    )


_SERVICE_IDS = {
    Service.MOTION: "workspace_id",
    Service.LINEAR: "team_key",
    Service.NOTION: "tasks_data_source_id",
    Service.GITLAB: "project",
}


def configured_services(settings: Settings, environ: dict[str, str] | None = None) -> list[Service]:
    """Services the settings set up: enabled, or (unset) with a key in the env or file, or their ids set.

    Unlike :func:`pmtui.config.service_enabled` this never asks the OS keyring: importing keyring costs
    ~130 ms, and the briefing only needs the hint "configured but never synced" (a service that has
    synced shows its real state whatever this says).
    """
    from pmtui.config import SECRET_ENV

    env = os.environ if environ is None else environ
    found = []
    for service in REMOTE_SERVICES:
        section = settings.service(service)
        if section.enabled is not None:
            if section.enabled:
                found.append(service)
            continue
        has_key = bool(env.get(SECRET_ENV[service])) or (
            section.api_key is not None and bool(section.api_key.get_secret_value())
        )
        if has_key or getattr(section, _SERVICE_IDS[service], None):
            found.append(service)
    return found
