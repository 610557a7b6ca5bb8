"""Every `pmtui` command shown in README.md, docs/ and examples/ runs against the sandbox.

The collector reads the fenced ```console, ```bash, ```sh and ```shell blocks of README.md,
docs/**/*.md and examples/**/README.md:

- in a ``console`` block a command is a line starting with ``$ ``; the lines after it, up to the next
  command, are its shown output. When the shown output has no ellipsis (``...`` or ``…``) every shown
  line must appear in the real output;
- in the other blocks every line is a command (``\\`` continues a line); ``&&`` and ``;`` separate
  commands; ``> file`` redirections and ``| filter`` pipes are dropped; ``export`` lines are ignored
  (the test sets its own PMTUI_HOME and keys);
- only commands whose program is ``pmtui`` are run. A comment on the line saying ``exits N`` sets the
  expected exit code (default 0).

All run in-process (Typer's CliRunner) in document order, over one sandbox with the demo workspace and a
fresh PMTUI_HOME whose config points at it, synced once before the first command. Commands that cannot
run in a test are in PARSE_ONLY, with the reason: for those the command line is still parsed, so a
removed command or option fails the test all the same.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from pmtui.cli import app
from pmtui.sandbox.runner import Sandbox, start_sandbox

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHELL_BLOCKS = {"console", "bash", "sh", "shell"}

PARSE_ONLY: dict[tuple[str, ...], str] = {
    # Commands that cannot run inside a test; their arguments are parsed (and so checked) instead.
    (): "bare `pmtui` opens the terminal app (tests/tui drive it with Pilot)",
    ("demo",): "opens the terminal app over an in-process sandbox (tests/tui cover the app)",
    ("sandbox", "serve"): "serves in the foreground until Ctrl-C; the test's own sandbox stands in for it",
    ("sync", "--watch"): "keeps syncing until SIGTERM (tests/test_cli_sync.py runs it in a subprocess)",
    ("bench",): "minutes of benchmarks (tests/test_benchmarks.py runs the suite's quick mode)",
}

SCRATCH_HOME = {("config", "init")}
"""Commands run in an empty PMTUI_HOME (the test's own home already has a config file)."""


@dataclass
class Command:
    """One `pmtui` command line found in a document."""

    page: str
    line: int
    argv: list[str]
    expected_exit: int = 0
    shown_output: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line} pmtui {shlex.join(self.argv)}"[:120]


