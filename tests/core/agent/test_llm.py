"""The LLM planner over real HTTP: litellm talks to a scripted OpenAI-compatible server on 127.0.0.1.

The server answers ``POST /v1/chat/completions`` from a script (tool calls or text) and records every
request, so the tests see exactly what the model was sent: the tools, the prompt, the validation errors
and, after the run, the orchestration results. The orchestrator runs over a Store in ``tmp_path`` with no
service configured, so every action routes to the local cache and nothing remote is called.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pmtui.config import AgentSettings, load_settings
from pmtui.core.agent import make_planner
from pmtui.core.agent.context import PlannerContext, TaskHandle
from pmtui.core.agent.llm import LITELLM_ENV, LLMError, LLMPlanner, action_tools, load_completion
from pmtui.core.agent.rules import RulePlanner
from pmtui.core.engine import Engine
from pmtui.core.orchestrator import AgentOrchestrator
from pmtui.core.store import Store
from pmtui.models import ACTION_TYPES, CreateProject, CreateTask, Project, ResultStatus, Service, Task

if importlib.util.find_spec("litellm") is None:  # not importorskip: importing it here would skip its env
    pytest.skip("the `llm` extra is not installed", allow_module_level=True)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
API_KEY = "sk-test-0123456789abcdef"


# ------------------------------------------------------------------------------------ scripted model


class ScriptedModel:
    """A tiny OpenAI-compatible chat.completions server: scripted replies, recorded requests."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any]]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.delay = 0.0
        """Seconds each answer waits, to play a slow model."""
        model = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(model.delay)
                model.requests.append(body)
                model.headers.append(dict(self.headers))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    status, payload = 404, {"error": {"message": f"no route {self.path}"}}
                elif model.script:
                    status, payload = model.script.pop(0)
                else:
                    status, payload = 500, {"error": {"message": "the script is exhausted"}}
                data = json.dumps(payload).encode()
                # The client may have given up waiting (the timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def calls(self, *calls: tuple[str, dict[str, Any] | str], text: str | None = None) -> list[str]:
        """Script a reply with these tool calls (name, arguments); returns the call ids."""
        ids = [f"call_{len(self.script)}_{i}" for i in range(len(calls))]
        tool_calls = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for call_id, (name, args) in zip(ids, calls, strict=True)
        ]
        self._reply({"role": "assistant", "content": text, "tool_calls": tool_calls}, "tool_calls")
        return ids

    def text(self, text: str) -> None:
        """Script a plain text reply."""
        self._reply({"role": "assistant", "content": text}, "stop")

    def error(self, status: int, message: str) -> None:
        """Script an HTTP error in OpenAI's error shape."""
        self.script.append((status, {"error": {"message": message, "type": "error", "code": status}}))

    def _reply(self, message: dict[str, Any], finish: str) -> None:
        self.script.append(
            (
                200,
                {
                    "id": f"chatcmpl-{len(self.script)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": "test-model",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                },
            )
        )

    def tool_messages(self, request: int = -1) -> list[dict[str, Any]]:
        return [m for m in self.requests[request]["messages"] if m["role"] == "tool"]


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedModel]:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    for name in LITELLM_ENV:  # restored after the test; the planner sets them before importing litellm
        monkeypatch.setenv(name, "")
    server = ScriptedModel()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def agent_settings(model: ScriptedModel) -> AgentSettings:
    return AgentSettings(planner="llm", model="openai/test-model", api_base=model.url, timeout_seconds=20)


@pytest.fixture
def planner(model: ScriptedModel) -> LLMPlanner:
    return LLMPlanner(agent_settings(model))


@pytest.fixture
def context() -> PlannerContext:
    return PlannerContext(
        now=NOW,
        tz=BERLIN,
        tasks=[TaskHandle(id="t-1", title="Fix login redirect", key="ENG-12", service=Service.LINEAR)],
        projects=["Website"],
        services=[Service.LINEAR],
    )


