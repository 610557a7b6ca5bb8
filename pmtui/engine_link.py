"""`pmtui sync` hands its round to a running engine (`pmtui sync --watch`, the app) of the same home.

A quiet `pmtui sync` spends most of its CPU importing the settings model, DuckDB and four client
libraries; and while another process syncs a service, the command's own run of it came back ``skipped``
(one process syncs a service at a time), exit 1. So when an engine runs for this home, the command asks
it over a private Unix socket: the engine syncs the services asked for once more, each run starting
after the request (the watch wakes its service threads; the app runs the round after its own sync),
streams the progress back, then the runs, and the command prints them exactly as it would have
(:mod:`pmtui.sync_output`). The command itself imports only the standard library.

It is a shortcut, never a second way to sync: the engine runs the round only when it would do what the
command would do here. The request carries a key of everything the settings are built from
(:func:`request_key`: the settings file's bytes, every ``PMTUI_*`` variable, secrets by a digest of
their value, pmtui's version); an engine started with other settings, not syncing a service asked for,
or not answering within :data:`ANSWER_SECONDS` declines, and the command syncs here as before. An
engine that dies mid-round (its socket closes) makes the command say so and sync here.

Why a socket and not files: the command waits for runs that have not happened yet and shows their
progress, and a stale socket costs one refused ``connect``. Only the process holding the ``flock`` on
the ``.lock`` file beside the socket serves (the kernel drops it even on ``kill -9``), so two engines
never race for the socket. The socket is 0600 in the cache folder (or, for a deep home, in a private
folder of the runtime folder); each side checks the other's user id where the OS gives it
(``SO_PEERCRED``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pmtui import paths

PROTOCOL = 1
SOCKET_NAME = "engine.sock"
MAX_SOCKET_PATH = 100
"""An ``AF_UNIX`` path holds 104 (macOS) to 108 (Linux) bytes; a home deeper than this syncs here."""
CONNECT_SECONDS = 1.0
ANSWER_SECONDS = 5.0
"""How long the command waits for the engine to accept or decline before it syncs here."""
MAX_LINE = 1 << 20
"""The longest message either side reads (a round's runs are a few kilobytes)."""

Send = Callable[[Mapping[str, Any]], None]
Admit = Callable[[list[str] | None], "list[str] | str"]
"""Which services a request's round syncs (it asks for None: every configured one), or why the engine
declines it."""
Run = Callable[[list[str], Send], "Mapping[str, Any] | str"]
"""Run an admitted round, streaming its progress: ``{"runs": [...], "open_conflicts": n}``, or why it
ended without its runs."""


def socket_path() -> Path | None:
    """Where this home's engine listens: in the cache folder, or, when that path is too long for a
    Unix socket (a deep ``PMTUI_HOME``), in a private folder of the user's runtime or temporary folder
    named after the cache folder. None when neither fits or that folder is not private."""
    cache = paths.cache_dir().absolute()
    path = cache / SOCKET_NAME
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    import tempfile

    folder = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"pmtui-{os.getuid()}"
    path = folder / f"{hashlib.sha256(os.fsencode(cache)).hexdigest()[:24]}.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH or not _private_folder(folder):
        return None
    return path


def _private_folder(folder: Path) -> bool:
    """``folder`` exists (made if need be), is no link, is this user's, and only this user's.

    A shared temporary folder lets anyone make ``pmtui-<uid>`` first; a socket in a folder someone
    else controls could be swapped for theirs, so such a folder is not used at all.
    """
    import stat

    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def request_key(environ: Mapping[str, str] | None = None) -> str:
    """A digest of everything the settings are built from, secrets included (by their value's digest).

    :func:`pmtui.config_stamp.fingerprint` covers the file, the version and the variables, but secrets
    only by presence; an engine holding another API key than this shell's must not sync for it.
    """
    from pmtui.config_stamp import SECRET_SUFFIXES, fingerprint

    env = os.environ if environ is None else environ
    digest = hashlib.sha256(fingerprint(paths.config_file(), dict(env)).encode())
    for name in sorted(
        k for k in env if k.upper().startswith("PMTUI_") and k.upper().endswith(SECRET_SUFFIXES)
    ):
        digest.update(f"\0{name}=".encode() + hashlib.sha256(env[name].encode()).digest())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------ the command


def _lines(sock: socket.socket) -> Iterator[dict[str, Any]]:
    """The messages from ``sock``, one JSON object per line, until it closes."""
    reader: IO[bytes] = sock.makefile("rb")
    while True:
        line = reader.readline(MAX_LINE)
        if not line.endswith(b"\n"):
            return  # closed (or a line too long to be ours)
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("not a message")
        yield message


def ask_engine(services: Sequence[str], *, json_output: bool, say: Callable[[str], None]) -> int | None:
    """Run this `pmtui sync` round in a running engine: its exit code, or None to sync here.

    None when no engine listens, it declines, or it does not answer in time; and when it stops before
    the round ends (said on stderr). Ctrl-C leaves the round to the engine: exit 130.
    """
    path = socket_path()
    if path is None or not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    answer: dict[str, Any] | None = None
    try:
        sock.settimeout(CONNECT_SECONDS)
        sock.connect(os.fspath(path))
        if not _same_user(sock):
            raise OSError("the socket's owner is another user")
        request = {
            "protocol": PROTOCOL,
            "op": "sync",
            "key": request_key(),
            "services": list(services) or None,
        }
        sock.sendall(json.dumps(request).encode() + b"\n")
        sock.settimeout(ANSWER_SECONDS)
        messages = _lines(sock)
        answer = next(messages, None)
    except (OSError, ValueError):
        answer = None
    if answer is None or "accepted" not in answer:
        sock.close()
        return None  # nobody listens (a socket left by a dead engine), declined, or no answer in time
    with contextlib.closing(sock):
        sock.settimeout(None)
        holder = f"{answer.get('by') or 'engine'} (PID {answer['accepted']})"
        return _follow(messages, holder, json_output=json_output, say=say)


def _follow(
    messages: Iterator[dict[str, Any]], holder: str, *, json_output: bool, say: Callable[[str], None]
) -> int | None:
    """Show the accepted round's progress and runs as they come; None when the engine went away."""
    from pmtui.sync_output import EXIT_CANCELLED, SyncOutput, exit_code_of

    output = SyncOutput(as_json=json_output or not sys.stdout.isatty())
    if not output.as_json:
        say(f"syncing in the running {holder}")
    try:
        for message in messages:
            if "progress" in message:
                output.show(message["progress"])
            elif "runs" in message:
                runs, open_conflicts = message["runs"], int(message["open_conflicts"])
                output.runs(runs, open_conflicts)
                return exit_code_of((run["status"] for run in runs), open_conflicts)
    except KeyboardInterrupt:
        output.finish()
        say(f"left the round to the running {holder}, which finishes it on its own")
        return EXIT_CANCELLED
    except (OSError, ValueError, KeyError, TypeError):
        pass
    output.finish()
    say(f"the running {holder} stopped before the round ended; syncing here")
    return None


# ------------------------------------------------------------------------------------- the engine


def admit_services(
    asked: list[str] | None, configured: Sequence[str], running: Sequence[str]
) -> list[str] | str:
    """The services a round syncs (``asked``, or every configured one for None) if this engine syncs
    them all (``running``), else why it declines: the command then syncs them itself."""
    wanted = list(configured) if asked is None else asked
    missing = [name for name in wanted if name not in running]
    if missing:
        return f"not syncing {', '.join(missing)}"
    return wanted if wanted else "no service is configured"


class EngineServer:
    """Serves `pmtui sync` rounds from a running engine, while this process holds the socket's lock."""

    def __init__(self, key: str, admit: Admit, run: Run, *, by: str) -> None:
        self.key = key
        self.by = by
        """What the command names as running its round (``pmtui sync --watch``, ``the pmtui app``)."""
        self._admit = admit
        self._run = run
        self._lock_file: IO[str] | None = None
        self._listener: socket.socket | None = None
        self.path: Path | None = None

    def start(self) -> bool:
        """Listen, unless another engine already does or the path is too long; True when listening."""
        import fcntl
        import logging

        path = socket_path()
        if path is None:
            logging.getLogger("pmtui.engine").info("not serving rounds: the socket path is too long")
            return False
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = open(path.with_suffix(".lock"), "a+", encoding="utf-8")  # noqa: SIM115 - held while serving
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            logging.getLogger("pmtui.engine").info("not serving rounds: another engine does")
            return False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a socket left by an engine that died: the lock says nobody serves it
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(os.fspath(path))
        os.chmod(path, 0o600)
        listener.listen(8)
        self._lock_file, self._listener, self.path = lock, listener, path
        threading.Thread(target=self._accept, name="pmtui-engine-link", daemon=True).start()
        return True

    def close(self) -> None:
        """Stop listening and remove the socket (it is ours: we hold the lock)."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> EngineServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while (listener := self._listener) is not None:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed
            threading.Thread(
                target=self._answer, args=(conn,), name="pmtui-engine-round", daemon=True
            ).start()

    def _answer(self, conn: socket.socket) -> None:
        """One request: decline it, or run it and send the progress and the runs."""
        import logging

        log = logging.getLogger("pmtui.engine")
        with contextlib.closing(conn):
            try:
                conn.settimeout(ANSWER_SECONDS)
                if not _same_user(conn):
                    return
                request = next(_lines(conn), None)
                services = _valid_request(request, self.key)
            except (OSError, ValueError) as exc:
                log.info("a round request was unreadable: %s", exc)
                return
            admitted = services if isinstance(services, str) else self._admit(services)
            if isinstance(admitted, str):
                log.info("declined a round: %s", admitted)
                _send_quietly(conn, {"declined": admitted})
                return
            conn.settimeout(None)
            _send_quietly(conn, {"accepted": os.getpid(), "by": self.by})
            result = self._run(admitted, lambda message: _send_quietly(conn, message))
            if isinstance(result, str):
                log.info("a round ended without its runs: %s", result)
                return  # the command sees the socket close and syncs itself
            _send_quietly(conn, result)


def _valid_request(request: Any, key: str) -> list[str] | str | None:
    """The services a well-formed request asks for (None: every configured one), or why it is declined."""
    if not isinstance(request, dict) or request.get("protocol") != PROTOCOL or request.get("op") != "sync":
        return "not a request this engine understands"
    if request.get("key") != key:
        return "started with other settings"
    services = request.get("services")
    if services is None:
        return None
    if not isinstance(services, list) or not all(isinstance(name, str) for name in services):
        return "not a request this engine understands"
    return services


def _send_quietly(conn: socket.socket, message: Mapping[str, Any]) -> None:
    """Send one message; a command that went away (Ctrl-C) only stops hearing about the round."""
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


def _same_user(conn: socket.socket) -> bool:
    """The peer runs as this user (where the OS says; the socket's folder is private anyway)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    import struct

    credentials = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return bool(uid == os.getuid())
