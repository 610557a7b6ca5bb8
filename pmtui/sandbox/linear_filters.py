"""Linear's filter inputs (``IssueFilter``, ``ProjectFilter``, ...) compiled into predicates over the
emulator's dicts.

One generic evaluator walks any filter: each entity kind declares its filterable fields as a comparator
(``{eq, gt, in, ...}``), a relation to another kind (``team: TeamFilter``) or a collection
(``labels: IssueLabelCollectionFilter``). A key the table does not declare is refused loudly, so a
client filter the emulator would silently ignore fails a test instead of returning everything.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pmtui.sandbox.server import iso_z, parse_iso

Store = Mapping[str, Any]
"""The emulator's state: ``{"issues": {id: issue}, "teams": {...}, ...}``."""
Getter = Callable[[Store, dict[str, Any]], Any]
Predicate = Callable[[dict[str, Any]], bool]


class FilterUnsupportedError(Exception):
    """The filter uses a key or comparator the emulator does not implement (a sandbox gap)."""


class FilterValueError(Exception):
    """The filter's value is malformed (the real API rejects it as invalid input)."""


# ------------------------------------------------------------------------------------------ durations

_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def apply_duration(text: str, now: datetime) -> datetime | None:
    """``now`` shifted by an ISO 8601 duration such as ``-P2W1D``; None if ``text`` is not one.

    Linear's ``DateTimeOrDuration`` scalar adds the duration to now (schema description).
    """
    match = _DURATION.match(text.strip())
    if not match or text.strip().upper() in ("P", "-P", "+P", "PT", "-PT"):
        return None
    sign = -1 if match["sign"] == "-" else 1
    years, months = int(match["y"] or 0), int(match["mo"] or 0)
    delta = timedelta(
        weeks=int(match["w"] or 0),
        days=int(match["d"] or 0),
        hours=int(match["h"] or 0),
        minutes=int(match["mi"] or 0),
        seconds=float(match["s"] or 0),
    )
    shifted = _add_months(now, sign * (years * 12 + months))
    return shifted + sign * delta


