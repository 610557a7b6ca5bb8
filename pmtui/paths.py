"""Where pmtui keeps its files: one folder under ``PMTUI_HOME`` when set, else the OS's usual places.

A leaf module (stdlib and platformdirs only), so the sandbox and the CLI's fast path can use it without
loading the settings model.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

APP_NAME = "pmtui"


def home_override() -> Path | None:
    """The ``PMTUI_HOME`` folder, if set: config, data, cache and logs all live under it."""
    value = os.environ.get("PMTUI_HOME")
    return Path(value).expanduser() if value else None


def _platform(kind: str) -> Path:
    import platformdirs

    getter = getattr(platformdirs, f"user_{kind}_dir")
    return Path(getter(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """Folder of ``config.toml``."""
    home = home_override()
    return home / "config" if home else _platform("config")


def data_dir() -> Path:
    """Folder of the DuckDB cache and the default Delta mirror."""
    home = home_override()
    return home / "data" if home else _platform("data")


def cache_dir() -> Path:
    """Folder of disposable caches (the built Linear schema, for one)."""
    home = home_override()
    return home / "cache" if home else _platform("cache")


def log_dir() -> Path:
    """Folder of the JSON-lines log files."""
    home = home_override()
    return home / "logs" if home else _platform("log")


def config_file() -> Path:
    """The TOML settings file."""
    return config_dir() / "config.toml"


def change_marker(db: Path) -> Path:
    """The small file next to the cache ``db`` that every write replaces: front ends watch it."""
    return db.with_name(db.name + ".changed")


def change_token(db: Path) -> tuple[int, int] | None:
    """What identifies the last write to ``db`` by any process (None before the first): compare two."""
    try:
        info = change_marker(db).stat()
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns)


def replace_quietly(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically, for a file that is only a shortcut (a stamp, a memo):
    a folder that cannot be written means no shortcut, never an error."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, target)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
