"""Starting the four emulators together, the fault grammar, and the config they hand to pmtui."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pmtui.config import load_settings, resolve_secret
from pmtui.errors import UsageError
from pmtui.models import Service
from pmtui.sandbox.runner import parse_seed, start_sandbox
from pmtui.sandbox.server import Fault, parse_fault_spec
from tests.proc import read_line


def test_fault_spec_grammar() -> None:
    faults = parse_fault_spec(
        "linear:rate_limit=2x3, gitlab:error=503x*, notion:commit_drop@POST/v1/pages,motion:reset~0.25x*"
    )
    assert faults["linear"][0].kind == "rate_limit"
    assert faults["linear"][0].value == 2
    assert faults["linear"][0].count == 3
    assert faults["gitlab"][0].count is None
    assert faults["gitlab"][0].value == 503
    assert faults["notion"][0].method == "POST"
    assert faults["notion"][0].path == "/v1/pages"
    assert faults["motion"][0].probability == 0.25


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("jira:error", "unknown service 'jira'"),
        ("linear:explode", "unknown kind 'explode'"),
        ("linear", "expected SERVICE:KIND"),
    ],
)
def test_fault_spec_errors_name_the_item(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault_spec(spec)


def test_seed_parsing() -> None:
    assert parse_seed("demo") == {"kind": "demo"}
    assert parse_seed("500") == {"kind": "bulk", "n": 500}
    assert parse_seed("none") is None
    with pytest.raises(UsageError, match="--seed takes"):
        parse_seed("lots")


def test_start_all_four_and_point_pmtui_at_them(config_file: Path) -> None:
    with start_sandbox(seed="demo") as sandbox:
        assert set(sandbox.running) == {"linear", "gitlab", "notion", "motion"}
        for service in sandbox.running:
            state = httpx.get(f"{sandbox.url(service)}/_sandbox/requests", timeout=10)
            assert state.status_code == 200
        settings_data = sandbox.settings_dict()
        assert settings_data["linear"]["team_key"] == "ENG"
        assert settings_data["gitlab"]["project"] == "1"
        path = sandbox.write_config(config_file)
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        settings = load_settings(path)
        assert settings.notion.tasks_data_source_id == settings_data["notion"]["tasks_data_source_id"]
        for service in (Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION):
            secret = resolve_secret(settings, service, path=path)
            assert secret is not None
            assert secret.value.get_secret_value() == sandbox.api_key(service.value)


def test_faults_reach_the_right_emulator() -> None:
    with start_sandbox(seed=None, services=("motion",), faults={"motion": [Fault("error", value=503)]}) as sb:
        key = sb.api_key("motion")
        first = httpx.get(f"{sb.url('motion')}/v1/workspaces", headers={"X-API-Key": key}, timeout=10)
        second = httpx.get(f"{sb.url('motion')}/v1/workspaces", headers={"X-API-Key": key}, timeout=10)
        assert (first.status_code, second.status_code) == (503, 200)
        assert sb.request_counts()["motion"]["GET /v1/workspaces"] == 2


def test_faults_for_services_not_started_are_refused() -> None:
    with pytest.raises(UsageError, match="not started: linear"):
        start_sandbox(seed=None, services=("motion",), faults="linear:error")


def test_shared_clock_moves_every_service() -> None:
    with start_sandbox(seed=None, services=("motion", "gitlab")) as sb:
        before = sb.emulator("gitlab").now()
        sb.clock.advance(3600)
        assert (sb.emulator("motion").now() - before).total_seconds() >= 3600


def test_serve_writes_config_that_another_process_uses(pmtui_home: Path) -> None:
    env = {**os.environ, "PMTUI_HOME": str(pmtui_home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "pmtui.cli", "sandbox", "serve", "--write-config", "--no-rate-limits"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = read_line(server.stdout)
            lines.append(line)
            if line.startswith("admin:"):
                break
        output = "".join(lines)
        assert "4 services up" in output
        assert "wrote" in output
        doctor = subprocess.run(
            [sys.executable, "-m", "pmtui.cli", "doctor"], capture_output=True, text=True, env=env, timeout=60
        )
        assert doctor.returncode == 0, doctor.stdout
        for service in ("motion", "linear", "notion", "gitlab"):
            line = next(ln for ln in doctor.stdout.splitlines() if ln.startswith(f"[ok  ] {service}: "))
            assert " as " in line, line  # the service answered and said who we are
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert "sandbox stopped" in out
