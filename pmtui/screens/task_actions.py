"""What the screens share about acting on tasks: the confirmation texts, saved views, browser, editor.

A confirmation says in one line what will happen on which service, so the one key that confirms it is
an informed choice ("move 'Pay electricity bill' from Motion to Linear: creates a Linear issue,
archives the Motion task"). Only moves, deletes and actions over more than one task ask; a single
complete does not (it has a reopen key).
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pmtui.core.board import DUE_FACETS, SORT_KEYS, STATUS_FACETS, BoardFilter
from pmtui.models import Service, TaskChanges, UpdateTask

if TYPE_CHECKING:
    from textual.screen import Screen

    from pmtui.screens.base import Backend

log = logging.getLogger("pmtui.tui")

NOUNS: dict[Service, str] = {
    Service.MOTION: "a Motion task",
    Service.LINEAR: "a Linear issue",
    Service.NOTION: "a Notion page",
    Service.GITLAB: "a GitLab issue",
    Service.LOCAL: "a local task",
}
"""What creating a task on each service makes there, in the words of that service."""

NAMED_IN_BULK = 3
"""How many titles a bulk confirmation names before "and N more"."""


def service_of(value: str | None) -> Service:
    """A board row's service text as a :class:`Service` (an unknown one is local)."""
    try:
        return Service(value or Service.LOCAL.value)
    except ValueError:
        return Service.LOCAL


def move_text(title: str, source: Service, target: Service) -> str:
    """One line saying what moving ``title`` from ``source`` to ``target`` does on each side."""
    if target is Service.LOCAL:
        effect = f"keeps it only in pmtui, archives the {source.label} task"
    elif source is Service.LOCAL:
        effect = f"creates {NOUNS[target]}"
    else:
        effect = f"creates {NOUNS[target]}, archives the {source.label} task"
    return f"move '{title}' from {source.label} to {target.label}: {effect}"


def titles_text(titles: Sequence[str]) -> str:
    """``'A', 'B', 'C' and 4 more``."""
    named = ", ".join(f"'{t}'" for t in titles[:NAMED_IN_BULK])
    rest = len(titles) - NAMED_IN_BULK
    return f"{named} and {rest} more" if rest > 0 else named


def bulk_text(verb: str, titles: Sequence[str], effect: str = "") -> str:
    """``complete 7 tasks: 'A', 'B', 'C' and 4 more`` (with ``effect`` after a dash when given)."""
    text = f"{verb} {len(titles)} tasks: {titles_text(titles)}"
    return f"{text} ({effect})" if effect else text


def delete_text(title: str, service: Service) -> str:
    """What deleting ``title`` does: where it disappears."""
    if service is Service.LOCAL:
        return f"delete '{title}' from pmtui (it lives on no service)"
    return f"delete '{title}' on {service.label}: removes it there and from pmtui"


def parse_view(spec: str) -> BoardFilter:
    """A saved view's text (``status:all service:motion label:docs due:week sort:priority words``) as a
    board filter: ``facet:value`` words set facets, the other words are the free-text filter.

    Raises ValueError naming the word it could not read.
    """
    choices: dict[str, tuple[str, ...]] = {
        "status": STATUS_FACETS,
        "due": DUE_FACETS,
        "sort": SORT_KEYS,
        "service": tuple(s.value for s in Service),
    }
    facets: dict[str, str] = {}
    words: list[str] = []
    for word in spec.split():
        name, colon, value = word.partition(":")
        if not colon or name not in (*choices, "label"):
            words.append(word)
            continue
        allowed = choices.get(name)
        if not value or (allowed is not None and value not in allowed):
            expected = ", ".join(allowed) if allowed else "a label"
            raise ValueError(f"{word!r}: expected {name}:<{expected}>")
        facets[name] = value
    return BoardFilter(text=" ".join(words)).with_(**facets)


def open_in_browser(url: str) -> bool:
    """Open ``url`` in the person's browser (call from a worker: it may start a process)."""
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        log.warning("no browser could open the task's page", extra={"url": url})
        return False


def editor_command() -> list[str]:
    """The person's editor as a command line (``$VISUAL``, then ``$EDITOR``, else ``vi``)."""
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def edit_text(text: str, *, suffix: str = ".md") -> str | None:
    """Let the person edit ``text`` in their editor; the new text, or None if the editor failed.

    The file is private to the user (mkstemp) and removed afterwards: a description may be confidential.
    """
    handle, name = tempfile.mkstemp(prefix="pmtui-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        try:
            done = subprocess.run([*editor_command(), str(path)], check=False)
        except OSError as exc:
            log.warning("the editor did not start", extra={"error": str(exc)})
            return None
        if done.returncode != 0:
            return None
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)


def task_links(screen: Screen[Any], backend: Backend, task_id: str, what: Literal["open", "copy"]) -> None:
    """Open the task's page in the browser, or copy its URL (OSC 52 and the app's clipboard).

    The URL is read in a worker; a task that lives only in pmtui says so instead.
    """

    def find() -> None:
        refs = [ref for ref in backend.store.refs_for(task_id) if ref.url]
        app = screen.app
        if not refs:
            app.call_from_thread(
                screen.notify, "this task has no page on a service (it lives only in pmtui)", timeout=4
            )
            return
        url = str(refs[0].url)
        if what == "copy":
            app.call_from_thread(_copied, screen, url)
            return
        if open_in_browser(url):
            app.call_from_thread(screen.notify, f"opened {url}", title=refs[0].service.label, timeout=3)
        else:
            app.call_from_thread(
                screen.notify, f"no browser could open it; y copies the URL: {url}", severity="warning"
            )

    screen.run_worker(
        find, thread=True, group="task-links", description="finding the task's page", exit_on_error=False
    )


def _copied(screen: Screen[Any], url: str) -> None:
    screen.app.copy_to_clipboard(url)
    screen.notify(f"copied {url}", timeout=3)


def edit_description(
    screen: Screen[Any], backend: Backend, task_id: str, apply: Callable[[UpdateTask], None]
) -> None:
    """Edit the task's description in ``$EDITOR`` (the app is suspended meanwhile); a changed text is
    handed to ``apply`` as an update, an unchanged one changes nothing."""

    def read() -> None:
        task = backend.store.get_task(task_id)
        if task is not None:
            screen.app.call_from_thread(_edit, screen, task.id, task.title, task.description, apply)

    screen.run_worker(
        read, thread=True, group="task-editor", description="reading the description", exit_on_error=False
    )


def _edit(
    screen: Screen[Any], task_id: str, title: str, before: str, apply: Callable[[UpdateTask], None]
) -> None:
    from textual.app import SuspendNotSupported

    try:
        with screen.app.suspend():
            after = edit_text(before)
    except SuspendNotSupported:  # no terminal to hand over (headless, the web): run it anyway
        after = edit_text(before)
    if after is None:
        screen.notify(f"the editor ({' '.join(editor_command())}) failed; nothing changed", severity="error")
        return
    after = after.rstrip("\n")
    if after == before.rstrip("\n"):
        screen.notify(f"description of '{title}' unchanged", timeout=3)
        return
    apply(UpdateTask(task=task_id, changes=TaskChanges(description=after)))
