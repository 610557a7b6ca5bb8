"""Notion property schemas and values for the emulator: validate write forms, store them, render read forms.

Kept apart from ``notion.py`` so the emulator module holds routing and state while this one holds the
rules of Notion's property model (rich text limits, select options created on first use, status options
that must exist). Values are stored in a compact form keyed by property id (so a rename keeps them) and
rendered into the API's read form on the way out.

Sources: API_NOTES.md §3.3 (property value shapes, from the docs; UNVERIFIED in detail) and §3.5 (size
limits, [doc] request-limits). Error messages imitate Notion's ``body failed validation: <path> should
be ..., instead was ...`` style.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Protocol

from pmtui.sandbox.server import HttpError, parse_iso

RICH_TEXT_CONTENT_LIMIT = 2000
"""Characters in one rich text item's ``text.content`` or a link URL ([doc] request-limits)."""
EQUATION_LIMIT = 1000
ARRAY_LIMIT = 100
"""Rich text items, multi_select options, relations and people per value ([doc] request-limits)."""
URL_LIMIT = 2000
EMAIL_PHONE_LIMIT = 200

COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
"""Option colours, in the order Notion hands them to options created without one."""

DEFAULT_ANNOTATIONS: dict[str, Any] = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}

SCHEMA_TYPES = (
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "relation",
    "created_time",
    "last_edited_time",
    "created_by",
    "last_edited_by",
    "files",
    "formula",
    "rollup",
    "unique_id",
)
COMPUTED_TYPES = frozenset({"formula", "rollup"})
"""Values Notion computes from other properties (or other pages); rendered by the emulator, never stored."""
READ_ONLY_TYPES = frozenset(
    {"created_time", "last_edited_time", "created_by", "last_edited_by", "unique_id", *COMPUTED_TYPES}
)
ROLLUP_FUNCTIONS = ("show_original", "count")
"""The rollup functions the emulator computes; Notion has many more (sum, average, percent_checked...)."""
FORMULA_RE = re.compile(r'^\s*prop\("([^"]+)"\)\s*$')
"""The one formula the emulator evaluates: ``prop("Name")``, the property's value as the formula's result."""
TEXT_TYPES = frozenset({"title", "rich_text", "url", "email", "phone_number"})


class Ids(Protocol):
    """The emulator's seeded id source, so that schema edits and new options stay reproducible."""

    def uuid(self) -> str: ...

    def short_id(self) -> str: ...


