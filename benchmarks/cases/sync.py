"""Sync cases: a full sync into an empty cache, a no-change sync, a 1 % change, Motion under its budget.

Everything goes through the real clients over HTTP to the in-process emulators; the emulators share the
process (and the GIL), so the times are an upper bound on pmtui's own work.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pmtui
from benchmarks.harness import Run, Sample, child_env
from benchmarks.workloads import SERVICES, SandboxWorld, change_remotely, pages, sandbox_world
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.models import EntityType, Service, SyncRun

MOTION_BUDGET_PER_MINUTE = 12
"""Motion's real budget (individual tier)."""
MOTION_PAGE_SIZE = 50
"""Tasks per ``GET /v1/tasks`` page (Motion's fixed size; the emulator's ``PAGE_SIZE``)."""
MOTION_SCAN_PAGES = 6
"""Pages one sync reads at the default ``[motion] scan_share`` (0.5) of the real 12 requests a minute; the
scaled run keeps that number of pages a sync (share 6/50), so a pass takes as many syncs as it would."""


SCALED_MOTION_PER_MINUTE = 50
"""The scaled-down budget the benchmark syncs under: still below 60/min, so pmtui's limiter keeps the
same shape as at 12/min (a burst of one, evenly spaced calls)."""


def _sync(world: SandboxWorld, engine: Engine) -> tuple[float, list[SyncRun]]:
    timed = _timed_sync(world, engine)
    return timed.seconds, timed.runs


@contextmanager
def _worker_cpu() -> Iterator[list[float]]:
    """The CPU seconds of each service's worker thread, one entry per service synced inside the block.

    ``Engine.sync`` runs every service in its own thread (``sync_runner.run_services``), so the calling
    thread's CPU time alone misses nearly all of the work; each ``sync_one`` call is timed in the thread
    that runs it instead.
    """
    from pmtui.core import sync_runner

    spent: list[float] = []
    original = sync_runner.sync_one

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.thread_time() - started)

    sync_runner.sync_one = timed
    try:
        yield spent
    finally:
        sync_runner.sync_one = original


@contextmanager
def _emulator_cpu() -> Iterator[list[float]]:
    """The CPU seconds the emulators spent answering requests inside the block (one entry per request).

    They serve from threads of this process, so the process's CPU time includes them; each request is
    timed in the thread that serves it, to be taken out again. The request methods are timed, not
    ``handle_one_request``: a kept-alive connection's thread is already inside that one, waiting for
    the next request line, when the block starts.
    """
    from pmtui.sandbox.server import _RequestHandler

    spent: list[float] = []
    methods = [name for name in vars(_RequestHandler) if name.startswith("do_")]
    originals = {name: getattr(_RequestHandler, name) for name in methods}

    def timed(serve: Callable[[_RequestHandler], None]) -> Callable[[_RequestHandler], None]:
        def serve_timed(self: _RequestHandler) -> None:
            started = time.thread_time()
            try:
                serve(self)
            finally:
                spent.append(time.thread_time() - started)

        return serve_timed

    for name, serve in originals.items():
        setattr(_RequestHandler, name, timed(serve))
    try:
        yield spent
    finally:
        for name, serve in originals.items():
            setattr(_RequestHandler, name, serve)


@dataclass(frozen=True)
class TimedSync:
    """One measured sync: wall seconds, pmtui's local CPU, the narrower CPU of its own threads, the runs."""

    seconds: float
    local_cpu: float
    threads_cpu: float
    runs: list[SyncRun]


def _timed_sync(world: SandboxWorld, engine: Engine) -> TimedSync:
    """Wall seconds, and pmtui's local CPU seconds: the process's, less what the emulators spent.

    That counts every thread pmtui's sync runs on, DuckDB's own worker threads included, and pmtui's
    HTTP client and JSON parsing of the responses; the emulators' side of each request is taken out
    (:func:`_emulator_cpu`). Until 2026-12-05 this counted only the calling thread and each service's
    worker thread (:func:`_worker_cpu`), which missed DuckDB's threads: 0.2-0.3 s of a 1 % sync at
    50,000. That narrower figure is still reported, as ``sync_threads_cpu_s``.
    """
    with _worker_cpu() as workers, _emulator_cpu() as emulators:
        started, process, cpu = time.perf_counter(), time.process_time(), time.thread_time()
        runs = engine.sync()
        seconds = time.perf_counter() - started
        cpu, process = time.thread_time() - cpu, time.process_time() - process
    failed = [f"{r.service.value}: {r.error}" for r in runs if r.status != "ok"]
    if failed:
        raise RuntimeError("sync failed: " + "; ".join(failed))
    return TimedSync(seconds, process - sum(emulators), cpu + sum(workers), runs)


