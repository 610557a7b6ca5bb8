"""The real Linear SDL, loaded once per process and cached on disk; what the emulator reads off a document.

Building the 1.25 MB schema takes about a second, which every test process and ``pmtui demo`` would pay
at start; the built :class:`GraphQLSchema` is therefore pickled to the cache folder and reloaded in a
few tens of milliseconds by later processes. The pickle is keyed by the SDL's hash and the graphql-core
version, and any trouble loading it falls back to building from the SDL.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import sys
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import graphql
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
    value_from_ast_untyped,
)

log = logging.getLogger("pmtui.sandbox.linear")

SCHEMA_PATH = Path(__file__).parent / "data" / "linear-schema.graphql"
"""The schema file of github.com/linear/linear (``packages/sdk/src/schema.graphql``), MIT-licensed."""

DEFAULT_PAGE_SIZE = 50
"""Linear's page size when a connection gets neither ``first`` nor ``last`` (developers/pagination)."""

_schema: GraphQLSchema | None = None
_schema_lock = threading.Lock()


def linear_schema() -> GraphQLSchema:
    """The built Linear schema, shared by every emulator in the process."""
    global _schema
    with _schema_lock:
        if _schema is None:
            _schema = _load_schema()
        return _schema


def schema_cache_path(sdl: bytes) -> Path:
    """Where the pickled schema for this SDL and this graphql-core lives."""
    from pmtui.paths import cache_dir

    digest = hashlib.sha256(sdl + b"\0" + graphql.__version__.encode()).hexdigest()[:16]
    return cache_dir() / f"linear-schema-{digest}.pickle"


# A corrupt, truncated or version-skewed pickle raises any of these; each means "build it again".
_PICKLE_FAILURES = (
    OSError,
    EOFError,
    pickle.UnpicklingError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
    TypeError,
    ValueError,
    RecursionError,
)


def _load_schema() -> GraphQLSchema:
    sdl = SCHEMA_PATH.read_bytes()
    cache = schema_cache_path(sdl)
    try:
        with cache.open("rb") as handle:
            loaded = pickle.load(handle)
        if isinstance(loaded, GraphQLSchema) and "Issue" in loaded.type_map:
            return loaded
        log.warning("ignoring %s: not a Linear schema", cache)
    except FileNotFoundError:
        pass
    except _PICKLE_FAILURES as exc:
        log.warning("rebuilding the Linear schema: cached copy %s unreadable (%s)", cache, exc)
    schema = build_schema(sdl.decode("utf-8"))
    _strip_ast_nodes(schema)
    _store_pickle(schema, cache)
    return schema


def _strip_ast_nodes(schema: GraphQLSchema) -> None:
    """Drop the SDL's syntax tree from the schema: validation and execution never read it, and with it
    the pickle is three times larger and recurses too deep to write."""
    schema.ast_node = None
    schema.extension_ast_nodes = ()
    for named in schema.type_map.values():
        named.ast_node = None
        named.extension_ast_nodes = ()
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for fld in named.fields.values():
                fld.ast_node = None
                for arg in fld.args.values():
                    arg.ast_node = None
        elif isinstance(named, GraphQLInputObjectType):
            for input_field in named.fields.values():
                input_field.ast_node = None
        elif isinstance(named, GraphQLEnumType):
            for value in named.values.values():
                value.ast_node = None
    for directive in schema.directives:
        directive.ast_node = None
        for arg in directive.args.values():
            arg.ast_node = None


def _store_pickle(schema: GraphQLSchema, cache: Path) -> None:
    """Write the pickle atomically; failure only costs the next process a rebuild.

    Pickling walks the type graph recursively (about 5,000 frames deep), so it runs in a thread with a
    large stack and a raised recursion limit, restored afterwards.
    """
    outcome: dict[str, BaseException] = {}

    def dump() -> None:
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as handle:
                pickle.dump(schema, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache)
        except (OSError, RecursionError, pickle.PicklingError) as exc:
            outcome["error"] = exc
            tmp.unlink(missing_ok=True)

    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size()
    try:
        threading.stack_size(256 * 1024 * 1024)
        sys.setrecursionlimit(max(old_limit, 50_000))
        worker = threading.Thread(target=dump, name="linear-schema-pickle")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        log.warning("could not cache the Linear schema at %s: %s", cache, outcome["error"])


