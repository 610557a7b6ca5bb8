"""The task board: every task in one virtualized table (or kanban columns), filtered as you type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, Input, Static

from pmtui.core.board import (
    STATUS_FACETS,
    BoardFilter,
    BoardRow,
    BoardRows,
    FacetValue,
    due_text,
    facet_values,
    project_names,
    project_track,
    query_board,
)
from pmtui.core.milestones import ProjectTrack
from pmtui.models import (
    Action,
    ActionResult,
    CompleteTask,
    CreateTask,
    DeleteTask,
    MoveTask,
    Priority,
    ResultStatus,
    Service,
    Status,
    TaskChanges,
    UpdateTask,
)
from pmtui.screens.base import EngineScreen, result_line, severity_of
from pmtui.screens.modals import ChoiceModal, ConfirmModal, InputModal
from pmtui.screens.task_actions import (
    bulk_text,
    delete_text,
    edit_description,
    move_text,
    parse_view,
    service_of,
    task_links,
)
from pmtui.screens.task_form import TaskForm, parse_due
from pmtui.widgets.footer import KeyFooter
from pmtui.widgets.kanban import STATUS_COLUMNS, ColumnSpec, Kanban
from pmtui.widgets.status_line import StatusLine
from pmtui.widgets.task_table import TaskTable


class BoardScreen(EngineScreen):
    """All tasks: `/` filters, `f` facets, `o` sorts, `space` selects, `x m p d` act on the selection.

    The key map is in docs/keys.md; a key means the same on every screen that has it.
    """

    AUTO_FOCUS = "#board-table"

    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown in the footer, most used first (at 80 columns the footer cuts from the right).
        Binding("slash", "filter", "Filter", id="board.filter"),
        Binding("n", "new", "New", id="board.new"),
        Binding("x", "complete", "Done", id="board.complete"),
        Binding("e", "edit", "Edit", id="board.edit"),
        Binding("m", "move", "Move", id="board.move"),
        Binding("f", "facet", "Facet", id="board.facet"),
        Binding("t", "toggle_view", "Kanban", id="board.kanban"),
        # In `?` help and the command palette only.
        Binding("enter", "open", "Open", show=False, id="board.open"),
        Binding("X", "reopen", "Reopen", show=False, id="board.reopen"),
        Binding("p", "prioritise", "Priority", show=False, id="board.priority"),
        Binding("d", "set_due", "Due date", show=False, id="board.due"),
        Binding("D", "delete", "Delete", show=False, id="board.delete"),
        Binding("E", "edit_description", "Description in $EDITOR", show=False, id="board.editor"),
        Binding("b", "browse", "Open in browser", show=False, id="board.browser"),
        Binding("y", "copy_url", "Copy URL", show=False, id="board.copy_url"),
        Binding("F", "clear_facets", "Clear facets", show=False, id="board.clear_facets"),
        Binding("o", "sort", "Sort by", show=False, id="board.sort"),
        Binding("O", "reverse", "Reverse sort", show=False, id="board.reverse"),
        Binding("v", "views", "Saved views", show=False, id="board.views"),
        Binding("escape", "clear", "Clear", show=False, id="board.clear"),
    ]

    class RowsLoaded(Message):
        """A board query returned (``generation`` drops answers to older filters)."""

        def __init__(
            self, rows: BoardRows, generation: int, elapsed_ms: float, track: ProjectTrack | None = None
        ) -> None:
            super().__init__()
            self.rows = rows
            self.generation = generation
            self.elapsed_ms = elapsed_ms
            self.track = track
            """The progress of the project facet's project, when one is set."""

    class ActionsDone(Message):
        """Actions from a key press finished."""

        def __init__(self, what: str, results: list[ActionResult]) -> None:
            super().__init__()
            self.what = what
            self.results = results

    class GitLabBoardLoaded(Message):
        """The followed GitLab board's columns and the column of each task (task id -> column key)."""

        def __init__(self, specs: list[ColumnSpec], columns: dict[str, str]) -> None:
            super().__init__()
            self.specs = specs
            self.columns = columns

    class GitLabMoved(Message):
        """Cards moved between GitLab board lists (``columns``: task id -> new column key)."""

        def __init__(self, title: str, columns: dict[str, str]) -> None:
            super().__init__()
            self.title = title
            self.columns = columns

    class FacetsLoaded(Message):
        def __init__(self, values: list[FacetValue], names: dict[str, str]) -> None:
            super().__init__()
            self.values = values
            self.names = names

    def __init__(self, backend: object, **kwargs: object) -> None:
        super().__init__(backend, **kwargs)  # type: ignore[arg-type]
        self.filter = BoardFilter()
        self.descending = False
        """The sort order reversed (``O``): latest due, lowest priority, Z to A first."""
        self._to_first = False
        """The filter text changed: the next rows put the cursor on the first match."""
        self.kanban = False
        self._generation = 0
        self._project_names: dict[str, str] = {}
        self.project_progress: ProjectTrack | None = None
        self.rows = BoardRows.empty()
        self.last_query_ms = 0.0
        self.gitlab_specs: list[ColumnSpec] | None = None
        """The followed GitLab board's columns, once read (cached; refreshed when the data changes)."""
        self.gitlab_columns: dict[str, str] = {}
        """Task id -> GitLab board column key, from the last board read."""
        self._gitlab_fresh = False
        self._follow: str | None = None
        """A card just moved: focus it in its new column once the board shows it there."""

    def compose(self) -> ComposeResult:
        tz, clock = self.backend.tz(), self.backend.clock
        with Vertical(id="board-top"):
            yield Static("", id="board-title", classes="screen-title")
            field = Input(placeholder="/ filter: title, key, project or label", id="board-filter")
            field.display = field.can_focus = False  # shown (and focusable) by `/` only
            yield field
            yield Static("", id="board-facets")
        with ContentSwitcher(initial="board-table", id="board-views"):
            yield TaskTable(
                tz=tz,
                now=clock,
                id="board-table",
                empty_text="No tasks match. n: new task · F: clear facets · S: sync",
            )
        yield StatusLine(clock)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self._show_filter(False)
        self._show_facets()
        self.query_one("#board-table", TaskTable).focus()
        self.watch(self.app, "data_version", self._gitlab_stale, init=False)
        self.reload()

    # ------------------------------------------------------------------------------------- data

    def reload(self) -> None:
        self._generation += 1
        self._load(self.filter, self._generation, self.descending)

    def refresh_data(self) -> None:
        """``r``: read the board again."""
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="board-load", description="loading tasks")
    def _load(self, flt: BoardFilter, generation: int, descending: bool = False) -> None:
        import time

        started = time.perf_counter()
        rows = query_board(self.backend.store, flt, now=self.backend.now(), tz=self.backend.tz())
        if descending and len(rows) > 1:
            rows = BoardRows(rows.table.take(list(range(len(rows) - 1, -1, -1))), rows.total)
        if not self._project_names:
            self._project_names = project_names(self.backend.store)
        track = None
        if flt.project:
            track = project_track(
                self.backend.store, flt.project, now=self.backend.now(), tz=self.backend.tz()
            )
        self.post_message(self.RowsLoaded(rows, generation, (time.perf_counter() - started) * 1000, track))

    async def on_board_screen_rows_loaded(self, event: RowsLoaded) -> None:
        if event.generation != self._generation:
            return
        self.rows = event.rows
        self.project_progress = event.track
        self.last_query_ms = event.elapsed_ms
        first, self._to_first = self._to_first, False
        self.query_one("#board-table", TaskTable).set_rows(event.rows, first=first)
        if self.kanban:
            await self._show_kanban(first=first)
        self._show_title()
        self._show_facets()

    async def _show_kanban(self, *, first: bool = False) -> None:
        kanban = self.query_one(Kanban)
        had_focus = kanban.focused_table() is not None and self.focused in kanban.tables()
        if self.gitlab_view() and not self._gitlab_fresh:
            self._gitlab_fresh = True
            self._load_gitlab_board()
        specs = self.gitlab_specs if self.gitlab_view() and self.gitlab_specs else STATUS_COLUMNS
        replaced = tuple(specs) != kanban.specs
        await kanban.set_columns(specs)
        if specs is not STATUS_COLUMNS:
            kanban.show_groups(self._gitlab_groups())
        else:
            statuses: set[str] = (
                {"todo", "in_progress"} if self.filter.status == "open" else set(STATUS_FACETS[2:])
            )
            if self.filter.status not in ("open", "all"):
                statuses = {str(self.filter.status)}
            kanban.show(self.rows, statuses, first=first)
        if replaced and had_focus:
            table = kanban.focused_table()
            if table:
                table.focus()
        self._follow_card(kanban)

    def _follow_card(self, kanban: Kanban) -> None:
        if self._follow is None:
            return
        for column in kanban.columns():
            index = column.table.rows.index_of(self._follow) if column.display else None
            if index is not None:
                column.table.focus()
                column.table.cursor = index
                self._follow = None
                return

    # ---------------------------------------------------------------------------- GitLab board

    def gitlab_view(self) -> bool:
        """Whether the kanban shows the followed GitLab board's own lists (filtered to GitLab)."""
        return self.filter.service == Service.GITLAB.value and bool(self.backend.engine.settings.gitlab.board)

    def _gitlab_stale(self, _version: int) -> None:
        self._gitlab_fresh = False

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="board-gitlab",
        description="reading the GitLab board",
    )
    def _load_gitlab_board(self) -> None:
        integration: Any = self.backend.engine.integration(Service.GITLAB)
        snapshot = integration.board_snapshot()
        if snapshot is None:
            return
        refs = self.backend.store.refs_by_external(Service.GITLAB, list(snapshot.columns))
        columns = {ref.entity_id: snapshot.columns[iid] for iid, ref in refs.items()}
        specs = [(key, title, status.value) for key, title, status in snapshot.column_titles()]
        self.post_message(self.GitLabBoardLoaded(specs, columns))

    async def on_board_screen_git_lab_board_loaded(self, event: GitLabBoardLoaded) -> None:
        self.gitlab_specs = event.specs
        self.gitlab_columns = event.columns
        if self.kanban:
            await self._show_kanban()

    def _gitlab_groups(self) -> dict[str, BoardRows]:
        """The rows split by GitLab board column; a task the last read did not place goes by status."""
        import pyarrow as pa
        import pyarrow.compute as pc

        specs = self.gitlab_specs or []
        first_of: dict[str, str] = {}
        for key, _title, status in specs:
            first_of.setdefault(status, key)
        first_of["done"] = first_of["canceled"] = "closed"
        statuses = self.rows.table.column("status").to_pylist() if len(self.rows) else []
        placed: dict[str, list[str]] = {}
        for task_id, status in zip(self.rows.ids, statuses, strict=True):
            if Status(status).is_closed:
                key = "closed"
            else:
                key = self.gitlab_columns.get(task_id) or first_of.get(status, "open")
            placed.setdefault(key, []).append(task_id)
        groups: dict[str, BoardRows] = {}
        for key, ids in placed.items():
            mask = pc.is_in(self.rows.table.column("id"), value_set=pa.array(ids, type=pa.string()))
            groups[key] = BoardRows(self.rows.table.filter(mask), self.rows.total)
        return groups

    async def on_kanban_move_requested(self, event: Kanban.MoveRequested) -> None:
        event.stop()
        target = event.target
        task_ids = event.task_ids

        def move() -> None:
            self._follow = task_ids[0]
            if self.gitlab_view() and self.gitlab_specs:
                self._move_on_gitlab(task_ids, target.key, target.title_text)
                return
            changes = TaskChanges(status=Status(target.status))
            self._run(f"move to {target.title_text}", [UpdateTask(task=t, changes=changes) for t in task_ids])

        self._bulk(f"move to {target.title_text}", task_ids, move)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="board-actions",
        description="moving on the GitLab board",
    )
    def _move_on_gitlab(self, task_ids: list[str], column: str, title: str) -> None:
        """One ``PUT`` per issue moves the card between the board's lists (two lists may share a status,
        which no canonical change can express); a status change then goes through the orchestrator
        (GitLab already matches, so it only updates the cache and the other services)."""
        integration: Any = self.backend.engine.integration(Service.GITLAB)
        moved: dict[str, str] = {}
        for task_id in task_ids:
            ref = next((r for r in self.backend.store.refs_for(task_id) if r.service is Service.GITLAB), None)
            task = self.backend.store.get_task(task_id)
            if ref is None or task is None:
                continue
            remote = integration.move_to_column(ref.external_id, column)
            moved[task_id] = column
            if remote.task.status is not task.status:
                self.backend.run_action(
                    UpdateTask(task=task_id, changes=TaskChanges(status=remote.task.status))
                )
        self.post_message(self.GitLabMoved(title, moved))

    def on_board_screen_git_lab_moved(self, event: GitLabMoved) -> None:
        self.gitlab_columns.update(event.columns)
        count = len(event.columns)
        self.notify(f"{count} card(s) moved to {event.title}", title="GitLab board", timeout=4)
        self.data_changed()

    def _show_title(self) -> None:
        table = self._table()
        selected = len(table.selected) if table else 0
        text = f"Board · {len(self.rows):,} of {self.rows.total:,} tasks"
        if selected:
            text += f" · {selected} selected"
        self.query_one("#board-title", Static).update(text)

    def _show_facets(self) -> None:
        parts = []
        for name, value in self.filter.describe(self._project_names):
            part = f"{name}: [b]{escape(value)}[/b]"
            track = self.project_progress
            if name == "project" and self.filter.project and track is not None:
                part += f" [{'bold red' if track.at_risk else 'dim'}]{track.text()}[/]"
            parts.append(part)
        if self.filter.text:
            parts.insert(0, f"filter: [b]{escape(self.filter.text)}[/b]")
        if self.descending:
            parts.append("[b]reversed[/b]")
        self.query_one("#board-facets", Static).update("  ".join(parts))

    def _table(self) -> TaskTable | None:
        if self.kanban:
            return self.query_one(Kanban).focused_table()
        return self.query_one("#board-table", TaskTable)

    def on_task_table_selection_changed(self, event: TaskTable.SelectionChanged) -> None:
        self._show_title()

    def on_task_table_activated(self, event: TaskTable.Activated) -> None:
        event.stop()
        self._open(event.task_id)

    # ---------------------------------------------------------------------------------- filters

    def _show_filter(self, shown: bool) -> None:
        """Show or hide the filter field; hidden, it can take no focus (so it can swallow no keys)."""
        field = self.query_one("#board-filter", Input)
        field.display = shown
        field.can_focus = shown

    def action_filter(self) -> None:
        field = self.query_one("#board-filter", Input)
        self._show_filter(True)
        field.focus()

    def on_descendant_focus(self, event: Any) -> None:
        if getattr(event.widget, "id", None) == "board-filter":
            self._show_filter(True)  # visible whenever it has the focus, however it got it

    @on(Input.Changed, "#board-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value == self.filter.text:
            return
        self.filter = self.filter.with_(text=event.value)
        self._to_first = True
        self.reload()

    @on(Input.Submitted, "#board-filter")
    def _filter_done(self) -> None:
        table = self._table()
        if table:
            table.focus()

    def action_clear(self) -> None:
        field = self.query_one("#board-filter", Input)
        table = self._table()
        if field.has_focus:
            if not field.value:
                self._show_filter(False)
            if table:
                table.focus()
            return
        if table and table.selected:
            table.clear_selection()
            return
        if self.filter.text:
            field.value = ""
            self._show_filter(False)

    def action_sort(self) -> None:
        self.filter = self.filter.next_sort()
        self.notify(f"sorted by {self.filter.sort}", timeout=2)
        self.reload()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        order = "reversed" if self.descending else "normal"
        self.notify(f"sorted by {self.filter.sort}, {order} order", timeout=2)
        self.reload()
        self._show_facets()

    def action_views(self) -> None:
        views = dict(self.backend.engine.settings.ui.views)
        if not views:
            self.notify(
                'no saved views: add [ui.views] to config.toml, e.g. mine = "status:open label:docs"',
                severity="warning",
                timeout=6,
            )
            return
        choices = [(f"{n}. {name}  ·  {spec}", name) for n, (name, spec) in enumerate(views.items(), 1)]

        def chosen(name: str | None) -> None:
            if name is not None:
                self.apply_view(name, views[name])

        self.app.push_screen(ChoiceModal("Saved view", choices, filterable=True), chosen)

    def apply_view(self, name: str, spec: str) -> None:
        """Show saved view ``name`` (its filter text and facets replace the current ones)."""
        try:
            flt = parse_view(spec)
        except ValueError as exc:
            self.notify(f"view {name!r} in [ui.views]: {exc}", severity="error", timeout=8)
            return
        self.filter = flt
        field = self.query_one("#board-filter", Input)
        with field.prevent(Input.Changed):
            field.value = flt.text
        self._show_filter(bool(flt.text))
        self._to_first = True
        self.notify(f"view {name}", timeout=2)
        self.reload()

    def action_clear_facets(self) -> None:
        self.filter = BoardFilter(text=self.filter.text, sort=self.filter.sort)
        self.reload()

    def action_facet(self) -> None:
        self._load_facets()

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="board-facets", description="reading facets"
    )
    def _load_facets(self) -> None:
        store = self.backend.store
        values = facet_values(store, now=self.backend.now(), tz=self.backend.tz())
        self.post_message(self.FacetsLoaded(values, project_names(store)))

    def on_board_screen_facets_loaded(self, event: FacetsLoaded) -> None:
        self._project_names = event.names
        choices = [("clear all facets", "clear:")]
        for value in event.values:
            count = f" ({value.count:,})" if value.facet not in ("status",) else ""
            prefix = {"service": "service: ", "project": "project: ", "label": "label: "}.get(value.facet, "")
            detail = f" · {value.detail}" if value.detail else ""
            choices.append((f"{prefix}{value.label}{count}{detail}", f"{value.facet}:{value.value}"))

        def chosen(picked: str | None) -> None:
            if not picked:
                return
            facet, _, value = picked.partition(":")
            if facet == "clear":
                self.action_clear_facets()
                return
            current = getattr(self.filter, facet)
            self.filter = self.filter.with_(
                **{facet: None if current == value and facet != "status" else value}
            )
            self.reload()

        self.app.push_screen(
            ChoiceModal("Facet: type to narrow, enter to apply", choices, filterable=True), chosen
        )

    async def action_toggle_view(self) -> None:
        self.kanban = not self.kanban
        switcher = self.query_one("#board-views", ContentSwitcher)
        if self.kanban and not switcher.query("#board-kanban"):
            # Built on first use: four more tables would slow every opening of the board.
            await switcher.mount(Kanban(tz=self.backend.tz(), now=self.backend.clock, id="board-kanban"))
        switcher.current = "board-kanban" if self.kanban else "board-table"
        if self.kanban:
            await self._show_kanban()
            table = self.query_one(Kanban).focused_table()
        else:
            table = self.query_one("#board-table", TaskTable)
        if table:
            table.focus()

    # ---------------------------------------------------------------------------------- actions

    def action_open(self) -> None:
        table = self._table()
        if table and table.current_id:
            self._open(table.current_id)

    def _open(self, task_id: str) -> None:
        from pmtui.screens.task_detail import TaskDetailScreen

        self.app.push_screen(TaskDetailScreen(self.backend, task_id))

    def _targets(self) -> list[str]:
        table = self._table()
        targets = table.targets() if table else []
        if not targets:
            self.notify("no task here", severity="warning", timeout=3)
        return targets

    def _rows_of(self, targets: list[str]) -> list[BoardRow]:
        """The board rows of ``targets`` (for the confirmation texts; no cache read)."""
        table = self._table()
        if table is None:
            return []
        where = {task_id: n for n, task_id in enumerate(table.rows.ids)} if len(targets) > 1 else None
        rows = []
        for task_id in targets:
            index = where.get(task_id) if where is not None else table.rows.index_of(task_id)
            if index is not None:
                rows.append(table.rows.row(index))
        return rows

    def _confirm(self, question: str, then: Callable[[], None]) -> None:
        """Ask once (y / enter) before ``then``; n / escape changes nothing."""

        def answered(yes: bool | None) -> None:
            if yes:
                then()
            else:
                self.notify("not done; nothing changed", timeout=2)

        self.app.push_screen(ConfirmModal(question), answered)

    def _bulk(self, verb: str, targets: list[str], run: Callable[[], None], effect: str = "") -> None:
        """Run at once for one task; over more than one, say which and ask first."""
        if len(targets) <= 1:
            run()
            return
        titles = [row.title for row in self._rows_of(targets)]
        self._confirm(bulk_text(verb, titles, effect), run)

    def action_complete(self) -> None:
        targets = self._targets()
        if targets:
            self._bulk(
                "complete", targets, lambda: self._run("complete", [CompleteTask(task=t) for t in targets])
            )

    def action_reopen(self) -> None:
        targets = self._targets()
        if not targets:
            return
        changes = TaskChanges(status=Status.TODO)
        self._bulk(
            "reopen",
            targets,
            lambda: self._run("reopen", [UpdateTask(task=t, changes=changes) for t in targets]),
        )

    def action_delete(self) -> None:
        targets = self._targets()
        if not targets:
            return
        rows = self._rows_of(targets)
        if len(rows) == 1:
            question = delete_text(rows[0].title, service_of(rows[0].service))
        else:
            question = bulk_text("delete", [r.title for r in rows], "removed on their services too")
        self._confirm(question, lambda: self._run("delete", [DeleteTask(task=t) for t in targets]))

    def action_move(self) -> None:
        targets = self._targets()
        if not targets:
            return
        services = [*self.backend.engine.configured_services(), Service.LOCAL]
        choices = [(s.label, s.value) for s in services]
        rows = self._rows_of(targets)

        def chosen(value: str | None) -> None:
            if not value:
                return
            to = Service(value)
            moving = [r for r in rows if service_of(r.service) is not to]
            if not moving:
                self.notify(f"already on {to.label}; nothing to move", timeout=3)
                return
            actions: list[Action] = [MoveTask(task=r.id, to=to) for r in moving]
            if len(moving) == 1:
                question = move_text(moving[0].title, service_of(moving[0].service), to)
            else:
                sources = sorted({service_of(r.service).label for r in moving})
                effect = f"creates {len(moving)} on {to.label}, archives them on {', '.join(sources)}"
                question = bulk_text(f"move to {to.label}", [r.title for r in moving], effect)
            self._confirm(question, lambda: self._run(f"move to {to.label}", actions))

        self.app.push_screen(ChoiceModal(f"Move {len(targets)} task(s) to", choices), chosen)

    def action_prioritise(self) -> None:
        targets = self._targets()
        if not targets:
            return
        choices = [(p.value, p.value) for p in reversed(Priority)]

        def chosen(value: str | None) -> None:
            if value:
                changes = TaskChanges(priority=Priority(value))
                self._bulk(
                    f"set priority {value} on",
                    targets,
                    lambda: self._run(
                        f"priority {value}", [UpdateTask(task=t, changes=changes) for t in targets]
                    ),
                )

        self.app.push_screen(ChoiceModal(f"Priority for {len(targets)} task(s)", choices), chosen)

    def action_set_due(self) -> None:
        targets = self._targets()
        if not targets:
            return
        now, tz = self.backend.now(), self.backend.tz()

        def check(text: str) -> str | None:
            parsed = parse_due(text, now, tz)
            return parsed if isinstance(parsed, str) else None

        def chosen(text: str | None) -> None:
            if text is None:
                return
            parsed = parse_due(text, now, tz)
            if isinstance(parsed, str):
                return
            due, all_day = parsed
            changes = TaskChanges(clear=["due"]) if due is None else TaskChanges(due=due, due_all_day=all_day)
            when = "no due date" if due is None else due_text(due, all_day, tz, now.astimezone(tz).date())
            self._bulk(
                "set the due date",
                targets,
                lambda: self._run("set due", [UpdateTask(task=t, changes=changes) for t in targets]),
                effect=when,
            )

        self.app.push_screen(
            InputModal(
                f"Due date for {len(targets)} task(s)",
                placeholder="fri, 2026-12-01, tomorrow 3pm (empty clears)",
                validate=check,
            ),
            chosen,
        )

    # ----------------------------------------------------------------------- browser, editor

    def _current(self) -> str | None:
        table = self._table()
        current = table.current_id if table else None
        if current is None:
            self.notify("no task here", severity="warning", timeout=3)
        return current

    def action_browse(self) -> None:
        current = self._current()
        if current:
            task_links(self, self.backend, current, "open")

    def action_copy_url(self) -> None:
        current = self._current()
        if current:
            task_links(self, self.backend, current, "copy")

    def action_edit_description(self) -> None:
        current = self._current()
        if current:
            edit_description(self, self.backend, current, lambda action: self._run("description", [action]))

    def action_new(self) -> None:
        def created(action: CreateTask | None) -> None:
            if action is not None:
                self._run("create", [action])

        self.app.push_screen(TaskForm(self.backend), created)

    def action_edit(self) -> None:
        table = self._table()
        if table and table.current_id:
            self._load_for_edit(table.current_id)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="board-edit", description="loading the task"
    )
    def _load_for_edit(self, task_id: str) -> None:
        from pmtui.core.board import task_location

        task = self.backend.store.get_task(task_id)
        if task is None:
            return
        project = task_location(self.backend.store, task.project_id, None).project
        self.app.call_from_thread(self._edit, task, project)

    def _edit(self, task: object, project: str | None) -> None:
        from pmtui.models import Task

        assert isinstance(task, Task)

        def edited(changes: TaskChanges | None) -> None:
            if changes is not None:
                self._run("edit", [UpdateTask(task=task.id, changes=changes)])

        self.app.push_screen(TaskForm(self.backend, task=task, project=project), edited)

    def _run(self, what: str, actions: list[Action]) -> None:
        self.app.sub_title = f"{what}…"
        self._execute(what, actions)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="board-actions", description="running actions"
    )
    def _execute(self, what: str, actions: list[Action]) -> None:
        results = [self.backend.run_action(action) for action in actions]
        self.post_message(self.ActionsDone(what, results))

    def on_board_screen_actions_done(self, event: ActionsDone) -> None:
        self.app.sub_title = ""
        failed = [r for r in event.results if r.status is ResultStatus.FAILED]
        done = len(event.results) - len(failed)
        table = self._table()
        if table and len(event.results) > 1:
            table.clear_selection()
        if len(event.results) == 1:
            result = event.results[0]
            self.notify(
                result_line(result),
                title=event.what,
                severity=severity_of(result),
                timeout=8 if failed else 4,
            )
        else:
            text = f"{done} of {len(event.results)} done"
            if failed:
                text += "\n" + "\n".join(result_line(r) for r in failed[:3])
            worst = (
                "error"
                if failed
                else max(
                    (severity_of(r) for r in event.results), key=("information", "warning", "error").index
                )
            )
            self.notify(text, title=event.what, severity=worst)
        self.data_changed()