def _listed(store: Store) -> dict[str, int]:
    """How many tasks each service listed (the store's refs); Motion lists only unresolved tasks."""
    return {s: len(store.refs_for_service(Service(s))) for s in SERVICES}


def _full_bounds(world: SandboxWorld, store: Store) -> dict[str, int]:
    """ceil(N / max page) per service for a first sync (Notion also queries its projects data source)."""
    per = world.per_service
    listed = _listed(store)
    notion_projects = len(store.refs_for_service(Service.NOTION, EntityType.PROJECT))
    return {
        "linear": pages(per, "linear"),
        "gitlab": pages(per, "gitlab"),
        "notion": pages(per, "notion") + pages(notion_projects, "notion"),
        "motion": pages(listed["motion"], "motion"),
    }


def full_sync(run: Run) -> Iterator[Sample]:
    """N tasks spread over the four services (N/4 each) synced into an empty cache."""
    per = run.n // 4
    started = time.perf_counter()
    with sandbox_world(per, run.tmp) as world:
        run.notes["seed_seconds"] = time.perf_counter() - started
        run.notes["per_service"] = per
        for rep in range(run.reps):
            world.sandbox.reset_counts()
            with world.engine(f"full-{rep}.duckdb") as engine:
                seconds, runs = _sync(world, engine)
                bounds = _full_bounds(world, engine.store)
                tasks = engine.store.count_tasks()
            lists = world.list_requests()
            run.notes.setdefault("list_requests", []).append(lists)
            run.notes["lower_bounds"] = bounds
            run.notes.setdefault("per_service_seconds", []).append(
                {r.service.value: r.duration_ms / 1000 for r in runs}
            )
            yield {
                "seconds": seconds,
                "tasks_per_second": tasks / seconds,
                "list_requests_vs_bound": max(lists[s] / bounds[s] for s in bounds),
            }


def noop_sync(run: Run) -> Iterator[Sample]:
    """A synced cache, nothing changed remotely: one listing request per service, and Motion's round of
    its spread scan (the pages a sync reads at Motion's real budget)."""
    per = run.n // 4
    with sandbox_world(per, run.tmp) as world:
        with world.engine() as engine:
            started = time.perf_counter()
            _sync(world, engine)
            run.notes["first_sync_seconds"] = time.perf_counter() - started
            listed = _listed(engine.store)
        motion_pages = min(MOTION_SCAN_PAGES, pages(listed["motion"], "motion"))
        expected = {s: 1 for s in SERVICES} | {"motion": motion_pages}
        run.notes["expected_list_requests"] = expected
        _real_motion_round(world, run)
        with world.engine() as engine:
            for _ in range(run.reps):
                world.later()
                world.sandbox.reset_counts()
                timed = _timed_sync(world, engine)
                seconds, runs = timed.seconds, timed.runs
                lists = world.list_requests()
                run.notes.setdefault("list_requests", []).append(lists)
                yield {
                    "local_cpu_s": timed.local_cpu,
                    "sync_threads_cpu_s": timed.threads_cpu,
                    "seconds": seconds,
                    "extra_list_requests": sum(abs(lists[s] - expected[s]) for s in expected),
                    "requests_total": sum(r.requests for r in runs),
                    "pulled": sum(r.pulled for r in runs),
                }


def _real_motion_round(world: SandboxWorld, run: Run) -> None:
    """From now on Motion reads the pages one sync reads at its real budget, as after any first import.

    The cases run with the clients' budgets raised out of the way (no waiting), which would also let one
    sync read Motion's whole listing; a real sync reads ``[motion] scan_share`` of 12 requests a minute
    (6 pages) and the next sync goes on from there (``pmtui/core/scan.py``). The first import above is
    left whole, so the cache starts complete.
    """
    rate = float(world.settings.motion.requests_per_minute or 0)
    motion = world.settings.motion.model_copy(update={"scan_share": MOTION_SCAN_PAGES / rate})
    world.settings = world.settings.model_copy(update={"motion": motion})
    run.notes["motion_pages_per_sync"] = MOTION_SCAN_PAGES


