"""Queries generated from a Linear schema: every field of a type, with placeholder required arguments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)

from pmtui.sandbox.linear_defaults import is_connection

PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"


def _literal(arg_type: Any) -> str:
    """A GraphQL literal for a required argument of ``arg_type`` (any valid value will do)."""
    if is_non_null_type(arg_type):
        return _literal(arg_type.of_type)
    if is_list_type(arg_type):
        return f"[{_literal(arg_type.of_type)}]"
    named = get_named_type(arg_type)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLInputObjectType):
        required = [f"{n}: {_literal(f.type)}" for n, f in named.fields.items() if is_non_null_type(f.type)]
        return "{" + ", ".join(required) + "}"
    return {"Int": "1", "Float": "1", "Boolean": "false"}.get(named.name, f'"{PLACEHOLDER_ID}"')


def _arguments(args: dict[str, GraphQLArgument]) -> str:
    required = [f"{n}: {_literal(a.type)}" for n, a in args.items() if is_non_null_type(a.type)]
    return f"({', '.join(required)})" if required else ""


def _sub_selection(named: Any) -> str:
    if is_connection(named):
        node = get_named_type(named.fields["nodes"].type)
        return "{ nodes { " + _id_or_typename(node) + " } pageInfo { hasNextPage endCursor } }"
    return "{ " + _id_or_typename(named) + " }"


def _id_or_typename(named: Any) -> str:
    fields = getattr(named, "fields", {})
    return (
        "__typename id"
        if "id" in fields and is_leaf_type(get_named_type(fields["id"].type))
        else "__typename"
    )


def every_field_selection(
    schema: GraphQLSchema, type_name: str, only: Iterable[str] | None = None
) -> tuple[str, list[str]]:
    """The selection of every field of ``type_name`` (or of those in ``only`` that it has) and the field
    names it selects; objects are selected with ``__typename`` (and ``id``), so an answer names its types."""
    target = schema.type_map[type_name]
    assert isinstance(target, GraphQLObjectType)
    wanted = set(only) if only is not None else None
    parts: list[str] = []
    names: list[str] = []
    for name, fld in target.fields.items():
        if wanted is not None and name not in wanted:
            continue
        assert isinstance(fld, GraphQLField)
        named = get_named_type(fld.type)
        sub = "" if is_leaf_type(named) else " " + _sub_selection(named)
        parts.append(f"{name}{_arguments(fld.args)}{sub}")
        names.append(name)
    return "\n".join(parts), names
