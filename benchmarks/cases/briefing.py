"""``pmtui briefing`` as a user runs it: a whole new process over an N-task cache, wall time; and side by
side with taskwarrior's ``task next`` over the same tasks (issue #22)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from benchmarks.harness import Run, Sample, Skip, child_env
from benchmarks.workloads import fill_cache, make_projects
from pmtui import paths
from pmtui.core.store import Store, store_path
from pmtui.models import Task


def briefing_command() -> list[str]:
    """The installed ``pmtui`` script next to this Python, else the same entry point through ``-c``."""
    script = shutil.which("pmtui", path=os.path.dirname(sys.executable))
    if script:
        return [script]
    return [sys.executable, "-m", "pmtui.launch"]


def cli_briefing(run: Run) -> Iterator[Sample]:
    """Median wall time of ``pmtui briefing`` (one warm-up run first, so the OS file cache is warm)."""
    with Store(store_path(paths.data_dir())) as store:
        fill_cache(store, run.n)
    env = child_env(NO_COLOR="1", COLUMNS="100")
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


# ------------------------------------------------------------------------------- taskwarrior, side by side

_TW_PRIORITY = {"urgent": "H", "high": "H", "medium": "M", "low": "L"}
_TW_STATUS = {"done": "completed", "canceled": "deleted"}


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def taskwarrior_export(tasks: list[Task], projects: dict[str, str]) -> list[dict[str, Any]]:
    """The same tasks as taskwarrior's import JSON: title, status, due, priority, project, tags, dates."""
    out = []
    for task in tasks:
        item: dict[str, Any] = {
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, task.id)),
            "description": task.title,
            "status": _TW_STATUS.get(task.status.value, "pending"),
            "entry": _stamp(task.created_at),
        }
        if task.due is not None:
            item["due"] = _stamp(task.due)
        if task.priority.value in _TW_PRIORITY:
            item["priority"] = _TW_PRIORITY[task.priority.value]
        if task.project_id:
            item["project"] = projects[task.project_id].replace(" ", "_")
        if task.labels:
            item["tags"] = list(task.labels)
        if task.completed_at is not None and item["status"] != "pending":
            item["end"] = _stamp(task.completed_at)
        out.append(item)
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one process: CPU moves far less with the machine's load."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[-2:])} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return seconds, _children_cpu() - cpu


Mode = Literal["steady", "changed", "engine", "oneshot"]
"""What happens before each `pmtui briefing`: nothing (``steady``: the last answer is still current);
one task edited through a bare store (``changed``: nothing files the new answer, so DuckDB answers: a
writer killed before its end, or a program other than pmtui); one task edited and then a running
engine's refresh (``engine``: what the app and `pmtui sync --watch` do after a change); or one task
edited by a one-shot pmtui process (``oneshot``: `pmtui sync` from cron, `pmtui do`: its engine files
the new answer as it closes, and no engine keeps running)."""


def _touch(tasks: list[Task], n: int, *, mode: Mode) -> None:
    """Edit one task (not timed) the way ``mode`` says."""
    from pmtui import answers

    task = tasks[n % len(tasks)]
    edited = task.model_copy(update={"title": f"{task.title} ({n})"})
    if mode == "oneshot":
        from pmtui.config import load_settings
        from pmtui.core.engine import Engine

        with Engine.open(load_settings()) as engine:
            engine.store.upsert_tasks([edited])
        return
    with Store(store_path(paths.data_dir())) as store:
        store.upsert_tasks([edited])
    if mode == "engine":
        with Store(store_path(paths.data_dir())) as store:
            answers.refresh(store)


def briefing_vs_taskwarrior(run: Run) -> Iterator[Sample]:
    """`pmtui briefing` vs `task next`, nothing changed between runs (the answer cache is current)."""
    return _versus(run, "steady")


def briefing_after_change_vs_taskwarrior(run: Run) -> Iterator[Sample]:
    """`pmtui briefing` vs `task next` after each run's edit through a bare store: DuckDB answers."""
    return _versus(run, "changed")


def briefing_after_oneshot_vs_taskwarrior(run: Run) -> Iterator[Sample]:
    """`pmtui briefing` vs `task next` after each run's edit by a one-shot pmtui process, no engine."""
    return _versus(run, "oneshot")


def briefing_with_engine_vs_taskwarrior(run: Run) -> Iterator[Sample]:
    """`pmtui briefing` vs `task next` after each run's edit, with an engine refreshing the answer cache."""
    return _versus(run, "engine")


def _versus(run: Run, mode: Mode) -> Iterator[Sample]:
    """`pmtui briefing` and taskwarrior's `task next` over the same N tasks, alternating; wall and CPU each.

    Skips when taskwarrior is not installed (Debian/Ubuntu: `apt-get install taskwarrior`).
    """
    task_binary = shutil.which("task")
    if task_binary is None:
        raise Skip("taskwarrior is not installed (`apt-get install taskwarrior`): nothing to compare with")
    projects = make_projects()
    with Store(store_path(paths.data_dir())) as store:
        tasks = fill_cache(store, run.n)
    data = run.tmp / "taskwarrior"
    data.mkdir(parents=True, exist_ok=True)
    rc = run.tmp / "taskrc"
    rc.write_text(f"data.location={data}\nconfirmation=off\nverbose=nothing\nhooks=off\n", encoding="utf-8")
    export = run.tmp / "tasks.json"
    names = {p.id: p.name for p in projects}
    export.write_text(json.dumps(taskwarrior_export(tasks, names)), encoding="utf-8")
    tw_env = dict(os.environ, TASKRC=str(rc), TASKDATA=str(data))
    imported = [task_binary, "import", str(export)]
    subprocess.run(imported, env=tw_env, capture_output=True, check=True, timeout=900)
    pm_env = child_env(NO_COLOR="1", COLUMNS="100")
    pmtui_command = [*briefing_command(), "briefing"]
    task_command = [task_binary, "next"]
    run.notes["task_version"] = subprocess.run(
        [task_binary, "--version"], env=tw_env, capture_output=True, text=True, check=False
    ).stdout.strip()
    _timed(pmtui_command, pm_env)  # warm the OS file cache (and the settings stamp) for both
    _timed(task_command, tw_env)
    run.notes["mode"] = mode
    for rep in range(run.reps):
        if mode != "steady":
            _touch(tasks, rep, mode=mode)
        pmtui_seconds, pmtui_cpu = _timed(pmtui_command, pm_env)
        task_seconds, task_cpu = _timed(task_command, tw_env)
        yield {
            "ratio": pmtui_seconds / task_seconds,
            "cpu_ratio": pmtui_cpu / task_cpu if task_cpu else float("nan"),
            "pmtui_seconds": pmtui_seconds,
            "task_seconds": task_seconds,
            "pmtui_cpu_s": pmtui_cpu,
            "task_cpu_s": task_cpu,
        }
