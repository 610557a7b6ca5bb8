"""Every task has a handle: Motion and Notion tasks get ``M-12`` / ``N-7``, shown and accepted everywhere.

Against the sandbox (Motion, Linear, Notion and GitLab with the demo workspace), through the CLI as a
user runs it: sync, then name tasks by handle.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.core.store import Store, store_path
from pmtui.sandbox.runner import Sandbox, start_sandbox

TITLE = "Write launch announcement draft"  # in the demo seed of both Motion and Linear


@pytest.fixture
def synced(pmtui_home: Path) -> Iterator[Sandbox]:
    with start_sandbox(seed="demo", services=("motion", "linear", "notion", "gitlab")) as running:
        running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        result = pmtui(pmtui_home, "sync")
        assert result.returncode in (0, 3), result.stderr  # 3: conflicts are fine here
        yield running


def pmtui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=180,
    )


def _handles(home: Path) -> dict[str, str]:
    with Store(store_path(home / "data"), read_only=True) as store:
        return store.pmtui_handles()


def test_key_less_tasks_get_short_stable_handles(synced: Sandbox, pmtui_home: Path) -> None:
    handles = _handles(pmtui_home)
    motion = sorted(h for h in handles.values() if h.startswith("M-"))
    notion = sorted(h for h in handles.values() if h.startswith("N-"))
    assert motion
    assert notion
    assert len(set(handles.values())) == len(handles)  # unique
    assert all(re.fullmatch(r"[MN]-[0-9]+", h) for h in motion + notion)
    again = pmtui(pmtui_home, "sync")
    assert again.returncode in (0, 3), again.stderr
    assert _handles(pmtui_home) == handles  # a second sync changes no handle


def test_ambiguous_title_lists_candidates_with_handles_and_exits_2(synced: Sandbox, pmtui_home: Path) -> None:
    result = pmtui(pmtui_home, "do", f'done "{TITLE}"')
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"error: '{TITLE}' matches 2 tasks:" in result.stderr
    motion = re.search(r"^\s+(M-[0-9]+)\s+" + re.escape(TITLE) + r" \(Motion\)$", result.stderr, re.M)
    linear = re.search(r"^\s+([A-Z]+-[0-9]+)\s+" + re.escape(TITLE) + r" \(Linear\)$", result.stderr, re.M)
    assert motion, result.stderr
    assert linear, result.stderr
    assert "Name one by its handle, e.g.: pmtui do 'done " in result.stderr
    assert "Run this plan?" not in result.stdout  # lists and exits; never asks

    done = pmtui(pmtui_home, "do", "--yes", f"done {motion.group(1).lower()}")  # case does not matter
    assert done.returncode == 0, (done.stdout, done.stderr)
    tasks = synced.emulator("motion").state["tasks"].values()
    [task] = [t for t in tasks if t["name"] == TITLE]
    assert task["completed"] is True


def test_briefing_shows_handles_and_whole_keys(synced: Sandbox, pmtui_home: Path) -> None:
    result = pmtui(pmtui_home, "briefing", "--date", "2026-11-24")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\bM-[0-9]+\b", result.stdout), result.stdout
    assert "acme/app#…" not in result.stdout
    assert re.search(r"acme/app#[0-9]+", result.stdout), result.stdout
