"""The source Python generates while the libraries load, compiled once per installation, not per process.

Python keeps the bytecode of every module's file in ``__pycache__``, but not of the source it writes
itself while classes are made: the methods of every dataclass (``dataclasses`` writes ``__init__``,
``__eq__``, ``__repr__`` ... as text and runs it with ``exec``), the ``__new__`` of every namedtuple,
and every string annotation pydantic turns into a ``typing.ForwardRef``. A quiet `pmtui sync` compiles about
2,600 such snippets (graphql-core's AST nodes, DuckDB's relation API, pydantic's and pmtui's models):
65-70 ms of dataclass methods and 17 ms of the rest, every run, for text that is the same in every
process of an installation (docs/performance.md).

:func:`install` points those three compilers at a cache of the code objects, keyed by the exact text and
mode, and registers :func:`save` to run at exit. A library upgrade or an edited class makes new text,
which simply misses and is compiled as before; a code object compiled from the same text with the same
flags is the same whatever process compiled it, so what runs does not change. Each command that uses it
(``pmtui sync``, the app, a briefing or conflicts list read from DuckDB) has one file in the cache
folder, in the format of ``.pyc`` files (:mod:`marshal`), named for this Python's exact version and
optimisation level. A file is read only if it belongs to this user, no one else can write it and its
checksum holds: loading it runs what it holds. Anything wrong with it (missing, damaged, foreign) reads
as empty, and a cache that cannot be written is skipped: it only ever costs the compile it would have
saved. ``PMTUI_NO_CODE_CACHE=1`` turns it off.
"""

from __future__ import annotations

import builtins
import contextlib
import marshal
import os
import stat
import sys
import zlib
from pathlib import Path
from types import CodeType
from typing import Any

MAX_ENTRIES = 20_000
"""Past this many snippets (about 8 MB) a save keeps only what its own process used: text of upgraded
libraries' old versions is never asked for again."""

ABANDONED_SECONDS = 600
"""A save's temporary file this old belongs to a process that was killed while writing it."""

HEADER = b"pmtui generated code\n"
"""The file's first bytes, then the CRC-32 of the rest, then the marshalled ``{(mode, source): code}``."""

_enabled = False
_cache: dict[tuple[str, str], CodeType] = {}
_used: set[tuple[str, str]] = set()
_new = 0
_path: Path | None = None
_compile = builtins.compile
_exec = builtins.exec
_eval = builtins.eval


def cache_file(folder: Path, command: str) -> Path:
    """The cache file of ``command`` for this interpreter: its exact version and ``-O`` level are in the
    name. One file a command: each loads only the snippets of the libraries it imports."""
    version = f"{sys.implementation.cache_tag}-{sys.hexversion:x}-O{sys.flags.optimize}"
    return folder / f"generated-code-{command}-{version}.marshal"


def compiled(source: str, mode: str) -> CodeType:
    """The code of ``source`` as ``compile(source, "<string>", mode)`` makes it, from the cache if there.

    ``dont_inherit`` keeps this module's ``from __future__`` flags out: the callers it replaces
    (dataclasses, collections, typing) have none, so their code is compiled with none.
    """
    global _new
    key = (mode, source)
    code = _cache.get(key)
    if code is None:
        code = _compile(source, "<string>", mode, dont_inherit=True)
        _cache[key] = code
        _new += 1
    _used.add(key)
    return code


def _cached_exec(source: Any, scope: Any = None, names: Any = None, /) -> None:
    """``exec`` for :mod:`dataclasses`: its generated methods from the cache."""
    if isinstance(source, str):
        source = compiled(source, "exec")
    if scope is None:  # as the builtin: the caller's namespaces, not this module's
        caller = sys._getframe(1)
        scope, names = caller.f_globals, caller.f_locals if names is None else names
    _exec(source, scope, names)


