"""Base, local and remote values of one field side by side, with what changed since the base highlighted."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from pmtui.text import clean_block


def value_text(value: Any) -> str:
    """A field value as a person reads it: strings bare, lists comma-joined, nothing as ``(empty)``."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, list):
        return clean_block(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)  # JSON escapes every control character itself
    return clean_block(value)  # a service's value: no escape sequence reaches the terminal


DATE_FIELDS = frozenset({"due", "scheduled_start", "scheduled_end", "completed_at", "start"})
"""Fields whose values are instants: shown as dates a person reads, never as ISO timestamps."""


def human_value(field: str, value: Any, tz: tzinfo, today: date) -> str:
    """``value_text``, but an instant of a date field reads ``Fri 27 Nov`` (``15:00`` when timed)."""
    if field not in DATE_FIELDS or value in (None, ""):
        return value_text(value)
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value_text(value)
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0), tzinfo=UTC)
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        return value_text(value)
    from pmtui.core.board import due_text

    # An all-day date is stored as midnight UTC; anything else is a time of day.
    all_day = moment.astimezone(UTC).time() == time(0)
    return due_text(moment, all_day, tz, today)


def highlight_changes(base: str, other: str, style: str) -> Text:
    """``other`` with the parts that differ from ``base`` in ``style`` (character-level diff)."""
    text = Text()
    matcher = difflib.SequenceMatcher(a=base, b=other, autojunk=False)
    for op, _a0, _a1, b0, b1 in matcher.get_opcodes():
        if b0 == b1:
            continue
        text.append(other[b0:b1], style="" if op == "equal" else style)
    return text


class FieldDiff(Vertical):
    """Three panels: base (what both sides last agreed), local and remote; changed sides are marked."""

    DEFAULT_CSS = """
    FieldDiff { height: auto; }
    FieldDiff > .field-diff--title { height: 1; text-style: bold; margin-bottom: 1; }
    FieldDiff Horizontal { height: auto; }
    FieldDiff .field-diff--side { width: 1fr; height: auto; min-height: 5; border: round $panel;
        padding: 0 1; }
    FieldDiff .field-diff--changed { border: round $warning; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="field-diff--title")
        with Horizontal():
            for side in ("base", "local", "remote"):
                yield Static("", id=f"diff-{side}", classes="field-diff--side")

    def show(
        self,
        field: str,
        base: Any,
        local: Any,
        remote: Any,
        *,
        remote_label: str = "remote",
        render: Callable[[Any], str] = value_text,
    ) -> None:
        """Show the three values of ``field`` (as ``render`` writes them); a side that differs from the
        base is highlighted."""
        base_text, local_text, remote_text = render(base), render(local), render(remote)
        self.query_one(".field-diff--title", Static).update(Text.assemble(("field ", "dim"), (field, "bold")))
        sides = (
            ("base", "base (last agreed)", Text(base_text), False),
            (
                "local",
                "local (pmtui)",
                highlight_changes(base_text, local_text, "bold black on yellow"),
                local_text != base_text,
            ),
            (
                "remote",
                remote_label,
                highlight_changes(base_text, remote_text, "bold black on cyan"),
                remote_text != base_text,
            ),
        )
        for side, title, body, changed in sides:
            panel = self.query_one(f"#diff-{side}", Static)
            panel.border_title = title + (" · changed" if changed else "")
            panel.set_class(changed, "field-diff--changed")
            panel.update(body)

    def clear(self) -> None:
        """Show nothing (no conflict selected)."""
        self.query_one(".field-diff--title", Static).update("")
        for side in ("base", "local", "remote"):
            panel = self.query_one(f"#diff-{side}", Static)
            panel.border_title = side
            panel.set_class(False, "field-diff--changed")
            panel.update("")
