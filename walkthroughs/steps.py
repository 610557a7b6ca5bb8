"""The vocabulary of a walkthrough: a few declarative steps that a recorder and a replayer both understand.

A walkthrough is data, not code, so the same script can drive ``pmtui demo`` in a real terminal (tmux)
for the recording and the app under Textual's Pilot for the replay test; if the app changes so that a
script no longer fits, the replay test fails before the recorded docs go stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SERVICE_LABELS = {"motion": "Motion", "linear": "Linear", "notion": "Notion", "gitlab": "GitLab"}


@dataclass(frozen=True)
class Press:
    """Press keys, one after another (Textual key names: ``j``, ``enter``, ``escape``, ``colon``, ``S``)."""

    keys: tuple[str, ...]

    def describe(self) -> str:
        return "press " + ", ".join(f"`{_key_display(k)}`" for k in self.keys)


@dataclass(frozen=True)
class Type:
    """Type text key by key, as a person would."""

    text: str

    def describe(self) -> str:
        return f"type `{self.text}`"


@dataclass(frozen=True)
class WaitFor:
    """Wait until ``text`` is on the screen; the recording fails (and the replay test) if it never is."""

    text: str
    timeout: float = 30.0

    def describe(self) -> str:
        return f"wait until “{self.text}” is on screen"


@dataclass(frozen=True)
class Caption:
    """A line of narration: shown under the app in the recording, a paragraph in the docs."""

    text: str

    def describe(self) -> str:
        return self.text


@dataclass(frozen=True)
class Pause:
    """Let the viewer read (recording only; the replay does not wait)."""

    seconds: float

    def describe(self) -> str:
        return f"pause {self.seconds:g} s"


@dataclass(frozen=True)
class KeyFrame:
    """The frame the docs show as the walkthrough's picture (the last frame when a script has none)."""

    def describe(self) -> str:
        return "(the picture above is taken here)"


@dataclass(frozen=True)
class Fault:
    """Inject a sandbox fault (``SERVICE:KIND[=V][xN]...``, the grammar of ``--faults``)."""

    spec: str
    why: str = ""

    @property
    def service(self) -> str:
        return self.spec.partition(":")[0]

    def describe(self) -> str:
        why = f"{self.why} " if self.why else ""
        return f"{why}(sandbox fault `{self.spec}`)"


@dataclass(frozen=True)
class ClearFaults:
    """Remove every fault of one emulator: the service is back."""

    service: str

    def describe(self) -> str:
        return f"{SERVICE_LABELS[self.service]} is back (its sandbox faults are cleared)"


@dataclass(frozen=True)
class RemoteEdit:
    """Edit an item on a service as another person would (the emulator's ``/_sandbox/mutate``).

    ``item`` is a Linear identifier (``ENG-3``) or the exact title of a Linear issue or a Motion task;
    ``fields`` use the service's own API names (Linear ``title``, Motion ``name``).
    """

    service: str
    item: str
    fields: dict[str, Any] = field(default_factory=dict)
    who: str = "a colleague"

    def describe(self) -> str:
        changes = ", ".join(f"{name} to “{value}”" for name, value in self.fields.items())
        return f"{self.who} changes {self.item} in {SERVICE_LABELS[self.service]}: {changes}"


Step = Press | Type | WaitFor | Caption | Pause | KeyFrame | Fault | ClearFaults | RemoteEdit


@dataclass(frozen=True)
class Walkthrough:
    """One story, told as steps against ``pmtui demo`` at a fixed terminal size."""

    name: str
    title: str
    summary: str
    steps: tuple[Step, ...]
    width: int = 120
    height: int = 36

    def waits(self) -> Iterator[WaitFor]:
        """Every screen text the story relies on, in order (what the replay test asserts)."""
        return (step for step in self.steps if isinstance(step, WaitFor))


def _key_display(key: str) -> str:
    return {"colon": ":", "slash": "/", "question_mark": "?", "escape": "esc"}.get(key, key)
