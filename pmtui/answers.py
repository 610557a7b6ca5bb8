"""The answer cache: what `pmtui briefing` and `pmtui conflicts` last showed, so the next run skips DuckDB.

Importing DuckDB alone costs more than taskwarrior's whole ``task next``, so the instant commands first
look for a small JSON file in the cache folder that holds the answer (the briefing's data, the
conflicts' rows), computed by whichever process last asked: the command itself, the app or
`pmtui sync --watch` (they refresh it after every change, so with an engine running the next briefing
is a hit). The answer is used only when its key matches exactly what the output depends on:

- **the cache file's state**: the change marker's content (every write bumps it when the writer lets go
  of the file) and the cache file's identity, size and modification time. The state only counts as
  *settled* when no WAL is waiting (a committed write not yet checkpointed) and the file is older than
  the marker, i.e. no write happened since the last bump; an unsettled cache is never answered from
  here, so a write that is committed but not yet announced cannot be hidden;
- the settings facts (time zone, configured services), the zone's current offset, the requested day and
  today's date, pmtui's version and the source files that compute the answer;
- **the time of day**, for the briefing: a timed task becomes overdue at its due instant and its
  overdue points grow per whole day late, so an entry is valid only until the earliest such instant
  (``valid_until``); what changes within that (hours late, "5 min ago", ``generated_at``) is computed
  again from the entry at read time.

The key is taken *before* the answer is computed, so a write that lands meanwhile makes the entry
stale rather than the other way round. The file is private (0600), written atomically, holds no
secret (the same data the command prints), and is distrusted on read: anything that does not decode
into exactly the expected shape is a miss, and every string still goes through :mod:`pmtui.text` when
it is shown. Deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sys
import typing
from dataclasses import MISSING, fields, is_dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmtui import __version__, paths

if TYPE_CHECKING:
    from datetime import tzinfo

    from pmtui.config_stamp import SettingsFacts
    from pmtui.core.briefing import Briefing
    from pmtui.core.store import Store

FORMAT = 1
"""Version of the files' shape; bumped when it changes (an older file is then a miss)."""
BRIEFING_FILE = "briefing-answer.json"
CONFLICTS_FILE = "conflicts-answer.json"
MAX_BYTES = 2_000_000
"""A larger file is not read at all (a briefing's answer is a few kilobytes)."""
STORE_FILENAME = "pmtui.duckdb"
"""The cache's file name (``pmtui.core.store.STORE_FILENAME``, repeated here: this module never imports
DuckDB; a test keeps the two equal)."""
MARGIN = timedelta(seconds=1)
"""An entry stops being valid this long before the instant its answer would change (float rounding)."""
_SOURCES = ("answers.py", "instant.py", "core/briefing.py", "core/activity.py", "core/milestones.py")
"""The modules that compute an answer: a change to one of them (a development checkout) is a miss."""


def cache_file(data_dir: Path) -> Path:
    """The DuckDB cache file in ``data_dir`` (as ``store_path``)."""
    return data_dir / STORE_FILENAME


def answer_path(name: str) -> Path:
    """Where an answer file lives: the cache folder, next to the settings stamp."""
    return paths.cache_dir() / name


# ------------------------------------------------------------------------------------------ the key


def store_state(db: Path) -> list[Any] | None:
    """What identifies the cache's content, or None when it is not settled (see the module docstring).

    A missing cache file is a state of its own (the first-run answer).
    """
    wal = db.with_name(db.name + ".wal")
    marker = paths.change_marker(db)
    try:
        info = db.stat()
    except FileNotFoundError:
        return None if wal.exists() else ["absent"]
    except OSError:
        return None
    try:
        if wal.stat().st_size > 0:
            return None  # a committed write not yet checkpointed: its writer still holds the file
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        with marker.open("rb") as handle:
            stamp = handle.read(200).decode("ascii", "replace")
        marked = marker.stat().st_mtime_ns
    except OSError:
        return None
    if info.st_mtime_ns >= marked:
        return None  # written since the last bump (or in the same clock tick: cannot tell)
    return [stamp, info.st_ino, info.st_size, info.st_mtime_ns]


