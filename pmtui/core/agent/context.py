"""What a planner may know about the user's world, and the one method every planner offers.

A planner is a pure function of the request and this context: it never opens the store or the network,
so the rule planner is instant and the LLM planner can be tested against the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Protocol

from pmtui.models import Plan, Service


@dataclass(frozen=True)
class TaskHandle:
    """A task the user could mean: enough to match a phrase and to ask "which one?"."""

    id: str
    title: str
    key: str | None = None
    """What people call the task: its service key (``ENG-123``), else its pmtui handle (``M-12``)."""
    service: Service | None = None
    """The task's home, shown when it has no key (``Write guide (Notion)``)."""


@dataclass(frozen=True)
class PlannerContext:
    """The clock, the user's zone and the names a request can refer to.

    ``now`` must be aware: "today" is the user's calendar day, ``now.astimezone(tz).date()``, and a naive
    clock would silently move it across midnight.
    """

    now: datetime
    tz: tzinfo
    tasks: Sequence[TaskHandle] = ()
    projects: Sequence[str] = ()
    """Project names, so ``in Q1 launch`` can be recognised without quotes."""
    services: Sequence[Service] = ()
    """The services that are configured."""

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("PlannerContext.now must be timezone-aware")

    @property
    def today(self) -> date:
        """The user's calendar day."""
        return self.now.astimezone(self.tz).date()


class Planner(Protocol):
    """Turns a request into a :class:`~pmtui.models.Plan`; never raises on what a user types."""

    name: str

    def plan(self, text: str, context: PlannerContext) -> Plan:
        """The plan for ``text``: actions, or a question, or an example of what would work."""
        ...