@pytest.fixture
def orchestrator(model: ScriptedModel, tmp_path: Path) -> Iterator[AgentOrchestrator]:
    settings = load_settings(
        overrides={
            "timezone": "Europe/Berlin",
            "agent": {"planner": "llm", "model": "openai/test-model", "api_base": model.url},
        }
    )
    planner, note = make_planner(settings)
    assert note is None
    with Engine(settings, Store(tmp_path / "cache.duckdb")) as engine:
        assert engine.configured_services() == []
        engine.store.upsert_projects([Project(name="Website")])
        engine.store.upsert_tasks([Task(title="Fix login redirect")])
        yield AgentOrchestrator(engine, planner)


PROJECT_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("create_project", {"ref": "p1", "name": "Q1 launch", "due": "2026-12-05"}),
    ("create_task", {"ref": "t1", "title": "Write spec", "project": "p1", "due": "2026-11-27"}),
    ("create_task", {"ref": "t2", "title": "Book venue", "project": "Q1 launch", "due": "2026-12-01T15:00"}),
)


# ------------------------------------------------------------------------------------------- tools


def test_every_action_is_a_tool_with_an_inline_schema() -> None:
    tools = action_tools()
    names = [t["function"]["name"] for t in tools]
    assert names == [cls.model_fields["type"].default for cls in ACTION_TYPES]
    text = json.dumps(tools)
    assert "$ref" not in text
    assert "$defs" not in text
    for tool in tools:
        function = tool["function"]
        assert tool["type"] == "function"
        assert function["description"]
        assert function["parameters"]["type"] == "object"
        assert "type" not in function["parameters"]["properties"]  # the tool's name says which
    move = next(t for t in tools if t["function"]["name"] == "move_task")["function"]
    assert move["description"].startswith("Move a task's home to another service")
    assert move["parameters"]["properties"]["to"]["enum"] == [s.value for s in Service]
    create = next(t for t in tools if t["function"]["name"] == "create_task")["function"]
    assert "create_project" in create["parameters"]["properties"]["project"]["description"]
    assert create["parameters"]["required"] == ["title"]


# ---------------------------------------------------------------------------------------- planning


def test_project_and_task_calls_become_actions(
    model: ScriptedModel, planner: LLMPlanner, context: PlannerContext
) -> None:
    model.calls(*PROJECT_CALLS)
    plan = planner.plan("project Q1 launch with spec due friday and venue on Dec 1 at 3pm", context)

    assert plan.planner == "llm"
    assert [type(a) for a in plan.actions] == [CreateProject, CreateTask, CreateTask]
    project, spec, venue = plan.actions
    assert isinstance(project, CreateProject)
    assert isinstance(spec, CreateTask)
    assert isinstance(venue, CreateTask)
    assert project.name == "Q1 launch"
    assert str(project.due) == "2026-12-05"
    assert (spec.project, spec.after) == ("p1", ["p1"])
    assert (venue.project, venue.after) == ("p1", ["p1"])  # named by the new project's name
    assert spec.due == datetime(2026, 11, 27, tzinfo=UTC)
    assert spec.due_all_day
    assert venue.due == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 15:00 in Berlin
    assert not venue.due_all_day
    assert plan.understood == "create project 'Q1 launch'; create task 'Write spec'; create task 'Book venue'"

    assert len(model.requests) == 1
    sent = model.requests[0]
    assert sent["model"] == "test-model"
    assert {t["function"]["name"] for t in sent["tools"]} == {
        cls.model_fields["type"].default for cls in ACTION_TYPES
    }
    system = sent["messages"][0]
    assert system["role"] == "system"
    assert "Tuesday 2026-11-24" in system["content"]
    assert "Europe/Berlin" in system["content"]
    assert "[ENG-12] Fix login redirect" in system["content"]
    assert "Projects: Website" in system["content"]
    assert sent["messages"][1] == {"role": "user", "content": plan.text}
    assert model.headers[0]["Authorization"] == f"Bearer {API_KEY}"
    assert {os.environ[k] for k in LITELLM_ENV} == {"True", "PRODUCTION"}


