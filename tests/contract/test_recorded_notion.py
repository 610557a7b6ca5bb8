"""The Notion emulator against Notion's recorded responses (``../shared/recorded/notion``).

Each fixture's request is replayed against the seeded demo workspace over HTTP (``Notion-Version``
2025-09-03, as the recordings were made), and the answer is compared by key paths and JSON types with
the real bodies, plus the status code and headers. See ``tests/contract/recorded.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pmtui.sandbox.notion import DEFAULT_API_KEY, NotionEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, serving
from tests.contract import recorded

FIXTURES = recorded.fixture_paths("notion")
pytestmark = pytest.mark.skipif(not FIXTURES, reason="../shared/recorded/notion is not present")

VERSION = "2025-09-03"

PMTUI_READS: dict[str, list[str]] = {
    "comments-list": [
        "has_more",
        "next_cursor",
        "results",
        "results[].id",
        "results[].rich_text[].plain_text",
        "results[].created_time",
        "results[].created_by.id",
        "results[].display_name.resolved_name",
    ],
    "data-source-query": [
        "has_more",
        "next_cursor",
        "results",
        "results[].id",
        "results[].url",
        "results[].created_time",
        "results[].last_edited_time",
        "results[].in_trash",
        "results[].archived",
        "results[].parent.data_source_id",
        "results[].properties.{title}.title[].plain_text",
        "results[].properties.{rich_text}.rich_text[].plain_text",
        "results[].properties.{status}.status.name",
        "results[].properties.{select}.select.name",
        "results[].properties.{multi_select}.multi_select[].name",
        "results[].properties.{date}.date.start",
        "results[].properties.{date}.date.end",
        "results[].properties.{date}.date.time_zone",
        "results[].properties.{relation}.relation[].id",
        "results[].properties.{people}.people[].id",
        "results[].properties.{url}.url",
        "results[].properties.{unique_id}.unique_id.prefix",
        "results[].properties.{unique_id}.unique_id.number",
        "results[].properties.{title}.type",
        "results[].object",
    ],
    "data-source-retrieve": [
        "id",
        "title[].plain_text",
        "parent.database_id",
        "properties.{status}.status.options[].id",
        "properties.{status}.status.options[].name",
        "properties.{status}.status.groups[].name",
        "properties.{status}.status.groups[].option_ids[]",
        "properties.{select}.select.options[].name",
        "properties.{multi_select}.multi_select.options[].name",
        "properties.{relation}.relation.data_source_id",
        "properties.{title}.id",
        "properties.{title}.type",
        "properties.{unique_id}.type",
    ],
    "database-retrieve": ["data_sources[].id", "data_sources[].name"],
    "page-create": ["id", "url", "created_time", "last_edited_time"],
    "page-update": ["id", "last_edited_time"],
    "user-retrieve": ["id", "name"],
    "users-list": [
        "has_more",
        "next_cursor",
        "results",
        "results[].id",
        "results[].name",
        "results[].person.email",
    ],
    "users-me": ["id", "name", "bot.workspace_name"],
    "error-404": ["code", "message"],
    "error-401": ["code", "message"],
    "error-429": ["code", "message"],
}
"""The key paths pmtui's Notion integration (``pmtui/integrations/notion*.py``) reads, per response."""


@pytest.fixture(scope="module")
def emu() -> NotionEmulator:
    clock = Clock()
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), frozen=True)
    emulator = NotionEmulator(clock=clock, seed=7)
    emulator.seed({"kind": "demo"})
    emulator.rate_limits_enabled = False
    with emulator.lock:
        _every_property_type(emulator)
    return emulator


