"""The three-way merge of one task's synced fields: plain dicts in, a plain decision out.

``base`` is what the local cache and the service agreed on at the last sync (``ExternalRef.base``);
``local`` and ``remote`` are the current canonical dicts (``Task.model_dump(mode="json")`` restricted to
``SYNCED_TASK_FIELDS``). No I/O happens here: the engine applies ``to_push`` / ``to_store`` and records
``conflicts``, so every rule below can be tested by a table.

Per field (after normalising, see :func:`canonical_value`):

=================================  ======================================  =======================
local / remote relative to base    merged value                            written to
=================================  ======================================  =======================
neither changed, or both the same  that value                              nothing
only local changed                 local                                   service
only remote changed                remote                                  local cache
both changed differently, ``ask``  local, plus a :class:`FieldConflict`    nothing
both changed, ``prefer-local``     local                                   service
both changed, ``prefer-remote``    remote                                  local cache
both changed, ``newest``           the side with the later ``updated_at``  the other side
``newest`` with a tie or no time   as ``ask``                              nothing
labels, both changed               both sides' additions and removals      each side that lacks it
=================================  ======================================  =======================

A field missing from ``base`` (first sync, or a base written before the field was synced) is compared
against a blank :class:`~pmtui.models.Task`'s default, so a side that never set the field yields to
a side that did, and a conflict needs both sides to have set different values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any

from pydantic import TypeAdapter

from pmtui.models import SYNCED_TASK_FIELDS, Conflict, ConflictPolicy, Service, Task

_TEXT_FIELDS = frozenset({"title", "description", "project_id", "milestone_id", "assignee"})
_TIME_FIELDS = frozenset({"due"})
_SET_FIELDS = frozenset({"labels"})
_DATETIME_JSON: TypeAdapter[datetime] = TypeAdapter(datetime)

UNCHANGED = "unchanged"
LOCAL_CHANGED = "local changed"
REMOTE_CHANGED = "remote changed"
BOTH_SAME = "both changed to the same value"
SETS_MERGED = "both changed: sets merged"
CONFLICT_ASK = "conflict -> ask"
CONFLICT_PREFER_LOCAL = "conflict -> prefer-local by policy"
CONFLICT_PREFER_REMOTE = "conflict -> prefer-remote by policy"
CONFLICT_NEWEST_LOCAL = "conflict -> newest: local updated later"
CONFLICT_NEWEST_REMOTE = "conflict -> newest: remote updated later"
CONFLICT_NEWEST_UNKNOWN = "conflict -> ask (newest: same or unknown updated_at)"
NO_BASE = " (no base)"
"""Appended to a decision when the field had no base and was compared against the Task default."""


# ----------------------------------------------------------------------------------- normalisation


def _empty_text(name: str) -> str | None:
    # The empty value each text field has on a Task: description is a str, the others optional.
    return "" if name == "description" else None


def _canonical_time(value: Any) -> str | None:
    if value is None or value == "":
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(instant, datetime) or instant.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime or ISO string, got {value!r}")
    return str(_DATETIME_JSON.dump_python(instant.astimezone(UTC), mode="json"))


def _canonical_labels(value: Any) -> list[str]:
    # Label names compare case-insensitively (Linear matches "bug" to its "Bug" and reads back "Bug"):
    # the first spelling of a name is kept, so a service's capitalisation never reads as an edit.
    labels: list[str] = []
    seen: set[str] = set()
    for label in value or ():
        name = str(label).strip()
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            labels.append(name)
    return labels


def canonical_value(name: str, value: Any) -> Any:
    """``value`` of synced field ``name`` in the one form ``Task.model_dump(mode="json")`` would give.

    Services round-trip values loosely (``+02:00`` vs ``Z``, ``None`` vs ``""``, labels reordered);
    comparing canonical forms keeps such noise from reading as an edit.
    """
    if name not in SYNCED_TASK_FIELDS:
        raise ValueError(f"{name!r} is not a synced task field ({', '.join(SYNCED_TASK_FIELDS)})")
    if isinstance(value, Enum):
        value = value.value
    if name in _TEXT_FIELDS:
        return _empty_text(name) if value is None or value == "" else value
    if name in _TIME_FIELDS:
        return _canonical_time(value)
    if name in _SET_FIELDS:
        return _canonical_labels(value)
    return value


def _key(name: str, canonical: Any) -> Any:
    """What equality means for a field: labels compare as sets, everything else as canonical values."""
    return frozenset(label.casefold() for label in canonical) if name in _SET_FIELDS else canonical


def same_value(name: str, left: Any, right: Any) -> bool:
    """True if two values of field ``name`` mean the same (same instant, same label set, ``None == ""``)."""
    return bool(_key(name, canonical_value(name, left)) == _key(name, canonical_value(name, right)))


def _blank_default(name: str) -> Any:
    info = Task.model_fields[name]
    return canonical_value(name, None if info.is_required() else info.get_default(call_default_factory=True))


BLANK_BASE: dict[str, Any] = {name: _blank_default(name) for name in SYNCED_TASK_FIELDS}
"""A blank Task's synced fields: the base of a field that has none (first sync)."""


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class FieldConflict:
    """A field both sides changed differently and no policy settled; nothing is written while open."""

    field: str
    base: Any
    local: Any
    remote: Any

    def to_conflict(self, *, task_id: str, service: Service) -> Conflict:
        """The stored form of this conflict, for the conflicts pane."""
        return Conflict(
            task_id=task_id,
            service=service,
            field=self.field,
            base=self.base,
            local=self.local,
            remote=self.remote,
        )


