"""Remember that this machine has no OS keyring, so a command that needs no keyring pays nothing for one.

A command that looks for a key the environment does not hold asks the keyring. On a machine without a
keyring backend (a server, a container, a VM without a desktop) that question always has the same
answer, yet costs about a quarter of a second every time: ``import keyring`` and its search through
every backend, which for keyring's macOS module runs ``ldconfig``, ``gcc`` and ``ld`` on Linux too.

So when the search ends in keyring's *fail* (or *null*) backend on a machine with no desktop session (no
D-Bus session bus to reach, no display), the answer is remembered in a small file in the cache folder,
keyed by everything keyring's choice depends on: the platform and interpreter, the variables keyring and
D-Bus read, whether a session bus socket exists, keyring's own config file, and the installed packages
(a new backend arrives as a package: installing one changes a site-packages folder on ``sys.path``).
The next command whose key matches skips the import. Any change to those inputs, or a search that finds
a backend, forgets the answer. ``pmtui doctor`` always searches afresh.

Where a session bus exists the answer is never remembered: a keyring daemon (GNOME Keyring, KWallet) can
start on that bus later without any of the inputs above changing.

Only "no backend" is remembered, never a key or which keys exist: the file holds a digest and nothing
else. A machine that has a keyring is asked every time, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pmtui import __version__, paths

MEMO_NAME = "keyring-absent.json"

_ENVIRON = (
    "PYTHON_KEYRING_BACKEND",
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "HOME",
)
"""The variables that steer keyring's choice: its own override, where its config lives, and whether a
D-Bus session (Secret Service, KWallet) can be reached or autolaunched."""

_PACKAGE_FOLDERS = frozenset({"site-packages", "dist-packages"})
"""The folders pip installs into (``dist-packages``: Debian's system Python)."""

NO_BACKEND_MODULES = frozenset({"keyring.backends.fail", "keyring.backends.null"})
"""keyring's stand-ins for "no keyring": every lookup through them finds nothing."""


def memo_path() -> Path:
    """Where the memo lives: the cache folder (safe to delete at any time)."""
    return paths.cache_dir() / MEMO_NAME


def _stat(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return "-"
    return f"{info.st_mtime_ns}:{info.st_size}"


def _config_root(environ: Mapping[str, str]) -> Path:
    """keyring's config folder on Linux and the BSDs (``keyring.util.platform_``), without importing it."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or Path.home(), ".config"))
    return Path(base, "python_keyring")


def _runtime_bus(env: Mapping[str, str]) -> Path:
    """The session bus socket libdbus falls back to when ``DBUS_SESSION_BUS_ADDRESS`` is unset."""
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid() if hasattr(os, 'getuid') else ''}"
    return Path(runtime, "bus")


def desktop_session(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a D-Bus session (and so a keyring daemon, now or later) may be reachable from here."""
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY")):
        return True
    return _runtime_bus(env).exists()


def fingerprint(environ: Mapping[str, str] | None = None) -> str:
    """A digest of every input keyring's backend search reads (see the module docstring)."""
    env = os.environ if environ is None else environ
    digest = hashlib.sha256()
    # The interpreter as installed, not as named: `pmtui` runs bin/python3, `python -m pmtui` bin/python.
    interpreter = f"{os.path.realpath(sys.executable)}\0{sys.prefix}"
    digest.update(f"{__version__}\0{sys.platform}\0{interpreter}\0".encode())
    for name in _ENVIRON:
        digest.update(f"{name}={env.get(name, '')}\0".encode())
    digest.update(f"bus:{_stat(_runtime_bus(env))}\0".encode())
    digest.update(f"rc:{_stat(_config_root(env) / 'keyringrc.cfg')}\0".encode())
    # Packages, keyring's backends among them, are installed into the site-packages folders on sys.path.
    # Only those: a source checkout on sys.path (an editable install, the working folder of -m) changes
    # whenever a file is written there, and would make every process search again.
    for entry in sys.path:
        if Path(entry).name in _PACKAGE_FOLDERS:
            digest.update(f"path:{entry}:{_stat(Path(entry))}\0".encode())
    return digest.hexdigest()


def known_absent(key: str) -> bool:
    """Whether a search under the same inputs found no backend (a missing or unreadable memo: no)."""
    try:
        data = json.loads(memo_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("key") == key


def remember(key: str, *, absent: bool) -> None:
    """Record the outcome of a full search: write the memo when no backend was found outside a desktop
    session, else drop it.

    Writes only on a change, atomically; a cache folder that cannot be written just means no memo.
    """
    if not absent or desktop_session():
        forget()
    elif not known_absent(key):
        paths.replace_quietly(memo_path(), json.dumps({"key": key}))


def forget() -> None:
    """Drop the memo, so the next lookup searches for a backend again."""
    with contextlib.suppress(OSError):
        memo_path().unlink()
