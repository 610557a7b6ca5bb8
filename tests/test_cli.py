"""The command line: help, doctor, config errors and a light import path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmtui.cli import app

runner = CliRunner()

COMMANDS = ["briefing", "sync", "do", "demo", "conflicts", "mirror", "doctor", "config", "sandbox"]


def test_help_lists_every_command_with_a_line() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        line = next((ln for ln in result.output.splitlines() if ln.strip().startswith(command + " ")), "")
        assert line.split(maxsplit=1)[1:], f"{command} has no help line"


@pytest.mark.parametrize("command", [*COMMANDS, "config show", "config path", "config init", "sandbox serve"])
def test_each_command_has_help(command: str) -> None:
    result = runner.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("pmtui ")


def test_doctor_on_empty_home_says_how_to_configure(pmtui_home: Path) -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    for service in ("motion", "linear", "notion", "gitlab"):
        assert f"{service}: not configured" in result.output
    assert "PMTUI_LINEAR_API_KEY" in result.output
    data = json.loads(runner.invoke(app, ["doctor", "--json"]).output)
    assert {c["name"] for c in data} >= {"config", "cache", "linear"}


def test_doctor_reports_configured_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMTUI_LINEAR_API_KEY", "lin_api_secret_value")
    result = runner.invoke(app, ["doctor", "--offline"])
    assert "linear: key from env PMTUI_LINEAR_API_KEY" in result.output
    assert "lin_api_secret_value" not in result.output


def test_doctor_says_how_far_motions_full_scan_is(pmtui_home: Path, config_file: Path) -> None:
    """Issue #22: the time until Motion's spread scan completes a pass, from the cache alone."""
    from pmtui import paths
    from pmtui.core.scan import SCAN_RESOURCE, ScanState
    from pmtui.core.store import Store, store_path
    from pmtui.models import Service

    config_file.write_text("[motion]\nscan_share = 0.25\n[sync]\ninterval_seconds = 120\n")
    with Store(store_path(paths.data_dir())) as store:
        state = ScanState(resume="c", pages=3, last_pass_pages=12)
        store.set_cursor(Service.MOTION, SCAN_RESOURCE, state.dump())
    result = runner.invoke(app, ["doctor", "--offline"])
    # 3 pages a sync (a quarter of 12 requests a minute): 9 pages left are 3 syncs, 2 minutes apart.
    expected = (
        "Motion: full scan 3 of 12 pages, complete in ~6 min (3 more syncs, 3 pages each at 12 req/min)"
    )
    assert f"motion scan: {expected}" in result.output, result.output
    data = json.loads(runner.invoke(app, ["doctor", "--offline", "--json"]).output)
    assert {"name": "motion scan", "status": "ok", "detail": expected, "hint": None} in data


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", *args],
        capture_output=True,
        text=True,
        env={"PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_bad_config_exits_2_naming_file_and_key(config_file: Path, pmtui_home: Path) -> None:
    config_file.write_text("[sync]\nintervall = 5\n")
    result = _run("config", "show", home=pmtui_home)
    assert result.returncode == 2
    assert str(config_file) in result.stderr
    assert "sync.intervall" in result.stderr
    assert "Traceback" not in result.stderr
    doctor = _run("doctor", home=pmtui_home)
    assert doctor.returncode == 1
    assert "sync.intervall" in doctor.stdout


def test_config_init_then_show_masks_secrets(pmtui_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["config", "init"]).exit_code == 0
    assert (pmtui_home / "config" / "config.toml").exists()
    again = runner.invoke(app, ["config", "init"])
    assert again.exit_code != 0
    monkeypatch.setenv("PMTUI_MOTION_API_KEY", "motion-secret-key")
    shown = runner.invoke(app, ["config", "show", "--json"])
    data = json.loads(shown.output)
    assert data["motion"]["api_key"] == "set (env PMTUI_MOTION_API_KEY)"
    assert "motion-secret-key" not in shown.output


def test_home_flag_sets_all_paths(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path / "h"), "config", "path"])
    assert result.exit_code == 0
    assert str(tmp_path / "h" / "config" / "config.toml") in result.output


def test_import_cli_stays_light() -> None:
    code = (
        "import sys, pmtui.cli\n"
        "heavy = [m for m in ('textual', 'litellm', 'gql', 'gitlab', 'notion_client', 'deltalake')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == ""
