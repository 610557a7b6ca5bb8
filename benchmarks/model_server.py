"""A local model server that answers every chat request with the same tool calls after a fixed delay.

It speaks three providers' wire formats on one port, so litellm's real adapters can be measured and tested
over real HTTP with no account and no network:

- OpenAI chat completions, ``POST /v1/chat/completions`` (``Authorization: Bearer``), ``tool_calls`` with
  JSON-string arguments;
- Anthropic Messages, ``POST /v1/messages`` (``x-api-key`` and ``anthropic-version`` headers), ``tool_use``
  content blocks with object inputs and ``stop_reason: tool_use``;
- Ollama, ``POST /api/chat`` with ``stream: false``, ``message.tool_calls`` with object arguments, and
  ``POST /api/show`` (model details, which litellm may ask for).

A request that offers no tools, or whose last message carries tool results (the planner's feedback
loop), is answered with ``answer`` as plain text instead. A request in the wrong shape (missing credential
or version header, a streamed request, the scripted tool not among the offered tools, a tool result
answering no earlier call) gets that provider's error shape, not an answer: a test passing against this
server means the adapter sent what the real service requires. The delay applies to chat requests only, so
``total - delay * chat_calls`` is the client's own time.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

Provider = Literal["openai", "anthropic", "ollama"]
PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic", "ollama")

CHAT_PATHS: dict[str, Provider] = {
    "/v1/chat/completions": "openai",
    "/v1/messages": "anthropic",
    "/api/chat": "ollama",
}
LITELLM_PREFIXES: dict[Provider, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "ollama": "ollama_chat",
}
"""The litellm model prefix that reaches each format (``ollama/`` is the older /api/generate adapter)."""
KEY_VARS: dict[Provider, str | None] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "ollama": None,
}
"""Where litellm reads each provider's key; a local Ollama needs none."""

API_KEY = "sk-local-model-server"
ANTHROPIC_VERSION = "2023-06-01"

ToolCallSpec = tuple[str, dict[str, Any]]
DEFAULT_CALLS: tuple[ToolCallSpec, ...] = (
    ("create_task", {"ref": "a1", "title": "Write release notes", "due": "2026-11-27"}),
)


