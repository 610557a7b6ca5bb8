"""Everything pmtui writes is private to the user (files 0600, folders 0700), whatever the shell's umask:
the cache and its WAL, the logs, the Delta mirror and the config hold task data and keys."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.core.store import Store, store_path
from pmtui.sandbox.runner import Sandbox, start_sandbox


@pytest.fixture
def sandbox(pmtui_home: Path) -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as running:
        running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        yield running


def _loose(root: Path) -> list[str]:
    """Every path under ``root`` that its group or others can read, write or enter."""
    return sorted(
        f"{path.relative_to(root)} {stat.filemode(path.stat().st_mode)}"
        for path in [root, *root.rglob("*")]
        if path.stat().st_mode & 0o077
    )


def test_sync_under_a_loose_umask_writes_only_private_files(sandbox: Sandbox, pmtui_home: Path) -> None:
    env = {**os.environ, "PMTUI_HOME": str(pmtui_home), "PMTUI_NO_KEYRING": "1"}
    pmtui_home.chmod(0o700)
    (pmtui_home / "config").chmod(0o700)
    done = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "-v", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(0o022),  # what most shells have: files 0644, folders 0755
    )
    assert done.returncode == 0, done.stderr
    assert (pmtui_home / "logs" / "pmtui.jsonl").exists()
    assert any((pmtui_home / "data").rglob("_delta_log")), "the mirror was written"
    assert _loose(pmtui_home) == []


def test_opening_a_world_readable_cache_makes_it_private(tmp_path: Path) -> None:
    path = store_path(tmp_path)
    Store(path).close()
    path.chmod(0o644)
    with Store(path):
        assert path.stat().st_mode & 0o777 == 0o600


def test_the_instant_commands_write_private_files_under_a_loose_umask(pmtui_home: Path) -> None:
    """`pmtui briefing` goes around Typer (pmtui.launch): its stamp and answer files are private too."""
    from pmtui.models import Task

    with Store(store_path(pmtui_home / "data")) as store:
        store.upsert_tasks([Task(id="a", title="Private")])
    env = {**os.environ, "PMTUI_HOME": str(pmtui_home), "PMTUI_NO_KEYRING": "1", "NO_COLOR": "1"}
    pmtui_home.chmod(0o700)
    for command in ("briefing", "conflicts"):
        done = subprocess.run(
            [sys.executable, "-m", "pmtui.launch", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.umask(0o022),
        )
        assert done.returncode == 0, done.stderr
    cache = pmtui_home / "cache"
    names = {p.name for p in cache.iterdir()}
    assert names >= {"settings-stamp.json", "briefing-answer.json", "conflicts-answer.json"}
    assert _loose(cache) == []
