"""Kanban columns: one compact :class:`TaskTable` per status (or per GitLab board list), side by side."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, Vertical
from textual.message import Message
from textual.widgets import Static

from pmtui.core.board import BoardRows
from pmtui.text import clean_line
from pmtui.widgets.task_table import TaskTable

KANBAN_STATUSES: tuple[tuple[str, str], ...] = (
    ("todo", "To do"),
    ("in_progress", "In progress"),
    ("done", "Done"),
    ("canceled", "Canceled"),
)
ColumnSpec = tuple[str, str, str]
"""``(key, title, status)`` of one column; in the status view the key is the status itself."""
STATUS_COLUMNS: tuple[ColumnSpec, ...] = tuple((status, title, status) for status, title in KANBAN_STATUSES)


def column_dom_id(key: str) -> str:
    """A widget id for column ``key`` (``list:12`` -> ``kanban-list-12``; ids allow no colon)."""
    return "kanban-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


class KanbanColumn(Vertical):
    """A heading over a compact task table; ``key`` names the column, ``status`` is what it means."""

    DEFAULT_CSS = """
    KanbanColumn { width: 1fr; min-width: 36; height: 1fr; border: round $panel; }
    KanbanColumn TaskTable { scrollbar-size-vertical: 1; }
    KanbanColumn:focus-within { border: round $accent; }
    KanbanColumn > .kanban-column--title { height: 1; text-style: bold; padding: 0 1; }
    """

    def __init__(
        self,
        status: str,
        title: str,
        *,
        tz: tzinfo,
        now: Callable[[], datetime],
        key: str | None = None,
    ) -> None:
        self.key = key or status
        super().__init__(id=column_dom_id(self.key))
        self.status = status
        self.title_text = clean_line(title)  # a GitLab board list is named on the service
        self._tz = tz
        self._now = now

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, classes="kanban-column--title", markup=False)
        yield TaskTable(compact=True, tz=self._tz, now=self._now, empty_text="nothing")

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    def show(self, rows: BoardRows, *, first: bool = False) -> None:
        """Show this column's rows and their count in the heading (``first``: cursor on the first)."""
        self.query_one(".kanban-column--title", Static).update(Text(f"{self.title_text} ({len(rows):,})"))
        self.table.set_rows(rows, first=first)


class Kanban(HorizontalScroll, can_focus=False):
    """The board's rows split into columns; left/right (h/l) change column, `[`/`]` move the card.

    Columns never get narrower than a readable card: when they do not fit, the board scrolls sideways
    and follows the focused column.
    """

    DEFAULT_CSS = """
    Kanban { height: 1fr; overflow-y: hidden; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "column(-1)", "Column left", show=False, id="kanban.left"),
        Binding("right,l", "column(1)", "Column right", show=False, id="kanban.right"),
        # Short descriptions: the footer is narrow, and these show only while the kanban has focus.
        Binding("left_square_bracket,shift+left", "move_card(-1)", "Card ←", id="kanban.move_left"),
        Binding("right_square_bracket,shift+right", "move_card(1)", "Card →", id="kanban.move_right"),
    ]

    class MoveRequested(Message):
        """The user asked to move cards to the next column (only screens act on it)."""

        def __init__(self, task_ids: list[str], source: KanbanColumn, target: KanbanColumn) -> None:
            super().__init__()
            self.task_ids = task_ids
            self.source = source
            self.target = target

    def __init__(
        self,
        *,
        tz: tzinfo,
        now: Callable[[], datetime],
        id: str | None = None,  # noqa: A002
        columns: Sequence[ColumnSpec] = STATUS_COLUMNS,
    ) -> None:
        super().__init__(id=id)
        self._tz = tz
        self._now = now
        self.specs: tuple[ColumnSpec, ...] = tuple(columns)

    def compose(self) -> ComposeResult:
        yield from self._build(self.specs)

    def _build(self, specs: Sequence[ColumnSpec]) -> list[KanbanColumn]:
        return [
            KanbanColumn(status, title, tz=self._tz, now=self._now, key=key) for key, title, status in specs
        ]

    async def set_columns(self, specs: Sequence[ColumnSpec]) -> None:
        """Replace the columns (status columns, or a GitLab board's lists); no-op when unchanged."""
        wanted = tuple(specs)
        if wanted == self.specs:
            return
        self.specs = wanted
        await self.remove_children()
        await self.mount_all(self._build(wanted))

    def columns(self) -> list[KanbanColumn]:
        """The columns, left to right."""
        return list(self.query(KanbanColumn))

    def show(self, rows: BoardRows, statuses: set[str], *, first: bool = False) -> None:
        """Split ``rows`` by status; columns whose status the filter excludes are hidden."""
        for column in self.columns():
            column.display = column.status in statuses
            if column.display:
                column.show(rows.where_status(column.status), first=first)

    def show_groups(self, groups: Mapping[str, BoardRows]) -> None:
        """Show each column's rows from ``groups`` (by column key); a key missing there shows none."""
        for column in self.columns():
            column.display = True
            column.show(groups.get(column.key) or BoardRows.empty())

    def focused_table(self) -> TaskTable | None:
        """The table of the column that has focus (or the first visible one)."""
        column = self.focused_column()
        return column.table if column is not None else None

    def focused_column(self) -> KanbanColumn | None:
        """The column that has focus (or the first visible one)."""
        visible = [c for c in self.columns() if c.display]
        for column in visible:
            if column.table.has_focus:
                return column
        return visible[0] if visible else None

    def tables(self) -> list[TaskTable]:
        return [c.table for c in self.columns() if c.display]

    def action_column(self, step: int) -> None:
        tables = self.tables()
        current = self.focused_table()
        if not tables or current is None:
            return
        index = (tables.index(current) + step) % len(tables)
        tables[index].focus()
        column = tables[index].parent
        if column is not None:
            self.scroll_to_widget(column, animate=False)  # type: ignore[arg-type]

    def action_move_card(self, step: int) -> None:
        """Ask to move the selected cards (or the one under the cursor) one column left or right."""
        visible = [c for c in self.columns() if c.display]
        source = self.focused_column()
        if source is None:
            return
        index = visible.index(source) + step
        targets = source.table.targets()
        if not targets or not 0 <= index < len(visible):
            self.app.bell()
            return
        self.post_message(self.MoveRequested(targets, source, visible[index]))
