"""The three-way merge: a table of single-field cases, whole-task cases, and properties over random states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtui.core.merge import (
    BLANK_BASE,
    CONFLICT_ASK,
    FieldConflict,
    MergeResult,
    TaskOutcome,
    canonical_value,
    changed_fields,
    merge_fields,
    merge_task_states,
    same_value,
)
from pmtui.models import SYNCED_TASK_FIELDS, ConflictPolicy, Priority, Service, Status, Task

T1 = "2026-11-24T09:00:00Z"
T1_PLUS00 = "2026-11-24T09:00:00+00:00"
T1_BERLIN = "2026-11-24T10:00:00+01:00"
T2 = "2026-11-25T09:00:00Z"
T2_TOKYO = "2026-11-25T18:00:00+09:00"
T3 = "2026-11-26T17:30:00Z"

EARLY = datetime(2026, 11, 24, 8, tzinfo=UTC)
LATE = EARLY + timedelta(hours=1)
MISSING: Any = object()
"""A field absent from base (first sync)."""


# (name, field, base, local, remote, policy, merged, writes). ``policy`` "newest:remote" means the newest
# policy with remote updated later ("newest:tie": same time, bare "newest": times unknown); ``writes`` is
# where the merged value goes: "push" (service), "store" (local cache), "both", "-" or "conflict".
CASES: list[tuple[str, str, Any, Any, Any, str, Any, str]] = [
    ("title unchanged", "title", "a", "a", "a", "ask", "a", "-"),
    ("title local edit", "title", "a", "b", "a", "ask", "b", "push"),
    ("title remote edit", "title", "a", "a", "b", "ask", "b", "store"),
    ("title same edit", "title", "a", "b", "b", "ask", "b", "-"),
    ("title conflict ask", "title", "a", "b", "c", "ask", "b", "conflict"),
    ("title prefer-local", "title", "a", "b", "c", "prefer-local", "b", "push"),
    ("title prefer-remote", "title", "a", "b", "c", "prefer-remote", "c", "store"),
    ("title newest remote", "title", "a", "b", "c", "newest:remote", "c", "store"),
    ("title newest local", "title", "a", "b", "c", "newest:local", "b", "push"),
    ("title newest tie asks", "title", "a", "b", "c", "newest:tie", "b", "conflict"),
    ("title newest unknown asks", "title", "a", "b", "c", "newest", "b", "conflict"),
    ("title no base, differ", "title", MISSING, "b", "c", "ask", "b", "conflict"),
    ("title no base, prefer-local", "title", MISSING, "b", "c", "prefer-local", "b", "push"),
    ("description None is empty", "description", "", None, "", "ask", "", "-"),
    ("description local cleared", "description", "x", None, "x", "ask", "", "push"),
    ("description edit vs clear", "description", "x", "y", "", "ask", "y", "conflict"),
    ("description no base, remote only", "description", MISSING, "", "notes", "ask", "notes", "store"),
    ("due Z equals +00:00", "due", T1, T1_PLUS00, T1, "ask", T1, "-"),
    ("due offset is the same instant", "due", T1, T1_BERLIN, T1, "ask", T1, "-"),
    ("due remote moved", "due", T1, T1_BERLIN, T2, "ask", T2, "store"),
    ("due local cleared", "due", T1, None, T1, "ask", None, "push"),
    ("due both moved apart", "due", T1, T2, T3, "ask", T2, "conflict"),
    ("due both moved to one instant", "due", T1, T2, T2_TOKYO, "ask", T2, "-"),
    ("due no base, local only", "due", MISSING, T1_BERLIN, None, "ask", T1, "push"),
    ("status completed locally", "status", "todo", "done", "todo", "ask", "done", "push"),
    (
        "status reopened remotely, done here",
        "status",
        "in_progress",
        "done",
        "todo",
        "ask",
        "done",
        "conflict",
    ),
    (
        "status reopened, prefer-remote",
        "status",
        "in_progress",
        "done",
        "todo",
        "prefer-remote",
        "todo",
        "store",
    ),
    ("status no base, local default", "status", MISSING, "todo", "done", "ask", "done", "store"),
    ("priority no base, remote set", "priority", MISSING, "none", "high", "ask", "high", "store"),
    ("priority no base, both set", "priority", MISSING, "low", "high", "ask", "low", "conflict"),
    ("due_all_day local edit", "due_all_day", True, False, True, "ask", False, "push"),
    ("duration remote edit", "duration_minutes", 30, 30, 45, "ask", 45, "store"),
    ("duration both set, newest", "duration_minutes", None, 30, 60, "newest:remote", 60, "store"),
    ("labels reordered", "labels", ["a", "b"], ["b", "a"], ["a", "b"], "ask", ["b", "a"], "-"),
    ("labels added on both sides", "labels", ["a"], ["a", "b"], ["a", "c"], "ask", ["a", "b", "c"], "both"),
    (
        "labels removed here, added there",
        "labels",
        ["a", "b"],
        ["b"],
        ["a", "b", "c"],
        "ask",
        ["b", "c"],
        "both",
    ),
    ("labels both removed the same", "labels", ["a", "b"], ["a"], ["a"], "ask", ["a"], "-"),
    ("labels no base, union", "labels", MISSING, ["x"], ["y"], "ask", ["x", "y"], "both"),
    ("labels ignore policy", "labels", ["a"], ["a", "b"], ["c"], "prefer-remote", ["b", "c"], "both"),
    ("labels None is empty", "labels", [], None, [], "ask", [], "-"),
    ("project None vs empty, no base", "project_id", MISSING, None, "", "ask", None, "-"),
    ("assignee no base, remote only", "assignee", MISSING, None, "ana", "ask", "ana", "store"),
    ("milestone both changed", "milestone_id", "m1", "m2", "m3", "ask", "m2", "conflict"),
]


def _merge_one(field: str, base: Any, local: Any, remote: Any, policy: str) -> MergeResult:
    """Merge a single field; ``policy`` may carry which side was updated later (see CASES)."""
    name, _, newer = policy.partition(":")
    local_at = {"local": LATE, "remote": EARLY, "tie": EARLY}.get(newer)
    remote_at = {"local": EARLY, "remote": LATE, "tie": EARLY}.get(newer)
    return merge_fields(
        {} if base is MISSING else {field: base},
        {field: local},
        {field: remote},
        policies={field: name},
        local_updated_at=local_at,
        remote_updated_at=remote_at,
        fields=(field,),
    )


@pytest.mark.parametrize(
    ("field", "base", "local", "remote", "policy", "merged", "writes"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_merge_one_field(
    field: str, base: Any, local: Any, remote: Any, policy: str, merged: Any, writes: str
) -> None:
    result = _merge_one(field, base, local, remote, policy)
    assert result.merged == {field: merged}
    assert (field in result.to_push) is (writes in ("push", "both"))
    assert (field in result.to_store) is (writes in ("store", "both"))
    assert bool(result.conflicts) is (writes == "conflict")
    if result.conflicts:
        assert result.conflicts[0] == FieldConflict(
            field,
            BLANK_BASE[field] if base is MISSING else canonical_value(field, base),
            canonical_value(field, local),
            canonical_value(field, remote),
        )


@pytest.mark.parametrize(
    ("field", "base", "local", "remote", "policy", "decision"),
    [
        ("title", "a", "a", "a", "ask", "unchanged"),
        ("title", "a", "b", "a", "ask", "local changed"),
        ("title", "a", "a", "b", "ask", "remote changed"),
        ("title", "a", "b", "b", "ask", "both changed to the same value"),
        ("title", "a", "b", "c", "ask", "conflict -> ask"),
        ("title", "a", "b", "c", "prefer-local", "conflict -> prefer-local by policy"),
        ("title", "a", "b", "c", "prefer-remote", "conflict -> prefer-remote by policy"),
        ("title", "a", "b", "c", "newest:local", "conflict -> newest: local updated later"),
        ("title", "a", "b", "c", "newest:remote", "conflict -> newest: remote updated later"),
        ("title", "a", "b", "c", "newest:tie", "conflict -> ask (newest: same or unknown updated_at)"),
        ("labels", ["a"], ["b"], ["c"], "ask", "both changed: sets merged"),
        ("title", MISSING, "b", "c", "ask", "conflict -> ask (no base)"),
        ("description", MISSING, "", "notes", "ask", "remote changed (no base)"),
        ("project_id", MISSING, None, "", "ask", "unchanged (no base)"),
    ],
)
def test_decisions_explain_each_field(
    field: str, base: Any, local: Any, remote: Any, policy: str, decision: str
) -> None:
    assert _merge_one(field, base, local, remote, policy).decisions == {field: decision}


def test_full_task_merge_writes_each_side_only_what_it_lacks() -> None:
    base = Task(id="t", title="Fix login", labels=["bug"], due=datetime(2026, 11, 24, tzinfo=UTC))
    local = base.model_copy(update={"status": Status.DONE, "labels": ["bug", "ui"]})
    remote = base.model_copy(update={"title": "Fix login redirect", "labels": ["bug", "p1"]})
    dump = _synced
    result = merge_fields(dump(base), dump(local), dump(remote))
    assert result.merged["status"] == "done"
    assert result.merged["title"] == "Fix login redirect"
    assert result.to_push == {"status": "done", "labels": ["bug", "ui", "p1"]}
    assert result.to_store == {"title": "Fix login redirect", "labels": ["bug", "ui", "p1"]}
    assert result.conflicts == []
    # The base is what the service holds now: the local-only changes still differ from it, so the push
    # sends them (and only a confirmed push advances it). Issue #18: a base of `merged` dropped them.
    assert result.next_base == {name: canonical_value(name, value) for name, value in dump(remote).items()}
    assert {n for n, v in result.next_base.items() if v != result.merged[n]} == set(result.to_push)


def test_a_conflicted_field_keeps_its_old_base_and_an_absent_base_stays_absent() -> None:
    result = merge_fields(
        {"title": "a"},
        {"title": "b", "priority": "low"},
        {"title": "c", "priority": "high"},
        fields=("title", "priority"),
    )
    assert result.conflicted_fields == ("title", "priority")
    assert result.next_base == {"title": "a"}
    assert result.to_push == result.to_store == {}
    assert result.conflicts[1] == FieldConflict("priority", "none", "low", "high")


def test_field_conflict_becomes_a_stored_conflict() -> None:
    stored = FieldConflict("title", "a", "b", "c").to_conflict(task_id="t1", service=Service.LINEAR)
    assert (stored.task_id, stored.service, stored.field) == ("t1", Service.LINEAR, "title")
    assert (stored.base, stored.local, stored.remote) == ("a", "b", "c")


def test_policies_accept_enums_and_missing_sides_read_as_empty() -> None:
    result = merge_fields(
        {"title": "a", "assignee": "ana"},
        {"title": "b"},
        {"title": "c", "assignee": "ana"},
        policies={"title": ConflictPolicy.PREFER_REMOTE},
        fields=("title", "assignee"),
    )
    assert result.merged == {"title": "c", "assignee": None}
    assert result.to_push == {"assignee": None}


@pytest.mark.parametrize(
    ("field", "value", "canonical"),
    [
        ("due", datetime(2026, 11, 24, 10, tzinfo=UTC), "2026-11-24T10:00:00Z"),
        ("due", T1_BERLIN, T1),
        ("due", "", None),
        ("status", Status.DONE, "done"),
        ("priority", Priority.HIGH, "high"),
        ("labels", [" a", "b", "a", ""], ["a", "b"]),
        ("description", None, ""),
        ("assignee", "", None),
    ],
)
def test_canonical_value(field: str, value: Any, canonical: Any) -> None:
    assert canonical_value(field, value) == canonical


def test_canonical_matches_what_a_task_dumps() -> None:
    task = Task(title="x", due=datetime.fromisoformat(T1_BERLIN), labels=["a"], duration_minutes=5)
    dumped = _synced(task)
    assert {name: canonical_value(name, value) for name, value in dumped.items()} == dumped


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("due", "2026-11-24T09:00:00", "timezone-aware"), ("kind", "code", "not a synced task field")],
)
def test_canonical_value_rejects(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        canonical_value(field, value)


# ------------------------------------------------------------------------------------------ whole task


def _synced(task: Task) -> dict[str, Any]:
    return task.model_dump(mode="json", include=set(SYNCED_TASK_FIELDS))


BASE = _synced(Task(title="Write guide", due=datetime.fromisoformat(T1), labels=["docs"]))
EDITED = {**BASE, "title": "Write the guide"}
COMPLETED = {**BASE, "status": "done"}
NOISY = {**BASE, "due": T1_BERLIN, "description": None}
"""Same meaning as BASE, different spelling: not an edit."""


@pytest.mark.parametrize(
    ("base", "local", "remote", "outcome", "edited"),
    [
        pytest.param(BASE, EDITED, BASE, TaskOutcome.MERGE, (), id="both present"),
        pytest.param(BASE, None, None, TaskOutcome.FORGET, (), id="deleted on both sides"),
        pytest.param({}, None, None, TaskOutcome.FORGET, (), id="nothing anywhere"),
        pytest.param({}, BASE, None, TaskOutcome.CREATE_REMOTE, (), id="new locally"),
        pytest.param(None, None, BASE, TaskOutcome.CREATE_LOCAL, (), id="new remotely"),
        pytest.param(BASE, NOISY, None, TaskOutcome.DELETE_LOCAL, (), id="deleted remotely, untouched here"),
        pytest.param(
            BASE, EDITED, None, TaskOutcome.DELETED_REMOTELY, ("title",), id="deleted remotely, edited"
        ),
        pytest.param(
            BASE, COMPLETED, None, TaskOutcome.DELETED_REMOTELY, ("status",), id="deleted, completed"
        ),
        pytest.param(BASE, None, NOISY, TaskOutcome.DELETE_REMOTE, (), id="deleted locally, untouched there"),
        pytest.param(
            BASE, None, EDITED, TaskOutcome.DELETED_LOCALLY, ("title",), id="deleted locally, edited"
        ),
    ],
)
def test_task_states(
    base: dict[str, Any] | None,
    local: dict[str, Any] | None,
    remote: dict[str, Any] | None,
    outcome: TaskOutcome,
    edited: tuple[str, ...],
) -> None:
    decision = merge_task_states(base, local, remote)
    assert decision.outcome is outcome
    assert decision.edited == edited
    assert decision.outcome.is_conflict is bool(edited)
    assert (decision.fields is not None) is (outcome is TaskOutcome.MERGE)


@pytest.mark.parametrize(
    ("local", "remote", "push", "store", "conflicts"),
    [
        pytest.param(
            COMPLETED, EDITED, {"status": "done"}, {"title": "Write the guide"}, (), id="done + edit"
        ),
        pytest.param(
            {**BASE, "labels": ["docs", "q4"]},
            {**BASE, "status": "canceled"},
            {"labels": ["docs", "q4"]},
            {"status": "canceled"},
            (),
            id="edit + canceled",
        ),
        pytest.param(
            {**BASE, "status": "done", "title": "Guide"},
            {**BASE, "status": "in_progress"},
            {"title": "Guide"},
            {},
            ("status",),
            id="done here, reopened there",
        ),
    ],
)
def test_completion_and_edits_both_apply(
    local: dict[str, Any],
    remote: dict[str, Any],
    push: dict[str, Any],
    store: dict[str, Any],
    conflicts: tuple[str, ...],
) -> None:
    decision = merge_task_states(BASE, local, remote)
    assert decision.fields is not None
    assert decision.fields.to_push == push
    assert decision.fields.to_store == store
    assert decision.fields.conflicted_fields == conflicts


def test_fields_narrow_what_is_merged_and_what_counts_as_an_edit() -> None:
    described = {**BASE, "description": "local notes"}
    decision = merge_task_states(BASE, described, None, fields=("title", "status"))
    assert decision.outcome is TaskOutcome.DELETE_LOCAL
    merged = merge_task_states(BASE, described, BASE, fields=("title",))
    assert merged.fields is not None
    assert merged.fields.merged == {"title": "Write guide"}


# ------------------------------------------------------------------------------------------ properties

TEXT = [None, "", "x", "y"]
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "title": st.sampled_from(["a", "b", "c"]),
    "description": st.sampled_from(TEXT),
    "status": st.sampled_from([s.value for s in Status]),
    "priority": st.sampled_from([p.value for p in Priority]),
    "due": st.sampled_from([None, T1, T1_PLUS00, T1_BERLIN, T2, T2_TOKYO, T3]),
    "due_all_day": st.booleans(),
    "duration_minutes": st.sampled_from([None, 15, 30]),
    "labels": st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True, max_size=4),
    "project_id": st.sampled_from(TEXT),
    "milestone_id": st.sampled_from(TEXT),
    "assignee": st.sampled_from(TEXT),
}
TIMES = st.sampled_from([None, EARLY, LATE, LATE + timedelta(minutes=1)])
POLICIES = st.fixed_dictionaries(
    {}, optional={name: st.sampled_from(list(ConflictPolicy)) for name in VALUES}
)
SWAP = {
    ConflictPolicy.PREFER_LOCAL: ConflictPolicy.PREFER_REMOTE,
    ConflictPolicy.PREFER_REMOTE: ConflictPolicy.PREFER_LOCAL,
}


@dataclass(frozen=True)
class State:
    base: dict[str, Any]
    local: dict[str, Any]
    remote: dict[str, Any]
    policies: dict[str, ConflictPolicy]
    local_at: datetime | None
    remote_at: datetime | None

    def merge(self) -> MergeResult:
        return merge_fields(
            self.base,
            self.local,
            self.remote,
            policies=self.policies,
            local_updated_at=self.local_at,
            remote_updated_at=self.remote_at,
        )

    def effective_base(self, name: str) -> Any:
        return self.base[name] if name in self.base else BLANK_BASE[name]


@st.composite
def states(draw: st.DrawFn) -> State:
    """A base (sometimes partial or empty) and two sides that each keep or change every field."""
    full = draw(st.booleans())
    base = {name: draw(values) for name, values in VALUES.items() if full or draw(st.booleans())}

    def side() -> dict[str, Any]:
        return {
            name: (base.get(name, BLANK_BASE[name]) if draw(st.booleans()) else draw(values))
            for name, values in VALUES.items()
        }

    return State(base, side(), side(), draw(POLICIES), draw(TIMES), draw(TIMES))


PROPERTY = settings(max_examples=400, deadline=None)


@PROPERTY
@given(states())
def test_a_change_on_one_side_is_never_lost(state: State) -> None:
    """Exactly one side changed a field since base: the merged value is that side's, written to the other."""
    result = state.merge()
    for name in SYNCED_TASK_FIELDS:
        base = state.effective_base(name)
        local_changed = not same_value(name, base, state.local[name])
        remote_changed = not same_value(name, base, state.remote[name])
        if local_changed and not remote_changed:
            assert same_value(name, result.merged[name], state.local[name])
            assert name in result.to_push
            assert name not in result.to_store
        if remote_changed and not local_changed:
            assert same_value(name, result.merged[name], state.remote[name])
            assert name in result.to_store
            assert name not in result.to_push


