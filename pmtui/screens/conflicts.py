"""The conflict queue: base, local and remote side by side; resolve each with one key, undo within 3 s.

How a resolution is applied (kept simple on purpose): a key (``L``, ``R``, ``e``, ``A``) makes the
resolution *pending*: the conflict is marked in the queue and the status line says so. It is applied
(``engine.resolve_conflict``, in a worker) when the next resolution or navigation key is pressed, when
the screen is left, or after :data:`UNDO_SECONDS`, whichever is first. Until then ``u`` takes it back
and nothing was sent anywhere. Applications run one batch at a time, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from pmtui.core.board import ConflictItem, conflict_queue, parse_field_value
from pmtui.screens.base import Backend, EngineScreen, error_text
from pmtui.screens.modals import ChoiceModal, InputModal
from pmtui.text import clean_line
from pmtui.widgets.field_diff import FieldDiff, human_value, value_text
from pmtui.widgets.footer import KeyFooter
from pmtui.widgets.status_line import StatusLine

UNDO_SECONDS = 3.0
"""How long a resolution waits (undoable with ``u``) before it is applied."""

Choice = Literal["local", "remote", "merged"]


@dataclass(frozen=True)
class Resolution:
    """One conflict's chosen outcome."""

    item: ConflictItem
    choice: Choice
    value: Any = None


@dataclass
class Pending:
    """Resolutions waiting for their undo window to pass."""

    resolutions: list[Resolution]
    label: str


