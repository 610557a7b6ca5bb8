"""A Motion task that links a Linear issue becomes the issue's second reference: the link must lose nothing.

The two items never agreed on anything before pmtui linked them, so a field they hold differently has no
base. The defect (found by a replay that flaked in CI): the link took the local task's values as the
Motion reference's base. Motion's own values then looked like changes the first time the Motion task
changed at all, replacing the issue's due date and priority, and a rename made in Motion before the
link was pushed over by the next Linear rename without a conflict.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.integrations.linear_mapping import PRIORITY_FROM_LINEAR
from pmtui.integrations.motion_mapping import PRIORITY_TO_MOTION
from pmtui.models import Service
from tests.core.conftest import Template, World, restore_sandbox

TWIN = "Fix login redirect loop"
"""The demo's Motion task whose description links Linear's ENG-3 (they agree on every exchanged field)."""

FIELDS = ("name", "priority", "dueDate")
"""The Motion fields a twin exchanges with its issue here (title, priority, due)."""


@contextmanager
def _unlinked(template: Template) -> Iterator[tuple[World, Any, Any, str]]:
    """The demo's emulators as seeded and an empty cache: the next sync makes the link."""
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
        sandbox = restore_sandbox(template, patch)
        motion, linear = sandbox.emulator("motion"), sandbox.emulator("linear")
        twin = next(t["id"] for t in motion.state["tasks"].values() if t["name"] == TWIN)
        with Engine(template.settings, Store(Path(folder) / "c.duckdb")) as engine:
            yield World(sandbox, engine), motion, linear, twin


def _sync(world: World) -> None:
    world.later()
    runs = world.sync(Service.LINEAR, Service.MOTION)
    assert all(run.status == "ok" for run in runs.values()), runs


def _open_fields(world: World) -> set[str]:
    return {c.field for c in world.engine.store.conflicts()}


def _as_motion(linear_priority: float) -> str:
    """A Linear priority as Motion names it."""
    return PRIORITY_TO_MOTION[PRIORITY_FROM_LINEAR[int(linear_priority)]]


def test_a_rename_in_motion_before_the_link_is_never_pushed_over(template: Template) -> None:
    """The replay's race: Kim renamed the twin before the first sync saw it, Sam renamed ENG-3 after."""
    with _unlinked(template) as (world, motion, linear, twin):
        motion.admin_mutate(
            {"op": "update", "kind": "task", "id": twin, "fields": {"name": "Fix SSO login redirect loop"}}
        )
        _sync(world)
        linear.admin_mutate(
            {
                "op": "update",
                "kind": "issue",
                "id": "ENG-3",
                "fields": {"title": "Fix login redirect loop on Safari"},
            }
        )
        _sync(world)
        _sync(world)
        assert motion.state["tasks"][twin]["name"] == "Fix SSO login redirect loop"
        assert world.linear_issue("ENG-3")["title"] == "Fix login redirect loop on Safari"
        assert _open_fields(world) == {"title"}


def test_a_change_in_motion_after_the_link_brings_only_itself(template: Template) -> None:
    """The twin's first change after the link is a rename: ENG-3's due date and priority stay its own."""
    with _unlinked(template) as (world, motion, _linear, twin):
        motion.admin_mutate({"op": "update", "kind": "task", "id": twin, "fields": {"priority": "LOW"}})
        _sync(world)
        before = world.linear_issue("ENG-3")
        motion.admin_mutate(
            {"op": "update", "kind": "task", "id": twin, "fields": {"name": "Fix SSO login redirect loop"}}
        )
        _sync(world)
        _sync(world)
        after = world.linear_issue("ENG-3")
        assert after["title"] == "Fix SSO login redirect loop"
        assert (after["priority"], after["dueDate"]) == (before["priority"], before["dueDate"])
        assert motion.state["tasks"][twin]["priority"] == "LOW"
        assert _open_fields(world) == {"priority"}


_DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

motion_values = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from([TWIN, "Fix SSO login redirect loop", "Login loop (Safari)"]),
        "priority": st.sampled_from(["ASAP", "HIGH", "MEDIUM", "LOW"]),
        "dueDate": st.sampled_from([1, 2, -1]).map(lambda d: (_DAY + timedelta(days=d)).isoformat()),
    },
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before_link=motion_values, later=st.sampled_from(["linear", "motion", "both"]))
def test_linking_twins_that_disagree_loses_nothing(
    template: Template, before_link: dict[str, Any], later: str
) -> None:
    """Whatever the twin held when it was linked, and whichever side is renamed next: after the syncs,
    each field both sides exchange is either the same on both, or differs with an open conflict on it,
    and neither side has lost a value it held to the other without one."""
    with _unlinked(template) as (world, motion, linear, twin):
        if before_link:
            motion.admin_mutate({"op": "update", "kind": "task", "id": twin, "fields": before_link})
        _sync(world)
        held = {
            "motion": {k: motion.state["tasks"][twin][k] for k in FIELDS},
            "linear": world.linear_issue("ENG-3"),
        }
        if later in ("linear", "both"):
            linear.admin_mutate(
                {"op": "update", "kind": "issue", "id": "ENG-3", "fields": {"title": "Renamed by Sam"}}
            )
            held["linear"] = world.linear_issue("ENG-3")
        if later in ("motion", "both"):
            motion.admin_mutate(
                {"op": "update", "kind": "task", "id": twin, "fields": {"name": "Renamed by Kim"}}
            )
            held["motion"]["name"] = "Renamed by Kim"
        _sync(world)
        _sync(world)
        task = next(t for t in world.engine.store.find_tasks("ENG-3") if t.title)
        conflicted = {c.field for c in world.engine.store.conflicts(task_id=task.id)}
        now_motion, now_linear = motion.state["tasks"][twin], world.linear_issue("ENG-3")
        pairs = {
            "title": (
                now_motion["name"],
                now_linear["title"],
                held["motion"]["name"],
                held["linear"]["title"],
            ),
            "priority": (
                now_motion["priority"],
                _as_motion(now_linear["priority"]),
                held["motion"]["priority"],
                _as_motion(held["linear"]["priority"]),
            ),
            "due": (
                _day(now_motion["dueDate"]),
                now_linear["dueDate"],
                _day(held["motion"]["dueDate"]),
                held["linear"]["dueDate"],
            ),
        }
        for name, (motion_now, linear_now, motion_held, linear_held) in pairs.items():
            if name in conflicted:
                assert (motion_now, linear_now) == (motion_held, linear_held), name  # neither side written
            else:
                assert motion_now == linear_now, (name, motion_now, linear_now)
                assert motion_now in (motion_held, linear_held), name  # one side's value, not an invention
        if "title" not in conflicted and later == "both":
            raise AssertionError("both sides renamed the task differently, and no conflict was filed")


def _day(value: str | None) -> str | None:
    return None if value is None else value[:10]
