"""Replay a walkthrough headless: the app as ``pmtui demo`` builds it, driven by Textual's Pilot.

The replay waits on screen text, never on time: each :class:`~walkthroughs.steps.WaitFor` polls the
rendered screen until its text shows up or its timeout passes, and a text that never shows up is a
:class:`Drift`, naming the step and showing the screen as it was.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from textual.worker import WorkerCancelled

from pmtui import paths
from pmtui.app import PmtuiApp, make_app
from pmtui.config import load_settings
from pmtui.sandbox.runner import Sandbox, start_sandbox
from walkthroughs.admin import SandboxAdmin
from walkthroughs.steps import ClearFaults, Fault, Press, RemoteEdit, Type, WaitFor, Walkthrough

# Characters whose Textual key name is not the character itself (what Pilot.press expects).
_KEY_NAMES = {
    " ": "space",
    "#": "number_sign",
    "@": "at",
    "-": "minus",
    ":": "colon",
    "/": "slash",
    ".": "full_stop",
    ",": "comma",
    "'": "apostrophe",
    '"': "quotation_mark",
    "?": "question_mark",
    "!": "exclamation_mark",
}


class Drift(AssertionError):
    """The app no longer shows what a walkthrough waits for: the script (and its recording) is stale."""


@dataclass
class Replayed:
    """What a replay saw: each wait-for text with the screen on which it appeared."""

    seen: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DemoRun:
    """A running demo sandbox and the app over it, the way ``pmtui demo`` sets them up."""

    sandbox: Sandbox
    app: PmtuiApp
    admin: SandboxAdmin


@contextmanager
def demo_app() -> Iterator[DemoRun]:
    """Start the demo sandbox, write its config into ``PMTUI_HOME`` and build the app as the demo does.

    Mirrors :func:`pmtui.sandbox.runner.run_demo` (demo seed, no rate limits, local budgets, a first
    sync at start); the caller sets ``PMTUI_HOME`` to a throwaway folder first.
    """
    if paths.home_override() is None:
        raise RuntimeError("set PMTUI_HOME to a throwaway folder before replaying a walkthrough")
    sandbox = start_sandbox(seed="demo", rate_limits=False)
    app: PmtuiApp | None = None
    try:
        sandbox.write_config(local_budgets=True)
        app = make_app(load_settings())
        admin = SandboxAdmin({name: sandbox.url(name) for name in sandbox.running})
        yield DemoRun(sandbox, app, admin)
    finally:
        if app is not None:
            app.backend.engine.close()
        sandbox.stop()


def screen_text(app: PmtuiApp) -> str:
    """The screen as plain text, every layer included (modals over their screen, toasts).

    Renders the compositor the way ``App.export_screenshot`` does, to text instead of SVG.
    """
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def replay(walkthrough: Walkthrough, run: DemoRun, *, poll: float = 0.05) -> Replayed:
    """Drive ``run.app`` through ``walkthrough``; raises :class:`Drift` when a wait-for never appears."""
    result = Replayed()
    # Toasts are part of what a person sees (and what some steps wait for): keep them on.
    async with run.app.run_test(size=(walkthrough.width, walkthrough.height), notifications=True) as pilot:
        for number, step in enumerate(walkthrough.steps, start=1):
            if isinstance(step, Press):
                await pilot.press(*step.keys)
            elif isinstance(step, Type):
                await pilot.press(*[_KEY_NAMES.get(char, char) for char in step.text])
            elif isinstance(step, WaitFor):
                result.seen.append((step.text, await _wait_for(pilot, step, number, walkthrough, poll)))
            elif isinstance(step, Fault | ClearFaults | RemoteEdit):
                await asyncio.to_thread(run.admin.apply, step)
            # Caption, Pause and KeyFrame only shape the recording.
        await _settle(pilot)
    return result


async def _settle(pilot: Any) -> None:
    """Let the app's workers finish before it closes.

    A screen's exclusive worker replaced by a newer one (a reload after a sync the app started itself)
    is cancelled on purpose, and ``wait_for_complete`` raises for it: wait again for its replacement.
    """
    for _attempt in range(10):
        try:
            await pilot.app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            await pilot.pause()


async def _wait_for(pilot: Any, step: WaitFor, number: int, walkthrough: Walkthrough, poll: float) -> str:
    deadline = time.monotonic() + step.timeout
    while True:
        await pilot.pause()
        text = screen_text(pilot.app)
        if step.text in text:
            return text
        if time.monotonic() > deadline:
            raise Drift(
                f"{walkthrough.name}, step {number}: {step.text!r} did not appear within "
                f"{step.timeout:g} s; the screen was:\n{text}"
            )
        await pilot.pause(poll)
