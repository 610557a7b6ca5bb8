"""TUI cases over an N-task cache: board open, keypress-to-frame while scrolling, peak memory.

Each repetition is a new process running :mod:`benchmarks.tui_probe`, so the peak memory is the app's
(with Pilot and a headless driver), not the benchmark runner's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.harness import Run, Sample, Skip, child_env
from benchmarks.workloads import fill_cache
from pmtui.answers import BRIEFING_FILE
from pmtui.core.store import Store

ROOT = Path(__file__).resolve().parents[2]


def tui_built() -> str | None:
    """None when ``pmtui.app.make_app`` exists, else why not."""
    try:
        from pmtui import app
    except ImportError as exc:
        return f"the TUI is not built ({exc})"
    if not hasattr(app, "make_app"):
        return "the TUI is not built (pmtui.app.make_app is missing)"
    return None


def tui_board(run: Run) -> Iterator[Sample]:
    reason = tui_built()
    if reason:
        raise Skip(reason)
    cache = run.tmp / "tui.duckdb"
    with Store(cache) as store:
        fill_cache(store, run.n)
    env = child_env(PYTHONPATH=str(ROOT))
    for _ in range(run.reps):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.tui_probe", str(cache), str(run.tmp)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tui probe failed: {done.stderr.strip()[-500:]}")
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        run.notes["board_rows"] = measured["board_rows"]
        run.notes.setdefault("first_frame_s", []).append(measured["first_frame_s"])
        yield {
            "board_open_s": measured["board_open_s"],
            "key_to_frame_ms_p50": measured["key_to_frame_ms_p50"],
            "key_to_frame_ms_max": measured["key_to_frame_ms_max"],
            "rested_key_to_frame_ms_p50": measured["rested_key_to_frame_ms_p50"],
            "rested_key_to_frame_ms_max": measured["rested_key_to_frame_ms_max"],
            "peak_rss_mb": measured["peak_rss_mb"],
        }


def first_frame(run: Run) -> Iterator[Sample]:
    """Wall time from starting a process to the app's first frame showing the briefing's data.

    As a person starts the app again: the warm-up run files the briefing's answer, and each repetition
    draws its first frame from it (:func:`pmtui.answers.app_briefing`).
    """
    return _first_frame(run, filed_answer=True)


def first_frame_cold(run: Run) -> Iterator[Sample]:
    """:func:`first_frame` with no answer filed: the first start after a writer that files none (a
    bare store write, a machine that never showed a briefing), so the app computes the briefing."""
    return _first_frame(run, filed_answer=False)


def _first_frame(run: Run, *, filed_answer: bool) -> Iterator[Sample]:
    reason = tui_built()
    if reason:
        raise Skip(reason)
    home = run.tmp / "home"
    env = child_env(PYTHONPATH=str(ROOT), PMTUI_HOME=str(home), PMTUI_TIMEZONE="UTC")
    from pmtui import paths
    from pmtui.core.store import store_path

    previous = os.environ.get("PMTUI_HOME")
    os.environ["PMTUI_HOME"] = str(home)
    try:
        with Store(store_path(paths.data_dir())) as store:
            fill_cache(store, run.n)
    finally:
        if previous is None:
            os.environ.pop("PMTUI_HOME", None)
        else:
            os.environ["PMTUI_HOME"] = previous
    command = [sys.executable, "-m", "benchmarks.first_frame_probe"]
    subprocess.run(command, env=env, capture_output=True, timeout=300, cwd=ROOT, check=True)  # warm-up
    answer = home / "cache" / BRIEFING_FILE  # paths.cache_dir() under this PMTUI_HOME
    run.notes["filed_answer"] = filed_answer
    for _ in range(run.reps):
        if not filed_answer:
            answer.unlink(missing_ok=True)
        started = time.time()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"first-frame probe failed: {done.stderr.strip()[-500:]}")
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        yield {"seconds": measured["first_data_frame_at"] - started}
