"""The LLM planner: litellm tool calling, one tool per action type, validated into a typed Plan.

The tools are the actions' own pydantic JSON schemas (``$defs`` inlined, since not every provider follows
references), so the model can only propose what :data:`~pmtui.models.Action` accepts; every call is
validated with a ``TypeAdapter(Action)`` and an invalid set is sent back once with the errors. After the
orchestrator has run the plan, :meth:`LLMPlanner.respond` returns the results to the model as tool results
(the feedback loop) and hands back its answer.

litellm is heavy (seconds and ~170 MB to import), so it is imported only inside :func:`load_completion`,
never at module level: this module stays cheap to import and off the ``briefing``/TUI start path.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from pmtui import docstrings
from pmtui.errors import PmtuiError
from pmtui.logs import redact
from pmtui.models import ACTION_TYPES, Action, CreateProject, CreateTask, Plan

if TYPE_CHECKING:
    from pmtui.config import AgentSettings
    from pmtui.core.agent.context import PlannerContext

log = logging.getLogger("pmtui.agent.llm")

Completion = Callable[..., Any]
"""The shape of ``litellm.completion``: keyword arguments in, an OpenAI-style response out."""

LITELLM_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_MODE": "PRODUCTION"}
"""Set before litellm is imported: no network fetch of the cost map, no loading of a stray ``.env``."""

MAX_CONTEXT_TASKS = 150
"""Open tasks listed in the system prompt; the rest are only counted, to keep the prompt small."""
MAX_CONTEXT_PROJECTS = 60
MAX_TITLE_CHARS = 80
MAX_ANSWER_ROWS = 20
"""Query answer rows sent back per query in the feedback loop."""
MAX_CONVERSATIONS = 16
"""Planning conversations kept for :meth:`LLMPlanner.respond` (most recent first out)."""

_ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)

# Actions whose classes carry no docstring in pmtui.models: what the tool does, for the model.
_FALLBACK_DESCRIPTIONS = {
    "create_project": "Create a project (a group of tasks); its tasks name it by this action's ref.",
    "create_task": "Create a task.",
    "update_task": "Change fields of an existing task (only the fields given in `changes`).",
    "complete_task": "Mark an existing task as done.",
    "delete_task": "Delete an existing task.",
    "add_comment": "Add a comment to an existing task.",
    "sync": "Synchronise the local cache with the services now.",
}

_DUE_DESCRIPTION = (
    "YYYY-MM-DD for an all-day due date, or an ISO 8601 date-time for a due time (a time without an "
    "offset is in the user's time zone)."
)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEY_VARS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "ollama": "OLLAMA_API_KEY",  # only an Ollama behind an authenticating proxy needs one
    "ollama_chat": "OLLAMA_API_KEY",
}
_CONNECTION_FAILURES = ("connection error", "connection refused", "connecterror", "name or service not known")
"""How a failed connect reads when litellm wraps it in another class (its Anthropic adapter raises
InternalServerError for a refused connection)."""


class LLMError(PmtuiError):
    """The model could not be reached or refused the call (auth, connection, rate limit, timeout)."""

    def __init__(self, message: str, *, hint: str | None = None, retriable: bool = False) -> None:
        super().__init__(message, hint=hint, service="model", retriable=retriable)


# ------------------------------------------------------------------------------------------- litellm


def load_completion() -> Completion:
    """``litellm.completion``, imported now (not before) with the safe environment set first."""
    os.environ.update(LITELLM_ENV)
    try:
        import litellm
    except ImportError as exc:
        raise LLMError(
            "the LLM planner needs litellm, which is not installed",
            hint="pip install 'pmtui[llm]', or set [agent] planner = \"rules\"",
        ) from exc
    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banner on stdout per error
    completion: Completion = litellm.completion
    return completion


# ---------------------------------------------------------------------------------------------- tools


def action_tools() -> list[dict[str, Any]]:
    """One OpenAI-format function tool per action type, built from the action models' JSON schemas."""
    return deepcopy(_action_tools())


@cache
def _action_tools() -> list[dict[str, Any]]:
    return [_tool(cls) for cls in ACTION_TYPES]


