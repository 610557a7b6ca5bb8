"""The morning briefing on a terminal: Rich renderables for ``pmtui briefing`` (the app has its own screen).

The data comes from :mod:`pmtui.core.briefing`; this module only lays it out. Lines are plain styled text
in fixed columns (Rich tables cost ~30 ms more at start), never wider than the terminal: when the width is
short, the least important columns go first (project, then priority, then the schedule's times), so the
title always keeps its room. Every string that came from a service goes through
:func:`pmtui.text.clean_line` here, at the display edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from pmtui.core.briefing import TREND_DAYS, Briefing, ServiceHealth, TaskRow, is_blocked
from pmtui.text import clean_line, safe_url

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from pmtui.core.activity import ActivitySummary

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """One block character per value, scaled to the largest; zero is the lowest block, any count above it."""
    peak = max(values, default=0)
    if peak <= 0:
        return SPARK_BLOCKS[0] * len(values)
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[0 if v <= 0 else max(1, round(v / peak * top))] for v in values)


def progress_bar(done: int, total: int, width: int = 12) -> str:
    """``█████░░░░░░░``: ``done`` of ``total`` in ``width`` cells (rounded down, full only when all done)."""
    if total <= 0:
        return "░" * width
    filled = width if done >= total else min(width - 1, done * width // total)
    return "█" * filled + "░" * (width - filled)


def ago(then: datetime, now: datetime) -> str:
    """``just now``, ``12 min ago``, ``3 h ago``, ``2 days ago`` (``in the future`` for a skewed clock)."""
    seconds = (now - then).total_seconds()
    if seconds < -60:
        return "in the future"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def duration_text(ms: int) -> str:
    """``850 ms``, ``1.2 s``, ``2 min 5 s``."""
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms // 60_000} min {ms % 60_000 // 1000} s"


def day_label(day: date, today: date) -> str:
    """``today``, ``tomorrow``, ``yesterday``, else ``Wed 25``."""
    delta = (day - today).days
    names = {0: "today", 1: "tomorrow", -1: "yesterday"}
    return names.get(delta) or f"{day.strftime('%a')} {day.day}"


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 conflict``, ``3 conflicts``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def wrap_parts(parts: Sequence[str], width: int, sep: str = " · ") -> list[str]:
    """Join ``parts`` with ``sep`` into lines of at most ``width`` cells, breaking only between parts.

    A reason such as "overdue 3 days +36" is never split in the middle; a part longer than a line gets
    a line of its own (and is cut by the caller).
    """
    lines: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{sep}{part}" if current else part
        if current and len(candidate) > width:
            lines.append(current)
            current = part
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


_PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "medium": "", "low": "dim", "none": "dim"}
_PRIORITY_SHORT = {"urgent": "urgent", "high": "high", "medium": "med", "low": "low", "none": ""}
_STATE_TEXT: dict[str, tuple[str, str]] = {
    "ok": ("✓ ok", "green"),
    "failed": ("✗ failed", "bold red"),
    "running": ("… running", "cyan"),
    "skipped": ("- skipped", "dim"),
    "never_synced": ("• never synced", "yellow"),
    "not_configured": ("- not configured", "dim"),
}
MAX_WIDTH = 100
"""The briefing never draws wider than this, however wide the terminal."""
MIN_WIDTH = 40
"""Narrower terminals get a 40-cell layout (and wrap it)."""
_KEY_WIDTH = 10
_PROJECT_WIDTH = 20
_WHEN_WIDTH = 12


MIN_TITLE = 20
"""Cells the flexible column (the title) keeps before optional columns are dropped to make room."""


@dataclass(frozen=True)
class _Cell:
    """One column of a rendered line: content, its width in cells, and which side it hugs."""

    content: Text | str
    width: int = 0
    right: bool = False
    flex: bool = False
    """Take whatever the line has left (one flexible cell per line, usually the title)."""
    drop: int = 0
    """0: always shown; otherwise dropped when the line is short, the highest number first."""


_GAP = 2
"""Spaces between cells."""


@dataclass(frozen=True)
class _Layout:
    """What every section shares: the line width, today, and the width of the key column."""

    width: int
    today: date
    key_width: int


def render_briefing(b: Briefing, *, width: int = MAX_WIDTH, cache_path: str | None = None) -> RenderableType:
    """Rich renderables for a briefing: a header, then only the sections with something in them.

    Meaning never rests on colour alone (NO_COLOR): states carry symbols, late tasks say how late,
    blocked tasks say so.
    """
    from rich.console import Group

    if b.is_empty:
        return _first_run(cache_path)
    width = max(MIN_WIDTH, min(width, MAX_WIDTH))
    every = [*b.priorities.items, *b.schedule.items, *b.overdue.items, *b.due_today.items]
    every += [*b.upcoming.items, *b.completed.items]
    # As wide as the longest key (``acme/app#37`` must not become ``acme/app#…``), within a quarter of
    # the width so a narrow terminal keeps room for titles.
    key_width = min(max(_KEY_WIDTH, width // 4), max((len(_key_label(t)) for t in every), default=0))
    layout = _Layout(width=width, today=b.date, key_width=key_width)
    lines: list[Text] = [*_header(b)]
    lines += _priority_lines(b, layout)
    lines += _schedule_lines(b, layout)
    lines += _task_sections(b, layout)
    lines += _project_lines(b, layout)
    lines += _milestone_lines(b, layout)
    if b.gitlab_activity.text():
        note = f"from the cache, {plural(b.gitlab_activity.tasks, 'open task')}"
        lines += _heading("Code (GitLab)", None, width, note=note)
        lines.append(_row(width, _Cell(_activity_text(b.gitlab_activity), flex=True)))
    lines += _heading("Sync", None, width)
    lines += _sync_lines(b, width)
    return Group(*lines)


def _priority_lines(b: Briefing, layout: _Layout) -> list[Text]:
    """Top priorities: rank, score, key, title, then the reasons wrapped under the title."""
    from rich.text import Text

    if not b.priorities.items:
        return []
    width = layout.width
    lines = _heading("Top priorities", None, width, note="score = the points listed under each task")
    indent = 2 + 3 + layout.key_width + 2 * _GAP
    for n, ranked in enumerate(b.priorities.items, start=1):
        lines.append(
            _row(
                width,
                _Cell(f"{n}.", 2, right=True),
                _Cell(Text(str(ranked.score), style="bold"), 3, right=True),
                _Cell(_key(ranked), layout.key_width),
                _Cell(_title(ranked), flex=True),
            )
        )
        why = [f"{r.label} {r.points:+d}" for r in ranked.reasons]
        for part in wrap_parts(why, width - indent - _GAP):
            lines.append(_row(width, _Cell("", indent), _Cell(Text(part, style="dim"), flex=True)))
    return lines


def _schedule_lines(b: Briefing, layout: _Layout) -> list[Text]:
    """Motion's time slots of the day: start-end, key, title, project."""
    from rich.text import Text

    if not b.schedule.items:
        return []
    width = layout.width
    lines = _heading("Schedule (Motion)", b.schedule.total, width)
    project_width = _project_width(b.schedule.items)
    for slotted in b.schedule.items:
        start = slotted.scheduled_start.strftime("%H:%M") if slotted.scheduled_start else ""
        end = slotted.scheduled_end.strftime("%H:%M") if slotted.scheduled_end else ""
        lines.append(
            _row(
                width,
                _Cell(f"{start}-{end}" if end else start, 11),
                _Cell(_key(slotted), layout.key_width),
                _Cell(_title(slotted, done=slotted.status == "done"), flex=True),
                _Cell(Text(clean_line(slotted.project), style="dim"), project_width, drop=2),
            )
        )
    return lines + _more(b.schedule.total, len(b.schedule.items))


