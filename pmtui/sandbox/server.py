"""The shared machinery of the sandbox emulators: HTTP serving, routing, faults, clock and counters.

Each emulator (``linear``, ``gitlab``, ``notion``, ``motion``) is a :class:`ServiceEmulator` subclass that
registers its routes and keeps its state in plain JSON-able dicts. This module owns everything the four
have in common, so that a fault or a counter behaves the same on every service.

The server is the standard library's threading HTTP server rather than an ASGI stack because fault
injection needs the raw socket: "connection reset before the write" and "commit, then drop" both close
the connection without a status line, which an ASGI app cannot express.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("pmtui.sandbox")

ADMIN_PREFIX = "/_sandbox"
"""Admin routes live under a path no real API uses; they are never counted, faulted or rate-limited."""


# --------------------------------------------------------------------------------------------- clock


class Clock:
    """Server time that tests can move: real time plus an offset, or frozen at an instant.

    Rate-limit windows and "overdue" are computed from this clock, so a test advances it instead of
    sleeping.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen: float | None = None
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, as the emulated service sees them."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return time.time() + self._offset

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value)."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    def set(self, instant: datetime, *, frozen: bool = False) -> None:
        """Jump to ``instant``; with ``frozen`` the clock stops there until moved again."""
        target = instant.timestamp()
        with self._lock:
            if frozen:
                self._frozen = target
            else:
                self._frozen = None
                self._offset = target - time.time()

    def unfreeze(self) -> None:
        """Let a frozen clock run again from where it stands."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - time.time()
                self._frozen = None


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a ``Z`` suffix, as Linear, Notion and Motion send."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time (``Z`` or offset); a bare date is midnight UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# --------------------------------------------------------------------------------------------- faults

FaultKind = Literal["latency", "rate_limit", "error", "reset", "commit_drop"]
FAULT_KINDS: tuple[FaultKind, ...] = ("latency", "rate_limit", "error", "reset", "commit_drop")


@dataclass
class Fault:
    """One injected misbehaviour.

    ``kind``:
      - ``latency``: sleep ``value`` milliseconds before answering (real time, not the clock).
      - ``rate_limit``: answer as the service does when throttled, with Retry-After ``value`` seconds.
      - ``error``: answer HTTP ``value`` (default 500) in the service's error shape.
      - ``reset``: close the connection before the request is applied (writes only).
      - ``commit_drop``: apply the write, then close the connection before any response (writes only).

    ``count`` is how many matching requests it hits (``None``: all of them); ``probability`` makes it
    hit at random, drawn from the emulator's seeded generator so that a run is reproducible; ``method``
    and ``path`` (a prefix, or a route template) narrow which requests match.
    """

    kind: FaultKind
    value: float | None = None
    count: int | None = 1
    probability: float = 1.0
    method: str | None = None
    path: str | None = None
    after: int = 0
    """Let this many matching requests through untouched before the fault starts hitting."""
    hits: int = 0
    passed: int = 0

    def matches(self, request: Request, *, is_write: bool) -> bool:
        """True if this fault applies to the request (ignoring count and chance)."""
        if self.kind in ("reset", "commit_drop") and not is_write:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        return not (self.path and not (request.path.startswith(self.path) or request.route == self.path))

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.count

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "count": self.count,
            "probability": self.probability,
            "method": self.method,
            "path": self.path,
            "after": self.after,
            "hits": self.hits,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        kind = data.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        count = data.get("count", 1)
        return cls(
            kind=kind,
            value=None if data.get("value") is None else float(data["value"]),
            count=None if count is None else int(count),
            probability=float(data.get("probability", 1.0)),
            method=data.get("method"),
            path=data.get("path"),
            after=int(data.get("after") or 0),
        )


def parse_fault_spec(spec: str) -> dict[str, list[Fault]]:
    """Parse the ``--faults`` mini-language into faults per service.

    Grammar: comma-separated items ``SERVICE:KIND[=VALUE][xCOUNT|x*][~PROB][+AFTER][@METHOD][/PATH]``
    (``+AFTER`` lets that many matching requests through first), e.g.
    ``linear:rate_limit=2x3`` (three throttled answers with Retry-After 2 s),
    ``gitlab:error=503x5``, ``motion:latency=200x*``, ``notion:commit_drop@POST/v1/pages``,
    ``gitlab:reset~0.1x*`` (10 % of writes reset, forever). Raises ``ValueError`` naming the bad item.
    """
    result: dict[str, list[Fault]] = {}
    pattern = re.compile(
        r"^(?P<service>[a-z]+):(?P<kind>[a-z_]+)(?:=(?P<value>[0-9.]+))?(?:x(?P<count>\d+|\*))?"
        r"(?:~(?P<prob>[0-9.]+))?(?:x(?P<count2>\d+|\*))?(?:\+(?P<after>\d+))?(?:@(?P<method>[A-Za-z]+))?(?P<path>/\S*)?$"
    )
    for raw in (item.strip() for item in spec.split(",")):
        if not raw:
            continue
        match = pattern.match(raw)
        if not match:
            raise ValueError(
                f"bad fault {raw!r}: expected SERVICE:KIND[=VALUE][xCOUNT][~PROB][@METHOD][/PATH], "
                "e.g. linear:rate_limit=2x3"
            )
        service = match["service"]
        if service not in SERVICES:
            raise ValueError(
                f"bad fault {raw!r}: unknown service {service!r}; expected one of {', '.join(SERVICES)}"
            )
        if match["kind"] not in FAULT_KINDS:
            raise ValueError(
                f"bad fault {raw!r}: unknown kind {match['kind']!r}; expected one of {', '.join(FAULT_KINDS)}"
            )
        count_text = match["count"] or match["count2"]
        fault = Fault.from_dict(
            {
                "kind": match["kind"],
                "value": match["value"],
                "count": None if count_text == "*" else int(count_text or 1),
                "probability": float(match["prob"] or 1.0),
                "method": match["method"],
                "path": match["path"],
                "after": match["after"],
            }
        )
        result.setdefault(service, []).append(fault)
    return result


SERVICES = ("linear", "gitlab", "notion", "motion")


# ------------------------------------------------------------------------------------- rate limiting


class WindowLimiter:
    """A fixed-window request budget on the emulator's clock (``limit`` requests per ``period`` s)."""

    def __init__(self, limit: int, period: float, clock: Clock) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._window_start = clock.time()
        self._used = 0
        self._lock = threading.Lock()

    def _roll(self, now: float) -> None:
        if now - self._window_start >= self.period:
            windows = int((now - self._window_start) // self.period)
            self._window_start += windows * self.period
            self._used = 0

    def take(self, cost: int = 1) -> tuple[bool, int, float]:
        """Spend ``cost``; returns (allowed, remaining, reset_at epoch seconds)."""
        with self._lock:
            now = self._clock.time()
            self._roll(now)
            reset_at = self._window_start + self.period
            if self._used + cost > self.limit:
                return False, max(self.limit - self._used, 0), reset_at
            self._used += cost
            return True, self.limit - self._used, reset_at

    def status(self) -> tuple[int, float]:
        """(remaining, reset_at) without spending anything."""
        with self._lock:
            now = self._clock.time()
            self._roll(now)
            return max(self.limit - self._used, 0), self._window_start + self.period


# --------------------------------------------------------------------------------- request/response


@dataclass
class Request:
    """An incoming HTTP request, already parsed; ``route`` is the matched template, e.g.
    ``GET /api/v4/projects/:id/issues``."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str
    route: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup."""
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query-string parameter."""
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of a repeated query-string parameter (``name`` and ``name[]`` both count)."""
        return [*self.query.get(name, []), *self.query.get(f"{name}[]", [])]

    def json(self) -> Any:
        """The JSON body; raises :class:`HttpError` 400 if it is not JSON."""
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HttpError(400, {"message": f"body is not valid JSON: {exc}"}) from exc

    def form(self) -> dict[str, Any]:
        """The body as JSON or, for form-encoded bodies, as a dict of last values."""
        ctype = (self.header("content-type") or "").split(";")[0].strip()
        if ctype == "application/x-www-form-urlencoded":
            return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}
        data = self.json()
        if not isinstance(data, dict):
            raise HttpError(400, {"message": "body must be a JSON object"})
        return data


