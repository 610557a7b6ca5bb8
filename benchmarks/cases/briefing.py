"""``pmtui briefing`` as a user runs it: a whole new process over an N-task cache, wall time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

from benchmarks.harness import Run, Sample
from benchmarks.workloads import fill_cache
from pmtui import paths
from pmtui.core.store import Store, store_path


def briefing_command() -> list[str]:
    """The installed ``pmtui`` script next to this Python, else the same entry point through ``-c``."""
    script = shutil.which("pmtui", path=os.path.dirname(sys.executable))
    if script:
        return [script]
    return [sys.executable, "-c", "from pmtui.cli import main; main()"]


def cli_briefing(run: Run) -> Iterator[Sample]:
    """Median wall time of ``pmtui briefing`` (one warm-up run first, so the OS file cache is warm)."""
    with Store(store_path(paths.data_dir())) as store:
        fill_cache(store, run.n)
    env = dict(os.environ, NO_COLOR="1", COLUMNS="100")
    command = [*briefing_command(), "briefing"]
    run.notes["command"] = " ".join(command[-2:])
    subprocess.run(command, env=env, capture_output=True, check=True, timeout=120)
    for _ in range(run.reps):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"pmtui briefing exited {done.returncode}: {done.stderr.strip()[-300:]}")
        run.notes["output_lines"] = len(done.stdout.splitlines())
        yield {"seconds": seconds}
