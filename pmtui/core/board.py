"""Board, status and detail queries for the terminal app, straight from DuckDB as Arrow columns.

The task board must open on a cache of 50,000 tasks in well under a second, so it never builds
``Task`` models: one query returns the visible columns as an Arrow table (filtered and sorted in
DuckDB), and the UI formats only the rows on screen. No Textual here (the core stays headless).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from pmtui.models import REMOTE_SERVICES, JournalState, Priority, Service, Status

if TYPE_CHECKING:
    import pyarrow as pa

    from pmtui.core.milestones import ProjectTrack
    from pmtui.core.store import Store

SortKey = Literal["due", "priority", "title", "updated", "status", "service"]
SORT_KEYS: tuple[SortKey, ...] = ("due", "priority", "title", "updated", "status", "service")
"""The board's sort orders, in the order the sort key cycles through them."""

DueFacet = Literal["overdue", "today", "week", "undated"]
DUE_FACETS: tuple[DueFacet, ...] = ("overdue", "today", "week", "undated")
StatusFacet = Literal["open", "all", "todo", "in_progress", "done", "canceled"]
STATUS_FACETS: tuple[StatusFacet, ...] = ("open", "all", "todo", "in_progress", "done", "canceled")

BOARD_COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "status",
    "priority",
    "due",
    "due_all_day",
    "service",
    "key",
    "project",
    "labels",
)
"""The columns of a :class:`BoardRows` table, in order."""

_PRIORITY_RANK_SQL = (
    "CASE t.priority " + " ".join(f"WHEN '{p.value}' THEN {p.rank}" for p in Priority) + " ELSE 0 END"
)
_STATUS_RANK_SQL = "CASE t.status WHEN 'in_progress' THEN 0 WHEN 'todo' THEN 1 WHEN 'done' THEN 2 ELSE 3 END"
_ORDER_SQL: dict[str, str] = {
    "due": f"t.due NULLS LAST, {_PRIORITY_RANK_SQL} DESC, t.title, t.id",
    "priority": f"{_PRIORITY_RANK_SQL} DESC, t.due NULLS LAST, t.title, t.id",
    "title": "lower(t.title), t.id",
    "updated": "t.updated_at DESC, t.id",
    "status": f"{_STATUS_RANK_SQL}, t.due NULLS LAST, t.title, t.id",
    "service": "coalesce(r.service, 'local'), t.due NULLS LAST, t.title, t.id",
}
_HOME_REFS_SQL = (
    "SELECT entity_id, arg_min(service, service) AS service, "
    "arg_min(key, service) FILTER (WHERE key IS NOT NULL) AS key, "
    "count(*) AS homes FROM external_refs WHERE entity = 'task' GROUP BY entity_id"
)


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: free text, one value per facet, and the sort order."""

    text: str = ""
    service: str | None = None
    project: str | None = None
    """A project id."""
    label: str | None = None
    due: DueFacet | None = None
    status: StatusFacet = "open"
    sort: SortKey = "due"

    def with_(self, **changes: Any) -> BoardFilter:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def next_sort(self) -> BoardFilter:
        """The same filter with the next sort order."""
        index = SORT_KEYS.index(self.sort)
        return replace(self, sort=SORT_KEYS[(index + 1) % len(SORT_KEYS)])

    def describe(self, project_names: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """(facet, value) pairs for a facet bar; unset facets say ``all``."""
        project = self.project
        if project and project_names:
            project = project_names.get(project, project)
        return [
            ("status", self.status.replace("_", " ")),
            ("service", self.service or "all"),
            ("project", project or "all"),
            ("label", self.label or "all"),
            ("due", self.due or "any"),
            ("sort", self.sort),
        ]


@dataclass(frozen=True)
class BoardRow:
    """One task as the board shows it (built only for rows on screen)."""

    id: str
    title: str
    status: str
    priority: str
    due: datetime | None
    due_all_day: bool
    service: str
    key: str | None
    project: str | None
    labels: tuple[str, ...]


@dataclass
class BoardRows:
    """The board's rows as Arrow columns plus the ids as a list (for selection and lookups)."""

    table: pa.Table
    total: int
    """Tasks in the cache (not deleted), whatever the filter."""
    ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.ids and self.table.num_rows:
            self.ids = self.table.column("id").to_pylist()
        self._cache: dict[int, BoardRow] = {}

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def row(self, index: int) -> BoardRow:
        """Row ``index`` as a small dataclass (cached; only rows that get drawn are ever built)."""
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        values = {name: self.table.column(name)[index].as_py() for name in BOARD_COLUMNS}
        values["labels"] = tuple(values["labels"] or ())
        values["due_all_day"] = bool(values["due_all_day"])
        built = BoardRow(**values)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[index] = built
        return built

    def index_of(self, task_id: str) -> int | None:
        """The position of ``task_id`` in these rows, or None."""
        try:
            return self.ids.index(task_id)
        except ValueError:
            return None

    def where_status(self, status: str) -> BoardRows:
        """The subset of rows with ``status`` (for one kanban column)."""
        import pyarrow.compute as pc

        mask = pc.equal(self.table.column("status"), status)
        return BoardRows(self.table.filter(mask), self.total)

    @classmethod
    def empty(cls) -> BoardRows:
        """No rows at all."""
        # Imported here, not at the top: pyarrow (~0.2 s) is not needed for the app's first frame.
        import pyarrow as pa

        # A schema's empty table: ``pa.table(dict)`` would import pandas (~0.4 s) just to check types.
        return cls(
            pa.Table.from_batches([], schema=pa.schema([(name, pa.string()) for name in BOARD_COLUMNS])), 0
        )


