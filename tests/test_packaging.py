"""What an installed pmtui offers before any service is involved: `python -m pmtui`, one version, shell
completion, a LICENSE, and commands that only look around leaving no log file behind."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pmtui

ROOT = Path(__file__).resolve().parents[1]


def _run(home: Path, *args: str, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", **extra}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=120, cwd=cwd
    )


def test_python_dash_m_pmtui_is_the_pmtui_command(pmtui_home: Path) -> None:
    done = _run(pmtui_home, "-m", "pmtui", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"pmtui {pmtui.__version__}"
    bad = _run(pmtui_home, "-m", "pmtui", "no-such-command")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_one_version_source() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    assert importlib.metadata.version("pmtui") == pmtui.__version__


def test_license_file_is_mit_for_the_pmtui_developers() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "pmtui developers" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"


def test_shell_completion_is_offered(pmtui_home: Path) -> None:
    helped = _run(pmtui_home, "-m", "pmtui", "--help")
    assert "--install-completion" in helped.stdout
    # Typer's own switch for tests: `--show-completion` then takes the shell named, instead of looking
    # for the shell among the process's ancestors (none when the suite runs detached, as under CI).
    script = _run(
        pmtui_home,
        "-m",
        "pmtui",
        "--show-completion",
        "bash",
        _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1",
    )
    assert script.returncode == 0, script.stderr
    assert "complete" in script.stdout
    assert "pmtui" in script.stdout.lower()


def test_looking_around_creates_no_log_file(pmtui_home: Path) -> None:
    for args in (["config", "path"], ["sandbox", "--help"], ["--help"], ["cache", "--help"]):
        done = _run(pmtui_home, "-m", "pmtui", *args)
        assert done.returncode == 0, (args, done.stderr)
        assert not (pmtui_home / "logs").exists(), f"`pmtui {' '.join(args)}` created the log folder"


def test_bench_outside_a_checkout_says_so(pmtui_home: Path, tmp_path: Path) -> None:
    # An installed wheel has no `benchmarks` package: simulate it by hiding the checkout from sys.path.
    hide = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'benchmarks' or name.startswith('benchmarks.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "sys.argv = ['pmtui', 'bench', '--quick']\n"
        "from pmtui.cli import main\n"
        "main()\n"
    )
    done = _run(pmtui_home, "-c", hide, cwd=tmp_path)
    assert done.returncode == 1
    assert "benchmarks package is not installed" in done.stderr
    assert "source checkout" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_wheel_ships_pmtui_only_and_the_sdist_no_caches() -> None:
    hatch = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]
    assert hatch["build"]["targets"]["wheel"]["packages"] == ["pmtui"]
    excluded = hatch["build"]["targets"]["sdist"]["exclude"]
    for cache in (
        ".import_linter_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "benchmarks/results",
    ):
        assert cache in excluded
