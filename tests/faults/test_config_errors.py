"""Malformed config: every command that reads the settings stops with exit 2, one message naming the
file, the line or key and the fix, no traceback, and it neither creates nor touches the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pmtui.core.store import store_path

BROKEN = {
    "toml syntax": ('[linear]\nteam_key = "ENG\nenabled = true\n', "config.toml:2"),
    "unknown key": ('[linear]\nteam_kee = "ENG"\n', "team_kee"),
    "wrong type": ('[motion]\nrequests_per_minute = "fast"\n', "requests_per_minute"),
    "not utf-8": (b'[linear]\nteam_key = "ENG"\n# caf\xe9 \xff\n', "config.toml:3"),
    "nested arrays": ("[linear]\nteam_key = " + "[" * 5000 + "]" * 5000 + "\n", "config.toml:2"),
    "interval out of range": ("[sync]\ninterval_seconds = 1e20\n", "sync.interval_seconds"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_stops_every_command_cleanly(config_file: Path, pmtui_home: Path, case: str) -> None:
    text, named = BROKEN[case]
    if isinstance(text, bytes):
        config_file.write_bytes(text)
    else:
        config_file.write_text(text)
    env = {**os.environ, "PMTUI_HOME": str(pmtui_home), "PMTUI_NO_KEYRING": "1"}
    for command in (["sync"], ["do", "--yes", "task x"], ["config", "show"], ["cache", "rebuild"]):
        done = subprocess.run(
            [sys.executable, "-m", "pmtui.cli", *command], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert named in done.stderr, (command, done.stderr)
        assert str(config_file) in done.stderr or "config.toml" in done.stderr
    assert not store_path(pmtui_home / "data").exists(), "a broken config must not create a cache"
    assert config_file.read_bytes() == (text if isinstance(text, bytes) else text.encode())
