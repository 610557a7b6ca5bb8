"""The offline planner: a small grammar a person learns in a minute, tolerant of natural phrasing.

Deterministic, offline and instant, so it is pmtui's default planner and the fallback when no model is
configured. It never guesses: a phrase that fits two tasks becomes a question, and text it cannot read
becomes an empty plan that says what it did recognise and shows an example that would work.

Choices worth knowing (the cheat-sheet below is what users see):

- A task is named by its key (``ENG-123``), a quoted title, or words from its title. Words are matched
  against ``PlannerContext.tasks``: an exact title first, then whole words, then any substring. One
  match resolves to the task's id; several become a question. A key, or a quoted title nothing matches,
  is passed through unchanged so the processor can say "no task matches".
- In a project request, a ``due`` after the task list is the project's due date *and* the due date of
  every task without its own (``spec due mon; API; docs due fri``: spec is due Monday, the rest
  Friday). An ``@service`` anywhere applies to the project and all its tasks, since a project lives on
  one service. Items are split on ``;`` when there is one, else on ``,`` (and a final ``and``).
  Words after a verb that match nothing pass through too; without a verb ("login due fri") they must
  match a task, or the request is unreadable.
- A title ends where a run of clauses begins (``due fri``, ``for 2h``, ``urgent``, ``in project X``);
  ``#label``, ``@service``, ``p1`` and ``!high`` are taken from anywhere. Only today, tonight, tomorrow,
  ``in 3 days`` and ``at 3pm`` may end a title without ``due``/``by``/``on``, so "Plan next week" and
  "Call mom on sunday about the trip" stay titles.
- In a project request, a ``due`` after the task list is the project's due date *and* the due date of
  every task without its own (``spec due mon; API; docs due fri``: spec is due Monday, the rest
  Friday), unless the project named its own before the list. An ``@service`` anywhere applies to the
  project and all its tasks, since a project lives on one service. Items are split on ``;`` when there
  is one, else on ``,`` (and a final ``and``).
- ``kind`` is never set (the router classifies), and ``service`` only for an explicit ``@service`` or
  ``in linear``. Refs are fixed (``p1``, ``t1``..., ``a1``...), so the same text gives the same plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pmtui.core.agent.context import PlannerContext, TaskHandle
from pmtui.core.agent.dates import (
    MONTHS,
    WEEKDAYS,
    When,
    date_problem,
    describe_when,
    describe_when_long,
    format_duration,
    match_duration,
    match_when,
    parse_when,
)
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

CHEAT_SHEET = """\
task Fix login redirect due fri #bug p1 @linear    create a task (also: add ..., new task ...)
project "Q1 launch" with tasks: spec; API; docs due 2026-12-05
done ENG-123 | finish "Write guide" | mark login as done
ENG-12 due tomorrow | set ENG-12 priority high | rename ENG-12 to "New title"
push ENG-12 to next week | delete ENG-12 | start ENG-12 | assign ENG-12 to alice
move "Write guide" to notion | schedule ENG-45 for 2h before thu | link ENG-12 to notion
comment ENG-12: waiting on review
sync | sync linear and gitlab
what is overdue? | what's due today | what's coming up | show conflicts | find login

