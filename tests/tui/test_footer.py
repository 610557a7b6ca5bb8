"""The key footer: built once per change of its keys, and never showing keys that are no longer current."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from textual._context import active_message_pump
from textual.compose import compose
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

from tests.tui.conftest import LARGE, World, quiesce

WALK_KEYS = (
    "1", "2", "3", "4", "tab", "shift+tab", "escape", "j", "k", "down", "up",
    "slash", "a", "t", "f", "question_mark", "enter", "colon",
)  # fmt: skip
"""Keys that move between screens, widgets and modals; none of them writes a task."""


def _entry(widget: Widget) -> tuple[Any, ...]:
    if isinstance(widget, FooterKey):
        return ("key", widget.key, widget.key_display, widget.description, widget.action, widget._disabled)
    if isinstance(widget, FooterLabel):
        return ("label", str(widget.render()))
    return (type(widget).__name__,)


def _flatten(widgets: list[Widget], children: Any) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for widget in widgets:
        out.append(_entry(widget))
        if isinstance(widget, KeyGroup):
            out.extend(_flatten(list(children(widget)), children))
    return out


def shown(footer: Footer) -> list[tuple[Any, ...]]:
    """What the mounted footer shows, key by key."""
    return _flatten(list(footer.children), lambda group: group.children)


def current(footer: Footer) -> list[tuple[Any, ...]]:
    """What Textual's own footer would show for the screen's bindings right now (its compose, unmounted)."""
    token = active_message_pump.set(footer)  # what Textual sets while a widget composes
    try:
        return _flatten(compose(footer), lambda group: group._pending_children)
    finally:
        active_message_pump.reset(token)


def screen_footer(app: Any) -> Footer | None:
    footers = list(app.screen.query(Footer))
    return footers[0] if footers else None


@pytest.fixture
def rebuilds(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """How many times each footer (by id) rebuilt its keys."""
    counts: Counter[int] = Counter()
    recompose = Footer.recompose

    async def counting(self: Footer) -> None:
        counts[id(self)] += 1
        await recompose(self)

    monkeypatch.setattr(Footer, "recompose", counting)
    return counts


async def test_starting_the_app_builds_the_footer_once(world: World, rebuilds: Counter[int]) -> None:
    """Textual rebuilt the same keys four times in the first half second (20-30 ms each)."""
    app = world.app()
    async with app.run_test(size=LARGE) as pilot:
        await quiesce(pilot, quiet=4)
        footer = screen_footer(app)
        assert footer is not None
        assert shown(footer) == current(footer)
        assert any(entry[0] == "key" for entry in shown(footer))
        assert rebuilds[id(footer)] == 1, f"the footer was built {rebuilds[id(footer)]} times"


async def test_focus_that_keeps_the_keys_does_not_rebuild_them(world: World, rebuilds: Counter[int]) -> None:
    app = world.app()
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("3")
        await quiesce(pilot, quiet=4)
        footer = screen_footer(app)
        assert footer is not None
        before = rebuilds[id(footer)]
        keys = shown(footer)
        for _ in range(4):
            await pilot.press("tab")
            await quiesce(pilot)
            assert shown(footer) == current(footer)
        assert shown(footer) == keys  # the sync screen's tables share their keys
        assert rebuilds[id(footer)] == before


@pytest.mark.parametrize("seed", range(3))
async def test_the_footer_always_shows_the_current_keys(world: World, seed: int) -> None:
    """A random walk over screens, widgets and modals: after each key, once the app is at rest, the
    footer on screen shows exactly what Textual's footer would build from the bindings now."""
    rng = random.Random(seed)
    app = world.app()
    async with app.run_test(size=LARGE) as pilot:
        await quiesce(pilot)
        checked = 0
        walk = [rng.choice(WALK_KEYS) for _ in range(30)]
        for step, key in enumerate(walk):
            await pilot.press(key)
            await quiesce(pilot)
            footer = screen_footer(app)
            if footer is None:  # a modal without a footer
                continue
            assert shown(footer) == current(footer), f"stale footer after {walk[: step + 1]}"
            checked += 1
        assert checked >= 5
