"""The ``pmtui`` command: bare ``pmtui`` opens the TUI; subcommands cover the rest.

This module is on every command's start path, so it imports only what every command needs; each
command imports its own machinery inside its body (the TUI, the clients and litellm are heavy).
Errors are converted here, once: a :class:`~pmtui.errors.PmtuiError` becomes one line on stderr (plus
its hint) and the error's exit code; never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pmtui import __version__, paths
from pmtui.errors import PmtuiError
from pmtui.launch import DISK_ERRNOS
from pmtui.text import clean_block, clean_line

if TYPE_CHECKING:
    from pmtui.config import Settings

app = typer.Typer(
    name="pmtui",
    help="A keyboard-driven command centre for work spread over Motion, Linear, Notion and GitLab.",
    no_args_is_help=False,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
config_app = typer.Typer(help="Show, locate or create the settings file.", no_args_is_help=True)
sandbox_app = typer.Typer(
    help="Local emulators of the four services, for trying pmtui with no account.", no_args_is_help=True
)
app.add_typer(config_app, name="config")
app.add_typer(sandbox_app, name="sandbox")
cache_app = typer.Typer(
    help="Check the local cache, or rebuild a damaged one from the services.", no_args_is_help=True
)
app.add_typer(cache_app, name="cache")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _out(text: str = "") -> None:
    print(text)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


LONG_LINE = 900
"""Cut of a composed line (a plan step, a doctor check): long enough for ids, short of a 10 kB title."""


def _refresh_before_briefing(settings: Settings) -> None:
    """`pmtui briefing --refresh`: sync every configured service first, one progress line each on stderr."""
    from pmtui.core.engine import Engine, EngineEvent

    _configure_logging(settings)

    def progress(event: EngineEvent) -> None:
        if event.kind == "sync-start":
            _err(f"  {event.message} ...")
        elif event.kind == "sync-done":
            run = event.data.get("run")
            detail = f" ({run.pulled} pulled, {run.pushed} pushed)" if run is not None else ""
            _err(f"  {event.message}{detail}")

    with Engine.open(settings) as engine:
        if not engine.configured_services():
            _err("--refresh: no service is configured; briefing from the cache")
            return
        engine.sync(on_progress=progress)


def _load_settings() -> Settings:
    from pmtui.config import load_settings

    return load_settings()


def _version_callback(value: bool) -> None:
    if value:
        _out(f"pmtui {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Keep config, data, cache and logs under DIR (same as PMTUI_HOME=DIR).",
            metavar="DIR",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Open the terminal app, or run one of the commands below."""
    if home is not None:
        os.environ["PMTUI_HOME"] = str(home.expanduser().resolve())
    ctx.obj = {"verbose": verbose}
    if ctx.invoked_subcommand is not None:
        from pmtui.logs import configure_logging

        # Headless: human lines on stderr (warnings, or progress with -v), JSON lines in the log file.
        # Commands that load the settings add the configured secrets to the redaction filter.
        configure_logging(paths.log_dir(), mode="headless", verbose=verbose)
    if ctx.invoked_subcommand is None:
        from pmtui.launch import open_app

        open_app(verbose=verbose)


@app.command()
def briefing(
    json_output: Annotated[bool, typer.Option("--json", help="Print the briefing as JSON.")] = False,
    date: Annotated[
        str | None,
        typer.Option("--date", help="Brief another day: YYYY-MM-DD, today, tomorrow, yesterday, fri..."),
    ] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Sync first, then brief.")] = False,
) -> None:
    """Print the morning briefing: overdue, today, upcoming, progress and sync health."""
    # The same function `pmtui briefing` runs without Typer (pmtui.launch); --refresh syncs first.
    from pmtui.instant import briefing as run_briefing

    if refresh:
        _refresh_before_briefing(_load_settings())
    code = run_briefing(json_output=json_output, date=date)
    if code:
        raise typer.Exit(code)


EXIT_CONFLICTS = 3


