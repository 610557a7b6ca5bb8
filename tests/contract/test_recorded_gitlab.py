"""The GitLab emulator against GitLab's recorded responses (``../shared/recorded/gitlab``).

Each fixture's request is replayed against the seeded demo project over HTTP, and the answer is compared
by key paths and JSON types with the real bodies, plus the status code and the paging headers. See
``tests/contract/recorded.py`` for how paths are compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pmtui.sandbox.gitlab import DEFAULT_API_KEY, GitLabEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, serving
from tests.contract import recorded

FIXTURES = recorded.fixture_paths("gitlab")
pytestmark = pytest.mark.skipif(not FIXTURES, reason="../shared/recorded/gitlab is not present")

PMTUI_READS: dict[str, list[str]] = {
    "issues-list": [
        "[].id",
        "[].iid",
        "[].project_id",
        "[].title",
        "[].description",
        "[].state",
        "[].labels[]",
        "[].created_at",
        "[].updated_at",
        "[].closed_at",
        "[].due_date",
        "[].assignees[].id",
        "[].assignees[].username",
        "[].assignee.username",
        "[].author.username",
        "[].author.id",
        "[].milestone.id",
        "[].milestone.title",
        "[].references.full",
        "[].web_url",
        "[].weight",
        "[].merge_requests_count",
        "[].user_notes_count",
    ],
    "merge-request": [
        "iid",
        "title",
        "state",
        "draft|work_in_progress",
        "web_url",
        "head_pipeline.status|pipeline.status",
        "project_id|target_project_id",
        "references.full|reference",
        "updated_at",
    ],
    "merge-requests": [
        "[].iid",
        "[].title",
        "[].state",
        "[].draft|[].work_in_progress",
        "[].web_url",
        "[].project_id",
        "[].references.full|[].reference",
        "[].updated_at",
    ],
    # Milestones' web_url is read too (optionally); GitLab's Milestone entity has it, the docs example not.
    "milestones": [
        "[].id",
        "[].title",
        "[].description",
        "[].state",
        "[].start_date",
        "[].due_date",
        "[].created_at",
        "[].updated_at",
        "[].project_id",
    ],
    "notes": [
        "[].id",
        "[].body",
        "[].system",
        "[].author.username",
        "[].author.name",
        "[].created_at",
        "[].updated_at",
    ],
    "project": ["id", "path_with_namespace"],
    "user": ["id", "username", "name"],
    "boards": ["[].id", "[].name", "[].lists[].label.name", "[].lists[].position", "[].lists[].id"],
    "labels": ["[].name"],
    "error-401": ["message"],
    "error-404": ["message"],
}
"""The key paths pmtui's GitLab integration (``pmtui/integrations/gitlab*.py``) reads, per response."""


@pytest.fixture(scope="module")
def emu() -> GitLabEmulator:
    clock = Clock()
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), frozen=True)
    emulator = GitLabEmulator(clock=clock, seed=7)
    emulator.seed({"kind": "demo"})
    return emulator


@pytest.fixture(scope="module")
def server(emu: GitLabEmulator) -> Iterator[RunningEmulator]:
    with serving(emu) as running:
        yield running


def names(emu: GitLabEmulator) -> dict[str, str]:
    """Placeholder values from the seeded demo project."""
    state = emu.state
    project = state["projects"]["1"]
    board = next(iter(state["boards"].values()))
    iid_of = {str(issue_id): iid for iid, issue_id in project["issue_iids"].items()}
    # An issue with a person's note (notes are stored per issue id; the API addresses issues by iid).
    noted = next(iid_of[k] for k, notes in state["notes"].items() if any(not n["system"] for n in notes))
    return {
        "project": str(project["id"]),
        "board_id": str(board["id"]),
        "list_id": str(board["lists"][0]["id"]),
        "issue_iid": next(iter(project["issue_iids"])),
        "noted_issue_iid": str(noted),
        "mr_iid": str(next(iter(state["merge_requests"].values()))["iid"]),
        "user_id": "1",
    }


def exchange(emu: GitLabEmulator, server: RunningEmulator, fixture: dict[str, Any]) -> recorded.Exchange:
    emu.clear_faults()
    if fault := fixture["request"].get("fault"):
        emu.add_fault(Fault(kind=fault["kind"], value=fault.get("value"), count=fault.get("count", 1)))
    return recorded.replay(
        server.url, fixture, names(emu), {"PRIVATE-TOKEN": DEFAULT_API_KEY}, {"PRIVATE-TOKEN": "glpat-wrong"}
    )


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_recorded_response(emu: GitLabEmulator, server: RunningEmulator, path: Path) -> None:
    fixture = recorded.load(path)
    got = exchange(emu, server, fixture)
    assert got.status == fixture["status"], got.body
    assert recorded.header_problems(fixture, got) == []
    result = recorded.compare(fixture, got)
    reads = (
        set(fixture.get("client_reads", []))
        | set(fixture.get("pmtui_reads", []))
        | set(PMTUI_READS.get(path.stem, []))
    )
    assert result.lacks(reads) == [], "fields a client reads"
    assert {p: t for p, t in result.mismatched.items() if p in reads} == {}


def test_overall_share_of_recorded_fields(emu: GitLabEmulator, server: RunningEmulator) -> None:
    present = total = 0
    report = {}
    for path in FIXTURES:
        fixture = recorded.load(path)
        result = recorded.compare(fixture, exchange(emu, server, fixture))
        present, total = present + result.present, total + result.total
        report[path.stem] = result.missing
        print(path.stem, "missing:", result.missing, "mismatched:", result.mismatched)
    share = present / total
    print(f"gitlab: {present}/{total} recorded fields present ({share:.1%})")
    assert share >= 0.95, {k: v for k, v in report.items() if v}


def test_pmtui_reads_only_fields_gitlab_sends() -> None:
    for stem, reads in PMTUI_READS.items():
        fixture = recorded.load(recorded.RECORDED / "gitlab" / f"{stem}.json")
        assert recorded.unread(reads, [fixture]) == [], stem
