"""The GraphQL schema the Linear emulator runs on, loaded once per file and process and cached on disk.

By default that is pmtui's own SDL of what the emulator emulates (``data/linear-emulated.graphql``,
about 1,400 lines). Given Linear's published schema instead (``PMTUI_SANDBOX_LINEAR_SCHEMA`` or
``pmtui sandbox serve --linear-schema PATH``; the tests pass ``../shared/specs/linear-schema.graphql``), the
emulator validates and answers against all of it. Either way the fields of Linear's current API that a
schema lacks are added from ``data/linear-extensions.graphql``.

Building the 1.25 MB published schema takes about 1.5 s, which every test process would pay at start;
the built :class:`GraphQLSchema` is therefore pickled to a cache folder and reloaded in a few tens of
milliseconds by later processes. The pickle is keyed by the hash of the schema and extension files and
the graphql-core version, lives in ``PMTUI_SANDBOX_SCHEMA_CACHE`` when set (the tests point it at a
private temp folder) or else pmtui's cache folder, and any trouble loading it falls back to building.
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
    FieldDefinitionNode,
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
    ObjectTypeExtensionNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    build_schema,
    extend_schema,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
    value_from_ast_untyped,
)

from pmtui.errors import UsageError
from pmtui.sandbox.linear_defaults import is_connection

log = logging.getLogger("pmtui.sandbox.linear")

DATA_DIR = Path(__file__).parent / "data"
EMULATED_SCHEMA = DATA_DIR / "linear-emulated.graphql"
"""pmtui's SDL of the part of Linear's API the emulator serves (the default schema)."""
EXTENSIONS = DATA_DIR / "linear-extensions.graphql"
"""Fields of Linear's current API missing from the July 2026 schema snapshot, added where absent."""

SCHEMA_ENV = "PMTUI_SANDBOX_LINEAR_SCHEMA"
"""The setting: path of a Linear SDL to run the emulator on instead of :data:`EMULATED_SCHEMA`."""
CACHE_ENV = "PMTUI_SANDBOX_SCHEMA_CACHE"
"""Folder for the pickled schemas; pmtui's cache folder when unset."""

REQUIRED_TYPES = ("Query", "Mutation", "Issue", "Team", "Project", "User", "Organization", "WorkflowState")
"""Types the emulator's resolvers serve: a schema without them is not a Linear schema."""

DEFAULT_PAGE_SIZE = 50
"""Linear's page size when a connection gets neither ``first`` nor ``last`` (developers/pagination)."""

_schemas: dict[Path, GraphQLSchema] = {}
_schema_lock = threading.Lock()


def schema_path(path: Path | str | None = None) -> Path:
    """The SDL file to run on: ``path``, else the ``PMTUI_SANDBOX_LINEAR_SCHEMA`` setting, else pmtui's
    own; refused with a usage error (exit 2) naming the file when it is not a readable file."""
    chosen = path if path not in (None, "") else os.environ.get(SCHEMA_ENV) or None
    if chosen is None:
        return EMULATED_SCHEMA
    where = f"--linear-schema {chosen}" if path not in (None, "") else f"{SCHEMA_ENV}={chosen}"
    resolved = Path(chosen).expanduser().resolve()
    if not resolved.is_file():
        raise UsageError(f"{where}: no such file (expected Linear's schema.graphql)")
    return resolved


def linear_schema(path: Path | str | None = None) -> GraphQLSchema:
    """The built schema for ``path`` (see :func:`schema_path`), shared by every emulator in the process."""
    resolved = schema_path(path)
    with _schema_lock:
        schema = _schemas.get(resolved)
        if schema is None:
            schema = _schemas[resolved] = _load_schema(resolved)
        return schema


