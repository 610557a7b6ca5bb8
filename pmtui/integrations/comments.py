"""The comment handling Motion and Notion share: their APIs differ, the steps around them do not.

Both services keep no client id on a comment, so pmtui marks the body (:func:`find_marked` finds it again
after an unknown outcome), and both list comments as raw objects that become :class:`RemoteComment`
with the marker stripped (:func:`to_remote_comments`). Each integration passes in how to split its body
from the marker, who wrote it and when.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pmtui.integrations.base import RemoteComment, parse_remote_time

Raw = Mapping[str, Any]
SplitMarker = Callable[[Raw], tuple[str, str | None]]
"""A comment's visible text and the marker it carried (None for a person's comment)."""


def find_marked(raws: Iterable[Raw], split: SplitMarker, marker: str) -> str | None:
    """The id of the first comment carrying ``marker``: the one pmtui posted, if it landed."""
    for raw in raws:
        if split(raw)[1] == marker:
            return str(raw["id"])
    return None


def to_remote_comments(
    raws: Iterable[Raw],
    external_id: str,
    *,
    split: SplitMarker,
    author: Callable[[Raw], str | None],
    created: Callable[[Raw], Any],
) -> list[RemoteComment]:
    """The task's comments in the service's order, markers stripped; empty ones (only a marker) skipped."""
    comments: list[RemoteComment] = []
    for raw in raws:
        text, marker = split(raw)
        if not text.strip():
            continue
        fields: dict[str, Any] = {
            "id": str(raw["id"]),
            "task_id": external_id,
            "body": text,
            "author": author(raw),
            "idempotency_key": marker,
        }
        when = parse_remote_time(created(raw))
        if when:
            fields["created_at"] = when
        comments.append(RemoteComment(**fields))
    return comments
