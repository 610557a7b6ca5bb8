"""A local emulator of the Notion API (version 2025-09-03, data sources), for notion-client 3.x.

It serves, under ``/v1``: users, databases (containers listing their data sources), data sources (schema,
schema edits and the query endpoint with filters, sorts and cursors), pages (create, retrieve, update,
trash, one property), block children (append and list), comments and a minimal search.

Faithfulness notes (sources in API_NOTES.md §3):

- ``Notion-Version`` is required (400 ``missing_version``); 2025-09-03 and 2026-03-11 are accepted. Under
  2025-09-03 objects carry both ``archived`` and ``in_trash``; under 2026-03-11 only ``in_trash``.
- **``created_time`` and ``last_edited_time`` are rounded down to the minute**, as real Notion does
  (UNVERIFIED in the notes, widely reported). Two edits in the same minute are indistinguishable, so an
  incremental sync must re-read with overlap (``on_or_after`` its last seen minute) rather than ``after``.
- Rate limit (when enabled): a fixed budget per 60-second window on the emulator clock, 180 by default
  (the older doc's "3 requests per second on average"), answered with 429 ``rate_limited``, an integer
  ``Retry-After`` (at most 60) and ``additional_data.rate_limit_reason``.
- Query order without ``sorts`` is creation order (UNVERIFIED; the API does not document a default), and its
  ``next_cursor`` is the id of the next row, as Notion's cursors are. A sorted query's cursor encodes the
  last row's sort key, so paging stays stable when rows are edited between pages.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import string
import uuid
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cmp_to_key
from typing import Any

from pmtui.sandbox.notion_demo import (
    DEMO_COMMENTS,
    DEMO_DESCRIPTIONS,
    DEMO_PROJECTS,
    DEMO_TAGS,
    DEMO_TASKS,
)
from pmtui.sandbox.notion_query import (
    compile_filter,
    compile_sorts,
    decode_cursor,
    encode_cursor,
    find_property,
    row_comparator,
    sort_rows,
)
from pmtui.sandbox.notion_values import (
    COMPUTED_TYPES,
    DEFAULT_STATUS_GROUPS,
    FORMULA_RE,
    MISSING,
    SCHEMA_TYPES,
    api_error,
    build_property,
    empty_value,
    formula_value,
    js,
    normalize_uuid,
    option,
    plain_text,
    property_type,
    read_value,
    rich_text,
    shape_error,
    status_config,
    text_item,
    update_property_config,
    validation_error,
    write_value,
)
from pmtui.sandbox.server import (
    Clock,
    HttpError,
    Request,
    Response,
    ServiceEmulator,
    WindowLimiter,
    iso_z,
)

DEFAULT_API_KEY = "ntn_3141592653589sandboxTokenDoNotUseInProductionAbC"
"""A fake internal-integration token in Notion's ``ntn_`` format."""

VERSION_2022 = "2022-06-28"
"""The version before data sources, which Notion still serves: a database is one table (schema, query,
page parent), and ``/v1/data_sources`` does not exist."""
VERSION_2025 = "2025-09-03"
VERSION_2026 = "2026-03-11"
SUPPORTED_VERSIONS = (VERSION_2022, VERSION_2025, VERSION_2026)

DEFAULT_RATE_LIMIT = 180
"""Requests per window per connection: the documented average of 3 req/s over a 60 s window."""
DEFAULT_RATE_WINDOW = 60.0
RATE_LIMIT_REASON = "connection_rate_limit"
"""``additional_data.rate_limit_reason`` for the per-connection limit; the real value is UNVERIFIED."""

PAGE_SIZE_MAX = 100
SORTED_CACHE_SIZE = 8
BLOCK_CHILDREN_MAX = 100
"""Blocks per append request ([doc] append-block-children)."""

TEXT_BLOCK_TYPES = (
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "bulleted_list_item",
    "numbered_list_item",
    "to_do",
    "toggle",
    "quote",
    "callout",
    "code",
)
BLOCK_TYPES = (*TEXT_BLOCK_TYPES, "divider")

_USER_NAMESPACE = uuid.UUID("6a1f4e0c-3b8e-4d57-9a6f-2d0c1b7e9f10")
_SHORT_ID_CHARS = string.ascii_letters + string.digits

WORKSPACE_NAME = "Acme Docs"
BOT_NAME = "pmtui sandbox"
PEOPLE = (
    ("Ada Lovelace", "ada@acme.example"),
    ("Grace Hopper", "grace@acme.example"),
    ("Linus Pauling", "linus@acme.example"),
)

_STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "restricted_resource",
    404: "object_not_found",
    409: "conflict_error",
    429: "rate_limited",
    500: "internal_server_error",
    502: "internal_server_error",
    503: "service_unavailable",
    504: "gateway_timeout",
    529: "service_overload",
}
_STATUS_MESSAGES = {
    500: "Unexpected error occurred.",
    503: "Notion is unavailable, please try again later.",
    504: "Notion timed out, please try again later.",
    529: "Notion is overloaded, please try again later.",
}