def test_the_prompt_lists_a_capped_number_of_tasks(model: ScriptedModel, planner: LLMPlanner) -> None:
    many = [TaskHandle(id=str(i), title=f"Task number {i}") for i in range(500)]
    model.text("ok")
    planner.plan("hi", PlannerContext(now=NOW, tz=BERLIN, tasks=many))
    system = model.requests[0]["messages"][0]["content"]
    assert "Open tasks (150 of 500 shown):" in system
    assert "Task number 149" in system
    assert "Task number 150" not in system


def test_a_malformed_call_goes_back_once_and_the_correction_is_accepted(
    model: ScriptedModel, planner: LLMPlanner, context: PlannerContext
) -> None:
    first = model.calls(
        ("create_project", {"ref": "p1", "name": "Q1 launch"}),
        ("create_task", {"ref": "t1", "title": "Write spec", "priority": "very high", "colour": "red"}),
    )
    model.calls(
        ("create_project", {"ref": "p1", "name": "Q1 launch"}),
        ("create_task", {"ref": "t1", "title": "Write spec", "priority": "high", "project": "p1"}),
    )
    plan = planner.plan("project Q1 launch with an urgent-ish spec", context)

    assert [a.type for a in plan.actions] == ["create_project", "create_task"]
    task = plan.actions[1]
    assert isinstance(task, CreateTask)
    assert task.priority.value == "high"
    assert len(model.requests) == 2
    answers = {m["tool_call_id"]: m["content"] for m in model.tool_messages(1)}
    assert set(answers) == set(first)  # every call of the first set got an answer
    assert "valid, but not kept" in answers[first[0]]
    assert "ERROR" in answers[first[1]]
    assert "priority" in answers[first[1]]
    assert "colour: Extra inputs are not permitted" in answers[first[1]]
    assert model.requests[1]["messages"][2]["tool_calls"][1]["id"] == first[1]


def test_a_second_malformed_call_fails_clearly(
    model: ScriptedModel, planner: LLMPlanner, context: PlannerContext
) -> None:
    model.calls(("complete_task", "{not json"))
    model.calls(("complete_task", {"task": ""}))
    plan = planner.plan("finish the login thing", context)

    assert plan.actions == []
    assert plan.planner == "llm"
    assert "invalid actions twice" in plan.understood
    assert "complete_task: task: String should have at least 1 character" in plan.understood
    assert "not valid JSON" in model.tool_messages(1)[0]["content"]
    assert len(model.requests) == 2  # sent back once, not again


def test_an_unknown_tool_and_a_dangling_dependency_are_sent_back(
    model: ScriptedModel, planner: LLMPlanner, context: PlannerContext
) -> None:
    model.calls(("launch_rocket", {}))
    model.calls(("sync", {"ref": "s1", "after": ["nowhere"]}))
    plan = planner.plan("do it", context)
    assert plan.actions == []
    assert "unknown tool 'launch_rocket'" in model.tool_messages(1)[0]["content"]
    assert "depends on unknown nowhere" in plan.understood


def test_a_text_answer_is_a_plan_without_actions(
    model: ScriptedModel, planner: LLMPlanner, context: PlannerContext
) -> None:
    model.text("Which login task do you mean: ENG-12 or the email one?")
    plan = planner.plan("done login", context)
    assert plan.actions == []
    assert plan.understood == "Which login task do you mean: ENG-12 or the email one?"


# ------------------------------------------------------------------------------ with the orchestrator


def test_an_unknown_project_passes_through_and_validation_reports_it(
    model: ScriptedModel, orchestrator: AgentOrchestrator
) -> None:
    model.calls(("create_task", {"title": "Draft budget", "project": "Atlantis"}))
    result = orchestrator.plan_request("task draft budget in Atlantis", now=NOW)

    assert result.status == "invalid"
    assert result.problems == ["create_task 'Draft budget': unknown project 'Atlantis'"]
    assert result.plan.planner == "llm"
    assert orchestrator.engine.store.find_tasks("Draft budget") == []
    assert len(model.requests) == 1  # nothing ran, so nothing to report back