@contextmanager
def _listed_by_scan() -> Iterator[set[str]]:
    """The ids Motion's scan listed inside the block (each stored page's, as the scan records them)."""
    from pmtui.core.scan import SpreadScan

    listed: set[str] = set()
    original = SpreadScan.record

    def record(self: SpreadScan, page: Any) -> None:
        listed.update(page.seen or [])
        original(self, page)

    SpreadScan.record = record  # type: ignore[method-assign]
    try:
        yield listed
    finally:
        SpreadScan.record = original  # type: ignore[method-assign]


def changed_sync(run: Run) -> Iterator[Sample]:
    """1 % of every service's tasks retitled remotely, then a sync: its cost over a no-change sync.

    Motion's round reads 6 of its pages (see :func:`_real_motion_round`), so it can only pull the changed
    tasks on those pages; the others wait for their page in a later sync (this repetition's or an earlier
    one's). Its share of ``pulled_vs_changed`` and its list bound count what the round read.
    """
    per = run.n // 4
    rng = random.Random(11)
    with sandbox_world(per, run.tmp) as world:
        with world.engine() as engine:
            _sync(world, engine)
            motion_pages = min(MOTION_SCAN_PAGES, pages(_listed(engine.store)["motion"], "motion"))
        _real_motion_round(world, run)
        with world.engine() as engine:
            waiting: set[str] = set()  # Motion's changed tasks whose page no round has read yet
            for _ in range(run.reps):
                world.later()
                with _listed_by_scan() as scanned:
                    baseline, _runs = _sync(world, engine)
                waiting -= scanned
                world.later()
                changed = change_remotely(world, engine.store, 0.01, rng)
                waiting |= set(changed["motion"])
                world.later(1)
                world.sandbox.reset_counts()
                with _listed_by_scan() as scanned:
                    timed = _timed_sync(world, engine)
                seconds, runs = timed.seconds, timed.runs
                lists = world.list_requests()
                counts = {s: len(ids) for s, ids in changed.items()}
                counts["motion"] = len(waiting & scanned)
                waiting -= scanned
                bounds = {s: pages(counts[s], s) for s in ("linear", "gitlab", "notion")}
                bounds["motion"] = motion_pages
                total = sum(counts.values())
                pulled = sum(r.pulled for r in runs)
                run.notes.setdefault("changed", []).append(counts)
                run.notes.setdefault("list_requests", []).append(lists)
                yield {
                    "local_cpu_s": timed.local_cpu,
                    "sync_threads_cpu_s": timed.threads_cpu,
                    "seconds": seconds,
                    "ms_per_changed_task_over_noop": max(0.0, seconds - baseline) * 1000 / total,
                    "pulled_vs_changed": pulled / total,
                    "list_requests_vs_bound": max(lists[s] / bounds[s] for s in bounds),
                }


def motion_budget(run: Run) -> Iterator[Sample]:
    """N Motion tasks with the emulator's limit on, at a scaled budget (see the module notes): a first
    pass and a no-change pass spread over syncs, and a person's write made while a scan is reading."""
    from pmtui.sandbox.server import WindowLimiter

    rate = SCALED_MOTION_PER_MINUTE
    with sandbox_world(
        run.n, run.tmp, services=("motion",), rate_limits=True, requests_per_minute=rate
    ) as world:
        motion = world.settings.motion.model_copy(update={"scan_share": MOTION_SCAN_PAGES / rate})
        world.settings = world.settings.model_copy(update={"motion": motion})
        emulator = world.sandbox.emulator("motion")
        emulator.requests_per_minute = rate  # type: ignore[attr-defined]
        emulator.limiter = WindowLimiter(rate, 60.0, world.sandbox.clock)  # type: ignore[attr-defined]
        run.notes["scaled_budget_per_minute"] = rate
        run.notes["real_budget_per_minute"] = MOTION_BUDGET_PER_MINUTE
        run.notes["scan_pages_per_sync"] = MOTION_SCAN_PAGES
        for rep in range(run.reps):
            with world.engine(f"motion-{rep}.duckdb") as engine:
                first = _motion_pass(world, engine)
                unresolved = len(engine.store.refs_for_service(Service.MOTION))
                bound = pages(unresolved, "motion")
                quiet = _motion_pass(world, engine)
                idle, during = _motion_write_waits(world, engine)
            run.notes.setdefault("unresolved", []).append(unresolved)
            run.notes.setdefault("quiet_pass_lists_per_sync", []).append(quiet["lists"])
            interval = 60 / rate
            yield {
                "first_pass_seconds": first["seconds"],
                "first_pass_syncs": len(first["lists"]),
                "nochange_list_requests": sum(quiet["lists"]),
                "nochange_list_requests_vs_bound": sum(quiet["lists"]) / bound,
                "max_list_requests_per_sync": max(quiet["lists"]),
                "write_idle_s": idle,
                "write_during_scan_s": during,
                "write_extra_wait_vs_one_request": max(0.0, during - idle) / interval,
                "retried_after_429": first["throttled"] + quiet["throttled"],
            }