def minute_floor(seconds: float) -> int:
    """Epoch seconds rounded down to the minute: Notion's precision for created/last-edited times."""
    return int(seconds // 60) * 60


def stamp_iso(seconds: int) -> str:
    """A stored minute stamp as Notion formats it (``2026-11-24T10:15:00.000Z``)."""
    return iso_z(datetime.fromtimestamp(seconds, tz=UTC))


class NotionEmulator(ServiceEmulator):
    """The Notion API over data sources, with the admin surface of :class:`ServiceEmulator`."""

    name = "notion"

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        api_key: str = DEFAULT_API_KEY,
        rate_limit_requests: int = DEFAULT_RATE_LIMIT,
        rate_limit_window: float = DEFAULT_RATE_WINDOW,
    ) -> None:
        super().__init__(clock=clock, seed=seed)
        self.api_key = api_key
        self._seed = seed
        self._request_ids = random.Random(seed ^ 0x5EED)
        self.limiter = WindowLimiter(rate_limit_requests, rate_limit_window, self.clock)
        self.comment_display_names = True
        """Comments carry ``display_name`` (Notion's current shape); off, they show only ``created_by``,
        as older comments and some API versions do, so a client's users lookup can be tested."""
        self._positions: dict[str, tuple[int, dict[str, int]]] = {}
        self._sorted_cache: dict[tuple[str, str, int, int], tuple[list[list[Any]], dict[str, int]]] = {}
        api = self._api
        self.route("GET", "/v1/users/me", api(self._users_me))
        self.route("GET", "/v1/users", api(self._users_list))
        self.route("GET", "/v1/users/:user_id", api(self._users_get))
        self.route("GET", "/v1/databases/:database_id", api(self._database_get))
        self.route("GET", "/v1/data_sources/:data_source_id", api(self._data_source_get))
        self.route("PATCH", "/v1/data_sources/:data_source_id", api(self._data_source_update))
        self.route("POST", "/v1/data_sources/:data_source_id/query", api(self._query), write=False)
        self.route("POST", "/v1/databases/:database_id/query", api(self._database_query), write=False)
        self.route("POST", "/v1/pages", api(self._page_create))
        self.route("GET", "/v1/pages/:page_id", api(self._page_get))
        self.route("PATCH", "/v1/pages/:page_id", api(self._page_update))
        self.route("GET", "/v1/pages/:page_id/properties/:property_id", api(self._page_property))
        self.route("GET", "/v1/blocks/:block_id/children", api(self._children_list))
        self.route("PATCH", "/v1/blocks/:block_id/children", api(self._children_append))
        self.route("GET", "/v1/blocks/:block_id", api(self._block_get))
        self.route("GET", "/v1/comments", api(self._comments_list))
        self.route("POST", "/v1/comments", api(self._comment_create))
        self.route("POST", "/v1/search", api(self._search), write=False)

    # ------------------------------------------------------------------------------------------ hooks

    def reset_state(self) -> None:
        """An empty workspace: the integration's bot user and three people, no databases."""
        users: dict[str, dict[str, Any]] = {}
        bot_id = str(uuid.uuid5(_USER_NAMESPACE, "bot"))
        users[bot_id] = {
            "object": "user",
            "id": bot_id,
            "name": BOT_NAME,
            "avatar_url": None,
            "type": "bot",
            "bot": {
                "owner": {"type": "workspace", "workspace": True},
                "workspace_name": WORKSPACE_NAME,
                "workspace_id": str(uuid.uuid5(_USER_NAMESPACE, "workspace")),
                "workspace_limits": {"max_file_upload_size_in_bytes": 5 * 1024 * 1024},
            },
        }
        for name, email in PEOPLE:
            user_id = str(uuid.uuid5(_USER_NAMESPACE, email))
            users[user_id] = {
                "object": "user",
                "id": user_id,
                "name": name,
                "avatar_url": None,
                "type": "person",
                "person": {"email": email, "email_verified": True},
            }
        self.state = {
            "bot_id": bot_id,
            "users": users,
            "databases": {},
            "data_sources": {},
            "pages": {},
            "page_order": [],
            "blocks": {},
            "children": {},
            "comments": {},
            "page_comments": {},
            "tasks_data_source_id": None,
            "projects_data_source_id": None,
        }
        self._positions = {}
        self._touch()

    def _touch(self) -> None:
        """Note a change to pages or schemas (invalidates cached sorted query results)."""
        self._generation = getattr(self, "_generation", 0) + 1
        self._sorted_cache = {}

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the state with a snapshot (and drop caches built over the old one)."""
        super().restore(data)
        with self.lock:
            self._positions = {}
            self._touch()

    def authenticate(self, request: Request) -> None:
        """Check ``Notion-Version`` (required) and the bearer token, in that order."""
        version = request.header("notion-version")
        if not version:
            raise api_error(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be defined, "
                "instead was `undefined`.",
            )
        if version not in SUPPORTED_VERSIONS:
            raise validation_error(
                f"Notion-Version header failed validation: the emulator supports "
                f"{' and '.join(SUPPORTED_VERSIONS)}, instead was `{js(version)}`."
            )
        if request.header("authorization") != f"Bearer {self.api_key}":
            raise api_error(401, "unauthorized", "API token is invalid.")

    def error_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        """Notion's error object: ``{object: "error", status, code, message, request_id}``."""
        if isinstance(body, dict) and body.get("object") == "error":
            return Response(status, body, headers)
        data = body if isinstance(body, dict) else {"message": str(body)}
        code = data.get("code")
        message = data.get("message") or ""
        if code is None:
            if status in (404, 405):
                # A path no route matches: Notion answers 400 invalid_request_url, not 404.
                status, code, message = 400, "invalid_request_url", "Invalid request URL."
            elif status == 400:
                code, message = "invalid_json", "Error parsing JSON body."
            else:
                code = _STATUS_CODES.get(
                    status, "internal_server_error" if status >= 500 else "invalid_request"
                )
                message = _STATUS_MESSAGES.get(status, message)
        payload: dict[str, Any] = {
            "object": "error",
            "status": status,
            "code": code,
            "message": message,
            "request_id": self._request_id(),
        }
        if "additional_data" in data:
            payload["additional_data"] = data["additional_data"]
        if status == 529 and "Retry-After" not in headers:
            headers = {**headers, "Retry-After": "1"}
        return Response(status, payload, headers)

    def rate_limit(self, request: Request) -> Response | None:
        """Charge the per-connection window; over budget, 429 with the seconds left in the window."""
        allowed, _remaining, reset_at = self.limiter.take()
        if allowed:
            return None
        return self.throttled_response(reset_at - self.clock.time())

    def throttled_response(self, retry_after: float) -> Response:
        """429 ``rate_limited`` with an integer ``Retry-After`` of at most 60 s."""
        seconds = min(60, max(0, math.ceil(retry_after)))
        return self.error_response(
            429,
            {
                "code": "rate_limited",
                "message": "You have been rate limited. Please try again in a few minutes.",
                "additional_data": {"rate_limit_reason": RATE_LIMIT_REASON},
            },
            {"Retry-After": str(seconds)},
        )

    # ------------------------------------------------------------------------------------- helpers

    def short_id(self) -> str:
        """A 4-character property id from the seeded generator (Notion's are short, URL-safe strings)."""
        return "".join(self.rng.choice(_SHORT_ID_CHARS) for _ in range(4))

    def _request_id(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self._request_ids.getrandbits(128), version=4))

    def _stamp(self) -> int:
        return minute_floor(self.clock.time())

    def _api(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """Wrap a handler so that 2026-03-11 responses drop ``archived`` (renamed ``in_trash``)."""

        def wrapped(request: Request) -> Response:
            version = request.header("notion-version")
            if version == VERSION_2022 and "/v1/data_sources" in request.route:
                raise _invalid_url()  # the route does not exist before 2025-09-03
            response = handler(request)
            if version == VERSION_2026:
                _drop_archived(response.body)
            elif version == VERSION_2022:
                _as_databases(response.body)
            if isinstance(response.body, dict) and "object" in response.body:
                response.body["request_id"] = self._request_id()
            return response

        return wrapped

    @staticmethod
    def _version(request: Request) -> str:
        return request.header("notion-version") or VERSION_2025

    @staticmethod
    def _body(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise shape_error("body", "an object", body)
        for key in body:
            if key not in allowed:
                raise validation_error(f"body failed validation: body.{key} should be not present.")
        return body

    @staticmethod
    def _id(raw: str, what: str) -> str:
        normalized = normalize_uuid(raw)
        if normalized is None:
            raise validation_error(
                f"path failed validation: path.{what} should be a valid uuid, instead was `{js(raw)}`."
            )
        return normalized

    @staticmethod
    def _page_size(raw: Any, where: str) -> int:
        if raw is None:
            return PAGE_SIZE_MAX
        if isinstance(raw, str):
            try:
                raw = int(raw)
            except ValueError as exc:
                raise validation_error(
                    f"{where.split('.')[0]} failed validation: {where} should be a number, "
                    f"instead was `{js(raw)}`."
                ) from exc
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise shape_error(where, "an integer", raw)
        if raw < 1:
            raise validation_error(f"body failed validation: {where} should be ≥ `1`, instead was `{raw}`.")
        if raw > PAGE_SIZE_MAX:
            raise validation_error(
                f"body failed validation: {where} should be ≤ `{PAGE_SIZE_MAX}`, instead was `{raw}`."
            )
        return raw

    def _known_user(self, user_id: str) -> bool:
        return user_id in self.state["users"]

    def _user_ref(self, user_id: str) -> dict[str, Any]:
        return {"object": "user", "id": user_id}

    def _user_full(self, user_id: str) -> dict[str, Any]:
        user = self.state["users"].get(user_id)
        return dict(user) if user else self._user_ref(user_id)

    def _not_found(self, what: str, object_id: str) -> HttpError:
        return api_error(
            404,
            "object_not_found",
            f"Could not find {what} with ID: {object_id}. Make sure the relevant pages and databases are "
            f'shared with your integration "{BOT_NAME}".',
            integration_id=self.state["bot_id"],
        )

    def _get_page(self, raw_id: str, what: str = "page_id") -> dict[str, Any]:
        page_id = self._id(raw_id, what)
        page: dict[str, Any] | None = self.state["pages"].get(page_id)
        if page is None:
            raise self._not_found("page", page_id)
        return page

    def _get_data_source(self, raw_id: str) -> dict[str, Any]:
        ds_id = self._id(raw_id, "data_source_id")
        ds: dict[str, Any] | None = self.state["data_sources"].get(ds_id)
        if ds is None:
            raise self._not_found("data source", ds_id)
        return ds

    def _database_of(self, data_source_id: str) -> str:
        ds = self.state["data_sources"].get(data_source_id)
        if ds is None:
            raise self._not_found("data source", data_source_id)
        return str(ds["database_id"])

    def _paginate(self, ids: list[str], cursor: str | None, page_size: int) -> tuple[list[str], str | None]:
        """A page of ``ids`` starting at ``cursor`` (the id of the first row, as Notion's cursors are)."""
        start = 0
        if cursor:
            try:
                start = ids.index(normalize_uuid(cursor) or cursor)
            except ValueError as exc:
                raise validation_error(f"start_cursor provided is invalid: {cursor}") from exc
        chunk = ids[start : start + page_size]
        rest = ids[start + page_size : start + page_size + 1]
        return chunk, (rest[0] if rest else None)

    @staticmethod
    def _list(results: list[Any], next_cursor: str | None, kind: str) -> dict[str, Any]:
        return {
            "object": "list",
            "results": results,
            "next_cursor": next_cursor,
            "has_more": next_cursor is not None,
            "type": kind,
            kind: {},
        }

    # --------------------------------------------------------------------------------------- render

    def page_json(self, page: dict[str, Any], only: set[str] | None = None) -> dict[str, Any]:
        """A page as the API shows it (both ``archived`` and ``in_trash``; the wrapper drops one)."""
        title_items: list[dict[str, Any]] = page["values"].get("title") or []
        properties: dict[str, Any] = {}
        ds = self.state["data_sources"].get(page["data_source_id"]) if page["data_source_id"] else None
        if ds is None:
            properties["title"] = {"id": "title", "type": "title", "title": [dict(i) for i in title_items]}
            parent = dict(page["parent"])
        else:
            for name, prop in ds["properties"].items():
                if only is not None and prop["id"] not in only:
                    continue
                properties[name] = read_value(prop, page, user=self._user_full, stamp=stamp_iso)
                if prop["type"] in COMPUTED_TYPES:
                    properties[name][prop["type"]] = self._computed(ds, prop, page)
            parent = {
                "type": "data_source_id",
                "data_source_id": ds["id"],
                "database_id": ds["database_id"],
            }
        hex_id = page["id"].replace("-", "")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", plain_text(title_items)).strip("-")
        return {
            "object": "page",
            "id": page["id"],
            "created_time": stamp_iso(page["created"]),
            "last_edited_time": stamp_iso(page["edited"]),
            "created_by": self._user_ref(page["created_by"]),
            "last_edited_by": self._user_ref(page["edited_by"]),
            "cover": copy.deepcopy(page["cover"]),
            "icon": copy.deepcopy(page["icon"]),
            "parent": parent,
            "archived": page["in_trash"],
            "in_trash": page["in_trash"],
            "is_archived": page["in_trash"],
            "is_locked": page.get("is_locked", False),
            "properties": properties,
            "url": f"https://www.notion.so/{slug}-{hex_id}" if slug else f"https://www.notion.so/{hex_id}",
            "public_url": None,
        }

    def data_source_json(self, ds: dict[str, Any]) -> dict[str, Any]:
        """A data source: its schema under ``properties`` and its database as ``parent``."""
        return {
            "object": "data_source",
            "id": ds["id"],
            "created_time": stamp_iso(ds["created"]),
            "last_edited_time": stamp_iso(ds["edited"]),
            "created_by": self._user_ref(ds["created_by"]),
            "last_edited_by": self._user_ref(ds["edited_by"]),
            "title": copy.deepcopy(ds["title"]),
            "description": copy.deepcopy(ds["description"]),
            "icon": copy.deepcopy(ds["icon"]),
            "cover": None,
            "properties": {name: self._schema_json(ds, prop) for name, prop in ds["properties"].items()},
            "parent": {"type": "database_id", "database_id": ds["database_id"]},
            "database_parent": {"type": "workspace", "workspace": True},
            "is_inline": False,
            "archived": ds["in_trash"],
            "in_trash": ds["in_trash"],
            "url": f"https://www.notion.so/{ds['database_id'].replace('-', '')}",
            "public_url": None,
        }

    def _schema_json(self, ds: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
        """One property's schema as the API shows it: with its ``description`` and a rollup's ids."""
        shown = {k: v for k, v in copy.deepcopy(prop).items() if not k.startswith("_")}
        shown.setdefault("description", None)
        if prop["type"] == "rollup":
            relation, target = self._rollup_parts(ds, prop)
            shown["rollup"].update(
                {
                    "relation_property_id": relation["id"] if relation else None,
                    "relation_property_name": relation["name"] if relation else None,
                    "rollup_property_id": target["id"] if target else None,
                    "rollup_property_name": target["name"] if target else None,
                }
            )
        return shown

    def _rollup_parts(
        self, ds: dict[str, Any], prop: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """A rollup's relation property (here) and the property it rolls up (in the related source)."""
        config = prop["rollup"]

        def pick(props: dict[str, Any], part: str) -> dict[str, Any] | None:
            wanted_id, wanted_name = config.get(f"{part}_id"), config.get(f"{part}_name")
            return next((p for p in props.values() if p["id"] == wanted_id or p["name"] == wanted_name), None)

        relation = pick(ds["properties"], "relation_property")
        if relation is None or relation["type"] != "relation":
            return None, None
        related = self.state["data_sources"].get(relation["relation"]["data_source_id"])
        return relation, pick(related["properties"], "rollup_property") if related else None

    def _computed(self, ds: dict[str, Any], prop: dict[str, Any], page: dict[str, Any]) -> dict[str, Any]:
        """A formula's or rollup's value, computed on read as Notion does."""
        if prop["type"] == "formula":
            match = FORMULA_RE.match(prop["formula"]["expression"])
            source = find_property(ds["properties"], match.group(1)) if match else None
            if source is None or source["type"] in COMPUTED_TYPES:
                return formula_value(None)
            return formula_value(read_value(source, page, user=self._user_full, stamp=stamp_iso))
        relation, target = self._rollup_parts(ds, prop)
        function = prop["rollup"]["function"]
        related_ids = page["values"].get(relation["id"], []) if relation else []
        related = [self.state["pages"][i] for i in related_ids if i in self.state["pages"]]
        if function == "count":
            return {"type": "number", "number": len(related), "function": function}
        items = []
        if target is not None:
            for other in related:
                value = read_value(target, other, user=self._user_full, stamp=stamp_iso)
                value.pop("id", None)
                items.append(value)
        return {"type": "array", "array": items, "function": function}

    def _number_pages(self, ds: dict[str, Any]) -> None:
        """Give each page of ``ds`` without one its ``unique_id`` number, in creation order.

        Notion numbers existing rows when the property is added and each new row after that; numbers
        are never reused.
        """
        for prop in ds["properties"].values():
            if prop["type"] != "unique_id":
                continue
            pages = [self.state["pages"][i] for i in ds["page_ids"] if i in self.state["pages"]]
            taken = [p["values"][prop["id"]] for p in pages if isinstance(p["values"].get(prop["id"]), int)]
            counter = prop.setdefault("_next", max(taken, default=0) + 1)
            for page in pages:
                if not isinstance(page["values"].get(prop["id"]), int):
                    page["values"][prop["id"]] = counter
                    counter += 1
            prop["_next"] = counter

    def database_json(self, db: dict[str, Any]) -> dict[str, Any]:
        """A database container, listing its data sources as ``[{id, name}]``."""
        sources = [self.state["data_sources"][i] for i in db["data_source_ids"]]
        return {
            "object": "database",
            "id": db["id"],
            "title": copy.deepcopy(db["title"]),
            "description": copy.deepcopy(db["description"]),
            "icon": copy.deepcopy(db["icon"]),
            "cover": None,
            "parent": {"type": "workspace", "workspace": True},
            "is_inline": False,
            "is_locked": False,
            "archived": db["in_trash"],
            "in_trash": db["in_trash"],
            "created_time": stamp_iso(db["created"]),
            "last_edited_time": stamp_iso(db["edited"]),
            "data_sources": [{"id": s["id"], "name": plain_text(s["title"])} for s in sources],
            "url": f"https://www.notion.so/{db['id'].replace('-', '')}",
            "public_url": None,
        }

    def block_json(self, block: dict[str, Any]) -> dict[str, Any]:
        """A block object; ``archived`` and ``in_trash`` mirror each other."""
        kind = block["type"]
        return {
            "object": "block",
            "id": block["id"],
            "parent": dict(block["parent"]),
            "created_time": stamp_iso(block["created"]),
            "last_edited_time": stamp_iso(block["edited"]),
            "created_by": self._user_ref(block["created_by"]),
            "last_edited_by": self._user_ref(block["edited_by"]),
            "has_children": bool(self.state["children"].get(block["id"])),
            "archived": block["in_trash"],
            "in_trash": block["in_trash"],
            "type": kind,
            kind: {**copy.deepcopy(block["content"]), **({"icon": None} if kind == "paragraph" else {})},
        }

    def comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        """A comment object with its page parent and discussion thread."""
        return {
            "object": "comment",
            "id": comment["id"],
            "parent": dict(comment["parent"]),
            "discussion_id": comment["discussion_id"],
            "created_time": stamp_iso(comment["created"]),
            "last_edited_time": stamp_iso(comment["edited"]),
            "created_by": self._user_ref(comment["created_by"]),
            "rich_text": copy.deepcopy(comment["rich_text"]),
            **({"display_name": self._display_name(comment)} if self.comment_display_names else {}),
        }

    def _display_name(self, comment: dict[str, Any]) -> dict[str, Any]:
        """Who the comment shows as: its author (a person or the integration), or a custom name."""
        custom = comment.get("display_name")
        if custom:
            return {"type": "custom", "resolved_name": custom}
        user = self.state["users"].get(comment["created_by"], {})
        kind = "integration" if user.get("type") == "bot" else "user"
        return {"type": kind, "resolved_name": user.get("name") or ""}

    # ----------------------------------------------------------------------------------------- users

    def _users_me(self, request: Request) -> Response:
        with self.lock:
            return Response(200, self._user_full(self.state["bot_id"]))

    def _users_list(self, request: Request) -> Response:
        page_size = self._page_size(request.arg("page_size"), "query.page_size")
        with self.lock:
            ids = list(self.state["users"])
            chunk, next_cursor = self._paginate(ids, request.arg("start_cursor"), page_size)
            return Response(200, self._list([self._user_full(i) for i in chunk], next_cursor, "user"))

    def _users_get(self, request: Request) -> Response:
        user_id = self._id(request.params["user_id"], "user_id")
        with self.lock:
            if user_id not in self.state["users"]:
                raise self._not_found("user", user_id)
            return Response(200, self._user_full(user_id))

    # ------------------------------------------------------------------------------ databases/sources

    def _database_get(self, request: Request) -> Response:
        db_id = self._id(request.params["database_id"], "database_id")
        with self.lock:
            db = self.state["databases"].get(db_id)
            if db is None:
                raise self._not_found("database", db_id)
            if self._version(request) == VERSION_2022:
                return Response(200, self._database_2022(db))
            return Response(200, self.database_json(db))

    def _only_source(self, db: dict[str, Any]) -> dict[str, Any]:
        """A database's one data source, as 2022-06-28 sees it; with several it cannot be served."""
        if len(db["data_source_ids"]) != 1:
            raise validation_error(
                "Databases with multiple data sources are not supported in this API version."
            )
        return dict(self.state["data_sources"][db["data_source_ids"][0]])

    def _database_2022(self, db: dict[str, Any]) -> dict[str, Any]:
        """A database in 2022-06-28's shape: the container and its data source's schema in one object."""
        shown = self.database_json(db)
        ds = self.data_source_json(self._only_source(db))
        del shown["data_sources"]
        shown["properties"] = ds["properties"]
        shown["created_by"], shown["last_edited_by"] = ds["created_by"], ds["last_edited_by"]
        return shown

    def _database_query(self, request: Request) -> Response:
        """``POST /v1/databases/{id}/query``: 2022-06-28's query, the only data source's query since."""
        if self._version(request) != VERSION_2022:
            raise _invalid_url()
        db_id = self._id(request.params["database_id"], "database_id")
        with self.lock:
            db = self.state["databases"].get(db_id)
            if db is None:
                raise self._not_found("database", db_id)
            ds_id = self._only_source(db)["id"]
        request.params = {**request.params, "data_source_id": ds_id}
        return self._query(request)

    def _data_source_get(self, request: Request) -> Response:
        with self.lock:
            return Response(
                200, self.data_source_json(self._get_data_source(request.params["data_source_id"]))
            )

    def _data_source_update(self, request: Request) -> Response:
        body = self._body(
            request, ("title", "description", "properties", "icon", "in_trash", "archived", "parent")
        )
        with self.lock:
            ds = self._get_data_source(request.params["data_source_id"])
            self.update_data_source(ds, body, self.state["bot_id"])
            return Response(200, self.data_source_json(ds))

    def update_data_source(self, ds: dict[str, Any], body: dict[str, Any], editor: str) -> None:
        """Apply a data source PATCH: title, description, and property adds, renames, edits and removals.

        ``{"Name": {"rich_text": {}}}`` adds, ``{"Old": {"name": "New"}}`` renames, ``{"X": null}`` removes.
        Validated in full before anything changes.
        """
        title = rich_text(body["title"], "body.title") if "title" in body else None
        description = rich_text(body["description"], "body.description") if "description" in body else None
        props = copy.deepcopy(ds["properties"])
        raw_props = body.get("properties")
        if raw_props is not None:
            if not isinstance(raw_props, dict):
                raise shape_error("body.properties", "an object", raw_props)
            for key, config in raw_props.items():
                props = self._edit_property(props, key, config)
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None and not isinstance(trash, bool):
            raise shape_error("body.in_trash", "a boolean", trash)
        ds["properties"] = props
        self._number_pages(ds)
        if title is not None:
            ds["title"] = title
        if description is not None:
            ds["description"] = description
        if "icon" in body:
            ds["icon"] = _icon(body["icon"], "body.icon")
        if trash is not None:
            ds["in_trash"] = trash
        ds["edited"] = self._stamp()
        ds["edited_by"] = editor
        self._touch()

    def _edit_property(
        self, props: dict[str, dict[str, Any]], key: str, config: Any
    ) -> dict[str, dict[str, Any]]:
        where = f"body.properties.{key}"
        existing = find_property(props, key)
        if config is None:
            if existing is None:
                raise validation_error(f"{key} is not a property that exists.")
            if existing["type"] == "title":
                raise validation_error("Cannot delete the title property of a data source.")
            return {n: p for n, p in props.items() if p is not existing}
        if not isinstance(config, dict):
            raise shape_error(where, "an object or `null`", config)
        if existing is None:
            kind = property_type(config, where)
            if kind == "title" and any(p["type"] == "title" for p in props.values()):
                raise validation_error("A data source can only have one title property.")
            name = config.get("name", key)
            if not isinstance(name, str) or not name:
                raise shape_error(f"{where}.name", "a non-empty string", name)
            if name in props:
                raise validation_error(f"A property named {name} already exists.")
            return {**props, name: build_property(self, name, kind, config, where, self._database_of)}
        updated = dict(existing)
        type_keys = [k for k in config if k in SCHEMA_TYPES] or ([config["type"]] if "type" in config else [])
        if type_keys:
            kind = property_type(config, where)
            if kind != existing["type"]:
                if existing["type"] == "title" or kind == "title":
                    raise validation_error("The title property's type cannot be changed.")
                # A type change keeps the id; values that no longer fit are dropped on read.
                fresh = build_property(self, existing["name"], kind, config, where, self._database_of)
                updated = {**fresh, "id": existing["id"]}
                self._drop_values(existing["id"])
            else:
                update_property_config(self, updated, kind, config, where)
        new_name = config.get("name", existing["name"])
        if not isinstance(new_name, str) or not new_name:
            raise shape_error(f"{where}.name", "a non-empty string", new_name)
        if new_name != existing["name"] and new_name in props:
            raise validation_error(f"A property named {new_name} already exists.")
        updated["name"] = new_name
        return {
            (new_name if p is existing else n): (updated if p is existing else p) for n, p in props.items()
        }

    def _drop_values(self, prop_id: str) -> None:
        for page in self.state["pages"].values():
            page["values"].pop(prop_id, None)

    # ------------------------------------------------------------------------------------------ query

    def _query(self, request: Request) -> Response:
        body = self._body(
            request,
            (
                "filter",
                "sorts",
                "start_cursor",
                "page_size",
                "archived",
                "in_trash",
                "result_type",
                "filter_properties",
            ),
        )
        page_size = self._page_size(body.get("page_size"), "body.page_size")
        cursor = body.get("start_cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise shape_error("body.start_cursor", "a string", cursor)
        only = set(request.args("filter_properties")) or None
        with self.lock:
            ds = self._get_data_source(request.params["data_source_id"])
            schema = ds["properties"]
            predicate = (
                compile_filter(body["filter"], schema, self.now()) if body.get("filter") is not None else None
            )
            # UNVERIFIED: `in_trash: true` is read as "also include trashed pages".
            include_trashed = bool(body.get("in_trash") or body.get("archived"))
            pages = self.state["pages"]
            ids: list[str] = ds["page_ids"]

            def visible(page: dict[str, Any]) -> bool:
                return (include_trashed or not page["in_trash"]) and (predicate is None or predicate(page))

            results: list[dict[str, Any]] = []
            next_cursor: str | None = None
            sorts = body.get("sorts")
            if not sorts:
                start = 0
                if cursor:
                    position = self._position(ds).get(normalize_uuid(cursor) or "")
                    if position is None:
                        raise validation_error(f"start_cursor provided is invalid: {cursor}")
                    start = position
                for index in range(start, len(ids)):
                    page = pages[ids[index]]
                    if not visible(page):
                        continue
                    if len(results) == page_size:
                        next_cursor = page["id"]
                        break
                    results.append(page)
            else:
                key, descending = compile_sorts(sorts, schema)
                # Paging a sorted query re-runs it per page; the sorted rows are cached until the next write
                # (or the next minute, for relative-date filters) so each page costs O(page size).
                cache_key = (
                    ds["id"],
                    json.dumps([body.get("filter"), sorts, include_trashed], sort_keys=True),
                    self._generation,
                    self._stamp(),
                )
                cached = self._sorted_cache.get(cache_key)
                if cached is None:
                    rows = [[*key(page), page["id"]] for page in (pages[i] for i in ids) if visible(page)]
                    sort_rows(rows, descending)
                    cached = (rows, {row[-1]: index for index, row in enumerate(rows)})
                    while len(self._sorted_cache) >= SORTED_CACHE_SIZE:
                        self._sorted_cache.pop(next(iter(self._sorted_cache)))
                    self._sorted_cache[cache_key] = cached
                rows, row_index = cached
                start = 0
                if cursor:
                    last = decode_cursor(cursor, len(descending))
                    found = row_index.get(last[-1]) if isinstance(last[-1], str) else None
                    if found is not None and rows[found] == last:
                        start = found + 1
                    else:
                        # The cursor's row moved (edited since): resume after its old sort key.
                        wrap = cmp_to_key(row_comparator(descending))
                        start = bisect_right(rows, wrap(last), key=wrap)
                chunk = rows[start : start + page_size]
                results = [pages[row[-1]] for row in chunk]
                if start + page_size < len(rows):
                    next_cursor = encode_cursor(chunk[-1])
            rendered = [self.page_json(page, only) for page in results]
        listing = self._list(rendered, next_cursor, "page_or_data_source")
        return Response(200, listing)

    def _position(self, ds: dict[str, Any]) -> dict[str, int]:
        """Page id -> index in the data source's creation order, kept up to date as pages are appended."""
        ids: list[str] = ds["page_ids"]
        cached = self._positions.get(ds["id"])
        if cached is None or cached[0] != id(ids) or len(cached[1]) > len(ids):
            cached = (id(ids), {})
            self._positions[ds["id"]] = cached
        positions = cached[1]
        for index in range(len(positions), len(ids)):
            positions[ids[index]] = index
        return positions

    # ------------------------------------------------------------------------------------------ pages

    def _page_create(self, request: Request) -> Response:
        body = self._body(
            request,
            (
                "parent",
                "properties",
                "children",
                "icon",
                "cover",
                "content",
                "markdown",
                "template",
                "position",
            ),
        )
        if "parent" not in body:
            raise shape_error("body.parent", "defined", MISSING)
        if "properties" not in body:
            raise shape_error("body.properties", "defined", MISSING)
        with self.lock:
            page = self.create_page(
                body["parent"],
                body["properties"],
                creator=self.state["bot_id"],
                children=body.get("children"),
                icon=body.get("icon"),
                cover=body.get("cover"),
                markdown=body.get("markdown"),
            )
            return Response(200, self.page_json(page))

    def create_page(
        self,
        parent: Any,
        properties: Any,
        *,
        creator: str,
        children: Any = None,
        icon: Any = None,
        cover: Any = None,
        markdown: Any = None,
    ) -> dict[str, Any]:
        """Validate and store a new page (with optional child blocks); everything is checked first."""
        if not isinstance(parent, dict):
            raise shape_error("body.parent", "an object", parent)
        if not isinstance(properties, dict):
            raise shape_error("body.properties", "an object", properties)
        ds, parent_page = self._resolve_parent(parent)
        icon_value = _icon(icon, "body.icon")
        cover_value = _cover(cover, "body.cover")
        if ds is not None:
            values, new_props = self._write_properties(ds, properties, fill=True)
        else:
            values, new_props = self._write_title_only(properties), None
        blocks: list[tuple[str, dict[str, Any], Any]] = []
        if children is not None:
            blocks = _validate_blocks(children, "body.children", 0)
        if markdown is not None:
            if not isinstance(markdown, str):
                raise shape_error("body.markdown", "a string", markdown)
            blocks.extend(
                ("paragraph", {"rich_text": [text_item(line)], "color": "default"}, None)
                for line in markdown.splitlines()
                if line.strip()
            )
        now = self._stamp()
        page_id = self.uuid()
        page: dict[str, Any] = {
            "id": page_id,
            "data_source_id": ds["id"] if ds else None,
            "database_id": ds["database_id"] if ds else None,
            "parent": {"type": "page_id", "page_id": parent_page["id"]} if parent_page else None,
            "created": now,
            "edited": now,
            "created_by": creator,
            "edited_by": creator,
            "in_trash": False,
            "is_locked": False,
            "icon": icon_value,
            "cover": cover_value,
            "values": values,
        }
        self.state["pages"][page_id] = page
        if ds is not None and new_props is not None:
            ds["properties"] = new_props
            ds["page_ids"].append(page_id)
            self._number_pages(ds)
        self.state["page_order"].append(page_id)
        self._touch()
        self._store_blocks(page_id, {"type": "page_id", "page_id": page_id}, blocks, creator, now)
        return page

    def _resolve_parent(self, parent: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        kind = parent.get("type") or next(
            (k for k in ("data_source_id", "database_id", "page_id") if k in parent), None
        )
        if kind not in ("data_source_id", "database_id", "page_id") or kind not in parent:
            raise shape_error("body.parent", "an object with data_source_id, database_id or page_id", parent)
        raw = parent[kind]
        if not isinstance(raw, str):
            raise shape_error(f"body.parent.{kind}", "a string", raw)
        target = normalize_uuid(raw)
        if target is None:
            raise shape_error(f"body.parent.{kind}", "a valid uuid", raw)
        if kind == "data_source_id":
            ds = self.state["data_sources"].get(target)
            if ds is None:
                raise self._not_found("data source", target)
            return ds, None
        if kind == "database_id":
            db = self.state["databases"].get(target)
            if db is None:
                raise self._not_found("database", target)
            if len(db["data_source_ids"]) != 1:
                raise validation_error(
                    "Databases with multiple data sources are not supported in this API version; use a "
                    "data_source_id parent."
                )
            return self.state["data_sources"][db["data_source_ids"][0]], None
        page = self.state["pages"].get(target)
        if page is None:
            raise self._not_found("page", target)
        return None, page

    def _write_title_only(self, properties: dict[str, Any]) -> dict[str, Any]:
        """Properties of a page under a page: only its title."""
        values: dict[str, Any] = {}
        for key, raw in properties.items():
            if key != "title":
                raise validation_error(f"{key} is not a property that exists.")
            holder = raw if isinstance(raw, dict) and "title" in raw else {"title": raw}
            values["title"] = rich_text(holder["title"], "body.properties.title.title")
        return values

    def _write_properties(
        self, ds: dict[str, Any], properties: dict[str, Any], *, fill: bool
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Validate property writes against the schema; returns (values by property id, updated schema).

        The schema is copied so a failed write does not leave new select options behind.
        """
        schema = ds["properties"]
        touched: dict[str, dict[str, Any]] = {}
        values: dict[str, Any] = {}
        for key, raw in properties.items():
            prop = find_property(schema, key)
            if prop is None:
                raise validation_error(f"{key} is not a property that exists.")
            work = touched.setdefault(prop["name"], copy.deepcopy(prop))
            values[prop["id"]] = write_value(
                self, work, raw, f"body.properties.{key}", known_users=self._known_user
            )
        if fill:
            for prop in schema.values():
                if prop["id"] not in values and prop["type"] not in ("created_time", "last_edited_time"):
                    default = empty_value(prop)
                    if default is not None and default != [] and default is not False:
                        values[prop["id"]] = default
        new_schema = {name: touched.get(name, prop) for name, prop in schema.items()}
        return values, new_schema

    def _page_get(self, request: Request) -> Response:
        only = set(request.args("filter_properties")) or None
        with self.lock:
            return Response(200, self.page_json(self._get_page(request.params["page_id"]), only))

    def _page_update(self, request: Request) -> Response:
        body = self._body(
            request,
            ("properties", "archived", "in_trash", "icon", "cover", "is_locked", "erase_content", "template"),
        )
        if "archived" in body and self._version(request) == VERSION_2026:
            raise validation_error("body failed validation: body.archived should be not present.")
        with self.lock:
            page = self._get_page(request.params["page_id"])
            self.update_page(page, body, self.state["bot_id"])
            return Response(200, self.page_json(page))

    def update_page(self, page: dict[str, Any], body: dict[str, Any], editor: str) -> None:
        """Apply a page PATCH (properties, trash, icon, cover, lock); validated before anything changes."""
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None and not isinstance(trash, bool):
            raise shape_error("body.in_trash", "a boolean", trash)
        properties = body.get("properties")
        if properties is not None and not isinstance(properties, dict):
            raise shape_error("body.properties", "an object", properties)
        edits_content = bool(properties) or "icon" in body or "cover" in body
        if page["in_trash"] and trash is not False and edits_content:
            raise validation_error(
                "Can't edit block that is archived. You must unarchive the block before editing."
            )
        if page.get("is_locked") and properties and body.get("is_locked") is not False:
            raise validation_error("Can't edit a locked page. Unlock it before editing.")
        ds = self.state["data_sources"].get(page["data_source_id"]) if page["data_source_id"] else None
        values: dict[str, Any] = {}
        new_schema = None
        if properties:
            if ds is not None:
                values, new_schema = self._write_properties(ds, properties, fill=False)
            else:
                values = self._write_title_only(properties)
        icon = _icon(body["icon"], "body.icon") if "icon" in body else page["icon"]
        cover = _cover(body["cover"], "body.cover") if "cover" in body else page["cover"]
        locked = body.get("is_locked", page.get("is_locked", False))
        if not isinstance(locked, bool):
            raise shape_error("body.is_locked", "a boolean", locked)
        if ds is not None and new_schema is not None:
            ds["properties"] = new_schema
        page["values"].update(values)
        page["icon"], page["cover"], page["is_locked"] = icon, cover, locked
        if trash is not None:
            page["in_trash"] = trash
        if body.get("erase_content"):
            self.state["children"].pop(page["id"], None)
        if body:
            page["edited"] = self._stamp()
            page["edited_by"] = editor
        self._touch()

    def _page_property(self, request: Request) -> Response:
        page_size = self._page_size(request.arg("page_size"), "query.page_size")
        with self.lock:
            page = self._get_page(request.params["page_id"])
            ds = self.state["data_sources"].get(page["data_source_id"]) if page["data_source_id"] else None
            key = request.params["property_id"]
            if ds is None:
                prop = (
                    {"id": "title", "name": "title", "type": "title", "title": {}} if key == "title" else None
                )
            else:
                prop = find_property(ds["properties"], key)
            if prop is None:
                raise self._not_found("property", key)
            value = read_value(prop, page, user=self._user_full, stamp=stamp_iso)
            kind = str(prop["type"])
            if kind not in ("title", "rich_text", "people", "relation"):
                return Response(
                    200, {"object": "property_item", "id": prop["id"], "type": kind, kind: value[kind]}
                )
            items = [
                {"object": "property_item", "id": prop["id"], "type": kind, kind: v} for v in value[kind]
            ]
            chunk = items[:page_size]
            listing = self._list(chunk, None, "property_item")
            listing["property_item"] = {"id": prop["id"], "next_url": None, "type": kind, kind: {}}
            return Response(200, listing)

    # ----------------------------------------------------------------------------------------- blocks

    def _container(self, raw_id: str) -> tuple[str, dict[str, Any]]:
        """A page or block that can hold children: (id, the parent object children get)."""
        block_id = self._id(raw_id, "block_id")
        if block_id in self.state["pages"]:
            return block_id, {"type": "page_id", "page_id": block_id}
        if block_id in self.state["blocks"]:
            return block_id, {"type": "block_id", "block_id": block_id}
        raise self._not_found("block", block_id)

    def _children_list(self, request: Request) -> Response:
        page_size = self._page_size(request.arg("page_size"), "query.page_size")
        with self.lock:
            container, _parent = self._container(request.params["block_id"])
            ids = [
                i
                for i in self.state["children"].get(container, [])
                if not self.state["blocks"][i]["in_trash"]
            ]
            chunk, next_cursor = self._paginate(ids, request.arg("start_cursor"), page_size)
            results = [self.block_json(self.state["blocks"][i]) for i in chunk]
            return Response(200, self._list(results, next_cursor, "block"))

    def _children_append(self, request: Request) -> Response:
        body = self._body(request, ("children", "after", "position"))
        if "children" not in body:
            raise shape_error("body.children", "defined", MISSING)
        blocks = _validate_blocks(body["children"], "body.children", 0)
        with self.lock:
            container, parent = self._container(request.params["block_id"])
            existing = self.state["children"].setdefault(container, [])
            index = len(existing)
            anchor = body.get("after")
            position = body.get("position")
            if isinstance(position, dict):
                if position.get("type") == "start":
                    index = 0
                elif position.get("type") == "after_block":
                    anchor = (position.get("after_block") or {}).get("id")
            if anchor is not None:
                anchor_id = normalize_uuid(anchor)
                if anchor_id not in existing:
                    raise validation_error(f"Could not find block to append after: {anchor}.")
                index = existing.index(anchor_id) + 1
            now = self._stamp()
            new_ids = self._store_blocks(container, parent, blocks, self.state["bot_id"], now, index=index)
            if container in self.state["pages"]:
                # Editing a page's content bumps its last_edited_time, as in the Notion UI.
                page = self.state["pages"][container]
                page["edited"], page["edited_by"] = now, self.state["bot_id"]
                self._touch()
            results = [self.block_json(self.state["blocks"][i]) for i in new_ids]
            return Response(200, self._list(results, None, "block"))

    def _store_blocks(
        self,
        container: str,
        parent: dict[str, Any],
        blocks: list[tuple[str, dict[str, Any], Any]],
        creator: str,
        now: int,
        *,
        index: int | None = None,
    ) -> list[str]:
        new_ids: list[str] = []
        for kind, content, nested in blocks:
            block_id = self.uuid()
            self.state["blocks"][block_id] = {
                "id": block_id,
                "parent": parent,
                "type": kind,
                "content": content,
                "created": now,
                "edited": now,
                "created_by": creator,
                "edited_by": creator,
                "in_trash": False,
            }
            new_ids.append(block_id)
            if nested:
                self._store_blocks(block_id, {"type": "block_id", "block_id": block_id}, nested, creator, now)
        if new_ids:
            siblings = self.state["children"].setdefault(container, [])
            at = len(siblings) if index is None else index
            siblings[at:at] = new_ids
        return new_ids

    def _block_get(self, request: Request) -> Response:
        with self.lock:
            container, _parent = self._container(request.params["block_id"])
            block = self.state["blocks"].get(container)
            if block is not None:
                return Response(200, self.block_json(block))
            page = self.state["pages"][container]
            shown = self.page_json(page)
            title = plain_text(page["values"].get("title"))
            parent = shown["parent"]
            return Response(
                200,
                {
                    "object": "block",
                    "id": page["id"],
                    "parent": parent,
                    "created_time": shown["created_time"],
                    "last_edited_time": shown["last_edited_time"],
                    "created_by": shown["created_by"],
                    "last_edited_by": shown["last_edited_by"],
                    "has_children": bool(self.state["children"].get(page["id"])),
                    "archived": page["in_trash"],
                    "in_trash": page["in_trash"],
                    "type": "child_page",
                    "child_page": {"title": title},
                },
            )

    # --------------------------------------------------------------------------------------- comments

    def _comments_list(self, request: Request) -> Response:
        raw = request.arg("block_id")
        if not raw:
            raise validation_error(
                "query failed validation: query.block_id should be defined, instead was `undefined`."
            )
        page_size = self._page_size(request.arg("page_size"), "query.page_size")
        with self.lock:
            container, _parent = self._container(raw)
            ids = self.state["page_comments"].get(container, [])
            chunk, next_cursor = self._paginate(ids, request.arg("start_cursor"), page_size)
            results = [self.comment_json(self.state["comments"][i]) for i in chunk]
            return Response(200, self._list(results, next_cursor, "comment"))

    def _comment_create(self, request: Request) -> Response:
        body = self._body(
            request, ("parent", "discussion_id", "rich_text", "attachments", "display_name", "markdown")
        )
        if "rich_text" not in body:
            raise shape_error("body.rich_text", "defined", MISSING)
        with self.lock:
            comment = self.create_comment(body, self.state["bot_id"])
            return Response(200, self.comment_json(comment))

    def create_comment(self, body: dict[str, Any], author: str) -> dict[str, Any]:
        """Store a comment on a page (a new discussion) or in an existing discussion."""
        text = rich_text(body.get("rich_text"), "body.rich_text")
        if "parent" in body:
            parent = body["parent"]
            raw = parent.get("page_id") if isinstance(parent, dict) else None
            if not isinstance(raw, str):
                raise shape_error("body.parent.page_id", "a string", raw)
            page = self._get_page(raw, "parent.page_id")
            target, discussion = page["id"], self.uuid()
        elif "discussion_id" in body:
            wanted = normalize_uuid(body["discussion_id"])
            found = next((c for c in self.state["comments"].values() if c["discussion_id"] == wanted), None)
            if found is None:
                raise self._not_found("discussion", str(body["discussion_id"]))
            target, discussion = found["parent"]["page_id"], found["discussion_id"]
        else:
            raise validation_error(
                "body failed validation. Fix one: body.parent should be defined, instead was `undefined`. "
                "body.discussion_id should be defined, instead was `undefined`."
            )
        now = self._stamp()
        comment = {
            "id": self.uuid(),
            "parent": {"type": "page_id", "page_id": target},
            "discussion_id": discussion,
            "created": now,
            "edited": now,
            "created_by": author,
            "rich_text": text,
        }
        custom = body.get("display_name")
        if isinstance(custom, dict) and custom.get("type") == "custom":
            name = (custom.get("custom") or {}).get("name")
            if not isinstance(name, str) or not name:
                raise shape_error("body.display_name.custom.name", "a non-empty string", name)
            comment["display_name"] = name
        self.state["comments"][comment["id"]] = comment
        self.state["page_comments"].setdefault(target, []).append(comment["id"])
        return comment

    # ----------------------------------------------------------------------------------------- search

    def _search(self, request: Request) -> Response:
        body = self._body(request, ("query", "sort", "filter", "start_cursor", "page_size"))
        page_size = self._page_size(body.get("page_size"), "body.page_size")
        query = body.get("query", "")
        if not isinstance(query, str):
            raise shape_error("body.query", "a string", query)
        wanted: str | None = None
        flt = body.get("filter")
        if flt is not None:
            if not isinstance(flt, dict) or flt.get("property") != "object":
                raise shape_error("body.filter.property", '`"object"`', (flt or {}).get("property"))
            if flt.get("value") not in ("page", "data_source"):
                raise shape_error("body.filter.value", '`"page"` or `"data_source"`', flt.get("value"))
            wanted = flt["value"]
        sort = body.get("sort") or {"timestamp": "last_edited_time", "direction": "descending"}
        if not isinstance(sort, dict) or sort.get("timestamp") != "last_edited_time":
            raise shape_error("body.sort.timestamp", '`"last_edited_time"`', (sort or {}).get("timestamp"))
        if sort.get("direction", "descending") not in ("ascending", "descending"):
            raise shape_error("body.sort.direction", '`"ascending"` or `"descending"`', sort.get("direction"))
        descending = [sort.get("direction", "descending") == "descending"]
        needle = query.casefold()
        with self.lock:
            rows: list[list[Any]] = []
            if wanted in (None, "data_source"):
                for ds in self.state["data_sources"].values():
                    if not ds["in_trash"] and needle in plain_text(ds["title"]).casefold():
                        rows.append([ds["edited"], "d:" + ds["id"]])
            if wanted in (None, "page"):
                for page in self.state["pages"].values():
                    if not page["in_trash"] and needle in plain_text(page["values"].get("title")).casefold():
                        rows.append([page["edited"], "p:" + page["id"]])
            sort_rows(rows, descending)
            start = 0
            cursor = body.get("start_cursor")
            if cursor:
                wrap = cmp_to_key(row_comparator(descending))
                start = bisect_right(rows, wrap(decode_cursor(cursor, 1)), key=wrap)
            chunk = rows[start : start + page_size]
            next_cursor = encode_cursor(chunk[-1]) if start + page_size < len(rows) else None
            results = [
                self.data_source_json(self.state["data_sources"][ref[2:]])
                if ref.startswith("d:")
                else self.page_json(self.state["pages"][ref[2:]])
                for _edited, ref in chunk
            ]
        return Response(200, self._list(results, next_cursor, "page_or_data_source"))

    # ------------------------------------------------------------------------------------------ admin

    def config_hints(self) -> dict[str, Any]:
        """The ids pmtui's Notion config needs: data sources, databases and the integration's bot user."""
        with self.lock:
            tasks = self.state.get("tasks_data_source_id")
            projects = self.state.get("projects_data_source_id")
            sources = self.state["data_sources"]
            return {
                "tasks_data_source_id": tasks,
                "projects_data_source_id": projects,
                "tasks_database_id": sources[tasks]["database_id"] if tasks in sources else None,
                "projects_database_id": sources[projects]["database_id"] if projects in sources else None,
                "bot_user_id": self.state["bot_id"],
            }

    def admin_mutate(self, op: dict[str, Any]) -> Any:
        """Edit "as another user would" (a person, not the integration), bumping last_edited_time.

        Kinds: ``page`` (ops create, update, trash, untrash, delete = trash; ``fields`` by plain values such
        as ``{"Status": "Done"}`` or in API shape), ``data_source`` (op update with ``properties`` and/or
        ``title`` as in the PATCH body) and ``comment`` (op create with ``page_id`` and ``text``).
        """
        kind = op.get("kind", "page")
        action = op.get("op")
        editor = self._editor(op.get("user_id"))
        with self.lock:
            if kind == "page":
                return self._admin_page(action, op, editor)
            if kind == "data_source":
                ds = self._get_data_source(str(op.get("id") or self.state.get("tasks_data_source_id") or ""))
                if action != "update":
                    raise validation_error(f"admin: data_source supports op update, not {action!r}")
                body: dict[str, Any] = {k: op[k] for k in ("properties", "title", "description") if k in op}
                body.update(op.get("fields") or {})
                self.update_data_source(ds, body, editor)
                return self.data_source_json(ds)
            if kind == "comment" and action == "create":
                text = op.get("text", "")
                comment = self.create_comment(
                    {"parent": {"page_id": op.get("page_id")}, "rich_text": [{"text": {"content": text}}]},
                    editor,
                )
                return self.comment_json(comment)
        raise validation_error(f"admin: unknown mutation kind {kind!r} / op {action!r}")

    def _editor(self, user_id: Any) -> str:
        if isinstance(user_id, str) and normalize_uuid(user_id) in self.state["users"]:
            return str(normalize_uuid(user_id))
        return str(next(uid for uid, user in self.state["users"].items() if user["type"] == "person"))

    def _admin_page(self, action: Any, op: dict[str, Any], editor: str) -> dict[str, Any]:
        if action == "create":
            ds_id = op.get("data_source_id") or self.state.get("tasks_data_source_id")
            ds = self._get_data_source(str(ds_id or ""))
            properties = self._api_fields(ds, op.get("fields") or {})
            page = self.create_page({"data_source_id": ds["id"]}, properties, creator=editor)
            return self.page_json(page)
        page = self._get_page(str(op.get("id") or ""), "id")
        if action == "update":
            target = (
                self.state["data_sources"].get(page["data_source_id"]) if page["data_source_id"] else None
            )
            fields = dict(op.get("fields") or {})
            patch: dict[str, Any] = {}
            for flag in ("in_trash", "archived", "icon", "cover"):
                if flag in fields:
                    patch[flag] = fields.pop(flag)
            if fields:
                patch["properties"] = self._api_fields(target, fields)
            self.update_page(page, patch or {"properties": {}}, editor)
        elif action in ("trash", "delete", "untrash"):
            self.update_page(page, {"in_trash": action != "untrash"}, editor)
        else:
            raise validation_error(
                f"admin: page supports create, update, trash, untrash, delete; not {action!r}"
            )
        return self.page_json(page)

    def _api_fields(self, ds: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
        """Plain values (``{"Status": "Done", "Due": "2026-11-30"}``) to the API's write forms."""
        if ds is None:
            return fields
        out: dict[str, Any] = {}
        for key, value in fields.items():
            prop = find_property(ds["properties"], key)
            if prop is None:
                raise validation_error(f"{key} is not a property that exists.")
            out[key] = _plain_to_write(prop["type"], value)
        return out

    # ------------------------------------------------------------------------------------------ seeds

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``{"kind": "demo"}`` (replaces the workspace) or ``{"kind": "bulk", "n": N, "changed_share"?}``."""
        kind = spec.get("kind")
        with self.lock:
            if kind == "demo":
                self.rng = random.Random(self._seed)
                self.reset_state()
                return self._seed_demo()
            if kind == "bulk":
                return self._seed_bulk(int(spec.get("n", 1000)), float(spec.get("changed_share", 0.0)))
        raise HttpError(400, {"code": "validation_error", "message": f"notion cannot seed {spec!r}"})

    def _people(self) -> list[str]:
        return [uid for uid, user in self.state["users"].items() if user["type"] == "person"]

    def _make_database(
        self, title: str, properties: list[tuple[str, str, dict[str, Any]]], when: int
    ) -> dict[str, Any]:
        """A database with one data source of the same name; ``properties`` are (name, type, config)."""
        bot = self.state["bot_id"]
        db_id, ds_id = self.uuid(), self.uuid()
        schema: dict[str, dict[str, Any]] = {}
        for name, kind, config in properties:
            schema[name] = {
                "id": "title" if kind == "title" else self.short_id(),
                "name": name,
                "type": kind,
                kind: config,
            }
        title_rt = [text_item(title)]
        self.state["databases"][db_id] = {
            "id": db_id,
            "title": title_rt,
            "description": [],
            "icon": None,
            "created": when,
            "edited": when,
            "in_trash": False,
            "data_source_ids": [ds_id],
        }
        ds = {
            "id": ds_id,
            "database_id": db_id,
            "title": copy.deepcopy(title_rt),
            "description": [],
            "icon": None,
            "properties": schema,
            "created": when,
            "edited": when,
            "created_by": bot,
            "edited_by": bot,
            "in_trash": False,
            "page_ids": [],
        }
        self.state["data_sources"][ds_id] = ds
        return ds

    def _ensure_schema(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The Projects and Tasks data sources, created (empty) if the workspace has none yet."""
        sources = self.state["data_sources"]
        tasks_id, projects_id = (
            self.state.get("tasks_data_source_id"),
            self.state.get("projects_data_source_id"),
        )
        if tasks_id in sources and projects_id in sources:
            return sources[projects_id], sources[tasks_id]
        when = minute_floor(self.clock.time() - 120 * 86400)
        projects = self._make_database(
            "Projects",
            [
                ("Name", "title", {}),
                (
                    "Status",
                    "select",
                    {
                        "options": [
                            option(self, n, c)
                            for n, c in (("Active", "green"), ("Planned", "blue"), ("Done", "gray"))
                        ]
                    },
                ),
            ],
            when,
        )
        tasks = self._make_database(
            "Tasks",
            [
                ("Name", "title", {}),
                ("Status", "status", status_config(self, DEFAULT_STATUS_GROUPS)),
                ("Due", "date", {}),
                (
                    "Priority",
                    "select",
                    {
                        "options": [
                            option(self, n, c)
                            for n, c in (
                                ("Urgent", "red"),
                                ("High", "orange"),
                                ("Medium", "yellow"),
                                ("Low", "gray"),
                            )
                        ]
                    },
                ),
                (
                    "Tags",
                    "multi_select",
                    {"options": [option(self, n, None, i) for i, n in enumerate(DEMO_TAGS)]},
                ),
                (
                    "Project",
                    "relation",
                    {
                        "data_source_id": projects["id"],
                        "database_id": projects["database_id"],
                        "type": "single_property",
                        "single_property": {},
                    },
                ),
                ("Assignee", "people", {}),
                ("Description", "rich_text", {}),
                ("URL", "url", {}),
            ],
            when,
        )
        self.state["tasks_data_source_id"] = tasks["id"]
        self.state["projects_data_source_id"] = projects["id"]
        return projects, tasks

    def _insert_page(
        self, ds: dict[str, Any], values: dict[str, Any], created: int, edited: int, by: str
    ) -> dict[str, Any]:
        page_id = self.uuid()
        page = {
            "id": page_id,
            "data_source_id": ds["id"],
            "database_id": ds["database_id"],
            "parent": None,
            "created": created,
            "edited": edited,
            "created_by": by,
            "edited_by": by,
            "in_trash": False,
            "is_locked": False,
            "icon": None,
            "cover": None,
            "values": values,
        }
        self.state["pages"][page_id] = page
        self.state["page_order"].append(page_id)
        ds["page_ids"].append(page_id)
        self._generation += 1
        return page

    def _seed_projects(self, projects: dict[str, Any], now: float) -> dict[str, str]:
        """The demo's projects as pages of the Projects data source; returns name -> page id."""
        people = self._people()
        status_prop = projects["properties"]["Status"]
        by_name = {o["name"]: o["id"] for o in status_prop["select"]["options"]}
        ids: dict[str, str] = {}
        for index, (name, status) in enumerate(DEMO_PROJECTS):
            created = minute_floor(now - (90 - index) * 86400)
            values = {"title": [text_item(name)], status_prop["id"]: by_name[status]}
            page = self._insert_page(projects, values, created, created, people[index % len(people)])
            ids[name] = page["id"]
        return ids

    def _seed_demo(self) -> dict[str, Any]:
        projects, tasks = self._ensure_schema()
        now = self.clock.time()
        today = datetime.fromtimestamp(now, tz=UTC).date()
        people = self._people()
        project_ids = self._seed_projects(projects, now)
        schema = tasks["properties"]
        status_ids = {o["name"]: o["id"] for o in schema["Status"]["status"]["options"]}
        priority_ids = {o["name"]: o["id"] for o in schema["Priority"]["select"]["options"]}
        tag_ids = {o["name"]: o["id"] for o in schema["Tags"]["multi_select"]["options"]}
        by_title: dict[str, str] = {}
        for index, (title, project, status, due, priority, tags) in enumerate(DEMO_TASKS):
            description = DEMO_DESCRIPTIONS.get(title, "")
            created = minute_floor(now - (45 - index) * 86400 - (index * 37 % 600) * 60)
            edited = minute_floor(min(now - 3600, created + (index % 6) * 86400 + 3600 * (index % 5)))
            values: dict[str, Any] = {
                "title": [text_item(title)],
                schema["Status"]["id"]: status_ids[status],
                schema["Priority"]["id"]: priority_ids[priority],
                schema["Tags"]["id"]: [tag_ids[t] for t in tags],
                schema["Project"]["id"]: [project_ids[project]],
                schema["Assignee"]["id"]: [people[index % len(people)]],
            }
            if due is not None:
                values[schema["Due"]["id"]] = {
                    "start": (today + timedelta(days=due)).isoformat(),
                    "end": None,
                    "time_zone": None,
                }
            if description:
                values[schema["Description"]["id"]] = [text_item(description)]
            if index % 4 == 0:
                slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
                values[schema["URL"]["id"]] = f"https://docs.acme.example/{slug}"
            page = self._insert_page(tasks, values, created, edited, people[(index + 1) % len(people)])
            by_title[title] = page["id"]
            if description:
                paragraphs = [
                    ("paragraph", {"rich_text": [text_item(part.strip() + ".")], "color": "default"}, None)
                    for part in description.split(".")
                    if part.strip()
                ]
                self._store_blocks(
                    page["id"],
                    {"type": "page_id", "page_id": page["id"]},
                    paragraphs,
                    page["created_by"],
                    created,
                )
        comments = 0
        for title, author_index, text, hours_ago in DEMO_COMMENTS:
            page_id = by_title[title]
            when = minute_floor(now - hours_ago * 3600)
            comment = self.create_comment(
                {"parent": {"page_id": page_id}, "rich_text": [{"text": {"content": text}}]},
                people[author_index % len(people)],
            )
            comment["created"] = comment["edited"] = when
            comments += 1
        return {
            "databases": len(self.state["databases"]),
            "data_sources": len(self.state["data_sources"]),
            "projects": len(projects["page_ids"]),
            "tasks": len(tasks["page_ids"]),
            "comments": comments,
            "users": len(self.state["users"]),
        }

    def _seed_bulk(self, n: int, changed_share: float) -> dict[str, Any]:
        """``n`` task pages built directly (no per-item validation); ``changed_share`` of them edited now."""
        projects, tasks = self._ensure_schema()
        schema = tasks["properties"]
        now = self.clock.time()
        stamp_now = minute_floor(now)
        today = datetime.fromtimestamp(now, tz=UTC).date()
        people = self._people()
        status_ids = [o["id"] for o in schema["Status"]["status"]["options"]]
        priority_ids = [o["id"] for o in schema["Priority"]["select"]["options"]]
        status_pid, priority_pid, due_pid = (
            schema["Status"]["id"],
            schema["Priority"]["id"],
            schema["Due"]["id"],
        )
        assignee_pid, project_pid = schema["Assignee"]["id"], schema["Project"]["id"]
        if not projects["page_ids"]:
            self._seed_projects(projects, now)
        project_ids = projects["page_ids"]
        changed_every = round(1 / changed_share) if changed_share > 0 else 0
        changed = 0
        start = len(tasks["page_ids"])
        rng = random.Random(self._seed * 7919 + start)
        for offset in range(n):
            index = start + offset
            created = minute_floor(now - 90 * 86400 + index * (80 * 86400 / max(n + start, 1)))
            edited = created
            if changed_every and offset % changed_every == 0:
                edited, changed = stamp_now, changed + 1
            values: dict[str, Any] = {
                "title": [text_item(f"Task {index + 1:05d}")],
                status_pid: status_ids[index % len(status_ids)],
                priority_pid: priority_ids[index % len(priority_ids)],
                assignee_pid: [people[index % len(people)]],
            }
            if index % 5:
                values[due_pid] = {
                    "start": (today + timedelta(days=rng.randint(-30, 60))).isoformat(),
                    "end": None,
                    "time_zone": None,
                }
            values[project_pid] = [project_ids[index % len(project_ids)]]
            self._insert_page(tasks, values, created, edited, people[index % len(people)])
        return {"pages": n, "changed": changed, "total_tasks": len(tasks["page_ids"])}


# ------------------------------------------------------------------------------------------ module helpers


def _invalid_url() -> HttpError:
    """Notion's answer to a path it does not route (in this API version)."""
    return api_error(400, "invalid_request_url", "Invalid request URL.")


def _as_databases(body: Any) -> None:
    """Rewrite data source references the way 2022-06-28 names them: by database.

    A page's ``parent`` becomes ``{type: database_id, database_id}`` and a relation's schema loses its
    ``data_source_id`` (UNVERIFIED beyond the upgrade guide's description of the two versions).
    """
    if isinstance(body, dict):
        parent = body.get("parent")
        if isinstance(parent, dict) and parent.get("type") == "data_source_id":
            body["parent"] = {"type": "database_id", "database_id": parent.get("database_id")}
        relation = body.get("relation")
        if body.get("type") == "relation" and isinstance(relation, dict):
            relation.pop("data_source_id", None)
        for value in body.values():
            if isinstance(value, dict | list):
                _as_databases(value)
    elif isinstance(body, list):
        for item in body:
            _as_databases(item)


def _drop_archived(body: Any) -> None:
    """Remove ``archived`` wherever ``in_trash`` sits next to it (2026-03-11 renamed the field)."""
    if isinstance(body, dict):
        if "archived" in body and "in_trash" in body:
            del body["archived"]
        for value in body.values():
            if isinstance(value, dict | list):
                _drop_archived(value)
    elif isinstance(body, list):
        for item in body:
            _drop_archived(item)


def _icon(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise shape_error(where, "an object or `null`", value)
    kind = value.get("type") or next((k for k in ("emoji", "external", "custom_emoji") if k in value), None)
    if kind == "emoji" and isinstance(value.get("emoji"), str):
        return {"type": "emoji", "emoji": value["emoji"]}
    if kind == "external" and isinstance((value.get("external") or {}).get("url"), str):
        return {"type": "external", "external": {"url": value["external"]["url"]}}
    if kind == "custom_emoji" and isinstance(value.get("custom_emoji"), dict):
        return {"type": "custom_emoji", "custom_emoji": dict(value["custom_emoji"])}
    raise shape_error(where, "an emoji, external or custom_emoji icon", value)


def _cover(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance((value.get("external") or {}).get("url"), str):
        raise shape_error(where, "an external file object or `null`", value)
    return {"type": "external", "external": {"url": value["external"]["url"]}}


def _validate_blocks(raw: Any, where: str, depth: int) -> list[tuple[str, dict[str, Any], Any]]:
    """Validate block write forms; returns (type, stored content, nested children) triples."""
    if not isinstance(raw, list):
        raise shape_error(where, "an array", raw)
    if len(raw) > BLOCK_CHILDREN_MAX:
        raise validation_error(
            f"body failed validation: {where}.length should be ≤ `{BLOCK_CHILDREN_MAX}`, "
            f"instead was `{len(raw)}`."
        )
    out: list[tuple[str, dict[str, Any], Any]] = []
    for index, block in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(block, dict):
            raise shape_error(at, "an object", block)
        kind = block.get("type") or next((k for k in BLOCK_TYPES if k in block), None)
        if kind not in BLOCK_TYPES:
            raise shape_error(f"{at}.type", f"one of {', '.join(BLOCK_TYPES)}", block.get("type"))
        body = block.get(kind)
        if not isinstance(body, dict):
            raise shape_error(f"{at}.{kind}", "an object", body)
        nested = None
        if kind == "divider":
            content: dict[str, Any] = {}
        else:
            content = {"rich_text": rich_text(body.get("rich_text", []), f"{at}.{kind}.rich_text")}
            content["color"] = body.get("color", "default")
            if kind.startswith("heading_"):
                content["is_toggleable"] = bool(body.get("is_toggleable", False))
            if kind == "to_do":
                checked = body.get("checked", False)
                if not isinstance(checked, bool):
                    raise shape_error(f"{at}.to_do.checked", "a boolean", checked)
                content["checked"] = checked
            if kind == "code":
                content["language"] = str(body.get("language", "plain text"))
                content["caption"] = rich_text(body.get("caption", []), f"{at}.code.caption")
                content.pop("color")
            if kind == "callout":
                content["icon"] = body.get("icon")
            if "children" in body:
                if depth >= 1:
                    raise validation_error(
                        f"body failed validation: {at}.{kind}.children nests blocks more than two "
                        "levels deep."
                    )
                nested = _validate_blocks(body["children"], f"{at}.{kind}.children", depth + 1)
        out.append((kind, content, nested))
    return out


def _plain_to_write(kind: str, value: Any) -> Any:
    """One plain admin value in the API's write form; values already in API shape pass through."""
    if isinstance(value, dict) and kind in value:
        return value
    if kind in ("title", "rich_text"):
        return {kind: [] if value in (None, "") else [{"type": "text", "text": {"content": str(value)}}]}
    if kind in ("select", "status"):
        return {kind: None if value is None else {"name": str(value)}}
    if kind == "multi_select":
        names = [value] if isinstance(value, str) else list(value or [])
        return {kind: [{"name": str(n)} for n in names]}
    if kind == "date":
        if value is None or isinstance(value, dict):
            return {kind: value}
        return {kind: {"start": str(value)}}
    if kind == "people":
        ids = [value] if isinstance(value, str) else list(value or [])
        return {kind: [{"object": "user", "id": i} for i in ids]}
    if kind == "relation":
        ids = [value] if isinstance(value, str) else list(value or [])
        return {kind: [{"id": i} for i in ids]}
    return {kind: value}
