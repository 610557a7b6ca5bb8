"""Start the four emulators together, seed them, and say how to point pmtui at them.

Used by ``pmtui sandbox serve`` (foreground), ``pmtui demo`` (in-process, throwaway home), the test
fixtures and the benchmarks. One shared :class:`~pmtui.sandbox.server.Clock` drives all four, so a test
that moves time moves it everywhere at once.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmtui import paths
from pmtui.errors import UsageError
from pmtui.sandbox.server import SERVICES, Clock, Fault, RunningEmulator, ServiceEmulator, parse_fault_spec

log = logging.getLogger("pmtui.sandbox")

_CLASSES = {
    "linear": ("pmtui.sandbox.linear", "LinearEmulator"),
    "gitlab": ("pmtui.sandbox.gitlab", "GitLabEmulator"),
    "notion": ("pmtui.sandbox.notion", "NotionEmulator"),
    "motion": ("pmtui.sandbox.motion", "MotionEmulator"),
}


def emulator_class(service: str) -> type[ServiceEmulator]:
    """The emulator class of ``service`` (imported on demand: the Linear one loads a large schema)."""
    module_name, class_name = _CLASSES[service]
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name, None) or getattr(module, class_name.replace("GitLab", "Gitlab"))
    return cls  # type: ignore[no-any-return]


def parse_seed(seed: str | int | None) -> dict[str, Any] | None:
    """``demo`` -> the demo workspace; a number N -> N generated tasks per service; ``none`` -> empty."""
    if seed is None or seed == "none":
        return None
    if seed == "demo":
        return {"kind": "demo"}
    try:
        n = int(seed)
    except (TypeError, ValueError):
        raise UsageError(f"--seed takes 'demo', 'none' or a number of tasks, not {seed!r}") from None
    if n < 0:
        raise UsageError("--seed takes a positive number of tasks")
    return {"kind": "bulk", "n": n}


@dataclass
class Sandbox:
    """The four running emulators and what a pmtui config needs to reach them."""

    clock: Clock
    running: dict[str, RunningEmulator] = field(default_factory=dict)
    seeded: dict[str, Any] = field(default_factory=dict)

    def emulator(self, service: str) -> ServiceEmulator:
        return self.running[service].emulator

    def url(self, service: str) -> str:
        return self.running[service].url

    def api_key(self, service: str) -> str:
        return str(getattr(self.emulator(service), "api_key", ""))

    def hints(self, service: str) -> dict[str, Any]:
        hints = getattr(self.emulator(service), "config_hints", None)
        return dict(hints()) if callable(hints) else {}

    def settings_dict(self) -> dict[str, Any]:
        """A pmtui settings mapping (as in config.toml) that points every service at this sandbox."""
        data: dict[str, Any] = {}
        if "motion" in self.running:
            hints = self.hints("motion")
            data["motion"] = {"base_url": self.url("motion"), "workspace_id": hints.get("workspace_id")}
        if "linear" in self.running:
            data["linear"] = {
                "base_url": self.url("linear"),
                "team_key": self.hints("linear").get("team_key"),
            }
        if "notion" in self.running:
            hints = self.hints("notion")
            data["notion"] = {
                "base_url": self.url("notion"),
                "tasks_data_source_id": hints.get("tasks_data_source_id"),
                "projects_data_source_id": hints.get("projects_data_source_id"),
            }
        if "gitlab" in self.running:
            hints = self.hints("gitlab")
            data["gitlab"] = {"base_url": self.url("gitlab"), "project": str(hints.get("project_id", ""))}
        for section in data.values():
            for key in [k for k, v in section.items() if v in (None, "")]:
                del section[key]
        return data

    def env(self) -> dict[str, str]:
        """The PMTUI_*_API_KEY variables for the sandbox's (fake) keys."""
        return {f"PMTUI_{service.upper()}_API_KEY": self.api_key(service) for service in self.running}

    def config_toml(self, *, with_keys: bool, local_budgets: bool = False) -> str:
        """config.toml text for this sandbox; ``with_keys`` puts the fake keys in (file must be mode 600)."""
        lines = [
            "# Written by `pmtui sandbox serve --write-config`: points pmtui at the local emulators.",
            "# The keys below are the sandbox's fake keys, not secrets.",
            "",
        ]
        for section, values in self.settings_dict().items():
            lines.append(f"[{section}]")
            lines.append("enabled = true")
            for key, value in values.items():
                lines.append(f"{key} = {_toml_value(value)}")
            board = self.hints("gitlab").get("board") if section == "gitlab" else None
            if board:
                # Follow the seeded board, so the demo's kanban can show its lists as columns. Only the
                # written config does: tests built on settings_dict() keep GitLab's plain label mapping.
                lines.append(f"board = {_toml_value(board)}")
            if with_keys:
                lines.append(f"api_key = {_toml_value(self.api_key(section))}")
            if local_budgets:
                # The emulators run without rate limits: keep pmtui's own client budget out of the way too.
                lines.append("requests_per_minute = 6000")
            lines.append("")
        return "\n".join(lines)

    def write_config(self, path: Path | None = None, *, local_budgets: bool = False) -> Path:
        """Write :meth:`config_toml` (with keys) to the settings file, private to the user."""
        path = path or paths.config_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(self.config_toml(with_keys=True, local_budgets=local_budgets), encoding="utf-8")
        return path

    def request_counts(self) -> dict[str, dict[str, int]]:
        return {name: run.emulator.request_counts() for name, run in self.running.items()}

    def reset_counts(self) -> None:
        for run in self.running.values():
            run.emulator.reset_counts()

    def stop(self) -> None:
        for run in self.running.values():
            run.stop()
        self.running.clear()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_sandbox(
    *,
    seed: str | int | None = "demo",
    faults: str | dict[str, list[Fault]] | None = None,
    rate_limits: bool = False,
    port: int = 0,
    services: tuple[str, ...] = SERVICES,
    clock: Clock | None = None,
    rng_seed: int = 0,
    linear_schema: Path | str | None = None,
) -> Sandbox:
    """Start the emulators on 127.0.0.1 (free ports, or PORT..PORT+3), seeded and ready.

    ``rate_limits`` enforces the services' real budgets (Motion's 12/min makes a sync slow: off for tests).
    ``linear_schema`` is a Linear SDL for the Linear emulator to run on (default: the
    ``PMTUI_SANDBOX_LINEAR_SCHEMA`` setting, else pmtui's own SDL; see docs/sandbox.md).
    """
    if "linear" in services:
        from pmtui.sandbox.linear_schema import schema_path

        schema_path(linear_schema)  # a wrong path is a usage error before anything starts
    try:
        fault_map = parse_fault_spec(faults) if isinstance(faults, str) else (faults or {})
    except ValueError as exc:  # a typo in --faults is bad input (exit 2), not a crash
        raise UsageError(f"--faults: {exc}", hint="see docs/sandbox.md for the fault kinds") from None
    unknown = set(fault_map) - set(services)
    if unknown:
        raise UsageError(f"faults name services that are not started: {', '.join(sorted(unknown))}")
    spec = parse_seed(seed)
    sandbox = Sandbox(clock=clock or Clock())
    try:
        for index, service in enumerate(services):
            options: dict[str, Any] = {"schema_path": linear_schema} if service == "linear" else {}
            emulator = emulator_class(service)(clock=sandbox.clock, seed=rng_seed, **options)
            emulator.rate_limits_enabled = rate_limits
            if spec is not None:
                sandbox.seeded[service] = emulator.seed(dict(spec))
            emulator.set_faults(fault_map.get(service, []))
            try:
                running = RunningEmulator(emulator, port=port + index if port else 0).start()
            except OSError as exc:
                raise UsageError(
                    f"cannot listen on 127.0.0.1:{port + index} for {service}: {exc.strerror}"
                ) from exc
            sandbox.running[service] = running
            log.info("sandbox %s on %s", service, running.url)
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