def _task_sections(b: Briefing, layout: _Layout) -> list[Text]:
    """Overdue, due today, the next 7 days and recently done, each with its own "when" column."""
    from rich.text import Text

    today = layout.today
    lines: list[Text] = []
    if b.overdue.items:
        late = [(Text(item.overdue_text, style="red"), item) for item in b.overdue.items]
        lines += _task_lines("Overdue", b.overdue.total, late, layout)
    if b.due_today.items:
        due = [
            (item.due_at.strftime("%H:%M") if item.due_at else "all day", item) for item in b.due_today.items
        ]
        lines += _task_lines("Due today", b.due_today.total, due, layout)
    if b.upcoming.items:
        soon: list[tuple[Text | str, TaskRow]] = []
        for item in b.upcoming.items:
            when = day_label(item.due_day, today) if item.due_day else ""
            soon.append((when + (item.due_at.strftime(" %H:%M") if item.due_at else ""), item))
        lines += _task_lines("Next 7 days", b.upcoming.total, soon, layout)
    if b.completed.items:
        finished: list[tuple[Text | str, TaskRow]] = []
        for item in b.completed.items:
            when = day_label(item.completed_at.date(), today) if item.completed_at else ""
            finished.append((Text(f"✓ {when}", style="green"), item))
        lines += _task_lines("Done in the last 7 days", b.completed.total, finished, layout, done=True)
    return lines