def _every_property_type(emu: NotionEmulator) -> None:
    """Give the demo's tasks database every property type, as the recorded one has (most real ones do).

    The recordings come from a database with an ID, formulas, rollups, files and the rest; the demo's
    is a plain tasks list, so the comparison would otherwise measure the seed instead of the emulator.
    """
    hints = emu.config_hints()
    state = emu.state
    editor = next(uid for uid, user in state["users"].items() if user["type"] == "person")
    projects = state["data_sources"][hints["projects_data_source_id"]]
    emu.update_data_source(projects, {"properties": {"Labels": {"multi_select": {}}}}, editor)
    tasks = state["data_sources"][hints["tasks_data_source_id"]]
    emu.update_data_source(
        tasks,
        {
            "properties": {
                "Done": {"checkbox": {}},
                "Estimate": {"number": {"format": "number"}},
                "Contact": {"email": {}},
                "Phone": {"phone_number": {}},
                "Created": {"created_time": {}},
                "Created by": {"created_by": {}},
                "Edited": {"last_edited_time": {}},
                "Edited by": {"last_edited_by": {}},
                "Attachments": {"files": {}},
                "Due (formula)": {"formula": {"expression": 'prop("Due")'}},
                "Project labels": {
                    "rollup": {
                        "relation_property_name": "Project",
                        "rollup_property_name": "Labels",
                        "function": "show_original",
                    }
                },
                "ID": {"unique_id": {"prefix": "TASK"}},
            }
        },
        editor,
    )
    project_page = state["pages"][projects["page_ids"][0]]
    emu.update_page(project_page, {"properties": {"Labels": {"multi_select": [{"name": "q3"}]}}}, editor)
    page = state["pages"][names(emu)["page_id"]]
    emu.update_page(
        page,
        {
            "properties": {
                "Done": {"checkbox": True},
                "Estimate": {"number": 3},
                "Contact": {"email": "ops@acme.example"},
                "Phone": {"phone_number": "+1 555 0100"},
                "Due": {"date": {"start": "2026-12-01", "end": "2026-12-02"}},
                "Project": {"relation": [{"id": project_page["id"]}]},
                "Attachments": {
                    "files": [{"name": "spec.pdf", "external": {"url": "https://acme.example/spec.pdf"}}]
                },
            }
        },
        editor,
    )


@pytest.fixture(scope="module")
def server(emu: NotionEmulator) -> Iterator[RunningEmulator]:
    with serving(emu) as running:
        yield running


def names(emu: NotionEmulator) -> dict[str, str]:
    """Placeholder values from the seeded demo workspace: a task page that has comments and children."""
    hints = emu.config_hints()
    state = emu.state
    ds = state["data_sources"][hints["tasks_data_source_id"]]
    page_id = next(p for p in state["page_comments"] if p in state["children"] and p in ds["page_ids"])
    title = next(name for name, prop in ds["properties"].items() if prop["type"] == "title")
    person = next(uid for uid, user in state["users"].items() if user["type"] == "person")
    return {
        "page_id": page_id,
        "data_source_id": ds["id"],
        "database_id": ds["database_id"],
        "title_property": title,
        "person_user_id": person,
    }


def exchange(emu: NotionEmulator, server: RunningEmulator, fixture: dict[str, Any]) -> recorded.Exchange:
    emu.clear_faults()
    if fault := fixture["request"].get("fault"):
        emu.add_fault(Fault(kind=fault["kind"], value=fault.get("value"), count=fault.get("count", 1)))
    good = {"Authorization": f"Bearer {DEFAULT_API_KEY}", "Notion-Version": VERSION}
    bad = {"Authorization": "Bearer ntn_wrong", "Notion-Version": VERSION}
    return recorded.replay(server.url, fixture, names(emu), good, bad)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_recorded_response(emu: NotionEmulator, server: RunningEmulator, path: Path) -> None:
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


def test_overall_share_of_recorded_fields(emu: NotionEmulator, server: RunningEmulator) -> None:
    present = total = 0
    report = {}
    for path in FIXTURES:
        fixture = recorded.load(path)
        result = recorded.compare(fixture, exchange(emu, server, fixture))
        present, total = present + result.present, total + result.total
        report[path.stem] = result.missing
        print(path.stem, "missing:", result.missing, "mismatched:", result.mismatched)
    share = present / total
    print(f"notion: {present}/{total} recorded fields present ({share:.1%})")
    assert share >= 0.95, {k: v for k, v in report.items() if v}


def test_pmtui_reads_only_fields_notion_sends() -> None:
    for stem, reads in PMTUI_READS.items():
        fixture = recorded.load(recorded.RECORDED / "notion" / f"{stem}.json")
        assert recorded.unread(reads, [fixture]) == [], stem


def test_the_comment_author_bug_is_what_this_check_catches() -> None:
    """Reading ``created_by.name`` (what pmtui did before #21) is a field Notion never sends."""
    fixture = recorded.load(recorded.RECORDED / "notion" / "comments-list.json")
    assert recorded.unread(["results[].created_by.name"], [fixture]) == ["results[].created_by.name"]
