"""The connection every part of the store shares: open, hold, release, statements, transactions.

A file-backed store opens DuckDB only for a unit of work and closes it again, so any number of pmtui
processes share one cache (DuckDB lets one process at a time open the file); a second process waits up
to ``lock_wait`` seconds and then gets a :class:`StoreLockedError` naming the holder, never a traceback.
The table groups (:mod:`pmtui.core.store.tasks`, ``refs``, ``journal``, ...) are mixins over
:class:`StoreBase`, so they all run in the same connection and the same transaction.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import re
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import duckdb

from pmtui import paths
from pmtui.core.locks import process_alive
from pmtui.errors import StoreError, StoreLockedError

if TYPE_CHECKING:
    from types import ModuleType

    import pyarrow as pa


log = logging.getLogger("pmtui.store")

STORE_FILENAME = "pmtui.duckdb"


DAMAGED_HINT = (
    "run `pmtui cache rebuild`: it moves the damaged file aside (never deletes it) and rebuilds the cache "
    "from the services; see docs/recovery.md"
)


class StoreDamagedError(StoreError):
    """The cache file exists but is not a readable DuckDB database (truncated, overwritten, damaged).

    The file is left exactly where it is: `pmtui cache rebuild` (:mod:`pmtui.core.recovery`) moves it aside.
    """


class StoreUnwritableError(StoreError):
    """The cache's disk refuses writes (a read-only file system, a full disk): nothing is damaged, and
    nothing is moved or rebuilt; exit 1 like any failed run, not 4."""

    exit_code = 1


_DISK_PROBLEMS = {
    "read-only file system": (
        "the file system is read-only",
        "mount it read-write, or point PMTUI_HOME (or --home) at a writable folder; the cache is unchanged",
    ),
    "no space left on device": (
        "the disk is full",
        "free some space and run the command again; the cache keeps its last completed write",
    ),
    "disk quota exceeded": (
        "the disk quota is exceeded",
        "free some space and run the command again; the cache keeps its last completed write",
    ),
}


def _disk_problem(target: object, text: str, *, what: str = "the cache") -> StoreUnwritableError | None:
    """A clear error for a disk that refuses writes to ``what`` at ``target``, read from the OS's words
    in ``text``."""
    lowered = text.lower()
    for words, (problem, hint) in _DISK_PROBLEMS.items():
        if words in lowered:
            return StoreUnwritableError(f"cannot write {what} {target}: {problem}", hint=hint)
    return None


_DUCKDB_HEADER_BYTES = 3 * 4096
"""A DuckDB file's main header and its two database headers, before the first block."""
_OPEN_PATHS: dict[Path, int] = {}
"""Cache files this process has open, with how many Stores hold each (DuckDB shares one instance)."""
_LIVE: weakref.WeakSet[StoreBase] = weakref.WeakSet()
"""Every store of this process, so its connection is closed before the interpreter shuts down."""
EXIT_WAIT_SECONDS = 30.0
"""How long the exit waits for a store's unit of work (a sync's last page, a checkpoint) to end."""


@atexit.register
def _close_all_at_exit() -> None:
    """Close every store's connection before the interpreter finalizes.

    The idle-connection reaper is a daemon thread: when the process ended while it was closing a
    connection (DuckDB checkpoints on close, with the GIL released), the finalizing interpreter stopped
    the thread inside DuckDB's C++ code and the process aborted ("terminate called ... exception not
    rethrown", SIGABRT) after `q` in the app. Taking each store's lock waits for such work to end.
    """
    for store in list(_LIVE):
        if store._lock.acquire(timeout=EXIT_WAIT_SECONDS):  # close() waits without a bound
            try:
                store.close()
            finally:
                store._lock.release()


def _models() -> ModuleType:
    """:mod:`pmtui.models`, imported on first use: `pmtui briefing` reads rows, never models (pydantic
    is a large share of its start)."""
    import pmtui.models

    return pmtui.models


LINGER_SECONDS = 0.2
"""How long an idle connection stays open, so a burst of calls opens the file once."""
MAX_SESSION_SECONDS = 1.0
"""A connection open longer than this is closed at the end of its unit of work, whatever comes next."""
FAIR_SHARE_SECONDS = 0.05
"""After such a forced close, how long this process waits before opening again: others get their turn."""
LOCK_WAIT_SECONDS = 30.0
"""The default retry budget for opening a file another process holds (``PMTUI_LOCK_WAIT`` overrides)."""
_READ_ONLY_STATEMENT = re.compile(r"\s*(SELECT|SET|BEGIN|COMMIT|ROLLBACK|PRAGMA|WITH|CHECKPOINT)\b", re.I)