def _task_lines(
    title: str,
    total: int,
    items: Sequence[tuple[Text | str, TaskRow]],
    layout: _Layout,
    *,
    done: bool = False,
) -> list[Text]:
    """One task section: when (right-aligned), key, title, priority, project."""
    from rich.text import Text

    width = layout.width
    lines = _heading(title, total, width)
    project_width = _project_width([item for _, item in items])
    for when, item in items:
        priority = Text(_PRIORITY_SHORT.get(item.priority, item.priority))
        priority.stylize(_PRIORITY_STYLE.get(item.priority, ""))
        lines.append(
            _row(
                width,
                _Cell(when, _WHEN_WIDTH, right=True),
                _Cell(_key(item), layout.key_width),
                _Cell(_title(item, done=done), flex=True),
                _Cell(priority, 6, drop=1),
                _Cell(Text(clean_line(item.project), style="dim"), project_width, drop=2),
            )
        )
    return lines + _more(total, len(items))


def _project_lines(b: Briefing, layout: _Layout) -> list[Text]:
    """Open projects: name, a sparkline of completions, done/total, a bar and the share done."""
    from rich.text import Text

    if not b.projects.items:
        return []
    width = layout.width
    note = f"completions per day over the last {TREND_DAYS} days; done / total"
    lines = _heading("Projects", b.projects.total, width, note=note)
    for project in b.projects.items:
        share = f"{project.done * 100 // project.total}%" if project.total else "-"
        lines.append(
            _row(
                width,
                _Cell(clean_line(project.name), flex=True),
                _Cell(Text(sparkline(project.trend), style="cyan"), TREND_DAYS, drop=1),
                _Cell(f"{project.done}/{project.total}", 9, right=True),
                _Cell(Text(progress_bar(project.done, project.total), style="green"), 12, drop=3),
                _Cell(share, 4, right=True, drop=2),
            )
        )
    return lines + _more(b.projects.total, len(b.projects.items))


def _milestone_lines(b: Briefing, layout: _Layout) -> list[Text]:
    """Milestones not yet done: project / name, due, done/total, a bar and the state in words."""
    from rich.text import Text

    if not b.milestones.items:
        return []
    width = layout.width
    note = "done / total; at risk = behind a straight line from start to due"
    lines = _heading("Milestones", b.milestones.total, width, note=note)
    for milestone in b.milestones.items:
        name = clean_line(milestone.name)
        label = f"{clean_line(milestone.project)} / {name}" if milestone.project else name
        lines.append(
            _row(
                width,
                _Cell(label, flex=True),
                _Cell(Text(milestone_due_text(milestone.due, layout.today), style="dim"), 11, drop=1),
                _Cell(f"{milestone.done}/{milestone.total}", 7, right=True),
                _Cell(Text(progress_bar(milestone.done, milestone.total), style="green"), 12, drop=2),
                _Cell(milestone_state_text(milestone.state), 8),
            )
        )
    return lines + _more(b.milestones.total, len(b.milestones.items))


