"""Sync across real processes: kill -9 at random points converges, and a held cache gets a clear message."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.config import load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store, store_path
from pmtui.sandbox.runner import Sandbox, start_sandbox
from tests.proc import read_line


@pytest.fixture
def sandbox(pmtui_home: Path) -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as running:
        running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        yield running


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", "PMTUI_LOCK_WAIT": "1"}


def _snapshot(cache: Path) -> tuple[dict[tuple[str, str], str], int]:
    """Every ref as (service, external id) -> local title, and how many live tasks there are."""
    with Store(cache, read_only=True) as store:
        rows = store._rows(
            "SELECT r.service, r.external_id, t.title FROM external_refs r "
            "JOIN tasks t ON t.id = r.entity_id WHERE r.entity = 'task'"
        )
        live = store._rows("SELECT count(*) FROM tasks WHERE NOT deleted")[0][0]
    refs = {(service, external): title for service, external, title in rows}
    assert len(refs) == len(rows), "a remote object is held by two local tasks"
    return refs, int(live)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_9_during_sync_converges_without_duplicates(
    sandbox: Sandbox, pmtui_home: Path, tmp_path: Path
) -> None:
    rng = random.Random(7)
    cache = store_path(pmtui_home / "data")
    killed = 0
    for attempt in range(20):
        child = subprocess.Popen(
            [sys.executable, "-m", "pmtui.cli", "sync", "--json"],
            env=_env(pmtui_home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if attempt == 0:
            # One kill is placed by progress, not by the clock, so that at least one run is interrupted
            # however fast the machine: as soon as the first sync has created its cache, mid-pull.
            while not cache.exists() and child.poll() is None:
                time.sleep(0.005)
        else:
            # The others land wherever random delays put them: how many runs finish first depends on the
            # machine's speed, so their count is not asserted.
            time.sleep(rng.uniform(0.3, 2.5))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            killed += 1
        child.wait(timeout=60)
    assert killed >= 1, "the first run is killed as soon as its cache exists"
    final = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "sync", "--json"],
        env=_env(pmtui_home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert final.returncode == 0, final.stdout + final.stderr
    interrupted = _snapshot(store_path(pmtui_home / "data"))

    clean_home = tmp_path / "clean"
    settings = load_settings(pmtui_home / "config" / "config.toml")
    os.environ["PMTUI_HOME"] = str(clean_home)
    try:
        with Engine(settings, Store(clean_home / "cache.duckdb")) as engine:
            assert all(run.status == "ok" for run in engine.sync())
    finally:
        os.environ["PMTUI_HOME"] = str(pmtui_home)
    reference = _snapshot(clean_home / "cache.duckdb")
    assert interrupted == reference


HOLDER = textwrap.dedent("""
    import sys, duckdb
    conn = duckdb.connect(sys.argv[1])  # never lets go: a genuine deadlock for every pmtui
    print("holding", flush=True)
    sys.stdin.readline()
""")


def test_second_process_gets_a_clear_message_and_the_cache_is_intact(
    sandbox: Sandbox, pmtui_home: Path
) -> None:
    first = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "sync"],
        env=_env(pmtui_home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    cache = store_path(pmtui_home / "data")
    before = _snapshot(cache)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(cache)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert read_line(holder.stdout).strip() == "holding"
        second = subprocess.run(
            [sys.executable, "-m", "pmtui.cli", "sync"],
            env=_env(pmtui_home),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 5
        assert f"PID {holder.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        assert len(second.stderr.strip().splitlines()) <= 2
    finally:
        holder.communicate("\n", timeout=30)
    assert _snapshot(cache) == before
