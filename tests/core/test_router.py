"""Routing rules, as tables: defaults, overrides, explicit @service, fallback and the explanation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pmtui.config import RoutingRule, RoutingSettings
from pmtui.core.router import classify_kind, determine_primary_integration, facts_for
from pmtui.models import CreateProject, CreateTask, Service, TaskKind

ALL = {Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB}
DUE = datetime(2026, 11, 27, tzinfo=UTC)
DEFAULT_RULES = RoutingSettings().rules


@pytest.mark.parametrize(
    ("title", "labels", "kind", "evidence"),
    [
        ("Fix login redirect", [], TaskKind.ENGINEERING, "word `fix`"),
        ("Something odd", ["bug"], TaskKind.ENGINEERING, "label `bug`"),
        ("Write onboarding guide", [], TaskKind.DOCUMENTATION, "word `write`"),
        ("Release notes 1.4", [], TaskKind.DOCUMENTATION, "word `release notes`"),
        ("Review MR for billing", [], TaskKind.CODE, "word `mr`"),
        ("Check pipeline on main", [], TaskKind.CODE, "word `pipeline`"),
        ("Call the dentist", [], TaskKind.GENERAL, "no engineering"),
        ("Docs for API", ["docs"], TaskKind.DOCUMENTATION, "label `docs`"),
        ("Prefix matching is not a word: fixture", [], TaskKind.GENERAL, "no engineering"),
    ],
)
def test_classify_kind(title: str, labels: list[str], kind: TaskKind, evidence: str) -> None:
    guess = classify_kind(title, labels)
    assert guess.kind is kind
    assert evidence in guess.reason


@pytest.mark.parametrize(
    ("action", "usable", "service", "explanation"),
    [
        (
            CreateTask(title="Fix login redirect"),
            ALL,
            Service.LINEAR,
            "Linear: word `fix` -> engineering (rule 1)",
        ),
        (
            CreateTask(title="x", labels=["bug"]),
            ALL,
            Service.LINEAR,
            "Linear: label `bug` -> engineering (rule 1)",
        ),
        (CreateTask(title="Write onboarding guide"), ALL, Service.NOTION, "Notion: word `write`"),
        (CreateTask(title="Review MR 12"), ALL, Service.GITLAB, "GitLab: word `mr` -> code (rule 3)"),
        (
            CreateTask(title="Call the dentist", due=DUE),
            ALL,
            Service.MOTION,
            "Motion: has a deadline (rule 4)",
        ),
        (CreateTask(title="Call the dentist"), ALL, Service.LOCAL, "no rule matched"),
        (CreateTask(title="Fix bug", due=DUE), ALL, Service.LINEAR, "(rule 1)"),
        (
            CreateTask(title="Fix bug", due=DUE),
            ALL - {Service.LINEAR},
            Service.MOTION,
            "Motion: has a deadline (rule 4); queued for Linear",
        ),
        (CreateTask(title="Fix bug"), set(), Service.LOCAL, "linear is not available now; queued for Linear"),
        (
            CreateTask(title="Fix bug", service=Service.NOTION),
            ALL,
            Service.NOTION,
            "Notion: asked for @notion",
        ),
        (
            CreateTask(title="Fix bug", service=Service.GITLAB),
            ALL - {Service.GITLAB},
            Service.LOCAL,
            "asked for @gitlab, which is not available now; queued for GitLab",
        ),
        (CreateProject(name="Q1 launch", due=DUE.date()), ALL, Service.MOTION, "has a deadline"),
    ],
)
def test_default_rules(action: CreateTask, usable: set[Service], service: Service, explanation: str) -> None:
    decision = determine_primary_integration(
        facts_for(action), rules=DEFAULT_RULES, usable=usable, explicit=action.service
    )
    assert decision.service is service
    assert explanation in decision.explanation


def test_config_rules_override_defaults() -> None:
    rules = [
        RoutingRule(service=Service.GITLAB, label="bug"),
        RoutingRule(service=Service.NOTION, project="Docs sprint"),
        RoutingRule(service=Service.MOTION, kind="engineering", has_due=True),
    ]
    bug = determine_primary_integration(
        facts_for(CreateTask(title="x", labels=["Bug"])), rules=rules, usable=ALL
    )
    assert (bug.service, bug.rule) == (Service.GITLAB, 1)
    assert "label `bug`" in bug.reason
    sprint = determine_primary_integration(
        facts_for(CreateTask(title="Call", project="docs SPRINT")), rules=rules, usable=ALL
    )
    assert sprint.service is Service.NOTION
    both = determine_primary_integration(
        facts_for(CreateTask(title="Fix it", due=DUE)), rules=rules, usable=ALL
    )
    assert both.service is Service.MOTION
    assert "word `fix` -> engineering; has a deadline (rule 3)" in both.explanation
    undated = determine_primary_integration(facts_for(CreateTask(title="Fix it")), rules=rules, usable=ALL)
    assert undated.service is Service.LOCAL


def test_explicit_kind_skips_guessing() -> None:
    facts = facts_for(CreateTask(title="Fix login", kind=TaskKind.DOCUMENTATION))
    decision = determine_primary_integration(facts, rules=DEFAULT_RULES, usable=ALL)
    assert decision.service is Service.NOTION
    assert "kind documentation" in decision.reason


def test_fallback_is_configurable() -> None:
    decision = determine_primary_integration(
        facts_for(CreateTask(title="Call the dentist")),
        rules=DEFAULT_RULES,
        usable=ALL,
        fallback=Service.MOTION,
    )
    assert decision.service is Service.MOTION
