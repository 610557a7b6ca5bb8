"""Board facets: one label facet per label whatever its case, and filtering by it finds both spellings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pmtui.core.board import BoardFilter, facet_values, query_board
from pmtui.core.store import Store
from pmtui.models import EntityType, ExternalRef, Service, Task

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_bug_and_Bug_are_one_facet_and_one_filter(tmp_path: Path) -> None:
    with Store(tmp_path / "cache.duckdb") as store:
        tasks = [
            Task(title="Crash on save", labels=["Bug"]),
            Task(title="Login loops", labels=["bug"]),
            Task(title="Write docs", labels=["docs"]),
        ]
        store.upsert_tasks(tasks)
        labels = {v.value: v.count for v in facet_values(store, now=NOW, tz=UTC) if v.facet == "label"}
        assert labels == {"Bug": 2, "docs": 1}
        rows = query_board(store, BoardFilter(label="bug"), now=NOW, tz=UTC)
        assert sorted(rows.table.column("title").to_pylist()) == ["Crash on save", "Login loops"]


def test_key_column_shows_the_handle_of_a_key_less_task(tmp_path: Path) -> None:
    with Store(tmp_path / "cache.duckdb") as store:
        motion, linear = Task(title="Book venue"), Task(title="Fix login")
        store.upsert_tasks([motion, linear])
        store.upsert_refs(
            [
                ExternalRef(
                    entity=EntityType.TASK, entity_id=motion.id, service=Service.MOTION, external_id="m1"
                ),
                ExternalRef(
                    entity=EntityType.TASK,
                    entity_id=linear.id,
                    service=Service.LINEAR,
                    external_id="l1",
                    key="ENG-7",
                ),
            ]
        )
        rows = query_board(store, BoardFilter(), now=NOW, tz=UTC)
        keys = dict(
            zip(rows.table.column("title").to_pylist(), rows.table.column("key").to_pylist(), strict=True)
        )
        assert keys == {"Book venue": "M-1", "Fix login": "ENG-7"}
        found = query_board(store, BoardFilter(text="m-1"), now=NOW, tz=UTC)
        assert found.table.column("title").to_pylist() == ["Book venue"]