def api_error(status: int, code: str, message: str, **additional: Any) -> HttpError:
    """An :class:`HttpError` carrying a Notion error code (the emulator adds object, status, request_id)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if additional:
        body["additional_data"] = additional
    return HttpError(status, body)


def validation_error(message: str) -> HttpError:
    """400 ``validation_error``, the code Notion uses for every malformed body and size-limit breach."""
    return api_error(400, "validation_error", message)


def js(value: Any) -> str:
    """A value as Notion quotes it in validation messages (JSON, ``undefined`` for a missing key)."""
    if value is MISSING:
        return "undefined"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


MISSING: Any = object()
"""Stands for an absent key in validation messages (rendered ``undefined``, as Notion does)."""


def shape_error(where: str, expected: str, value: Any) -> HttpError:
    """``body failed validation: <where> should be <expected>, instead was `<value>`.``"""
    return validation_error(
        f"body failed validation: {where} should be {expected}, instead was `{js(value)}`."
    )


# ----------------------------------------------------------------------------------------- rich text


def plain_text(items: list[dict[str, Any]] | None) -> str:
    """The concatenated ``plain_text`` of a rich text array."""
    return "".join(item.get("plain_text", "") for item in items or [])


def text_item(content: str, link: str | None = None) -> dict[str, Any]:
    """One rich text item in its read form."""
    return {
        "type": "text",
        "text": {"content": content, "link": {"url": link} if link else None},
        "annotations": dict(DEFAULT_ANNOTATIONS),
        "plain_text": content,
        "href": link,
    }


def rich_text(value: Any, where: str) -> list[dict[str, Any]]:
    """Validate a rich text array (write form) and return its read form.

    Enforces the documented limits: 100 items, 2,000 characters per ``text.content`` and link URL,
    1,000 per equation.
    """
    if not isinstance(value, list):
        raise shape_error(where, "an array", value)
    if len(value) > ARRAY_LIMIT:
        raise validation_error(
            f"body failed validation: {where}.length should be ≤ `{ARRAY_LIMIT}`, instead was `{len(value)}`."
        )
    out: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise shape_error(at, "an object", item)
        kind = item.get("type") or next((k for k in ("text", "mention", "equation") if k in item), None)
        annotations = dict(DEFAULT_ANNOTATIONS)
        given = item.get("annotations")
        if given is not None:
            if not isinstance(given, dict):
                raise shape_error(f"{at}.annotations", "an object", given)
            unknown = set(given) - set(DEFAULT_ANNOTATIONS)
            if unknown:
                raise validation_error(
                    f"body failed validation: {at}.annotations.{sorted(unknown)[0]} should be not present."
                )
            annotations.update(given)
        if kind == "text":
            text = item.get("text", MISSING)
            if not isinstance(text, dict):
                raise shape_error(f"{at}.text", "an object", text)
            content = text.get("content", MISSING)
            if not isinstance(content, str):
                raise shape_error(f"{at}.text.content", "a string", content)
            if len(content) > RICH_TEXT_CONTENT_LIMIT:
                raise validation_error(
                    f"body failed validation: {at}.text.content.length should be ≤ "
                    f"`{RICH_TEXT_CONTENT_LIMIT}`, instead was `{len(content)}`."
                )
            link = text.get("link")
            url: str | None = None
            if link is not None:
                if not isinstance(link, dict) or not isinstance(link.get("url"), str):
                    raise shape_error(f"{at}.text.link", "an object with a url", link)
                url = link["url"]
                if len(url) > URL_LIMIT:
                    raise validation_error(
                        f"body failed validation: {at}.text.link.url.length should be ≤ `{URL_LIMIT}`, "
                        f"instead was `{len(url)}`."
                    )
            entry = text_item(content, url)
            entry["annotations"] = annotations
            out.append(entry)
        elif kind == "equation":
            equation = item.get("equation")
            expression = equation.get("expression") if isinstance(equation, dict) else None
            if not isinstance(expression, str):
                raise shape_error(f"{at}.equation.expression", "a string", expression)
            if len(expression) > EQUATION_LIMIT:
                raise validation_error(
                    f"body failed validation: {at}.equation.expression.length should be ≤ "
                    f"`{EQUATION_LIMIT}`, instead was `{len(expression)}`."
                )
            out.append(
                {
                    "type": "equation",
                    "equation": {"expression": expression},
                    "annotations": annotations,
                    "plain_text": expression,
                    "href": None,
                }
            )
        elif kind == "mention":
            mention = item.get("mention")
            if not isinstance(mention, dict):
                raise shape_error(f"{at}.mention", "an object", mention)
            # Mentions are stored as given; the emulator does not resolve their targets' names.
            out.append(
                {
                    "type": "mention",
                    "mention": mention,
                    "annotations": annotations,
                    "plain_text": str(item.get("plain_text", "")),
                    "href": None,
                }
            )
        else:
            raise shape_error(f"{at}.type", '"text", "mention" or "equation"', item.get("type", MISSING))
    return out


# --------------------------------------------------------------------------------------------- schema


def option(ids: Ids, name: str, color: str | None = None, index: int = 0) -> dict[str, Any]:
    """A select/multi_select/status option; without a colour it takes the next one in Notion's order."""
    return {
        "id": ids.uuid(),
        "name": name,
        "color": color or COLORS[index % len(COLORS)],
        "description": None,
    }


