"""Fuzzing the cache file: random 8-byte overwrites at many positions and truncations at many lengths.

Whatever the damage, `pmtui cache check` and `pmtui cache rebuild` answer with a message and an exit code,
never a traceback (nor a crash of the process); and a rebuild restores the tasks from the services.
Each run is a real `pmtui` process: a DuckDB that aborts on a bad block must not take the test with it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.core.store import Store, store_path
from pmtui.sandbox.runner import Sandbox, start_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

RNG = random.Random(24)
# 28 overwrite positions: the first and last blocks (DuckDB's headers and the tail) and random ones.
OVERWRITES = sorted(
    {0, 8, 16, 4096, 4104, 8192, 12288, 262_144} | {RNG.randrange(0, 1 << 20) for _ in range(20)}
)
TRUNCATIONS = [0, 1, 7, 4096, 8192, 12_288, 262_144]
EXIT_CODES = {0, 1, 4}  # sound, rebuilt with losses, damaged


@pytest.fixture(scope="module")
def services() -> Iterator[Sandbox]:
    with start_sandbox(seed="demo") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def synced_home(services: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fuzz-synced") / "home"
    services.write_config(home / "config" / "config.toml", local_budgets=True)
    done = _pmtui(home, "sync")
    assert done.returncode == 0, done.stderr
    return home


def _pmtui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pmtui.cli", *args], capture_output=True, text=True, env=env, timeout=180
    )


def _copy(synced_home: Path, target: Path) -> Path:
    shutil.copytree(synced_home, target)
    return store_path(target / "data")


def _assert_clean(done: subprocess.CompletedProcess[str], what: str) -> None:
    assert "Traceback" not in done.stderr, f"{what}: {done.stderr[-400:]}"
    assert done.returncode in EXIT_CODES, f"{what}: exit {done.returncode}: {done.stderr[-3000:]}"
    if done.returncode == 4:
        assert "damaged" in done.stderr, f"{what}: {done.stderr}"
        assert "pmtui cache rebuild" in done.stderr, f"{what}: {done.stderr}"


def _overwrite(cache: Path, position: int) -> None:
    size = cache.stat().st_size
    with cache.open("r+b") as handle:
        handle.seek(position % max(size - 8, 1))
        handle.write(RNG.randbytes(8))


def test_cache_check_never_crashes_on_overwrites_or_truncations(synced_home: Path, tmp_path: Path) -> None:
    failures: list[str] = []
    cases = [("overwrite", n) for n in OVERWRITES] + [("truncate", n) for n in TRUNCATIONS]
    for kind, n in cases:
        cache = _copy(synced_home, tmp_path / f"{kind}-{n}")
        if kind == "overwrite":
            _overwrite(cache, n)
        else:
            with cache.open("r+b") as handle:
                handle.truncate(min(n, cache.stat().st_size))
        damaged = cache.read_bytes()
        done = _pmtui(cache.parent.parent, "cache", "check")
        try:
            _assert_clean(done, f"cache check after {kind} {n}")
        except AssertionError as exc:
            failures.append(str(exc).split("\nassert")[0])
        if done.returncode == 4 and cache.read_bytes() != damaged:
            failures.append(f"{kind} {n}: cache check changed the damaged file")
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)


def test_cache_rebuild_never_crashes_and_restores_from_the_services(
    synced_home: Path, tmp_path: Path
) -> None:
    with Store(store_path(synced_home / "data"), read_only=True) as store:
        tasks = store.count_tasks()
    failures: list[str] = []
    # Each rebuild is a full sync from the services: a sample of the damage kinds above.
    cases = [("overwrite", n) for n in OVERWRITES[::7]] + [("truncate", n) for n in TRUNCATIONS[::3]]
    for kind, n in cases:
        cache = _copy(synced_home, tmp_path / f"{kind}-{n}")
        if kind == "overwrite":
            _overwrite(cache, n)
        else:
            with cache.open("r+b") as handle:
                handle.truncate(min(n, cache.stat().st_size))
        home = cache.parent.parent
        done = _pmtui(home, "cache", "rebuild")
        try:
            _assert_clean(done, f"cache rebuild after {kind} {n}")
            if done.returncode == 4:
                continue  # damage the check missed but rebuild refused without --force: already checked
            check = _pmtui(home, "cache", "check")
            assert check.returncode == 0, f"{kind} {n}: check after rebuild: {check.stderr}"
            with Store(cache, read_only=True) as store:
                assert store.count_tasks() >= tasks, f"{kind} {n}: rebuild restored {store.count_tasks()}"
        except AssertionError as exc:
            failures.append(str(exc).split("\nassert")[0])
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)
