"""Shared fixtures: every test runs with its own PMTUI_HOME and no OS keyring."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


UNTRACED = frozenset(
    {
        # The key map: 123 cases over the screens whose own tests measure them.
        "tests/tui/test_keymap.py::test_keys_do_what_the_map_says",
        # Pictures of screens that the screen tests measure.
        "tests/tui/test_snapshots.py",
        # Explorations: many examples through code the example tests of the same module measure.
        "tests/faults/test_kill9_do.py::test_kill_9_anywhere_in_a_request_then_rerun",
        "tests/faults/test_kill9_sync.py::test_kill_9_during_sync_converges_without_duplicates",
        "tests/faults/test_cache_fuzz.py",
        "tests/faults/test_exit_while_closing.py::test_ending_at_any_moment_around_the_close_never_aborts",
        "tests/core/test_write_model.py::test_model_every_write_is_on_every_side_or_a_conflict",
        "tests/core/test_link_adoption.py::test_linking_twins_that_disagree_loses_nothing",
        "tests/test_answers.py::test_any_write_or_tick_followed_by_a_briefing_is_never_stale",
    }
)
"""Tests that run without coverage's line tracing (`untraced`), in this process and in the processes
they start. On Python 3.11 the tracer is called for every line of every frame, Textual's and DuckDB's
included, and made these tests 1.2-1.8x slower (the durations of one run with and one without `--cov`)
while adding little to the measure: nearly all the lines they run are lines their module's example tests
run (the total went from 91.75 % to 91.03 % when they stopped being traced). They were a third of the
suite's time, and tracing them put CI over its 20 minutes. They still run, and fail the run, like every
other test."""


def _listed(node_id: str, entries: frozenset[str]) -> bool:
    return any(
        node_id == entry or node_id.startswith((entry + "/", entry + "::", entry + "[")) for entry in entries
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _listed(item.nodeid, SLOW_MODULES):
            item.add_marker(pytest.mark.slow)
        if _listed(item.nodeid, UNTRACED):
            item.add_marker(pytest.mark.untraced)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Pause every coverage collector of this process while an `untraced` test runs. pytest-cov's own
    `no_cover` is not enough: it stops only its collector, and coverage then resumes the one beneath it
    (an xdist worker also measures itself, started by `patch = subprocess`), which traces on."""
    if item.get_closest_marker("untraced") is None:
        return (yield)
    paused = _pause_coverage()
    try:
        return (yield)
    finally:
        if paused:
            paused[-1].resume()  # only the top one was tracing


def _pause_coverage() -> list[Any]:
    try:
        from coverage.collector import Collector
    except ImportError:
        return []
    stack = list(Collector._collectors)
    for collector in stack:
        collector.pause()
    return stack


@pytest.fixture(autouse=True)
def untraced_children(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """An `untraced` test starts its processes untraced too: coverage's `patch = subprocess` measures a
    child when it finds COVERAGE_PROCESS_CONFIG (or _START) in the environment it inherits."""
    if request.node.get_closest_marker("untraced") is not None:
        monkeypatch.delenv("COVERAGE_PROCESS_CONFIG", raising=False)
        monkeypatch.delenv("COVERAGE_PROCESS_START", raising=False)


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
