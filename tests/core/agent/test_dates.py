"""Dates, times and durations as typed: one table row per phrasing, plus properties over any text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtui.core.agent.dates import (
    When,
    add_months,
    all_day,
    describe_when,
    describe_when_long,
    format_duration,
    match_when,
    next_weekday,
    parse_duration,
    parse_when,
)

BERLIN = ZoneInfo("Europe/Berlin")
LA = ZoneInfo("America/Los_Angeles")
AUCKLAND = ZoneInfo("Pacific/Auckland")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN)  # Tuesday
YEAR_END = datetime(2026, 12, 30, 9, 0, tzinfo=BERLIN)  # Wednesday
LA_LATE = datetime(2026, 11, 24, 23, 30, tzinfo=LA)  # already Wednesday 07:30 in UTC
AUCKLAND_NOON = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # Wednesday 12:00 in Auckland
SPRING = datetime(2027, 3, 26, 10, 0, tzinfo=BERLIN)  # Friday; clocks go forward Sunday 28 March
AUTUMN = datetime(2026, 10, 23, 10, 0, tzinfo=BERLIN)  # Friday; clocks go back Sunday 25 October
US_AUTUMN = datetime(2026, 10, 30, 12, 0, tzinfo=LA)  # Friday; US clocks go back Sunday 1 November


def day(year: int, month: int, dom: int) -> datetime:
    """An all-day due: midnight UTC of that date."""
    return datetime(year, month, dom, tzinfo=UTC)


def local(year: int, month: int, dom: int, hour: int, minute: int = 0, tz: tzinfo = BERLIN) -> datetime:
    """A local wall-clock time as the UTC instant it is."""
    return datetime(year, month, dom, hour, minute, tzinfo=tz).astimezone(UTC)


WHEN_TABLE: list[tuple[datetime, tzinfo, str, datetime, bool]] = [
    # relative days
    (NOW, BERLIN, "today", day(2026, 11, 24), True),
    (NOW, BERLIN, "tomorrow", day(2026, 11, 25), True),
    (NOW, BERLIN, "tmrw", day(2026, 11, 25), True),
    (NOW, BERLIN, "day after tomorrow", day(2026, 11, 26), True),
    (NOW, BERLIN, "tonight", local(2026, 11, 24, 20), False),
    (NOW, BERLIN, "tonight at 9", local(2026, 11, 24, 21), False),
    (NOW, BERLIN, "this afternoon", local(2026, 11, 24, 14), False),
    (NOW, BERLIN, "tomorrow morning", local(2026, 11, 25, 9), False),
    # weekdays: bare is after today, "this" on or after, "next" is next week's
    (NOW, BERLIN, "fri", day(2026, 11, 27), True),
    (NOW, BERLIN, "Friday", day(2026, 11, 27), True),
    (NOW, BERLIN, "thurs", day(2026, 11, 26), True),
    (NOW, BERLIN, "tue", day(2026, 12, 1), True),
    (NOW, BERLIN, "this tue", day(2026, 11, 24), True),
    (NOW, BERLIN, "this fri", day(2026, 11, 27), True),
    (NOW, BERLIN, "next fri", day(2026, 12, 4), True),
    (NOW, BERLIN, "next monday", day(2026, 11, 30), True),
    (NOW, BERLIN, "mon", day(2026, 11, 30), True),
    (NOW, BERLIN, "sun", day(2026, 11, 29), True),
    # periods
    (NOW, BERLIN, "next week", day(2026, 11, 30), True),
    (NOW, BERLIN, "end of week", day(2026, 11, 27), True),
    (NOW, BERLIN, "this weekend", day(2026, 11, 28), True),
    (NOW, BERLIN, "next weekend", day(2026, 12, 5), True),
    (NOW, BERLIN, "end of month", day(2026, 11, 30), True),
    (NOW, BERLIN, "end of the month", day(2026, 11, 30), True),
    (NOW, BERLIN, "eom", day(2026, 11, 30), True),
    (NOW, BERLIN, "next month", day(2026, 12, 1), True),
    (NOW, BERLIN, "end of year", day(2026, 12, 31), True),
    # counts
    (NOW, BERLIN, "in 3 days", day(2026, 11, 27), True),
    (NOW, BERLIN, "in 2 weeks", day(2026, 12, 8), True),
    (NOW, BERLIN, "in a week", day(2026, 12, 1), True),
    (NOW, BERLIN, "in two days", day(2026, 11, 26), True),
    (NOW, BERLIN, "in 1 month", day(2026, 12, 24), True),
    (NOW, BERLIN, "in 2 hours", local(2026, 11, 24, 11), False),
    (NOW, BERLIN, "in 30 min", local(2026, 11, 24, 9, 30), False),
    # calendar dates
    (NOW, BERLIN, "2026-12-05", day(2026, 12, 5), True),
    (NOW, BERLIN, "dec 5", day(2026, 12, 5), True),
    (NOW, BERLIN, "December 5th", day(2026, 12, 5), True),
    (NOW, BERLIN, "5 dec", day(2026, 12, 5), True),
    (NOW, BERLIN, "5th of december", day(2026, 12, 5), True),
    (NOW, BERLIN, "dec 5, 2027", day(2027, 12, 5), True),
    (NOW, BERLIN, "nov 1", day(2027, 11, 1), True),
    (NOW, BERLIN, "feb 29", day(2028, 2, 29), True),
    # times
    (NOW, BERLIN, "at 3pm", local(2026, 11, 24, 15), False),
    (NOW, BERLIN, "15:30", local(2026, 11, 24, 15, 30), False),
    (NOW, BERLIN, "at 8am", local(2026, 11, 25, 8), False),
    (NOW, BERLIN, "at 9", local(2026, 11, 25, 9), False),
    (NOW, BERLIN, "at noon", local(2026, 11, 24, 12), False),
    (NOW, BERLIN, "tomorrow at 3pm", local(2026, 11, 25, 15), False),
    (NOW, BERLIN, "fri 15:30", local(2026, 11, 27, 15, 30), False),
    (NOW, BERLIN, "dec 5 at 9:15am", local(2026, 12, 5, 9, 15), False),
    (NOW, BERLIN, "2026-12-05T15:30", local(2026, 12, 5, 15, 30), False),
    (NOW, BERLIN, "2026-12-05 at 12am", local(2026, 12, 5, 0), False),
    (NOW, BERLIN, "at 3pm tomorrow", local(2026, 11, 25, 15), False),
    (NOW, BERLIN, "3pm on friday", local(2026, 11, 27, 15), False),
    # month and year ends
    (YEAR_END, BERLIN, "tomorrow", day(2026, 12, 31), True),
    (YEAR_END, BERLIN, "in 3 days", day(2027, 1, 2), True),
    (YEAR_END, BERLIN, "next week", day(2027, 1, 4), True),
    (YEAR_END, BERLIN, "fri", day(2027, 1, 1), True),
    (YEAR_END, BERLIN, "end of month", day(2026, 12, 31), True),
    (YEAR_END, BERLIN, "next month", day(2027, 1, 1), True),
    (YEAR_END, BERLIN, "dec 5", day(2027, 12, 5), True),
    (YEAR_END, BERLIN, "jan 3", day(2027, 1, 3), True),
    (datetime(2027, 1, 31, 9, tzinfo=BERLIN), BERLIN, "in 1 month", day(2027, 2, 28), True),
    (datetime(2026, 11, 30, 9, tzinfo=BERLIN), BERLIN, "end of month", day(2026, 11, 30), True),
    (datetime(2026, 11, 30, 9, tzinfo=BERLIN), BERLIN, "tomorrow", day(2026, 12, 1), True),
    (datetime(2026, 11, 29, 9, tzinfo=BERLIN), BERLIN, "next week", day(2026, 11, 30), True),
    # the user's day, not UTC's
    (LA_LATE, LA, "today", day(2026, 11, 24), True),
    (LA_LATE, LA, "tomorrow", day(2026, 11, 25), True),
    (LA_LATE, LA, "tomorrow at 9am", local(2026, 11, 25, 9, tz=LA), False),
    (LA_LATE, LA, "at 11pm", local(2026, 11, 25, 23, tz=LA), False),
    (LA_LATE, UTC, "today", day(2026, 11, 25), True),
    (AUCKLAND_NOON, AUCKLAND, "today", day(2026, 11, 25), True),
    (AUCKLAND_NOON, AUCKLAND, "tomorrow at 9am", datetime(2026, 11, 25, 20, tzinfo=UTC), False),
    (AUCKLAND_NOON, AUCKLAND, "fri", day(2026, 11, 27), True),
    # daylight-saving weeks
    (SPRING, BERLIN, "mon at 9am", datetime(2027, 3, 29, 7, tzinfo=UTC), False),
    (SPRING, BERLIN, "sat at 9am", datetime(2027, 3, 27, 8, tzinfo=UTC), False),
    (SPRING, BERLIN, "sun at 2:30", datetime(2027, 3, 28, 1, 30, tzinfo=UTC), False),  # skipped hour
    (SPRING, BERLIN, "in 2 days at 10:00", datetime(2027, 3, 28, 8, tzinfo=UTC), False),
    (SPRING, BERLIN, "mon", day(2027, 3, 29), True),
    (AUTUMN, BERLIN, "sun at 2:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), False),  # first 02:30
    (AUTUMN, BERLIN, "mon at 9am", datetime(2026, 10, 26, 8, tzinfo=UTC), False),
    (US_AUTUMN, LA, "mon at 9am", datetime(2026, 11, 2, 17, tzinfo=UTC), False),
    (US_AUTUMN, LA, "this fri at 9am", datetime(2026, 10, 30, 16, tzinfo=UTC), False),
]


@pytest.mark.parametrize(("now", "tz", "text", "expected", "is_all_day"), WHEN_TABLE)
def test_parse_when(now: datetime, tz: tzinfo, text: str, expected: datetime, is_all_day: bool) -> None:
    found = parse_when(text, now, tz)
    assert found is not None
    assert (found.at, found.all_day) == (expected, is_all_day)
    assert found.at.tzinfo is UTC
    assert found.span == (0, len(text))


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("call bob tomorrow please", (9, 17), day(2026, 11, 25)),
        ("ship by fri, then rest", (8, 11), day(2026, 11, 27)),
        ("due dec 5 or so", (4, 9), day(2026, 12, 5)),
        ("frites on friday", (10, 16), day(2026, 11, 27)),
    ],
)
def test_parse_when_finds_the_first_date_and_its_span(
    text: str, span: tuple[int, int], expected: datetime
) -> None:
    assert parse_when(text, NOW, BERLIN) == When(expected, True, span)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12/5",
        "5/12/2026",
        "feb 30",
        "2026-13-01",
        "at 25:00",
        "13pm",
        "Fritz",
        "march",
        "9",
        "in 3 bananas",
        "next",
        "this",
        "0000-01-01",
    ],
)
def test_parse_when_rejects(text: str) -> None:
    assert parse_when(text, NOW, BERLIN) is None


def test_match_when_is_anchored() -> None:
    assert match_when("due fri", NOW, BERLIN) is None
    assert match_when("due fri", NOW, BERLIN, pos=4) == When(day(2026, 11, 27), True, (4, 7))


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("2h", 120),
        ("90m", 90),
        ("1h30m", 90),
        ("1h30", 90),
        ("1h 30m", 90),
        ("45 min", 45),
        ("45 minutes", 45),
        ("1.5h", 90),
        ("2 hours", 120),
        ("an hour", 60),
        ("half an hour", 30),
        ("1 hour and 15 minutes", 75),
        (" 3 hrs ", 180),
        ("0m", None),
        ("2", None),
        ("2 days", None),
        ("h", None),
        ("2h tomorrow", None),
        ("99999m", None),
    ],
)
def test_parse_duration(text: str, minutes: int | None) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(("minutes", "text"), [(120, "2h"), (90, "1h30m"), (45, "45m"), (65, "1h05m")])
def test_format_duration(minutes: int, text: str) -> None:
    assert format_duration(minutes) == text
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("today", "weekday", "mode", "expected"),
    [
        (date(2026, 11, 24), 1, "", date(2026, 12, 1)),
        (date(2026, 11, 24), 1, "this", date(2026, 11, 24)),
        (date(2026, 11, 24), 1, "next", date(2026, 12, 1)),
        (date(2026, 11, 29), 0, "", date(2026, 11, 30)),
        (date(2026, 11, 29), 0, "next", date(2026, 11, 30)),
        (date(2026, 11, 27), 4, "", date(2026, 12, 4)),
        (date(2026, 11, 27), 4, "this", date(2026, 11, 27)),
    ],
)
def test_next_weekday(today: date, weekday: int, mode: str, expected: date) -> None:
    assert next_weekday(today, weekday, mode) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_describe_when() -> None:
    today = date(2026, 11, 24)
    assert describe_when(day(2026, 11, 27), True, BERLIN, today) == "Fri 27 Nov"
    assert describe_when(day(2027, 1, 1), True, BERLIN, today) == "Fri 1 Jan 2027"
    assert describe_when(local(2026, 11, 27, 15), False, BERLIN, today) == "Fri 27 Nov 15:00"
    assert describe_when_long(day(2026, 11, 27), True, BERLIN) == "Friday 2026-11-27"
    assert describe_when_long(local(2026, 11, 27, 15), False, BERLIN) == "Friday 2026-11-27 15:00"


ZONES = st.sampled_from([UTC, BERLIN, LA, AUCKLAND, ZoneInfo("Asia/Kolkata"), ZoneInfo("Pacific/Kiritimati")])
# Hypothesis takes naive bounds and attaches the zone itself.
CLOCKS = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
DATE_WORDS = st.lists(
    st.sampled_from(
        [
            *("today", "tonight", "tomorrow", "fri", "next", "this", "week", "month", "in", "3", "a"),
            *("days", "hours", "at", "3pm", "15:30", "9", "noon", "dec", "5", "5th", "of", "2026-12-05"),
            *("T", "end", "eom", ",", "on", "morning", "evening", "12am", "99", "feb", "29", "2027"),
        ]
    ),
    max_size=8,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), DATE_WORDS), now=CLOCKS, tz=ZONES)
def test_parse_when_never_raises_and_returns_utc(text: str, now: datetime, tz: tzinfo) -> None:
    found = parse_when(text, now, tz)
    if found is not None:
        start, end = found.span
        assert 0 <= start < end <= len(text)
        assert found.at.tzinfo is UTC
        if found.all_day:
            assert (found.at.hour, found.at.minute) == (0, 0)


@settings(max_examples=200, deadline=None)
@given(text=st.text(), now=CLOCKS, tz=ZONES)
def test_parse_duration_never_raises(text: str, now: datetime, tz: tzinfo) -> None:
    minutes = parse_duration(text)
    assert minutes is None or 0 < minutes <= 60 * 24 * 30


@settings(max_examples=200, deadline=None)
@given(now=CLOCKS, tz=ZONES, days=st.integers(min_value=0, max_value=999))
def test_relative_days_count_from_the_users_today(now: datetime, tz: tzinfo, days: int) -> None:
    today = now.astimezone(tz).date()
    assert parse_when("today", now, tz) == When(all_day(today), True, (0, 5))
    found = parse_when(f"in {days} days", now, tz)
    assert found is not None
    assert found.at == all_day(today + timedelta(days=days))


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9000, 12, 31)))
def test_iso_dates_read_back(value: date) -> None:
    assert parse_when(value.isoformat(), NOW, BERLIN) == When(all_day(value), True, (0, 10))
