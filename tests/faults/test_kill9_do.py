"""kill -9 of `pmtui do` at random points, then the same request again (issue #19).

Each trial runs a real `pmtui do --yes` of a multi-step request (a project and three tasks) against
the sandbox with latency and commit-then-drop faults, SIGKILLs it after a random delay, then runs the
same request once more, as a person would. Over every trial: each object exists exactly once on the
service, and every interrupted request is reported by the second run (which resumes it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.core.store import Store
from pmtui.sandbox.runner import Sandbox, start_sandbox
from pmtui.sandbox.server import Fault

REQUEST = "new project Crash drill with tasks spec, API, docs due friday"
TITLES = ["spec", "API", "docs"]
TRIALS = int(os.environ.get("PMTUI_KILL_TRIALS", "8"))
"""CI runs a sample of 8 kill points (two processes each, about 4 s of CPU per trial); the full exploration
is opt-in: ``PMTUI_KILL_TRIALS=30`` (or more) draws further points from the same seeded sequence, so the
first 8 are always the CI's."""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(seed="demo", services=("motion",)) as running:
        yield running


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PMTUI_HOME": str(home), "PMTUI_NO_KEYRING": "1"}


def _start(home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pmtui.cli", "do", "--yes", REQUEST],
        env=_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _motion_counts(sandbox: Sandbox) -> dict[str, int]:
    state = sandbox.emulator("motion").snapshot()
    names = [t["name"] for t in state["tasks"].values()] + [p["name"] for p in state["projects"].values()]
    return {name: names.count(name) for name in [*TITLES, "Crash drill"]}


def _writes(sandbox: Sandbox) -> int:
    counts = sandbox.emulator("motion").request_counts()
    return sum(v for k, v in counts.items() if k.startswith("POST"))


def _interrupted(home: Path) -> bool:
    """Whether the killed run left a request record part-way (the next run must report it)."""
    cache = home / "data" / "pmtui.duckdb"
    if not cache.exists():
        return False
    with Store(cache) as store:
        return any(r.state == "running" for r in store.requests())


@pytest.mark.timeout(1800)
def test_kill_9_anywhere_in_a_request_then_rerun(sandbox: Sandbox, tmp_path: Path) -> None:
    motion = sandbox.emulator("motion")
    pristine = motion.snapshot()
    before = _motion_counts(sandbox)
    rng = random.Random(19)
    reported = interrupted_trials = 0
    for trial in range(TRIALS):
        motion.restore(pristine)
        motion.clear_faults()
        motion.add_fault(Fault("latency", value=120, count=None, method="POST"))
        motion.add_fault(Fault("commit_drop", count=1, probability=0.3, method="POST"))
        home = tmp_path / f"trial-{trial}"
        sandbox.write_config(home / "config" / "config.toml", local_budgets=True)
        sandbox.reset_counts()
        child = _start(home)
        # A random point: after the k-th write reached the service, plus a random part of its latency.
        writes = rng.randint(0, 4)
        deadline = time.monotonic() + 60
        while child.poll() is None and _writes(sandbox) < writes and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.2))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=60)
        was_interrupted = _interrupted(home)
        motion.clear_faults()
        again = subprocess.run(
            [sys.executable, "-m", "pmtui.cli", "do", "--yes", REQUEST],
            env=_env(home),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in again.stderr, again.stderr
        if was_interrupted:
            interrupted_trials += 1
            assert "was interrupted" in again.stderr, (trial, again.stderr)
            assert again.returncode == 0, (trial, again.stdout, again.stderr)
            reported += 1
        else:
            assert again.returncode in (0, 2), (trial, again.stdout, again.stderr)
        counts = _motion_counts(sandbox)
        assert counts == {name: before[name] + 1 for name in counts}, (trial, counts, again.stderr)
    assert reported == interrupted_trials
    assert interrupted_trials >= TRIALS // 4, "the kills should interrupt a good share of the runs"
