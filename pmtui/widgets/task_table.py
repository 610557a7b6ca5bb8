"""A virtualized task table over Arrow columns: draws only the rows on screen, so 50,000 rows cost nothing.

Textual's ``DataTable`` measures every cell of every row after ``add_rows`` (seven seconds for 50,000
rows of eight columns), so the board uses this line-API widget instead: rows come in as a
:class:`~pmtui.core.board.BoardRows`, and :meth:`render_line` formats just the visible ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pmtui.core.board import BoardRow, BoardRows, due_text, is_overdue
from pmtui.text import clean_line

PRIORITY_MARKS = {"urgent": "!!!", "high": "!!", "medium": "!", "low": "·", "none": ""}
STATUS_TEXT = {"todo": "todo", "in_progress": "doing", "done": "done", "canceled": "canceled"}


def short_due(due: datetime | None, all_day: bool, tz: tzinfo, today: date) -> str:
    """A due date in at most 10 cells: ``Fri 27 Nov`` (the day only; the detail has the time)."""
    text = due_text(due, all_day, tz, today)
    return text[:10].rstrip()


def card_due(due: datetime | None, all_day: bool, tz: tzinfo) -> str:
    """A due date in 6 cells for a kanban card: ``27 Nov``."""
    if due is None:
        return ""
    moment = due.astimezone(UTC) if all_day else due.astimezone(tz)
    return moment.strftime("%d %b")


@dataclass(frozen=True)
class Column:
    """One column: its header, how wide (0 = takes the rest), and how to get its text."""

    name: str
    width: int
    text: Callable[[BoardRow], str]
    min_total: int = 0
    """Only shown when the table is at least this wide."""


class TaskTable(ScrollView, can_focus=True):
    """Tasks, one per line, with a cursor and a multi-selection; emits messages, never calls the engine."""

    DEFAULT_CSS = """
    TaskTable {
        height: 1fr;
        background: $surface;
        scrollbar-gutter: stable;
    }
    TaskTable > .task-table--header { text-style: bold; color: $text-muted; background: $panel; }
    TaskTable > .task-table--cursor { background: $accent 40%; }
    TaskTable:focus > .task-table--cursor { background: $accent; color: $text; }
    TaskTable > .task-table--selected { color: $warning; text-style: bold; }
    TaskTable > .task-table--overdue { color: $error; }
    TaskTable > .task-table--done { color: $text-muted; text-style: strike; }
    TaskTable > .task-table--key { color: $secondary; }
    TaskTable > .task-table--urgent { color: $error; text-style: bold; }
    TaskTable > .task-table--empty { color: $text-muted; text-style: italic; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header",
        "task-table--cursor",
        "task-table--selected",
        "task-table--overdue",
        "task-table--done",
        "task-table--key",
        "task-table--urgent",
        "task-table--empty",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("home,g", "first", "First", show=False, id="table.first"),
        Binding("end,G", "last", "Last", show=False, id="table.last"),
        Binding("space", "toggle_select", "Select", show=False, id="table.select"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class CursorMoved(Message):
        """The cursor is on another task (or on none)."""

        def __init__(self, table: TaskTable, task_id: str | None) -> None:
            super().__init__()
            self.table = table
            self.task_id = task_id

    class SelectionChanged(Message):
        """The multi-selection changed; ``count`` tasks are selected."""

        def __init__(self, table: TaskTable, count: int) -> None:
            super().__init__()
            self.table = table
            self.count = count

    class Activated(Message):
        """Enter or a double click on a task."""

        def __init__(self, table: TaskTable, task_id: str) -> None:
            super().__init__()
            self.table = table
            self.task_id = task_id

    def __init__(
        self,
        *,
        compact: bool = False,
        tz: tzinfo = UTC,
        now: Callable[[], datetime] | None = None,
        empty_text: str = "No tasks.",
        id: str | None = None,  # noqa: A002 - Textual's own name for a widget id
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.rows = BoardRows.empty()
        self.selected: set[str] = set()
        self.compact = compact
        self.tz = tz
        self._now = now or (lambda: datetime.now(UTC))
        self.empty_text = empty_text
        self._today = self._now().astimezone(tz).date()

    # ------------------------------------------------------------------------------------ data

    def set_rows(self, rows: BoardRows, *, keep: str | None = None, first: bool = False) -> None:
        """Show ``rows``; the cursor goes to the first row when ``first`` (a new filter: Enter must
        act on the first match, not on whatever row number the cursor had), else stays on task
        ``keep`` (or the current one) if it is still there."""
        keep = None if first else keep or self.current_id
        self.rows = rows
        self._today = self._now().astimezone(self.tz).date()
        self.selected &= set(rows.ids) if len(self.selected) < 10000 else self.selected
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        index = rows.index_of(keep) if keep else None
        if first:
            index = 0
            self.scroll_to(y=0, animate=False, immediate=True)
        self.cursor = index if index is not None else min(self.cursor, max(len(rows) - 1, 0))
        self.refresh()

    @property
    def current_id(self) -> str | None:
        """The id of the task under the cursor."""
        if 0 <= self.cursor < len(self.rows):
            return self.rows.ids[self.cursor]
        return None

    @property
    def current_row(self) -> BoardRow | None:
        """The task under the cursor, as a board row."""
        if 0 <= self.cursor < len(self.rows):
            return self.rows.row(self.cursor)
        return None

    def targets(self) -> list[str]:
        """The selected tasks in board order, or the one under the cursor when none is selected."""
        if self.selected:
            return [task_id for task_id in self.rows.ids if task_id in self.selected]
        current = self.current_id
        return [current] if current else []

    def clear_selection(self) -> None:
        """Unselect everything."""
        self.selected.clear()
        self.post_message(self.SelectionChanged(self, 0))
        self.refresh()

    # --------------------------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Left and right never scroll the table sideways (its columns are fitted to its width): they
        pass up to the screen, where the kanban uses them to change column."""
        return action not in ("scroll_left", "scroll_right")

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if len(self.rows) else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.current_id))

    def _scroll_to_cursor(self) -> None:
        visible = max(self.size.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_page_down(self) -> None:
        self.cursor += max(self.size.height - 2, 1)

    def action_page_up(self) -> None:
        self.cursor -= max(self.size.height - 2, 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.rows) - 1

    def action_toggle_select(self) -> None:
        current = self.current_id
        if current is None:
            return
        if current in self.selected:
            self.selected.discard(current)
        else:
            self.selected.add(current)
        self.post_message(self.SelectionChanged(self, len(self.selected)))
        self.cursor += 1

    def key_enter(self, event: events.Key) -> None:
        current = self.current_id
        if current is not None:
            event.stop()
            self.post_message(self.Activated(self, current))

    def on_click(self, event: events.Click) -> None:
        line = event.y + int(self.scroll_offset.y) - 1
        if event.y >= 1 and 0 <= line < len(self.rows):
            self.cursor = line
            if event.chain >= 2:
                self.post_message(self.Activated(self, self.rows.ids[line]))

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.rows) + 1)
        self._scroll_to_cursor()

    # -------------------------------------------------------------------------------- drawing

    def columns(self, width: int) -> list[tuple[Column, int]]:
        """The columns that fit ``width``, each with its width (the title takes what is left)."""
        tz = self.tz

        def due(row: BoardRow) -> str:
            return due_text(row.due, row.due_all_day, tz, self._today)

        def short(row: BoardRow) -> str:
            return short_due(row.due, row.due_all_day, tz, self._today)

        if self.compact:
            # A kanban card: the title first; the key only where the column is wide enough.
            chosen = [
                Column("", 2, lambda r: ""),
                Column("Title", 0, lambda r: r.title),
                Column("Key", 10, lambda r: r.key or r.service, min_total=44),
                Column("Due", 6, lambda r: card_due(r.due, r.due_all_day, tz)),
            ]
        else:
            # At 80 columns the title keeps at least 40% of the width: the service (the key names
            # it) and the project come in only on wider terminals, and the due date is short.
            wide = width >= 100
            chosen = [
                Column("", 2, lambda r: ""),
                Column("Key", 12 if wide else 11, lambda r: r.key or r.service),
                Column("Title", 0, lambda r: r.title),
                Column("Status", 8 if wide else 6, lambda r: STATUS_TEXT.get(r.status, r.status)),
                Column("Pri", 4 if wide else 3, lambda r: PRIORITY_MARKS.get(r.priority, "")),
                Column("Due", 16 if wide else 10, due if wide else short),
                Column("Service", 8, lambda r: r.service, min_total=100),
                Column("Project", 16, lambda r: r.project or "", min_total=104),
                Column("Labels", 18, lambda r: " ".join(f"#{x}" for x in r.labels), min_total=140),
            ]
        shown = [c for c in chosen if width >= c.min_total]
        fixed = sum(c.width + 1 for c in shown if c.width)
        title_width = max(width - fixed - 1, 8)
        return [(c, c.width or title_width) for c in shown]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self.columns(width)
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("task-table--header")
            return self._strip([(c.name, w, header) for c, w in columns], width, base + header)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self.rows):
            if index == 0 and y == 1:
                empty = self.get_component_rich_style("task-table--empty")
                return self._strip([(f"  {self.empty_text}", width, empty)], width, base)
            return Strip.blank(width, base)
        row = self.rows.row(index)
        style = base
        now = self._now()
        if row.status in ("done", "canceled"):
            style += self.get_component_rich_style("task-table--done")
        elif is_overdue(row.due, row.due_all_day, row.status, now):
            style += self.get_component_rich_style("task-table--overdue")
        selected = row.id in self.selected
        if selected:
            style += self.get_component_rich_style("task-table--selected")
        if index == self.cursor:
            style += self.get_component_rich_style("task-table--cursor")
        cells: list[tuple[str, int, Style]] = []
        for column, column_width in columns:
            if column.name == "":
                cells.append(("● " if selected else "  ", column_width, style))
            elif column.name == "Key":
                cells.append(
                    (column.text(row), column_width, style + self.get_component_rich_style("task-table--key"))
                )
            elif column.name == "Pri" and row.priority == "urgent":
                cells.append(
                    (
                        column.text(row),
                        column_width,
                        style + self.get_component_rich_style("task-table--urgent"),
                    )
                )
            else:
                cells.append((column.text(row), column_width, style))
        return self._strip(cells, width, style)

    def _strip(self, cells: list[tuple[str, int, Style]], width: int, fill: Style) -> Strip:
        segments: list[Segment] = []
        for raw, cell_width, style in cells:
            text = clean_line(raw, limit=None)  # titles, keys, projects, labels: service text
            if cell_len(text) > cell_width:
                text = set_cell_size(text, max(cell_width - 1, 0)) + "…"
            segments.append(Segment(set_cell_size(text, cell_width), style))
            segments.append(Segment(" ", fill))
        return Strip(segments).adjust_cell_length(width, fill)