def _tool(cls: type[BaseModel]) -> dict[str, Any]:
    schema = cls.model_json_schema()
    defs = schema.pop("$defs", {})
    params = _inline(schema, defs)
    name = str(cls.model_fields["type"].default)
    properties: dict[str, Any] = params.get("properties", {})
    properties.pop("type", None)  # the tool's name says which action it is
    required = [r for r in params.get("required", []) if r != "type"]
    docs = field_docstrings(cls)
    for prop, prop_schema in properties.items():
        if prop in docs and "description" not in prop_schema:
            prop_schema["description"] = docs[prop]
    for props in (properties, properties.get("changes", {}).get("properties", {})):
        if "date-time" in json.dumps(props.get("due", {})):
            props["due"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "description": _DUE_DESCRIPTION}
    parameters: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        parameters["required"] = required
    own_doc = cls.__dict__.get("__doc__")
    description = inspect.cleandoc(own_doc) if own_doc else _FALLBACK_DESCRIPTIONS.get(name, name)
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every ``$ref`` to ``#/$defs/...`` replaced by a copy of its target, titles dropped."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**_inline(target, defs), **{k: v for k, v in node.items() if k != "$ref"}}
        return _inline(merged, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title":
            continue  # a schema keyword here; property names are handled below
        if key == "description" and isinstance(value, str):
            out[key] = value.replace("``", "`")
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _inline(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _inline(value, defs)
    return out


def field_docstrings(cls: type[BaseModel]) -> dict[str, str]:
    """Attribute docstrings of ``cls``'s fields, with reST's double backticks made Markdown's single ones."""
    return {name: doc.replace("``", "`") for name, doc in docstrings.field_docstrings(cls).items()}


# --------------------------------------------------------------------------------------------- prompt


def system_prompt(context: PlannerContext) -> str:
    """What the model is told: its job, the rules of the tools, the date and zone, projects and tasks."""
    local = context.now.astimezone(context.tz)
    zone = getattr(context.tz, "key", None) or local.tzname() or "UTC"
    services = ", ".join(s.value for s in context.services) or "none (everything stays local)"
    lines = [
        "You are the planner of pmtui, a task manager over Motion, Linear, Notion and GitLab.",
        "Turn the user's request into tool calls, one call per action. pmtui routes, validates and runs "
        "them after the user confirms; you never reach the services yourself.",
        f"Today is {local:%A %Y-%m-%d}; it is {local:%H:%M} in the user's time zone {zone} (UTC{local:%z}).",
        "Rules:",
        "- Due dates: YYYY-MM-DD for a day; an ISO 8601 date-time for a time of day. Resolve words like "
        "'friday' or 'next week' against today's date.",
        "- Give every action a short unique ref (p1, t1, t2, ...). A task in a project created by the same "
        "request sets `project` to that project's ref.",
        "- Name existing tasks by their key (ENG-123) when they have one, else by their exact title.",
        "- Set `service` only when the user names a service; otherwise pmtui's router decides.",
        "- If the request is unclear, ambiguous or not about tasks, do not call tools: answer in one short "
        "sentence (a question if you need one).",
        "- After the actions ran you get their results; then answer in one or two plain sentences that "
        "say what was done and, honestly, what failed or was not run.",
        f"Configured services: {services}.",
    ]
    projects = [_clip(p) for p in context.projects[:MAX_CONTEXT_PROJECTS]]
    more_projects = len(context.projects) - len(projects)
    lines.append("Projects: " + ("; ".join(projects) if projects else "none") + _more(more_projects))
    tasks = list(context.tasks[:MAX_CONTEXT_TASKS])
    lines.append(f"Open tasks ({len(tasks)} of {len(context.tasks)} shown):" if tasks else "Open tasks: none")
    for task in tasks:
        where = task.key or (task.service.label if task.service else "local")
        lines.append(f"- [{where}] {_clip(task.title)}")
    return "\n".join(lines)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TITLE_CHARS else text[: MAX_TITLE_CHARS - 1] + "…"


def _more(count: int) -> str:
    return f" (and {count} more)" if count > 0 else ""


# ---------------------------------------------------------------------------------------------- calls


@dataclass(frozen=True)
class ToolCall:
    """One function call the model made: its id (tool results answer it by id), name and raw arguments."""

    id: str
    name: str
    arguments: str


@dataclass
class _Conversation:
    messages: list[dict[str, Any]]
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(tool call id, action ref) of the accepted calls, in order."""


class LLMPlanner:
    """Plans with any litellm model through tool calling; reports the outcome back to it afterwards."""

    name = "llm"

    def __init__(self, agent_settings: AgentSettings, *, completion: Completion | None = None) -> None:
        if not agent_settings.model:
            raise LLMError("no model is configured", hint="set [agent] model, e.g. openai/gpt-4o-mini")
        self.settings = agent_settings
        self.model: str = agent_settings.model
        self._completion = completion
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()

    # ---------------------------------------------------------------------------------- planning

    def plan(self, text: str, context: PlannerContext) -> Plan:
        """The model's plan for ``text``; invalid tool calls go back once with the errors, then fail."""
        tools = action_tools()
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system_prompt(context)},
            {"role": "user", "content": text},
        ]
        content, calls = self._ask(messages, tools)
        for attempt in (1, 2):
            if not calls:
                understood = content or "The model answered with neither an action nor a reply."
                return Plan(text=text, planner=self.name, understood=understood)
            actions, errors = parse_calls(calls, context.tz)
            messages.append(_assistant_message(content, calls))
            if not errors:
                plan = Plan(
                    text=text, planner=self.name, actions=actions, understood=content or _paraphrase(actions)
                )
                self._remember(
                    plan.request_id, messages, [(c.id, a.ref) for c, a in zip(calls, actions, strict=True)]
                )
                return plan
            log.info("model's tool calls invalid (attempt %d): %s", attempt, "; ".join(errors.values()))
            if attempt == 2:
                break
            messages.extend(_rejections(calls, errors))
            content, calls = self._ask(messages, tools)
        detail = "; ".join(f"{c.name}: {errors[c.id]}" for c in calls if c.id in errors)
        return Plan(
            text=text,
            planner=self.name,
            understood=f"The model proposed invalid actions twice; nothing was planned ({_shorten(detail)}).",
        )

    # ------------------------------------------------------------------------------- feedback loop

    def respond(self, text: str, result: dict[str, Any]) -> str:
        """The model's answer after it has been told, as tool results, how each of its actions ended."""
        conversation = self._conversations.pop(str(result.get("request_id")), None)
        if conversation is None:
            # Not planned here (or forgotten): tell the model the outcome as plain text instead.
            messages = [
                {
                    "role": "system",
                    "content": "You report to a user what pmtui did for a request, in one or "
                    "two plain sentences, honestly including anything that failed or was not run.",
                },
                {"role": "user", "content": f"Request: {text}\nOutcome: {json.dumps(_overall(result))}"},
            ]
            content, _ = self._ask(messages, None)
            return content or _fallback_reply(result)
        messages = list(conversation.messages)
        for call_id, ref in conversation.calls:
            report = call_report(ref, result)
            messages.append(
                {"role": "tool", "tool_call_id": call_id, "content": json.dumps(report, default=str)}
            )
        content, _ = self._ask(messages, action_tools(), tool_choice="none")
        return content or _fallback_reply(result)

    # ------------------------------------------------------------------------------------- model

    def _ask(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, **extra: Any
    ) -> tuple[str, list[ToolCall]]:
        completion = self._completion or load_completion()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "timeout": self.settings.timeout_seconds,
            "drop_params": True,  # e.g. tool_choice on providers without it
            "max_retries": 1,  # the OpenAI client's default of 2 makes a timeout cost three times over
            **extra,
        }
        if tools:
            kwargs["tools"] = tools
        if self.settings.api_base:
            kwargs["api_base"] = self.settings.api_base
        try:
            response = completion(**kwargs)
        except PmtuiError:
            raise
        except Exception as exc:
            raise model_error(exc, self.model, self.settings.api_base) from exc
        return read_message(response)

    def _remember(
        self, request_id: str, messages: list[dict[str, Any]], calls: list[tuple[str, str]]
    ) -> None:
        self._conversations[request_id] = _Conversation(messages=messages, calls=calls)
        while len(self._conversations) > MAX_CONVERSATIONS:
            self._conversations.popitem(last=False)


