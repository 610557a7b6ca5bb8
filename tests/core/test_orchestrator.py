"""The AgentOrchestrator end to end: rule planner -> router -> processor -> three emulated services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmtui.config import load_settings
from pmtui.core.agent.rules import RulePlanner
from pmtui.core.engine import Engine
from pmtui.core.orchestrator import AgentOrchestrator
from pmtui.core.store import Store
from pmtui.models import ResultStatus, Service
from pmtui.sandbox.runner import Sandbox, start_sandbox

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SERVICES = ("motion", "notion", "gitlab")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(seed="demo", services=SERVICES) as running:
        yield running


@pytest.fixture
def orchestrator(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AgentOrchestrator]:
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    overrides = sandbox.settings_dict()
    for section in overrides.values():
        section["requests_per_minute"] = 60000
    settings = load_settings(overrides={**overrides, "timezone": "Europe/Berlin"})
    with Engine(settings, Store(tmp_path / "cache.duckdb")) as engine:
        yield AgentOrchestrator(engine, RulePlanner())


def _names(sandbox: Sandbox) -> dict[str, list[str]]:
    state = {s: sandbox.emulator(s).state for s in SERVICES}
    notion_titles = [
        "".join(part["plain_text"] for part in page["values"].get("title", []))
        for page in state["notion"]["pages"].values()
        if page["data_source_id"] == state["notion"]["tasks_data_source_id"] and not page["in_trash"]
    ]
    return {
        "motion": [t["name"] for t in state["motion"]["tasks"].values()],
        "gitlab": [i["title"] for i in state["gitlab"]["issues"].values()],
        "notion": notion_titles,
    }


def test_project_with_tasks_across_services(orchestrator: AgentOrchestrator, sandbox: Sandbox) -> None:
    before = _names(sandbox)
    result = orchestrator.process_user_request(
        'new project "Q1 launch party" with tasks: Write venue guide; Review MR for the pipeline; '
        "Book catering due 2026-12-05",
        now=NOW,
    )
    assert result.status == "done", result.summary()
    services = {r.message.split("'")[1]: r.service for r in result.results if r.type == "create_task"}
    assert services == {
        "Write venue guide": Service.NOTION,
        "Review MR for the pipeline": Service.GITLAB,
        "Book catering": Service.MOTION,
    }
    after = _names(sandbox)
    assert after["notion"].count("Write venue guide") == 1
    assert after["gitlab"].count("Review MR for the pipeline") == 1
    assert after["motion"].count("Book catering") == 1
    assert len(after["motion"]) == len(before["motion"]) + 1
    why = {ref: route.explanation for ref, route in result.routes.items()}
    assert any("Notion: word `write` -> documentation" in text for text in why.values())
    assert any("GitLab: word `mr` -> code" in text for text in why.values())
    stored = {t.title: t for t in orchestrator.engine.store.list_tasks()}
    project_ids = {stored[name].project_id for name in services}
    assert len(project_ids) == 1
    assert None not in project_ids
    assert "created 'Book catering' in Motion" in result.summary()
    json.dumps(result.to_dict(), default=str)


def test_dry_run_makes_no_remote_call(orchestrator: AgentOrchestrator, sandbox: Sandbox) -> None:
    sandbox.reset_counts()
    result = orchestrator.plan_request('new project "Dry" with tasks: a; b due fri', now=NOW)
    assert result.status == "planned"
    assert len(result.plan_lines()) == 3
    assert all(counts["total"] == 0 for counts in sandbox.request_counts().values())


def test_ambiguity_asks_instead_of_guessing(orchestrator: AgentOrchestrator) -> None:
    orchestrator.process_user_request("task Fix login page due fri @motion", now=NOW)
    orchestrator.process_user_request("task Fix login email due fri @motion", now=NOW)
    result = orchestrator.process_user_request("done login", now=NOW)
    assert result.status == "question"
    assert result.plan.question is not None
    assert {c.label.split(" (")[0] for c in result.plan.question.choices} >= {
        "Fix login page",
        "Fix login email",
    }


def test_unreadable_request_gets_an_example(orchestrator: AgentOrchestrator) -> None:
    result = orchestrator.process_user_request("blorp the wibble", now=NOW)
    assert result.status == "nothing"
    assert "Try:" in result.summary()


def test_queries_are_answered_from_the_cache(orchestrator: AgentOrchestrator) -> None:
    orchestrator.process_user_request("task Pay invoice due 2026-11-20 @motion", now=NOW)
    result = orchestrator.process_user_request("what is overdue?")
    assert result.status == "done"
    titles = [row["title"] for rows in result.answers.values() for row in rows]
    assert "Pay invoice" in titles


def test_failure_is_reported_with_its_hint(orchestrator: AgentOrchestrator, sandbox: Sandbox) -> None:
    from pmtui.sandbox.server import Fault

    sandbox.emulator("gitlab").add_fault(Fault("error", value=403, count=None, method="POST"))
    result = orchestrator.process_user_request("task Review MR 7 pipeline", now=NOW)
    assert result.status == "failed"
    failed = [r for r in result.results if r.status is ResultStatus.FAILED]
    assert failed
    assert failed[0].hint
    assert "failed" in result.summary()


def test_agent_created_task_carries_its_decisions_and_a_handle(orchestrator: AgentOrchestrator) -> None:
    result = orchestrator.process_user_request("task Book venue due 2026-12-05 @motion", now=NOW)
    assert result.status == "done", result.summary()
    [created] = result.results
    assert created.entity_id is not None
    store = orchestrator.engine.store
    kinds = {decision.kind for decision in store.decisions(task_id=created.entity_id)}
    assert {"plan", "route"} <= kinds  # "Decisions" in the task's detail is not empty
    handle = store.handles_for([created.entity_id])[created.entity_id]
    assert handle.startswith("M-")
    assert [task.id for task in store.find_tasks(handle.lower())] == [created.entity_id]


def test_refused_request_plans_nothing(orchestrator: AgentOrchestrator, sandbox: Sandbox) -> None:
    sandbox.reset_counts()
    result = orchestrator.process_user_request("task Call mom due 31/02", now=NOW)
    assert result.status == "refused"
    assert result.plan.actions == []
    assert "there is no 31 February" in result.summary()
    assert all(counts["total"] == 0 for counts in sandbox.request_counts().values())


def test_a_failure_names_the_task_by_handle_and_title_not_its_id(
    orchestrator: AgentOrchestrator, sandbox: Sandbox
) -> None:
    from pmtui.models import DeleteTask
    from pmtui.sandbox.server import Fault

    created = orchestrator.process_user_request("task Book venue due 2026-12-05 @motion", now=NOW).results[0]
    assert created.entity_id is not None
    sandbox.emulator("motion").add_fault(Fault.from_dict({"kind": "error", "value": 400, "count": None}))
    result = orchestrator.execute_action(DeleteTask(ref="a1", task=created.entity_id))
    assert result.status is ResultStatus.FAILED
    text = f"{result.message} {result.error}"
    assert created.entity_id not in text
    assert "M-1 'Book venue'" in result.message
