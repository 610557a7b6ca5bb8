"""The rule planner, as a table of requests and the exact plans they make; and it never raises."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtui.core.agent.context import Planner, PlannerContext, TaskHandle
from pmtui.core.agent.rules import CHEAT_SHEET, EXAMPLES, GENERAL_EXAMPLE, RulePlanner, match_titles
from pmtui.models import (
    Action,
    AddComment,
    Choice,
    CompleteTask,
    CreateProject,
    CreateTask,
    DeleteTask,
    Link,
    MoveTask,
    Plan,
    Priority,
    Query,
    Question,
    Service,
    Status,
    Sync,
    TaskChanges,
    UpdateTask,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN)  # Tuesday 24 November 2026

LOGIN = TaskHandle("t-login", "Fix login redirect", "ENG-12", Service.LINEAR)
GUIDE = TaskHandle("t-guide", "Write onboarding guide", None, Service.NOTION)
BILLING = TaskHandle("t-billing", "Refactor billing API", "ENG-45", Service.LINEAR)
LOGINLESS = TaskHandle("t-less", "Loginless checkout", None, None)
LOGIN_COPY = TaskHandle("t-copy", "Login page copy", None, Service.NOTION)

TASKS = (LOGIN, GUIDE, BILLING, LOGINLESS)
CTX = PlannerContext(now=NOW, tz=BERLIN, tasks=TASKS, projects=("Q1 launch",), services=tuple(Service))
AMBIGUOUS = PlannerContext(now=NOW, tz=BERLIN, tasks=(*TASKS, LOGIN_COPY))
PLANNER = RulePlanner()


def day(month: int, dom: int, year: int = 2026) -> datetime:
    """An all-day due: midnight UTC of that date."""
    return datetime(year, month, dom, tzinfo=UTC)


def local(
    month: int, dom: int, hour: int, minute: int = 0, tz: tzinfo = BERLIN, year: int = 2026
) -> datetime:
    """A local wall-clock time as the UTC instant it is."""
    return datetime(year, month, dom, hour, minute, tzinfo=tz).astimezone(UTC)


def in_project(ref: str, title: str, due: datetime | None, **fields: object) -> CreateTask:
    return CreateTask.model_validate(
        {"ref": ref, "title": title, "due": due, "project": "p1", "after": ["p1"], **fields}
    )


def update(task: str, **changes: object) -> UpdateTask:
    return UpdateTask(ref="a1", task=task, changes=TaskChanges.model_validate(changes))


PLAN_TABLE: list[tuple[str, list[Action]]] = [
    # ---- create a task
    (
        "task Fix login redirect due fri #bug p1 @linear",
        [
            CreateTask(
                ref="t1",
                title="Fix login redirect",
                due=day(11, 27),
                labels=["bug"],
                priority=Priority.URGENT,
                service=Service.LINEAR,
            )
        ],
    ),
    ("task Write docs p2", [CreateTask(ref="t1", title="Write docs", priority=Priority.HIGH)]),
    ("task Write docs p3", [CreateTask(ref="t1", title="Write docs", priority=Priority.MEDIUM)]),
    ("task Write docs p4", [CreateTask(ref="t1", title="Write docs", priority=Priority.LOW)]),
    ("task Write docs !high", [CreateTask(ref="t1", title="Write docs", priority=Priority.HIGH)]),
    ("task Write docs urgent", [CreateTask(ref="t1", title="Write docs", priority=Priority.URGENT)]),
    ("task Write docs high priority", [CreateTask(ref="t1", title="Write docs", priority=Priority.HIGH)]),
    (
        "task #docs Write docs @notion",
        [CreateTask(ref="t1", title="Write docs", labels=["docs"], service=Service.NOTION)],
    ),
    ("add Buy milk tomorrow", [CreateTask(ref="t1", title="Buy milk", due=day(11, 25))]),
    (
        "new task: Call the bank tomorrow at 3pm",
        [CreateTask(ref="t1", title="Call the bank", due=local(11, 25, 15), due_all_day=False)],
    ),
    (
        "create a task to renew passport by dec 5",
        [CreateTask(ref="t1", title="renew passport", due=day(12, 5))],
    ),
    (
        "remind me to call bob tonight",
        [CreateTask(ref="t1", title="call bob", due=local(11, 24, 20), due_all_day=False)],
    ),
    ("todo Plan next week", [CreateTask(ref="t1", title="Plan next week")]),
    (
        "task Call mom on sunday about the trip",
        [CreateTask(ref="t1", title="Call mom on sunday about the trip")],
    ),
    ("task Read the RFC in 3 days", [CreateTask(ref="t1", title="Read the RFC", due=day(11, 27))]),
    (
        "task Review MR for 2h due thu @gitlab",
        [
            CreateTask(
                ref="t1", title="Review MR", duration_minutes=120, due=day(11, 26), service=Service.GITLAB
            )
        ],
    ),
    (
        "task Write report in project Q1 launch",
        [CreateTask(ref="t1", title="Write report", project="Q1 launch")],
    ),
    ("task Write report in Q1 launch", [CreateTask(ref="t1", title="Write report", project="Q1 launch")]),
    (
        'task Write report in project "Big bet"',
        [CreateTask(ref="t1", title="Write report", project="Big bet")],
    ),
    (
        'task "Fix #12 crash" due 2026-12-05 !low',
        [CreateTask(ref="t1", title="Fix #12 crash", due=day(12, 5), priority=Priority.LOW)],
    ),
    (
        "task Fix login redirect, due fri, urgent",
        [CreateTask(ref="t1", title="Fix login redirect", due=day(11, 27), priority=Priority.URGENT)],
    ),
    (
        "task Deploy v2 due end of month #infra #backend",
        [CreateTask(ref="t1", title="Deploy v2", due=day(11, 30), labels=["infra", "backend"])],
    ),
    ("task Ship it due next fri", [CreateTask(ref="t1", title="Ship it", due=day(12, 4))]),
    ("task Ship it due this tue", [CreateTask(ref="t1", title="Ship it", due=day(11, 24))]),
    ("task Ship it due tue", [CreateTask(ref="t1", title="Ship it", due=day(12, 1))]),
    ("add Fix stuff to notion", [CreateTask(ref="t1", title="Fix stuff", service=Service.NOTION)]),
    ("Please add water plants, thanks", [CreateTask(ref="t1", title="water plants")]),
    # ---- create a project
    (
        'new project "Q1 launch" with tasks: spec; API; docs due 2026-12-05',
        [
            CreateProject(ref="p1", name="Q1 launch", due=date(2026, 12, 5)),
            in_project("t1", "spec", day(12, 5)),
            in_project("t2", "API", day(12, 5)),
            in_project("t3", "docs", day(12, 5)),
        ],
    ),
    (
        "project Q1 launch with tasks spec, API, docs due friday",
        [
            CreateProject(ref="p1", name="Q1 launch", due=date(2026, 11, 27)),
            in_project("t1", "spec", day(11, 27)),
            in_project("t2", "API", day(11, 27)),
            in_project("t3", "docs", day(11, 27)),
        ],
    ),
    (
        'new project "Q1 launch" with tasks: spec due mon; API; docs due 2026-12-05',
        [
            CreateProject(ref="p1", name="Q1 launch", due=date(2026, 12, 5)),
            in_project("t1", "spec", day(11, 30)),
            in_project("t2", "API", day(12, 5)),
            in_project("t3", "docs", day(12, 5)),
        ],
    ),
    (
        "new project Website @notion with tasks: copy; images p2; launch due next fri",
        [
            CreateProject(ref="p1", name="Website", due=date(2026, 12, 4), service=Service.NOTION),
            in_project("t1", "copy", day(12, 4), service=Service.NOTION),
            in_project("t2", "images", day(12, 4), service=Service.NOTION, priority=Priority.HIGH),
            in_project("t3", "launch", day(12, 4), service=Service.NOTION),
        ],
    ),
    (
        "project Onboarding: write guide, record video and publish due dec 15",
        [
            CreateProject(ref="p1", name="Onboarding", due=date(2026, 12, 15)),
            in_project("t1", "write guide", day(12, 15)),
            in_project("t2", "record video", day(12, 15)),
            in_project("t3", "publish", day(12, 15)),
        ],
    ),
    (
        "new project Migration due dec 5 with tasks: plan; cutover due fri",
        [
            CreateProject(ref="p1", name="Migration", due=date(2026, 12, 5)),
            in_project("t1", "plan", day(12, 5)),
            in_project("t2", "cutover", day(11, 27)),
        ],
    ),
    ("create project Hiring", [CreateProject(ref="p1", name="Hiring")]),
    (
        "project Demo due fri at 15:30 with tasks: slides; dry run",
        [
            CreateProject(ref="p1", name="Demo", due=date(2026, 11, 27)),
            in_project("t1", "slides", local(11, 27, 15, 30), due_all_day=False),
            in_project("t2", "dry run", local(11, 27, 15, 30), due_all_day=False),
        ],
    ),
    # ---- complete
    ("done ENG-123", [CompleteTask(ref="a1", task="ENG-123")]),
    ("complete ENG-123", [CompleteTask(ref="a1", task="ENG-123")]),
    ("close eng-45", [CompleteTask(ref="a1", task="ENG-45")]),
    ('finish "Write onboarding guide"', [CompleteTask(ref="a1", task="t-guide")]),
    ('finish "Nothing like this"', [CompleteTask(ref="a1", task="Nothing like this")]),
    ("mark login as done", [CompleteTask(ref="a1", task="t-login")]),
    ("mark the onboarding guide as complete", [CompleteTask(ref="a1", task="t-guide")]),
    ("ENG-12 is done", [CompleteTask(ref="a1", task="ENG-12")]),
    ("set ENG-12 done", [CompleteTask(ref="a1", task="ENG-12")]),
    (
        "done ENG-1, ENG-2 and ENG-3",
        [
            CompleteTask(ref="a1", task="ENG-1"),
            CompleteTask(ref="a2", task="ENG-2"),
            CompleteTask(ref="a3", task="ENG-3"),
        ],
    ),
    # ---- move, schedule, link
    ('move "Write onboarding guide" to notion', [MoveTask(ref="a1", task="t-guide", to=Service.NOTION)]),
    ("move ENG-12 to @gitlab", [MoveTask(ref="a1", task="ENG-12", to=Service.GITLAB)]),
    ("move ENG-12 from linear to notion", [MoveTask(ref="a1", task="ENG-12", to=Service.NOTION)]),
    ("send login to motion", [MoveTask(ref="a1", task="t-login", to=Service.MOTION)]),
    (
        "schedule ENG-45 for 2h before thursday",
        [Link(ref="a1", task="ENG-45", to=Service.MOTION, duration_minutes=120, due=day(11, 26))],
    ),
    ("schedule ENG-45", [Link(ref="a1", task="ENG-45", to=Service.MOTION)]),
    (
        "schedule billing 90m tomorrow",
        [Link(ref="a1", task="t-billing", to=Service.MOTION, duration_minutes=90, due=day(11, 25))],
    ),
    (
        "schedule ENG-45 for 1h30m on fri at 10am",
        [Link(ref="a1", task="ENG-45", to=Service.MOTION, duration_minutes=90, due=local(11, 27, 10))],
    ),
    ("link ENG-12 to notion", [Link(ref="a1", task="ENG-12", to=Service.NOTION)]),
    ("add ENG-12 to gitlab", [Link(ref="a1", task="ENG-12", to=Service.GITLAB)]),
    # ---- comment
    ("comment ENG-12: waiting on review", [AddComment(ref="a1", task="ENG-12", body="waiting on review")]),
    (
        'comment on "Write onboarding guide": looks good!',
        [AddComment(ref="a1", task="t-guide", body="looks good!")],
    ),
    (
        "add a comment to ENG-45: blocked by infra?",
        [AddComment(ref="a1", task="ENG-45", body="blocked by infra?")],
    ),
    ("note ENG-12 ping Sam", [AddComment(ref="a1", task="ENG-12", body="ping Sam")]),
    # ---- sync
    ("sync", [Sync(ref="a1")]),
    ("sync linear and gitlab", [Sync(ref="a1", services=[Service.LINEAR, Service.GITLAB])]),
    ("sync @motion, notion", [Sync(ref="a1", services=[Service.MOTION, Service.NOTION])]),
    ("please sync everything", [Sync(ref="a1")]),
    # ---- questions
    ("what is overdue?", [Query(ref="a1", question="overdue")]),
    ("overdue", [Query(ref="a1", question="overdue")]),
    ("what's due today", [Query(ref="a1", question="today")]),
    ("show me my agenda", [Query(ref="a1", question="today")]),
    ("what's coming up", [Query(ref="a1", question="upcoming")]),
    ("anything due this week?", [Query(ref="a1", question="upcoming")]),
    ("show conflicts", [Query(ref="a1", question="conflicts")]),
    ("find login", [Query(ref="a1", question="search", text="login")]),
    ('search for "billing API"', [Query(ref="a1", question="search", text="billing API")]),
    # ---- change a task
    ('rename ENG-12 to "Fix SSO redirect"', [update("ENG-12", title="Fix SSO redirect")]),
    ("rename Fix login redirect to Fix SSO", [update("t-login", title="Fix SSO")]),
    ("set ENG-12 priority high", [update("ENG-12", priority=Priority.HIGH)]),
    ("set priority of ENG-12 to urgent", [update("ENG-12", priority=Priority.URGENT)]),
    ("set ENG-12 to low", [update("ENG-12", priority=Priority.LOW)]),
    ("make login urgent", [update("t-login", priority=Priority.URGENT)]),
    ("ENG-12 p2", [update("ENG-12", priority=Priority.HIGH)]),
    ("ENG-12 due tomorrow", [update("ENG-12", due=day(11, 25), due_all_day=True)]),
    ("ENG-12 due tomorrow at 9am", [update("ENG-12", due=local(11, 25, 9), due_all_day=False)]),
    ("set ENG-12 due date to friday at 9am", [update("ENG-12", due=local(11, 27, 9), due_all_day=False)]),
    ("set due date of ENG-12 to tomorrow", [update("ENG-12", due=day(11, 25), due_all_day=True)]),
    ("login due fri", [update("t-login", due=day(11, 27), due_all_day=True)]),
    ("push ENG-12 to next week", [update("ENG-12", due=day(11, 30), due_all_day=True)]),
    ("postpone guide until monday", [update("t-guide", due=day(11, 30), due_all_day=True)]),
    ("move ENG-12 to dec 1", [update("ENG-12", due=day(12, 1), due_all_day=True)]),
    ("set ENG-12 estimate 2h", [update("ENG-12", duration_minutes=120)]),
    ("set ENG-12 project Q1 launch", [update("ENG-12", project="Q1 launch")]),
    ("start ENG-12", [update("ENG-12", status=Status.IN_PROGRESS)]),
    ("mark ENG-12 as in progress", [update("ENG-12", status=Status.IN_PROGRESS)]),
    ("reopen ENG-12", [update("ENG-12", status=Status.TODO)]),
    ("cancel ENG-45", [update("ENG-45", status=Status.CANCELED)]),
    ("assign ENG-12 to alice", [update("ENG-12", assignee="alice")]),
    ("unassign ENG-12", [update("ENG-12", clear=["assignee"])]),
    ("clear due date from ENG-12", [update("ENG-12", clear=["due"])]),
    ("ENG-12 no due date", [update("ENG-12", clear=["due"])]),
    ("delete ENG-12", [DeleteTask(ref="a1", task="ENG-12")]),
    ('remove "Write onboarding guide"', [DeleteTask(ref="a1", task="t-guide")]),
]


@pytest.mark.parametrize(("text", "actions"), PLAN_TABLE, ids=[row[0] for row in PLAN_TABLE])
def test_plan_table(text: str, actions: list[Action]) -> None:
    plan = PLANNER.plan(text, CTX)
    assert plan.actions == actions
    assert plan.question is None
    assert plan.example is None
    assert plan.planner == "rules"
    assert plan.text == text
    assert plan.understood


def test_the_table_is_big_enough() -> None:
    assert len(PLAN_TABLE) >= 60


# ---------------------------------------------------------------------------------- understood


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        (
            "task Fix login redirect due fri #bug p1 @linear",
            "create task 'Fix login redirect' in Linear, due Fri 27 Nov, #bug, urgent",
        ),
        (
            'new project "Q1 launch" with tasks: spec due mon; API; docs due 2026-12-05',
            "create project 'Q1 launch', due Sat 5 Dec, with 3 tasks: 'spec' (due Mon 30 Nov), 'API', 'docs'",
        ),
        ("mark login as done", "complete ENG-12"),
        ('finish "Write onboarding guide"', "complete 'Write onboarding guide'"),
        ('move "Write onboarding guide" to notion', "move 'Write onboarding guide' to Notion"),
        ("schedule ENG-45 for 2h before thursday", "schedule ENG-45 in Motion, 2h, due Thu 26 Nov"),
        ("comment ENG-12: waiting on review", "comment on ENG-12: 'waiting on review'"),
        ("sync linear and gitlab", "sync Linear and GitLab"),
        ("sync", "sync every service"),
        ("what is overdue?", "show overdue tasks"),
        ("find login", "search tasks for 'login'"),
        ("set ENG-12 priority high", "update ENG-12: priority high"),
        ("ENG-12 due tomorrow at 9am", "update ENG-12: due Wed 25 Nov 09:00"),
        ("clear due date from ENG-12", "update ENG-12: no due date"),
        ("task Plan Q1 due jan 8", "create task 'Plan Q1', due Fri 8 Jan 2027"),
    ],
)
def test_understood(text: str, understood: str) -> None:
    assert PLANNER.plan(text, CTX).understood == understood


# ------------------------------------------------------------------------------- time zones


LA = ZoneInfo("America/Los_Angeles")
AUCKLAND = ZoneInfo("Pacific/Auckland")
LA_LATE = datetime(2026, 11, 24, 23, 30, tzinfo=LA)  # already Wednesday in UTC
AUCKLAND_NOON = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # Wednesday noon in Auckland
YEAR_END = datetime(2026, 12, 30, 9, 0, tzinfo=BERLIN)  # Wednesday
SPRING = datetime(2027, 3, 26, 10, 0, tzinfo=BERLIN)  # Friday; clocks go forward on Sunday


@pytest.mark.parametrize(
    ("now", "tz", "text", "due", "is_all_day"),
    [
        # "today" is the user's Tuesday in Los Angeles, though UTC is on Wednesday already.
        (LA_LATE, LA, "task X due today", day(11, 24), True),
        (LA_LATE, LA, "task X tomorrow at 9am", local(11, 25, 9, tz=LA), False),
        (AUCKLAND_NOON, AUCKLAND, "task X tomorrow", day(11, 26), True),
        (AUCKLAND_NOON, AUCKLAND, "task X due fri at 5pm", datetime(2026, 11, 27, 4, 0, tzinfo=UTC), False),
        (YEAR_END, BERLIN, "task X due fri", day(1, 1, 2027), True),
        (YEAR_END, BERLIN, "task X in 3 days", day(1, 2, 2027), True),
        (YEAR_END, BERLIN, "task X due next week", day(1, 4, 2027), True),
        (YEAR_END, BERLIN, "task X tomorrow", day(12, 31), True),
        # Monday 09:00 after the change is summer time (UTC+2), Saturday's still winter time (UTC+1).
        (SPRING, BERLIN, "task X due mon at 9am", datetime(2027, 3, 29, 7, 0, tzinfo=UTC), False),
        (SPRING, BERLIN, "task X due sat at 9am", datetime(2027, 3, 27, 8, 0, tzinfo=UTC), False),
    ],
)
def test_dates_in_the_users_zone(
    now: datetime, tz: tzinfo, text: str, due: datetime, is_all_day: bool
) -> None:
    context = PlannerContext(now=now, tz=tz)
    assert PLANNER.plan(text, context).actions == [
        CreateTask(ref="t1", title="X", due=due, due_all_day=is_all_day)
    ]


def test_project_due_is_the_users_local_day_when_timed() -> None:
    plan = PLANNER.plan("project Launch due fri at 11pm", PlannerContext(now=NOW, tz=LA))
    assert plan.actions == [CreateProject(ref="p1", name="Launch", due=date(2026, 11, 27))]


# ------------------------------------------------------------------------------------ ambiguity

WHICH_LOGIN = Question(
    text="Which task do you mean by 'login'?",
    choices=[
        Choice(label="Fix login redirect (ENG-12)", value="t-login"),
        Choice(label="Login page copy (Notion)", value="t-copy"),
    ],
)


@pytest.mark.parametrize(
    "text",
    [
        "mark login as done",
        "done login",
        "delete login",
        "move login to gitlab",
        "schedule login for 1h",
        "comment login: still broken?",
        "login due fri",
        "push login to next week",
        "rename login to Sign-in",
    ],
)
def test_ambiguous_task_becomes_a_question(text: str) -> None:
    plan = PLANNER.plan(text, AMBIGUOUS)
    assert plan.actions == []
    assert plan.question == WHICH_LOGIN
    assert "'login', which matches 2 tasks" in plan.understood


def test_question_choices_fall_back_to_the_title() -> None:
    context = PlannerContext(
        now=NOW, tz=BERLIN, tasks=(TaskHandle("a", "Pay rent"), TaskHandle("b", "Pay taxes"))
    )
    plan = PLANNER.plan("done pay", context)
    assert plan.question == Question(
        text="Which task do you mean by 'pay'?",
        choices=[Choice(label="Pay rent", value="a"), Choice(label="Pay taxes", value="b")],
    )


@pytest.mark.parametrize(
    ("phrase", "ids"),
    [
        ("login", ["t-login"]),  # whole word beats "Loginless"
        ("loginless", ["t-less"]),
        ("LOGIN REDIRECT", ["t-login"]),
        ("guide", ["t-guide"]),
        ("ogin", ["t-login", "t-less"]),  # substring only when no whole word matches
        ("fix login redirect", ["t-login"]),
        ("nothing", []),
        ("", []),
    ],
)
def test_match_titles(phrase: str, ids: list[str]) -> None:
    assert [task.id for task in match_titles(phrase, TASKS)] == ids


# ---------------------------------------------------------------------------------- unparseable


@pytest.mark.parametrize(
    ("text", "understood", "example"),
    [
        ("blah fri", "a date: Friday 2026-11-27", GENERAL_EXAMPLE),
        ("", "an empty request", GENERAL_EXAMPLE),
        ("   ", "an empty request", GENERAL_EXAMPLE),
        ("done", "the verb 'done'", EXAMPLES["done"]),
        ("task", "the verb 'task'", EXAMPLES["task"]),
        ("sync jira", "the verb 'sync'", EXAMPLES["sync"]),
        ("ENG-12", "a task: ENG-12", GENERAL_EXAMPLE),
        ("hello there", "nothing I can act on", GENERAL_EXAMPLE),
        ("fix login", "nothing I can act on", GENERAL_EXAMPLE),
        ("snooze ENG-12 by 2 days", "a task: ENG-12", EXAMPLES["push"]),
        ("schedule", "the verb 'schedule'", EXAMPLES["schedule"]),
        ("comment login without a colon", "the verb 'comment'", EXAMPLES["comment"]),
        (
            "what about @linear #bug p1 tomorrow at 3pm",
            "the verb 'what'; a time: Wednesday 2026-11-25 15:00; a service: Linear; a label: #bug; "
            "a priority: urgent",
            EXAMPLES["query"],
        ),
    ],
)
def test_unparseable_says_what_it_saw_and_shows_an_example(text: str, understood: str, example: str) -> None:
    plan = PLANNER.plan(text, CTX)
    assert plan.actions == []
    assert plan.question is None
    assert plan.understood == understood
    assert plan.example == example


@pytest.mark.parametrize(("verb", "example"), sorted(EXAMPLES.items()))
def test_every_example_works(verb: str, example: str) -> None:
    plan = PLANNER.plan(example, CTX)
    assert plan.actions, verb
    assert example.split()[0] in CHEAT_SHEET or verb in ("clear", "link", "status", "assign")


def test_very_long_requests_are_refused_politely() -> None:
    plan = PLANNER.plan("task " + "x" * 5000, CTX)
    assert plan.actions == []
    assert plan.example == GENERAL_EXAMPLE


def test_context_needs_an_aware_clock() -> None:
    with pytest.raises(ValueError, match="aware"):
        PlannerContext(now=datetime(2026, 11, 24, 9, 0), tz=BERLIN)  # noqa: DTZ001
    assert CTX.today == date(2026, 11, 24)


def test_rule_planner_is_a_planner() -> None:
    planner: Planner = PLANNER
    assert planner.name == "rules"


# ------------------------------------------------------------------------------------ properties

VOCABULARY = [
    *("task", "project", "new", "done", "mark", "as", "to", "due", "fri", "tomorrow", "at", "3pm"),
    *("#bug", "p1", "!high", "@linear", "@jira", "in", "2", "days", "ENG-12", '"', "'", ":", ";"),
    *(",", "with", "tasks", "login", "guide", "sync", "and", "what's", "overdue", "set", "priority"),
    *("high", "rename", "push", "next", "week", "schedule", "for", "2h", "comment", "move", "notion"),
    *("delete", "start", "assign", "clear", "no", "date", "dec", "31", "feb", "29", "2026-12-05"),
    *("9999-12-31", "0001-01-01", "~", "project:", "urgent", "today", "find", "show", "the", "of"),
]
# Hypothesis takes naive bounds and attaches the zone itself.
CLOCKS = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
ZONES = st.sampled_from([UTC, BERLIN, ZoneInfo("America/Los_Angeles"), ZoneInfo("Pacific/Auckland")])


def assert_valid(plan: Plan) -> None:
    assert Plan.model_validate(plan.model_dump()) == plan
    assert plan.planner == "rules"
    assert plan.understood
    if plan.actions:
        assert plan.question is None
        assert plan.example is None
        plan.ordered()
    else:
        assert (plan.question is None) != (plan.example is None)
    if plan.question is not None:
        assert plan.question.choices


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_plan_never_raises_on_any_text(text: str) -> None:
    assert_valid(PLANNER.plan(text, AMBIGUOUS))


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.sampled_from(VOCABULARY), max_size=10), now=CLOCKS, tz=ZONES)
def test_plan_never_raises_on_grammar_soup(words: list[str], now: datetime, tz: tzinfo) -> None:
    context = PlannerContext(now=now, tz=tz, tasks=AMBIGUOUS.tasks, projects=("Q1 launch",))
    assert_valid(PLANNER.plan(" ".join(words), context))