def _cached_eval(source: Any, scope: Any = None, names: Any = None, /) -> Any:
    """``eval`` for :mod:`collections`: a namedtuple's ``__new__`` from the cache."""
    if isinstance(source, str):
        source = compiled(source, "eval")
    if scope is None:
        caller = sys._getframe(1)
        scope, names = caller.f_globals, caller.f_locals if names is None else names
    return _eval(source, scope, names)


def _cached_compile(
    source: Any,
    filename: Any,
    mode: str,
    flags: int = 0,
    dont_inherit: bool = False,
    optimize: int = -1,
    **kwargs: Any,
) -> Any:
    """``compile`` for :mod:`typing`: a forward reference's expression from the cache.

    Only the plain form ``ForwardRef`` uses is cached; any other call is compiled as asked, never with
    this module's ``from __future__`` flags: inheriting, it would have had typing's, which are none.
    """
    if isinstance(source, str) and filename == "<string>" and not flags and optimize == -1 and not kwargs:
        return compiled(source, mode)
    return _compile(source, filename, mode, flags, True, optimize, **kwargs)


def _checksum(payload: bytes) -> bytes:
    return zlib.crc32(payload).to_bytes(4, "big")


def _trusted(path: Path) -> bool:
    """True if ``path`` is a regular file of this user that no one else can write."""
    try:
        info = path.stat()
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _load(path: Path) -> dict[tuple[str, str], CodeType]:
    """The cache in ``path``; empty if it is missing, untrusted or not a cache this module wrote."""
    if not _trusted(path):
        return {}
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    payload = data[len(HEADER) + 4 :]
    if not data.startswith(HEADER) or data[len(HEADER) : len(HEADER) + 4] != _checksum(payload):
        return {}  # not ours, or damaged: marshal is not meant for bytes it did not write
    try:
        loaded = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {
        key: code
        for key, code in loaded.items()
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], str) and isinstance(code, CodeType)
    }


def enable() -> None:
    """Let :func:`install` work in this process. The console scripts' entry points call it: they own the
    process. A test that runs a command's function in its own process leaves the stdlib as it was."""
    global _enabled
    _enabled = True


def install(folder: Path, command: str) -> bool:
    """Compile generated source through ``command``'s cache in ``folder`` from now on; False where turned
    off, or in a process that did not call :func:`enable`.

    Call it before the libraries load: what loaded earlier was compiled already.
    """
    global _path
    if _path is not None:
        return True
    if not _enabled or os.environ.get("PMTUI_NO_CODE_CACHE"):
        return False
    import atexit
    import collections
    import dataclasses
    import typing

    _path = cache_file(folder, command)
    _cache.update(_load(_path))
    # Module globals come before builtins in name lookup: these reach only the three modules' own calls.
    dataclasses.exec = _cached_exec  # type: ignore[attr-defined]
    collections.eval = _cached_eval  # type: ignore[attr-defined]
    typing.compile = _cached_compile  # type: ignore[attr-defined]
    atexit.register(save)
    return True


def save() -> None:
    """Write the cache if this process compiled anything new; never raises (it is only a cache)."""
    global _new
    if _path is None or not _new:
        return
    everything = dict(_cache)  # copies in one step: a daemon thread may still be making classes
    if len(everything) > MAX_ENTRIES:
        everything = {key: everything[key] for key in list(_used) if key in everything}
    temporary = _path.with_name(f"{_path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    try:
        _path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(os.open(temporary, flags, 0o600), "wb") as handle:
            payload = marshal.dumps(everything)
            handle.write(HEADER + _checksum(payload) + payload)
        os.replace(temporary, _path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return
    _new = 0
    _remove_abandoned(_path)


def _remove_abandoned(path: Path) -> None:
    """Delete the temporary files of saves that never finished (their process was killed): any older
    than :data:`ABANDONED_SECONDS`, so a save running in another process right now keeps its own."""
    import time

    cutoff = time.time() - ABANDONED_SECONDS
    for leftover in path.parent.glob(f"{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
