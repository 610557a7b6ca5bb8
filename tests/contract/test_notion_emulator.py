"""Contract tests of the Notion emulator, driven through the real notion-client 3.1 over HTTP.

They pin what pmtui's Notion integration relies on: data source discovery and schema edits, query
pagination and request counts, the minute-rounded ``last_edited_time`` filter, property and compound
filters, sorts, page writes and their validation errors, the client's own 429 retry, and injected faults.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from notion_client import APIResponseError, Client
from notion_client.client import RetryOptions
from notion_client.errors import HTTPResponseError
from notion_client.helpers import collect_paginated_api

from pmtui.sandbox.notion import DEFAULT_API_KEY, NotionEmulator
from pmtui.sandbox.server import Clock, Fault, RunningEmulator, serving

NOW = datetime(2026, 11, 24, 10, 15, 30, tzinfo=UTC)
QUERY = "POST /v1/data_sources/:data_source_id/query"
FAST_RETRY = RetryOptions(max_retries=2, initial_retry_delay_ms=20, max_retry_delay_ms=2000)


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.set(NOW, frozen=True)
    return clock


@pytest.fixture
def emu(clock: Clock) -> NotionEmulator:
    emulator = NotionEmulator(clock=clock, seed=7)
    emulator.seed({"kind": "demo"})
    return emulator


@pytest.fixture
def server(emu: NotionEmulator) -> Iterator[RunningEmulator]:
    with serving(emu) as running:
        yield running


@pytest.fixture
def client(server: RunningEmulator) -> Iterator[Client]:
    with Client(auth=DEFAULT_API_KEY, base_url=server.url, retry=FAST_RETRY) as notion:
        yield notion


@pytest.fixture
def hints(emu: NotionEmulator) -> dict[str, Any]:
    return emu.config_hints()


def titles(pages: list[dict[str, Any]]) -> list[str]:
    return ["".join(t["plain_text"] for t in p["properties"]["Name"]["title"]) for p in pages]


def query_all(client: Client, ds_id: str, **kwargs: Any) -> list[dict[str, Any]]:
    return collect_paginated_api(client.data_sources.query, data_source_id=ds_id, **kwargs)


def same_object(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """Two reads of one object are equal but for ``request_id``, which is new on every response."""
    return {k: v for k, v in got.items() if k != "request_id"} == {
        k: v for k, v in want.items() if k != "request_id"
    }


def find_task(client: Client, ds_id: str, title: str) -> dict[str, Any]:
    found = client.data_sources.query(ds_id, filter={"property": "Name", "title": {"equals": title}})
    assert len(found["results"]) == 1, title
    return found["results"][0]


# ---------------------------------------------------------------------------------------- discovery


def test_users_me_list_and_retrieve(client: Client, hints: dict[str, Any]) -> None:
    me = client.users.me()
    assert me["object"] == "user"
    assert me["id"] == hints["bot_user_id"]
    assert me["type"] == "bot"
    assert me["bot"]["owner"] == {"type": "workspace", "workspace": True}
    first = client.users.list(page_size=2)
    assert len(first["results"]) == 2
    assert first["has_more"] is True
    assert first["type"] == "user"
    everyone = collect_paginated_api(client.users.list, page_size=2)
    assert len(everyone) == 4
    assert len({u["id"] for u in everyone}) == 4
    person = next(u for u in everyone if u["type"] == "person")
    assert client.users.retrieve(person["id"])["person"]["email"].endswith("@acme.example")


def test_database_is_a_container_listing_its_data_source(client: Client, hints: dict[str, Any]) -> None:
    database = client.databases.retrieve(hints["tasks_database_id"])
    assert database["object"] == "database"
    assert database["data_sources"] == [{"id": hints["tasks_data_source_id"], "name": "Tasks"}]
    assert database["archived"] is False
    assert database["in_trash"] is False
    with pytest.raises(APIResponseError) as caught:
        # A data source id is not a database id.
        client.databases.retrieve(hints["tasks_data_source_id"])
    assert caught.value.code == "object_not_found"
    assert caught.value.status == 404


def test_data_source_schema(client: Client, hints: dict[str, Any]) -> None:
    ds = client.data_sources.retrieve(hints["tasks_data_source_id"])
    assert ds["object"] == "data_source"
    assert ds["parent"] == {"type": "database_id", "database_id": hints["tasks_database_id"]}
    props = ds["properties"]
    types = {name: p["type"] for name, p in props.items()}
    assert types == {
        "Name": "title",
        "Status": "status",
        "Due": "date",
        "Priority": "select",
        "Tags": "multi_select",
        "Project": "relation",
        "Assignee": "people",
        "Description": "rich_text",
        "URL": "url",
    }
    assert props["Name"]["id"] == "title"
    assert all(p["name"] == name for name, p in props.items())
    status = props["Status"]["status"]
    assert [o["name"] for o in status["options"]] == ["Not started", "In progress", "Done"]
    assert [g["name"] for g in status["groups"]] == ["To-do", "In progress", "Complete"]
    done_id = next(o["id"] for o in status["options"] if o["name"] == "Done")
    assert status["groups"][2]["option_ids"] == [done_id]
    assert [o["name"] for o in props["Priority"]["select"]["options"]] == ["Urgent", "High", "Medium", "Low"]
    assert props["Project"]["relation"]["data_source_id"] == hints["projects_data_source_id"]
    assert props["Project"]["relation"]["database_id"] == hints["projects_database_id"]


def test_data_source_update_adds_renames_and_removes(
    client: Client, hints: dict[str, Any], clock: Clock
) -> None:
    ds_id = hints["tasks_data_source_id"]
    before = client.data_sources.retrieve(ds_id)
    url_id = before["properties"]["URL"]["id"]
    clock.advance(300)
    updated = client.data_sources.update(
        ds_id,
        properties={
            "Estimate": {"number": {"format": "number"}},
            "Blocked": {"checkbox": {}},
            "URL": {"name": "Link"},
            "Tags": None,
        },
        title=[{"type": "text", "text": {"content": "Doc tasks"}}],
    )
    props = updated["properties"]
    assert props["Estimate"]["type"] == "number"
    assert props["Blocked"]["type"] == "checkbox"
    assert "URL" not in props
    assert props["Link"]["id"] == url_id
    assert "Tags" not in props
    assert updated["title"][0]["plain_text"] == "Doc tasks"
    assert updated["last_edited_time"] == "2026-11-24T10:20:00.000Z"
    assert client.databases.retrieve(hints["tasks_database_id"])["data_sources"][0]["name"] == "Doc tasks"
    # Renaming keeps the values: the demo gives every fourth task a URL.
    page = find_task(client, ds_id, "Write onboarding guide")
    assert page["properties"]["Link"]["url"] == "https://docs.acme.example/write-onboarding-guide"
    assert "Tags" not in page["properties"]
    with pytest.raises(APIResponseError) as caught:
        client.data_sources.update(ds_id, properties={"Name": None})
    assert caught.value.code == "validation_error"


# ---------------------------------------------------------------------------------------------- query


def test_query_paginates_600_pages_in_six_requests(clock: Clock) -> None:
    emulator = NotionEmulator(clock=clock, seed=3)
    assert emulator.seed({"kind": "bulk", "n": 600})["pages"] == 600
    ds_id = emulator.config_hints()["tasks_data_source_id"]
    with serving(emulator) as running, Client(auth=DEFAULT_API_KEY, base_url=running.url) as notion:
        first = notion.data_sources.query(ds_id)
        assert len(first["results"]) == 100  # default page_size is 100
        assert first["object"] == "list"
        assert first["type"] == "page_or_data_source"
        assert first["page_or_data_source"] == {}
        emulator.reset_counts()
        pages = query_all(notion, ds_id, page_size=100)
        assert len(pages) == 600
        assert len({p["id"] for p in pages}) == 600
        assert emulator.request_counts()[QUERY] == 6
        sorted_pages = query_all(notion, ds_id, sorts=[{"property": "Name", "direction": "descending"}])
        assert titles(sorted_pages)[:2] == ["Task 00600", "Task 00599"]
        assert len({p["id"] for p in sorted_pages}) == 600


def test_query_page_size_is_capped_at_100(client: Client, hints: dict[str, Any]) -> None:
    with pytest.raises(APIResponseError) as caught:
        client.data_sources.query(hints["tasks_data_source_id"], page_size=101)
    assert caught.value.code == "validation_error"
    assert caught.value.status == 400
    with pytest.raises(APIResponseError) as bad_cursor:
        client.data_sources.query(hints["tasks_data_source_id"], start_cursor="not-a-cursor")
    assert bad_cursor.value.code == "validation_error"


def test_last_edited_time_filter_sees_only_changed_pages_at_minute_precision(
    client: Client, emu: NotionEmulator, hints: dict[str, Any], clock: Clock
) -> None:
    ds_id = hints["tasks_data_source_id"]
    target = find_task(client, ds_id, "Write onboarding guide")
    other = find_task(client, ds_id, "Review style guide")
    clock.advance(120)  # 10:17:30
    edited = emu.admin_mutate(
        {"op": "update", "kind": "page", "id": target["id"], "fields": {"Status": "Done"}}
    )
    emu.admin_mutate({"op": "update", "kind": "page", "id": other["id"], "fields": {"Priority": "Urgent"}})
    # Rounded down to the minute, like real Notion.
    assert edited["last_edited_time"] == "2026-11-24T10:17:00.000Z"
    assert edited["properties"]["Status"]["status"]["name"] == "Done"
    assert edited["last_edited_by"]["id"] != hints["bot_user_id"]
    since = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2026-11-24T10:17:00Z"}}
    changed = query_all(client, ds_id, filter=since)
    assert sorted(titles(changed)) == ["Review style guide", "Write onboarding guide"]
    # The edit happened at 10:17:30, yet "after 10:17:00" misses it: why a sync must overlap.
    strictly_after = {"timestamp": "last_edited_time", "last_edited_time": {"after": "2026-11-24T10:17:00Z"}}
    assert query_all(client, ds_id, filter=strictly_after) == []
    before = {"timestamp": "last_edited_time", "last_edited_time": {"before": "2026-11-24T10:17:00Z"}}
    assert len(query_all(client, ds_id, filter=before)) == 28


def test_property_filters(client: Client, hints: dict[str, Any], emu: NotionEmulator) -> None:
    ds_id = hints["tasks_data_source_id"]

    def count(flt: dict[str, Any]) -> list[str]:
        return titles(query_all(client, ds_id, filter=flt))

    done = count({"property": "Status", "status": {"equals": "Done"}})
    assert len(done) == 5
    assert "Update installation instructions" in done
    assert len(count({"property": "Status", "status": {"does_not_equal": "Done"}})) == 25
    assert len(count({"property": "Priority", "select": {"equals": "Urgent"}})) == 3
    assert "Write API reference" in count({"property": "Tags", "multi_select": {"contains": "api"}})
    assert len(count({"property": "Tags", "multi_select": {"does_not_contain": "docs"}})) == 13
    guides = count({"property": "Name", "title": {"contains": "GUIDE"}})
    assert sorted(guides) == [
        "Review style guide",
        "Write contribution guide",
        "Write migration guide from 1.x",
        "Write onboarding guide",
    ]
    assert count({"property": "Name", "rich_text": {"starts_with": "Release notes"}}) == [
        "Release notes 1.4",
        "Release notes 1.3",
    ]
    assert len(count({"property": "Due", "date": {"is_empty": True}})) == 4
    assert len(count({"property": "Due", "date": {"before": "2026-11-24"}})) == 8
    assert len(count({"property": "Due", "date": {"equals": "2026-11-24"}})) == 2
    assert len(count({"property": "Due", "date": {"on_or_after": "2026-11-24"}})) == 18
    assert len(count({"property": "Due", "date": {"next_week": {}}})) == 12
    assert len(count({"property": "Description", "rich_text": {"is_not_empty": True}})) == 6
    ada = next(u for u in client.users.list()["results"] if u.get("name") == "Ada Lovelace")
    assert len(count({"property": "Assignee", "people": {"contains": ada["id"]}})) == 10
    docs_sprint = client.data_sources.query(
        hints["projects_data_source_id"], filter={"property": "Name", "title": {"equals": "Docs sprint"}}
    )["results"][0]
    assert len(count({"property": "Project", "relation": {"contains": docs_sprint["id"]}})) == 14
    client.data_sources.update(ds_id, properties={"Blocked": {"checkbox": {}}})
    page = find_task(client, ds_id, "Write API reference")
    client.pages.update(page["id"], properties={"Blocked": {"checkbox": True}})
    assert count({"property": "Blocked", "checkbox": {"equals": True}}) == ["Write API reference"]
    assert len(count({"property": "Blocked", "checkbox": {"equals": False}})) == 29


def test_compound_filters_nest(client: Client, hints: dict[str, Any]) -> None:
    ds_id = hints["tasks_data_source_id"]
    flt = {
        "and": [
            {"property": "Status", "status": {"does_not_equal": "Done"}},
            {
                "or": [
                    {"property": "Priority", "select": {"equals": "Urgent"}},
                    {
                        "and": [
                            {"property": "Tags", "multi_select": {"contains": "api"}},
                            {"property": "Due", "date": {"on_or_before": "2026-11-25"}},
                        ]
                    },
                ]
            },
        ]
    }
    found = sorted(titles(query_all(client, ds_id, filter=flt)))
    assert found == [
        "Add code samples for webhooks",
        "Document rate limits",
        "Fix broken links in docs",
        "Write API reference",
        "Write security overview",
    ]
    too_deep = {"and": [{"or": [{"and": [{"or": [{"property": "Status", "status": {"equals": "Done"}}]}]}]}]}
    with pytest.raises(APIResponseError) as caught:
        client.data_sources.query(ds_id, filter=too_deep)
    assert caught.value.code == "validation_error"


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ({"property": "Nope", "title": {"equals": "x"}}, "Could not find property with name or id: Nope"),
        (
            {"property": "Status", "select": {"equals": "Done"}},
            "database property status does not match filter",
        ),
        ({"property": "Due", "date": {"sometime": "2026"}}, "sometime"),
        ({"property": "Priority", "select": {"equals": 3}}, "should be a string"),
        ({"timestamp": "edited", "edited": {"after": "2026-01-01"}}, "body.filter.timestamp"),
    ],
)
def test_bad_filters_are_validation_errors(
    client: Client, hints: dict[str, Any], flt: dict[str, Any], message: str
) -> None:
    with pytest.raises(APIResponseError) as caught:
        client.data_sources.query(hints["tasks_data_source_id"], filter=flt)
    assert caught.value.code == "validation_error"
    assert caught.value.status == 400
    assert message in str(caught.value)


def test_sorts_first_wins_empties_last_and_ties_by_id(client: Client, hints: dict[str, Any]) -> None:
    ds_id = hints["tasks_data_source_id"]
    by_due = query_all(client, ds_id, sorts=[{"property": "Due", "direction": "ascending"}])
    starts = [p["properties"]["Due"]["date"] and p["properties"]["Due"]["date"]["start"] for p in by_due]
    dated = [s for s in starts if s]
    assert dated == sorted(dated)
    assert starts[-4:] == [None] * 4
    by_priority = query_all(
        client,
        ds_id,
        sorts=[
            {"property": "Priority", "direction": "ascending"},
            {"timestamp": "created_time", "direction": "descending"},
        ],
    )
    names = [p["properties"]["Priority"]["select"]["name"] for p in by_priority]
    order = ["Urgent", "High", "Medium", "Low"]
    assert names == sorted(names, key=order.index)  # option order, not alphabetical
    urgent = [
        p["created_time"] for p in by_priority if p["properties"]["Priority"]["select"]["name"] == "Urgent"
    ]
    assert urgent == sorted(urgent, reverse=True)
    with pytest.raises(APIResponseError) as caught:
        client.data_sources.query(ds_id, sorts=[{"property": "Nope", "direction": "ascending"}])
    assert caught.value.code == "validation_error"


def test_sorted_cursor_is_stable_when_rows_change_between_pages(
    client: Client, hints: dict[str, Any], emu: NotionEmulator
) -> None:
    ds_id = hints["tasks_data_source_id"]
    sorts = [{"property": "Name", "direction": "ascending"}]
    first = client.data_sources.query(ds_id, sorts=sorts, page_size=10)
    # Another user renames a row of the first page so that it now sorts last.
    moved = first["results"][0]["id"]
    emu.admin_mutate({"op": "update", "kind": "page", "id": moved, "fields": {"Name": "Zzz last task"}})
    rest = collect_paginated_api(
        client.data_sources.query,
        data_source_id=ds_id,
        sorts=sorts,
        page_size=10,
        start_cursor=first["next_cursor"],
    )
    seen = [p["id"] for p in first["results"]] + [p["id"] for p in rest]
    assert len(seen) == 31  # the moved row shows up again at the end, nothing is skipped
    assert len(set(seen)) == 30
    assert titles(rest)[-1] == "Zzz last task"
    rest_titles = [t.casefold() for t in titles(rest)]
    assert rest_titles == sorted(rest_titles)


# ---------------------------------------------------------------------------------------------- pages


def test_page_create_retrieve_update_trash(client: Client, hints: dict[str, Any], clock: Clock) -> None:
    ds_id = hints["tasks_data_source_id"]
    person = next(u for u in client.users.list()["results"] if u["type"] == "person")
    project = client.data_sources.query(hints["projects_data_source_id"], page_size=1)["results"][0]
    created = client.pages.create(
        parent={"type": "data_source_id", "data_source_id": ds_id},
        properties={
            "Name": {"title": [{"type": "text", "text": {"content": "Write FAQ v2"}}]},
            "Status": {"status": {"name": "In progress"}},
            "Due": {"date": {"start": "2026-12-01"}},
            "Priority": {"select": {"name": "Someday"}},
            "Tags": {"multi_select": [{"name": "docs"}, {"name": "faq"}]},
            "Assignee": {"people": [{"object": "user", "id": person["id"]}]},
            "Project": {"relation": [{"id": project["id"]}]},
            "Description": {"rich_text": [{"text": {"content": "All the questions."}}]},
            "URL": {"url": "https://docs.acme.example/faq"},
        },
        children=[
            {
                "object": "block",
                "type": "paragraph",
                "paragraph": {"rich_text": [{"text": {"content": "One."}}]},
            }
        ],
        icon={"type": "emoji", "emoji": "📘"},
    )
    assert created["object"] == "page"
    assert created["parent"] == {
        "type": "data_source_id",
        "data_source_id": ds_id,
        "database_id": hints["tasks_database_id"],
    }
    assert created["created_time"] == created["last_edited_time"] == "2026-11-24T10:15:00.000Z"
    assert created["created_by"] == {"object": "user", "id": hints["bot_user_id"]}
    assert created["url"] == f"https://www.notion.so/Write-FAQ-v2-{created['id'].replace('-', '')}"
    assert created["public_url"] is None
    assert created["icon"] == {"type": "emoji", "emoji": "📘"}
    props = created["properties"]
    assert props["Name"]["title"][0]["plain_text"] == "Write FAQ v2"
    assert props["Name"]["title"][0]["annotations"]["bold"] is False
    assert props["Name"]["title"][0]["href"] is None
    assert props["Status"]["status"]["name"] == "In progress"
    assert props["Due"]["date"] == {"start": "2026-12-01", "end": None, "time_zone": None}
    assert props["Priority"]["select"]["name"] == "Someday"
    assert [t["name"] for t in props["Tags"]["multi_select"]] == ["docs", "faq"]
    assert props["Assignee"]["people"][0]["id"] == person["id"]
    assert props["Project"] == {
        "id": props["Project"]["id"],
        "type": "relation",
        "relation": [{"id": project["id"]}],
        "has_more": False,
    }
    schema = client.data_sources.retrieve(ds_id)["properties"]
    assert "Someday" in [o["name"] for o in schema["Priority"]["select"]["options"]]
    assert "faq" in [o["name"] for o in schema["Tags"]["multi_select"]["options"]]
    assert same_object(client.pages.retrieve(created["id"]), created)
    blocks = client.blocks.children.list(created["id"])["results"]
    assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in blocks] == ["One."]

    clock.advance(90)
    updated = client.pages.update(
        created["id"], properties={"Status": {"status": {"name": "Done"}}, "Due": {"date": None}}
    )
    assert updated["properties"]["Status"]["status"]["name"] == "Done"
    assert updated["properties"]["Due"]["date"] is None
    assert updated["last_edited_time"] == "2026-11-24T10:17:00.000Z"
    assert updated["created_time"] == "2026-11-24T10:15:00.000Z"

    trashed = client.pages.update(created["id"], in_trash=True)
    assert trashed["in_trash"] is True
    assert trashed["archived"] is True
    assert created["id"] not in {p["id"] for p in query_all(client, ds_id)}
    assert client.pages.retrieve(created["id"])["in_trash"] is True
    with pytest.raises(APIResponseError) as caught:
        client.pages.update(created["id"], properties={"Status": {"status": {"name": "In progress"}}})
    assert caught.value.code == "validation_error"
    restored = client.pages.update(created["id"], archived=False)
    assert restored["in_trash"] is False
    assert created["id"] in {p["id"] for p in query_all(client, ds_id)}


def test_page_create_accepts_database_id_parent_and_defaults(client: Client, hints: dict[str, Any]) -> None:
    page = client.pages.create(
        parent={"database_id": hints["tasks_database_id"]},
        properties={"Name": {"title": [{"text": {"content": "Bare task"}}]}},
    )
    assert page["parent"]["data_source_id"] == hints["tasks_data_source_id"]
    props = page["properties"]
    assert props["Status"]["status"]["name"] == "Not started"
    assert props["Priority"]["select"] is None
    assert props["Tags"]["multi_select"] == []
    assert props["Due"]["date"] is None
    assert props["URL"]["url"] is None


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"Nope": {"rich_text": []}}, "Nope is not a property that exists."),
        ({"Name": {"title": "plain string"}}, "body.properties.Name.title should be an array"),
        ({"Name": {"rich_text": []}}, "body.properties.Name.title should be defined"),
        ({"Status": {"status": {"name": "Blocked"}}}, 'Status option "Blocked" does not exist'),
        ({"Description": {"rich_text": [{"text": {"content": "x" * 2001}}]}}, "should be ≤ `2000`"),
        ({"Due": {"date": {"start": "tomorrow"}}}, "body.properties.Due.date.start"),
        ({"URL": {"url": 42}}, "body.properties.URL.url"),
        ({"Assignee": {"people": [{"id": "not-a-uuid"}]}}, "should be a valid uuid"),
    ],
)
def test_page_create_validation_errors(
    client: Client, hints: dict[str, Any], emu: NotionEmulator, properties: dict[str, Any], message: str
) -> None:
    before = len(emu.state["pages"])
    with pytest.raises(APIResponseError) as caught:
        client.pages.create(parent={"data_source_id": hints["tasks_data_source_id"]}, properties=properties)
    assert caught.value.code == "validation_error"
    assert caught.value.status == 400
    assert message in str(caught.value)
    assert len(emu.state["pages"]) == before


def test_page_property_item(client: Client, hints: dict[str, Any]) -> None:
    page = find_task(client, hints["tasks_data_source_id"], "Write API reference")
    status_id = page["properties"]["Status"]["id"]
    item = client.pages.properties.retrieve(page["id"], status_id)
    assert isinstance(item.pop("request_id"), str)
    assert item == {
        "object": "property_item",
        "id": status_id,
        "type": "status",
        "status": page["properties"]["Status"]["status"],
    }
    title = client.pages.properties.retrieve(page["id"], "title")
    assert title["object"] == "list"
    assert title["results"][0]["title"]["plain_text"] == "Write API reference"
    assert title["property_item"]["type"] == "title"


def test_version_2026_emits_in_trash_only(server: RunningEmulator, hints: dict[str, Any]) -> None:
    with Client(auth=DEFAULT_API_KEY, base_url=server.url, notion_version="2026-03-11") as notion:
        page = notion.data_sources.query(hints["tasks_data_source_id"], page_size=1)["results"][0]
        assert "archived" not in page
        assert page["in_trash"] is False
        with pytest.raises(APIResponseError) as caught:
            notion.pages.update(page["id"], archived=True)
        assert caught.value.code == "validation_error"
        assert notion.pages.update(page["id"], in_trash=True)["in_trash"] is True


# -------------------------------------------------------------------------------- blocks, comments, search


def test_block_children_append_and_list(client: Client, hints: dict[str, Any], clock: Clock) -> None:
    page = find_task(client, hints["tasks_data_source_id"], "Glossary of terms")
    assert client.blocks.children.list(page["id"])["results"] == []
    clock.advance(600)
    appended = client.blocks.children.append(
        page["id"],
        children=[
            {"type": "heading_2", "heading_2": {"rich_text": [{"text": {"content": "Terms"}}]}},
            {
                "type": "paragraph",
                "paragraph": {"rich_text": [{"text": {"content": "Data source: a table."}}]},
            },
            {"type": "to_do", "to_do": {"rich_text": [{"text": {"content": "Add more"}}], "checked": False}},
            {
                "type": "bulleted_list_item",
                "bulleted_list_item": {"rich_text": [{"text": {"content": "Page"}}]},
            },
        ],
    )
    assert [b["type"] for b in appended["results"]] == [
        "heading_2",
        "paragraph",
        "to_do",
        "bulleted_list_item",
    ]
    assert appended["results"][0]["parent"] == {"type": "page_id", "page_id": page["id"]}
    first = client.blocks.children.list(page["id"], page_size=3)
    assert len(first["results"]) == 3
    assert first["has_more"] is True
    everything = collect_paginated_api(client.blocks.children.list, block_id=page["id"], page_size=3)
    assert [b["id"] for b in everything] == [b["id"] for b in appended["results"]]
    assert everything[2]["to_do"]["checked"] is False
    assert client.pages.retrieve(page["id"])["last_edited_time"] == "2026-11-24T10:25:00.000Z"
    too_many = [{"type": "paragraph", "paragraph": {"rich_text": []}}] * 101
    with pytest.raises(APIResponseError) as caught:
        client.blocks.children.append(page["id"], children=too_many)
    assert caught.value.code == "validation_error"


def test_demo_descriptions_are_paragraph_blocks(client: Client, hints: dict[str, Any]) -> None:
    page = find_task(client, hints["tasks_data_source_id"], "Write onboarding guide")
    blocks = client.blocks.children.list(page["id"])["results"]
    assert [b["type"] for b in blocks] == ["paragraph", "paragraph"]
    text = " ".join(b["paragraph"]["rich_text"][0]["plain_text"] for b in blocks)
    assert text == "".join(t["plain_text"] for t in page["properties"]["Description"]["rich_text"])


def test_comments_create_and_list(client: Client, hints: dict[str, Any]) -> None:
    page = find_task(client, hints["tasks_data_source_id"], "Write onboarding guide")
    existing = client.comments.list(block_id=page["id"])
    assert len(existing["results"]) == 2
    assert existing["type"] == "comment"
    made = client.comments.create(
        parent={"page_id": page["id"]}, rich_text=[{"text": {"content": "Shipped!"}}]
    )
    assert made["object"] == "comment"
    assert made["parent"] == {"type": "page_id", "page_id": page["id"]}
    assert made["created_by"] == {"object": "user", "id": hints["bot_user_id"]}
    assert made["created_time"] == "2026-11-24T10:15:00.000Z"
    reply = client.comments.create(
        discussion_id=made["discussion_id"], rich_text=[{"text": {"content": "Yay"}}]
    )
    assert reply["discussion_id"] == made["discussion_id"]
    listed = collect_paginated_api(client.comments.list, block_id=page["id"], page_size=2)
    assert [c["rich_text"][0]["plain_text"] for c in listed][-2:] == ["Shipped!", "Yay"]
    assert len(listed) == 4


def test_search(client: Client, hints: dict[str, Any]) -> None:
    found = client.search(query="onboarding guide")
    assert titles(found["results"]) == ["Write onboarding guide"]
    sources = client.search(filter={"property": "object", "value": "data_source"})["results"]
    assert sorted(s["id"] for s in sources) == sorted(
        [hints["tasks_data_source_id"], hints["projects_data_source_id"]]
    )
    pages = collect_paginated_api(client.search, filter={"property": "object", "value": "page"}, page_size=10)
    assert len(pages) == 33
    edited = [p["last_edited_time"] for p in pages]
    assert edited == sorted(edited, reverse=True)


# ------------------------------------------------------------------------------ headers, errors, faults


def test_version_2022_06_28_is_served_as_databases(server: RunningEmulator, hints: dict[str, Any]) -> None:
    """2022-06-28, still served by Notion, has no data sources: a database holds the schema and pages."""
    with Client(auth=DEFAULT_API_KEY, base_url=server.url, notion_version="2022-06-28") as old:
        database = old.databases.retrieve(hints["tasks_database_id"])
        assert database["object"] == "database"
        assert "data_sources" not in database
        assert database["properties"]["Status"]["type"] == "status"
        assert database["properties"]["Project"]["relation"]["database_id"] == hints["projects_database_id"]
        assert "data_source_id" not in database["properties"]["Project"]["relation"]
        answer = old.request(
            path=f"databases/{hints['tasks_database_id']}/query", method="POST", body={"page_size": 5}
        )
        assert answer["object"] == "list"
        assert len(answer["results"]) == 5
        assert answer["has_more"]
        page = answer["results"][0]
        assert page["parent"] == {"type": "database_id", "database_id": hints["tasks_database_id"]}
        assert old.pages.retrieve(page["id"])["parent"] == page["parent"]
        created = old.pages.create(
            parent={"database_id": hints["tasks_database_id"]},
            properties={"Name": {"title": [{"text": {"content": "From an old integration"}}]}},
        )
        assert created["parent"]["type"] == "database_id"
        with pytest.raises(APIResponseError) as newer_route:
            old.data_sources.retrieve(hints["tasks_data_source_id"])
    assert (newer_route.value.status, newer_route.value.code) == (400, "invalid_request_url")
    with Client(auth=DEFAULT_API_KEY, base_url=server.url) as new, pytest.raises(APIResponseError) as gone:
        new.request(path=f"databases/{hints['tasks_database_id']}/query", method="POST", body={})
    assert (gone.value.status, gone.value.code) == (400, "invalid_request_url")


def test_missing_version_header_is_rejected(server: RunningEmulator) -> None:
    response = httpx.get(f"{server.url}/v1/users/me", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"object", "status", "code", "message", "request_id"}
    assert body["object"] == "error"
    assert body["status"] == 400
    assert body["code"] == "missing_version"


def test_bad_token_is_unauthorized(server: RunningEmulator) -> None:
    with Client(auth="ntn_wrong", base_url=server.url) as notion, pytest.raises(APIResponseError) as caught:
        notion.users.me()
    assert caught.value.code == "unauthorized"
    assert caught.value.status == 401
    missing = httpx.get(f"{server.url}/v1/users/me", headers={"Notion-Version": "2025-09-03"})
    assert missing.status_code == 401
    assert missing.json()["code"] == "unauthorized"


def test_unknown_ids_and_routes(client: Client, server: RunningEmulator) -> None:
    with pytest.raises(APIResponseError) as missing:
        client.pages.retrieve("00000000-0000-4000-8000-000000000000")
    assert missing.value.code == "object_not_found"
    with pytest.raises(APIResponseError) as malformed:
        client.pages.retrieve("abc")
    assert malformed.value.code == "validation_error"
    response = httpx.get(
        f"{server.url}/v1/nowhere",
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}", "Notion-Version": "2025-09-03"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request_url"


def test_client_retries_429_after_retry_after(client: Client, emu: NotionEmulator) -> None:
    emu.add_fault(Fault("rate_limit", value=1, count=1, path="/v1/users/me"))
    emu.reset_counts()
    assert client.users.me()["type"] == "bot"
    assert emu.request_counts()["GET /v1/users/me"] == 2


def test_rate_limit_budget_per_window(clock: Clock) -> None:
    emulator = NotionEmulator(clock=clock, rate_limit_requests=3)
    emulator.rate_limits_enabled = True
    with (
        serving(emulator) as running,
        Client(auth=DEFAULT_API_KEY, base_url=running.url, retry=False) as notion,
    ):
        for _ in range(3):
            notion.users.me()
        with pytest.raises(APIResponseError) as caught:
            notion.users.me()
        error = caught.value
        assert error.code == "rate_limited"
        assert error.status == 429
        retry_after = int(error.headers["retry-after"])
        assert 1 <= retry_after <= 60
        assert error.additional_data == {"rate_limit_reason": "connection_rate_limit"}
        clock.advance(retry_after)
        assert notion.users.me()["type"] == "bot"


def test_server_errors_retried_on_get_only(
    client: Client, emu: NotionEmulator, hints: dict[str, Any]
) -> None:
    page = find_task(client, hints["tasks_data_source_id"], "Write API reference")
    emu.add_fault(Fault("error", value=500, count=1, method="GET", path="/v1/pages/"))
    emu.reset_counts()
    assert client.pages.retrieve(page["id"])["id"] == page["id"]
    assert emu.request_counts()["GET /v1/pages/:page_id"] == 2
    emu.add_fault(Fault("error", value=503, count=1, method="PATCH", path="/v1/pages/"))
    with pytest.raises(APIResponseError) as caught:
        client.pages.update(page["id"], properties={"Status": {"status": {"name": "Done"}}})
    assert caught.value.code == "service_unavailable"
    assert emu.request_counts()["PATCH /v1/pages/:page_id"] == 1
    assert client.pages.retrieve(page["id"])["properties"]["Status"]["status"]["name"] == "In progress"


def test_service_overload_529(client: Client, emu: NotionEmulator) -> None:
    emu.add_fault(Fault("error", value=529, count=1, path="/v1/users/me"))
    with pytest.raises(HTTPResponseError) as caught:
        client.users.me()
    assert caught.value.status == 529
    assert caught.value.headers["retry-after"] == "1"
    assert '"code":"service_overload"' in caught.value.body


def test_commit_drop_on_create_applies_once(
    client: Client, emu: NotionEmulator, hints: dict[str, Any]
) -> None:
    ds_id = hints["tasks_data_source_id"]
    emu.add_fault(Fault("commit_drop", count=1, method="POST", path="/v1/pages"))
    with pytest.raises(httpx.TransportError):
        client.pages.create(
            parent={"data_source_id": ds_id},
            properties={"Name": {"title": [{"text": {"content": "Dropped answer"}}]}},
        )
    matches = query_all(client, ds_id, filter={"property": "Name", "title": {"equals": "Dropped answer"}})
    assert len(matches) == 1
    assert emu.request_counts()["POST /v1/pages"] == 1


def test_reset_before_update_applies_nothing(
    client: Client, emu: NotionEmulator, hints: dict[str, Any]
) -> None:
    page = find_task(client, hints["tasks_data_source_id"], "Write CLI reference")
    emu.add_fault(Fault("reset", count=1, method="PATCH"))
    with pytest.raises(httpx.TransportError):
        client.pages.update(page["id"], properties={"Status": {"status": {"name": "Done"}}})
    assert same_object(client.pages.retrieve(page["id"]), page)


# ------------------------------------------------------------------------------------ admin and seeds


def test_admin_mutate_over_http(
    server: RunningEmulator, client: Client, hints: dict[str, Any], clock: Clock
) -> None:
    clock.advance(3600)
    created = httpx.post(
        f"{server.url}/_sandbox/mutate",
        json={
            "op": "create",
            "kind": "page",
            "fields": {"Name": "From the web", "Status": "In progress", "Due": "2026-12-24"},
        },
    ).json()["result"]
    assert created["last_edited_time"] == "2026-11-24T11:15:00.000Z"
    assert created["properties"]["Due"]["date"]["start"] == "2026-12-24"
    httpx.post(f"{server.url}/_sandbox/mutate", json={"op": "delete", "kind": "page", "id": created["id"]})
    assert client.pages.retrieve(created["id"])["in_trash"] is True
    schema = httpx.post(
        f"{server.url}/_sandbox/mutate",
        json={
            "op": "update",
            "kind": "data_source",
            "id": hints["tasks_data_source_id"],
            "properties": {"Sprint": {"select": {}}},
        },
    ).json()["result"]
    assert schema["properties"]["Sprint"]["type"] == "select"
    assert schema["last_edited_time"] == "2026-11-24T11:15:00.000Z"


def test_seed_is_deterministic(clock: Clock) -> None:
    first, second, other = (
        NotionEmulator(clock=clock, seed=5),
        NotionEmulator(clock=clock, seed=5),
        NotionEmulator(clock=clock, seed=6),
    )
    for emulator in (first, second, other):
        emulator.seed({"kind": "demo"})
    assert first.snapshot() == second.snapshot()
    assert first.config_hints() == second.config_hints()
    assert first.config_hints()["tasks_data_source_id"] != other.config_hints()["tasks_data_source_id"]
    summary = first.seed({"kind": "demo"})
    assert summary["tasks"] == 30
    assert summary["projects"] == 3
    assert first.snapshot() == second.snapshot()


@pytest.mark.slow
def test_bulk_seed_marks_changed_share(clock: Clock) -> None:
    # How fast is the benchmarks' question (benchmarks/); pytest-timeout catches a seed that hangs.
    emulator = NotionEmulator(clock=clock)
    summary = emulator.seed({"kind": "bulk", "n": 50_000, "changed_share": 0.02})
    assert summary["pages"] == 50_000
    assert summary["changed"] == 1000
    edited_now = sum(1 for p in emulator.state["pages"].values() if p["edited"] == 1795515300)
    assert edited_now == 1000
