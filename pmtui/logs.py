"""Structured logging: JSON lines in the log folder, human lines on stderr in headless mode, and a
redaction filter that keeps every configured secret and credential header out of every record.

Inside the TUI nothing is written to the terminal (it would tear the screen); the file still gets it.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

REDACTED = "[redacted]"

_HEADER_PATTERN = re.compile(
    r"(?P<name>authorization|x-api-key|private-token|notion-token|api[_-]?key|token)"
    r"(?P<sep>['\"]?\s*[:=]\s*['\"]?)"
    r"(?P<value>(?:bearer\s+)?[^\s'\",}]+)",
    re.IGNORECASE,
)

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys() | {"message", "asctime"}
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret value and every credential header value replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _HEADER_PATTERN.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message and extra fields with :func:`redact` before any handler sees it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: list[str] = [s for s in secrets if s]

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self.secrets.extend(s for s in secrets if s and s not in self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str | dict | list | tuple):
                setattr(record, key, _redact_value(value, self.secrets))
        return True


def _redact_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {
            k: (REDACTED if _HEADER_PATTERN.fullmatch(f"{k}=x") else _redact_value(v, secrets))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v, secrets) for v in value)
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, default=str)


class _HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


_FILTER = RedactingFilter()


def redaction_filter() -> RedactingFilter:
    """The process-wide redaction filter, to add secrets learned after logging was configured."""
    return _FILTER


class SharedLogFile(logging.handlers.RotatingFileHandler):
    """The JSON-lines log file that every pmtui process of one home appends to (the TUI, `sync --watch`,
    a scheduled `sync`), rotated by one process at a time.

    Plain ``RotatingFileHandler`` assumes it is the only writer: two processes rotating at once rename
    each other's files away and lose lines. Here every write is an ``O_APPEND`` write of whole lines, a
    rotation happens under an exclusive lock on ``<file>.lock`` and only if the file at the path is
    still over the limit, and a writer whose file was renamed by another process reopens the path.
    The file is created on the first record (so `pmtui config path` or `--help` leave no trace), private
    (0600) in a private folder (0700).
    """

    def __init__(self, path: Path, *, max_bytes: int, backups: int) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
        self._lock_path = f"{self.baseFilename}.lock"
        self._given_up = False

    def _open(self) -> Any:
        folder = Path(self.baseFilename).parent
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(fd, "a", encoding=self.encoding)

    def _moved(self) -> bool:
        """True if another process renamed the file this handler writes to (a rotation)."""
        if self.stream is None:
            return False
        try:
            return os.stat(self.baseFilename).st_ino != os.fstat(self.stream.fileno()).st_ino
        except OSError:
            return True

    def handleError(self, record: logging.LogRecord) -> None:
        # An unwritable log folder (a read-only home, a full disk) must not print logging's own traceback
        # on every record: the file is given up for this process, and `pmtui doctor` reports the folder.
        import sys

        if isinstance(sys.exc_info()[1], OSError):
            self._given_up = True
            return
        super().handleError(record)

    def emit(self, record: logging.LogRecord) -> None:
        if self._given_up:
            return
        if self.stream is not None and self._moved():
            self.stream.close()
            self.stream = None  # reopened by the base class's emit
        super().emit(record)

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        # The file's size, not this process's position in it: the other writers' lines count too.
        if self.stream is None:
            self.stream = self._open()
        if self.maxBytes <= 0:
            return False
        size = os.fstat(self.stream.fileno()).st_size
        return size + len(self.format(record)) + 1 >= self.maxBytes

    def doRollover(self) -> None:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): one process per home is the supported case there
            super().doRollover()
            return
        lock_fd = os.open(self._lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            try:
                size = os.stat(self.baseFilename).st_size
            except FileNotFoundError:
                size = 0
            if size >= self.maxBytes and not self._moved():
                super().doRollover()
            elif self.stream is not None:  # another process rotated first: write to the new file
                self.stream.close()
                self.stream = self._open()
        finally:
            os.close(lock_fd)  # closing the descriptor releases the lock


def configure_logging(
    log_dir: Path,
    *,
    mode: Literal["headless", "tui", "quiet"] = "headless",
    level: str = "INFO",
    secrets: Iterable[str] = (),
    verbose: bool = False,
    max_bytes: int = 5_000_000,
    backups: int = 3,
) -> RedactingFilter:
    """Route pmtui's logs: always to ``log_dir/pmtui.jsonl`` (created on the first record); to stderr
    only in headless mode.

    Returns the redaction filter so that secrets learned later (a key typed into a form) can be added.
    """
    root = logging.getLogger("pmtui")
    root.setLevel(logging.DEBUG)
    root.propagate = False
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    _FILTER.secrets = []
    _FILTER.add_secrets(secrets)
    try:
        file_handler: logging.Handler = SharedLogFile(
            log_dir / "pmtui.jsonl", max_bytes=max_bytes, backups=backups
        )
        file_handler.setFormatter(JsonFormatter())
        file_handler.setLevel(getattr(logging, level.upper(), logging.INFO))
        file_handler.addFilter(_FILTER)
        root.addHandler(file_handler)
    except OSError:
        pass  # an unwritable log folder must not stop the app; doctor reports it
    if mode == "headless":
        stream = logging.StreamHandler()
        stream.setFormatter(_HumanFormatter())
        stream.setLevel(logging.INFO if verbose else logging.WARNING)
        stream.addFilter(_FILTER)
        root.addHandler(stream)
    for noisy in ("httpx", "httpcore", "gql", "urllib3", "gitlab", "notion_client"):
        lib = logging.getLogger(noisy)
        lib.setLevel(logging.WARNING)
        for handler in root.handlers:
            if handler not in lib.handlers:
                lib.addHandler(handler)
        lib.propagate = False
    return _FILTER
