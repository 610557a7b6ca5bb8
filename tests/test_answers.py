"""The answer cache (issue #22): `pmtui briefing` and `pmtui conflicts` answered without DuckDB, never stale.

The oracle is always the same command with the answer file removed: whatever the cache holds, its output
must be exactly what a fresh computation prints at the same instant.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmtui import answers, instant
from pmtui.core.store import STORE_FILENAME, Store, store_path
from pmtui.models import Conflict, Priority, Service, Status, Task

START = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
ESC = "\x1b"


@pytest.fixture(autouse=True)
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("PMTUI_TIMEZONE", "Europe/Berlin")


class Clock:
    """The instant the commands see (``pmtui.answers.now_utc``)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moment = Clock(START)
    monkeypatch.setattr(answers, "now_utc", moment)
    return moment


def _run(command: str, capsys: pytest.CaptureFixture[str], **kwargs: Any) -> tuple[int, str]:
    capsys.readouterr()
    code = instant.briefing(**kwargs) if command == "briefing" else instant.conflicts(**kwargs)
    return code, capsys.readouterr().out


def _fresh(command: str, capsys: pytest.CaptureFixture[str], **kwargs: Any) -> tuple[int, str]:
    """The oracle: the command with no answer file at all (it computes from the cache)."""
    name = answers.BRIEFING_FILE if command == "briefing" else answers.CONFLICTS_FILE
    answers.answer_path(name).unlink(missing_ok=True)
    return _run(command, capsys, **kwargs)


def _both(command: str, capsys: pytest.CaptureFixture[str], **kwargs: Any) -> None:
    cached = _run(command, capsys, **kwargs)
    assert cached == _fresh(command, capsys, **kwargs)


def _task(n: int, *, due: datetime | None, all_day: bool = False, **extra: Any) -> Task:
    return Task(id=f"t{n}", title=f"Task {n}", due=due, due_all_day=all_day, **extra)


def _cache(pmtui_home: Path) -> Path:
    return store_path(pmtui_home / "data")


# ---------------------------------------------------------------------------------------- basics


def test_the_file_name_is_the_stores() -> None:
    assert answers.STORE_FILENAME == STORE_FILENAME
    path = Path("/x/data") / STORE_FILENAME
    assert answers.cache_file(Path("/x/data")) == store_path(Path("/x/data"))
    assert Store(":memory:").change_marker is None  # in-memory store: no marker, nothing to key on
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / STORE_FILENAME)
        assert store.change_marker == Path(folder) / f"{STORE_FILENAME}.changed"
        store.close()
    assert path.name == STORE_FILENAME


