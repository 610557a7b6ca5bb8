"""The morning briefing, live: overdue, today, top priorities with their reasons, upcoming, progress, sync."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time, timedelta
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, Sparkline, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from pmtui.answers import app_briefing, filed_app_briefing
from pmtui.core.board import ago, due_text
from pmtui.core.briefing import Briefing, TaskRow, build_briefing, configured_services
from pmtui.errors import PmtuiError
from pmtui.models import ActionResult, CompleteTask, TaskChanges, UpdateTask
from pmtui.render.briefing import milestone_due_text, milestone_state_text, progress_bar
from pmtui.screens.base import Backend, EngineScreen, result_line, severity_of
from pmtui.screens.task_actions import task_links
from pmtui.text import clean_line
from pmtui.widgets.footer import KeyFooter
from pmtui.widgets.status_line import StatusLine

SECTION_STYLES = {
    "overdue": "bold red",
    "today": "bold yellow",
    "priorities": "bold",
    "upcoming": "bold cyan",
}


def task_option(
    section: str, item: TaskRow, *, today: object, tz: object, extra: Text | None = None
) -> Option:
    """One briefing task as an option (its id is ``section:task_id``, unique across sections)."""
    line = Text()
    key = item.ref.key if item.ref and item.ref.key else (item.ref.service if item.ref else "local")
    line.append(f"{clean_line(key, limit=40):<9} ", style="cyan")
    line.append(clean_line(item.title))
    when = item.due_at or (
        datetime.combine(item.due_day, time(0), tzinfo=UTC) if item.due_day is not None else None
    )
    if when is not None:
        line.append(f"  {due_text(when, item.due_all_day, tz, today)}", style="dim")  # type: ignore[arg-type]
    if item.priority in ("urgent", "high"):
        line.append(f"  {item.priority}", style="red" if item.priority == "urgent" else "yellow")
    if extra is not None:
        line.append("  ")
        line.append(extra)
    line.no_wrap = True
    line.overflow = "ellipsis"
    return Option(line, id=f"{section}:{item.id}")


class BriefingScreen(EngineScreen):
    """Today at a glance; `j`/`k` move, enter opens, `x` completes, `z` snoozes to tomorrow, `r` syncs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "move(1)", "Down", show=False, id="briefing.down"),
        Binding("k", "move(-1)", "Up", show=False, id="briefing.up"),
        Binding("g", "edge(0)", "First", show=False, id="briefing.first"),
        Binding("G", "edge(1)", "Last", show=False, id="briefing.last"),
        Binding("enter", "open", "Open", id="briefing.open"),
        Binding("x", "complete", "Done", id="briefing.complete"),
        Binding("z", "snooze", "Snooze", id="briefing.snooze"),
        Binding("b", "browse", "Open in browser", show=False, id="briefing.browser"),
        Binding("y", "copy_url", "Copy URL", show=False, id="briefing.copy_url"),
    ]

    class Built(Message):
        """A briefing was computed."""

        def __init__(self, briefing: Briefing) -> None:
            super().__init__()
            self.briefing = briefing

    class ShownFiled(Message):
        """The first frame shows the filed answer: the app's background work may start after it."""

    class ActionDone(Message):
        def __init__(self, what: str, result: ActionResult) -> None:
            super().__init__()
            self.what = what
            self.result = result

    def __init__(self, backend: Backend, **kwargs: object) -> None:
        super().__init__(backend, **kwargs)
        self.briefing: Briefing | None = None

    def compose(self) -> ComposeResult:
        yield Static("Briefing", id="briefing-title", classes="screen-title")
        yield Static("", id="briefing-counts")
        with Horizontal(id="briefing-body"):
            yield OptionList(id="briefing-tasks")
            with VerticalScroll(id="briefing-side"):
                yield Static("Progress", classes="section-title")
                yield Vertical(id="briefing-projects")
                yield Static("Milestones", classes="section-title", id="briefing-milestones-title")
                yield Static("", id="briefing-milestones")
                yield Static("Sync", classes="section-title")
                yield Static("", id="briefing-sync")
        yield StatusLine(self.backend.clock)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#briefing-tasks", OptionList).focus()
        filed = self._filed()
        if filed is None:
            # Nothing to show without a query: open the cache here, as the start did before the first
            # frame (in the worker, DuckDB's import would wait for the GIL while this thread mounts).
            # One that cannot be opened fails the worker too, and the app ends with its error.
            with contextlib.suppress(PmtuiError):
                self.backend.engine  # noqa: B018 - opens it
            self.reload()
        else:
            self._show(filed)
            self.post_message(self.ShownFiled())

    def _filed(self) -> Briefing | None:
        """The answer filed for this cache, when it is current: read here, before the first frame,
        so that frame has the data (see :func:`pmtui.answers.filed_app_briefing`)."""
        backend = self.backend
        if not backend.files_answers:
            return None
        return filed_app_briefing(
            backend.cache_path,
            timezone=backend.settings.timezone,
            configured=self._configured(),
            now=self.backend.now(),
            tz=self.backend.tz(),
        )

    def _configured(self) -> tuple[str, ...]:
        # The same "configured" hint as `pmtui briefing` (no OS keyring: its import alone costs ~0.1 s
        # of the first frame); a service that has synced shows its real state either way.
        return tuple(s.value for s in configured_services(self.backend.settings))

    def reload(self) -> None:
        self._build()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="briefing",
        description="building the briefing",
    )
    def _build(self) -> None:
        now = self.backend.now()
        tz = self.backend.tz()
        engine = self.backend.engine
        configured = self._configured()
        if engine.files_answers:  # the data folder's cache: the answer `pmtui briefing` files is this one
            briefing = app_briefing(
                engine.store, timezone=engine.settings.timezone, configured=configured, now=now, tz=tz
            )
        else:
            today = now.astimezone(tz).date()
            briefing = build_briefing(engine.store, today=today, now=now, tz=tz, configured=configured)
        self.post_message(self.Built(briefing))

    def on_briefing_screen_built(self, event: Built) -> None:
        self._show(event.briefing)

    def _show(self, b: Briefing) -> None:
        self.briefing = b
        tz = self.backend.tz()
        today = b.date
        self.query_one("#briefing-title", Static).update(
            Text.assemble(("Briefing ", "bold"), (f"{today:%A %d %B %Y} · {b.timezone}", "dim"))
        )
        c = b.counts
        counts = Text()
        for value, label, style in (
            (c.overdue, "overdue", "red"),
            (c.due_today, "due today", "yellow"),
            (c.upcoming, "this week", "cyan"),
            (c.open, "open", ""),
            (c.completed, "done in 7 days", "green"),
            (c.conflicts, "conflicts", "magenta"),
        ):
            counts.append(f"{value:,} ", style=f"bold {style}".strip())
            counts.append(f"{label}   ", style="dim")
        self.query_one("#briefing-counts", Static).update(counts)

        options = self.query_one("#briefing-tasks", OptionList)
        highlighted = options.highlighted_option.id if options.highlighted_option else None
        options.clear_options()
        if b.is_empty:
            options.add_option(
                Option(
                    Text(_empty_text(str(getattr(self.app, "sync_busy", ""))), style="dim"),
                    disabled=True,
                )
            )
        sections = (
            ("overdue", "Overdue", b.overdue.total, b.overdue.items),
            ("today", "Due today", b.due_today.total, b.due_today.items),
            ("priorities", "Top priorities", len(b.priorities.items), b.priorities.items),
            ("upcoming", "Upcoming (7 days)", b.upcoming.total, b.upcoming.items),
        )
        for name, title, total, items in sections:
            if b.is_empty:
                break
            options.add_option(
                Option(Text.assemble((f"{title} ", SECTION_STYLES[name]), (f"{total}", "dim")), disabled=True)
            )
            if not items:
                options.add_option(Option(Text("  nothing", style="dim"), disabled=True))
            for item in items:
                extra = None
                if name == "overdue":
                    extra = Text(f"late {getattr(item, 'overdue_text', '')}", style="red")
                if name == "priorities":
                    reasons = getattr(item, "reasons", ())
                    extra = Text(
                        f"{getattr(item, 'score', 0)} = " + ", ".join(r.text() for r in reasons), style="dim"
                    )
                options.add_option(task_option(name, item, today=today, tz=tz, extra=extra))
            if total > len(items):
                options.add_option(
                    Option(Text(f"  … {total - len(items)} more (2: board)", style="dim"), disabled=True)
                )
            options.add_option(None)
        if highlighted is not None:
            try:
                options.highlighted = options.get_option_index(highlighted)
            except OptionDoesNotExist:  # the task left the briefing (completed, snoozed)
                options.action_first()
        else:
            options.action_first()

        projects = self.query_one("#briefing-projects", Vertical)
        projects.remove_children()
        rows = []
        for project in b.projects.items:
            bar = Text(no_wrap=True, overflow="ellipsis")
            bar.append(f"{clean_line(project.name)[:14]:<14} ", style="bold")
            bar.append(progress_bar(project.done, project.total, 8), style="green")
            bar.append(f" {project.done}/{project.total}", style="dim")
            rows.append(
                Horizontal(
                    Label(bar, classes="project-label"),
                    Sparkline(list(project.trend), classes="project-trend"),
                    classes="project-row",
                )
            )
        if not rows:
            rows.append(Horizontal(Label(Text("no open projects", style="dim")), classes="project-row"))
        projects.mount_all(rows)
        self._show_milestones(b)

        now = self.backend.now()
        sync = Text()
        for health in b.sync:
            if not health.configured and health.state == "not_configured":
                continue
            mark, style = {
                "ok": ("✓", "green"),
                "failed": ("✗", "red"),
                "running": ("…", "yellow"),
                "never_synced": ("·", "dim"),
            }.get(health.state, ("-", "dim"))
            sync.append(f"{mark} ", style=style)
            sync.append(f"{health.label:<8}", style="bold")
            when = ago(health.last_sync_at, now) if health.last_sync_at else "never synced"
            sync.append(f" {when}", style="dim")
            if health.pending_steps:
                sync.append(f"  {health.pending_steps} waiting", style="yellow")
            if health.open_conflicts:
                sync.append(f"  {health.open_conflicts} conflicts", style="magenta")
            if health.last_error and health.state == "failed":
                sync.append(f"\n    {clean_line(health.last_error, limit=80)}", style="red")
            sync.append("\n")
        if not sync.plain:
            sync.append("no services configured", style="dim")
        code = b.gitlab_activity.text()
        if code:
            sync.append("\nGitLab code: ", style="bold")
            sync.append(clean_line(code), style="red" if b.gitlab_activity.failing_pipelines else "")
        self.query_one("#briefing-sync", Static).update(sync)

    def _show_milestones(self, b: Briefing) -> None:
        """One line per milestone, soonest due first: name, bar, done/total, its state in words (at risk
        and overdue in red, also counted in the section title), then the due day."""
        section = b.milestones
        title = Text("Milestones")
        if section.at_risk:
            title.append(f"  {section.at_risk} at risk", style="bold red")
        self.query_one("#briefing-milestones-title", Static).update(title)
        lines = Text(no_wrap=True, overflow="ellipsis")
        for n, item in enumerate(section.items):
            if n:
                lines.append("\n")
            lines.append(f"{clean_line(item.name)[:14]:<14} ", style="bold red" if item.at_risk else "bold")
            lines.append(progress_bar(item.done, item.total, 6), style="green")
            lines.append(f" {item.done}/{item.total}".ljust(7), style="dim")
            state = milestone_state_text(item.state)
            state.pad_right(9 - len(state.plain))
            lines.append_text(state)  # before the due day: a narrow panel cuts from the right
            lines.append(milestone_due_text(item.due, b.date), style="dim")
        if section.total > len(section.items):
            lines.append(f"\n… {section.total - len(section.items)} more", style="dim")
        if not section.items:
            lines.append("no open milestones", style="dim")
        self.query_one("#briefing-milestones", Static).update(lines)

    # -------------------------------------------------------------------------------- actions

    def _current_task(self) -> str | None:
        option = self.query_one("#briefing-tasks", OptionList).highlighted_option
        if option is None or option.id is None or option.disabled:
            return None
        return option.id.partition(":")[2]

    def action_edge(self, last: int) -> None:
        options = self.query_one("#briefing-tasks", OptionList)
        if last:
            options.action_last()
        else:
            options.action_first()

    def action_browse(self) -> None:
        task_id = self._current_task()
        if task_id:
            task_links(self, self.backend, task_id, "open")

    def action_copy_url(self) -> None:
        task_id = self._current_task()
        if task_id:
            task_links(self, self.backend, task_id, "copy")

    def action_move(self, step: int) -> None:
        options = self.query_one("#briefing-tasks", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        from pmtui.screens.task_detail import TaskDetailScreen

        task_id = self._current_task()
        if task_id:
            self.app.push_screen(TaskDetailScreen(self.backend, task_id))

    def action_complete(self) -> None:
        task_id = self._current_task()
        if task_id:
            self._run("complete", CompleteTask(task=task_id))

    def action_snooze(self) -> None:
        task_id = self._current_task()
        if not task_id:
            return
        tomorrow = self.backend.now().astimezone(self.backend.tz()).date() + timedelta(days=1)
        due = datetime.combine(tomorrow, time(0), tzinfo=UTC)
        self._run(
            "snooze to tomorrow", UpdateTask(task=task_id, changes=TaskChanges(due=due, due_all_day=True))
        )

    def _run(self, what: str, action: CompleteTask | UpdateTask) -> None:
        self._execute(what, action)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="briefing-action",
        description="running the action",
    )
    def _execute(self, what: str, action: CompleteTask | UpdateTask) -> None:
        self.post_message(self.ActionDone(what, self.backend.run_action(action)))

    def on_briefing_screen_action_done(self, event: ActionDone) -> None:
        self.notify(result_line(event.result), title=event.what, severity=severity_of(event.result))
        self.data_changed()

    def refresh_data(self) -> None:
        """``r`` on the briefing: sync every service, then draw again (a morning's first key)."""
        run_sync = getattr(self.app, "start_sync", None)
        if callable(run_sync):
            run_sync(None)
        else:
            self.notify("refreshed from the cache", timeout=3)
            self.reload()


def _empty_text(sync_busy: str) -> str:
    """The empty briefing's hint, true to the moment: a first sync may already be running."""
    add = '2 then n to add a task, or : to ask ("task Write the spec due fri").'
    if sync_busy:
        return f"Nothing in the cache yet: the first sync is running ({sync_busy}).\n\nMeanwhile: {add}"
    return f"Nothing in the cache yet.\n\nPress S to sync every service, {add}"
