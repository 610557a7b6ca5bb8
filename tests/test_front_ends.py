"""Many front ends on one home at once, as real processes: `pmtui sync --watch`, the app and the commands.

Behaviour only (no timing asserts): every front end exits 0, the edit one of them makes reaches the
service and shows in the open app without a keypress, and a watch process killed with -9 leaves nothing
half-done: the next sync takes over.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

from pmtui.app import make_app
from pmtui.config import load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store, store_path
from pmtui.sandbox.runner import Sandbox, start_sandbox

HANG_GUARD = 120.0


@pytest.fixture
def sandbox(pmtui_home: Path) -> Any:
    with start_sandbox(seed="demo") as running:
        config = running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        config.write_text(config.read_text() + "\n[sync]\ninterval_seconds = 10\n")
        yield running


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1"}


def _pmtui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=HANG_GUARD,
    )


def _next_run(stream: IO[str], service: str | None = None) -> dict[str, Any]:
    """The next run line of `pmtui sync --json` (of ``service`` when given), past progress lines."""
    while True:
        text = stream.readline()
        assert text, "the watch process ended"
        line = json.loads(text)
        if "event" not in line and (service is None or line["service"] == service):
            return dict(line)


@pytest.mark.slow  # a real pmtui process (or a kill -9 of one): seconds each
async def test_watch_app_and_commands_share_one_home(
    sandbox: Sandbox, pmtui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = subprocess.Popen(
        [sys.executable, "-m", "pmtui.cli", "sync", "--watch", "--json"],
        env=_env(pmtui_home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        stdout = watcher.stdout
        first = [await asyncio.to_thread(_next_run, stdout) for _ in range(4)]
        assert {r["status"] for r in first} == {"ok"}

        monkeypatch.setenv("PMTUI_HOME", str(pmtui_home))
        monkeypatch.setenv("PMTUI_NO_KEYRING", "1")
        settings = load_settings()
        with Engine.open(settings) as engine:
            app = make_app(settings, engine, history_path=pmtui_home / "history")
            async with app.run_test() as pilot:
                await pilot.pause(0.5)
                seen_version = app.data_version
                commands = [
                    ("briefing",),
                    ("do", "--yes", "--to", "linear", "task Shared home check"),
                    ("conflicts",),
                    ("mirror",),
                    ("cache", "check"),
                ]
                done = await asyncio.gather(
                    *(asyncio.to_thread(_pmtui, pmtui_home, *command) for command in commands)
                )
                for command, result in zip(commands, done, strict=True):
                    assert result.returncode == 0, (command, result.stdout, result.stderr)
                    assert "Traceback" not in result.stderr

                # The app notices the other processes' writes by itself (no keypress).
                started = time.monotonic()
                while app.data_version == seen_version:
                    await pilot.pause(0.2)
                    assert time.monotonic() - started < HANG_GUARD
                titles = {issue["title"] for issue in sandbox.emulator("linear").state["issues"].values()}
                assert "Shared home check" in titles
                matches = await asyncio.to_thread(engine.store.find_tasks, "Shared home check")
                assert [task.title for task in matches] == ["Shared home check"]

                # The watch process's next Linear round runs (and pulls nothing twice).
                sandbox.clock.advance(120)
                later = await asyncio.to_thread(_next_run, stdout, "linear")
                assert later["status"] in ("ok", "skipped"), later

                # kill -9 of the watch process: the others carry on, the next sync takes over.
                watcher.send_signal(signal.SIGKILL)
                watcher.wait(timeout=30)
                again = await asyncio.gather(
                    asyncio.to_thread(_pmtui, pmtui_home, "sync", "--json"),
                    asyncio.to_thread(_pmtui, pmtui_home, "briefing"),
                )
                assert again[1].returncode == 0, again[1].stderr
                runs = [json.loads(line) for line in again[0].stdout.splitlines()]
                statuses = {r["service"]: r["status"] for r in runs if "event" not in r}
                assert again[0].returncode in (0, 1), again[0].stderr
                # A service the app was syncing at that moment is "skipped" (never synced twice at once).
                assert set(statuses.values()) <= {"ok", "skipped"}, runs
                assert "ok" in statuses.values()
                await pilot.press("q")
            # In-process, the app's sync thread outlives the app: let it reach its safe point (as the
            # real process's exit path does) before the engine closes.
            started = time.monotonic()
            while app.backend.syncing.is_set():
                await asyncio.sleep(0.05)
                assert time.monotonic() - started < HANG_GUARD
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait(timeout=30)
    # The next sync ends whatever run the killed watch process left "running", and nothing is doubled.
    final = _pmtui(pmtui_home, "sync", "--json")
    assert final.returncode == 0, final.stderr
    with Store(store_path(pmtui_home / "data"), read_only=True) as store:
        assert [t.title for t in store.find_tasks("Shared home check")] == ["Shared home check"]
        assert [run for run in store.sync_runs(limit=500) if run.status == "running"] == []