def _activity_text(summary: ActivitySummary) -> Text:
    """The GitLab summary line; a failing pipeline in red (and said in words, for NO_COLOR)."""
    from rich.text import Text

    return Text(clean_line(summary.text()), style="bold red" if summary.failing_pipelines else "")


MILESTONE_STATES: dict[str, tuple[str, str]] = {
    "at_risk": ("at risk", "bold red"),
    "overdue": ("overdue", "bold red"),
    "on_track": ("on track", "green"),
    "no_tasks": ("no tasks", "dim"),
    "no_due": ("no date", "dim"),
    "done": ("done", "green"),
}
"""Milestone state -> (words, style): the words carry the meaning, the colour only repeats it."""


def milestone_state_text(state: str) -> Text:
    """``at risk`` in bold red, ``on track`` in green, and so on (see :data:`MILESTONE_STATES`)."""
    from rich.text import Text

    words, style = MILESTONE_STATES.get(state, (state.replace("_", " "), ""))
    return Text(words, style=style)


def milestone_due_text(due: date | None, today: date) -> str:
    """``today``, ``Wed 25`` within six days either side, else ``19 Dec`` (the year if not this one)."""
    if due is None:
        return "no date"
    if abs((due - today).days) <= 6:
        return day_label(due, today)
    return due.strftime("%d %b") + (f" {due.year}" if due.year != today.year else "")


def _first_run(cache_path: str | None) -> RenderableType:
    from rich.text import Text

    where = f" at {cache_path}" if cache_path else ""
    text = Text()
    text.append("Nothing to brief yet", style="bold")
    text.append(f": no tasks in the cache{where}.\n\n")
    for command, what in (
        ("pmtui demo", "try pmtui on demo data (no account)"),
        ("pmtui sandbox serve --write-config", "run the local service emulators"),
        ("pmtui config init", "connect your own services"),
    ):
        text.append("  • ")
        text.append(f"{command:<36}", style="bold cyan")
        text.append(f"{what}\n")
    return text


def _header(b: Briefing) -> list[Text]:
    from rich.text import Text

    title = Text()
    title.append(b.date.strftime("%A %-d %B %Y"), style="bold")
    title.append(f"  ·  {b.timezone}", style="dim")
    c = b.counts
    bits: list[tuple[str, str]] = [
        (f"{c.overdue} overdue", "bold red" if c.overdue else "dim"),
        (f"{c.due_today} due today", "bold" if c.due_today else "dim"),
        (f"{c.upcoming} next 7 days", ""),
        (f"{c.completed} done last 7 days", "green" if c.completed else "dim"),
        (f"{c.open} open", "dim"),
    ]
    if c.conflicts:
        bits.append((plural(c.conflicts, "conflict"), "bold yellow"))
    if c.pending_steps:
        bits.append((f"{c.pending_steps} pending", "yellow"))
    counts = Text()
    for n, (part, style) in enumerate(bits):
        if n:
            counts.append(" · ", style="dim")
        counts.append(part, style=style)
    return [title, counts]


def _heading(title: str, total: int | None, width: int, *, note: str | None = None) -> list[Text]:
    """A blank line, then ``Title (total)  note ─────`` filling the width."""
    from rich.text import Text

    heading = Text(title, style="bold")
    if total is not None:
        heading.append(f" ({total})")
    if note:
        heading.append(f"  {note}", style="dim")
    heading.truncate(width - 2, overflow="ellipsis")
    heading.append(" " + "─" * max(1, width - heading.cell_len - 1), style="dim")
    return [Text(""), heading]


def _more(total: int, shown: int) -> list[Text]:
    from rich.text import Text

    return [Text(f"   … and {total - shown} more", style="dim")] if total > shown else []


