"""Due-date phrases as people type them, each with the date and time it must mean.

Reference instant: Thursday 2026-12-03 10:00 in Europe/Berlin. Every phrase is checked twice: read on
its own (the whole phrase, nothing left over) and as ``task Write report due <phrase>`` through the
rule planner (the title keeps none of it). Expected values are local wall-clock times in Berlin, or a
bare date for an all-day due.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pmtui.core.agent.context import PlannerContext
from pmtui.core.agent.dates import parse_when
from pmtui.core.agent.rules import RulePlanner
from pmtui.models import CreateTask

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=BERLIN)  # Thursday
CTX = PlannerContext(now=NOW, tz=BERLIN)

PHRASES: list[tuple[str, str]] = [
    # relative days
    ("today", "2026-12-03"),
    ("tomorrow", "2026-12-04"),
    ("Tomorrow", "2026-12-04"),
    ("TOMORROW", "2026-12-04"),
    ("tmrw", "2026-12-04"),
    ("tmr", "2026-12-04"),
    ("day after tomorrow", "2026-12-05"),
    ("the day after tomorrow", "2026-12-05"),
    ("tonight", "2026-12-03 20:00"),
    ("tonight at 9", "2026-12-03 21:00"),
    ("tonight at 10pm", "2026-12-03 22:00"),
    ("this morning", "2026-12-03 09:00"),
    ("this afternoon", "2026-12-03 14:00"),
    ("this evening", "2026-12-03 18:00"),
    ("today at 5pm", "2026-12-03 17:00"),
    ("today at 17:00", "2026-12-03 17:00"),
    ("today 6pm", "2026-12-03 18:00"),
    ("tomorrow morning", "2026-12-04 09:00"),
    ("tomorrow afternoon", "2026-12-04 14:00"),
    ("tomorrow evening", "2026-12-04 18:00"),
    ("tomorrow night", "2026-12-04 20:00"),
    ("tomorrow in the morning", "2026-12-04 09:00"),
    ("tomorrow at 9", "2026-12-04 09:00"),
    ("tomorrow 9", "2026-12-04 09:00"),
    ("tomorrow 14", "2026-12-04 14:00"),
    ("tomorrow at 3pm", "2026-12-04 15:00"),
    ("tomorrow 3pm", "2026-12-04 15:00"),
    ("tomorrow, 10am", "2026-12-04 10:00"),
    ("tomorrow at 15:00", "2026-12-04 15:00"),
    ("tomorrow 15:30", "2026-12-04 15:30"),
    ("tomorrow 9am", "2026-12-04 09:00"),
    ("tomorrow at 9:30am", "2026-12-04 09:30"),
    ("tomorrow at 9.30am", "2026-12-04 09:30"),
    ("tomorrow at noon", "2026-12-04 12:00"),
    ("tomorrow noon", "2026-12-04 12:00"),
    ("tomorrow at midnight", "2026-12-04 23:59"),
    ("tomorrow midnight", "2026-12-04 23:59"),
    # weekdays: bare is the next one after today, "this" on or after today, "next" next week's
    ("fri", "2026-12-04"),
    ("friday", "2026-12-04"),
    ("Friday", "2026-12-04"),
    ("fri.", "2026-12-04"),
    ("sat", "2026-12-05"),
    ("saturday", "2026-12-05"),
    ("sun", "2026-12-06"),
    ("sunday", "2026-12-06"),
    ("mon", "2026-12-07"),
    ("monday", "2026-12-07"),
    ("tue", "2026-12-08"),
    ("tues", "2026-12-08"),
    ("tuesday", "2026-12-08"),
    ("wed", "2026-12-09"),
    ("weds", "2026-12-09"),
    ("wednesday", "2026-12-09"),
    ("thu", "2026-12-10"),
    ("thurs", "2026-12-10"),
    ("thursday", "2026-12-10"),
    ("this fri", "2026-12-04"),
    ("this thursday", "2026-12-03"),
    ("this sunday", "2026-12-06"),
    ("coming friday", "2026-12-04"),
    ("next fri", "2026-12-11"),
    ("next monday", "2026-12-07"),
    ("next thursday", "2026-12-10"),
    ("next sunday", "2026-12-13"),
    ("fri at 3pm", "2026-12-04 15:00"),
    ("fri 15:30", "2026-12-04 15:30"),
    ("friday morning", "2026-12-04 09:00"),
    ("friday evening", "2026-12-04 18:00"),
    ("fri at noon", "2026-12-04 12:00"),
    ("fri midnight", "2026-12-04 23:59"),
    ("monday at 9", "2026-12-07 09:00"),
    ("mon 9am", "2026-12-07 09:00"),
    ("sat 10", "2026-12-05 10:00"),
    ("next tuesday at 10:30", "2026-12-08 10:30"),
    # periods
    ("next week", "2026-12-07"),
    ("next week at 9am", "2026-12-07 09:00"),
    ("next weekend", "2026-12-12"),
    ("weekend", "2026-12-05"),
    ("this weekend", "2026-12-05"),
    ("end of week", "2026-12-04"),
    ("end of the week", "2026-12-04"),
    ("eow", "2026-12-04"),
    ("end of month", "2026-12-31"),
    ("end of the month", "2026-12-31"),
    ("eom", "2026-12-31"),
    ("next month", "2027-01-01"),
    ("end of year", "2026-12-31"),
    ("end of the year", "2026-12-31"),
    ("eoy", "2026-12-31"),
    # counts from today
    ("in 1 day", "2026-12-04"),
    ("in a day", "2026-12-04"),
    ("in 2 days", "2026-12-05"),
    ("in two days", "2026-12-05"),
    ("in 3 days", "2026-12-06"),
    ("in 3d", "2026-12-06"),
    ("in 10 days", "2026-12-13"),
    ("in a week", "2026-12-10"),
    ("in 1 week", "2026-12-10"),
    ("in 2 weeks", "2026-12-17"),
    ("in two weeks", "2026-12-17"),
    ("in 2w", "2026-12-17"),
    ("in 3 wks", "2026-12-24"),
    ("in 1 month", "2027-01-03"),
    ("in a month", "2027-01-03"),
    ("in 2 months", "2027-02-03"),
    ("in 6 months", "2027-06-03"),
    ("in 3 days at 5pm", "2026-12-06 17:00"),
    ("in 2 hours", "2026-12-03 12:00"),
    ("in an hour", "2026-12-03 11:00"),
    ("in 30 min", "2026-12-03 10:30"),
    ("in 45 minutes", "2026-12-03 10:45"),
    ("in 90 mins", "2026-12-03 11:30"),
    ("2 days from now", "2026-12-05"),
    ("two days from now", "2026-12-05"),
    ("3 days from today", "2026-12-06"),
    ("a week from today", "2026-12-10"),
    ("a week from now", "2026-12-10"),
    ("one week from today", "2026-12-10"),
    ("2 weeks from today", "2026-12-17"),
    ("a week from tomorrow", "2026-12-11"),
    ("2 days from tomorrow", "2026-12-06"),
    ("a month from today", "2027-01-03"),
    ("2 hours from now", "2026-12-03 12:00"),
    ("30 minutes from now", "2026-12-03 10:30"),
    # ISO dates
    ("2026-12-05", "2026-12-05"),
    ("2026-12-24", "2026-12-24"),
    ("2026-12-5", "2026-12-05"),
    ("2027-01-15", "2027-01-15"),
    ("2027-2-28", "2027-02-28"),
    ("2028-02-29", "2028-02-29"),
    ("2026-12-05T15:30", "2026-12-05 15:30"),
    ("2026-12-05 15:30", "2026-12-05 15:30"),
    ("2026-12-05 at 3pm", "2026-12-05 15:00"),
    # month names (without a year: the next one on or after today)
    ("dec 5", "2026-12-05"),
    ("Dec 5", "2026-12-05"),
    ("december 5", "2026-12-05"),
    ("December 5th", "2026-12-05"),
    ("dec 24th", "2026-12-24"),
    ("dec. 24", "2026-12-24"),
    ("dec the 24th", "2026-12-24"),
    ("5 dec", "2026-12-05"),
    ("5th dec", "2026-12-05"),
    ("24 december", "2026-12-24"),
    ("the 24th of december", "2026-12-24"),
    ("24th of dec", "2026-12-24"),
    ("dec 3", "2026-12-03"),
    ("dec 1", "2027-12-01"),
    ("jan 15", "2027-01-15"),
    ("january 1st", "2027-01-01"),
    ("feb 14", "2027-02-14"),
    ("march 3", "2027-03-03"),
    ("apr 1", "2027-04-01"),
    ("may 5", "2027-05-05"),
    ("june 30", "2027-06-30"),
    ("jul 4", "2027-07-04"),
    ("aug 15", "2027-08-15"),
    ("sept 1", "2027-09-01"),
    ("sep 30", "2027-09-30"),
    ("oct 31", "2027-10-31"),
    ("nov 30", "2027-11-30"),
    ("feb 29", "2028-02-29"),
    ("dec 5, 2027", "2027-12-05"),
    ("dec 5 2027", "2027-12-05"),
    ("5 dec 2027", "2027-12-05"),
    ("dec 5 at 9:15am", "2026-12-05 09:15"),
    ("dec 24 at 6pm", "2026-12-24 18:00"),
    ("dec 24 18:00", "2026-12-24 18:00"),
    # numeric dates: read only when one part is over 12, so the order is plain
    ("12/24", "2026-12-24"),
    ("24/12", "2026-12-24"),
    ("1/15", "2027-01-15"),
    ("15/1", "2027-01-15"),
    ("12/31", "2026-12-31"),
    ("31/12", "2026-12-31"),
    ("13/1", "2027-01-13"),
    ("2/14", "2027-02-14"),
    ("12/24/2027", "2027-12-24"),
    ("24/12/2027", "2027-12-24"),
    ("24/12/27", "2027-12-24"),
    ("12/24 at 6pm", "2026-12-24 18:00"),
    # a time alone: today when still ahead, else tomorrow
    ("at 3pm", "2026-12-03 15:00"),
    ("3pm", "2026-12-03 15:00"),
    ("6 p.m.", "2026-12-03 18:00"),
    ("at 15:00", "2026-12-03 15:00"),
    ("15:30", "2026-12-03 15:30"),
    ("at 11", "2026-12-03 11:00"),
    ("at 9", "2026-12-04 09:00"),
    ("at 9am", "2026-12-04 09:00"),
    ("9am", "2026-12-04 09:00"),
    ("7:45am", "2026-12-04 07:45"),
    ("at noon", "2026-12-03 12:00"),
    ("noon", "2026-12-03 12:00"),
    ("midday", "2026-12-03 12:00"),
    ("at midnight", "2026-12-03 23:59"),
    ("midnight", "2026-12-03 23:59"),
    ("at 8:30pm", "2026-12-03 20:30"),
    ("8pm", "2026-12-03 20:00"),
    ("at 11pm", "2026-12-03 23:00"),
    ("11:59pm", "2026-12-03 23:59"),
    ("12am", "2026-12-04 00:00"),
    ("12pm", "2026-12-03 12:00"),
    ("3pm tomorrow", "2026-12-04 15:00"),
    ("at 3pm tomorrow", "2026-12-04 15:00"),
    ("3pm on friday", "2026-12-04 15:00"),
    ("at 9 on monday", "2026-12-07 09:00"),
    ("noon on sat", "2026-12-05 12:00"),
]


def _expected(value: str) -> tuple[datetime, bool]:
    """``2026-12-05`` as an all-day due (midnight UTC); ``2026-12-05 15:30`` as Berlin wall time."""
    if " " not in value:
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    return datetime.fromisoformat(value).replace(tzinfo=BERLIN).astimezone(UTC), False


def test_the_table_is_big_enough_and_has_no_duplicates() -> None:
    phrases = [phrase for phrase, _ in PHRASES]
    assert len(phrases) >= 150
    assert len(set(phrases)) == len(phrases)


@pytest.mark.parametrize(("phrase", "expected"), PHRASES)
def test_phrase_reads_whole(phrase: str, expected: str) -> None:
    found = parse_when(phrase, NOW, BERLIN)
    assert found is not None, phrase
    assert (found.at, found.all_day) == _expected(expected)
    assert found.span == (0, len(phrase)), "the whole phrase must be read, not a part of it"


@pytest.mark.parametrize(("phrase", "expected"), PHRASES)
def test_phrase_after_due_sets_the_date_and_leaves_the_title_alone(phrase: str, expected: str) -> None:
    plan = RulePlanner().plan(f"task Write report due {phrase}", CTX)
    assert plan.error is None
    [action] = plan.actions
    assert isinstance(action, CreateTask)
    assert action.title == "Write report"
    assert (action.due, action.due_all_day) == _expected(expected)