@dataclass(frozen=True)
class ModelRequest:
    """One request the server received: which format, path, headers (lower-cased names) and JSON body."""

    provider: Provider | None
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FixedDelayModel:
    """The server: started on a free 127.0.0.1 port at construction, stopped by :meth:`close`.

    ``calls`` counts answered chat requests (each one waited ``delay`` seconds); ``requests`` keeps every
    request, including rejected ones, for tests to inspect.
    """

    def __init__(
        self,
        delay: float,
        *,
        calls: Sequence[ToolCallSpec] = DEFAULT_CALLS,
        api_key: str = API_KEY,
        answer: str = "Done: the task is created.",
    ) -> None:
        self.delay = delay
        self.tool_calls = list(calls)
        self.answer = answer
        self.api_key = api_key
        self.calls = 0
        self.requests: list[ModelRequest] = []
        self._lock = threading.Lock()
        model = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keep-alive, as the real services offer: litellm's pooled clients reuse the
            # connection, so a new TCP handshake per call does not inflate the measured overhead.
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one write (flushed after each request): two small writes on a
            # kept-alive connection meet Nagle's algorithm and the client's delayed ACK, a 40 ms stall
            # per answer that no real server has.
            wbufsize = 1 << 16

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = {}
                path = self.path.split("?", 1)[0].rstrip("/")
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = model._handle(path, headers, body if isinstance(body, dict) else {})
                data = json.dumps(payload).encode()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # ------------------------------------------------------------------------------------ addresses

    @property
    def root(self) -> str:
        """``http://127.0.0.1:<port>``, with no path."""
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``.../v1``)."""
        return self.api_base("openai")

    def api_base(self, provider: Provider) -> str:
        """What ``[agent] api_base`` is set to for ``provider``: litellm appends the rest of the path.

        OpenAI clients append ``/chat/completions`` to a base that ends in ``/v1``; litellm's Anthropic
        adapter appends ``/v1/messages`` and its Ollama adapter ``/api/chat`` to the bare server URL.
        """
        return f"{self.root}/v1" if provider == "openai" else self.root

    @staticmethod
    def model_string(provider: Provider, name: str = "bench-model") -> str:
        """The litellm model string that reaches ``provider``'s format, e.g. ``ollama_chat/bench-model``."""
        return f"{LITELLM_PREFIXES[provider]}/{name}"

    def chat_requests(self, provider: Provider | None = None) -> list[ModelRequest]:
        """The chat requests received (answered or not), optionally of one format."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path in CHAT_PATHS and (provider is None or r.provider == provider)
            ]

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FixedDelayModel:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ handling

    def _handle(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        provider = CHAT_PATHS.get(path)
        with self._lock:
            self.requests.append(ModelRequest(provider, path, headers, body))
        if path == "/api/show":
            return 200, _ollama_show(str(body.get("model") or body.get("name") or ""))
        if provider is None:
            return 404, {"error": f"no route {path}"}
        problem = self._problem(provider, headers, body)
        if problem is not None:
            status, message = problem
            return status, _error(provider, status, message)
        time.sleep(self.delay)
        with self._lock:
            self.calls += 1
            number = self.calls
        model = str(body.get("model") or "bench-model")
        calls = self.tool_calls if _wants_calls(provider, body) else []
        if provider == "openai":
            return 200, _openai_reply(model, calls, self.answer, number)
        if provider == "anthropic":
            return 200, _anthropic_reply(model, calls, self.answer, number)
        return 200, _ollama_reply(model, calls, self.answer)

    def _problem(
        self, provider: Provider, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, str] | None:
        """Why the real service would reject this request, as (status, message); None if it is fine."""
        if provider == "openai" and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, "Incorrect API key provided"
        if provider == "anthropic":
            if headers.get("x-api-key") != self.api_key:
                return 401, "invalid x-api-key"
            if not headers.get("anthropic-version"):
                return 400, "anthropic-version: header is required"
            if not isinstance(body.get("max_tokens"), int):
                return 400, "max_tokens: Field required"
        if body.get("stream"):
            return 400, "this server answers only non-streaming requests"
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, "messages: at least one message is required"
        offered = _tool_names(provider, body.get("tools") or [])
        missing = [name for name, _ in self.tool_calls if name not in offered]
        if missing and _wants_calls(provider, body):
            return 400, f"tools: {', '.join(missing)} not offered in this format (got {sorted(offered)})"
        if provider != "ollama":  # Ollama matches results to calls by order, not by id
            asked: set[str] = set()
            for message in body["messages"]:
                unanswerable = set(_tool_results(provider, message)) - asked
                if unanswerable:
                    return 400, f"tool result for unknown tool call id(s) {sorted(unanswerable)}"
                asked |= _tool_call_ids(provider, message)
        return None


def _wants_calls(provider: Provider, body: dict[str, Any]) -> bool:
    """A request is answered with the scripted calls if it offers tools and does not report results."""
    return bool(body.get("tools")) and not _tool_results(provider, body["messages"][-1])


def _tool_results(provider: Provider, message: Any) -> list[str]:
    """The call ids a message answers with tool results (Ollama's carry none: empty strings)."""
    if not isinstance(message, dict):
        return []
    if provider == "anthropic":
        content = message.get("content")
        if message.get("role") != "user" or not isinstance(content, list):
            return []
        return [
            str(block.get("tool_use_id"))
            for block in content
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]
    if message.get("role") == "tool":
        return [str(message.get("tool_call_id") or "")]
    return []


def _tool_call_ids(provider: Provider, message: Any) -> set[str]:
    """The ids of the tool calls an assistant message made, in the provider's shape."""
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return set()
    if provider == "anthropic":
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        return {str(b.get("id")) for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"}
    calls = message.get("tool_calls")
    return {str(c.get("id")) for c in calls if isinstance(c, dict)} if isinstance(calls, list) else set()


def _tool_names(provider: Provider, tools: list[Any]) -> set[str]:
    """The names of the tools offered in ``provider``'s own shape (Anthropic: name + input_schema)."""
    names = set()
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        if provider == "anthropic":
            if isinstance(tool.get("input_schema"), dict) and tool.get("name"):
                names.add(str(tool["name"]))
        elif tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            function = tool["function"]
            if function.get("name") and isinstance(function.get("parameters"), dict):
                names.add(str(function["name"]))
    return names


def _openai_reply(model: str, calls: Sequence[ToolCallSpec], answer: str, number: int) -> dict[str, Any]:
    tool_calls = [
        {
            "id": f"call_{number}_{index}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        for index, (name, arguments) in enumerate(calls)
    ]
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls" if calls else "stop",
                "message": (
                    {"role": "assistant", "content": None, "tool_calls": tool_calls}
                    if calls
                    else {"role": "assistant", "content": answer}
                ),
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _anthropic_reply(model: str, calls: Sequence[ToolCallSpec], answer: str, number: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = [
        {"type": "tool_use", "id": f"toolu_{number:04d}_{index}", "name": name, "input": arguments}
        for index, (name, arguments) in enumerate(calls)
    ] or [{"type": "text", "text": answer}]
    return {
        "id": f"msg_{number:06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 10},
    }


def _ollama_reply(model: str, calls: Sequence[ToolCallSpec], answer: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "" if calls else answer}
    if calls:
        message["tool_calls"] = [
            {"function": {"index": index, "name": name, "arguments": arguments}}
            for index, (name, arguments) in enumerate(calls)
        ]
    return {
        "model": model,
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "message": message,
        "done_reason": "stop",
        "done": True,
        "prompt_eval_count": 10,
        "eval_count": 10,
    }


def _ollama_show(model: str) -> dict[str, Any]:
    return {
        "modelfile": f"FROM {model}",
        "parameters": "",
        "template": "{{ .Prompt }}",
        "details": {"format": "gguf", "family": "bench", "parameter_size": "1B"},
        "model_info": {"general.architecture": "bench", "bench.context_length": 8192},
        "capabilities": ["completion", "tools"],
    }


def _error(provider: Provider, status: int, message: str) -> dict[str, Any]:
    """``message`` in the provider's error shape (litellm reads the text from each)."""
    if provider == "anthropic":
        kind = "authentication_error" if status == 401 else "invalid_request_error"
        return {"type": "error", "error": {"type": kind, "message": message}}
    if provider == "openai":
        kind = "invalid_api_key" if status == 401 else "invalid_request_error"
        return {"error": {"message": message, "type": kind, "code": status}}
    return {"error": message}