def status_config(ids: Ids, groups: list[tuple[str, str, list[tuple[str, str]]]]) -> dict[str, Any]:
    """A status property's config from ``[(group name, group colour, [(option, colour), ...]), ...]``."""
    options: list[dict[str, Any]] = []
    out_groups: list[dict[str, Any]] = []
    for group_name, group_color, members in groups:
        member_ids = []
        for name, color in members:
            opt = option(ids, name, color)
            options.append(opt)
            member_ids.append(opt["id"])
        out_groups.append(
            {"id": ids.uuid(), "name": group_name, "color": group_color, "option_ids": member_ids}
        )
    return {"options": options, "groups": out_groups}


DEFAULT_STATUS_GROUPS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("To-do", "gray", [("Not started", "default")]),
    ("In progress", "blue", [("In progress", "blue")]),
    ("Complete", "green", [("Done", "green")]),
]
"""The options and groups Notion gives a new status property."""


def property_type(config: Any, where: str) -> str:
    """The type named by a schema config: its ``type`` key, or its single type-named key."""
    if not isinstance(config, dict):
        raise shape_error(where, "an object", config)
    declared = config.get("type")
    if declared is not None:
        if declared not in SCHEMA_TYPES:
            raise shape_error(f"{where}.type", f"one of {', '.join(SCHEMA_TYPES)}", declared)
        return str(declared)
    keys = [key for key in config if key in SCHEMA_TYPES]
    if len(keys) != 1:
        raise validation_error(
            f"body failed validation: {where} should define exactly one property type "
            f"({', '.join(SCHEMA_TYPES)}), instead was `{js(config)}`."
        )
    return str(keys[0])


def build_property(
    ids: Ids,
    name: str,
    kind: str,
    config: dict[str, Any],
    where: str,
    resolve_data_source: Callable[[str], str],
) -> dict[str, Any]:
    """A new property schema entry ``{id, name, type, <type>: config}``.

    ``resolve_data_source`` maps a relation's target data source id to its database id (and raises 404
    when unknown).
    """
    prop_id = "title" if kind == "title" else ids.short_id()
    raw_body = config.get(kind)
    body: dict[str, Any] = raw_body if isinstance(raw_body, dict) else {}
    entry: dict[str, Any] = {"id": prop_id, "name": name, "type": kind}
    if kind in ("select", "multi_select"):
        entry[kind] = {"options": _options(ids, body.get("options", []), f"{where}.{kind}.options")}
    elif kind == "status":
        # The API creates status properties with the default groups only ([doc] property object).
        entry[kind] = status_config(ids, DEFAULT_STATUS_GROUPS)
    elif kind == "number":
        entry[kind] = {"format": str(body.get("format", "number"))}
    elif kind == "unique_id":
        prefix = body.get("prefix")
        if prefix is not None and not isinstance(prefix, str):
            raise shape_error(f"{where}.unique_id.prefix", "a string or `null`", prefix)
        entry[kind] = {"prefix": prefix or None}
    elif kind == "formula":
        expression = body.get("expression")
        if not isinstance(expression, str):
            raise shape_error(f"{where}.formula.expression", "a string", expression)
        entry[kind] = {"expression": expression}
    elif kind == "rollup":
        entry[kind] = _rollup_config(body, f"{where}.rollup")
    elif kind == "relation":
        target = body.get("data_source_id")
        if not isinstance(target, str):
            raise shape_error(f"{where}.relation.data_source_id", "a string", target)
        database_id = resolve_data_source(target)
        relation_kind = body.get("type", "single_property")
        if relation_kind not in ("single_property", "dual_property"):
            raise shape_error(f"{where}.relation.type", '"single_property" or "dual_property"', relation_kind)
        entry[kind] = {
            "data_source_id": target,
            "database_id": database_id,
            "type": relation_kind,
            relation_kind: body.get(relation_kind) or {},
        }
    else:
        entry[kind] = {}
    return entry