@PROPERTY
@given(states())
def test_a_true_conflict_follows_its_policy_and_overwrites_nothing_while_open(state: State) -> None:
    """Both changed differently (not labels): ask, or newest without a later side, opens a conflict that
    keeps the local value and writes nowhere; prefer-local/prefer-remote/newest pick the named side."""
    result = state.merge()
    conflicted = set(result.conflicted_fields)
    for name in SYNCED_TASK_FIELDS:
        base, local, remote = state.effective_base(name), state.local[name], state.remote[name]
        both = not same_value(name, base, local) and not same_value(name, base, remote)
        if name == "labels" or not both or same_value(name, local, remote):
            assert name not in conflicted
            continue
        policy = state.policies.get(name, ConflictPolicy.ASK)
        later = None
        if state.local_at and state.remote_at and state.local_at != state.remote_at:
            later = "local" if state.local_at > state.remote_at else "remote"
        if policy is ConflictPolicy.PREFER_LOCAL or (policy is ConflictPolicy.NEWEST and later == "local"):
            winner = local
        elif policy is ConflictPolicy.PREFER_REMOTE or (
            policy is ConflictPolicy.NEWEST and later == "remote"
        ):
            winner = remote
        else:
            assert name in conflicted
            assert same_value(name, result.merged[name], local)
            assert name not in result.to_push
            assert name not in result.to_store
            assert result.decisions[name].startswith(CONFLICT_ASK) or "newest" in result.decisions[name]
            continue
        assert name not in conflicted
        assert same_value(name, result.merged[name], winner)