def serve_forever(
    *,
    port: int = 0,
    faults: str | None = None,
    seed: str = "demo",
    write_config: bool = False,
    rate_limits: bool = True,
    linear_schema: Path | str | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C (or SIGTERM), printing how to use it."""
    started = time.perf_counter()
    sandbox = start_sandbox(
        seed=seed, faults=faults, rate_limits=rate_limits, port=port, linear_schema=linear_schema
    )
    elapsed = time.perf_counter() - started
    echo(
        f"pmtui sandbox: 4 services up in {elapsed:.1f}s (seed: {seed}; rate limits "
        f"{'on' if rate_limits else 'off'}; faults: {faults or 'none'})"
    )
    for service, running in sandbox.running.items():
        echo(f"  {service:<7} {running.url}")
    if "linear" in sandbox.running:
        from pmtui.sandbox.linear_schema import schema_path

        echo(f"  linear schema: {schema_path(linear_schema)}")
    if write_config:
        path = sandbox.write_config(local_budgets=not rate_limits)
        echo(
            f"\nwrote {path} (mode 600): `pmtui sync`, `pmtui briefing` and `pmtui` in another shell with "
            f"PMTUI_HOME={paths.home_override() or '(default)'} now use the sandbox."
        )
    else:
        echo("\nconfig.toml for pmtui (or re-run with --write-config):\n")
        echo(sandbox.config_toml(with_keys=False))
        echo("environment:")
        for name, value in sandbox.env().items():
            echo(f"  export {name}={value}")
    echo("\nadmin: GET <url>/_sandbox/requests, POST <url>/_sandbox/faults, ... ; Ctrl-C stops.")
    try:
        _wait_for_stop()
    finally:
        sandbox.stop()
        echo("sandbox stopped")


def _wait_for_stop() -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_demo(
    *,
    keep: bool = False,
    echo: Callable[[str], None] = print,
    open_app: Callable[[], None] | None = None,
) -> Path:
    """Start the demo sandbox in-process with a throwaway PMTUI_HOME, then open ``open_app`` over it.

    Without an app to open (the terminal app is not built yet) the sandbox keeps serving so that
    `pmtui` commands in another shell can use it with the printed PMTUI_HOME.
    """
    import os
    import shutil
    import tempfile

    from pmtui.logs import configure_logging

    home = Path(tempfile.mkdtemp(prefix="pmtui-demo-"))
    os.environ["PMTUI_HOME"] = str(home)
    # The demo's log lines belong to its throwaway home, not the user's real log file.
    configure_logging(paths.log_dir(), mode="headless")
    sandbox = start_sandbox(seed="demo", rate_limits=False)
    try:
        sandbox.write_config(local_budgets=True)
        counts = ", ".join(f"{name} {summary}" for name, summary in _summaries(sandbox).items())
        echo(f"pmtui demo: sandbox up with demo data ({counts})")
        echo(f"PMTUI_HOME={home}")
        if open_app is not None:
            open_app()
        else:
            echo("the terminal app is not built yet; use the sandbox from another shell:")
            echo(f"  export PMTUI_HOME={home}")
            echo("  pmtui doctor")
            echo("Ctrl-C stops the demo.")
            _wait_for_stop()
    finally:
        sandbox.stop()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
        else:
            echo(f"kept {home}")
    return home


def _summaries(sandbox: Sandbox) -> dict[str, str]:
    result = {}
    for name, summary in sandbox.seeded.items():
        if isinstance(summary, dict):
            numbers = [f"{v} {k}" for k, v in summary.items() if isinstance(v, int)]
            result[name] = "/".join(numbers[:2]) if numbers else "seeded"
        else:
            result[name] = "seeded"
    return result
