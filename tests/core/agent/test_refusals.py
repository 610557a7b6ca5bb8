"""Requests the rule planner must refuse: the error names the part it could not read, nothing is planned.

Reference instant: Thursday 2026-12-03 10:00 in Europe/Berlin.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pmtui.core.agent.context import PlannerContext, TaskHandle
from pmtui.core.agent.rules import RulePlanner
from pmtui.models import CreateTask

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=BERLIN)
CTX = PlannerContext(
    now=NOW, tz=BERLIN, tasks=[TaskHandle(id="t-1", title="Fix login redirect", key="ENG-12")]
)

REFUSED: list[tuple[str, str]] = [
    ("task Call mom due 31/02", "'31/02' is not a date: there is no 31 February"),
    ("task X due 2026-02-30", "'2026-02-30' is not a date: there is no 30 February 2026"),
    ("task X due 2026-13-01", "there is no month 13"),
    ("task X due feb 30", "'feb 30' is not a date: there is no 30 February"),
    ("task X due 31 april", "there is no 31 April"),
    ("task X due 5/12", "'5/12' is ambiguous: could be dec 5 or may 12"),
    ("task X due 40/50", "neither number is a month"),
    ("task X due at 25:00", "a time goes from 00:00 to 23:59"),
    ("task X due 13pm", "an hour with am or pm goes from 1 to 12"),
    ("task X due tomorrow @jira", "unknown service '@jira'"),
    ("task X @trello", "unknown service '@trello'"),
    ("task X #", "could not read the label '#'"),
    ("task X #-bug", "could not read the label '#-bug'"),
    ("task X due the week after next", "did not understand 'the week after next'"),
    ("task X due next blursday", "did not understand 'next blursday'"),
    ("task X due the day after", "did not understand 'the day after'"),
    ("task X due in a fortnight", "did not understand 'in a fortnight'"),
    ("ENG-12 due 31/02", "there is no 31 February"),
    ("push ENG-12 to 2026-02-30", "there is no 30 February 2026"),
    ('project "Launch" with tasks: spec due 31/02; docs', "there is no 31 February"),
    ("sync jira", "unknown service 'jira' to sync"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_refused_requests_plan_nothing_and_name_the_part(text: str, message: str) -> None:
    plan = RulePlanner().plan(text, CTX)
    assert plan.error is not None, plan
    assert message in plan.error
    assert plan.actions == []
    assert plan.question is None


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("task Write due diligence report", "Write due diligence report"),
        ("task Pay dues", "Pay dues"),
        ("task Email bob@example.com", "Email bob@example.com"),
        ("task Fix issue #37", "Fix issue"),
        ("task X due at 11", "X"),
    ],
)
def test_look_alikes_are_not_refused(text: str, title: str) -> None:
    plan = RulePlanner().plan(text, CTX)
    assert plan.error is None
    [action] = plan.actions
    assert isinstance(action, CreateTask)
    assert action.title == title