def _blocks(text: str) -> Iterator[tuple[str, int, list[str]]]:
    """(info string, first line number, lines) of each fenced block, with the fence's indent removed."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        indent, info = len(opening.group(1)), opening.group(2)
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].isspace() else lines[j].lstrip())
            j += 1
        yield info, i + 2, body
        i = j + 1


def _split(line: str) -> tuple[list[list[str]], str]:
    """Commands of one shell line (split on && and ;, without redirections and pipes) and its comment."""
    quote, cut = "", len(line)
    for k, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (k == 0 or line[k - 1].isspace()):
            cut = k
            break
    comment = line[cut:]
    lexer = shlex.shlex(line[:cut], posix=True, punctuation_chars="&;|>")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    skipping = False
    for token in lexer:
        if token in ("&&", ";"):
            commands.append([])
            skipping = False
        elif token in ("|", ">", ">>", "2>&1", "&"):
            skipping = True
        elif not skipping:
            commands[-1].append(token)
    return [c for c in commands if c], comment


def collect_commands() -> list[Command]:
    pages = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted(EXAMPLES.glob("**/README.md")),
    ]
    found: list[Command] = []
    for page in pages:
        name = str(page.relative_to(ROOT))
        for info, first, body in _blocks(page.read_text(encoding="utf-8")):
            if info not in SHELL_BLOCKS:
                continue
            k = 0
            while k < len(body):
                number, raw = first + k, body[k]
                if info == "console":
                    if not raw.startswith("$ "):
                        k += 1
                        continue
                    raw = raw[2:]
                while raw.endswith("\\") and k + 1 < len(body):
                    k += 1
                    raw = raw[:-1] + " " + body[k].strip()
                k += 1
                shown: list[str] = []
                if info == "console":
                    while k < len(body) and not body[k].startswith("$ "):
                        shown.append(body[k])
                        k += 1
                commands, comment = _split(raw.strip())
                exits = re.search(r"\bexits (\d+)\b", comment)
                for argv in commands:
                    while argv and re.match(r"^[A-Z_][A-Z0-9_]*=", argv[0]):
                        argv = argv[1:]  # VAR=value prefixes: the test provides its own environment
                    if argv and argv[0] == "pmtui":
                        found.append(
                            Command(name, number, argv[1:], int(exits.group(1)) if exits else 0, shown)
                        )
    return found


COMMANDS = collect_commands()


def _words(argv: list[str]) -> tuple[str, ...]:
    return tuple(w for w in argv if not w.startswith("-"))[:2]


def _parse_only_reason(argv: list[str]) -> str | None:
    words = _words(argv)
    if "--watch" in argv:
        return PARSE_ONLY[("sync", "--watch")]
    for key, reason in PARSE_ONLY.items():
        if key and words[: len(key)] == key:
            return reason
    return PARSE_ONLY[()] if not words and not {"--version", "--help", "-h"} & set(argv) else None


def _parse(argv: list[str]) -> None:
    """Parse a command line the way Click would, down to the subcommand, without running it."""
    command: click.Command = typer.main.get_command(app)
    ctx = command.make_context("pmtui", list(argv), resilient_parsing=False)
    while isinstance(command, click.Group) and ctx.protected_args + ctx.args:
        rest = [*ctx.protected_args, *ctx.args]
        name, sub, remaining = command.resolve_command(ctx, rest)
        assert sub is not None, f"no command {name!r}"
        ctx = sub.make_context(name or "", remaining, parent=ctx)
        command = sub


@pytest.fixture(scope="module")
def docs_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("docs-home")
    with start_sandbox(seed="demo") as sandbox:
        _prime(sandbox, home)
        yield home


def _prime(sandbox: Sandbox, home: Path) -> None:
    sandbox.write_config(home / "config" / "config.toml", local_budgets=True)
    result = CliRunner().invoke(app, ["sync"], env={"PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1"})
    assert result.exit_code == 0, result.output


def test_the_docs_show_commands() -> None:
    """Guard the collector: it finds the README's sandbox walk-through and a console block's output."""
    ids = [c.id for c in COMMANDS]
    assert any(i.startswith("README.md:") and i.endswith("pmtui briefing") for i in ids), ids
    assert any(c.shown_output for c in COMMANDS)
    assert len(COMMANDS) > 20


@pytest.mark.parametrize("command", COMMANDS, ids=[c.id for c in COMMANDS])
def test_documented_command_runs(command: Command, docs_home: Path, tmp_path: Path) -> None:
    argv = [str(tmp_path / a[5:]) if a.startswith("/tmp/") else a for a in command.argv]
    if _parse_only_reason(argv) is not None:
        _parse(argv)
        return
    if _words(argv)[:1] == ("do",) and not {"--yes", "-y", "--dry-run"} & set(argv):
        # Without a terminal `pmtui do` refuses to ask "Run this plan?"; the plan is what can be checked.
        argv = [argv[0], "--dry-run", *argv[1:]]
    home = tmp_path / "scratch" if _words(argv) in SCRATCH_HOME else docs_home
    result = CliRunner().invoke(app, argv, env={"PMTUI_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "100"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == command.expected_exit, f"{command.id}\n{result.output}"
    shown = [line.strip() for line in command.shown_output if line.strip()]
    if shown and not any("..." in line or "…" in line for line in shown):
        actual = {re.sub(r"\s+", " ", line.strip()) for line in result.output.splitlines()}
        for line in shown:
            assert re.sub(r"\s+", " ", line) in actual, (
                f"{command.id}: shown {line!r} not in\n{result.output}"
            )


def _toml_blocks() -> list[tuple[str, int, str]]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted(EXAMPLES.glob("**/*.md"))]
    return [
        (str(page.relative_to(ROOT)), line, "\n".join(body))
        for page in pages
        for info, line, body in _blocks(page.read_text(encoding="utf-8"))
        if info == "toml"
    ]


@pytest.mark.parametrize(
    ("page", "line", "text"), _toml_blocks(), ids=[f"{p}:{n}" for p, n, _ in _toml_blocks()]
)
def test_documented_settings_are_valid(page: str, line: int, text: str, tmp_path: Path) -> None:
    """Every ```toml block in the docs is a valid (partial) settings file."""
    import tomllib

    from pmtui.config import load_settings

    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    loaded = load_settings(path).model_dump()
    # Loading raises on a bad block; and every key the block sets is one the settings model knows.
    for section, values in tomllib.loads(text).items():
        assert section in loaded, f"{page}:{line}: [{section}]"
        if isinstance(values, dict) and isinstance(loaded[section], dict):
            unknown = sorted(set(values) - set(loaded[section]) - {"api_key"})
            assert not unknown, f"{page}:{line}: [{section}] {unknown}"
