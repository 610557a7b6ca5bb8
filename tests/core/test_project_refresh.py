"""Projects (GitLab milestones, Linear and Notion projects) are listed again once the cached listing is
older than PROJECTS_REFRESH: a milestone's new due date reaches the cache, and a no-change sync inside the
hour still lists nothing but its tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pmtui.core.sync import PROJECTS_REFRESH
from pmtui.models import EntityType, Service
from tests.core.conftest import World


def _milestone_listings(world: World) -> int:
    counts = world.sandbox.emulator("gitlab").request_counts()
    return sum(v for k, v in counts.items() if k.startswith("GET") and k.rstrip("/").endswith("/milestones"))


def _age_listing(world: World, by: timedelta) -> None:
    world.engine.store._exec(
        "UPDATE sync_cursors SET updated_at = ? WHERE service = 'gitlab' AND resource = 'projects'",
        [datetime.now(UTC) - by],
    )


def test_a_moved_milestone_due_date_arrives_after_the_refresh_interval(world: World) -> None:
    store = world.engine.store
    ref = store.refs_for_service(Service.GITLAB, EntityType.PROJECT)[0]
    gitlab = world.sandbox.emulator("gitlab")
    project = gitlab.state["projects"]["1"]
    milestone = gitlab.state["milestones"][ref.external_id.removeprefix("milestone:")]
    gitlab.update_milestone(project, milestone, {"due_date": "2027-03-31"})
    world.later()

    world.sync(Service.GITLAB)  # inside the hour: tasks only
    assert _milestone_listings(world) == 0
    assert store.find_project(ref.entity_id).due != date(2027, 3, 31)  # type: ignore[union-attr]

    _age_listing(world, PROJECTS_REFRESH + timedelta(minutes=1))
    runs = world.sync(Service.GITLAB)
    assert runs[Service.GITLAB].status == "ok", runs[Service.GITLAB].error
    assert _milestone_listings(world) == 1
    assert store.find_project(ref.entity_id).due == date(2027, 3, 31)  # type: ignore[union-attr]
    listed = store.cursor_updated_at(Service.GITLAB, "projects")
    assert listed is not None
    assert datetime.now(UTC) - listed < timedelta(minutes=1)

    world.sync(Service.GITLAB)  # the listing is fresh again: no second milestone request
    assert _milestone_listings(world) == 1
