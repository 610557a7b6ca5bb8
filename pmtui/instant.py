"""The instant commands, `pmtui briefing` and `pmtui conflicts`, as plain functions that return an exit code.

:mod:`pmtui.launch` calls them straight from ``sys.argv`` before Typer is imported, and the Typer
commands in :mod:`pmtui.cli` call the same functions, so both routes print the same thing. Only what
each command needs is imported, inside the function: never Typer, the TUI, the service clients or
litellm, and for the briefing not even the settings model when its stamp is current
(:mod:`pmtui.config_stamp`). Every string that came from a service is cleaned for the terminal here.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pmtui import paths
from pmtui.config_stamp import SettingsFacts, fingerprint, read_facts, write_facts
from pmtui.text import clean_line

if TYPE_CHECKING:
    from datetime import date, datetime, tzinfo

    from pmtui.core.store import Store

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CONFLICTS = 3


def _out(text: str = "") -> None:
    print(text)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def settings_facts() -> SettingsFacts:
    """The time zone and configured services: from the stamp, or from a full validation (then stamped).

    A bad settings file raises the same :class:`~pmtui.errors.ConfigError` as every other command.
    """
    config_file = paths.config_file()
    key = fingerprint(config_file)
    facts = read_facts(key)
    if facts is not None:
        return facts
    from pmtui.config import load_settings
    from pmtui.core.briefing import configured_services

    settings = load_settings(config_file)
    facts = SettingsFacts(
        timezone=settings.timezone, configured=tuple(s.value for s in configured_services(settings))
    )
    if fingerprint(config_file) == key:  # unchanged while it was read: the stamp describes what was validated
        write_facts(key, facts)
    return facts


def zone(name: str | None) -> tzinfo:
    """The named IANA zone, or the machine's own when unset (as ``Settings.tzinfo``)."""
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    from datetime import datetime

    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


def today_and_now(tz: tzinfo) -> tuple[datetime, date, datetime]:
    """The clock (UTC), today's date in ``tz`` and the briefing's "now" for today."""
    from pmtui.answers import now_utc

    clock = now_utc()
    return clock, clock.astimezone(tz).date(), clock


def _cache_generated_code(command: str) -> None:
    """Before DuckDB and Rich load: their generated methods from the cache (:mod:`pmtui.gencode`). Only
    where the cache is opened; an answer printed from the answer cache loads too little to gain."""
    from pmtui import gencode

    gencode.install(paths.cache_dir(), command)


def briefing(*, json_output: bool = False, date: str | None = None) -> int:
    """`pmtui briefing`: from the answer cache when it is current, else from the cache through DuckDB.

    A current text for this terminal (:mod:`pmtui.answers`) is printed as it is: no DuckDB, no Rich,
    not even the briefing's models. A current answer without this terminal's text is rendered with
    Rich; a miss computes as before. Either way the answer is filed for the next run. Never the TUI,
    the clients or litellm.
    """
    from pmtui import answers

    facts = settings_facts()
    tz = zone(facts.timezone)
    clock, today, now = today_and_now(tz)
    day = today
    if date is not None:
        from pmtui.core.briefing import briefing_now, parse_day

        try:
            day = parse_day(date, today)
        except ValueError as exc:
            _err(f"error: {exc}")
            return EXIT_USAGE
        now = briefing_now(day, tz, clock)
    path = answers.cache_file(paths.data_dir())
    key = answers.briefing_key(path, facts, tz=tz, day=day, today=today, clock=clock)
    term = answers.terminal_key()
    if not json_output:
        text = answers.read_text(key, term, now=now)
        if text is not None:
            sys.stdout.write(text)
            return EXIT_OK
    found = answers.read_briefing(key, now=now, tz=tz)
    fresh = found is None
    if found is not None:
        result, until = found
    else:
        is_today = day == today
        if path.exists():
            _cache_generated_code("briefing")
            from pmtui.core.store import Store

            with Store(path, read_only=True) as store:
                result, until = answers.compute_briefing(
                    store, day=day, now=now, tz=tz, configured=facts.configured, is_today=is_today
                )
        else:
            result, until = answers.compute_briefing(
                None, day=day, now=now, tz=tz, configured=facts.configured, is_today=is_today
            )
    if json_output:
        if fresh:
            answers.write_briefing(key, result, until, now=now)
        _out(result.to_json())
        return EXIT_OK
    params = answers.console_params(str(path))
    entry = answers.text_entry(result, params, now=now, valid_until=until)
    sys.stdout.write(entry["text"])
    answers.write_briefing(key, result, until, now=now, texts={term: entry})
    return EXIT_OK


def _shown(value: object) -> str:
    """A conflict's title or value on one safe line: text quoted and cut, other values as they print."""
    if isinstance(value, str):
        return f"'{clean_line(value, limit=120)}'"
    return clean_line(value, limit=120) if value is not None else "(empty)"


def conflict_answer(store: Store) -> tuple[list[Any], list[str]]:
    """The open conflicts as `pmtui conflicts` prints them: JSON rows (with titles) and text lines."""
    found = store.conflicts()
    titles = {c.task_id: (t.title if (t := store.get_task(c.task_id)) else c.task_id) for c in found}
    rows = [c.model_dump(mode="json") | {"title": titles[c.task_id]} for c in found]
    lines = [
        f"{c.service.label:<7} {_shown(titles[c.task_id])} {c.field}: base {_shown(c.base)} · "
        f"local {_shown(c.local)} · remote {_shown(c.remote)}"
        for c in found
    ]
    return rows, lines


def conflicts(*, json_output: bool = False) -> int:
    """`pmtui conflicts`: the open conflicts (the answer cache's when current); exit 3 when there are any."""
    import json

    from pmtui import answers

    path = answers.cache_file(paths.data_dir())
    if not path.exists():
        _out("no conflicts (nothing synced yet)")
        return EXIT_OK
    key = answers.make_key("conflicts", path)
    found = answers.read_conflicts(key)
    if found is None:
        _cache_generated_code("conflicts")
        from pmtui.core.store import Store

        with Store(path, read_only=True) as store:
            found = conflict_answer(store)
        answers.write_conflicts(key, *found)
    rows, lines = found
    if json_output:
        _out(json.dumps(rows, indent=2))
    elif not rows:
        _out("no open conflicts")
    else:
        for line in lines:
            _out(clean_line(line, limit=None))  # the file is not trusted: no escape reaches the terminal
        _out("resolve them with `pmtui` (press 4 for the conflicts screen)")
    return EXIT_CONFLICTS if rows else EXIT_OK
