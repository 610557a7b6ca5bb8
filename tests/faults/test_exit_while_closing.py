"""A process that ends while its store is closing the cache ends cleanly.

A store's idle connection is closed by a daemon thread a moment after the last use, and DuckDB
checkpoints on close with the GIL released. A process that ended inside that window was stopped in
DuckDB's C++ code by the finalizing interpreter and aborted (SIGABRT, "terminate called ... exception
not rethrown"): `q` in `pmtui demo` did it about one time in four. Each trial here writes a few thousand
tasks and ends at a random moment around the close, as `q` does.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("PMTUI_EXIT_TRIALS", "12"))

CHILD = """
import sys, time
from pathlib import Path
from pmtui.core.store import Store
from pmtui.models import Task

store = Store(Path(sys.argv[1]) / "cache.duckdb")
store.upsert_tasks([Task(title=f"task {n}") for n in range(3000)])
time.sleep(float(sys.argv[2]))  # then end without closing: the reaper may be closing right now
"""


def test_ending_at_any_moment_around_the_close_never_aborts(tmp_path: Path) -> None:
    chance = random.Random(os.environ.get("PMTUI_EXIT_SEED", "exit"))
    failures = []
    for trial in range(TRIALS):
        home = tmp_path / f"t{trial}"
        home.mkdir()
        delay = chance.uniform(0.0, 0.3)  # the connection lingers 0.2 s, then closes
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(home), f"{delay:.3f}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            failures.append((delay, done.returncode, done.stderr[-300:]))
    assert failures == [], failures