@app.command()
def sync(
    ctx: typer.Context,
    watch: Annotated[bool, typer.Option("--watch", help="Keep syncing every --interval seconds.")] = False,
    interval: Annotated[
        int | None, typer.Option("--interval", help="Seconds between runs with --watch (default: config).")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="JSON lines instead of the progress display.")
    ] = False,
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only this service (repeatable).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also show every request.")] = False,
) -> None:
    """Sync every enabled service once (headless mode), or keep syncing with --watch.

    While `pmtui sync --watch` or the app runs for this home with the same settings, a single round
    runs there and its runs are printed here (-v syncs in this process).

    Exit codes: 0 clean, 1 a service did not sync (failed, rate-limited), 3 conflicts are waiting,
    5 another process never releases the cache, 130 stopped by Ctrl-C.
    """
    import threading

    from pmtui import engine_link, headless
    from pmtui.core.engine import Engine
    from pmtui.models import Service

    key = engine_link.request_key()  # before the settings load: a change in between only declines
    settings = _load_settings()
    _configure_logging(settings)
    try:
        services = [Service(name.lower()) for name in service] if service else None
    except ValueError:
        _err(f"--service takes motion, linear, notion or gitlab, not {', '.join(service or [])}")
        raise typer.Exit(EXIT_USAGE) from None
    if not watch:  # the same function `pmtui sync` runs without Typer (pmtui.launch)
        root = ctx.find_root().obj or {}
        asked = [name.lower() for name in service or []]
        quiet = not (verbose or root.get("verbose"))  # -v shows this process's requests: it syncs itself
        handed = engine_link.ask_engine(asked, json_output=json_output, say=_err) if quiet else None
        if handed is not None:
            raise typer.Exit(handed)
        raise typer.Exit(
            headless.sync_once(settings, services, json_output=json_output, verbose=verbose, say=_err)
        )
    output = headless.SyncOutput(as_json=json_output or not sys.stdout.isatty(), verbose=verbose)
    stop = threading.Event()
    with Engine.open(settings) as engine, headless.Interrupts(stop, _err):
        wanted = services or engine.configured_services()
        if not wanted:
            _err("no service is configured: `pmtui doctor` shows how (or try `pmtui demo`)")
            raise typer.Exit(EXIT_FAILED)

        def mirror() -> None:
            _mirror_after_sync(engine, settings, quiet=output.as_json)

        wakeups = _webhook_receiver(settings, stop) if settings.sync.webhook_port else None
        runs = headless.watch(
            engine,
            wanted,
            interval=headless.settings_interval(settings, interval),
            stop=stop,
            output=output,
            wakeups=wakeups,
            after_run=mirror,
            serve_key=key,
        )
        code = headless.exit_code(runs, len(engine.store.conflicts()))
        raise typer.Exit(EXIT_OK if code == headless.EXIT_CANCELLED else code)


def _webhook_receiver(settings: Settings, stop: Any) -> Any:
    """Serve webhooks on the configured port; deliveries land in the returned queue as sync requests."""
    import queue as queue_module

    from pmtui.integrations.webhooks import (
        GITLAB_WEBHOOK_TOKEN_ENV,
        LINEAR_WEBHOOK_SECRET_ENV,
        WebhookReceiver,
    )

    wakeups: queue_module.Queue[Any] = queue_module.Queue()
    linear_secret = os.environ.get(LINEAR_WEBHOOK_SECRET_ENV) or None
    gitlab_token = os.environ.get(GITLAB_WEBHOOK_TOKEN_ENV) or None
    if not (linear_secret or gitlab_token):
        _err(
            f"[sync] webhook_port is set but neither {LINEAR_WEBHOOK_SECRET_ENV} nor "
            f"{GITLAB_WEBHOOK_TOKEN_ENV} is: serving no webhooks"
        )
        return None
    receiver = WebhookReceiver(
        wakeups.put,
        linear_secret=linear_secret,
        gitlab_token=gitlab_token,
        gitlab_project=settings.gitlab.project,
        port=settings.sync.webhook_port or 0,
    )
    receiver.start()
    _err(f"webhooks: {receiver.url}/webhooks/linear and /webhooks/gitlab")
    import threading

    def stop_when_asked() -> None:
        stop.wait()
        receiver.stop()

    threading.Thread(target=stop_when_asked, daemon=True).start()
    return wakeups


