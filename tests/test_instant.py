"""The instant commands (issue #22): what they import, how argv reaches them, and the settings stamp.

Behaviour only: the benchmarks (`cli.briefing_vs_task*`, `tui.first_frame`) measure the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from pmtui.config_stamp import stamp_path
from pmtui.core.store import Store, store_path
from pmtui.launch import instant_command
from pmtui.models import Priority, Task
from tests.proc import launched_modules, launcher_code

CLIENTS = ("litellm", "gql", "gitlab", "notion_client", "deltalake")
"""Never on any fast path (the issue's rule)."""
FRAMEWORKS = ("typer", "click", "textual", "pydantic", "pydantic_settings", "keyring", "httpx")
"""Not on the briefing's path either, once its settings stamp is current."""


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {
        "PMTUI_HOME": str(home),
        "PMTUI_NO_KEYRING": "1",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NO_COLOR": "1",
        **extra,
    }


def _launch(
    home: Path, argv: Sequence[str], module: str = "pmtui.launch", **extra: str
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``pmtui ARGV`` through the console script's entry point (or ``python -m MODULE``); return the
    result and what it imported."""
    done = subprocess.run(
        [sys.executable, "-c", launcher_code(list(argv), module=module)],
        capture_output=True,
        text=True,
        env=_env(home, **extra),
        timeout=120,
    )
    modules = launched_modules(done.stderr)
    return done, modules


def _python(home: Path, code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter on ``home``; it must succeed. Its output lines."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(home), timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()


@pytest.fixture
def cache(pmtui_home: Path) -> Path:
    from datetime import UTC, datetime

    path = store_path(pmtui_home / "data")
    with Store(path) as store:
        store.upsert_tasks(
            [
                Task(
                    id="a",
                    title="Fix login redirect",
                    priority=Priority.URGENT,
                    due=datetime(2026, 11, 21, tzinfo=UTC),
                ),
                Task(id="b", title="Write the guide", due=datetime(2026, 11, 24, tzinfo=UTC)),
            ]
        )
    return path


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_briefing_imports_no_framework_once_its_settings_are_stamped(cache: Path, pmtui_home: Path) -> None:
    first, first_modules = _launch(pmtui_home, ["briefing", "--date", "2026-11-24"])
    assert first.returncode == 0, first.stderr
    assert "Fix login redirect" in first.stdout
    assert not _top(first_modules) & set(CLIENTS)
    assert stamp_path().exists()
    again, modules = _launch(pmtui_home, ["briefing", "--date", "2026-11-24"])
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert not _top(modules) & {*CLIENTS, *FRAMEWORKS}, sorted(_top(modules) & {*CLIENTS, *FRAMEWORKS})


def test_python_dash_m_pmtui_takes_the_console_scripts_path(cache: Path, pmtui_home: Path) -> None:
    """``python -m pmtui`` went straight to the Typer app: every command paid for Typer, Click and Rich
    (0.26 s of CPU for `briefing` against 0.07 s through the launcher) that ``pmtui`` skips."""
    script, _ = _launch(pmtui_home, ["briefing", "--date", "2026-11-24"])
    done, modules = _launch(pmtui_home, ["briefing", "--date", "2026-11-24"], module="pmtui")
    assert done.returncode == 0, done.stderr
    assert done.stdout == script.stdout
    assert not _top(modules) & {"typer", "click", *CLIENTS}
    bad, _ = _launch(pmtui_home, ["briefing", "--jsn"], module="pmtui")
    assert bad.returncode == 2  # what Typer says about an unknown option, as through `pmtui`
    assert "--jsn" in bad.stderr


def test_briefing_json_through_the_launcher(cache: Path, pmtui_home: Path) -> None:
    done, modules = _launch(
        pmtui_home, ["--home", str(pmtui_home), "briefing", "--json", "--date=2026-11-24"]
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["overdue"] == 1
    assert not _top(modules) & {"typer", "click", *CLIENTS}


def test_conflicts_imports_no_cli_framework_or_client(cache: Path, pmtui_home: Path) -> None:
    done, modules = _launch(pmtui_home, ["conflicts"])
    assert done.returncode == 0, done.stderr
    assert "no open conflicts" in done.stdout
    assert not _top(modules) & {"typer", "click", "textual", *CLIENTS}


def test_a_config_changed_after_the_stamp_is_validated_again(cache: Path, pmtui_home: Path) -> None:
    config = pmtui_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('timezone = "Europe/Berlin"\n', encoding="utf-8")
    good, _ = _launch(pmtui_home, ["briefing"])
    assert good.returncode == 0, good.stderr
    config.write_text('timezone = "Europe/Berlin"\ncolour = "blue"\n', encoding="utf-8")
    bad, _ = _launch(pmtui_home, ["briefing"])
    assert bad.returncode == 2
    assert f"{config}:2: colour: unknown key" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_an_environment_change_is_validated_again(cache: Path, pmtui_home: Path) -> None:
    good, _ = _launch(pmtui_home, ["briefing"], PMTUI_TIMEZONE="Europe/Berlin")
    assert good.returncode == 0, good.stderr
    bad, _ = _launch(pmtui_home, ["briefing"], PMTUI_TIMEZONE="Mars/Olympus")
    assert bad.returncode == 2
    assert "PMTUI_TIMEZONE" in bad.stderr
    assert "unknown time zone" in bad.stderr


def test_the_stamp_holds_no_secret(cache: Path, pmtui_home: Path) -> None:
    done, _ = _launch(pmtui_home, ["briefing"], PMTUI_LINEAR_API_KEY="lin_api_verysecret123")
    assert done.returncode == 0, done.stderr
    text = stamp_path().read_text(encoding="utf-8")
    assert "verysecret" not in text
    assert json.loads(text)["configured"] == ["linear"]


def test_first_frame_of_the_app_imports_no_client_library(pmtui_home: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from pmtui.app import make_app\n"
        "from pmtui.config import load_settings\n"
        "async def main():\n"
        "    app = make_app(load_settings(), auto_sync=False)\n"
        "    async with app.run_test(size=(100, 30)) as pilot:\n"
        "        await pilot.pause()\n"
        "        await app.workers.wait_for_complete()\n"
        "        await pilot.pause()\n"
        "asyncio.run(main())\n"
        f"print(sorted(m for m in {CLIENTS!r} if m in sys.modules))\n"
    )
    assert _python(pmtui_home, code)[-1] == "[]"


def test_the_first_frame_shows_the_filed_briefing_before_the_cache_is_opened(
    cache: Path, pmtui_home: Path
) -> None:
    """Issue #22: the first frame is drawn from the filed answer; importing DuckDB and opening the cache
    (about 0.13 s) came before it all the same, and now come after it."""
    assert _launch(pmtui_home, ["briefing"])[0].returncode == 0  # files the answer
    code = (
        "import asyncio, sys\n"
        "from pmtui.app import make_app\n"
        "from pmtui.config import load_settings\n"
        "from pmtui.screens.briefing import BriefingScreen\n"
        "seen = []\n"
        "show = BriefingScreen._show\n"
        "def spy(self, briefing):\n"
        "    seen.append(('duckdb' in sys.modules, self.backend.engine_open, briefing.is_empty))\n"
        "    show(self, briefing)\n"
        "BriefingScreen._show = spy\n"
        "async def main():\n"
        "    app = make_app(load_settings(), auto_sync=False)\n"
        "    async with app.run_test(size=(100, 30)) as pilot:\n"
        "        for _ in range(100):\n"
        "            await pilot.pause(0.05)\n"
        "            await app.workers.wait_for_complete()\n"
        "            if app.status.tasks:\n"
        "                break\n"
        "        print(seen[0])\n"
        "        print(app.backend.engine_open, 'duckdb' in sys.modules, app.status.tasks)\n"
        "asyncio.run(main())\n"
    )
    first, later = _python(pmtui_home, code)[-2:]
    assert first == "(False, False, False)"  # the data (not empty), with no DuckDB and no cache open
    assert later == "True True 2"  # then opened, and the status line read from it


def test_the_app_imports_the_other_screens_at_its_first_rest_not_before_its_first_frame(
    pmtui_home: Path,
) -> None:
    """Only the briefing draws the first frame; the board, sync and conflicts screens' modules (35-50 ms)
    are imported once the app is at rest, so neither the first frame nor, usually, a first visit waits."""
    code = (
        "import asyncio, sys\n"
        "from pmtui.app import make_app\n"
        "from pmtui.config import load_settings\n"
        "SCREENS = ('pmtui.screens.board', 'pmtui.screens.sync_status', 'pmtui.screens.conflicts')\n"
        "async def main():\n"
        "    app = make_app(load_settings(), auto_sync=False)\n"
        "    now = [0.0]\n"
        "    app._collector._clock = lambda: now[0]  # only this script moves the app's idea of rest\n"
        "    app._collector.touched()\n"
        "    async with app.run_test(size=(100, 30)) as pilot:\n"
        "        await pilot.pause()\n"
        "        await app.workers.wait_for_complete()\n"
        "        await pilot.pause(1.5)  # the once-a-second check runs, and finds no rest\n"
        "        assert getattr(app.screen, 'briefing', None) is not None\n"
        "        print(sorted(m for m in SCREENS if m in sys.modules))\n"
        "        now[0] = 60.0\n"
        "        for _ in range(50):\n"
        "            await pilot.pause(0.1)\n"
        "            if all(m in sys.modules for m in SCREENS):\n"
        "                break\n"
        "        print(sorted(m for m in SCREENS if m in sys.modules))\n"
        "        await pilot.press('2')\n"
        "        await pilot.pause()\n"
        "        print(type(app.screen).__name__)\n"
        "asyncio.run(main())\n"
    )
    before, after, shown = _python(pmtui_home, code)[-3:]
    assert before == "[]"
    assert after == "['pmtui.screens.board', 'pmtui.screens.conflicts', 'pmtui.screens.sync_status']"
    assert shown == "BoardScreen"


@pytest.mark.parametrize(
    ("argv", "fast"),
    [
        (["briefing"], True),
        (["briefing", "--json", "--date", "2026-11-24"], True),
        (["--home", "/tmp/h", "-v", "briefing", "--date=2026-11-24"], True),
        (["conflicts"], True),
        (["conflicts", "--json"], True),
        ([], True),
        (["-v"], True),
        (["briefing", "--refresh"], False),
        (["briefing", "--help"], False),
        (["briefing", "--date"], False),
        (["briefing", "--jsn"], False),
        (["conflicts", "extra"], False),
        (["--version"], False),
        (["--home"], False),
        (["sync"], True),
        (["-v", "sync", "--json", "-s", "Linear", "--service=gitlab", "-v"], True),
        (["sync", "--watch"], False),
        (["sync", "--interval", "5"], False),
        (["sync", "-s", "jira"], False),
        (["sync", "--service"], False),
        (["sync", "--help"], False),
        (["do", "what is due today?"], False),
    ],
)
def test_which_command_lines_skip_typer(argv: list[str], fast: bool) -> None:
    assert (instant_command(argv) is not None) is fast


def test_a_current_answer_imports_neither_duckdb_nor_rich(cache: Path, pmtui_home: Path) -> None:
    """Issue #22: the second `pmtui briefing` on the same terminal prints the filed text as it is."""
    first, first_modules = _launch(pmtui_home, ["briefing"])
    assert first.returncode == 0, first.stderr
    assert "duckdb" in _top(first_modules)
    again, modules = _launch(pmtui_home, ["briefing"])
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    heavy = _top(modules) & {"duckdb", "rich", "pyarrow", *CLIENTS, *FRAMEWORKS}
    assert not heavy, sorted(heavy)
    assert "pmtui.core.briefing" not in modules


def _write_task(home: Path, title: str, *, through_engine: bool) -> None:
    """Retitle task "a" in another process: through an engine as pmtui's commands do, or a bare store."""
    code = (
        "from pmtui.config import load_settings\n"
        "from pmtui.core.engine import Engine\n"
        "from pmtui.core.store import Store, store_path\n"
        "from pmtui import paths\n"
        f"title = {title!r}\n"
        f"if {through_engine!r}:\n"
        "    with Engine.open(load_settings()) as engine:\n"
        "        task = engine.store.get_task('a')\n"
        "        engine.store.upsert_tasks([task.model_copy(update={'title': title})])\n"
        "else:\n"
        "    with Store(store_path(paths.data_dir())) as store:\n"
        "        task = store.get_task('a')\n"
        "        store.upsert_tasks([task.model_copy(update={'title': title})])\n"
    )
    _python(home, code)


@pytest.mark.slow
def test_a_one_shot_process_that_changed_the_cache_files_the_next_answer(
    cache: Path, pmtui_home: Path
) -> None:
    """Issue #22: a process that changes the cache and ends (`pmtui sync`, `pmtui do`: no engine keeps
    running) files the new answer as it closes, so the next briefing needs no DuckDB and shows the change.
    A write that skips that step (a bare store) is still answered right, by DuckDB."""
    first, _ = _launch(pmtui_home, ["briefing"])  # the terminal's first briefing: its text is filed
    assert first.returncode == 0, first.stderr

    _write_task(pmtui_home, "Fix login redirect, by a one-shot sync", through_engine=True)
    after, modules = _launch(pmtui_home, ["briefing"])
    assert after.returncode == 0, after.stderr
    assert "Fix login redirect, by a one-shot sync" in after.stdout
    assert "duckdb" not in _top(modules)

    _write_task(pmtui_home, "Fix login redirect, by a bare store", through_engine=False)
    missed, modules = _launch(pmtui_home, ["briefing"])
    assert missed.returncode == 0, missed.stderr
    assert "Fix login redirect, by a bare store" in missed.stdout
    assert "duckdb" in _top(modules)


def test_a_machine_that_never_asked_for_a_briefing_files_no_answer(cache: Path, pmtui_home: Path) -> None:
    """A process that changed the cache files answers only where one was ever asked for (a server that
    only runs `pmtui sync` from cron never pays for a briefing nobody reads)."""
    _write_task(pmtui_home, "Changed on a sync-only machine", through_engine=True)
    assert not list((pmtui_home / "cache").glob("*-answer.json"))
    asked, _ = _launch(pmtui_home, ["briefing"])  # once asked, there is one to keep current
    assert asked.returncode == 0, asked.stderr
    assert list((pmtui_home / "cache").glob("briefing-answer.json"))
