"""Delta mirror cases: an incremental MERGE of 1 % changed rows, and the file count after many syncs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.harness import Run, Sample, Skip
from benchmarks.workloads import fill_cache
from pmtui.core.store import Store
from pmtui.models import Decision, Service, SyncRun, utcnow


def _mirror_class() -> Any:
    try:
        from pmtui.core.mirror import Mirror
    except ImportError as exc:
        raise Skip(f"the Delta mirror is not built ({exc})") from exc
    try:
        import deltalake  # noqa: F401
    except ImportError as exc:
        raise Skip("deltalake is not installed") from exc
    return Mirror


def _retitle(store: Store, tasks: list[Any], count: int, rep: int) -> None:
    changed = [
        t.model_copy(update={"title": f"{t.title} (edit {rep})", "updated_at": utcnow()})
        for t in tasks[rep * count % len(tasks) :][:count]
    ]
    store.upsert_tasks(changed)


def _check(report: Any) -> None:
    if not report.ok:
        raise RuntimeError(f"mirror failed: {report.error_text()}")


def merge_changed(run: Run) -> Iterator[Sample]:
    """N tasks mirrored once; then each repetition changes N/100 tasks and mirrors the tasks table."""
    mirror_class = _mirror_class()
    count = max(1, run.n // 100)
    run.notes["changed_rows"] = count
    with Store(run.tmp / "cache.duckdb") as store:
        tasks = fill_cache(store, run.n)
        mirror = mirror_class(store, str(run.tmp / "mirror"))
        started = time.perf_counter()
        _check(mirror.run())
        run.notes["initial_mirror_seconds"] = time.perf_counter() - started
        for rep in range(run.reps):
            _retitle(store, tasks, count, rep + 1)
            started = time.perf_counter()
            report = mirror.run(["tasks"])
            seconds = time.perf_counter() - started
            _check(report)
            table = report.tables[0]
            if table.updated != count:
                raise RuntimeError(f"expected {count} updated rows, the mirror updated {table.updated}")
            yield {"seconds": seconds}


def files_after_syncs(run: Run) -> Iterator[Sample]:
    """``run.n`` mirror runs, each after a small change (5 tasks, a sync run, a decision): files per table.

    The quick run does fewer runs with a lower compaction threshold, so compaction still happens.
    """
    mirror_class = _mirror_class()
    threshold = 8 if run.quick else 64
    run.notes["compact_after_files"] = threshold
    with Store(run.tmp / "cache.duckdb") as store:
        tasks = fill_cache(store, 2000)
        mirror = mirror_class(store, str(run.tmp / "mirror"), compact_after_files=threshold)
        for _ in range(run.reps):
            seconds = []
            active: dict[str, int] = {}
            for index in range(run.n):
                _retitle(store, tasks, 5, index)
                store.record_sync_run(SyncRun(run_id=f"r{index}", service=Service.LINEAR, status="ok"))
                store.log_decision(Decision(request_id="bench", kind="sync", reason=f"sync {index}"))
                started = time.perf_counter()
                report = mirror.run()
                seconds.append(time.perf_counter() - started)
                _check(report)
                active = {t.table: t.files for t in report.tables}
            on_disk = {p.name: len(list(p.rglob("*.parquet"))) for p in Path(run.tmp / "mirror").iterdir()}
            run.notes["active_files"] = active
            run.notes["parquet_files_on_disk"] = on_disk
            seconds.sort()
            yield {
                "max_active_files_per_table": max(active.values()),
                "active_files_vs_threshold": max(active.values()) / threshold,
                "median_mirror_run_ms": seconds[len(seconds) // 2] * 1000,
                "max_mirror_run_ms": seconds[-1] * 1000,
            }