def _as_datetime(value: Any, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise FilterValueError(f"expected a date-time or duration, got {value!r}")
    shifted = apply_duration(value, now)
    if shifted is not None:
        return shifted
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise FilterValueError(f"{value!r} is neither an ISO 8601 date-time nor a duration") from exc


def _date_key(value: Any, now: datetime) -> str:
    """A comparator value as our stored ``DateTime`` text (ISO, ms, ``Z``: sorts as it compares)."""
    return iso_z(_as_datetime(value, now))


def _timeless_key(value: Any, now: datetime) -> str:
    """A comparator value as a ``YYYY-MM-DD`` day (``TimelessDateOrDuration``)."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise FilterValueError(f"{value!r} is not a date") from exc
    return _as_datetime(value, now).astimezone(UTC).date().isoformat()


# ----------------------------------------------------------------------------------------- comparators


def _normalizer(kind: str, now: datetime) -> Callable[[Any], Any]:
    if kind == "date":
        return lambda v: _date_key(v, now)
    if kind == "timeless":
        return lambda v: _timeless_key(v, now)
    if kind == "number":
        return lambda v: float(v)
    return lambda v: v


_ORDERED = {"gt", "gte", "lt", "lte"}


def compile_comparator(kind: str, spec: Mapping[str, Any], now: datetime, where: str) -> Predicate:
    """A predicate over one value for a comparator input such as ``{gt: "-P2W"}`` or ``{in: [...]}``."""
    norm = _normalizer(kind, now)
    checks: list[Callable[[Any], bool]] = []
    for op, raw in spec.items():
        checks.append(_compile_op(kind, op, raw, norm, now, where))

    def matches(value: Any) -> bool:
        if kind == "date" and isinstance(value, str) and len(value) == 10:
            value = value + "T00:00:00.000Z"
        return all(check(value) for check in checks)

    return matches


def _compile_op(
    kind: str, op: str, raw: Any, norm: Callable[[Any], Any], now: datetime, where: str
) -> Callable[[Any], bool]:
    if op == "null":
        want_null = bool(raw)
        return lambda v: (v is None) == want_null
    if op in ("and", "or"):  # EstimateComparator nests NullableNumberComparators
        parts = [compile_comparator(kind, item, now, where) for item in raw or []]
        if op == "and":
            return lambda v: all(p(v) for p in parts)
        return lambda v: any(p(v) for p in parts)
    if raw is None:
        return lambda v: True  # an explicit null operand is ignored, as GraphQL optional input
    if op in ("in", "nin"):
        allowed = {norm(item) for item in raw}
        if op == "in":
            return lambda v: v is not None and _key(kind, v) in allowed
        return lambda v: v is not None and _key(kind, v) not in allowed
    if op in ("eq", "neq") or op in _ORDERED:
        target = norm(raw)
        compare: Callable[[Any, Any], bool] = {
            "eq": lambda a, b: a == b,
            "neq": lambda a, b: a != b,
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }[op]
        return lambda v: v is not None and compare(_key(kind, v), target)
    if kind == "string":
        return _string_op(op, str(raw), where)
    raise FilterUnsupportedError(f"sandbox: filter {where}.{op} not supported")


def _key(kind: str, value: Any) -> Any:
    return float(value) if kind == "number" else value


def _string_op(op: str, needle: str, where: str) -> Callable[[Any], bool]:
    low = needle.lower()
    ops: dict[str, Callable[[str], bool]] = {
        "contains": lambda s: needle in s,
        "containsIgnoreCase": lambda s: low in s.lower(),
        # Accent folding is approximated by case folding (UNVERIFIED detail, rarely matters).
        "containsIgnoreCaseAndAccent": lambda s: low in s.lower(),
        "notContains": lambda s: needle not in s,
        "notContainsIgnoreCase": lambda s: low not in s.lower(),
        "startsWith": lambda s: s.startswith(needle),
        "startsWithIgnoreCase": lambda s: s.lower().startswith(low),
        "notStartsWith": lambda s: not s.startswith(needle),
        "endsWith": lambda s: s.endswith(needle),
        "notEndsWith": lambda s: not s.endswith(needle),
        "eqIgnoreCase": lambda s: s.lower() == low,
        "neqIgnoreCase": lambda s: s.lower() != low,
    }
    fn = ops.get(op)
    if fn is None:
        raise FilterUnsupportedError(f"sandbox: filter {where}.{op} not supported")
    return lambda v: v is not None and fn(str(v))


# ------------------------------------------------------------------------------------------ field table


def _f(name: str) -> Getter:
    return lambda _st, obj: obj.get(name)


def _ref(collection: str, key: str) -> Getter:
    return lambda st, obj: st[collection].get(obj.get(key) or "")


def _refs(collection: str, key: str) -> Getter:
    return lambda st, obj: [st[collection][i] for i in obj.get(key) or () if i in st[collection]]


def _cmp(kind: str, name: str) -> tuple[str, str, Getter]:
    return ("cmp", kind, _f(name))


_COMMON: dict[str, tuple[str, str, Getter]] = {
    "id": _cmp("id", "id"),
    "createdAt": _cmp("date", "createdAt"),
    "updatedAt": _cmp("date", "updatedAt"),
}

FIELDS: dict[str, dict[str, tuple[str, str, Getter]]] = {
    "Issue": {
        **_COMMON,
        "archivedAt": _cmp("date", "archivedAt"),
        "completedAt": _cmp("date", "completedAt"),
        "canceledAt": _cmp("date", "canceledAt"),
        "startedAt": _cmp("date", "startedAt"),
        "dueDate": _cmp("timeless", "dueDate"),
        "number": _cmp("number", "number"),
        "priority": _cmp("number", "priority"),
        "estimate": _cmp("number", "estimate"),
        "title": _cmp("string", "title"),
        "description": _cmp("string", "description"),
        "team": ("rel", "Team", _ref("teams", "teamId")),
        "state": ("rel", "WorkflowState", _ref("workflowStates", "stateId")),
        "project": ("rel", "Project", _ref("projects", "projectId")),
        "projectMilestone": ("rel", "ProjectMilestone", _ref("projectMilestones", "projectMilestoneId")),
        "assignee": ("rel", "User", _ref("users", "assigneeId")),
        "creator": ("rel", "User", _ref("users", "creatorId")),
        "parent": ("rel", "Issue", _ref("issues", "parentId")),
        "labels": ("coll", "IssueLabel", _refs("issueLabels", "labelIds")),
    },
    "Team": {
        **_COMMON,
        "key": _cmp("string", "key"),
        "name": _cmp("string", "name"),
        "description": _cmp("string", "description"),
    },
    "WorkflowState": {
        **_COMMON,
        "name": _cmp("string", "name"),
        "type": _cmp("string", "type"),
        "position": _cmp("number", "position"),
        "description": _cmp("string", "description"),
        "team": ("rel", "Team", _ref("teams", "teamId")),
    },
    "IssueLabel": {
        **_COMMON,
        "name": _cmp("string", "name"),
        "isGroup": _cmp("bool", "isGroup"),
        "team": ("rel", "Team", _ref("teams", "teamId")),
        "parent": ("rel", "IssueLabel", _ref("issueLabels", "parentId")),
        "creator": ("rel", "User", _ref("users", "creatorId")),
    },
    "Project": {
        **_COMMON,
        "name": _cmp("string", "name"),
        "slugId": _cmp("string", "slugId"),
        "priority": _cmp("number", "priority"),
        "startDate": _cmp("date", "startDate"),
        "targetDate": _cmp("date", "targetDate"),
        "completedAt": _cmp("date", "completedAt"),
        "canceledAt": _cmp("date", "canceledAt"),
        "startedAt": _cmp("date", "startedAt"),
        # ``state`` (deprecated) compares the status type, as the old string field did.
        "state": ("cmp", "string", lambda st, obj: st["projectStatuses"][obj["statusId"]]["type"]),
        "status": ("rel", "ProjectStatus", _ref("projectStatuses", "statusId")),
        "lead": ("rel", "User", _ref("users", "leadId")),
        "creator": ("rel", "User", _ref("users", "creatorId")),
        "accessibleTeams": ("coll", "Team", _refs("teams", "teamIds")),
    },
    "ProjectStatus": {
        **_COMMON,
        "name": _cmp("string", "name"),
        "type": _cmp("string", "type"),
        "position": _cmp("number", "position"),
        "description": _cmp("string", "description"),
    },
    "ProjectMilestone": {
        **_COMMON,
        "name": _cmp("string", "name"),
        "targetDate": _cmp("date", "targetDate"),
        "project": ("rel", "Project", _ref("projects", "projectId")),
    },
    "User": {
        **_COMMON,
        "name": _cmp("string", "name"),
        "displayName": _cmp("string", "displayName"),
        "email": _cmp("string", "email"),
        "active": _cmp("bool", "active"),
        "admin": _cmp("bool", "admin"),
        "app": _cmp("bool", "app"),
        "isMe": ("cmp", "bool", lambda st, obj: obj["id"] == st.get("viewerId")),
    },
    "Comment": {
        **_COMMON,
        "body": _cmp("string", "body"),
        "issue": ("rel", "Issue", _ref("issues", "issueId")),
        "user": ("rel", "User", _ref("users", "userId")),
        "parent": ("rel", "Comment", _ref("comments", "parentId")),
    },
}


def compile_filter(kind: str, spec: Mapping[str, Any] | None, store: Store, now: datetime) -> Predicate:
    """A predicate over one ``kind`` dict for a filter input; raises on unsupported keys up front."""
    return _Compiler(store, now).entity(kind, spec or {}, f"{kind}Filter")


class _Compiler:
    def __init__(self, store: Store, now: datetime) -> None:
        self.store = store
        self.now = now

    def entity(self, kind: str, spec: Mapping[str, Any], where: str) -> Predicate:
        table = FIELDS[kind]
        checks: list[Predicate] = []
        for key, value in spec.items():
            if value is None:
                continue
            if key in ("and", "or"):
                parts = [self.entity(kind, item, where) for item in value]
                checks.append(_all(parts) if key == "and" else _any(parts))
                continue
            if key == "null":  # only reachable at the root of a Nullable*Filter
                raise FilterUnsupportedError(f"sandbox: filter {where}.null not supported here")
            field_spec = table.get(key)
            if field_spec is None:
                raise FilterUnsupportedError(f"sandbox: filter {where}.{key} not supported")
            shape, target, getter = field_spec
            if shape == "cmp":
                checks.append(self._field(getter, compile_comparator(target, value, self.now, key)))
            elif shape == "rel":
                checks.append(self._relation(getter, target, value, f"{where}.{key}"))
            else:
                checks.append(self._collection(getter, target, value, f"{where}.{key}"))
        return _all(checks)

    def _field(self, getter: Getter, matches: Callable[[Any], bool]) -> Predicate:
        store = self.store
        return lambda obj: matches(getter(store, obj))

    def _relation(self, getter: Getter, kind: str, spec: Mapping[str, Any], where: str) -> Predicate:
        store = self.store
        rest = {k: v for k, v in spec.items() if k != "null"}
        inner = self.entity(kind, rest, where)
        want_null = spec.get("null")

        def matches(obj: dict[str, Any]) -> bool:
            related = getter(store, obj)
            if want_null is not None and (related is None) != bool(want_null):
                return False
            if related is None:
                return not rest and want_null is not None
            return inner(related)

        return matches

    def _collection(self, getter: Getter, kind: str, spec: Mapping[str, Any], where: str) -> Predicate:
        store = self.store
        check = self._items(kind, spec, where)
        return lambda obj: check(getter(store, obj))

    def _items(self, kind: str, spec: Mapping[str, Any], where: str) -> ItemsCheck:
        """``some``/``every``/``length``/``null`` plus direct element keys, which mean "some element
        matches" (Linear's filtering guide: ``labels: { name: { eq: "Bug" } }``)."""
        checks: list[ItemsCheck] = []
        direct: dict[str, Any] = {}
        for key, value in spec.items():
            if value is None:
                continue
            if key == "some":
                checks.append(_some(self.entity(kind, value, where)))
            elif key == "every":
                checks.append(_every(self.entity(kind, value, where)))
            elif key == "length":
                checks.append(_length(compile_comparator("number", value, self.now, f"{where}.length")))
            elif key == "null":
                checks.append(_empty(bool(value)))
            elif key in ("and", "or"):
                parts = [self._items(kind, item, where) for item in value]
                checks.append(_all_items(parts) if key == "and" else _any_items(parts))
            else:
                direct[key] = value
        if direct:
            checks.append(_some(self.entity(kind, direct, where)))
        return _all_items(checks)


Items = list[dict[str, Any]]
ItemsCheck = Callable[[Items], bool]


def _some(element: Predicate) -> ItemsCheck:
    return lambda items: any(element(i) for i in items)


def _every(element: Predicate) -> ItemsCheck:
    return lambda items: all(element(i) for i in items)


def _length(matches: Callable[[Any], bool]) -> ItemsCheck:
    return lambda items: matches(len(items))


def _empty(want: bool) -> ItemsCheck:
    return lambda items: (not items) == want


def _all_items(parts: list[ItemsCheck]) -> ItemsCheck:
    return lambda items: all(p(items) for p in parts)


def _any_items(parts: list[ItemsCheck]) -> ItemsCheck:
    return lambda items: any(p(items) for p in parts)


def _all(parts: list[Predicate]) -> Predicate:
    if not parts:
        return lambda _obj: True
    if len(parts) == 1:
        return parts[0]
    return lambda obj: all(p(obj) for p in parts)


def _any(parts: list[Predicate]) -> Predicate:
    return lambda obj: any(p(obj) for p in parts)
