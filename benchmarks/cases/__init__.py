"""Every benchmark case, in the order a run goes through them, with its targets (issue #11)."""

from __future__ import annotations

from benchmarks.cases import agent, briefing, llm_providers, mirror, store, sync, tui
from benchmarks.harness import Case, CaseFunction, Metric, Target

FIFTY_K = 50_000
LLM_OVERHEAD_MS = 50
"""What pmtui + litellm may add to one planner call, at the median and at p90, on top of the model's time."""


def _versus_metrics(target: float) -> tuple[Metric, ...]:
    """`pmtui briefing` against `task next`: the wall-time ratio is judged; CPU time is what moves
    least with a loaded machine, so it is recorded beside it."""
    return (
        Metric("ratio", "x", Target("<=", target)),
        Metric("cpu_ratio", "x"),
        Metric("pmtui_seconds", "s"),
        Metric("task_seconds", "s"),
        Metric("pmtui_cpu_s", "s"),
        Metric("task_cpu_s", "s"),
    )


def _versus_case(name: str, title: str, run: CaseFunction, target: float, n: int) -> Case:
    """A `pmtui briefing` vs `task next` case at ``n`` tasks (10 repetitions at 5,000, 5 at 50,000)."""
    small = n <= 5000
    return Case(
        name,
        title,
        run,
        _versus_metrics(target),
        full_n=n,
        quick_n=5000,
        full_reps=10 if small else 5,
        quick_reps=3 if small else 2,
        target_n=n,
    )


