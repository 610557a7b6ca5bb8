"""A pytest plugin that keeps the test run out of the developer's home, and fails the run if it is not.

At configure time, before any fixture of any scope runs, ``HOME`` points at a new empty folder, the XDG
folders are unset (so platformdirs resolves under that folder), and ``PMTUI_HOME`` points at a session
folder. Module- and session-scoped fixtures therefore never write the real ``~/.cache/pmtui`` (the Linear
schema pickle did). At the end of the session the stand-in ``HOME`` must still be empty: anything there
is a file some test, fixture or child process wrote into "the user's home" instead of its own temporary
one, and the run fails naming it. Loaded by ``tests/conftest.py``; ``tests/test_home_guard.py`` checks
that the guard catches a test that writes there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR")
_KEY = pytest.StashKey[tuple[Path, Path, dict[str, str | None]]]()


def pytest_configure(config: pytest.Config) -> None:
    root = Path(tempfile.mkdtemp(prefix="pmtui-tests-"))
    home = root / "home"
    home.mkdir(mode=0o700)
    saved = {name: os.environ.get(name) for name in ("HOME", "PMTUI_HOME", "MPLCONFIGDIR", *_XDG)}
    os.environ["HOME"] = str(home)
    for name in _XDG:
        os.environ.pop(name, None)
    os.environ["PMTUI_HOME"] = str(root / "session-pmtui-home")
    # matplotlib caches its font list under ~/.config/matplotlib: a library's cache, not a test's write.
    os.environ["MPLCONFIGDIR"] = str(root / "matplotlib")
    config.stash[_KEY] = (root, home, saved)


def created_under(home: Path) -> list[str]:
    """Every path below ``home``, relative to it (empty when nothing was created)."""
    return sorted(str(path.relative_to(home)) for path in home.rglob("*"))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    root, home, saved = session.config.stash[_KEY]
    created = created_under(home)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if created and not hasattr(session.config, "workerinput"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [
            "home guard: the tests wrote into HOME (they must use their temporary PMTUI_HOME):",
            *(f"  ~/{path}" for path in created[:20]),
        ]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True, bold=True)
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    shutil.rmtree(root, ignore_errors=True)