@dataclass(frozen=True)
class DayBounds:
    """The instants that bound "today" and "this week" for the due facet."""

    now: datetime
    day_start: datetime
    day_end: datetime
    week_end: datetime
    utc_today: datetime
    utc_tomorrow: datetime
    utc_week_end: datetime

    @classmethod
    def of(cls, now: datetime, tz: tzinfo) -> DayBounds:
        """Bounds of the day ``now`` falls on in zone ``tz``."""
        today = now.astimezone(tz).date()

        def local(day: date) -> datetime:
            return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

        def utc(day: date) -> datetime:
            return datetime.combine(day, time(0), tzinfo=UTC)

        return cls(
            now=now.astimezone(UTC),
            day_start=local(today),
            day_end=local(today + timedelta(days=1)),
            week_end=local(today + timedelta(days=8)),
            utc_today=utc(today),
            utc_tomorrow=utc(today + timedelta(days=1)),
            utc_week_end=utc(today + timedelta(days=8)),
        )


def _due_clause(facet: DueFacet, bounds: DayBounds, params: list[Any]) -> str:
    if facet == "undated":
        return "t.due IS NULL"
    if facet == "overdue":
        params.extend([bounds.utc_today, bounds.now])
        return (
            "t.status IN ('todo', 'in_progress') AND t.due IS NOT NULL AND "
            "((t.due_all_day AND t.due < ?) OR (NOT t.due_all_day AND t.due < ?))"
        )
    if facet == "today":
        params.extend([bounds.utc_today, bounds.utc_tomorrow, bounds.day_start, bounds.day_end])
        return (
            "t.due IS NOT NULL AND ((t.due_all_day AND t.due >= ? AND t.due < ?) "
            "OR (NOT t.due_all_day AND t.due >= ? AND t.due < ?))"
        )
    params.extend([bounds.utc_today, bounds.utc_week_end, bounds.day_start, bounds.week_end])
    return (
        "t.due IS NOT NULL AND ((t.due_all_day AND t.due >= ? AND t.due < ?) "
        "OR (NOT t.due_all_day AND t.due >= ? AND t.due < ?))"
    )


def board_sql(flt: BoardFilter, bounds: DayBounds) -> tuple[str, list[Any]]:
    """The board query for ``flt`` and its parameters (exposed for tests and benchmarks)."""
    clauses = ["NOT t.deleted"]
    params: list[Any] = []
    if flt.status == "open":
        clauses.append("t.status IN ('todo', 'in_progress')")
    elif flt.status != "all":
        clauses.append("t.status = ?")
        params.append(flt.status)
    if flt.text.strip():
        needle = flt.text.strip()
        clauses.append(
            "(t.title ILIKE ? OR coalesce(r.key, h.handle) ILIKE ? OR p.name ILIKE ? "
            "OR list_contains(t.labels, ?))"
        )
        params.extend([f"%{needle}%", f"{needle}%", f"%{needle}%", needle])
    if flt.service:
        if flt.service == Service.LOCAL.value:
            clauses.append("r.service IS NULL")
        else:
            clauses.append(
                "t.id IN (SELECT entity_id FROM external_refs WHERE entity = 'task' AND service = ?)"
            )
            params.append(flt.service)
    if flt.project:
        clauses.append("t.project_id = ?")
        params.append(flt.project)
    if flt.label:
        clauses.append("list_contains(list_transform(t.labels, lambda label: lower(label)), lower(?))")
        params.append(flt.label)
    if flt.due:
        clauses.append(_due_clause(flt.due, bounds, params))
    sql = (
        f"WITH r AS ({_HOME_REFS_SQL}) "
        "SELECT t.id, t.title, t.status, t.priority, t.due, t.due_all_day, "
        "coalesce(r.service, 'local') AS service, coalesce(r.key, h.handle) AS key, p.name AS project, "
        "t.labels FROM tasks t LEFT JOIN r ON r.entity_id = t.id "
        "LEFT JOIN task_handles h ON h.task_id = t.id "
        "LEFT JOIN projects p ON p.id = t.project_id AND NOT p.deleted "
        f"WHERE {' AND '.join(clauses)} ORDER BY {_ORDER_SQL[flt.sort]}"
    )
    # The CTE is named like the alias the clauses use; DuckDB resolves ``r`` to the joined CTE.
    return sql, params