def _rollup_config(body: dict[str, Any], where: str) -> dict[str, Any]:
    """A rollup's config by property names (ids are filled in by the emulator, which knows the schema)."""
    function = body.get("function", "show_original")
    if function not in ROLLUP_FUNCTIONS:
        raise shape_error(f"{where}.function", f"one of {', '.join(ROLLUP_FUNCTIONS)}", function)
    config: dict[str, Any] = {"function": function}
    for part in ("relation_property", "rollup_property"):
        name, prop_id = body.get(f"{part}_name"), body.get(f"{part}_id")
        if not isinstance(name, str) and not isinstance(prop_id, str):
            raise shape_error(f"{where}.{part}_name", "a string", name)
        config[f"{part}_name"] = name
        config[f"{part}_id"] = prop_id
    return config


def _options(ids: Ids, raw: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise shape_error(where, "an array", raw)
    out = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise shape_error(f"{where}[{index}].name", "a string", item)
        if "," in item["name"]:
            raise validation_error(f"Select option names cannot contain commas: {item['name']!r}.")
        color = item.get("color")
        if color is not None and color not in COLORS:
            raise shape_error(f"{where}[{index}].color", f"one of {', '.join(COLORS)}", color)
        out.append(option(ids, item["name"], color, index))
    return out


def update_property_config(
    ids: Ids, prop: dict[str, Any], kind: str, config: dict[str, Any], where: str
) -> None:
    """Apply a PATCH to an existing property of the same type (select options are merged by name/id)."""
    body = config.get(kind)
    if kind in ("select", "multi_select") and isinstance(body, dict) and "options" in body:
        given = body["options"]
        if not isinstance(given, list):
            raise shape_error(f"{where}.{kind}.options", "an array", given)
        current = prop[kind]["options"]
        by_id = {o["id"]: o for o in current}
        by_name = {o["name"]: o for o in current}
        merged = []
        for index, item in enumerate(given):
            if not isinstance(item, dict):
                raise shape_error(f"{where}.{kind}.options[{index}]", "an object", item)
            existing = by_id.get(item.get("id", "")) or by_name.get(item.get("name", ""))
            if existing is None:
                merged.extend(_options(ids, [item], f"{where}.{kind}.options"))
            else:
                updated = dict(existing)
                if isinstance(item.get("name"), str):
                    updated["name"] = item["name"]
                if item.get("color") in COLORS:
                    updated["color"] = item["color"]
                merged.append(updated)
        prop[kind]["options"] = merged
    elif kind == "number" and isinstance(body, dict) and "format" in body:
        prop[kind]["format"] = str(body["format"])


# ---------------------------------------------------------------------------------------------- values


def empty_value(prop: dict[str, Any]) -> Any:
    """The stored value of a property a page was created without."""
    kind = prop["type"]
    if kind in ("title", "rich_text", "multi_select", "people", "relation", "files"):
        return []
    if kind == "checkbox":
        return False
    if kind == "status":
        # A new page gets the first option of the "To-do" group, as the Notion UI does.
        groups = prop["status"].get("groups") or []
        first = groups[0]["option_ids"] if groups and groups[0]["option_ids"] else None
        return first[0] if first else None
    return None


def write_value(
    ids: Ids,
    prop: dict[str, Any],
    raw: Any,
    where: str,
    *,
    known_users: Callable[[str], bool],
) -> Any:
    """Validate one property's write form and return the value to store.

    May add an option to ``prop`` (select and multi_select create unknown names, as Notion does).
    """
    kind = prop["type"]
    name = prop["name"]
    if kind in READ_ONLY_TYPES:
        raise validation_error(f"{name} is a {kind} property and cannot be updated.")
    if not isinstance(raw, dict):
        raise shape_error(where, "an object", raw)
    declared = raw.get("type")
    if declared is not None and declared != kind:
        raise validation_error(
            f"body failed validation: {where}.type should be `{js(kind)}`, instead was `{js(declared)}`."
        )
    if kind not in raw:
        raise shape_error(f"{where}.{kind}", "defined", MISSING)
    value = raw[kind]
    at = f"{where}.{kind}"
    if kind in ("title", "rich_text"):
        return rich_text(value, at)
    if kind == "number":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise shape_error(at, "a number or `null`", value)
        return value
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise shape_error(at, "a boolean", value)
        return value
    if kind in ("url", "email", "phone_number"):
        limit = URL_LIMIT if kind == "url" else EMAIL_PHONE_LIMIT
        if value is None:
            return None
        if not isinstance(value, str):
            raise shape_error(at, "a string or `null`", value)
        if len(value) > limit:
            raise validation_error(
                f"body failed validation: {at}.length should be ≤ `{limit}`, instead was `{len(value)}`."
            )
        return value
    if kind == "date":
        return _date_value(value, at)
    if kind in ("select", "status"):
        if value is None:
            return None
        return _option_id(ids, prop, value, at, create=kind == "select")
    if kind == "multi_select":
        items = _array(value, at)
        return [_option_id(ids, prop, item, f"{at}[{i}]", create=True) for i, item in enumerate(items)]
    if kind == "people":
        items = _array(value, at)
        out = []
        for index, item in enumerate(items):
            user_id = normalize_uuid(item.get("id") if isinstance(item, dict) else None)
            if user_id is None:
                raise shape_error(f"{at}[{index}].id", "a valid uuid", item)
            if not known_users(user_id):
                raise validation_error(f"Could not find user with ID: {user_id}.")
            out.append(user_id)
        return out
    if kind == "relation":
        items = _array(value, at)
        out = []
        for index, item in enumerate(items):
            page_id = normalize_uuid(item.get("id") if isinstance(item, dict) else None)
            if page_id is None:
                raise shape_error(f"{at}[{index}].id", "a valid uuid", item)
            out.append(page_id)
        return out
    if kind == "files":
        return [_file_value(item, f"{at}[{i}]") for i, item in enumerate(_array(value, at))]
    raise validation_error(f"{name} has a property type the emulator cannot write: {kind}.")


def _file_value(item: Any, where: str) -> dict[str, Any]:
    """One external file of a ``files`` value (uploads to Notion-hosted storage are not emulated)."""
    if not isinstance(item, dict):
        raise shape_error(where, "an object", item)
    external = item.get("external")
    url = external.get("url") if isinstance(external, dict) else None
    if not isinstance(url, str) or not url:
        raise shape_error(f"{where}.external.url", "a string", url)
    name = item.get("name", url.rsplit("/", 1)[-1])
    if not isinstance(name, str) or not name:
        raise shape_error(f"{where}.name", "a non-empty string", name)
    return {"name": name[:100], "type": "external", "external": {"url": url}}


def _array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise shape_error(where, "an array", value)
    if len(value) > ARRAY_LIMIT:
        raise validation_error(
            f"body failed validation: {where}.length should be ≤ `{ARRAY_LIMIT}`, instead was `{len(value)}`."
        )
    return value


def _date_value(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise shape_error(where, "an object or `null`", value)
    start = value.get("start", MISSING)
    if not isinstance(start, str) or not is_iso(start):
        raise shape_error(f"{where}.start", "a valid ISO 8601 date string", start)
    end = value.get("end")
    if end is not None and (not isinstance(end, str) or not is_iso(end)):
        raise shape_error(f"{where}.end", "a valid ISO 8601 date string or `null`", end)
    zone = value.get("time_zone")
    if zone is not None and not isinstance(zone, str):
        raise shape_error(f"{where}.time_zone", "a string or `null`", zone)
    return {"start": start, "end": end, "time_zone": zone}


def is_iso(text: str) -> bool:
    """True if ``text`` parses as an ISO 8601 date or date-time."""
    try:
        parse_iso(text)
    except ValueError:
        return False
    return True


def _option_id(ids: Ids, prop: dict[str, Any], raw: Any, where: str, *, create: bool) -> str:
    kind = prop["type"]
    options: list[dict[str, Any]] = prop[kind]["options"]
    if not isinstance(raw, dict):
        raise shape_error(where, "an object", raw)
    if "id" in raw and raw["id"] is not None:
        for opt in options:
            if opt["id"] == raw["id"]:
                return str(opt["id"])
        raise validation_error(f"Invalid {kind} option id: {raw['id']}.")
    name = raw.get("name", MISSING)
    if not isinstance(name, str):
        raise shape_error(f"{where}.name", "a string", name)
    for opt in options:
        if opt["name"] == name:
            return str(opt["id"])
    if not create:
        # Status options cannot be created through a page write ([doc] page-property-values).
        raise validation_error(f'Invalid status option. Status option "{name}" does not exist".')
    if "," in name:
        raise validation_error(f"Select option names cannot contain commas: {name!r}.")
    color = raw.get("color")
    new = option(ids, name, color if color in COLORS else None, len(options))
    options.append(new)
    return str(new["id"])


def normalize_uuid(value: Any) -> str | None:
    """A Notion id in its dashed lowercase form, from dashed or 32-hex input; None if it is not one."""
    if not isinstance(value, str):
        return None
    hex_only = value.replace("-", "").lower()
    if len(hex_only) != 32 or any(c not in "0123456789abcdef" for c in hex_only):
        return None
    if "-" in value and len(value) != 36:
        return None
    return f"{hex_only[:8]}-{hex_only[8:12]}-{hex_only[12:16]}-{hex_only[16:20]}-{hex_only[20:]}"


# ------------------------------------------------------------------------------------------- read form


def option_lookup(prop: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Option id -> ``{id, name, color}`` for a select, multi_select or status property."""
    return {
        o["id"]: {"id": o["id"], "name": o["name"], "color": o["color"]}
        for o in prop[prop["type"]]["options"]
    }


def read_value(
    prop: dict[str, Any],
    page: dict[str, Any],
    *,
    user: Callable[[str], dict[str, Any]],
    stamp: Callable[[int], str],
    options: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A property value in its read form ``{id, type, <type>: value}``."""
    kind = prop["type"]
    out: dict[str, Any] = {"id": prop["id"], "type": kind}
    if kind == "created_time":
        out[kind] = stamp(page["created"])
        return out
    if kind == "last_edited_time":
        out[kind] = stamp(page["edited"])
        return out
    if kind == "created_by":
        out[kind] = user(page["created_by"])
        return out
    if kind == "last_edited_by":
        out[kind] = user(page["edited_by"])
        return out
    stored = page["values"].get(prop["id"], empty_value(prop))
    if kind in ("select", "status"):
        lookup = options if options is not None else option_lookup(prop)
        out[kind] = lookup.get(stored) if stored else None
    elif kind == "multi_select":
        lookup = options if options is not None else option_lookup(prop)
        out[kind] = [lookup[i] for i in stored if i in lookup]
    elif kind == "people":
        out[kind] = [user(i) for i in stored]
    elif kind == "relation":
        out[kind] = [{"id": i} for i in stored]
        out["has_more"] = False
    elif kind == "date":
        out[kind] = dict(stored) if stored else None
    elif kind in ("title", "rich_text"):
        out[kind] = [dict(item) for item in stored]
    elif kind == "files":
        out[kind] = [json.loads(json.dumps(item)) for item in stored]
    elif kind == "unique_id":
        out[kind] = {"prefix": prop[kind].get("prefix"), "number": stored}
    else:
        out[kind] = stored
    return out


def formula_value(result: dict[str, Any] | None) -> dict[str, Any]:
    """A formula's read form from the value it refers to (``prop("X")``); else an empty string result.

    Notion types a formula by its result: string, number, boolean or date.
    """
    if result is None:
        return {"type": "string", "string": None}
    kind = result.get("type")
    value = result.get(kind) if isinstance(kind, str) else None
    if kind in ("number", "checkbox", "date"):
        typed = "boolean" if kind == "checkbox" else kind
        return {"type": typed, typed: value}
    if kind in ("title", "rich_text"):
        return {"type": "string", "string": plain_text(value)}
    if kind in ("select", "status"):
        return {"type": "string", "string": value["name"] if value else None}
    if kind in ("url", "email", "phone_number"):
        return {"type": "string", "string": value}
    if kind == "unique_id" and isinstance(value, dict):
        number = value.get("number")
        prefix = value.get("prefix")
        return {"type": "string", "string": f"{prefix}-{number}" if prefix else str(number)}
    return {"type": "string", "string": None}