def test_the_feedback_loop_reports_the_results_and_returns_the_reply(
    model: ScriptedModel, orchestrator: AgentOrchestrator
) -> None:
    ids = model.calls(*PROJECT_CALLS[:2], ("complete_task", {"ref": "c1", "task": "Fix login redirect"}))
    model.text("Done: I created Q1 launch with 'Write spec' and closed 'Fix login redirect', all locally.")
    result = orchestrator.process_user_request(
        "project Q1 launch with spec due friday; and I finished the login fix", now=NOW
    )

    assert result.status == "done", result.summary()
    assert [r.status for r in result.results] == [ResultStatus.DONE] * 3
    assert {r.service for r in result.results} == {Service.LOCAL}
    assert result.reply == (
        "Done: I created Q1 launch with 'Write spec' and closed 'Fix login redirect', all locally."
    )
    assert result.summary().endswith(result.reply)
    assert result.to_dict()["reply"] == result.reply
    stored = {t.title: t for t in orchestrator.engine.store.list_tasks()}
    assert stored["Write spec"].project_id == orchestrator.engine.store.find_project("Q1 launch").id  # type: ignore[union-attr]

    assert len(model.requests) == 2
    feedback = model.requests[1]
    assert feedback["messages"][:3] == model.requests[0]["messages"] + [feedback["messages"][2]]
    assert feedback["messages"][2]["role"] == "assistant"
    assert feedback["tool_choice"] == "none"
    tools = model.tool_messages(1)
    assert [m["tool_call_id"] for m in tools] == ids
    reports = [json.loads(m["content"]) for m in tools]
    assert {r["status"] for r in reports} == {"done"}
    assert [r["action"] for r in reports] == ["p1", "t1", "c1"]
    assert reports[1]["results"][0]["message"].startswith("created 'Write spec'")
    assert reports[1]["route"]["service"] == "local"


def test_a_failed_reply_leaves_the_results_standing(
    model: ScriptedModel, orchestrator: AgentOrchestrator, caplog: pytest.LogCaptureFixture
) -> None:
    model.calls(("create_task", {"title": "Water plants"}))
    model.error(401, "Incorrect API key provided: sk-test-0123456789abcdef")
    result = orchestrator.process_user_request("task water plants", now=NOW)
    assert result.status == "done"
    assert result.reply is None
    assert orchestrator.engine.store.find_tasks("Water plants")
    assert "could not answer after the run" in caplog.text


def test_the_rule_planner_is_used_when_no_model_is_set() -> None:
    settings = load_settings(overrides={"agent": {"planner": "llm"}})
    planner, note = make_planner(settings)
    assert isinstance(planner, RulePlanner)
    assert note is not None
    assert "no model is set; using the rule planner" in note
    assert make_planner(load_settings())[1] is None


# ------------------------------------------------------------------------------------------- errors


def test_refused_credentials_become_a_hint_without_the_key(
    model: ScriptedModel, planner: LLMPlanner, context: PlannerContext
) -> None:
    model.error(401, f"Incorrect API key provided: {API_KEY}")
    with pytest.raises(LLMError) as caught:
        planner.plan("anything", context)
    error = caught.value
    assert "refused the credentials" in str(error)
    assert error.hint is not None
    assert "OPENAI_API_KEY" in error.hint
    assert "api_base" in error.hint
    assert API_KEY not in error.user_text()
    assert not error.retriable


