"""Parameter coercion for the GitLab emulator, with Grape's error bodies.

GitLab's REST API is built on Grape: a missing required parameter answers 400 ``{"error": "title is
missing"}``, an uncoercible one ``{"error": "due_date is invalid"}``, a value outside an enum
``{"error": "state does not have a valid value"}``. Parameters may come from the query string, a JSON
body or a form body, and Grape merges them all (the body wins), so the emulator does the same.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs

from pmtui.sandbox.server import HttpError, Request, iso_z, parse_iso

Params = dict[str, Any]


def request_params(request: Request) -> Params:
    """Query string plus body (JSON or form-encoded), ``name[]`` keys folded into lists."""
    params: Params = {}
    for key, values in request.query.items():
        _put(params, key, values)
    ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        parsed = parse_qs(request.body.decode(errors="replace"), keep_blank_values=True)
        for key, values in parsed.items():
            _put(params, key, values)
    elif request.body:
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, {"error": "body must be a JSON object"})
        params.update(body)
    return params


def _put(params: Params, key: str, values: list[str]) -> None:
    if key.endswith("[]"):
        params[key[:-2]] = list(values)
    else:
        params[key] = values[-1]


def invalid(name: str) -> HttpError:
    """Grape's answer to a value it cannot coerce."""
    return HttpError(400, {"error": f"{name} is invalid"})


def not_valid(name: str) -> HttpError:
    """Grape's answer to a value outside an enum."""
    return HttpError(400, {"error": f"{name} does not have a valid value"})


def missing(name: str) -> HttpError:
    """Grape's answer to a missing required parameter."""
    return HttpError(400, {"error": f"{name} is missing"})


def as_int(value: Any, name: str) -> int:
    """An integer from JSON or text."""
    if isinstance(value, bool):
        raise invalid(name)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise invalid(name) from exc


def as_bool(value: Any, name: str) -> bool:
    """A boolean; GitLab treats ``null`` as false (API_NOTES §2.1)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "t", "yes"):
        return True
    if text in ("false", "0", "f", "no", ""):
        return False
    raise invalid(name)


def as_int_list(value: Any, name: str) -> list[int]:
    """An array of integers, given as a JSON array, a comma string or a single value."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [as_int(item, name) for item in items if str(item).strip() != ""]


def as_names(value: Any) -> list[str]:
    """Label names from a comma-separated string or an array; trimmed, de-duplicated, order kept."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    names: list[str] = []
    for item in items:
        for part in str(item).split(","):
            text = part.strip()
            if text and text not in names:
                names.append(text)
    return names


def as_date(value: Any, name: str) -> str | None:
    """A ``YYYY-MM-DD`` date, or None for null/empty."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError as exc:
        raise invalid(name) from exc


def as_time(value: Any, name: str) -> str:
    """An ISO 8601 instant normalised to GitLab's ``...T10:00:00.000Z`` form (sortable as text)."""
    try:
        return iso_z(parse_iso(str(value)))
    except ValueError as exc:
        raise invalid(name) from exc


def as_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """A value from an enum."""
    text = str(value)
    if text not in choices:
        raise not_valid(name)
    return text