def test_a_second_briefing_is_answered_from_the_file(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(_cache(pmtui_home)) as store:
        store.upsert_tasks([_task(1, due=START + timedelta(hours=3), priority=Priority.HIGH)])
    first = _run("briefing", capsys)
    assert answers.answer_path(answers.BRIEFING_FILE).exists()

    def no_store(*args: object, **kwargs: object) -> None:
        raise AssertionError("a current answer must not open the cache")

    monkeypatch.setattr("pmtui.core.store.Store.__init__", no_store)
    assert _run("briefing", capsys) == first
    assert "Task 1" in first[1]


def test_the_answer_file_is_private_and_holds_no_secret(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMTUI_LINEAR_API_KEY", "lin_api_verysecret123")
    old = os.umask(0o022)
    try:
        with Store(_cache(pmtui_home)) as store:
            store.upsert_tasks([_task(1, due=START)])
            store.add_conflict(
                Conflict(task_id="t1", service=Service.LINEAR, field="title", local="a", remote="b")
            )
        _run("briefing", capsys)
        _run("conflicts", capsys)
    finally:
        os.umask(old)
    for name in (answers.BRIEFING_FILE, answers.CONFLICTS_FILE):
        path = answers.answer_path(name)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        assert "verysecret" not in path.read_text(encoding="utf-8")
    assert not list(answers.answer_path("x").parent.glob(".*.tmp"))


def test_time_passing_is_never_stale(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A timed task due in 10 minutes becomes overdue; hours late and "ago" move; midnight moves the day."""
    with Store(_cache(pmtui_home)) as store:
        store.upsert_tasks(
            [
                _task(1, due=START + timedelta(minutes=10), priority=Priority.URGENT),
                _task(2, due=START - timedelta(hours=23, minutes=30)),
                _task(3, due=START - timedelta(days=2), all_day=True),
            ]
        )
    for step in (0, 5, 9, 11, 45, 90, 24 * 60, 15 * 60 + 31, 60):
        clock.at += timedelta(minutes=step)
        _both("briefing", capsys)
        _both("briefing", capsys, json_output=True)


def test_another_day_is_keyed_by_that_day(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(_cache(pmtui_home)) as store:
        store.upsert_tasks([_task(1, due=START + timedelta(days=1), all_day=True)])
    for day in ("tomorrow", "2026-11-30", "tomorrow"):
        _both("briefing", capsys, date=day)
    today = _run("briefing", capsys)
    assert today != _run("briefing", capsys, date="tomorrow")


@contextmanager
def _home() -> Iterator[Path]:
    """A fresh PMTUI_HOME per Hypothesis example (the fixture's is shared by all of them)."""
    previous = os.environ.get("PMTUI_HOME")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["PMTUI_HOME"] = folder
        try:
            yield Path(folder)
        finally:
            if previous is None:
                os.environ.pop("PMTUI_HOME", None)
            else:
                os.environ["PMTUI_HOME"] = previous


_writes = st.tuples(
    st.integers(0, 5),  # which task
    st.integers(-3 * 24 * 60, 3 * 24 * 60),  # due, minutes from the clock
    st.booleans(),  # all day
    st.sampled_from(list(Status)),
    st.sampled_from(list(Priority)),
    st.booleans(),  # close the writer afterwards (else the next read races its lingering connection)
)
_steps = st.lists(
    st.one_of(st.tuples(st.just("write"), _writes), st.tuples(st.just("tick"), st.integers(0, 900))),
    max_size=6,
)


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_steps)
def test_any_write_or_tick_followed_by_a_briefing_is_never_stale(
    steps: list[tuple[str, Any]], clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    clock.at = START
    with _home() as home:
        writer = Store(_cache(home))
        try:
            for kind, value in steps:
                if kind == "tick":
                    clock.at += timedelta(minutes=value)
                else:
                    n, minutes, all_day, status, priority, close = value
                    due = clock.at + timedelta(minutes=minutes)
                    done = clock.at if status is Status.DONE else None
                    writer.upsert_tasks(
                        [
                            _task(
                                n,
                                due=due,
                                all_day=all_day,
                                status=status,
                                priority=priority,
                                completed_at=done,
                            )
                        ]
                    )
                    if close:
                        writer.close()
                        writer = Store(_cache(home))
                cached = _run("briefing", capsys, json_output=True)
                assert cached == _fresh("briefing", capsys, json_output=True)
                cached = _run("briefing", capsys)
                assert cached == _fresh("briefing", capsys)
        finally:
            writer.close()


def test_conflicts_follow_every_write(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _cache(pmtui_home)
    with Store(path) as store:
        store.upsert_tasks([_task(1, due=None)])
    assert _run("conflicts", capsys) == (0, "no open conflicts\n")
    with Store(path) as store:
        store.add_conflict(
            Conflict(task_id="t1", service=Service.LINEAR, field="title", local="a", remote="b")
        )
    code, out = _run("conflicts", capsys)
    assert code == 3
    assert "'Task 1' title" in out
    _both("conflicts", capsys)
    _both("conflicts", capsys, json_output=True)
    with Store(path) as store:
        (conflict,) = store.conflicts()
        store.add_conflict(conflict.model_copy(update={"resolved_at": clock.at, "resolution": "local"}))
    assert _run("conflicts", capsys) == (0, "no open conflicts\n")


# ---------------------------------------------------------------------------------------- hostile files


def _hostile_bodies(valid: dict[str, Any]) -> Iterator[bytes]:
    yield b""
    yield b"\x00\xff garbage"
    yield b"[" * 100_000
    yield json.dumps({**valid, "format": 99}).encode()
    yield json.dumps({**valid, "briefing": None}).encode()
    yield json.dumps({**valid, "briefing": {**valid["briefing"], "counts": "many"}}).encode()
    yield json.dumps({**valid, "briefing": {**valid["briefing"], "extra": 1}}).encode()
    yield json.dumps(
        {**valid, "briefing": {**valid["briefing"], "generated_at": "2026-11-24T10:00:00"}}
    ).encode()
    yield json.dumps({**valid, "valid_until": "tomorrow"}).encode()
    sync = [dict(health, state="exploded") for health in valid["briefing"]["sync"]]
    yield json.dumps({**valid, "briefing": {**valid["briefing"], "sync": sync}}).encode()
    yield b" " * (answers.MAX_BYTES + 10)


def test_a_damaged_answer_file_is_ignored(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(_cache(pmtui_home)) as store:
        store.upsert_tasks([_task(1, due=START + timedelta(hours=2))])
    expected = _run("briefing", capsys)
    path = answers.answer_path(answers.BRIEFING_FILE)
    valid = json.loads(path.read_text(encoding="utf-8"))
    for body in _hostile_bodies(valid):
        path.write_bytes(body)
        assert _run("briefing", capsys) == expected, body[:80]


def test_hostile_titles_in_a_matching_answer_never_reach_the_terminal(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone who can write the file with the right key still cannot send escapes to the terminal."""
    with Store(_cache(pmtui_home)) as store:
        store.upsert_tasks([_task(1, due=START + timedelta(hours=2), priority=Priority.HIGH)])
        store.add_conflict(
            Conflict(task_id="t1", service=Service.LINEAR, field="title", local="a", remote="b")
        )
    _run("briefing", capsys)
    _run("conflicts", capsys)
    evil = f"{ESC}]8;;https://evil.example{ESC}\\click{ESC}[2J\u202e"
    path = answers.answer_path(answers.BRIEFING_FILE)
    data = json.loads(path.read_text(encoding="utf-8"))
    filed_texts = data.pop("texts")
    assert filed_texts, "the first run filed its text"
    for section in ("priorities", "due_today"):
        for item in data["briefing"][section]["items"]:
            item["title"] = evil
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out = _run("briefing", capsys)
    assert code == 0
    assert "click" in out
    assert ESC not in out
    assert "\u202e" not in out
    code, out = _run("briefing", capsys, json_output=True)
    assert ESC not in out  # JSON escapes it
    # A filed text is printed as it is, so it is checked first: only Rich's colours and http(s) links pass.
    for term, entry in filed_texts.items():
        for bad in (evil, f"{ESC}]8;;javascript:alert(1){ESC}\\x{ESC}]8;;{ESC}\\", f"ok{ESC}[2J", "\u202e"):
            data = json.loads(path.read_text(encoding="utf-8"))
            data["texts"] = {term: entry | {"text": bad}}
            path.write_text(json.dumps(data), encoding="utf-8")
            code, out = _run("briefing", capsys)
            assert code == 0
            assert out != bad
            assert "\u202e" not in out
            assert "javascript" not in out
            assert "[2J" not in out
    conflicts = answers.answer_path(answers.CONFLICTS_FILE)
    data = json.loads(conflicts.read_text(encoding="utf-8"))
    data["lines"] = [evil]
    data["rows"][0]["title"] = evil
    conflicts.write_text(json.dumps(data), encoding="utf-8")
    for as_json in (False, True):
        code, out = _run("conflicts", capsys, json_output=as_json)
        assert code == 3
        assert ESC not in out
        assert "\u202e" not in out


def test_an_unsettled_cache_is_never_answered_from_the_file(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A write committed by a writer that still holds the file has no marker yet: the WAL says so."""
    path = _cache(pmtui_home)
    with Store(path) as store:
        store.upsert_tasks([_task(1, due=START + timedelta(hours=2))])
    assert answers.store_state(path) is not None
    writer = Store(path)
    try:
        writer.upsert_tasks([_task(2, due=START + timedelta(hours=3))])
        assert answers.store_state(path) is None
    finally:
        writer.close()
    assert answers.store_state(path) is not None
    assert "Task 2" in _run("briefing", capsys)[1]


# ---------------------------------------------------------------------------------------- engines


def test_an_engine_refresh_makes_the_next_briefing_a_hit(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _cache(pmtui_home)
    store = Store(path)
    try:
        store.upsert_tasks([_task(1, due=START + timedelta(hours=2))])
        store.close()
        store = Store(path)
        assert answers.refresh(store)
        assert not answers.refresh(store)  # already current: nothing rewritten
    finally:
        store.close()
    expected = _fresh("briefing", capsys)
    answers.answer_path(answers.BRIEFING_FILE).unlink()
    with Store(path) as engine_store:
        engine_store.upsert_tasks([_task(3, due=START + timedelta(hours=4))])
    with Store(path) as engine_store:
        answers.refresh(engine_store)

    def no_store(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine's refresh should have answered this")

    monkeypatch.setattr("pmtui.core.store.Store.__init__", no_store)
    code, out = _run("briefing", capsys)
    assert code == 0
    assert "Task 3" in out
    assert out != expected[1]
    assert _run("conflicts", capsys)[0] == 0


def test_opening_the_cache_is_not_a_change(pmtui_home: Path) -> None:
    """Every front end opens the cache read-write at start: that alone must not invalidate the answers."""
    path = _cache(pmtui_home)
    with Store(path) as store:
        store.upsert_tasks([_task(1, due=None)])
    before = answers.store_state(path)
    assert before is not None
    Store(path).close()
    assert answers.store_state(path) == before


async def test_the_app_files_the_answers_after_a_change(pmtui_home: Path) -> None:
    """Issue #22, "with an engine running": the app notices a write (any process's) and files the answers."""
    import asyncio
    import subprocess
    import sys
    import time

    from pmtui.app import make_app
    from pmtui.config import load_settings
    from pmtui.core.engine import Engine

    path = _cache(pmtui_home)
    with Store(path) as store:
        store.upsert_tasks([_task(1, due=None)])
    settings = load_settings()
    with Engine.open(settings) as engine:
        app = make_app(settings, engine, auto_sync=False, history_path=pmtui_home / "history")
        async with app.run_test() as pilot:
            await pilot.pause(0.3)
            write = (
                "import sys\n"
                "from pmtui.core.store import Store\n"
                "from pmtui.models import Task\n"
                "with Store(sys.argv[1]) as store:\n"
                "    store.upsert_tasks([Task(id='t2', title='Filed by the app')])\n"
            )
            done = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-c", write, str(path)], capture_output=True, timeout=120
            )  # another process's write, as a sync or `pmtui do` would make it
            assert done.returncode == 0, done.stderr
            answer = answers.answer_path(answers.BRIEFING_FILE)
            started = time.monotonic()
            conflicts = answers.answer_path(answers.CONFLICTS_FILE)
            while not (answer.exists() and _open_count(answer) == 2 and conflicts.exists()):
                assert time.monotonic() - started < 30, "the app never filed the new answers"
                await asyncio.sleep(0.2)
            await pilot.press("q")


def _open_count(answer: Path) -> int | None:
    try:
        return int(json.loads(answer.read_text(encoding="utf-8"))["briefing"]["counts"]["open"])
    except (ValueError, KeyError, OSError):
        return None


# ---------------------------------------------------------------------------------------- the app's start


async def _app_briefing(pmtui_home: Path, at: datetime) -> Any:
    """The briefing the app's first screen holds once it has data (the app opened as `pmtui` opens it)."""
    import asyncio
    import time

    from pmtui.app import fixed_clock, make_app
    from pmtui.config import load_settings

    app = make_app(load_settings(), clock=fixed_clock(at), auto_sync=False, history_path=pmtui_home / "h")
    try:
        async with app.run_test() as pilot:
            started = time.monotonic()
            while getattr(app.screen, "briefing", None) is None:
                assert time.monotonic() - started < 30, "the briefing never showed its data"
                await asyncio.sleep(0.01)
            shown = app.screen.briefing  # type: ignore[attr-defined]
            await pilot.press("q")
    finally:
        app.backend.engine.close()
    return shown


def _computed(pmtui_home: Path, at: datetime) -> dict[str, Any]:
    """The oracle: the briefing computed from the cache at ``at``, as a plain dict."""
    from zoneinfo import ZoneInfo

    from pmtui.config import load_settings
    from pmtui.core.briefing import build_briefing, configured_services

    tz = ZoneInfo("Europe/Berlin")
    configured = [s.value for s in configured_services(load_settings())]
    with Store(_cache(pmtui_home)) as store:
        briefing = build_briefing(store, today=at.astimezone(tz).date(), now=at, tz=tz, configured=configured)
    return briefing.to_dict()


async def test_the_apps_first_frame_is_drawn_from_the_answer_pmtui_briefing_filed(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #22's first frame: computing the briefing at 50,000 tasks takes longer than the rest of the
    frame, so a current answer is shown without a query."""
    with Store(_cache(pmtui_home)) as store:
        store.upsert_tasks(
            [
                _task(1, due=START - timedelta(days=2), priority=Priority.HIGH),
                _task(2, due=START + timedelta(hours=3)),
                _task(3, due=START + timedelta(days=3), status=Status.IN_PROGRESS),
            ]
        )
    _run("briefing", capsys)  # files the answer
    expected = _computed(pmtui_home, START)

    def no_query(*args: object, **kwargs: object) -> None:
        raise AssertionError("a current answer must not be computed again")

    monkeypatch.setattr("pmtui.core.briefing.build_briefing", no_query)
    monkeypatch.setattr("pmtui.screens.briefing.build_briefing", no_query)
    shown = await _app_briefing(pmtui_home, START)
    assert shown.to_dict() == expected
    assert [row.title for row in shown.overdue.items] == ["Task 1"]


async def test_with_a_current_answer_the_apps_very_first_frame_has_the_data(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read on the screen's mount, a current answer is in the first frame drawn. Read in a worker thread
    it took 60 ms at start (each file call waits for the GIL while the UI thread mounts), and the first
    frames showed an empty briefing."""
    from pmtui.app import fixed_clock, make_app
    from pmtui.config import load_settings

    with Store(_cache(pmtui_home)) as store:
        overdue, soon = _task(1, due=START - timedelta(days=2)), _task(2, due=START + timedelta(hours=3))
        store.upsert_tasks([overdue, soon])
    _run("briefing", capsys)  # files the answer
    app = make_app(load_settings(), clock=fixed_clock(START), auto_sync=False, history_path=pmtui_home / "h")
    frames: list[Any] = []
    display = app._display

    def recording_display(screen: Any, renderable: Any) -> None:
        frames.append(getattr(app.screen, "briefing", None))
        display(screen, renderable)

    app._display = recording_display  # type: ignore[method-assign]
    try:
        async with app.run_test() as pilot:
            await pilot.pause()
            assert frames, "the app drew no frame"
            assert frames[0] is not None, "the first frame was drawn without the briefing"
            assert frames[0].to_dict() == _computed(pmtui_home, START)
            await pilot.press("q")
    finally:
        app.backend.engine.close()


async def test_the_app_files_its_briefing_for_the_next_start_and_for_pmtui_briefing(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(_cache(pmtui_home)) as store:
        store.upsert_tasks(
            [_task(1, due=START + timedelta(hours=2)), _task(2, due=START - timedelta(days=2))]
        )
    answer = answers.answer_path(answers.BRIEFING_FILE)
    assert not answer.exists()
    shown = await _app_briefing(pmtui_home, START)
    assert answer.exists(), "the app computed its briefing but filed nothing for the next start"
    expected = _fresh("briefing", capsys)
    answers.answer_path(answers.BRIEFING_FILE).unlink()
    await _app_briefing(pmtui_home, START)

    def no_store(*args: object, **kwargs: object) -> None:
        raise AssertionError("the app's answer should have served this")

    monkeypatch.setattr("pmtui.core.store.Store.__init__", no_store)
    assert _run("briefing", capsys) == expected
    assert shown.to_dict()["counts"]["overdue"] == 1


async def test_the_apps_filed_briefing_is_never_stale_after_a_write_or_a_tick(
    pmtui_home: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each start sees a cache changed by another writer, or a clock past a due instant: what it shows
    is exactly what a computation from the cache gives at that instant."""
    with Store(_cache(pmtui_home)) as store:
        store.upsert_tasks([_task(1, due=START + timedelta(minutes=30))])
    _run("briefing", capsys)
    steps: list[tuple[datetime, Task | None]] = [
        (START, _task(2, due=START + timedelta(hours=1), priority=Priority.URGENT)),  # another writer
        (START, None),  # nothing changed: the answer the previous start filed
        (START + timedelta(minutes=45), None),  # task 1 became overdue meanwhile
        (START + timedelta(minutes=45), _task(1, due=None, status=Status.DONE)),  # completed elsewhere
        (START + timedelta(days=1), None),  # the next day
    ]
    for at, write in steps:
        if write is not None:
            with Store(_cache(pmtui_home)) as store:
                store.upsert_tasks([write])
        shown = await _app_briefing(pmtui_home, at)
        assert shown.to_dict() == _computed(pmtui_home, at), (at, write)
