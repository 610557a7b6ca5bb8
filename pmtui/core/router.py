"""Which service an action goes to, and why, as pure functions of the action and the rules.

Order of precedence: an explicit ``@service`` in the request; then the configured rules, first match
wins (defaults: engineering -> Linear, documentation -> Notion, code -> GitLab, has a deadline ->
Motion); then the fallback (local). A chosen service that is not configured or not healthy is skipped
for the next matching rule, and the action is *queued* for it, so the user's intent is not lost.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from pmtui.config import RoutingRule
from pmtui.models import CreateProject, CreateTask, Service, TaskKind

_KIND_LABELS: dict[TaskKind, tuple[str, ...]] = {
    TaskKind.ENGINEERING: (
        "bug",
        "feature",
        "improvement",
        "backend",
        "frontend",
        "infra",
        "tech-debt",
        "engineering",
        "perf",
        "security",
        "api",
    ),
    TaskKind.DOCUMENTATION: ("docs", "doc", "documentation", "writing", "wiki", "guide", "content"),
    TaskKind.CODE: ("code", "mr", "merge-request", "review", "ci", "pipeline", "refactor"),
}
_KIND_WORDS: dict[TaskKind, tuple[str, ...]] = {
    TaskKind.DOCUMENTATION: (
        "document",
        "docs",
        "doc",
        "write",
        "guide",
        "readme",
        "wiki",
        "handbook",
        "onboarding",
        "release notes",
        "changelog",
        "spec",
        "rfc",
        "blog",
        "tutorial",
    ),
    TaskKind.CODE: (
        "merge request",
        "pull request",
        "mr",
        "pipeline",
        "ci",
        "repo",
        "branch",
        "commit",
        "code review",
        "refactor",
        "lint",
    ),
    TaskKind.ENGINEERING: (
        "bug",
        "fix",
        "crash",
        "error",
        "api",
        "endpoint",
        "backend",
        "frontend",
        "deploy",
        "migration",
        "database",
        "performance",
        "latency",
        "login",
        "auth",
        "implement",
        "feature",
        "test",
        "regression",
        "outage",
        "server",
    ),
}


@dataclass(frozen=True)
class KindGuess:
    """A task kind and the evidence for it (shown in the plan: "label `bug` -> engineering")."""

    kind: TaskKind
    reason: str


def classify_kind(title: str, labels: Sequence[str] = (), description: str = "") -> KindGuess:
    """Guess what sort of work a task is: labels first (they are deliberate), then words in the title."""
    lowered = [label.lower() for label in labels]
    for kind, names in _KIND_LABELS.items():
        for label in lowered:
            if label in names:
                return KindGuess(kind, f"label `{label}` -> {kind.value}")
    text = f" {title.lower()} "
    for kind, words in _KIND_WORDS.items():
        for word in words:
            if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text):
                return KindGuess(kind, f"word `{word}` -> {kind.value}")
    return KindGuess(TaskKind.GENERAL, "no engineering, documentation or code signal -> general")


@dataclass(frozen=True)
class RouteDecision:
    """Where an action goes and the sentence that explains it."""

    service: Service
    reason: str
    rule: int | None = None
    """1-based index of the matching rule, None for explicit or fallback."""
    queued_for: Service | None = None
    """The service the rules wanted but could not use now; the task is queued for it."""

    @property
    def explanation(self) -> str:
        """``Linear: label `bug` -> engineering (rule 1)``."""
        text = f"{self.service.label}: {self.reason}"
        if self.queued_for:
            text += f"; queued for {self.queued_for.label}"
        return text


@dataclass(frozen=True)
class RoutingFacts:
    """What the rules look at: the action's kind, labels, project and whether it has a deadline."""

    kind: TaskKind
    kind_reason: str
    labels: tuple[str, ...]
    has_due: bool
    project: str | None


def facts_for(action: CreateTask | CreateProject) -> RoutingFacts:
    """Extract the routing facts of a create action (kind guessed when the action does not say)."""
    if isinstance(action, CreateProject):
        return RoutingFacts(
            action.kind, f"project kind {action.kind.value}", (), action.due is not None, None
        )
    if action.kind is not None:
        guess = KindGuess(action.kind, f"kind {action.kind.value}")
    else:
        guess = classify_kind(action.title, action.labels, action.description)
    return RoutingFacts(
        guess.kind, guess.reason, tuple(action.labels), action.due is not None, action.project
    )


def rule_matches(rule: RoutingRule, facts: RoutingFacts) -> str | None:
    """The reason ``rule`` matches ``facts``, or None. Every condition the rule sets must hold."""
    reasons = []
    if rule.kind is not None:
        if facts.kind.value != rule.kind:
            return None
        reasons.append(facts.kind_reason)
    if rule.label is not None:
        if rule.label.lower() not in (label.lower() for label in facts.labels):
            return None
        reasons.append(f"label `{rule.label}`")
    if rule.has_due is not None:
        if facts.has_due != rule.has_due:
            return None
        reasons.append("has a deadline" if rule.has_due else "no deadline")
    if rule.project is not None:
        if (facts.project or "").lower() != rule.project.lower():
            return None
        reasons.append(f"project `{rule.project}`")
    return "; ".join(reasons) if reasons else "matches every task"


def determine_primary_integration(
    facts: RoutingFacts,
    *,
    rules: Sequence[RoutingRule],
    usable: Collection[Service],
    fallback: Service = Service.LOCAL,
    explicit: Service | None = None,
) -> RouteDecision:
    """Route one action. ``usable`` are the services configured and healthy right now."""
    if explicit is not None:
        if explicit in usable or explicit is Service.LOCAL:
            return RouteDecision(explicit, f"asked for @{explicit.value}")
        return RouteDecision(
            fallback, f"asked for @{explicit.value}, which is not available now", queued_for=explicit
        )
    wanted: Service | None = None
    for index, rule in enumerate(rules, start=1):
        reason = rule_matches(rule, facts)
        if reason is None:
            continue
        if rule.service in usable or rule.service is Service.LOCAL:
            return RouteDecision(rule.service, f"{reason} (rule {index})", rule=index, queued_for=wanted)
        wanted = wanted or rule.service
    if wanted is not None:
        return RouteDecision(
            fallback, f"{facts.kind_reason}; {wanted.value} is not available now", queued_for=wanted
        )
    return RouteDecision(fallback, f"no rule matched ({facts.kind_reason}) -> fallback")


def route_to_json(route: RouteDecision) -> dict[str, Any]:
    """A route as a request record keeps it (a resumed step goes where it went the first time)."""
    return {
        "service": route.service.value,
        "reason": route.reason,
        "rule": route.rule,
        "queued_for": route.queued_for.value if route.queued_for else None,
    }


def route_from_json(data: dict[str, Any]) -> RouteDecision:
    """The inverse of :func:`route_to_json`."""
    queued = data.get("queued_for")
    return RouteDecision(
        Service(data["service"]),
        str(data.get("reason", "")),
        rule=data.get("rule"),
        queued_for=Service(queued) if queued else None,
    )