@app.command(name="do")
def do_request(
    text: Annotated[str, typer.Argument(help='What to do, e.g. "task Fix login due fri #bug @linear".')],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Run the plan without asking.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print plan and result as JSON.")] = False,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Send new tasks and projects to this service instead of the router's."),
    ] = None,
    save_rule: Annotated[
        bool,
        typer.Option("--save-rule", help="With --to: remember the choice as a routing rule for this kind."),
    ] = False,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Run it as a new request even if the same text was interrupted or just ran.",
        ),
    ] = False,
) -> None:
    """Turn a request into a plan of actions, show where each goes and why, then run it."""
    from pmtui.core.agent import make_planner
    from pmtui.core.engine import Engine
    from pmtui.core.orchestrator import AgentOrchestrator

    settings = _load_settings()
    _configure_logging(settings)
    planner, note = make_planner(settings)
    if note and not json_output:
        _err(note)
    with Engine.open(settings) as engine:
        if not dry_run:
            for line in engine.recover():
                _err(line)
        orchestrator = AgentOrchestrator(engine, planner)
        result = orchestrator.plan_request(text)
        if to is not None:
            result = _override(orchestrator, result, to, save_rule=save_rule, settings=settings)
        elif save_rule:
            _err("--save-rule goes with --to SERVICE")
            raise typer.Exit(EXIT_USAGE)
        if not json_output:
            _print_plan(result, orchestrator)
        if result.status != "planned" or dry_run:
            if json_output:
                _out(json.dumps(result.to_dict(), indent=2, default=str))
            if result.status in ("refused", "question", "nothing"):
                raise typer.Exit(EXIT_USAGE)  # the request itself needs fixing
            if result.status == "invalid":
                raise typer.Exit(EXIT_FAILED)
            return
        earlier = None if again else _same_request(engine, result)
        if earlier is not None and earlier.state == "interrupted":
            from pmtui.core.undo import progress_text

            _err(
                f"this request was interrupted at {_clock(engine, earlier.started_at)} "
                f"({progress_text(earlier)}): resuming it does the remaining steps and makes nothing twice "
                "(--again runs it as a new request)"
            )
            if not yes and not (sys.stdin.isatty() and typer.confirm("Resume it?", default=True)):
                _err("cancelled; nothing changed")
                raise typer.Exit(EXIT_FAILED)
            result = engine.requests.resume(earlier.request_id)
        elif earlier is not None:
            _err(
                f"you ran this request at {_clock(engine, earlier.finished_at)} and it finished "
                f"({len(earlier.steps)} step(s) done); pass --again to run it once more, or `pmtui undo` "
                "to take it back"
            )
            raise typer.Exit(EXIT_USAGE)
        else:
            if not yes and not result.read_only():  # a pure question only reads the cache
                if not sys.stdin.isatty():
                    _err("not a terminal: pass --yes to run the plan, or --dry-run to only show it")
                    raise typer.Exit(EXIT_USAGE)
                if not typer.confirm("Run this plan?", default=True):
                    _err("cancelled; nothing changed")
                    raise typer.Exit(EXIT_FAILED)
            result = orchestrator.run(result)
        if json_output:
            _out(json.dumps(result.to_dict(), indent=2, default=str))
        else:
            _out(clean_block(result.summary()))
            for rows in result.answers.values():
                for row in rows:
                    key = f" [{clean_line(row['key'], limit=40)}]" if row.get("key") else ""
                    due = f" due {clean_line(row['due'][:10])}" if row.get("due") else ""
                    _out(f"  - {clean_line(row['title'])}{key}{due}")
                if not rows:
                    _out("  (none)")
        if result.status not in ("done",):
            raise typer.Exit(EXIT_FAILED)
        if any(r.status.value == "conflict" for r in result.results):
            raise typer.Exit(EXIT_CONFLICTS)  # stored locally; the service changed it too


def _same_request(engine: Any, result: Any) -> Any:
    """An interrupted or just-finished request with the same text, for a plan that changes something."""
    from pmtui.models import Query, Sync

    if all(isinstance(a, Query | Sync) for a in result.plan.actions):
        return None
    return engine.requests.same_text(result.plan.text or "")


def _clock(engine: Any, moment: Any) -> str:
    return str(moment.astimezone(engine.settings.tzinfo()).strftime("%H:%M")) if moment else "?"


