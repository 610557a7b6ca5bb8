"""Notion's incremental window against the emulator: exact (no overlap page), and no edit lost at a minute.

Notion rounds ``last_edited_time`` down to the minute, so two edits of a page in the same minute carry the
same stamp. These scenarios put edits in the same minute as the listing that read the page before, and
count the list requests a round of changes costs against ceil(changed / 100).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from pmtui.models import Service, Task
from tests.core.conftest import World

QUERY = "POST /v1/data_sources/:data_source_id/query"


@pytest.fixture
def frozen(world: World) -> Iterator[World]:
    """The emulator's clock stopped at 10 s past a whole minute (unfrozen after, for the module's others)."""
    clock = world.sandbox.clock
    minute = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=2)
    clock.set(minute + timedelta(seconds=10), frozen=True)
    try:
        yield world
    finally:
        clock.unfreeze()


def _retitle(world: World, page_id: str, title: str) -> None:
    notion = world.sandbox.emulator("notion")
    notion.admin_mutate({"op": "update", "kind": "page", "id": page_id, "fields": {"Name": title}})


def _local(world: World, page_id: str) -> Task:
    ref = world.engine.store.ref_by_external(Service.NOTION, page_id)
    assert ref is not None, page_id
    task = world.engine.store.get_task(ref.entity_id)
    assert task is not None
    return task


def _notion_pages(world: World, count: int) -> list[str]:
    notion = world.sandbox.emulator("notion")
    data_source = notion.config_hints()["tasks_data_source_id"]
    return list(notion.state["data_sources"][data_source]["page_ids"])[:count]


def test_an_edit_in_the_same_minute_as_the_last_read_is_not_missed(frozen: World) -> None:
    world = frozen
    first, other = _notion_pages(world, 2)
    _retitle(world, first, "First edit")  # stamped minute M, read at M:10 below
    assert world.sync(Service.NOTION)[Service.NOTION].status == "ok"
    assert _local(world, first).title == "First edit"

    world.later(30)  # M:40: same minute, so the same last_edited_time as the read above
    _retitle(world, first, "Second edit")
    _retitle(world, other, "Edited at M:40")
    world.later(5)
    run = world.sync(Service.NOTION)[Service.NOTION]
    assert run.status == "ok", run.error
    assert _local(world, first).title == "Second edit"
    assert _local(world, other).title == "Edited at M:40"

    world.later(10)  # M:55, then a sync two minutes later
    _retitle(world, first, "Third edit")
    world.later(120)
    world.sandbox.reset_counts()
    run = world.sync(Service.NOTION)[Service.NOTION]
    assert run.status == "ok", run.error
    assert _local(world, first).title == "Third edit"
    assert run.pulled == 1  # what was read before and did not change again is not merged twice
    assert world.sandbox.request_counts()["notion"][QUERY] == 1


def test_rounds_of_changes_cost_exactly_ceil_changed_over_100_list_requests(world: World) -> None:
    """The benchmark's 1 % rounds: a quiet sync, a change of 150 other pages, a sync one second later."""
    notion = world.sandbox.emulator("notion")
    assert world.sync(Service.NOTION)[Service.NOTION].status == "ok"  # whatever the template left
    world.later()
    created = [
        notion.admin_mutate({"op": "create", "kind": "page", "fields": {"Name": f"Bulk {i}"}})["id"]
        for i in range(300)
    ]
    world.later(1)
    world.sandbox.reset_counts()
    run = world.sync(Service.NOTION)[Service.NOTION]
    assert run.status == "ok", run.error
    assert run.pulled == 300
    assert world.sandbox.request_counts()["notion"][QUERY] == 3
    for round_ in range(2):
        world.later()
        assert world.sync(Service.NOTION)[Service.NOTION].status == "ok"  # the quiet sync in between
        world.later()
        changed = created[150 * round_ : 150 * (round_ + 1)]
        for page_id in changed:
            _retitle(world, page_id, f"Round {round_} {page_id[:6]}")
        world.later(1)
        world.sandbox.reset_counts()
        run = world.sync(Service.NOTION)[Service.NOTION]
        assert run.status == "ok", run.error
        assert run.pulled == 150
        assert world.sandbox.request_counts()["notion"][QUERY] == 2, round_
        assert {_local(world, p).title for p in changed[:3]} == {
            f"Round {round_} {p[:6]}" for p in changed[:3]
        }
