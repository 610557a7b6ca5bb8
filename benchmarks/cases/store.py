"""Store cases: bulk upsert, the briefing's queries and the board's query over an N-task cache."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC

from benchmarks.harness import Run, Sample, Skip
from benchmarks.workloads import NOW, fill_cache, generate_tasks, make_projects
from pmtui.core.store import Store


def bulk_upsert(run: Run) -> Iterator[Sample]:
    """``Store.upsert_tasks`` of N new tasks (one call) into an empty cache, then of the same N again."""
    tasks = generate_tasks(run.n, projects=make_projects())
    for rep in range(run.reps):
        with Store(run.tmp / f"upsert-{rep}.duckdb") as store:
            started = time.perf_counter()
            store.upsert_tasks(tasks)
            insert = time.perf_counter() - started
            started = time.perf_counter()
            store.upsert_tasks(tasks)
            replace = time.perf_counter() - started
        yield {"insert_rows_per_second": run.n / insert, "replace_rows_per_second": run.n / replace}


def briefing_query(run: Run) -> Iterator[Sample]:
    """``build_briefing`` (its four queries and the row building) in-process on an N-task cache."""
    from pmtui.core.briefing import build_briefing
    from pmtui.models import REMOTE_SERVICES

    with Store(run.tmp / "brief.duckdb") as store:
        fill_cache(store, run.n)
        for _ in range(run.reps):
            started = time.perf_counter()
            briefing = build_briefing(store, today=NOW.date(), now=NOW, tz=UTC, configured=REMOTE_SERVICES)
            seconds = time.perf_counter() - started
            run.notes["open_tasks"] = briefing.counts.open if hasattr(briefing, "counts") else None
            yield {"ms": seconds * 1000}


def board_query(run: Run) -> Iterator[Sample]:
    """The board's query of every task (``query_board`` with status "all"), rows per second."""
    try:
        from pmtui.core.board import BoardFilter, query_board
    except ImportError as exc:
        raise Skip(f"the board query is not built ({exc})") from exc
    with Store(run.tmp / "board.duckdb") as store:
        fill_cache(store, run.n)
        for _ in range(run.reps):
            started = time.perf_counter()
            rows = query_board(store, BoardFilter(status="all"), now=NOW, tz=UTC)
            seconds = time.perf_counter() - started
            yield {"ms": seconds * 1000, "rows_per_second": len(rows) / seconds}