def cache_root() -> Path:
    """Where pickled schemas go: ``PMTUI_SANDBOX_SCHEMA_CACHE`` when set, else pmtui's cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    from pmtui.paths import cache_dir

    return cache_dir()


def schema_cache_path(sdl: bytes) -> Path:
    """Where the pickled schema for this SDL (with today's extensions and graphql-core) lives."""
    digest = hashlib.sha256(
        sdl + b"\0" + EXTENSIONS.read_bytes() + b"\0" + graphql.__version__.encode()
    ).hexdigest()[:16]
    return cache_root() / f"linear-schema-{digest}.pickle"


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


def _load_schema(path: Path) -> GraphQLSchema:
    try:
        sdl = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the Linear schema {path}: {exc.strerror}") from exc
    cache = schema_cache_path(sdl)
    try:
        if _trusted(cache):
            with cache.open("rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, GraphQLSchema) and "Issue" in loaded.type_map:
                return loaded
            log.warning("ignoring %s: not a Linear schema", cache)
    except FileNotFoundError:
        pass
    except _PICKLE_FAILURES as exc:
        log.warning("rebuilding the Linear schema: cached copy %s unreadable (%s)", cache, exc)
    schema = _build(path, sdl)
    _strip_ast_nodes(schema)
    _store_pickle(schema, cache)
    return schema


def _trusted(cache: Path) -> bool:
    """Only unpickle a file this user wrote: a pickle runs code, and the cache folder may be a temp dir."""
    info = cache.stat()  # FileNotFoundError: nothing cached yet
    getuid = getattr(os, "getuid", None)
    if getuid is not None and info.st_uid != getuid():
        log.warning("ignoring %s: owned by another user", cache)
        return False
    return True


def _build(path: Path, sdl: bytes) -> GraphQLSchema:
    """Build the SDL and add the current-API fields it lacks; a bad file is a usage error naming it."""
    try:
        schema = build_schema(sdl.decode("utf-8"))
    except (GraphQLError, TypeError, UnicodeDecodeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{path} is not a usable GraphQL schema: {first_line}") from exc
    missing = [name for name in REQUIRED_TYPES if name not in schema.type_map]
    if missing:
        raise UsageError(f"{path} is not a Linear schema: it defines no {', '.join(missing)}")
    return _with_extensions(schema)


def _with_extensions(schema: GraphQLSchema) -> GraphQLSchema:
    """``schema`` plus the fields of :data:`EXTENSIONS` it lacks (a newer schema's own definition wins)."""
    kept: list[ObjectTypeExtensionNode] = []
    for node in parse(EXTENSIONS.read_text(encoding="utf-8")).definitions:
        if not isinstance(node, ObjectTypeExtensionNode):
            continue
        target = schema.type_map.get(node.name.value)
        if not isinstance(target, GraphQLObjectType):
            continue
        fields: list[FieldDefinitionNode] = [
            f
            for f in node.fields or ()
            if f.name.value not in target.fields and _named(f.type) in schema.type_map
        ]
        if fields:
            kept.append(
                ObjectTypeExtensionNode(name=node.name, directives=(), interfaces=(), fields=tuple(fields))
            )
    if not kept:
        return schema
    return extend_schema(schema, DocumentNode(definitions=tuple(kept)))


def _named(type_node: Any) -> str:
    while not hasattr(type_node, "name"):
        type_node = type_node.type
    return str(type_node.name.value)


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
            cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Private like everything pmtui writes (0600), whatever the embedding process's umask.
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
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


def prepare(query: str, schema: GraphQLSchema | None = None) -> PreparedDocument:
    """Parse and validate ``query`` against ``schema`` (the configured one when None)."""
    return _prepare(query, schema if schema is not None else linear_schema())


@lru_cache(maxsize=512)
def _prepare(query: str, schema: GraphQLSchema) -> PreparedDocument:
    """Clients resend the same few documents, so the ~20 ms validation is paid once per text and schema."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return PreparedDocument(None, [exc], syntax_error=True)
    return PreparedDocument(document, list(validate(schema, document)))


def is_mutation(prepared: PreparedDocument, operation_name: str | None) -> bool:
    """Whether the selected operation is a mutation."""
    op = prepared.operation(operation_name)
    return op is not None and op.operation == OperationType.MUTATION


def with_defaults(op: OperationDefinitionNode, variables: dict[str, Any] | None) -> dict[str, Any]:
    """The operation's variables with the defaults its definitions declare (``$withTeam: Boolean =
    false``) where the request leaves them out."""
    values = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in op.variable_definitions or ()
        if d.default_value is not None
    }
    values.update(variables or {})
    return values


def included(node: SelectionNode, variables: dict[str, Any]) -> bool:
    """Whether ``@skip``/``@include`` leave ``node`` in, as an executor applies them: a field left out is
    neither run, counted nor charged."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        arg = next((a for a in directive.arguments or () if a.name.value == "if"), None)
        value = bool(value_from_ast_untyped(arg.value, variables)) if arg is not None else False
        if value == (name == "skip"):
            return False
    return True


def root_fields(
    prepared: PreparedDocument, operation_name: str | None, variables: dict[str, Any] | None = None
) -> list[str]:
    """Names of the root fields the selected operation runs (through fragments too, not those its
    ``@skip``/``@include`` leave out)."""
    op = prepared.operation(operation_name)
    if op is None:
        return []
    fragments = prepared.fragments()
    values = with_defaults(op, variables)
    names: list[str] = []

    def walk(selection_set: SelectionSetNode) -> None:
        for sel in selection_set.selections:
            if not included(sel, values):
                continue
            if isinstance(sel, FieldNode):
                names.append(sel.name.value)
            elif isinstance(sel, InlineFragmentNode):
                walk(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
                walk(fragments[sel.name.value].selection_set)

    walk(op.selection_set)
    return names


def estimate_complexity(
    prepared: PreparedDocument,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    schema: GraphQLSchema | None = None,
) -> int:
    """Linear's complexity score of the operation, as third parties describe it (UNVERIFIED):
    0.1 point per scalar, 1 per object, and a connection multiplies its children by ``first``/``last``
    (default 50); the total is rounded up."""
    op = prepared.operation(operation_name)
    if op is None:
        return 0
    schema = schema if schema is not None else linear_schema()
    root = schema.mutation_type if op.operation == OperationType.MUTATION else schema.query_type
    if root is None:
        return 0
    fragments = prepared.fragments()
    variables = with_defaults(op, variables)

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
            if not included(sel, variables):
                continue
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
                elif is_connection(named):
                    total += page_size(sel) * cost(sel.selection_set, named)
                else:
                    total += 1 + cost(sel.selection_set, named)
        return total

    return math.ceil(cost(op.selection_set, root) - 1e-9)