def _create_whole(path: Path) -> None:
    """Make an empty DuckDB file at ``path``, if there is none, that is never seen half-written.

    DuckDB writes a new file's three headers after creating it. A process killed in between (kill -9,
    the machine going down during a first sync) left a file of 0 or 8,192 bytes that every later open
    refused as damaged, though it never held anything: the user had to find and delete it. So the
    headers are written under a temporary name, and the whole file is linked in place. A link never
    replaces a file another process made meanwhile; a file system without hard links gets a rename.
    A temporary file that a killed creator left behind is removed by the next writable open, and such a
    file left under the cache's own name by a pmtui from before this was done, shorter than DuckDB's
    headers and with no write-ahead log, so never able to hold anything, is set aside (renamed, not
    deleted) and replaced.
    """
    for stale in path.parent.glob(f".{path.name}.new-*"):
        pid = stale.name.rsplit("-", 2)[-2]
        if pid.isdigit() and not process_alive(int(pid)):
            stale.unlink(missing_ok=True)
    if path.exists():
        if not _never_whole(path):
            return
        aside = aside_name(path, ".incomplete-")
        try:
            path.rename(aside)
        except FileNotFoundError:
            pass  # another process set it aside first
        else:
            log.warning(
                "set aside an incomplete cache file (its creation was interrupted): %s",
                aside,
                extra={"path": str(aside)},
            )
    temporary = path.with_name(f".{path.name}.new-{os.getpid()}-{random.randrange(1 << 32):08x}")
    try:
        duckdb.connect(str(temporary)).close()
        temporary.chmod(0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: open that one
        except OSError:
            if not path.exists():
                os.replace(temporary, path)
    except duckdb.Error as exc:
        raise StoreError(f"cannot create the cache {path}: {exc}", hint=DAMAGED_HINT) from exc
    except OSError as exc:
        raise _disk_problem(path.parent, str(exc)) or StoreUnwritableError(
            f"cannot create the cache {path}: {exc.strerror}",
            hint="give your user write access to its folder, or point PMTUI_HOME (or --home) elsewhere",
        ) from exc
    finally:
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}.wal").unlink(missing_ok=True)