@dataclass(frozen=True)
class MergeResult:
    """What a three-way merge of one task decided, field by field (all values canonical)."""

    merged: dict[str, Any] = field(default_factory=dict)
    """The agreed value of every merged field; a conflicted field keeps its local value."""
    to_push: dict[str, Any] = field(default_factory=dict)
    """Fields whose merged value differs from the service's: write these to the service."""
    to_store: dict[str, Any] = field(default_factory=dict)
    """Fields whose merged value differs from the local cache's: write these locally."""
    conflicts: list[FieldConflict] = field(default_factory=list)
    """Fields left for the user; they are in neither ``to_push`` nor ``to_store``."""
    decisions: dict[str, str] = field(default_factory=dict)
    """Per field, why it got its value ("remote changed", "conflict -> ask", ...)."""
    next_base: dict[str, Any] = field(default_factory=dict)
    """The base to store now: what the service holds (its value, read in this merge), so a field only
    the local side changed still differs from the base until a push confirms it; the push then
    advances the base to what the service reads back. Conflicted fields keep their old base (or stay
    absent), so the conflict is seen again next sync instead of silently turning into an edit."""

    @property
    def conflicted_fields(self) -> tuple[str, ...]:
        """The names of the fields in conflict, in merge order."""
        return tuple(conflict.field for conflict in self.conflicts)


# ------------------------------------------------------------------------------------------- fields


def _newer(local_at: datetime | None, remote_at: datetime | None) -> str | None:
    """``"local"`` or ``"remote"`` for the later timestamp; ``None`` on a tie or a missing time."""
    if local_at is None or remote_at is None or local_at == remote_at:
        return None
    return "local" if local_at > remote_at else "remote"


def _resolve_by_policy(
    policy: ConflictPolicy, local_at: datetime | None, remote_at: datetime | None
) -> tuple[str | None, str]:
    """Which side a policy picks for a true conflict (``None`` = ask the user), and the decision text."""
    if policy is ConflictPolicy.PREFER_LOCAL:
        return "local", CONFLICT_PREFER_LOCAL
    if policy is ConflictPolicy.PREFER_REMOTE:
        return "remote", CONFLICT_PREFER_REMOTE
    if policy is ConflictPolicy.NEWEST:
        side = _newer(local_at, remote_at)
        if side is None:
            return None, CONFLICT_NEWEST_UNKNOWN
        return side, CONFLICT_NEWEST_LOCAL if side == "local" else CONFLICT_NEWEST_REMOTE
    return None, CONFLICT_ASK


