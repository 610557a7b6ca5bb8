"""Shared fixtures: every test runs with its own PMTUI_HOME and no OS keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def pmtui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throwaway PMTUI_HOME, so no test reads or writes the developer's real config or cache."""
    home = tmp_path / "pmtui-home"
    monkeypatch.setenv("PMTUI_HOME", str(home))
    monkeypatch.setenv("PMTUI_NO_KEYRING", "1")
    for name in ("MOTION", "LINEAR", "NOTION", "GITLAB"):
        monkeypatch.delenv(f"PMTUI_{name}_API_KEY", raising=False)
    return home


@pytest.fixture
def config_file(pmtui_home: Path) -> Path:
    """Path of the settings file inside the test's PMTUI_HOME (its folder exists, the file does not)."""
    path = pmtui_home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def pristine_logging() -> Iterator[None]:
    """Undo `configure_logging` after each test: in-process CLI runs would otherwise stop the pmtui loggers
    from propagating, and a later test's `caplog` would see nothing."""
    import logging

    yield
    for name in ("pmtui", "httpx", "httpcore", "gql", "urllib3", "gitlab", "notion_client"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