def _motion_pass(world: SandboxWorld, engine: Engine) -> dict[str, Any]:
    """Sync Motion until its full scan completes a pass: the list requests of each sync, the seconds."""
    from pmtui.core.scan import SCAN_RESOURCE, ScanState

    def passes() -> int:
        return ScanState.parse(engine.store.get_cursor(Service.MOTION, SCAN_RESOURCE)).passes

    before, lists, throttled = passes(), [], 0
    started = time.perf_counter()
    while passes() == before:
        world.later(300)  # the sync interval on the emulator's clock: its window is fresh again
        world.sandbox.reset_counts()
        _seconds, runs = _sync(world, engine)
        lists.append(world.list_requests()["motion"])
        throttled += max(0, runs[0].requests - world.sandbox.request_counts()["motion"]["total"])
        if len(lists) > 1000:
            raise RuntimeError("the Motion pass never completed")
    return {"seconds": time.perf_counter() - started, "lists": lists, "throttled": throttled}


def _motion_write_waits(world: SandboxWorld, engine: Engine) -> tuple[float, float]:
    """A person's title edit of one Motion task (a read-back and a PATCH): alone, and while a sync's
    scan is reading pages. Background reads yield to the user's lane, so the second costs at most the
    request the scan already holds."""
    import threading

    from pmtui.models import Plan, TaskChanges, UpdateTask

    ref = engine.store.refs_for_service(Service.MOTION)[0]

    def edit(title: str) -> float:
        started = time.perf_counter()
        change = UpdateTask(task=ref.entity_id, changes=TaskChanges(title=title))
        outcome = engine.execute(Plan(actions=[change]))
        if not outcome.ok:
            raise RuntimeError(f"the write failed: {outcome}")
        return time.perf_counter() - started

    time.sleep(2 * 60 / SCALED_MOTION_PER_MINUTE)  # the limiter's bucket is full again
    idle = edit("Edited with nothing else running")
    world.later(300)
    world.sandbox.reset_counts()
    syncing = threading.Thread(target=engine.sync, args=([Service.MOTION],), daemon=True)
    syncing.start()
    while world.list_requests()["motion"] < 1 and syncing.is_alive():
        time.sleep(0.01)
    during = edit("Edited while the scan reads")
    syncing.join()
    return idle, during


# ------------------------------------------------------------------------------ the whole process


def _pmtui_command() -> list[str]:
    """``python -m pmtui.launch`` (the console script's entry point) of the pmtui this run imports."""
    return [sys.executable, "-m", "pmtui.launch"]


def _child_usage(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """``argv``'s own CPU seconds and peak RSS, measured by :mod:`benchmarks.child_usage`."""
    probe = [sys.executable, "-m", "benchmarks.child_usage", *argv]
    done = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=900, check=True)
    usage: dict[str, Any] = json.loads(done.stdout)
    return usage


