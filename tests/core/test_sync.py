"""Sync scenarios against the four emulators, each asserting the final state on every side.

Edits "as another user" go through each emulator's admin surface; local edits go through the
orchestrator (as the TUI and `pmtui do` make them) or straight into the cache (an offline edit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pmtui.models import (
    CompleteTask,
    Priority,
    ResultStatus,
    Service,
    Status,
    Task,
    TaskChanges,
    UpdateTask,
)
from pmtui.sandbox.motion import PAGE_SIZE as MOTION_PAGE_SIZE
from pmtui.sandbox.server import Fault
from tests.core.conftest import World


def test_second_sync_is_idempotent_and_minimal(world: World) -> None:
    tasks_before = world.engine.store.count_tasks()
    runs = world.sync()
    assert all(run.pulled == 0 and run.pushed == 0 for run in runs.values())
    counts = world.sandbox.request_counts()
    assert counts["linear"]["graphql:issues"] == 1
    # A new process reads its team (by its key) with the first listing, in the same request.
    assert counts["linear"]["total"] == 1
    assert counts["linear"]["graphql:teams"] == 1
    assert counts["gitlab"]["total"] == 1
    # ... and Notion checks the data source's schema once per process.
    assert counts["notion"]["POST /v1/data_sources/:data_source_id/query"] == 1
    assert counts["notion"]["total"] == 2
    unresolved = sum(
        1 for t in world.sandbox.emulator("motion").state["tasks"].values() if not t["completed"]
    )
    assert counts["motion"]["GET /v1/tasks"] == -(-unresolved // MOTION_PAGE_SIZE)
    assert counts["motion"]["total"] == counts["motion"]["GET /v1/tasks"]
    assert world.engine.store.count_tasks() == tasks_before


def test_remote_only_edit(world: World) -> None:
    task = world.task("ENG-5")
    world.sandbox.emulator("linear").admin_mutate(
        {
            "op": "update",
            "kind": "issue",
            "id": world.ref(task, Service.LINEAR).external_id,
            "fields": {"title": "Renamed in Linear", "priority": 1},
        }
    )
    runs = world.sync()
    assert runs[Service.LINEAR].pulled == 1
    local = world.engine.store.get_task(task.id)
    assert local is not None
    assert local.title == "Renamed in Linear"
    assert local.priority.value == "urgent"
    assert world.writes("linear") == 0


def test_local_only_edit_is_pushed(world: World) -> None:
    task = world.task("acme/app#2")
    world.engine.store.upsert_tasks(
        [task.model_copy(update={"title": "Edited offline", "priority": Priority.HIGH})]
    )
    runs = world.sync()
    assert runs[Service.GITLAB].pushed == 1
    issue = next(i for i in world.sandbox.emulator("gitlab").state["issues"].values() if i["iid"] == 2)
    assert issue["title"] == "Edited offline"
    assert "priority::high" in issue["labels"]
    again = world.sync()
    assert again[Service.GITLAB].pushed == 0


def test_both_edit_different_fields(world: World) -> None:
    task = world.task("ENG-6")
    ident = world.ref(task, Service.LINEAR).external_id
    world.sandbox.emulator("linear").admin_mutate(
        {"op": "update", "kind": "issue", "id": ident, "fields": {"priority": 1}}
    )
    world.run(UpdateTask(task=task.id, changes=TaskChanges(title="Local title")))
    world.later()
    world.sync()
    local = world.engine.store.get_task(task.id)
    assert local is not None
    assert (local.title, local.priority.value) == ("Local title", "urgent")
    remote = world.linear_issue(ident)
    assert (remote["title"], remote["priority"]) == ("Local title", 1)
    assert world.engine.store.conflicts() == []


def _conflict_on_title(world: World, key: str, local: str, remote: str) -> tuple[Task, str]:
    task = world.task(key)
    ident = world.ref(task, Service.LINEAR).external_id
    world.engine.store.upsert_tasks([task.model_copy(update={"title": local})])
    world.sandbox.emulator("linear").admin_mutate(
        {"op": "update", "kind": "issue", "id": ident, "fields": {"title": remote}}
    )
    world.later()
    world.sync(Service.LINEAR)
    return task, ident


def test_same_field_conflict_then_each_resolution(world: World) -> None:
    task, ident = _conflict_on_title(world, "ENG-7", "Local wins?", "Remote wins?")
    conflicts = world.engine.store.conflicts()
    assert [(c.field, c.local, c.remote) for c in conflicts] == [("title", "Local wins?", "Remote wins?")]
    world.sync(Service.LINEAR)  # nothing is overwritten while the conflict is open
    assert world.engine.store.get_task(task.id).title == "Local wins?"  # type: ignore[union-attr]
    assert world.linear_issue(ident)["title"] == "Remote wins?"
    world.engine.resolve_conflict(conflicts[0].id, "local")
    assert world.linear_issue(ident)["title"] == "Local wins?"
    assert world.engine.store.conflicts() == []

    task, ident = _conflict_on_title(world, "ENG-8", "mine", "theirs")
    world.engine.resolve_conflict(world.engine.store.conflicts()[0].id, "remote")
    assert world.engine.store.get_task(task.id).title == "theirs"  # type: ignore[union-attr]
    assert world.linear_issue(ident)["title"] == "theirs"

    task, ident = _conflict_on_title(world, "ENG-9", "left", "right")
    world.engine.resolve_conflict(world.engine.store.conflicts()[0].id, "merged", "left and right")
    assert world.engine.store.get_task(task.id).title == "left and right"  # type: ignore[union-attr]
    assert world.linear_issue(ident)["title"] == "left and right"
    world.later()
    runs = world.sync(Service.LINEAR)
    assert runs[Service.LINEAR].pushed == 0
    assert world.engine.store.conflicts() == []


def test_remote_delete_vs_local_edit_is_a_conflict(world: World) -> None:
    task = world.task("ENG-10")
    ident = world.ref(task, Service.LINEAR).external_id
    world.engine.store.upsert_tasks([task.model_copy(update={"title": "I still need this"})])
    world.sandbox.emulator("linear").admin_mutate({"op": "delete", "kind": "issue", "id": ident})
    world.later()
    world.sync(Service.LINEAR)
    kept = world.engine.store.get_task(task.id)
    assert kept is not None
    assert not kept.deleted
    assert [c.field for c in world.engine.store.conflicts()] == ["_deleted"]


def test_remote_delete_of_an_unchanged_task_deletes_locally(world: World) -> None:
    task = world.task("ENG-11")
    world.sandbox.emulator("linear").admin_mutate(
        {"op": "delete", "kind": "issue", "id": world.ref(task, Service.LINEAR).external_id}
    )
    world.later()
    world.sync(Service.LINEAR)
    gone = world.engine.store.get_task(task.id)
    assert gone is not None
    assert gone.deleted


def test_completion_in_motion_reaches_the_cache(world: World) -> None:
    motion = world.sandbox.emulator("motion")
    raw = next(t for t in motion.state["tasks"].values() if not t["completed"])
    ref = world.engine.store.ref_by_external(Service.MOTION, raw["id"])
    assert ref is not None
    task = world.engine.store.get_task(ref.entity_id)
    assert task is not None
    motion.admin_mutate({"op": "update", "kind": "task", "id": raw["id"], "fields": {"status": "Completed"}})
    world.later()
    world.sync(Service.MOTION)
    local = world.engine.store.get_task(task.id)
    assert local is not None
    assert local.status is Status.DONE


def test_linear_edit_reaches_motion_for_a_linked_task(world: World) -> None:
    task = world.task("ENG-3")
    assert {r.service for r in world.engine.store.refs_for(task.id)} == {Service.LINEAR, Service.MOTION}
    world.sandbox.emulator("linear").admin_mutate(
        {
            "op": "update",
            "kind": "issue",
            "id": world.ref(task, Service.LINEAR).external_id,
            "fields": {"title": "Fix login redirect loop on Safari"},
        }
    )
    world.later()
    world.sync()
    motion_task = world.sandbox.emulator("motion").state["tasks"][world.ref(task, Service.MOTION).external_id]
    assert motion_task["name"] == "Fix login redirect loop on Safari"


def test_a_pulled_change_is_marked_for_the_linked_service_only(world: World) -> None:
    """The service a change came from holds it: only the other side waits for a push.

    With a local edit of another field pending, the pulled service still gets that edit.
    """
    store = world.engine.store
    task = world.task("ENG-3")
    linear_id = world.ref(task, Service.LINEAR).external_id

    def retitle(title: str) -> None:
        world.sandbox.emulator("linear").admin_mutate(
            {"op": "update", "kind": "issue", "id": linear_id, "fields": {"title": title}}
        )
        world.later()

    retitle("Fix login redirect loop on Safari")
    world.sync(Service.LINEAR)
    assert store.get_task(task.id).title == "Fix login redirect loop on Safari"  # type: ignore[union-attr]
    assert [e.task_id for e in store.outbox_entries(Service.LINEAR)] == []
    assert [e.task_id for e in store.outbox_entries(Service.MOTION)] == [task.id]

    store.upsert_tasks([store.get_task(task.id).model_copy(update={"priority": Priority.LOW})])  # type: ignore[union-attr]
    retitle("Fix login redirect loop on Safari and Firefox")
    runs = world.sync(Service.LINEAR)
    assert runs[Service.LINEAR].pushed == 1
    issue = world.linear_issue(linear_id)
    assert issue["title"] == "Fix login redirect loop on Safari and Firefox"
    assert issue["priority"] == 4  # Linear's "low"
    assert [e.task_id for e in store.outbox_entries(Service.LINEAR)] == []

    world.sync()
    motion = world.sandbox.emulator("motion").state["tasks"][world.ref(task, Service.MOTION).external_id]
    assert motion["name"] == "Fix login redirect loop on Safari and Firefox"
    assert store.outbox_entries(Service.MOTION) == []


def _no_backoff(world: World, service: Service) -> None:
    """Build the integration with retries that do not sleep (the backoff is tested elsewhere)."""
    from pmtui.integrations import integration_class

    section = world.engine.settings.service(service)
    key = world.sandbox.api_key(service.value)
    world.engine._integrations[service] = integration_class(service)(  # type: ignore[call-arg]
        section, key, retry_sleep=lambda _seconds: None
    )


def test_offline_edit_is_pushed_on_the_next_sync(world: World) -> None:
    _no_backoff(world, Service.MOTION)
    motion = world.sandbox.emulator("motion")
    raw = next(t for t in motion.state["tasks"].values() if not t["completed"])
    ref = world.engine.store.ref_by_external(Service.MOTION, raw["id"])
    assert ref is not None
    task = world.engine.store.get_task(ref.entity_id)
    assert task is not None
    motion.add_fault(Fault("error", value=503, count=None, method="PATCH"))
    outcome = world.run(UpdateTask(task=task.id, changes=TaskChanges(title="Written on a plane")))
    assert outcome.results[0].status is ResultStatus.QUEUED
    assert motion.state["tasks"][raw["id"]]["name"] == raw["name"]
    motion.clear_faults()
    world.sync(Service.MOTION)
    assert motion.state["tasks"][raw["id"]]["name"] == "Written on a plane"


def test_a_service_down_for_a_whole_sync_loses_nothing(world: World) -> None:
    _no_backoff(world, Service.GITLAB)
    gitlab = world.sandbox.emulator("gitlab")
    cursor = world.engine.store.get_cursor(Service.GITLAB, "tasks")
    count = len(world.engine.store.refs_for_service(Service.GITLAB))
    gitlab.add_fault(Fault("error", value=503, count=None))
    task = world.task("ENG-12")
    world.sandbox.emulator("linear").admin_mutate(
        {
            "op": "update",
            "kind": "issue",
            "id": world.ref(task, Service.LINEAR).external_id,
            "fields": {"title": "Still syncs"},
        }
    )
    world.later()
    runs = world.sync()
    assert runs[Service.GITLAB].status == "failed"
    assert runs[Service.GITLAB].error
    assert runs[Service.LINEAR].status == "ok"
    assert world.engine.store.get_task(task.id).title == "Still syncs"  # type: ignore[union-attr]
    assert world.engine.store.get_cursor(Service.GITLAB, "tasks") == cursor
    assert len(world.engine.store.refs_for_service(Service.GITLAB)) == count
    gitlab.clear_faults()
    assert world.sync(Service.GITLAB)[Service.GITLAB].status == "ok"


def test_an_empty_listing_deletes_and_closes_nothing(world: World) -> None:
    motion = world.sandbox.emulator("motion")
    open_before = [t.id for t in world.engine.store.list_tasks(include_closed=False)]
    for raw in list(motion.state["tasks"].values()):
        motion.admin_mutate({"op": "delete", "kind": "task", "id": raw["id"]})
    world.later()
    runs = world.sync(Service.MOTION)
    assert runs[Service.MOTION].status == "ok"
    assert [t.id for t in world.engine.store.list_tasks(include_closed=False)] == open_before
    assert any("held" in d.reason for d in world.engine.store.decisions(limit=20))


def test_completing_locally_closes_it_remotely(world: World) -> None:
    task = world.task("acme/app#4")
    world.run(CompleteTask(task=task.id))
    issue = next(i for i in world.sandbox.emulator("gitlab").state["issues"].values() if i["iid"] == 4)
    assert issue["state"] == "closed"
    world.later()
    runs = world.sync(Service.GITLAB)
    assert runs[Service.GITLAB].pushed == 0


def test_held_deletions_and_a_failing_mirror_need_attention(world: World, tmp_path: Path) -> None:
    from pmtui.core.mirror import mirror_after_sync
    from pmtui.core.sync import attention_notices

    motion = world.sandbox.emulator("motion")
    for raw in list(motion.state["tasks"].values()):
        motion.admin_mutate({"op": "delete", "kind": "task", "id": raw["id"]})
    world.later()
    world.sync(Service.MOTION)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the mirror wants a folder")
    settings = world.engine.settings.model_copy(
        update={"mirror": world.engine.settings.mirror.model_copy(update={"target": str(blocked / "mirror")})}
    )
    report = mirror_after_sync(world.engine.store, settings)
    assert report is not None
    assert not report.ok
    notices = attention_notices(world.engine.store)
    assert [(n.source, n.what) for n in notices] == [
        ("Motion", "deletions held for review"),
        ("Delta mirror", "mirror failing (retried at each sync)"),
    ]


def test_notion_page_with_a_3000_character_title_syncs_whole(world: World) -> None:
    """Notion holds a title as several rich-text items (2,000 characters each): pmtui keeps it whole."""
    notion = world.sandbox.emulator("notion")
    long_title = ("A very long Notion title " * 120)[:2999] + "!"
    chunks = [long_title[:2000], long_title[2000:]]
    page = notion.admin_mutate(
        {
            "op": "create",
            "kind": "page",
            "fields": {"Name": {"title": [{"type": "text", "text": {"content": c}} for c in chunks]}},
        }
    )
    world.later()
    runs = world.sync()
    assert {service: run.status for service, run in runs.items()} == {service: "ok" for service in runs}, {
        service: run.error for service, run in runs.items()
    }
    ref = world.engine.store.ref_by_external(Service.NOTION, page["id"])
    assert ref is not None
    task = world.engine.store.get_task(ref.entity_id)
    assert task is not None
    assert task.title == long_title


def test_a_runs_progress_counts_its_own_requests_not_the_whole_process(world: World) -> None:
    """A long-lived engine (`pmtui sync --watch`, the app) keeps its integrations from run to run: the
    progress of its tenth quiet run said "35 request(s)" while the run itself made 11."""
    for _ in range(2):
        world.sync(Service.LINEAR)
        world.later()
    events: list[Any] = []
    run = world.engine.sync([Service.LINEAR], on_progress=events.append)[0]
    pages = [event.data for event in events if event.kind == "sync-page"]
    assert run.status == "ok"
    assert run.requests > 0
    assert pages, "a run reports each stored page"
    assert [page["requests"] for page in pages] == sorted(page["requests"] for page in pages)
    assert all(0 < page["requests"] <= run.requests for page in pages), (pages, run.requests)