def query_board(store: Store, flt: BoardFilter, *, now: datetime, tz: tzinfo) -> BoardRows:
    """The board's rows for ``flt``: filtered and sorted in DuckDB, returned as Arrow columns."""
    sql, params = board_sql(flt, DayBounds.of(now, tz))
    with store._lock:
        table = store._arrow(sql, params)
        total_row = store._rows("SELECT count(*) FROM tasks WHERE NOT deleted")
    return BoardRows(table, int(total_row[0][0]) if total_row else 0)


@dataclass(frozen=True)
class FacetValue:
    """One value a facet can take, with how many tasks (open or not) have it."""

    facet: Literal["service", "project", "label", "due", "status"]
    value: str
    label: str
    count: int
    detail: str = ""
    """For a project: its progress and outlook, ``4/9 · at risk`` (:class:`ProjectTrack`)."""


def facet_values(store: Store, *, now: datetime, tz: tzinfo, label_limit: int = 200) -> list[FacetValue]:
    """Every facet value with its count of open tasks, for the facet picker."""
    from pmtui.core.milestones import project_tracks

    found: list[FacetValue] = []
    tracks = project_tracks(store, now.astimezone(tz).date())
    with store._lock:
        for service, count in store._rows(
            f"WITH r AS ({_HOME_REFS_SQL}) SELECT coalesce(r.service, 'local'), count(*) FROM tasks t "
            "LEFT JOIN r ON r.entity_id = t.id WHERE NOT t.deleted AND t.status IN ('todo', 'in_progress') "
            "GROUP BY ALL ORDER BY 2 DESC, 1"
        ):
            label = Service(service).label if service in Service.__members__.values() else service
            found.append(FacetValue("service", service, label, int(count)))
        for project_id, name, count in store._rows(
            "SELECT p.id, p.name, count(t.id) FROM projects p JOIN tasks t ON t.project_id = p.id "
            "WHERE NOT p.deleted AND NOT t.deleted AND t.status IN ('todo', 'in_progress') "
            "GROUP BY ALL ORDER BY 3 DESC, 2"
        ):
            track = tracks.get(project_id)
            detail = track.text() if track is not None else ""
            found.append(FacetValue("project", project_id, name, int(count), detail))
        # One facet per label whatever its case (#Bug and #bug are one label): GitLab and Linear keep
        # the case people typed, so the same label arrives spelt both ways.
        for label, count in store._rows(
            "SELECT min(label), count(*) FROM (SELECT unnest(labels) AS label FROM tasks "
            "WHERE NOT deleted AND status IN ('todo', 'in_progress')) GROUP BY lower(label) "
            f"ORDER BY 2 DESC, 1 LIMIT {int(label_limit)}"
        ):
            found.append(FacetValue("label", label, f"#{label}", int(count)))
    bounds = DayBounds.of(now, tz)
    for facet in DUE_FACETS:
        sql, params = board_sql(BoardFilter(due=facet), bounds)
        with store._lock:
            rows = store._rows(f"SELECT count(*) FROM ({sql})", params)
        found.append(FacetValue("due", facet, f"due: {facet}", int(rows[0][0]) if rows else 0))
    for status in STATUS_FACETS:
        found.append(FacetValue("status", status, f"status: {status.replace('_', ' ')}", 0))
    return found


def project_names(store: Store) -> dict[str, str]:
    """Project id -> name, for facet labels."""
    return {pid: name for pid, name in store._rows("SELECT id, name FROM projects WHERE NOT deleted")}


def project_track(store: Store, project_id: str, *, now: datetime, tz: tzinfo) -> ProjectTrack | None:
    """The progress and outlook of one project (for the facet bar when the project facet is set)."""
    from pmtui.core.milestones import project_tracks

    return project_tracks(store, now.astimezone(tz).date(), only=project_id).get(project_id)


