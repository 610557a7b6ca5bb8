"""GitLab issue boards: a board's label lists as workflow columns, and the canonical status of each.

On GitLab a board list is a label: an open issue sits in every list whose label it carries, and moving
a card removes the old list's label and adds the new one. pmtui follows one board (``gitlab.board``):
each list stands for a canonical status (``gitlab.board_lists``, else :data:`DEFAULT_LIST_STATUSES`,
else ``in_progress``, since a list that is not the backlog is work under way). With a board:

=====================================  =================================================================
read                                   status
=====================================  =================================================================
``closed``                             ``canceled`` if it carries a list that means canceled, else ``done``
``opened`` with list labels            the status of the list furthest right (highest ``position``)
``opened`` without list labels         ``todo`` (GitLab's "Open" column)
=====================================  =================================================================

A status write keeps a list label that already means the wanted status; otherwise it removes the
issue's list labels and adds the first list (by position) of that status, in the same ``PUT`` that
closes or reopens the issue when the status needs it (closing without a "done" list removes the list
labels, as dragging a card to GitLab's "Closed" column does).

Pure functions and small frozen objects, except :func:`fetch_board` and :func:`fetch_snapshot`, which
read through the integration's own paging (limiter, retries, error translation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pmtui.errors import NotFoundError
from pmtui.integrations.limits import Lane
from pmtui.models import Status

if TYPE_CHECKING:
    from pmtui.integrations.gitlab import GitLabIntegration

DEFAULT_LIST_STATUSES: dict[str, Status] = {
    **dict.fromkeys(("to do", "todo", "backlog", "open", "ready", "next", "planned", "triage"), Status.TODO),
    **dict.fromkeys(
        (
            "doing",
            "in progress",
            "wip",
            "started",
            "in development",
            "development",
            "review",
            "in review",
            "code review",
            "needs review",
            "testing",
            "qa",
            "blocked",
        ),
        Status.IN_PROGRESS,
    ),
    **dict.fromkeys(("done", "closed", "complete", "completed", "shipped", "released"), Status.DONE),
    **dict.fromkeys(
        ("canceled", "cancelled", "won't do", "wont do", "won't fix", "wontfix", "rejected"), Status.CANCELED
    ),
}
"""Usual list names (normalised by :func:`list_key`) and the status each means."""
UNKNOWN_LIST_STATUS = Status.IN_PROGRESS
"""The status of a list whose name is neither configured nor recognised."""
OPEN_COLUMN = "open"
"""Column key of GitLab's "Open" list: open issues that carry no list label."""
CLOSED_COLUMN = "closed"
"""Column key of GitLab's "Closed" list."""

_STATUS_RANK = {Status.TODO: 0, Status.IN_PROGRESS: 1, Status.DONE: 2, Status.CANCELED: 3}


def list_key(name: str) -> str:
    """A list or label name as the recognizer compares it: case-folded, the part after the last ``::``
    (scoped labels such as ``workflow::doing``), ``-``/``_`` and runs of spaces as one space."""
    text = name.rsplit("::", 1)[-1].casefold()
    return re.sub(r"[\s_-]+", " ", text).strip()


def list_status(name: str, overrides: Mapping[str, Status | str] | None = None) -> Status:
    """The canonical status a list named ``name`` means: ``overrides`` first, then the usual names."""
    wanted = list_key(name)
    for key, status in (overrides or {}).items():
        if list_key(key) == wanted or key.casefold() == name.casefold():
            return Status(status)
    return DEFAULT_LIST_STATUSES.get(wanted, UNKNOWN_LIST_STATUS)


@dataclass(frozen=True)
class BoardList:
    """One label list of a board, with the status it stands for."""

    id: int
    label: str
    position: int
    status: Status

    @property
    def column(self) -> str:
        """The kanban column key of this list."""
        return f"list:{self.id}"


