"""Comment sync against the four emulators: each comment arrives on every side exactly once.

Remote comments are written "as another user" through each emulator's admin surface; pmtui's through
the orchestrator (as ``c`` in task detail and ``comment ENG-12: ...`` make them). Faults are the
emulators' own (commit-then-drop), and the crash is a real SIGKILL of a child process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.models import AddComment, EntityType, Link, ResultStatus, Service, Status, Task
from pmtui.sandbox.server import Fault
from tests.core.conftest import Template, World

SERVICES = [Service.LINEAR, Service.GITLAB, Service.NOTION, Service.MOTION]


# ------------------------------------------------------------------------------------------- helpers


def _task_on(world: World, service: Service) -> tuple[Task, str]:
    """A live, open task held on ``service`` only (Motion lists unresolved tasks only)."""
    store = world.engine.store
    for ref in sorted(store.refs_for_service(service), key=lambda r: r.external_id):
        task = store.get_task(ref.entity_id)
        if task is None or task.deleted or task.status in (Status.DONE, Status.CANCELED):
            continue
        if len([r for r in store.refs_for(task.id) if r.service is not Service.LOCAL]) == 1:
            return task, ref.external_id
    raise AssertionError(f"no open single-service task on {service.value}")


def _comment_remotely(world: World, service: Service, external_id: str, text: str) -> None:
    """Comment as another person would, through the emulator's admin surface."""
    emulator: Any = world.sandbox.emulator(service.value)
    if service is Service.LINEAR:
        emulator.admin_mutate(
            {"op": "create", "kind": "comment", "fields": {"issueId": external_id, "body": text}}
        )
    elif service is Service.GITLAB:
        emulator.admin_mutate(
            {"op": "create", "kind": "note", "issue_iid": int(external_id), "fields": {"body": text}}
        )
    elif service is Service.NOTION:
        emulator.admin_mutate({"op": "create", "kind": "comment", "page_id": external_id, "text": text})
    else:
        with emulator.lock:
            workspace = emulator.state["tasks"][external_id]["workspaceId"]
            emulator.add_comment({"taskId": external_id, "content": text}, emulator._other_user(workspace))


def _touch_remotely(world: World, service: Service, external_id: str, title: str) -> None:
    """Retitle the task as another person (only GitLab marks a task changed by a comment alone)."""
    emulator: Any = world.sandbox.emulator(service.value)
    if service is Service.LINEAR:
        emulator.admin_mutate(
            {"op": "update", "kind": "issue", "id": external_id, "fields": {"title": title}}
        )
    elif service is Service.GITLAB:
        emulator.admin_mutate(
            {"op": "update", "kind": "issue", "iid": int(external_id), "fields": {"title": title}}
        )
    elif service is Service.NOTION:
        emulator.admin_mutate({"op": "update", "kind": "page", "id": external_id, "fields": {"Name": title}})
    else:
        emulator.admin_mutate({"op": "update", "kind": "task", "id": external_id, "fields": {"name": title}})


def _remote_bodies(engine: Engine, service: Service, external_id: str, text: str) -> list[str]:
    """The bodies of the task's comments on ``service`` that contain ``text`` (read with the real client)."""
    return [c.body for c in engine.integration(service).list_comments(external_id) if text in c.body]


def _local_bodies(engine: Engine, task_id: str, text: str) -> list[str]:
    return [c.body for c in engine.store.comments_for(task_id) if text in c.body]


# ------------------------------------------------------------------------------- remote -> pmtui


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_remote_comment_arrives_once(world: World, service: Service) -> None:
    task, external_id = _task_on(world, service)
    text = f"Seen on {service.label} by a colleague"
    _comment_remotely(world, service, external_id, text)
    if service is not Service.GITLAB:  # a GitLab note alone marks its issue changed
        _touch_remotely(world, service, external_id, f"{task.title} (touched)")
    world.later()
    world.sync()
    local = [c for c in world.engine.store.comments_for(task.id) if c.body == text]
    assert len(local) == 1
    assert local[0].author  # the person, as the service names them
    mapping = world.engine.store.refs_for(local[0].id, EntityType.COMMENT)
    assert [(r.service, r.origin) for r in mapping] == [(service, True)]
    # A second sync adds nothing, posts nothing back, and reads no comments (nothing changed).
    world.later()
    world.sandbox.reset_counts()
    world.sync()
    assert _local_bodies(world.engine, task.id, text) == [text]
    assert _remote_bodies(world.engine, service, external_id, text) == [text]
    assert world.writes(service.value) == 0