@dataclass
class Response:
    """What a handler returns: a status, a JSON-able body (or raw bytes) and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


class HttpError(Exception):
    """Raised by a handler to answer with an error; the emulator shapes ``body`` into its error format."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = headers or {}


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    write: bool | None


def _compile_template(template: str) -> re.Pattern[str]:
    # ":name" matches one path segment (URL-encoded slashes stay encoded, as in GitLab's `a%2Fb`).
    pattern = re.sub(r":([a-zA-Z_]+)", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\:", ":"))
    return re.compile(f"^{pattern}$")


class Drop(Exception):
    """Close the connection without answering (injected reset or commit-then-drop)."""


# -------------------------------------------------------------------------------------------- emulator


class ServiceEmulator:
    """Base class of one emulated service.

    Subclasses set ``name``, register routes in ``__init__`` with :meth:`route`, keep their state in
    ``self.state`` (plain JSON-able data, guarded by ``self.lock``) and override the hooks:

    - :meth:`authenticate` - raise :class:`HttpError` when the credentials are wrong;
    - :meth:`error_response` - shape an error as the real service does;
    - :meth:`rate_limit` - charge the request to the service's budget; return a throttled response or None;
    - :meth:`throttled_response` - the answer to an injected ``rate_limit`` fault;
    - :meth:`is_write` - for endpoints whose method does not tell (GraphQL mutations, Notion queries);
    - :meth:`reset_state`, :meth:`admin_mutate`, :meth:`seed` - the admin surface.
    """

    name: ClassVar[str] = "service"

    def __init__(self, *, clock: Clock | None = None, seed: int = 0) -> None:
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.routes: list[Route] = []
        self.faults: list[Fault] = []
        self.rng = random.Random(seed)
        self.fault_rng = random.Random(seed)
        self.counters: Counter[str] = Counter()
        self.rate_limits_enabled = False
        self.state: dict[str, Any] = {}
        self._ids = 0
        self.reset_state()

    # ---- hooks for subclasses

    def reset_state(self) -> None:
        """Empty the service's data (keeps faults, counters and the clock)."""
        self.state = {}

    def authenticate(self, request: Request) -> None:
        """Raise :class:`HttpError` if the request's credentials are not accepted."""

    def error_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        """Shape an error body the way the service does; the default passes it through."""
        return Response(status, body, headers)

    def rate_limit(self, request: Request) -> Response | None:
        """Charge the request; return the throttled answer when the budget is spent."""
        return None

    def throttled_response(self, retry_after: float) -> Response:
        """The service's answer when throttled (used by injected ``rate_limit`` faults)."""
        return self.error_response(429, {"message": "rate limited"}, {"Retry-After": str(round(retry_after))})

    def is_write(self, request: Request, route: Route) -> bool:
        """Whether the request changes state (reset/commit_drop faults only hit writes)."""
        if route.write is not None:
            return route.write
        return request.method in ("POST", "PUT", "PATCH", "DELETE")

    def admin_mutate(self, op: dict[str, Any]) -> Any:
        """Apply an edit "as another user would" (the admin endpoint's ``mutate``)."""
        raise HttpError(400, {"message": f"{self.name} has no admin mutation {op.get('op')!r}"})

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Fill the state from a seed spec (``{"kind": "demo"}`` or ``{"kind": "bulk", "n": N}``)."""
        raise HttpError(400, {"message": f"{self.name} cannot seed {spec!r}"})

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-able data."""
        with self.lock:
            copy: dict[str, Any] = json.loads(json.dumps(self.state))
            return copy

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the state with a snapshot taken by :meth:`snapshot`."""
        with self.lock:
            self.state = json.loads(json.dumps(data))

    # ---- helpers for subclasses

    def route(self, method: str, template: str, handler: Handler, *, write: bool | None = None) -> None:
        """Register ``handler`` for ``METHOD /template/:param``."""
        self.routes.append(Route(method, template, _compile_template(template), handler, write))

    def now(self) -> datetime:
        return self.clock.now()

    def next_int(self) -> int:
        """A process-unique increasing integer for ids."""
        with self.lock:
            self._ids += 1
            return self._ids

    def uuid(self) -> str:
        """A UUID v4 drawn from the seeded generator, so seeded runs are reproducible."""
        return str(_uuid_from(self.rng))

    # ---- fault control

    def set_faults(self, faults: list[Fault]) -> None:
        with self.lock:
            self.faults = list(faults)

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults = []

    def request_counts(self) -> dict[str, int]:
        """Requests seen per route template (``"GET /v1/tasks"``), plus ``"total"``."""
        with self.lock:
            counts = dict(self.counters)
        counts["total"] = sum(v for k, v in counts.items() if " " in k)
        return counts

    def reset_counts(self) -> None:
        with self.lock:
            self.counters.clear()

    def count(self, key: str, n: int = 1) -> None:
        """Count an extra key (e.g. a GraphQL root field) next to the route counters."""
        with self.lock:
            self.counters[key] += n

    # ---- dispatch

    def _match(self, request: Request) -> Route | None:
        allowed = False
        for route in self.routes:
            found = route.regex.match(request.path)
            if not found:
                continue
            allowed = True
            if route.method == request.method:
                request.route = f"{route.method} {route.template}"
                request.params = {k: _unquote(v) for k, v in found.groupdict().items()}
                return route
        if allowed:
            raise HttpError(405, {"message": f"{request.method} not allowed on {request.path}"})
        return None

    def _pick_faults(self, request: Request, is_write: bool) -> list[Fault]:
        picked: list[Fault] = []
        with self.lock:
            for fault in self.faults:
                if fault.exhausted or not fault.matches(request, is_write=is_write):
                    continue
                if fault.passed < fault.after:
                    fault.passed += 1
                    continue
                if fault.probability < 1.0 and self.fault_rng.random() >= fault.probability:
                    continue
                fault.hits += 1
                picked.append(fault)
        return picked

    def handle(self, request: Request) -> Response:
        """Answer one request: admin routes, then auth, faults, rate limit and the route handler."""
        try:
            if request.path.startswith(ADMIN_PREFIX):
                return self._admin(request)
            route = self._match(request)
            if route is None:
                raise HttpError(404, {"message": f"no route {request.method} {request.path}"})
            self.count(request.route)
            is_write = self.is_write(request, route)
            faults = self._pick_faults(request, is_write)
            for fault in faults:
                if fault.kind == "latency":
                    time.sleep((fault.value or 0) / 1000)
            for fault in faults:
                if fault.kind == "reset":
                    raise Drop
                if fault.kind == "rate_limit":
                    return self.throttled_response(fault.value if fault.value is not None else 1)
                if fault.kind == "error":
                    status = int(fault.value or 500)
                    return self.error_response(status, {"message": "injected server error"}, {})
            self.authenticate(request)
            if self.rate_limits_enabled:
                throttled = self.rate_limit(request)
                if throttled is not None:
                    return throttled
            response = route.handler(request)
            if any(f.kind == "commit_drop" for f in faults):
                raise Drop
            return response
        except HttpError as exc:
            return self.error_response(exc.status, exc.body, exc.headers)

    # ---- admin surface

    def _admin(self, request: Request) -> Response:
        action = request.path[len(ADMIN_PREFIX) :].strip("/")
        body = request.json() if request.method in ("POST", "PUT", "PATCH") else {}
        if action == "state" and request.method == "GET":
            return Response(200, self.snapshot())
        if action == "state" and request.method == "PUT":
            self.restore(body)
            return Response(200, {"ok": True})
        if action == "reset" and request.method == "POST":
            with self.lock:
                self.reset_state()
                self.counters.clear()
                self.faults = []
            return Response(200, {"ok": True})
        if action == "seed" and request.method == "POST":
            with self.lock:
                return Response(200, self.seed(body))
        if action == "mutate" and request.method == "POST":
            with self.lock:
                return Response(200, {"result": self.admin_mutate(body)})
        if action == "faults":
            if request.method == "GET":
                return Response(200, {"faults": [f.to_dict() for f in self.faults]})
            if request.method == "DELETE":
                self.clear_faults()
                return Response(200, {"ok": True})
            if request.method == "POST":
                try:
                    items = body.get("faults", [body]) if isinstance(body, dict) else body
                    for item in items:
                        self.add_fault(Fault.from_dict(item))
                except (ValueError, TypeError) as exc:
                    raise HttpError(400, {"message": str(exc)}) from exc
                return Response(200, {"faults": [f.to_dict() for f in self.faults]})
        if action == "requests":
            if request.method == "GET":
                return Response(200, self.request_counts())
            if request.method == "DELETE":
                self.reset_counts()
                return Response(200, {"ok": True})
        if action == "clock":
            if request.method == "POST":
                if "advance" in body:
                    self.clock.advance(float(body["advance"]))
                if "set" in body:
                    self.clock.set(parse_iso(str(body["set"])), frozen=bool(body.get("frozen")))
                if body.get("unfreeze"):
                    self.clock.unfreeze()
            return Response(200, {"now": iso_z(self.clock.now())})
        if action == "rate_limits" and request.method == "POST":
            self.rate_limits_enabled = bool(body.get("enabled", True))
            return Response(200, {"enabled": self.rate_limits_enabled})
        raise HttpError(404, {"message": f"no admin action {request.method} {action!r}"})


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _uuid_from(rng: random.Random) -> Any:
    import uuid

    return uuid.UUID(int=rng.getrandbits(128), version=4)


# ---------------------------------------------------------------------------------------------- server


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK
    # stalls every response by ~40 ms (measured: 43 ms -> 0.7 ms per request).
    disable_nagle_algorithm = True
    server: _EmulatorHTTPServer

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header on the emulated service's clock, which tests move, as real servers date theirs.

        Clients read it as the service's time (Notion's change window does); the host's clock would
        disagree with every ``last_edited_time`` once a test advanced the emulator's.
        """
        return super().date_time_string(self.server.emulator.clock.time() if timestamp is None else timestamp)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.server.emulator.name, format % args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        address = self.server.server_address
        host = self.headers.get("Host") or f"{address[0]!s}:{address[1]}"
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"http://{host}",
        )
        emulator = self.server.emulator
        try:
            response = emulator.handle(request)
        except Drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        except Exception:
            log.exception("%s emulator crashed on %s %s", emulator.name, self.command, self.path)
            response = emulator.error_response(500, {"message": "emulator crashed"}, {})
        payload = response.encode()
        self.send_response(response.status)
        if payload or response.status not in (204, 304):
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: ServiceEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _RequestHandler)


class RunningEmulator:
    """An emulator served on 127.0.0.1 in a background thread; ``url`` is its base URL."""

    def __init__(self, emulator: ServiceEmulator, port: int = 0, host: str = "127.0.0.1") -> None:
        self.emulator = emulator
        self._server = _EmulatorHTTPServer((host, port), emulator)
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{emulator.name}",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> RunningEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def serving(emulator: ServiceEmulator, port: int = 0) -> Iterator[RunningEmulator]:
    """Serve ``emulator`` for the duration of a ``with`` block."""
    running = RunningEmulator(emulator, port).start()
    try:
        yield running
    finally:
        running.stop()


def paginate_offset(items: list[Any], page: int, per_page: int) -> tuple[list[Any], int | None]:
    """A page of ``items`` (1-based) and the next page number, or None on the last page."""
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    return chunk, (page + 1 if start + per_page < len(items) else None)


def days_from(moment: datetime, days: float) -> datetime:
    """``moment`` shifted by a (possibly fractional) number of days."""
    return moment + timedelta(days=days)
