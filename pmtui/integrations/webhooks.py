"""Webhook deliveries from Linear and GitLab, verified and turned into "sync this" requests.

A webhook only says *what* changed; pmtui then fetches the entity through its integration, so the
payload never has to be mapped here and a lost or duplicated delivery costs one extra fetch at most.

- :func:`verify_linear` checks ``Linear-Signature`` (hex HMAC-SHA256 of the raw body keyed by the
  signing secret, compared in constant time) and rejects a delivery more than 60 s from now. The
  time comes from the signed body field ``webhookTimestamp`` (unix milliseconds); the unsigned
  ``Linear-Timestamp`` header is read only when the body has none, since trusting the header first
  would let a replayed body pass with a fresh header (the Linear SDK fixed exactly this).
- :func:`verify_gitlab` compares ``X-Gitlab-Token`` with the shared token in constant time. GitLab
  does not sign bodies; the token is the whole authentication.
- :class:`WebhookReceiver` serves both on 127.0.0.1, drops repeated delivery ids, and hands each
  :class:`SyncRequest` to a callback that must only queue it.

The secrets come from the caller: the sync command reads them from the environment variables
``PMTUI_LINEAR_WEBHOOK_SECRET`` (:data:`LINEAR_WEBHOOK_SECRET_ENV`) and
``PMTUI_GITLAB_WEBHOOK_TOKEN`` (:data:`GITLAB_WEBHOOK_TOKEN_ENV`). Neither secret nor any signature
value is ever logged; rejections log their reason and the delivery id.

GitLab has fired two hooks for one close (``close`` then ``update``, with different delivery ids),
so deduplication by id is a saving, not a guarantee: whoever handles a request must be idempotent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pmtui.errors import PmtuiError
from pmtui.models import Service

log = logging.getLogger("pmtui.webhooks")

LINEAR_WEBHOOK_SECRET_ENV = "PMTUI_LINEAR_WEBHOOK_SECRET"
"""Environment variable holding the Linear webhook signing secret."""
GITLAB_WEBHOOK_TOKEN_ENV = "PMTUI_GITLAB_WEBHOOK_TOKEN"
"""Environment variable holding the GitLab webhook secret token."""

LINEAR_PATH = "/webhooks/linear"
"""Where :class:`WebhookReceiver` takes Linear deliveries."""
GITLAB_PATH = "/webhooks/gitlab"
"""Where :class:`WebhookReceiver` takes GitLab deliveries."""

LINEAR_TOLERANCE_SECONDS = 60.0
"""Largest accepted distance between a Linear delivery's timestamp and now (the SDK's window)."""
MAX_BODY_BYTES = 1024 * 1024
"""Largest accepted body; real issue payloads are a few KiB, so more is a mistake or an attack."""
DEDUPE_CAPACITY = 1000
"""How many recent delivery ids the receiver remembers; retries come within hours, not thousands."""

SyncKind = Literal["task", "comment", "project", "merge_request"]
"""What a :class:`SyncRequest` asks to refresh.

Comments map to ``"task"`` on their issue (integrations list comments per task, so the task is the
unit to refresh); ``"comment"`` is kept for a comment-level refresh the sync may add later.
"""


class WebhookRejected(PmtuiError):
    """A delivery failed verification or could not be read; nothing may be done with it.

    ``status`` is the HTTP answer: 401 when the signature or token is wrong or missing (the sender is
    not who it claims), 400 when an authentic-looking delivery is stale or malformed.
    """

    def __init__(
        self, reason: str, *, status: int = HTTPStatus.BAD_REQUEST, service: str | None = None
    ) -> None:
        super().__init__(reason, service=service)
        self.reason = reason
        self.status = int(status)


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """One entity a verified delivery says changed: fetch it through ``service``'s integration.

    ``external_id`` is the id that integration uses (Linear's issue UUID, GitLab's issue iid as a
    string); ``delivery_id`` ties the request back to the delivery in logs.
    """

    service: Service
    kind: SyncKind
    external_id: str
    delivery_id: str | None


@dataclass(frozen=True, slots=True)
class LinearDelivery:
    """A verified Linear delivery: its id, entity type, action and what to sync (maybe nothing)."""

    delivery_id: str | None
    event: str
    action: str
    timestamp_ms: float
    requests: tuple[SyncRequest, ...]


@dataclass(frozen=True, slots=True)
class GitLabDelivery:
    """A verified GitLab delivery: its id, event, object kind, action and what to sync (maybe nothing)."""

    delivery_id: str | None
    event: str
    object_kind: str
    action: str | None
    requests: tuple[SyncRequest, ...]


def lower_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """``headers`` keyed by lower-case name, since HTTP header names are case-insensitive."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name.lower(): value for name, value in items}


