"""The ``pmtui`` console script: the app and the instant commands straight from ``sys.argv``.

Importing Typer (and Click under it) costs more than the whole briefing query, so bare ``pmtui`` (the
app) and the plain forms of ``pmtui briefing``, ``pmtui conflicts`` and ``pmtui sync`` (one round:
``--json``, ``-s/--service NAME``, ``-v``) are recognised here, by hand, and run without it. Anything
else, including ``--help``, an unknown option or a typo, goes to :func:`pmtui.cli.main`, which parses
the same command line with Typer and gives the usual help and usage errors.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

Command = Callable[[], int]

DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM})
"""Errors of a home that refuses writes (shared with :mod:`pmtui.cli`)."""


def _root_options(argv: Sequence[str]) -> tuple[dict[str, str | bool], list[str]] | None:
    """``--home DIR`` and ``-v`` before the command, and the rest; None for anything else up front."""
    options: dict[str, str | bool] = {}
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        arg = rest.pop(0)
        if arg in ("-v", "--verbose"):
            options["verbose"] = True
        elif arg == "--home" and rest and not rest[0].startswith("-"):
            options["home"] = rest.pop(0)
        elif arg.startswith("--home=") and len(arg) > len("--home="):
            options["home"] = arg.split("=", 1)[1]
        else:
            return None
    return options, rest


def _briefing(args: Sequence[str]) -> Command | None:
    json_output = False
    date: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--json":
            json_output = True
        elif arg == "--date" and rest and not rest[0].startswith("-"):
            date = rest.pop(0)
        elif arg.startswith("--date="):
            date = arg.split("=", 1)[1]
        else:
            return None  # --refresh, --help, a typo: Typer's job

    def run() -> int:
        from pmtui.instant import briefing

        return briefing(json_output=json_output, date=date)

    return run


def _conflicts(args: Sequence[str]) -> Command | None:
    if list(args) not in ([], ["--json"]):
        return None

    def run() -> int:
        from pmtui.instant import conflicts

        return conflicts(json_output=bool(args))

    return run


SERVICE_NAMES = ("motion", "linear", "notion", "gitlab")


def _sync(args: Sequence[str], *, root_verbose: bool = False) -> Command | None:
    """One round of `pmtui sync`; --watch, --interval, --help and anything unknown are Typer's.

    The round runs in a `pmtui sync --watch` of this home when one runs with the same settings
    (:mod:`pmtui.engine_link`), else here.
    """
    json_output = verbose = False
    services: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--json":
            json_output = True
        elif arg in ("-v", "--verbose"):
            verbose = True
        elif arg in ("-s", "--service") and rest and rest[0].lower() in SERVICE_NAMES:
            services.append(rest.pop(0).lower())
        elif arg.startswith("--service=") and arg.split("=", 1)[1].lower() in SERVICE_NAMES:
            services.append(arg.split("=", 1)[1].lower())
        else:
            return None  # Typer gives the help, or the usage error naming the bad option or service

    def sync_command() -> int:
        if not (verbose or root_verbose):  # -v shows this process's requests: it syncs itself
            from pmtui.engine_link import ask_engine

            code = ask_engine(services, json_output=json_output, say=_say)
            if code is not None:
                return code
        from pmtui import gencode, paths

        # Before the libraries load: what they generate as they do comes compiled from the cache.
        gencode.install(paths.cache_dir(), "sync")
        from pmtui.config import known_secrets, load_settings
        from pmtui.headless import sync_once
        from pmtui.logs import configure_logging, redaction_filter
        from pmtui.models import Service

        # As the Typer path: files private to the user, human lines on stderr, JSON lines in the log.
        os.umask(0o077)
        configure_logging(paths.log_dir(), mode="headless", verbose=root_verbose)
        settings = load_settings()
        redaction_filter().add_secrets(known_secrets(settings))
        wanted = [Service(name) for name in services] or None
        return sync_once(settings, wanted, json_output=json_output, verbose=verbose, say=_say)

    return sync_command


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def open_app(*, verbose: bool = False) -> int:
    """Bare `pmtui`: the terminal app. Logs go to the JSON file only (the app owns the terminal)."""
    from pmtui import gencode, paths

    gencode.install(paths.cache_dir(), "app")  # Textual's and pmtui's generated methods, compiled once
    from pmtui.app import make_app
    from pmtui.config import known_secrets, load_settings
    from pmtui.engine_link import request_key
    from pmtui.logs import configure_logging, redaction_filter

    configure_logging(paths.log_dir(), mode="tui", verbose=verbose)
    key = request_key()  # before the settings load: a change in between only declines a round
    settings = load_settings()
    redaction_filter().add_secrets(known_secrets(settings))
    app = make_app(settings, serve_key=key)
    app.run()
    leave_app(app.backend)
    if app.start_error is not None:
        raise app.start_error  # the same line and exit code as a command that cannot open the cache
    return 0


def leave_app(backend: Any) -> None:
    """After `q`: give a running sync a moment to reach its safe point, then leave without it.

    Whatever it had not committed is dropped whole by DuckDB; the journal settles an unknown remote
    outcome at the next start. So quitting takes at most about a second, never a whole sync.
    """
    import logging
    import time

    backend.cancel.set()
    deadline = time.monotonic() + 0.8
    while backend.syncing.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    if backend.syncing.is_set():
        logging.shutdown()
        os._exit(0)


INSTANT: dict[str, Callable[[Sequence[str]], Command | None]] = {
    "briefing": _briefing,
    "conflicts": _conflicts,
    "sync": _sync,
}
OWN_LOGGING = ("app", "sync_command")
"""Commands that set up logging themselves (the others only with ``-v``)."""


def instant_command(argv: Sequence[str]) -> tuple[dict[str, str | bool], Command] | None:
    """The root options and the instant command ``argv`` asks for, or None when Typer should parse it."""
    parsed = _root_options(argv)
    if parsed is None:
        return None
    options, rest = parsed
    if not rest:
        verbose = bool(options.get("verbose"))

        def app() -> int:
            return open_app(verbose=verbose)

        return options, app
    if rest[0] not in INSTANT:
        return None
    if rest[0] == "sync":  # sets up logging itself, with the root -v
        command = _sync(rest[1:], root_verbose=bool(options.get("verbose")))
    else:
        command = INSTANT[rest[0]](rest[1:])
    return (options, command) if command is not None else None


def main() -> None:
    """Console-script entry point.

    Everything pmtui writes is private to the user (files 0600, folders 0700) whatever the shell's umask,
    on this path too: the settings stamp, the answer cache and the change marker (as ``pmtui.cli.main``).
    """
    os.umask(0o077)
    from pmtui import gencode

    gencode.enable()  # this process is pmtui's: its commands may cache generated code
    found = instant_command(sys.argv[1:])
    if found is None:
        from pmtui.cli import main as typer_main

        typer_main()
        return
    options, command = found
    if command.__name__ != "app":  # the app manages its collections itself (pmtui.idle_gc)
        from pmtui.idle_gc import pause_for_start_up

        pause_for_start_up()
    exit_without_teardown(_run(options, command))


def _run(options: dict[str, str | bool], command: Command) -> int:
    """Run an instant command; its exit code, with pmtui's errors as a line on stderr."""
    home = options.get("home")
    if isinstance(home, str):
        from pathlib import Path

        os.environ["PMTUI_HOME"] = str(Path(home).expanduser().resolve())
    from pmtui.errors import PmtuiError
    from pmtui.text import clean_block

    if options.get("verbose") and command.__name__ not in OWN_LOGGING:
        # Logging is set up only when asked for: its handlers cost more than the briefing's query, and
        # the instant commands log nothing below a warning (which Python prints to stderr regardless).
        from pmtui import paths
        from pmtui.logs import configure_logging

        configure_logging(paths.log_dir(), mode="headless", verbose=True)
    try:
        return command()
    except PmtuiError as exc:
        print(f"error: {clean_block(exc.user_text())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # As pmtui.cli.main: a home that refuses writes (logs, the mirror) is a line, not a traceback.
        if exc.errno not in DISK_ERRNOS:
            raise
        print(f"error: cannot write {exc.filename or 'a file'}: {exc.strerror}", file=sys.stderr)
        print(
            "  hint: free some space, or point PMTUI_HOME (or --home) at a writable folder", file=sys.stderr
        )
        return 1


def exit_without_teardown(code: int) -> NoReturn:
    """End a finished command's process with ``code``, skipping the interpreter's teardown.

    At exit Python frees every object of every module one at a time. After a quiet `pmtui sync` that is
    some 900 modules (DuckDB, pydantic, gql, graphql-core, python-gitlab, httpx, requests): 0.07-0.08 s of
    the process's 0.65 s of CPU, spent after the last line is printed (docs/performance.md). None of it
    is pmtui's work: the command has closed the cache and joined its workers by then.

    What a normal exit does that matters still happens, in its order: the exit handlers run (logging's
    flush and close, coverage's save, whatever a library registered), and the standard streams are
    flushed. The normal exit runs instead wherever skipping could lose something: while a thread other
    than a daemon is alive (Python would wait for it), or when a stream cannot be flushed (a closed pipe,
    which Python reports in its own way).
    """
    import atexit
    import threading

    first = threading.main_thread()
    if any(not thread.daemon for thread in threading.enumerate() if thread is not first):
        sys.exit(code)
    if not _flush_streams():
        sys.exit(code)
    atexit._run_exitfuncs()
    _flush_streams()
    os._exit(code)


def _flush_streams() -> bool:
    """Flush stdout and stderr; False if either refused (its data would be lost by ``os._exit``)."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


if __name__ == "__main__":
    main()
