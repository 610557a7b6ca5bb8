"""Agent cases: rule-planner latency per request; LLM-planner overhead over a fixed-delay model."""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections.abc import Iterator
from datetime import UTC

from benchmarks.harness import Run, Sample, Skip
from benchmarks.model_server import API_KEY, FixedDelayModel
from benchmarks.workloads import NOW
from pmtui.core.agent.context import PlannerContext, TaskHandle
from pmtui.models import Service

REQUESTS = (
    "add Write release notes due friday p1 #docs",
    "add Call the bank tomorrow 3pm for 30m",
    "complete Task 42 fix login",
    "done ENG-17",
    "move Task 7 review docs to Linear",
    "reschedule Task 1200 ship billing to next monday",
    "rename Task 99 plan search to Plan the search revamp",
    "what is overdue?",
    "what's due today",
    "new project Q1 launch with Write spec, Build page, Ship it",
    "comment on Task 5 write import: waiting on legal",
    "find billing",
    "delete Task 300 fix docs",
    "sync linear",
    "this is not a request pmtui understands",
)
"""Typical requests: creates, edits by title or key, queries, a project, and one that matches nothing."""

MODEL_DELAY = 0.2
"""Seconds the local model server waits before each answer: what the benchmark subtracts."""


def planner_context(n: int) -> PlannerContext:
    """What the orchestrator hands a planner: up to 5,000 open tasks (its cap), 40 projects, 4 services."""
    count = min(n, 5000)
    prefixes = {Service.LINEAR: "ENG", Service.GITLAB: "GL", Service.NOTION: "", Service.MOTION: "MOT"}
    services = list(prefixes)
    verbs, topics = (
        ("fix", "write", "review", "ship", "plan"),
        ("login", "docs", "billing", "search", "import"),
    )
    tasks = []
    for i in range(count):
        service = services[i % 4]
        key = f"{prefixes[service]}-{i}" if prefixes[service] else None
        title = f"Task {i} {verbs[i % 5]} {topics[i // 5 % 5]}"
        tasks.append(TaskHandle(id=f"t{i:07d}", title=title, key=key, service=service))
    return PlannerContext(
        now=NOW, tz=UTC, tasks=tasks, projects=[f"Project {i}" for i in range(40)], services=services
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rule_planner(run: Run) -> Iterator[Sample]:
    """Each request planned 20 times per repetition against a context of min(N, 5,000) tasks."""
    from pmtui.core.agent.rules import RulePlanner

    planner = RulePlanner()
    context = planner_context(run.n)
    run.notes["context_tasks"] = len(context.tasks)
    run.notes["requests"] = list(REQUESTS)
    for _ in range(run.reps):
        latencies = []
        for _round in range(20):
            for text in REQUESTS:
                started = time.perf_counter()
                planner.plan(text, context)
                latencies.append((time.perf_counter() - started) * 1000)
        yield {"p50_ms": statistics.median(latencies), "p99_ms": _percentile(latencies, 0.99)}


def llm_planner(run: Run) -> Iterator[Sample]:
    """``LLMPlanner.plan`` against a model that answers after exactly 200 ms: overhead = total - 200 ms.

    The first call (which imports litellm) is reported in the notes, not in the samples.
    """
    import os

    try:
        from pmtui.core.agent.llm import LLMPlanner
    except ImportError as exc:
        raise Skip(f"the LLM planner is not built ({exc})") from exc
    # Only look for litellm: the planner imports it itself, after setting LITELLM_ENV (no cost-map fetch,
    # no stray .env); importing it here first would skip that.
    if importlib.util.find_spec("litellm") is None:
        raise Skip("litellm is not installed")
    from pmtui.config import AgentSettings

    os.environ["OPENAI_API_KEY"] = API_KEY
    model = FixedDelayModel(MODEL_DELAY)
    try:
        settings = AgentSettings(
            planner="llm", model="openai/bench-model", api_base=model.url, timeout_seconds=30
        )
        planner = LLMPlanner(settings)
        context = planner_context(run.n)
        started = time.perf_counter()
        planner.plan("add Write release notes due friday", context)
        run.notes["first_call_seconds_with_import"] = time.perf_counter() - started
        run.notes["model_delay_ms"] = MODEL_DELAY * 1000
        for _ in range(run.reps):
            calls = model.calls
            started = time.perf_counter()
            plan = planner.plan("add Write release notes due friday", context)
            seconds = time.perf_counter() - started
            if not plan.actions:
                raise RuntimeError(f"the planner planned nothing: {plan.understood}")
            model_calls = model.calls - calls
            yield {
                "total_ms": seconds * 1000,
                "overhead_ms": (seconds - MODEL_DELAY * model_calls) * 1000,
                "model_calls": model_calls,
            }
    finally:
        model.close()