def read_message(response: Any) -> tuple[str, list[ToolCall]]:
    """The text and tool calls of the first choice of an OpenAI-style response (object or dict)."""
    choices = _get(response, "choices") or []
    if not choices:
        raise LLMError(
            "the model returned no answer", hint="try again, or check [agent] model", retriable=True
        )
    message = _get(choices[0], "message") or {}
    content = _get(message, "content") or ""
    calls = []
    for index, call in enumerate(_get(message, "tool_calls") or []):
        function = _get(call, "function") or {}
        arguments = _get(function, "arguments")
        calls.append(
            ToolCall(
                id=str(_get(call, "id") or f"call_{index}"),
                name=str(_get(function, "name") or ""),
                arguments=arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
            )
        )
    return str(content).strip(), calls


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def parse_calls(calls: Sequence[ToolCall], tz: tzinfo) -> tuple[list[Action], dict[str, str]]:
    """Each call validated into an Action, or an error by call id; plan-level errors land on every call."""
    known = {tool["function"]["name"] for tool in _action_tools()}
    given_refs = {_ref_of(c) for c in calls} - {None}
    actions: list[Action] = []
    errors: dict[str, str] = {}
    counter = 0
    for call in calls:
        if call.name not in known:
            errors[call.id] = f"unknown tool {call.name!r}; the tools are: {', '.join(sorted(known))}"
            continue
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as exc:
            errors[call.id] = f"arguments are not valid JSON ({exc.msg} at position {exc.pos})"
            continue
        if not isinstance(args, dict):
            errors[call.id] = "arguments must be a JSON object"
            continue
        args = normalize_arguments(call.name, args, tz)
        if not args.get("ref"):
            counter += 1
            while f"a{counter}" in given_refs:
                counter += 1
            args["ref"] = f"a{counter}"
        try:
            actions.append(_ACTION_ADAPTER.validate_python(args))
        except PydanticValidationError as exc:
            errors[call.id] = _validation_text(exc)
    if errors:
        return actions, errors
    link_projects(actions)
    try:
        Plan(actions=actions)
    except PydanticValidationError as exc:
        problem = _validation_text(exc)
        return actions, {c.id: f"the set of calls is inconsistent: {problem}" for c in calls}
    return actions, {}