def test_an_unreachable_server_becomes_a_hint(
    context: PlannerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    closed = ScriptedModel()
    url = closed.url
    closed.server.server_close()
    planner = LLMPlanner(
        AgentSettings(planner="llm", model="openai/test-model", api_base=url, timeout_seconds=5)
    )
    with pytest.raises(LLMError) as caught:
        planner.plan("anything", context)
    assert "cannot reach" in str(caught.value)
    assert caught.value.hint == f"is the server at {url} running? check [agent] api_base"
    assert caught.value.retriable


@pytest.mark.timeout(60)  # a planner that ignored its timeout would hang here, and fail on this bound
def test_a_slow_model_times_out_with_a_hint(
    model: ScriptedModel, context: PlannerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    model.delay = 1.5
    planner = LLMPlanner(
        AgentSettings(planner="llm", model="openai/test-model", api_base=model.url, timeout_seconds=0.5)
    )
    load_completion()  # import litellm before the clock starts
    with pytest.raises(LLMError) as caught:
        planner.plan("anything", context)
    assert f"no answer from {model.url} in time" in str(caught.value)
    assert caught.value.hint == "raise [agent] timeout_seconds, or try a smaller model"
    assert caught.value.retriable
    assert len(model.requests) <= 2  # at most one retry, not the OpenAI client's default two


def test_an_injected_completion_needs_no_litellm(context: PlannerContext) -> None:
    seen: list[dict[str, Any]] = []

    def completion(**kwargs: Any) -> dict[str, Any]:
        seen.append(kwargs)
        return {"choices": [{"message": {"role": "assistant", "content": "Nothing to do."}}]}

    planner = LLMPlanner(
        AgentSettings(planner="llm", model="ollama/llama3.1", timeout_seconds=7), completion=completion
    )
    plan = planner.plan("hello", context)
    assert plan.understood == "Nothing to do."
    assert seen[0]["model"] == "ollama/llama3.1"
    assert seen[0]["timeout"] == 7
    assert "api_base" not in seen[0]


# ----------------------------------------------------------------------------------- as a user runs it


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {
        "PMTUI_HOME": str(home),
        "PMTUI_NO_KEYRING": "1",
        "PMTUI_TIMEZONE": "Europe/Berlin",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **extra,
    }


@pytest.mark.slow  # a real pmtui process (or a kill -9 of one): seconds each
def test_pmtui_do_plans_runs_and_replies_with_the_model(model: ScriptedModel, pmtui_home: Path) -> None:
    model.calls(("create_task", {"ref": "t1", "title": "Renew passport", "due": "2026-12-10"}))
    model.text("Added 'Renew passport', due December 10, to your local list.")
    env = _env(
        pmtui_home,
        PMTUI_AGENT__PLANNER="llm",
        PMTUI_AGENT__MODEL="openai/test-model",
        PMTUI_AGENT__API_BASE=model.url,
        OPENAI_API_KEY=API_KEY,
    )
    result = _run(["-m", "pmtui.cli", "do", "--yes", "remind me to renew my passport by dec 10"], env)
    assert result.returncode == 0, result.stderr
    assert "create task 'Renew passport'" in result.stdout
    assert result.stderr == ""
    assert result.stdout.rstrip().endswith("Added 'Renew passport', due December 10, to your local list.")
    assert json.loads(model.tool_messages(1)[0]["content"])["status"] == "done"


@pytest.mark.slow  # a real pmtui process (or a kill -9 of one): seconds each
def test_pmtui_do_with_an_unreachable_model_is_one_error_line(pmtui_home: Path) -> None:
    env = _env(
        pmtui_home,
        PMTUI_AGENT__PLANNER="llm",
        PMTUI_AGENT__MODEL="openai/test-model",
        PMTUI_AGENT__API_BASE="http://127.0.0.1:9/v1",
        PMTUI_AGENT__TIMEOUT_SECONDS="5",
        OPENAI_API_KEY=API_KEY,
    )
    result = _run(["-m", "pmtui.cli", "do", "--dry-run", "task x"], env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: model: openai/test-model: cannot reach http://127.0.0.1:9/v1" in result.stderr
    assert "hint: is the server at http://127.0.0.1:9/v1 running?" in result.stderr
    assert API_KEY not in result.stdout + result.stderr


def test_the_start_path_never_imports_litellm(pmtui_home: Path) -> None:
    code = (
        "import runpy, sys\n"
        "import pmtui.cli, pmtui.core.agent, pmtui.core.agent.llm\n"
        "from pmtui.config import load_settings\n"
        "from pmtui.core.agent import make_planner\n"
        "planner, _ = make_planner(load_settings())\n"
        "assert planner.name == 'llm', planner.name\n"
        "assert 'litellm' not in sys.modules, 'imported by the modules'\n"
        "sys.argv = ['pmtui', 'briefing', '--date', '2026-11-24']\n"
        "try:\n"
        "    runpy.run_module('pmtui.cli', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('LITELLM=' + str('litellm' in sys.modules))\n"
    )
    env = _env(pmtui_home, PMTUI_AGENT__PLANNER="llm", PMTUI_AGENT__MODEL="openai/test-model")
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "LITELLM=False"
