"""kill -9 while the cache file is being made: the next open always finds a whole cache, or none.

Found by the kill -9 sync test's first kill, placed as soon as the cache exists: DuckDB writes a new
file's headers after creating it, and a process killed in between left a 0- or 8,192-byte file that
every later open refused as damaged (:func:`pmtui.core.store.base._create_whole`).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pmtui.core.store import Store
from pmtui.core.store.schema import SCHEMA_VERSION

CREATE = "import sys\nfrom pmtui.core.store import Store\nStore(sys.argv[1]).close()\n"


def _kill_when(path: Path, moment: str) -> None:
    """Start a process that makes the cache at ``path``; kill -9 it at ``moment``.

    ``file``: as soon as the cache's name exists (the window that left half-written files); ``temporary``:
    as soon as a creator's temporary file exists; ``random``: after a random short delay.
    """
    child = subprocess.Popen([sys.executable, "-c", CREATE, str(path)])
    try:
        if moment == "random":
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=random.uniform(0.05, 0.6))
        else:
            while child.poll() is None:  # no sleep: the window is a few milliseconds wide
                if moment == "file" and path.exists():
                    break
                if moment == "temporary" and any(path.parent.glob(f".{path.name}.new-*")):
                    break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_creation_killed_at_any_moment_leaves_a_whole_cache_or_none(tmp_path: Path) -> None:
    random.seed(11)
    for attempt in range(24):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        path = folder / "pmtui.duckdb"
        _kill_when(path, ("file", "temporary", "random")[attempt % 3])
        with Store(path) as store:  # raised StoreDamagedError on a half-written file
            assert store.version() == SCHEMA_VERSION
        assert not list(folder.glob(f".{path.name}.new-*")), "a killed creator's temporary file stayed"


def test_two_processes_making_the_same_cache_both_open_it(tmp_path: Path) -> None:
    path = tmp_path / "pmtui.duckdb"
    children = [subprocess.Popen([sys.executable, "-c", CREATE, str(path)]) for _ in range(3)]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    with Store(path) as store:
        assert store.version() == SCHEMA_VERSION
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("size", [0, 4096, 8192])
def test_an_incomplete_file_an_older_pmtui_left_is_set_aside_and_replaced(
    tmp_path: Path, size: int, caplog: pytest.LogCaptureFixture
) -> None:
    """What a creation killed before this fix left (0 or 8,192 bytes were seen): shorter than DuckDB's
    headers and with no write-ahead log, it never held anything. It is renamed, not deleted, and a new
    cache takes its place; before, every open refused it as damaged."""
    whole = tmp_path / "whole.duckdb"
    Store(whole).close()
    path = tmp_path / "pmtui.duckdb"
    path.write_bytes(whole.read_bytes()[:size])
    with Store(path) as store:
        assert store.version() == SCHEMA_VERSION
    aside = list(tmp_path.glob("pmtui.duckdb.incomplete-*"))
    assert [p.read_bytes() for p in aside] == [whole.read_bytes()[:size]]
    assert "set aside an incomplete cache file" in caplog.text


@pytest.mark.parametrize("size", [0, 8192])
def test_the_read_only_commands_call_an_incomplete_file_unfinished_not_damaged(
    tmp_path: Path, size: int
) -> None:
    """`pmtui briefing` and `pmtui conflicts` open the cache read-only, so they cannot set an incomplete
    file aside. They said "damaged" and sent the user to `pmtui cache rebuild`, a re-read of every
    service; they now say what the file is and that `pmtui sync` replaces it, and leave it as it is."""
    whole = tmp_path / "whole.duckdb"
    Store(whole).close()
    home = tmp_path / "home"
    path = home / "data" / "pmtui.duckdb"
    path.parent.mkdir(parents=True)
    path.write_bytes(whole.read_bytes()[:size])
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1", "NO_COLOR": "1"}
    for command in ("briefing", "conflicts"):
        done = subprocess.run(
            [sys.executable, "-m", "pmtui", command], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 4, done.stderr
        assert f"the cache {path} was never finished: its creation was interrupted" in done.stderr
        assert "run `pmtui sync` (or start the app): it sets the file aside" in done.stderr
        assert "damaged" not in done.stderr
    assert path.read_bytes() == whole.read_bytes()[:size]
    assert sorted(p.name for p in path.parent.iterdir()) == ["pmtui.duckdb"]


def test_a_short_file_with_a_write_ahead_log_is_not_set_aside(tmp_path: Path) -> None:
    """The log may hold committed rows: such a file is reported as damaged, as before, and kept."""
    from pmtui.core.store.base import StoreDamagedError

    path = tmp_path / "pmtui.duckdb"
    path.write_bytes(b"")
    Path(f"{path}.wal").write_bytes(b"\0" * 64)
    with pytest.raises(StoreDamagedError):
        Store(path)
    assert path.exists()
    assert not list(tmp_path.glob("pmtui.duckdb.incomplete-*"))