@dataclass(frozen=True)
class Board:
    """A board's label lists in position order, mapped to statuses; the mapping's decisions live here."""

    id: int
    name: str
    lists: tuple[BoardList, ...]
    _labels: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_labels", frozenset(item.label.casefold() for item in self.lists))

    # ------------------------------------------------------------------------------------- reads

    def is_list_label(self, name: str) -> bool:
        """Whether ``name`` (any case) is the label of one of this board's lists."""
        return name.casefold() in self._labels

    def list_of(self, labels: Iterable[str]) -> BoardList | None:
        """The list an issue with ``labels`` shows in: the one furthest right when it carries several."""
        have = {name.casefold() for name in labels}
        found = [item for item in self.lists if item.label.casefold() in have]
        return found[-1] if found else None

    def status_of(self, state: str | None, labels: Iterable[str]) -> Status:
        """The canonical status of an issue (see the module's table)."""
        names = list(labels)
        if state == "closed":
            canceled = any(item.status is Status.CANCELED for item in self._lists_in(names))
            return Status.CANCELED if canceled else Status.DONE
        found = self.list_of(names)
        return found.status if found is not None else Status.TODO

    def column_of(self, state: str | None, labels: Iterable[str]) -> str:
        """The column key an issue shows in: ``closed``, a list's ``list:<id>``, or ``open``."""
        if state == "closed":
            return CLOSED_COLUMN
        found = self.list_of(labels)
        return found.column if found is not None else OPEN_COLUMN

    def _lists_in(self, labels: Iterable[str]) -> list[BoardList]:
        have = {name.casefold() for name in labels}
        return [item for item in self.lists if item.label.casefold() in have]

    def lists_with(self, status: Status) -> list[BoardList]:
        """The lists that mean ``status``, in position order."""
        return [item for item in self.lists if item.status is status]

    def by_column(self, column: str) -> BoardList | None:
        """The list of a ``list:<id>`` column key."""
        return next((item for item in self.lists if item.column == column), None)

    # ------------------------------------------------------------------------------------ writes

    def create_label(self, status: Status) -> str | None:
        """The list label a new issue with ``status`` gets (the first list of that status), if any."""
        lists = self.lists_with(status)
        return lists[0].label if lists else None

    def status_changes(self, status: Status, current: Sequence[str] | None) -> tuple[list[str], list[str]]:
        """``(add, remove)`` labels that move an issue with labels ``current`` to a list of ``status``.

        A list label that already means ``status`` is kept (a card in "Review" stays there when its
        status is set to in progress again). Without ``current`` every other list label is removed.
        """
        targets = self.lists_with(status)
        if current is None:
            add = [targets[0].label] if targets else []
            remove = [item.label for item in self.lists if item.label not in add]
            return add, remove
        on = self._lists_in(current)
        keep = [item for item in on if item.status is status]
        if keep:
            return [], _names_in(current, [item.label for item in on if item.status is not status])
        add = [targets[0].label] if targets else []
        return add, _names_in(current, [item.label for item in on])

    def move_body(self, column: str, current: Sequence[str], state: str | None) -> dict[str, Any]:
        """The one ``PUT`` body that moves an issue to ``column`` as GitLab's board does.

        A list column removes the issue's other list labels and adds its own; ``open`` removes every
        list label; ``closed`` removes them too and closes. The issue is closed or reopened when the
        target's status needs it. Raises ``ValueError`` for a column this board does not have.
        """
        on = [item.label for item in self._lists_in(current)]
        body: dict[str, Any] = {}
        add: list[str]
        if column == CLOSED_COLUMN:
            target_status, add = Status.DONE, []
            remove = on
        elif column == OPEN_COLUMN:
            target_status, add = Status.TODO, []
            remove = on
        else:
            target = self.by_column(column)
            if target is None:
                raise ValueError(f"board {self.name!r} has no column {column!r}")
            target_status = target.status
            have = target.label.casefold() in {name.casefold() for name in current}
            add = [] if have else [target.label]
            remove = [name for name in on if name.casefold() != target.label.casefold()]
        remove = _names_in(current, remove)
        if add:
            body["add_labels"] = ",".join(add)
        if remove:
            body["remove_labels"] = ",".join(remove)
        if target_status.is_closed and state != "closed":
            body["state_event"] = "close"
        elif not target_status.is_closed and state == "closed":
            body["state_event"] = "reopen"
        return body


