"""Small modals: pick one of a list (with filtering), type one value, and the key help."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from pmtui.widgets.table import refill


class ChoiceModal(ModalScreen[str | None]):
    """Pick one value from a list; typing filters it. Returns the value, or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], *, filterable: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.filterable = filterable

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_text, classes="modal-title")
            if self.filterable:
                yield Input(placeholder="type to filter", id="choice-filter")
            yield OptionList(*[Option(label, id=value) for label, value in self.choices], id="choices")

    def on_mount(self) -> None:
        self.query_one("#choices", OptionList).focus()
        if self.filterable:
            self.query_one("#choice-filter", Input).focus()

    @on(Input.Changed, "#choice-filter")
    def _filter(self, event: Input.Changed) -> None:
        needle = event.value.lower().strip()
        options = self.query_one("#choices", OptionList)
        options.clear_options()
        options.add_options(
            [Option(label, id=value) for label, value in self.choices if needle in label.lower()]
        )
        options.highlighted = 0 if options.option_count else None

    @on(Input.Submitted, "#choice-filter")
    def _take_first(self) -> None:
        options = self.query_one("#choices", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self.dismiss(option.id)

    def key_down(self) -> None:
        if self.filterable and self.query_one("#choice-filter", Input).has_focus:
            self.query_one("#choices", OptionList).focus()

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class InputModal(ModalScreen[str | None]):
    """Type one value; ``validate`` returns an error text or None. Enter accepts, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="input.cancel")]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        validate: Callable[[str], str | None] | None = None,
        note: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.validate_value = validate
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_text, classes="modal-title")
            if self.note:
                yield Static(self.note, classes="modal-note")
            yield Input(value=self.value, placeholder=self.placeholder, id="modal-input")
            yield Static("", classes="modal-error", id="modal-error")

    def on_mount(self) -> None:
        self.query_one("#modal-input", Input).focus()

    @on(Input.Submitted, "#modal-input")
    def _submit(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = self.validate_value(value) if self.validate_value else None
        if problem:
            self.query_one("#modal-error", Static).update(problem)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """Yes or no (y / enter, n / escape): one key to confirm what the question says will happen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.question, classes="modal-title", markup=False)
            yield Static("y / enter: do it    n / escape: don't", classes="modal-note")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


def binding_rows(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """(keys, description, id) of every binding active on ``screen``: the app's global keys first, then
    the screen's own (and its widgets'), then Textual's internal keys (no pmtui id)."""
    app = screen.app
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description:
            continue
        ident = binding.id or ""
        if (ident, binding.description) in seen and ident:
            # One binding with several keys: show the keys together.
            for index, row in enumerate(rows):
                if row[2] == ident and row[1] == binding.description:
                    rows[index] = (f"{row[0]}, {app.get_key_display(binding)}", row[1], row[2])
            continue
        seen.add((ident, binding.description))
        rows.append((app.get_key_display(binding), binding.description, ident))
        del key
    app_rows = [r for r in rows if r[2].startswith("app.")]
    own = [r for r in rows if r[2] and not r[2].startswith("app.")]
    internal = [(keys, what, "(Textual)") for keys, what, ident in rows if not ident]
    return app_rows + own + internal


class HelpScreen(ModalScreen[None]):
    """Every key of the screen below (and the app's), with its binding id for the keymap."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, title: str, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box help-box"):
            yield Static(f"Keys: {self.title_text}", classes="modal-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static(
                Text.assemble(
                    ("Rebind any key in config.toml: ", "dim"),
                    ('[ui.keymap] "board.complete" = "x,ctrl+d"', "bold"),
                    ("    ctrl+p: every command", "dim"),
                ),
                classes="modal-note",
            )

    def on_mount(self) -> None:
        table = self.query_one("#help-table", DataTable)
        refill(table, ("Key", "Does", "Binding id"), list(self.rows))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
