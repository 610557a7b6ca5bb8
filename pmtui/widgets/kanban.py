"""Kanban columns by status: one compact :class:`TaskTable` per status, side by side."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from pmtui.core.board import BoardRows
from pmtui.widgets.task_table import TaskTable

KANBAN_STATUSES: tuple[tuple[str, str], ...] = (
    ("todo", "To do"),
    ("in_progress", "In progress"),
    ("done", "Done"),
    ("canceled", "Canceled"),
)


class KanbanColumn(Vertical):
    """A status heading over a compact task table."""

    DEFAULT_CSS = """
    KanbanColumn { width: 1fr; height: 1fr; border: round $panel; }
    KanbanColumn:focus-within { border: round $accent; }
    KanbanColumn > .kanban-column--title { height: 1; text-style: bold; padding: 0 1; }
    """

    def __init__(self, status: str, title: str, *, tz: tzinfo, now: Callable[[], datetime]) -> None:
        super().__init__(id=f"kanban-{status}")
        self.status = status
        self.title_text = title
        self._tz = tz
        self._now = now

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, classes="kanban-column--title")
        yield TaskTable(compact=True, tz=self._tz, now=self._now, empty_text="nothing")

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    def show(self, rows: BoardRows) -> None:
        """Show this column's rows and their count in the heading."""
        self.query_one(".kanban-column--title", Static).update(f"{self.title_text} ({len(rows):,})")
        self.table.set_rows(rows)


class Kanban(Horizontal):
    """The board's rows split into status columns; left/right (h/l) move between columns."""

    DEFAULT_CSS = """
    Kanban { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "column(-1)", "Column left", show=False, id="kanban.left"),
        Binding("right,l", "column(1)", "Column right", show=False, id="kanban.right"),
    ]

    def __init__(self, *, tz: tzinfo, now: Callable[[], datetime], id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._tz = tz
        self._now = now

    def compose(self) -> ComposeResult:
        for status, title in KANBAN_STATUSES:
            yield KanbanColumn(status, title, tz=self._tz, now=self._now)

    def show(self, rows: BoardRows, statuses: set[str]) -> None:
        """Split ``rows`` by status; columns whose status the filter excludes are hidden."""
        for column in self.query(KanbanColumn):
            column.display = column.status in statuses
            if column.display:
                column.show(rows.where_status(column.status))

    def focused_table(self) -> TaskTable | None:
        """The table of the column that has focus (or the first visible one)."""
        for column in self.query(KanbanColumn):
            if column.display and column.table.has_focus:
                return column.table
        for column in self.query(KanbanColumn):
            if column.display:
                return column.table
        return None

    def tables(self) -> list[TaskTable]:
        return [c.table for c in self.query(KanbanColumn) if c.display]

    def action_column(self, step: int) -> None:
        tables = self.tables()
        current = self.focused_table()
        if not tables or current is None:
            return
        index = (tables.index(current) + step) % len(tables)
        tables[index].focus()
