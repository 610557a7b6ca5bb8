"""`pmtui do` as a user runs it, against the sandbox (Motion, Notion and GitLab)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.sandbox.runner import Sandbox, start_sandbox


@pytest.fixture
def sandbox(pmtui_home: Path) -> Iterator[Sandbox]:
    with start_sandbox(seed="demo", services=("motion", "notion", "gitlab")) as running:
        running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        yield running


def pmtui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "do", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_dry_run_shows_the_plan_and_calls_nothing(sandbox: Sandbox, pmtui_home: Path) -> None:
    sandbox.reset_counts()
    result = pmtui(pmtui_home, "--dry-run", 'new project "X" with tasks a; b due fri')
    assert result.returncode == 0, result.stderr
    assert "Plan:" in result.stdout
    assert "create project 'X'" in result.stdout
    assert "Motion: has a deadline" in result.stdout
    assert all(counts["total"] == 0 for counts in sandbox.request_counts().values())


def test_without_a_terminal_it_asks_for_yes(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = pmtui(pmtui_home, "task Book venue due 2026-12-05")
    assert result.returncode == 2
    assert "pass --yes" in result.stderr
    assert not any(t["name"] == "Book venue" for t in sandbox.emulator("motion").state["tasks"].values())


def test_yes_runs_it_and_json_reports_it(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = pmtui(pmtui_home, "--yes", "--json", "task Book venue due 2026-12-05 p2")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "done"
    assert data["results"][0]["service"] == "motion"
    created = [t for t in sandbox.emulator("motion").state["tasks"].values() if t["name"] == "Book venue"]
    assert len(created) == 1
    assert created[0]["priority"] == "HIGH"


def test_unreadable_request_exits_2_with_an_example(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = pmtui(pmtui_home, "blorp the wibble")
    assert result.returncode == 2  # bad input: the request needs fixing
    assert "Try:" in result.stdout
    assert "Traceback" not in result.stderr


def test_invalid_plan_changes_nothing(sandbox: Sandbox, pmtui_home: Path) -> None:
    sandbox.reset_counts()
    result = pmtui(pmtui_home, "--yes", "done ENG-999")
    assert result.returncode == 1
    assert "no task matches 'ENG-999'" in result.stdout
    assert all(counts["total"] == 0 for counts in sandbox.request_counts().values())


@pytest.mark.slow  # real `pmtui` processes and a sync: 6-8 s
def test_to_overrides_the_router_and_save_rule_remembers_it(sandbox: Sandbox, pmtui_home: Path) -> None:
    planned = pmtui(pmtui_home, "--dry-run", "--to", "notion", "task Fix login redirect")
    assert planned.returncode == 0, planned.stderr
    assert "Notion: asked for @notion" in planned.stdout
    saved = pmtui(pmtui_home, "--dry-run", "--to", "gitlab", "--save-rule", "task Fix login redirect")
    assert saved.returncode == 0, saved.stderr
    assert "engineering tasks now go to GitLab" in saved.stderr
    again = pmtui(pmtui_home, "--dry-run", "task Fix the crash on save")
    assert "GitLab: word `fix` -> engineering (rule 1)" in again.stdout
    other = pmtui(pmtui_home, "--dry-run", "task Write the onboarding guide")
    assert "Notion: word `write` -> documentation" in other.stdout  # the defaults still apply
    bad = pmtui(pmtui_home, "--dry-run", "--to", "jira", "task x")
    assert bad.returncode == 2


@pytest.mark.slow  # real `pmtui` processes and a sync: 6-8 s
def test_a_notion_id_property_is_the_handle_sync_shows_and_do_accepts(
    sandbox: Sandbox, pmtui_home: Path
) -> None:
    """A tasks database with an ID property (prefix TASK) gives its tasks ``TASK-n`` handles (#21)."""
    notion = sandbox.emulator("notion")
    notion.admin_mutate(
        {"kind": "data_source", "op": "update", "properties": {"ID": {"unique_id": {"prefix": "TASK"}}}}
    )
    with notion.lock:
        ds = notion.state["data_sources"][notion.config_hints()["tasks_data_source_id"]]
        id_prop, status_prop = ds["properties"]["ID"]["id"], ds["properties"]["Status"]
        page = next(
            p
            for p in (notion.state["pages"][i] for i in ds["page_ids"])
            if "".join(t["plain_text"] for t in p["values"]["title"]) == "Write onboarding guide"
        )
        handle = f"TASK-{page['values'][id_prop]}"
    env = {**os.environ, "PMTUI_HOME": str(pmtui_home), "PMTUI_NO_KEYRING": "1"}
    synced = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "sync", "--json"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert synced.returncode == 0, synced.stderr
    result = pmtui(pmtui_home, "--yes", "--json", f"done {handle}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "done"
    with notion.lock:
        options = {o["id"]: o["name"] for o in status_prop["status"]["options"]}
        assert options[page["values"][status_prop["id"]]] == "Done"
