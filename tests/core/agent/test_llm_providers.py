"""The LLM planner through litellm's OpenAI, Anthropic and Ollama adapters, over real HTTP.

Each adapter builds a different request (Anthropic: a top-level system prompt, ``input_schema`` tools,
``tool_result`` blocks; Ollama: object arguments, no call ids) and parses a different answer, so each one
is run against ``benchmarks.model_server``, which speaks all three formats and rejects a request the real
service would reject. The planner reaches each provider only through ``[agent]`` settings.
"""

from __future__ import annotations

import importlib.util
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from benchmarks.model_server import (
    API_KEY,
    CHAT_PATHS,
    KEY_VARS,
    PROVIDERS,
    FixedDelayModel,
    Provider,
)
from pmtui.config import AgentSettings, Settings, load_settings
from pmtui.core.agent import make_planner
from pmtui.core.agent.context import PlannerContext, TaskHandle
from pmtui.core.agent.llm import LITELLM_ENV, LLMError, LLMPlanner, action_tools
from pmtui.core.engine import Engine
from pmtui.core.orchestrator import AgentOrchestrator
from pmtui.core.store import Store
from pmtui.models import CreateProject, CreateTask, ResultStatus, Service

if importlib.util.find_spec("litellm") is None:  # not importorskip: importing it here would skip its env
    pytest.skip("litellm is not installed", allow_module_level=True)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
REQUEST = "new project Q1 launch: write the spec by friday, book the venue on dec 1 at 3pm"
PROJECT_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("create_project", {"ref": "p1", "name": "Q1 launch", "due": "2026-12-05"}),
    ("create_task", {"ref": "t1", "title": "Write spec", "project": "p1", "due": "2026-11-27"}),
    ("create_task", {"ref": "t2", "title": "Book venue", "project": "Q1 launch", "due": "2026-12-01T15:00"}),
)
ANSWER = "Done: Q1 launch is created with 'Write spec' and 'Book venue'."
PLANNER_PROMPT = "You are the planner of pmtui"
TOOL_NAMES = {tool["function"]["name"] for tool in action_tools()}
# Environment that would send litellm somewhere other than the api_base under test.
STRAY_VARS = (
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "ANTHROPIC_API_BASE",
    "ANTHROPIC_BASE_URL",
    "OLLAMA_API_BASE",
)


@pytest.fixture(autouse=True)
def provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in KEY_VARS.values():
        if var is not None:
            monkeypatch.setenv(var, API_KEY)
    for name in LITELLM_ENV:  # restored after the test; the planner sets them before importing litellm
        monkeypatch.setenv(name, "")
    for name in STRAY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FixedDelayModel]:
    with FixedDelayModel(0.0, calls=PROJECT_CALLS, answer=ANSWER) as model:
        yield model


@pytest.fixture
def context() -> PlannerContext:
    return PlannerContext(
        now=NOW,
        tz=BERLIN,
        tasks=[TaskHandle(id="t-1", title="Fix login redirect", key="ENG-12", service=Service.LINEAR)],
        projects=["Website"],
        services=[Service.LINEAR],
    )


def settings_for(server: FixedDelayModel, provider: Provider) -> Settings:
    """pmtui's settings with ``[agent]`` pointed at ``provider``'s format on the local server."""
    agent = {
        "planner": "llm",
        "model": server.model_string(provider),
        "api_base": server.api_base(provider),
        "timeout_seconds": 20,
    }
    return load_settings(overrides={"timezone": "Europe/Berlin", "agent": agent})


def planner_for(server: FixedDelayModel, provider: Provider) -> LLMPlanner:
    """The planner exactly as pmtui builds it from its settings."""
    planner, note = make_planner(settings_for(server, provider))
    assert note is None
    assert isinstance(planner, LLMPlanner)
    return planner


def system_text(provider: Provider, body: dict[str, Any]) -> str:
    """The system prompt where the provider's format puts it."""
    if provider == "anthropic":
        system = body["system"]
        return _text(system)
    first = body["messages"][0]
    assert first["role"] == "system"
    return str(first["content"])