def _code_stamp() -> list[Any]:
    root = Path(__file__).parent
    stamp: list[Any] = [__version__, FORMAT]
    for name in _SOURCES:
        try:
            info = (root / name).stat()
            stamp.append([name, info.st_mtime_ns, info.st_size])
        except OSError:
            stamp.append([name, None])
    return stamp


def make_key(kind: str, db: Path, extra: Any = None) -> str | None:
    """The digest an answer of ``kind`` is filed under, or None when the cache is not settled."""
    state = store_state(db)
    if state is None:
        return None
    body = json.dumps([kind, _code_stamp(), str(db.absolute()), state, extra], default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def zone_id(tz: tzinfo, at: datetime) -> str:
    """The zone's name and its offset now: two zones that print the same answer have the same id."""
    name = getattr(tz, "key", None) or tz.tzname(at) or str(tz)
    return f"{name}|{at.astimezone(tz).utcoffset()}"


def briefing_key(
    db: Path, facts: SettingsFacts, *, tz: tzinfo, day: date, today: date, clock: datetime
) -> str | None:
    """The key of the briefing of ``day`` as seen on ``today`` with these settings facts."""
    extra = [facts.timezone, list(facts.configured), zone_id(tz, clock), day.isoformat(), today.isoformat()]
    return make_key("briefing", db, extra)


# ------------------------------------------------------------------------------------------ the files


def _read(name: str) -> dict[str, Any] | None:
    """A file's JSON object, or None (absent, too large, not JSON, not an object, another format)."""
    try:
        fd = os.open(answer_path(name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            body = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(body) > MAX_BYTES:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def _write(name: str, payload: dict[str, Any]) -> None:
    """Replace a file atomically, private to the user; a folder that cannot be written means no cache."""
    target = answer_path(name)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            temp.unlink()
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"format": FORMAT, **payload}, handle, ensure_ascii=False, default=_plain)
        os.replace(temp, target)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            temp.unlink()


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ------------------------------------------------------------------------------------------ decoding
# The file is distrusted: it is decoded field by field against the dataclasses' own annotations, and
# anything unexpected (a missing or extra key, a wrong type, a naive datetime) raises ValueError.


def _date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("not a date")
    return date.fromisoformat(value)


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a datetime")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a datetime without its offset")
    return parsed


def _exact(kind: type) -> Any:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise ValueError(f"not a {kind.__name__}")
        return value

    return check


def _float(value: Any) -> float:
    if type(value) not in (int, float):
        raise ValueError("not a number")
    return float(value)


_T = typing.TypeVar("_T")

_SIMPLE: dict[str, Any] = {
    "str": _exact(str),
    "int": _exact(int),
    "bool": _exact(bool),
    "float": _float,
    "date": _date,
    "datetime": _datetime,
}


def _decode(annotation: str, value: Any, namespace: dict[str, Any]) -> Any:
    annotation = annotation.strip()
    if annotation.endswith("| None"):
        return None if value is None else _decode(annotation[: -len("| None")], value, namespace)
    if annotation.startswith("tuple[") and annotation.endswith(", ...]"):
        if not isinstance(value, list):
            raise ValueError("not a list")
        inner = annotation[len("tuple[") : -len(", ...]")]
        return tuple(_decode(inner, item, namespace) for item in value)
    simple = _SIMPLE.get(annotation)
    if simple is not None:
        return simple(value)
    target = namespace.get(annotation)
    if isinstance(target, type) and is_dataclass(target):
        return decode(target, value)
    choices = typing.get_args(target)
    if choices and all(isinstance(choice, str) for choice in choices):  # a Literal of strings
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {choices}")
        return value
    raise ValueError(f"cannot decode {annotation}")


def decode(cls: type[_T], value: Any) -> _T:
    """An instance of the dataclass ``cls`` from plain JSON data, checked field by field."""
    if not isinstance(value, dict):
        raise ValueError(f"{cls.__name__}: not an object")
    namespace = vars(sys.modules[cls.__module__])
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    if not set(value) <= known:
        raise ValueError(f"{cls.__name__}: unexpected keys")
    kwargs = {}
    for item in fields(cls):  # type: ignore[arg-type]
        if item.name in value:
            kwargs[item.name] = _decode(str(item.type), value[item.name], namespace)
        elif item.default is MISSING and item.default_factory is MISSING:
            raise ValueError(f"{cls.__name__}: {item.name} is missing")
    return cls(**kwargs)


