"""Services sync in parallel, and several of them hold a project of the same name (Motion's, Linear's and
Notion's "Q1 launch"): the first to list it creates pmtui's project and the others link to it, whatever
the threads' timing. Looked up and created apart, two services could each find no "Q1 launch" and each
create one; the briefing then listed "Q1 launch" twice with the tasks split between them (seen only on a
machine with more cores, where DuckDB and the threads ran in another order)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.core.sync import SyncEngine
from pmtui.models import EntityType, Service
from tests.core.conftest import World

SHARED = "Q1 launch"
SERVICES = (Service.MOTION, Service.LINEAR, Service.NOTION)


@pytest.fixture
def empty_engine(world: World, tmp_path: Path) -> Iterator[Engine]:
    with Engine(world.engine.settings, Store(tmp_path / "empty.duckdb")) as engine:
        yield engine


def test_services_listing_one_project_name_at_once_share_one_project(empty_engine: Engine) -> None:
    store = empty_engine.store
    syncer = SyncEngine(empty_engine)
    integrations = {service: empty_engine.integration(service) for service in SERVICES}
    for integration in integrations.values():  # listed once up front: the race is in the store, not HTTP
        assert any(p.project.name == SHARED for p in integration.list_projects())

    # Every thread has looked the name up before any of them goes on: the worst interleaving, every time.
    # Where the lookup and the create are one transaction, the other threads cannot look it up meanwhile:
    # the barrier times out and each goes on in turn, finding the project the first one made.
    barrier = threading.Barrier(len(SERVICES))
    lookup = store.find_project

    def find_project(name_or_id: str) -> object:
        found = lookup(name_or_id)
        if name_or_id == SHARED:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=3)
        return found

    store.find_project = find_project  # type: ignore[method-assign]
    errors: list[Exception] = []

    def pull(service: Service) -> None:
        try:
            syncer._pull_projects(service, integrations[service])
        except Exception as exc:  # noqa: BLE001 - a thread's error is reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=pull, args=(service,)) for service in SERVICES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    named = [p for p in store.list_projects() if p.name.lower() == SHARED.lower()]
    assert len(named) == 1, [(p.id, p.name) for p in named]
    linked = {ref.service for ref in store.refs_for(named[0].id, EntityType.PROJECT)}
    assert linked == set(SERVICES)


def test_a_project_created_while_a_sync_adopts_one_of_its_name_is_one_project(empty_engine: Engine) -> None:
    """`pmtui do` creating "Race launch" on GitLab while a sync imports Notion's "Race launch": the plan
    looked the name up (none), then spent the service's round trip creating it; the sync adopted Notion's
    project meanwhile. Stored apart, the cache then held two projects of that name."""
    from pmtui.models import CreateProject, ExternalRef, Plan, Project

    store = empty_engine.store
    gitlab = empty_engine.integration(Service.GITLAB)
    create = gitlab.create_project
    adopted: list[Project] = []

    def create_while_a_sync_adopts(project: Project, **kwargs: object) -> object:
        notion = ExternalRef(
            entity=EntityType.PROJECT, entity_id="", service=Service.NOTION, external_id="notion-race-1"
        )
        adopted.append(store.adopt_project(Project(name="Race launch"), notion))
        return create(project, **kwargs)  # type: ignore[arg-type]

    gitlab.create_project = create_while_a_sync_adopts  # type: ignore[method-assign]
    outcome = empty_engine.execute(
        Plan(actions=[CreateProject(ref="p", name="Race launch", service=Service.GITLAB)])
    )

    assert adopted, "the sync's adoption ran during the create"
    named = [p for p in store.list_projects() if p.name == "Race launch"]
    assert len(named) == 1, [(p.id, p.name) for p in named]
    linked = {ref.service for ref in store.refs_for(named[0].id, EntityType.PROJECT)}
    assert linked == {Service.GITLAB, Service.NOTION}
    assert [r.entity_id for r in outcome.results] == [named[0].id]


def test_a_recovered_project_create_joins_a_same_named_project_synced_meanwhile(empty_engine: Engine) -> None:
    """The same race through recovery: the process died after GitLab made the milestone; before the next
    start settled that step, a sync imported Notion's project of the same name."""
    from pmtui.models import CreateProject, ExternalRef, Plan, Project

    class Dies(BaseException):
        pass

    store = empty_engine.store
    gitlab = empty_engine.integration(Service.GITLAB)
    real = gitlab.create_project

    def create_then_die(project: Project, **kwargs: object) -> object:
        real(project, **kwargs)  # type: ignore[arg-type]
        raise Dies

    gitlab.create_project = create_then_die  # type: ignore[method-assign]
    plan = Plan(actions=[CreateProject(ref="p", name="Race launch", service=Service.GITLAB)])
    with pytest.raises(Dies):
        empty_engine.execute(plan)
    gitlab.create_project = real  # type: ignore[method-assign]
    notion = ExternalRef(entity=EntityType.PROJECT, entity_id="", service=Service.NOTION, external_id="n-1")
    store.adopt_project(Project(name="Race launch"), notion)
    record = store.request(plan.request_id)
    assert record is not None
    record.pid = 999_999_999  # its process is gone
    store.request_write(record)

    lines = empty_engine.recover()

    assert any("had been committed" in line for line in lines), lines
    named = [p for p in store.list_projects() if p.name == "Race launch"]
    assert len(named) == 1, [(p.id, p.name) for p in named]
    linked = {ref.service for ref in store.refs_for(named[0].id, EntityType.PROJECT)}
    assert linked == {Service.GITLAB, Service.NOTION}
