"""Run one example workflow against the sandbox: `python examples/run.py release`.

What it does, printing each `pmtui` command before running it (so you can type them yourself later):

1. start the four emulators with the demo workspace in a throwaway PMTUI_HOME (or, with `--home DIR`,
   use the sandbox that `pmtui sandbox serve --write-config --no-rate-limits` is serving for DIR);
2. `pmtui sync`, so requests can name tasks and projects that already exist;
3. `pmtui do --yes "<request>"` for every line of the example's `requests.txt`;
4. `pmtui sync`, then `pmtui briefing`.

An example's `config.toml`, if it has one, is applied as `PMTUI_<SECTION>__<KEY>` environment variables
for these commands only: your settings file is never edited.

Exit code: 0 when every command succeeded, else the first failing command's code.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent


def examples() -> list[str]:
    """The example names: folders of this directory that hold a requests.txt."""
    return sorted(p.parent.name for p in HERE.glob("*/requests.txt"))


def requests_of(name: str) -> list[str]:
    """The example's requests: one per line; blank lines and lines starting with # are skipped."""
    lines = (HERE / name / "requests.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def config_env(name: str) -> dict[str, str]:
    """The example's config.toml as PMTUI_* variables (tables become SECTION__KEY, values JSON)."""
    path = HERE / name / "config.toml"
    if not path.exists():
        return {}
    env: dict[str, str] = {}
    for section, values in tomllib.loads(path.read_text(encoding="utf-8")).items():
        if not isinstance(values, dict):
            env[f"PMTUI_{section.upper()}"] = json.dumps(values)
            continue
        for key, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value)
            env[f"PMTUI_{section.upper()}__{key.upper()}"] = text
    return env


@contextmanager
def sandbox_home(home: Path | None) -> Iterator[Path]:
    """``home`` as given (a sandbox serves it already), or a throwaway one with a sandbox started for it."""
    if home is not None:
        if not (home / "config" / "config.toml").exists():
            raise SystemExit(
                f"{home}/config/config.toml not found: start `PMTUI_HOME={home} pmtui sandbox serve "
                "--write-config --no-rate-limits` in another shell first, or drop --home"
            )
        yield home
        return
    from pmtui.sandbox.runner import start_sandbox

    with tempfile.TemporaryDirectory(prefix="pmtui-example-") as tmp, start_sandbox(seed="demo") as sandbox:
        path = Path(tmp)
        sandbox.write_config(path / "config" / "config.toml", local_budgets=True)
        yield path


Invoke = Callable[[list[str], dict[str, str]], tuple[int, str]]
"""Runs `pmtui ARGS` with these environment variables set; returns its exit code and output."""


def invoke_subprocess(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """`pmtui ARGS` as a separate process, exactly as typed in a shell."""
    done = subprocess.run(
        [sys.executable, "-m", "pmtui.cli", *args],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def _readable(line: str) -> str:
    """A `pmtui sync` JSON line (its output when not on a terminal) as a short human line."""
    if line.startswith("{") and '"service"' in line:
        try:
            run = json.loads(line)
            return (
                f"[{run['status']}] {run['service']}: {run['pulled']} pulled, {run['pushed']} pushed, "
                f"{run['conflicts']} conflicts" + (f" ({run['error']})" if run.get("error") else "")
            )
        except (ValueError, KeyError):
            return line
    return line


def run(
    name: str,
    *,
    home: Path | None = None,
    echo: Callable[[str], None] = print,
    invoke: Invoke = invoke_subprocess,
) -> int:
    """Run example ``name``; returns 0 or the exit code of the first command that failed."""
    if name not in examples():
        echo(f"no example {name!r}; there are: {', '.join(examples())}")
        return 2
    with sandbox_home(home) as pmtui_home:
        env = {"PMTUI_HOME": str(pmtui_home), "NO_COLOR": "1", **config_env(name)}
        echo(f"# example {name}: PMTUI_HOME={pmtui_home}")
        for key, value in config_env(name).items():
            echo(f"# from {name}/config.toml: {key}={value}")
        steps = [["sync"], *(["do", "--yes", line] for line in requests_of(name)), ["sync"], ["briefing"]]
        for args in steps:
            echo("$ pmtui " + shlex.join(args))
            code, output = invoke(args, env)
            for line in output.rstrip("\n").splitlines():
                echo(_readable(line))
            if code != 0:
                echo(f"# `pmtui {args[0]}` exited {code}; stopping")
                return code
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python examples/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", help="the example to run: " + ", ".join(examples()))
    parser.add_argument(
        "--home",
        type=Path,
        help="use the sandbox already serving this PMTUI_HOME instead of starting one",
    )
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        for name in examples():
            first = (HERE / name / "README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
            print(f"{name:<15} {first}")  # noqa: T201
        return 0
    return run(args.name, home=args.home)


if __name__ == "__main__":
    sys.exit(main())
