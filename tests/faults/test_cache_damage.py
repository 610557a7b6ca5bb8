"""A damaged or locked DuckDB cache: a clear message naming the file and the fix, a distinct exit code,
no traceback, and the file left where it is. `pmtui cache rebuild` (docs/recovery.md) then moves it
aside, rebuilds from the services, carries over what the damaged file still shows, and names the rest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.core.store import Store, store_path
from pmtui.sandbox.runner import Sandbox, start_sandbox
from tests.faults.sides import remote_titles
from tests.proc import read_line


@pytest.fixture(scope="module")
def services() -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def synced_once(services: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose cache was filled by one real `pmtui sync`, shared (as copies) by the module's tests."""
    home = tmp_path_factory.mktemp("synced") / "home"
    services.write_config(home / "config" / "config.toml", local_budgets=True)
    done = _pmtui(home, "sync")
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture
def synced(synced_once: Path, services: Sandbox, pmtui_home: Path) -> Path:
    """A private copy of the synced home at PMTUI_HOME; returns its cache's path."""
    for name in services.running:
        services.emulator(name).clear_faults()
    shutil.copytree(synced_once, pmtui_home, dirs_exist_ok=True)
    return store_path(pmtui_home / "data")


def _pmtui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", "PMTUI_LOCK_WAIT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _damage(cache: Path, how: str) -> bytes:
    if how == "garbage":
        cache.write_bytes(os.urandom(64 * 1024))
    else:
        with cache.open("r+b") as handle:
            handle.truncate(cache.stat().st_size // 2)
    return cache.read_bytes()


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_damaged_cache_gets_a_clear_message_and_is_kept(synced: Path, pmtui_home: Path, how: str) -> None:
    damaged = _damage(synced, how)
    for command in (["briefing"], ["sync"], ["cache", "check"]):
        done = _pmtui(pmtui_home, *command)
        assert done.returncode == 4, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert str(synced) in done.stderr
        assert "damaged" in done.stderr
        assert "pmtui cache rebuild" in done.stderr
        assert "docs/recovery.md" in done.stderr
    assert synced.read_bytes() == damaged, "a failed open must not touch the damaged file"


def test_rebuild_moves_the_file_aside_and_restores_from_the_services(
    synced: Path, pmtui_home: Path, services: Sandbox
) -> None:
    with Store(synced) as store:
        tasks_before = store.count_tasks()
    damaged = _damage(synced, "garbage")
    done = _pmtui(pmtui_home, "cache", "rebuild")
    # Nothing readable survived, so the report must say edits may be lost: exit 1, not 0.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "UNKNOWN" in done.stdout
    aside = list(synced.parent.glob("pmtui.duckdb.damaged-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes() == damaged, "the damaged file is kept byte for byte"
    with Store(synced, read_only=True) as store:
        assert store.count_tasks() == tasks_before
        runs = store.last_sync_runs()
        assert {run.status for run in runs.values()} == {"ok"}
        assert len(runs) == 4
    assert _pmtui(pmtui_home, "cache", "check").returncode == 0
    assert _pmtui(pmtui_home, "briefing").returncode == 0


SALVAGE = textwrap.dedent("""
    import sys
    from pmtui.config import load_settings
    from pmtui.core.engine import Engine
    from pmtui.core.store import Store
    from pmtui.models import CreateTask, Plan, Service, Task
    settings = load_settings()
    with Engine(settings, Store(sys.argv[1])) as engine:
        # A local-only task, and an offline edit of a Motion task that was never pushed.
        engine.execute(Plan(actions=[CreateTask(ref="l", title="Only in the cache", service=Service.LOCAL)]))
        ref = next(r for r in engine.store.refs_for_service(Service.MOTION) if r.origin)
        task = engine.store.get_task(ref.entity_id)
        engine.store.upsert_tasks([task.model_copy(update={"title": "Edited offline, never pushed"})])
        print(ref.external_id)
""")


def test_rebuild_carries_over_what_the_damaged_file_still_shows(
    synced: Path, pmtui_home: Path, services: Sandbox
) -> None:
    env = {**os.environ, "PMTUI_HOME": str(pmtui_home), "PMTUI_NO_KEYRING": "1"}
    made = subprocess.run(
        [sys.executable, "-c", SALVAGE, str(synced)], capture_output=True, text=True, env=env, timeout=60
    )
    assert made.returncode == 0, made.stderr
    external = made.stdout.strip()
    # Damage the file so that the salvage can still read its tables: lose the tail of the last block
    # (the header then claims more blocks than the file holds, which the open check refuses).
    with synced.open("r+b") as handle:
        handle.truncate(synced.stat().st_size - 16384)
    assert _pmtui(pmtui_home, "briefing").returncode == 4
    done = _pmtui(pmtui_home, "cache", "rebuild")
    assert "Traceback" not in done.stderr
    assert "restored local-only task: 'Only in the cache'" in done.stdout, done.stdout
    assert "re-applied unpushed edit: 'Edited offline, never pushed' on Motion" in done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    motion = services.emulator("motion").snapshot()
    assert motion["tasks"][external]["name"] == "Edited offline, never pushed"
    assert remote_titles(services, "motion").count("Edited offline, never pushed") == 1
    with Store(synced, read_only=True) as store:
        titles = [t.title for t in store.list_tasks()]
        assert titles.count("Only in the cache") == 1
        assert titles.count("Edited offline, never pushed") == 1
        assert store.journal_entries() == []


HOLDER = textwrap.dedent("""
    import sys, duckdb
    conn = duckdb.connect(sys.argv[1])  # never lets go: a genuine deadlock for every pmtui
    print("holding", flush=True)
    sys.stdin.readline()
""")


def test_locked_cache_is_named_with_its_holder_and_never_moved(synced: Path, pmtui_home: Path) -> None:
    before = synced.read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(synced)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert read_line(holder.stdout).strip() == "holding"
        for command in (["briefing"], ["sync"], ["cache", "rebuild", "--force"]):
            done = _pmtui(pmtui_home, *command)
            assert done.returncode == 5, (command, done.stdout, done.stderr)
            assert f"PID {holder.pid}" in done.stderr
            assert "Traceback" not in done.stderr
    finally:
        holder.communicate("\n", timeout=30)
    assert list(synced.parent.glob("*.damaged-*")) == []
    assert synced.read_bytes() == before
