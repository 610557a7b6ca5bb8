"""The DuckDB cache: migrations, round trips, bulk upserts and a clear message when locked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pmtui.core.store import MIGRATIONS, SCHEMA_VERSION, Store
from pmtui.errors import StoreLockedError, StoreSchemaError
from pmtui.models import (
    Comment,
    Conflict,
    Decision,
    ExternalRef,
    JournalEntry,
    JournalState,
    Milestone,
    Priority,
    Project,
    Service,
    Status,
    SyncRun,
    Task,
    TaskKind,
)
from tests.proc import read_line


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "cache.duckdb")


def test_new_file_is_at_latest_version(store: Store) -> None:
    assert store.version() == SCHEMA_VERSION
    assert store.migrate() == []


@pytest.mark.parametrize("start", [version for version, _, _ in MIGRATIONS[:-1]])
def test_migrates_from_every_earlier_version(tmp_path: Path, start: int) -> None:
    path = tmp_path / "old.duckdb"
    old = Store.__new__(Store)
    # Build a file at an earlier version by applying only the migrations up to `start`.
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description VARCHAR, "
        "applied_at TIMESTAMPTZ NOT NULL)"
    ).fetchall()
    for version, description, statements in MIGRATIONS:
        if version > start:
            break
        for statement in statements:
            conn.execute(statement).fetchall()
        conn.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, description]).fetchall()
    conn.execute(
        "INSERT INTO tasks (id, title, status, priority, kind, created_at, updated_at) "
        "VALUES ('t1', 'kept', 'todo', 'high', 'general', now(), now())"
    ).fetchall()
    conn.close()
    del old
    with Store(path) as upgraded:
        assert upgraded.version() == SCHEMA_VERSION
        task = upgraded.get_task("t1")
        assert task is not None
        assert task.title == "kept"
        assert task.priority is Priority.HIGH


def test_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    with Store(path) as s:
        s._exec("INSERT INTO schema_version VALUES (?, 'from the future', now())", [SCHEMA_VERSION + 1])
    with pytest.raises(StoreSchemaError, match="newer pmtui"):
        Store(path)


def test_task_round_trip_keeps_every_field(store: Store) -> None:
    due = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
    task = Task(
        title="Fix login",
        description="**md**",
        status=Status.IN_PROGRESS,
        priority=Priority.URGENT,
        due=due,
        due_all_day=False,
        duration_minutes=45,
        labels=["bug", "auth"],
        kind=TaskKind.ENGINEERING,
        project_id="p1",
        milestone_id="m1",
        assignee="ada",
        scheduled_start=due - timedelta(hours=2),
        scheduled_end=due - timedelta(hours=1),
        completed_at=None,
    )
    store.upsert_tasks([task])
    assert store.get_task(task.id) == task


def test_upsert_replaces_and_bulk_is_fast_path(store: Store) -> None:
    tasks = [
        Task(title=f"task {i}", due=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=i % 40))
        for i in range(5000)
    ]
    assert store.upsert_tasks(tasks) == 5000
    changed = tasks[10].model_copy(update={"title": "renamed"})
    store.upsert_tasks([changed])
    assert store.count_tasks() == 5000
    assert store.get_task(tasks[10].id).title == "renamed"  # type: ignore[union-attr]
    listed = store.list_tasks(limit=3)
    assert [t.due for t in listed] == sorted(t.due for t in listed)  # type: ignore[type-var]


def test_list_filters_deleted_and_closed(store: Store) -> None:
    store.upsert_tasks(
        [Task(title="open"), Task(title="done", status=Status.DONE), Task(title="gone", deleted=True)]
    )
    assert {t.title for t in store.list_tasks()} == {"open", "done"}
    assert {t.title for t in store.list_tasks(include_closed=False)} == {"open"}
    assert {t.title for t in store.list_tasks(include_deleted=True)} == {"open", "done", "gone"}


def test_refs_find_tasks_by_key(store: Store) -> None:
    task = Task(title="Fix login redirect loop")
    store.upsert_tasks([task])
    ref = ExternalRef(
        entity_id=task.id,
        service=Service.LINEAR,
        external_id="uuid-1",
        key="ENG-3",
        url="https://linear.app/acme/issue/ENG-3",
        base={"title": "Fix login redirect loop"},
        idempotency_key=task.id,
    )
    store.upsert_refs([ref])
    assert [t.id for t in store.find_tasks("eng-3")] == [task.id]
    assert [t.id for t in store.find_tasks("redirect")] == [task.id]
    assert store.ref_by_external(Service.LINEAR, "uuid-1") == ref
    assert store.refs_for(task.id) == [ref]
    store.delete_ref(ref)
    assert store.refs_for(task.id) == []


def test_projects_milestones_comments(store: Store) -> None:
    project = Project(name="Q1 launch", due=date(2026, 12, 5))
    store.upsert_projects([project])
    assert store.find_project("q1 LAUNCH") == project
    store.upsert_milestones([Milestone(project_id=project.id, name="Beta", due=date(2026, 12, 1))])
    task = Task(title="x")
    store.upsert_tasks([task])
    store.add_comment(Comment(task_id=task.id, body="waiting on review"))
    assert [c.body for c in store.comments_for(task.id)] == ["waiting on review"]


def test_journal_decisions_conflicts_runs_cursors(store: Store) -> None:
    entry = JournalEntry(
        request_id="r1",
        service=Service.MOTION,
        op="create_task",
        payload={"title": "x", "due": "2026-11-24"},
        idempotency_key="k1",
    )
    store.journal_write(entry)
    assert store.journal_entries(states=[JournalState.PENDING])[0].payload == entry.payload
    entry.state = JournalState.DONE
    store.journal_write(entry)
    assert store.journal_entries(states=[JournalState.PENDING]) == []
    store.journal_delete([entry.id])
    assert store.journal_entries() == []

    store.log_decision(
        Decision(
            request_id="r1", kind="route", service=Service.LINEAR, reason="label bug", detail={"rule": 1}
        )
    )
    assert store.decisions(request_id="r1")[0].detail == {"rule": 1}

    conflict = Conflict(
        task_id="t", service=Service.LINEAR, field="due", base=None, local="2026-11-24", remote="2026-11-25"
    )
    store.add_conflict(conflict)
    assert store.conflicts()[0].remote == "2026-11-25"
    conflict.resolved_at = datetime.now(UTC)
    conflict.resolution = "remote"
    store.add_conflict(conflict)
    assert store.conflicts() == []
    assert len(store.conflicts(open_only=False)) == 1

    store.record_sync_run(
        SyncRun(
            run_id="a",
            service=Service.GITLAB,
            status="ok",
            pulled=3,
            started_at=datetime(2026, 11, 24, 8, tzinfo=UTC),
        )
    )
    store.record_sync_run(
        SyncRun(
            run_id="b",
            service=Service.GITLAB,
            status="failed",
            error="503",
            started_at=datetime(2026, 11, 24, 9, tzinfo=UTC),
        )
    )
    assert store.last_sync_runs()[Service.GITLAB].run_id == "b"

    assert store.get_cursor(Service.LINEAR, "issues") is None
    store.set_cursor(Service.LINEAR, "issues", "2026-11-24T09:00:00Z")
    assert store.get_cursor(Service.LINEAR, "issues") == "2026-11-24T09:00:00Z"


def test_transaction_rolls_back(store: Store) -> None:
    def write_then_fail() -> None:
        with store.transaction() as tx:
            tx._exec("INSERT INTO sync_cursors VALUES ('linear', 'x', 'c', now())")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert store.get_cursor(Service.LINEAR, "x") is None


def test_two_processes_share_the_cache(tmp_path: Path) -> None:
    """A Store holds the file only for a unit of work: another process reads and writes meanwhile."""
    path = tmp_path / "shared.duckdb"
    Store(path).close()
    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys
            from pmtui.core.store import Store
            from pmtui.models import Service
            s = Store({str(path)!r})
            s.set_cursor(Service.LINEAR, "from-other", "1")
            print("ready", flush=True)
            sys.stdin.readline()
            print(s.get_cursor(Service.GITLAB, "from-test"), flush=True)
            s.close()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "ready"
        mine = Store(path, lock_wait=10)
        token = mine.change_token()
        assert mine.get_cursor(Service.LINEAR, "from-other") == "1"
        mine.set_cursor(Service.GITLAB, "from-test", "2")
        mine.close()
        assert mine.change_token() != token
        out, _ = other.communicate("\n", timeout=30)
        assert out.strip() == "2"
        assert other.returncode == 0
    finally:
        if other.poll() is None:
            other.kill()


def test_a_process_that_never_lets_go_is_named(tmp_path: Path) -> None:
    """Only a genuine deadlock exits 5: a process holding the file past the retry budget, named."""
    path = tmp_path / "held.duckdb"
    Store(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, duckdb
            conn = duckdb.connect({str(path)!r})
            print("ready", flush=True)
            sys.stdin.readline()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert read_line(holder.stdout).strip() == "ready"
        with pytest.raises(StoreLockedError) as caught:
            Store(path, lock_wait=0.5)
        assert f"PID {holder.pid}" in str(caught.value)
        assert "import sys, duckdb conn = duckdb.connect(" in str(caught.value)  # the holder's command line
        assert caught.value.exit_code == 5
        assert caught.value.hint
    finally:
        holder.communicate("\n", timeout=30)
    with Store(path) as reopened:
        assert reopened.version() == SCHEMA_VERSION


def test_runs_that_started_together_are_listed_in_one_order(tmp_path: Path) -> None:
    """One round starts every service's run at the same instant; the history must not reorder them from one
    read to the next (the sync status screen flickered, and its snapshots failed half the time)."""
    same = datetime(2026, 11, 24, 8, tzinfo=UTC)
    services = [Service.NOTION, Service.GITLAB, Service.MOTION, Service.LINEAR] * 5
    with Store(tmp_path / "cache.duckdb") as store:
        for number, service in enumerate(services):
            run = SyncRun(run_id=f"r{number:02}", service=service, status="ok", started_at=same)
            store.record_sync_run(run)
        listed = [(run.service.value, run.run_id) for run in store.sync_runs()]
        assert listed == sorted(listed)
        assert all([(r.service.value, r.run_id) for r in store.sync_runs()] == listed for _ in range(5))


def test_a_task_write_marks_its_refs_except_where_the_service_holds_it(store: Store) -> None:
    task = Task(title="Ship the release notes")
    store.upsert_tasks([task])
    for service in (Service.LINEAR, Service.NOTION):
        store.upsert_refs([ExternalRef(entity_id=task.id, service=service, external_id=f"{service.value}-1")])

    def marked() -> set[Service]:
        return {s for s in (Service.LINEAR, Service.NOTION) if store.outbox_entries(s, op="push")}

    store.upsert_tasks(
        [task.model_copy(update={"title": "Ship the notes"})], held_by=(Service.LINEAR, [task.id])
    )
    assert marked() == {Service.NOTION}
    store.upsert_tasks(
        [task.model_copy(update={"title": "Ship them"})], held_by=(Service.LINEAR, ["another"])
    )
    assert marked() == {Service.LINEAR, Service.NOTION}
    # A mark already there stays: the push settles it.
    store.upsert_tasks([task.model_copy(update={"title": "Ship"})], held_by=(Service.LINEAR, [task.id]))
    assert marked() == {Service.LINEAR, Service.NOTION}


def test_handles_go_to_key_less_tasks_once(store: Store) -> None:
    key_less, keyed, both = Task(title="a"), Task(title="b"), Task(title="c")
    store.upsert_tasks([key_less, keyed, both])
    motion = [
        ExternalRef(entity_id=key_less.id, service=Service.MOTION, external_id="m1"),
        ExternalRef(entity_id=both.id, service=Service.MOTION, external_id="m2"),
    ]
    store.upsert_refs(motion)
    store.upsert_refs(
        [
            ExternalRef(entity_id=keyed.id, service=Service.LINEAR, external_id="l1", key="ENG-1"),
            ExternalRef(entity_id=both.id, service=Service.LINEAR, external_id="l2", key="ENG-2"),
        ]
    )
    assert store.pmtui_handles() == {key_less.id: "M-1", both.id: "M-2"}
    assert store.handles_for([key_less.id, keyed.id, both.id]) == {
        key_less.id: "M-1",
        keyed.id: "ENG-1",
        both.id: "ENG-2",
    }
    # Storing the same refs again (every sync that pulls them) gives nothing new.
    store.upsert_refs(motion * 5)
    store.upsert_refs(motion[:1])
    late = Task(title="d")
    store.upsert_tasks([late])
    store.upsert_refs([ExternalRef(entity_id=late.id, service=Service.MOTION, external_id="m3")])
    assert store.pmtui_handles() == {key_less.id: "M-1", both.id: "M-2", late.id: "M-3"}


def test_a_run_and_a_cursor_are_rewritten_in_place(store: Store) -> None:
    run = SyncRun(run_id="a", service=Service.NOTION, started_at=datetime(2026, 12, 5, 8, tzinfo=UTC))
    store.record_sync_run(run)
    assert store.last_sync_runs()[Service.NOTION].status == "running"
    run.status, run.pulled, run.error, run.skipped = "failed", 4, "503 from Notion", ["p1: too long"]
    store.record_sync_run(run)
    (stored,) = store.sync_runs()
    assert (stored.id, stored.status, stored.pulled, stored.error, stored.skipped) == (
        run.id,
        "failed",
        4,
        "503 from Notion",
        ["p1: too long"],
    )
    store.set_cursor(Service.NOTION, "tasks", "2026-12-05T08:00:00Z")
    store.set_cursor(Service.NOTION, "tasks", "2026-12-05T09:00:00Z")
    assert store.get_cursor(Service.NOTION, "tasks") == "2026-12-05T09:00:00Z"
    store.set_cursor(Service.NOTION, "tasks", None)
    assert store.get_cursor(Service.NOTION, "tasks") is None
    assert store.cursor_updated_at(Service.NOTION, "tasks") is not None


def test_a_write_keeps_one_row_per_task_and_ref_the_last_given(store: Store) -> None:
    task = Task(title="first")
    store.upsert_tasks([task, task.model_copy(update={"title": "second"})])
    assert [(t.id, t.title) for t in store.list_tasks(include_closed=True)] == [(task.id, "second")]
    refs = [ExternalRef(entity_id=task.id, service=Service.MOTION, external_id=f"m{i}") for i in range(10)]
    last = refs[3].model_copy(update={"url": "https://app.usemotion.com/t/m3"})
    store.upsert_refs([*refs, last])
    assert len(store.refs_for_service(Service.MOTION)) == 10
    assert store.ref_by_external(Service.MOTION, "m3") == last
    # Twice in one transaction, as a page and its retry may be: still one row each.
    with store.transaction():
        store.upsert_tasks([task.model_copy(update={"title": "third"})])
        store.upsert_tasks([task.model_copy(update={"title": "fourth"})])
        store.upsert_refs(refs)
        store.upsert_refs(refs)
    assert [t.title for t in store.list_tasks(include_closed=True)] == ["fourth"]
    assert store.ref_by_external(Service.MOTION, "m3") == refs[3]
    assert len(store.refs_for_service(Service.MOTION)) == 10