def test_notion_comment_author_is_the_persons_name_not_a_user_id(world: World) -> None:
    """Task detail shows ``comment.author``: from Notion it must be a name (issue #21), not a UUID."""
    task, external_id = _task_on(world, Service.NOTION)
    _comment_remotely(world, Service.NOTION, external_id, "Signed off")
    _touch_remotely(world, Service.NOTION, external_id, f"{task.title} (touched)")
    world.later()
    world.sync()
    [local] = [c for c in world.engine.store.comments_for(task.id) if c.body == "Signed off"]
    emulator: Any = world.sandbox.emulator("notion")
    people = {u["id"]: u["name"] for u in emulator.state["users"].values() if u["type"] == "person"}
    assert local.author in people.values()
    assert local.author not in people


@pytest.mark.parametrize("service", [Service.LINEAR, Service.NOTION, Service.MOTION], ids=lambda s: s.value)
def test_refresh_reads_a_comment_that_left_the_task_unchanged(world: World, service: Service) -> None:
    task, external_id = _task_on(world, service)
    text = f"Quiet comment on {service.label}"
    _comment_remotely(world, service, external_id, text)
    assert world.engine.refresh_comments(task.id) >= 1
    assert world.engine.refresh_comments(task.id) == 0
    assert _local_bodies(world.engine, task.id, text) == [text]


def test_no_change_sync_makes_no_comment_requests(world: World) -> None:
    # Comments exist (pulled and made in pmtui), yet a sync with nothing changed lists only tasks.
    task, external_id = _task_on(world, Service.GITLAB)
    _comment_remotely(world, Service.GITLAB, external_id, "A note to pull")
    assert world.run(AddComment(task=task.id, body="A note to post")).ok
    world.later()
    world.sync()
    world.later()
    world.sandbox.reset_counts()
    runs = world.sync()
    assert all(run.status == "ok" and run.pulled == 0 for run in runs.values())
    counts = world.sandbox.request_counts()
    assert counts["linear"]["total"] == counts["linear"]["graphql:issues"] == 1
    assert counts["gitlab"]["total"] == counts["gitlab"]["GET /api/v4/projects/:id/issues"] == 1
    assert counts["notion"]["total"] == counts["notion"]["POST /v1/data_sources/:data_source_id/query"] == 1
    assert counts["motion"]["total"] == counts["motion"]["GET /v1/tasks"]


def test_a_changed_gitlab_issue_without_notes_costs_no_notes_request(world: World) -> None:
    """GitLab counts an issue's user notes in the listing: a retitle of an issue nobody commented on
    reads no notes (it used to cost one request per changed issue), one with a note still reads it."""
    store = world.engine.store
    emulator: Any = world.sandbox.emulator("gitlab")
    with emulator.lock:
        unnoted = {
            str(issue["iid"])
            for issue in emulator.state["issues"].values()
            if not any(not n["system"] for n in emulator.state["notes"].get(str(issue["id"]), []))
        }
    listed = [r.external_id for r in store.refs_for_service(Service.GITLAB) if r.external_id in unnoted]
    quiet, noted = sorted(listed, key=int)[:2]
    _comment_remotely(world, Service.GITLAB, noted, "A note on a retitled issue")
    _touch_remotely(world, Service.GITLAB, quiet, "Retitled, no notes")
    _touch_remotely(world, Service.GITLAB, noted, "Retitled, one note")
    world.later()
    world.sandbox.reset_counts()

    world.sync()

    counts = world.sandbox.request_counts()["gitlab"]
    assert counts.get("GET /api/v4/projects/:id/issues/:issue_iid/notes", 0) == 1  # the noted issue's, only
    ref = store.ref_by_external(Service.GITLAB, noted)
    assert ref is not None
    assert _local_bodies(world.engine, ref.entity_id, "A note on a retitled issue") == [
        "A note on a retitled issue"
    ]


# ------------------------------------------------------------------------------- pmtui -> remote


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_comment_made_in_pmtui_arrives_once_and_does_not_bounce(world: World, service: Service) -> None:
    task, external_id = _task_on(world, service)
    text = f"Written in pmtui for {service.label}"
    outcome = world.run(AddComment(task=task.id, body=text))
    assert outcome.ok, outcome.results
    assert _remote_bodies(world.engine, service, external_id, text) == [text]
    for _ in range(2):
        _touch_remotely(world, service, external_id, f"{task.title} (touched)")
        world.later()
        world.sync()
    assert _local_bodies(world.engine, task.id, text) == [text]
    assert _remote_bodies(world.engine, service, external_id, text) == [text]
    # Without its stored mapping, the marker alone still says it is pmtui's own comment.
    (comment,) = [c for c in world.engine.store.comments_for(task.id) if c.body == text]
    for ref in world.engine.store.refs_for(comment.id, EntityType.COMMENT):
        if ref.service is service:
            world.engine.store.delete_ref(ref)
    assert world.engine.refresh_comments(task.id) == 0
    assert _local_bodies(world.engine, task.id, text) == [text]
    assert _remote_bodies(world.engine, service, external_id, text) == [text]
    assert any(r.service is service for r in world.engine.store.refs_for(comment.id, EntityType.COMMENT))


