"""The agent prompt (`:` or ctrl+k): type a request, see the plan (where and why), confirm, see the result.

The input keeps the focus the whole time, so whatever a person types goes into the request, never into
a key that runs something. A shown plan runs only on the explicit confirm key (ctrl+y) or the Run
button, and only while the text is the one that was planned; editing the text drops the plan (Enter
plans again); Escape drops a shown plan, or closes the prompt when none is shown.

History: up/down walk earlier requests; they are kept in memory and in ``prompt_history.txt`` in the
data folder (the last :data:`HISTORY_LIMIT`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from pmtui.screens.base import Backend, EngineModal
from pmtui.text import clean_block, clean_line

log = logging.getLogger("pmtui.tui")

HISTORY_LIMIT = 200


def load_history(path: Path | None) -> list[str]:
    """Earlier requests, oldest first (an unreadable file is an empty history)."""
    if path is None or not path.exists():
        return []
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][
            -HISTORY_LIMIT:
        ]
    except OSError:
        return []


def save_history(path: Path | None, history: list[str]) -> None:
    """Keep the last :data:`HISTORY_LIMIT` requests (best effort: a read-only folder loses only history)."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(history[-HISTORY_LIMIT:]) + "\n", encoding="utf-8")
    except OSError:
        log.warning("could not write the prompt history", extra={"path": str(path)})


def answer_question(text: str, question_text: str, value: str) -> str:
    """The request with the ambiguous phrase the planner asked about replaced by the chosen task id."""
    found = re.search(r"'(.+)'", question_text)
    if found and found.group(1) in text:
        return text.replace(found.group(1), value, 1)
    return f"{text} {value}"