def _fit(width: int, cells: Sequence[_Cell]) -> list[_Cell]:
    """The cells that fit ``width``: optional ones go (highest ``drop`` first) until the title has room."""
    kept = list(cells)
    while True:
        fixed = sum(c.width for c in kept if not c.flex) + _GAP * (len(kept) - 1)
        optional = [c for c in kept if c.drop]
        has_flex = any(c.flex for c in kept)
        short = width - fixed < MIN_TITLE if has_flex else fixed > width
        if not short or not optional:
            return kept
        kept.remove(max(optional, key=lambda c: c.drop))


def _row(width: int, *cells: _Cell) -> Text:
    """One line of ``width`` cells at most: each cell cut with an ellipsis or padded, :data:`_GAP` apart."""
    from rich.text import Text

    kept = _fit(width, cells)
    fixed = sum(c.width for c in kept if not c.flex) + _GAP * (len(kept) - 1)
    line = Text()
    for n, column in enumerate(kept):
        size = max(1, width - fixed) if column.flex else column.width
        content = column.content
        cell = content.copy() if isinstance(content, Text) else Text(content)
        if cell.cell_len > size:
            cell.truncate(size, overflow="ellipsis")
        pad = " " * max(0, size - cell.cell_len)
        if n:
            line.append(" " * _GAP)
        if column.right:
            line.append(pad)
            line.append_text(cell)
        else:
            line.append_text(cell)
            line.append(pad)
    line.rstrip()
    return line


def _project_width(items: Sequence[TaskRow]) -> int:
    return min(_PROJECT_WIDTH, max((len(clean_line(item.project)) for item in items), default=0))


def _key_label(item: TaskRow) -> str:
    return clean_line(item.ref.key or item.ref.service, limit=40) if item.ref else ""


def _key(item: TaskRow) -> Text:
    """The service key (or the service's name), linked (OSC 8) to the task's page when there is a URL."""
    from rich.style import Style
    from rich.text import Text

    ref = item.ref
    if ref is None:
        return Text("")
    url = safe_url(ref.url)
    return Text(_key_label(item), style=Style(color="cyan", link=url) if url else Style(color="cyan"))


def _title(item: TaskRow, *, done: bool = False) -> Text:
    from rich.text import Text

    text = Text(clean_line(item.title), style="dim" if done else "")
    if is_blocked(item.labels):
        text.append("  [blocked]", style="magenta")
    elif item.status == "in_progress" and not done:
        text.append("  ▸ in progress", style="cyan")
    return text


def _sync_notes(health: ServiceHealth) -> Text:
    """Pending and failed steps, open conflicts and (for a failed run) the first line of its error."""
    from rich.text import Text

    notes = Text()
    for count, word, note_style in (
        (health.pending_steps, "pending", "yellow"),
        (health.failed_steps, "failed step", "red"),
        (health.open_conflicts, "conflict", "bold yellow"),
    ):
        if count:
            if notes:
                notes.append(" · ", style="dim")
            notes.append(f"{count} {word}" if word == "pending" else plural(count, word), style=note_style)
    error = (health.last_error or "").strip()
    if error and health.state == "failed":
        if notes:
            notes.append(" · ", style="dim")
        notes.append(clean_line(error.splitlines()[0]), style="red")
    return notes


def _sync_lines(b: Briefing, width: int) -> list[Text]:
    from rich.text import Text

    lines = []
    for health in b.sync:
        label, style = _STATE_TEXT[health.state]
        synced = health.last_sync_at is not None
        took = duration_text(health.duration_ms) if synced and health.duration_ms is not None else ""
        lines.append(
            _row(
                width,
                _Cell(Text(health.label, style="bold" if health.configured or synced else "dim"), 7),
                _Cell(Text(label, style=style), 16),
                _Cell(ago(health.last_sync_at, b.generated_at) if health.last_sync_at else "", 11, drop=1),
                _Cell(took, 7, right=True, drop=2),
                _Cell(_sync_notes(health), flex=True),
            )
        )
    return lines