# ------------------------------------------------------------------------------ across services


def _linked_task(world: World) -> tuple[Task, str, str]:
    """A Linear task also held on GitLab (linked through the orchestrator): task, Linear id, GitLab iid."""
    task, linear_id = _task_on(world, Service.LINEAR)
    outcome = world.run(Link(task=task.id, to=Service.GITLAB))
    assert outcome.ok, outcome.results
    gitlab_id = world.ref(task, Service.GITLAB).external_id
    world.later()
    world.sync()
    return task, linear_id, gitlab_id


def test_comment_is_carried_across_services_once_with_author_and_time(world: World) -> None:
    task, linear_id, gitlab_id = _linked_task(world)
    text = "Repro steps attached in the ticket"
    _comment_remotely(world, Service.LINEAR, linear_id, text)
    _touch_remotely(world, Service.LINEAR, linear_id, f"{task.title} (touched)")
    world.later()
    world.sync()
    (local,) = [c for c in world.engine.store.comments_for(task.id) if c.body == text]
    carried = _remote_bodies(world.engine, Service.GITLAB, gitlab_id, text)
    assert len(carried) == 1
    header = carried[0].split("\n\n", 1)[0]
    assert header.startswith(f"{local.author} (Linear, ")
    assert local.created_at.strftime("%Y-%m-%d %H:%M UTC") in header
    assert carried[0].endswith(text)
    # The other way: a GitLab note reaches Linear once; nothing bounces, however often we sync.
    back = "Fixed on main, please verify"
    _comment_remotely(world, Service.GITLAB, gitlab_id, back)
    for _ in range(3):
        world.later()
        world.sync()
    assert _local_bodies(world.engine, task.id, text) == [text]
    assert _local_bodies(world.engine, task.id, back) == [back]
    assert _remote_bodies(world.engine, Service.LINEAR, linear_id, text) == [text]
    assert len(_remote_bodies(world.engine, Service.GITLAB, gitlab_id, text)) == 1
    to_linear = _remote_bodies(world.engine, Service.LINEAR, linear_id, back)
    assert len(to_linear) == 1
    assert "(GitLab, " in to_linear[0]
    assert _remote_bodies(world.engine, Service.GITLAB, gitlab_id, back) == [back]


def test_comment_made_in_pmtui_reaches_every_service_holding_the_task(world: World) -> None:
    task, linear_id, gitlab_id = _linked_task(world)
    text = "One comment, both trackers"
    assert world.run(AddComment(task=task.id, body=text)).ok
    for _ in range(2):
        world.later()
        world.sync()
    assert _remote_bodies(world.engine, Service.LINEAR, linear_id, text) == [text]
    assert _remote_bodies(world.engine, Service.GITLAB, gitlab_id, text) == [text]
    assert _local_bodies(world.engine, task.id, text) == [text]


# ------------------------------------------------------------------------------------------ faults


FAULT_PATHS = {
    Service.LINEAR: None,  # only mutations are writes there
    Service.GITLAB: None,  # the note is the only write of the step
    Service.NOTION: "/v1/comments",
    Service.MOTION: "/v1/comments",
}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_commit_then_drop_on_the_comment_post_leaves_one_comment(world: World, service: Service) -> None:
    task, external_id = _task_on(world, service)
    text = f"Dropped reply on {service.label}"
    emulator = world.sandbox.emulator(service.value)
    fault = Fault("commit_drop", method="POST", path=FAULT_PATHS[service])
    emulator.add_fault(fault)
    outcome = world.run(AddComment(task=task.id, body=text))
    emulator.clear_faults()
    assert fault.hits == 1
    assert outcome.results[0].status in (ResultStatus.DONE, ResultStatus.QUEUED), outcome.results
    world.later()
    world.sync()  # recovers anything left open, then carries
    assert _remote_bodies(world.engine, service, external_id, text) == [text]
    assert _local_bodies(world.engine, task.id, text) == [text]
    assert world.engine.journal.all() == []


