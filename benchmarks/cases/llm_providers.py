"""The LLM planner through litellm's OpenAI, Anthropic and Ollama adapters: pmtui + litellm's overhead each.

Every provider's adapter builds a different request and parses a different answer (Anthropic's content
blocks and separate system prompt, Ollama's object arguments), so the overhead is measured per adapter
against one local server that speaks all three formats and answers after the same fixed delay.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from benchmarks.cases.agent import MODEL_DELAY, planner_context
from benchmarks.harness import Run, Sample, Skip
from benchmarks.model_server import API_KEY, KEY_VARS, PROVIDERS, FixedDelayModel, Provider

if TYPE_CHECKING:
    from pmtui.core.agent.llm import Completion

REQUEST = "add Write release notes due friday"
PLANS_PER_REP = {True: 8, False: 20}
"""Plans per provider per repetition (quick, full): each waits MODEL_DELAY, so quick mode stays ~10 s."""


def _p90(values: list[float]) -> float:
    """The 90th percentile, interpolated between samples (the ninth decile)."""
    return statistics.quantiles(values, n=10, method="inclusive")[8]


class TimedCompletion:
    """``litellm.completion`` with a stopwatch: the time spent inside it, so pmtui's own share is the rest."""

    def __init__(self, completion: Completion) -> None:
        self.completion = completion
        self.seconds = 0.0

    def __call__(self, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.completion(**kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def provider_overhead(run: Run) -> Iterator[Sample]:
    """``LLMPlanner.plan`` per provider; overhead = elapsed - MODEL_DELAY * chat requests, per plan.

    ``<provider>_pmtui_p50_ms`` is the part spent outside ``litellm.completion`` (prompt, tool schemas,
    validation); the rest of the overhead is litellm's adapter and the local HTTP round trip. Each
    provider's first plan loads its adapter (and, for the first, litellm itself): it is reported in the
    notes as ``first_call_ms``, not in the samples.
    """
    try:
        from pmtui.core.agent.llm import LLMPlanner, load_completion
    except ImportError as exc:
        raise Skip(f"the LLM planner is not built ({exc})") from exc
    # Only look for litellm: the planner imports it itself after setting its safe environment.
    if importlib.util.find_spec("litellm") is None:
        raise Skip("litellm is not installed")
    from pmtui.config import AgentSettings

    for var in KEY_VARS.values():
        if var is not None:
            os.environ[var] = API_KEY
    model = FixedDelayModel(MODEL_DELAY)
    try:
        context = planner_context(run.n)
        # The planner is built as make_planner builds it, plus the stopwatch around litellm.completion
        # (the constructor's own seam for it).
        timed = TimedCompletion(load_completion())
        planners = {
            provider: LLMPlanner(
                AgentSettings(
                    planner="llm",
                    model=model.model_string(provider),
                    api_base=model.api_base(provider),
                    timeout_seconds=30,
                ),
                completion=timed,
            )
            for provider in PROVIDERS
        }
        run.notes["model_delay_ms"] = MODEL_DELAY * 1000
        run.notes["plans_per_rep"] = PLANS_PER_REP[run.quick]
        run.notes["context_tasks"] = len(context.tasks)
        run.notes["first_call_ms"] = {}
        for provider, planner in planners.items():
            started = time.perf_counter()
            planner.plan(REQUEST, context)
            run.notes["first_call_ms"][provider] = (time.perf_counter() - started) * 1000
        for _ in range(run.reps):
            sample: Sample = {}
            # Providers take turns plan by plan, so a burst of machine load hits all three alike.
            overheads: dict[Provider, list[float]] = {provider: [] for provider in PROVIDERS}
            own: dict[Provider, list[float]] = {provider: [] for provider in PROVIDERS}
            for _plan in range(PLANS_PER_REP[run.quick]):
                for provider, planner in planners.items():
                    calls, inside = model.calls, timed.seconds
                    started = time.perf_counter()
                    plan = planner.plan(REQUEST, context)
                    seconds = time.perf_counter() - started
                    if not plan.actions:
                        raise RuntimeError(f"{provider}: the planner planned nothing: {plan.understood}")
                    overheads[provider].append((seconds - MODEL_DELAY * (model.calls - calls)) * 1000)
                    own[provider].append((seconds - (timed.seconds - inside)) * 1000)
            for provider, values in overheads.items():
                sample[f"{provider}_p50_ms"] = statistics.median(values)
                sample[f"{provider}_p90_ms"] = _p90(values)
                sample[f"{provider}_pmtui_p50_ms"] = statistics.median(own[provider])
            yield sample
    finally:
        model.close()