@PROPERTY
@given(states())
def test_labels_apply_both_sides_set_differences(state: State) -> None:
    """merged == (local & remote) | ((local | remote) - base): every label either side added is kept,
    every label either side removed is gone, labels neither touched stay as they were; never a conflict."""
    result = state.merge()
    base = set(canonical_value("labels", state.effective_base("labels")))
    local, remote = set(state.local["labels"]), set(state.remote["labels"])
    assert set(result.merged["labels"]) == (local & remote) | ((local | remote) - base)
    assert len(result.merged["labels"]) == len(set(result.merged["labels"]))
    assert "labels" not in result.conflicted_fields


@PROPERTY
@given(states())
def test_merging_is_symmetric_under_swapping_sides(state: State) -> None:
    """Swapping local/remote (and prefer-local/prefer-remote, and the timestamps) swaps to_push/to_store and
    each conflict's sides, and agrees on every merged value outside conflicts (those keep "local")."""
    result = state.merge()
    swapped = State(
        state.base,
        state.remote,
        state.local,
        {name: SWAP.get(policy, policy) for name, policy in state.policies.items()},
        state.remote_at,
        state.local_at,
    ).merge()
    assert swapped.to_push.keys() == result.to_store.keys()
    assert swapped.to_store.keys() == result.to_push.keys()
    assert [(c.field, c.base, c.local, c.remote) for c in swapped.conflicts] == [
        (c.field, c.base, c.remote, c.local) for c in result.conflicts
    ]
    for name in SYNCED_TASK_FIELDS:
        if name not in result.conflicted_fields:
            assert same_value(name, swapped.merged[name], result.merged[name])


