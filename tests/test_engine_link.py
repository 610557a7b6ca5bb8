"""`pmtui sync` with a `pmtui sync --watch` running: the round runs in the watch, as real processes.

Before, the command synced beside the watch: a service the watch was syncing came back ``skipped``
(exit 1), and the command paid every heavy import for a round the watch could run. Behaviour only:
exit codes, runs, what the command imported, what happens when the watch dies or declines.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest

from pmtui.sandbox.runner import Sandbox, start_sandbox
from pmtui.sandbox.server import Fault
from tests.proc import launched_modules, launcher_code

HANG_GUARD = 120.0
HEAVY = {"duckdb", "pydantic", "pydantic_settings", "gql", "graphql", "gitlab", "httpx", "requests", "typer"}
"""What a quiet `pmtui sync` imports to sync by itself; the command that hands its round over needs none."""


@pytest.fixture
def sandbox(pmtui_home: Path) -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as running:
        running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        yield running


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", **extra}


@dataclass
class Watch:
    """A running `pmtui sync --watch --json`, its stdout drained into ``lines`` (a full pipe blocks it)."""

    process: subprocess.Popen[str]
    lines: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    def next_run(self, service: str | None = None) -> dict[str, Any]:
        """The next run line (of ``service`` when given), past progress lines."""
        while True:
            line = self.lines.get(timeout=HANG_GUARD)
            if "event" not in line and (service is None or line["service"] == service):
                return line


@contextlib.contextmanager
def _watching(home: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Watch]:
    """`pmtui sync --watch ARGS` with its first round done; killed at the end if it still runs."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pmtui.cli", "sync", "--watch", "--json", *args],
        env=env or _env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watch = Watch(process)

    def drain(stream: IO[str]) -> None:
        for text in stream:
            watch.lines.put(json.loads(text))

    assert process.stdout is not None
    threading.Thread(target=drain, args=(process.stdout,), daemon=True).start()
    try:
        first = [watch.next_run() for _ in range(args.count("-s") or 4)]
        assert {run["status"] for run in first} == {"ok"}, first
        yield watch
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _sync(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """`pmtui sync ARGS` through the console script's entry point (started; see :func:`_finish`)."""
    code = launcher_code(["sync", *args], top_level=True)
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env or _env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, code


@dataclass
class Done:
    code: int
    runs: list[dict[str, Any]]
    progress: list[dict[str, Any]]
    stderr: str
    modules: set[str]


def _finish(process: subprocess.Popen[str]) -> Done:
    out, err = process.communicate(timeout=HANG_GUARD)
    lines = [json.loads(line) for line in out.splitlines()]
    modules = launched_modules(err)
    return Done(
        process.returncode,
        [line for line in lines if "event" not in line],
        [line for line in lines if line.get("event") == "progress"],
        err,
        modules,
    )


def _run_sync(home: Path, *args: str, env: dict[str, str] | None = None) -> Done:
    return _finish(_sync(home, *args, env=env)[0])


def _held(lock: Path) -> bool:
    """Another process holds the flock ``lock`` right now."""
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def _wait_until(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


@pytest.mark.slow  # real pmtui processes: seconds each
def test_a_sync_while_the_watch_syncs_that_service_is_not_skipped(sandbox: Sandbox, pmtui_home: Path) -> None:
    """The defect: `pmtui sync -s linear` while the watch synced Linear came back SKIP with exit 1."""
    with _watching(pmtui_home, "-s", "linear", "--interval", "1") as watch:
        stall = Fault("latency", value=6000, count=1)  # the watch's next run waits 6 s on one request
        sandbox.emulator("linear").add_fault(stall)
        _wait_until(lambda: stall.hits == 1, "the watch syncs Linear again")
        assert _held(pmtui_home / "data" / "sync-linear.lock")
        asked = datetime.now(UTC)
        done = _run_sync(pmtui_home, "-s", "linear", "--json")
        assert done.code == 0, done.stderr
        assert [(run["service"], run["status"]) for run in done.runs] == [("linear", "ok")]
        # A run that started after the command asked: one already going may have listed before.
        assert datetime.fromisoformat(done.runs[0]["started_at"]) >= asked
        assert done.progress
        assert all(p["service"] == "linear" for p in done.progress)
        assert not HEAVY & done.modules, HEAVY & done.modules
        assert watch.process.poll() is None


@pytest.mark.slow  # real pmtui processes: seconds each
def test_the_round_syncs_a_remote_edit_and_answers_as_a_sync_here(sandbox: Sandbox, pmtui_home: Path) -> None:
    here = _run_sync(pmtui_home, "--json")  # no watch yet: this process syncs
    assert here.code == 0, here.stderr
    assert {"duckdb", "httpx"} <= here.modules
    with _watching(pmtui_home, "--interval", "3600") as watch:
        from pmtui.core.store import Store, store_path

        with Store(store_path(pmtui_home / "data")) as store:
            task = store.find_tasks("ENG-4")[0]
            ref = next(r for r in store.refs_for(task.id) if r.service.value == "linear")
        sandbox.emulator("linear").admin_mutate(
            {"op": "update", "kind": "issue", "id": ref.external_id, "fields": {"title": "Renamed"}}
        )
        sandbox.clock.advance(120)
        handed = _run_sync(pmtui_home, "--json")
        assert handed.code == here.code == 0, handed.stderr
        assert [r["service"] for r in handed.runs] == [r["service"] for r in here.runs]
        assert set(handed.runs[0]) == set(here.runs[0])
        assert all(run["status"] == "ok" for run in handed.runs)
        assert next(r for r in handed.runs if r["service"] == "linear")["pulled"] == 1
        assert not HEAVY & handed.modules
        # The watch ran them: its own output has the same runs.
        ids = {run["id"] for run in handed.runs}
        seen = {watch.next_run()["id"] for _ in ids}
        assert seen == ids
    with Store(store_path(pmtui_home / "data")) as store:
        assert [t.title for t in store.find_tasks("Renamed")] == ["Renamed"]


@pytest.mark.slow  # real pmtui processes: seconds each
def test_other_settings_or_an_unwatched_service_sync_here(sandbox: Sandbox, pmtui_home: Path) -> None:
    with _watching(pmtui_home, "-s", "linear", "--interval", "3600"):
        unwatched = _run_sync(pmtui_home, "-s", "gitlab", "--json")
        assert unwatched.code == 0, unwatched.stderr
        assert [(r["service"], r["status"]) for r in unwatched.runs] == [("gitlab", "ok")]
        assert "duckdb" in unwatched.modules  # this process synced GitLab itself

        other_zone = _run_sync(
            pmtui_home, "-s", "linear", "--json", env=_env(pmtui_home, PMTUI_TIMEZONE="Asia/Tokyo")
        )
        assert other_zone.code == 0, other_zone.stderr
        assert "duckdb" in other_zone.modules  # the watch runs with other settings: not its round

        same = _run_sync(pmtui_home, "-s", "linear", "--json")
        assert same.code == 0
        assert not HEAVY & same.modules


@pytest.mark.slow  # real pmtui processes: seconds each
def test_verbose_syncs_here_to_show_its_own_requests(sandbox: Sandbox, pmtui_home: Path) -> None:
    with _watching(pmtui_home, "-s", "linear", "--interval", "3600"):
        done = _run_sync(pmtui_home, "-s", "linear", "-v", "--json")
        assert done.code == 0, done.stderr
        assert "HTTP Request:" in done.stderr
        assert "duckdb" in done.modules


@pytest.mark.slow  # real pmtui processes: seconds each
def test_the_watch_killed_mid_round_the_command_syncs_here(sandbox: Sandbox, pmtui_home: Path) -> None:
    """kill -9 of the watch at random moments of a handed-over round: the command never hangs, says it
    syncs here, and ends with every run ok; a new watch takes the socket over.

    The kill is timed from the round's first request, not from the command's start: a round of two
    requests at 150 ms each and a delay of 0.3-1.5 s from the start missed it on a fast machine."""
    chance = random.Random(os.environ.get("PMTUI_LINK_SEED", "link"))
    linear = sandbox.emulator("linear")
    for _ in range(3):
        with _watching(pmtui_home, "-s", "linear", "--interval", "3600") as watch:
            linear.add_fault(Fault("latency", value=300, count=None))
            sandbox.clock.advance(60)
            linear.reset_counts()
            command, _ = _sync(pmtui_home, "-s", "linear", "--json")
            deadline = time.monotonic() + HANG_GUARD
            while not linear.request_counts()["total"]:  # the handed-over round's first request
                assert time.monotonic() < deadline, "the watch never began the handed-over round"
                time.sleep(0.005)
            time.sleep(chance.uniform(0, 0.25))  # inside the first of its two requests, with room to spare
            watch.process.send_signal(signal.SIGKILL)
            watch.process.wait(timeout=30)
            done = _finish(command)
            linear.clear_faults()
        assert done.code == 0, done.stderr
        assert [(r["service"], r["status"]) for r in done.runs] == [("linear", "ok")], done.stderr
        assert "syncing here" in done.stderr, done.stderr
    with _watching(pmtui_home, "-s", "linear", "--interval", "3600"):
        again = _run_sync(pmtui_home, "-s", "linear", "--json")
        assert again.code == 0, again.stderr
        assert not HEAVY & again.modules


@pytest.mark.slow  # real pmtui processes: seconds each
def test_ctrl_c_leaves_the_round_to_the_watch(sandbox: Sandbox, pmtui_home: Path) -> None:
    with _watching(pmtui_home, "-s", "linear", "--interval", "3600") as watch:
        sandbox.emulator("linear").add_fault(Fault("latency", value=200, count=None))
        command, _ = _sync(pmtui_home, "-s", "linear", "--json")
        progress = watch.lines.get(timeout=HANG_GUARD)  # the watch's own progress: the round has begun
        assert progress.get("event") == "progress", progress
        command.send_signal(signal.SIGINT)
        done = _finish(command)
        assert done.code == 130, done.stderr
        assert "finishes it on its own" in done.stderr
        assert watch.next_run("linear")["status"] == "ok"
        assert watch.process.poll() is None


@pytest.mark.slow  # real pmtui processes: seconds each
async def test_the_open_app_runs_the_round_after_its_own_sync(
    sandbox: Sandbox, pmtui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same defect with the app open: the app's own sync of Linear made the command's Linear SKIP."""
    import asyncio

    from pmtui.app import make_app
    from pmtui.config import load_settings
    from pmtui.core.engine import Engine
    from pmtui.engine_link import request_key, socket_path
    from pmtui.models import Service

    assert _run_sync(pmtui_home, "--json").code == 0  # the cache filled before the app opens
    monkeypatch.setenv("PMTUI_HOME", str(pmtui_home))
    monkeypatch.setenv("PMTUI_NO_KEYRING", "1")
    key = request_key()
    settings = load_settings()
    with Engine.open(settings) as engine:
        app = make_app(settings, engine, auto_sync=False, history_path=pmtui_home / "history", serve_key=key)
        async with app.run_test() as pilot:
            socket = socket_path()
            assert socket is not None
            while not socket.exists():  # served once the first frame is drawn
                await pilot.pause(0.05)
            stall = Fault("latency", value=6000, count=1)
            sandbox.emulator("linear").add_fault(stall)
            sandbox.clock.advance(120)
            app.start_sync([Service.LINEAR])
            while stall.hits == 0:
                await pilot.pause(0.05)
            asked = datetime.now(UTC)
            done = await asyncio.to_thread(_run_sync, pmtui_home, "-s", "linear", "--json")
            assert done.code == 0, done.stderr
            assert [(run["service"], run["status"]) for run in done.runs] == [("linear", "ok")]
            assert datetime.fromisoformat(done.runs[0]["started_at"]) >= asked
            assert not HEAVY & done.modules
            everything = await asyncio.to_thread(_run_sync, pmtui_home, "--json")
            assert everything.code == 0, everything.stderr
            assert [run["service"] for run in everything.runs] == ["linear", "gitlab", "notion", "motion"]
            assert not HEAVY & everything.modules
            await pilot.press("q")
        while app.backend.syncing.is_set():
            await asyncio.sleep(0.05)
    assert not socket.exists(), "the app removes its socket as it closes"


def test_a_deep_home_listens_in_a_private_runtime_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Unix socket's path holds about 104 bytes: a deeper home listens in ``$XDG_RUNTIME_DIR``, in a
    folder only this user may use, never in one someone else made or can write."""
    import tempfile

    from pmtui.engine_link import socket_path

    monkeypatch.setenv("PMTUI_HOME", "/h")
    assert socket_path() == Path("/h/cache/engine.sock")
    runtime = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))
    try:
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
        monkeypatch.setenv("PMTUI_HOME", str(tmp_path / ("deep" * 30)))
        deep = socket_path()
        assert deep is not None
        assert deep.parent == runtime / f"pmtui-{os.getuid()}"
        assert deep.parent.stat().st_mode & 0o777 == 0o700
        monkeypatch.setenv("PMTUI_HOME", str(tmp_path / ("other" * 30)))
        assert socket_path() not in (None, deep)  # one socket per home

        deep.parent.chmod(0o777)  # anyone may swap a socket in here: not used
        assert socket_path() is None
        deep.parent.rmdir()
        (runtime / "elsewhere").mkdir(mode=0o700)
        deep.parent.symlink_to(runtime / "elsewhere")
        assert socket_path() is None
    finally:
        import shutil

        shutil.rmtree(runtime)