def cli_sync_noop(run: Run) -> Iterator[Sample]:
    """``pmtui sync`` as a new process with nothing to do: N/2 Linear + N/2 GitLab tasks already synced.

    The sandbox runs in this process; ``pmtui sync`` reaches it over HTTP with the settings file the
    sandbox writes (its own budgets out of the way). One sync fills the cache, a second settles the
    windows (and writes the bytecode); then each repetition moves the emulators' clock on and runs a
    quiet sync: CPU (user + sys) and peak RSS of that process alone.
    """
    return _quiet_syncs(run, with_watch=False)


def _quiet_syncs(run: Run, *, with_watch: bool) -> Iterator[Sample]:
    """:func:`cli_sync_noop`, or :func:`cli_sync_noop_engine` with a watch started after the first syncs."""
    per = run.n // 2
    with sandbox_world(per, run.tmp, services=("linear", "gitlab")) as world:
        world.sandbox.write_config(local_budgets=True)
        root = Path(pmtui.__file__).parent.parent
        env = child_env(NO_COLOR="1", COLUMNS="100", PYTHONPATH=str(root))
        command = [*_pmtui_command(), "sync"]
        run.notes["command"] = "pmtui sync (python -m pmtui.launch sync)" + (
            ", pmtui sync --watch running" if with_watch else ""
        )
        for _ in range(2):
            first = _child_usage(command, env)
            if first["returncode"] != 0:
                raise RuntimeError(f"pmtui sync exited {first['returncode']}: {first['stderr']}")
            world.later()
        with _watching(env) if with_watch else contextlib.nullcontext(None) as watch:
            for _ in range(run.reps):
                world.later()
                world.sandbox.reset_counts()
                before = _process_cpu(watch) if watch else 0.0
                usage = _child_usage(command, env)
                engine_cpu = _process_cpu(watch) - before if watch else None
                if usage["returncode"] != 0:
                    raise RuntimeError(f"pmtui sync exited {usage['returncode']}: {usage['stderr']}")
                lists = world.list_requests()
                run.notes.setdefault("list_requests", []).append(lists)
                sample: Sample = {
                    "cpu_s": usage["user_s"] + usage["sys_s"],
                    "peak_rss_mb": usage["maxrss_mb"],
                    "list_requests": sum(lists.values()),
                }
                if engine_cpu is not None:
                    sample["engine_cpu_s"] = engine_cpu
                yield sample


@contextmanager
def _watching(env: dict[str, str]) -> Iterator[int]:
    """`pmtui sync --watch --json --interval 3600` with its first round done; its PID (stopped after)."""
    watch = subprocess.Popen(
        [*_pmtui_command(), "sync", "--watch", "--json", "--interval", "3600"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert watch.stdout is not None
        runs = 0
        while runs < 2:  # Linear and GitLab
            line = watch.stdout.readline()
            if not line:
                raise RuntimeError(f"pmtui sync --watch ended with {watch.wait()}")
            runs += "event" not in json.loads(line)
        socket = engine_socket(env)
        while not socket.exists():
            time.sleep(0.01)
        threading.Thread(target=lambda: watch.stdout and watch.stdout.read(), daemon=True).start()
        yield watch.pid
    finally:
        watch.terminate()
        watch.wait(timeout=60)


def engine_socket(env: dict[str, str]) -> Path:
    """Where the watch of the home in ``env`` (``PMTUI_HOME``: the world's own) listens."""
    from pmtui import engine_link

    home = os.environ.get("PMTUI_HOME")
    os.environ["PMTUI_HOME"] = env["PMTUI_HOME"]
    try:
        path = engine_link.socket_path()
    finally:
        if home is None:
            os.environ.pop("PMTUI_HOME", None)
        else:
            os.environ["PMTUI_HOME"] = home
    if path is None:
        raise RuntimeError("no socket path for this home: pmtui sync would sync itself")
    return path


def _process_cpu(pid: int) -> float:
    """A running process's CPU seconds so far, all its threads (user + system, from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cli_sync_noop_engine(run: Run) -> Iterator[Sample]:
    """``pmtui sync`` with nothing to do while ``pmtui sync --watch`` runs for the same home.

    As :func:`cli_sync_noop`, with a watch process started after the first syncs: the command hands its
    round to it (:mod:`pmtui.engine_link`). ``cpu_s`` is the command's own CPU; ``engine_cpu_s`` what
    the watch spent meanwhile (its round), from /proc, so the round's whole cost is on record.
    """
    return _quiet_syncs(run, with_watch=True)