def _ref_of(call: ToolCall) -> str | None:
    try:
        args = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        return None
    ref = args.get("ref") if isinstance(args, dict) else None
    return ref if isinstance(ref, str) else None


def normalize_arguments(name: str, args: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """What models commonly send, made valid: nulls dropped, bare dates as all-day, local times zoned."""
    out = {k: v for k, v in args.items() if v is not None}
    out["type"] = name
    if name in ("create_task", "link"):  # a project's due is a plain date
        _normalize_due(out, tz, all_day_field=name == "create_task")
    changes = out.get("changes")
    if isinstance(changes, dict):
        changes = {k: v for k, v in changes.items() if v is not None}
        _normalize_due(changes, tz, all_day_field=True)
        out["changes"] = changes
    return out


def _normalize_due(args: dict[str, Any], tz: tzinfo, *, all_day_field: bool) -> None:
    due = args.get("due")
    if not isinstance(due, str):
        return
    value = due.strip()
    if _DATE_ONLY.match(value):
        args["due"] = f"{value}T00:00:00+00:00"  # pmtui's all-day convention: midnight UTC of that date
        if all_day_field:
            args.setdefault("due_all_day", True)
        return
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return  # left for validation to report in its own words
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    args["due"] = moment.astimezone(UTC).isoformat()
    if all_day_field:
        args.setdefault("due_all_day", False)


def link_projects(actions: Iterable[Action]) -> None:
    """A task naming a project created in the same plan (by ref or name) depends on that action."""
    actions = list(actions)
    created = {a.ref: a for a in actions if isinstance(a, CreateProject)}
    by_name = {a.name.strip().lower(): a.ref for a in created.values()}
    for action in actions:
        if not isinstance(action, CreateTask) or not action.project:
            continue
        ref = action.project if action.project in created else by_name.get(action.project.strip().lower())
        if ref is None:
            continue
        action.project = ref
        if ref not in action.after:
            action.after = [*action.after, ref]


def _validation_text(exc: PydanticValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"][1:] if p != error["loc"][0]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts) or str(exc)


def _assistant_message(content: str, calls: Sequence[ToolCall]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": content or None,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ],
    }


def _rejections(calls: Sequence[ToolCall], errors: dict[str, str]) -> list[dict[str, Any]]:
    """One tool result per call: the error, or that the valid call was dropped with the set."""
    messages = []
    for call in calls:
        if call.id in errors:
            content = f"ERROR, not accepted: {errors[call.id]}"
        else:
            content = "valid, but not kept: the whole set is discarded when one call is invalid"
        messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    messages.append(
        {
            "role": "user",
            "content": "Nothing has run. Send the complete set of tool calls again, with the errors fixed.",
        }
    )
    return messages


def _paraphrase(actions: Sequence[Action]) -> str:
    parts = []
    for action in actions:
        what = next(
            (getattr(action, n) for n in ("title", "name", "task", "question") if getattr(action, n, None)),
            "",
        )
        parts.append(f"{action.type.replace('_', ' ')} {what!r}" if what else action.type.replace("_", " "))
    return "; ".join(parts)


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------- results


def call_report(ref: str, result: dict[str, Any]) -> dict[str, Any]:
    """What one tool call's result says: the overall status plus this action's route, result and answers."""
    report = _overall(result)
    report["action"] = ref
    report["results"] = [r for r in result.get("results", []) if r.get("ref") == ref]
    route = result.get("routes", {}).get(ref)
    if route is not None:
        report["route"] = route
    answers = result.get("answers", {}).get(ref)
    if answers is not None:
        report["answers"] = answers[:MAX_ANSWER_ROWS]
        report["answer_count"] = len(answers)
    return report


def _overall(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": result.get("status"),
        "problems": result.get("problems", []),
        "compensated": result.get("compensated", []),
        "remaining": result.get("remaining", []),
    }


def _fallback_reply(result: dict[str, Any]) -> str:
    status = result.get("status", "unknown")
    failed = [r for r in result.get("results", []) if r.get("status") == "failed"]
    if status == "done":
        return f"Done: {len(result.get('results', []))} action(s) ran."
    return f"Status {status}: {len(failed)} action(s) failed." + (
        " Problems: " + "; ".join(result.get("problems", [])) if result.get("problems") else ""
    )


# ---------------------------------------------------------------------------------------- errors


def model_error(exc: BaseException, model: str, api_base: str | None) -> LLMError:
    """A litellm/provider exception as an :class:`LLMError` with a hint; no key ever in the text."""
    kind = type(exc).__name__
    provider = model.split("/", 1)[0] if "/" in model else "openai"
    key_var = _KEY_VARS.get(provider, f"{provider.upper()}_API_KEY")
    where = api_base or provider
    detail = _clean_detail(str(exc))
    needs_key = provider not in ("ollama", "ollama_chat") and not api_base and kind in _KEYLESS_KINDS
    if _MISSING_KEY.search(detail) or (needs_key and not os.environ.get(key_var)):
        # Providers report a missing key in many ways (some as an InternalServerError): say what it is.
        return LLMError(
            f"{model}: no API key for {provider}: {key_var} is not set",
            hint=f"set {key_var} in the environment, or [agent] api_base for a local model server",
        )
    if kind in ("AuthenticationError", "PermissionDeniedError"):
        return LLMError(
            f"{model}: the model provider refused the credentials ({detail})",
            hint=f"set {key_var}, or [agent] api_base for a local OpenAI-compatible server",
        )
    if kind == "RateLimitError":
        return LLMError(
            f"{model}: rate limited by the provider ({detail})",
            hint="wait a minute and try again, or use another [agent] model",
            retriable=True,
        )
    if kind in ("Timeout", "APITimeoutError"):
        return LLMError(
            f"{model}: no answer from {where} in time",
            hint="raise [agent] timeout_seconds, or try a smaller model",
            retriable=True,
        )
    if kind == "APIConnectionError" or any(text in detail.lower() for text in _CONNECTION_FAILURES):
        hint = (
            f"is the server at {api_base} running? check [agent] api_base"
            if api_base
            else "check the network, or set [agent] api_base for a local server"
        )
        if provider in ("ollama", "ollama_chat") and not api_base:
            hint = "start Ollama (`ollama serve`), or set [agent] api_base"
        return LLMError(f"{model}: cannot reach {where}", hint=hint, retriable=True)
    if kind == "NotFoundError":
        return LLMError(
            f"{model}: the provider does not know this model ({detail})", hint="check [agent] model"
        )
    if kind in ("BadRequestError", "LiteLLMUnknownProvider", "UnsupportedParamsError"):
        return LLMError(
            f"{model}: the model call was rejected ({detail})",
            hint="check [agent] model: a litellm model string such as openai/gpt-4o-mini",
        )
    retriable = kind in ("ServiceUnavailableError", "InternalServerError", "BadGatewayError", "APIError")
    return LLMError(
        f"{model}: the model call failed ({kind}: {detail})",
        hint='try again; `pmtui do` falls back to rules with [agent] planner = "rules"',
        retriable=retriable,
    )


_KEYLESS_KINDS = (
    "AuthenticationError",
    "PermissionDeniedError",
    "InternalServerError",
    "APIError",
    "BadRequestError",
)
"""How providers answer a call made without a key (not a timeout or a refused connection)."""
_MISSING_KEY = re.compile(
    r"(?:missing|no)\b.{0,30}\bapi[ _-]?key"
    r"|api[ _-]?key\b.{0,40}\b(?:missing|must be set|not set|is required)",
    re.IGNORECASE,
)
_KEYLIKE = re.compile(r"\b(sk|pk|rk|xai|gsk)-[A-Za-z0-9_\-*]{6,}")


def _clean_detail(text: str) -> str:
    """The provider's message, one line, short, with any key-like token and known secret removed."""
    secrets = [v for k, v in os.environ.items() if k.endswith(("_API_KEY", "_TOKEN")) and v]
    text = _KEYLIKE.sub("[redacted]", redact(text, secrets))
    text = re.sub(r"^litellm\.\w+:\s*", "", " ".join(text.split()))
    return _shorten(text, 200)
