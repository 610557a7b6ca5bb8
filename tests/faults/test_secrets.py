"""No configured key appears in any artefact: log files, command output, the cache's tables and file, the
Delta mirror's files, and the committed TUI snapshots and walkthrough recordings."""

from __future__ import annotations

import os
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
        config = pmtui_home / "config" / "config.toml"
        running.write_config(config, local_budgets=True)
        config.write_text(config.read_text().replace("[motion]", 'log_level = "DEBUG"\n\n[motion]', 1))
        yield running


def _pmtui(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "-v", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", **(env or {})},
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


def test_keys_never_reach_an_artefact(sandbox: Sandbox, pmtui_home: Path) -> None:
    keys = [sandbox.api_key(service) for service in sandbox.running]
    outputs = [
        _pmtui(pmtui_home, "sync"),
        _pmtui(pmtui_home, "do", "--yes", "task Secret check due 2026-12-05 @motion"),
        _pmtui(pmtui_home, "doctor"),
        _pmtui(pmtui_home, "config", "show"),
        _pmtui(pmtui_home, "briefing"),
        _pmtui(pmtui_home, "mirror", "--target", str(pmtui_home / "mirror")),
        # A wrong key: the auth error path must name the variable, never echo the value.
        _pmtui(pmtui_home, "sync", "-s", "linear", env={"PMTUI_LINEAR_API_KEY": "lin_api_WRONGWRONGWRONG"}),
    ]
    assert outputs[0].returncode == 0, outputs[0].stderr
    assert outputs[-1].returncode == 1
    assert "PMTUI_LINEAR_API_KEY" in outputs[-1].stdout + outputs[-1].stderr
    texts = [o.stdout + o.stderr for o in outputs]
    logs = list((pmtui_home / "logs").glob("*.jsonl*"))
    assert logs, "the commands should have logged"
    texts += [path.read_text() for path in logs]
    cache = store_path(pmtui_home / "data")
    with Store(cache, read_only=True) as store:
        # Every table the cache has (not a list kept by hand: a new table is checked the day it appears).
        tables = [str(row[0]) for row in store._rows("SELECT table_name FROM information_schema.tables")]
        assert {"tasks", "external_refs", "journal", "outbox", "requests", "sync_cursors"} <= set(tables)
        for table in tables:
            texts.append(repr(store._rows(f'SELECT * FROM "{table}"')))
    assert outputs[5].returncode == 0, outputs[5].stderr
    mirrored = [path for path in (pmtui_home / "mirror").rglob("*") if path.is_file()]
    assert any(path.suffix == ".parquet" for path in mirrored), "the mirror should have written tables"
    # The artefacts committed to the repository were made against the same sandbox keys.
    root = Path(__file__).resolve().parents[2]
    committed = [
        path
        for folder in (root / "tests" / "tui" / "__snapshots__", root / "docs" / "walkthroughs")
        for path in folder.rglob("*")
        if path.is_file()
    ]
    assert committed, "the TUI snapshots and walkthrough recordings should be found"
    blobs = [cache.read_bytes()] + [path.read_bytes() for path in mirrored + committed]
    for key in [*keys, "lin_api_WRONGWRONGWRONG"]:
        for text in texts:
            assert key not in text
        for blob in blobs:
            assert key.encode() not in blob