def _names_in(current: Sequence[str], wanted: Iterable[str]) -> list[str]:
    """The names of ``current`` equal (any case) to one of ``wanted``, spelled as on the issue."""
    folded = {name.casefold() for name in wanted}
    return list(dict.fromkeys(name for name in current if name.casefold() in folded))


def board_from_raw(raw: Mapping[str, Any], overrides: Mapping[str, Status | str] | None = None) -> Board:
    """A GitLab board object (with its embedded ``lists``) as a :class:`Board`.

    Lists without a label (assignee, milestone or iteration lists on paid tiers) are not workflow
    columns and are skipped.
    """
    lists: list[BoardList] = []
    for item in raw.get("lists") or []:
        label = item.get("label") if isinstance(item, Mapping) else None
        if not isinstance(label, Mapping) or not label.get("name"):
            continue
        name = str(label["name"])
        lists.append(
            BoardList(
                id=int(item["id"]),
                label=name,
                position=int(item.get("position") or 0),
                status=list_status(name, overrides),
            )
        )
    lists.sort(key=lambda item: (item.position, item.id))
    return Board(id=int(raw["id"]), name=str(raw.get("name") or ""), lists=tuple(lists))


def pick_board(boards: Sequence[Mapping[str, Any]], wanted: str | None) -> Mapping[str, Any] | None:
    """The board named or numbered ``wanted`` (any case), or the first board when ``wanted`` is None."""
    if wanted is None:
        return boards[0] if boards else None
    text = wanted.strip()
    for raw in boards:
        same_id = text.isdigit() and int(text) == raw.get("id")
        if same_id or str(raw.get("name", "")).casefold() == text.casefold():
            return raw
    return None


# ------------------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class BoardSnapshot:
    """A board and the column each open issue shows in, for the kanban (``iid`` -> column key)."""

    board: Board
    columns: dict[str, str]

    def column_titles(self) -> list[tuple[str, str, Status]]:
        """``(column key, title, status)`` for every column, left to right, as GitLab draws them."""
        return [
            (OPEN_COLUMN, "Open", Status.TODO),
            *((item.column, item.label, item.status) for item in self.board.lists),
            (CLOSED_COLUMN, "Closed", Status.DONE),
        ]


def _raw_pages(
    gl: GitLabIntegration, path: str, query: dict[str, Any], action: str
) -> Iterator[dict[str, Any]]:
    for page, _last in gl._pages(path, query, lane=Lane.BACKGROUND, action=action):
        yield from page


def fetch_boards(gl: GitLabIntegration) -> list[dict[str, Any]]:
    """Every board of the configured project, lists embedded (one request per 100 boards)."""
    path = gl.project.boards.path
    return list(_raw_pages(gl, path, {"per_page": 100}, "list boards"))


def fetch_board(gl: GitLabIntegration, wanted: str | None) -> Board | None:
    """The board named ``wanted`` (or the first), mapped with ``gitlab.board_lists``; None if none.

    Raises :class:`pmtui.errors.NotFoundError` naming the project's boards when ``wanted`` is not one.
    """
    boards = fetch_boards(gl)
    raw = pick_board(boards, wanted)
    if raw is None:
        if wanted is None:
            return None
        names = ", ".join(str(b.get("name")) for b in boards) or "none"
        raise NotFoundError(
            f"GitLab has no board {wanted!r} in this project",
            service="gitlab",
            hint=f"set gitlab.board to one of: {names}",
        )
    return board_from_raw(raw, gl.settings.board_lists)


def fetch_snapshot(gl: GitLabIntegration, board: Board) -> BoardSnapshot:
    """Which column each open issue shows in (one request per 100 open issues)."""
    query = {"state": "opened", "per_page": 100, "order_by": "id", "sort": "asc"}
    columns: dict[str, str] = {}
    for raw in _raw_pages(gl, gl.project.issues.path, query, "list board issues"):
        labels = [str(name) for name in raw.get("labels") or []]
        columns[str(raw["iid"])] = board.column_of("opened", labels)
    return BoardSnapshot(board=board, columns=columns)
