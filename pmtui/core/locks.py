"""Advisory locks between pmtui processes sharing one data folder.

The cache itself is shared through short-lived DuckDB connections (:mod:`pmtui.core.store`); these
locks keep two processes from doing the same *long* work at once: syncing one service, writing the
mirror. They are ``flock`` locks on small files next to the cache, so the kernel drops them the moment
their process ends, even by ``kill -9``: the next process simply takes over.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO


class Busy(Exception):
    """Another process holds the lock; ``holder`` names it (``PID n (command)``) when known."""

    def __init__(self, name: str, holder: str | None) -> None:
        super().__init__(f"{name} is held by {holder or 'another pmtui'}")
        self.name = name
        self.holder = holder


def process_alive(pid: int | None) -> bool:
    """Whether a process with this PID runs now (this one included; another user's counts as alive)."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_process(pid: int) -> str:
    """``PID n (command line)`` for messages; the command is read from /proc where there is one."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    except OSError:
        command = ""
    command = " ".join(command.split())[:200]
    return f"PID {pid} ({command})" if command else f"PID {pid}"


@contextlib.contextmanager
def process_lock(path: Path, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock file ``path`` for the block; raise :class:`Busy` if it stays taken ``wait`` seconds.

    The holder writes its pid into the file, so a refused process can say who holds it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held across the yield
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(path.stem, _holder(path)) from None
                time.sleep(0.05)
        try:  # unbuffered: a write the disk refuses leaves nothing pending for the close to retry
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), str(os.getpid()).encode(), 0)
        except OSError as exc:
            from pmtui.core.store.base import _disk_problem

            raise _disk_problem(path, str(exc), what="the lock file") or exc from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _holder(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return describe_process(int(text)) if text.isdigit() else None
