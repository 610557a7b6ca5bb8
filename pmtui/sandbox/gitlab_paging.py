"""GitLab REST pagination for the sandbox emulator: offset pages and keyset cursors.

GitLab answers a list with ``Link`` (``rel="prev|next|first|last"``) and ``X-Page``/``X-Per-Page``/
``X-Next-Page``/``X-Prev-Page``/``X-Total``/``X-Total-Pages`` headers; with ``pagination=keyset`` it sends
only ``Link: <...cursor=...>; rel="next"``. python-gitlab follows the ``Link`` URL verbatim, so links are
built from the request's own base URL (its ``Host``), never from the emulator's idea of its address.
Source: API_NOTES.md §2.4 (docs.gitlab.com/api/rest/#pagination).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from pmtui.sandbox.server import HttpError, Request, Response

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_COUNTED = 10_000
"""Above this many matches GitLab stops counting: no ``X-Total``, ``X-Total-Pages`` or ``rel="last"``."""

Record = dict[str, Any]
SortKey = Callable[[Record], tuple[Any, ...]]


def int_param(request: Request, name: str, default: int) -> int:
    """An integer query parameter; a non-integer is Grape's ``{"error": "<name> is invalid"}``."""
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise HttpError(400, {"error": f"{name} is invalid"}) from exc


def per_page_param(request: Request) -> int:
    """``per_page``: default 20; GitLab clamps larger values to 100 instead of rejecting them."""
    per_page = int_param(request, "per_page", DEFAULT_PER_PAGE)
    if per_page < 1:
        return DEFAULT_PER_PAGE
    return min(per_page, MAX_PER_PAGE)


def is_keyset(request: Request) -> bool:
    """Whether the caller asked for keyset pagination."""
    return request.arg("pagination") == "keyset"


def link_url(request: Request, overrides: dict[str, str], drop: Sequence[str] = ()) -> str:
    """The request's own URL with some query parameters replaced (order of the others kept)."""
    pairs: list[tuple[str, str]] = []
    for key, values in request.query.items():
        if key in overrides or key in drop:
            continue
        pairs.extend((key, value) for value in values)
    pairs.extend(overrides.items())
    return f"{request.base_url}{request.path}?{urlencode(pairs)}"


def offset_page(request: Request, items: Sequence[Record], render: Callable[[Record], Any]) -> Response:
    """One offset page of ``items`` (already filtered and sorted) with GitLab's headers."""
    page = max(int_param(request, "page", 1), 1)
    per_page = per_page_param(request)
    total = len(items)
    total_pages = max((total + per_page - 1) // per_page, 1)
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    has_next = start + per_page < total
    has_prev = page > 1
    links: list[str] = []
    if has_prev:
        prev_page = min(page - 1, total_pages)
        links.append(
            f'<{link_url(request, {"page": str(prev_page), "per_page": str(per_page)})}>; rel="prev"'
        )
    if has_next:
        links.append(f'<{link_url(request, {"page": str(page + 1), "per_page": str(per_page)})}>; rel="next"')
    links.append(f'<{link_url(request, {"page": "1", "per_page": str(per_page)})}>; rel="first"')
    counted = total <= MAX_COUNTED
    if counted:
        links.append(
            f'<{link_url(request, {"page": str(total_pages), "per_page": str(per_page)})}>; rel="last"'
        )
    headers = {
        "Link": ", ".join(links),
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        # UNVERIFIED (API_NOTES §2.4): empty X-Next-Page on the last page, empty X-Prev-Page on the first.
        "X-Next-Page": str(page + 1) if has_next else "",
        "X-Prev-Page": str(page - 1) if has_prev else "",
    }
    if counted:
        headers["X-Total"] = str(total)
        headers["X-Total-Pages"] = str(total_pages)
    return Response(200, [render(item) for item in chunk], headers)


def encode_cursor(values: dict[str, Any]) -> str:
    """An opaque cursor like GitLab's (URL-safe base64 of a small JSON object)."""
    raw = json.dumps({**values, "_kd": "n"}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The JSON object inside a cursor; a malformed one is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise HttpError(400, {"message": "400 Bad request - Invalid cursor parameter"}) from exc
    if not isinstance(data, dict):
        raise HttpError(400, {"message": "400 Bad request - Invalid cursor parameter"})
    return data


def first_after(items: Sequence[Record], key: SortKey, boundary: tuple[Any, ...], descending: bool) -> int:
    """Index of the first item strictly after ``boundary`` in a list sorted by ``key`` (binary search)."""
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        value = key(items[mid])
        after = value < boundary if descending else value > boundary
        if after:
            hi = mid
        else:
            lo = mid + 1
    return lo


def keyset_page(
    request: Request,
    items: Sequence[Record],
    render: Callable[[Record], Any],
    *,
    key: SortKey,
    descending: bool,
    cursor_of: Callable[[Record], dict[str, str]],
    boundary_of: Callable[[dict[str, str]], tuple[Any, ...] | None],
) -> Response:
    """One keyset page: the items after the cursor, and only a ``Link`` rel="next" if more remain.

    The cursor holds the last item's sort key, not a position, so items that change while a client
    pages are never skipped (an item whose key moves past the cursor is simply seen again later).
    """
    per_page = per_page_param(request)
    boundary = boundary_of({k: v[-1] for k, v in request.query.items() if v})
    start = 0 if boundary is None else first_after(items, key, boundary, descending)
    chunk = items[start : start + per_page]
    headers: dict[str, str] = {}
    if chunk and start + per_page < len(items):
        overrides = {**cursor_of(chunk[-1]), "per_page": str(per_page)}
        headers["Link"] = f'<{link_url(request, overrides, drop=("page",))}>; rel="next"'
    return Response(200, [render(item) for item in chunk], headers)


def sort_records(
    records: list[Record], value: Callable[[Record], Any], *, descending: bool, nulls_last: bool = True
) -> list[Record]:
    """Sort by ``(value, id)`` like GitLab's ``ORDER BY value <dir>, id <dir>``, nulls last."""
    present = [r for r in records if value(r) is not None]
    missing = [r for r in records if value(r) is None]
    present.sort(key=lambda r: (value(r), r["id"]), reverse=descending)
    missing.sort(key=lambda r: r["id"], reverse=descending)
    return present + missing if nulls_last else missing + present