# ------------------------------------------------------------------------------------------ status


@dataclass(frozen=True)
class ServiceStatus:
    """One service's line in the status bar and the sync screen."""

    service: Service
    configured: bool
    last_status: str | None = None
    last_at: datetime | None = None
    duration_ms: int | None = None
    pulled: int = 0
    pushed: int = 0
    last_error: str | None = None
    pending: int = 0
    failed: int = 0
    conflicts: int = 0
    cursors: tuple[tuple[str, str | None], ...] = ()
    retry_at: datetime | None = None
    """Rate-limited: the service may be called again at this moment (the status line counts down)."""


@dataclass(frozen=True)
class StatusSummary:
    """What the status line shows: each service's last sync, the outbox, open conflicts."""

    services: tuple[ServiceStatus, ...]
    pending: int
    failed: int
    conflicts: int
    tasks: int

    @classmethod
    def empty(cls) -> StatusSummary:
        """Nothing known yet (before the first query returns)."""
        return cls(services=(), pending=0, failed=0, conflicts=0, tasks=0)


def status_summary(store: Store, configured: Sequence[Service]) -> StatusSummary:
    """The status line's data in four small queries (cheap enough to run after every action)."""
    with store._lock:
        last = {
            row[0]: row[1:]
            for row in store._rows(
                "SELECT service, status, coalesce(finished_at, started_at), duration_ms, pulled, pushed, "
                "error, retry_at FROM sync_runs QUALIFY row_number() OVER (PARTITION BY service "
                "ORDER BY started_at DESC) = 1"
            )
        }
        steps = {
            row[0]: (int(row[1]), int(row[2]))
            for row in store._rows(
                "SELECT service, count(*) FILTER (WHERE state = ?), count(*) FILTER (WHERE state = ?) "
                "FROM journal GROUP BY service",
                [JournalState.PENDING.value, JournalState.FAILED.value],
            )
        }
        conflicts = {
            row[0]: int(row[1])
            for row in store._rows(
                "SELECT service, count(*) FROM conflicts WHERE resolved_at IS NULL GROUP BY service"
            )
        }
        cursors: dict[str, list[tuple[str, str | None]]] = {}
        for service, resource, cursor in store._rows(
            "SELECT service, resource, cursor FROM sync_cursors ORDER BY service, resource"
        ):
            cursors.setdefault(service, []).append((resource, cursor))
        tasks_row = store._rows("SELECT count(*) FROM tasks WHERE NOT deleted")
    from pmtui.core.writes import pending_changes

    waiting = pending_changes(store)
    services = []
    for service in REMOTE_SERVICES:
        run = last.get(service.value)
        steps_pending, failed = steps.get(service.value, (0, 0))
        outbox = waiting.get(service, [])
        pending = steps_pending + len(outbox)
        failed += sum(1 for entry, _what in outbox if entry.error)
        services.append(
            ServiceStatus(
                service=service,
                configured=service in configured,
                last_status=run[0] if run else None,
                last_at=run[1] if run else None,
                duration_ms=int(run[2]) if run and run[2] is not None else None,
                pulled=int(run[3]) if run else 0,
                pushed=int(run[4]) if run else 0,
                last_error=run[5] if run else None,
                pending=pending,
                failed=failed,
                conflicts=conflicts.get(service.value, 0),
                cursors=tuple(cursors.get(service.value, ())),
                retry_at=run[6] if run else None,
            )
        )
    return StatusSummary(
        services=tuple(services),
        pending=sum(s.pending for s in services),
        failed=sum(s.failed for s in services),
        conflicts=sum(conflicts.values()),
        tasks=int(tasks_row[0][0]) if tasks_row else 0,
    )


