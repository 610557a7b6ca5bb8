"""What the Linear emulator answers for a field it holds no data for, read off the field's schema type.

Linear's schema has far more fields than the emulator has data for (1,200 types in the published file).
A client that asks for every field of an issue must still get an answer, in the shape the real API would
give for an object that has nothing there: a nullable field is null, a list is empty, a connection is an
empty page, and a non-null scalar gets the neutral value of its type. Ids of such synthetic objects are
derived from the parent's id and the field's path, so the same query returns the same ids every time.
"""

from __future__ import annotations

import uuid
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    is_abstract_type,
    is_list_type,
    is_non_null_type,
)

EPOCH = "1970-01-01T00:00:00.000Z"
"""A DateTime for objects with no ``createdAt`` of their own."""

_ID_NAMESPACE = uuid.UUID("5b1e6f3a-3c2d-4f7e-9a51-0c8e7d6b4a21")
"""Fixed namespace of the synthetic ids (uuid5), so they are stable across runs and processes."""

SYNTHETIC_KEY = "__synthetic"
"""Key of a synthetic object's path (``Issue.sharedAccess@<issue id>``); never a GraphQL field name."""


def is_connection(named: GraphQLNamedType) -> bool:
    """A Relay-style page: an object with ``nodes`` and ``pageInfo`` (Linear's ``XConnection`` and the
    search payloads)."""
    return isinstance(named, GraphQLObjectType) and "nodes" in named.fields and "pageInfo" in named.fields


def empty_connection() -> dict[str, Any]:
    """A page with nothing on it, as Linear returns for an empty list."""
    return {
        "edges": [],
        "nodes": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


def identity(source: Any) -> str:
    """What makes a parent object unique: its id, or the path of a synthetic object."""
    if isinstance(source, dict):
        return str(source.get("id") or source.get(SYNTHETIC_KEY) or "root")
    return "root"


def stable_id(path: str) -> str:
    """A UUID derived from ``path``: the same field of the same object always gets the same id."""
    return str(uuid.uuid5(_ID_NAMESPACE, path))


def default_value(
    schema: GraphQLSchema, return_type: GraphQLOutputType, source: Any, parent: str, field: str
) -> Any:
    """The answer for ``parent.field`` on ``source`` when there is no data: see the module docstring."""
    if not is_non_null_type(return_type):
        return None
    inner = return_type.of_type
    if is_list_type(inner):
        return []
    path = f"{parent}.{field}@{identity(source)}"
    if isinstance(inner, GraphQLScalarType):
        return _scalar(inner.name, source, field, path)
    if isinstance(inner, GraphQLEnumType):
        first = next(iter(inner.values.items()))
        return first[1].value if first[1].value is not None else first[0]
    if is_connection(inner):
        return empty_connection()
    if is_abstract_type(inner):
        possible = schema.get_possible_types(inner)
        return {"__typename": possible[0].name, SYNTHETIC_KEY: path}
    return {SYNTHETIC_KEY: path}


def _scalar(name: str, source: Any, field: str, path: str) -> Any:
    created = source.get("createdAt") if isinstance(source, dict) else None
    created = created if isinstance(created, str) and created else None
    if name in ("ID", "UUID"):
        if field == "id" and isinstance(source, dict) and SYNTHETIC_KEY in source:
            return stable_id(str(source[SYNTHETIC_KEY]))
        return stable_id(path)
    if name in ("Int",):
        return 0
    if name == "Float":
        return 0.0
    if name == "Boolean":
        return False
    if name in ("DateTime", "DateTimeOrDuration"):
        return created or EPOCH
    if name in ("TimelessDate", "TimelessDateOrDuration"):
        return (created or EPOCH)[:10]
    if name in ("JSON", "JSONObject"):
        return {}
    if name == "Duration":
        return "PT0S"
    return ""  # String, and the notification-type scalars (strings on the wire)