def _json_object(body: bytes, service: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # ValueError covers bad UTF-8; RecursionError deep nesting
        raise WebhookRejected("body is not JSON", service=service) from exc
    if not isinstance(payload, dict):
        raise WebhookRejected("body is not a JSON object", service=service)
    return payload


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text_id(value: Any) -> str | None:
    """A non-empty string id, or None (numbers are not Linear ids)."""
    return value if isinstance(value, str) and value else None


def _linear_timestamp_ms(payload: Mapping[str, Any], headers: Mapping[str, str]) -> float:
    """The delivery's send time in unix ms: the signed body field, else the unsigned header."""
    if payload.get("webhookTimestamp") is not None:
        value = payload["webhookTimestamp"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WebhookRejected("webhookTimestamp is not a number", service=Service.LINEAR.value)
        try:
            stamp = float(value)
        except OverflowError:
            stamp = math.inf
        if not math.isfinite(stamp):
            raise WebhookRejected("webhookTimestamp is not a finite number", service=Service.LINEAR.value)
        return stamp
    header = headers.get("linear-timestamp", "").strip()
    if not header:
        raise WebhookRejected(
            "no webhookTimestamp and no Linear-Timestamp header", service=Service.LINEAR.value
        )
    if not header.isascii() or not header.isdigit():
        raise WebhookRejected("Linear-Timestamp is not unix milliseconds", service=Service.LINEAR.value)
    return float(header)


def linear_requests(payload: Mapping[str, Any], delivery_id: str | None) -> tuple[SyncRequest, ...]:
    """What a Linear payload asks to sync: an Issue, a Comment's issue, or a Project; else nothing."""
    entity = payload.get("type")
    data = _mapping(payload.get("data"))
    kind: SyncKind
    if entity == "Issue":
        ident, kind = _text_id(data.get("id")), "task"
    elif entity == "Comment":
        # A comment changes its issue's comment list; project comments have no task to refresh.
        ident = _text_id(data.get("issueId")) or _text_id(_mapping(data.get("issue")).get("id"))
        if ident is None:
            return ()
        kind = "task"
    elif entity == "Project":
        ident, kind = _text_id(data.get("id")), "project"
    else:
        return ()
    if ident is None:
        raise WebhookRejected(f"{entity} payload has no id", service=Service.LINEAR.value)
    return (SyncRequest(Service.LINEAR, kind, ident, delivery_id),)


def verify_linear(body: bytes, headers: Mapping[str, str], secret: str, *, now: float) -> LinearDelivery:
    """Check a Linear delivery's signature and age, then say what it asks to sync.

    ``body`` must be the raw bytes as received (the signature covers them, not a re-serialisation);
    ``now`` is unix seconds. Raises :class:`WebhookRejected` (401 for the signature, 400 otherwise).
    """
    service = Service.LINEAR.value
    if not secret:
        # An empty HMAC key is one anybody can use: refuse rather than accept everything.
        raise WebhookRejected(
            "no Linear webhook secret configured", status=HTTPStatus.UNAUTHORIZED, service=service
        )
    lowered = lower_headers(headers)
    signature = lowered.get("linear-signature", "").strip()
    if not signature:
        raise WebhookRejected(
            "missing Linear-Signature header", status=HTTPStatus.UNAUTHORIZED, service=service
        )
    try:
        given = bytes.fromhex(signature)
    except ValueError:
        given = b""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise WebhookRejected(
            "Linear-Signature does not match the body", status=HTTPStatus.UNAUTHORIZED, service=service
        )
    payload = _json_object(body, service)
    timestamp_ms = _linear_timestamp_ms(payload, lowered)
    if abs(now * 1000.0 - timestamp_ms) > LINEAR_TOLERANCE_SECONDS * 1000.0:
        raise WebhookRejected("timestamp is more than 60 s from now (stale or replayed)", service=service)
    delivery_id = lowered.get("linear-delivery") or None
    return LinearDelivery(
        delivery_id=delivery_id,
        event=str(payload.get("type") or lowered.get("linear-event") or ""),
        action=str(payload.get("action") or ""),
        timestamp_ms=timestamp_ms,
        requests=linear_requests(payload, delivery_id),
    )


# GitLab's default closing pattern, reduced to same-project references ("Closes #12, #13 and #14");
# cross-project references ("group/other#5") name issues this project's integration cannot fetch.
_CLOSING_PATTERN = re.compile(
    r"\b(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?):? +"
    r"((?:(?:issues? +)?#\d+\b(?:, *| +and +)?)+)",
    re.IGNORECASE,
)


def closing_issue_iids(description: str | None) -> list[str]:
    """The iids a merge request description closes (``Closes #12``), in order, without repeats."""
    found: list[str] = []
    for match in _CLOSING_PATTERN.finditer(description or ""):
        for iid in re.findall(r"#(\d+)", match.group(1)):
            if iid not in found:
                found.append(iid)
    return found


def _iid(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    return None


def _project_matches(payload: Mapping[str, Any], project: str) -> bool:
    """Whether the payload belongs to ``project`` (numeric id or ``group/name`` path, as in settings)."""
    info = _mapping(payload.get("project"))
    attributes = _mapping(payload.get("object_attributes"))
    ids = {
        str(value)
        for value in (info.get("id"), attributes.get("project_id"), payload.get("project_id"))
        if value is not None
    }
    path = info.get("path_with_namespace")
    wanted = project.strip()
    return wanted in ids or (isinstance(path, str) and path.casefold() == wanted.casefold())


def gitlab_requests(payload: Mapping[str, Any], delivery_id: str | None) -> tuple[SyncRequest, ...]:
    """What a GitLab payload asks to sync, keyed by issue iid (the id pmtui's GitLab integration uses).

    An issue hook names its issue; a note hook on an issue names that issue; a merge request hook names
    the issues its description closes as ``merge_request`` requests (their merge requests changed;
    GitLab sends the issue's own hook when the merge closes it). Everything else asks for nothing.
    """
    service = Service.GITLAB
    kind = payload.get("object_kind")
    attributes = _mapping(payload.get("object_attributes"))
    if kind == "issue":
        iid = _iid(attributes.get("iid"))
        if iid is None:
            raise WebhookRejected("issue payload has no iid", service=service.value)
        return (SyncRequest(service, "task", iid, delivery_id),)
    if kind == "note":
        issue = _mapping(payload.get("issue"))
        if attributes.get("noteable_type", "Issue") != "Issue" or not issue:
            return ()
        iid = _iid(issue.get("iid"))
        if iid is None:
            raise WebhookRejected("note payload has no issue iid", service=service.value)
        return (SyncRequest(service, "task", iid, delivery_id),)
    if kind == "merge_request":
        description = attributes.get("description")
        iids = closing_issue_iids(description if isinstance(description, str) else None)
        return tuple(SyncRequest(service, "merge_request", iid, delivery_id) for iid in iids)
    return ()


def verify_gitlab(
    body: bytes, headers: Mapping[str, str], token: str, *, project: str | None = None
) -> GitLabDelivery:
    """Check a GitLab delivery's ``X-Gitlab-Token``, then say what it asks to sync.

    ``project`` (numeric id or ``group/name``, like the GitLab settings) limits the requests to that
    project: iids are per project, so a group-level hook's ``#5`` of another project is a different
    issue. Raises :class:`WebhookRejected` (401 for the token, 400 for the body).
    """
    service = Service.GITLAB.value
    if not token:
        raise WebhookRejected(
            "no GitLab webhook token configured", status=HTTPStatus.UNAUTHORIZED, service=service
        )
    lowered = lower_headers(headers)
    given = lowered.get("x-gitlab-token")
    if given is None:
        raise WebhookRejected(
            "missing X-Gitlab-Token header", status=HTTPStatus.UNAUTHORIZED, service=service
        )
    # Compared as bytes: compare_digest refuses non-ASCII str, and header values may hold any byte.
    expected, presented = token.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(expected, presented):
        raise WebhookRejected(
            "X-Gitlab-Token does not match", status=HTTPStatus.UNAUTHORIZED, service=service
        )
    payload = _json_object(body, service)
    # Idempotency-Key stays the same across GitLab's retries; the Webhook-UUID may not.
    delivery_id = lowered.get("idempotency-key") or lowered.get("x-gitlab-webhook-uuid") or None
    object_kind = str(payload.get("object_kind") or "")
    action = _mapping(payload.get("object_attributes")).get("action")
    requests = gitlab_requests(payload, delivery_id)
    if project is not None and requests and not _project_matches(payload, project):
        requests = ()
    return GitLabDelivery(
        delivery_id=delivery_id,
        event=lowered.get("x-gitlab-event", ""),
        object_kind=object_kind,
        action=str(action) if action is not None else None,
        requests=requests,
    )


class RecentIds:
    """The last ``capacity`` delivery ids seen, oldest forgotten first; safe across threads."""

    def __init__(self, capacity: int = DEDUPE_CAPACITY) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """Remember ``key``; True if it is new (check and insert are one step, so racing retries
        cannot both pass)."""
        with self._lock:
            if key in self._ids:
                self._ids.move_to_end(key)
                return False
            self._ids[key] = None
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
            return True

    def discard(self, key: str) -> None:
        """Forget ``key``, so a retry of a delivery that failed here is processed."""
        with self._lock:
            self._ids.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)


def _loggable(delivery_id: str | None) -> str:
    """A delivery id fit for a log line: header values are attacker-chosen until verified."""
    return repr(delivery_id[:80]) if delivery_id else "-"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The stdlib prints the traceback to stderr, which would tear the TUI.
        log.exception("webhook receiver: unexpected error serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes one request to its :class:`WebhookReceiver`; holds no decisions of its own."""

    server: _Server
    server_version = "pmtui-webhooks"
    sys_version = ""
    # A stalled client must not hold a thread forever.
    timeout = 10.0

    def do_POST(self) -> None:
        self.server.receiver.handle_post(self)

    def _not_post(self) -> None:
        self.server.receiver.handle_other(self)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_post

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        # The stdlib writes to stderr, which would tear the TUI; the request line holds no secrets.
        message = format % args
        log.debug("webhook http: %s", message)

    def respond(
        self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        """Send a small JSON answer and end the exchange."""
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class WebhookReceiver:
    """A small threaded HTTP server for Linear and GitLab webhooks that queues verified requests.

    ``POST /webhooks/linear`` and ``POST /webhooks/gitlab`` verify each delivery, drop a delivery id
    already seen, and call ``on_request`` once per :class:`SyncRequest`. ``on_request`` runs on the
    server's request thread and must return fast (queue, don't sync), or senders time out and retry.
    A service without a secret has no endpoint (404). Answers: 200 accepted, duplicate or ignored;
    400 stale or malformed; 401 bad signature or token; 404 unknown path; 405 not POST; 411 no
    Content-Length; 413 body over ``max_body_bytes``; 500 when ``on_request`` raised (the sender
    retries, and the id is forgotten so the retry gets through). A rejected delivery calls nothing.
    """

    def __init__(
        self,
        on_request: Callable[[SyncRequest], None],
        *,
        linear_secret: str | None = None,
        gitlab_token: str | None = None,
        gitlab_project: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = MAX_BODY_BYTES,
        dedupe_capacity: int = DEDUPE_CAPACITY,
    ) -> None:
        if linear_secret == "" or gitlab_token == "":
            # An empty secret set on purpose is a mistake; None is how a service is left out.
            raise ValueError("webhook secrets must be non-empty (pass None to disable a service)")
        self.on_request = on_request
        self.host = host
        self.port = port
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self.seen = RecentIds(dedupe_capacity)
        self._linear_secret = linear_secret
        self._gitlab_token = gitlab_token
        self._gitlab_project = gitlab_project
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        # Never the secrets.
        return f"WebhookReceiver(host={self.host!r}, port={self.port!r})"

    @property
    def url(self) -> str:
        """Base URL of the running server (``http://127.0.0.1:<port>``); the endpoints hang below it."""
        if self._server is None:
            raise RuntimeError("the webhook receiver is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Bind and serve in a daemon thread; port 0 picks a free port (read it from :attr:`url`)."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.receiver = self
        self._server = server
        # serve_forever checks for shutdown once per poll; the default 0.5 s makes every stop() that slow.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="pmtui-webhooks", daemon=True
        )
        self._thread.start()
        log.info("webhook receiver listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _service_for(self, path: str) -> Service | None:
        if path == LINEAR_PATH and self._linear_secret:
            return Service.LINEAR
        if path == GITLAB_PATH and self._gitlab_token:
            return Service.GITLAB
        return None

    def handle_other(self, handler: _Handler) -> None:
        """Any method but POST: 404 off the endpoints, 405 on them."""
        if self._service_for(urlsplit(handler.path).path) is None:
            handler.respond(HTTPStatus.NOT_FOUND, {"error": "not found"})
        else:
            handler.respond(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use POST"}, {"Allow": "POST"})

    def _refuse(
        self, handler: _Handler, service: Service, status: int, reason: str, headers: Mapping[str, str]
    ) -> None:
        """Answer ``status`` and log why, with the claimed delivery id (never a secret or signature)."""
        claimed = (
            headers.get("linear-delivery")
            or headers.get("idempotency-key")
            or headers.get("x-gitlab-webhook-uuid")
        )
        log.warning(
            "%s webhook rejected (%s), delivery %s",
            service.value,
            reason,
            _loggable(claimed),
            extra={"service": service.value, "reason": reason, "status": status},
        )
        handler.respond(status, {"error": reason})

    def _read_body(self, handler: _Handler) -> bytes | tuple[int, str]:
        """The body, or the status and reason it cannot be taken for."""
        lengths = handler.headers.get_all("Content-Length") or []
        if not lengths:
            return HTTPStatus.LENGTH_REQUIRED, "Content-Length required"
        if len(set(lengths)) > 1 or not lengths[0].strip().isdigit():
            return HTTPStatus.BAD_REQUEST, "bad Content-Length"
        length = int(lengths[0])
        if length > self.max_body_bytes:
            handler.close_connection = True
            self._drain(handler, length)
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {self.max_body_bytes} bytes"
        body = handler.rfile.read(length)
        if len(body) != length:
            handler.close_connection = True
            return HTTPStatus.BAD_REQUEST, "body shorter than Content-Length"
        return body

    def _drain(self, handler: _Handler, length: int) -> None:
        # Reading (and dropping) a moderately oversized body lets the sender see the 413 instead of
        # a reset connection; a huge one is not worth the bandwidth, so the connection just closes.
        if length > 8 * self.max_body_bytes:
            return
        remaining = length
        while remaining > 0:
            chunk = handler.rfile.read(min(remaining, 64 * 1024))
            if not chunk:
                return
            remaining -= len(chunk)

    def handle_post(self, handler: _Handler) -> None:
        """Verify one delivery, drop it if seen, and queue its requests."""
        service = self._service_for(urlsplit(handler.path).path)
        if service is None:
            handler.respond(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        headers = lower_headers(handler.headers.items())
        body = self._read_body(handler)
        if isinstance(body, tuple):
            self._refuse(handler, service, body[0], body[1], headers)
            return
        try:
            requests, delivery_id = self._verify(service, body, headers)
        except WebhookRejected as exc:
            self._refuse(handler, service, exc.status, exc.reason, headers)
            return
        key = f"{service.value}:{delivery_id}" if delivery_id else None
        if key is not None and not self.seen.add(key):
            log.info(
                "%s webhook delivery %s already handled",
                service.value,
                _loggable(delivery_id),
                extra={"service": service.value},
            )
            handler.respond(HTTPStatus.OK, {"status": "duplicate"})
            return
        try:
            for request in requests:
                self.on_request(request)
        except Exception:
            if key is not None:
                self.seen.discard(key)
            log.exception(
                "%s webhook delivery %s: queuing the sync failed",
                service.value,
                _loggable(delivery_id),
                extra={"service": service.value},
            )
            handler.respond(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "could not queue the sync"})
            return
        log.debug(
            "%s webhook delivery %s accepted (%d requests)",
            service.value,
            _loggable(delivery_id),
            len(requests),
            extra={"service": service.value},
        )
        handler.respond(HTTPStatus.OK, {"status": "accepted" if requests else "ignored"})

    def _verify(
        self, service: Service, body: bytes, headers: Mapping[str, str]
    ) -> tuple[tuple[SyncRequest, ...], str | None]:
        if service is Service.LINEAR:
            assert self._linear_secret is not None  # _service_for routes here only when set
            linear = verify_linear(body, headers, self._linear_secret, now=self.clock())
            return linear.requests, linear.delivery_id
        assert self._gitlab_token is not None
        gitlab = verify_gitlab(body, headers, self._gitlab_token, project=self._gitlab_project)
        return gitlab.requests, gitlab.delivery_id