# ------------------------------------------------------------------------------------------ briefing


def read_briefing(key: str | None, *, now: datetime, tz: tzinfo) -> tuple[Briefing, datetime | None] | None:
    """The cached briefing filed under ``key``, brought to ``now``, and until when it holds; None on any
    mismatch or damage."""
    if key is None:
        return None
    data = _read(BRIEFING_FILE)
    if data is None or data.get("key") != key:
        return None
    try:
        raw_until = data.get("valid_until")
        until = None if raw_until is None else _datetime(raw_until)
        if until is not None and now >= until:
            return None
        from pmtui.core.briefing import Briefing

        briefing = decode(Briefing, data.get("briefing"))
    except (ValueError, TypeError, OverflowError, RecursionError):
        return None
    return at_time(briefing, now=now, tz=tz), until


def write_briefing(
    key: str | None,
    briefing: Briefing,
    valid_until: datetime | None,
    *,
    now: datetime,
    texts: dict[str, dict[str, Any]] | None = None,
    rerender: bool = False,
) -> None:
    """File ``briefing`` under ``key`` (nothing when the cache was not settled), with its rendered texts.

    ``texts`` adds or replaces terminals' texts; the texts already filed for the same key are kept, and
    for another key every terminal seen before is rendered again from the new data (what an engine's
    refresh does), so the next `pmtui briefing` on that terminal needs neither DuckDB nor Rich.
    """
    if key is None:
        return
    old = _read(BRIEFING_FILE) or {}
    texts_before = old.get("texts")
    seen: dict[str, Any] = texts_before if isinstance(texts_before, dict) else {}
    merged: dict[str, dict[str, Any]] = {}
    for term, entry in list(seen.items())[-MAX_TERMINALS:]:
        params = _params(entry.get("params") if isinstance(entry, dict) else None)
        if params is None:
            continue
        if old.get("key") == key and isinstance(entry.get("text"), str):
            merged[term] = entry
        elif rerender:
            merged[term] = text_entry(briefing, params, now=now, valid_until=valid_until)
    merged.update(texts or {})
    payload = {"key": key, "valid_until": valid_until, "briefing": briefing.to_dict()}
    _write(BRIEFING_FILE, payload | {"texts": dict(list(merged.items())[-MAX_TERMINALS:])})


# ------------------------------------------------------------------------------------------ texts
# The rendered text of a briefing, per terminal: with it a hit imports neither the briefing's models nor
# Rich. A terminal is identified without Rich by everything Rich's console detection reads (the
# variables below, which streams are terminals and their sizes, the output's encoding); the first run on
# a terminal records what Rich decided (width, colour system, terminal or not) and every later render
# for it, in this process or an engine's, uses exactly those settings.

MAX_TERMINALS = 6
"""Terminals whose text is kept (the newest ones)."""
_RICH_ENV = (
    "COLUMNS", "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE",
    "TTY_INTERACTIVE", "TERM", "COLORTERM", "DATABRICKS_RUNTIME_VERSION",
)  # fmt: skip
_COLOR_SYSTEMS = (None, "standard", "256", "truecolor", "windows")


