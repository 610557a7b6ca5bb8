"""`pmtui briefing`: first run, JSON, dates, colour, width, a locked cache and a light start path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from pmtui.cli import app
from pmtui.core.store import Store, store_path
from pmtui.models import ExternalRef, Priority, Project, Service, Status, Task

runner = CliRunner()
DAY = "2026-11-24"
ANSI = re.compile(r"\x1b")


@pytest.fixture(autouse=True)
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the developer's terminal nor a stray NO_COLOR decides what these tests see."""
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PMTUI_TIMEZONE", "Europe/Berlin")


def _midnight(day: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=UTC)


@pytest.fixture
def cache(pmtui_home: Path) -> Path:
    """A small cache of all-day tasks around 2026-11-24, so the output does not depend on the clock."""
    path = store_path(pmtui_home / "data")
    with Store(path) as store:
        store.upsert_projects([Project(id="web", name="Website relaunch")])
        store.upsert_tasks(
            [
                Task(
                    id="a",
                    title="Fix login redirect loop",
                    priority=Priority.URGENT,
                    due=_midnight(21),
                    project_id="web",
                ),
                Task(id="b", title="Write the migration guide " * 6, due=_midnight(24), project_id="web"),
                Task(id="c", title="Review push PR", due=_midnight(26)),
                Task(
                    id="d",
                    title="Ship cookie banner",
                    status=Status.DONE,
                    completed_at=_midnight(23),
                    project_id="web",
                ),
            ]
        )
        store.upsert_refs(
            [
                ExternalRef(
                    entity_id="a",
                    service=Service.LINEAR,
                    external_id="l1",
                    key="ENG-3",
                    url="https://linear.app/acme/issue/ENG-3",
                )
            ]
        )
    return path


def test_no_cache_file_is_a_friendly_first_run(pmtui_home: Path) -> None:
    result = runner.invoke(app, ["briefing"])
    assert result.exit_code == 0, result.output
    for hint in ("pmtui demo", "pmtui sandbox serve --write-config", "pmtui config init"):
        assert hint in result.output
    assert not store_path(pmtui_home / "data").exists()  # reading never creates the cache


def test_empty_cache_file_is_a_friendly_first_run(pmtui_home: Path) -> None:
    Store(store_path(pmtui_home / "data")).close()
    result = runner.invoke(app, ["briefing"])
    assert result.exit_code == 0, result.output
    assert "Nothing to brief yet" in result.output


def test_briefing_shows_the_sections(cache: Path) -> None:
    result = runner.invoke(app, ["briefing", "--date", DAY])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Tuesday 24 November 2026" in text
    for expected in (
        "Top priorities",
        "Overdue (1)",
        "Due today (1)",
        "Next 7 days (1)",
        "Projects (1)",
        "Sync",
    ):
        assert expected in text
    assert "ENG-3" in text
    assert "3 days" in text
    assert "urgent +40 · overdue 3 days +36" in text


def test_json_parses_with_the_stable_schema(cache: Path) -> None:
    result = runner.invoke(app, ["briefing", "--json", "--date", DAY])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema_version"] == 1
    assert data["date"] == DAY
    assert data["timezone"] == "Europe/Berlin"
    assert [item["id"] for item in data["overdue"]["items"]] == ["a"]
    assert data["overdue"]["items"][0]["ref"]["key"] == "ENG-3"
    assert [h["state"] for h in data["sync"]] == ["not_configured"] * 4


def test_json_of_an_empty_cache(pmtui_home: Path) -> None:
    data = json.loads(runner.invoke(app, ["briefing", "--json"]).output)
    assert data["is_empty"] is True


@pytest.mark.parametrize("value", ["someday", "2026-02-30", "24.11.2026", "9999-12-31"])
def test_bad_date_exits_2_with_a_clear_message(cache: Path, value: str) -> None:
    result = runner.invoke(app, ["briefing", "--date", value])
    assert result.exit_code == 2
    assert f"--date '{value}': " in result.output
    assert "use a date like 2026-11-24, today, tomorrow, yesterday or a weekday" in result.output
    assert "Traceback" not in result.output


def test_refresh_without_services_briefs_from_the_cache(cache: Path) -> None:
    result = runner.invoke(app, ["briefing", "--refresh", "--date", DAY])
    assert result.exit_code == 0
    assert "--refresh: no service is configured; briefing from the cache" in result.stderr
    assert "Top priorities" in result.stdout


def test_colour_and_links_on_a_terminal(cache: Path) -> None:
    result = runner.invoke(app, ["briefing", "--date", DAY], env={"FORCE_COLOR": "1"})
    assert ANSI.search(result.output)
    assert "\x1b]8;" in result.output  # OSC 8 link on the key
    assert "https://linear.app/acme/issue/ENG-3" in result.output


def test_no_color_output_has_no_escapes_even_on_a_terminal(cache: Path) -> None:
    result = runner.invoke(app, ["briefing", "--date", DAY], env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert not ANSI.search(result.output)
    assert "ENG-3" in result.output


@pytest.mark.parametrize("columns", ["100", "250"])
def test_output_is_at_most_100_columns(cache: Path, columns: str) -> None:
    result = runner.invoke(app, ["briefing", "--date", DAY], env={"COLUMNS": columns})
    lines = result.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 100
    assert any(cell_len(line) == 100 for line in lines)  # the section rules span the page


@pytest.mark.parametrize("columns", ["50", "40"])
def test_a_narrow_terminal_keeps_the_titles(cache: Path, columns: str) -> None:
    """Issue #25: at 50 columns the title gets the room; project and priority columns go first."""
    result = runner.invoke(app, ["briefing", "--date", DAY], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(cell_len(line) for line in lines) <= int(columns)
    # The overdue row (when, key, title, priority, project), not only the top-priorities one.
    titled = [line for line in lines if "Fix login redirect" in line and "days" in line]
    assert titled
    assert any("Write the migra" in line and "all day" in line for line in lines)
    assert not any("Website" in line for line in titled)  # the project column is the first to go


def _subprocess_env(home: Path) -> dict[str, str]:
    return {
        "PMTUI_HOME": str(home),
        "PMTUI_NO_KEYRING": "1",
        "PMTUI_TIMEZONE": "Europe/Berlin",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PMTUI_LOCK_WAIT": "1",
    }


@pytest.fixture
def locked(cache: Path) -> Iterator[Path]:
    """The cache held read-write by this process and never let go (a genuine deadlock)."""
    import duckdb

    conn = duckdb.connect(str(cache))
    try:
        yield cache
    finally:
        conn.close()


def test_locked_cache_exits_5_with_the_holder(locked: Path, pmtui_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "briefing"],
        capture_output=True,
        text=True,
        env=_subprocess_env(pmtui_home),
        timeout=60,
    )
    assert result.returncode == 5, result.stderr
    assert "is open in another process" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_briefing_never_imports_the_heavy_machinery(cache: Path, pmtui_home: Path) -> None:
    code = (
        "import runpy, sys\n"
        "sys.argv = ['pmtui', 'briefing', '--date', '2026-11-24']\n"
        "try:\n"
        "    runpy.run_module('pmtui.cli', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('textual', 'litellm', 'gql', 'gitlab', 'notion_client', 'deltalake', 'keyring', 'httpx')\n"
        "print('HEAVY=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_subprocess_env(pmtui_home),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Top priorities" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "HEAVY="