class ConflictsScreen(EngineScreen):
    """Resolve sync conflicts one key at a time."""

    # The choices are capitals that name them (Local, Remote, All): lower-case l, r and a mean
    # "right", "refresh" and nothing elsewhere, and a choice must never be one stray key away.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("L", "resolve('local')", "Keep local", id="conflicts.local"),
        Binding("R", "resolve('remote')", "Take remote", id="conflicts.remote"),
        Binding("e", "edit", "Edit merged", id="conflicts.edit"),
        Binding("A", "all_of_field", "All on field", id="conflicts.all"),
        Binding("u,ctrl+z", "undo", "Undo", id="conflicts.undo"),
        Binding("j,down", "step(1)", "Next", show=False, id="conflicts.next"),
        Binding("k,up", "step(-1)", "Previous", show=False, id="conflicts.previous"),
        Binding("g,home", "edge(0)", "First", show=False, id="conflicts.first"),
        Binding("G,end", "edge(1)", "Last", show=False, id="conflicts.last"),
    ]

    class Loaded(Message):
        def __init__(self, items: list[ConflictItem]) -> None:
            super().__init__()
            self.items = items

    class Applied(Message):
        """A batch of resolutions went through (``failures``: conflict id -> message)."""

        def __init__(self, done: list[Resolution], failures: dict[str, str]) -> None:
            super().__init__()
            self.done = done
            self.failures = failures

    def __init__(self, backend: Backend, **kwargs: object) -> None:
        super().__init__(backend, **kwargs)
        self.items: list[ConflictItem] = []
        self.pending: Pending | None = None
        self._timer: Timer | None = None
        self._applying: list[Resolution] = []
        self._queue: list[list[Resolution]] = []
        self.last_outcome = ""

    def compose(self) -> ComposeResult:
        yield Static("Conflicts", id="conflicts-title", classes="screen-title")
        with Horizontal(id="conflicts-body"):
            yield OptionList(id="conflict-queue")
            with Vertical(id="conflict-side"):
                yield Static("", id="conflict-task")
                yield FieldDiff(id="conflict-diff")
                yield Static("", id="conflict-pending")
        yield StatusLine(self.backend.clock)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#conflict-queue", OptionList).focus()
        self.reload()

    def reload(self) -> None:
        self._load()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="conflicts-load",
        description="reading conflicts",
    )
    def _load(self) -> None:
        self.post_message(self.Loaded(conflict_queue(self.backend.store)))

    def on_conflicts_screen_loaded(self, event: Loaded) -> None:
        waiting = self._waiting_ids()
        self.items = [item for item in event.items if item.id not in waiting or self._is_pending(item.id)]
        self._render_queue()

    # ---------------------------------------------------------------------------------- drawing

    def _waiting_ids(self) -> set[str]:
        ids = {r.item.id for r in self._applying}
        for batch in self._queue:
            ids |= {r.item.id for r in batch}
        return ids

    def _is_pending(self, conflict_id: str) -> bool:
        return self.pending is not None and any(r.item.id == conflict_id for r in self.pending.resolutions)

    def _render_queue(self, focus_id: str | None = None) -> None:
        queue = self.query_one("#conflict-queue", OptionList)
        current = focus_id or (queue.highlighted_option.id if queue.highlighted_option else None)
        queue.clear_options()
        for item in self.items:
            line = Text()
            line.append("⏳ " if self._is_pending(item.id) else "   ", style="yellow")
            line.append(clean_line(item.title, limit=40), style="bold")
            line.append(f"  {item.field}", style="cyan")
            line.append(f"  {item.service.label}", style="dim")
            queue.add_option(Option(line, id=item.id))
        title = Text.assemble(("Conflicts ", "bold"), (f"· {len(self.items)} open", "dim"))
        self.query_one("#conflicts-title", Static).update(title)
        if self.items:
            ids = [item.id for item in self.items]
            queue.highlighted = ids.index(current) if current in ids else 0
        self._render_current()

    def _current(self) -> ConflictItem | None:
        queue = self.query_one("#conflict-queue", OptionList)
        index = queue.highlighted
        if index is None or not 0 <= index < len(self.items):
            return None
        return self.items[index]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._render_current()

    def _render_current(self) -> None:
        item = self._current()
        diff = self.query_one(FieldDiff)
        task = self.query_one("#conflict-task", Static)
        if item is None:
            diff.clear()
            task.update(
                Text(
                    "No open conflicts. When a field changes both here and on a service, it waits here "
                    "for you; nothing is overwritten.",
                    style="dim",
                )
            )
        else:
            task.update(
                Text.assemble(
                    (clean_line(item.title), "bold"),
                    (f"  {clean_line(item.key or '', limit=40)}  ", "cyan"),
                    (f"changed in pmtui and in {item.service.label} since the last sync", "dim"),
                )
            )
            tz = self.backend.tz()
            today = self.backend.now().astimezone(tz).date()
            diff.show(
                item.field,
                item.base,
                item.local,
                item.remote,
                remote_label=f"remote ({item.service.label})",
                render=lambda value: human_value(item.field, value, tz, today),
            )
        self._render_pending()

    def _render_pending(self) -> None:
        text = Text()
        if self.pending is not None:
            text.append(f"pending: {clean_line(self.pending.label)}", style="yellow bold")
            text.append(f"  (u undoes; applies in {UNDO_SECONDS:g} s or at the next key)", style="dim")
        elif self._applying:
            text.append(f"applying {len(self._applying)} resolution(s)…", style="yellow")
        elif self.last_outcome:
            outcome = self.last_outcome
            text.append(clean_line(outcome), style="green" if "failed" not in outcome else "red")
        self.query_one("#conflict-pending", Static).update(text)

    # --------------------------------------------------------------------------------- actions

    def action_step(self, step: int) -> None:
        self._flush()
        queue = self.query_one("#conflict-queue", OptionList)
        if step > 0:
            queue.action_cursor_down()
        else:
            queue.action_cursor_up()

    def action_edge(self, last: int) -> None:
        self._flush()
        queue = self.query_one("#conflict-queue", OptionList)
        if last:
            queue.action_last()
        else:
            queue.action_first()

    def action_resolve(self, choice: Choice) -> None:
        item = self._current()
        if item is None or self._is_pending(item.id):
            return
        value = item.local if choice == "local" else item.remote
        self._propose([Resolution(item, choice, value)], f"take {choice} for {item.field} of '{item.title}'")

    def action_edit(self) -> None:
        item = self._current()
        if item is None or self._is_pending(item.id):
            return
        now, tz = self.backend.now(), self.backend.tz()

        def check(text: str) -> str | None:
            try:
                parse_field_value(item.field, text, now=now, tz=tz)
            except ValueError as exc:
                return str(exc)
            return None

        def written(text: str | None) -> None:
            if text is None:
                return
            value = parse_field_value(item.field, text, now=now, tz=tz)
            self._propose([Resolution(item, "merged", value)], f"merged {item.field} = {value_text(value)}")

        start = value_text(item.local)
        today = now.astimezone(tz).date()

        def human(value: Any) -> str:
            return human_value(item.field, value, tz, today)

        self.app.push_screen(
            InputModal(
                f"Merged value for {item.field}",
                value="" if start == "(empty)" else start,
                note=f"base: {human(item.base)}   remote: {human(item.remote)}",
                validate=check,
            ),
            written,
        )

    def action_all_of_field(self) -> None:
        item = self._current()
        if item is None:
            return
        same = [i for i in self.items if i.field == item.field and not self._is_pending(i.id)]

        def chosen(choice: str | None) -> None:
            if choice not in ("local", "remote"):
                return
            resolutions = [
                Resolution(i, choice, i.local if choice == "local" else i.remote)  # type: ignore[arg-type]
                for i in same
            ]
            self._propose(resolutions, f"take {choice} for {item.field} on {len(resolutions)} conflict(s)")

        self.app.push_screen(
            ChoiceModal(
                f"Every open conflict on {item.field} ({len(same)})",
                [("take local (pmtui's value)", "local"), ("take remote (the service's value)", "remote")],
            ),
            chosen,
        )

    def action_undo(self) -> None:
        if self.pending is None:
            self.notify("nothing to undo (applied resolutions are already on the services)", timeout=3)
            return
        label = self.pending.label
        self._cancel_timer()
        self.pending = None
        self.last_outcome = f"undone: {label}"
        self._render_queue()

    def _propose(self, resolutions: list[Resolution], label: str) -> None:
        if not resolutions:
            return
        self._flush()
        self.pending = Pending(resolutions, label)
        self._timer = self.set_timer(UNDO_SECONDS, self._flush)
        next_id = self._next_unresolved_after(resolutions[0].item.id)
        self._render_queue(focus_id=next_id)

    def _next_unresolved_after(self, conflict_id: str) -> str | None:
        ids = [i.id for i in self.items]
        if conflict_id not in ids:
            return None
        start = ids.index(conflict_id)
        for item in self.items[start + 1 :] + self.items[:start]:
            if not self._is_pending(item.id):
                return item.id
        return conflict_id

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _flush(self) -> None:
        """Apply the pending resolutions now (their undo window is over)."""
        self._cancel_timer()
        if self.pending is None:
            return
        batch = self.pending.resolutions
        self.pending = None
        if self._applying:
            self._queue.append(batch)
        else:
            self._start(batch)
        self._render_pending()

    def _start(self, batch: list[Resolution]) -> None:
        self._applying = batch
        self._render_pending()
        self._apply(batch)

    def on_screen_suspend(self) -> None:
        self._flush()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="conflicts-apply",
        description="resolving conflicts",
    )
    def _apply(self, batch: list[Resolution]) -> None:
        resolve = self.backend.engine.resolve_conflict
        done: list[Resolution] = []
        failures: dict[str, str] = {}
        for resolution in batch:
            try:
                resolve(resolution.item.id, resolution.choice, resolution.value)
            except Exception as exc:  # noqa: BLE001 - each conflict stands alone: report it and go on with the rest
                failures[resolution.item.id] = error_text(exc, f"resolving {resolution.item.field}")
            else:
                done.append(resolution)
        self.post_message(self.Applied(done, failures))

    def on_conflicts_screen_applied(self, event: Applied) -> None:
        self._applying = []
        resolved = {r.item.id for r in event.done}
        self.items = [i for i in self.items if i.id not in resolved]
        if event.failures:
            first = next(iter(event.failures.values()))
            self.notify(
                first, title=f"{len(event.failures)} resolution(s) failed", severity="error", timeout=10
            )
            self.last_outcome = f"{len(event.done)} resolved, {len(event.failures)} failed"
        else:
            self.last_outcome = f"resolved {len(event.done)} conflict(s); pushed to every side"
            self.notify(self.last_outcome, title="conflicts", timeout=4)
        if self._queue:
            self._start(self._queue.pop(0))
        self._render_queue()
        self.data_changed()
