"""One task in full: fields, its homes on each service, comments, merge requests, decisions, sync state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from pmtui.core.activity import CachedActivity, activity_for_task, read_cached
from pmtui.core.board import TaskLocation, ago, due_text, pending_steps_for, task_location
from pmtui.models import (
    ActionResult,
    AddComment,
    Comment,
    CompleteTask,
    Conflict,
    Decision,
    ExternalRef,
    Service,
    Status,
    Task,
    TaskChanges,
    UpdateTask,
)
from pmtui.screens.base import Backend, EngineScreen, result_line, severity_of
from pmtui.screens.modals import InputModal
from pmtui.screens.task_actions import edit_description, task_links
from pmtui.text import clean_block, clean_line, safe_url
from pmtui.widgets.footer import KeyFooter
from pmtui.widgets.status_line import StatusLine


def strip_port(url: str | None) -> str:
    """A URL without its ``:port`` (the sandbox's ports change on every run)."""
    if not url:
        return ""
    import re

    return re.sub(r"^(https?://[^/:]+):\d+", r"\1", url)


MR_STATE_STYLES = {"opened": "yellow", "merged": "green", "closed": "dim", "locked": "dim"}
PIPELINE_STYLES = {"success": "green", "failed": "bold red", "canceled": "dim", "skipped": "dim"}


def _when(at: str | None, now: datetime) -> str | None:
    """How long ago an ISO instant from GitLab was ("3d ago"); None when missing or unreadable."""
    if not at:
        return None
    try:
        then = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _ago_text(then, now) if then.tzinfo is not None else None


def _ago_text(then: datetime, now: datetime) -> str:
    span = ago(then, now)
    return "just now" if span == "now" else f"{span} ago"


@dataclass
class TaskDetail:
    """Everything the detail screen shows, read in one worker."""

    task: Task
    location: TaskLocation
    refs: list[ExternalRef]
    comments: list[Comment]
    decisions: list[Decision]
    conflicts: list[Conflict]
    steps: list[tuple[str, str, str, str | None]]
    activity: CachedActivity | None = None
    """The GitLab activity cached at the last fetch (shown at once; the worker refreshes it)."""
    handle: str | None = None
    """What to call the task in ``pmtui do``: its service key, else its pmtui handle (``M-12``)."""


def load_detail(backend: Backend, task_id: str) -> TaskDetail | None:
    """Read a task and everything around it from the cache (None if it is gone)."""
    store = backend.store
    task = store.get_task(task_id)
    if task is None:
        return None
    return TaskDetail(
        task=task,
        location=task_location(store, task.project_id, task.milestone_id),
        refs=store.refs_for(task_id),
        comments=store.comments_for(task_id),
        decisions=store.decisions(task_id=task_id, limit=20),
        conflicts=store.conflicts(task_id=task_id),
        steps=pending_steps_for(store, task_id),
        activity=read_cached(store, task_id),
        handle=store.handles_for([task_id]).get(task_id),
    )


class TaskDetailScreen(EngineScreen):
    """A task and its context; `c` comments, `x` completes, `e` edits, escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", id="detail.back"),
        Binding("e", "edit", "Edit", id="detail.edit"),
        Binding("c", "comment", "Comment", id="detail.comment"),
        Binding("x", "complete", "Done", id="detail.complete"),
        Binding("b", "browse", "Browser", id="detail.browser"),
        Binding("X", "reopen", "Reopen", show=False, id="detail.reopen"),
        Binding("E", "edit_description", "Description in $EDITOR", show=False, id="detail.editor"),
        Binding("y", "copy_url", "Copy URL", show=False, id="detail.copy_url"),
        Binding("j,down", "scroll(1)", "Scroll down", show=False, id="detail.down"),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False, id="detail.up"),
        Binding("g,home", "scroll_edge(0)", "Top", show=False, id="detail.first"),
        Binding("G,end", "scroll_edge(1)", "Bottom", show=False, id="detail.last"),
    ]

    class Loaded(Message):
        def __init__(self, detail: TaskDetail | None) -> None:
            super().__init__()
            self.detail = detail

    class MergeRequestsLoaded(Message):
        """The GitLab activity (MRs, pipelines, commits) was fetched, or read fresh from the cache."""

        def __init__(self, activity: CachedActivity | None, error: str | None = None) -> None:
            super().__init__()
            self.activity = activity
            self.error = error

    class ActionDone(Message):
        def __init__(self, what: str, result: ActionResult) -> None:
            super().__init__()
            self.what = what
            self.result = result

    def __init__(self, backend: Backend, task_id: str) -> None:
        super().__init__(backend)
        self.task_id = task_id
        self.detail: TaskDetail | None = None
        self._mr_requested = False
        self._force_activity = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body"):
            yield Static("loading…", id="detail-title", classes="screen-title")
            yield Static("", id="detail-fields", classes="detail-section")
            yield Static("", id="detail-refs", classes="detail-section")
            yield Static("", id="detail-mrs", classes="detail-section")
            yield Static("", id="detail-comments", classes="detail-section")
            yield Static("", id="detail-sync", classes="detail-section")
            yield Static("", id="detail-decisions", classes="detail-section")
        yield StatusLine(self.backend.clock)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#detail-body").focus()
        self.reload()

    def reload(self) -> None:
        self._load()

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="detail-load", description="loading the task"
    )
    def _load(self) -> None:
        self.post_message(self.Loaded(load_detail(self.backend, self.task_id)))

    def on_task_detail_screen_loaded(self, event: Loaded) -> None:
        self.detail = event.detail
        if event.detail is None:
            self.query_one("#detail-title", Static).update("This task is no longer in the cache.")
            return
        self._draw(event.detail)
        gitlab = [r for r in event.detail.refs if r.service is Service.GITLAB]
        self.query_one("#detail-mrs", Static).display = bool(gitlab)
        if gitlab and not self._mr_requested:
            self._mr_requested = True
            if event.detail.activity is not None:
                self._draw_activity(event.detail.activity, note="refreshing…")
            else:
                self.query_one("#detail-mrs", Static).update(
                    self._section("Merge requests and commits", Text("  loading…", style="dim"))
                )
            force, self._force_activity = self._force_activity, False
            self._load_merge_requests(force)

    def _draw(self, detail: TaskDetail) -> None:
        task = detail.task
        tz = self.backend.tz()
        today = self.backend.now().astimezone(tz).date()
        self.query_one("#detail-title", Static).update(Text(clean_line(task.title), style="bold"))
        fields = Table.grid(padding=(0, 2))
        fields.add_column(style="dim", no_wrap=True)
        fields.add_column()
        rows: list[tuple[str, str]] = [
            *([("handle", detail.handle)] if detail.handle else []),
            ("status", task.status.value.replace("_", " ")),
            ("priority", task.priority.value),
            ("due", due_text(task.due, task.due_all_day, tz, today) or "—"),
            ("kind", task.kind.value),
            ("labels", " ".join(f"#{label}" for label in task.labels) or "—"),
            ("project", detail.location.project or "—"),
        ]
        if detail.location.milestone:
            rows.append(("milestone", detail.location.milestone))
        if task.assignee:
            rows.append(("assignee", task.assignee))
        if task.duration_minutes:
            rows.append(("duration", f"{task.duration_minutes} min"))
        if task.scheduled_start:
            rows.append(("scheduled", due_text(task.scheduled_start, False, tz, today)))
        if task.completed_at:
            rows.append(("completed", due_text(task.completed_at, False, tz, today)))
        for name, value in rows:
            fields.add_row(name, Text(clean_line(value)))  # Text: a service's "[b]" is not markup
        if task.description:
            fields.add_row("description", Text(clean_block(task.description)))
        self.query_one("#detail-fields", Static).update(fields)

        refs = Table.grid(padding=(0, 2))
        refs.add_column(style="bold")
        refs.add_column(style="cyan")
        refs.add_column()
        for ref in detail.refs:
            safe = safe_url(ref.url)
            link = Text(clean_line(strip_port(ref.url)), style=f"link {safe}" if safe else "")
            refs.add_row(ref.service.label, Text(clean_line(ref.key or ref.external_id)), link)
        if not detail.refs:
            refs.add_row("Local", "only in pmtui", "")
        self.query_one("#detail-refs", Static).update(self._section("Lives on", refs))

        comments = Text()
        for comment in detail.comments:
            when = due_text(comment.created_at, False, tz, today)
            comments.append(f"  {when} {clean_line(comment.author or 'you')}: ", style="dim")
            comments.append(clean_block(comment.body) + "\n")
        if not detail.comments:
            comments.append("  none yet (c adds one)\n", style="dim")
        self.query_one("#detail-comments", Static).update(
            self._section(f"Comments ({len(detail.comments)})", comments)
        )

        sync = Text()
        for conflict in detail.conflicts:
            sync.append(f"  conflict on {conflict.field} with {conflict.service.label}", style="magenta")
            sync.append(" (4: resolve)\n", style="dim")
        for service, op, state, error in detail.steps:
            sync.append(f"  {state}: {op} on {service}", style="yellow" if state == "pending" else "red")
            sync.append(f" ({clean_line(error)})\n" if error else "\n", style="dim")
        for ref in detail.refs:
            when = due_text(ref.synced_at, False, tz, today) if ref.synced_at else "not yet"
            sync.append(f"  {ref.service.label}: last synced {when}\n", style="dim")
        if not sync.plain:
            sync.append("  in sync, nothing waiting\n", style="dim")
        self.query_one("#detail-sync", Static).update(self._section("Sync", sync))

        decisions = Text()
        for decision in detail.decisions:
            decisions.append(f"  {decision.kind:<10}", style="cyan")
            decisions.append(f"{clean_line(decision.reason, limit=None)}\n")
        if not detail.decisions:
            decisions.append("  no decisions logged for this task\n", style="dim")
        self.query_one("#detail-decisions", Static).update(self._section("Decisions", decisions))

    @staticmethod
    def _section(title: str, body: Any) -> Any:
        from rich.console import Group

        return Group(Text(title, style="bold underline"), body)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="detail-mrs",
        description="loading merge requests",
    )
    def _load_merge_requests(self, force: bool = False) -> None:
        """The activity from the cache when fresh, else fetched from GitLab and cached (this thread)."""
        from pmtui.core.activity import ActivitySource
        from pmtui.screens.base import error_text

        try:
            integration = self.backend.engine.integration(Service.GITLAB)
            if not isinstance(integration, ActivitySource):
                self.post_message(self.MergeRequestsLoaded(None))
                return
            activity = activity_for_task(
                self.backend.store, integration, self.task_id, now=self.backend.now(), force=force
            )
        except Exception as exc:  # noqa: BLE001 - shown in the section; the rest of the screen works without it
            self.post_message(self.MergeRequestsLoaded(None, error_text(exc, "loading merge requests")))
            return
        self.post_message(self.MergeRequestsLoaded(activity))

    def on_task_detail_screen_merge_requests_loaded(self, event: MergeRequestsLoaded) -> None:
        cached = self.detail.activity if self.detail is not None else None
        if event.activity is not None:
            if self.detail is not None:
                self.detail.activity = event.activity
            self._draw_activity(event.activity)
        elif event.error and cached is not None:
            self._draw_activity(cached, error=event.error)
        else:
            body = Text(
                f"  {event.error}\n" if event.error else "  none\n", style="red" if event.error else "dim"
            )
            self.query_one("#detail-mrs", Static).update(self._section("Merge requests and commits", body))

    COMMITS_SHOWN: ClassVar[int] = 8

    def _draw_activity(
        self, cached: CachedActivity, *, note: str | None = None, error: str | None = None
    ) -> None:
        """Merge requests (state, draft, closes, pipeline) then commits, newest first."""
        activity = cached.activity
        now = self.backend.now()
        body = Text()
        if error:
            # The first line only (a hint follows on the next), and what is shown said first: a long
            # service message must not push it out of sight.
            first = error.strip().splitlines()[0] if error.strip() else error
            body.append(f"  showing the cached copy: {clean_line(first)}\n", style="red")
        if not activity.merge_requests:
            body.append("  no merge requests\n", style="dim")
        for mr in activity.merge_requests:
            body.append(f"  !{mr.iid} ", style="cyan")
            body.append(clean_line(mr.title.removeprefix("Draft: ")))
            body.append(f"  {mr.state}", style=MR_STATE_STYLES.get(mr.state, ""))
            if mr.draft:
                body.append(" draft", style="dim")
            if mr.closes:
                body.append("  closes", style="bold")
            if mr.pipeline:
                body.append(f"  pipeline {mr.pipeline}", style=PIPELINE_STYLES.get(mr.pipeline, "yellow"))
            body.append("\n")
        commits = activity.commits
        body.append(f"  Commits ({len(commits)})\n", style="bold")
        if not commits:
            body.append("    none reference this issue\n", style="dim")
        for commit in commits[: self.COMMITS_SHOWN]:
            body.append(f"    {commit.short_id:<8} ", style="cyan")
            body.append(clean_line(commit.title) or "mentioned in a note")
            who = [part for part in (clean_line(commit.author), _when(commit.at, now)) if part]
            if commit.merge_request_iid is not None:
                who.append(f"!{commit.merge_request_iid}")
            if commit.mentioned and commit.title:
                who.append("mentioned")
            if who:
                body.append("  " + " · ".join(who), style="dim")
            body.append("\n")
        if len(commits) > self.COMMITS_SHOWN:
            body.append(f"    … and {len(commits) - self.COMMITS_SHOWN} more\n", style="dim")
        fetched = f"fetched {_ago_text(cached.fetched_at, now)}"
        title = Text.assemble(
            ("Merge requests and commits", "bold underline"),
            (f"  {fetched}" + (f", {note}" if note else ""), "dim"),
        )
        from rich.console import Group

        self.query_one("#detail-mrs", Static).update(Group(title, body))

    # -------------------------------------------------------------------------------- actions

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_scroll(self, step: int) -> None:
        body = self.query_one(VerticalScroll)
        body.scroll_relative(y=step, animate=False)

    def action_scroll_edge(self, end: int) -> None:
        body = self.query_one(VerticalScroll)
        if end:
            body.scroll_end(animate=False)
        else:
            body.scroll_home(animate=False)

    def action_browse(self) -> None:
        task_links(self, self.backend, self.task_id, "open")

    def action_copy_url(self) -> None:
        task_links(self, self.backend, self.task_id, "copy")

    def action_edit_description(self) -> None:
        edit_description(self, self.backend, self.task_id, lambda action: self._act("description", action))

    def action_reopen(self) -> None:
        self._act("reopen", UpdateTask(task=self.task_id, changes=TaskChanges(status=Status.TODO)))

    def refresh_data(self) -> None:
        """``r``: fetch again what a sync may not have seen: GitLab activity, and comments everywhere."""
        self.action_refresh()

    def action_refresh(self) -> None:
        """Fetch again what a sync may not have seen: GitLab activity, and comments on every service."""
        self._mr_requested = False
        self._force_activity = True
        self.reload()
        self._refresh_comments()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="detail-comments",
        description="reading comments",
    )
    def _refresh_comments(self) -> None:
        """Read the task's comments on each service holding it (a comment alone does not always mark a
        task changed there, so a sync can miss it) and carry new ones to the others, then redraw."""
        from pmtui.screens.base import error_text

        try:
            added = self.backend.engine.refresh_comments(self.task_id)
        except Exception as exc:  # noqa: BLE001 - a toast; the screen keeps the cached comments
            self.app.call_from_thread(self.notify, error_text(exc, "reading comments"), severity="warning")
            return
        if added:
            self.post_message(self.Loaded(load_detail(self.backend, self.task_id)))

    def action_comment(self) -> None:
        def written(body: str | None) -> None:
            if body:
                self._act("comment", AddComment(task=self.task_id, body=body))

        self.app.push_screen(
            InputModal(
                "Add a comment",
                placeholder="Carried to every service that holds the task",
                validate=lambda v: None if v else "a comment needs some text",
            ),
            written,
        )

    def action_complete(self) -> None:
        self._act("complete", CompleteTask(task=self.task_id))

    def action_edit(self) -> None:
        from pmtui.screens.task_form import TaskForm

        if self.detail is None:
            return
        detail = self.detail

        def edited(changes: Any) -> None:
            if changes is not None:
                self._act("edit", UpdateTask(task=self.task_id, changes=changes))

        self.app.push_screen(
            TaskForm(self.backend, task=detail.task, project=detail.location.project), edited
        )

    def _act(self, what: str, action: Any) -> None:
        self._run_action(what, action)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="detail-action",
        description="running the action",
    )
    def _run_action(self, what: str, action: Any) -> None:
        self.post_message(self.ActionDone(what, self.backend.run_action(action)))

    def on_task_detail_screen_action_done(self, event: ActionDone) -> None:
        self.notify(result_line(event.result), title=event.what, severity=severity_of(event.result))
        self.data_changed()
