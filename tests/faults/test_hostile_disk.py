"""A read-only home and a full disk: a clear message naming the folder and the fix, exit 1, never a
traceback and never "the cache is damaged" (nothing is damaged, and `cache rebuild` would not help).

Each command runs on a real file system of that kind: a tmpfs mounted (read-only, or tiny) in a private
mount namespace of the child (`unshare -rm`, no root needed), so DuckDB, the log writer and the mirror meet
the kernel's own EROFS and ENOSPC.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.sandbox.runner import Sandbox, start_sandbox

pytestmark = pytest.mark.slow

MOUNT = """
set -e
mkdir -p "$HOME_AT"
mount -t tmpfs -o size="$SIZE" tmpfs "$HOME_AT"
cp -a "$SEED"/. "$HOME_AT"/
if [ "$READ_ONLY" = 1 ]; then mount -o remount,ro "$HOME_AT"; fi
shift
exec "$@"
"""


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


if sys.platform != "linux" or not _namespaces_work():
    pytest.skip("needs Linux mount namespaces (unshare -rm)", allow_module_level=True)


@pytest.fixture(scope="module")
def services() -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as sandbox:
        yield sandbox


@pytest.fixture
def seed_home(services: Sandbox, tmp_path: Path) -> Path:
    """What goes into the mounted home: a config pointing at the sandbox (and nothing else yet)."""
    seed = tmp_path / "seed"
    services.write_config(seed / "config" / "config.toml", local_budgets=True)
    return seed


def _pmtui_on(
    seed: Path, mount_at: Path, *args: str, read_only: bool = False, size: str = "64m"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PMTUI_HOME": str(mount_at),
        "PMTUI_NO_KEYRING": "1",
        "HOME_AT": str(mount_at),
        "SEED": str(seed),
        "SIZE": size,
        "READ_ONLY": "1" if read_only else "0",
    }
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", MOUNT, "sh", "--", sys.executable, "-m", "pmtui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _sync_into(seed: Path) -> None:
    env = {**os.environ, "PMTUI_HOME": str(seed), "PMTUI_NO_KEYRING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pmtui", "sync"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr


def _assert_clear(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "damaged" not in done.stderr
    assert "cache rebuild" not in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def test_sync_in_an_empty_read_only_home(seed_home: Path, tmp_path: Path) -> None:
    done = _pmtui_on(seed_home, tmp_path / "home", "sync", read_only=True)
    _assert_clear(done, "read-only", str(tmp_path / "home"))


def test_sync_over_a_filled_cache_in_a_read_only_home(seed_home: Path, tmp_path: Path) -> None:
    _sync_into(seed_home)
    done = _pmtui_on(seed_home, tmp_path / "home", "sync", read_only=True)
    _assert_clear(done, "read-only", "pmtui.duckdb")
    # Reading still works: the briefing and the check open the cache read-only.
    check = _pmtui_on(seed_home, tmp_path / "home", "cache", "check", read_only=True)
    assert check.returncode == 0, check.stderr
    assert "Traceback" not in check.stderr


def test_sync_onto_a_full_disk(seed_home: Path, tmp_path: Path) -> None:
    # 64 KiB: room for the config and the cache's first blocks, not for the first sync's commit.
    done = _pmtui_on(seed_home, tmp_path / "home", "sync", size="64k")
    _assert_clear(done, "disk is full")


def test_the_sync_lock_on_a_full_disk_says_so(tmp_path: Path) -> None:
    """The lock file a sync writes its pid into, on a disk with no room left: the same clear error as the
    cache's, naming the file. It was an OSError from the lock's buffered write, raised again by its
    close, that ended the whole round as "cannot write a file" without saying which."""
    code = (
        "import os, pathlib, sys\n"
        "from pmtui.core.locks import process_lock\n"
        "home = pathlib.Path(os.environ['HOME_AT'])\n"
        "filler = os.open(home / 'filler', os.O_WRONLY | os.O_CREAT)\n"
        "try:\n"
        "    while True:\n"
        "        os.write(filler, b'x' * 4096)\n"
        "except OSError:\n"
        "    os.close(filler)\n"
        "try:\n"
        "    with process_lock(home / 'sync-linear.lock'):\n"
        "        print('held')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc, getattr(exc, 'hint', ''))\n"
    )
    seed = tmp_path / "seed"
    seed.mkdir()
    env = {
        **os.environ,
        "HOME_AT": str(tmp_path / "home"),
        "SEED": str(seed),
        "SIZE": "64k",
        "READ_ONLY": "0",
    }
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", MOUNT, "sh", "--", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lock = tmp_path / "home" / "sync-linear.lock"
    assert done.stdout.strip() == (
        f"StoreUnwritableError cannot write the lock file {lock}: the disk is full "
        "free some space and run the command again; the cache keeps its last completed write"
    )