def test_commit_then_drop_while_carrying_leaves_one_comment(world: World) -> None:
    task, linear_id, gitlab_id = _linked_task(world)
    text = "Carried through a dropped connection"
    _comment_remotely(world, Service.LINEAR, linear_id, text)
    _touch_remotely(world, Service.LINEAR, linear_id, f"{task.title} (touched)")
    fault = Fault("commit_drop", method="POST")
    world.sandbox.emulator("gitlab").add_fault(fault)
    world.later()
    world.sync()
    world.sandbox.emulator("gitlab").clear_faults()
    assert fault.hits == 1
    world.later()
    world.sync()
    assert len(_remote_bodies(world.engine, Service.GITLAB, gitlab_id, text)) == 1
    assert _local_bodies(world.engine, task.id, text) == [text]
    assert world.engine.journal.all() == []


# -------------------------------------------------------------------------------------- kill -9

CHILD = textwrap.dedent("""
    import json, os, signal, sys
    from pmtui.config import load_settings
    from pmtui.core.engine import Engine
    from pmtui.core.store import Store
    from pmtui.models import AddComment, Plan, Service

    overrides = json.loads(sys.argv[1])
    db, service, mode, arg = sys.argv[2:6]
    engine = Engine(load_settings(overrides=overrides), Store(db))
    integration = engine.integration(Service(service))
    real = integration.add_comment

    def add_comment(*args, **kwargs):
        real(*args, **kwargs)  # the service has it now; the cache never hears of it
        os.kill(os.getpid(), signal.SIGKILL)

    integration.add_comment = add_comment
    if mode == "action":
        engine.execute(Plan(actions=[AddComment(task=arg, body="Posted right before the crash")]))
    else:
        engine.sync()
    print("finished without crashing")
""")


@pytest.fixture
def cache(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the first-synced cache (not held open: a child process opens it) and fresh emulators."""
    for name, value in template.sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PMTUI_NO_KEYRING", "1")
    for name, snapshot in template.snapshots.items():
        emulator = template.sandbox.emulator(name)
        emulator.restore(snapshot)
        emulator.clear_faults()
    path = tmp_path / "cache.duckdb"
    shutil.copy(template.cache, path)
    template.sandbox.clock.advance(120)
    return path


def _kill_child(template: Template, db: Path, service: Service, mode: str, arg: str) -> None:
    overrides = template.sandbox.settings_dict()
    for section in overrides.values():
        section["requests_per_minute"] = 60000
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(overrides), str(db), service.value, mode, arg],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ},
    )
    assert child.returncode == -9, child.stdout + child.stderr


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.value)
def test_kill_9_between_post_and_store_of_a_pmtui_comment(
    template: Template, cache: Path, service: Service
) -> None:
    with Engine(template.settings, Store(cache)) as engine:
        world = World(template.sandbox, engine)
        task, external_id = _task_on(world, service)
    _kill_child(template, cache, service, "action", task.id)
    text = "Posted right before the crash"
    with Engine(template.settings, Store(cache)) as engine:
        assert [e.op for e in engine.journal.pending()] == ["add_comment"]
        assert _local_bodies(engine, task.id, text) == []  # the crash came before the store
        engine.recover()
        template.sandbox.clock.advance(120)
        engine.sync()
        engine.sync()
        assert engine.journal.all() == []
        assert _remote_bodies(engine, service, external_id, text) == [text]
        assert _local_bodies(engine, task.id, text) == [text]


@pytest.mark.slow  # a real pmtui process (or a kill -9 of one): seconds each
def test_kill_9_between_post_and_store_while_carrying(template: Template, cache: Path) -> None:
    text = "Carried right before the crash"
    with Engine(template.settings, Store(cache)) as engine:
        world = World(template.sandbox, engine)
        task, linear_id, gitlab_id = _linked_task(world)
        _comment_remotely(world, Service.LINEAR, linear_id, text)
        _touch_remotely(world, Service.LINEAR, linear_id, f"{task.title} (touched)")
        world.later()
    _kill_child(template, cache, Service.GITLAB, "sync", "")
    with Engine(template.settings, Store(cache)) as engine:
        assert [e.op for e in engine.journal.pending()] == ["add_comment"]
        engine.recover()
        for _ in range(2):
            template.sandbox.clock.advance(120)
            engine.sync()
        assert engine.journal.all() == []
        assert len(_remote_bodies(engine, Service.GITLAB, gitlab_id, text)) == 1
        assert _remote_bodies(engine, Service.LINEAR, linear_id, text) == [text]
        assert _local_bodies(engine, task.id, text) == [text]
