"""The home guard (tests/home_guard.py): a run whose tests write into HOME fails and names what they wrote.

The suite itself runs under the guard (tests/conftest.py loads it), so every CI run is the "HOME pointed
at an empty folder stays empty" check; these tests show the guard would catch a test that wrote there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WRITES_HOME = """
from pathlib import Path

def test_writes_a_cache_file_into_home():
    target = Path.home() / ".cache" / "pmtui" / "schema.pickle"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x")
"""

STAYS_HOME = """
import os
from pathlib import Path

from pmtui import paths


def test_uses_the_temporary_pmtui_home(tmp_path):
    # Module- and session-scoped fixtures run before any monkeypatch: PMTUI_HOME is already set for them.
    assert os.environ["PMTUI_HOME"]
    assert not str(paths.cache_dir()).startswith(str(Path.home()))
    (tmp_path / "ok").write_text("ok")
"""


def _run(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(source)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.home_guard",
            "-p",
            "no:cacheprovider",
            "-q",
            "-p",
            "no:randomly",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_test_that_writes_into_home_fails_the_run(tmp_path: Path) -> None:
    ran = _run(tmp_path, WRITES_HOME)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout  # the test itself passes: the guard is what fails the run
    assert "home guard: the tests wrote into HOME" in ran.stdout
    assert "~/.cache/pmtui/schema.pickle" in ran.stdout


def test_a_run_that_keeps_to_its_temporary_home_passes(tmp_path: Path) -> None:
    ran = _run(tmp_path, STAYS_HOME)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "home guard" not in ran.stdout


def test_this_run_has_home_pointed_at_an_empty_temporary_folder() -> None:
    home = Path(os.environ["HOME"])
    assert home.name == "home"
    assert home.parent.name.startswith("pmtui-tests-")
    assert os.environ["PMTUI_HOME"] != ""
    assert not Path(os.environ["PMTUI_HOME"]).is_relative_to(home)