@app.command()
def undo(
    request: Annotated[
        str | None, typer.Argument(help="The request to undo (an id from --list); default: the latest.")
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the requests that can be undone.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Undo without asking.")] = False,
    redo: Annotated[
        bool, typer.Option("--redo", help="Write again the edits and completions an undo took back.")
    ] = False,
) -> None:
    """Undo a request's changes on every service (newest step first); a teammate's newer change is kept
    and becomes a conflict instead of being overwritten. An interrupted undo is finished."""
    from pmtui.core.engine import Engine
    from pmtui.core.undo import progress_text, short

    settings = _load_settings()
    _configure_logging(settings)
    with Engine.open(settings) as engine:
        log = engine.requests
        if list_only:
            rows = log.undoable()
            for record in rows:
                _out(
                    f"{record.request_id[:8]}  {_clock(engine, record.started_at)}  {record.state:<11} "
                    f"{progress_text(record):<20} {short(record.text, 60)}"
                )
            if not rows:
                _out("nothing to undo")
            return
        if redo:
            try:
                report = log.redo(request)
            except PmtuiError as exc:
                _err(exc.user_text())
                raise typer.Exit(EXIT_FAILED) from None
            for line in report.lines():
                _out(line.replace("undone: ", "redone: ", 1))
            raise typer.Exit(EXIT_CONFLICTS if report.conflicts else EXIT_OK)
        try:
            target = engine.store.request(request) if request else next(iter(log.undoable()), None)
            if target is None:
                _err("nothing to undo" + (f": no request {request!r}" if request else ""))
                raise typer.Exit(EXIT_FAILED)
            if not yes:
                if not sys.stdin.isatty():
                    _err("not a terminal: pass --yes to undo, or --list to see what can be undone")
                    raise typer.Exit(EXIT_USAGE)
                if not typer.confirm(f"Undo {short(target.text, 60)!r}?", default=True):
                    _err("cancelled; nothing changed")
                    raise typer.Exit(EXIT_FAILED)
            report = log.undo(target.request_id)
        except PmtuiError as exc:
            _err(exc.user_text())
            raise typer.Exit(EXIT_FAILED) from None
        for line in report.lines():
            _out(line)
        if report.conflicts:
            raise typer.Exit(EXIT_CONFLICTS)


@app.command()
def resume(
    request: Annotated[
        str | None, typer.Argument(help="The interrupted request (an id); default: the latest.")
    ] = None,
) -> None:
    """Finish a request a crash interrupted: the remaining steps run, the done ones are found, not redone."""
    from pmtui.core.engine import Engine

    settings = _load_settings()
    _configure_logging(settings)
    with Engine.open(settings) as engine:
        for line in engine.recover():
            _err(line)
        try:
            result = engine.requests.resume(request)
        except PmtuiError as exc:
            _err(exc.user_text())
            raise typer.Exit(EXIT_FAILED) from None
        _out(result.summary())
        if result.status != "done":
            raise typer.Exit(EXIT_FAILED)


def _override(orchestrator: Any, result: Any, to: str, *, save_rule: bool, settings: Settings) -> Any:
    """Apply `--to`, and with `--save-rule` remember it for tasks of the same kind."""
    from pmtui.config import RoutingRule, save_routing_rule
    from pmtui.core.router import facts_for
    from pmtui.models import CreateProject, CreateTask, Service

    try:
        service = Service(to.lower())
    except ValueError:
        _err(f"--to takes motion, linear, notion, gitlab or local, not {to!r}")
        raise typer.Exit(EXIT_USAGE) from None
    creates = [a for a in result.plan.actions if isinstance(a, CreateTask | CreateProject)]
    if result.status in ("planned", "invalid") and creates:
        result = orchestrator.override_route(result, service)
        if save_rule:
            kind = facts_for(creates[-1]).kind.value
            path = save_routing_rule(settings, RoutingRule(service=service, kind=kind))
            _err(f"saved: {kind} tasks now go to {service.label} (first rule in {path})")
    return result


def _print_plan(result: Any, orchestrator: Any) -> None:
    """The plan as a person reads it: what, where, why; or the question, or why nothing was planned."""
    plan = result.plan
    if result.status == "refused":
        _err(f"error: {clean_line(str(plan.error), limit=LONG_LINE)}")
        _err("Nothing was planned." + (f" Try: {plan.example}" if plan.example else ""))
        return
    if result.status == "question" and plan.question is not None:
        _print_candidates(plan.text, plan.question, orchestrator)
        return
    if result.status in ("question", "nothing"):
        _out(clean_block(result.summary()))
        return
    if plan.understood:
        _out(f"Understood: {clean_line(plan.understood, limit=LONG_LINE)}")
    _out("Plan:")
    for number, line in enumerate(result.plan_lines(), start=1):
        _out(f"  {number}. {clean_line(line, limit=LONG_LINE)}")
    if result.problems:
        _out("Problems (nothing will run):")
        for problem in result.problems:
            _out(f"  - {clean_line(problem, limit=LONG_LINE)}")


def _print_candidates(text: str, question: Any, orchestrator: Any) -> None:
    """A phrase that fits several tasks: list them by handle and say how to name one (no prompt).

    A script or a pipe cannot answer a question, and a person re-running the command with the handle
    gets the same result the next time too.
    """
    handles = {task.id: task for task in orchestrator.context().tasks}
    found = re.search(r"'(.+)'", question.text)
    phrase = found.group(1) if found else ""
    rows = []
    for choice in question.choices:
        task = handles.get(choice.value)
        handle = (task.key if task else None) or choice.value
        where = f" ({task.service.label})" if task and task.service else ""
        rows.append((handle, f"{task.title if task else choice.label}{where}"))
    _err(f"error: '{phrase}' matches {len(rows)} tasks:" if phrase else f"error: {question.text}")
    width = max(len(handle) for handle, _ in rows) if rows else 0
    for handle, label in rows:
        _err(f"  {handle.ljust(width)}  {label}")
    if rows:
        first = rows[0][0]
        example = _name_one(text, phrase, first)
        _err(f"Name one by its handle, e.g.: pmtui do {shlex.quote(example)}")


def _name_one(text: str, phrase: str, handle: str) -> str:
    """``text`` with the ambiguous ``phrase`` (and its quotes, if quoted) replaced by ``handle``."""
    for quote in ('"', "'", ""):
        quoted = f"{quote}{phrase}{quote}"
        if phrase and quoted in text:
            return text.replace(quoted, handle, 1)
    return f"{text} {handle}"


def _configure_logging(settings: Settings) -> None:
    """Teach the redaction filter the configured secrets (logging itself is set up in `root`)."""
    from pmtui.config import known_secrets
    from pmtui.logs import redaction_filter

    redaction_filter().add_secrets(known_secrets(settings))


@app.command()
def demo(
    keep: Annotated[bool, typer.Option("--keep", help="Keep the throwaway PMTUI_HOME when done.")] = False,
) -> None:
    """Start the local emulators with demo data and open pmtui against them (no account needed)."""
    from pmtui.sandbox.runner import run_demo

    def open_app() -> None:
        from pmtui.app import make_app
        from pmtui.logs import configure_logging

        configure_logging(paths.log_dir(), mode="tui")
        settings = _load_settings()
        _configure_logging(settings)
        app = make_app(settings)
        try:
            app.run()
        finally:
            # Closed before the sandbox stops and the throwaway home is removed under it.
            if app.backend.engine_open:
                app.backend.engine.close()
        if app.start_error is not None:
            raise app.start_error

    run_demo(keep=keep, echo=_out, open_app=open_app)


@app.command()
def conflicts(
    json_output: Annotated[bool, typer.Option("--json", help="Print the conflicts as JSON.")] = False,
) -> None:
    """List the open sync conflicts (resolve them in the TUI's conflict screen)."""
    from pmtui.instant import conflicts as run_conflicts

    raise typer.Exit(run_conflicts(json_output=json_output))


def _mirror_after_sync(engine: Any, settings: Settings, *, quiet: bool) -> None:
    """Mirror after a sync when enabled: a failure is a stderr line and a recorded decision, never an exit."""
    from pmtui.headless import mirror_after_sync

    mirror_after_sync(engine, settings, quiet=quiet, say=_err)


@app.command()
def mirror(
    target: Annotated[
        str | None, typer.Option("--target", help="Folder or s3:// abfss:// gs:// URI.")
    ] = None,
) -> None:
    """Mirror the local cache to the Delta Lake tables the Databricks notebooks read.

    Prints what it wrote per table; exits 1 if any table could not be written (the next run retries it).
    """
    from pmtui.core.mirror import run_mirror
    from pmtui.core.store import Store, store_path

    settings = _load_settings()
    _configure_logging(settings)
    path = store_path(paths.data_dir())
    if not path.exists():
        _err(f"error: no cache at {path} yet")
        _err("  hint: run `pmtui sync` (or `pmtui demo`) first")
        raise typer.Exit(EXIT_FAILED)
    with Store(path) as store:
        report = run_mirror(store, settings, target=target)
    _out(f"mirror -> {report.target}")
    for table in report.tables:
        if table.error is not None:
            _out(f"  {table.table:<14} FAILED: {table.error}")
            continue
        extra = " · created" if table.created else ""
        extra += " · compacted" if table.compacted else ""
        _out(
            f"  {table.table:<14} {table.inserted} inserted · {table.updated} updated · "
            f"{table.deleted} deleted · {table.files} file(s) · version {table.version}{extra}"
        )
    if not report.ok:
        _err(f"error: the mirror failed for {report.error_text()}")
        _err("  hint: check that the target is writable and its credentials are set; the next run retries")
        raise typer.Exit(EXIT_FAILED)
    _out(f"{report.merged} row(s) in {report.seconds:.1f} s")


@app.command()
def doctor(
    json_output: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Do not contact the services.")] = False,
) -> None:
    """Check the config, the folders, the cache and each service; one line each, with a fix."""
    from pmtui.core.doctor import run_checks

    checks = run_checks(online=not offline)
    if json_output:
        _out(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "off": "--  "}
        for check in checks:
            _out(f"[{marks[check.status]}] {check.name}: {clean_line(check.detail, limit=LONG_LINE)}")
            if check.hint and check.status != "ok":
                _out(f"       fix: {clean_line(check.hint, limit=LONG_LINE)}")
    raise typer.Exit(EXIT_FAILED if any(c.status == "fail" for c in checks) else EXIT_OK)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Smaller sizes, fewer repetitions.")] = False,
    case: Annotated[
        list[str] | None,
        typer.Option("--case", metavar="NAME", help="Run only this case or group (e.g. sync); repeatable."),
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Write the results into benchmarks/results/ (the tracked record).")
    ] = False,
) -> None:
    """Run the benchmark suite over the sandbox (same as `python -m benchmarks`); needs a source checkout.

    The wheel does not ship the benchmarks: an installed pmtui says so and exits 1.
    """
    try:
        from benchmarks.__main__ import main as run_benchmarks
    except ImportError:
        _err("error: the benchmarks package is not installed")
        _err("  hint: run `pmtui bench` (or `python -m benchmarks`) from a source checkout of pmtui")
        raise typer.Exit(EXIT_FAILED) from None
    args = ["--quick"] if quick else []
    for name in case or []:
        args += ["--case", name]
    if save:
        args.append("--save")
    raise typer.Exit(run_benchmarks(args))