class AgentPrompt(EngineModal):
    """Request -> plan -> confirm -> run -> summary, every engine call in a worker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="agent.cancel"),
        Binding("up", "history(-1)", "Earlier", show=False, id="agent.history_back"),
        Binding("down", "history(1)", "Later", show=False, id="agent.history_forward"),
        # ctrl+y, not y or enter: the input keeps the focus, so a plain key would be typed text.
        Binding("ctrl+y", "confirm", "Run plan", id="agent.confirm"),
    ]

    class Planned(Message):
        def __init__(self, result: Any, note: str | None) -> None:
            super().__init__()
            self.result = result
            self.note = note

    class Ran(Message):
        def __init__(self, result: Any) -> None:
            super().__init__()
            self.result = result

    class Progress(Message):
        """A step of the running plan (coalesces: only the newest is drawn)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, AgentPrompt.Progress)

    def __init__(self, backend: Backend, *, history: list[str] | None = None) -> None:
        super().__init__(backend)
        self.history = history if history is not None else load_history(backend.history_path)
        self._history_index = len(self.history)
        self.result: Any = None
        self.state = "idle"
        self.text = ""
        self.shown = ""
        """The output area's text (what a person reads after each step)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box agent-box"):
            yield Static("Ask pmtui", classes="modal-title")
            yield Input(
                placeholder="e.g. task Write the spec due fri #docs   ·   what is overdue?", id="agent-input"
            )
            with VerticalScroll(id="agent-output"):
                yield Static("", id="agent-plan")
            yield OptionList(id="agent-choices")
            with Horizontal(id="agent-buttons"):
                yield Button("Run plan (ctrl+y)", id="agent-run", variant="success")
                yield Button("Don't run (esc)", id="agent-reject")
            yield Static(
                "enter: plan · up/down: history · escape: close", id="agent-help", classes="modal-note"
            )

    def on_mount(self) -> None:
        self.query_one("#agent-choices", OptionList).display = False
        self.query_one("#agent-buttons", Horizontal).display = False
        self.query_one("#agent-input", Input).focus()

    # ------------------------------------------------------------------------------------ flow

    @on(Input.Submitted, "#agent-input")
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.state == "planned" and text == self.text:
            # Enter is how a request is sent, so it never runs a plan: that takes ctrl+y or the button.
            self.notify("ctrl+y or the Run button runs this plan; escape drops it", timeout=4)
            return
        if self.state in ("planning", "running"):
            return
        self.text = text
        if not self.history or self.history[-1] != text:
            self.history.append(text)
            save_history(self.backend.history_path, self.history)
        self._history_index = len(self.history)
        self._set_state("planning", Text("planning…", style="yellow"))
        self._plan(text)

    @on(Input.Changed, "#agent-input")
    def _edited(self, event: Input.Changed) -> None:
        if self.state in ("planned", "question") and event.value.strip() != self.text:
            self.result = None
            self.query_one("#agent-choices", OptionList).display = False
            self._set_state("idle", Text("The request changed: enter plans it again.", style="dim"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="agent-plan", description="planning")
    def _plan(self, text: str) -> None:
        orchestrator = self.backend.orchestrator()
        result = orchestrator.plan_request(text, now=self.backend.now())
        self.post_message(self.Planned(result, self.backend.planner_note))

    def on_agent_prompt_planned(self, event: Planned) -> None:
        result = self.result = event.result
        parts: list[Any] = []
        if event.note:
            parts.append(Text(event.note, style="dim"))
        plan = result.plan
        if plan.understood:
            parts.append(Text.assemble(("Understood: ", "dim"), plan.understood))
        choices = self.query_one("#agent-choices", OptionList)
        choices.clear_options()
        choices.display = False
        if result.status == "question" and plan.question is not None:
            parts.append(Text(plan.question.text, style="bold yellow"))
            choices.add_options([Option(c.label, id=c.value) for c in plan.question.choices])
            choices.display = True
            choices.highlighted = 0
            self._set_state("question", Group(*parts), help_text="up/down + enter: choose · escape: close")
            choices.focus()
            return
        if result.status in ("nothing", "refused"):
            style = "red" if result.status == "refused" else "yellow"
            parts.append(Text(clean_block(result.summary()), style=style))
            self._set_state("idle", Group(*parts))
            return
        parts.append(Text("Plan:", style="bold"))
        for number, line in enumerate(result.plan_lines(), start=1):
            parts.append(Text(f"  {number}. {clean_line(line, limit=None)}"))
        if result.problems:
            parts.append(Text("Problems (nothing will run):", style="bold red"))
            parts.extend(Text(f"  - {p}", style="red") for p in result.problems)
            self._set_state("idle", Group(*parts))
            return
        parts.append(Text("Run it?  ctrl+y: run   escape: don't", style="bold green"))
        self._set_state("planned", Group(*parts), help_text="ctrl+y: run · escape: don't run · edit: re-plan")
        self.query_one("#agent-input", Input).focus()

    @on(OptionList.OptionSelected, "#agent-choices")
    def _choice(self, event: OptionList.OptionSelected) -> None:
        if self.result is None or self.result.plan.question is None or event.option.id is None:
            return
        text = answer_question(self.text, self.result.plan.question.text, event.option.id)
        self.query_one("#agent-choices", OptionList).display = False
        self.text = text
        self._set_state("planning", Text("planning…", style="yellow"))
        self.query_one("#agent-input", Input).focus()
        self._plan(text)

    def action_confirm(self) -> None:
        """Run the shown plan, only if the text is still the one it was made from."""
        if self.state != "planned" or self.result is None:
            return
        if self.query_one("#agent-input", Input).value.strip() != self.text:
            return
        self._set_state("running", Text("running…", style="yellow"))
        self._run(self.result)

    def action_reject(self) -> None:
        if self.state == "planned":
            self.result = None
            self._set_state("idle", Text("Not run; nothing changed.", style="dim"))
            self.query_one("#agent-input", Input).focus()

    def action_cancel(self) -> None:
        """Escape: drop a shown plan (or question); with none shown, close the prompt."""
        if self.state in ("planned", "question"):
            self.query_one("#agent-choices", OptionList).display = False
            if self.state == "planned":
                self.action_reject()
            else:
                self._set_state("idle", Text("Not asked; nothing changed.", style="dim"))
            self.query_one("#agent-input", Input).focus()
            return
        self.action_close()

    @on(Button.Pressed, "#agent-run")
    def _run_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#agent-reject")
    def _reject_pressed(self) -> None:
        self.action_reject()

    @work(thread=True, exclusive=True, exit_on_error=False, group="agent-run", description="running the plan")
    def _run(self, result: Any) -> None:
        def progress(event: Any) -> None:
            self.post_message(self.Progress(event.message))

        self.backend.listeners.append(progress)
        try:
            done = self.backend.orchestrator().run(result)
        finally:
            self.backend.listeners.remove(progress)
        self.post_message(self.Ran(done))

    def on_agent_prompt_progress(self, event: Progress) -> None:
        if self.state == "running":
            self.query_one("#agent-plan", Static).update(Text(f"running… {event.text}", style="yellow"))

    def on_agent_prompt_ran(self, event: Ran) -> None:
        result = event.result
        style = {"done": "green", "partial": "yellow"}.get(result.status, "red")
        parts: list[Any] = [Text(f"{result.status}", style=f"bold {style}")]
        for line in result.summary().splitlines():
            url = re.search(r"https?://\S+", line)
            text = Text(f"  {line}")
            if url:
                text.stylize(
                    f"link {url.group(0)}",
                    line.index(url.group(0)) + 2,
                    line.index(url.group(0)) + 2 + len(url.group(0)),
                )
            parts.append(text)
        for rows in result.answers.values():
            for row in rows[:20]:
                key = f" [{row['key']}]" if row.get("key") else ""
                due = f" due {self._due(row)}" if row.get("due") else ""
                parts.append(Text(f"  - {clean_line(row['title'])}{clean_line(key)}{due}"))
            if not rows:
                parts.append(Text("  (none)", style="dim"))
        self._set_state("done", Group(*parts), help_text="type a new request · escape: close")
        self.query_one("#agent-input", Input).focus()
        self.query_one("#agent-input", Input).value = ""
        bump = getattr(self.app, "bump_data", None)
        if callable(bump):
            bump()

    def _due(self, row: dict[str, Any]) -> str:
        """A row's due date as the rest of the app shows it (``Fri 27 Nov``), not an ISO string."""
        from datetime import UTC, datetime, time

        from pmtui.core.board import due_text

        value = row["due"]
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if moment.tzinfo is None:
            return str(value)
        tz = self.backend.tz()
        today = self.backend.now().astimezone(tz).date()
        # The answer rows carry no all-day flag; all-day dates are stored at midnight UTC.
        all_day = bool(row.get("due_all_day", moment.astimezone(UTC).time() == time(0)))
        return due_text(moment, all_day, tz, today)

    def worker_failed(self, group: str, error: BaseException) -> None:
        self._set_state("idle", Text("That did not work; see the message.", style="red"))
        self.query_one("#agent-input", Input).focus()

    # --------------------------------------------------------------------------------- helpers

    def _set_state(self, state: str, body: Any, *, help_text: str | None = None) -> None:
        self.state = state
        self.query_one("#agent-buttons", Horizontal).display = state == "planned"
        parts = body.renderables if isinstance(body, Group) else [body]
        self.shown = "\n".join(p.plain if isinstance(p, Text) else str(p) for p in parts)
        self.query_one("#agent-plan", Static).update(body)
        self.query_one("#agent-help", Static).update(
            help_text or "enter: plan · up/down: history · escape: close"
        )

    def action_history(self, step: int) -> None:
        if self.state == "question":
            choices = self.query_one("#agent-choices", OptionList)
            if step > 0:
                choices.action_cursor_down()
            else:
                choices.action_cursor_up()
            return
        if not self.history:
            return
        self._history_index = max(0, min(len(self.history), self._history_index + step))
        field = self.query_one("#agent-input", Input)
        field.value = self.history[self._history_index] if self._history_index < len(self.history) else ""
        field.cursor_position = len(field.value)
        field.focus()

    def action_close(self) -> None:
        self.dismiss(None)
