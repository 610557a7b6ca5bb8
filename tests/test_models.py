"""The canonical models accept good data and reject bad data with a useful message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from pmtui.models import (
    Action,
    CompleteTask,
    CreateProject,
    CreateTask,
    Plan,
    Priority,
    Status,
    Task,
    TaskChanges,
)


def test_task_defaults_and_cleaning() -> None:
    task = Task(title="  Fix login  ", labels=["bug", " bug", "", "ui"])
    assert task.title == "Fix login"
    assert task.labels == ["bug", "ui"]
    assert task.status is Status.TODO
    assert task.priority is Priority.NONE
    assert task.created_at.tzinfo is not None
    assert len(task.id) == 32


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "   "}, "title must not be blank"),
        ({"title": "x", "status": "doing"}, "Input should be 'todo'"),
        ({"title": "x", "priority": "p9"}, "Input should be 'none'"),
        ({"title": "x", "due": datetime(2026, 11, 24, 9, 0)}, "timezone-aware"),  # noqa: DTZ001
        ({"title": "x", "duration_minutes": 0}, "greater than 0"),
        ({"title": "x", "surprise": 1}, "Extra inputs are not permitted"),
        (
            {
                "title": "x",
                "scheduled_start": datetime(2026, 1, 2, tzinfo=UTC),
                "scheduled_end": datetime(2026, 1, 1, tzinfo=UTC),
            },
            "scheduled_end is before scheduled_start",
        ),
    ],
)
def test_task_rejects_bad_input(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Task(**fields)  # type: ignore[arg-type]


def test_aware_datetimes_are_stored_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    task = Task(title="x", due=datetime(2026, 11, 24, 23, 30, tzinfo=berlin), due_all_day=False)
    assert task.due == datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
    assert task.due is not None
    assert task.due.utcoffset() == timedelta(0)


def test_due_day_respects_all_day_and_time_zone() -> None:
    tokyo = timezone(timedelta(hours=9))
    timed = Task(title="x", due=datetime(2026, 11, 24, 20, 0, tzinfo=UTC), due_all_day=False)
    assert str(timed.due_day(tokyo)) == "2026-11-25"
    assert str(timed.due_day(UTC)) == "2026-11-24"
    all_day = Task(title="x", due=datetime(2026, 11, 24, tzinfo=UTC), due_all_day=True)
    assert str(all_day.due_day(tokyo)) == "2026-11-24"
    assert Task(title="x").due_day() is None


def test_action_union_discriminates_on_type() -> None:
    adapter = TypeAdapter(Action)
    action = adapter.validate_python({"type": "complete_task", "task": "ENG-123"})
    assert isinstance(action, CompleteTask)
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        adapter.validate_python({"type": "explode", "task": "x"})
    with pytest.raises(ValidationError, match="task"):
        adapter.validate_python({"type": "complete_task"})


def test_plan_orders_by_dependencies_and_rejects_unknown_refs() -> None:
    project = CreateProject(ref="p", name="Q1 launch")
    spec = CreateTask(ref="a", title="spec", project="p", after=["p"])
    api = CreateTask(ref="b", title="API", project="p", after=["p", "a"])
    plan = Plan(actions=[api, spec, project])
    assert [a.ref for a in plan.ordered()] == ["p", "a", "b"]
    with pytest.raises(ValidationError, match="depends on unknown q"):
        Plan(actions=[CreateTask(ref="a", title="x", after=["q"])])
    with pytest.raises(ValidationError, match="share a ref"):
        Plan(actions=[CreateTask(ref="a", title="x"), CreateTask(ref="a", title="y")])


def test_plan_cycle_is_reported() -> None:
    plan = Plan(
        actions=[CreateTask(ref="a", title="x", after=["b"]), CreateTask(ref="b", title="y", after=["a"])]
    )
    with pytest.raises(ValueError, match="cycle"):
        plan.ordered()


def test_plan_round_trips_through_json() -> None:
    plan = Plan(
        text="new project X", actions=[CreateProject(ref="p", name="X"), CreateTask(title="a", after=["p"])]
    )
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again == plan
    assert isinstance(again.actions[1], CreateTask)


def test_task_changes_emptiness() -> None:
    assert TaskChanges().is_empty()
    assert not TaskChanges(priority=Priority.HIGH).is_empty()
    assert not TaskChanges(clear=["due"]).is_empty()
