"""Dates, times and durations as people type them ("due fri", "tomorrow at 3pm", "for 1h30m").

Pure functions of the text, the clock and the user's zone, so every phrasing is a row in a test table.

Conventions (pmtui's, see ``Task.due_all_day``):

- A date without a time is *all-day*: midnight UTC of that calendar date, ``all_day=True``, because
  Linear and GitLab keep a bare date that means "that day, wherever you are".
- A date with a time is the local time in ``tz`` converted to UTC, ``all_day=False``. A local time that
  does not exist (the hour skipped when clocks go forward) is read with the offset before the change,
  so 02:30 becomes 03:30 summer time; a repeated local time (clocks go back) means its first occurrence.
- "today" is ``now.astimezone(tz).date()``: the user's day, not UTC's.
- A bare weekday (``fri``) is the next one *after* today (1 to 7 days ahead): on a Friday, "fri" is a
  week away. ``this fri`` is the one on or after today (0 to 6 days). ``next fri`` is the Friday of next
  week (the week that starts next Monday), so on a Tuesday it is 10 days away, not 3.
- ``next week`` is next Monday; ``end of week`` this week's Friday (the coming one on a weekend);
  ``next month`` the 1st of next month; ``end of month`` its last day (today on the last day).
- ``dec 5`` / ``5 dec`` without a year is the next Dec 5 on or after today.
- ISO dates (``2026-12-05``) are read, and slashed dates only when one part is over 12 (``12/24``,
  ``24/12``, ``1/15``): ``12/5`` means different days in different countries, so it is refused as
  ambiguous (:func:`date_problem` says why), never guessed.
- ``N days from now`` / ``a week from today`` count from today, ``... from tomorrow`` from tomorrow.
- A time alone (``at 3pm``) is today if that is still ahead, else tomorrow. A bare hour needs ``at``
  (``at 9`` is 09:00; after ``tonight`` or ``evening`` it is 21:00) except right after a day
  (``tomorrow 9``). ``tonight`` is today at 20:00, ``morning`` 09:00, ``afternoon`` 14:00, ``evening``
  18:00. ``midnight`` is the end of the day, 23:59, so "due fri midnight" is still Friday.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NamedTuple


class When(NamedTuple):
    """A parsed moment: aware UTC instant, whether only its date counts, and the text it came from."""

    at: datetime
    all_day: bool
    span: tuple[int, int]


_FLAGS = re.IGNORECASE | re.ASCII | re.VERBOSE
# ``re.ASCII`` keeps ``[0-9]`` and case folding to ASCII (no Kelvin sign matching "k"); word ends are
# checked separately with a Unicode-aware pattern, so "frité" is not "fri".
_WORD_CONTINUES = re.compile(r"\w")

WEEKDAYS: dict[str, int] = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
MONTHS: dict[str, int] = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
_NUMBER_WORDS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_PART_OF_DAY: dict[str, time] = {
    "morning": time(9, 0),
    "afternoon": time(14, 0),
    "evening": time(18, 0),
    "night": time(20, 0),
    "tonight": time(20, 0),
}


def _alternation(words: dict[str, int]) -> str:
    # Longest first, so "friday" is tried before "fri".
    return "|".join(sorted(words, key=len, reverse=True))


_WD = _alternation(WEEKDAYS)
_MON = _alternation(MONTHS)
_NUM = r"[0-9]{1,3}|" + _alternation(_NUMBER_WORDS)

_RELATIVE_DAY = re.compile(
    r"(?P<word>(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw|tmr)|today|tonight|tomorrow|tmrw|tmr|yesterday"
    r"|this\s+(?P<part>morning|afternoon|evening))",
    _FLAGS,
)
_WEEKDAY = re.compile(rf"(?:(?P<mod>this|next|coming)\s+)?(?P<wd>{_WD})\.?", _FLAGS)
_PERIOD = re.compile(
    r"(?P<what>next\s+weekend|next\s+week|next\s+month|(?:this\s+)?weekend"
    r"|end\s+of\s+(?:the\s+)?(?:week|month|year)|eow|eom|eoy)",
    _FLAGS,
)
_UNITS = r"(?P<unit>days|day|d|weeks|week|wks|wk|w|months|month|hours|hour|hrs|hr|h|minutes|minute|mins|min)"
_IN_UNITS = re.compile(rf"in\s+(?P<n>{_NUM})\s*{_UNITS}", _FLAGS)
_FROM_BASE = re.compile(rf"(?P<n>{_NUM})\s*{_UNITS}\s+from\s+(?P<base>today|now|tomorrow|tmrw)", _FLAGS)
"""``2 days from now``, ``a week from today``, ``3 weeks from tomorrow``."""
_ISO = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})", _FLAGS)
_NUMERIC = re.compile(r"(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})(?:/(?P<y>[0-9]{4}|[0-9]{2}))?", _FLAGS)
"""``12/24`` or ``24/12``: read only when one part is over 12, so the order cannot be mistaken."""
_MONTH_DAY = re.compile(
    rf"(?P<mon>{_MON})\.?\s+(?:the\s+)?(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>20[0-9]{{2}}))?",
    _FLAGS,
)
_DAY_MONTH = re.compile(
    rf"(?:the\s+)?(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MON})\.?(?:,?\s+(?P<y>20[0-9]{{2}}))?",
    _FLAGS,
)
_TIME = re.compile(
    r"""(?P<at>at\s+)?
    (?:
        (?P<h12>[0-9]{1,2})(?:[:.](?P<m12>[0-9]{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)
      | (?P<h24>[0-9]{1,2}):(?P<m24>[0-9]{2})
      | (?P<named>noon|midday|midnight)
      | (?P<bare>[0-9]{1,2})
    )""",
    _FLAGS,
)
_TIME_AFTER_DAY = re.compile(r"\s*,?\s*(?=at\s)|\s*,?\s+|T", _FLAGS)
_PART_AFTER_DAY = re.compile(r"\s+(?:in\s+the\s+|at\s+)?(?P<part>morning|afternoon|evening|night)", _FLAGS)
_DAY_AFTER_TIME = re.compile(r"\s*,?\s+(?:on\s+)?", _FLAGS)
_DURATION = re.compile(
    r"""(?:
        (?P<half>half\s+an?\s+hour)
      | (?P<h>[0-9]{1,3}(?:\.[0-9]{1,2})?|an?)\s*(?:hours|hour|hrs|hr|h)
        (?: (?P<hm>[0-9]{1,2})(?:minutes|minute|mins|min|m)?
          | \s*(?:and\s+)?(?P<hm2>[0-9]{1,2})\s*(?:minutes|minute|mins|min|m)
        )?
      | (?P<m>[0-9]{1,4})\s*(?:minutes|minute|mins|min|m)
    )""",
    _FLAGS,
)

MAX_DURATION_MINUTES = 60 * 24 * 30
"""The longest duration a task may carry (``Task.duration_minutes``)."""


@dataclass(frozen=True)
class _Day:
    day: date
    end: int
    default_time: time | None = None
    evening: bool = False


def _ends_word(text: str, end: int) -> bool:
    return end >= len(text) or _WORD_CONTINUES.match(text, end) is None


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word.lower())


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's end (Jan 31 + 1 month is Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def next_weekday(today: date, weekday: int, mode: str = "") -> date:
    """The day a weekday name means: bare = after today, ``this`` = on or after, ``next`` = next week."""
    if mode == "this":
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    if mode == "next":
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _relative_day(match: re.Match[str], today: date) -> _Day | None:
    word = " ".join(match["word"].lower().split()).removeprefix("the ")
    if word.startswith("day after"):
        return _Day(today + timedelta(days=2), match.end())
    if word in ("tomorrow", "tmrw", "tmr"):
        return _Day(today + timedelta(days=1), match.end())
    if word == "yesterday":
        return _Day(today - timedelta(days=1), match.end())
    if word == "tonight":
        return _Day(today, match.end(), _PART_OF_DAY["tonight"], evening=True)
    if match["part"]:
        part = match["part"].lower()
        return _Day(today, match.end(), _PART_OF_DAY[part], evening=part == "evening")
    return _Day(today, match.end())


def _end_of_month(today: date) -> date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


_PERIODS: dict[str, Callable[[date], date]] = {
    "next week": lambda today: next_weekday(today, 0, "next"),
    "next weekend": lambda today: next_weekday(today, 5, "next"),
    "weekend": lambda today: next_weekday(today, 5, "this"),
    "this weekend": lambda today: next_weekday(today, 5, "this"),
    "next month": lambda today: add_months(today.replace(day=1), 1),
    "end of week": lambda today: next_weekday(today, 4, "this"),
    "eow": lambda today: next_weekday(today, 4, "this"),
    "end of month": _end_of_month,
    "eom": _end_of_month,
    "end of year": lambda today: date(today.year, 12, 31),
    "eoy": lambda today: date(today.year, 12, 31),
}


def _period(match: re.Match[str], today: date) -> _Day | None:
    what = " ".join(match["what"].lower().split()).replace("the ", "")
    return _Day(_PERIODS[what](today), match.end())


def _weekday(match: re.Match[str], today: date) -> _Day | None:
    mode = (match["mod"] or "").lower()
    weekday = WEEKDAYS[match["wd"].lower()]
    return _Day(next_weekday(today, weekday, "" if mode == "coming" else mode), match.end())


def _days_later(start: date, count: int, unit: str) -> date | None:
    """``start`` moved by ``count`` days, weeks or months; None for hours and minutes."""
    if unit[0] not in "dwm" or unit.startswith("mi"):
        return None
    if unit.startswith("mo"):
        return add_months(start, count)
    return start + timedelta(days=count * 7 if unit[0] == "w" else count)


def _in_units(match: re.Match[str], today: date) -> _Day | None:
    count = _number(match["n"])
    later = _days_later(today, count, match["unit"].lower()) if count is not None else None
    return _Day(later, match.end()) if later else None


def _from_base(match: re.Match[str], today: date) -> _Day | None:
    count = _number(match["n"])
    start = today + timedelta(days=1) if match["base"].lower() in ("tomorrow", "tmrw") else today
    later = _days_later(start, count, match["unit"].lower()) if count is not None else None
    return _Day(later, match.end()) if later else None


def _iso(match: re.Match[str], today: date) -> _Day | None:
    year = int(match["y"])
    # Years near the ends of ``datetime``'s range would overflow when converted between zones.
    day = _safe_date(year, int(match["m"]), int(match["d"])) if 1000 <= year <= 9000 else None
    return _Day(day, match.end()) if day else None


def _next_date(today: date, month: int, number: int, year: str | None) -> date | None:
    """The day ``month``/``number`` of ``year``, or without a year the next one on or after today."""
    if year:
        full = int(year) if len(year) == 4 else 2000 + int(year)
        return _safe_date(full, month, number)
    day = _safe_date(today.year, month, number)
    if day is not None and day < today:
        return _safe_date(today.year + 1, month, number)
    if day is None and month == 2 and number == 29:
        # Feb 29 without a year: the next leap year's.
        leap = today.year + 1
        while not calendar.isleap(leap):
            leap += 1
        return date(leap, 2, 29)
    return day


def _named_month(match: re.Match[str], today: date) -> _Day | None:
    day = _next_date(today, MONTHS[match["mon"].lower()], int(match["d"]), match["y"])
    return _Day(day, match.end()) if day else None


def _numeric_order(first: int, second: int) -> tuple[int, int] | None:
    """(month, day) of ``12/24`` or ``24/12``; None when both parts could be the month."""
    if first > 12 >= second:
        return second, first
    if second > 12 >= first:
        return first, second
    return None


def _numeric(match: re.Match[str], today: date) -> _Day | None:
    order = _numeric_order(int(match["a"]), int(match["b"]))
    day = _next_date(today, order[0], order[1], match["y"]) if order else None
    return _Day(day, match.end()) if day else None


def _iso_ends(text: str, end: int) -> bool:
    return _ends_word(text, end) or text[end : end + 1] in ("T", "t")


def _numeric_ends(text: str, end: int) -> bool:
    return _ends_word(text, end) and text[end : end + 1] != "/"


_DayRule = tuple[re.Pattern[str], Callable[[re.Match[str], date], "_Day | None"], Callable[[str, int], bool]]
_DAY_RULES: tuple[_DayRule, ...] = (
    (_RELATIVE_DAY, _relative_day, _ends_word),
    (_PERIOD, _period, _ends_word),
    (_WEEKDAY, _weekday, _ends_word),
    (_IN_UNITS, _in_units, _ends_word),
    (_FROM_BASE, _from_base, _ends_word),
    (_ISO, _iso, _iso_ends),
    (_NUMERIC, _numeric, _numeric_ends),
    (_MONTH_DAY, _named_month, _ends_word),
    (_DAY_MONTH, _named_month, _ends_word),
)
"""Each way to name a day, tried in order: the first pattern that matches a whole word decides."""


def _day_at(text: str, pos: int, today: date) -> _Day | None:
    """A calendar day starting exactly at ``pos``, or None."""
    for pattern, handler, ends in _DAY_RULES:
        match = pattern.match(text, pos)
        if match and ends(text, match.end()):
            return handler(match, today)
    return None


@dataclass(frozen=True)
class _Clock:
    value: time
    end: int
    bare: bool


def _time_at(text: str, pos: int, *, evening: bool = False, after_day: bool = False) -> _Clock | None:
    """A clock time starting exactly at ``pos`` (``at 3pm``, ``15:30``, ``noon``; ``at 9``).

    A bare hour needs ``at``, except right after a day (``tomorrow 9``), where nothing else could
    follow as a number.
    """
    match = _TIME.match(text, pos)
    if not match or not _ends_word(text, match.end()):
        return None
    if match["h12"]:
        hour, minute = int(match["h12"]), int(match["m12"] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        hour = hour % 12 + (12 if match["ap"].lower().startswith("p") else 0)
        return _Clock(time(hour, minute), match.end(), bare=False)
    if match["h24"]:
        hour, minute = int(match["h24"]), int(match["m24"])
        if hour > 23 or minute > 59:
            return None
        return _Clock(time(hour, minute), match.end(), bare=False)
    if match["named"]:
        named = time(23, 59) if match["named"].lower() == "midnight" else time(12, 0)
        return _Clock(named, match.end(), bare=False)
    if not (match["at"] or after_day):
        return None
    hour = int(match["bare"])
    if hour > 23:
        return None
    if evening and 1 <= hour < 12:
        hour += 12
    return _Clock(time(hour, 0), match.end(), bare=True)


def _local_to_utc(day: date, clock: time, tz: tzinfo) -> datetime:
    # fold=0: a skipped local time uses the offset before the change; a repeated one its first instance.
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def all_day(day: date) -> datetime:
    """pmtui's all-day instant for ``day``: midnight UTC of that calendar date."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _moment_ahead(text: str, pos: int, now: datetime) -> When | None:
    """``in 2 hours``, ``30 min from now``: an instant counted from ``now``."""
    for pattern in (_IN_UNITS, _FROM_BASE):
        match = pattern.match(text, pos)
        if not match or not _ends_word(text, match.end()):
            continue
        count = _number(match["n"])
        unit = match["unit"].lower()
        if count is not None and (unit[0] == "h" or unit.startswith("mi")):
            delta = timedelta(hours=count) if unit[0] == "h" else timedelta(minutes=count)
            return When((now + delta).astimezone(UTC), False, (pos, match.end()))
    return None


def _on_day(text: str, pos: int, day: _Day, tz: tzinfo) -> When:
    """``day`` with the time of day that follows it (``tomorrow at 3pm``, ``fri morning``), if any."""
    joiner = _TIME_AFTER_DAY.match(text, day.end)
    clock = _time_at(text, joiner.end(), evening=day.evening, after_day=True) if joiner else None
    if clock is not None:
        return When(_local_to_utc(day.day, clock.value, tz), False, (pos, clock.end))
    part = _PART_AFTER_DAY.match(text, day.end)
    if part and _ends_word(text, part.end()):
        name = part["part"].lower()
        return When(_local_to_utc(day.day, _PART_OF_DAY[name], tz), False, (pos, part.end()))
    if day.default_time is not None:
        return When(_local_to_utc(day.day, day.default_time, tz), False, (pos, day.end))
    return When(all_day(day.day), True, (pos, day.end))


def match_when(text: str, now: datetime, tz: tzinfo, pos: int = 0) -> When | None:
    """The date or time that starts exactly at ``pos`` in ``text`` (the longest reading), or None."""
    today = now.astimezone(tz).date()
    ahead = _moment_ahead(text, pos, now)
    if ahead is not None:
        return ahead
    day = _day_at(text, pos, today)
    if day is not None:
        return _on_day(text, pos, day, tz)
    clock = _time_at(text, pos)
    if clock is None:
        return None
    joiner = _DAY_AFTER_TIME.match(text, clock.end)
    later = _day_at(text, joiner.end(), today) if joiner else None
    if later is not None:
        if clock.bare and later.evening:
            clock = _time_at(text, pos, evening=True) or clock
        return When(_local_to_utc(later.day, clock.value, tz), False, (pos, later.end))
    instant = _local_to_utc(today, clock.value, tz)
    if instant <= now:
        instant = _local_to_utc(today + timedelta(days=1), clock.value, tz)
    return When(instant, False, (pos, clock.end))


_ISO_SHAPE = re.compile(r"(?P<y>[0-9]{1,5})-(?P<m>[0-9]{1,3})-(?P<d>[0-9]{1,3})", _FLAGS)
_CLOCK_SHAPE = re.compile(
    r"(?:at\s+)?(?:(?P<h12>[0-9]{1,3})(?:[:.](?P<m12>[0-9]{2}))?\s*(?:a\.?m\.?|p\.?m\.?)"
    r"|(?P<h24>[0-9]{1,3}):(?P<m24>[0-9]{2}))",
    _FLAGS,
)


def _no_such_day(year: int | None, month: int, number: int) -> str:
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    where = f"{calendar.month_name[month]} {year}" if year else calendar.month_name[month]
    return f"there is no {number} {where}"


def _iso_problem(match: re.Match[str]) -> str:
    year = int(match["y"])
    if not 1000 <= year <= 9000:
        return "the year must be between 1000 and 9000"
    return _no_such_day(year, int(match["m"]), int(match["d"]))


def _numeric_problem(match: re.Match[str]) -> str:
    first, second = int(match["a"]), int(match["b"])
    order = _numeric_order(first, second)
    if order is None and first <= 12 and second <= 12:
        one = f"{calendar.month_abbr[second].lower()} {first}"
        other = f"{calendar.month_abbr[first].lower()} {second}"
        return f"could be {one} or {other}; write one of those, or an ISO date like 2026-12-05"
    if order is None:
        return "neither number is a month"
    year = match["y"]
    return _no_such_day((int(year) if len(year) == 4 else 2000 + int(year)) if year else None, *order)


def _clock_problem(match: re.Match[str]) -> str:
    if match["h12"]:
        return "an hour with am or pm goes from 1 to 12"
    return "a time goes from 00:00 to 23:59"


_PROBLEMS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str], Callable[[str, int], bool]], ...] = (
    (_ISO_SHAPE, _iso_problem, _iso_ends),
    (_NUMERIC, _numeric_problem, _numeric_ends),
    (_MONTH_DAY, lambda match: _no_such_day(None, MONTHS[match["mon"].lower()], int(match["d"])), _ends_word),
    (_DAY_MONTH, lambda match: _no_such_day(None, MONTHS[match["mon"].lower()], int(match["d"])), _ends_word),
    (_CLOCK_SHAPE, _clock_problem, _ends_word),
)