def _merge_labels(base: list[str], local: list[str], remote: list[str]) -> list[str]:
    """Apply both sides' additions and removals relative to ``base``.

    A label kept iff (in both sides) or (new relative to base on either side): a label untouched by a
    side is in that side exactly when it is in base, so no label can be "added" by one side and
    "removed" by the other, and the set merge never conflicts. Order: local's, then remote's additions.
    """
    fold = str.casefold
    base_set, local_set = {fold(x) for x in base}, {fold(x) for x in local}
    remote_set = {fold(x) for x in remote}
    keep = (local_set & remote_set) | ((local_set | remote_set) - base_set)
    return [x for x in local if fold(x) in keep] + [
        x for x in remote if fold(x) in keep and fold(x) not in local_set
    ]


def merge_fields(
    base: Mapping[str, Any],
    local: Mapping[str, Any],
    remote: Mapping[str, Any],
    *,
    policies: Mapping[str, ConflictPolicy | str] | None = None,
    local_updated_at: datetime | None = None,
    remote_updated_at: datetime | None = None,
    fields: Iterable[str] = SYNCED_TASK_FIELDS,
) -> MergeResult:
    """Three-way merge of one task's synced fields; see the module docstring for the rules.

    ``policies`` maps a field to its conflict policy (``SyncSettings.conflict_policy``; default ask).
    ``fields`` narrows the merge to what a service carries (e.g. descriptions only with the origin);
    a field missing from ``local`` or ``remote`` reads as empty.
    """
    policies = policies or {}
    result = MergeResult()
    for name in fields:
        has_base = name in base
        b = canonical_value(name, base[name]) if has_base else BLANK_BASE[name]
        lv = canonical_value(name, local.get(name))
        rv = canonical_value(name, remote.get(name))
        bk, lk, rk = _key(name, b), _key(name, lv), _key(name, rv)
        conflict = False
        if lk == rk:
            merged, decision = lv, (UNCHANGED if lk == bk else BOTH_SAME)
        elif lk == bk:
            merged, decision = rv, REMOTE_CHANGED
        elif rk == bk:
            merged, decision = lv, LOCAL_CHANGED
        elif name in _SET_FIELDS:
            merged, decision = _merge_labels(b, lv, rv), SETS_MERGED
        else:
            policy = ConflictPolicy(policies.get(name, ConflictPolicy.ASK))
            side, decision = _resolve_by_policy(policy, local_updated_at, remote_updated_at)
            merged = rv if side == "remote" else lv
            conflict = side is None
        result.decisions[name] = decision if has_base else decision + NO_BASE
        result.merged[name] = merged
        if conflict:
            result.conflicts.append(FieldConflict(name, b, lv, rv))
            if has_base:
                result.next_base[name] = b
            continue
        # Never ``merged``: a base that already holds a change the service lacks reads as "agreed"
        # and the change would never be pushed (issue #18: a queued edit silently dropped).
        result.next_base[name] = rv
        if _key(name, merged) != rk:
            result.to_push[name] = merged
        if _key(name, merged) != lk:
            result.to_store[name] = merged
    return result


def changed_fields(
    base: Mapping[str, Any], side: Mapping[str, Any], fields: Iterable[str] = SYNCED_TASK_FIELDS
) -> tuple[str, ...]:
    """The fields where ``side`` differs from ``base`` (a field missing from base reads as blank)."""
    return tuple(
        name
        for name in fields
        if not same_value(name, base[name] if name in base else BLANK_BASE[name], side.get(name))
    )


# -------------------------------------------------------------------------------------- whole task


