"""`pmtui sync` as a user runs it: once, with conflicts, and --watch with webhooks and a clean stop."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pmtui.sandbox.runner import Sandbox, start_sandbox
from tests.proc import read_line


@pytest.fixture
def sandbox(pmtui_home: Path) -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as running:
        running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        yield running


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", **extra}


def _sync(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "sync", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_once_prints_json_lines_and_exits_0(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = _sync(pmtui_home, "--json")
    assert result.returncode == 0, result.stderr
    runs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["service"] for r in runs] == ["linear", "gitlab", "notion", "motion"]
    assert all(r["status"] == "ok" and r["pulled"] > 0 for r in runs)


def test_pending_conflicts_exit_3_and_are_listed(sandbox: Sandbox, pmtui_home: Path) -> None:
    assert _sync(pmtui_home).returncode == 0
    from pmtui.core.store import Store, store_path

    with Store(store_path(pmtui_home / "data")) as store:
        task = store.find_tasks("ENG-4")[0]
        ref = next(r for r in store.refs_for(task.id) if r.service.value == "linear")
        store.upsert_tasks([task.model_copy(update={"title": "local title"})])
    sandbox.emulator("linear").admin_mutate(
        {"op": "update", "kind": "issue", "id": ref.external_id, "fields": {"title": "remote title"}}
    )
    sandbox.clock.advance(120)
    assert _sync(pmtui_home, "-s", "linear").returncode == 3
    listed = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "conflicts"],
        env=_env(pmtui_home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 3
    assert "'local title'" in listed.stdout
    assert "'remote title'" in listed.stdout


def test_bad_service_name_is_a_usage_error(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = _sync(pmtui_home, "-s", "jira")
    assert result.returncode == 2
    assert "--service takes" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_watch_syncs_on_a_webhook_and_stops_cleanly(sandbox: Sandbox, pmtui_home: Path) -> None:
    port = _free_port()
    config = pmtui_home / "config" / "config.toml"
    config.write_text(config.read_text() + f"\n[sync]\nwebhook_port = {port}\ninterval_seconds = 300\n")
    secret = "whsec-test-0123456789"
    watcher = subprocess.Popen(
        [sys.executable, "-m", "pmtui.cli", "sync", "--watch", "--json"],
        env=_env(pmtui_home, PMTUI_LINEAR_WEBHOOK_SECRET=secret),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        first = [json.loads(read_line(watcher.stdout)) for _ in range(4)]
        assert {r["service"] for r in first} == {"linear", "gitlab", "notion", "motion"}
        body = json.dumps(
            {
                "action": "update",
                "type": "Issue",
                "data": {"id": "x"},
                "webhookTimestamp": int(time.time() * 1000),
            }
        ).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        answer = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/linear",
            content=body,
            timeout=10,
            headers={
                "Linear-Signature": signature,
                "Linear-Delivery": "d-1",
                "Content-Type": "application/json",
            },
        )
        assert answer.status_code == 200
        woken = json.loads(read_line(watcher.stdout))  # well before the 300 s interval
        assert woken["service"] == "linear"
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0
    assert "Traceback" not in (watcher.stderr.read() if watcher.stderr else "")


def test_briefing_refresh_syncs_first(sandbox: Sandbox, pmtui_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", "briefing", "--refresh"],
        env=_env(pmtui_home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Linear: ok (48 pulled, 0 pushed)" in result.stderr
    assert "Fix login redirect loop" in result.stdout