@config_app.command("path")
def config_path() -> None:
    """Print where the settings file, the cache and the logs live."""
    _out(f"config: {paths.config_file()}")
    _out(f"data:   {paths.data_dir()}")
    _out(f"cache:  {paths.cache_dir()}")
    _out(f"logs:   {paths.log_dir()}")


@config_app.command("show")
def config_show(
    json_output: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print the effective settings (file + environment), with secrets masked."""
    settings = _load_settings()
    data: dict[str, Any] = settings.model_dump(mode="json")
    from pmtui.config import SECRET_ENV, resolve_secret

    for service in SECRET_ENV:
        found = resolve_secret(settings, service)
        data[service.value]["api_key"] = f"set ({found.source})" if found else "not set"
    if json_output:
        _out(json.dumps(data, indent=2))
        return
    for section, values in data.items():
        if isinstance(values, dict):
            _out(f"[{section}]")
            for key, value in values.items():
                _out(f"{key} = {json.dumps(value)}")
            _out()
        else:
            _out(f"{section} = {json.dumps(values)}")


@config_app.command("reference")
def config_reference() -> None:
    """Print the configuration reference (every key, type, default and env var) as Markdown."""
    from pmtui.config_reference import render

    sys.stdout.write(render())


@config_app.command("init")
def config_init(
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented starter settings file (private to you: mode 600)."""
    from pmtui.config import write_template

    path = write_template(force=force)
    _out(f"wrote {path}")
    _out("next: set your keys (e.g. export PMTUI_LINEAR_API_KEY=...), then run `pmtui doctor`")


@cache_app.command("check")
def cache_check() -> None:
    """Read the whole cache once; exit 0 if it is sound, 4 (with the fix) if it is damaged."""
    from pmtui.core.recovery import check_cache
    from pmtui.core.store import DAMAGED_HINT, store_path

    path = store_path(paths.data_dir())
    if not path.exists():
        _out(f"no cache at {path} yet (`pmtui sync` creates it)")
        return
    problem = check_cache(path)
    if problem is None:
        _out(f"ok: {path} reads end to end")
        return
    _err(f"error: {problem}")
    _err(f"  hint: {DAMAGED_HINT}")
    raise typer.Exit(4)


@cache_app.command("rebuild")
def cache_rebuild(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even a cache that reads fine.")] = False,
) -> None:
    """Move a damaged cache aside (kept as pmtui.duckdb.damaged-<time>) and rebuild it from the services.

    Local-only tasks and unpushed edits still readable in the damaged file are carried over; what cannot
    be read is reported as unknown (docs/recovery.md). Exits 0 when nothing is lost, 1 otherwise.
    """
    from pmtui.core.engine import EngineEvent
    from pmtui.core.recovery import rebuild_cache
    from pmtui.core.store import store_path

    settings = _load_settings()
    _configure_logging(settings)

    def progress(event: EngineEvent) -> None:
        if event.kind == "sync-start":
            _err(f"  {event.message} ...")

    report = rebuild_cache(settings, store_path(paths.data_dir()), force=force, on_event=progress)
    for line in report.lines():
        _out(line)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILED)


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[
        int,
        typer.Option("--port", help="First port; the four services take PORT..PORT+3. 0 picks free ports."),
    ] = 0,
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            help="Inject faults, e.g. 'linear:rate_limit=2x3,gitlab:error=503x5' (see docs/sandbox.md).",
        ),
    ] = None,
    seed: Annotated[
        str,
        typer.Option(
            "--seed",
            help="'demo' for the demo workspace, a number N for N "
            "generated tasks, 'none' for empty services.",
        ),
    ] = "demo",
    write_config: Annotated[
        bool,
        typer.Option(
            "--write-config",
            help="Write the matching config.toml into PMTUI_HOME so other shells can use the sandbox.",
        ),
    ] = False,
    rate_limits: Annotated[
        bool, typer.Option("--rate-limits/--no-rate-limits", help="Enforce the services' real rate limits.")
    ] = True,
    linear_schema: Annotated[
        Path | None,
        typer.Option(
            "--linear-schema",
            help="Linear's published schema.graphql: validate and answer against all of it "
            "(default: PMTUI_SANDBOX_LINEAR_SCHEMA, else pmtui's own SDL of what the emulator serves).",
        ),
    ] = None,
) -> None:
    """Run the four emulators in the foreground and print the config that points pmtui at them."""
    from pmtui.sandbox.runner import serve_forever

    serve_forever(
        port=port,
        faults=faults,
        seed=seed,
        write_config=write_config,
        rate_limits=rate_limits,
        linear_schema=linear_schema,
        echo=_out,
    )


def main() -> None:
    """Console-script entry point: runs the app and turns pmtui errors into a line and an exit code.

    Everything the process writes (the cache and its WAL, logs, the mirror, config) holds task data or
    keys, so it is private to the user: files 0600, folders 0700, whatever umask the shell had.
    """
    os.umask(0o077)
    from pmtui import gencode

    gencode.enable()  # this process is pmtui's: its commands may cache generated code
    try:
        app()
    except PmtuiError as exc:
        _err(f"error: {clean_block(exc.user_text())}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except OSError as exc:
        # The cache has its own messages (pmtui.core.store); this catches the rest of a home that refuses
        # writes (config, mirror, history) with the OS's reason instead of a traceback.
        if exc.errno not in DISK_ERRNOS:
            raise
        _err(f"error: cannot write {exc.filename or 'a file'}: {exc.strerror}")
        _err("  hint: free some space, or point PMTUI_HOME (or --home) at a writable folder")
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
