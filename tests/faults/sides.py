"""Read every side's final state: each emulator through its admin snapshot, and the cache.

Fault tests assert on all sides at once: the object exists exactly once (or not at all) on the service,
the cache agrees, the journal is settled and the sync run says what happened.
"""

from __future__ import annotations

from typing import Any

from pmtui.models import Service, SyncRun
from pmtui.sandbox.runner import Sandbox
from tests.core.conftest import World


def _notion_title(page: dict[str, Any]) -> str:
    return "".join(part.get("plain_text", "") for part in page["values"].get("title", []))


def remote_titles(sandbox: Sandbox, service: str) -> list[str]:
    """Titles of the service's live (not trashed or archived) tasks/issues/pages, duplicates kept."""
    state = sandbox.emulator(service).snapshot()
    if service == "motion":
        return [t["name"] for t in state["tasks"].values()]
    if service == "linear":
        return [
            i["title"] for i in state["issues"].values() if not i.get("trashed") and not i.get("archivedAt")
        ]
    if service == "gitlab":
        return [i["title"] for i in state["issues"].values()]
    tasks_source = state["tasks_data_source_id"]
    return [
        _notion_title(p)
        for p in state["pages"].values()
        if p["data_source_id"] == tasks_source and not p.get("in_trash")
    ]


def remote_projects(sandbox: Sandbox, service: str) -> list[str]:
    """Names of the service's live projects (GitLab: milestones; Notion: pages of the projects source)."""
    state = sandbox.emulator(service).snapshot()
    if service == "motion":
        return [p["name"] for p in state["projects"].values()]
    if service == "linear":
        return [
            p["name"] for p in state["projects"].values() if not p.get("trashed") and not p.get("archivedAt")
        ]
    if service == "gitlab":
        return [m["title"] for m in state["milestones"].values()]
    source = state["projects_data_source_id"]
    return [
        _notion_title(p)
        for p in state["pages"].values()
        if p["data_source_id"] == source and not p.get("in_trash")
    ]


def remote_comments(sandbox: Sandbox, service: str) -> list[str]:
    """Bodies of every comment (GitLab: non-system notes) on the service, duplicates kept."""
    state = sandbox.emulator(service).snapshot()
    if service == "motion":
        return [c["content"] for c in state["comments"].values()]
    if service == "linear":
        return [c["body"] for c in state["comments"].values()]
    if service == "gitlab":
        return [n["body"] for notes in state["notes"].values() for n in notes if not n.get("system")]
    return ["".join(part["plain_text"] for part in c["rich_text"]) for c in state["comments"].values()]


def local_titles(world: World) -> list[str]:
    """Titles of the cache's live tasks, duplicates kept."""
    return [t.title for t in world.engine.store.list_tasks() if not t.deleted]


def assert_settled(world: World, runs: dict[Service, SyncRun] | None = None) -> None:
    """The journal is empty, no remote object is held twice, and each given sync run is recorded."""
    store = world.engine.store
    assert world.engine.journal.all() == [], "a journal step was left unsettled"
    shared = store._rows(
        "SELECT service, external_id, count(DISTINCT entity_id) FROM external_refs "
        "GROUP BY service, entity, external_id HAVING count(DISTINCT entity_id) > 1"
    )
    assert shared == [], f"remote objects held by two local tasks: {shared}"
    doubled = store._rows(
        "SELECT entity_id, service, count(*) FROM external_refs WHERE entity = 'task' "
        "GROUP BY entity_id, service HAVING count(*) > 1"
    )
    assert doubled == [], f"tasks linked twice to one service: {doubled}"
    recorded = {run.id: run for run in store.sync_runs(limit=200)}
    for run in (runs or {}).values():
        assert run.id in recorded, f"{run.service} sync run not recorded"
        assert recorded[run.id].status == run.status
        assert run.status in ("ok", "failed")
        assert run.finished_at is not None
        if run.status == "failed":
            assert run.error, "a failed run must say why"