CASES: tuple[Case, ...] = (
    Case(
        "sync.full",
        "full sync of N tasks (N/4 per service) into an empty cache",
        sync.full_sync,
        (
            Metric("seconds", "s", Target("<=", 60)),
            Metric("list_requests_vs_bound", "x", Target("<=", 1.05)),
            Metric("tasks_per_second", "task/s"),
        ),
        full_n=FIFTY_K,
        quick_n=400,
        full_reps=3,
        quick_reps=2,
        target_n=FIFTY_K,
    ),
    Case(
        "sync.noop",
        "incremental sync with nothing changed remotely",
        sync.noop_sync,
        (
            # Issue #22: pmtui's CPU, DuckDB's threads included (the process's less the emulators');
            # the wall time includes the emulators. sync_threads_cpu_s: the sync's own threads only,
            # what local_cpu_s counted until 2026-12-05.
            Metric("local_cpu_s", "s", Target("<=", 0.5)),
            Metric("sync_threads_cpu_s", "s"),
            Metric("seconds", "s"),
            Metric("extra_list_requests", "req", Target("==", 0)),
            Metric("requests_total", "req"),
            Metric("pulled", "task", Target("==", 0)),
        ),
        full_n=FIFTY_K,
        quick_n=400,
        full_reps=5,
        quick_reps=2,
        target_n=FIFTY_K,
    ),
    Case(
        # 1 s of no-change work plus 1 % of the full sync's 60 s budget: "time proportional to the change".
        "sync.changed_1pct",
        "incremental sync with 1% of every service's tasks changed",
        sync.changed_sync,
        (
            Metric("local_cpu_s", "s", Target("<=", 1.0)),
            Metric("sync_threads_cpu_s", "s"),
            Metric("seconds", "s"),
            Metric("ms_per_changed_task_over_noop", "ms"),
            Metric("pulled_vs_changed", "x", Target("==", 1)),
            Metric("list_requests_vs_bound", "x", Target("<=", 1.05)),
        ),
        full_n=FIFTY_K,
        quick_n=400,
        full_reps=3,
        quick_reps=2,
        target_n=FIFTY_K,
    ),
    Case(
        # Issue #22: a whole `pmtui sync` process with nothing to do, 2,000 Linear + 2,000 GitLab tasks.
        "cli.sync_noop",
        "`pmtui sync`, whole process, nothing changed, N/2 Linear + N/2 GitLab tasks",
        sync.cli_sync_noop,
        (
            Metric("cpu_s", "s", Target("<=", 0.6)),
            Metric("peak_rss_mb", "MB", Target("<=", 200)),
            Metric("list_requests", "req"),
        ),
        full_n=4000,
        quick_n=400,
        full_reps=5,
        quick_reps=2,
        target_n=4000,
    ),
    Case(
        # Issue #22, the same row with an engine running: the command hands its round to the watch.
        "cli.sync_noop_engine",
        "`pmtui sync`, whole process, nothing changed, `pmtui sync --watch` running, N/2 Linear + N/2 GitLab",
        sync.cli_sync_noop_engine,
        (
            Metric("cpu_s", "s", Target("<=", 0.6)),
            Metric("engine_cpu_s", "s"),
            Metric("peak_rss_mb", "MB", Target("<=", 200)),
            Metric("list_requests", "req"),
        ),
        full_n=4000,
        quick_n=400,
        full_reps=5,
        quick_reps=2,
        target_n=4000,
    ),
    Case(
        "motion.budget",
        "Motion's scan spread over syncs under a rate limit (scaled 50/min; real 12/min); a write during it",
        sync.motion_budget,
        (
            Metric("first_pass_seconds", "s"),
            Metric("first_pass_syncs", "sync"),
            Metric("nochange_list_requests", "req"),
            Metric("nochange_list_requests_vs_bound", "x", Target("==", 1)),
            Metric("max_list_requests_per_sync", "req"),
            Metric("write_idle_s", "s"),
            Metric("write_during_scan_s", "s"),
            Metric("write_extra_wait_vs_one_request", "x", Target("<=", 1)),
            Metric("retried_after_429", "req", Target("==", 0)),
        ),
        full_n=1000,
        quick_n=100,
        full_reps=2,
        quick_reps=1,
        target_n=1000,
    ),
    Case(
        "cli.briefing",
        "`pmtui briefing`, whole process, on an N-task cache",
        briefing.cli_briefing,
        (Metric("seconds", "s", Target("<=", 0.5)),),
        full_n=FIFTY_K,
        quick_n=5000,
        full_reps=10,
        quick_reps=3,
        target_n=FIFTY_K,
    ),
    # Issue #22: a person's workspace (5,000 tasks) within 2x taskwarrior's `task next`.
    _versus_case(
        "cli.briefing_vs_task_5k",
        "`pmtui briefing` vs taskwarrior's `task next`, same 5,000 tasks, alternating processes",
        briefing.briefing_vs_taskwarrior,
        2,
        5000,
    ),
    # Issue #22: after a change that nothing filed an answer for (a bare store write), DuckDB answers.
    _versus_case(
        "cli.briefing_vs_task_5k_changed",
        "`pmtui briefing` vs `task next`, 5,000 tasks, one task edited through a bare store before each",
        briefing.briefing_after_change_vs_taskwarrior,
        2,
        5000,
    ),
    # Issue #22: "<= 2x without an engine": the change comes from a one-shot pmtui process (a cron
    # `pmtui sync`, `pmtui do`), whose engine files the new answer as it closes.
    _versus_case(
        "cli.briefing_vs_task_5k_oneshot",
        "`pmtui briefing` vs `task next`, 5,000 tasks, one task edited by a one-shot pmtui process each time",
        briefing.briefing_after_oneshot_vs_taskwarrior,
        2,
        5000,
    ),
    _versus_case(
        "cli.briefing_vs_task_oneshot",
        "`pmtui briefing` vs `task next`, N tasks, one task edited by a one-shot pmtui process before each",
        briefing.briefing_after_oneshot_vs_taskwarrior,
        0.5,
        FIFTY_K,
    ),
    # Issue #22: "<= 1x with one running": the engine refreshes the answer cache after the change.
    _versus_case(
        "cli.briefing_vs_task_5k_engine",
        "`pmtui briefing` vs `task next`, 5,000 tasks, one task edited before each run, engine running",
        briefing.briefing_with_engine_vs_taskwarrior,
        1,
        5000,
    ),
    _versus_case(
        "cli.briefing_vs_task",
        "`pmtui briefing` vs taskwarrior's `task next`, same N tasks, alternating processes",
        briefing.briefing_vs_taskwarrior,
        0.5,
        FIFTY_K,
    ),
    Case(
        "store.upsert",
        "Store.upsert_tasks of N tasks (insert, then replace)",
        store.bulk_upsert,
        (Metric("insert_rows_per_second", "row/s"), Metric("replace_rows_per_second", "row/s")),
        full_n=FIFTY_K,
        quick_n=5000,
        full_reps=3,
        quick_reps=2,
    ),
    Case(
        "store.briefing_query",
        "build_briefing in-process on an N-task cache",
        store.briefing_query,
        (Metric("ms", "ms"),),
        full_n=FIFTY_K,
        quick_n=5000,
        full_reps=10,
        quick_reps=3,
    ),
    Case(
        "store.board_query",
        "query_board of every task on an N-task cache",
        store.board_query,
        (Metric("ms", "ms"), Metric("rows_per_second", "row/s")),
        full_n=FIFTY_K,
        quick_n=5000,
        full_reps=10,
        quick_reps=3,
    ),
    Case(
        "tui.board",
        "TUI: board open, keypress-to-frame while scrolling (and again after a 3 s rest), peak memory",
        tui.tui_board,
        (
            Metric("board_open_s", "s", Target("<=", 1.5)),
            Metric("key_to_frame_ms_p50", "ms", Target("<=", 50)),
            Metric("key_to_frame_ms_max", "ms"),
            Metric("rested_key_to_frame_ms_p50", "ms", Target("<=", 50)),
            Metric("rested_key_to_frame_ms_max", "ms"),
            Metric("peak_rss_mb", "MB", Target("<=", 300)),
        ),
        full_n=FIFTY_K,
        quick_n=5000,
        full_reps=3,
        quick_reps=1,
        target_n=FIFTY_K,
    ),
    Case(
        "tui.first_frame",
        "TUI: process start to the first frame showing the briefing's data",
        tui.first_frame,
        (Metric("seconds", "s", Target("<=", 0.7)),),
        full_n=FIFTY_K,
        quick_n=5000,
        full_reps=5,
        quick_reps=2,
        target_n=FIFTY_K,
    ),
    Case(
        "tui.first_frame_cold",
        "TUI: the same with no briefing answer filed (the app computes it from the cache)",
        tui.first_frame_cold,
        (Metric("seconds", "s"),),
        full_n=FIFTY_K,
        quick_n=5000,
        full_reps=5,
        quick_reps=2,
        target_n=FIFTY_K,
    ),
    Case(
        "mirror.merge_1pct",
        "Delta mirror: MERGE of N/100 changed tasks into N",
        mirror.merge_changed,
        (Metric("seconds", "s", Target("<=", 2)),),
        full_n=FIFTY_K,
        quick_n=5000,
        full_reps=5,
        quick_reps=2,
        target_n=FIFTY_K,
    ),
    Case(
        "mirror.files",
        "Delta mirror: active files per table after N mirror runs",
        mirror.files_after_syncs,
        (
            Metric("active_files_vs_threshold", "x", Target("<=", 1)),
            Metric("max_active_files_per_table", "files"),
            Metric("median_mirror_run_ms", "ms"),
            Metric("max_mirror_run_ms", "ms"),
        ),
        full_n=200,
        quick_n=30,
        full_reps=1,
        quick_reps=1,
        target_n=200,
    ),
    Case(
        "agent.rules",
        "rule planner latency per request (context: min(N, 5000) tasks)",
        agent.rule_planner,
        (Metric("p50_ms", "ms"), Metric("p99_ms", "ms")),
        full_n=FIFTY_K,
        quick_n=1000,
        full_reps=3,
        quick_reps=2,
    ),
    Case(
        "agent.llm",
        "LLM planner overhead over a 200 ms local model",
        agent.llm_planner,
        (Metric("overhead_ms", "ms"), Metric("total_ms", "ms"), Metric("model_calls", "call")),
        full_n=FIFTY_K,
        quick_n=1000,
        full_reps=5,
        quick_reps=2,
    ),
    Case(
        "agent.providers",
        "LLM planner overhead per litellm adapter (OpenAI, Anthropic, Ollama) over a 200 ms local model",
        llm_providers.provider_overhead,
        tuple(
            metric
            for provider in ("openai", "anthropic", "ollama")
            for metric in (
                Metric(f"{provider}_p50_ms", "ms", Target("<=", LLM_OVERHEAD_MS)),
                Metric(f"{provider}_p90_ms", "ms", Target("<=", LLM_OVERHEAD_MS)),
                Metric(f"{provider}_pmtui_p50_ms", "ms"),
            )
        ),
        full_n=FIFTY_K,
        quick_n=1000,
        full_reps=5,
        quick_reps=2,
    ),
)


def by_name(names: list[str] | None) -> list[Case]:
    """The cases whose name equals or starts with one of ``names`` (all when None)."""
    if not names:
        return list(CASES)
    picked = [c for c in CASES if any(c.name == n or c.name.startswith(n.rstrip(".") + ".") for n in names)]
    unknown = [
        n for n in names if not any(c.name == n or c.name.startswith(n.rstrip(".") + ".") for c in CASES)
    ]
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(c.name for c in CASES)}")
    return picked
