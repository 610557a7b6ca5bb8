"""The pmtui sync job on Databricks: `pmtui sync`, then `pmtui mirror`, with the cache kept on a volume.

DuckDB needs random writes, which Unity Catalog volumes do not offer, so the cache is copied from the state
volume to local disk, used there, and copied back (also when the sync failed: its sync runs and decisions
belong in the history). The job fails on every non-zero exit of `pmtui sync` or `pmtui mirror` (1 a
service failed, 2 bad config, 4 damaged cache, 5 cache busy, ...), with that exit code; only 3, conflicts
waiting for a person, counts as a successful run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

CACHE = "pmtui.duckdb"


def pmtui(home: Path, *args: str) -> int:
    """Run one pmtui command in this Python environment (where the bundle installed the wheel)."""
    env = dict(os.environ, PMTUI_HOME=str(home))
    command = [sys.executable, "-c", "from pmtui.cli import main; main()", *args]
    sys.stdout.write("$ pmtui " + " ".join(args) + "\n")
    sys.stdout.flush()
    return subprocess.run(command, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", required=True, help="volume folder that keeps the DuckDB cache")
    parser.add_argument("--home", default="/local_disk0/pmtui", help="local PMTUI_HOME for this run")
    args = parser.parse_args(argv)
    state = Path(args.state)
    home = Path(args.home)
    data = home / "data"
    data.mkdir(parents=True, exist_ok=True)
    if (state / CACHE).exists():
        shutil.copy2(state / CACHE, data / CACHE)
    try:
        synced = pmtui(home, "sync", "--json")
        mirrored = pmtui(home, "mirror")
    finally:
        state.mkdir(parents=True, exist_ok=True)
        if (data / CACHE).exists():
            shutil.copy2(data / CACHE, state / f"{CACHE}.new")
            os.replace(state / f"{CACHE}.new", state / CACHE)
    sys.stdout.write(f"sync exit {synced}, mirror exit {mirrored}\n")
    return job_exit(synced, mirrored)


CONFLICTS_WAITING = 3


def job_exit(synced: int, mirrored: int) -> int:
    """The job's exit code: the first failing command's own code, so the run page says what went wrong."""
    if synced not in (0, CONFLICTS_WAITING):
        return synced
    return mirrored


if __name__ == "__main__":
    sys.exit(main())
