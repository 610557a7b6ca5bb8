"""Refill a ``DataTable`` with columns sized to the rows it holds now.

Textual's ``DataTable`` sizes an auto-width column on its next idle, after the rows were added, and
never shrinks it when a refill is narrower. A frame drawn in between (a busy machine, a second message
in the queue) caches rows at header width, and that measurement does not invalidate the cache: the
table then stays truncated ("ye" for "yes", "H: che") until its next change. Columns given a width
when they are added need no measurement, so the first frame of every refill is already right.

A refill is also what a reload does when another process wrote to the cache, under a person reading the
table: the cursor stays on the same row and column (the last one, if the table got shorter) and the
view keeps its scroll position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.render import measure
from textual.widgets import DataTable


def refill(
    table: DataTable[Any],
    labels: Sequence[str],
    rows: Sequence[Sequence[Any]],
    keys: Sequence[str] | None = None,
) -> None:
    """Replace ``table``'s columns and rows; each column is as wide as its label or widest cell."""
    console = table.app.console

    def width(cell: Any) -> int:
        if cell is None:
            return 0
        # As DataTable measures a cell: a str is read as markup, a renderable as itself.
        renderable = Text.from_markup(cell, end="") if isinstance(cell, str) else cell
        return measure(console, renderable, 1)

    widths = [max([width(label), *(width(row[i]) for row in rows)]) for i, label in enumerate(labels)]
    cursor, scroll, had_rows = table.cursor_coordinate, table.scroll_offset, table.row_count > 0
    table.clear(columns=True)
    for label, size in zip(labels, widths, strict=True):
        table.add_column(label, width=size, key=label)
    for index, row in enumerate(rows):
        table.add_row(*row, key=keys[index] if keys is not None else None)
    if had_rows and table.row_count:
        table.move_cursor(
            row=min(cursor.row, table.row_count - 1), column=min(cursor.column, len(labels) - 1), scroll=False
        )
        # The new rows are laid out on the next refresh; scrolling before it would be clamped to nothing.
        table.call_after_refresh(table.scroll_to, scroll.x, scroll.y, animate=False)
