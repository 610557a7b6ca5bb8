"""GitLab issue boards: the pure list mapping by tables, python-gitlab reading boards and lists from the
emulator over HTTP, and pmtui's engine moving issues between a followed board's lists (and back).

The demo project's board "Development" has the lists To Do (0), Doing (1) and Review (2).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gitlab
import pytest
from gitlab.exceptions import GitlabGetError, GitlabListError

from pmtui.config import load_settings
from pmtui.core.engine import Engine
from pmtui.core.store import Store
from pmtui.integrations.gitlab import GitLabIntegration
from pmtui.integrations.gitlab_boards import (
    CLOSED_COLUMN,
    OPEN_COLUMN,
    Board,
    BoardList,
    board_from_raw,
    list_status,
)
from pmtui.integrations.gitlab_mapping import to_payload, to_remote_task
from pmtui.models import Plan, Service, Status, Task, TaskChanges, UpdateTask
from pmtui.sandbox.gitlab import DEFAULT_API_KEY, GitLabEmulator
from pmtui.sandbox.runner import Sandbox, start_sandbox
from pmtui.sandbox.server import Clock

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PUT = "PUT /api/v4/projects/:id/issues/:issue_iid"
BOARDS = "GET /api/v4/projects/:id/boards"
LISTS = "GET /api/v4/projects/:id/boards/:board_id/lists"

BOARD = Board(
    id=21,
    name="Development",
    lists=(
        BoardList(31, "To Do", 0, Status.TODO),
        BoardList(32, "Doing", 1, Status.IN_PROGRESS),
        BoardList(33, "Review", 2, Status.IN_PROGRESS),
        BoardList(34, "Won't do", 3, Status.CANCELED),
    ),
)


# ------------------------------------------------------------------------------------ mapping tables


@pytest.mark.parametrize(
    ("name", "overrides", "expected"),
    [
        ("To Do", None, Status.TODO),
        ("Backlog", None, Status.TODO),
        ("doing", None, Status.IN_PROGRESS),
        ("In-Progress", None, Status.IN_PROGRESS),
        ("workflow::In Review", None, Status.IN_PROGRESS),
        ("Done", None, Status.DONE),
        ("Won't do", None, Status.CANCELED),
        ("Frontend", None, Status.IN_PROGRESS),  # unknown names are work under way
        ("Frontend", {"frontend": "todo"}, Status.TODO),
        ("Review", {"REVIEW": Status.DONE}, Status.DONE),
    ],
)
def test_list_status_table(name: str, overrides: dict[str, Any] | None, expected: Status) -> None:
    assert list_status(name, overrides) is expected


@pytest.mark.parametrize(
    ("state", "labels", "status", "column"),
    [
        ("opened", [], Status.TODO, OPEN_COLUMN),
        ("opened", ["bug", "To Do"], Status.TODO, "list:31"),
        ("opened", ["review"], Status.IN_PROGRESS, "list:33"),
        ("opened", ["To Do", "Doing"], Status.IN_PROGRESS, "list:32"),  # the list furthest right
        ("closed", ["Doing"], Status.DONE, CLOSED_COLUMN),
        ("closed", ["Won't do"], Status.CANCELED, CLOSED_COLUMN),
    ],
)
def test_board_read_table(state: str, labels: list[str], status: Status, column: str) -> None:
    assert BOARD.status_of(state, labels) is status
    assert BOARD.column_of(state, labels) == column


@pytest.mark.parametrize(
    ("status", "current", "add", "remove"),
    [
        (Status.IN_PROGRESS, ["bug", "To Do"], ["Doing"], ["To Do"]),
        (Status.TODO, ["Doing", "bug"], ["To Do"], ["Doing"]),
        (Status.IN_PROGRESS, ["Review"], [], []),  # already in a list of that status: stays there
        (Status.IN_PROGRESS, ["Review", "to do"], [], ["to do"]),
        (Status.DONE, ["Doing"], [], ["Doing"]),  # no "done" list: closing leaves the lists
        (Status.CANCELED, ["Doing"], ["Won't do"], ["Doing"]),
        (Status.TODO, None, ["To Do"], ["Doing", "Review", "Won't do"]),
    ],
)
def test_board_status_changes_table(
    status: Status, current: list[str] | None, add: list[str], remove: list[str]
) -> None:
    assert BOARD.status_changes(status, current) == (add, remove)


@pytest.mark.parametrize(
    ("column", "labels", "state", "body"),
    [
        ("list:33", ["Doing", "bug"], "opened", {"add_labels": "Review", "remove_labels": "Doing"}),
        ("list:31", ["bug"], "closed", {"add_labels": "To Do", "state_event": "reopen"}),
        (OPEN_COLUMN, ["To Do", "bug"], "opened", {"remove_labels": "To Do"}),
        (CLOSED_COLUMN, ["Review"], "opened", {"remove_labels": "Review", "state_event": "close"}),
        ("list:32", ["Doing"], "opened", {}),
    ],
)
def test_board_move_body_table(column: str, labels: list[str], state: str, body: dict[str, Any]) -> None:
    assert BOARD.move_body(column, labels, state) == body


def test_board_move_to_an_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="no column"):
        BOARD.move_body("list:99", [], "opened")


def test_payloads_and_reads_follow_the_board() -> None:
    body = to_payload(
        {"status": Status.TODO}, current_labels=["Review", "bug"], current_state="opened", board=BOARD
    )
    assert body == {"add_labels": "To Do", "remove_labels": "Review"}
    created = to_payload(
        {"title": "New", "status": Status.TODO, "labels": ["bug", "Doing"]}, creating=True, board=BOARD
    )
    assert created["labels"] == ["bug", "To Do"], "list labels are owned by status, not Task.labels"
    raw = {"iid": 3, "title": "x", "state": "opened", "labels": ["Won't do", "bug", "Review"]}
    remote = to_remote_task(raw, BOARD)
    assert remote.task.status is Status.CANCELED, "the list furthest right decides"
    assert remote.task.labels == ["bug"]
    assert remote.extra["board_list"] == "Won't do"


def test_board_from_raw_orders_lists_and_skips_non_label_lists() -> None:
    raw = {
        "id": 5,
        "name": "Flow",
        "lists": [
            {"id": 2, "position": 1, "label": {"name": "QA"}},
            {"id": 3, "position": 2, "label": None, "assignee": {"id": 1}},
            {"id": 1, "position": 0, "label": {"name": "Ready"}},
        ],
    }
    board = board_from_raw(raw, {"QA": "in_progress"})
    assert [(x.label, x.status) for x in board.lists] == [("Ready", Status.TODO), ("QA", Status.IN_PROGRESS)]


# -------------------------------------------------------------------------- python-gitlab vs emulator


@dataclass
class World:
    sandbox: Sandbox
    emulator: GitLabEmulator
    engine: Engine

    def issue(self, iid: int) -> dict[str, Any]:
        project = self.emulator.state["projects"]["1"]
        record: dict[str, Any] = self.emulator.state["issues"][str(project["issue_iids"][str(iid)])]
        return record

    def open_with(self, label: str) -> int:
        """The iid of the first open demo issue carrying ``label``."""
        project = self.emulator.state["projects"]["1"]
        for iid in sorted(int(i) for i in project["issue_iids"]):
            issue = self.issue(iid)
            if issue["state"] == "opened" and label in issue["labels"]:
                return iid
        raise AssertionError(f"no open issue with {label!r}")

    def task_of(self, iid: int) -> Task:
        ref = self.engine.store.ref_by_external(Service.GITLAB, str(iid))
        assert ref is not None
        task = self.engine.store.get_task(ref.entity_id)
        assert task is not None
        return task

    def puts(self) -> int:
        return self.emulator.request_counts().get(PUT, 0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    clock = Clock()
    clock.set(NOW, frozen=True)
    with start_sandbox(seed="demo", services=("gitlab",), clock=clock) as running:
        yield running


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    emulator = sandbox.emulator("gitlab")
    assert isinstance(emulator, GitLabEmulator)
    emulator.seed({"kind": "demo"})
    emulator.clear_faults()
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PMTUI_NO_KEYRING", "1")
    overrides = sandbox.settings_dict()
    overrides["gitlab"].update({"requests_per_minute": 60000, "board": "Development"})
    with Engine(load_settings(overrides=overrides), Store(tmp_path / "cache.duckdb")) as engine:
        runs = engine.sync([Service.GITLAB])
        assert [run.status for run in runs] == ["ok"], runs
        emulator.reset_counts()
        yield World(sandbox, emulator, engine)


@pytest.fixture
def client(world: World) -> gitlab.Gitlab:
    return gitlab.Gitlab(world.sandbox.url("gitlab"), private_token=DEFAULT_API_KEY)


def test_boards_and_lists_are_listed_page_by_page(world: World, client: gitlab.Gitlab) -> None:
    world.emulator.admin_mutate(
        {"op": "create", "kind": "board", "fields": {"name": "Ops", "labels": ["Triage"]}}
    )
    world.emulator.admin_mutate(
        {"op": "create", "kind": "board", "fields": {"name": "Docs", "labels": ["docs", "Review"]}}
    )
    world.emulator.reset_counts()
    project = client.projects.get("acme/app", lazy=True)

    boards = project.boards.list(per_page=1, get_all=True)
    assert [b.name for b in boards] == ["Development", "Ops", "Docs"]
    assert world.emulator.request_counts()[BOARDS] == 3, "one request per page of one"
    first = project.boards.list(per_page=2, iterator=True)
    assert (first.total, first.total_pages, first.next_page) == (3, 2, 2)

    development = boards[0]
    lists = development.lists.list(per_page=2, get_all=True)
    assert [(x.label["name"], x.position) for x in lists] == [("To Do", 0), ("Doing", 1), ("Review", 2)]
    assert world.emulator.request_counts()[LISTS] == 2
    assert development.lists.get(lists[2].id).label["name"] == "Review"


def test_boards_answer_errors_like_the_rest_of_the_api(world: World, client: gitlab.Gitlab) -> None:
    project = client.projects.get("acme/app", lazy=True)
    with pytest.raises(GitlabGetError) as missing:
        project.boards.get(9999)
    assert missing.value.response_code == 404
    assert missing.value.error_message == "404 Board Not Found"
    board = project.boards.list(get_all=True)[0]
    with pytest.raises(GitlabGetError) as no_list:
        board.lists.get(9999)
    assert no_list.value.response_code == 404
    with pytest.raises(GitlabListError) as keyset:
        project.boards.list(pagination="keyset", order_by="id", sort="asc", get_all=False)
    assert keyset.value.response_code == 405
    with pytest.raises(GitlabListError) as other_project:
        client.projects.get(999, lazy=True).boards.list(get_all=True)
    assert other_project.value.response_code == 404


def test_integration_reads_the_board_and_where_each_issue_sits(world: World) -> None:
    integration: Any = world.engine.integration(Service.GITLAB)
    assert isinstance(integration, GitLabIntegration)
    snapshot = integration.board_snapshot()
    assert snapshot is not None
    assert [x.label for x in snapshot.board.lists] == ["To Do", "Doing", "Review"]
    doing = world.open_with("Doing")
    assert snapshot.columns[str(doing)] == snapshot.board.lists[1].column
    assert [t for _k, t, _s in snapshot.column_titles()] == ["Open", "To Do", "Doing", "Review", "Closed"]


def test_a_column_move_changes_exactly_the_two_list_labels_in_one_put(world: World) -> None:
    iid = world.open_with("To Do")
    before = set(world.issue(iid)["labels"])
    task = world.task_of(iid)
    assert task.status is Status.TODO

    outcome = world.engine.execute(
        Plan(actions=[UpdateTask(task=task.id, changes=TaskChanges(status=Status.IN_PROGRESS))])
    )
    assert outcome.ok, outcome

    after = set(world.issue(iid)["labels"])
    assert before ^ after == {"To Do", "Doing"}
    assert after == (before - {"To Do"}) | {"Doing"}
    assert world.puts() == 1, "remove the old list's label and add the new one in one edit"
    assert world.task_of(iid).status is Status.IN_PROGRESS

    world.emulator.reset_counts()
    world.engine.execute(Plan(actions=[UpdateTask(task=task.id, changes=TaskChanges(status=Status.TODO))]))
    assert set(world.issue(iid)["labels"]) == before, "and back again"
    assert world.puts() == 1


def test_a_move_between_two_in_progress_lists_is_one_put_on_the_issue(world: World) -> None:
    iid = world.open_with("Doing")
    before = set(world.issue(iid)["labels"])
    integration: Any = world.engine.integration(Service.GITLAB)
    review = integration.board().lists[2]
    moved = integration.move_to_column(str(iid), review.column)
    assert moved.task.status is Status.IN_PROGRESS
    assert moved.extra["board_list"] == "Review"
    assert set(world.issue(iid)["labels"]) == (before - {"Doing"}) | {"Review"}
    assert world.puts() == 1


def test_a_label_change_by_another_user_moves_the_task_after_a_sync(world: World) -> None:
    iid = world.open_with("To Do")
    task = world.task_of(iid)
    assert task.status is Status.TODO
    world.sandbox.clock.advance(120)
    changed = world.emulator.admin_mutate(
        {
            "op": "update",
            "kind": "issue",
            "iid": iid,
            "fields": {"remove_labels": "To Do", "add_labels": "Review"},
        }
    )
    assert changed["labels"].count("Review") == 1

    runs = world.engine.sync([Service.GITLAB])
    assert [run.status for run in runs] == ["ok"]
    moved = world.task_of(iid)
    assert moved.id == task.id
    assert moved.status is Status.IN_PROGRESS
    assert "Review" not in moved.labels, "list labels are the status, not task labels"
    assert world.puts() == 0, "pulling a move writes nothing back"

    world.sandbox.clock.advance(120)
    world.emulator.admin_mutate(
        {"op": "update", "kind": "issue", "iid": iid, "fields": {"remove_labels": "Review"}}
    )
    world.engine.sync([Service.GITLAB])
    assert world.task_of(iid).status is Status.TODO, "back to GitLab's Open column"