@PROPERTY
@given(states())
def test_merging_is_idempotent_and_converges(state: State) -> None:
    """Merging the result with itself is a no-op; once to_push/to_store are applied and next_base stored,
    a second merge writes nothing and finds exactly the same open conflicts."""
    result = state.merge()
    again = merge_fields(result.merged, result.merged, result.merged)
    assert (again.to_push, again.to_store, again.conflicts) == ({}, {}, [])
    assert again.merged == result.merged
    local = {**state.local, **result.to_store}
    remote = {**state.remote, **result.to_push}
    second = State(result.next_base, local, remote, state.policies, state.local_at, state.remote_at).merge()
    assert second.to_push == second.to_store == {}
    assert second.conflicts == result.conflicts
    assert second.merged == result.merged


@PROPERTY
@given(states())
def test_merged_values_are_canonical(state: State) -> None:
    result = state.merge()
    for name, value in result.merged.items():
        assert canonical_value(name, value) == value


@PROPERTY
@given(states(), st.booleans(), st.booleans())
def test_task_states_never_delete_an_edit_and_are_symmetric(
    state: State, local_gone: bool, remote_gone: bool
) -> None:
    """A side edited since base is never deleted without asking; swapping sides swaps the outcome."""
    local = None if local_gone else state.local
    remote = None if remote_gone else state.remote
    outcome = merge_task_states(state.base, local, remote).outcome
    if local is not None and state.base and changed_fields(state.base, local):
        assert outcome is not TaskOutcome.DELETE_LOCAL
    if remote is not None and state.base and changed_fields(state.base, remote):
        assert outcome is not TaskOutcome.DELETE_REMOTE
    mirror = {
        TaskOutcome.CREATE_LOCAL: TaskOutcome.CREATE_REMOTE,
        TaskOutcome.DELETE_LOCAL: TaskOutcome.DELETE_REMOTE,
        TaskOutcome.DELETED_LOCALLY: TaskOutcome.DELETED_REMOTELY,
    }
    mirror |= {value: key for key, value in mirror.items()}
    assert merge_task_states(state.base, remote, local).outcome is mirror.get(outcome, outcome)