class TaskOutcome(StrEnum):
    """What to do with a task as a whole once both sides' presence is known."""

    MERGE = "merge"
    """Both sides hold the task: merge field by field."""
    CREATE_REMOTE = "create-remote"
    """Only the local side holds it and it was never agreed: create it on the service."""
    CREATE_LOCAL = "create-local"
    """Only the service holds it and it was never agreed: create it locally."""
    DELETE_LOCAL = "delete-local"
    """Deleted on the service, untouched locally since the last sync: delete the local copy."""
    DELETE_REMOTE = "delete-remote"
    """Deleted locally, untouched on the service since the last sync: delete it on the service."""
    FORGET = "forget"
    """Gone on both sides: nothing to write, drop the reference."""
    DELETED_REMOTELY = "deleted-remotely"
    """Conflict: deleted on the service but edited locally; the user keeps (recreate) or drops it."""
    DELETED_LOCALLY = "deleted-locally"
    """Conflict: deleted locally but edited on the service; the user keeps (restore) or drops it."""

    @property
    def is_conflict(self) -> bool:
        """True when the user must decide before anything is written."""
        return self in (TaskOutcome.DELETED_REMOTELY, TaskOutcome.DELETED_LOCALLY)


@dataclass(frozen=True)
class TaskMerge:
    """The whole-task decision, with the field merge when both sides hold the task."""

    outcome: TaskOutcome
    reason: str
    fields: MergeResult | None = None
    """Set only for :attr:`TaskOutcome.MERGE`."""
    edited: tuple[str, ...] = ()
    """For a delete-vs-edit conflict: the fields the surviving side edited, to show the user."""


def merge_task_states(
    base: Mapping[str, Any] | None,
    local: Mapping[str, Any] | None,
    remote: Mapping[str, Any] | None,
    *,
    policies: Mapping[str, ConflictPolicy | str] | None = None,
    local_updated_at: datetime | None = None,
    remote_updated_at: datetime | None = None,
    fields: Iterable[str] = SYNCED_TASK_FIELDS,
) -> TaskMerge:
    """Decide create / delete / delete-vs-edit for one task, then merge its fields if both sides hold it.

    ``None`` for ``local`` or ``remote`` means that side has no live task (deleted, or never there);
    an empty or ``None`` ``base`` means the two sides never agreed. Deleting a task someone edited since
    the last agreement would lose that edit, so it becomes a conflict instead.

    ======  =========================  =========================  ==========================
    base    local                      remote                     outcome
    ======  =========================  =========================  ==========================
    any     present                    present                    merge (fields)
    any     gone                       gone                       forget
    none    present                    gone                       create-remote
    none    gone                       present                    create-local
    set     unchanged since base       gone                       delete-local
    set     edited since base          gone                       conflict deleted-remotely
    set     gone                       unchanged since base       delete-remote
    set     gone                       edited since base          conflict deleted-locally
    ======  =========================  =========================  ==========================
    """
    fields = tuple(fields)
    if local is not None and remote is not None:
        merged = merge_fields(
            base or {},
            local,
            remote,
            policies=policies,
            local_updated_at=local_updated_at,
            remote_updated_at=remote_updated_at,
            fields=fields,
        )
        return TaskMerge(TaskOutcome.MERGE, "present on both sides", merged)
    if local is None and remote is None:
        return TaskMerge(TaskOutcome.FORGET, "gone on both sides")
    if not base:
        if local is not None:
            return TaskMerge(TaskOutcome.CREATE_REMOTE, "new locally, never synced")
        return TaskMerge(TaskOutcome.CREATE_LOCAL, "new on the service, never synced")
    if local is not None:
        edited = changed_fields(base, local, fields)
        if edited:
            return TaskMerge(
                TaskOutcome.DELETED_REMOTELY,
                f"deleted on the service, but edited locally ({', '.join(edited)})",
                edited=edited,
            )
        return TaskMerge(TaskOutcome.DELETE_LOCAL, "deleted on the service, unchanged locally")
    assert remote is not None
    edited = changed_fields(base, remote, fields)
    if edited:
        return TaskMerge(
            TaskOutcome.DELETED_LOCALLY,
            f"deleted locally, but edited on the service ({', '.join(edited)})",
            edited=edited,
        )
    return TaskMerge(TaskOutcome.DELETE_REMOTE, "deleted locally, unchanged on the service")