def countdown(until: datetime | None, now: datetime) -> str | None:
    """``m:ss`` (or ``h:mm:ss``) left until ``until``; None once it has passed."""
    if until is None:
        return None
    left = int((until - now).total_seconds())
    if left <= 0:
        return None
    hours, rest = divmod(left, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def ago(then: datetime | None, now: datetime) -> str:
    """``now``, ``42s``, ``5m``, ``3h``, ``2d`` ago; ``never`` for None."""
    if then is None:
        return "never"
    seconds = int((now - then).total_seconds())
    if seconds < 5:
        return "now"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def due_text(due: datetime | None, all_day: bool, tz: tzinfo, today: date) -> str:
    """``Fri 27 Nov`` (all-day) or ``Fri 27 Nov 15:00`` (timed, local); the year only if not this year."""
    if due is None:
        return ""
    moment = due.astimezone(UTC) if all_day else due.astimezone(tz)
    text = moment.strftime("%a %d %b")
    if moment.year != today.year:
        text += f" {moment.year}"
    if not all_day:
        text += moment.strftime(" %H:%M")
    return text


def is_overdue(due: datetime | None, all_day: bool, status: str, now: datetime) -> bool:
    """True for an open task whose due date or time has passed."""
    if due is None or status in (Status.DONE.value, Status.CANCELED.value):
        return False
    if all_day:
        return due.astimezone(UTC).date() < now.astimezone(UTC).date()
    return due < now


# ------------------------------------------------------------------------------------------ detail


@dataclass(frozen=True)
class TaskLocation:
    """The project and milestone names of a task, for the detail screen."""

    project: str | None
    milestone: str | None


def task_location(store: Store, project_id: str | None, milestone_id: str | None) -> TaskLocation:
    """Names of a task's project and milestone (None where unset or unknown)."""
    project = milestone = None
    with store._lock:
        if project_id:
            rows = store._rows("SELECT name FROM projects WHERE id = ?", [project_id])
            project = rows[0][0] if rows else None
        if milestone_id:
            rows = store._rows("SELECT name FROM milestones WHERE id = ?", [milestone_id])
            milestone = rows[0][0] if rows else None
    return TaskLocation(project=project, milestone=milestone)


def pending_steps_for(store: Store, task_id: str) -> list[tuple[str, str, str, str | None]]:
    """Journal steps about ``task_id`` that are not done: (service, op, state, error)."""
    return [
        (row[0], row[1], row[2], row[3])
        for row in store._rows(
            "SELECT service, op, state, error FROM journal WHERE entity_id = ? AND state IN (?, ?) "
            "ORDER BY created_at",
            [task_id, JournalState.PENDING.value, JournalState.FAILED.value],
        )
    ]


# --------------------------------------------------------------------------------------- conflicts


@dataclass(frozen=True)
class ConflictItem:
    """An open conflict with the title and key of its task, for the conflict queue."""

    id: str
    task_id: str
    title: str
    key: str | None
    service: Service
    field: str
    base: Any
    local: Any
    remote: Any


def conflict_queue(store: Store) -> list[ConflictItem]:
    """Open conflicts, oldest first, with their tasks' titles and keys on the conflicting service."""
    conflicts = store.conflicts()
    if not conflicts:
        return []
    ids = sorted({c.task_id for c in conflicts})
    marks = ", ".join("?" for _ in ids)
    with store._lock:
        titles = {
            row[0]: row[1] for row in store._rows(f"SELECT id, title FROM tasks WHERE id IN ({marks})", ids)
        }
        keys = {
            (row[0], row[1]): row[2]
            for row in store._rows(
                "SELECT entity_id, service, key FROM external_refs WHERE entity = 'task' "
                f"AND entity_id IN ({marks})",
                ids,
            )
        }
    return [
        ConflictItem(
            id=c.id,
            task_id=c.task_id,
            title=titles.get(c.task_id, "(task not in the cache)"),
            key=keys.get((c.task_id, c.service.value)),
            service=c.service,
            field=c.field,
            base=c.base,
            local=c.local,
            remote=c.remote,
        )
        for c in conflicts
    ]


def parse_field_value(field_name: str, text: str, *, now: datetime, tz: tzinfo) -> Any:
    """A merged value typed by the user, as the field's canonical JSON value ; ValueError if unfit."""
    value = text.strip()
    if field_name == "labels":
        return [part.strip().lstrip("#") for part in value.split(",") if part.strip().lstrip("#")]
    if field_name == "status":
        return Status(value.replace(" ", "_").lower()).value
    if field_name == "priority":
        return Priority(value.lower()).value
    if field_name in ("duration_minutes",):
        return int(value) if value else None
    if field_name == "due_all_day":
        if value.lower() not in ("true", "false", "yes", "no"):
            raise ValueError("due_all_day: true or false")
        return value.lower() in ("true", "yes")
    if field_name == "due":
        if not value:
            return None
        from pmtui.core.agent.dates import parse_when

        when = parse_when(value, now, tz)
        if when is None:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValueError("due: try 2026-12-01 or 2026-12-01T15:00:00+00:00") from exc
            if parsed.tzinfo is None:
                raise ValueError("due: give a zone, e.g. 2026-12-01T15:00:00+00:00") from None
            return parsed.astimezone(UTC).isoformat()
        return when.at.isoformat()
    if field_name == "title" and not value:
        raise ValueError("title: must not be empty")
    return value or None