def offered_tools(provider: Provider, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Tool name -> its JSON schema, in the provider's shape."""
    if provider == "anthropic":
        return {tool["name"]: tool["input_schema"] for tool in body["tools"]}
    return {tool["function"]["name"]: tool["function"]["parameters"] for tool in body["tools"]}


# ------------------------------------------------------------------------------------------ planning


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_adapter_turns_its_providers_tool_calls_into_the_plan(
    server: FixedDelayModel, context: PlannerContext, provider: Provider
) -> None:
    plan = planner_for(server, provider).plan(REQUEST, context)

    assert [(a.type, a.ref) for a in plan.actions] == [
        ("create_project", "p1"),
        ("create_task", "t1"),
        ("create_task", "t2"),
    ], plan.understood
    project, spec, venue = plan.actions
    assert isinstance(project, CreateProject)
    assert isinstance(spec, CreateTask)
    assert isinstance(venue, CreateTask)
    assert project.name == "Q1 launch"
    assert (spec.title, spec.project, spec.after) == ("Write spec", "p1", ["p1"])
    assert (venue.title, venue.project, venue.after) == ("Book venue", "p1", ["p1"])  # linked by name
    assert spec.due == datetime(2026, 11, 27, tzinfo=UTC)
    assert spec.due_all_day is True
    assert venue.due == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 15:00 in Berlin
    assert venue.due_all_day is False
    assert plan.planner == "llm"
    assert plan.understood == "create project 'Q1 launch'; create task 'Write spec'; create task 'Book venue'"

    (request,) = server.chat_requests()
    assert request.provider == provider
    assert CHAT_PATHS[request.path] == provider
    assert PLANNER_PROMPT in system_text(provider, request.body)
    assert "Fix login redirect" in system_text(provider, request.body)
    assert _text(request.body["messages"][-1]["content"]) == REQUEST
    tools = offered_tools(provider, request.body)
    assert set(tools) == TOOL_NAMES
    assert "title" in tools["create_task"]["properties"]
    assert "$defs" not in json.dumps(tools)


def test_each_adapter_speaks_its_own_dialect(server: FixedDelayModel, context: PlannerContext) -> None:
    for provider in PROVIDERS:
        planner_for(server, provider).plan(REQUEST, context)
    openai, anthropic, ollama = (server.chat_requests(p)[0] for p in PROVIDERS)

    assert openai.path == "/v1/chat/completions"
    assert openai.headers["authorization"] == f"Bearer {API_KEY}"
    assert "x-api-key" not in openai.headers

    assert anthropic.path == "/v1/messages"
    assert anthropic.headers["x-api-key"] == API_KEY
    assert anthropic.headers["anthropic-version"]
    assert "authorization" not in anthropic.headers
    assert [m["role"] for m in anthropic.body["messages"]] == ["user"]  # the system prompt is separate
    assert isinstance(anthropic.body["max_tokens"], int)

    assert ollama.path == "/api/chat"
    assert ollama.body["stream"] is False
    assert "authorization" not in ollama.headers  # a local Ollama takes no key
    assert ollama.body["model"] == "bench-model"  # the ollama_chat/ prefix is litellm's, not Ollama's


# ------------------------------------------------------------------------------------- feedback loop


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_adapter_carries_the_results_back_and_the_models_reply_out(
    server: FixedDelayModel, tmp_path: Path, provider: Provider
) -> None:
    settings = settings_for(server, provider)
    planner, _ = make_planner(settings)
    with Engine(settings, Store(tmp_path / "cache.duckdb")) as engine:
        result = AgentOrchestrator(engine, planner).process_user_request(REQUEST, now=NOW)
        stored = {t.title for t in engine.store.list_tasks()}

    assert result.status == "done", result.summary()
    assert [r.status for r in result.results] == [ResultStatus.DONE] * 3
    assert {"Write spec", "Book venue"} <= stored
    assert result.reply == ANSWER

    first, feedback = server.chat_requests(provider)
    if provider == "anthropic":
        asked = [b["id"] for b in feedback.body["messages"][-2]["content"] if b["type"] == "tool_use"]
        answered = [b for b in feedback.body["messages"][-1]["content"] if b["type"] == "tool_result"]
        assert [b["tool_use_id"] for b in answered] == asked
        reports = [json.loads(_text(b["content"])) for b in answered]
    else:
        tool_messages = [m for m in feedback.body["messages"] if m["role"] == "tool"]
        if provider == "openai":
            asked = [c["id"] for c in feedback.body["messages"][-4]["tool_calls"]]
            assert [m["tool_call_id"] for m in tool_messages] == asked
        reports = [json.loads(m["content"]) for m in tool_messages]
    assert [r["action"] for r in reports] == ["p1", "t1", "t2"]
    assert {r["status"] for r in reports} == {"done"}
    assert reports[1]["results"][0]["message"].startswith("created 'Write spec'")
    assert len(first.body["messages"]) < len(feedback.body["messages"])


def _text(content: Any) -> str:
    """A message's or tool result's content: a string, or (Anthropic) a list of text blocks."""
    return content if isinstance(content, str) else "".join(block["text"] for block in content)


# -------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if KEY_VARS[p] is not None])
def test_a_refused_key_names_the_providers_variable_and_never_the_key(
    server: FixedDelayModel, context: PlannerContext, monkeypatch: pytest.MonkeyPatch, provider: Provider
) -> None:
    wrong = "sk-wrong-0123456789abcdef"
    var = KEY_VARS[provider]
    assert var is not None
    monkeypatch.setenv(var, wrong)

    with pytest.raises(LLMError) as caught:
        planner_for(server, provider).plan(REQUEST, context)

    error = caught.value
    assert "refused the credentials" in str(error)
    assert error.hint is not None
    assert var in error.hint
    assert wrong not in error.user_text()
    assert not error.retriable


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unreachable_server_names_the_api_base(context: PlannerContext, provider: Provider) -> None:
    url = _closed_port_url()
    model = FixedDelayModel.model_string(provider)
    planner = LLMPlanner(AgentSettings(planner="llm", model=model, api_base=url, timeout_seconds=5))

    with pytest.raises(LLMError) as caught:
        planner.plan(REQUEST, context)

    assert f"cannot reach {url}" in str(caught.value)
    assert caught.value.hint == f"is the server at {url} running? check [agent] api_base"
    assert caught.value.retriable


def test_an_unreachable_ollama_without_api_base_says_to_start_it(
    context: PlannerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # litellm's default is localhost:11434; point its own fallback at a closed port so no real Ollama
    # on this machine can answer.
    monkeypatch.setenv("OLLAMA_API_BASE", _closed_port_url())
    planner = LLMPlanner(AgentSettings(planner="llm", model="ollama_chat/llama3.1", timeout_seconds=5))

    with pytest.raises(LLMError) as caught:
        planner.plan(REQUEST, context)

    assert "cannot reach ollama" in str(caught.value)
    assert caught.value.hint == "start Ollama (`ollama serve`), or set [agent] api_base"