def aside_name(path: Path, mark: str, now: datetime | None = None) -> Path:
    """A name next to ``path`` for a file set aside, stamped with the UTC time: ``pmtui.duckdb{mark}
    20261124T093000Z``, numbered ``-2``, ``-3``, … rather than ever replacing one already there."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}{mark}{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}{mark}{stamp}-{number}")
    return target


def _never_whole(path: Path) -> bool:
    """Whether ``path`` is shorter than DuckDB's headers, with no write-ahead log beside it: a file whose
    creation was interrupted, which never held a committed row (those live in the blocks after the
    headers, or in the log)."""
    try:
        short = path.stat().st_size < _DUCKDB_HEADER_BYTES
    except OSError:
        return False
    return short and not Path(f"{path}.wal").exists()


def _lock_wait_default() -> float:
    text = os.environ.get("PMTUI_LOCK_WAIT", "")
    try:
        return max(0.0, float(text)) if text else LOCK_WAIT_SECONDS
    except ValueError:
        return LOCK_WAIT_SECONDS


def _lock_holder(message: str) -> str | None:
    """``PID n (command line)`` of the process DuckDB names as holding the file, or None."""
    found = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", message)
    if not found:
        return None
    pid = found.group(2)
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    except OSError:
        command = Path(found.group(1)).name
    return f"PID {pid} ({' '.join(command.split())[:200]})"


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


@dataclass(frozen=True)
class _Records:
    """Rows read as dicts, with the one method the readers used of an Arrow table."""

    rows: list[dict[str, Any]]

    def to_pylist(self) -> list[dict[str, Any]]:
        return self.rows


class StoreBase(ABC):
    """The DuckDB cache's connection, statement helpers and lifecycle; the table groups build on it."""

    def __init__(self, path: Path | str, *, read_only: bool = False, lock_wait: float | None = None) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self.read_only = read_only
        self.lock_wait = lock_wait if lock_wait is not None else _lock_wait_default()
        """Seconds a unit of work waits for another process to release the file before giving up."""
        self._lock = threading.RLock()
        self._depth = 0
        self._opened: Path | None = None
        self._target = str(path)
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._holds = 0
        self._dirty = False
        self.wrote = False
        """Whether this store has written to the cache since it was opened (a process that did files
        the new answers for `pmtui briefing` when it ends: :meth:`pmtui.core.engine.Engine.close`)."""
        self._connected_at = 0.0
        self._last_used = 0.0
        self._cooldown_until = 0.0
        self._reaper: threading.Thread | None = None
        self._closed = False
        # The on-disk size check below is only meaningful for a file nobody has touched since its last
        # checkpoint: a WAL to replay, or another Store of this process sharing DuckDB's database
        # instance, makes the database larger in memory than on disk.
        resolved = self.path.resolve() if self.path is not None else None
        settled = (
            resolved is not None and resolved not in _OPEN_PATHS and not Path(f"{resolved}.wal").exists()
        )
        if self.path is not None:
            if read_only and not self.path.exists():
                raise StoreError(
                    f"no cache at {self.path} yet",
                    hint="run `pmtui sync` (or `pmtui demo`) to fill it",
                )
            if read_only and _never_whole(self.path):  # a reader may not set it aside: say what it is
                raise StoreError(
                    f"the cache {self.path} was never finished: its creation was interrupted, so it "
                    "holds nothing",
                    hint="run `pmtui sync` (or start the app): it sets the file aside and makes a new cache",
                )
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise _disk_problem(self.path.parent, str(exc)) or StoreUnwritableError(
                    f"cannot create the cache folder {self.path.parent}: {exc.strerror}",
                    hint="give your user write access to it, or point PMTUI_HOME (or --home) elsewhere",
                ) from exc
            if not read_only:
                _create_whole(self.path)
        try:
            with self._hold():
                if settled:
                    self._check_intact(self._target)
                if self.path is not None and not read_only:
                    self._make_private()
                self._prepare_schema()
        except BaseException:
            with self._lock:
                self._release()
                self._closed = True
            raise
        if resolved is not None:
            self._opened = resolved
            _OPEN_PATHS[resolved] = _OPEN_PATHS.get(resolved, 0) + 1
        _LIVE.add(self)

    # ------------------------------------------------------------------------------ the connection
    # A file-backed Store opens DuckDB only for a unit of work (a statement, a transaction, a burst of
    # calls) and closes it again, so any number of pmtui processes share one cache: DuckDB lets one
    # process at a time open the file. See docs/architecture.md, "Many front ends, one cache".

    @property
    def shared(self) -> bool:
        """Whether this store releases the file between units of work (every file-backed store)."""
        return self.path is not None

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        """The open connection, opened if needed: use it while holding ``_hold()`` (or ``_lock``), since
        an idle connection is closed by the release thread, which takes the same lock."""
        with self._lock:
            if self._conn is None:
                if self._closed:
                    raise StoreError("the cache was closed", hint="this is a bug in pmtui: please report it")
                self._conn = self._connect()
                if self.shared:
                    self._last_used = time.monotonic()
                    self._reap_later()
            return self._conn

    @contextmanager
    def _hold(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Keep the file open (and this store's lock taken) for one unit of work; re-entrant.

        The outermost hold of a file-backed store leaves the connection to linger for
        :data:`LINGER_SECONDS` (a burst of calls opens the file once) unless it has been open longer
        than :data:`MAX_SESSION_SECONDS`, so a busy process never starves the others.
        """
        with self._lock:
            if self._closed:
                raise StoreError("the cache was closed", hint="this is a bug in pmtui: please report it")
            if self._conn is None:
                self._conn = self._connect()
            self._holds += 1
            try:
                yield self._conn
            finally:
                self._holds -= 1
                if self._holds == 0 and self.shared:
                    now = time.monotonic()
                    self._last_used = now
                    if now - self._connected_at > MAX_SESSION_SECONDS:
                        self._release()
                        self._cooldown_until = now + FAIR_SHARE_SECONDS
                    else:
                        self._reap_later()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting up to ``lock_wait`` seconds while another process holds it."""
        deadline = time.monotonic() + self.lock_wait
        delay = 0.005
        pause = self._cooldown_until - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        while True:
            try:
                conn = duckdb.connect(self._target, read_only=self.read_only)
                break
            except duckdb.IOException as exc:
                text = str(exc)
                if "lock" not in text.lower():
                    raise self._open_error(exc) from exc
                if time.monotonic() >= deadline:
                    holder = _lock_holder(text)
                    raise StoreLockedError(
                        f"the cache {self._target} is open in another process and stayed busy for "
                        f"{self.lock_wait:g} s" + (f": held by {holder}" if holder else ""),
                        holder=holder,
                        hint="that process keeps the cache open and never lets go; stop it "
                        "(a current pmtui releases it after every unit of work)",
                    ) from exc
            except duckdb.ConnectionException as exc:
                # Another Store of this process has the file open with the other read_only setting.
                if "different configuration" not in str(exc) or time.monotonic() >= deadline:
                    raise self._open_error(exc) from exc
            except duckdb.Error as exc:
                raise self._open_error(exc) from exc
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.05)
        conn.execute("SET TimeZone = 'UTC'").fetchall()
        self._connected_at = time.monotonic()
        return conn

    def _open_error(self, exc: duckdb.Error) -> StoreError:
        text = str(exc)
        disk = _disk_problem(self._target, text)
        if disk is not None:
            return disk
        if "permission denied" in text.lower():
            return StoreError(
                f"cannot open the cache {self._target}: permission denied",
                hint="give your user read and write access to the file and its folder",
            )
        return StoreDamagedError(f"the cache {self._target} is damaged: {text}", hint=DAMAGED_HINT)

    def _release(self) -> None:
        """Close the connection (the lock is held) and tell other processes when something changed."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if self._dirty:
            self._dirty = False
            self._bump_change_marker()

    def _reap_later(self) -> None:
        """Close the lingering connection from a helper thread once it has been idle long enough."""
        if self._reaper is not None and self._reaper.is_alive():
            return

        def reap() -> None:
            while True:
                time.sleep(LINGER_SECONDS / 2)
                with self._lock:
                    if self._conn is None:
                        self._reaper = None
                        return
                    if self._holds == 0 and time.monotonic() - self._last_used >= LINGER_SECONDS:
                        self._release()
                        self._reaper = None
                        return

        self._reaper = threading.Thread(target=reap, name="pmtui-store-release", daemon=True)
        self._reaper.start()

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`close` has run (a closed store opens no connection again)."""
        return self._closed

    def let_go(self) -> None:
        """Close the connection now unless a unit of work holds it, so the file and its change marker are
        final (the answer cache keys on them: :func:`pmtui.answers.refresh`)."""
        with self._lock:
            if self._holds == 0:
                self._release()

    @property
    def change_marker(self) -> Path | None:
        """A small file next to the cache, replaced after every write: front ends watch it to refresh."""
        return None if self.path is None else paths.change_marker(self.path)

    def _bump_change_marker(self) -> None:
        marker = self.change_marker
        if marker is None:
            return
        try:
            temporary = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
            temporary.write_text(f"{os.getpid()} {time.time_ns()}\n", encoding="utf-8")
            os.replace(temporary, marker)
        except OSError as exc:  # a read-only folder: others refresh on their own schedule instead
            log.warning("could not mark the cache changed: %s", exc)

    def change_token(self) -> tuple[int, int] | None:
        """What identifies the last write by any process (None before the first): compare to notice one."""
        return None if self.path is None else paths.change_token(self.path)

    # ------------------------------------------------------------------------------- statement helpers
    # DuckDB 2.x refuses new work on a connection while a result is unread, so every statement is
    # drained here: writes are completed, reads fetched whole.

    # A read that reaches a damaged block raises duckdb.IOException mid-command; it becomes a
    # StoreDamagedError (a line and exit 4 in the CLI) instead of a traceback.

    def _exec(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self._hold() as conn, self._io_errors():
            conn.execute(sql, list(params or [])).fetchall()
            if not _READ_ONLY_STATEMENT.match(sql):
                self._dirty = self.wrote = True

    def _rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._hold() as conn, self._io_errors():
            return conn.execute(sql, list(params or [])).fetchall()

    def _records(self, sql: str, params: Sequence[Any] | None = None) -> _Records:
        """A query's rows as dicts, without Arrow: the read paths of a sync and of the CLI stay off
        pyarrow (and the pandas it pulls in), about a second of start-up and 150 MB of memory."""
        with self._hold() as conn, self._io_errors():
            result = conn.execute(sql, list(params or []))
            names = [column[0] for column in result.description or []]
            return _Records([dict(zip(names, row, strict=True)) for row in result.fetchall()])

    def _arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        with self._hold() as conn, self._io_errors():
            relation = conn.sql(sql, params=list(params)) if params else conn.sql(sql)
            return relation.to_arrow_table()

    def _upsert_row(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Write one row by its primary ``key``: an update, or an insert when no row has that key.

        DuckDB's ``INSERT OR REPLACE`` costs 3-4 ms a row against 1 ms for the update (a sync writes its
        run and cursors this way a few dozen times a round). Both statements run under one hold of the
        connection, so no other writer comes between them.
        """
        assignments = ", ".join(f'"{name}" = ?' for name in values)
        matches = " AND ".join(f'"{name}" = ?' for name in key)
        with self._hold():
            (updated,) = self._rows(
                f"UPDATE {table} SET {assignments} WHERE {matches}", [*values.values(), *key.values()]
            )[0]
            if updated:
                self._dirty = self.wrote = True
                return
            self._insert_row(table, {**key, **values})

    def _insert_row(self, table: str, values: Mapping[str, Any]) -> None:
        """Insert one row (a key no row has yet: the caller knows, or :meth:`_upsert_row` found none)."""
        columns = ", ".join(f'"{name}"' for name in values)
        marks = ", ".join("?" for _ in values)
        self._exec(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._hold() as conn, self._io_errors():
            conn.executemany(sql, [list(r) for r in rows]).fetchall()
            self._dirty = self.wrote = True

    @contextmanager
    def _io_errors(self) -> Iterator[None]:
        try:
            yield
        except (duckdb.IOException, duckdb.FatalException, duckdb.InternalException) as exc:
            disk = _disk_problem(self.path or ":memory:", str(exc))
            if disk is not None:
                raise disk from exc
            raise StoreDamagedError(
                f"the cache {self.path or ':memory:'} could not be read or written: {exc}",
                hint=f"if the disk is not full, the file is damaged: {DAMAGED_HINT}",
            ) from exc
        except duckdb.Error as exc:
            # A full disk can surface as any DuckDB error (a failed COMMIT is a TransactionException), and
            # DuckDB 2 raises a checksum mismatch (a block overwritten on disk) as a plain duckdb.Error.
            disk = _disk_problem(self.path or ":memory:", str(exc))
            if disk is not None:
                raise disk from exc
            if "corrupt" not in str(exc).lower():
                raise
            raise StoreDamagedError(
                f"the cache {self.path or ':memory:'} could not be read or written: {exc}",
                hint=f"if the disk is not full, the file is damaged: {DAMAGED_HINT}",
            ) from exc

    def _make_private(self) -> None:
        """The cache holds every task and comment: 0600 for it and its WAL, also when an older pmtui (or a
        library caller with a loose umask) created them readable by others."""
        assert self.path is not None
        for path in (self.path, Path(f"{self.path}.wal")):
            try:
                if path.stat().st_mode & 0o077:
                    path.chmod(0o600)
            except OSError:  # gone, or not ours: nothing to tighten
                continue

    def _check_intact(self, target: str) -> None:
        """Refuse a truncated file at open: DuckDB itself notices only when a query reaches a lost block.

        A healthy file is its headers plus whole blocks, and holds every block in use. ``total_blocks``
        is no guide (DuckDB trims free blocks off the end of the file but keeps counting them), so the
        check is on the block boundary and on the blocks in use.
        """
        if self.path is None or not self.path.exists():
            return
        rows = self.conn.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        ).fetchall()
        if not rows:
            return
        block_size, used_blocks = (int(v or 0) for v in rows[0])
        size = self.path.stat().st_size
        body = size - _DUCKDB_HEADER_BYTES
        whole = block_size <= 0 or (body >= 0 and body % block_size == 0)
        if whole and (block_size <= 0 or used_blocks <= body // block_size):
            return
        raise StoreDamagedError(
            f"the cache {target} is damaged: the file ends at {size} bytes, inside its data (truncated)",
            hint=DAMAGED_HINT,
        )

    # ------------------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the connection; safe to call twice.

        Stores of one process share DuckDB's instance of a file, so each drops only its own count of it.
        """
        with self._lock:
            self._release()
            self._closed = True
            opened, self._opened = self._opened, None
            if opened is not None:
                left = _OPEN_PATHS.pop(opened, 1) - 1
                if left > 0:
                    _OPEN_PATHS[opened] = left

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """A write transaction on this store; rolled back if the block raises.

        Re-entrant: an inner ``transaction()`` joins the outer one, so a journal step can close in the
        same transaction as the store methods that save its result.
        """
        with self._hold():
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._exec("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self._exec("ROLLBACK")
                raise
            else:
                self._depth = 0
                self._exec("COMMIT")

    @abstractmethod
    def _prepare_schema(self) -> None:
        """Bring the file's schema up to date, or only check it when read-only, at open.

        :class:`~pmtui.core.store.migrations.SchemaMixin` does it; the base alone cannot open a cache.
        """


def store_path(data_dir: Path) -> Path:
    """The cache file inside a data folder."""
    return data_dir / STORE_FILENAME