# ----------------------------------------------------------------------------------- prepared documents


@dataclass
class PreparedDocument:
    """A parsed document and its validation against the schema (cached by query text)."""

    document: DocumentNode | None
    errors: list[GraphQLError] = field(default_factory=list)
    syntax_error: bool = False

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation ``name`` selects, or the only one; None when ambiguous or absent."""
        if self.document is None:
            return None
        ops = [d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]
        if name:
            return next((op for op in ops if op.name and op.name.value == name), None)
        return ops[0] if len(ops) == 1 else None

    def fragments(self) -> dict[str, FragmentDefinitionNode]:
        if self.document is None:
            return {}
        return {d.name.value: d for d in self.document.definitions if isinstance(d, FragmentDefinitionNode)}


@lru_cache(maxsize=512)
def prepare(query: str) -> PreparedDocument:
    """Parse and validate ``query`` against the Linear schema; clients resend the same few documents,
    so the ~20 ms validation is paid once per distinct text."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return PreparedDocument(None, [exc], syntax_error=True)
    return PreparedDocument(document, list(validate(linear_schema(), document)))


def is_mutation(prepared: PreparedDocument, operation_name: str | None) -> bool:
    """Whether the selected operation is a mutation."""
    op = prepared.operation(operation_name)
    return op is not None and op.operation == OperationType.MUTATION


def root_fields(prepared: PreparedDocument, operation_name: str | None) -> list[str]:
    """Names of the root fields the selected operation asks for (through fragments too)."""
    op = prepared.operation(operation_name)
    if op is None:
        return []
    fragments = prepared.fragments()
    names: list[str] = []

    def walk(selection_set: SelectionSetNode) -> None:
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                names.append(sel.name.value)
            elif isinstance(sel, InlineFragmentNode):
                walk(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
                walk(fragments[sel.name.value].selection_set)

    walk(op.selection_set)
    return names


def estimate_complexity(
    prepared: PreparedDocument, operation_name: str | None, variables: dict[str, Any] | None
) -> int:
    """Linear's complexity score of the operation, as third parties describe it (UNVERIFIED):
    0.1 point per scalar, 1 per object, and a connection multiplies its children by ``first``/``last``
    (default 50); the total is rounded up."""
    op = prepared.operation(operation_name)
    if op is None:
        return 0
    schema = linear_schema()
    root = schema.mutation_type if op.operation == OperationType.MUTATION else schema.query_type
    if root is None:
        return 0
    fragments = prepared.fragments()
    variables = variables or {}

    def page_size(node: FieldNode) -> float:
        for arg in node.arguments or ():
            if arg.name.value in ("first", "last"):
                value = value_from_ast_untyped(arg.value, variables)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    return float(value)
        return float(DEFAULT_PAGE_SIZE)

    def cost(selection_set: SelectionSetNode, parent: Any) -> float:
        total = 0.0
        for sel in selection_set.selections:
            if isinstance(sel, InlineFragmentNode):
                inner = parent
                if sel.type_condition is not None:
                    inner = schema.get_type(sel.type_condition.name.value) or parent
                total += cost(sel.selection_set, inner)
            elif isinstance(sel, FragmentSpreadNode):
                frag = fragments.get(sel.name.value)
                if frag is not None:
                    inner = schema.get_type(frag.type_condition.name.value) or parent
                    total += cost(frag.selection_set, inner)
            elif isinstance(sel, FieldNode):
                fields = getattr(parent, "fields", {})
                definition = fields.get(sel.name.value)
                if definition is None:  # __typename and introspection fields
                    total += 0.1
                    continue
                named = get_named_type(definition.type)
                if is_leaf_type(named) or sel.selection_set is None:
                    total += 0.1
                elif named.name.endswith("Connection"):
                    total += page_size(sel) * cost(sel.selection_set, named)
                else:
                    total += 1 + cost(sel.selection_set, named)
        return total

    return math.ceil(cost(op.selection_set, root) - 1e-9)