def date_problem(text: str, pos: int, now: datetime, tz: tzinfo) -> tuple[str, int] | None:
    """Why the date-shaped words at ``pos`` are not a date (``31/02``, ``2026-02-30``), and their end.

    None when nothing date-shaped starts there, or when it reads as a date after all: the planner
    asks this only where a date was expected, so that ``due 31/02`` is refused rather than kept in
    the title.
    """
    if match_when(text, now, tz, pos) is not None:
        return None
    for pattern, explain, ends in _PROBLEMS:
        match = pattern.match(text, pos)
        if match and ends(text, match.end()):
            reason = explain(match)
            verdict = "is ambiguous" if reason.startswith("could be") else "is not a date"
            return f"'{match.group()}' {verdict}: {reason}", match.end()
    return None


def parse_day_phrase(text: str, today: date) -> date | str:
    """The calendar day all of ``text`` names (``2026-12-05``, ``tomorrow``, ``fri``), or why not.

    For options that take a day (``briefing --date``): a phrase read only in part is refused.
    """
    found = _day_at(text, 0, today) if text else None
    if found is not None and found.end == len(text) and found.default_time is None:
        return found.day
    for pattern, explain, _ in _PROBLEMS:
        shaped = pattern.fullmatch(text)
        if shaped is not None:
            return explain(shaped)
    return "not a day pmtui can read"


