"""What the instant commands need from the settings, without importing pydantic-settings on every run.

``pmtui briefing`` needs two facts from the settings: the time zone and which services are configured.
Validating ``config.toml`` with the full settings model costs more than the briefing's own query
(pydantic-settings and the model classes are a large share of the start), so the result of the last full
validation is remembered in a small stamp file, keyed by everything that could change it: the settings
file's bytes, every ``PMTUI_*`` variable (secret values only by presence), pmtui's version and the
settings module itself. When the key matches, the remembered facts are exactly what the model produced
for these inputs; when anything differs, the caller validates in full (same errors, same exit codes) and
writes a new stamp. An invalid file never gets a stamp, so it can never be skipped.

No secret is written: the stamp holds a digest, a zone name and service names.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pmtui import __version__, paths

STAMP_NAME = "settings-stamp.json"
SECRET_SUFFIXES = ("API_KEY", "_SECRET", "_TOKEN")
"""Variables whose value is a secret: only whether they are set enters the key (never their value)."""


@dataclass(frozen=True)
class SettingsFacts:
    """The validated settings facts the instant commands use."""

    timezone: str | None
    configured: tuple[str, ...]
    """Service names (``motion``, ...) the settings set up, as ``configured_services`` decides."""


def stamp_path() -> Path:
    """Where the stamp lives: the cache folder (safe to delete at any time)."""
    return paths.cache_dir() / STAMP_NAME


def fingerprint(config_file: Path, environ: dict[str, str] | None = None) -> str:
    """A digest of every input the settings are built from (see the module docstring)."""
    env = os.environ if environ is None else environ
    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{config_file.absolute()}\0".encode())
    module = Path(__file__).with_name("config.py")
    try:
        info = module.stat()
        digest.update(f"{info.st_mtime_ns}:{info.st_size}\0".encode())
    except OSError:
        digest.update(b"no-config-module\0")
    try:
        digest.update(config_file.read_bytes())
    except FileNotFoundError:
        digest.update(b"\0absent\0")
    for name in sorted(k for k in env if k.upper().startswith("PMTUI_")):
        secret = name.upper().endswith(SECRET_SUFFIXES)
        value = "set" if secret and env[name] else ("" if secret else env[name])
        digest.update(f"\0{name}={value}".encode())
    return digest.hexdigest()


def read_facts(key: str) -> SettingsFacts | None:
    """The facts stamped under ``key``, or None (no stamp, another key, or an unreadable file)."""
    try:
        data = json.loads(stamp_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    timezone = data.get("timezone")
    configured = data.get("configured")
    if not (timezone is None or isinstance(timezone, str)) or not isinstance(configured, list):
        return None
    return SettingsFacts(timezone=timezone, configured=tuple(str(name) for name in configured))


def write_facts(key: str, facts: SettingsFacts) -> None:
    """Remember ``facts`` under ``key`` (atomically; a folder that cannot be written just means no stamp)."""
    body = json.dumps({"key": key, "timezone": facts.timezone, "configured": list(facts.configured)})
    paths.replace_quietly(stamp_path(), body)
