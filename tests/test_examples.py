"""Every example in examples/ runs against the sandbox and leaves what its expected.toml says.

Each example runs through `examples/run.py` with `--home` semantics (the test owns the sandbox, as a user
with `pmtui sandbox serve --write-config --no-rate-limits` running would), with the `pmtui` commands
invoked in-process to keep the test quick. The outcome is read back from the emulators through pmtui's
own integrations (the real client libraries): each object exists exactly once, on its service only.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from pmtui.cli import app
from pmtui.config import load_settings
from pmtui.integrations import build_integration
from pmtui.models import Service
from pmtui.sandbox.runner import Sandbox, start_sandbox

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REMOTE = (Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB)


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examples_run", EXAMPLES / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


def invoke_in_process(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def sandbox(pmtui_home: Path) -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as running:
        running.write_config(pmtui_home / "config" / "config.toml", local_budgets=True)
        yield running


def remote_state(home: Path) -> dict[Service, dict[str, Any]]:
    """Per service, the titles of its live tasks (with their statuses) and the names of its projects."""
    settings = load_settings(home / "config" / "config.toml")
    state: dict[Service, dict[str, Any]] = {}
    for service in REMOTE:
        integration = build_integration(service, settings)
        try:
            tasks: dict[str, list[str]] = {}
            for page in integration.list_changes(None):
                for item in page.items:
                    if not item.deleted:
                        tasks.setdefault(item.task.title, []).append(item.task.status.value)
            projects = Counter(p.project.name for p in integration.list_projects() if not p.project.deleted)
        finally:
            integration.close()
        state[service] = {"tasks": tasks, "projects": projects}
    return state


def test_every_example_has_requests_a_readme_and_expectations() -> None:
    names = runner.examples()
    assert names == ["docs-sprint", "release", "week-planning"]
    for name in names:
        assert runner.requests_of(name), name
        assert (EXAMPLES / name / "README.md").read_text().startswith("# "), name
        assert (EXAMPLES / name / "expected.toml").exists(), name
        assert f"python examples/run.py {name}" in (EXAMPLES / name / "README.md").read_text(), name


@pytest.mark.parametrize("name", ["week-planning", "release", "docs-sprint"])
def test_example_runs_and_leaves_its_objects_once_on_the_right_service(
    name: str, sandbox: Sandbox, pmtui_home: Path
) -> None:
    lines: list[str] = []
    code = runner.run(name, home=pmtui_home, echo=lines.append, invoke=invoke_in_process)
    output = "\n".join(lines)
    assert code == 0, output
    assert "Traceback" not in output
    assert output.count("$ pmtui do --yes") == len(runner.requests_of(name))
    assert "Top priorities" in output  # the briefing printed at the end

    expected = tomllib.loads((EXAMPLES / name / "expected.toml").read_text())
    state = remote_state(pmtui_home)
    for want in expected.get("task", []):
        where = Service(want["service"])
        found = {s: state[s]["tasks"].get(want["title"], []) for s in REMOTE}
        assert len(found[where]) == 1, f"{want['title']!r} on {where.value}: {found}"
        assert not any(found[s] for s in REMOTE if s is not where), f"{want['title']!r} elsewhere: {found}"
        if "status" in want:
            assert found[where] == [want["status"]], f"{want['title']!r}: {found[where]}"
    for want in expected.get("project", []):
        where = Service(want["service"])
        counts = {s: state[s]["projects"][want["name"]] for s in REMOTE}
        assert counts[where] == 1, f"project {want['name']!r}: {counts}"
        assert not any(counts[s] for s in REMOTE if s is not where), f"project {want['name']!r}: {counts}"


@pytest.mark.slow
def test_an_example_runs_on_its_own_as_documented() -> None:
    """`python examples/run.py NAME` with no sandbox running: it starts one in a throwaway home."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "run.py"), "docs-sprint"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "created 'Write API pagination guide' in Notion" in done.stdout
    assert "Top priorities" in done.stdout


def test_unknown_example_exits_2_naming_the_examples() -> None:
    lines: list[str] = []
    assert runner.run("nope", echo=lines.append) == 2
    assert "week-planning" in lines[0]
