"""The morning briefing as data: sections, time-zone edges, the ranking and its SQL twin, the JSON shape."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from rich.cells import cell_len
from rich.console import Console

from pmtui.config import load_settings
from pmtui.core.briefing import (
    Briefing,
    Limits,
    Window,
    _query,
    _score_sql,
    briefing_now,
    build_briefing,
    configured_services,
    local_midnight,
    overdue_by,
    overdue_text,
    parse_day,
    rank,
)
from pmtui.core.store import Store
from pmtui.models import (
    Conflict,
    ExternalRef,
    JournalEntry,
    JournalState,
    Priority,
    Project,
    Service,
    Status,
    SyncRun,
    Task,
)
from pmtui.render.briefing import (
    ago,
    day_label,
    duration_text,
    progress_bar,
    render_briefing,
    sparkline,
    wrap_parts,
)

BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
AUCKLAND = ZoneInfo("Pacific/Auckland")
TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=BERLIN)
"""The fixed clock: Tuesday 24 November 2026, 08:00 in Berlin (07:00 UTC)."""


def at(day: int, hour: int, minute: int = 0, tz: tzinfo = BERLIN) -> datetime:
    """An instant in November 2026 (days past 30 roll into December)."""
    return datetime(2026, 11, 1, hour, minute, tzinfo=tz) + timedelta(days=day - 1)


def all_day(day: int) -> datetime:
    """How an all-day due date is stored: midnight UTC of that date."""
    return datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=day - 1)


def task(task_id: str, **fields: object) -> Task:
    fields.setdefault("title", f"Task {task_id}")
    fields.setdefault("created_at", at(1, 9))
    fields.setdefault("updated_at", at(20, 9))
    return Task(id=task_id, **fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "cache.duckdb")


def brief(store: Store, *, tz: tzinfo = BERLIN, now: datetime = NOW, **kwargs: object) -> Briefing:
    today = now.astimezone(tz).date()
    return build_briefing(store, today=today, now=now, tz=tz, **kwargs)  # type: ignore[arg-type]


def ids(items: object) -> list[str]:
    return [item.id for item in items]  # type: ignore[attr-defined]


@pytest.fixture
def seeded(store: Store) -> Store:
    """A week of work in Berlin around the fixed clock."""
    store.upsert_projects([Project(id="web", name="Website"), Project(id="app", name="App")])
    store.upsert_tasks(
        [
            # overdue: all-day 3 days ago, all-day 1 day ago, timed 06:00 today (passed), timed 2 days ago
            task("late3", priority=Priority.URGENT, due=all_day(21), project_id="web"),
            task("late1", priority=Priority.HIGH, due=all_day(23), project_id="web"),
            task("late_timed", due=at(24, 6), due_all_day=False),
            task("late_48h", due=at(22, 7), due_all_day=False),
            # due today: all-day, timed 23:30 local (22:30 UTC), timed 12:00
            task("today_all_day", priority=Priority.MEDIUM, due=all_day(24), project_id="app"),
            task("today_2330", priority=Priority.HIGH, due=at(24, 23, 30), due_all_day=False),
            task("today_noon", due=at(24, 12), due_all_day=False),
            # upcoming: tomorrow timed, in 3 days all-day, in 7 days all-day; in 8 days is out
            task("soon_1", due=at(25, 0, 30), due_all_day=False, labels=["Blocked"]),
            task("soon_3", due=all_day(27), project_id="app"),
            task("soon_7", due=all_day(12 + 30 - 11)),  # 1 December = today + 7
            task("soon_8", due=all_day(2 + 30)),  # 2 December = today + 8
            # closed tasks never count as overdue or due
            task("done_late", status=Status.DONE, due=all_day(20), completed_at=at(23, 18), project_id="web"),
            task("canceled_late", status=Status.CANCELED, due=all_day(20), project_id="web"),
            task("deleted_late", due=all_day(20), deleted=True),
            # completed: today, 6 days ago (in), 7 days ago (out of the 7-day window, in the 14-day trend)
            task("done_today", status=Status.DONE, completed_at=at(24, 7), project_id="app"),
            task("done_6d", status=Status.DONE, completed_at=at(18, 10), project_id="web"),
            task("done_7d", status=Status.DONE, completed_at=at(17, 10), project_id="web"),
            # Motion schedule today (one of them is also due today), one tomorrow
            task(
                "slot_b",
                status=Status.IN_PROGRESS,
                scheduled_start=at(24, 14),
                scheduled_end=at(24, 15),
                project_id="web",
            ),
            task("slot_a", scheduled_start=at(24, 9), scheduled_end=at(24, 9, 30)),
            task("slot_tomorrow", scheduled_start=at(25, 9), scheduled_end=at(25, 10)),
            task("undated", priority=Priority.LOW),
        ]
    )
    store.upsert_refs(
        [
            ExternalRef(entity_id="late3", service=Service.MOTION, external_id="m1", url="https://motion/m1"),
            ExternalRef(
                entity_id="late3",
                service=Service.LINEAR,
                external_id="l1",
                key="ENG-3",
                url="https://linear.app/acme/issue/ENG-3",
            ),
            ExternalRef(entity_id="late1", service=Service.NOTION, external_id="n1", url="https://notion/n1"),
        ]
    )
    return store


# --------------------------------------------------------------------------------------------- pure


@pytest.mark.parametrize(
    ("day", "tz", "expected"),
    [
        (date(2026, 11, 24), BERLIN, datetime(2026, 11, 23, 23, 0, tzinfo=UTC)),
        (date(2026, 3, 29), BERLIN, datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),  # DST starts that day
        (date(2026, 3, 30), BERLIN, datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        (date(2026, 11, 24), LOS_ANGELES, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        (date(2026, 11, 24), AUCKLAND, datetime(2026, 11, 23, 11, 0, tzinfo=UTC)),
    ],
)
def test_local_midnight(day: date, tz: tzinfo, expected: datetime) -> None:
    assert local_midnight(day, tz) == expected


@pytest.mark.parametrize(
    ("due", "all_day_", "expected", "text"),
    [
        (all_day(21), True, (3, None), "3 days"),
        (all_day(23), True, (1, None), "1 day"),
        (all_day(24), True, None, None),
        (at(24, 2), False, (0, 6), "6 h"),  # hours only for timed tasks
        (at(24, 7, 30), False, (0, 0), "<1 h"),
        (at(22, 7), False, (2, 49), "2 days"),
        (at(24, 9), False, None, None),
    ],
)
def test_overdue_by_and_text(
    due: datetime, all_day_: bool, expected: tuple[int, int | None] | None, text: str | None
) -> None:
    late = overdue_by(due, all_day=all_day_, today=TODAY, now=NOW)
    assert late == expected
    if late is not None:
        assert overdue_text(*late) == text


RANK_CASES: list[tuple[str, dict[str, object], list[tuple[str, int]]]] = [
    ("nothing", {}, []),
    (
        "urgent, 3 days late, slot today",
        {"priority": "urgent", "due": all_day(21), "scheduled_start": at(24, 10)},
        [("urgent", 40), ("overdue 3 days", 36), ("scheduled 10:00 today", 15)],
    ),
    ("high, due today", {"priority": "high", "due": all_day(24)}, [("high", 30), ("due today", 25)]),
    ("timed due today", {"due": at(24, 17), "due_all_day": False}, [("due 17:00 today", 25)]),
    ("low, due tomorrow", {"priority": "low", "due": all_day(25)}, [("low", 10), ("due tomorrow", 10)]),
    ("due in 4 days", {"due": all_day(28)}, [("due in 4 days", 5)]),
    ("due in 7 days", {"due": all_day(31)}, [("due in 7 days", 5)]),
    ("due in 8 days", {"due": all_day(32)}, []),
    ("late a month: capped", {"due": all_day(1)}, [("overdue 23 days", 50)]),
    ("timed 5 h late", {"due": at(24, 2, 30), "due_all_day": False}, [("overdue 5 h", 30)]),
    ("in progress", {"status": "in_progress"}, [("in progress", 5)]),
    (
        "blocked sinks",
        {"priority": "urgent", "labels": ["Blocked"], "due": all_day(24)},
        [("urgent", 40), ("due today", 25), ("blocked", -30)],
    ),
    ("slot tomorrow does not count", {"scheduled_start": at(25, 10)}, []),
]


@pytest.mark.parametrize(("name", "fields", "reasons"), RANK_CASES, ids=[c[0] for c in RANK_CASES])
def test_rank_scores_and_explains(
    name: str, fields: dict[str, object], reasons: list[tuple[str, int]]
) -> None:
    args: dict[str, object] = {
        "priority": "none",
        "status": "todo",
        "labels": [],
        "due": None,
        "due_all_day": True,
        "scheduled_start": None,
    }
    args.update(fields)
    ranking = rank(**args, today=TODAY, now=NOW, tz=BERLIN)  # type: ignore[arg-type]
    assert [(r.label, r.points) for r in ranking.reasons] == reasons
    assert ranking.score == sum(points for _, points in reasons)


def test_reason_text() -> None:
    ranking = rank(
        priority="urgent",
        status="todo",
        labels=["blocked"],
        due=None,
        due_all_day=True,
        scheduled_start=None,
        today=TODAY,
        now=NOW,
        tz=BERLIN,
    )
    assert [r.text() for r in ranking.reasons] == ["urgent (+40)", "blocked (-30)"]


@pytest.mark.parametrize("tz", [BERLIN, LOS_ANGELES, AUCKLAND], ids=str)
def test_sql_score_equals_rank(store: Store, tz: tzinfo) -> None:
    """DuckDB picks the top candidates with the SQL twin of rank(); both must agree on every task."""
    now = datetime(2026, 11, 24, 8, 0, tzinfo=tz)
    today = now.date()
    tasks = []
    for n, (offset, hour) in enumerate(
        [(d, h) for d in range(-25, 10) for h in (0, 7, 8, 9, 23)] + [(None, None)] * 3
    ):
        due = (
            None
            if offset is None
            else datetime.combine(today, datetime.min.time(), tz) + timedelta(days=offset, hours=hour or 0)
        )
        timed = n % 2 == 0
        tasks.append(
            task(
                f"t{n}",
                priority=list(Priority)[n % 5],
                status=Status.IN_PROGRESS if n % 7 == 0 else Status.TODO,
                due=(due if timed else datetime.combine(due.date(), datetime.min.time(), UTC))
                if due
                else None,
                due_all_day=not timed,
                labels=["BLOCKED "] if n % 11 == 0 else ["bug"],
                scheduled_start=now + timedelta(hours=(n % 40) - 20) if n % 3 == 0 else None,
            )
        )
    store.upsert_tasks(tasks)
    values = Window(today=today, now=now, tz=tz).params()
    sql_scores = dict(_query(store, f"SELECT t.id, {_score_sql()} FROM tasks t", values))
    for t in tasks:
        expected = rank(
            priority=t.priority.value,
            status=t.status.value,
            labels=t.labels,
            due=t.due,
            due_all_day=t.due_all_day,
            scheduled_start=t.scheduled_start,
            today=today,
            now=now,
            tz=tz,
        ).score
        assert sql_scores[t.id] == expected, t


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ""),
        ([0, 0, 0], "▁▁▁"),
        ([0, 1, 2, 3, 4, 5, 6, 7], "▁▂▃▄▅▆▇█"),
        ([0, 1, 100], "▁▂█"),  # any count shows above zero
        ([3, 3], "██"),
    ],
)
def test_sparkline(values: list[int], expected: str) -> None:
    assert sparkline(values) == expected


@pytest.mark.parametrize(
    ("done", "total", "expected"),
    [(0, 0, "░░░░"), (0, 5, "░░░░"), (1, 4, "█░░░"), (3, 4, "███░"), (99, 100, "███░"), (4, 4, "████")],
)
def test_progress_bar(done: int, total: int, expected: str) -> None:
    assert progress_bar(done, total, width=4) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-3600, "in the future"),
        (10, "just now"),
        (720, "12 min ago"),
        (3 * 3600, "3 h ago"),
        (3 * 86400, "3 days ago"),
    ],
)
def test_ago(seconds: int, expected: str) -> None:
    assert ago(NOW - timedelta(seconds=seconds), NOW) == expected


@pytest.mark.parametrize(("ms", "expected"), [(640, "640 ms"), (1840, "1.8 s"), (125_000, "2 min 5 s")])
def test_duration_text(ms: int, expected: str) -> None:
    assert duration_text(ms) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (TODAY, "today"),
        (date(2026, 11, 25), "tomorrow"),
        (date(2026, 11, 23), "yesterday"),
        (date(2026, 11, 27), "Fri 27"),
    ],
)
def test_day_label(day: date, expected: str) -> None:
    assert day_label(day, TODAY) == expected


def test_wrap_parts_breaks_between_parts_only() -> None:
    parts = ["urgent +40", "overdue 3 days +36", "scheduled 10:00 today +15"]
    assert wrap_parts(parts, 100) == ["urgent +40 · overdue 3 days +36 · scheduled 10:00 today +15"]
    assert wrap_parts(parts, 35) == ["urgent +40 · overdue 3 days +36", "scheduled 10:00 today +15"]
    assert wrap_parts([], 10) == []


@pytest.mark.parametrize("text", ["2026-11-24", " 2026-11-24 "])
def test_parse_day(text: str) -> None:
    assert parse_day(text, TODAY) == TODAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("tomorrow", TODAY + timedelta(days=1)),
        ("yesterday", TODAY - timedelta(days=1)),
        ("Friday", TODAY + timedelta(days=(4 - TODAY.weekday() - 1) % 7 + 1)),
        ("next mon", TODAY + timedelta(days=7 - TODAY.weekday())),
    ],
)
def test_parse_day_reads_day_words(text: str, expected: date) -> None:
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["", "2026-13-01", "2026-02-30", "20261124", "2026-W48-2", "24.11.2026", "9999-12-31", "tomorrow 9"],
)
def test_parse_day_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="2026-11-24"):
        parse_day(text, TODAY)


def test_briefing_now_is_the_clock_today_and_the_morning_of_other_days() -> None:
    clock = datetime(2026, 11, 24, 20, 15, tzinfo=UTC)
    assert briefing_now(TODAY, BERLIN, clock) == clock
    assert briefing_now(date(2026, 11, 26), BERLIN, clock) == datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    # 20:15 UTC is already the 25th in Auckland: the 24th there is another day
    assert briefing_now(TODAY, AUCKLAND, clock) == local_midnight(TODAY, AUCKLAND)


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ({}, {}, []),
        ({"notion": {"enabled": True}}, {}, [Service.NOTION]),
        ({}, {"PMTUI_LINEAR_API_KEY": "k"}, [Service.LINEAR]),
        ({"linear": {"enabled": False}}, {"PMTUI_LINEAR_API_KEY": "k"}, []),
        (
            {"gitlab": {"project": "acme/web"}, "motion": {"workspace_id": "w"}},
            {},
            [Service.MOTION, Service.GITLAB],
        ),
    ],
)
def test_configured_services(
    toml: dict[str, object], env: dict[str, str], expected: list[Service], tmp_path: Path
) -> None:
    settings = load_settings(tmp_path / "absent.toml", overrides=toml)
    assert configured_services(settings, env) == expected


# ------------------------------------------------------------------------------------------ sections


def test_overdue_most_late_first_with_how_late(seeded: Store) -> None:
    b = brief(seeded)
    assert ids(b.overdue.items) == ["late3", "late_48h", "late1", "late_timed"]
    assert [i.overdue_text for i in b.overdue.items] == ["3 days", "2 days", "1 day", "2 h"]
    assert [(i.overdue_days, i.overdue_hours) for i in b.overdue.items] == [
        (3, None),
        (2, 49),
        (1, None),
        (0, 2),
    ]
    assert b.overdue.total == b.counts.overdue == 4


def test_due_today_is_disjoint_from_overdue(seeded: Store) -> None:
    b = brief(seeded)
    assert ids(b.due_today.items) == ["today_all_day", "today_noon", "today_2330"]
    row = b.due_today.items[2]
    assert row.due_at == at(24, 23, 30)
    assert row.due_at is not None
    assert row.due_at.utcoffset() == timedelta(hours=1)  # shown in Berlin time
    assert row.due_day == TODAY
    all_day_row = b.due_today.items[0]
    assert (all_day_row.due_at, all_day_row.due_day, all_day_row.project) == (None, TODAY, "App")


def test_upcoming_next_seven_days_in_day_order(seeded: Store) -> None:
    b = brief(seeded)
    assert ids(b.upcoming.items) == ["soon_1", "soon_3", "soon_7"]
    assert [i.due_day for i in b.upcoming.items] == [
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 12, 1),
    ]


def test_completed_last_seven_days_newest_first(seeded: Store) -> None:
    b = brief(seeded)
    assert ids(b.completed.items) == ["done_today", "done_late", "done_6d"]
    assert b.completed.items[0].completed_at == at(24, 7)


def test_schedule_is_today_in_slot_order(seeded: Store) -> None:
    b = brief(seeded)
    assert ids(b.schedule.items) == ["slot_a", "slot_b"]
    assert b.schedule.items[1].scheduled_start == at(24, 14)


def test_priorities_rank_with_reasons(seeded: Store) -> None:
    b = brief(seeded)
    top = b.priorities.items
    assert ids(top) == ["late3", "late1", "today_2330", "today_all_day", "late_48h"]
    assert top[0].score == 76
    assert [r.text() for r in top[0].reasons] == ["urgent (+40)", "overdue 3 days (+36)"]
    assert [r.text() for r in top[2].reasons] == ["high (+30)", "due 23:30 today (+25)"]
    assert [item.score for item in top] == sorted((item.score for item in top), reverse=True)


def test_blocked_task_ranks_below_its_peers(seeded: Store) -> None:
    b = brief(seeded, limits=Limits(priorities=50))
    scores = {item.id: item.score for item in b.priorities.items}
    assert "soon_1" not in scores  # due tomorrow (+10) but blocked (-30): not a priority today
    assert scores["slot_b"] == 15 + 5


def test_first_ref_prefers_a_key(seeded: Store) -> None:
    b = brief(seeded)
    rows = {row.id: row for row in b.overdue.items}
    assert rows["late3"].ref is not None
    assert (rows["late3"].ref.service, rows["late3"].ref.key) == ("linear", "ENG-3")
    assert rows["late3"].ref.url == "https://linear.app/acme/issue/ENG-3"
    assert rows["late1"].ref is not None
    assert rows["late1"].ref.key == "N-1"  # a key-less Notion task shows its pmtui handle
    assert rows["late_timed"].ref is None


def test_limits_keep_exact_totals(seeded: Store) -> None:
    b = brief(seeded, limits=Limits(overdue=2, due_today=1))
    assert (len(b.overdue.items), b.overdue.total) == (2, 4)
    assert (len(b.due_today.items), b.due_today.total) == (1, 3)


def test_counts(seeded: Store) -> None:
    counts = brief(seeded).counts
    assert (counts.open, counts.overdue, counts.due_today, counts.upcoming) == (15, 4, 3, 3)
    assert (counts.completed, counts.scheduled) == (3, 2)


def test_project_progress_and_trend(seeded: Store) -> None:
    b = brief(seeded)
    projects = {p.name: p for p in b.projects.items}
    web = projects["Website"]
    # Website: late3, late1, done_late, done_6d, done_7d, slot_b (+ canceled_late, excluded) -> 3 of 6
    assert (web.done, web.total) == (3, 6)
    assert len(web.trend) == 14
    assert web.trend[-1] == 0  # today
    assert web.trend[-2] == 1  # yesterday: done_late
    assert (web.trend[-7], web.trend[-8]) == (1, 1)  # 6 and 7 days ago
    assert sum(web.trend) == 3
    assert (projects["App"].done, projects["App"].total, projects["App"].trend[-1]) == (1, 3, 1)
    assert [p.name for p in b.projects.items] == ["Website", "App"]  # most completions first


@pytest.mark.parametrize("tz", [BERLIN, LOS_ANGELES, AUCKLAND], ids=str)
def test_time_zone_edges(store: Store, tz: tzinfo) -> None:
    """23:30 local today is today (even when it is tomorrow in UTC); all-day dates are UTC dates."""
    now = datetime(2026, 11, 24, 8, 0, tzinfo=tz)
    store.upsert_tasks(
        [
            task("late_evening", due=datetime(2026, 11, 24, 23, 30, tzinfo=tz), due_all_day=False),
            task("early_morning", due=datetime(2026, 11, 24, 0, 30, tzinfo=tz), due_all_day=False),
            task("all_day_today", due=all_day(24)),
            task("all_day_tomorrow", due=all_day(25)),
            task("yesterday_late", due=datetime(2026, 11, 23, 23, 30, tzinfo=tz), due_all_day=False),
            task("tomorrow_early", due=datetime(2026, 11, 25, 0, 30, tzinfo=tz), due_all_day=False),
        ]
    )
    b = brief(store, tz=tz, now=now)
    assert sorted(ids(b.due_today.items)) == ["all_day_today", "late_evening"]
    assert sorted(ids(b.overdue.items)) == ["early_morning", "yesterday_late"]  # timed and already past
    assert sorted(ids(b.upcoming.items)) == ["all_day_tomorrow", "tomorrow_early"]
    evening = next(i for i in b.due_today.items if i.id == "late_evening")
    assert evening.due_day == date(2026, 11, 24)
    if tz is LOS_ANGELES:
        assert evening.due_at is not None
        assert evening.due_at.astimezone(UTC).date() == date(2026, 11, 25)


@pytest.mark.parametrize("tz", [BERLIN, LOS_ANGELES, AUCKLAND], ids=str)
def test_schedule_and_completions_follow_the_local_day(store: Store, tz: tzinfo) -> None:
    now = datetime(2026, 11, 24, 8, 0, tzinfo=tz)
    store.upsert_projects([Project(id="p", name="P")])
    store.upsert_tasks(
        [
            task("slot_late", scheduled_start=datetime(2026, 11, 24, 23, 0, tzinfo=tz)),
            task("slot_yesterday", scheduled_start=datetime(2026, 11, 23, 23, 0, tzinfo=tz)),
            task(
                "done_0001",
                status=Status.DONE,
                project_id="p",
                completed_at=datetime(2026, 11, 24, 0, 1, tzinfo=tz),
            ),
            task(
                "done_2359",
                status=Status.DONE,
                project_id="p",
                completed_at=datetime(2026, 11, 23, 23, 59, tzinfo=tz),
            ),
        ]
    )
    b = brief(store, tz=tz, now=now)
    assert ids(b.schedule.items) == ["slot_late"]
    assert b.projects.items[0].trend[-2:] == (1, 1)


# ------------------------------------------------------------------------------------ empty and sync


def test_empty_cache(store: Store) -> None:
    b = brief(store, configured=[Service.LINEAR])
    assert b.is_empty
    assert (b.counts.open, b.overdue.items, b.projects.items) == (0, (), ())
    assert [(h.service, h.state) for h in b.sync] == [
        ("motion", "not_configured"),
        ("linear", "never_synced"),
        ("notion", "not_configured"),
        ("gitlab", "not_configured"),
    ]


def test_only_deleted_tasks_is_empty(store: Store) -> None:
    store.upsert_tasks([task("gone", deleted=True)])
    assert brief(store).is_empty


def test_a_file_without_schema_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.duckdb"
    duckdb.connect(str(path)).close()
    with Store(path, read_only=True) as store:
        assert brief(store).is_empty


def test_sync_health(seeded: Store) -> None:
    seeded.record_sync_run(
        SyncRun(
            run_id="r1",
            service=Service.LINEAR,
            started_at=at(23, 9),
            duration_ms=900,
            status="failed",
            error="boom",
        )
    )
    seeded.record_sync_run(
        SyncRun(
            run_id="r2",
            service=Service.LINEAR,
            started_at=at(24, 7, 30),
            finished_at=at(24, 7, 31),
            duration_ms=1200,
            status="ok",
        )
    )
    seeded.record_sync_run(
        SyncRun(
            run_id="r2",
            service=Service.MOTION,
            started_at=at(24, 7, 30),
            duration_ms=300,
            status="failed",
            error="429",
        )
    )
    seeded.journal_write(
        JournalEntry(request_id="q", service=Service.LINEAR, op="create", idempotency_key="a")
    )
    seeded.journal_write(
        JournalEntry(
            request_id="q",
            step=1,
            service=Service.LINEAR,
            op="update",
            idempotency_key="b",
            state=JournalState.FAILED,
        )
    )
    seeded.journal_write(
        JournalEntry(
            request_id="q",
            step=2,
            service=Service.LINEAR,
            op="x",
            idempotency_key="c",
            state=JournalState.DONE,
        )
    )
    seeded.add_conflict(Conflict(task_id="late3", service=Service.LINEAR, field="due"))
    seeded.add_conflict(
        Conflict(task_id="late1", service=Service.LINEAR, field="title", resolved_at=at(24, 7))
    )
    b = brief(seeded, configured=[Service.NOTION, Service.LINEAR])
    health = {h.service: h for h in b.sync}
    linear = health["linear"]
    assert (linear.state, linear.last_sync_at, linear.duration_ms) == ("ok", at(24, 7, 31), 1200)
    assert (linear.last_error, linear.last_error_at) == ("boom", at(23, 9))
    assert (linear.pending_steps, linear.failed_steps, linear.open_conflicts) == (1, 1, 1)
    assert (health["motion"].state, health["motion"].last_error, health["motion"].configured) == (
        "failed",
        "429",
        False,
    )
    assert health["notion"].state == "never_synced"
    assert health["gitlab"].state == "not_configured"
    assert (b.counts.conflicts, b.counts.pending_steps) == (1, 1)


# ---------------------------------------------------------------------------------------- JSON shape

TASK_KEYS = [
    "id",
    "title",
    "status",
    "priority",
    "project",
    "labels",
    "due_day",
    "due_at",
    "due_all_day",
    "scheduled_start",
    "scheduled_end",
    "completed_at",
    "ref",
]
GOLDEN_KEYS: dict[str, list[str]] = {
    "briefing": [
        "schema_version",
        "date",
        "generated_at",
        "timezone",
        "is_empty",
        "counts",
        "priorities",
        "schedule",
        "overdue",
        "due_today",
        "upcoming",
        "completed",
        "projects",
        "milestones",
        "sync",
        "gitlab_activity",
    ],
    "gitlab_activity": [
        "tasks",
        "open_merge_requests",
        "draft_merge_requests",
        "failing_pipelines",
        "running_pipelines",
    ],
    "counts": [
        "open",
        "overdue",
        "due_today",
        "upcoming",
        "completed",
        "scheduled",
        "conflicts",
        "pending_steps",
    ],
    "section": ["total", "items"],
    "priorities": ["items"],
    "task": TASK_KEYS,
    "overdue_task": [*TASK_KEYS, "overdue_days", "overdue_hours", "overdue_text"],
    "ranked_task": [*TASK_KEYS, "score", "reasons"],
    "reason": ["label", "points"],
    "ref": ["service", "key", "url"],
    "project": ["id", "name", "status", "due", "done", "total", "trend"],
    "milestones": ["total", "at_risk", "items"],
    "sync": [
        "service",
        "label",
        "configured",
        "state",
        "last_sync_at",
        "duration_ms",
        "last_error",
        "last_error_at",
        "pending_steps",
        "failed_steps",
        "open_conflicts",
    ],
}
"""The --json shape, key by key and in order: changing it means bumping SCHEMA_VERSION."""


def test_json_shape_is_stable(seeded: Store) -> None:
    data = json.loads(brief(seeded).to_json())
    shape = {
        "briefing": list(data),
        "counts": list(data["counts"]),
        "section": list(data["overdue"]),
        "priorities": list(data["priorities"]),
        "task": list(data["due_today"]["items"][0]),
        "overdue_task": list(data["overdue"]["items"][0]),
        "ranked_task": list(data["priorities"]["items"][0]),
        "reason": list(data["priorities"]["items"][0]["reasons"][0]),
        "ref": list(data["overdue"]["items"][0]["ref"]),
        "project": list(data["projects"]["items"][0]),
        "milestones": list(data["milestones"]),
        "sync": list(data["sync"][0]),
        "gitlab_activity": list(data["gitlab_activity"]),
    }
    assert shape == GOLDEN_KEYS
    assert data["schema_version"] == 1
    assert data["date"] == "2026-11-24"
    assert data["generated_at"] == "2026-11-24T08:00:00+01:00"
    assert data["overdue"]["items"][0]["due_day"] == "2026-11-21"
    assert data["priorities"]["items"][0]["reasons"][0] == {"label": "urgent", "points": 40}


def test_empty_json_has_the_same_top_level_keys(store: Store) -> None:
    data = json.loads(brief(store).to_json())
    assert list(data) == GOLDEN_KEYS["briefing"]
    assert data["is_empty"] is True


# ------------------------------------------------------------------------------------------- render


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_render_fits_the_width(seeded: Store, width: int) -> None:
    seeded.upsert_tasks([task("long", title="A very long title " * 10, due=all_day(24), project_id="web")])
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    console.print(render_briefing(brief(seeded), width=console.width))
    lines = out.getvalue().splitlines()
    assert max(cell_len(line) for line in lines) <= min(width, 100)
    text = out.getvalue()
    for expected in (
        "Top priorities",
        "Overdue (4)",
        "Due today (4)",
        "ENG-3",
        "3 days",
        "urgent +40",
        "Sync",
    ):
        assert expected in text