Tasks: ENG-123, M-12 (a handle), "a quoted title", or words of the title.  Priority: p1 urgent,
p2 high, p3 medium, p4 low (or !high, urgent, high priority).  Dates: today, tonight, tomorrow 9,
the day after tomorrow, fri (the next Friday), this fri, next fri (next week's), next week, in 3 days,
a week from today, end of month, dec 5, 12/24, 2026-12-05, at 3pm, midnight.
Durations: 2h, 90m, 1h30m.  Services: @motion @linear @notion @gitlab @local."""

EXAMPLES: dict[str, str] = {
    "task": "task Fix login redirect due fri #bug p1 @linear",
    "project": 'new project "Q1 launch" with tasks: spec; API; docs due 2026-12-05',
    "done": "done ENG-123",
    "move": 'move "Write onboarding guide" to notion',
    "schedule": "schedule ENG-45 for 2h before thursday",
    "link": "link ENG-12 to notion",
    "comment": "comment ENG-12: waiting on review",
    "sync": "sync linear and gitlab",
    "find": "find login",
    "query": "what is overdue?",
    "rename": 'rename ENG-12 to "Fix SSO redirect"',
    "set": "set ENG-12 priority high",
    "push": "push ENG-12 to next week",
    "delete": "delete ENG-12",
    "status": "start ENG-12",
    "assign": "assign ENG-12 to alice",
    "clear": "clear due date from ENG-12",
}
"""One working request per verb, shown when a request using that verb could not be read."""

GENERAL_EXAMPLE = EXAMPLES["task"]
MAX_REQUEST_CHARS = 4000
MAX_CHOICES = 10
MAX_RECOGNISED = 6

_I = re.IGNORECASE | re.ASCII | re.DOTALL
# Command words are ASCII; ``re.ASCII`` stops case folding from matching a long s (U+017F) as "s". Titles,
# labels and quotes stay Unicode-aware.


class RequestRefused(Exception):
    """A part of a request that cannot be read: the planner refuses the whole request, plans nothing.

    Raised from deep inside clause parsing (where the bad part is found) and turned into
    ``Plan.error`` by :meth:`RulePlanner.plan`, so no half-read request ever reaches the services.
    """


_SERVICES: dict[str, Service] = {service.value: service for service in Service}
_SVC = "|".join(_SERVICES)
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*-[0-9]+", re.ASCII)
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", "`": "`"}
_PRIORITY_WORDS: dict[str, Priority] = {
    "urgent": Priority.URGENT,
    "asap": Priority.URGENT,
    "top": Priority.URGENT,
    "p1": Priority.URGENT,
    "1": Priority.URGENT,
    "high": Priority.HIGH,
    "p2": Priority.HIGH,
    "2": Priority.HIGH,
    "medium": Priority.MEDIUM,
    "med": Priority.MEDIUM,
    "normal": Priority.MEDIUM,
    "p3": Priority.MEDIUM,
    "3": Priority.MEDIUM,
    "low": Priority.LOW,
    "p4": Priority.LOW,
    "4": Priority.LOW,
    "none": Priority.NONE,
    "0": Priority.NONE,
}
_STATUS_WORDS: dict[str, Status] = {
    "done": Status.DONE,
    "complete": Status.DONE,
    "completed": Status.DONE,
    "finished": Status.DONE,
    "closed": Status.DONE,
    "resolved": Status.DONE,
    "in progress": Status.IN_PROGRESS,
    "in-progress": Status.IN_PROGRESS,
    "started": Status.IN_PROGRESS,
    "doing": Status.IN_PROGRESS,
    "todo": Status.TODO,
    "to do": Status.TODO,
    "to-do": Status.TODO,
    "open": Status.TODO,
    "reopened": Status.TODO,
    "not done": Status.TODO,
    "canceled": Status.CANCELED,
    "cancelled": Status.CANCELED,
}


# ------------------------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class _TaskRef:
    value: str
    """What goes into the action's ``task``: a key, a task id, or the phrase as typed."""
    display: str


@dataclass(frozen=True)
class _Ambiguous:
    phrase: str
    matches: tuple[TaskHandle, ...]


def unquote(text: str) -> tuple[str, bool]:
    """``"Write guide"`` as ``("Write guide", True)``; unquoted text unchanged with ``False``."""
    stripped = text.strip()
    if len(stripped) >= 2 and _QUOTES.get(stripped[0]) == stripped[-1]:
        return stripped[1:-1].strip(), True
    return stripped, False


def _leading_quote(text: str) -> tuple[str, int] | None:
    """The quoted phrase at the start of ``text`` and the index after its closing quote."""
    closing = _QUOTES.get(text[:1])
    if closing is None:
        return None
    end = text.find(closing, 1)
    if end <= 1:
        return None
    return text[1:end].strip(), end + 1


def match_titles(phrase: str, tasks: Sequence[TaskHandle]) -> list[TaskHandle]:
    """Tasks ``phrase`` can mean: an exact title, else whole-word matches, else substring matches."""
    wanted = phrase.casefold().strip()
    if not wanted:
        return []
    titled = [(task, task.title.casefold()) for task in tasks]
    exact = [task for task, title in titled if title == wanted]
    if exact:
        return exact
    pattern = re.compile(rf"(?<!\w){re.escape(wanted)}(?!\w)")
    whole = [task for task, title in titled if pattern.search(title)]
    if whole:
        return whole
    return [task for task, title in titled if wanted in title]


def _handle_label(task: TaskHandle) -> str:
    where = task.key or (task.service.label if task.service else None)
    return f"{task.title} ({where})" if where else task.title


_REF_FILLER = re.compile(r"^(?:the\s+)?(?:task|issue|ticket)\s+(?=\S)|^the\s+(?=\S)", re.IGNORECASE)


def _resolve_task(
    raw: str, tasks: Sequence[TaskHandle], *, passthrough: bool = True
) -> _TaskRef | _Ambiguous | None:
    """What ``raw`` names: a key, a task of ``tasks``, an ambiguity, or (``passthrough``) itself."""
    text, quoted = unquote(raw)
    if not text:
        return None
    if not quoted:
        text = _REF_FILLER.sub("", text).strip()
        if _KEY.fullmatch(text):
            # Service keys and pmtui handles (M-12) alike: the processor finds either in the cache.
            key = text.upper()
            return _TaskRef(key, key)
        by_id = [task for task in tasks if task.id == text]
        if by_id:
            return _TaskRef(by_id[0].id, _task_display(by_id[0]))
    matches = match_titles(text, tasks)
    if len(matches) == 1:
        return _TaskRef(matches[0].id, _task_display(matches[0]))
    if len(matches) > 1:
        return _Ambiguous(text, tuple(matches))
    if quoted or passthrough:
        return _TaskRef(text, f"'{text}'")
    return None


def _task_display(task: TaskHandle) -> str:
    return task.key or f"'{task.title}'"


def _is_definite(raw: str, tasks: Sequence[TaskHandle]) -> bool:
    """A key, a quoted title, or words that match at least one task: safe to act on without a verb."""
    text, quoted = unquote(raw)
    return bool(text) and (quoted or bool(_KEY.fullmatch(text)) or bool(match_titles(text, tasks)))


# ----------------------------------------------------------------------------------------- clauses


@dataclass(frozen=True)
class _Due:
    when: When


@dataclass(frozen=True)
class _Duration:
    minutes: int


@dataclass(frozen=True)
class _Prio:
    priority: Priority


@dataclass(frozen=True)
class _Svc:
    service: Service


@dataclass(frozen=True)
class _Proj:
    name: str


@dataclass(frozen=True)
class _Label:
    name: str


@dataclass(frozen=True)
class _State:
    status: Status


@dataclass(frozen=True)
class _Title:
    title: str


_Clause = _Due | _Duration | _Prio | _Svc | _Proj | _Label | _State | _Title


@dataclass(frozen=True)
class _Grammar:
    """Which trailing clauses a verb accepts, and how much may go without a keyword."""

    due_keywords: re.Pattern[str]
    bare_dates: Literal["none", "near", "any"]
    bare_duration: bool = False
    bare_priority: bool = False
    service: bool = False
    project: bool = False
    labels: bool = False
    status: bool = False
    title: bool = False


_CREATE_DUE = re.compile(
    r"(?:(?:due(?:\s+date)?|deadline)(?:\s+(?:on|by|is))?|by|before|on|until|till|for)\s*:?\s+", _I
)
_UPDATE_DUE = re.compile(
    r"(?:(?:due(?:\s+date)?|deadline)(?:\s+(?:on|by|is|to))?|by|before|on|until|till|for|to)\s*:?\s+", _I
)
# ``at`` is not part of the keyword: the time pattern reads ``at 11`` itself, so "due at 11" leaves no
# stray "due" in the title.
_CREATE = _Grammar(_CREATE_DUE, "near", service=True, project=True, labels=True)
_UPDATE = _Grammar(_UPDATE_DUE, "near", bare_priority=True, project=True, status=True, title=True)
_RESCHEDULE = _Grammar(_UPDATE_DUE, "any")
_SCHEDULE = _Grammar(_UPDATE_DUE, "any", bare_duration=True, service=True)

_SEPARATOR = re.compile(r"(?:[\s,;]+|and(?![A-Za-z0-9_]))*", _I)
_NEAR_DATE = re.compile(r"(?:today|tonight|tomorrow|tmrw|tmr|at\s|in\s)", _I)
"""Dates that may end a title without ``due``: "call bob tomorrow", "in 3 days", "at 3pm". Others
need a keyword, so "Plan next week" stays a title."""
_DURATION_KEYWORD = re.compile(r"(?:for|takes?|lasting|estimated?|estimate\s+of|est\.?)\s*:?\s+|~\s*", _I)
_PRIORITY = re.compile(
    r"""(?:(?:with|at|to|as)\s+)?
    (?:
        priority\s*[:=]?\s*(?:(?:to|of)\s+)?(?P<a>urgent|high|medium|med|normal|low|none|p[1-4]|[0-4])
      | (?P<b>urgent|high|medium|med|normal|low|top)[\s-]+(?:priority|prio|pri)
      | (?P<c>p[1-4])
      | !(?P<d>urgent|high|medium|med|low|[1-4])
      | (?P<e>urgent|asap)
      | (?P<f>high|medium|med|normal|low)
    )(?![A-Za-z0-9_])""",
    _I | re.VERBOSE,
)
_SERVICE_CLAUSE = re.compile(rf"(?:@\s*|(?:in|on|to|into|via)\s+@?)(?P<s>{_SVC})(?![A-Za-z0-9_])", _I)
_PROJECT_KEYWORD = re.compile(
    r"(?:(?:in|for|under|to)\s+(?:the\s+)?project|project)\s*[:=]?\s*(?:to\s+)?", _I
)
_IN_KNOWN = re.compile(r"(?:in|for|under)\s+(?:the\s+)?", _I)
_LABEL = re.compile(r"#(\w[\w\-]*(?:[/.:]\w[\w\-]*)*)(?!\w)")
_STATE = re.compile(
    r"(?:status\s*[:=]?\s*)?(?:(?:to|as)\s+)?(?P<s>in[\s-]+progress|started|doing|todo|to[\s-]do|open"
    r"|reopened|not\s+done|canceled|cancelled|done|completed|complete|finished|closed|resolved)"
    r"(?![A-Za-z0-9_])",
    _I,
)
_TITLE_CLAUSE = re.compile(r"(?:title|name)\s*(?:[:=]|to|as)?\s+", _I)


def _word_end(text: str, end: int) -> bool:
    return end >= len(text) or not (text[end].isalnum() or text[end] == "_")


def _clause_at(text: str, pos: int, ctx: PlannerContext, grammar: _Grammar) -> tuple[_Clause, int] | None:
    """One clause starting exactly at ``pos``: the first reading that grammar allows."""
    if grammar.title:
        match = _TITLE_CLAUSE.match(text, pos)
        if match:
            title, _ = unquote(text[match.end() :])
            if title:
                return _Title(title), len(text)

    duration_kw = _DURATION_KEYWORD.match(text, pos)
    if duration_kw:
        found = match_duration(text, duration_kw.end())
        if found:
            return _Duration(found[0]), found[1]
    if grammar.bare_duration:
        found = match_duration(text, pos)
        if found:
            return _Duration(found[0]), found[1]

    due_kw = grammar.due_keywords.match(text, pos)
    if due_kw:
        when = match_when(text, ctx.now, ctx.tz, due_kw.end())
        if when:
            return _Due(when), when.span[1]
        problem = date_problem(text, due_kw.end(), ctx.now, ctx.tz)
        if problem is not None:
            raise RequestRefused(f"could not read the date: {problem[0]}")
    if grammar.bare_dates != "none" and (grammar.bare_dates == "any" or _NEAR_DATE.match(text, pos)):
        when = match_when(text, ctx.now, ctx.tz, pos)
        if when:
            return _Due(when), when.span[1]

    match = _PRIORITY.match(text, pos)
    if match and (grammar.bare_priority or not match["f"]):
        word = next(group for group in match.groups() if group).lower()
        priority = _PRIORITY_WORDS.get(word)
        if priority is not None:
            return _Prio(priority), match.end()

    if grammar.service:
        match = _SERVICE_CLAUSE.match(text, pos)
        service = _SERVICES.get(match["s"].lower()) if match else None
        if match and service:
            return _Svc(service), match.end()

    if grammar.status:
        match = _STATE.match(text, pos)
        status = _STATUS_WORDS.get(" ".join(match["s"].lower().split())) if match else None
        if match and status:
            return _State(status), match.end()

    if grammar.labels:
        match = _LABEL.match(text, pos)
        if match:
            return _Label(match[1]), match.end()

    if grammar.project:
        found_project = _project_at(text, pos, ctx)
        if found_project:
            return found_project
    return None


def _known_project_at(text: str, pos: int, projects: Sequence[str]) -> tuple[str, int] | None:
    rest = text[pos:].casefold()
    for name in sorted(projects, key=len, reverse=True):
        folded = name.casefold()
        if folded and rest.startswith(folded) and _word_end(text, pos + len(name)):
            return name, pos + len(name)
    return None


def _project_at(text: str, pos: int, ctx: PlannerContext) -> tuple[_Proj, int] | None:
    keyword = _PROJECT_KEYWORD.match(text, pos)
    if keyword:
        start = keyword.end()
        quoted = _leading_quote(text[start:])
        if quoted and quoted[0]:
            return _Proj(quoted[0]), start + quoted[1]
        known = _known_project_at(text, start, ctx.projects)
        if known:
            return _Proj(known[0]), known[1]
        word = re.compile(r"[^\s,;]+").match(text, start)
        if word:
            return _Proj(word.group()), word.end()
        return None
    prefix = _IN_KNOWN.match(text, pos)
    if prefix:
        known = _known_project_at(text, prefix.end(), ctx.projects)
        if known:
            return _Proj(known[0]), known[1]
    return None


def _clauses_from(text: str, pos: int, ctx: PlannerContext, grammar: _Grammar) -> list[_Clause] | None:
    """Every clause from ``pos`` to the end, or None when something there is not a clause."""
    clauses: list[_Clause] = []
    while True:
        pos = _SEPARATOR.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            return clauses
        found = _clause_at(text, pos, ctx, grammar)
        if found is None or found[1] <= pos:
            return None
        clauses.append(found[0])
        pos = found[1]


_CLAUSE_START = re.compile(r"(?<=[\s,;])[^\s,;]")


def _split_tail(text: str, ctx: PlannerContext, grammar: _Grammar) -> tuple[str, list[_Clause]]:
    """``text`` as a head and the longest run of clauses that ends it (the head is never empty)."""
    for start in _CLAUSE_START.finditer(text):
        head = text[: start.start()].strip(" \t\n,;")
        if not head:
            continue
        clauses = _clauses_from(text, start.start(), ctx, grammar)
        if clauses is not None:
            _refuse_unread_due(head, text[start.start() :])
            return head, clauses
    _refuse_unread_due(text.strip(), "")
    return text.strip(), []


def _alternation(words: dict[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_DATE_WORDS = "|".join(
    (
        _alternation(WEEKDAYS),
        _alternation(MONTHS),
        r"today|tonight|tomorrow|tmrw|tmr|yesterday|days?|weeks?|months?|years?|fortnight|next|this",
        r"coming|end|noon|midday|midnight|morning|afternoon|evening|night|eod|eow|eom|eoy|in|at|after",
    )
)
_DUE_IN_HEAD = re.compile(
    r"(?<![\w-])(?P<kw>due(?:\s+date)?|deadline)(?:\s+(?:on|by|is))?\s*:?\s+(?P<rest>\S.*)$", _I
)
_DATE_ISH = re.compile(rf"(?:(?:the|a|an)\s+)?(?:[0-9]|(?:{_DATE_WORDS})(?![A-Za-z0-9_]))", _I)
"""Words that start a date: after ``due`` they must be read whole, or the request is refused."""


def _refuse_unread_due(head: str, tail: str) -> None:
    """Refuse a due date read only in part: "due the week after next" must not set "next" week.

    ``head`` is what would become the title; when it holds ``due`` followed by date words, those words
    were not understood (a date that was would have become a clause). "Write due diligence" stays a
    title: "diligence" does not start a date.
    """
    found = _DUE_IN_HEAD.search(head)
    if found is None or not _DATE_ISH.match(found["rest"]):
        return
    phrase = " ".join(f"{head[found.start() :]} {tail}".split())
    raise RequestRefused(f"could not read the date in '{phrase}': did not understand '{found['rest']}'")


def _split_ref_tail(text: str, ctx: PlannerContext, grammar: _Grammar) -> tuple[str, list[_Clause]]:
    """Like :func:`_split_tail`, but a leading quoted title or key is the whole head."""
    stripped = text.strip()
    quoted = _leading_quote(stripped)
    if quoted:
        clauses = _clauses_from(stripped, quoted[1], ctx, grammar)
        if clauses is not None:
            return stripped[: quoted[1]], clauses
    key = _KEY.match(stripped)
    if key and _word_end(stripped, key.end()):
        clauses = _clauses_from(stripped, key.end(), ctx, grammar)
        if clauses is not None:
            return key.group(), clauses
    return _split_tail(stripped, ctx, grammar)


# ------------------------------------------------------------------------------------ task bodies

_ANYWHERE = re.compile(
    rf"(?<!\S)(?:#(?P<label>\w[\w\-]*(?:[/.:]\w[\w\-]*)*)(?!\w)"
    rf"|@(?P<svc>(?i:{_SVC}))(?![\w])"
    r"|(?i:p(?P<p>[1-4]))(?![^\s,;])"
    r"|!(?P<bang>(?i:urgent|high|medium|med|low|[1-4]))(?![^\s,;]))"
)


@dataclass
class _Body:
    """A task (or project) as written: its title and whatever was said about it."""

    title: str
    due: When | None = None
    priority: Priority | None = None
    labels: list[str] = field(default_factory=list)
    service: Service | None = None
    duration: int | None = None
    project: str | None = None
    trailing_due: bool = False
    """The due date was the last clause: in a project's last item it is the list's due date."""


_UNKNOWN_TAG = re.compile(r"(?<!\S)(?:@(?P<svc>[^\s,;]+)|(?P<label>#(?!\w)[^\s,;]*))")
SERVICE_NAMES = ", ".join(f"@{name}" for name in _SERVICES)


def _refuse_unknown_tags(text: str) -> None:
    """An ``@word`` that is no service, or a ``#`` that starts no label, would silently join the title."""
    for match in _UNKNOWN_TAG.finditer(text):
        if match["svc"] is not None and match["svc"].lower() not in _SERVICES:
            raise RequestRefused(f"unknown service '@{match['svc']}': use one of {SERVICE_NAMES}")
        if match["label"] is not None:
            raise RequestRefused(
                f"could not read the label '{match['label']}': a label is # and a word, like #bug or #ops-2"
            )


def _extract_anywhere(text: str, body: _Body) -> str:
    """Take ``#label``, ``@service``, ``p1`` and ``!high`` out of ``text`` wherever they are."""
    _refuse_unknown_tags(text)

    def take(match: re.Match[str]) -> str:
        if match["label"]:
            body.labels.append(match["label"])
        elif match["svc"]:
            body.service = _SERVICES.get(match["svc"].lower(), body.service)
        elif match["p"]:
            body.priority = _PRIORITY_WORDS.get(f"p{match['p']}", body.priority)
        elif match["bang"]:
            body.priority = _PRIORITY_WORDS.get(match["bang"].lower(), body.priority)
        return " "

    return " ".join(_ANYWHERE.sub(take, text).split())


def _apply(body: _Body, clauses: Sequence[_Clause]) -> None:
    for index, clause in enumerate(clauses):
        if isinstance(clause, _Due):
            body.due = clause.when
            body.trailing_due = index == len(clauses) - 1
        elif isinstance(clause, _Duration):
            body.duration = clause.minutes
        elif isinstance(clause, _Prio):
            body.priority = clause.priority
        elif isinstance(clause, _Svc):
            body.service = clause.service
        elif isinstance(clause, _Proj):
            body.project = clause.name
        elif isinstance(clause, _Label):
            body.labels.append(clause.name)


_TITLE_EDGES = " \t\n,;:-\u2013\u2014"


def _parse_body(text: str, ctx: PlannerContext, grammar: _Grammar = _CREATE) -> _Body | None:
    """A title followed by clauses (``Fix login due fri #bug p1 @linear``); None without a title."""
    stripped = text.strip()
    quoted = _leading_quote(stripped)
    if quoted and quoted[0]:
        body = _Body(quoted[0])
        rest = _extract_anywhere(stripped[quoted[1] :], body)
        clauses = _clauses_from(rest, 0, ctx, grammar)
        if clauses is not None:
            _apply(body, clauses)
            return body
    body = _Body("")
    cleaned = _extract_anywhere(stripped, body)
    head, clauses = _split_tail(cleaned, ctx, grammar)
    body.title = head.strip(_TITLE_EDGES)
    _apply(body, clauses)
    return body if body.title else None


# ------------------------------------------------------------------------------------------ drafts


@dataclass
class _Draft:
    actions: list[Action]
    understood: str
    question: Question | None = None


def _when_text(when: When, ctx: PlannerContext) -> str:
    return describe_when(when.at, when.all_day, ctx.tz, ctx.today)


def _ask(ambiguous: _Ambiguous, doing: str) -> _Draft:
    choices = [Choice(label=_handle_label(task), value=task.id) for task in ambiguous.matches[:MAX_CHOICES]]
    question = Question(text=f"Which task do you mean by '{ambiguous.phrase}'?", choices=choices)
    understood = f"{doing} '{ambiguous.phrase}', which matches {len(ambiguous.matches)} tasks"
    return _Draft([], understood, question)


def _on_task(
    raw: str,
    ctx: PlannerContext,
    doing: str,
    make: Callable[[str, str], Action],
    describe: Callable[[str], str],
    *,
    passthrough: bool = True,
) -> _Draft | None:
    """One action on the task ``raw`` names, or the question of which task it is."""
    found = _resolve_task(raw, ctx.tasks, passthrough=passthrough)
    if found is None:
        return None
    if isinstance(found, _Ambiguous):
        return _ask(found, doing)
    return _Draft([make(found.value, "a1")], describe(found.display))


def _on_tasks(
    raw: str,
    ctx: PlannerContext,
    doing: str,
    make: Callable[[str, str], Action],
    *,
    passthrough: bool = True,
) -> _Draft | None:
    """Like :func:`_on_task`, for ``ENG-1, ENG-2 and "Write guide"`` (keys and quoted titles)."""
    items = [item for item in re.split(r"\s*,\s*|\s+and\s+|\s*&\s*", raw.strip()) if item]
    definite = [unquote(item) for item in items]
    if len(items) > 1 and all(quoted or _KEY.fullmatch(text) for text, quoted in definite):
        actions: list[Action] = []
        names: list[str] = []
        for index, item in enumerate(items, start=1):
            found = _resolve_task(item, ctx.tasks)
            if isinstance(found, _Ambiguous):
                return _ask(found, doing)
            if found is None:
                return None
            actions.append(make(found.value, f"a{index}"))
            names.append(found.display)
        return _Draft(actions, f"{doing} {', '.join(names)}")
    return _on_task(raw, ctx, doing, make, lambda name: f"{doing} {name}", passthrough=passthrough)


_CLEARED = {"due": "no due date", "duration_minutes": "no duration", "project": "no project"}


def _describe_changes(changes: TaskChanges, ctx: PlannerContext) -> str:
    parts: list[str] = []
    if changes.title is not None:
        parts.append(f"title '{changes.title}'")
    if changes.priority is not None:
        parts.append(f"priority {changes.priority.value}")
    if changes.due is not None:
        when = When(changes.due, bool(changes.due_all_day), (0, 0))
        parts.append(f"due {_when_text(when, ctx)}")
    if changes.status is not None:
        parts.append(f"status {changes.status.value.replace('_', ' ')}")
    if changes.duration_minutes is not None:
        parts.append(f"duration {format_duration(changes.duration_minutes)}")
    if changes.project is not None:
        parts.append(f"project '{changes.project}'")
    if changes.assignee is not None:
        parts.append(f"assignee {changes.assignee}")
    parts.extend(_CLEARED.get(name, f"no {name}") for name in changes.clear)
    return ", ".join(parts)


def _update(
    raw: str, ctx: PlannerContext, changes: TaskChanges, *, passthrough: bool = True
) -> _Draft | None:
    """An UpdateTask (or CompleteTask, when the only change is "done") on the task ``raw`` names."""
    if changes.is_empty():
        return None
    if changes.status is Status.DONE and changes.model_dump(exclude_defaults=True) == {"status": Status.DONE}:
        return _on_task(
            raw,
            ctx,
            "complete",
            lambda task, ref: CompleteTask(ref=ref, task=task),
            lambda name: f"complete {name}",
            passthrough=passthrough,
        )
    summary = _describe_changes(changes, ctx)
    return _on_task(
        raw,
        ctx,
        "update",
        lambda task, ref: UpdateTask(ref=ref, task=task, changes=changes),
        lambda name: f"update {name}: {summary}",
        passthrough=passthrough,
    )


def _changes_from(clauses: Sequence[_Clause]) -> TaskChanges:
    values: dict[str, object] = {}
    for clause in clauses:
        if isinstance(clause, _Due):
            values["due"] = clause.when.at
            values["due_all_day"] = clause.when.all_day
        elif isinstance(clause, _Prio):
            values["priority"] = clause.priority
        elif isinstance(clause, _State):
            values["status"] = clause.status
        elif isinstance(clause, _Duration):
            values["duration_minutes"] = clause.minutes
        elif isinstance(clause, _Proj):
            values["project"] = clause.name
        elif isinstance(clause, _Title):
            values["title"] = clause.title
    return TaskChanges.model_validate(values)


# ---------------------------------------------------------------------------------------- handlers

_Handler = Callable[[re.Match[str], PlannerContext], "_Draft | None"]


def _create_task(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    body = _parse_body(match["rest"], ctx)
    if body is None:
        return None
    action = _task_action(body, "t1")
    return _Draft([action], _describe_task(action, ctx))


def _task_action(
    body: _Body, ref: str, *, project: str | None = None, after: Sequence[str] = ()
) -> CreateTask:
    return CreateTask(
        ref=ref,
        after=list(after),
        title=body.title,
        due=body.due.at if body.due else None,
        due_all_day=body.due.all_day if body.due else True,
        priority=body.priority or Priority.NONE,
        labels=body.labels,
        duration_minutes=body.duration,
        project=project or body.project,
        service=body.service,
    )


def _describe_task(action: CreateTask, ctx: PlannerContext) -> str:
    text = f"create task '{action.title}'"
    if action.service:
        text += f" in {action.service.label}"
    return text + "".join(f", {part}" for part in _task_details(action, ctx))


def _task_details(action: CreateTask, ctx: PlannerContext, *, skip_due: bool = False) -> list[str]:
    parts: list[str] = []
    if action.due is not None and not skip_due:
        parts.append(f"due {_when_text(When(action.due, action.due_all_day, (0, 0)), ctx)}")
    parts.extend(f"#{label}" for label in action.labels)
    if action.priority is not Priority.NONE:
        parts.append(action.priority.value)
    if action.duration_minutes:
        parts.append(format_duration(action.duration_minutes))
    if action.project and not action.after:
        parts.append(f"in project '{action.project}'")
    return parts


_LIST_MARKER = re.compile(
    r"\s*(?:\bwith\s+(?:the\s+)?(?:tasks?|todos?|items?|subtasks?)\b\s*:?|\bwith\s*:|\btasks?\s*:)\s*",
    re.IGNORECASE,
)
_LIST_COLON = re.compile(r"\s*(?<![0-9]):(?![0-9])\s*")
"""A bare colon starts the list too ("project Onboarding: guide, video"), but not one inside 15:30."""


def _split_items(text: str) -> list[str]:
    if ";" in text:
        items = text.split(";")
    else:
        items = text.split(",")
        items[-1:] = re.split(r"\s+and\s+", items[-1], flags=re.IGNORECASE)
    return [item.strip() for item in items if item.strip()]


def _create_project(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    rest = match["rest"].strip()
    quoted = _leading_quote(rest)
    name_end = quoted[1] if quoted else 0
    marker = _LIST_MARKER.search(rest, name_end) or _LIST_COLON.search(rest, name_end)
    header_text = rest[: marker.start()] if marker else rest
    project = _parse_body(header_text, ctx)
    if project is None:
        return None
    items: list[_Body] = []
    if marker:
        raw_items = _split_items(rest[marker.end() :])
        for index, raw in enumerate(raw_items):
            item = _parse_body(raw, ctx)
            if item is None:
                # An item that is only clauses ("...; docs; due fri") speaks for the whole project.
                loose = _Body("")
                clauses = _clauses_from(_extract_anywhere(raw, loose), 0, ctx, _CREATE)
                if clauses is None or index != len(raw_items) - 1:
                    return None
                _apply(loose, clauses)
                project.due = loose.due or project.due
                project.service = loose.service or project.service
                continue
            items.append(item)
        last = items[-1] if items else None
        if last is not None and last.due is not None and last.trailing_due and project.due is None:
            project.due, last.due = last.due, None
        for item in items:
            project.service = item.service or project.service
    due_day = None
    if project.due is not None:
        # A project keeps a calendar date: an all-day due is already that date in UTC, a timed one
        # is the user's local day.
        due_day = (project.due.at if project.due.all_day else project.due.at.astimezone(ctx.tz)).date()
    actions: list[Action] = [
        CreateProject(ref="p1", name=project.title, due=due_day, service=project.service)
    ]
    for index, item in enumerate(items, start=1):
        item.due = item.due or project.due
        item.service = project.service
        item.priority = item.priority or project.priority
        item.labels = project.labels + [label for label in item.labels if label not in project.labels]
        actions.append(_task_action(item, f"t{index}", project="p1", after=["p1"]))
    return _Draft(actions, _describe_project(actions, project, ctx))


def _describe_project(actions: Sequence[Action], project: _Body, ctx: PlannerContext) -> str:
    text = f"create project '{project.title}'"
    if project.service:
        text += f" in {project.service.label}"
    if project.due:
        text += f", due {_when_text(project.due, ctx)}"
    tasks = [action for action in actions if isinstance(action, CreateTask)]
    if tasks:
        names = []
        for task in tasks:
            own_due = project.due is None or task.due != project.due.at
            details = _task_details(task, ctx, skip_due=not own_due)
            names.append(f"'{task.title}'" + (f" ({', '.join(details)})" if details else ""))
        text += f", with {len(tasks)} task{'s' if len(tasks) > 1 else ''}: {', '.join(names)}"
    return text


def _complete(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    return _on_tasks(match["ref"], ctx, "complete", lambda task, ref: CompleteTask(ref=ref, task=task))


def _complete_definite(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    if not _is_definite(match["ref"], ctx.tasks):
        return None
    return _complete(match, ctx)


def _delete(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    return _on_tasks(match["ref"], ctx, "delete", lambda task, ref: DeleteTask(ref=ref, task=task))


def _set_status(status: Status) -> _Handler:
    def handler(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
        return _update(match["ref"], ctx, TaskChanges(status=status))

    return handler


def _mark_state(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    status = _STATUS_WORDS.get(" ".join(match["state"].lower().split()))
    return _update(match["ref"], ctx, TaskChanges(status=status)) if status else None


def _clear_due(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    return _update(match["ref"], ctx, TaskChanges(clear=["due"]))


def _clear_due_definite(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    return _clear_due(match, ctx) if _is_definite(match["ref"], ctx.tasks) else None


def _unassign(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    return _update(match["ref"], ctx, TaskChanges(clear=["assignee"]))


def _assign(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    return _update(match["ref"], ctx, TaskChanges(assignee=match["who"]))


def _move(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    service = _SERVICES.get(match["svc"].lower())
    if service is None:
        return None
    return _on_task(
        match["ref"],
        ctx,
        "move",
        lambda task, ref: MoveTask(ref=ref, task=task, to=service),
        lambda name: f"move {name} to {service.label}",
    )


def _link(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    service = _SERVICES.get(match["svc"].lower())
    if service is None:
        return None
    strict = match["verb"].lower() == "add"
    return _on_task(
        match["ref"],
        ctx,
        "link",
        lambda task, ref: Link(ref=ref, task=task, to=service),
        lambda name: f"also keep {name} in {service.label}",
        passthrough=not strict,
    )


def _reschedule(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    head, clauses = _split_ref_tail(match["rest"], ctx, _RESCHEDULE)
    if not clauses or not all(isinstance(clause, _Due) for clause in clauses):
        return None
    return _update(head, ctx, _changes_from(clauses))


def _schedule(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    head, clauses = _split_ref_tail(match["rest"], ctx, _SCHEDULE)
    to, due, minutes = Service.MOTION, None, None
    for clause in clauses:
        if isinstance(clause, _Svc):
            to = clause.service
        elif isinstance(clause, _Due):
            due = clause.when
        elif isinstance(clause, _Duration):
            minutes = clause.minutes
    details = [format_duration(minutes)] if minutes else []
    if due is not None:
        details.append(f"due {_when_text(due, ctx)}")
    suffix = "".join(f", {part}" for part in details)
    return _on_task(
        head,
        ctx,
        "schedule",
        lambda task, ref: Link(
            ref=ref, task=task, to=to, due=due.at if due else None, duration_minutes=minutes
        ),
        lambda name: f"schedule {name} in {to.label}{suffix}",
    )


def _comment(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    rest = match["rest"].strip()
    quoted = _leading_quote(rest)
    if quoted:
        ref, body = rest[: quoted[1]], rest[quoted[1] :]
    elif ":" in rest:
        ref, body = rest.split(":", 1)
    else:
        key = _KEY.match(rest)
        if not key or not _word_end(rest, key.end()):
            return None
        ref, body = key.group(), rest[key.end() :]
    text, _ = unquote(body.strip().lstrip(":").strip())
    if not text:
        return None
    return _on_task(
        ref,
        ctx,
        "comment on",
        lambda task, ref_: AddComment(ref=ref_, task=task, body=text),
        lambda name: f"comment on {name}: '{text}'",
    )


_RENAME_SPLIT = re.compile(r"\s+(?:to|as|into)\s+", re.IGNORECASE)


def _rename(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    rest = match["rest"].strip()
    quoted = _leading_quote(rest)
    splits: list[tuple[str, str]] = []
    if quoted:
        joiner = _RENAME_SPLIT.match(rest, quoted[1])
        if joiner:
            splits.append((rest[: quoted[1]], rest[joiner.end() :]))
    for joiner in _RENAME_SPLIT.finditer(rest):
        splits.append((rest[: joiner.start()], rest[joiner.end() :]))
    usable = [(ref, title) for ref, title in splits if unquote(ref)[0] and unquote(title)[0]]
    if not usable:
        return None
    ref, title = next(((r, t) for r, t in usable if _is_definite(r, ctx.tasks)), usable[0])
    return _update(ref, ctx, TaskChanges(title=unquote(title)[0]))


_FIELD_OF = re.compile(
    r"(?:the\s+)?(?P<field>priority|due\s+date|due|deadline|title|name|status|estimate|duration)\s+"
    r"(?:of|for|on)\s+(?P<ref>.+?)\s+(?:to|as|=)\s+(?P<value>.+)",
    _I,
)
_FIELD_KEYWORD = {
    "priority": "priority ",
    "due date": "due ",
    "due": "due ",
    "deadline": "due ",
    "title": "title ",
    "name": "title ",
    "status": "status ",
    "estimate": "for ",
    "duration": "for ",
}


def _set(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    rest = match["rest"].strip()
    field_of = _FIELD_OF.fullmatch(rest)
    if field_of:
        keyword = _FIELD_KEYWORD.get(" ".join(field_of["field"].lower().split()), "")
        clauses = _clauses_from(keyword + field_of["value"], 0, ctx, _UPDATE)
        if clauses:
            return _update(field_of["ref"], ctx, _changes_from(clauses))
    head, clauses = _split_ref_tail(rest, ctx, _UPDATE)
    if not clauses:
        return None
    return _update(head.removesuffix("'s"), ctx, _changes_from(clauses))


def _verbless(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    head, clauses = _split_ref_tail(match["rest"], ctx, _UPDATE)
    if not clauses or not _is_definite(head, ctx.tasks):
        return None
    return _update(head, ctx, _changes_from(clauses), passthrough=False)


_SYNC_FILLER = {"and", "with", "now", "all", "everything", "services", "service", "please", "the", "to"}


def _sync(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    services: list[Service] = []
    for word in re.split(r"[\s,&+]+", (match["rest"] or "").lower()):
        name = word.lstrip("@")
        if not name or name in _SYNC_FILLER:
            continue
        service = _SERVICES.get(name)
        if service is None:
            raise RequestRefused(f"unknown service '{word}' to sync: use one of {SERVICE_NAMES}")
        if service not in services:
            services.append(service)
    what = " and ".join(service.label for service in services) or "every service"
    return _Draft([Sync(ref="a1", services=services)], f"sync {what}")


def _search(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    text, _ = unquote(match["q"].strip().rstrip("?"))
    if not text:
        return None
    return _Draft([Query(ref="a1", question="search", text=text)], f"search tasks for '{text}'")


_QUERY_FILLER = {
    "what", "whats", "what's", "is", "are", "show", "me", "list", "my", "any", "anything", "tasks", "task",
    "items", "issues", "due", "there", "the", "all", "which", "do", "i", "have", "for", "on", "of", "s",
    "please", "sync", "open", "and", "up", "this", "get", "see", "view", "plate", "in",
}  # fmt: skip
_QUERY_KEYWORDS: dict[str, Literal["overdue", "today", "upcoming", "conflicts"]] = {
    "conflict": "conflicts",
    "conflicts": "conflicts",
    "overdue": "overdue",
    "late": "overdue",
    "today": "today",
    "todays": "today",
    "today's": "today",
    "agenda": "today",
    "upcoming": "upcoming",
    "coming": "upcoming",
    "next": "upcoming",
    "soon": "upcoming",
    "week": "upcoming",
    "tomorrow": "upcoming",
    "later": "upcoming",
}
_QUERY_ORDER = ("conflicts", "overdue", "today", "upcoming")
_QUERY_TEXT = {
    "conflicts": "show sync conflicts",
    "overdue": "show overdue tasks",
    "today": "show tasks due today",
    "upcoming": "show upcoming tasks",
}


def query_question(text: str) -> Literal["overdue", "today", "upcoming", "conflicts"] | None:
    """Which standing question ``text`` asks, when every word of it belongs to one."""
    words = re.findall(r"[a-z']+", text.lower().replace("\u2019", "'"))
    if not words or any(word not in _QUERY_FILLER and word not in _QUERY_KEYWORDS for word in words):
        return None
    asked = {_QUERY_KEYWORDS[word] for word in words if word in _QUERY_KEYWORDS}
    return next((question for question in _QUERY_ORDER if question in asked), None)


def _standing_query(match: re.Match[str], ctx: PlannerContext) -> _Draft | None:
    question = query_question(match.group())
    if question is None:
        return None
    return _Draft([Query(ref="a1", question=question)], _QUERY_TEXT[question])


@dataclass(frozen=True)
class _Rule:
    verb: str
    """Which example to show when the rule's verb was seen but the rest could not be read ("": none)."""
    pattern: re.Pattern[str]
    handler: _Handler
    raw: bool = False
    """Match the text as typed (comments and titles keep their final punctuation)."""


_DONE_WORDS = r"done|complete|completed|finished|closed|resolved"
_RULES: tuple[_Rule, ...] = (
    _Rule("", re.compile(r"[a-z'\u2019 ]+", _I), _standing_query),
    _Rule(
        "find",
        re.compile(
            r"(?:find|search(?:\s+for)?|look\s+(?:for|up)|where\s+is|where's|wheres|grep|show(?:\s+me)?)"
            r"\s+(?P<q>.+)",
            _I,
        ),
        _search,
    ),
    _Rule(
        "sync",
        re.compile(r"(?:sync|synchronise|synchronize|refresh|pull)(?:\s+(?P<rest>.*))?", _I),
        _sync,
    ),
    _Rule(
        "project",
        re.compile(
            r"(?:(?:new|create|add|make|start|set\s+up)\s+(?:a\s+|an\s+)?(?:new\s+)?)?project\b\s*:?\s*"
            r"(?P<rest>.+)",
            _I,
        ),
        _create_project,
        raw=True,
    ),
    _Rule(
        "comment",
        re.compile(r"(?:add\s+(?:a\s+)?)?(?:comment|note|reply)(?:\s+(?:on|to))?\s*:?\s+(?P<rest>.+)", _I),
        _comment,
        raw=True,
    ),
    _Rule(
        "link",
        re.compile(
            rf"(?P<verb>link|mirror|copy|add|also\s+put)\s+(?P<ref>.+?)\s+(?:to|in|on|into)\s+@?"
            rf"(?P<svc>{_SVC})",
            _I,
        ),
        _link,
    ),
    _Rule(
        "task",
        re.compile(
            r"(?:(?:(?:new|create|add|make)\s+(?:a\s+|an\s+)?(?:new\s+)?)?(?:task|todo|to-do|issue|ticket)\b"
            r"\s*:?\s*(?:to\s+)?|add\s+|remind\s+me\s+to\s+|remember\s+to\s+)(?P<rest>.+)",
            _I,
        ),
        _create_task,
    ),
    _Rule(
        "done",
        re.compile(
            r"(?:done|complete|finish|close|resolve|check\s+off|tick\s+off|tick)\s*:?\s+(?:with\s+)?"
            r"(?P<ref>.+)",
            _I,
        ),
        _complete,
    ),
    _Rule(
        "done",
        re.compile(rf"(?:mark|set)\s+(?P<ref>.+?)\s+(?:as\s+|to\s+)?(?:{_DONE_WORDS})", _I),
        _complete,
    ),
    _Rule("done", re.compile(rf"(?P<ref>.+?)\s+(?:is\s+|as\s+)?(?:{_DONE_WORDS})", _I), _complete_definite),
    _Rule(
        "status",
        re.compile(
            r"(?:mark|set)\s+(?P<ref>.+?)\s+(?:as\s+|to\s+)?"
            r"(?P<state>in[\s-]+progress|started|doing|todo|to[\s-]do|open|not\s+done|canceled|cancelled)",
            _I,
        ),
        _mark_state,
    ),
    _Rule(
        "status",
        re.compile(r"(?:start|begin|started|working\s+on)\s+(?P<ref>.+)", _I),
        _set_status(Status.IN_PROGRESS),
    ),
    _Rule("status", re.compile(r"(?:reopen|re-open|undo)\s+(?P<ref>.+)", _I), _set_status(Status.TODO)),
    _Rule("status", re.compile(r"cancel\s+(?P<ref>.+)", _I), _set_status(Status.CANCELED)),
    _Rule(
        "clear",
        re.compile(
            r"(?:clear|remove|drop|unset|delete)\s+(?:the\s+)?(?:due(?:\s+date)?|deadline)\s+"
            r"(?:from|of|on|for)\s+(?P<ref>.+)",
            _I,
        ),
        _clear_due,
    ),
    _Rule(
        "clear",
        re.compile(r"(?P<ref>.+?)\s+no\s+(?:due(?:\s+date)?|deadline)", _I),
        _clear_due_definite,
    ),
    _Rule(
        "delete",
        re.compile(r"(?:delete|remove|drop|trash|archive)\s+(?:the\s+)?(?:task\s+)?(?P<ref>.+)", _I),
        _delete,
    ),
    _Rule(
        "move",
        re.compile(
            rf"(?:move|send|transfer)\s+(?P<ref>.+?)(?:\s+from\s+@?(?:{_SVC}))?\s+(?:over\s+)?(?:to|into)\s+"
            rf"@?(?P<svc>{_SVC})",
            _I,
        ),
        _move,
    ),
    _Rule(
        "push",
        re.compile(r"(?:push|postpone|defer|delay|reschedule|bump|snooze|shift|move)\s+(?P<rest>.+)", _I),
        _reschedule,
    ),
    _Rule(
        "schedule",
        re.compile(r"(?:schedule|timebox|block\s+time\s+for|plan\s+time\s+for)\s+(?P<rest>.+)", _I),
        _schedule,
    ),
    _Rule("rename", re.compile(r"(?:rename|retitle)\s+(?P<rest>.+)", _I), _rename, raw=True),
    _Rule(
        "assign",
        re.compile(r"assign\s+(?P<ref>.+?)\s+to\s+@?(?P<who>[\w.\-]+(?:@[\w.\-]+)?)", _I),
        _assign,
    ),
    _Rule("assign", re.compile(r"unassign\s+(?P<ref>.+)", _I), _unassign),
    _Rule(
        "set",
        re.compile(r"(?:set|make|change|update|mark)\s+(?P<rest>.+)", _I),
        _set,
    ),
    _Rule("", re.compile(r"(?P<rest>.+)", _I), _verbless),
)

_VERB_EXAMPLES: dict[str, str] = {
    "task": "task", "add": "task", "new": "task", "create": "task", "todo": "task", "remind": "task",
    "project": "project", "done": "done", "complete": "done", "finish": "done", "close": "done",
    "mark": "done", "move": "move", "send": "move", "schedule": "schedule", "link": "link",
    "comment": "comment", "note": "comment", "sync": "sync", "refresh": "sync", "find": "find",
    "search": "find", "what": "query", "whats": "query", "show": "query", "list": "query",
    "rename": "rename", "set": "set", "make": "set", "change": "set", "update": "set", "push": "push",
    "postpone": "push", "defer": "push", "delay": "push", "reschedule": "push", "delete": "delete",
    "remove": "delete", "drop": "delete", "start": "status", "reopen": "status", "cancel": "status",
    "assign": "assign", "unassign": "assign", "clear": "clear",
}  # fmt: skip

_POLITE_START = re.compile(
    r"^(?:(?:please|pls|plz|kindly|hey|ok|okay|can\s+you|could\s+you|would\s+you)\b[\s,]*)+", _I
)
_POLITE_END = re.compile(r"[\s,]+(?:please|pls|plz|thanks|thank\s+you)[\s.!]*$", _I)


def _tidy(text: str) -> tuple[str, str]:
    """The request without pleasantries: as typed (``raw``) and with its final punctuation dropped."""
    raw = _POLITE_END.sub("", _POLITE_START.sub("", text.strip())).strip()
    cleaned = " ".join(raw.split())
    if cleaned and cleaned[-1] not in "".join(_QUOTES.values()):
        cleaned = cleaned.rstrip(".?! ")
    return raw, cleaned


# -------------------------------------------------------------------------------------- unparseable

_PRIORITY_TOKEN = re.compile(r"(?<!\S)(?:p[1-4]|!(?:urgent|high|medium|med|low)|urgent)(?![^\s,;.!?])", _I)
_SERVICE_WORD = re.compile(rf"(?<![\w@])@?(?P<s>{_SVC})(?![A-Za-z0-9_])", _I)


def recognised(text: str, ctx: PlannerContext) -> str:
    """What a request contains that pmtui knows, for "I understood ..." when it cannot act on it."""
    parts: list[str] = []
    first = re.match(r"[a-z]+", text.strip().lower())
    if first and first.group() in _VERB_EXAMPLES:
        parts.append(f"the verb '{first.group()}'")
    parts.extend(f"a task: {key.upper()}" for key in _KEY.findall(text))
    when = parse_when(text, ctx.now, ctx.tz)
    if when is not None:
        noun = "a date" if when.all_day else "a time"
        parts.append(f"{noun}: {describe_when_long(when.at, when.all_day, ctx.tz)}")
    for match in _SERVICE_WORD.finditer(text):
        service = _SERVICES.get(match["s"].lower())
        if service is not None and f"a service: {service.label}" not in parts:
            parts.append(f"a service: {service.label}")
    parts.extend(f"a label: #{label}" for label in _LABEL.findall(text))
    for token in _PRIORITY_TOKEN.findall(text):
        priority = _PRIORITY_WORDS.get(token.lower().lstrip("!"))
        if priority is not None:
            parts.append(f"a priority: {priority.value}")
    unique = list(dict.fromkeys(parts))[:MAX_RECOGNISED]
    return "; ".join(unique) if unique else "nothing I can act on"


def example_for(text: str, verb: str | None = None) -> str:
    """A request that would work, chosen by the verb the user seemed to use."""
    if verb is None:
        first = re.match(r"[a-z]+", text.strip().lower())
        verb = _VERB_EXAMPLES.get(first.group()) if first else None
    return EXAMPLES.get(verb or "", GENERAL_EXAMPLE)


# ---------------------------------------------------------------------------------------- planner


class RulePlanner:
    """Plans requests with a fixed grammar: offline, instant, and the same answer every time."""

    name = "rules"

    def plan(self, text: str, context: PlannerContext) -> Plan:
        """The plan for ``text``; never raises on anything a user can type."""
        try:
            return self._plan(text, context)
        except RequestRefused as refused:
            snippet = text[:MAX_REQUEST_CHARS]
            return Plan(
                text=snippet,
                error=str(refused),
                understood=recognised(snippet, context),
                example=example_for(snippet),
                planner=self.name,
            )
        except ValueError:
            # The grammar accepted something the models reject (pydantic's errors are ValueErrors):
            # say so as an unreadable request rather than crash the command bar.
            return self._unreadable(text, context, None)

    def _plan(self, text: str, ctx: PlannerContext) -> Plan:
        if len(text) > MAX_REQUEST_CHARS:
            return Plan(
                text=text[:MAX_REQUEST_CHARS],
                understood=f"a request longer than {MAX_REQUEST_CHARS} characters",
                example=GENERAL_EXAMPLE,
                planner=self.name,
            )
        raw, cleaned = _tidy(text)
        if not cleaned:
            return Plan(text=text, understood="an empty request", example=GENERAL_EXAMPLE, planner=self.name)
        seen_verb: str | None = None
        for rule in _RULES:
            subject = raw if rule.raw else cleaned
            match = rule.pattern.fullmatch(subject)
            if match is None:
                continue
            draft = rule.handler(match, ctx)
            if draft is not None:
                return Plan(
                    text=text,
                    actions=draft.actions,
                    question=draft.question,
                    understood=draft.understood,
                    planner=self.name,
                )
            seen_verb = seen_verb or rule.verb or None
        return self._unreadable(text, ctx, seen_verb)

    def _unreadable(self, text: str, ctx: PlannerContext, verb: str | None) -> Plan:
        snippet = text[:MAX_REQUEST_CHARS]
        return Plan(
            text=snippet,
            understood=recognised(snippet, ctx),
            example=example_for(snippet, verb),
            planner=self.name,
        )
