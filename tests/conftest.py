"""Shared fixtures: every test runs with its own PMTUI_HOME and no OS keyring."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# HOME and PMTUI_HOME point at empty temporary folders before any fixture runs, and the run fails if
# anything appears in that HOME (tests/home_guard.py).
pytest_plugins = ["tests.home_guard"]

PUBLISHED_LINEAR_SCHEMA = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "specs" / "linear-schema.graphql"
)
"""Linear's published schema, kept outside the repository; the Linear emulator runs on it when present."""


@pytest.fixture(autouse=True, scope="session")
def linear_schema_setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Run the Linear emulator on Linear's published schema when ``../shared`` has it (CI does), and keep
    the pickled schema in a private temp folder shared by test processes (keyed by the file's hash),
    never in a real home."""
    cache = (
        Path(tempfile.gettempdir()) / f"pmtui-test-schema-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"
    )
    try:
        cache.mkdir(mode=0o700, exist_ok=True)
        private = not hasattr(os, "getuid") or cache.stat().st_uid == os.getuid()
    except OSError:
        private = False
    if not private:
        cache = tmp_path_factory.mktemp("schema-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PMTUI_SANDBOX_SCHEMA_CACHE", str(cache))
        if "PMTUI_SANDBOX_LINEAR_SCHEMA" in os.environ:
            pass  # chosen by whoever runs the tests ("" runs on pmtui's own SDL)
        elif PUBLISHED_LINEAR_SCHEMA.is_file():
            patch.setenv("PMTUI_SANDBOX_LINEAR_SCHEMA", str(PUBLISHED_LINEAR_SCHEMA.resolve()))
        yield


SLOW_MODULES = frozenset(
    {
        # Real processes over the sandbox, one or more full syncs each (tens of seconds per test on 2 cores).
        "tests/faults",
        "tests/test_cli_sync.py",
        "tests/test_docs_commands.py",
        "tests/test_examples.py",
        "tests/test_notebooks.py",
        "tests/test_benchmarks.py",
        "tests/test_sandbox_runner.py",
        "tests/test_private_files.py",
        "tests/tui/test_walkthroughs.py",
        "tests/tui/test_pty_e2e.py",
        # pytest runs in a child process (the home guard's own checks); 50k tasks on the board.
        "tests/test_home_guard.py",
        "tests/tui/test_board_scale.py",
        # 123 key cases, each over a fresh world and app: 15-85 s per screen group.
        "tests/tui/test_keymap.py",
        # 41 full-screen pictures at two sizes (3-4 s each): the full run checks them.
        "tests/tui/test_snapshots.py",
    }
)
"""Modules whose tests are all `slow`: `pytest -m "not slow"` (the quick loop) leaves them out. Marked
here rather than in each file so the list is one reviewable place; single slow tests elsewhere carry
`@pytest.mark.slow` themselves."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        relative = Path(str(item.path)).relative_to(root).as_posix()
        if any(relative == module or relative.startswith(module + "/") for module in SLOW_MODULES):
            item.add_marker(pytest.mark.slow)


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