_WORD_START = re.compile(r"(?<!\w)\w")


def parse_when(text: str, now: datetime, tz: tzinfo) -> When | None:
    """The first date or time mentioned anywhere in ``text``, with the span it came from, or None."""
    for start in _WORD_START.finditer(text):
        found = match_when(text, now, tz, start.start())
        if found is not None:
            return found
    return None


def match_duration(text: str, pos: int = 0) -> tuple[int, int] | None:
    """A duration starting exactly at ``pos``: ``(minutes, end)``, or None."""
    match = _DURATION.match(text, pos)
    if not match or not _ends_word(text, match.end()):
        return None
    if match["half"]:
        minutes = 30.0
    elif match["h"]:
        hours = _number(match["h"]) if match["h"].isalpha() else float(match["h"])
        minutes = (hours or 0) * 60 + int(match["hm"] or match["hm2"] or 0)
    else:
        minutes = int(match["m"])
    whole = round(minutes)
    if not 0 < whole <= MAX_DURATION_MINUTES:
        return None
    return whole, match.end()


def parse_duration(text: str) -> int | None:
    """Minutes in a duration such as ``2h``, ``90m``, ``1h30m``, ``45 min``, ``1.5 hours``; else None."""
    stripped = text.strip()
    found = match_duration(stripped)
    if found is None or found[1] != len(stripped):
        return None
    return found[0]


def format_duration(minutes: int) -> str:
    """``90`` as ``1h30m``, ``120`` as ``2h``, ``45`` as ``45m``."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}h{rest:02d}m"
    return f"{hours}h" if hours else f"{rest}m"


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def describe_when(at: datetime, is_all_day: bool, tz: tzinfo, today: date) -> str:
    """``Fri 27 Nov`` or ``Fri 27 Nov 15:00`` (local), with the year when it is not this year's."""
    moment = at.astimezone(UTC) if is_all_day else at.astimezone(tz)
    day = moment.date()
    text = f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]}"
    if day.year != today.year:
        text += f" {day.year}"
    if not is_all_day:
        text += f" {moment:%H:%M}"
    return text


def describe_when_long(at: datetime, is_all_day: bool, tz: tzinfo) -> str:
    """``Friday 2026-11-27`` or ``Friday 2026-11-27 15:00`` (local): unambiguous, for "I understood"."""
    moment = at.astimezone(UTC) if is_all_day else at.astimezone(tz)
    text = f"{calendar.day_name[moment.weekday()]} {moment.date().isoformat()}"
    return text if is_all_day else f"{text} {moment:%H:%M}"
