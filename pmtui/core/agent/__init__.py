"""Planners turn what the user types into a :class:`~pmtui.models.Plan`.

:func:`make_planner` picks one from the settings: the offline rule planner by default, the litellm
planner when a model is configured. litellm is imported only inside the LLM planner's module, never
on the start path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pmtui.config import Settings
    from pmtui.core.agent.context import Planner


def make_planner(settings: Settings) -> tuple[Planner, str | None]:
    """The configured planner and, when it had to fall back, a one-line note saying why."""
    from pmtui.core.agent.rules import RulePlanner

    if settings.agent.planner == "llm":
        if not settings.agent.model:
            return RulePlanner(), 'note: [agent] planner = "llm" but no model is set; using the rule planner'
        try:
            from pmtui.core.agent.llm import LLMPlanner
        except ImportError:
            return RulePlanner(), (
                "note: the LLM planner is not available in this version (install `pmtui[llm]` once it "
                "ships); using the rule planner"
            )
        return LLMPlanner(settings.agent), None
    return RulePlanner(), None