def terminal_key() -> str:
    """A digest of what Rich's console detection depends on, taken without importing Rich."""
    streams = []
    for fd in (0, 1, 2):
        try:
            size = tuple(os.get_terminal_size(fd))
        except (OSError, ValueError):
            size = None
        try:
            tty = os.isatty(fd)
        except OSError:
            tty = False
        streams.append([tty, size])
    env = {name: os.environ.get(name) for name in _RICH_ENV}
    encoding = getattr(sys.stdout, "encoding", None)
    body = json.dumps([sys.platform, encoding, streams, env], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _params(value: Any) -> dict[str, Any] | None:
    """Console settings from the file, only if they are exactly the expected shape."""
    if not isinstance(value, dict) or set(value) != {"width", "color_system", "terminal", "cache_path"}:
        return None
    width, color, terminal, cache_path = (
        value["width"], value["color_system"], value["terminal"], value["cache_path"],
    )  # fmt: skip
    if type(width) is not int or not 1 <= width <= 1000 or color not in _COLOR_SYSTEMS:
        return None
    if type(terminal) is not bool or not isinstance(cache_path, str):
        return None
    return value


def console_params(cache_path: str) -> dict[str, Any]:
    """What Rich decides for this process's terminal (as `pmtui briefing` has always printed)."""
    from rich.console import Console

    from pmtui.render.briefing import MAX_WIDTH

    # NO_COLOR drops every escape (colour, bold and OSC 8 links alike), so piped or plain output is text.
    console = Console(highlight=False, color_system=None if os.environ.get("NO_COLOR") else "auto")
    return {
        "width": min(console.width, MAX_WIDTH),
        "color_system": console.color_system,
        "terminal": console.is_terminal,
        "cache_path": cache_path,
    }


def render_text(briefing: Briefing, params: dict[str, Any]) -> str:
    """The briefing as printed on a terminal with ``params`` (every render goes through here)."""
    import io

    from rich.console import Console

    from pmtui.render.briefing import render_briefing

    console = Console(
        file=io.StringIO(),
        width=params["width"],
        color_system=params["color_system"],
        force_terminal=params["terminal"],
        no_color=params["color_system"] is None,
        highlight=False,
        legacy_windows=False,
        force_jupyter=False,
        force_interactive=False,
    )
    with console.capture() as captured:
        console.print(render_briefing(briefing, width=params["width"], cache_path=params["cache_path"]))
    return captured.get()


def text_entry(
    briefing: Briefing, params: dict[str, Any], *, now: datetime, valid_until: datetime | None
) -> dict[str, Any]:
    """A terminal's rendered text and until when it reads the same (see :func:`text_until`)."""
    until = text_until(briefing, now=now, valid_until=valid_until)
    return {"params": params, "text": render_text(briefing, params), "until": until}


def _ago_changes(then: datetime, now: datetime) -> datetime:
    """The next instant ``render.briefing.ago(then, now)`` reads differently."""
    seconds = (now - then).total_seconds()
    if seconds < -60:
        return then - timedelta(seconds=60)
    if seconds < 60:
        return then + timedelta(seconds=60)
    for unit, below in ((60, 3600), (3600, 86400 * 2), (86400, None)):
        if below is None or seconds < below:
            return then + timedelta(seconds=(seconds // unit + 1) * unit)
    raise AssertionError("unreachable")


def text_until(briefing: Briefing, *, now: datetime, valid_until: datetime | None) -> datetime | None:
    """Until when a briefing's rendered text stays the same: its data's validity, the next change of a
    "how long ago", and the next whole hour a timed task is late (its "5 h" and its reasons)."""
    if briefing.generated_at != now.astimezone(briefing.generated_at.tzinfo) or briefing.is_empty:
        return (
            valid_until  # another day's briefing is seen from that day's midnight: the clock does not move it
        )
    bounds = [] if valid_until is None else [valid_until]
    for health in briefing.sync:
        if health.last_sync_at is not None:
            bounds.append(_ago_changes(health.last_sync_at, now) - MARGIN)
    for item in (*briefing.overdue.items, *briefing.priorities.items):
        if item.due_at is not None and item.due_at < now:
            hours = int((now - item.due_at).total_seconds() // 3600)
            bounds.append(item.due_at + timedelta(hours=hours + 1) - MARGIN)
    return min(bounds) if bounds else None


def read_text(key: str | None, term: str, *, now: datetime) -> str | None:
    """The filed text of the briefing under ``key`` for terminal ``term``, if still current; else None.

    The text is shown only after every character that is not plain text or one of Rich's own SGR
    colour sequences and OSC 8 links has been ruled out (:func:`safe_text`).
    """
    if key is None:
        return None
    data = _read(BRIEFING_FILE)
    if data is None or data.get("key") != key:
        return None
    texts = data.get("texts")
    entry = texts.get(term) if isinstance(texts, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
        return None
    try:
        for bound in (data.get("valid_until"), entry.get("until")):
            if bound is not None and now >= _datetime(bound):
                return None
    except ValueError:
        return None
    text: str = entry["text"]
    return text if safe_text(text) else None


def safe_text(text: str) -> bool:
    """True if ``text`` holds only what the briefing's renderer writes: printable text, line breaks, SGR
    colour codes and OSC 8 links to http(s) URLs without control characters (the file is not trusted)."""
    rest = _RICH_SEQUENCE.sub("", text).replace("\n", "")
    return rest.isprintable()


_RICH_SEQUENCE = re.compile(
    r"\x1b\[[0-9;]*m|\x1b\]8;[^\x00-\x1f\x7f;]*;(?:https?://[^\x00-\x20\x7f]*)?\x1b\\"
)
"""An SGR colour sequence, or an OSC 8 link (Rich's ``id=`` parameter, an http(s) URL or none) and its end."""


def at_time(briefing: Briefing, *, now: datetime, tz: tzinfo) -> Briefing:
    """A cached briefing as it reads at ``now``: how late each task is, the ranking's reasons, the clock.

    Only what changes between an entry's computation and its ``valid_until`` is recomputed, with the
    same functions :func:`pmtui.core.briefing.build_briefing` uses, so a hit prints what a fresh
    computation would.
    """
    from pmtui.core.briefing import overdue_by, overdue_text, rank, utc_midnight

    today = briefing.date

    def due_of(item: Any) -> datetime | None:
        if item.due_at is not None:
            return item.due_at  # type: ignore[no-any-return]
        return utc_midnight(item.due_day) if item.due_day is not None else None

    late_items = []
    for item in briefing.overdue.items:
        due = due_of(item)
        late = (overdue_by(due, all_day=item.due_all_day, today=today, now=now) if due else None) or (0, None)
        late_items.append(
            replace(item, overdue_days=late[0], overdue_hours=late[1], overdue_text=overdue_text(*late))
        )
    ranked = []
    for top in briefing.priorities.items:
        ranking = rank(
            priority=top.priority,
            status=top.status,
            labels=top.labels,
            due=due_of(top),
            due_all_day=top.due_all_day,
            scheduled_start=top.scheduled_start,
            today=today,
            now=now,
            tz=tz,
        )
        ranked.append(replace(top, score=ranking.score, reasons=ranking.reasons))
    ranked.sort(key=lambda top: -top.score)
    return replace(
        briefing,
        generated_at=now.astimezone(tz),
        overdue=replace(briefing.overdue, items=tuple(late_items)),
        priorities=replace(briefing.priorities, items=tuple(ranked)),
    )


def compute_briefing(
    store: Store | None,
    *,
    day: date,
    now: datetime,
    tz: tzinfo,
    configured: tuple[str, ...],
    is_today: bool,
) -> tuple[Briefing, datetime | None]:
    """The briefing from the cache (``store`` None: no cache file) and until when it stays true."""
    from pmtui.core.briefing import build_briefing, empty_briefing, valid_until

    if store is None:
        return empty_briefing(today=day, now=now, tz=tz, configured=configured), None
    result = build_briefing(store, today=day, now=now, tz=tz, configured=configured)
    if not is_today or result.is_empty:
        return result, None  # another day is seen from its midnight: the clock does not move it
    until = valid_until(store, today=day, now=now, tz=tz)
    return result, (until - MARGIN if until is not None else None)


def _app_key(
    db: Path | None, *, timezone: str | None, configured: tuple[str, ...], now: datetime, tz: tzinfo
) -> str | None:
    """The key `pmtui briefing` uses for the cache file ``db``, built from the app's own settings and
    clock, so either front end's answer serves the other."""
    if db is None:
        return None
    from pmtui.config_stamp import SettingsFacts

    today = now.astimezone(tz).date()
    facts = SettingsFacts(timezone=timezone, configured=configured)
    return briefing_key(db, facts, tz=tz, day=today, today=today, clock=now)


def filed_app_briefing(
    db: Path | None, *, timezone: str | None, configured: tuple[str, ...], now: datetime, tz: tzinfo
) -> Briefing | None:
    """The filed answer when it is this cache's current one, else None; never queries the cache.

    A hit costs a few milliseconds (one small JSON file and a few ``stat`` calls), so the app reads it
    when its first screen mounts and draws the data in the very first frame. In a worker thread the
    same read took 60 ms while the UI thread was mounting: each file call then waits for the GIL.
    """
    key = _app_key(db, timezone=timezone, configured=configured, now=now, tz=tz)
    hit = read_briefing(key, now=now, tz=tz)
    return None if hit is None else hit[0]


def app_briefing(
    store: Store, *, timezone: str | None, configured: tuple[str, ...], now: datetime, tz: tzinfo
) -> Briefing:
    """The briefing the app's first screen shows: the filed answer when it is current, else computed
    from the cache and filed for the next start (at 50,000 tasks computing it takes longer than
    drawing the rest of the first frame)."""
    key = _app_key(store.path, timezone=timezone, configured=configured, now=now, tz=tz)
    hit = read_briefing(key, now=now, tz=tz)
    if hit is not None:
        return hit[0]
    today = now.astimezone(tz).date()
    result, until = compute_briefing(store, day=today, now=now, tz=tz, configured=configured, is_today=True)
    write_briefing(key, result, until, now=now, rerender=True)  # files nothing when the key is None
    return result


# ------------------------------------------------------------------------------------------ conflicts


def read_conflicts(key: str | None) -> tuple[list[Any], list[str]] | None:
    """The cached conflicts (their JSON rows and their printed lines), or None."""
    if key is None:
        return None
    data = _read(CONFLICTS_FILE)
    if data is None or data.get("key") != key:
        return None
    rows, lines = data.get("rows"), data.get("lines")
    if not isinstance(rows, list) or not isinstance(lines, list):
        return None
    if not all(isinstance(row, dict) for row in rows) or not all(isinstance(line, str) for line in lines):
        return None
    return rows, lines


def write_conflicts(key: str | None, rows: list[Any], lines: list[str]) -> None:
    """File the conflicts' answer under ``key`` (nothing when the cache was not settled)."""
    if key is not None:
        _write(CONFLICTS_FILE, {"key": key, "rows": rows, "lines": lines})


# ------------------------------------------------------------------------------------------ engines


def refresh(store: Store) -> bool:
    """Bring both answers up to date from a running engine's ``store``; True when one was rewritten.

    Called by the app and `pmtui sync --watch` after a change: the next `pmtui briefing` is then a hit.
    Does nothing while the cache is not settled (a writer has not let go yet: the next call will).
    """
    from pmtui.instant import conflict_answer, settings_facts, today_and_now, zone

    if store.path is None:
        return False
    db = store.path
    store.let_go()
    facts = settings_facts()
    tz = zone(facts.timezone)
    clock, today, now = today_and_now(tz)
    wrote = False
    key = briefing_key(db, facts, tz=tz, day=today, today=today, clock=clock)
    if key is not None and read_briefing(key, now=now, tz=tz) is None:
        result, until = compute_briefing(
            store, day=today, now=now, tz=tz, configured=facts.configured, is_today=True
        )
        write_briefing(key, result, until, now=now, rerender=True)
        wrote = True
    key = make_key("conflicts", db)
    if key is not None and read_conflicts(key) is None:
        rows, lines = conflict_answer(store)
        write_conflicts(key, rows, lines)
        wrote = True
    return wrote


def answers_wanted() -> bool:
    """Whether `pmtui briefing` or `pmtui conflicts` ever filed an answer here: a machine that only syncs
    (a server's cron job) then never pays for answers nobody reads."""
    return any(answer_path(name).exists() for name in (BRIEFING_FILE, CONFLICTS_FILE))


def refresh_quietly(store: Store) -> None:
    """:func:`refresh`, logging a failure instead of raising it: the write it follows has succeeded, and a
    stale answer only costs the next briefing its shortcut."""
    try:
        refresh(store)
    except Exception:  # the cache is only a shortcut: a failure must not fail the command that wrote
        logging.getLogger("pmtui.answers").warning("could not refresh the answer cache", exc_info=True)


def now_utc() -> datetime:
    """The clock (a function so tests can see one place where time enters)."""
    return datetime.now(UTC)
