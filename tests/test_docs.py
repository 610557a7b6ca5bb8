"""The docs cannot drift from the code: generated pages are current, and every command shown exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmtui.cli import app
from pmtui.config_reference import render

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_reference_is_current() -> None:
    written = (ROOT / "docs" / "configuration.md").read_text()
    assert written == render(), (
        "docs/configuration.md is stale: run `pmtui config reference > docs/configuration.md`"
    )


def test_every_key_in_the_reference_has_its_meaning() -> None:
    """The meanings come from the fields' docstrings, read from the source when the reference is built."""
    rows = [line for line in render().splitlines() if line.startswith("| `") and line.count("|") >= 6]
    assert len(rows) > 50
    empty = [row.split("|")[1].strip() for row in rows if not row.rstrip(" |").split("|")[-1].strip()]
    assert not empty, f"keys without a meaning in the reference: {empty}"


def test_importing_the_settings_reads_no_source_file() -> None:
    """Every command imports the settings; parsing their source for field docs cost 45 ms of each start.
    (Only pmtui's own files count: coverage, in CI's child processes, reads its own.)"""
    probe = (
        "import linecache, pathlib; import pmtui, pmtui.config; "
        "root = pathlib.Path(pmtui.__file__).parent; "
        "print([n for n in linecache.cache if pathlib.Path(n).is_relative_to(root)])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"importing pmtui.config read source files: {out}"


def test_every_setting_is_documented() -> None:
    text = render()
    for key in (
        "interval_seconds",
        "conflict_policy",
        "tasks_data_source_id",
        "team_key",
        "webhook_port",
        "storage_options",
        "planner",
        "keymap",
    ):
        assert f"`{key}`" in text


@pytest.mark.slow
def test_every_pmtui_command_in_the_docs_exists() -> None:
    runner = CliRunner()
    docs, examples = sorted((ROOT / "docs").rglob("*.md")), sorted((ROOT / "examples").glob("**/*.md"))
    pages = [ROOT / "README.md", *docs, *examples]
    seen = set()
    for page in pages:
        for match in re.finditer(r"`pmtui ((?:[a-z]+ ?){1,2})", page.read_text()):
            words = match.group(1).split()
            command = [w for w in words if not w.startswith("-")][:2]
            while command:
                result = runner.invoke(app, [*command, "--help"])
                if result.exit_code == 0:
                    break
                command = command[:-1]
            seen.add(" ".join(words))
            # `pmtui key` is the Notion property pmtui adds (docs/services/notion.md), not a command.
            known = ("--home", "--version", "key")
            assert command or words[0] in known, f"{page.name}: `pmtui {' '.join(words)}`"
    assert "sandbox serve" in {s.strip() for s in seen}


def test_every_relative_link_in_the_docs_resolves() -> None:
    pages = [
        ROOT / "README.md",
        ROOT / "CHANGELOG.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted((ROOT / "examples").rglob("*.md")),
        *sorted((ROOT / "tests" / "faults").glob("*.md")),
    ]
    broken = []
    for page in pages:
        for match in re.finditer(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            target = match.group(1)
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken
    assert len(pages) > 20
